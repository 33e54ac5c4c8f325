-- Benchmark data: :nusers users, each with one bike carrying five installed parts (issue 11's
-- data). Ids are derived from the user's number so wrk's Lua and pgbench's scripts address the
-- same rows.
--   user  n: 00000000-0000-4000-8000-<n as 12 hex digits>
--   bike  n: 00000000-0000-4000-9000-<n>
--   parts n: 00000000-0000-4000-a00k-<n>, k = 1..5
-- bench/run seeds twice its BENCH_USERS: the service's users are 1..BENCH_USERS, the peer's
-- BENCH_USERS+1..2*BENCH_USERS, alike in every row (the peer writes rides without credits,
-- which vehicles.kilometrage_check() would report; its users are deleted before the check).
\set ON_ERROR_STOP on
BEGIN;
DELETE FROM auth.users WHERE id::text LIKE '00000000-0000-4000-8000-%';
INSERT INTO auth.users (id, email, email_confirmed_at)
SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid,
       'bench' || n || '@bench.invalid', now()
  FROM generate_series(1, :nusers) n;
INSERT INTO vehicles.user_bike (id, user_id, name, type)
SELECT ('00000000-0000-4000-9000-' || lpad(to_hex(n), 12, '0'))::uuid,
       ('00000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid, 'Bench bike ' || n, 'road'
  FROM generate_series(1, :nusers) n;
INSERT INTO vehicles.user_part (id, user_id, name, type)
SELECT ('00000000-0000-4000-a00' || k || '-' || lpad(to_hex(n), 12, '0'))::uuid,
       ('00000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid, 'Bench part ' || k,
       (ARRAY['chain', 'tires', 'cassette', 'brake_pads', 'derailleur'])[k]::vehicles.part_type
  FROM generate_series(1, :nusers) n, generate_series(1, 5) k;
INSERT INTO vehicles.part_installation (part_id, bike_id, installed_at)
SELECT ('00000000-0000-4000-a00' || k || '-' || lpad(to_hex(n), 12, '0'))::uuid,
       ('00000000-0000-4000-9000-' || lpad(to_hex(n), 12, '0'))::uuid, now() - interval '1 day'
  FROM generate_series(1, :nusers) n, generate_series(1, 5) k;
COMMIT;
ANALYZE;
