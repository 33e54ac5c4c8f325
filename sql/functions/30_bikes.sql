-- Bikes: the read view and the functions behind the bike routes. The view runs as the
-- caller (security invoker, RLS in force); the functions that write are security definer
-- (authenticated has no write privilege on any table) and check ownership themselves.
-- The view's grants are in 90_grants.sql.
--
-- public.user_settings is the platform's table: the service reads and writes it only here,
-- through security-definer functions, so it needs no grant or policy on it (and adds none).

-- The caller's active bike, or null. Security definer: it reads the platform's table
-- without any grant on it, and only the caller's own row. PL/pgSQL, not SQL: a SQL function
-- that cannot be inlined (security definer, SET) is parsed and planned again on every call,
-- and every read of a bike calls this; PL/pgSQL keeps its plan for the session.
CREATE OR REPLACE FUNCTION vehicles.bike_active_id() RETURNS uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  RETURN (SELECT s.active_bike_id FROM public.user_settings s WHERE s.user_id = auth.uid());
END
$$;
REVOKE ALL ON FUNCTION vehicles.bike_active_id() FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.bike_active_id() TO authenticated, service_role;

-- security_invoker keeps the caller's RLS in force through the view. is_active: the bike is
-- the caller's active bike ((SELECT ...) runs once per statement). The foreign key on
-- (active_bike_id, user_id) makes it only ever one of the caller's own bikes.
CREATE OR REPLACE VIEW vehicles.bike_v WITH (security_invoker = true) AS
SELECT b.id, b.created_at, b.updated_at, b.user_id, b.name, b.type, b.brand, b.model,
       b.purchase_date, b.initial_kilometrage, b.total_kilometrage, b.metadata,
       coalesce(b.id = (SELECT vehicles.bike_active_id()), false) AS is_active,
       b.total_moving_time_s, b.purchase_price
FROM vehicles.user_bike b;

-- Deleting a bike never deletes parts: their open installations are closed now and they
-- keep their kilometrage. Its rides and bike-only maintenance go with it; records that also
-- name a part stay with the part. The active-bike reference clears by its foreign key.
CREATE OR REPLACE FUNCTION vehicles.bike_delete(p_id uuid) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  -- Locked, then checked again: installs, rides and transfers on this bike wait for us,
  -- and one that came first (a transfer) is seen.
  PERFORM vehicles.gear_lock('bike', p_id);
  UPDATE vehicles.part_installation SET removed_at = greatest(now(), installed_at)
   WHERE bike_id = p_id AND removed_at IS NULL;
  DELETE FROM vehicles.maintenance_record WHERE bike_id = p_id AND part_id IS NULL;
  DELETE FROM vehicles.user_bike WHERE id = p_id;
  RETURN p_id;
END
$$;
REVOKE ALL ON FUNCTION vehicles.bike_delete(uuid) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.bike_delete(uuid) TO authenticated, service_role;

-- Security definer: writes the caller's own settings row only. The bike is locked while
-- it becomes active, so a transfer of it waits (and then clears it) or came first (403).
CREATE OR REPLACE FUNCTION vehicles.bike_set_active(p_id uuid) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  PERFORM vehicles.gear_lock('bike', p_id);
  -- One row per user, so there is only ever one active bike.
  INSERT INTO public.user_settings AS s (user_id, active_bike_id)
  VALUES (auth.uid(), p_id)
  ON CONFLICT (user_id) DO UPDATE SET active_bike_id = EXCLUDED.active_bike_id, updated_at = now();
  RETURN p_id;
END
$$;
REVOKE ALL ON FUNCTION vehicles.bike_set_active(uuid) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.bike_set_active(uuid) TO authenticated, service_role;

-- Security definer: clears the caller's own settings row only.
CREATE OR REPLACE FUNCTION vehicles.bike_deactivate(p_id uuid) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  PERFORM vehicles.gear_assert('bike', p_id);
  UPDATE public.user_settings SET active_bike_id = NULL, updated_at = now()
   WHERE user_id = auth.uid() AND active_bike_id = p_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'VS409', MESSAGE = 'bike is not the active bike';
  END IF;
  RETURN p_id;
END
$$;
REVOKE ALL ON FUNCTION vehicles.bike_deactivate(uuid) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.bike_deactivate(uuid) TO authenticated, service_role;
