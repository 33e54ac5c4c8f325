-- Row-level security, switched on for every table. The policies, the read views and the
-- grants moved to sql/functions/ (20_policies.sql, 30_bikes.sql, 40_parts.sql,
-- 90_grants.sql), where they are re-applied whenever they change.

ALTER TABLE vehicles.user_bike ENABLE ROW LEVEL SECURITY;
ALTER TABLE vehicles.user_part ENABLE ROW LEVEL SECURITY;
ALTER TABLE vehicles.part_installation ENABLE ROW LEVEL SECURITY;
ALTER TABLE vehicles.kilometrage_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE vehicles.kilometrage_credit ENABLE ROW LEVEL SECURITY;
ALTER TABLE vehicles.maintenance_record ENABLE ROW LEVEL SECURITY;
ALTER TABLE vehicles.ownership_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE vehicles.idempotency_key ENABLE ROW LEVEL SECURITY;

-- public.user_settings holds user data in an exposed schema: it must be guarded too.
ALTER TABLE public.user_settings ENABLE ROW LEVEL SECURITY;
