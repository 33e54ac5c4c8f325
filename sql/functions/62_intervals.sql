-- Service intervals (issue 13): a recurring reminder of one part or one bike, by distance,
-- moving time or days, its state computed from what was ridden since its baseline, and the
-- caller's due list. An interval has no owner column: it is its part's or its bike's owner's
-- (so it moves with a transfer and goes with a deletion by its foreign keys).

-- The status of interval p_id: its baseline (the latest performed_at of a maintenance record
-- that completed it, else its created_at) and what its part or bike did strictly after it
-- (rides with logged_at > since, as kilometrage_since_last_maintenance counts). A part's
-- usage is its credits (so only what the part itself was credited, on whichever bike); a
-- bike's, its rides. pct is the largest used/every over the measures the interval uses, in
-- km, rounded to 1 decimal (half away from zero); state is judged on that rounded pct.
-- Reads every row it needs whatever the caller may see (a part's credits on a bike sold
-- since): it runs as the caller, so only as the service role (summary_get, no RLS) or from
-- interval_status, which checks the owner first.
CREATE OR REPLACE FUNCTION vehicles.interval_measure(p_id uuid)
RETURNS TABLE (since timestamptz, distance numeric, moving_hours numeric, days integer,
               pct numeric, state text)
LANGUAGE sql STABLE
AS $$
  SELECT s.since,
         CASE WHEN si.every_distance IS NOT NULL THEN u.km END,
         CASE WHEN si.every_moving_hours IS NOT NULL THEN round(u.seconds / 3600.0, 3) END,
         CASE WHEN si.every_days IS NOT NULL THEN d.days END,
         pc.pct,
         CASE WHEN pc.pct >= 100 THEN 'overdue'
              WHEN pc.pct >= si.warn_at_pct THEN 'due_soon' ELSE 'ok' END
    FROM vehicles.service_interval si
    CROSS JOIN LATERAL (
      SELECT coalesce((SELECT max(m.performed_at) FROM vehicles.maintenance_record m
                        WHERE m.interval_id = si.id), si.created_at) AS since) s
    CROSS JOIN LATERAL (
      SELECT coalesce(sum(x.km), 0) AS km, coalesce(sum(x.secs), 0) AS seconds
        FROM (SELECT c.distance AS km, c.moving_time_s AS secs
                FROM vehicles.kilometrage_credit c
                JOIN vehicles.kilometrage_log l ON l.id = c.log_id
               WHERE si.part_id IS NOT NULL AND c.part_id = si.part_id AND l.logged_at > s.since
              UNION ALL
              SELECT l.distance, coalesce(l.moving_time_s, 0)
                FROM vehicles.kilometrage_log l
               WHERE si.bike_id IS NOT NULL AND l.bike_id = si.bike_id
                 AND l.logged_at > s.since) x) u
    CROSS JOIN LATERAL (
      SELECT greatest(0, floor(extract(epoch FROM now() - s.since) / 86400))::integer AS days) d
    CROSS JOIN LATERAL (
      -- greatest() skips the nulls of the measures not used; one is always used.
      SELECT round(greatest(u.km * 100 / si.every_distance,
                            u.seconds * 100 / (si.every_moving_hours * 3600),
                            d.days * 100.0 / si.every_days), 1) AS pct) pc
   WHERE si.id = p_id
$$;
REVOKE ALL ON FUNCTION vehicles.interval_measure(uuid)
  FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.interval_measure(uuid) TO service_role;

