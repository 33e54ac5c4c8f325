-- Each bike's number of rides, stored (issue 11, point 3): a history page's `total` becomes
-- one row read instead of a count of every ride on every page. The functions that add or
-- remove a ride keep it in their transaction, under the bike's row lock (ride_log,
-- ride_delete in 50_rides.sql); the rides go only with their bike otherwise (bike deletion,
-- account deletion: the count goes with the row). vehicles.kilometrage_check() reports a
-- bike whose count differs from its rows.
ALTER TABLE vehicles.user_bike
  ADD COLUMN ride_count bigint NOT NULL DEFAULT 0 CHECK (ride_count >= 0);

-- Backfilled from the rows. The ALTER holds user_bike exclusively (a ride's bike update and
-- its row's foreign-key check wait for the migration; it is taken first because rides lock
-- the bike before the log), and the log is held against writes that would not touch the
-- bike, so every ride committed before is counted. A request that waited runs the new ride
-- functions: the worker's pipeline reads the bike (its ownership check, gear_assert) before
-- it calls ride_log or ride_delete, so that call starts after this commits. (A direct SQL
-- call that blocked inside an old body would finish uncounted: kilometrage_check says so.)
LOCK TABLE vehicles.kilometrage_log IN SHARE MODE;
UPDATE vehicles.user_bike b SET ride_count = c.n
  FROM (SELECT l.bike_id, count(*) AS n FROM vehicles.kilometrage_log l GROUP BY l.bike_id) c
 WHERE c.bike_id = b.id;
