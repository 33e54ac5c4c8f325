-- GET /api/export's hourly limit (issue 14): at most 5 exports per user in any rolling hour,
-- counted in vehicles.export_log so that every worker and instance sees one count. The
-- export's data is read afterwards by the worker, as the caller (RLS), in one REPEATABLE
-- READ READ ONLY transaction of its own (src/db_export.c): this function only decides.

-- 0 when the caller may export now (with p_count, the export is logged), else the seconds
-- until the oldest export of the last hour is an hour old (at least 1: the Retry-After). The
-- count and the insert are one transaction under a per-user transaction lock, so two exports
-- at once cannot both take the last slot; the lock goes with the transaction (nothing is
-- left on a pooled server session). The caller's rows older than a day are swept here.
-- p_count false (HEAD) asks without logging.
CREATE OR REPLACE FUNCTION vehicles.export_begin(p_count boolean) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  v_user uuid := auth.uid();
  v_n integer;
  v_oldest timestamptz;
BEGIN
  IF v_user IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'VS403', MESSAGE = 'An export needs a user';
  END IF;
  PERFORM pg_catalog.pg_advisory_xact_lock(
    pg_catalog.hashtextextended('vehicles.export_log:' || v_user::text, 0));
  DELETE FROM vehicles.export_log
   WHERE user_id = v_user AND created_at < now() - interval '1 day';
  -- (a statement of its own after the lock: it sees what the lock's last holder committed)
  SELECT count(*), min(created_at) INTO v_n, v_oldest
    FROM vehicles.export_log
   WHERE user_id = v_user AND created_at > now() - interval '1 hour';
  IF v_n >= 5 THEN
    RETURN greatest(1, ceil(extract(epoch FROM v_oldest + interval '1 hour' - now())))::integer;
  END IF;
  IF p_count THEN
    INSERT INTO vehicles.export_log (user_id) VALUES (v_user);
  END IF;
  RETURN 0;
END
$$;
REVOKE ALL ON FUNCTION vehicles.export_begin(boolean) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.export_begin(boolean) TO authenticated;
