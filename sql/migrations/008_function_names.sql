-- Functions, views, policies and grants now live in sql/functions/ under <entity>_<verb>
-- names. Drop every old name with its old signature: a SECURITY DEFINER function left
-- behind, still granted, would be a way around the new ones. No CASCADE: nothing may
-- depend on them, and if something does the migration must fail rather than take it along.
DROP FUNCTION IF EXISTS vehicles.user_summary(uuid);
DROP FUNCTION IF EXISTS vehicles.transfer_bike(uuid, text, text);
DROP FUNCTION IF EXISTS vehicles.transfer_part(uuid, text, text);
DROP FUNCTION IF EXISTS vehicles.transfer_recipient(text);
DROP FUNCTION IF EXISTS vehicles.check_kilometrage();
DROP FUNCTION IF EXISTS vehicles.km_since_maintenance(uuid);
DROP FUNCTION IF EXISTS vehicles.log_ride(uuid, uuid, numeric, timestamptz, text, text, text);
DROP FUNCTION IF EXISTS vehicles.credit_ride(uuid);
DROP FUNCTION IF EXISTS vehicles.lock_bike_part(uuid, uuid);
DROP FUNCTION IF EXISTS vehicles.jsonb_merge_patch(jsonb, jsonb);
DROP FUNCTION IF EXISTS vehicles.assert_owner(vehicles.entity_type, uuid);

-- Undoes any per-schema default grant to PUBLIC. PostgreSQL's built-in default (EXECUTE to
-- PUBLIC) is global, which a per-schema REVOKE cannot take back, so every function in
-- sql/functions/ also revokes PUBLIC itself.
ALTER DEFAULT PRIVILEGES IN SCHEMA vehicles REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
