-- Rides (the kilometrage log): logging one, its credits to parts, taking one back.
--
-- The rule (api-notes, Kilometrage): a request changes only what its caller owns at that
-- moment. A ride reaches the parts that were on its bike at logged_at (installed at or before
-- it, not removed by then) and that the bike's owner, the caller, owns now; a part that has
-- changed owner since keeps its kilometrage as it stood when it left, and the ride is
-- recorded as withheld from it (vehicles.kilometrage_withheld). Every way of writing rides
-- (logging, deleting, and any later edit or batch) goes through ride_credit and
-- ride_uncredit, so the rule and the invariant (vehicles.kilometrage_check()) hold for all.
-- Whatever adds or removes a ride also moves its bike's ride_count (011_ride_count.sql, the
-- history's total) in the same statement as the bike's total, under the bike's row lock.
-- The functions authenticated may call are security definer: they see every row, so they
-- check ownership themselves (gear_assert, gear_lock) and filter every write by it, and they
-- check every rule of the write (api-notes) as the worker does, for callers with SQL access.

-- Applies a ride to the parts that were on its bike at logged_at: a credit (and its distance
-- added to the total) for each the caller owns now, a withheld record for each the caller
-- does not. Pairs that already have a credit or a withheld record are left as they are, so
-- running it twice changes nothing. Internal (granted to no one): the ride functions call it
-- with the bike's row locked, once they have checked that it is the caller's.
CREATE OR REPLACE FUNCTION vehicles.ride_credit(p_log uuid) RETURNS void
LANGUAGE plpgsql SET search_path = ''
AS $$
DECLARE
  v_me uuid := auth.uid();
  v_log vehicles.kilometrage_log;
  v_mine uuid[];
  v_theirs uuid[];
BEGIN
  SELECT l.* INTO v_log FROM vehicles.kilometrage_log l
    JOIN vehicles.user_bike b ON b.id = l.bike_id AND b.user_id = v_me
   WHERE l.id = p_log;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'VS404', MESSAGE = 'Kilometrage entry not found';
  END IF;
  -- The parts on the bike at logged_at not yet credited with (or withheld) this ride, locked
  -- in id order (bike first, then parts: the global order) in the same statement that finds
  -- them, and their owner read once locked: a part given away, or deleted, while we waited
  -- is seen as it is now.
  SELECT array_agg(s.id) FILTER (WHERE s.user_id = v_me),
         array_agg(s.id) FILTER (WHERE s.user_id IS DISTINCT FROM v_me)
    INTO v_mine, v_theirs
    FROM (SELECT p.id, p.user_id
            FROM vehicles.part_installation i JOIN vehicles.user_part p ON p.id = i.part_id
           WHERE i.bike_id = v_log.bike_id AND i.installed_at <= v_log.logged_at
             AND (i.removed_at IS NULL OR i.removed_at > v_log.logged_at)
             AND NOT EXISTS (SELECT 1 FROM vehicles.kilometrage_credit c
                              WHERE c.log_id = p_log AND c.part_id = i.part_id)
             AND NOT EXISTS (SELECT 1 FROM vehicles.kilometrage_withheld w
                              WHERE w.log_id = p_log AND w.part_id = i.part_id)
           ORDER BY p.id FOR NO KEY UPDATE OF p) s;
  IF v_mine IS NOT NULL THEN
    -- The credits and the totals in one statement, found again by the same conditions
    -- (the rows are locked, so nothing moved) rather than from the array: a statement with
    -- only scalar parameters keeps one plan, one with an array is planned on every call.
    WITH c AS (
      INSERT INTO vehicles.kilometrage_credit (log_id, part_id, distance, moving_time_s)
      SELECT p_log, p.id, v_log.distance, coalesce(v_log.moving_time_s, 0)
        FROM vehicles.part_installation i JOIN vehicles.user_part p ON p.id = i.part_id
       WHERE i.bike_id = v_log.bike_id AND i.installed_at <= v_log.logged_at
         AND (i.removed_at IS NULL OR i.removed_at > v_log.logged_at) AND p.user_id = v_me
         AND NOT EXISTS (SELECT 1 FROM vehicles.kilometrage_credit k
                          WHERE k.log_id = p_log AND k.part_id = i.part_id)
      RETURNING part_id
    )
    UPDATE vehicles.user_part p SET total_kilometrage = p.total_kilometrage + v_log.distance,
                                    total_moving_time_s = p.total_moving_time_s
                                                          + coalesce(v_log.moving_time_s, 0),
                                    updated_at = now()
      FROM c WHERE p.id = c.part_id;
  END IF;
  IF v_theirs IS NOT NULL THEN
    INSERT INTO vehicles.kilometrage_withheld (log_id, part_id, distance, moving_time_s)
    SELECT p_log, t, v_log.distance, coalesce(v_log.moving_time_s, 0) FROM unnest(v_theirs) t;
  END IF;
