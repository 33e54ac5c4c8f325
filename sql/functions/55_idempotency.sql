-- Idempotency keys: kept 24 hours at least. ride_log clears each user's old keys as they
-- ride; this sweeps everyone's (operators, or a pg_cron job), as the service role only.
CREATE OR REPLACE FUNCTION vehicles.idempotency_sweep() RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = ''
AS $$
  WITH d AS (DELETE FROM vehicles.idempotency_key
              WHERE created_at < now() - interval '48 hours' RETURNING 1)
  SELECT count(*)::integer FROM d
$$;
REVOKE ALL ON FUNCTION vehicles.idempotency_sweep() FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.idempotency_sweep() TO service_role;
