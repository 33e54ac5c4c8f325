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
  IF p_type IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = 'type', DETAIL = 'must be bike or part';
  ELSIF p_type = 'bike' THEN
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
-- given away while we waited for the lock says so. Another user's row is refused before it
-- is locked, so nobody can hold (or wait in line for) a lock on a row that is not theirs.
-- Security definer for the same reason as gear_assert.
CREATE OR REPLACE FUNCTION vehicles.gear_lock(p_type vehicles.entity_type, p_id uuid)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  v_owner uuid;
BEGIN
  PERFORM vehicles.gear_assert(p_type, p_id);
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

-- Whether y-m-d is a calendar date from 1900 on (the worker's valid_is_date).
CREATE OR REPLACE FUNCTION vehicles.gear_is_date(y integer, m integer, d integer)
RETURNS boolean
LANGUAGE sql IMMUTABLE SET search_path = ''
AS $$
  SELECT CASE WHEN y >= 1900 AND m BETWEEN 1 AND 12 AND d >= 1
              THEN d <= extract(day FROM make_date(y, m, 1) + interval '1 month'
                                         - interval '1 day')
              ELSE false END
$$;
REVOKE ALL ON FUNCTION vehicles.gear_is_date(integer, integer, integer)
  FROM PUBLIC, anon, authenticated, service_role;

-- A timestamp of a request as the worker's valid_parse_timestamp takes it: RFC 3339 with an
-- offset (hours to 23, seconds to 59, 1 to 9 decimals, an offset of at most 15:59, a calendar
-- date from 1900 on); NULL for anything else ('epoch', '-infinity', a date alone). Shared by
-- every function that takes a time from a request (ride_check, maintenance_time). Internal.
CREATE OR REPLACE FUNCTION vehicles.gear_time(p jsonb) RETURNS timestamptz
LANGUAGE plpgsql STABLE SET search_path = ''
AS $$
DECLARE
  s text := p #>> '{}';
BEGIN
  IF jsonb_typeof(p) IS DISTINCT FROM 'string' OR s !~ ('^[0-9]{4}-[0-9]{2}-[0-9]{2}'
       '[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?'
       '([Zz]|[+-](0[0-9]|1[0-5]):[0-5][0-9])$')
     OR NOT vehicles.gear_is_date(substr(s, 1, 4)::integer, substr(s, 6, 2)::integer,
                                  substr(s, 9, 2)::integer) THEN
    RETURN NULL;
  END IF;
  RETURN s::timestamptz;
END
$$;
REVOKE ALL ON FUNCTION vehicles.gear_time(jsonb) FROM PUBLIC, anon, authenticated, service_role;

-- One field of a bike or part create or patch, checked as the worker checks it (src/gear.c,
-- include/rules.h), because anyone with SQL access as authenticated can call gear_create and
-- gear_update without the worker in front. Returns it as stored: a text trimmed, an empty
-- brand or model as null, initial_kilometrage a number, purchase_price to the cent. A
-- violation is VS400 with MESSAGE the field and DETAIL the problem (400 with
-- details.<field>). The metadata size is checked where metadata is written (10_metadata.sql,
-- and gear_update).
CREATE OR REPLACE FUNCTION vehicles.gear_field(p_kind vehicles.entity_type, k text, v jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = ''
AS $$
DECLARE
  v_space constant text := E' \t\n\r\f' || chr(11); -- what C's isspace() trims
  v_types text[] := CASE p_kind WHEN 'bike' THEN enum_range(NULL::vehicles.bike_type)::text[]
                                ELSE enum_range(NULL::vehicles.part_type)::text[] END;
  v_field text := k;
  v_problem text;
  s text := v #>> '{}';
  n numeric;
BEGIN
  IF k NOT IN ('name', 'type', 'brand', 'model', 'purchase_date', 'initial_kilometrage',
               'metadata', 'purchase_price') THEN
    v_problem := 'unknown field';
  ELSIF jsonb_typeof(v) = 'null' THEN
    IF k IN ('name', 'type', 'initial_kilometrage', 'metadata') THEN
      v_problem := 'must not be null';
    END IF;
  ELSIF k IN ('name', 'brand', 'model') THEN
    s := btrim(s, v_space);
    IF jsonb_typeof(v) <> 'string' THEN
      v_problem := 'must be a string';
    ELSIF k = 'name' AND s = '' THEN
      v_problem := 'must not be empty';
    ELSIF char_length(s) > 100 THEN
      v_problem := 'must be at most 100 characters';
    END IF;
    v := CASE WHEN s = '' THEN 'null' ELSE to_jsonb(s) END;
  ELSIF k = 'type' THEN
    IF jsonb_typeof(v) <> 'string' OR NOT s = ANY (v_types) THEN
      v_problem := 'must be one of: ' || array_to_string(v_types, ', ');
    END IF;
  ELSIF k = 'purchase_date' THEN
    v_problem := 'must be a date YYYY-MM-DD';
    IF jsonb_typeof(v) = 'string' AND s ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN
      IF vehicles.gear_is_date(substr(s, 1, 4)::integer, substr(s, 6, 2)::integer,
                               substr(s, 9, 2)::integer) THEN
        v_problem := NULL;
      END IF;
    END IF;
  ELSIF k = 'initial_kilometrage' THEN
    -- The worker sends kilometres as text with 3 decimals ("12.500"); a number is as good.
    IF jsonb_typeof(v) = 'number' OR (jsonb_typeof(v) = 'string'
                                      AND s ~ '^[0-9]{1,7}(\.[0-9]{1,3})?$') THEN
      n := s::numeric;
    END IF;
    IF n IS NULL OR n < 0 OR n > 1000000 THEN
      v_problem := 'must be a number from 0 to 1000000 km';
    END IF;
    v := to_jsonb(round(n, 3));
  ELSIF k = 'purchase_price' THEN
    -- A JSON number, as the worker checks it; stored to the cent (half away from zero).
    IF jsonb_typeof(v) <> 'number' THEN
      v_problem := 'must be a number';
    ELSIF (v #>> '{}')::numeric NOT BETWEEN 0 AND 1000000000 THEN
      v_problem := 'must be at least 0 and at most 1000000000';
    ELSE
      v := to_jsonb(round((v #>> '{}')::numeric, 2));
    END IF;
  ELSIF jsonb_typeof(v) <> 'object' THEN
    v_problem := 'must be a JSON object';
  ELSE
    -- Known keys carry kilometres: a number from 0 to 10000000, or null (in a patch, null
    -- removes the key).
    SELECT 'metadata.' || e.key, 'must be a number from 0 to 10000000 (km)'
      INTO v_field, v_problem
      FROM jsonb_each(v) e
     WHERE e.key IN ('replacement_threshold_km', 'maintenance_interval_km')
       AND CASE jsonb_typeof(e.value)
             WHEN 'null' THEN false
             WHEN 'number' THEN (e.value #>> '{}')::numeric NOT BETWEEN 0 AND 10000000
             ELSE true END
     ORDER BY e.key LIMIT 1;
  END IF;
  IF v_problem IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = v_field, DETAIL = v_problem;
  END IF;
  RETURN v;
END
$$;
REVOKE ALL ON FUNCTION vehicles.gear_field(vehicles.entity_type, text, jsonb)
  FROM PUBLIC, anon, authenticated, service_role;

-- The fields of a bike or part create (p_patch false: name and type required) or patch,
-- each checked by gear_field; returns them as stored.
CREATE OR REPLACE FUNCTION vehicles.gear_validate(p_kind vehicles.entity_type, p jsonb,
                                                  p_patch boolean)
RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = ''
AS $$
DECLARE
  k text;
BEGIN
  IF p_kind IS NULL OR jsonb_typeof(p) IS DISTINCT FROM 'object' THEN
    RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = 'body', DETAIL = 'must be a JSON object';
  END IF;
  FOREACH k IN ARRAY CASE WHEN p_patch THEN '{}'::text[] ELSE '{name,type}' END LOOP
    IF NOT p ? k OR jsonb_typeof(p -> k) = 'null' THEN
      RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = k, DETAIL = 'is required';
    END IF;
  END LOOP;
  RETURN (SELECT coalesce(jsonb_object_agg(e.key, vehicles.gear_field(p_kind, e.key, e.value)),
                          '{}'::jsonb)
            FROM jsonb_each(p) e);
END
$$;
REVOKE ALL ON FUNCTION vehicles.gear_validate(vehicles.entity_type, jsonb, boolean)
  FROM PUBLIC, anon, authenticated, service_role;

-- Inserts a bike or part as the caller's: they share their columns, only the table and the
-- type enum differ. The total starts at the initial value. Security definer (authenticated
-- has no INSERT on the tables): it checks every field itself (gear_validate), and the id
-- must be new also to the ownership history, whose entity_id has no foreign key: a new row
-- under the id of a deleted bike or part would read that one's history.
CREATE OR REPLACE FUNCTION vehicles.gear_create(p_kind vehicles.entity_type, p_id uuid, p jsonb)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  v jsonb := vehicles.gear_validate(p_kind, p, false);
BEGIN
  IF auth.uid() IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'VS403', MESSAGE = 'No user in the request''s claims';
  END IF;
  IF p_id IS NULL OR EXISTS (SELECT 1 FROM vehicles.ownership_history h
                              WHERE h.entity_id = p_id) THEN
    RAISE EXCEPTION USING ERRCODE = 'VS409', MESSAGE = 'That id cannot be used';
  END IF;
  -- Only identifiers chosen here are formatted in; every value is a parameter.
  EXECUTE format($sql$
    INSERT INTO vehicles.%I (id, user_id, name, type, brand, model, purchase_date,
                             purchase_price, initial_kilometrage, total_kilometrage, metadata)
    SELECT $2, auth.uid(), $1 ->> 'name', ($1 ->> 'type')::vehicles.%I, $1 ->> 'brand',
           $1 ->> 'model', ($1 ->> 'purchase_date')::date, ($1 ->> 'purchase_price')::numeric,
           coalesce(($1 ->> 'initial_kilometrage')::numeric, 0),
           coalesce(($1 ->> 'initial_kilometrage')::numeric, 0),
           coalesce($1 -> 'metadata', '{}'::jsonb)$sql$,
    CASE p_kind WHEN 'bike' THEN 'user_bike' ELSE 'user_part' END,
    CASE p_kind WHEN 'bike' THEN 'bike_type' ELSE 'part_type' END)
  USING v, p_id;
  RETURN p_id;
END
$$;
REVOKE ALL ON FUNCTION vehicles.gear_create(vehicles.entity_type, uuid, jsonb)
  FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.gear_create(vehicles.entity_type, uuid, jsonb)
  TO authenticated, service_role;

-- Applies a patch (keys present = fields to set) to a bike or a part: they share their
-- columns, only the table and the type enum differ. A new initial kilometrage moves the
-- total by the same amount, so total = initial + rides (or credits) holds. Security
-- definer: the row is locked and must be the caller's (gear_lock, so a transfer cannot
-- slip in between), and every field is checked here (gear_validate).
CREATE OR REPLACE FUNCTION vehicles.gear_update(p_kind vehicles.entity_type, p_id uuid, p jsonb)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  v jsonb;
BEGIN
  -- 404/403 before the body's 400, as everywhere.
  PERFORM vehicles.gear_lock(p_kind, p_id);
  v := vehicles.gear_validate(p_kind, p, true);
  -- Only identifiers chosen here are formatted in; every value is a parameter.
  EXECUTE format($sql$
    UPDATE vehicles.%I SET
      name = CASE WHEN $1 ? 'name' THEN $1 ->> 'name' ELSE name END,
      type = CASE WHEN $1 ? 'type' THEN ($1 ->> 'type')::vehicles.%I ELSE type END,
      brand = CASE WHEN $1 ? 'brand' THEN $1 ->> 'brand' ELSE brand END,
      model = CASE WHEN $1 ? 'model' THEN $1 ->> 'model' ELSE model END,
      purchase_date = CASE WHEN $1 ? 'purchase_date' THEN ($1 ->> 'purchase_date')::date
                           ELSE purchase_date END,
      purchase_price = CASE WHEN $1 ? 'purchase_price' THEN ($1 ->> 'purchase_price')::numeric
                            ELSE purchase_price END,
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
    WHERE id = $2$sql$,
    CASE p_kind WHEN 'bike' THEN 'user_bike' ELSE 'user_part' END,
    CASE p_kind WHEN 'bike' THEN 'bike_type' ELSE 'part_type' END)
  USING v, p_id;
  -- The metadata size is held by the metadata_check trigger (10_metadata.sql), for every
  -- writer, on the stored form.
  RETURN p_id;
END
$$;
REVOKE ALL ON FUNCTION vehicles.gear_update(vehicles.entity_type, uuid, jsonb)
  FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.gear_update(vehicles.entity_type, uuid, jsonb)
  TO authenticated, service_role;
