"""What every request passes through before and around its handler: the order of checks with
ownership declared in the route table, ids in bodies checked the same way, one snapshot per
read, and statements re-prepared after a schema change."""
import threading
import time

import psycopg2
import pytest

import support
from flows import install, maint, new_bike, new_part, service_token
from support import assert_error, assert_status, random_uuid


# ---- order of checks: token, id form, ownership, body/query, state -------------------------

def test_every_malformed_path_id_is_named(api):
    r = api.post("/api/bikes/not-a-uuid/parts/also-bad/install", json={})
    assert_error(r, 400, "validation_error", {"bike_id", "part_id"}, exact=True)


def test_ownership_answers_before_a_bad_query(api, other_api):
    theirs = new_bike(other_api)
    assert_error(api.get(f"/api/bikes/{theirs['id']}?unit=furlong"), 403, "forbidden")
    assert_error(api.get(f"/api/bikes/{random_uuid()}?unit=furlong"), 404, "not_found")
    assert_error(api.get(f"/api/bikes/{theirs['id']}/kilometrage?limit=0"), 403, "forbidden")
    # The caller's own bike: now the query's problem is the answer.
    mine = new_bike(api)
    assert_error(api.get(f"/api/bikes/{mine['id']}?unit=furlong"), 400, "validation_error", {"unit"})


def test_ownership_answers_before_a_bad_body(api, other_api):
    theirs = new_bike(other_api)
    part = new_part(api)
    for path, body in ((f"/api/bikes/{theirs['id']}", {"name": ""}),
                       (f"/api/bikes/{theirs['id']}/kilometrage", {"distance": -1}),
                       (f"/api/bikes/{theirs['id']}/parts/{part['id']}/install", {"installed_at": "x"})):
        assert_error(api.request("PATCH" if path.count("/") == 3 else "POST", path, json=body),
                     403, "forbidden")
    # Both ids of an install are checked, bike first.
    their_part = new_part(other_api)
    mine = new_bike(api)
    assert_error(api.post(f"/api/bikes/{mine['id']}/parts/{their_part['id']}/install"), 403, "forbidden")
    assert_error(api.post(f"/api/bikes/{random_uuid()}/parts/{their_part['id']}/install"), 404, "not_found")


def test_body_ids_are_checked_like_path_ids(api, other_api):
    mine = new_bike(api)
    my_part = new_part(api)
    their_part = new_part(other_api)
    their_bike = new_bike(other_api)
    body = {"maintenance_type": "repair", "description": "chain"}
    r = api.post(f"/api/bikes/{mine['id']}/maintenance", json=dict(body, part_id=their_part["id"]))
    assert_error(r, 403, "forbidden", {"part_id"}, exact=True)
    r = api.post(f"/api/bikes/{mine['id']}/maintenance", json=dict(body, part_id=random_uuid()))
    assert_error(r, 404, "not_found", {"part_id"}, exact=True)
    r = api.post(f"/api/parts/{my_part['id']}/maintenance", json=dict(body, bike_id=their_bike["id"]))
    assert_error(r, 403, "forbidden", {"bike_id"}, exact=True)
    # The path's own resource is reported without a body field.
    r = api.post(f"/api/bikes/{their_bike['id']}/maintenance", json=dict(body, part_id=my_part["id"]))
    body403 = assert_error(r, 403, "forbidden")
    assert "details" not in body403
    # And an id that is the caller's goes through.
    m = maint(api, "bike", mine, part_id=my_part["id"])
    assert m["part_id"] == my_part["id"]


# ---- one snapshot per read ------------------------------------------------------------------

class _Locker:
    """A superuser transaction that holds a table lock, so a request's later statement waits
    while this transaction writes; committing releases both at once."""

    def __init__(self, table):
        self.conn = psycopg2.connect(support.DATABASE_URL, connect_timeout=5)
        self.cur = self.conn.cursor()
        self.cur.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        self.table = table

    def wait_for_waiter(self, timeout=3.0):
        end = time.monotonic() + timeout
        with psycopg2.connect(support.DATABASE_URL, connect_timeout=5) as probe:
            probe.autocommit = True
            with probe.cursor() as cur:
                while time.monotonic() < end:
                    cur.execute("SELECT count(*) FROM pg_locks WHERE NOT granted"
                                " AND relation = %s::regclass", (self.table,))
                    if cur.fetchone()[0] > 0:
                        return
                    time.sleep(0.02)
        raise AssertionError(f"no request waited on {self.table}")

    def close(self, commit=True):
        if commit:
            self.conn.commit()
        else:
            self.conn.rollback()
        self.conn.close()