-- 404/403 for a service interval: VS404 when there is none, VS403 when its part or bike is
-- not the caller's. Security definer: it must see other users' rows to tell 403 from 404.
CREATE OR REPLACE FUNCTION vehicles.interval_assert(p_id uuid)
RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  v_owner uuid;
BEGIN
  SELECT coalesce(p.user_id, b.user_id) INTO v_owner
    FROM vehicles.service_interval si
    LEFT JOIN vehicles.user_part p ON p.id = si.part_id
    LEFT JOIN vehicles.user_bike b ON b.id = si.bike_id
   WHERE si.id = p_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'VS404', MESSAGE = 'Service interval not found';
  END IF;
  IF v_owner IS DISTINCT FROM auth.uid() THEN
    RAISE EXCEPTION USING ERRCODE = 'VS403',
      MESSAGE = 'You do not have permission to access this service interval';
  END IF;
  RETURN true;
END
$$;
REVOKE ALL ON FUNCTION vehicles.interval_assert(uuid) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.interval_assert(uuid) TO authenticated, service_role;

-- The status of one of the caller's intervals (interval_measure); no row for anyone else's.
-- Security definer so that a part's usage counts its credits on bikes the caller no longer
-- sees (sold, transferred); the owner check keeps it to the caller's own intervals.
CREATE OR REPLACE FUNCTION vehicles.interval_status(p_id uuid)
RETURNS TABLE (since timestamptz, distance numeric, moving_hours numeric, days integer,
               pct numeric, state text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM vehicles.service_interval si
               LEFT JOIN vehicles.user_part p ON p.id = si.part_id
               LEFT JOIN vehicles.user_bike b ON b.id = si.bike_id
              WHERE si.id = p_id AND coalesce(p.user_id, b.user_id) = auth.uid()) THEN
    RETURN QUERY SELECT * FROM vehicles.interval_measure(p_id);
  END IF;
END
$$;
REVOKE ALL ON FUNCTION vehicles.interval_status(uuid) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.interval_status(uuid) TO authenticated, service_role;

-- The fields of an interval create (p_patch false: task required, default warn_at_pct 80,
-- one every_* required) or patch, checked as the worker checks them (src/intervals.c), since
-- anyone with SQL access as authenticated can call the functions below without the worker.
-- every_distance is in km. Returns them as stored (task trimmed, every_distance and
-- every_moving_hours to 3 decimals). VS400 with MESSAGE the field, DETAIL the problem.
CREATE OR REPLACE FUNCTION vehicles.interval_validate(p jsonb, p_patch boolean)
RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = ''
AS $$
DECLARE
  v_space constant text := E' \t\n\r\f' || chr(11); -- what C's isspace() trims
  v jsonb := '{}'::jsonb;
  e record;
  s text;
  n numeric;
  v_problem text;
BEGIN
  IF jsonb_typeof(p) IS DISTINCT FROM 'object' THEN
    RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = 'body', DETAIL = 'must be a JSON object';
  END IF;
  IF NOT p_patch AND coalesce(jsonb_typeof(p -> 'task'), 'null') = 'null' THEN
    RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = 'task', DETAIL = 'is required';
  END IF;
  FOR e IN SELECT j.key, j.value FROM jsonb_each(p) j ORDER BY j.key LOOP
    s := e.value #>> '{}';
    n := CASE WHEN jsonb_typeof(e.value) = 'number' THEN s::numeric END;
    v_problem := NULL;
    IF e.key NOT IN ('task', 'every_distance', 'every_moving_hours', 'every_days',
                     'warn_at_pct') THEN
      v_problem := 'unknown field';
    ELSIF jsonb_typeof(e.value) = 'null' THEN
      IF e.key IN ('task', 'warn_at_pct') THEN
        v_problem := 'must not be null';
      END IF;
    ELSIF e.key = 'task' THEN
      s := btrim(s, v_space);
      IF jsonb_typeof(e.value) <> 'string' THEN
        v_problem := 'must be a string';
      ELSIF s = '' THEN
        v_problem := 'must not be empty';
      ELSIF char_length(s) > 100 THEN
        v_problem := 'must be at most 100 characters';
      END IF;
      e.value := to_jsonb(s);
    ELSIF e.key = 'every_distance' THEN
      IF n IS NULL OR round(n, 3) <= 0 OR n > 1000000 THEN
        v_problem := 'must be a number greater than 0 and at most 1000000 km';
      END IF;
      e.value := to_jsonb(round(n, 3));
    ELSIF e.key = 'every_moving_hours' THEN
      IF n IS NULL OR round(n, 3) <= 0 OR n > 100000 THEN
        v_problem := 'must be a number greater than 0 and at most 100000';
      END IF;
      e.value := to_jsonb(round(n, 3));
    ELSIF e.key = 'every_days' THEN
      IF n IS NULL OR s !~ '^[0-9]+$' OR n NOT BETWEEN 1 AND 36500 THEN
        v_problem := 'must be an integer from 1 to 36500';
      END IF;
    ELSIF n IS NULL OR s !~ '^[0-9]+$' OR n NOT BETWEEN 1 AND 100 THEN
      v_problem := 'must be an integer from 1 to 100';
    END IF;
    IF v_problem IS NOT NULL THEN
      RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = e.key, DETAIL = v_problem;
    END IF;
    v := v || jsonb_build_object(e.key, e.value);
  END LOOP;
  IF NOT p_patch AND coalesce(v ->> 'every_distance', v ->> 'every_moving_hours',
                              v ->> 'every_days') IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = 'every_distance',
      DETAIL = 'one of every_distance, every_moving_hours, every_days is required';
  END IF;
  RETURN v;
