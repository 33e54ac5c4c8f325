"""Helpers shared by the parts, installations, kilometrage, maintenance, transfer and race
tests: short calls that assert their success status, timestamps for request bodies, the
service-role client and the kilometrage invariant fixture.

    new_part(api, **fields)               POST /api/parts -> 201, the part
    install(api, bike, part, at=None)     POST .../install -> 201, the installation record
    remove(api, bike, part, at=None)      POST .../remove -> 200, the closed record
    ride(api, bike, distance, **fields)   POST /api/bikes/:id/kilometrage -> 201, the answer
    part_of(api, part) / bike_of(api, bike)  GET -> 200
    ts(delta)                             an RFC 3339 timestamp `delta` from now (UTC, 'Z')
    check_invariant                       fixture: vehicles.kilometrage_check() finds nothing new
                                          on this run's bikes and parts
    check_consistency                     fixture: no part on another owner's bike, none open
                                          on a deleted bike, one open installation per part
    run_parallel(fns)                     runs callables at once (a barrier), returns results
"""
import datetime
import threading
import time

import pytest

import support
from support import Api, assert_status, describe

DAY = datetime.timedelta(days=1)
HOUR = datetime.timedelta(hours=1)
MIN = datetime.timedelta(minutes=1)


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def ts(delta=datetime.timedelta(0), base=None):
    """RFC 3339 UTC with microseconds: now (or base) + delta."""
    t = (base or now()) + delta
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def ts_offset(delta=datetime.timedelta(0), hours=2):
    """The same instant written with a +HH:00 offset (RFC 3339 allows any offset)."""
    tz = datetime.timezone(datetime.timedelta(hours=hours))
    return (now() + delta).astimezone(tz).isoformat()


def utc_date(delta_days=0):
    return (now() + datetime.timedelta(days=delta_days)).date().isoformat()


def new_part(api, **fields):
    body = {"name": "Chain", "type": "chain"}
    body.update(fields)
    return assert_status(api.post("/api/parts", json=body), 201)


def new_bike(api, **fields):
    body = {"name": "Test bike", "type": "road"}
    body.update(fields)
    return assert_status(api.post("/api/bikes", json=body), 201)


def install(api, bike, part, at=None):
    body = {} if at is None else {"installed_at": at}
    r = api.post(f"/api/bikes/{_id(bike)}/parts/{_id(part)}/install", json=body)
    return assert_status(r, 201)


def remove(api, bike, part, at=None):
    body = {} if at is None else {"removed_at": at}
    r = api.post(f"/api/bikes/{_id(bike)}/parts/{_id(part)}/remove", json=body)
    return assert_status(r, 200)


def ride(api, bike, distance, headers=None, **fields):
    body = {"distance": distance}
    body.update(fields)
    r = api.post(f"/api/bikes/{_id(bike)}/kilometrage", json=body, headers=headers)
    return assert_status(r, 201)


def part_of(api, part, **params):
    return assert_status(api.get(f"/api/parts/{_id(part)}", params=params or None), 200)


def bike_of(api, bike, **params):
    return assert_status(api.get(f"/api/bikes/{_id(bike)}", params=params or None), 200)


def part_km(api, part):
    return part_of(api, part)["total_kilometrage"]


def bike_km(api, bike):
    return bike_of(api, bike)["total_kilometrage"]


def maint(api, kind, id, **fields):
    body = {"maintenance_type": "inspection", "description": "checked"}
    body.update(fields)
    return assert_status(api.post(f"/api/{kind}s/{_id(id)}/maintenance", json=body), 201)


def _id(x):
    return x["id"] if isinstance(x, dict) else x


def service_token(**over):
    claims = {"role": "service_role", "exp": int(time.time()) + 600}
    claims.update(over)
    return support.mint(claims)


