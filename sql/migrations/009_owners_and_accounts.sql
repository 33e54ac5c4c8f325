-- Kilometrage across owners, and account deletion (issue 9, points 2 and 3).

-- A request changes only what its caller owns at that moment (api-notes, Kilometrage): a ride
-- on a bike reaches only the parts of the bike's owner. The rides that would have reached a
-- part of another owner (a part that changed owner since it was on the bike that day) are
-- recorded here instead of credited, so that every (ride, part on the bike at logged_at)
-- pair has exactly one credit or one withheld record (vehicles.kilometrage_check()).
-- Written by the ride functions only; read by the service role (operators) only.
CREATE TABLE vehicles.kilometrage_withheld (
  log_id uuid NOT NULL REFERENCES vehicles.kilometrage_log (id) ON DELETE CASCADE,
  part_id uuid NOT NULL REFERENCES vehicles.user_part (id) ON DELETE CASCADE,
  distance numeric(12, 3) NOT NULL CHECK (distance > 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (log_id, part_id)
);
CREATE INDEX kilometrage_withheld_part_idx ON vehicles.kilometrage_withheld (part_id);
ALTER TABLE vehicles.kilometrage_withheld ENABLE ROW LEVEL SECURITY;
-- Whatever default privileges the schema has: nobody but the owner until 90_grants.sql says.
REVOKE ALL ON TABLE vehicles.kilometrage_withheld FROM PUBLIC, anon, authenticated;

-- Deleting an account (DELETE FROM auth.users, as Supabase's dashboard and admin API do)
-- takes the account's own bikes and parts with everything recorded on them (cascade from
-- user_bike and user_part), but not the rides and maintenance records it logged on a bike
-- or part that is now another user's: those keep their rows and lose the id. So the
-- "logged by" columns go NULL instead of cascading.
DO $fk$
DECLARE
  r record;
BEGIN
  FOR r IN
    SELECT c.conrelid::regclass AS tbl, c.conname
      FROM pg_constraint c
     WHERE c.contype = 'f' AND c.confrelid = 'auth.users'::regclass
       AND c.conrelid IN ('vehicles.kilometrage_log'::regclass,
                          'vehicles.maintenance_record'::regclass)
       AND c.conkey = ARRAY[(SELECT a.attnum FROM pg_attribute a
                              WHERE a.attrelid = c.conrelid AND a.attname = 'user_id')]
  LOOP
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.tbl, r.conname);
  END LOOP;
END
$fk$;
ALTER TABLE vehicles.kilometrage_log ALTER COLUMN user_id DROP NOT NULL,
  ADD CONSTRAINT kilometrage_log_user_id_fkey
  FOREIGN KEY (user_id) REFERENCES auth.users (id) ON DELETE SET NULL;
ALTER TABLE vehicles.maintenance_record ALTER COLUMN user_id DROP NOT NULL,
  ADD CONSTRAINT maintenance_record_user_id_fkey
  FOREIGN KEY (user_id) REFERENCES auth.users (id) ON DELETE SET NULL;
