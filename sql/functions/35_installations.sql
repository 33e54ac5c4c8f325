-- Installations of parts on bikes: the lock every installation change takes first.
--
-- Locking order, everywhere: the bike row, then the part row. Rides lock the bike, so a
-- ride and an install or removal on the same bike are serialised, and the part's row lock
-- serialises everything done to one part (two installs of it on different bikes included).

-- Locks bike and part for an installation change; 404/403 as gear_assert, checked again
-- once each lock is held (the row may have been deleted or given away meanwhile). Internal
-- (granted to no one): part_install and part_remove call it.
CREATE OR REPLACE FUNCTION vehicles.installation_lock(p_bike uuid, p_part uuid) RETURNS void
LANGUAGE plpgsql SET search_path = ''
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

-- A time in a request, installed_at or removed_at, at most 5 minutes ahead (api-notes: the
-- clock-skew allowance), checked as the worker checks it: VS400 naming the field. Internal.
CREATE OR REPLACE FUNCTION vehicles.installation_time_check(p_field text, p_at timestamptz)
RETURNS void
LANGUAGE plpgsql STABLE SET search_path = ''
AS $$
BEGIN
  IF p_at > now() + interval '5 minutes' THEN
    RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = p_field,
      DETAIL = 'must not be in the future';
  END IF;
END
$$;
REVOKE ALL ON FUNCTION vehicles.installation_time_check(text, timestamptz)
  FROM PUBLIC, anon, authenticated, service_role;
