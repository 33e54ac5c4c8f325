-- The dashboard summary of one user (internal route, service role). Distances in km.
-- After 60_maintenance.sql and 62_intervals.sql: a SQL function's body is checked when it is
-- created.
CREATE OR REPLACE FUNCTION vehicles.summary_get(p_user uuid)
RETURNS TABLE (total_bikes integer, total_parts integer, total_kilometrage_km numeric,
               bikes_needing_maintenance integer)
LANGUAGE sql STABLE
AS $$
  SELECT
    (SELECT count(*) FROM vehicles.user_bike WHERE user_id = p_user)::integer,
    (SELECT count(*) FROM vehicles.user_part WHERE user_id = p_user)::integer,
    (SELECT coalesce(sum(total_kilometrage), 0) FROM vehicles.user_bike WHERE user_id = p_user),
    (SELECT count(*) FROM vehicles.user_bike b
      WHERE b.user_id = p_user
        AND (EXISTS (SELECT 1 FROM vehicles.part_installation i
                       JOIN vehicles.user_part p ON p.id = i.part_id
                      WHERE i.bike_id = b.id AND i.removed_at IS NULL
                        AND jsonb_typeof(p.metadata -> 'replacement_threshold_km') = 'number'
                        AND p.total_kilometrage >= (p.metadata ->> 'replacement_threshold_km')::numeric)
             OR (jsonb_typeof(b.metadata -> 'maintenance_interval_km') = 'number'
                 AND vehicles.maintenance_km_since(b.id)
                     >= (b.metadata ->> 'maintenance_interval_km')::numeric)
             -- An overdue service interval of the bike, or of a part on it now.
             OR EXISTS (SELECT 1 FROM vehicles.service_interval si
                         CROSS JOIN LATERAL vehicles.interval_measure(si.id) s
                         WHERE si.bike_id = b.id AND s.state = 'overdue')
             OR EXISTS (SELECT 1 FROM vehicles.part_installation i
                          JOIN vehicles.service_interval si ON si.part_id = i.part_id
                         CROSS JOIN LATERAL vehicles.interval_measure(si.id) s
                         WHERE i.bike_id = b.id AND i.removed_at IS NULL
                           AND s.state = 'overdue')))::integer
$$;
REVOKE ALL ON FUNCTION vehicles.summary_get(uuid) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.summary_get(uuid) TO service_role;
