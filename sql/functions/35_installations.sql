-- Installations of parts on bikes: the lock every installation change takes first.
--
-- Locking order, everywhere: the bike row, then the part row. Rides lock the bike, so a
-- ride and an install or removal on the same bike are serialised, and the part's row lock
-- serialises everything done to one part (two installs of it on different bikes included).

-- Locks bike and part for an installation change; 404/403 as gear_assert. When a lock
-- finds nothing, the row was deleted or changed owner since the check: say which.
CREATE OR REPLACE FUNCTION vehicles.installation_lock(p_bike uuid, p_part uuid) RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
  PERFORM vehicles.gear_assert('bike', p_bike);
  PERFORM vehicles.gear_assert('part', p_part);
  PERFORM 1 FROM vehicles.user_bike WHERE id = p_bike FOR UPDATE;
  IF NOT FOUND THEN
    PERFORM vehicles.gear_assert('bike', p_bike);
    RAISE EXCEPTION USING ERRCODE = 'VS404', MESSAGE = 'Bike not found';
  END IF;
  PERFORM 1 FROM vehicles.user_part WHERE id = p_part FOR UPDATE;
  IF NOT FOUND THEN
    PERFORM vehicles.gear_assert('part', p_part);
    RAISE EXCEPTION USING ERRCODE = 'VS404', MESSAGE = 'Part not found';
  END IF;
END
$$;
REVOKE ALL ON FUNCTION vehicles.installation_lock(uuid, uuid)
  FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.installation_lock(uuid, uuid) TO authenticated, service_role;
