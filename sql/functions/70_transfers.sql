-- Ownership transfer of a bike (with its parts) or a part, and its history.

-- The recipient: a confirmed account with that email (case-insensitive). Not the caller.
-- Granted to no one: only the transfer functions (security definer) call it.
CREATE OR REPLACE FUNCTION vehicles.recipient_find(p_email text) RETURNS uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  v_id uuid;
BEGIN
  SELECT u.id INTO v_id FROM auth.users u
   WHERE lower(u.email) = lower(p_email) AND u.email_confirmed_at IS NOT NULL
   ORDER BY u.created_at LIMIT 1;
  IF v_id IS NULL THEN
    -- One answer for "no such user" and "not confirmed": no account probing beyond that.
    RAISE EXCEPTION USING ERRCODE = 'VS409',
      MESSAGE = 'No confirmed account has that email address';
  END IF;
  IF v_id = auth.uid() THEN
    RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = 'new_owner_email',
      DETAIL = 'cannot transfer to yourself';
  END IF;
  RETURN v_id;
END
$$;
REVOKE ALL ON FUNCTION vehicles.recipient_find(text) FROM PUBLIC, anon, authenticated, service_role;

-- The notes of a transfer, checked as the worker checks them (api-notes: at most 2000
-- characters): VS400 naming the field. Internal.
CREATE OR REPLACE FUNCTION vehicles.transfer_notes_check(p_notes text) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = ''
AS $$
BEGIN
  IF char_length(p_notes) > 2000 THEN
    RAISE EXCEPTION USING ERRCODE = 'VS400', MESSAGE = 'notes',
      DETAIL = 'must be at most 2000 characters';
  END IF;
END
$$;
REVOKE ALL ON FUNCTION vehicles.transfer_notes_check(text)
  FROM PUBLIC, anon, authenticated, service_role;

-- A bike moves with every part installed on it, in one transaction, with the bike and those
-- parts locked (bike first, then parts by id: the global order), so nothing can be
-- installed, removed or logged halfway. Security definer: the rows change owner, which the
-- caller's own RLS policy (WITH CHECK user_id = caller) rightly forbids; ownership is
-- checked explicitly, before and after taking the locks. The bike and its parts move with
-- their kilometrage as it stands: from now on only the new owner's writes reach them
-- (api-notes, Kilometrage; vehicles.ride_credit).
CREATE OR REPLACE FUNCTION vehicles.bike_transfer(p_bike uuid, p_email text, p_notes text)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  v_me uuid := auth.uid();
  v_to uuid;
  v_parts uuid[];
  v_at timestamptz := now();
BEGIN
  PERFORM vehicles.gear_assert('bike', p_bike);
  PERFORM vehicles.transfer_notes_check(p_notes);
  v_to := vehicles.recipient_find(p_email);
  PERFORM vehicles.gear_lock('bike', p_bike);
  SELECT coalesce(array_agg(p.id ORDER BY p.id), '{}') INTO v_parts
    FROM (SELECT p.id FROM vehicles.user_part p
            JOIN vehicles.part_installation i ON i.part_id = p.id AND i.removed_at IS NULL
           WHERE i.bike_id = p_bike ORDER BY p.id FOR UPDATE OF p) p;
  -- The records the keys' cascades rewrite (their owners, 015), locked after the bike and
  -- parts, all in one statement, in the order every cascade and deletion of records reaches
  -- them (their indexes are on (bike_id or part_id, performed_at DESC), equal keys in heap
  -- order). Two transfers that share records (each cascades in two steps, parts then bike)
  -- or a transfer and a bike's or part's deletion then wait for each other, not deadlock.
  PERFORM 1 FROM vehicles.maintenance_record m
   WHERE m.bike_id = p_bike OR m.part_id = ANY (v_parts)
   ORDER BY m.performed_at DESC, m.ctid FOR NO KEY UPDATE;

  -- First the bike stops being the sender's active bike: the active bike's foreign key is
  -- on (active_bike_id, user_id), which a bike of another owner would break.
  UPDATE public.user_settings SET active_bike_id = NULL, updated_at = v_at
   WHERE user_id = v_me AND active_bike_id = p_bike;
  UPDATE vehicles.user_part SET user_id = v_to, updated_at = v_at WHERE id = ANY (v_parts);
  UPDATE vehicles.user_bike SET user_id = v_to, updated_at = v_at WHERE id = p_bike;

  INSERT INTO vehicles.ownership_history (entity_type, entity_id, previous_owner_id,
                                          new_owner_id, transferred_at, notes)
  SELECT 'bike'::vehicles.entity_type, p_bike, v_me, v_to, v_at, p_notes
  UNION ALL
  SELECT 'part'::vehicles.entity_type, unnest(v_parts), v_me, v_to, v_at, p_notes;

  RETURN jsonb_build_object('success', true, 'entity_type', 'bike', 'id', p_bike,
    'transferred_at', v_at, 'transferred_parts_count', cardinality(v_parts),
    'transferred_part_ids', to_jsonb(v_parts));
END
$$;
REVOKE ALL ON FUNCTION vehicles.bike_transfer(uuid, text, text)
  FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.bike_transfer(uuid, text, text) TO authenticated;

-- A part changes owner alone: if it is installed, it is removed first (installation
-- closed at the transfer time), as vehicles.part_remove does it. It moves with its
-- kilometrage as it stands: rides its old bikes' owners log later no longer reach it.
CREATE OR REPLACE FUNCTION vehicles.part_transfer(p_part uuid, p_email text, p_notes text)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ''
AS $$
DECLARE
  v_me uuid := auth.uid();
  v_to uuid;
  v_bike uuid;
  v_at timestamptz;
BEGIN
  PERFORM vehicles.gear_assert('part', p_part);
  PERFORM vehicles.transfer_notes_check(p_notes);
  v_to := vehicles.recipient_find(p_email);
  SELECT bike_id INTO v_bike FROM vehicles.part_installation
   WHERE part_id = p_part AND removed_at IS NULL;
  IF v_bike IS NOT NULL THEN
    PERFORM vehicles.part_remove(v_bike, p_part, NULL); -- locks bike, then part
  END IF;
  PERFORM vehicles.gear_lock('part', p_part);
  IF EXISTS (SELECT 1 FROM vehicles.part_installation WHERE part_id = p_part AND removed_at IS NULL) THEN
    RAISE EXCEPTION USING ERRCODE = 'VS409', MESSAGE = 'part was installed concurrently; retry';
  END IF;
  -- Its records, as bike_transfer locks them (after the part, in the cascades' order).
  PERFORM 1 FROM vehicles.maintenance_record m WHERE m.part_id = p_part
   ORDER BY m.performed_at DESC, m.ctid FOR NO KEY UPDATE;
  v_at := now();
  UPDATE vehicles.user_part SET user_id = v_to, updated_at = v_at WHERE id = p_part;
  INSERT INTO vehicles.ownership_history (entity_type, entity_id, previous_owner_id,
                                          new_owner_id, transferred_at, notes)
  VALUES ('part', p_part, v_me, v_to, v_at, p_notes);
  RETURN jsonb_build_object('success', true, 'entity_type', 'part', 'id', p_part,
    'transferred_at', v_at, 'transferred_parts_count', 1, 'removed_from_bike_id', v_bike);
END
$$;
REVOKE ALL ON FUNCTION vehicles.part_transfer(uuid, text, text)
  FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION vehicles.part_transfer(uuid, text, text) TO authenticated;