END
$$;
REVOKE ALL ON FUNCTION vehicles.interval_validate(jsonb, boolean)
  FROM PUBLIC, anon, authenticated, service_role;

-- A new interval of the caller's part or bike (p_kind, p_of). Security definer (authenticated
-- has no INSERT): the part or bike is locked and must be the caller's (gear_lock, so a
-- transfer or delete cannot slip in between), and every field is checked here.
CREATE OR REPLACE FUNCTION vehicles.interval_create(p_id uuid, p_kind vehicles.entity_type,
                                                    p_of uuid, p jsonb)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  v jsonb;
BEGIN
  PERFORM vehicles.gear_lock(p_kind, p_of);
  v := vehicles.interval_validate(p, false);
  INSERT INTO vehicles.service_interval (id, part_id, bike_id, task, every_distance,
                                         every_moving_hours, every_days, warn_at_pct)
  VALUES (p_id, CASE WHEN p_kind = 'part' THEN p_of END, CASE WHEN p_kind = 'bike' THEN p_of END,
          v ->> 'task', (v ->> 'every_distance')::numeric, (v ->> 'every_moving_hours')::numeric,
          (v ->> 'every_days')::integer, coalesce((v ->> 'warn_at_pct')::integer, 80));
  RETURN p_id;
END
$$;
REVOKE ALL ON FUNCTION vehicles.interval_create(uuid, vehicles.entity_type, uuid, jsonb)
  FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.interval_create(uuid, vehicles.entity_type, uuid, jsonb)
  TO authenticated, service_role;

