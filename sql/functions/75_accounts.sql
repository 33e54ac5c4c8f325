-- Account deletion. Supabase deletes a user (dashboard, admin API) with DELETE FROM
-- auth.users; that must always succeed, remove the account's own bikes, parts and their
-- records, unlink the account from the ownership trail and from what it logged on other
-- users' bikes and parts, and remove nothing of another user's. The foreign keys do most of
-- it (002, 009): bikes, parts, settings and idempotency keys cascade; rides and maintenance
-- records keep their rows when the account that logged them goes (user_id NULL), and so do
-- ownership history rows. auth.users is the platform's table: nothing here is attached to
-- it. What a foreign key cannot say is below, on our own tables.

-- Before a bike or a part row is deleted, whoever deletes it (bike_delete, part_delete, the
-- cascade from auth.users, an operator): a bike's open installations are closed now (its
-- parts stay, with their kilometrage), and the maintenance records that name only it go
-- with it, whoever logged them (they are its history). A record that names both a bike and
-- a part stays with the other one (its foreign key sets this one NULL), unless the other
-- one is going too: it belongs to an account being deleted in this same statement (its row
-- in auth.users is gone). The cascades of one account deletion run in no set order, and
-- their SET NULLs come last, so this is decided here, before either row goes; without it
-- the record would end with neither bike nor part, which maintenance_record's check
-- refuses, and the account could not be deleted.
-- Security definer: the deleting role (the auth service's) may have no privilege here.
CREATE OR REPLACE FUNCTION vehicles.account_cascade() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
BEGIN
  IF TG_TABLE_NAME = 'user_bike' THEN
    UPDATE vehicles.part_installation SET removed_at = greatest(now(), installed_at)
     WHERE bike_id = OLD.id AND removed_at IS NULL;
    DELETE FROM vehicles.maintenance_record m
     WHERE m.bike_id = OLD.id
       AND (m.part_id IS NULL
            OR EXISTS (SELECT 1 FROM vehicles.user_part p
                        WHERE p.id = m.part_id
                          AND NOT EXISTS (SELECT 1 FROM auth.users u WHERE u.id = p.user_id)));
  ELSE
    DELETE FROM vehicles.maintenance_record m
     WHERE m.part_id = OLD.id
       AND (m.bike_id IS NULL
            OR EXISTS (SELECT 1 FROM vehicles.user_bike b
                        WHERE b.id = m.bike_id
                          AND NOT EXISTS (SELECT 1 FROM auth.users u WHERE u.id = b.user_id)));
  END IF;
  RETURN OLD;
END
$$;
REVOKE ALL ON FUNCTION vehicles.account_cascade() FROM PUBLIC, anon, authenticated, service_role;

DROP TRIGGER IF EXISTS user_bike_account_cascade ON vehicles.user_bike;
CREATE TRIGGER user_bike_account_cascade BEFORE DELETE ON vehicles.user_bike
  FOR EACH ROW EXECUTE FUNCTION vehicles.account_cascade();
DROP TRIGGER IF EXISTS user_part_account_cascade ON vehicles.user_part;
CREATE TRIGGER user_part_account_cascade BEFORE DELETE ON vehicles.user_part
  FOR EACH ROW EXECUTE FUNCTION vehicles.account_cascade();
