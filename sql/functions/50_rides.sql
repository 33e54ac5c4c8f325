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
      INSERT INTO vehicles.kilometrage_credit (log_id, part_id, distance)
      SELECT p_log, p.id, v_log.distance
        FROM vehicles.part_installation i JOIN vehicles.user_part p ON p.id = i.part_id
       WHERE i.bike_id = v_log.bike_id AND i.installed_at <= v_log.logged_at
         AND (i.removed_at IS NULL OR i.removed_at > v_log.logged_at) AND p.user_id = v_me
         AND NOT EXISTS (SELECT 1 FROM vehicles.kilometrage_credit k
                          WHERE k.log_id = p_log AND k.part_id = i.part_id)
      RETURNING part_id
    )
    UPDATE vehicles.user_part p SET total_kilometrage = p.total_kilometrage + v_log.distance,
                                    updated_at = now()
      FROM c WHERE p.id = c.part_id;
  END IF;
  IF v_theirs IS NOT NULL THEN
    INSERT INTO vehicles.kilometrage_withheld (log_id, part_id, distance)
    SELECT p_log, t, v_log.distance FROM unnest(v_theirs) t;
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
    RETURNING c.part_id, c.distance
  )
  UPDATE vehicles.user_part p
     SET total_kilometrage = p.total_kilometrage - g.distance, updated_at = now()
    FROM gone g
   WHERE p.id = g.part_id;
  UPDATE vehicles.kilometrage_credit SET log_id = NULL WHERE log_id = p_log;
  DELETE FROM vehicles.kilometrage_withheld WHERE log_id = p_log;
END
$$;
REVOKE ALL ON FUNCTION vehicles.ride_uncredit(uuid) FROM PUBLIC, anon, authenticated, service_role;

-- The fields of a ride, checked as the worker checks them (src/rides.c, include/rules.h):
-- anyone with SQL access as authenticated can call ride_log without the worker in front.
-- Returns the distance as stored (km, 3 decimals). A violation is VS400 with MESSAGE the
-- field and DETAIL the problem (400 with details.<field>). Internal.
CREATE OR REPLACE FUNCTION vehicles.ride_validate(p_distance numeric, p_at timestamptz,
                                                  p_notes text, p_key text)
RETURNS numeric
LANGUAGE plpgsql STABLE SET search_path = ''
AS $$
DECLARE
  v_km numeric := round(p_distance, 3);
BEGIN
  IF v_km IS NULL OR v_km <= 0 OR v_km > 100000 THEN
    RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = 'distance',
      DETAIL = 'must be a number greater than 0 and at most 100000 km';
  END IF;
  -- The clock-skew allowance of api-notes: at most 5 minutes ahead.
  IF p_at > now() + interval '5 minutes' THEN
    RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = 'logged_at',
      DETAIL = 'must not be in the future';
  END IF;
  IF char_length(p_notes) > 2000 THEN
    RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = 'notes',
      DETAIL = 'must be at most 2000 characters';
  END IF;
  IF p_key IS NOT NULL AND p_key !~ '^[ -~]{1,255}$' THEN
    RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = 'Idempotency-Key',
      DETAIL = 'must be 1 to 255 printable ASCII characters';
  END IF;
  RETURN v_km;
END
$$;
REVOKE ALL ON FUNCTION vehicles.ride_validate(numeric, timestamptz, text, text)
  FROM PUBLIC, anon, authenticated, service_role;

-- Logs a ride in one transaction: the bike's total and ride count, the log entry, and its
-- credits (ride_credit). With an Idempotency-Key the first answer is kept and a retry gets
-- it back without changing anything. Returns {"replayed": bool, "body": {bike, log,
-- affected_parts}} with distances in km; affected_parts are the parts the ride credited.
CREATE OR REPLACE FUNCTION vehicles.ride_log(p_id uuid, p_bike uuid, p_distance numeric,
                                             p_at timestamptz, p_notes text, p_key text,
                                             p_request text)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  v_me uuid := auth.uid();
  v_at timestamptz := coalesce(p_at, now());
  v_km numeric;
  v_hash text := md5(coalesce(p_request, ''));
  v_prev vehicles.idempotency_key;
  v_body jsonb;