-- Locks the part or bike of interval p_id (gear_lock: the caller's), then the interval, and
-- answers 404/403 as interval_assert does, first. For update and delete.
CREATE OR REPLACE FUNCTION vehicles.interval_lock(p_id uuid)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  v_part uuid;
  v_bike uuid;
BEGIN
  PERFORM vehicles.interval_assert(p_id);
  SELECT si.part_id, si.bike_id INTO v_part, v_bike FROM vehicles.service_interval si
   WHERE si.id = p_id;
  IF v_part IS NOT NULL THEN
    PERFORM vehicles.gear_lock('part', v_part);
  ELSE
    PERFORM vehicles.gear_lock('bike', v_bike);
  END IF;
  PERFORM 1 FROM vehicles.service_interval si WHERE si.id = p_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'VS404', MESSAGE = 'Service interval not found';
  END IF;
END
$$;
REVOKE ALL ON FUNCTION vehicles.interval_lock(uuid) FROM PUBLIC, anon, authenticated, service_role;

-- Applies a patch (keys present = fields to set; an every_* set to null stops using that
-- measure, but one must remain). Security definer, checks as interval_create.
CREATE OR REPLACE FUNCTION vehicles.interval_update(p_id uuid, p jsonb)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  v jsonb;
  si vehicles.service_interval;
  v_left boolean;
BEGIN
  PERFORM vehicles.interval_lock(p_id);
  v := vehicles.interval_validate(p, true);
  SELECT * INTO si FROM vehicles.service_interval WHERE id = p_id;
  -- What the three measures will be: the patch's where it names them, else as stored.
  v_left := CASE WHEN v ? 'every_distance' THEN v ->> 'every_distance'
                 ELSE si.every_distance::text END IS NOT NULL
            OR CASE WHEN v ? 'every_moving_hours' THEN v ->> 'every_moving_hours'
                    ELSE si.every_moving_hours::text END IS NOT NULL
            OR CASE WHEN v ? 'every_days' THEN v ->> 'every_days'
                    ELSE si.every_days::text END IS NOT NULL;
  IF NOT v_left THEN
    RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = 'every_distance',
      DETAIL = 'one of every_distance, every_moving_hours, every_days is required';
  END IF;
  UPDATE vehicles.service_interval SET
    task = CASE WHEN v ? 'task' THEN v ->> 'task' ELSE task END,
    every_distance = CASE WHEN v ? 'every_distance' THEN (v ->> 'every_distance')::numeric
                          ELSE every_distance END,
    every_moving_hours = CASE WHEN v ? 'every_moving_hours'
                              THEN (v ->> 'every_moving_hours')::numeric
                              ELSE every_moving_hours END,
    every_days = CASE WHEN v ? 'every_days' THEN (v ->> 'every_days')::integer ELSE every_days END,
    warn_at_pct = CASE WHEN v ? 'warn_at_pct' THEN (v ->> 'warn_at_pct')::integer
                       ELSE warn_at_pct END,
    -- An empty patch changes nothing, not even updated_at.
    updated_at = CASE WHEN v = '{}'::jsonb THEN updated_at ELSE now() END
  WHERE id = p_id;
  RETURN p_id;
END
$$;
REVOKE ALL ON FUNCTION vehicles.interval_update(uuid, jsonb)
  FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.interval_update(uuid, jsonb) TO authenticated, service_role;

-- Deletes one of the caller's intervals; the records that completed it stay (interval_id
-- goes null by its foreign key).
CREATE OR REPLACE FUNCTION vehicles.interval_delete(p_id uuid)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  PERFORM vehicles.interval_lock(p_id);
  DELETE FROM vehicles.service_interval WHERE id = p_id;
  RETURN p_id;
END
$$;
REVOKE ALL ON FUNCTION vehicles.interval_delete(uuid) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.interval_delete(uuid) TO authenticated, service_role;

-- The caller's due list, unsorted and unfiltered (GET /api/due sorts and filters): every
-- interval of their parts and bikes with its status (bike_id: the bike's, or the part's
-- current bike), parts at or past metadata.replacement_threshold_km (task 'replace') and
-- bikes whose distance since their last maintenance reached metadata.maintenance_interval_km
-- (task 'service'), those two always 'overdue' with interval_id null. Distances in km.
-- A retired part is not due for anything: neither its intervals nor its 'replace' row.
-- Runs as the caller (RLS in force); the statuses through interval_status.
CREATE OR REPLACE FUNCTION vehicles.interval_due()
RETURNS TABLE (interval_id uuid, part_id uuid, bike_id uuid, task text, pct numeric,
               state text, distance numeric, every_distance numeric)
