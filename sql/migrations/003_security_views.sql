-- Row-level security, the read views and grants. Every policy goes through auth.uid(), read
-- once per statement ((SELECT auth.uid()) is an initplan), so the service's own queries,
-- running as role authenticated with the caller's claims, see only the caller's rows.

ALTER TABLE vehicles.user_bike ENABLE ROW LEVEL SECURITY;
ALTER TABLE vehicles.user_part ENABLE ROW LEVEL SECURITY;
ALTER TABLE vehicles.part_installation ENABLE ROW LEVEL SECURITY;
ALTER TABLE vehicles.kilometrage_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE vehicles.kilometrage_credit ENABLE ROW LEVEL SECURITY;
ALTER TABLE vehicles.maintenance_record ENABLE ROW LEVEL SECURITY;
ALTER TABLE vehicles.ownership_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE vehicles.idempotency_key ENABLE ROW LEVEL SECURITY;

CREATE POLICY user_bike_owner ON vehicles.user_bike FOR ALL TO authenticated
  USING (user_id = (SELECT auth.uid())) WITH CHECK (user_id = (SELECT auth.uid()));
CREATE POLICY user_part_owner ON vehicles.user_part FOR ALL TO authenticated
  USING (user_id = (SELECT auth.uid())) WITH CHECK (user_id = (SELECT auth.uid()));

-- An installation is the part owner's; a new or changed one must also be on their own bike.
CREATE POLICY part_installation_owner ON vehicles.part_installation FOR ALL TO authenticated
  USING (EXISTS (SELECT 1 FROM vehicles.user_part p
                 WHERE p.id = part_id AND p.user_id = (SELECT auth.uid())))
  WITH CHECK (EXISTS (SELECT 1 FROM vehicles.user_part p
                      WHERE p.id = part_id AND p.user_id = (SELECT auth.uid()))
              AND (bike_id IS NULL OR EXISTS (SELECT 1 FROM vehicles.user_bike b
                   WHERE b.id = bike_id AND b.user_id = (SELECT auth.uid()))));

-- Rides belong to the bike: after a transfer the new owner sees its log.
CREATE POLICY kilometrage_log_owner ON vehicles.kilometrage_log FOR ALL TO authenticated
  USING (EXISTS (SELECT 1 FROM vehicles.user_bike b
                 WHERE b.id = bike_id AND b.user_id = (SELECT auth.uid())))
  WITH CHECK (EXISTS (SELECT 1 FROM vehicles.user_bike b
                      WHERE b.id = bike_id AND b.user_id = (SELECT auth.uid())));

CREATE POLICY kilometrage_credit_owner ON vehicles.kilometrage_credit FOR ALL TO authenticated
  USING (EXISTS (SELECT 1 FROM vehicles.user_part p
                 WHERE p.id = part_id AND p.user_id = (SELECT auth.uid())))
  WITH CHECK (EXISTS (SELECT 1 FROM vehicles.user_part p
                      WHERE p.id = part_id AND p.user_id = (SELECT auth.uid())));

-- Maintenance follows the bike or the part it is about.
CREATE POLICY maintenance_record_owner ON vehicles.maintenance_record FOR ALL TO authenticated
  USING (EXISTS (SELECT 1 FROM vehicles.user_bike b
                 WHERE b.id = bike_id AND b.user_id = (SELECT auth.uid()))
         OR EXISTS (SELECT 1 FROM vehicles.user_part p
                    WHERE p.id = part_id AND p.user_id = (SELECT auth.uid())))
  WITH CHECK (user_id = (SELECT auth.uid())
              AND (bike_id IS NULL OR EXISTS (SELECT 1 FROM vehicles.user_bike b
                   WHERE b.id = bike_id AND b.user_id = (SELECT auth.uid())))
              AND (part_id IS NULL OR EXISTS (SELECT 1 FROM vehicles.user_part p
                   WHERE p.id = part_id AND p.user_id = (SELECT auth.uid()))));

-- History is read by either side of a transfer and by the current owner; written only by
-- the transfer functions (security definer).
CREATE POLICY ownership_history_read ON vehicles.ownership_history FOR SELECT TO authenticated
  USING (previous_owner_id = (SELECT auth.uid()) OR new_owner_id = (SELECT auth.uid())
         OR EXISTS (SELECT 1 FROM vehicles.user_bike b
                    WHERE b.id = entity_id AND b.user_id = (SELECT auth.uid()))
         OR EXISTS (SELECT 1 FROM vehicles.user_part p
                    WHERE p.id = entity_id AND p.user_id = (SELECT auth.uid())));

CREATE POLICY idempotency_key_owner ON vehicles.idempotency_key FOR ALL TO authenticated
  USING (user_id = (SELECT auth.uid())) WITH CHECK (user_id = (SELECT auth.uid()));

-- public.user_settings holds user data in an exposed schema: it must be guarded too.
ALTER TABLE public.user_settings ENABLE ROW LEVEL SECURITY;
DO $pol$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_policies WHERE schemaname = 'public'
                 AND tablename = 'user_settings' AND policyname = 'user_settings_vehicles_owner') THEN
    CREATE POLICY user_settings_vehicles_owner ON public.user_settings FOR ALL TO authenticated
      USING (user_id = (SELECT auth.uid())) WITH CHECK (user_id = (SELECT auth.uid()));
  END IF;
END
$pol$;

-- Read views. security_invoker keeps the caller's RLS in force through the view.
CREATE VIEW vehicles.bike_v WITH (security_invoker = true) AS
SELECT b.id, b.created_at, b.updated_at, b.user_id, b.name, b.type, b.brand, b.model,
       b.purchase_date, b.initial_kilometrage, b.total_kilometrage, b.metadata,
       EXISTS (SELECT 1 FROM public.user_settings s
               WHERE s.user_id = b.user_id AND s.active_bike_id = b.id) AS is_active
FROM vehicles.user_bike b;

CREATE VIEW vehicles.part_v WITH (security_invoker = true) AS
SELECT p.id, p.created_at, p.updated_at, p.user_id, p.name, p.type, p.brand, p.model,
       p.purchase_date, p.initial_kilometrage, p.total_kilometrage, p.metadata,
       i.bike_id AS current_bike_id
FROM vehicles.user_part p
LEFT JOIN vehicles.part_installation i ON i.part_id = p.id AND i.removed_at IS NULL;

GRANT USAGE ON SCHEMA vehicles TO authenticated, service_role;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA vehicles TO authenticated;
GRANT ALL ON ALL TABLES IN SCHEMA vehicles TO service_role;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA vehicles TO authenticated, service_role;
GRANT SELECT, INSERT, UPDATE ON public.user_settings TO authenticated;
GRANT ALL ON public.user_settings TO service_role;
REVOKE ALL ON ALL TABLES IN SCHEMA vehicles FROM anon;
