-- The peer's SQL for GET /api/bikes/:id (../shared/bench-peer/server.js): two prepared
-- statements, each its own round trip, no transaction (postgres.js, prepare: true).
\set n :base + random(1, :nusers)
select id, created_at, updated_at, user_id, name, type, brand, model, purchase_date, total_kilometrage, metadata from vehicles.user_bike where id = ('00000000-0000-4000-9000-' || lpad(to_hex(:n::integer), 12, '0'))::uuid;
select p.id, p.name, p.type, p.total_kilometrage, i.installed_at from vehicles.part_installation i join vehicles.user_part p on p.id = i.part_id where i.bike_id = ('00000000-0000-4000-9000-' || lpad(to_hex(:n::integer), 12, '0'))::uuid and i.removed_at is null;
