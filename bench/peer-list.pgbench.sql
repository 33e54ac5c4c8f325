-- The peer's SQL for GET /api/bikes (../shared/bench-peer/server.js): one prepared statement.
\set n :base + random(1, :nusers)
select id, created_at, updated_at, user_id, name, type, brand, model, purchase_date, total_kilometrage, metadata from vehicles.user_bike where user_id = ('00000000-0000-4000-8000-' || lpad(to_hex(:n::integer), 12, '0'))::uuid order by created_at limit 50;
