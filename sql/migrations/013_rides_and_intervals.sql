-- Richer rides and service intervals (issue 13).

-- A ride carries its moving time, climb, kind and where it came from. Elevation is stored in
-- metres with 3 decimals (millimetres), so feet given in a request come back as sent to the
-- answer's 1 decimal. (source, external_id) is a recorder's own id of the ride: unique per
-- user who logged it, freed when the ride is deleted (the row goes).
CREATE TYPE vehicles.ride_type AS ENUM ('outdoor', 'indoor', 'virtual');
ALTER TABLE vehicles.kilometrage_log
  ADD COLUMN moving_time_s integer CHECK (moving_time_s BETWEEN 0 AND 604800),
  ADD COLUMN elevation_gain numeric(10, 3) CHECK (elevation_gain BETWEEN 0 AND 100000),
  ADD COLUMN ride_type vehicles.ride_type NOT NULL DEFAULT 'outdoor',
  ADD COLUMN source text CHECK (char_length(source) BETWEEN 1 AND 50),
  ADD COLUMN external_id text CHECK (char_length(external_id) BETWEEN 1 AND 255),
  ADD CONSTRAINT kilometrage_log_external_needs_source
    CHECK (external_id IS NULL OR source IS NOT NULL);
CREATE UNIQUE INDEX kilometrage_log_external_idx
  ON vehicles.kilometrage_log (user_id, source, external_id) WHERE external_id IS NOT NULL;

-- Moving time is credited exactly as distance is: each credit (and each withheld record)
-- carries its ride's seconds, and a total is the sum of its credits (bike: of its rides).
ALTER TABLE vehicles.kilometrage_credit
  ADD COLUMN moving_time_s integer NOT NULL DEFAULT 0 CHECK (moving_time_s >= 0);
ALTER TABLE vehicles.kilometrage_withheld
  ADD COLUMN moving_time_s integer NOT NULL DEFAULT 0 CHECK (moving_time_s >= 0);
ALTER TABLE vehicles.user_bike
  ADD COLUMN total_moving_time_s bigint NOT NULL DEFAULT 0 CHECK (total_moving_time_s >= 0);
ALTER TABLE vehicles.user_part
  ADD COLUMN total_moving_time_s bigint NOT NULL DEFAULT 0 CHECK (total_moving_time_s >= 0);

-- A recurring service reminder of one part or one bike. No owner column: it is its part's
-- or bike's, so it moves with a transfer and goes with a deletion (cascade) by itself.
-- every_distance in km (3 decimals), every_moving_hours in hours, every_days whole days.
CREATE TABLE vehicles.service_interval (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  part_id uuid REFERENCES vehicles.user_part (id) ON DELETE CASCADE,
  bike_id uuid REFERENCES vehicles.user_bike (id) ON DELETE CASCADE,
  task text NOT NULL CHECK (char_length(task) BETWEEN 1 AND 100),
  every_distance numeric(12, 3) CHECK (every_distance > 0 AND every_distance <= 1000000),
  every_moving_hours numeric(10, 3)
    CHECK (every_moving_hours > 0 AND every_moving_hours <= 100000),
  every_days integer CHECK (every_days BETWEEN 1 AND 36500),
  warn_at_pct integer NOT NULL DEFAULT 80 CHECK (warn_at_pct BETWEEN 1 AND 100),
  CHECK ((part_id IS NULL) <> (bike_id IS NULL)),
  CHECK (every_distance IS NOT NULL OR every_moving_hours IS NOT NULL OR every_days IS NOT NULL)
);
CREATE INDEX service_interval_part_idx ON vehicles.service_interval (part_id, created_at, id);
CREATE INDEX service_interval_bike_idx ON vehicles.service_interval (bike_id, created_at, id);
ALTER TABLE vehicles.service_interval ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON TABLE vehicles.service_interval FROM PUBLIC, anon, authenticated;

-- A maintenance record may complete an interval: the interval's baseline is the latest
-- performed_at among its completing records. A deleted interval leaves its records.
ALTER TABLE vehicles.maintenance_record
  ADD COLUMN interval_id uuid REFERENCES vehicles.service_interval (id) ON DELETE SET NULL;
CREATE INDEX maintenance_record_interval_idx
  ON vehicles.maintenance_record (interval_id, performed_at DESC) WHERE interval_id IS NOT NULL;

-- The ride functions take the ride as one jsonb now (50_rides.sql): the old signatures go,
-- so no old security-definer body stays callable.
DROP FUNCTION IF EXISTS vehicles.ride_log(uuid, uuid, numeric, timestamptz, text, text, text);
DROP FUNCTION IF EXISTS vehicles.ride_validate(numeric, timestamptz, text, text);
