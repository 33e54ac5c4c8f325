-- The kilometrage invariant, for tests and operators (scripts/check-kilometrage), as the
-- service role only. Every row returned is a violation:
--   bike:   total = initial + sum of its rides
--   bike_moving, part_moving: total_moving_time_s = the sum of the rides' (bike) or the
--           credits' (part) moving time, as distance; each credit or withheld record
--           carries its ride's moving time
--   ride_count: a bike's stored ride count (the history's total) = the number of its rides
--   part:   total = initial + sum of its credits (a credit detached from its ride, log_id
--           NULL, still counts: the part rode it before its ride was deleted or its bike went)
--   pairs:  each (ride, part that was on the ride's bike at logged_at) pair has exactly one
--           credit or one withheld record (the part had changed owner when the ride was
--           written: api-notes, Kilometrage), never both, never neither; and each credit or
--           withheld record is for such a pair, with the ride's distance.
--   and no part has two open installations.
--   retirement: a retired part has no open installation (retired_installed) and no credit
--           of a ride logged at or after its retired_at (credit_after_retirement).
-- The id is the bike's or the part's.
CREATE OR REPLACE FUNCTION vehicles.kilometrage_check()
RETURNS TABLE (kind text, id uuid, expected numeric, actual numeric)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
AS $$
  -- One pass over the bikes' rides for both of their checks.
  WITH bike AS (
    SELECT b.id, b.initial_kilometrage + coalesce(sum(l.distance), 0) AS km, b.total_kilometrage,
           count(l.id) AS rides, b.ride_count,
           coalesce(sum(l.moving_time_s), 0) AS moving, b.total_moving_time_s
      FROM vehicles.user_bike b LEFT JOIN vehicles.kilometrage_log l ON l.bike_id = b.id
     GROUP BY b.id
  ), part AS (
    SELECT p.id, p.initial_kilometrage + coalesce(sum(c.distance), 0) AS km, p.total_kilometrage,
           coalesce(sum(c.moving_time_s), 0) AS moving, p.total_moving_time_s
      FROM vehicles.user_part p LEFT JOIN vehicles.kilometrage_credit c ON c.part_id = p.id
     GROUP BY p.id
  )
  SELECT 'bike', id, km, total_kilometrage FROM bike WHERE km <> total_kilometrage
  UNION ALL
  SELECT 'ride_count', id, rides, ride_count FROM bike WHERE rides <> ride_count
  UNION ALL
  SELECT 'bike_moving', id, moving, total_moving_time_s FROM bike
   WHERE moving <> total_moving_time_s
  UNION ALL
  SELECT 'part', id, km, total_kilometrage FROM part WHERE km <> total_kilometrage
  UNION ALL
  SELECT 'part_moving', id, moving, total_moving_time_s FROM part
   WHERE moving <> total_moving_time_s
  UNION ALL
  SELECT 'credit_without_installation', c.part_id, c.distance, NULL
    FROM vehicles.kilometrage_credit c JOIN vehicles.kilometrage_log l ON l.id = c.log_id
   WHERE c.distance <> l.distance OR c.moving_time_s <> coalesce(l.moving_time_s, 0)
      OR NOT EXISTS (
     SELECT 1 FROM vehicles.part_installation i
      WHERE i.part_id = c.part_id AND i.bike_id = l.bike_id AND i.installed_at <= l.logged_at
        AND (i.removed_at IS NULL OR i.removed_at > l.logged_at))
  UNION ALL
  SELECT 'withheld_without_installation', w.part_id, w.distance, NULL
    FROM vehicles.kilometrage_withheld w JOIN vehicles.kilometrage_log l ON l.id = w.log_id
   WHERE w.distance <> l.distance OR w.moving_time_s <> coalesce(l.moving_time_s, 0)
      OR NOT EXISTS (
     SELECT 1 FROM vehicles.part_installation i
      WHERE i.part_id = w.part_id AND i.bike_id = l.bike_id AND i.installed_at <= l.logged_at
        AND (i.removed_at IS NULL OR i.removed_at > l.logged_at))
  UNION ALL
  SELECT 'ride_credited_and_withheld', w.part_id, w.distance, c.distance
    FROM vehicles.kilometrage_withheld w
    JOIN vehicles.kilometrage_credit c ON c.log_id = w.log_id AND c.part_id = w.part_id
  UNION ALL
  SELECT 'installation_ride_without_credit', i.part_id, l.distance, NULL
    FROM vehicles.part_installation i JOIN vehicles.kilometrage_log l
      ON l.bike_id = i.bike_id AND i.installed_at <= l.logged_at
     AND (i.removed_at IS NULL OR i.removed_at > l.logged_at)
   WHERE NOT EXISTS (SELECT 1 FROM vehicles.kilometrage_credit c
                      WHERE c.log_id = l.id AND c.part_id = i.part_id)
     AND NOT EXISTS (SELECT 1 FROM vehicles.kilometrage_withheld w
                      WHERE w.log_id = l.id AND w.part_id = i.part_id)
  UNION ALL
  SELECT 'open_installations', i.part_id, 1, count(*)
    FROM vehicles.part_installation i WHERE i.removed_at IS NULL
   GROUP BY i.part_id HAVING count(*) > 1
  UNION ALL
  SELECT 'retired_installed', i.part_id, 0, count(*)
    FROM vehicles.part_installation i JOIN vehicles.user_part p ON p.id = i.part_id
   WHERE i.removed_at IS NULL AND p.retired_at IS NOT NULL
   GROUP BY i.part_id
  UNION ALL
  SELECT 'credit_after_retirement', c.part_id, NULL, c.distance
    FROM vehicles.kilometrage_credit c
    JOIN vehicles.kilometrage_log l ON l.id = c.log_id
    JOIN vehicles.user_part p ON p.id = c.part_id
   WHERE p.retired_at IS NOT NULL AND l.logged_at >= p.retired_at
$$;
REVOKE ALL ON FUNCTION vehicles.kilometrage_check() FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.kilometrage_check() TO service_role;
