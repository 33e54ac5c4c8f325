-- The list cache's generations (012_list_generation.sql; the cache: src/list_cache.c, src/cache.c).
-- A user's lists (GET /api/bikes, /api/parts, every query form) show their bikes, their
-- parts, the parts' open installations and their active bike. Every transaction that changes
-- the first three gives the user a new random generation, in the same transaction, whoever
-- writes: the service's functions, a foreign key's cascade (an account deletion), an
-- operator's SQL. The active bike is the platform's public.user_settings, which gets no
-- trigger of ours: list_gen() reads it with the generation instead. A reader that sees a
-- change sees a new generation, so no cached list older than the reader's snapshot can match.
--
-- Cheap on the write path, and no deadlock:
--  * a row trigger's WHEN (list_gen_note) notes the row's users in a transaction-local
--    setting and queues an event only for a user not noted yet: a ride that updates a bike
--    and five parts queues one event;
--  * the events are deferred to the commit, so the row lock a bump takes on a user's
--    generation is the last lock of its transaction; the first event bumps every user noted
--    so far in uuid order, so two transactions that bump the same users (a transfer each
--    way) take those locks in the same order;
--  * concurrent writers of one user queue on that row for the rest of their commit only;
--    the second bump waits for the first and writes its own new value: none is lost.
-- Only open installations show in a list (part_v, DB_PARTS_INSTALLED): changes to closed
-- ones (a deleted bike's history going NULL) bump nothing. A TRUNCATE changes the epoch,
-- which is every user's generation at once; so does applying these files (a deploy).
-- session_replication_role = replica switches triggers off: whoever does that must change
-- the epoch (UPDATE vehicles.list_epoch SET epoch = gen_random_uuid()).
-- A user without a row (never written since 012) is not cached.

-- The caller's generation, in its snapshot: the epoch, the user's own, and its active bike
-- (is_active is part of every bike list). Null for a user who has none (never written since
-- 012): such lists are not cached. Security definer: no API role reads these tables or the
-- platform's settings; this reads the caller's own rows only, by auth.uid(). plpgsql, so its
-- one query is planned once per connection.
CREATE OR REPLACE FUNCTION vehicles.list_gen() RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  v_gen text;
BEGIN
  SELECT e.epoch::text || '.' || g.gen::text || '.'
         || coalesce((SELECT s.active_bike_id::text FROM public.user_settings s
                       WHERE s.user_id = g.user_id), '')
    INTO v_gen
    FROM vehicles.list_generation g CROSS JOIN vehicles.list_epoch e
   WHERE g.user_id = auth.uid();
  RETURN v_gen;
END
$$;
REVOKE ALL ON FUNCTION vehicles.list_gen() FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.list_gen() TO authenticated;
-- (No API role has any privilege on the two tables: 012 revoked everything. 90_grants.sql
-- names neither.)

-- A row trigger's WHEN: true (queue the deferred bump) when the row names a user this
-- transaction has not noted yet, who is then noted in vehicles.list_gen_noted ('uuid,...', a
-- setting of the writer's own transaction, which only grows): a ride that updates a bike and
-- five parts queues one event. Past about a hundred users (an operator's bulk change) it
-- stops noting and queues every row (list_gen_bump, bulk). It runs once per row written, as
-- whoever writes the table (the functions' owner, service_role, an operator), and touches no
-- table; so it is as short as it can be, and has no SET search_path (a SET costs more than
-- the body: its built-ins are named with their schema instead). Not an SQL function: the WHEN
-- would inline it and parse its body again for every statement that writes the table. A
-- session that sets vehicles.list_gen_noted itself before it writes keeps its transaction's
-- users from being noted, and their lists may then be served up to the cache's TTL late:
-- only roles that may write these tables, or call the service's functions with SQL access of
-- their own, can do that.
CREATE OR REPLACE FUNCTION vehicles.list_gen_note(p_a uuid, p_b uuid) RETURNS boolean
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
  v_noted text := pg_catalog.current_setting('vehicles.list_gen_noted', true);
BEGIN
  IF pg_catalog.strpos(v_noted, p_a::text) > 0
     AND (p_b = p_a OR pg_catalog.strpos(v_noted, p_b::text) > 0) THEN
    RETURN false;
  END IF;
  IF pg_catalog.length(v_noted) < 3700 OR v_noted IS NULL THEN
    v_noted := pg_catalog.set_config('vehicles.list_gen_noted',
                 pg_catalog.concat(v_noted, p_a, ',', nullif(p_b, p_a)::text || ','), true);
  END IF;
  RETURN true;
END
$$;
REVOKE ALL ON FUNCTION vehicles.list_gen_note(uuid, uuid)
  FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.list_gen_note(uuid, uuid) TO service_role;

-- The deferred event of a bike or part row: bumps, in uuid order, every user noted and not
-- bumped yet in this transaction (list_gen_bumped is the prefix of list_gen_noted already
-- done; every later event of the transaction finds nothing left). In a bulk change (the note
-- full) each event bumps its own row's users. Security definer: nobody else writes the
-- generations. Every expression costs on its first use in a transaction, so the common case
-- (one user, the first event) runs few, and no query but the UPDATE.
CREATE OR REPLACE FUNCTION vehicles.list_gen_bump() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  v_noted text := pg_catalog.current_setting('vehicles.list_gen_noted', true);
  v_done text := pg_catalog.current_setting('vehicles.list_gen_bumped', true);
  v_users uuid[];
  v_u uuid;
BEGIN
  IF pg_catalog.length(v_noted) >= 3700 THEN
    v_users := ARRAY(SELECT DISTINCT u FROM pg_catalog.unnest(ARRAY[OLD.user_id, NEW.user_id]) u
                      WHERE u IS NOT NULL ORDER BY 1);
  ELSIF v_noted IS NOT DISTINCT FROM v_done THEN
    RETURN NULL; -- every user of this transaction so far is bumped already
  ELSE
    v_users := pg_catalog.string_to_array(pg_catalog.rtrim(
                 pg_catalog.substr(v_noted, coalesce(pg_catalog.length(v_done), 0) + 1), ','),
                 ',')::uuid[];
    IF pg_catalog.cardinality(v_users) > 1 THEN
      v_users := ARRAY(SELECT DISTINCT u FROM pg_catalog.unnest(v_users) u ORDER BY 1);
    END IF;
    v_done := pg_catalog.set_config('vehicles.list_gen_bumped', v_noted, true);
  END IF;
  FOREACH v_u IN ARRAY v_users LOOP
    UPDATE vehicles.list_generation SET gen = pg_catalog.gen_random_uuid() WHERE user_id = v_u;
    IF NOT FOUND THEN -- the user's first write since 012
      INSERT INTO vehicles.list_generation (user_id) VALUES (v_u)
      ON CONFLICT (user_id) DO UPDATE SET gen = EXCLUDED.gen;
    END IF;
  END LOOP;
  RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION vehicles.list_gen_bump() FROM PUBLIC, anon, authenticated, service_role;

-- The deferred event of an installation, which no WHEN noted (it names no user): its part's
-- owner, looked up now (a part given away in this transaction was noted on both sides by its
-- own row), joins the note; then everyone noted and not bumped yet is bumped, in uuid order.
CREATE OR REPLACE FUNCTION vehicles.list_gen_bump_installation() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  v_noted text := pg_catalog.current_setting('vehicles.list_gen_noted', true);
  v_done text := coalesce(pg_catalog.current_setting('vehicles.list_gen_bumped', true), '');
  v_own uuid[];
  v_users uuid[];
  v_u uuid;
BEGIN
  v_own := ARRAY(SELECT p.user_id FROM vehicles.user_part p
                  WHERE p.id IN (OLD.part_id, NEW.part_id));
  IF pg_catalog.length(v_noted) >= 3700 THEN
    v_users := ARRAY(SELECT DISTINCT u FROM pg_catalog.unnest(v_own) u WHERE u IS NOT NULL
                      ORDER BY 1);
  ELSE
    FOREACH v_u IN ARRAY v_own LOOP
      IF v_u IS NOT NULL AND coalesce(pg_catalog.strpos(v_noted, v_u::text), 0) = 0 THEN
        v_noted := pg_catalog.concat(v_noted, v_u, ',');
      END IF;
    END LOOP;
    IF v_noted IS NULL OR v_noted = v_done THEN
      RETURN NULL;
    END IF;
    v_users := ARRAY(SELECT DISTINCT u::uuid FROM pg_catalog.unnest(pg_catalog.string_to_array(
                 pg_catalog.rtrim(pg_catalog.substr(v_noted, pg_catalog.length(v_done) + 1), ','),
                 ',')) u ORDER BY 1);
    v_done := pg_catalog.set_config('vehicles.list_gen_noted', v_noted, true);
    v_done := pg_catalog.set_config('vehicles.list_gen_bumped', v_noted, true);
  END IF;
  FOREACH v_u IN ARRAY v_users LOOP
    UPDATE vehicles.list_generation SET gen = pg_catalog.gen_random_uuid() WHERE user_id = v_u;
    IF NOT FOUND THEN
      INSERT INTO vehicles.list_generation (user_id) VALUES (v_u)
      ON CONFLICT (user_id) DO UPDATE SET gen = EXCLUDED.gen;
    END IF;
  END LOOP;
  RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION vehicles.list_gen_bump_installation() FROM PUBLIC, anon, authenticated, service_role;

-- TRUNCATE (no row triggers fire): a new epoch, every user's new generation at once.
CREATE OR REPLACE FUNCTION vehicles.list_gen_truncate() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  UPDATE vehicles.list_epoch SET epoch = pg_catalog.gen_random_uuid();
  RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION vehicles.list_gen_truncate() FROM PUBLIC, anon, authenticated, service_role;

-- Bikes and parts: the owner, both owners when it changes hands.
DROP TRIGGER IF EXISTS list_gen_ins ON vehicles.user_bike;
CREATE CONSTRAINT TRIGGER list_gen_ins AFTER INSERT ON vehicles.user_bike
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
  WHEN (vehicles.list_gen_note(NEW.user_id, NEW.user_id)) EXECUTE FUNCTION vehicles.list_gen_bump();
DROP TRIGGER IF EXISTS list_gen_upd ON vehicles.user_bike;
CREATE CONSTRAINT TRIGGER list_gen_upd AFTER UPDATE ON vehicles.user_bike
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
  WHEN (vehicles.list_gen_note(OLD.user_id, NEW.user_id)) EXECUTE FUNCTION vehicles.list_gen_bump();
DROP TRIGGER IF EXISTS list_gen_del ON vehicles.user_bike;
CREATE CONSTRAINT TRIGGER list_gen_del AFTER DELETE ON vehicles.user_bike
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
  WHEN (vehicles.list_gen_note(OLD.user_id, OLD.user_id)) EXECUTE FUNCTION vehicles.list_gen_bump();

DROP TRIGGER IF EXISTS list_gen_ins ON vehicles.user_part;
CREATE CONSTRAINT TRIGGER list_gen_ins AFTER INSERT ON vehicles.user_part
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
  WHEN (vehicles.list_gen_note(NEW.user_id, NEW.user_id)) EXECUTE FUNCTION vehicles.list_gen_bump();
DROP TRIGGER IF EXISTS list_gen_upd ON vehicles.user_part;
CREATE CONSTRAINT TRIGGER list_gen_upd AFTER UPDATE ON vehicles.user_part
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
  WHEN (vehicles.list_gen_note(OLD.user_id, NEW.user_id)) EXECUTE FUNCTION vehicles.list_gen_bump();
DROP TRIGGER IF EXISTS list_gen_del ON vehicles.user_part;
CREATE CONSTRAINT TRIGGER list_gen_del AFTER DELETE ON vehicles.user_part
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
  WHEN (vehicles.list_gen_note(OLD.user_id, OLD.user_id)) EXECUTE FUNCTION vehicles.list_gen_bump();

-- Installations: only the open ones show (current_bike_id, installed=, include_parts).
DROP TRIGGER IF EXISTS list_gen_ins ON vehicles.part_installation;
CREATE CONSTRAINT TRIGGER list_gen_ins AFTER INSERT ON vehicles.part_installation
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
  WHEN (NEW.removed_at IS NULL) EXECUTE FUNCTION vehicles.list_gen_bump_installation();
DROP TRIGGER IF EXISTS list_gen_upd ON vehicles.part_installation;
CREATE CONSTRAINT TRIGGER list_gen_upd AFTER UPDATE ON vehicles.part_installation
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
  WHEN (OLD.removed_at IS NULL OR NEW.removed_at IS NULL) EXECUTE FUNCTION vehicles.list_gen_bump_installation();
DROP TRIGGER IF EXISTS list_gen_del ON vehicles.part_installation;
CREATE CONSTRAINT TRIGGER list_gen_del AFTER DELETE ON vehicles.part_installation
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
  WHEN (OLD.removed_at IS NULL) EXECUTE FUNCTION vehicles.list_gen_bump_installation();

DROP TRIGGER IF EXISTS list_gen_truncate ON vehicles.user_bike;
CREATE TRIGGER list_gen_truncate AFTER TRUNCATE ON vehicles.user_bike
  FOR EACH STATEMENT EXECUTE FUNCTION vehicles.list_gen_truncate();
DROP TRIGGER IF EXISTS list_gen_truncate ON vehicles.user_part;
CREATE TRIGGER list_gen_truncate AFTER TRUNCATE ON vehicles.user_part
  FOR EACH STATEMENT EXECUTE FUNCTION vehicles.list_gen_truncate();
DROP TRIGGER IF EXISTS list_gen_truncate ON vehicles.part_installation;
CREATE TRIGGER list_gen_truncate AFTER TRUNCATE ON vehicles.part_installation
  FOR EACH STATEMENT EXECUTE FUNCTION vehicles.list_gen_truncate();

-- These files were just applied: what a list's SQL answers may have changed.
UPDATE vehicles.list_epoch SET epoch = gen_random_uuid();
