-- Functions behind the bike routes. They run as the caller (security invoker, RLS in force)
-- except vehicles.assert_owner, which must see other users' rows to tell 403 from 404.

-- Raises VS404 when the bike or part does not exist, VS403 when it is not the caller's.
CREATE FUNCTION vehicles.assert_owner(p_type vehicles.entity_type, p_id uuid) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  v_owner uuid;
BEGIN
  IF p_type = 'bike' THEN
    SELECT user_id INTO v_owner FROM vehicles.user_bike WHERE id = p_id;
  ELSE
    SELECT user_id INTO v_owner FROM vehicles.user_part WHERE id = p_id;
  END IF;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'VS404', MESSAGE = initcap(p_type::text) || ' not found';
  END IF;
  IF v_owner IS DISTINCT FROM auth.uid() THEN
    RAISE EXCEPTION USING ERRCODE = 'VS403',
      MESSAGE = 'You do not have permission to access this ' || p_type::text;
  END IF;
  RETURN true;
END
$$;
REVOKE ALL ON FUNCTION vehicles.assert_owner(vehicles.entity_type, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION vehicles.assert_owner(vehicles.entity_type, uuid)
  TO authenticated, service_role;

-- RFC 7396 JSON merge patch: null removes a key, objects merge recursively.
CREATE FUNCTION vehicles.jsonb_merge_patch(target jsonb, patch jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
  k text;
  v jsonb;
  result jsonb;
BEGIN
  IF patch IS NULL OR jsonb_typeof(patch) <> 'object' THEN
    RETURN patch;
  END IF;
  result := CASE WHEN jsonb_typeof(target) = 'object' THEN target ELSE '{}'::jsonb END;
  FOR k, v IN SELECT * FROM jsonb_each(patch) LOOP
    IF jsonb_typeof(v) = 'null' THEN
      result := result - k;
    ELSE
      result := jsonb_set(result, ARRAY[k], vehicles.jsonb_merge_patch(result -> k, v));
    END IF;
  END LOOP;
  RETURN result;
END
$$;

-- Applies a validated patch (keys present = fields to set) to a bike or a part: they share
-- their columns, only the table and the type enum differ. A new initial kilometrage moves
-- the total by the same amount, so total = initial + rides (or credits) holds.
CREATE FUNCTION vehicles.gear_update(p_kind vehicles.entity_type, p_id uuid, p jsonb) RETURNS uuid
LANGUAGE plpgsql
AS $$
DECLARE
  v_meta jsonb;
BEGIN
  PERFORM vehicles.assert_owner(p_kind, p_id);
  -- Only identifiers chosen here are formatted in; every value is a parameter.
  EXECUTE format($sql$
    UPDATE vehicles.%I SET
      name = CASE WHEN $1 ? 'name' THEN $1 ->> 'name' ELSE name END,
      type = CASE WHEN $1 ? 'type' THEN ($1 ->> 'type')::vehicles.%I ELSE type END,
      brand = CASE WHEN $1 ? 'brand' THEN $1 ->> 'brand' ELSE brand END,
      model = CASE WHEN $1 ? 'model' THEN $1 ->> 'model' ELSE model END,
      purchase_date = CASE WHEN $1 ? 'purchase_date' THEN ($1 ->> 'purchase_date')::date
                           ELSE purchase_date END,
      total_kilometrage = total_kilometrage
        + CASE WHEN $1 ? 'initial_kilometrage'
               THEN ($1 ->> 'initial_kilometrage')::numeric - initial_kilometrage ELSE 0 END,
      initial_kilometrage = CASE WHEN $1 ? 'initial_kilometrage'
                                 THEN ($1 ->> 'initial_kilometrage')::numeric
                                 ELSE initial_kilometrage END,
      metadata = CASE WHEN $1 ? 'metadata'
                      THEN vehicles.jsonb_merge_patch(metadata, $1 -> 'metadata') ELSE metadata END,
      -- An empty patch changes nothing, not even updated_at.
      updated_at = CASE WHEN $1 = '{}'::jsonb THEN updated_at ELSE now() END
    WHERE id = $2
    RETURNING metadata$sql$,
    CASE p_kind WHEN 'bike' THEN 'user_bike' ELSE 'user_part' END,
    CASE p_kind WHEN 'bike' THEN 'bike_type' ELSE 'part_type' END)
  INTO v_meta USING p, p_id;
  IF octet_length(v_meta::text) > 16384 THEN
    RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = 'metadata',
      DETAIL = 'must be at most 16384 bytes of JSON after the merge';
  END IF;
  RETURN p_id;
END
$$;

-- Deleting a bike never deletes parts: their open installations are closed now and they
-- keep their kilometrage. Its rides and bike-only maintenance go with it; records that also
-- name a part stay with the part. The active-bike reference clears by its foreign key.
CREATE FUNCTION vehicles.bike_delete(p_id uuid) RETURNS uuid
LANGUAGE plpgsql
AS $$
BEGIN
  PERFORM vehicles.assert_owner('bike', p_id);
  -- Lock first: installs, rides and transfers on this bike wait for us.
  PERFORM 1 FROM vehicles.user_bike WHERE id = p_id FOR UPDATE;
  UPDATE vehicles.part_installation SET removed_at = greatest(now(), installed_at)
   WHERE bike_id = p_id AND removed_at IS NULL;
  DELETE FROM vehicles.maintenance_record WHERE bike_id = p_id AND part_id IS NULL;
  DELETE FROM vehicles.user_bike WHERE id = p_id;
  RETURN p_id;
END
$$;

CREATE FUNCTION vehicles.bike_set_active(p_id uuid) RETURNS uuid
LANGUAGE plpgsql
AS $$
BEGIN
  PERFORM vehicles.assert_owner('bike', p_id);
  -- One row per user, so there is only ever one active bike.
  INSERT INTO public.user_settings AS s (user_id, active_bike_id)
  VALUES (auth.uid(), p_id)
  ON CONFLICT (user_id) DO UPDATE SET active_bike_id = EXCLUDED.active_bike_id, updated_at = now();
  RETURN p_id;
END
$$;

CREATE FUNCTION vehicles.bike_deactivate(p_id uuid) RETURNS uuid
LANGUAGE plpgsql
AS $$
BEGIN
  PERFORM vehicles.assert_owner('bike', p_id);
  UPDATE public.user_settings SET active_bike_id = NULL, updated_at = now()
   WHERE user_id = auth.uid() AND active_bike_id = p_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'VS409', MESSAGE = 'bike is not the active bike';
  END IF;
  RETURN p_id;
END
$$;

GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA vehicles TO authenticated, service_role;
REVOKE ALL ON FUNCTION vehicles.assert_owner(vehicles.entity_type, uuid) FROM anon;