LANGUAGE sql STABLE
AS $$
  SELECT si.id, si.part_id, ci.bike_id, si.task, s.pct, s.state, s.distance, si.every_distance
    FROM vehicles.user_part p
    JOIN vehicles.service_interval si ON si.part_id = p.id
    LEFT JOIN vehicles.part_installation ci ON ci.part_id = p.id AND ci.removed_at IS NULL
    CROSS JOIN LATERAL vehicles.interval_status(si.id) s
   WHERE p.user_id = auth.uid() AND p.retired_at IS NULL
  UNION ALL
  SELECT si.id, NULL, si.bike_id, si.task, s.pct, s.state, s.distance, si.every_distance
    FROM vehicles.user_bike b
    JOIN vehicles.service_interval si ON si.bike_id = b.id
    CROSS JOIN LATERAL vehicles.interval_status(si.id) s
   WHERE b.user_id = auth.uid()
  UNION ALL
  SELECT NULL, p.id, ci.bike_id, 'replace',
         CASE WHEN th.km > 0 THEN round(p.total_kilometrage * 100 / th.km, 1) END, 'overdue',
         p.total_kilometrage, th.km
    FROM vehicles.user_part p
    CROSS JOIN LATERAL (SELECT CASE WHEN jsonb_typeof(p.metadata -> 'replacement_threshold_km')
                                    = 'number'
                               THEN (p.metadata ->> 'replacement_threshold_km')::numeric END AS km) th
    LEFT JOIN vehicles.part_installation ci ON ci.part_id = p.id AND ci.removed_at IS NULL
   WHERE p.user_id = auth.uid() AND p.retired_at IS NULL AND p.total_kilometrage >= th.km
  UNION ALL
  SELECT NULL, NULL, b.id, 'service',
         CASE WHEN mi.km > 0 THEN round(ks.km * 100 / mi.km, 1) END, 'overdue', ks.km, mi.km
    FROM vehicles.user_bike b
    CROSS JOIN LATERAL (SELECT CASE WHEN jsonb_typeof(b.metadata -> 'maintenance_interval_km')
                                    = 'number'
                               THEN (b.metadata ->> 'maintenance_interval_km')::numeric END AS km) mi
    CROSS JOIN LATERAL (SELECT vehicles.maintenance_km_since(b.id) AS km) ks
   WHERE b.user_id = auth.uid() AND mi.km IS NOT NULL AND ks.km >= mi.km
$$;
REVOKE ALL ON FUNCTION vehicles.interval_due() FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.interval_due() TO authenticated, service_role;

-- Copies every service interval of part p_from to part p_to (same task, measures and
-- warn_at_pct) with created_at p_at: the copies' baseline is p_at, the moment of a
-- replacement (part_replace). p_from keeps its own. One that p_to already has (the same task
-- and measures: two parts swapped back and forth) is not copied again, so swaps do not
-- multiply intervals. Internal: the caller holds both parts' locks and has checked that both
-- are the caller's.
CREATE OR REPLACE FUNCTION vehicles.interval_copy(p_from uuid, p_to uuid, p_at timestamptz)
RETURNS void
LANGUAGE sql SET search_path = ''
AS $$
  INSERT INTO vehicles.service_interval (part_id, task, every_distance, every_moving_hours,
                                         every_days, warn_at_pct, created_at, updated_at)
  SELECT p_to, si.task, si.every_distance, si.every_moving_hours, si.every_days,
         si.warn_at_pct, p_at, greatest(p_at, now())
    FROM vehicles.service_interval si
   WHERE si.part_id = p_from
     AND NOT EXISTS (SELECT 1 FROM vehicles.service_interval t
                      WHERE t.part_id = p_to AND t.task = si.task
                        AND t.every_distance IS NOT DISTINCT FROM si.every_distance
                        AND t.every_moving_hours IS NOT DISTINCT FROM si.every_moving_hours
                        AND t.every_days IS NOT DISTINCT FROM si.every_days)
   ORDER BY si.created_at, si.id;
$$;
REVOKE ALL ON FUNCTION vehicles.interval_copy(uuid, uuid, timestamptz)
  FROM PUBLIC, anon, authenticated, service_role;
