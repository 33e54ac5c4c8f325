-- The local stand-in for Supabase's auth schema and roles (api-notes, "The local auth
-- stand-in"). On Supabase, schema auth and the roles exist and nothing here runs.
DO $standin$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'auth') THEN
    RETURN;
  END IF;

  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
    CREATE ROLE anon NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
    CREATE ROLE authenticated NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
    -- As on Supabase: the service role is not subject to row-level security.
    CREATE ROLE service_role NOLOGIN BYPASSRLS;
  END IF;
  -- The service switches to these roles per request (SET LOCAL ROLE via set_config).
  EXECUTE format('GRANT anon, authenticated, service_role TO %I', current_user);

  CREATE SCHEMA auth;
  CREATE TABLE auth.users (
    id uuid PRIMARY KEY,
    email text,
    email_confirmed_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE UNIQUE INDEX users_email_lower_idx ON auth.users (lower(email));

  -- Supabase's auth.uid(): the sub of request.jwt.claims, or the older per-claim setting.
  CREATE FUNCTION auth.uid() RETURNS uuid
  LANGUAGE sql STABLE
  AS $fn$
    SELECT coalesce(
      nullif(current_setting('request.jwt.claim.sub', true), ''),
      (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
    )::uuid
  $fn$;

  GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role;
  GRANT EXECUTE ON FUNCTION auth.uid() TO anon, authenticated, service_role;
END
$standin$;
