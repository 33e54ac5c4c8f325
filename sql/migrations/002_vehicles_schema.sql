-- Schema vehicles: bikes, parts, installations, rides, maintenance, ownership history.
-- Distances are kilometres, numeric with 3 decimals (metres), so sums are exact.
CREATE SCHEMA IF NOT EXISTS vehicles;

CREATE TYPE vehicles.bike_type AS ENUM ('road', 'mountain', 'hybrid', 'gravel', 'ebike', 'other');
CREATE TYPE vehicles.part_type AS ENUM ('chain', 'tires', 'brake_pads', 'cassette', 'derailleur',
  'crankset', 'saddle', 'handlebar', 'pedals', 'other');
CREATE TYPE vehicles.maintenance_type AS ENUM ('repair', 'replacement', 'adjustment', 'cleaning',
  'inspection', 'other');
CREATE TYPE vehicles.entity_type AS ENUM ('bike', 'part');

-- A deleted account takes its bikes, parts and records with it (ON DELETE CASCADE);
-- ownership history keeps its rows with the deleted side set to NULL.
CREATE TABLE vehicles.user_bike (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  type vehicles.bike_type NOT NULL,
  brand text CHECK (char_length(brand) <= 100),
  model text CHECK (char_length(model) <= 100),
  purchase_date date,
  initial_kilometrage numeric(12, 3) NOT NULL DEFAULT 0
    CHECK (initial_kilometrage BETWEEN 0 AND 1000000),
  total_kilometrage numeric(14, 3) NOT NULL DEFAULT 0 CHECK (total_kilometrage >= 0),
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(metadata) = 'object')
);
CREATE INDEX user_bike_user_id_idx ON vehicles.user_bike (user_id, created_at DESC, id DESC);
CREATE INDEX user_bike_type_idx ON vehicles.user_bike (type);

CREATE TABLE vehicles.user_part (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  type vehicles.part_type NOT NULL,
  brand text CHECK (char_length(brand) <= 100),
  model text CHECK (char_length(model) <= 100),
  purchase_date date,
  initial_kilometrage numeric(12, 3) NOT NULL DEFAULT 0
    CHECK (initial_kilometrage BETWEEN 0 AND 1000000),
  total_kilometrage numeric(14, 3) NOT NULL DEFAULT 0 CHECK (total_kilometrage >= 0),
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(metadata) = 'object')
);
CREATE INDEX user_part_user_id_idx ON vehicles.user_part (user_id, created_at DESC, id DESC);
CREATE INDEX user_part_type_idx ON vehicles.user_part (type);

-- A part's installations never overlap; removed_at IS NULL marks the current one.
-- bike_id goes NULL when its bike is deleted, so the part keeps its history.
CREATE TABLE vehicles.part_installation (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  created_at timestamptz NOT NULL DEFAULT now(),
  part_id uuid NOT NULL REFERENCES vehicles.user_part (id) ON DELETE CASCADE,
  bike_id uuid REFERENCES vehicles.user_bike (id) ON DELETE SET NULL,
  installed_at timestamptz NOT NULL DEFAULT now(),
  removed_at timestamptz,
  CHECK (removed_at IS NULL OR removed_at >= installed_at)
);
CREATE INDEX part_installation_part_idx ON vehicles.part_installation (part_id, installed_at DESC);
CREATE INDEX part_installation_bike_idx ON vehicles.part_installation (bike_id, installed_at);
CREATE INDEX part_installation_open_idx ON vehicles.part_installation (bike_id)
  WHERE removed_at IS NULL;
CREATE UNIQUE INDEX part_installation_one_open_idx ON vehicles.part_installation (part_id)
  WHERE removed_at IS NULL;

