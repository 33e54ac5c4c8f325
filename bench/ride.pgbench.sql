-- The service's SQL for POST /api/bikes/:id/kilometrage ({"distance":1.5}, no Idempotency-Key),
-- as the worker sends it: one pipeline, one Sync, no BEGIN (the statements between Syncs are one
-- implicit transaction).
-- MUST MIRROR THE WORKER: src/db.c (db_pipe_send: db_st_claims with DB_LOCAL_SETTINGS, the
-- queries; the route declares no ownership check: ride_log checks the bike itself),
-- src/db_ride.c (db_ride_log: st_log). bench/run counts the statements the worker really sends per request and warns when
-- this file has another number; what it saw is in var/bench/result/statements-ride-service.txt.
-- The worker makes the ride's id itself (db_uuid4); here gen_random_uuid() does.
\set n :base + random(1, :nusers)
\set st_ms 10000
\set lock_ms 5000
\set km 1.5
\startpipeline
SELECT set_config('statement_timeout', :st_ms, true), set_config('lock_timeout', :lock_ms, true), set_config('idle_in_transaction_session_timeout', '30s', true), set_config('client_connection_check_interval', '1000', true), set_config('TimeZone', 'UTC', true), set_config('DateStyle', 'ISO, YMD', true), set_config('IntervalStyle', 'postgres', true), set_config('role', 'authenticated', true), set_config('request.jwt.claims', '{"aud":"authenticated","exp":4102444800,"role":"authenticated","sub":"00000000-0000-4000-8000-' || lpad(to_hex(:n::integer), 12, '0') || '"}', true), set_config('request.jwt.claim.sub', '00000000-0000-4000-8000-' || lpad(to_hex(:n::integer), 12, '0'), true);
SELECT vehicles.ride_log(gen_random_uuid(), ('00000000-0000-4000-9000-' || lpad(to_hex(:n::integer), 12, '0'))::uuid, ('{"distance":' || :km || '}')::jsonb, NULL, NULL);
\endpipeline
