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

-- Installs a part at p_at (default now). A backdated install credits the part with the rides
-- already logged on the bike since p_at, so its total is what it really rode. Bike and part
-- are the caller's (installation_lock), so only the caller's part changes.
CREATE OR REPLACE FUNCTION vehicles.part_install(p_id uuid, p_bike uuid, p_part uuid,
                                                 p_at timestamptz)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  v_at timestamptz := p_at;
  v_on uuid;
  v_last_end timestamptz;
  v_credit record;
BEGIN
  PERFORM vehicles.installation_lock(p_bike, p_part);
  PERFORM vehicles.installation_time_check('installed_at', p_at);
  -- Installation periods of a part never overlap: rides are credited by period, and a
  -- (ride, part) pair can never have been decided in an earlier period (credited or
  -- withheld). (A bad body is a 400 before the state's 409, as everywhere.)
  SELECT max(removed_at) INTO v_last_end FROM vehicles.part_installation WHERE part_id = p_part;
  -- "Now" is when we hold the locks, not when the transaction began: a removal we waited
  -- for may have ended the previous installation after our start.
  IF v_at IS NULL THEN
    v_at := greatest(clock_timestamp(), v_last_end);
  END IF;
  IF v_last_end IS NOT NULL AND v_at < v_last_end THEN
    RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = 'installed_at',
      DETAIL = 'must not be before the end of the part''s previous installation ('
               || to_char(v_last_end AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ')';
  END IF;
  SELECT bike_id INTO v_on FROM vehicles.part_installation
   WHERE part_id = p_part AND removed_at IS NULL;
  IF FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'VS409',
      MESSAGE = CASE WHEN v_on = p_bike THEN 'part is already installed on this bike'
                     ELSE 'part is installed on another bike; remove it first' END;
  END IF;
  INSERT INTO vehicles.part_installation (id, part_id, bike_id, installed_at)
  VALUES (p_id, p_part, p_bike, v_at);

  WITH rides AS (
    SELECT l.id, l.distance, coalesce(l.moving_time_s, 0) AS moving_time_s
      FROM vehicles.kilometrage_log l
     WHERE l.bike_id = p_bike AND l.logged_at >= v_at
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
  v_back record;
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
  UPDATE vehicles.part_installation SET removed_at = v_at WHERE id = v_inst.id;

  WITH gone AS (
    DELETE FROM vehicles.kilometrage_credit c
     USING vehicles.kilometrage_log l
     WHERE c.part_id = p_part AND c.log_id = l.id AND l.bike_id = p_bike AND l.logged_at >= v_at
    RETURNING c.distance, c.moving_time_s
  )
  SELECT coalesce(sum(distance), 0) AS km, coalesce(sum(moving_time_s), 0) AS s, count(*) AS n
    INTO v_back FROM gone;
  -- The part was not on the bike for those rides after all: nothing withheld from it either.
  DELETE FROM vehicles.kilometrage_withheld w
   USING vehicles.kilometrage_log l
   WHERE w.part_id = p_part AND w.log_id = l.id AND l.bike_id = p_bike AND l.logged_at >= v_at;
  IF v_back.n > 0 THEN
    UPDATE vehicles.user_part SET total_kilometrage = total_kilometrage - v_back.km,
                                  total_moving_time_s = total_moving_time_s - v_back.s,
                                  updated_at = now()
     WHERE id = p_part;
  END IF;
  RETURN v_inst.id;
END
$$;
REVOKE ALL ON FUNCTION vehicles.part_remove(uuid, uuid, timestamptz)
  FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.part_remove(uuid, uuid, timestamptz)
  TO authenticated, service_role;