CREATE TABLE vehicles.kilometrage_log (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  created_at timestamptz NOT NULL DEFAULT now(),
  bike_id uuid NOT NULL REFERENCES vehicles.user_bike (id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  distance numeric(12, 3) NOT NULL CHECK (distance > 0 AND distance <= 100000),
  logged_at timestamptz NOT NULL DEFAULT now(),
  notes text CHECK (char_length(notes) <= 2000)
);
-- Serves newest-first keyset paging: (bike_id, logged_at, id) descending.
CREATE INDEX kilometrage_log_bike_idx ON vehicles.kilometrage_log (bike_id, logged_at DESC, id DESC);
CREATE INDEX kilometrage_log_user_idx ON vehicles.kilometrage_log (user_id);
CREATE INDEX kilometrage_log_logged_at_idx ON vehicles.kilometrage_log (logged_at);

-- What each ride credited to each part. A part's total is its initial kilometrage plus the
-- sum of its credits; a credit outlives its ride's bike (log_id goes NULL) because the part
-- keeps the kilometres it really did.
CREATE TABLE vehicles.kilometrage_credit (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  log_id uuid REFERENCES vehicles.kilometrage_log (id) ON DELETE SET NULL,
  part_id uuid NOT NULL REFERENCES vehicles.user_part (id) ON DELETE CASCADE,
  distance numeric(12, 3) NOT NULL CHECK (distance > 0),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX kilometrage_credit_log_idx ON vehicles.kilometrage_credit (log_id);
CREATE INDEX kilometrage_credit_part_idx ON vehicles.kilometrage_credit (part_id);
CREATE UNIQUE INDEX kilometrage_credit_once_idx ON vehicles.kilometrage_credit (log_id, part_id)
  WHERE log_id IS NOT NULL;

CREATE TABLE vehicles.maintenance_record (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  bike_id uuid REFERENCES vehicles.user_bike (id) ON DELETE SET NULL,
  part_id uuid REFERENCES vehicles.user_part (id) ON DELETE SET NULL,
  maintenance_type vehicles.maintenance_type NOT NULL,
  description text NOT NULL CHECK (char_length(description) BETWEEN 1 AND 2000),
  performed_at timestamptz NOT NULL DEFAULT now(),
  cost numeric(12, 2) CHECK (cost >= 0),
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(metadata) = 'object'),
  CHECK (bike_id IS NOT NULL OR part_id IS NOT NULL)
);
CREATE INDEX maintenance_record_bike_idx ON vehicles.maintenance_record (bike_id, performed_at DESC);
CREATE INDEX maintenance_record_part_idx ON vehicles.maintenance_record (part_id, performed_at DESC);
CREATE INDEX maintenance_record_user_idx ON vehicles.maintenance_record (user_id);
CREATE INDEX maintenance_record_performed_idx ON vehicles.maintenance_record (performed_at);

CREATE TABLE vehicles.ownership_history (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  created_at timestamptz NOT NULL DEFAULT now(),
  entity_type vehicles.entity_type NOT NULL,
  entity_id uuid NOT NULL,
  previous_owner_id uuid REFERENCES auth.users (id) ON DELETE SET NULL,
  new_owner_id uuid REFERENCES auth.users (id) ON DELETE SET NULL,
  transferred_at timestamptz NOT NULL DEFAULT now(),
  notes text CHECK (char_length(notes) <= 2000)
);
CREATE INDEX ownership_history_type_idx ON vehicles.ownership_history (entity_type);
CREATE INDEX ownership_history_entity_idx ON vehicles.ownership_history (entity_id, transferred_at);
CREATE INDEX ownership_history_prev_idx ON vehicles.ownership_history (previous_owner_id);
CREATE INDEX ownership_history_new_idx ON vehicles.ownership_history (new_owner_id);

-- Idempotency-Key replays: the first answer, kept per user and key.
CREATE TABLE vehicles.idempotency_key (
  user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  key text NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
  request_hash text NOT NULL,
  response jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_key_created_idx ON vehicles.idempotency_key (created_at);

-- The active bike lives in the platform's user settings: create the table where it is
-- missing, add the column where the table exists without it.
CREATE TABLE IF NOT EXISTS public.user_settings (
  user_id uuid PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE public.user_settings ADD COLUMN IF NOT EXISTS active_bike_id uuid;
DO $fk$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint
                 WHERE conname = 'user_settings_active_bike_id_fkey'
                   AND conrelid = 'public.user_settings'::regclass) THEN
    -- A deleted bike is no longer anyone's active bike.
    ALTER TABLE public.user_settings ADD CONSTRAINT user_settings_active_bike_id_fkey
      FOREIGN KEY (active_bike_id) REFERENCES vehicles.user_bike (id) ON DELETE SET NULL;
  END IF;
END
$fk$;
CREATE INDEX IF NOT EXISTS user_settings_active_bike_idx ON public.user_settings (active_bike_id);
