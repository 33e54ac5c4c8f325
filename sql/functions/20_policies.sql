-- Row-level security policies (RLS itself is enabled by the numbered migrations). They are
-- the second layer under the functions: role authenticated has only SELECT on the tables
-- (90_grants.sql) and writes only through security-definer functions, which check
-- ownership themselves. So every policy is FOR SELECT: were a write privilege ever granted
-- by mistake, RLS would still refuse every write (no policy allows one). A user reads only
-- what is theirs now: their bikes and parts, and what is recorded on them.
--
-- Every policy goes through auth.uid(), read once per statement ((SELECT auth.uid()) is an
-- initplan). Dropped and created again: CREATE POLICY has no OR REPLACE, and the whole file
-- runs in the migration's one transaction, so no request ever sees a table without its
-- policy. public.user_settings is the platform's table: no policy of ours is on it.

DROP POLICY IF EXISTS user_bike_owner ON vehicles.user_bike;
CREATE POLICY user_bike_owner ON vehicles.user_bike FOR SELECT TO authenticated
  USING (user_id = (SELECT auth.uid()));

DROP POLICY IF EXISTS user_part_owner ON vehicles.user_part;
CREATE POLICY user_part_owner ON vehicles.user_part FOR SELECT TO authenticated
  USING (user_id = (SELECT auth.uid()));

-- An installation is the part's history: its owner's. part_owner_id is the part's user_id,
-- held so by a foreign key (migration 015): a column compared, not a sub-select run, on the
-- hot reads.
DROP POLICY IF EXISTS part_installation_owner ON vehicles.part_installation;
CREATE POLICY part_installation_owner ON vehicles.part_installation FOR SELECT TO authenticated
  USING (part_owner_id = (SELECT auth.uid()));

-- Rides belong to the bike: after a transfer the new owner sees its log.
DROP POLICY IF EXISTS kilometrage_log_owner ON vehicles.kilometrage_log;
CREATE POLICY kilometrage_log_owner ON vehicles.kilometrage_log FOR SELECT TO authenticated
  USING (EXISTS (SELECT 1 FROM vehicles.user_bike b
                 WHERE b.id = bike_id AND b.user_id = (SELECT auth.uid())));

-- Credits belong to the part.
DROP POLICY IF EXISTS kilometrage_credit_owner ON vehicles.kilometrage_credit;
CREATE POLICY kilometrage_credit_owner ON vehicles.kilometrage_credit FOR SELECT TO authenticated
  USING (EXISTS (SELECT 1 FROM vehicles.user_part p
                 WHERE p.id = part_id AND p.user_id = (SELECT auth.uid())));

-- vehicles.kilometrage_withheld (009) has no policy: it names another user's rides (those
-- logged after a part left them), so no user reads it; operators do, as the service role.

-- Maintenance follows the bike or the part it is about: bike_owner_id and part_owner_id are
-- their owners, held so by foreign keys (migration 015).
DROP POLICY IF EXISTS maintenance_record_owner ON vehicles.maintenance_record;
CREATE POLICY maintenance_record_owner ON vehicles.maintenance_record FOR SELECT TO authenticated
  USING ((SELECT auth.uid()) IN (bike_owner_id, part_owner_id));

-- History is read by either side of a transfer and by the current owner of the bike or part
-- it is about (entity_id has no foreign key: the type says which table to look in). Written
-- only by the transfer functions (security definer).
DROP POLICY IF EXISTS ownership_history_read ON vehicles.ownership_history;
CREATE POLICY ownership_history_read ON vehicles.ownership_history FOR SELECT TO authenticated
  USING (previous_owner_id = (SELECT auth.uid()) OR new_owner_id = (SELECT auth.uid())
         OR (entity_type = 'bike' AND EXISTS (SELECT 1 FROM vehicles.user_bike b
                    WHERE b.id = entity_id AND b.user_id = (SELECT auth.uid())))
         OR (entity_type = 'part' AND EXISTS (SELECT 1 FROM vehicles.user_part p
                    WHERE p.id = entity_id AND p.user_id = (SELECT auth.uid()))));

DROP POLICY IF EXISTS idempotency_key_owner ON vehicles.idempotency_key;
CREATE POLICY idempotency_key_owner ON vehicles.idempotency_key FOR SELECT TO authenticated
  USING (user_id = (SELECT auth.uid()));

-- A service interval is its part's or its bike's: their owner's, so it moves with a transfer.
DROP POLICY IF EXISTS service_interval_owner ON vehicles.service_interval;
CREATE POLICY service_interval_owner ON vehicles.service_interval FOR SELECT TO authenticated
  USING (EXISTS (SELECT 1 FROM vehicles.user_part p
                 WHERE p.id = part_id AND p.user_id = (SELECT auth.uid()))
         OR EXISTS (SELECT 1 FROM vehicles.user_bike b
                    WHERE b.id = bike_id AND b.user_id = (SELECT auth.uid())));