BEGIN
  -- api-notes' order: the bike (404/403), then the body (400), then the state (409).
  PERFORM vehicles.gear_assert('bike', p_bike);
  v_km := vehicles.ride_validate(p_distance, v_at, p_notes, p_key);
  IF p_key IS NOT NULL THEN
    -- Keys live at least 24 hours; now and then a keyed ride clears the caller's keys
    -- older than 48, so the table cleans itself without a scheduler.
    IF random() < 0.01 THEN
      DELETE FROM vehicles.idempotency_key
       WHERE user_id = v_me AND created_at < now() - interval '48 hours';
    END IF;
    -- A concurrent retry with the same key waits here for the first to commit.
    INSERT INTO vehicles.idempotency_key (user_id, key, request_hash, response)
    VALUES (v_me, p_key, v_hash, 'null'::jsonb)
    ON CONFLICT (user_id, key) DO NOTHING;
    IF NOT FOUND THEN
      SELECT * INTO v_prev FROM vehicles.idempotency_key
       WHERE user_id = v_me AND key = p_key FOR UPDATE;
      IF v_prev.created_at < now() - interval '24 hours' THEN
        UPDATE vehicles.idempotency_key
           SET request_hash = v_hash, response = 'null'::jsonb, created_at = now()
         WHERE user_id = v_me AND key = p_key;
      ELSIF v_prev.request_hash <> v_hash THEN
        RAISE EXCEPTION USING ERRCODE = 'VS409',
          MESSAGE = 'Idempotency-Key was already used for a different request';
      ELSE
        RETURN jsonb_build_object('replayed', true, 'body', v_prev.response);
      END IF;
    END IF;
  END IF;

  -- The bike row lock orders this ride against installs and removals on the bike (and
  -- against other rides: ride_count, the history's total, counts each once); the owner is
  -- checked again under it (a transfer may have committed meanwhile).
  UPDATE vehicles.user_bike SET total_kilometrage = total_kilometrage + v_km,
                                ride_count = ride_count + 1, updated_at = now()
   WHERE id = p_bike AND user_id = v_me;
  IF NOT FOUND THEN
    -- Deleted or transferred since our check: say which.
    PERFORM vehicles.gear_assert('bike', p_bike);
    RAISE EXCEPTION USING ERRCODE = 'VS404', MESSAGE = 'Bike not found';
  END IF;
  INSERT INTO vehicles.kilometrage_log (id, bike_id, user_id, distance, logged_at, notes)
  VALUES (p_id, p_bike, v_me, v_km, v_at, p_notes);

  PERFORM vehicles.ride_credit(p_id);

  v_body := jsonb_build_object(
    'bike', (SELECT to_jsonb(b) FROM vehicles.bike_v b WHERE b.id = p_bike),
    'log', (SELECT to_jsonb(l) FROM vehicles.kilometrage_log l WHERE l.id = p_id),
    'affected_parts', coalesce((
      SELECT jsonb_agg(to_jsonb(p) ORDER BY p.name, p.id) FROM vehicles.part_v p
       WHERE p.id IN (SELECT c.part_id FROM vehicles.kilometrage_credit c WHERE c.log_id = p_id)
         AND p.user_id = v_me),
      '[]'::jsonb));
  IF p_key IS NOT NULL THEN
    UPDATE vehicles.idempotency_key SET response = v_body
     WHERE user_id = v_me AND key = p_key;
  END IF;
  RETURN jsonb_build_object('replayed', false, 'body', v_body);
END
$$;
REVOKE ALL ON FUNCTION vehicles.ride_log(uuid, uuid, numeric, timestamptz, text, text, text)
  FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.ride_log(uuid, uuid, numeric, timestamptz, text, text, text)
  TO authenticated, service_role;

-- Deletes a ride: the bike's total and ride count lose it, and so do the parts it credited
-- that the caller owns now; a part that changed owner since keeps its credit (ride_uncredit).
CREATE OR REPLACE FUNCTION vehicles.ride_delete(p_bike uuid, p_log uuid) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  v_distance numeric;
BEGIN
  -- Another user's bike is refused before anything is locked.
  PERFORM vehicles.gear_assert('bike', p_bike);
  PERFORM vehicles.gear_lock('bike', p_bike);
  SELECT distance INTO v_distance FROM vehicles.kilometrage_log
   WHERE id = p_log AND bike_id = p_bike FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'VS404', MESSAGE = 'Kilometrage entry not found';
  END IF;
  PERFORM vehicles.ride_uncredit(p_log);
  UPDATE vehicles.user_bike SET total_kilometrage = total_kilometrage - v_distance,
                                ride_count = ride_count - 1, updated_at = now()
   WHERE id = p_bike;
  DELETE FROM vehicles.kilometrage_log WHERE id = p_log;
  RETURN p_log;
END
$$;
REVOKE ALL ON FUNCTION vehicles.ride_delete(uuid, uuid) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.ride_delete(uuid, uuid) TO authenticated, service_role;
