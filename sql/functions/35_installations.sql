-- Installations of parts on bikes: the lock every installation change takes first.
--
-- Locking order, everywhere: the bike row, then the part row. Rides lock the bike, so a
-- ride and an install or removal on the same bike are serialised, and the part's row lock
-- serialises everything done to one part (two installs of it on different bikes included).
-- A transfer then locks the maintenance records whose owners its keys' cascades rewrite (015),
-- in the cascades' order (70_transfers.sql).

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

-- An installation carries its part's owner (part_owner_id, 015): filled here from the part on
-- insert and whenever part_id changes, kept by the foreign key's cascade when the part changes
-- owner. The key, not this trigger, is what makes a wrong owner impossible. Runs as the
-- writer (the writers are security definer).
CREATE OR REPLACE FUNCTION vehicles.installation_owner_fill() RETURNS trigger
LANGUAGE plpgsql SET search_path = ''
AS $$
BEGIN
  IF TG_OP = 'INSERT' OR NEW.part_id IS DISTINCT FROM OLD.part_id THEN
    NEW.part_owner_id := (SELECT p.user_id FROM vehicles.user_part p WHERE p.id = NEW.part_id);
  END IF;
  RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION vehicles.installation_owner_fill()
  FROM PUBLIC, anon, authenticated, service_role;
DROP TRIGGER IF EXISTS owner_fill ON vehicles.part_installation;
CREATE TRIGGER owner_fill BEFORE INSERT OR UPDATE OF part_id ON vehicles.part_installation
  FOR EACH ROW EXECUTE FUNCTION vehicles.installation_owner_fill();
