-- Installations of parts on bikes: the lock every installation change takes first.
--
-- Locking order, everywhere: the bike row, then the part row. Rides lock the bike, so a
-- ride and an install or removal on the same bike are serialised, and the part's row lock
-- serialises everything done to one part (two installs of it on different bikes included).

-- Locks bike and part for an installation change; 404/403 as gear_assert, checked again
-- once each lock is held (the row may have been deleted or given away meanwhile).
CREATE OR REPLACE FUNCTION vehicles.installation_lock(p_bike uuid, p_part uuid) RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
  PERFORM vehicles.gear_assert('bike', p_bike);
  PERFORM vehicles.gear_assert('part', p_part);
  PERFORM vehicles.gear_lock('bike', p_bike);
  PERFORM vehicles.gear_lock('part', p_part);
END
$$;
REVOKE ALL ON FUNCTION vehicles.installation_lock(uuid, uuid)
  FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.installation_lock(uuid, uuid) TO authenticated, service_role;
