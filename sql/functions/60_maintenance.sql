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

-- Maintenance record for a bike and/or a part, both the caller's. Security definer
-- (authenticated has no INSERT on the table), so it checks everything itself, as the worker
-- does (src/maintenance.c): the bike and the part are locked (bike first, the global order)
-- and must be the caller's, and every field is checked; a violation is VS400 with MESSAGE
-- the field and DETAIL the problem. The metadata size is checked where metadata is written.
CREATE OR REPLACE FUNCTION vehicles.maintenance_create(p_id uuid, p_bike uuid, p_part uuid,
                                                       p jsonb)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  -- What C's isspace() trims in the C locale.
  v_space constant text := E' \t\n\r\f' || chr(11);
  v_desc text;
  v_at timestamptz;
  v_cost numeric;
  v_interval uuid;
  k text;
BEGIN
  IF p_bike IS NULL AND p_part IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = 'bike_id',
      DETAIL = 'a record is of a bike, a part or both';
  END IF;
  IF p_bike IS NOT NULL THEN
    PERFORM vehicles.gear_lock('bike', p_bike);
  END IF;
  IF p_part IS NOT NULL THEN
    PERFORM vehicles.gear_lock('part', p_part);
  END IF;
  IF jsonb_typeof(p) IS DISTINCT FROM 'object' THEN
    RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = 'body', DETAIL = 'must be a JSON object';
  END IF;
  SELECT j.key INTO k FROM jsonb_object_keys(p) j(key)
   WHERE j.key NOT IN ('maintenance_type', 'description', 'performed_at', 'cost', 'metadata',
                       'interval_id')
   ORDER BY 1 LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = k, DETAIL = 'unknown field';
  END IF;
  IF jsonb_typeof(p -> 'maintenance_type') IS DISTINCT FROM 'string'
     OR NOT (p ->> 'maintenance_type') = ANY (enum_range(NULL::vehicles.maintenance_type)::text[]) THEN
    RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = 'maintenance_type',
      DETAIL = 'must be one of: '
               || array_to_string(enum_range(NULL::vehicles.maintenance_type)::text[], ', ');
  END IF;
  v_desc := btrim(p ->> 'description', v_space);
  IF jsonb_typeof(p -> 'description') IS DISTINCT FROM 'string' OR v_desc = ''
     OR char_length(v_desc) > 2000 THEN
    RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = 'description',
      DETAIL = 'must be a string of 1 to 2000 characters';
  END IF;
  v_at := vehicles.maintenance_time(p -> 'performed_at');
  IF jsonb_typeof(p -> 'cost') = 'number' THEN
    v_cost := (p ->> 'cost')::numeric;
  END IF;
  IF coalesce(jsonb_typeof(p -> 'cost'), 'null') <> 'null'
     AND (v_cost IS NULL OR v_cost NOT BETWEEN 0 AND 1000000000) THEN
    RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = 'cost',
      DETAIL = 'must be at least 0 and at most 1000000000';
  END IF;
  IF coalesce(jsonb_typeof(p -> 'metadata'), 'object') <> 'object' THEN
    RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = 'metadata',
      DETAIL = 'must be a JSON object';
  END IF;
  -- A record completes an interval of its bike or of its part (either may match); any other
  -- id, another user's or none, is refused alike. Key-share locked: it cannot go before we
  -- commit.
  IF coalesce(jsonb_typeof(p -> 'interval_id'), 'null') <> 'null' THEN
    IF jsonb_typeof(p -> 'interval_id') <> 'string' OR (p ->> 'interval_id')
         !~ '^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$' THEN
      RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = 'interval_id', DETAIL = 'must be a UUID';
    END IF;
    v_interval := (p ->> 'interval_id')::uuid;
    PERFORM 1 FROM vehicles.service_interval si
     WHERE si.id = v_interval AND (si.bike_id = p_bike OR si.part_id = p_part) FOR KEY SHARE;
    IF NOT FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = 'interval_id',
        DETAIL = 'must be a service interval of this bike or part';
    END IF;
  END IF;
  INSERT INTO vehicles.maintenance_record (id, user_id, bike_id, part_id, maintenance_type,
                                           description, performed_at, cost, metadata, interval_id)
  VALUES (p_id, auth.uid(), p_bike, p_part, (p ->> 'maintenance_type')::vehicles.maintenance_type,
          v_desc, coalesce(v_at, now()), v_cost, coalesce(p -> 'metadata', '{}'::jsonb),
          v_interval);
  RETURN p_id;
END
$$;
REVOKE ALL ON FUNCTION vehicles.maintenance_create(uuid, uuid, uuid, jsonb)
  FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.maintenance_create(uuid, uuid, uuid, jsonb)
  TO authenticated, service_role;

-- Deletes a maintenance record for the owner of the bike or of the part it names (either
-- may): VS404 when there is none, VS403 when neither is the caller's. When the other one is
-- now another user's, only the caller's side is taken off the record (below). The intervals
-- it completed fall back to their previous completion (or their creation) by themselves: a
-- baseline is computed, not stored. Security definer: the caller's bike and part are locked
-- first (gear_lock), so a transfer of either waits or came first.
CREATE OR REPLACE FUNCTION vehicles.maintenance_delete(p_id uuid)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  v_bike uuid;
  v_part uuid;
  v_bike_mine boolean;
  v_part_mine boolean;
