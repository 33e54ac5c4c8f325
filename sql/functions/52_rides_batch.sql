-- Batch ingest of rides (POST /api/rides/batch): up to 200 rides from a recorder, each with
-- its (source, external_id), each answered on its own in one transaction.
--
-- No subtransaction per ride (PostgreSQL slows down past 64 in one transaction): everything
-- that can refuse a ride is decided before it is written (its fields by ride_check, its
-- bike's owner, its external_id), so nothing written is ever rolled back. A batch first
-- takes the caller's ride lock (the transaction advisory lock ride_log takes for a ride with
-- an external_id), so the caller's batches and keyed rides run one at a time: none can log
-- an external_id between our look-up and our insert, and two of them cannot deadlock on each
-- other's unique index entries. Then the caller's bikes are locked once, in id order (the
-- global order), before any ride is written, so a batch and an install cannot deadlock.

-- {"error", "message", "details"?} as the worker answers errors. Internal.
CREATE OR REPLACE FUNCTION vehicles.ride_batch_error(p_code text, p_message text, p_details jsonb)
RETURNS jsonb
LANGUAGE sql IMMUTABLE SET search_path = ''
AS $$
  SELECT jsonb_build_object('error', p_code, 'message', p_message)
         || CASE WHEN p_details IS NULL THEN '{}'::jsonb
                 ELSE jsonb_build_object('details', p_details) END
$$;
REVOKE ALL ON FUNCTION vehicles.ride_batch_error(text, text, jsonb)
  FROM PUBLIC, anon, authenticated, service_role;

-- Why one ride of a batch cannot be logged (its error object), or NULL when it can: the
-- bike id's form, the fields (source and external_id required), the bike's existence and
-- owner (the caller's own external_id on a bike no longer theirs is a 409, as in ride_log).
-- Internal.
CREATE OR REPLACE FUNCTION vehicles.ride_batch_refusal(p_bike text, p jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = ''
AS $$
DECLARE
  v_bad jsonb := coalesce(vehicles.ride_check(p, false), '{}'::jsonb);
  v_owner uuid;
BEGIN
  IF p_bike IS NULL OR p_bike !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
    v_bad := v_bad || '{"bike_id": "must be a UUID"}';
  END IF;
  IF jsonb_typeof(p) = 'object' AND coalesce(jsonb_typeof(p -> 'source'), 'null') = 'null' THEN
    v_bad := v_bad || '{"source": "is required"}';
  END IF;
  IF jsonb_typeof(p) = 'object' AND coalesce(jsonb_typeof(p -> 'external_id'), 'null') = 'null' THEN
    v_bad := v_bad || '{"external_id": "is required"}';
  END IF;
  IF v_bad <> '{}'::jsonb THEN
    RETURN vehicles.ride_batch_error('validation_error', 'Invalid input', v_bad);
  END IF;
  SELECT b.user_id INTO v_owner FROM vehicles.user_bike b WHERE b.id = p_bike::uuid;
  IF NOT FOUND THEN
    RETURN vehicles.ride_batch_error('not_found', 'Bike not found', '{"bike_id": "not found"}');
  END IF;
  IF v_owner IS DISTINCT FROM auth.uid() THEN
    IF EXISTS (SELECT 1 FROM vehicles.kilometrage_log l
                WHERE l.user_id = auth.uid() AND l.source = p ->> 'source'
                  AND l.external_id = p ->> 'external_id' AND l.bike_id = p_bike::uuid) THEN
      RETURN vehicles.ride_batch_error('conflict',
        'external_id was already logged, on a bike you no longer own', NULL);
    END IF;
    RETURN vehicles.ride_batch_error('forbidden', 'You do not have permission to access this bike',
                                     '{"bike_id": "belongs to another user"}');
  END IF;
  RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION vehicles.ride_batch_refusal(text, jsonb)
  FROM PUBLIC, anon, authenticated, service_role;

-- p_rides: [{"index"?, "bike_id", "ride": {distance (km), logged_at?, moving_time_s?,
-- elevation_gain? (m), ride_type?, source, external_id, notes?}}, ...], 1 to 200; index
-- defaults to the position (from 0). Returns [{"index", "status": "created" | "unchanged" |
-- "error", "log"? (km), "error"?}, ...] in the order given.
CREATE OR REPLACE FUNCTION vehicles.ride_batch(p_rides jsonb) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  v_me uuid := auth.uid();
  v_out jsonb := '[]'::jsonb;
  r record;
  v_err jsonb;
  v_old vehicles.kilometrage_log;
  v_ride record;
  v_why text;
  v_index integer;
BEGIN
  IF jsonb_typeof(p_rides) IS DISTINCT FROM 'array'
     OR jsonb_array_length(p_rides) NOT BETWEEN 1 AND 200 THEN
    RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = 'rides',
      DETAIL = 'must be an array of 1 to 200 rides';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('vehicles.rides'), hashtext(v_me::text));
  -- The caller's bikes of the batch, locked once in id order before anything is written.
  PERFORM 1 FROM vehicles.user_bike b
   WHERE b.user_id = v_me
     AND b.id::text IN (SELECT lower(e ->> 'bike_id') FROM jsonb_array_elements(p_rides) e)
   ORDER BY b.id FOR NO KEY UPDATE;
  FOR r IN SELECT e, o FROM jsonb_array_elements(p_rides) WITH ORDINALITY AS x(e, o) ORDER BY o LOOP
    v_index := CASE WHEN jsonb_typeof(r.e -> 'index') = 'number'
                         AND (r.e ->> 'index') ~ '^[0-9]{1,9}$'
                    THEN (r.e ->> 'index')::integer ELSE r.o::integer - 1 END;
    v_err := vehicles.ride_batch_refusal(r.e ->> 'bike_id', r.e -> 'ride');
    IF v_err IS NULL THEN
      SELECT * INTO v_old FROM vehicles.kilometrage_log l
       WHERE l.user_id = v_me AND l.source = r.e -> 'ride' ->> 'source'
         AND l.external_id = r.e -> 'ride' ->> 'external_id';
      IF FOUND THEN
        v_why := vehicles.ride_differs(v_old, (r.e ->> 'bike_id')::uuid, r.e -> 'ride');
        IF v_why IS NOT NULL THEN
          v_err := vehicles.ride_batch_error('conflict', v_why, NULL);
        ELSE
          v_out := v_out || jsonb_build_array(jsonb_build_object('index', v_index,
            'status', 'unchanged', 'log', to_jsonb(v_old)));
          CONTINUE;
        END IF;
      END IF;
    END IF;
    IF v_err IS NOT NULL THEN
      v_out := v_out || jsonb_build_array(jsonb_build_object('index', v_index, 'status', 'error',
                                                             'error', v_err));
      CONTINUE;
    END IF;
    v_ride := vehicles.ride_insert(gen_random_uuid(), (r.e ->> 'bike_id')::uuid, r.e -> 'ride');
    v_out := v_out || jsonb_build_array(jsonb_build_object('index', v_index,
      'status', CASE WHEN v_ride.created THEN 'created' ELSE 'unchanged' END,
      'log', (SELECT to_jsonb(l) FROM vehicles.kilometrage_log l WHERE l.id = v_ride.log_id)));
  END LOOP;
  RETURN v_out;
END
$$;
REVOKE ALL ON FUNCTION vehicles.ride_batch(jsonb) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.ride_batch(jsonb) TO authenticated, service_role;