END
$$;
REVOKE ALL ON FUNCTION vehicles.ride_credit(uuid) FROM PUBLIC, anon, authenticated, service_role;

-- Takes a ride back from the parts it reached: the credits of parts the caller owns now are
-- removed (and their distance taken from the totals); a part that has changed owner keeps
-- its credit, detached from the ride (log_id NULL), so its total stays what it was when it
-- left; the ride's withheld records go. Internal, as ride_credit.
CREATE OR REPLACE FUNCTION vehicles.ride_uncredit(p_log uuid) RETURNS void
LANGUAGE plpgsql SET search_path = ''
AS $$
DECLARE
  v_me uuid := auth.uid();
  v_mine uuid[];
BEGIN
  PERFORM 1 FROM vehicles.kilometrage_log l
    JOIN vehicles.user_bike b ON b.id = l.bike_id AND b.user_id = v_me
   WHERE l.id = p_log;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'VS404', MESSAGE = 'Kilometrage entry not found';
  END IF;
  SELECT array_agg(s.id) INTO v_mine
    FROM (SELECT p.id FROM vehicles.user_part p
           WHERE p.id IN (SELECT c.part_id FROM vehicles.kilometrage_credit c
                           WHERE c.log_id = p_log)
             AND p.user_id = v_me
           ORDER BY p.id FOR NO KEY UPDATE) s;
  WITH gone AS (
    DELETE FROM vehicles.kilometrage_credit c
     WHERE c.log_id = p_log AND c.part_id = ANY (v_mine)
    RETURNING c.part_id, c.distance, c.moving_time_s
  )
  UPDATE vehicles.user_part p
     SET total_kilometrage = p.total_kilometrage - g.distance,
         total_moving_time_s = p.total_moving_time_s - g.moving_time_s, updated_at = now()
    FROM gone g
   WHERE p.id = g.part_id;
  UPDATE vehicles.kilometrage_credit SET log_id = NULL WHERE log_id = p_log;
  DELETE FROM vehicles.kilometrage_withheld WHERE log_id = p_log;
END
$$;
REVOKE ALL ON FUNCTION vehicles.ride_uncredit(uuid) FROM PUBLIC, anon, authenticated, service_role;


-- The fields of a ride (p_patch false: a new ride, distance required) or of an edit (true:
-- only the fields to change; source and external_id cannot change), checked as the worker
-- checks them (src/ride_fields.c, include/rules.h): anyone with SQL access as authenticated
-- can call the ride functions without the worker in front. Values are the stored ones:
-- distance in km, elevation_gain in metres. Returns NULL when all is well, else
-- {"field": problem, ...}, so a batch can answer each ride without a subtransaction.
-- Internal.
CREATE OR REPLACE FUNCTION vehicles.ride_check(p jsonb, p_patch boolean) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = ''
AS $$
DECLARE
  v_bad jsonb := '{}'::jsonb;
  v_at timestamptz;
  k text;