BEGIN
  SELECT m.bike_id, m.part_id,
         EXISTS (SELECT 1 FROM vehicles.user_bike b WHERE b.id = m.bike_id AND b.user_id = auth.uid()),
         EXISTS (SELECT 1 FROM vehicles.user_part p WHERE p.id = m.part_id AND p.user_id = auth.uid())
    INTO v_bike, v_part, v_bike_mine, v_part_mine
    FROM vehicles.maintenance_record m WHERE m.id = p_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'VS404', MESSAGE = 'Maintenance record not found';
  END IF;
  IF NOT (v_bike_mine OR v_part_mine) THEN
    RAISE EXCEPTION USING ERRCODE = 'VS403',
      MESSAGE = 'You do not have permission to access this maintenance record';
  END IF;
  -- Bike first, then part (the global order); each checked again once locked.
  IF v_bike_mine THEN
    PERFORM vehicles.gear_lock('bike', v_bike);
  END IF;
  IF v_part_mine THEN
    PERFORM vehicles.gear_lock('part', v_part);
  END IF;
  IF (v_bike IS NULL OR v_bike_mine) AND (v_part IS NULL OR v_part_mine) THEN
    DELETE FROM vehicles.maintenance_record WHERE id = p_id;
  ELSE
    -- The record also names another user's bike or part (one of the two changed owner
    -- since): only the caller's side of it goes, so that user's history, and the baseline of
    -- an interval of theirs it completes, stay as they were (api-notes: a request changes
    -- only what its caller owns). A completion of the caller's own interval goes with it.
    UPDATE vehicles.maintenance_record m
       SET bike_id = CASE WHEN v_bike_mine THEN NULL ELSE m.bike_id END,
           part_id = CASE WHEN v_part_mine THEN NULL ELSE m.part_id END,
           interval_id = CASE WHEN EXISTS (
                               SELECT 1 FROM vehicles.service_interval si
                                WHERE si.id = m.interval_id
                                  AND ((v_bike_mine AND si.bike_id = v_bike)
                                       OR (v_part_mine AND si.part_id = v_part)))
                              THEN NULL ELSE m.interval_id END,
           updated_at = now()
     WHERE m.id = p_id;
  END IF;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'VS404', MESSAGE = 'Maintenance record not found';
  END IF;
  RETURN p_id;
END
$$;
REVOKE ALL ON FUNCTION vehicles.maintenance_delete(uuid)
  FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.maintenance_delete(uuid) TO authenticated, service_role;

-- performed_at of a request: null (now), or an RFC 3339 timestamp with an offset at most 5
-- minutes in the future (the clock-skew allowance), as the worker's valid_timestamp checks
-- it. VS400 'performed_at' otherwise.
CREATE OR REPLACE FUNCTION vehicles.maintenance_time(p jsonb) RETURNS timestamptz
LANGUAGE plpgsql STABLE SET search_path = ''
AS $$
DECLARE
  v_at timestamptz;
BEGIN
  IF coalesce(jsonb_typeof(p), 'null') = 'null' THEN
    RETURN NULL;
  END IF;
  v_at := vehicles.gear_time(p);
  IF v_at IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = 'performed_at',
      DETAIL = 'must be an RFC 3339 timestamp with an offset';
  END IF;
  IF v_at > now() + interval '5 minutes' THEN
    RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = 'performed_at',
      DETAIL = 'must not be in the future';
  END IF;
  RETURN v_at;
END
$$;
REVOKE ALL ON FUNCTION vehicles.maintenance_time(jsonb) FROM PUBLIC, anon, authenticated, service_role;

-- A record carries the owners of its bike and its part (bike_owner_id, part_owner_id, 015):
-- filled here from them on insert and whenever bike_id or part_id changes (null with them),
-- kept by the foreign keys' cascades when either changes owner. The keys, not this trigger,
-- are what make a wrong owner impossible.
CREATE OR REPLACE FUNCTION vehicles.maintenance_owner_fill() RETURNS trigger
LANGUAGE plpgsql SET search_path = ''
AS $$
BEGIN
  IF TG_OP = 'INSERT' OR NEW.bike_id IS DISTINCT FROM OLD.bike_id THEN
    NEW.bike_owner_id := (SELECT b.user_id FROM vehicles.user_bike b WHERE b.id = NEW.bike_id);
  END IF;
  IF TG_OP = 'INSERT' OR NEW.part_id IS DISTINCT FROM OLD.part_id THEN
    NEW.part_owner_id := (SELECT p.user_id FROM vehicles.user_part p WHERE p.id = NEW.part_id);
  END IF;
  RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION vehicles.maintenance_owner_fill()
  FROM PUBLIC, anon, authenticated, service_role;
DROP TRIGGER IF EXISTS owner_fill ON vehicles.maintenance_record;
CREATE TRIGGER owner_fill BEFORE INSERT OR UPDATE OF bike_id, part_id ON vehicles.maintenance_record
  FOR EACH ROW EXECUTE FUNCTION vehicles.maintenance_owner_fill();