def _in_background(fn):
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("r", fn()))
    t.start()
    return t, out


def _add_bike_row(cur, user_id):
    cur.execute("INSERT INTO vehicles.user_bike (user_id, name, type) VALUES (%s, 'Sneaked in', 'road')",
                (user_id,))


def test_list_with_parts_sees_one_snapshot(user, api):
    bikes = []
    for name in ("older", "newer"):
        b = new_bike(api, name=name)
        install(api, b, new_part(api, name=f"chain of {name}"))
        bikes.append(b)
    # The parts statement waits on the lock while a third bike is committed; it must still
    # see the bikes the page listed.
    lock = _Locker("vehicles.part_installation")
    try:
        _add_bike_row(lock.cur, user.id)
        t, out = _in_background(lambda: api.get("/api/bikes?include_parts=true&limit=2"))
        lock.wait_for_waiter()
    finally:
        lock.close()
    t.join(15)
    r = out["r"]
    items = assert_status(r, 200)
    assert [b["name"] for b in items] == ["newer", "older"]
    assert r.headers["X-Total-Count"] == "2"
    for b in items:
        assert [p["name"] for p in b["parts"]] == [f"chain of {b['name']}"], b


def test_total_count_agrees_with_the_page(user, api):
    new_bike(api)
    lock = _Locker("public.user_settings")  # read by the page (is_active), not by the count
    try:
        _add_bike_row(lock.cur, user.id)
        t, out = _in_background(lambda: api.get("/api/bikes"))
        lock.wait_for_waiter()
    finally:
        lock.close()
    t.join(15)
    r = out["r"]
    items = assert_status(r, 200)
    # One snapshot for both: before the locker's bike (1 and 1), or, when the list cache's
    # generation read waited for the lock and the list ran after it, after it (2 and 2).
    assert r.headers["X-Total-Count"] == str(len(items))
    assert len(items) in (1, 2)


# ---- schema changes cost no request ---------------------------------------------------------

def _summary(client, uid):
    return client.get(f"/internal/bikes/user/{uid}/summary")


def test_schema_change_while_serving_costs_no_request(db, user, client):
    svc = client(service_token())
    # Warm every worker, so each holds a prepared statement for the summary.
    for _ in range(16):
        assert_status(_summary(svc, user.id), 200)
    (definition, acl), = db.query(
        "SELECT pg_get_functiondef(p.oid), coalesce(p.proacl::text[], '{}') FROM pg_proc p"
        " WHERE p.oid = 'vehicles.summary_get(uuid)'::regprocedure")
    # A new release's migration: the function answers one more column.
    changed = definition.replace("bikes_needing_maintenance integer)",
                                 "bikes_needing_maintenance integer, schema_probe integer)")
    changed = changed.replace("::integer\n$function$", "::integer, 7\n$function$")
    assert changed != definition
    try:
        db.execute("DROP FUNCTION vehicles.summary_get(uuid)")
        db.execute(changed)
        db.execute("GRANT EXECUTE ON FUNCTION vehicles.summary_get(uuid) TO service_role")
        for _ in range(16):
            body = assert_status(_summary(svc, user.id), 200)
            assert body["schema_probe"] == 7 and body["total_bikes"] == 0
    finally:
        db.execute("DROP FUNCTION IF EXISTS vehicles.summary_get(uuid)")
        db.execute(definition)
        db.execute("REVOKE ALL ON FUNCTION vehicles.summary_get(uuid) FROM PUBLIC")
        for item in acl:
            grantee = item.split("=", 1)[0]
            if grantee:
                db.execute(f'GRANT EXECUTE ON FUNCTION vehicles.summary_get(uuid) TO "{grantee}"')
    for _ in range(16):
        body = assert_status(_summary(svc, user.id), 200)
        assert "schema_probe" not in body
