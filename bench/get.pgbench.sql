-- What the worker sends for GET /api/bikes/:id: claims, ownership, bike, parts, maintenance.
\set n random(1, :nusers)
\startpipeline
SELECT set_config('role', 'authenticated', true), set_config('request.jwt.claims', '{"sub":"00000000-0000-4000-8000-' || lpad(to_hex(:n::integer), 12, '0') || '","role":"authenticated","aud":"authenticated"}', true);
SELECT vehicles.gear_assert('bike', ('00000000-0000-4000-9000-' || lpad(to_hex(:n::integer), 12, '0'))::uuid);
SELECT b.id, b.created_at, b.updated_at, b.user_id, b.name, b.type, b.brand, b.model, b.purchase_date, b.initial_kilometrage, b.total_kilometrage, b.metadata, b.is_active FROM vehicles.bike_v b WHERE b.id = ('00000000-0000-4000-9000-' || lpad(to_hex(:n::integer), 12, '0'))::uuid;
SELECT p.id, p.created_at, p.updated_at, p.user_id, p.name, p.type, p.brand, p.model, p.purchase_date, p.initial_kilometrage, p.total_kilometrage, p.metadata, p.current_bike_id, i.id AS "installation.id", i.installed_at AS "installation.installed_at" FROM vehicles.part_v p JOIN vehicles.part_installation i ON i.part_id = p.id AND i.removed_at IS NULL WHERE i.bike_id = ('00000000-0000-4000-9000-' || lpad(to_hex(:n::integer), 12, '0'))::uuid ORDER BY i.installed_at DESC, p.id;
SELECT m.id, m.created_at, m.updated_at, m.user_id, m.bike_id, m.part_id, m.maintenance_type, m.description, m.performed_at, m.cost, m.metadata FROM vehicles.maintenance_record m WHERE m.bike_id = ('00000000-0000-4000-9000-' || lpad(to_hex(:n::integer), 12, '0'))::uuid ORDER BY m.performed_at DESC, m.id DESC LIMIT 5;
\endpipeline
