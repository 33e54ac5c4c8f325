-- public.user_settings belongs to the platform (Supabase). Where it already existed, our
-- migrations add the column active_bike_id and its foreign key and change nothing else;
-- where 002 created it, anon and authenticated get nothing: the service reads and writes
-- it only through security-definer functions (sql/functions/30_bikes.sql), so it depends
-- on no grant of the platform's. 002 and 003 are applied in production and cannot change:
-- this file undoes what of theirs was too much, once.

-- 1. The active bike is always one of the user's own bikes, however the row is written: a
-- foreign key on (active_bike_id, user_id) to the bike's (id, user_id) instead of 002's on
-- active_bike_id alone. A deleted bike clears only active_bike_id (PostgreSQL 15's column
-- list). A bike that changes owner must first stop being the sender's active bike
-- (bike_transfer does that); the key refuses anything else.
ALTER TABLE vehicles.user_bike ADD CONSTRAINT user_bike_id_user_id_key UNIQUE (id, user_id);
-- Rows the new key would refuse (an active bike given away by an older release, or set by
-- hand) lose their active bike, and only that.
UPDATE public.user_settings s SET active_bike_id = NULL
 WHERE s.active_bike_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM vehicles.user_bike b
                    WHERE b.id = s.active_bike_id AND b.user_id = s.user_id);
ALTER TABLE public.user_settings DROP CONSTRAINT IF EXISTS user_settings_active_bike_id_fkey;
ALTER TABLE public.user_settings ADD CONSTRAINT user_settings_active_bike_owner_fkey
  FOREIGN KEY (active_bike_id, user_id) REFERENCES vehicles.user_bike (id, user_id)
  ON DELETE SET NULL (active_bike_id);

-- 2. Policies and grants. Older releases (003 before it was rewritten, then 20_policies.sql
-- and 90_grants.sql) added a permissive FOR ALL policy under our own name, and granted
-- SELECT, INSERT, UPDATE to authenticated and ALL to service_role. The repeatable files no
-- longer do; here they are taken back once. The RLS switch stays as it is found.
DO $settings$
DECLARE
  v_acl text := (SELECT relacl::text FROM pg_class WHERE oid = 'public.user_settings'::regclass);
  v_ours boolean;
  v_earlier boolean;
BEGIN
  -- 002 created the table if its row type was created in the same transaction as 002's own
  -- types (this run on a new database; 002's run on an old one). A table the platform made
  -- before has an older row type. Supabase's default privileges in public give anon,
  -- authenticated and service_role ALL on a table created there: on ours, none of them
  -- keeps anything.
  SELECT t.xmin = e.xmin INTO v_ours
    FROM pg_type t, pg_type e
   WHERE t.oid = (SELECT reltype FROM pg_class WHERE oid = 'public.user_settings'::regclass)
     AND e.oid = 'vehicles.bike_type'::regtype;
  -- Our old grants exist only where an older release ran: 003 recorded by an earlier run.
  SELECT EXISTS (SELECT 1 FROM vehicles_admin.schema_migrations
                  WHERE version = '003_security_views.sql' AND applied_at < now())
    INTO v_earlier;

  DROP POLICY IF EXISTS user_settings_vehicles_owner ON public.user_settings;
  IF v_ours THEN
    REVOKE ALL ON public.user_settings FROM PUBLIC, anon, authenticated, service_role;
  ELSIF v_earlier THEN
    -- The platform's table: take back exactly what we granted. Where the platform had
    -- granted the same privileges itself they cannot be told apart; say what changed.
    REVOKE SELECT, INSERT, UPDATE ON public.user_settings FROM authenticated;
    REVOKE ALL ON public.user_settings FROM service_role;
    IF v_acl IS DISTINCT FROM (SELECT relacl::text FROM pg_class
                                WHERE oid = 'public.user_settings'::regclass) THEN
      RAISE WARNING 'public.user_settings: revoked the grants of older vehicle-service '
        'releases (SELECT, INSERT, UPDATE to authenticated; ALL to service_role). Privileges '
        'were % and are now %; re-grant any that were the platform''s own.', v_acl,
        (SELECT relacl::text FROM pg_class WHERE oid = 'public.user_settings'::regclass);
    END IF;
  END IF;

  -- On a new database 003 has just switched RLS on, also on a table the platform made
  -- with it off. 002_0_user_settings_before.sql noted the switch as it was before 002:
  -- set it back. (Elsewhere the note is the switch as it is now, and nothing changes.)
  IF current_setting('vehicles.user_settings_rls_before', true) = 'off' THEN
    ALTER TABLE public.user_settings DISABLE ROW LEVEL SECURITY;
  END IF;
END
$settings$;