BEGIN
  IF jsonb_typeof(p) IS DISTINCT FROM 'object' THEN
    RETURN '{"body": "must be a JSON object"}'::jsonb;
  END IF;
  FOR k IN SELECT j.key FROM jsonb_object_keys(p) j(key) LOOP
    IF k NOT IN ('distance', 'logged_at', 'notes', 'moving_time_s', 'elevation_gain', 'ride_type')
       AND (p_patch OR k NOT IN ('source', 'external_id')) THEN
      v_bad := v_bad || jsonb_build_object(k, 'unknown field');
    END IF;
  END LOOP;
  IF (p ? 'distance' OR NOT p_patch) AND NOT coalesce(jsonb_typeof(p -> 'distance') = 'number'
       AND round((p ->> 'distance')::numeric, 3) > 0
       AND (p ->> 'distance')::numeric <= 100000, false) THEN
    v_bad := v_bad || '{"distance": "must be a number greater than 0 and at most 100000 km"}';
  END IF;
  IF coalesce(jsonb_typeof(p -> 'logged_at'), 'null') <> 'null' THEN
    v_at := coalesce(vehicles.gear_time(p -> 'logged_at'), 'infinity');
  END IF;
  IF (jsonb_typeof(p -> 'logged_at') = 'null' AND p_patch)
     OR v_at > now() + interval '5 minutes' THEN
    v_bad := v_bad || '{"logged_at": "must be an RFC 3339 timestamp, not in the future"}';
  END IF;
  IF coalesce(jsonb_typeof(p -> 'notes'), 'null') NOT IN ('string', 'null')
     OR char_length(p ->> 'notes') > 2000 THEN
    v_bad := v_bad || '{"notes": "must be a string of at most 2000 characters"}';
  END IF;
  IF coalesce(jsonb_typeof(p -> 'moving_time_s'), 'null') <> 'null'
     AND NOT coalesce(jsonb_typeof(p -> 'moving_time_s') = 'number'
                      AND (p ->> 'moving_time_s')::numeric BETWEEN 0 AND 604800
                      AND (p ->> 'moving_time_s')::numeric % 1 = 0, false) THEN
    v_bad := v_bad || '{"moving_time_s": "must be an integer from 0 to 604800"}';
  END IF;
  IF coalesce(jsonb_typeof(p -> 'elevation_gain'), 'null') <> 'null'
     AND NOT coalesce(jsonb_typeof(p -> 'elevation_gain') = 'number'
                      AND (p ->> 'elevation_gain')::numeric BETWEEN 0 AND 100000, false) THEN
    v_bad := v_bad || '{"elevation_gain": "must be a number from 0 to 100000 m"}';
  END IF;
  -- (null: the default in a new ride; an edit cannot set it to nothing)
  IF (p ? 'ride_type' AND (p_patch OR jsonb_typeof(p -> 'ride_type') <> 'null'))
     AND NOT coalesce((p ->> 'ride_type') = ANY (enum_range(NULL::vehicles.ride_type)::text[])
                      AND jsonb_typeof(p -> 'ride_type') = 'string', false) THEN
    v_bad := v_bad || '{"ride_type": "must be one of: outdoor, indoor, virtual"}';
  END IF;
  IF NOT p_patch AND coalesce(jsonb_typeof(p -> 'source'), 'null') <> 'null'
     AND NOT coalesce(jsonb_typeof(p -> 'source') = 'string'
                      AND char_length(p ->> 'source') BETWEEN 1 AND 50, false) THEN
    v_bad := v_bad || '{"source": "must be a string of 1 to 50 characters"}';
  END IF;
  IF NOT p_patch AND coalesce(jsonb_typeof(p -> 'external_id'), 'null') <> 'null' THEN
    IF NOT coalesce(jsonb_typeof(p -> 'external_id') = 'string'
                    AND char_length(p ->> 'external_id') BETWEEN 1 AND 255, false) THEN
      v_bad := v_bad || '{"external_id": "must be a string of 1 to 255 characters"}';
    ELSIF coalesce(jsonb_typeof(p -> 'source'), 'null') = 'null' THEN
      v_bad := v_bad || '{"external_id": "requires source"}';
    END IF;
  END IF;
  RETURN CASE WHEN v_bad = '{}'::jsonb THEN NULL ELSE v_bad END;
END
$$;
REVOKE ALL ON FUNCTION vehicles.ride_check(jsonb, boolean)
  FROM PUBLIC, anon, authenticated, service_role;

-- ride_check as an error: VS400 with MESSAGE the first field (by name) and DETAIL its problem.
CREATE OR REPLACE FUNCTION vehicles.ride_validate(p jsonb, p_patch boolean) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = ''
AS $$
DECLARE
  v_bad jsonb := vehicles.ride_check(p, p_patch);
  k text;
