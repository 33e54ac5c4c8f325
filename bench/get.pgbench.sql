-- The service's SQL for GET /api/bikes/:id, as the worker sends it: one pipeline, one Sync.
-- MUST MIRROR THE WORKER: src/db.c (db_pipe_send: BEGIN for reads, db_st_claims with
-- DB_LOCAL_SETTINGS, the queries, COMMIT; the route's ownership check waits, pre_lazy, for a
-- row not found: src/gear.c gear_read), src/db_bike.c (db_bike_get: st_one, st_parts,
-- st_recent_maint), include/db_sql.h (columns).
-- bench/run counts the statements the worker really sends per request and warns when this
-- file has another number; what it saw is in var/bench/result/statements-get-service.txt.
-- Values the worker passes as parameters are pgbench variables here (sent as parameters with
-- -M prepared); the ids and the claims are built in SQL from the user's number.
\set n :base + random(1, :nusers)
\set st_ms 5000
\set lock_ms 5000
\startpipeline
BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
SELECT set_config('statement_timeout', :st_ms, true), set_config('lock_timeout', :lock_ms, true), set_config('idle_in_transaction_session_timeout', '30s', true), set_config('client_connection_check_interval', '1000', true), set_config('TimeZone', 'UTC', true), set_config('DateStyle', 'ISO, YMD', true), set_config('IntervalStyle', 'postgres', true), set_config('role', 'authenticated', true), set_config('request.jwt.claims', '{"aud":"authenticated","exp":4102444800,"role":"authenticated","sub":"00000000-0000-4000-8000-' || lpad(to_hex(:n::integer), 12, '0') || '"}', true), set_config('request.jwt.claim.sub', '00000000-0000-4000-8000-' || lpad(to_hex(:n::integer), 12, '0'), true);
SELECT b.id, b.created_at, b.updated_at, b.user_id, b.name, b.type, b.brand, b.model, b.purchase_date, b.purchase_price, b.initial_kilometrage, b.total_kilometrage, b.total_moving_time_s, b.metadata, b.is_active FROM vehicles.bike_v b WHERE b.id = ('00000000-0000-4000-9000-' || lpad(to_hex(:n::integer), 12, '0'))::uuid;
SELECT p.id, p.created_at, p.updated_at, p.user_id, p.name, p.type, p.brand, p.model, p.purchase_date, p.purchase_price, p.initial_kilometrage, p.total_kilometrage, p.total_moving_time_s, p.metadata, i.bike_id AS current_bike_id, 'installed' AS status, p.retired_at, p.retire_reason, i.id AS "installation.id", i.installed_at AS "installation.installed_at" FROM vehicles.part_installation i JOIN vehicles.user_part p ON p.id = i.part_id WHERE i.removed_at IS NULL AND i.bike_id = ('00000000-0000-4000-9000-' || lpad(to_hex(:n::integer), 12, '0'))::uuid ORDER BY i.installed_at DESC, p.id;
SELECT m.id, m.created_at, m.updated_at, m.user_id, m.bike_id, m.part_id, m.maintenance_type, m.description, m.performed_at, m.cost, m.metadata, m.interval_id FROM vehicles.maintenance_record m WHERE m.bike_id = ('00000000-0000-4000-9000-' || lpad(to_hex(:n::integer), 12, '0'))::uuid ORDER BY m.performed_at DESC, m.id DESC LIMIT 5;
COMMIT;
\endpipeline
