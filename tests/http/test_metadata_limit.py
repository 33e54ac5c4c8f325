"""The metadata limit (issue 9, point 1): 16384 bytes, measured one way everywhere.

What is measured is the stored form, octet_length(metadata::text) of the jsonb (what every
reader gets back; jsonb writes ", " and ": " and numbers in plain decimal, so it is neither the
text the client sent nor json-c's compact text), at create and at patch (the merged result),
for bikes, parts and maintenance records. The database holds it for every writer
(vehicles.metadata_check, a trigger on the three tables): a write may not leave metadata above
the limit unless it leaves it no larger than it was, so a row stored above it before (legacy)
can still be renamed; a violation is 400 with details.metadata, never 500.
"""
import json

import psycopg2
import pytest

import support
from flows import new_bike, new_part
from support import assert_error, assert_status

JSON = {"Content-Type": "application/json"}
LIMIT = 16384
PROBLEM = f"must be at most {LIMIT} bytes of JSON as stored"
KINDS = ["bike", "part"]
TYPE = {"bike": "road", "part": "chain"}
TABLE = {"bike": "vehicles.user_bike", "part": "vehicles.user_part"}


def stored_len(db, raw, target=None):
    """octet_length of raw as jsonb text; with target, of the merge patch raw applied to it."""
    if target is None:
        return db.query("SELECT octet_length(%s::jsonb::text)", (raw,))[0][0]
    return db.query("SELECT octet_length(vehicles.metadata_merge(%s::jsonb, %s::jsonb)::text)",
                    (target, raw))[0][0]


def sized(db, size, extra="", target=None, head=""):
    """Raw metadata text {<head>"k":"xxx..."<extra>} whose stored form (or, with target, the
    merge's) is exactly size bytes: each x is one byte, in every form."""
    def text(n):
        return '{%s"k":"%s"%s}' % (head, "x" * n, extra)
    base = stored_len(db, text(100), target)
    raw = text(100 + size - base)
    assert stored_len(db, raw, target) == size
    return raw


def create(api, kind, meta_raw):
    raw = '{"name":"Big","type":"%s","metadata":%s}' % (TYPE[kind], meta_raw)
    return api.post(f"/api/{kind}s", data=raw, headers=JSON)


def stored(db, kind, id):
    return db.query(f"SELECT octet_length(metadata::text) FROM {TABLE[kind]} WHERE id = %s",
                    (id,))[0][0]


def assert_metadata_400(resp):
    body = assert_error(resp, 400, "validation_error", {"metadata"}, exact=True)
    assert body["details"]["metadata"] == PROBLEM, body
    return body


def legacy(kind, user_id, meta_raw):
    """A row written before the limit held: inserted with triggers off (replica role)."""
    conn = psycopg2.connect(support.DATABASE_URL, connect_timeout=5)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SET LOCAL session_replication_role = replica")
            if kind == "maintenance":
                bike_id, raw = meta_raw
                # With its bike's owner, as migration 015 left every older record (the
                # trigger that fills it is off here too).
                cur.execute("INSERT INTO vehicles.maintenance_record (user_id, bike_id,"
                            " bike_owner_id, maintenance_type, description, metadata) VALUES"
                            " (%s, %s, %s, 'cleaning', 'old', %s::jsonb) RETURNING id::text",
                            (user_id, bike_id, user_id, raw))
            else:
                cur.execute(f"INSERT INTO {TABLE[kind]} (user_id, name, type, metadata)"
                            " VALUES (%s, 'old', %s, %s::jsonb) RETURNING id::text",
                            (user_id, TYPE[kind], meta_raw))
            return cur.fetchone()[0]
    finally:
        conn.close()


@pytest.mark.parametrize("kind", KINDS)
def test_create_at_the_limit_then_rename(api, db, kind):
    raw = sized(db, LIMIT)
    thing = assert_status(create(api, kind, raw), 201)
    assert stored(db, kind, thing["id"]) == LIMIT
    assert thing["metadata"] == json.loads(raw)
    # Before: the create measured json-c's compact text, the patch the stored one, so a
    # bike created near the limit could never be renamed.
    for patch in ({"name": "renamed"}, {"brand": "Canyon"}, {"metadata": {"k": None}},
                  {"metadata": json.loads(raw)}):
        r = api.patch(f"/api/{kind}s/{thing['id']}", json=patch)
        assert_status(r, 200)
    assert stored(db, kind, thing["id"]) == LIMIT


