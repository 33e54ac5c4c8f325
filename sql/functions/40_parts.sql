-- Parts: the read view and the functions behind the part and installation routes; locking
-- order as in 35_installations.sql. The view's grants are in 90_grants.sql. The functions
-- are security definer (authenticated has no write privilege on the tables): they see every
-- row, so they check ownership themselves (installation_lock, gear_assert, gear_lock) and
-- every rule of their write, as the worker does, for callers with SQL access. An install or
-- a removal changes only the caller's part (api-notes, Kilometrage).

-- security_invoker keeps the caller's RLS in force through the view.
CREATE OR REPLACE VIEW vehicles.part_v WITH (security_invoker = true) AS
SELECT p.id, p.created_at, p.updated_at, p.user_id, p.name, p.type, p.brand, p.model,
       p.purchase_date, p.initial_kilometrage, p.total_kilometrage, p.metadata,
       i.bike_id AS current_bike_id, p.total_moving_time_s, p.purchase_price,
       CASE WHEN p.retired_at IS NOT NULL THEN 'retired'
            WHEN i.id IS NOT NULL THEN 'installed' ELSE 'stored' END AS status,
       p.retired_at, p.retire_reason
FROM vehicles.user_part p
LEFT JOIN vehicles.part_installation i ON i.part_id = p.id AND i.removed_at IS NULL;

-- Deleting a part deletes its installation history, its credits and withheld rides
-- (cascade) and its part-only maintenance (vehicles.account_cascade, the trigger every
-- deletion of a part goes through); records that also name a bike stay with the bike.
CREATE OR REPLACE FUNCTION vehicles.part_delete(p_id uuid) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  v_bike uuid;
BEGIN
  PERFORM vehicles.gear_assert('part', p_id);
  -- Bike first (the global lock order) when the part is on one, then the part.
  SELECT bike_id INTO v_bike FROM vehicles.part_installation
   WHERE part_id = p_id AND removed_at IS NULL;
  IF v_bike IS NOT NULL THEN
    PERFORM 1 FROM vehicles.user_bike WHERE id = v_bike FOR UPDATE;
  END IF;
  -- Locked, then checked again: given away or deleted while we waited says so.
  PERFORM vehicles.gear_lock('part', p_id);
  DELETE FROM vehicles.user_part WHERE id = p_id AND user_id = auth.uid();
  RETURN p_id;
END
$$;
REVOKE ALL ON FUNCTION vehicles.part_delete(uuid) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.part_delete(uuid) TO authenticated, service_role;

-- Opens installation p_id of p_part on p_bike at p_at and credits the part with the rides
-- already logged on the bike since p_at (a backdated install: its total is what it really
-- rode). Internal (granted to no one): the caller holds the bike's and the part's locks and
-- has checked every rule. Shared by part_install and part_replace.
CREATE OR REPLACE FUNCTION vehicles.installation_open(p_id uuid, p_bike uuid, p_part uuid,
                                                      p_at timestamptz)
RETURNS void
LANGUAGE plpgsql SET search_path = ''
AS $$
DECLARE
  v_credit record;
BEGIN
  INSERT INTO vehicles.part_installation (id, part_id, bike_id, installed_at)
  VALUES (p_id, p_part, p_bike, p_at);
  WITH rides AS (
    SELECT l.id, l.distance, coalesce(l.moving_time_s, 0) AS moving_time_s
      FROM vehicles.kilometrage_log l
     WHERE l.bike_id = p_bike AND l.logged_at >= p_at
  ), ins AS (
    INSERT INTO vehicles.kilometrage_credit (log_id, part_id, distance, moving_time_s)
    SELECT r.id, p_part, r.distance, r.moving_time_s FROM rides r
    RETURNING distance, moving_time_s
  )
  SELECT coalesce(sum(distance), 0) AS km, coalesce(sum(moving_time_s), 0) AS s, count(*) AS n
    INTO v_credit FROM ins;
  IF v_credit.n > 0 THEN
    UPDATE vehicles.user_part SET total_kilometrage = total_kilometrage + v_credit.km,
                                  total_moving_time_s = total_moving_time_s + v_credit.s,
                                  updated_at = now()
     WHERE id = p_part;
  END IF;
