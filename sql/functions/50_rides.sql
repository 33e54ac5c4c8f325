-- Rides (the kilometrage log): logging one, its credits to parts, taking one back.

-- Credits a ride to every part that was on its bike at logged_at (installed at or before
-- it, not removed by then), whoever owns the part now: a part the seller took off before a
-- sale still rode the kilometres the buyer backdates to that time. Security definer for that
-- reason only; the caller must own the ride's bike. Idempotent (one credit per ride and part).
CREATE OR REPLACE FUNCTION vehicles.ride_credit(p_log uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  v_log vehicles.kilometrage_log;
BEGIN
  SELECT l.* INTO v_log FROM vehicles.kilometrage_log l
    JOIN vehicles.user_bike b ON b.id = l.bike_id AND b.user_id = auth.uid()
   WHERE l.id = p_log;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'VS404', MESSAGE = 'Kilometrage entry not found';
  END IF;
  WITH on_bike AS (
    SELECT i.part_id FROM vehicles.part_installation i
     WHERE i.bike_id = v_log.bike_id AND i.installed_at <= v_log.logged_at
       AND (i.removed_at IS NULL OR i.removed_at > v_log.logged_at)
     ORDER BY i.part_id -- lock parts in one order
  ), credited AS (
    INSERT INTO vehicles.kilometrage_credit (log_id, part_id, distance)
    SELECT p_log, part_id, v_log.distance FROM on_bike
    ON CONFLICT DO NOTHING
    RETURNING part_id
  )
  UPDATE vehicles.user_part p
     SET total_kilometrage = total_kilometrage + v_log.distance, updated_at = now()
    FROM credited c
   WHERE p.id = c.part_id;
END
$$;
REVOKE ALL ON FUNCTION vehicles.ride_credit(uuid) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.ride_credit(uuid) TO authenticated, service_role;

-- Logs a ride in one transaction: the bike's total, the log entry, a credit to every part
-- that was on the bike at p_at, and those parts' totals. With an Idempotency-Key the first
-- answer is kept and a retry gets it back without changing anything. Returns
-- {"replayed": bool, "body": {bike, log, affected_parts}} with distances in km.
CREATE OR REPLACE FUNCTION vehicles.ride_log(p_id uuid, p_bike uuid, p_distance numeric,
                                             p_at timestamptz, p_notes text, p_key text,
                                             p_request text)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
  v_at timestamptz := coalesce(p_at, now());
  v_hash text := md5(coalesce(p_request, ''));
  v_prev vehicles.idempotency_key;
  v_body jsonb;
BEGIN
  PERFORM vehicles.gear_assert('bike', p_bike);
  IF p_key IS NOT NULL THEN
    -- Keys live at least 24 hours; now and then a keyed ride clears the caller's keys
    -- older than 48, so the table cleans itself without a scheduler.
    IF random() < 0.01 THEN
      DELETE FROM vehicles.idempotency_key
       WHERE user_id = auth.uid() AND created_at < now() - interval '48 hours';
    END IF;
    -- A concurrent retry with the same key waits here for the first to commit.
    INSERT INTO vehicles.idempotency_key (user_id, key, request_hash, response)
    VALUES (auth.uid(), p_key, v_hash, 'null'::jsonb)
    ON CONFLICT (user_id, key) DO NOTHING;
    IF NOT FOUND THEN
      SELECT * INTO v_prev FROM vehicles.idempotency_key
       WHERE user_id = auth.uid() AND key = p_key FOR UPDATE;
      IF v_prev.created_at < now() - interval '24 hours' THEN
        UPDATE vehicles.idempotency_key
           SET request_hash = v_hash, response = 'null'::jsonb, created_at = now()
         WHERE user_id = auth.uid() AND key = p_key;
      ELSIF v_prev.request_hash <> v_hash THEN
        RAISE EXCEPTION USING ERRCODE = 'VS409',
          MESSAGE = 'Idempotency-Key was already used for a different request';
      ELSE
        RETURN jsonb_build_object('replayed', true, 'body', v_prev.response);
      END IF;
    END IF;
  END IF;

  -- The bike row lock orders this ride against installs and removals on the bike.
  UPDATE vehicles.user_bike SET total_kilometrage = total_kilometrage + p_distance,
                                updated_at = now()
   WHERE id = p_bike;
  IF NOT FOUND THEN
    -- Deleted or transferred since our check: say which.
    PERFORM vehicles.gear_assert('bike', p_bike);
    RAISE EXCEPTION USING ERRCODE = 'VS404', MESSAGE = 'Bike not found';
  END IF;
  INSERT INTO vehicles.kilometrage_log (id, bike_id, user_id, distance, logged_at, notes)
  VALUES (p_id, p_bike, auth.uid(), p_distance, v_at, p_notes);

  PERFORM vehicles.ride_credit(p_id);

  v_body := jsonb_build_object(
    'bike', (SELECT to_jsonb(b) FROM vehicles.bike_v b WHERE b.id = p_bike),
    'log', (SELECT to_jsonb(l) FROM vehicles.kilometrage_log l WHERE l.id = p_id),
    'affected_parts', coalesce((
      SELECT jsonb_agg(to_jsonb(p) ORDER BY p.name, p.id) FROM vehicles.part_v p
       WHERE p.id IN (SELECT part_id FROM vehicles.kilometrage_credit WHERE log_id = p_id)),
      '[]'::jsonb));
  IF p_key IS NOT NULL THEN
    UPDATE vehicles.idempotency_key SET response = v_body
     WHERE user_id = auth.uid() AND key = p_key;
  END IF;
  RETURN jsonb_build_object('replayed', false, 'body', v_body);
END
$$;
REVOKE ALL ON FUNCTION vehicles.ride_log(uuid, uuid, numeric, timestamptz, text, text, text)
  FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.ride_log(uuid, uuid, numeric, timestamptz, text, text, text)
  TO authenticated, service_role;

-- Takes a ride back from the bike and from exactly the parts it was credited to. Security
-- definer because a credited part may since have changed owner (RLS would hide its credit);
-- ownership of the bike is checked explicitly first.
CREATE OR REPLACE FUNCTION vehicles.ride_delete(p_bike uuid, p_log uuid) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  v_distance numeric;
BEGIN
  PERFORM vehicles.gear_assert('bike', p_bike);
  PERFORM 1 FROM vehicles.user_bike WHERE id = p_bike FOR UPDATE;
  SELECT distance INTO v_distance FROM vehicles.kilometrage_log
   WHERE id = p_log AND bike_id = p_bike FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'VS404', MESSAGE = 'Kilometrage entry not found';
  END IF;
  WITH gone AS (
    DELETE FROM vehicles.kilometrage_credit WHERE log_id = p_log RETURNING part_id, distance
  )
  UPDATE vehicles.user_part p
     SET total_kilometrage = p.total_kilometrage - g.distance, updated_at = now()
    FROM gone g
   WHERE p.id = g.part_id;
  UPDATE vehicles.user_bike SET total_kilometrage = total_kilometrage - v_distance,
                                updated_at = now()
   WHERE id = p_bike;
  DELETE FROM vehicles.kilometrage_log WHERE id = p_log;
  RETURN p_log;
END
$$;
REVOKE ALL ON FUNCTION vehicles.ride_delete(uuid, uuid) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.ride_delete(uuid, uuid) TO authenticated, service_role;