@pytest.mark.parametrize("kind", KINDS)
def test_create_one_byte_over_is_400(api, db, kind):
    raw = sized(db, LIMIT + 1)
    assert len(raw) == LIMIT  # its compact text, which was measured before, fits
    assert_metadata_400(create(api, kind, raw))
    assert assert_status(api.get(f"/api/{kind}s"), 200) == []


@pytest.mark.parametrize("kind", KINDS)
def test_create_judged_by_the_stored_form_not_the_text_sent(api, db, kind):
    # 0.000000000000001e15 is stored as 1: the text sent is longer than the limit, the stored
    # form is exactly the limit.
    extra = "," + ",".join('"z%d":0.000000000000001e15' % i for i in range(20))
    raw = sized(db, LIMIT, extra)
    assert len(raw) > LIMIT + 200
    thing = assert_status(create(api, kind, raw), 201)
    assert stored(db, kind, thing["id"]) == LIMIT
    assert thing["metadata"]["z0"] == 1
    assert_metadata_400(create(api, kind, sized(db, LIMIT + 1, extra)))


@pytest.mark.parametrize("kind", KINDS)
def test_patch_to_the_limit_and_one_over(api, db, kind):
    thing = new_bike(api, metadata={"a": 1}) if kind == "bike" else new_part(api, metadata={"a": 1})
    target = json.dumps(thing["metadata"])
    over = sized(db, LIMIT + 1, target=target)
    r = api.patch(f"/api/{kind}s/{thing['id']}", data='{"metadata":%s}' % over, headers=JSON)
    assert_metadata_400(r)
    got = assert_status(api.get(f"/api/{kind}s/{thing['id']}"), 200)
    assert got["metadata"] == {"a": 1} and got["updated_at"] == thing["updated_at"]
    at = sized(db, LIMIT, target=target)
    r = api.patch(f"/api/{kind}s/{thing['id']}", data='{"metadata":%s}' % at, headers=JSON)
    assert assert_status(r, 200)["metadata"]["a"] == 1
    assert stored(db, kind, thing["id"]) == LIMIT
    # Full: one more key is refused, a rename is not.
    assert_metadata_400(api.patch(f"/api/{kind}s/{thing['id']}", json={"metadata": {"b": 1}}))
    assert_status(api.patch(f"/api/{kind}s/{thing['id']}", json={"name": "renamed"}), 200)


@pytest.mark.parametrize("kind", KINDS)
def test_patch_judged_by_the_merged_result_not_the_patch_text(api, db, kind):
    # The patch's own text is over the limit (it removes a key with null); the result is not.
    thing = new_bike(api) if kind == "bike" else new_part(api)
    target = json.dumps({"old": "y" * 200})
    r = api.patch(f"/api/{kind}s/{thing['id']}", data='{"metadata":%s}' % target, headers=JSON)
    assert_status(r, 200)
    raw = sized(db, LIMIT, target=target, head='"old":null,"pad":null,"pad2":null,')
    assert len(raw) > LIMIT
    r = api.patch(f"/api/{kind}s/{thing['id']}", data='{"metadata":%s}' % raw, headers=JSON)
    assert "old" not in assert_status(r, 200)["metadata"]
    assert stored(db, kind, thing["id"]) == LIMIT


