-- The list cache (issue 11, point 5): each user's bike and part lists are kept in Redis, keyed
-- by a generation of that user's lists which the database itself changes in every transaction
-- that changes what those lists show (triggers in sql/functions/85_cache.sql), whoever writes:
-- the service, an operator, an account deletion. A list is answered from Redis only when the
-- generation stored with it is the one the request reads in its own snapshot.
--
-- gen is random, never a counter: a value is never seen twice, whatever happens to this table
-- or the database (restored, recreated next to the same Redis). No foreign key to auth.users:
-- the bump of an account deletion's own cascade must not fail on the deleted account, and the
-- row of a deleted account is one small row. A user without a row is answered from the
-- database, not from the cache.
CREATE TABLE vehicles.list_generation (
  user_id uuid PRIMARY KEY,
  gen uuid NOT NULL DEFAULT gen_random_uuid()
);
-- Changed again every time the repeatable files are applied (85_cache.sql): a deploy that
-- changes what a list's SQL answers is a new generation for everyone.
CREATE TABLE vehicles.list_epoch (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  epoch uuid NOT NULL DEFAULT gen_random_uuid()
);
INSERT INTO vehicles.list_epoch DEFAULT VALUES;

-- Written only by the triggers' security-definer functions, read only through
-- vehicles.list_gen() (security definer, the caller's own row): no API role has any privilege.
ALTER TABLE vehicles.list_generation ENABLE ROW LEVEL SECURITY;
ALTER TABLE vehicles.list_epoch ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON TABLE vehicles.list_generation, vehicles.list_epoch
  FROM PUBLIC, anon, authenticated, service_role;

-- Everyone who has lists now gets a generation. (A user whose first bike or part is written
-- after this snapshot and before the triggers exist has none: answered from the database
-- until their next write. No cache entry can exist before this transaction commits.)
INSERT INTO vehicles.list_generation (user_id)
SELECT user_id FROM vehicles.user_bike
UNION
SELECT user_id FROM vehicles.user_part;