BEGIN
  IF v_bad IS NOT NULL THEN
    SELECT min(j.key) INTO k FROM jsonb_object_keys(v_bad) j(key);
    RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = k, DETAIL = v_bad ->> k;
  END IF;
END
$$;
REVOKE ALL ON FUNCTION vehicles.ride_validate(jsonb, boolean)
  FROM PUBLIC, anon, authenticated, service_role;

-- An Idempotency-Key's first answer: NULL when the key is new (the request runs and
-- ride_log stores its answer), {"status", "body"} of the first answer for a retry, VS409 for
-- a key reused with another request. A concurrent retry with the same key waits here for the first to
-- commit. Internal.
CREATE OR REPLACE FUNCTION vehicles.ride_key_claim(p_key text, p_request text) RETURNS jsonb
LANGUAGE plpgsql SET search_path = ''
AS $$
DECLARE
  v_me uuid := auth.uid();
  v_hash text := md5(coalesce(p_request, ''));
  v_prev vehicles.idempotency_key;
BEGIN
  IF p_key !~ '^[ -~]{1,255}$' THEN
    RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = 'Idempotency-Key',
      DETAIL = 'must be 1 to 255 printable ASCII characters';
  END IF;
  -- Keys live at least 24 hours; now and then a keyed ride clears the caller's keys older
  -- than 48, so the table cleans itself without a scheduler.
  IF random() < 0.01 THEN
    DELETE FROM vehicles.idempotency_key
     WHERE user_id = v_me AND created_at < now() - interval '48 hours';
  END IF;
  INSERT INTO vehicles.idempotency_key (user_id, key, request_hash, response)
  VALUES (v_me, p_key, v_hash, 'null'::jsonb)
  ON CONFLICT (user_id, key) DO NOTHING;
  IF FOUND THEN
    RETURN NULL;
  END IF;
  SELECT * INTO v_prev FROM vehicles.idempotency_key
   WHERE user_id = v_me AND key = p_key FOR UPDATE;
  IF v_prev.created_at < now() - interval '24 hours' THEN
    UPDATE vehicles.idempotency_key
       SET request_hash = v_hash, response = 'null'::jsonb, status = 201, created_at = now()
     WHERE user_id = v_me AND key = p_key;
    RETURN NULL;
  ELSIF v_prev.request_hash <> v_hash THEN
    RAISE EXCEPTION USING ERRCODE = 'VS409',
      MESSAGE = 'Idempotency-Key was already used for a different request';
  END IF;
  RETURN jsonb_build_object('status', v_prev.status, 'body', v_prev.response);
END
$$;
REVOKE ALL ON FUNCTION vehicles.ride_key_claim(text, text)
  FROM PUBLIC, anon, authenticated, service_role;

-- {bike, log, affected_parts} of a ride, distances in km: affected_parts are the caller's
-- parts the ride is credited to (none when p_credited is false: a ride found again by its
-- external_id credited nothing this time). Internal. PL/pgSQL, not SQL: a SQL function with
-- SET is planned again on every call, and every ride calls this; PL/pgSQL keeps its plans.
CREATE OR REPLACE FUNCTION vehicles.ride_answer(p_bike uuid, p_log uuid, p_credited boolean)
RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = ''
AS $$
BEGIN
  RETURN jsonb_build_object(
    'bike', (SELECT to_jsonb(b) FROM vehicles.bike_v b WHERE b.id = p_bike),
    'log', (SELECT to_jsonb(l) FROM vehicles.kilometrage_log l WHERE l.id = p_log),
    'affected_parts', CASE WHEN p_credited THEN coalesce((
      SELECT jsonb_agg(to_jsonb(p) ORDER BY p.name, p.id) FROM vehicles.part_v p
       WHERE p.id IN (SELECT c.part_id FROM vehicles.kilometrage_credit c WHERE c.log_id = p_log)
         AND p.user_id = auth.uid()), '[]'::jsonb) ELSE '[]'::jsonb END);
END
$$;
REVOKE ALL ON FUNCTION vehicles.ride_answer(uuid, uuid, boolean)
  FROM PUBLIC, anon, authenticated, service_role;