@pytest.mark.parametrize("kind", KINDS)
def test_legacy_row_over_the_limit_can_be_renamed_but_not_grown(api, db, user, kind):
    size = LIMIT + 4000
    id = legacy(kind, user.id, sized(db, size))  # {"k": "x" * (size - 9)}
    # A patch that does not change metadata never fails on its size.
    r = api.patch(f"/api/{kind}s/{id}", json={"name": "renamed"})
    assert assert_status(r, 200)["name"] == "renamed"
    assert stored(db, kind, id) == size
    # One that makes it larger is refused; one that makes it smaller is not, even while it
    # stays above the limit.
    assert_metadata_400(api.patch(f"/api/{kind}s/{id}", json={"metadata": {"more": 1}}))
    r = api.patch(f"/api/{kind}s/{id}", json={"metadata": {"k": "x" * (size - 9 - 100)}})
    assert_status(r, 200)
    assert stored(db, kind, id) == size - 100
    r = api.patch(f"/api/{kind}s/{id}", json={"metadata": {"k": "short"}})
    assert assert_status(r, 200)["metadata"] == {"k": "short"}
    assert_metadata_400(api.patch(f"/api/{kind}s/{id}", json={"metadata": {"k": "x" * LIMIT}}))


@pytest.mark.parametrize("kind", KINDS)
def test_maintenance_record_at_the_limit_and_one_over(api, db, kind):
    thing = new_bike(api) if kind == "bike" else new_part(api)
    url = f"/api/{kind}s/{thing['id']}/maintenance"

    def post(meta_raw):
        raw = '{"maintenance_type":"cleaning","description":"d","metadata":%s}' % meta_raw
        return api.post(url, data=raw, headers=JSON)

    assert_metadata_400(post(sized(db, LIMIT + 1)))
    assert assert_status(api.get(url), 200) == []
    rec = assert_status(post(sized(db, LIMIT)), 201)
    assert db.query("SELECT octet_length(metadata::text) FROM vehicles.maintenance_record"
                    " WHERE id = %s", (rec["id"],))[0][0] == LIMIT
    extra = "," + ",".join('"z%d":0.000000000000001e15' % i for i in range(20))
    raw = sized(db, LIMIT, extra)
    assert len(raw) > LIMIT
    assert_status(post(raw), 201)


def test_every_writer_is_held_by_the_database(db, user, api):
    # SQL that is not the service's (a migration, the dashboard) meets the same limit.
    bike = new_bike(api)
    over = sized(db, LIMIT + 1)
    for sql, args in [
        ("INSERT INTO vehicles.user_bike (user_id, name, type, metadata)"
         " VALUES (%s, 'sql', 'road', %s::jsonb)", (user.id, over)),
        ("INSERT INTO vehicles.user_part (user_id, name, type, metadata)"
         " VALUES (%s, 'sql', 'chain', %s::jsonb)", (user.id, over)),
        ("INSERT INTO vehicles.maintenance_record (user_id, bike_id, maintenance_type,"
         " description, metadata) VALUES (%s, %s, 'cleaning', 'sql', %s::jsonb)",
         (user.id, bike["id"], over)),
        ("UPDATE vehicles.user_bike SET metadata = %s::jsonb WHERE id = %s", (over, bike["id"])),
    ]:
        with pytest.raises(psycopg2.Error) as e:
            db.execute(sql, args)
        assert e.value.pgcode == "VS400" and e.value.diag.message_primary == "metadata", sql
        assert e.value.diag.message_detail == PROBLEM
    assert db.execute("UPDATE vehicles.user_bike SET metadata = %s::jsonb WHERE id = %s",
                      (sized(db, LIMIT), bike["id"])) == 1


def test_legacy_maintenance_record_can_be_edited_but_not_grown(db, user, api):
    bike = new_bike(api)
    rec = legacy("maintenance", user.id, (bike["id"], sized(db, LIMIT + 100)))
    # Other columns, and the unchanged metadata, never fail on its size.
    assert db.execute("UPDATE vehicles.maintenance_record SET description = 'edited',"
                      " metadata = metadata WHERE id = %s", (rec,)) == 1
    with pytest.raises(psycopg2.Error) as e:
        db.execute("UPDATE vehicles.maintenance_record SET metadata = metadata || '{\"b\": 1}'"
                   " WHERE id = %s", (rec,))
    assert e.value.pgcode == "VS400"
    assert db.execute("UPDATE vehicles.maintenance_record SET metadata = metadata - 'k'"
                      " WHERE id = %s", (rec,)) == 1
    listed = assert_status(api.get(f"/api/bikes/{bike['id']}/maintenance"), 200)
    assert [m["description"] for m in listed] == ["edited"]
