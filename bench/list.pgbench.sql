-- The service's SQL for GET /api/bikes (default page: limit 50, offset 0, no include_parts), as
-- the worker sends it: one pipeline, one Sync.
-- MUST MIRROR THE WORKER: src/db.c (db_pipe_send: BEGIN/COMMIT only around two or more
-- statements, db_st_claims with DB_LOCAL_SETTINGS), src/db_bike.c (db_bike_list: st_page_counted),
-- include/db_sql.h (columns). bench/run counts the statements the worker really sends per
-- request and warns when this file has another number; what it saw is in
-- var/bench/result/statements-list-service.txt.
\set n :base + random(1, :nusers)
\set st_ms 5000
\set lock_ms 5000
\set lim 50
\set off 0
\startpipeline
SELECT set_config('statement_timeout', :st_ms, true), set_config('lock_timeout', :lock_ms, true), set_config('idle_in_transaction_session_timeout', '30s', true), set_config('client_connection_check_interval', '1000', true), set_config('TimeZone', 'UTC', true), set_config('DateStyle', 'ISO, YMD', true), set_config('IntervalStyle', 'postgres', true), set_config('role', 'authenticated', true), set_config('request.jwt.claims', '{"aud":"authenticated","exp":4102444800,"role":"authenticated","sub":"00000000-0000-4000-8000-' || lpad(to_hex(:n::integer), 12, '0') || '"}', true), set_config('request.jwt.claim.sub', '00000000-0000-4000-8000-' || lpad(to_hex(:n::integer), 12, '0'), true);
SELECT b.id, b.created_at, b.updated_at, b.user_id, b.name, b.type, b.brand, b.model, b.purchase_date, b.initial_kilometrage, b.total_kilometrage, b.metadata, b.is_active, (SELECT count(*) FROM vehicles.user_bike WHERE user_id = auth.uid()) AS _total FROM vehicles.bike_v b WHERE b.user_id = auth.uid() ORDER BY b.created_at DESC, b.id DESC LIMIT :lim OFFSET :off;
\endpipeline
