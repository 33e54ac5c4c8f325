-- Row-level security policies (RLS itself is enabled by 003_security_views.sql). Every
-- policy goes through auth.uid(), read once per statement ((SELECT auth.uid()) is an
-- initplan), so the service's own queries, running as role authenticated with the caller's
-- claims, see only the caller's rows. Dropped and created again: CREATE POLICY has no
-- OR REPLACE, and the whole file runs in the migration's one transaction, so no request
-- ever sees a table without its policy.

DROP POLICY IF EXISTS user_bike_owner ON vehicles.user_bike;
CREATE POLICY user_bike_owner ON vehicles.user_bike FOR ALL TO authenticated
  USING (user_id = (SELECT auth.uid())) WITH CHECK (user_id = (SELECT auth.uid()));

DROP POLICY IF EXISTS user_part_owner ON vehicles.user_part;
CREATE POLICY user_part_owner ON vehicles.user_part FOR ALL TO authenticated
  USING (user_id = (SELECT auth.uid())) WITH CHECK (user_id = (SELECT auth.uid()));

-- An installation is the part owner's; a new or changed one must also be on their own bike.
DROP POLICY IF EXISTS part_installation_owner ON vehicles.part_installation;
CREATE POLICY part_installation_owner ON vehicles.part_installation FOR ALL TO authenticated
  USING (EXISTS (SELECT 1 FROM vehicles.user_part p
                 WHERE p.id = part_id AND p.user_id = (SELECT auth.uid())))
  WITH CHECK (EXISTS (SELECT 1 FROM vehicles.user_part p
                      WHERE p.id = part_id AND p.user_id = (SELECT auth.uid()))
              AND (bike_id IS NULL OR EXISTS (SELECT 1 FROM vehicles.user_bike b
                   WHERE b.id = bike_id AND b.user_id = (SELECT auth.uid()))));

-- Rides belong to the bike: after a transfer the new owner sees its log.
DROP POLICY IF EXISTS kilometrage_log_owner ON vehicles.kilometrage_log;
CREATE POLICY kilometrage_log_owner ON vehicles.kilometrage_log FOR ALL TO authenticated
  USING (EXISTS (SELECT 1 FROM vehicles.user_bike b
                 WHERE b.id = bike_id AND b.user_id = (SELECT auth.uid())))
  WITH CHECK (EXISTS (SELECT 1 FROM vehicles.user_bike b
                      WHERE b.id = bike_id AND b.user_id = (SELECT auth.uid())));

DROP POLICY IF EXISTS kilometrage_credit_owner ON vehicles.kilometrage_credit;
CREATE POLICY kilometrage_credit_owner ON vehicles.kilometrage_credit FOR ALL TO authenticated
  USING (EXISTS (SELECT 1 FROM vehicles.user_part p
                 WHERE p.id = part_id AND p.user_id = (SELECT auth.uid())))
  WITH CHECK (EXISTS (SELECT 1 FROM vehicles.user_part p
                      WHERE p.id = part_id AND p.user_id = (SELECT auth.uid())));

-- Maintenance follows the bike or the part it is about.
DROP POLICY IF EXISTS maintenance_record_owner ON vehicles.maintenance_record;
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
DROP POLICY IF EXISTS ownership_history_read ON vehicles.ownership_history;
CREATE POLICY ownership_history_read ON vehicles.ownership_history FOR SELECT TO authenticated
  USING (previous_owner_id = (SELECT auth.uid()) OR new_owner_id = (SELECT auth.uid())
         OR EXISTS (SELECT 1 FROM vehicles.user_bike b
                    WHERE b.id = entity_id AND b.user_id = (SELECT auth.uid()))
         OR EXISTS (SELECT 1 FROM vehicles.user_part p
                    WHERE p.id = entity_id AND p.user_id = (SELECT auth.uid())));

DROP POLICY IF EXISTS idempotency_key_owner ON vehicles.idempotency_key;
CREATE POLICY idempotency_key_owner ON vehicles.idempotency_key FOR ALL TO authenticated
  USING (user_id = (SELECT auth.uid())) WITH CHECK (user_id = (SELECT auth.uid()));

-- public.user_settings belongs to the platform; this policy, under our own name, is ours.
DROP POLICY IF EXISTS user_settings_vehicles_owner ON public.user_settings;
CREATE POLICY user_settings_vehicles_owner ON public.user_settings FOR ALL TO authenticated
  USING (user_id = (SELECT auth.uid())) WITH CHECK (user_id = (SELECT auth.uid()));
