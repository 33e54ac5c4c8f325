-- Schema, table, view and sequence privileges of the API roles. Function privileges sit
-- beside each function. Every object is named: a bulk grant (ON ALL ... IN SCHEMA),
-- re-applied, would also reach whatever a later migration adds for the service alone.
-- Revoke-then-grant, in the migration's one transaction, so the file is the whole truth.
--
-- anon gets nothing. authenticated gets SELECT only, so its reads stay under RLS
-- (20_policies.sql) and it changes data only through the service's security-definer
-- functions, which check every rule of their write: nobody with SQL access as a user (a
-- schema exposed through PostgREST, a service that forgets a check) can rewrite a total,
-- insert a ride or a credit, or touch another user's rows. kilometrage_withheld names other
-- users' rides: the service role only.

REVOKE ALL ON SCHEMA vehicles FROM PUBLIC, anon;
GRANT USAGE ON SCHEMA vehicles TO authenticated, service_role;

REVOKE ALL ON TABLE vehicles.user_bike, vehicles.user_part, vehicles.part_installation,
  vehicles.kilometrage_log, vehicles.kilometrage_credit, vehicles.kilometrage_withheld,
  vehicles.maintenance_record, vehicles.ownership_history, vehicles.idempotency_key,
  vehicles.bike_v, vehicles.part_v
  FROM PUBLIC, anon, authenticated, service_role;
GRANT SELECT ON TABLE vehicles.user_bike, vehicles.user_part, vehicles.part_installation,
  vehicles.kilometrage_log, vehicles.kilometrage_credit,
  vehicles.ownership_history, vehicles.idempotency_key, vehicles.bike_v, vehicles.part_v
  TO authenticated;
-- A record's bike_owner_id and part_owner_id (015) say who owns its bike and part now: for a
-- record on a part given away since, another user. Its policy compares them; no user reads
-- them. A column added to the table is named here, or users cannot read it.
GRANT SELECT (id, created_at, updated_at, user_id, bike_id, part_id, maintenance_type,
  description, performed_at, cost, metadata, interval_id) ON TABLE vehicles.maintenance_record
  TO authenticated;
GRANT ALL ON TABLE vehicles.user_bike, vehicles.user_part, vehicles.part_installation,
  vehicles.kilometrage_log, vehicles.kilometrage_credit, vehicles.kilometrage_withheld,
  vehicles.maintenance_record, vehicles.ownership_history, vehicles.idempotency_key,
  vehicles.bike_v, vehicles.part_v
  TO service_role;

-- Credits are inserted by the functions (as their owner): no user needs the sequence.
REVOKE ALL ON SEQUENCE vehicles.kilometrage_credit_id_seq
  FROM PUBLIC, anon, authenticated, service_role;
GRANT USAGE ON SEQUENCE vehicles.kilometrage_credit_id_seq TO service_role;

-- public.user_settings is the platform's table: no grant of ours, and none taken away
-- (010_user_settings_platform.sql took back, once, what older releases had granted).

-- Service intervals (013): read by their part's or bike's owner (20_policies.sql), written only
-- through 62_intervals.sql's functions.
REVOKE ALL ON TABLE vehicles.service_interval FROM PUBLIC, anon, authenticated, service_role;
GRANT SELECT ON TABLE vehicles.service_interval TO authenticated;
GRANT ALL ON TABLE vehicles.service_interval TO service_role;

-- The export log (014): counted and written only by vehicles.export_begin (78_export.sql,
-- security definer); no user reads it, operators do as the service role.
REVOKE ALL ON TABLE vehicles.export_log FROM PUBLIC, anon, authenticated, service_role;
GRANT ALL ON TABLE vehicles.export_log TO service_role;
