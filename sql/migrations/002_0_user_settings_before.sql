-- Notes, for 010_user_settings_platform.sql later in the same run, whether
-- public.user_settings has row-level security on ('on', 'off') or does not exist yet
-- ('absent'), before 002 and 003 touch it: 003 (applied in production, so it cannot
-- change) switches RLS on, also on a table the platform made with it off, and 010 sets the
-- platform's switch back. Named to sort between 001 and 002, so that on a new database it
-- runs before them; on a database that ran them long ago it notes the switch as it is now,
-- and 010 changes nothing. The note is a setting of this transaction only.
SELECT set_config('vehicles.user_settings_rls_before',
                  coalesce((SELECT CASE WHEN c.relrowsecurity THEN 'on' ELSE 'off' END
                              FROM pg_class c
                             WHERE c.oid = to_regclass('public.user_settings')), 'absent'),
                  true);