-- A ride logged again under its (source, external_id): the same ride (same bike, same
-- fields; logged_at equal or not given) is NULL, anything else the 409's message. Internal.
-- PL/pgSQL for its cached plan (a SQL function with SET is planned on every call).
CREATE OR REPLACE FUNCTION vehicles.ride_differs(p_old vehicles.kilometrage_log, p_bike uuid,
                                                 p jsonb)
RETURNS text
LANGUAGE plpgsql STABLE SET search_path = ''
AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM vehicles.user_bike b
                  WHERE b.id = p_old.bike_id AND b.user_id = auth.uid()) THEN
    RETURN 'external_id was already logged, on a bike you no longer own';
  ELSIF p_old.bike_id IS DISTINCT FROM p_bike THEN
    RETURN 'external_id was already logged on another bike; edit that ride with PATCH';
  ELSIF p_old.distance = round((p ->> 'distance')::numeric, 3)
     AND p_old.moving_time_s IS NOT DISTINCT FROM (p ->> 'moving_time_s')::numeric::integer
     AND p_old.elevation_gain IS NOT DISTINCT FROM round((p ->> 'elevation_gain')::numeric, 3)
     AND p_old.ride_type::text = coalesce(p ->> 'ride_type', 'outdoor')
     AND p_old.notes IS NOT DISTINCT FROM (p ->> 'notes')
     AND (p ->> 'logged_at' IS NULL OR p_old.logged_at = (p ->> 'logged_at')::timestamptz) THEN
    RETURN NULL;
  END IF;
  RETURN 'external_id was already logged with other fields; edit that ride with PATCH';
END
$$;
REVOKE ALL ON FUNCTION vehicles.ride_differs(vehicles.kilometrage_log, uuid, jsonb)
  FROM PUBLIC, anon, authenticated, service_role;

-- Inserts a ride on a bike the caller owns and has locked, with its bike's totals and its
-- credits; p is checked (ride_check). Returns true when the ride was created, false when
-- its (source, external_id) was already logged (by a concurrent request too: the insert
-- waits for it) as the same ride; a different one is VS409. Internal.
CREATE OR REPLACE FUNCTION vehicles.ride_insert(p_id uuid, p_bike uuid, p jsonb,
                                                OUT created boolean, OUT log_id uuid)
LANGUAGE plpgsql SET search_path = ''
AS $$
DECLARE
  v_me uuid := auth.uid();
  v_old vehicles.kilometrage_log;
  v_km numeric := round((p ->> 'distance')::numeric, 3);
  v_moving integer := (p ->> 'moving_time_s')::numeric::integer;
  v_why text;
BEGIN
  INSERT INTO vehicles.kilometrage_log (id, bike_id, user_id, distance, logged_at, notes,
                                        moving_time_s, elevation_gain, ride_type, source,
                                        external_id)
  VALUES (p_id, p_bike, v_me, v_km, coalesce((p ->> 'logged_at')::timestamptz, now()),
          p ->> 'notes', v_moving, round((p ->> 'elevation_gain')::numeric, 3),
          coalesce(p ->> 'ride_type', 'outdoor')::vehicles.ride_type, p ->> 'source',
          p ->> 'external_id')
  ON CONFLICT (user_id, source, external_id) WHERE external_id IS NOT NULL DO NOTHING;
  IF NOT FOUND THEN
    SELECT * INTO v_old FROM vehicles.kilometrage_log l
     WHERE l.user_id = v_me AND l.source = p ->> 'source' AND l.external_id = p ->> 'external_id';
    v_why := vehicles.ride_differs(v_old, p_bike, p);
    IF v_why IS NOT NULL THEN
      RAISE EXCEPTION USING ERRCODE = 'VS409', MESSAGE = v_why;
    END IF;
    created := false;
    log_id := v_old.id;
    RETURN;
  END IF;
  -- Under the bike's row lock, taken by the caller: ride_count (the history's total)
  -- counts each ride once.
  UPDATE vehicles.user_bike SET total_kilometrage = total_kilometrage + v_km,
                                total_moving_time_s = total_moving_time_s + coalesce(v_moving, 0),
                                ride_count = ride_count + 1, updated_at = now()
   WHERE id = p_bike;
  PERFORM vehicles.ride_credit(p_id);
  created := true;
  log_id := p_id;
END
$$;
REVOKE ALL ON FUNCTION vehicles.ride_insert(uuid, uuid, jsonb)
  FROM PUBLIC, anon, authenticated, service_role;

