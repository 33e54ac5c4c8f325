-- Schema, table, view and sequence privileges of the API roles. Function privileges sit
-- beside each function. Every object is named: a bulk grant (ON ALL ... IN SCHEMA),
-- re-applied, would also reach whatever a later migration adds for the service alone.
-- Revoke-then-grant, in the migration's one transaction, so the file is the whole truth.
-- anon gets nothing here.

REVOKE ALL ON SCHEMA vehicles FROM PUBLIC, anon;
GRANT USAGE ON SCHEMA vehicles TO authenticated, service_role;

REVOKE ALL ON TABLE vehicles.user_bike, vehicles.user_part, vehicles.part_installation,
  vehicles.kilometrage_log, vehicles.kilometrage_credit, vehicles.maintenance_record,
  vehicles.ownership_history, vehicles.idempotency_key, vehicles.bike_v, vehicles.part_v
  FROM PUBLIC, anon, authenticated, service_role;
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE vehicles.user_bike, vehicles.user_part,
  vehicles.part_installation, vehicles.kilometrage_log, vehicles.kilometrage_credit,
  vehicles.maintenance_record, vehicles.ownership_history, vehicles.idempotency_key,
  vehicles.bike_v, vehicles.part_v
  TO authenticated;
GRANT ALL ON TABLE vehicles.user_bike, vehicles.user_part, vehicles.part_installation,
  vehicles.kilometrage_log, vehicles.kilometrage_credit, vehicles.maintenance_record,
  vehicles.ownership_history, vehicles.idempotency_key, vehicles.bike_v, vehicles.part_v
  TO service_role;

REVOKE ALL ON SEQUENCE vehicles.kilometrage_credit_id_seq
  FROM PUBLIC, anon, authenticated, service_role;
GRANT USAGE ON SEQUENCE vehicles.kilometrage_credit_id_seq TO authenticated, service_role;

-- public.user_settings is the platform's table: add our grants, revoke nobody's.
GRANT SELECT, INSERT, UPDATE ON public.user_settings TO authenticated;
GRANT ALL ON public.user_settings TO service_role;