def run_parallel(fns, timeout=30):
    """Runs each callable in its own thread, released together; returns their results in
    order. An exception in a callable is returned as the result (the caller asserts)."""
    barrier = threading.Barrier(len(fns))
    results = [None] * len(fns)

    def run(i, fn):
        try:
            barrier.wait(timeout=timeout)
            results[i] = fn()
        except Exception as e:  # noqa: BLE001 - reported by the caller
            results[i] = e

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(fns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    for i, r in enumerate(results):
        if isinstance(r, Exception):
            raise AssertionError(f"parallel call {i} raised {r!r}") from r
    return results


_OWNED = ("(SELECT b.id FROM vehicles.user_bike b WHERE b.user_id = ANY(%(users)s::uuid[])"
          " UNION ALL SELECT p.id FROM vehicles.user_part p WHERE p.user_id = ANY(%(users)s::uuid[]))")


def invariant_rows(db, users):
    """The rows of vehicles.kilometrage_check() about bikes and parts of `users` (the users
    this test run made: other runs against the same database are not ours to judge)."""
    rows = db.query("SELECT kind, id, expected, actual FROM vehicles.kilometrage_check()"
                    " WHERE id IN " + _OWNED, {"users": list(users)})
    return {tuple(str(c) for c in row) for row in rows}


@pytest.fixture
def check_invariant(db, _created_users):
    """After each test: vehicles.kilometrage_check() reports no violation on this run's bikes
    and parts that was not there before the test (so a violation fails the test that made it)."""
    before = invariant_rows(db, _created_users)
    yield
    new = invariant_rows(db, _created_users) - before
    assert not new, f"vehicles.kilometrage_check() reports violations: {sorted(new)}"


def open_installations(db, part_id):
    return db.query("SELECT id, bike_id FROM vehicles.part_installation"
                    " WHERE part_id = %s AND removed_at IS NULL", (part_id,))


__all__ = ["Api", "describe"]


def consistency_rows(db, users):
    """Installation states that must never exist (on this run's parts): an open installation
    on no bike (deleted), a part installed on a bike of another owner, more than one open
    installation of a part; and an installation or a maintenance record whose owners
    (migration 015, which its policies compare) are not its part's and bike's."""
    rows = db.query(
        "SELECT 'open_on_no_bike', i.part_id::text FROM vehicles.part_installation i"
        "  WHERE i.removed_at IS NULL AND i.bike_id IS NULL AND i.part_id IN " + _OWNED +
        " UNION ALL"
        " SELECT 'part_on_other_owners_bike', i.part_id::text FROM vehicles.part_installation i"
        "  JOIN vehicles.user_part p ON p.id = i.part_id JOIN vehicles.user_bike b ON b.id = i.bike_id"
        "  WHERE i.removed_at IS NULL AND p.user_id <> b.user_id"
        "   AND (p.user_id = ANY(%(users)s::uuid[]) OR b.user_id = ANY(%(users)s::uuid[]))"
        " UNION ALL"
        " SELECT 'several_open', part_id::text FROM vehicles.part_installation"
        "  WHERE removed_at IS NULL AND part_id IN " + _OWNED +
        "  GROUP BY part_id HAVING count(*) > 1"
        " UNION ALL"
        " SELECT 'installation_owner', i.id::text FROM vehicles.part_installation i"
        "  JOIN vehicles.user_part p ON p.id = i.part_id"
        "  WHERE i.part_owner_id IS DISTINCT FROM p.user_id AND p.user_id = ANY(%(users)s::uuid[])"
        " UNION ALL"
        " SELECT 'record_owner', m.id::text FROM vehicles.maintenance_record m"
        "  LEFT JOIN vehicles.user_bike b ON b.id = m.bike_id"
        "  LEFT JOIN vehicles.user_part p ON p.id = m.part_id"
        "  WHERE (m.bike_owner_id IS DISTINCT FROM b.user_id"
        "         OR m.part_owner_id IS DISTINCT FROM p.user_id)"
        "   AND (b.user_id = ANY(%(users)s::uuid[]) OR p.user_id = ANY(%(users)s::uuid[])"
        "        OR m.user_id = ANY(%(users)s::uuid[]))", {"users": list(users)})
    return {tuple(r) for r in rows}


@pytest.fixture
def check_consistency(db, _created_users):
    before = consistency_rows(db, _created_users)
    yield
    new = consistency_rows(db, _created_users) - before
    assert not new, f"inconsistent installations: {sorted(new)}"