-- Logs a ride in one transaction: the bike's totals and ride count, the log entry, and its
-- credits (ride_credit). p: distance (km), logged_at?, notes?, moving_time_s?,
-- elevation_gain? (m), ride_type?, source?, external_id?. With an Idempotency-Key the first
-- answer is kept and a retry gets it back without changing anything; then a ride already
-- logged under its (source, external_id) is answered as it is (status 200, nothing
-- credited) when it is the same ride, VS409 when not. Returns {"replayed": bool,
-- "status": 201|200, "body": {bike, log, affected_parts}} with distances in km.
CREATE OR REPLACE FUNCTION vehicles.ride_log(p_id uuid, p_bike uuid, p jsonb, p_key text,
                                             p_request text)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  v_me uuid := auth.uid();
  v_owner uuid;
  v_prev jsonb;
  v_body jsonb;
  v_ride record;
BEGIN
  -- api-notes' order: the bike (404/403), then the body (400), then the state (409). One
  -- exception: the caller's own ride, found by its external_id, on a bike that is no
  -- longer theirs is the 409 the external_id rule gives, not a 403.
  SELECT b.user_id INTO v_owner FROM vehicles.user_bike b WHERE b.id = p_bike;
  IF FOUND AND v_owner IS DISTINCT FROM v_me AND jsonb_typeof(p -> 'external_id') = 'string'
     AND EXISTS (SELECT 1 FROM vehicles.kilometrage_log l
                  WHERE l.user_id = v_me AND l.source = p ->> 'source'
                    AND l.external_id = p ->> 'external_id' AND l.bike_id = p_bike) THEN
    RAISE EXCEPTION USING ERRCODE = 'VS409',
      MESSAGE = 'external_id was already logged, on a bike you no longer own';
  END IF;
  PERFORM vehicles.gear_check('bike', FOUND, v_owner);
  PERFORM vehicles.ride_validate(p, false);
  IF p_key IS NOT NULL THEN
    v_prev := vehicles.ride_key_claim(p_key, p_request);
    IF v_prev IS NOT NULL THEN
      RETURN jsonb_build_object('replayed', true) || v_prev;
    END IF;
  END IF;
  -- A user's rides with an external_id are written one at a time: two requests (or batches)
  -- logging the same ids in different orders would otherwise wait on each other's unique
  -- index entries and deadlock. Taken before any row lock, released at commit.
  IF jsonb_typeof(p -> 'external_id') = 'string' THEN
    PERFORM pg_advisory_xact_lock(hashtext('vehicles.rides'), hashtext(v_me::text));
  END IF;
  -- The bike row lock orders this ride against installs and removals on the bike (and
  -- against other rides); the owner is checked again under it (a transfer or a deletion
  -- may have committed meanwhile).
  SELECT b.user_id INTO v_owner FROM vehicles.user_bike b WHERE b.id = p_bike FOR NO KEY UPDATE;
  PERFORM vehicles.gear_check('bike', FOUND, v_owner);
  v_ride := vehicles.ride_insert(p_id, p_bike, p);
  v_body := vehicles.ride_answer(p_bike, v_ride.log_id, v_ride.created);
  IF p_key IS NOT NULL THEN
    UPDATE vehicles.idempotency_key
       SET response = v_body, status = CASE WHEN v_ride.created THEN 201 ELSE 200 END
     WHERE user_id = v_me AND key = p_key;
  END IF;
  RETURN jsonb_build_object('replayed', false, 'status', CASE WHEN v_ride.created THEN 201 ELSE 200 END,
                            'body', v_body);
END
$$;
REVOKE ALL ON FUNCTION vehicles.ride_log(uuid, uuid, jsonb, text, text)
  FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.ride_log(uuid, uuid, jsonb, text, text)
  TO authenticated, service_role;

-- Edits a ride in one transaction: its credits are taken back (ride_uncredit: only from
-- parts the caller owns now; a part given away keeps what it had) and given again by the
-- new fields to the parts on the bike at the new logged_at (ride_credit), and the bike's
-- totals move by the difference. p holds only the fields to change (ride_check). An empty
-- edit changes nothing. Returns {bike, log, affected_parts} in km.
CREATE OR REPLACE FUNCTION vehicles.ride_update(p_bike uuid, p_log uuid, p jsonb) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  v_old vehicles.kilometrage_log;
  v_new vehicles.kilometrage_log;
