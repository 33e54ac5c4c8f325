-- Maintenance: records, and the distance ridden since the last one.

-- Logged distance since the bike's latest maintenance (its total when there is none).
CREATE OR REPLACE FUNCTION vehicles.maintenance_km_since(p_bike uuid) RETURNS numeric
LANGUAGE sql STABLE
AS $$
  SELECT CASE WHEN lm.at IS NULL THEN b.total_kilometrage
              ELSE (SELECT coalesce(sum(l.distance), 0) FROM vehicles.kilometrage_log l
                     WHERE l.bike_id = b.id AND l.logged_at > lm.at) END
    FROM vehicles.user_bike b
    LEFT JOIN LATERAL (SELECT max(m.performed_at) AS at FROM vehicles.maintenance_record m
                        WHERE m.bike_id = b.id) lm ON true
   WHERE b.id = p_bike
$$;
REVOKE ALL ON FUNCTION vehicles.maintenance_km_since(uuid)
  FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.maintenance_km_since(uuid) TO authenticated, service_role;

-- Maintenance record for a bike and/or a part, both the caller's.
CREATE OR REPLACE FUNCTION vehicles.maintenance_create(p_id uuid, p_bike uuid, p_part uuid,
                                                       p jsonb)
RETURNS uuid
LANGUAGE plpgsql
AS $$
BEGIN
  IF p_bike IS NOT NULL THEN
    PERFORM vehicles.gear_assert('bike', p_bike);
  END IF;
  IF p_part IS NOT NULL THEN
    PERFORM vehicles.gear_assert('part', p_part);
  END IF;
  INSERT INTO vehicles.maintenance_record (id, user_id, bike_id, part_id, maintenance_type,
                                           description, performed_at, cost, metadata)
  VALUES (p_id, auth.uid(), p_bike, p_part, (p ->> 'maintenance_type')::vehicles.maintenance_type,
          p ->> 'description', coalesce((p ->> 'performed_at')::timestamptz, now()),
          (p ->> 'cost')::numeric, coalesce(p -> 'metadata', '{}'::jsonb));
  RETURN p_id;
END
$$;
REVOKE ALL ON FUNCTION vehicles.maintenance_create(uuid, uuid, uuid, jsonb)
  FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.maintenance_create(uuid, uuid, uuid, jsonb)
  TO authenticated, service_role;
