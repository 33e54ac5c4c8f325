-- bench/history's data: two users, each with one bike carrying two parts installed three
-- years ago; the big bike has :big rides, the small one :small, seven minutes apart going back
-- from now, every ride credited to both parts. Written straight into the tables (150,000
-- calls of vehicles.ride_log would take minutes), then every stored figure is set from the
-- rows, so vehicles.kilometrage_check() holds (bench/history checks it).
--   users  00000000-0000-4000-8000-00000000b150 (big), ...-00000000b100 (small)
--   bikes  00000000-0000-4000-9000-<same>
--   parts  00000000-0000-4000-a00k-<same>, k = 1, 2
\set ON_ERROR_STOP on
BEGIN;
CREATE TEMPORARY TABLE hist_bench (tag text, n integer) ON COMMIT DROP;
INSERT INTO hist_bench VALUES ('b150', :big), ('b100', :small);
DELETE FROM auth.users WHERE id IN (SELECT ('00000000-0000-4000-8000-00000000' || tag)::uuid
                                      FROM hist_bench);
INSERT INTO auth.users (id, email, email_confirmed_at)
SELECT ('00000000-0000-4000-8000-00000000' || tag)::uuid, 'history-' || tag || '@bench.invalid', now()
  FROM hist_bench;
INSERT INTO vehicles.user_bike (id, user_id, name, type, created_at)
SELECT ('00000000-0000-4000-9000-00000000' || tag)::uuid,
       ('00000000-0000-4000-8000-00000000' || tag)::uuid, 'History bike ' || n, 'road',
       now() - interval '4 years'
  FROM hist_bench;
INSERT INTO vehicles.user_part (id, user_id, name, type)
SELECT ('00000000-0000-4000-a00' || k || '-00000000' || tag)::uuid,
       ('00000000-0000-4000-8000-00000000' || tag)::uuid, 'History part ' || k,
       (ARRAY['chain', 'tires'])[k]::vehicles.part_type
  FROM hist_bench, generate_series(1, 2) k;
INSERT INTO vehicles.part_installation (part_id, bike_id, installed_at)
SELECT ('00000000-0000-4000-a00' || k || '-00000000' || tag)::uuid,
       ('00000000-0000-4000-9000-00000000' || tag)::uuid, now() - interval '3 years'
  FROM hist_bench, generate_series(1, 2) k;
INSERT INTO vehicles.kilometrage_log (bike_id, user_id, distance, logged_at, created_at)
SELECT ('00000000-0000-4000-9000-00000000' || tag)::uuid,
       ('00000000-0000-4000-8000-00000000' || tag)::uuid,
       1 + (i % 40) + (i % 7) / 8.0, now() - i * interval '7 minutes',
       now() - i * interval '7 minutes'
  FROM hist_bench, generate_series(1, n) i;
INSERT INTO vehicles.kilometrage_credit (log_id, part_id, distance)
SELECT l.id, i.part_id, l.distance
  FROM vehicles.kilometrage_log l JOIN vehicles.part_installation i ON i.bike_id = l.bike_id
 WHERE l.bike_id IN (SELECT ('00000000-0000-4000-9000-00000000' || tag)::uuid FROM hist_bench);
UPDATE vehicles.user_bike b
   SET total_kilometrage = b.initial_kilometrage
       + (SELECT coalesce(sum(l.distance), 0) FROM vehicles.kilometrage_log l WHERE l.bike_id = b.id)
 WHERE b.id IN (SELECT ('00000000-0000-4000-9000-00000000' || tag)::uuid FROM hist_bench);
UPDATE vehicles.user_part p
   SET total_kilometrage = p.initial_kilometrage
       + (SELECT coalesce(sum(c.distance), 0) FROM vehicles.kilometrage_credit c WHERE c.part_id = p.id)
 WHERE p.user_id IN (SELECT ('00000000-0000-4000-8000-00000000' || tag)::uuid FROM hist_bench);
-- The stored ride count (011_ride_count.sql); a schema from before it has none to set, so the
-- same data can be measured on the code before and after.
DO $count$
BEGIN
  IF EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'vehicles'
              AND table_name = 'user_bike' AND column_name = 'ride_count') THEN
    EXECUTE $u$UPDATE vehicles.user_bike b
                  SET ride_count = (SELECT count(*) FROM vehicles.kilometrage_log l
                                     WHERE l.bike_id = b.id)
                WHERE b.user_id IN (SELECT ('00000000-0000-4000-8000-00000000' || tag)::uuid
                                      FROM hist_bench)$u$;
  END IF;
END
$count$;
COMMIT;
VACUUM (ANALYZE) vehicles.user_bike, vehicles.user_part, vehicles.part_installation,
  vehicles.kilometrage_log, vehicles.kilometrage_credit;
