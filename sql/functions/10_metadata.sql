-- Metadata of bikes and parts: its size limit and the merge patch that updates it.
-- Re-applied as a whole when any file in sql/functions/ changes (docs/migrations.md).

-- The largest metadata object after a merge, in bytes of its JSON text.
CREATE OR REPLACE FUNCTION vehicles.metadata_max_bytes() RETURNS integer
LANGUAGE sql IMMUTABLE
AS $$ SELECT 16384 $$;
REVOKE ALL ON FUNCTION vehicles.metadata_max_bytes() FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.metadata_max_bytes() TO authenticated, service_role;

-- RFC 7396 JSON merge patch: null removes a key, objects merge recursively.
CREATE OR REPLACE FUNCTION vehicles.metadata_merge(target jsonb, patch jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
  k text;
  v jsonb;
  result jsonb;
BEGIN
  IF patch IS NULL OR jsonb_typeof(patch) <> 'object' THEN
    RETURN patch;
  END IF;
  result := CASE WHEN jsonb_typeof(target) = 'object' THEN target ELSE '{}'::jsonb END;
  FOR k, v IN SELECT * FROM jsonb_each(patch) LOOP
    IF jsonb_typeof(v) = 'null' THEN
      result := result - k;
    ELSE
      result := jsonb_set(result, ARRAY[k], vehicles.metadata_merge(result -> k, v));
    END IF;
  END LOOP;
  RETURN result;
END
$$;
REVOKE ALL ON FUNCTION vehicles.metadata_merge(jsonb, jsonb) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.metadata_merge(jsonb, jsonb) TO authenticated, service_role;
