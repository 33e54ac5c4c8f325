-- Owners on the child rows that a bike's read goes through (issue 11): an installation
-- carries its part's owner, a maintenance record its bike's and its part's. Their policies
-- (20_policies.sql) compare a column with the caller instead of running sub-selects on
-- user_bike and user_part: those were about 280,000 of the 1,080,000 instructions PostgreSQL
-- ran for a GET /api/bikes/:id (callgrind, the worker's statements replayed by pgbench).
--
-- The copies cannot go wrong: each is half of a foreign key on (id, user_id) of its parent,
-- ON UPDATE CASCADE, so a transfer (the parent's user_id changing) rewrites them in its own
-- transaction and no write can store another owner. MATCH FULL: a reference and its owner
-- are null together. Triggers in 35_installations.sql and 60_maintenance.sql fill them on
-- every insert and on every change of the reference, so no writer names them itself.
-- The composite keys replace the single-column ones: two keys acting on one column at a
-- deletion (SET NULL) would race each other. Only a session that turns triggers off
-- (session_replication_role = replica, which also turns off the keys) can leave an owner
-- behind; tests/http/flows.py's invariant checks every row after each test.

-- The tables stay locked from here to the run's commit, so every request waits for it: a
-- lock that does not come within 10 s fails the run (nothing changes, the old release keeps
-- serving; deploy again) rather than holding up every request queued behind it.
SET LOCAL lock_timeout = '10s';

ALTER TABLE vehicles.user_part ADD CONSTRAINT user_part_id_user_id_key UNIQUE (id, user_id);

-- The list cache's deferred trigger (85_cache.sql) would queue an event per open installation
-- for the backfill, and ALTER TABLE refuses a table with events pending. 85_cache.sql, applied
-- again later in this run, creates it again (enabled) and starts a new epoch for every list.
DO $off$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_trigger
              WHERE tgrelid = 'vehicles.part_installation'::regclass AND tgname = 'list_gen_upd') THEN
    ALTER TABLE vehicles.part_installation DISABLE TRIGGER list_gen_upd;
  END IF;
END
$off$;
ALTER TABLE vehicles.part_installation ADD COLUMN part_owner_id uuid;
UPDATE vehicles.part_installation i SET part_owner_id = p.user_id
  FROM vehicles.user_part p WHERE p.id = i.part_id;
ALTER TABLE vehicles.part_installation ALTER COLUMN part_owner_id SET NOT NULL,
  DROP CONSTRAINT part_installation_part_id_fkey,
  ADD CONSTRAINT part_installation_part_owner_fkey
    FOREIGN KEY (part_id, part_owner_id) REFERENCES vehicles.user_part (id, user_id)
    MATCH FULL ON UPDATE CASCADE ON DELETE CASCADE;

ALTER TABLE vehicles.maintenance_record
  ADD COLUMN bike_owner_id uuid, ADD COLUMN part_owner_id uuid;
UPDATE vehicles.maintenance_record m
   SET bike_owner_id = (SELECT b.user_id FROM vehicles.user_bike b WHERE b.id = m.bike_id),
       part_owner_id = (SELECT p.user_id FROM vehicles.user_part p WHERE p.id = m.part_id);
ALTER TABLE vehicles.maintenance_record
  DROP CONSTRAINT maintenance_record_bike_id_fkey,
  DROP CONSTRAINT maintenance_record_part_id_fkey,
  ADD CONSTRAINT maintenance_record_bike_owner_fkey
    FOREIGN KEY (bike_id, bike_owner_id) REFERENCES vehicles.user_bike (id, user_id)
    MATCH FULL ON UPDATE CASCADE ON DELETE SET NULL,
  ADD CONSTRAINT maintenance_record_part_owner_fkey
    FOREIGN KEY (part_id, part_owner_id) REFERENCES vehicles.user_part (id, user_id)
    MATCH FULL ON UPDATE CASCADE ON DELETE SET NULL;