END
$$;
REVOKE ALL ON FUNCTION vehicles.installation_open(uuid, uuid, uuid, timestamptz)
  FROM PUBLIC, anon, authenticated, service_role;

-- Ends installation p_inst at p_at (open, or closed later than p_at: a retirement backdated
-- into it) and takes back from its part what the rides logged on its bike since p_at
-- credited to it, with their withheld records: the part was not on the bike for them after
-- all. Internal: the caller holds the bike's (if any) and the part's locks. Shared by
-- part_remove, part_retire and part_replace.
CREATE OR REPLACE FUNCTION vehicles.installation_close(p_inst uuid, p_at timestamptz)
RETURNS void
LANGUAGE plpgsql SET search_path = ''
AS $$
DECLARE
  v_inst vehicles.part_installation;
  v_back record;
BEGIN
  UPDATE vehicles.part_installation SET removed_at = p_at WHERE id = p_inst
  RETURNING * INTO v_inst;
  WITH gone AS (
    DELETE FROM vehicles.kilometrage_credit c
     USING vehicles.kilometrage_log l
     WHERE c.part_id = v_inst.part_id AND c.log_id = l.id AND l.bike_id = v_inst.bike_id
       AND l.logged_at >= p_at
    RETURNING c.distance, c.moving_time_s
  )
  SELECT coalesce(sum(distance), 0) AS km, coalesce(sum(moving_time_s), 0) AS s, count(*) AS n
    INTO v_back FROM gone;
  DELETE FROM vehicles.kilometrage_withheld w
   USING vehicles.kilometrage_log l
   WHERE w.part_id = v_inst.part_id AND w.log_id = l.id AND l.bike_id = v_inst.bike_id
     AND l.logged_at >= p_at;
  IF v_back.n > 0 THEN
    UPDATE vehicles.user_part SET total_kilometrage = total_kilometrage - v_back.km,
                                  total_moving_time_s = total_moving_time_s - v_back.s,
                                  updated_at = now()
     WHERE id = v_inst.part_id;
  END IF;
END
$$;
REVOKE ALL ON FUNCTION vehicles.installation_close(uuid, timestamptz)
  FROM PUBLIC, anon, authenticated, service_role;

-- The earliest a new installation of p_part may begin: the end of its previous one
-- (periods never overlap: rides are credited by period, and a (ride, part) pair can never
-- have been decided in an earlier period) and when it last came back into service (no
-- install is backdated into a retired time). p_at before either is VS400 naming p_field,
-- p_what ('the part' or 'the new part') in the problem. Internal.
CREATE OR REPLACE FUNCTION vehicles.installation_start_check(p_part uuid, p_field text,
                                                             p_what text, p_at timestamptz)
RETURNS timestamptz
LANGUAGE plpgsql STABLE SET search_path = ''
AS $$
DECLARE
  v_last_end timestamptz;
  v_back timestamptz;
