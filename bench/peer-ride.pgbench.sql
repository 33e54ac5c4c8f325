-- The peer's SQL for POST /api/bikes/:id/kilometrage ({"distance":1.5}; ../shared/bench-peer/
-- server.js): sql.begin's transaction, each statement its own round trip. logged_at and notes
-- are absent from the body, so the peer binds NULL for both: literal NULLs here (pgbench has
-- no NULL variable). It writes no credits: bench/run gives the peer users of its own.
\set n :base + random(1, :nusers)
\set km 1.5
BEGIN;
update vehicles.user_bike set total_kilometrage = total_kilometrage + :km, updated_at = now() where id = ('00000000-0000-4000-9000-' || lpad(to_hex(:n::integer), 12, '0'))::uuid and user_id = ('00000000-0000-4000-8000-' || lpad(to_hex(:n::integer), 12, '0'))::uuid returning id, name, total_kilometrage;
insert into vehicles.kilometrage_log (bike_id, user_id, distance, logged_at, notes) values (('00000000-0000-4000-9000-' || lpad(to_hex(:n::integer), 12, '0'))::uuid, ('00000000-0000-4000-8000-' || lpad(to_hex(:n::integer), 12, '0'))::uuid, :km, coalesce(NULL::timestamptz, now()), NULL) returning id, logged_at;
update vehicles.user_part p set total_kilometrage = p.total_kilometrage + :km, updated_at = now() from vehicles.part_installation i where i.part_id = p.id and i.bike_id = ('00000000-0000-4000-9000-' || lpad(to_hex(:n::integer), 12, '0'))::uuid and i.removed_at is null returning p.id, p.name, p.total_kilometrage;
COMMIT;
