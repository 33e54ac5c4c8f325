-- A component's whole life (issue 14): retirement, purchase prices, exports.

-- A retired part is kept with its history and never credited again (its installation, if
-- any, was closed at retired_at). unretired_at is when it last came back into service: an
-- installation may not begin before it, so no install is backdated into the retired time.
ALTER TABLE vehicles.user_part
  ADD COLUMN retired_at timestamptz,
  ADD COLUMN retire_reason text CHECK (char_length(retire_reason) <= 2000),
  ADD COLUMN unretired_at timestamptz,
  ADD CONSTRAINT user_part_reason_needs_retirement
    CHECK (retire_reason IS NULL OR retired_at IS NOT NULL);
CREATE INDEX user_part_retired_idx ON vehicles.user_part (user_id) WHERE retired_at IS NOT NULL;

-- What a bike or part cost when bought; one currency per user is assumed (the API says so).
ALTER TABLE vehicles.user_bike
  ADD COLUMN purchase_price numeric(12, 2) CHECK (purchase_price BETWEEN 0 AND 1000000000);
ALTER TABLE vehicles.user_part
  ADD COLUMN purchase_price numeric(12, 2) CHECK (purchase_price BETWEEN 0 AND 1000000000);

-- One row per export begun: the per-user hourly limit, counted in the database so that every
-- worker and instance sees the same count. Rows older than a day are swept by the export
-- itself. Written and read only by security-definer functions.
CREATE TABLE vehicles.export_log (
  user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX export_log_user_idx ON vehicles.export_log (user_id, created_at);
ALTER TABLE vehicles.export_log ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON TABLE vehicles.export_log FROM PUBLIC, anon, authenticated;

-- An Idempotency-Key replays its first answer with that answer's status: 200 when the first
-- request found its ride already logged under its external_id (issue 13), else 201.
ALTER TABLE vehicles.idempotency_key
  ADD COLUMN status smallint NOT NULL DEFAULT 201 CHECK (status IN (200, 201));