BEGIN
  PERFORM vehicles.gear_assert('bike', p_bike);
  IF NOT EXISTS (SELECT 1 FROM vehicles.kilometrage_log WHERE id = p_log AND bike_id = p_bike) THEN
    RAISE EXCEPTION USING ERRCODE = 'VS404', MESSAGE = 'Kilometrage entry not found';
  END IF;
  PERFORM vehicles.ride_validate(p, true);
  PERFORM vehicles.gear_lock('bike', p_bike);
  SELECT * INTO v_old FROM vehicles.kilometrage_log
   WHERE id = p_log AND bike_id = p_bike FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'VS404', MESSAGE = 'Kilometrage entry not found';
  END IF;
  IF p = '{}'::jsonb THEN
    RETURN vehicles.ride_answer(p_bike, p_log, true);
  END IF;
  v_new := v_old;
  v_new.distance := coalesce(round((p ->> 'distance')::numeric, 3), v_old.distance);
  v_new.logged_at := coalesce((p ->> 'logged_at')::timestamptz, v_old.logged_at);
  v_new.ride_type := coalesce((p ->> 'ride_type')::vehicles.ride_type, v_old.ride_type);
  IF p ? 'moving_time_s' THEN
    v_new.moving_time_s := (p ->> 'moving_time_s')::numeric::integer;
  END IF;
  IF p ? 'elevation_gain' THEN
    v_new.elevation_gain := round((p ->> 'elevation_gain')::numeric, 3);
  END IF;
  IF p ? 'notes' THEN
    v_new.notes := p ->> 'notes';
  END IF;
  PERFORM vehicles.ride_uncredit(p_log);
  UPDATE vehicles.kilometrage_log
     SET distance = v_new.distance, logged_at = v_new.logged_at, ride_type = v_new.ride_type,
         moving_time_s = v_new.moving_time_s, elevation_gain = v_new.elevation_gain,
         notes = v_new.notes
   WHERE id = p_log;
  UPDATE vehicles.user_bike
     SET total_kilometrage = total_kilometrage - v_old.distance + v_new.distance,
         total_moving_time_s = total_moving_time_s - coalesce(v_old.moving_time_s, 0)
                               + coalesce(v_new.moving_time_s, 0),
         updated_at = now()
   WHERE id = p_bike;
  PERFORM vehicles.ride_credit(p_log);
  RETURN vehicles.ride_answer(p_bike, p_log, true);
END
$$;
REVOKE ALL ON FUNCTION vehicles.ride_update(uuid, uuid, jsonb)
  FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.ride_update(uuid, uuid, jsonb) TO authenticated, service_role;

-- Deletes a ride: the bike's totals and ride count lose it, and so do the parts it credited
-- that the caller owns now; a part that changed owner since keeps its credit (ride_uncredit).
-- Its external_id is free again (the row goes).
CREATE OR REPLACE FUNCTION vehicles.ride_delete(p_bike uuid, p_log uuid) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  v_log vehicles.kilometrage_log;
BEGIN
  -- Another user's bike is refused before anything is locked.
  PERFORM vehicles.gear_assert('bike', p_bike);
  PERFORM vehicles.gear_lock('bike', p_bike);
  SELECT * INTO v_log FROM vehicles.kilometrage_log
   WHERE id = p_log AND bike_id = p_bike FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'VS404', MESSAGE = 'Kilometrage entry not found';
  END IF;
  PERFORM vehicles.ride_uncredit(p_log);
  UPDATE vehicles.user_bike SET total_kilometrage = total_kilometrage - v_log.distance,
                                total_moving_time_s = total_moving_time_s
                                                      - coalesce(v_log.moving_time_s, 0),
                                ride_count = ride_count - 1, updated_at = now()
   WHERE id = p_bike;
  DELETE FROM vehicles.kilometrage_log WHERE id = p_log;
  RETURN p_log;
END
$$;
REVOKE ALL ON FUNCTION vehicles.ride_delete(uuid, uuid) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.ride_delete(uuid, uuid) TO authenticated, service_role;
