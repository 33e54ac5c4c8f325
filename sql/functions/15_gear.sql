-- What bikes and parts share: the ownership check and the patch of their common columns.

-- The answer for a bike or part looked up: VS404 when it was not found, VS403 when it is not
-- the caller's. Called by the two security-definer functions below, which see every row.
CREATE OR REPLACE FUNCTION vehicles.gear_check(p_type vehicles.entity_type, p_found boolean,
                                               p_owner uuid)
RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = ''
AS $$
BEGIN
  IF NOT p_found THEN
    RAISE EXCEPTION USING ERRCODE = 'VS404', MESSAGE = initcap(p_type::text) || ' not found';
  END IF;
  IF p_owner IS DISTINCT FROM auth.uid() THEN
    RAISE EXCEPTION USING ERRCODE = 'VS403',
      MESSAGE = 'You do not have permission to access this ' || p_type::text;
  END IF;
  RETURN true;
END
$$;
REVOKE ALL ON FUNCTION vehicles.gear_check(vehicles.entity_type, boolean, uuid)
  FROM PUBLIC, anon, authenticated, service_role;

-- 404/403 for a bike or part (vehicles.gear_check). Security definer: it must see other
-- users' rows to tell 403 from 404.
CREATE OR REPLACE FUNCTION vehicles.gear_assert(p_type vehicles.entity_type, p_id uuid)
RETURNS boolean
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
  RETURN vehicles.gear_check(p_type, FOUND, v_owner);
END
$$;
REVOKE ALL ON FUNCTION vehicles.gear_assert(vehicles.entity_type, uuid)
  FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.gear_assert(vehicles.entity_type, uuid)
  TO authenticated, service_role;

-- Locks a bike or part row (FOR UPDATE) and then answers as gear_assert: a row deleted or
-- given away while we waited for the lock says so. Security definer for the same reason.
CREATE OR REPLACE FUNCTION vehicles.gear_lock(p_type vehicles.entity_type, p_id uuid)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  v_owner uuid;
BEGIN
  IF p_type = 'bike' THEN
    SELECT user_id INTO v_owner FROM vehicles.user_bike WHERE id = p_id FOR UPDATE;
  ELSE
    SELECT user_id INTO v_owner FROM vehicles.user_part WHERE id = p_id FOR UPDATE;
  END IF;
  PERFORM vehicles.gear_check(p_type, FOUND, v_owner);
END
$$;
REVOKE ALL ON FUNCTION vehicles.gear_lock(vehicles.entity_type, uuid)
  FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.gear_lock(vehicles.entity_type, uuid)
  TO authenticated, service_role;

-- Inserts a validated bike or part as the caller's (RLS holds it to that): they share their
-- columns, only the table and the type enum differ. The total starts at the initial value.
CREATE OR REPLACE FUNCTION vehicles.gear_create(p_kind vehicles.entity_type, p_id uuid, p jsonb)
RETURNS uuid
LANGUAGE plpgsql
AS $$
BEGIN
  -- Only identifiers chosen here are formatted in; every value is a parameter.
  EXECUTE format($sql$
    INSERT INTO vehicles.%I (id, user_id, name, type, brand, model, purchase_date,
                             initial_kilometrage, total_kilometrage, metadata)
    SELECT $2, auth.uid(), $1 ->> 'name', ($1 ->> 'type')::vehicles.%I, $1 ->> 'brand',
           $1 ->> 'model', ($1 ->> 'purchase_date')::date,
           coalesce(($1 ->> 'initial_kilometrage')::numeric, 0),
           coalesce(($1 ->> 'initial_kilometrage')::numeric, 0),
           coalesce($1 -> 'metadata', '{}'::jsonb)$sql$,
    CASE p_kind WHEN 'bike' THEN 'user_bike' ELSE 'user_part' END,
    CASE p_kind WHEN 'bike' THEN 'bike_type' ELSE 'part_type' END)
  USING p, p_id;
  RETURN p_id;
END
$$;
REVOKE ALL ON FUNCTION vehicles.gear_create(vehicles.entity_type, uuid, jsonb)
  FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.gear_create(vehicles.entity_type, uuid, jsonb)
  TO authenticated, service_role;

-- Applies a validated patch (keys present = fields to set) to a bike or a part: they share
-- their columns, only the table and the type enum differ. A new initial kilometrage moves
-- the total by the same amount, so total = initial + rides (or credits) holds.
CREATE OR REPLACE FUNCTION vehicles.gear_update(p_kind vehicles.entity_type, p_id uuid, p jsonb)
RETURNS uuid
LANGUAGE plpgsql
AS $$
DECLARE
  v_meta jsonb;
  v_max integer := vehicles.metadata_max_bytes();
BEGIN
  PERFORM vehicles.gear_assert(p_kind, p_id);
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
                      THEN vehicles.metadata_merge(metadata, $1 -> 'metadata') ELSE metadata END,
      -- An empty patch changes nothing, not even updated_at.
      updated_at = CASE WHEN $1 = '{}'::jsonb THEN updated_at ELSE now() END
    WHERE id = $2
    RETURNING metadata$sql$,
    CASE p_kind WHEN 'bike' THEN 'user_bike' ELSE 'user_part' END,
    CASE p_kind WHEN 'bike' THEN 'bike_type' ELSE 'part_type' END)
  INTO v_meta USING p, p_id;
  IF octet_length(v_meta::text) > v_max THEN
    RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = 'metadata',
      DETAIL = format('must be at most %s bytes of JSON after the merge', v_max);
  END IF;
  RETURN p_id;
END
$$;
REVOKE ALL ON FUNCTION vehicles.gear_update(vehicles.entity_type, uuid, jsonb)
  FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.gear_update(vehicles.entity_type, uuid, jsonb)
  TO authenticated, service_role;
