-- Metadata of bikes, parts and maintenance records: its size limit, held for every writer,
-- and the merge patch that updates it.
-- Re-applied as a whole when any file in sql/functions/ changes (docs/migrations.md).

-- The largest metadata object, in bytes of its JSON text as stored: octet_length(metadata::text),
-- what every reader gets back (not pg_column_size, which is compressed).
CREATE OR REPLACE FUNCTION vehicles.metadata_max_bytes() RETURNS integer
LANGUAGE sql IMMUTABLE
AS $$ SELECT 16384 $$;
REVOKE ALL ON FUNCTION vehicles.metadata_max_bytes() FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.metadata_max_bytes() TO authenticated, service_role;

-- RFC 7396 JSON merge patch: null removes a key, objects merge recursively. One join of the
-- two objects' members per level, so a patch of n keys costs O(n), not n copies of the object.
CREATE OR REPLACE FUNCTION vehicles.metadata_merge(target jsonb, patch jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
  IF patch IS NULL OR jsonb_typeof(patch) <> 'object' THEN
    RETURN patch;
  END IF;
  RETURN (SELECT coalesce(jsonb_object_agg(coalesce(p.key, t.key),
                                           CASE WHEN p.key IS NULL THEN t.value
                                                ELSE vehicles.metadata_merge(t.value, p.value) END),
                          '{}'::jsonb)
            FROM jsonb_each(CASE WHEN jsonb_typeof(target) = 'object' THEN target
                                 ELSE '{}'::jsonb END) t
            FULL JOIN jsonb_each(patch) p ON p.key = t.key
           WHERE p.key IS NULL OR jsonb_typeof(p.value) <> 'null');
END
$$;
REVOKE ALL ON FUNCTION vehicles.metadata_merge(jsonb, jsonb) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.metadata_merge(jsonb, jsonb) TO authenticated, service_role;

-- The limit, for every writer (the service's functions, a migration, SQL access): a write may
-- not leave metadata above it unless it leaves it no larger than it was. So a row stored
-- above it before the limit held (a legacy row) can still be renamed, migrated or shrunk,
-- and a write that does not change metadata never fails on its size. Answered as 400
-- details.metadata (VS400: routes_db_error). Fired only by triggers, which need no grant.
CREATE OR REPLACE FUNCTION vehicles.metadata_check() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
  v_max integer := vehicles.metadata_max_bytes();
  v_len integer := octet_length(NEW.metadata::text);
BEGIN
  IF v_len > v_max AND (TG_OP = 'INSERT' OR v_len > octet_length(OLD.metadata::text)) THEN
    RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = 'metadata',
      DETAIL = format('must be at most %s bytes of JSON as stored', v_max);
  END IF;
  RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION vehicles.metadata_check() FROM PUBLIC, anon, authenticated, service_role;

-- UPDATE OF metadata: an update that does not name the column (a ride's total) never fires it.
DROP TRIGGER IF EXISTS metadata_check ON vehicles.user_bike;
CREATE TRIGGER metadata_check BEFORE INSERT OR UPDATE OF metadata ON vehicles.user_bike
  FOR EACH ROW EXECUTE FUNCTION vehicles.metadata_check();
DROP TRIGGER IF EXISTS metadata_check ON vehicles.user_part;
CREATE TRIGGER metadata_check BEFORE INSERT OR UPDATE OF metadata ON vehicles.user_part
  FOR EACH ROW EXECUTE FUNCTION vehicles.metadata_check();
DROP TRIGGER IF EXISTS metadata_check ON vehicles.maintenance_record;
CREATE TRIGGER metadata_check BEFORE INSERT OR UPDATE OF metadata ON vehicles.maintenance_record
  FOR EACH ROW EXECUTE FUNCTION vehicles.metadata_check();