BEGIN
  SELECT max(removed_at) INTO v_last_end FROM vehicles.part_installation WHERE part_id = p_part;
  SELECT unretired_at INTO v_back FROM vehicles.user_part WHERE id = p_part;
  -- The later bound is the one to name: after a retirement, coming back into service.
  IF p_at < v_back AND v_back >= coalesce(v_last_end, v_back) THEN
    RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = p_field,
      DETAIL = 'must not be before ' || p_what || ' came back into service ('
               || to_char(v_back AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ')';
  END IF;
  IF p_at < v_last_end THEN
    RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = p_field,
      DETAIL = 'must not be before the end of ' || p_what || '''s previous installation ('
               || to_char(v_last_end AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ')';
  END IF;
  IF p_at < v_back THEN
    RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = p_field,
      DETAIL = 'must not be before ' || p_what || ' came back into service ('
               || to_char(v_back AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ')';
  END IF;
  RETURN greatest(v_last_end, v_back);
END
$$;
REVOKE ALL ON FUNCTION vehicles.installation_start_check(uuid, text, text, timestamptz)
  FROM PUBLIC, anon, authenticated, service_role;

-- Installs a part at p_at (default now). A backdated install credits the part with the rides
-- already logged on the bike since p_at, so its total is what it really rode. Bike and part
-- are the caller's (installation_lock), so only the caller's part changes. A retired part is
-- not installed (409) until it is unretired, and never from before that (400).
CREATE OR REPLACE FUNCTION vehicles.part_install(p_id uuid, p_bike uuid, p_part uuid,
                                                 p_at timestamptz)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  v_at timestamptz := p_at;
  v_on uuid;
  v_earliest timestamptz;
BEGIN
  PERFORM vehicles.installation_lock(p_bike, p_part);
  PERFORM vehicles.installation_time_check('installed_at', p_at);
  -- (A bad body is a 400 before the state's 409, as everywhere.)
  v_earliest := vehicles.installation_start_check(p_part, 'installed_at', 'the part', p_at);
  -- "Now" is when we hold the locks, not when the transaction began: a removal we waited
  -- for may have ended the previous installation after our start.
  IF v_at IS NULL THEN
    v_at := greatest(clock_timestamp(), v_earliest);
  END IF;
  SELECT bike_id INTO v_on FROM vehicles.part_installation
   WHERE part_id = p_part AND removed_at IS NULL;
  IF FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'VS409',
      MESSAGE = CASE WHEN v_on = p_bike THEN 'part is already installed on this bike'
                     ELSE 'part is installed on another bike; remove it first' END;
  END IF;
  IF EXISTS (SELECT 1 FROM vehicles.user_part WHERE id = p_part AND retired_at IS NOT NULL) THEN
    RAISE EXCEPTION USING ERRCODE = 'VS409', MESSAGE = 'part is retired; unretire it first';
  END IF;
  PERFORM vehicles.installation_open(p_id, p_bike, p_part, v_at);
  RETURN p_id;
END
$$;
REVOKE ALL ON FUNCTION vehicles.part_install(uuid, uuid, uuid, timestamptz)
  FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.part_install(uuid, uuid, uuid, timestamptz)
  TO authenticated, service_role;

-- Removes a part at p_at (default now). A backdated removal takes back what the rides
-- logged on the bike since p_at credited to the part (the caller's: installation_lock).
CREATE OR REPLACE FUNCTION vehicles.part_remove(p_bike uuid, p_part uuid, p_at timestamptz)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  v_at timestamptz := p_at;
  v_inst vehicles.part_installation;
BEGIN
  PERFORM vehicles.installation_lock(p_bike, p_part);
  PERFORM vehicles.installation_time_check('removed_at', p_at);
  SELECT * INTO v_inst FROM vehicles.part_installation
   WHERE part_id = p_part AND bike_id = p_bike AND removed_at IS NULL;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'VS409', MESSAGE = 'part is not installed on this bike';
  END IF;
  IF v_at IS NULL THEN
    -- Now, once the locks are ours; never before the installation (which may be up to five
    -- minutes "in the future", the clock-skew allowance).
    v_at := greatest(clock_timestamp(), v_inst.installed_at);
  END IF;
  IF v_at < v_inst.installed_at THEN
    RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = 'removed_at',
      DETAIL = 'must not be before installed_at ('
               || to_char(v_inst.installed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ')';
  END IF;
  PERFORM vehicles.installation_close(v_inst.id, v_at);
  RETURN v_inst.id;
END
$$;
REVOKE ALL ON FUNCTION vehicles.part_remove(uuid, uuid, timestamptz)
  FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.part_remove(uuid, uuid, timestamptz)
  TO authenticated, service_role;

-- The reason of a retirement as stored: trimmed as C's isspace() trims, empty as null, at
-- most 2000 characters (VS400 reason). Internal.
CREATE OR REPLACE FUNCTION vehicles.retire_reason_check(p_reason text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = ''
AS $$
DECLARE
  v text := nullif(btrim(p_reason, E' \t\n\r\f' || chr(11)), '');
BEGIN
  IF char_length(v) > 2000 THEN
    RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = 'reason',
      DETAIL = 'must be a string of at most 2000 characters';
  END IF;
  RETURN v;
END
$$;
REVOKE ALL ON FUNCTION vehicles.retire_reason_check(text)
  FROM PUBLIC, anon, authenticated, service_role;

-- Retires the caller's part at p_at (default now, once the locks are held). Its last
-- installation, if open or ending after p_at, is closed at p_at and what rides on that
-- bike since p_at credited to it is taken back (installation_close): no ride reaches a
-- retired part. Locks: the last installation's bike first (a ride locks its bike before
-- crediting, so none can be credited against the period being shortened), whoever owns the
-- bike now, as part_delete does; then the part. An install elsewhere while we waited for
-- the lock is a 409 to retry, not a lock taken out of order.
CREATE OR REPLACE FUNCTION vehicles.part_retire(p_part uuid, p_at timestamptz, p_reason text)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  v_at timestamptz := p_at;
  v_reason text;
  v_seen vehicles.part_installation;
  v_last vehicles.part_installation;
  v_got timestamptz;
BEGIN
  PERFORM vehicles.gear_assert('part', p_part);
  PERFORM vehicles.installation_time_check('retired_at', p_at);
  v_reason := vehicles.retire_reason_check(p_reason);
  -- When the caller got the part by a transfer: the time before is the previous owner's
  -- (api-notes: a request changes only what its caller owns), so no retirement reaches into
  -- it, and an installation that ended by then is neither shortened nor its bike locked.
  SELECT max(h.transferred_at) INTO v_got FROM vehicles.ownership_history h
   WHERE h.entity_type = 'part' AND h.entity_id = p_part AND h.new_owner_id = auth.uid();
  SELECT * INTO v_seen FROM vehicles.part_installation WHERE part_id = p_part
   ORDER BY installed_at DESC, created_at DESC LIMIT 1;
  IF v_seen.id IS NOT NULL AND (v_seen.removed_at IS NULL OR v_got IS NULL
                                OR v_seen.removed_at > v_got) THEN
    PERFORM 1 FROM vehicles.user_bike WHERE id = v_seen.bike_id FOR UPDATE;
  END IF;
  PERFORM vehicles.gear_lock('part', p_part);
  SELECT * INTO v_last FROM vehicles.part_installation WHERE part_id = p_part
   ORDER BY installed_at DESC, created_at DESC LIMIT 1;
  IF v_last.id IS DISTINCT FROM v_seen.id THEN
    RAISE EXCEPTION USING ERRCODE = 'VS409', MESSAGE = 'part was installed concurrently; retry';
  END IF;
  IF v_at IS NULL THEN
    v_at := greatest(clock_timestamp(), v_last.installed_at, v_got);
  END IF;
  IF v_at < v_last.installed_at THEN
    RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = 'retired_at',
      DETAIL = 'must not be before its last installation began ('
               || to_char(v_last.installed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ')';
  END IF;
  IF v_at < v_got THEN
    RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = 'retired_at',
      DETAIL = 'must not be before the part became yours ('
               || to_char(v_got AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ')';
  END IF;
  IF EXISTS (SELECT 1 FROM vehicles.user_part WHERE id = p_part AND retired_at IS NOT NULL) THEN
    RAISE EXCEPTION USING ERRCODE = 'VS409', MESSAGE = 'part is already retired';
  END IF;
  IF v_last.id IS NOT NULL AND (v_last.removed_at IS NULL OR v_last.removed_at > v_at) THEN
    PERFORM vehicles.installation_close(v_last.id, v_at);
  END IF;
  UPDATE vehicles.user_part SET retired_at = v_at, retire_reason = v_reason, updated_at = now()
   WHERE id = p_part;
  RETURN p_part;
END
$$;
REVOKE ALL ON FUNCTION vehicles.part_retire(uuid, timestamptz, text)
  FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.part_retire(uuid, timestamptz, text)
  TO authenticated, service_role;

-- Brings the caller's retired part back into service: no installation is opened, and none
-- may begin before unretired_at (installation_start_check), which is now once the lock is
-- held, and never before retired_at (which may be up to five minutes ahead).
CREATE OR REPLACE FUNCTION vehicles.part_unretire(p_part uuid) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  PERFORM vehicles.gear_lock('part', p_part);
  UPDATE vehicles.user_part
     SET unretired_at = greatest(clock_timestamp(), retired_at), retired_at = NULL,
         retire_reason = NULL, updated_at = now()
   WHERE id = p_part AND retired_at IS NOT NULL;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'VS409', MESSAGE = 'part is not retired';
  END IF;
  RETURN p_part;
END
$$;
REVOKE ALL ON FUNCTION vehicles.part_unretire(uuid) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.part_unretire(uuid) TO authenticated, service_role;

-- Replaces p_old on p_bike by p_new at p_at (default now, once the locks are held), in one
-- transaction: p_old removed at p_at (its credits of rides since taken back), p_new
-- installed at p_at as installation p_id (credited with the rides since), p_old retired at
-- p_at when p_retire_old (reason null), and p_old's service intervals copied to p_new with
-- their baseline at p_at (interval_copy). Checks in the API's order: ownership (404/403),
-- new = old (400), the times (400), the states (409); any failure changes nothing. Locks:
-- the bike, then the two parts in id order. Returns the closed installation's id.
CREATE OR REPLACE FUNCTION vehicles.part_replace(p_id uuid, p_bike uuid, p_old uuid, p_new uuid,
                                                 p_at timestamptz, p_retire_old boolean)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  v_at timestamptz := p_at;
  v_old vehicles.part_installation;
  v_earliest timestamptz;
BEGIN
  PERFORM vehicles.gear_assert('bike', p_bike);
  PERFORM vehicles.gear_assert('part', p_old);
  IF p_new IS NULL OR p_new = p_old THEN
    RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = 'new_part_id',
      DETAIL = 'must be the id of another part';
  END IF;
  PERFORM vehicles.gear_assert('part', p_new);
  PERFORM vehicles.installation_time_check('at', p_at);
  PERFORM vehicles.gear_lock('bike', p_bike);
  PERFORM vehicles.gear_lock('part', least(p_old, p_new));
  PERFORM vehicles.gear_lock('part', greatest(p_old, p_new));
  SELECT * INTO v_old FROM vehicles.part_installation
   WHERE part_id = p_old AND bike_id = p_bike AND removed_at IS NULL;
  IF v_at IS NULL THEN
    v_at := greatest(clock_timestamp(), v_old.installed_at,
                     vehicles.installation_start_check(p_new, 'at', 'the new part', NULL));
  END IF;
  IF v_at < v_old.installed_at THEN
    RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = 'at',
      DETAIL = 'must not be before the old part''s installation began ('
               || to_char(v_old.installed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ')';
  END IF;
  PERFORM vehicles.installation_start_check(p_new, 'at', 'the new part', v_at);
  IF v_old.id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'VS409', MESSAGE = 'part is not installed on this bike';
  END IF;
  IF EXISTS (SELECT 1 FROM vehicles.part_installation WHERE part_id = p_new AND removed_at IS NULL) THEN
    RAISE EXCEPTION USING ERRCODE = 'VS409',
      MESSAGE = 'new part is installed on a bike; remove it first';
  END IF;
  IF EXISTS (SELECT 1 FROM vehicles.user_part WHERE id = p_new AND retired_at IS NOT NULL) THEN
    RAISE EXCEPTION USING ERRCODE = 'VS409', MESSAGE = 'new part is retired; unretire it first';
  END IF;
  PERFORM vehicles.installation_close(v_old.id, v_at);
  PERFORM vehicles.installation_open(p_id, p_bike, p_new, v_at);
  IF coalesce(p_retire_old, true) THEN
    UPDATE vehicles.user_part SET retired_at = v_at, retire_reason = NULL, updated_at = now()
     WHERE id = p_old;
  END IF;
  PERFORM vehicles.interval_copy(p_old, p_new, v_at);
  RETURN v_old.id;
END
$$;
REVOKE ALL ON FUNCTION vehicles.part_replace(uuid, uuid, uuid, uuid, timestamptz, boolean)
  FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.part_replace(uuid, uuid, uuid, uuid, timestamptz, boolean)
  TO authenticated, service_role;
