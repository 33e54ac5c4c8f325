-- bench/cache-bench's users (README, "The list cache"): written like any user's data, so the
-- list-generation triggers give each a generation.
--   few:  00000000-0000-4000-8000-0000000c0001, 3 bikes with 2 parts each
--   many: 00000000-0000-4000-8000-0000000c0002, 50 bikes with 5 parts each (250 parts)
\set ON_ERROR_STOP on
BEGIN;
DELETE FROM auth.users WHERE id::text LIKE '00000000-0000-4000-8000-0000000c000_';
INSERT INTO auth.users (id, email, email_confirmed_at)
VALUES ('00000000-0000-4000-8000-0000000c0001', 'few@bench.invalid', now()),
       ('00000000-0000-4000-8000-0000000c0002', 'many@bench.invalid', now());
CREATE TEMP TABLE seed_user (id uuid, bikes int, parts int) ON COMMIT DROP;
INSERT INTO seed_user VALUES ('00000000-0000-4000-8000-0000000c0001', 3, 2),
                             ('00000000-0000-4000-8000-0000000c0002', 50, 5);
INSERT INTO vehicles.user_bike (id, user_id, name, type, brand, model, initial_kilometrage,
                                total_kilometrage, created_at)
SELECT gen_random_uuid(), u.id, 'Bike ' || b, 'road', 'Brand', 'Model ' || b, 100 * b, 100 * b,
       now() - make_interval(mins => b)
  FROM seed_user u, generate_series(1, u.bikes) b;
INSERT INTO vehicles.user_part (id, user_id, name, type, brand, metadata)
SELECT gen_random_uuid(), bk.user_id, 'Part ' || k || ' of ' || bk.name,
       (ARRAY['chain', 'tires', 'cassette', 'brake_pads', 'derailleur'])[k]::vehicles.part_type,
       'Brand', jsonb_build_object('replacement_threshold_km', 3000, 'bike', bk.name)
  FROM vehicles.user_bike bk JOIN seed_user u ON u.id = bk.user_id, generate_series(1, u.parts) k;
INSERT INTO vehicles.part_installation (part_id, bike_id, installed_at)
SELECT p.id, bk.id, now() - interval '1 day'
  FROM vehicles.user_part p
  JOIN vehicles.user_bike bk ON bk.user_id = p.user_id AND p.metadata ->> 'bike' = bk.name
 WHERE p.user_id IN (SELECT id FROM seed_user);
COMMIT;
ANALYZE;
