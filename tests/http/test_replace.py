"""Replacing a part in one step (issue 14 point 2):
POST /api/bikes/:bike_id/parts/:part_id/replace {"new_part_id", "at"?, "retire_old"?}. The old
part comes off at `at`, the new one goes on at `at`, the old one is retired (unless
retire_old is false) and its service intervals are copied to the new one with their baseline
at `at`; 201 {"removed", "installed"}. Every refusal changes nothing."""
import contextlib
import datetime
import threading
import time

import psycopg2
import pytest

from flows import (DAY, HOUR, MIN, bike_of, install, new_bike, new_part, part_of, remove,
                   ride, run_parallel, ts)
from flows import check_invariant  # noqa: F401 (fixtures)
from support import (RFC3339_UTC, UUID_RE, assert_error, assert_status, describe, parse_ts,
                     random_uuid)

pytestmark = pytest.mark.usefixtures("check_invariant")

US = datetime.timedelta(microseconds=1)
INST_KEYS = {"id", "created_at", "part_id", "bike_id", "installed_at", "removed_at"}


def _path(bike, part):
    return f"/api/bikes/{bike['id'] if isinstance(bike, dict) else bike}/parts/" \
           f"{part['id'] if isinstance(part, dict) else part}/replace"


def _iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def replace(api, bike, old, new, **body):
    body = {"new_part_id": new["id"], **body}
    return assert_status(api.post(_path(bike, old), json=body), 201)


def _state(db, api, bike, *parts):
    """What a refused replace must leave as it was: the bike's and parts' objects (totals,
    status) and every installation row of the parts, and their intervals."""
    ids = [p["id"] for p in parts]
    return (bike_of(api, bike),
            [part_of(api, p) for p in parts],
            db.query("SELECT id, part_id, bike_id, installed_at, removed_at"
                     " FROM vehicles.part_installation WHERE part_id = ANY(%s::uuid[])"
                     " ORDER BY id", (ids,)),
            db.query("SELECT id, part_id, created_at FROM vehicles.service_interval"
                     " WHERE part_id = ANY(%s::uuid[]) ORDER BY id", (ids,)))


@pytest.fixture
def setup(api):
    """A bike with an old chain on it since five days ago and rides, and a new chain."""
    b = new_bike(api)
    old = new_part(api, name="old chain", initial_kilometrage=100)
    new = new_part(api, name="new chain", initial_kilometrage=0.5)
    old_inst = install(api, b, old, at=ts(-5 * DAY))
    return b, old, new, old_inst


# ---- what a replace does ----------------------------------------------------------------

def test_replace_backdated_moves_the_rides_exactly(api, setup):
    b, old, new, old_inst = setup
    at = _now() - 3 * DAY
    ride(api, b, 10, logged_at=_iso(at - US), moving_time_s=1000)
    ride(api, b, 20, logged_at=_iso(at), moving_time_s=2000)   # at the instant: the new part's
    ride(api, b, 7.125, logged_at=ts(-1 * DAY), moving_time_s=700)
    ride(api, b, 1)
    r = api.post(_path(b, old), json={"new_part_id": new["id"], "at": _iso(at)})
    got = assert_status(r, 201)
    assert set(got) == {"removed", "installed"}, describe(r)
    rem, ins = got["removed"], got["installed"]
    assert set(rem) == INST_KEYS and set(ins) == INST_KEYS
    assert rem["id"] == old_inst["id"] and rem["part_id"] == old["id"] and rem["bike_id"] == b["id"]
    assert rem["installed_at"] == old_inst["installed_at"] and parse_ts(rem["removed_at"]) == at
    assert UUID_RE.match(ins["id"]) and ins["id"] != rem["id"]
    assert ins["part_id"] == new["id"] and ins["bike_id"] == b["id"] and ins["removed_at"] is None
    assert parse_ts(ins["installed_at"]) == at and RFC3339_UTC.match(ins["created_at"])
    o, n = part_of(api, old), part_of(api, new)
    assert o["total_kilometrage"] == 110 and o["total_moving_time_s"] == 1000, o
    assert n["total_kilometrage"] == 28.625 and n["total_moving_time_s"] == 2700, n
    assert o["status"] == "retired" and parse_ts(o["retired_at"]) == at and o["retire_reason"] is None
    assert o["current_bike_id"] is None
    assert n["status"] == "installed" and n["current_bike_id"] == b["id"]
    assert [x["id"] for x in n["installations"]] == [ins["id"]]
    bk = bike_of(api, b)
    assert bk["total_kilometrage"] == 38.125 and bk["total_moving_time_s"] == 3700
    assert [x["id"] for x in bk["parts"]] == [new["id"]]
    # Later rides reach the new part only.
    assert [x["id"] for x in ride(api, b, 2)["affected_parts"]] == [new["id"]]


def test_replace_now_by_default(api, setup):
    b, old, new, _ = setup
    ride(api, b, 4, logged_at=ts(-1 * DAY))
    before = _now()
    got = replace(api, b, old, new)
    at = parse_ts(got["installed"]["installed_at"])
    assert got["removed"]["removed_at"] == got["installed"]["installed_at"]
    assert before - MIN < at < before + MIN
    assert part_of(api, old)["total_kilometrage"] == 104
    assert part_of(api, new)["total_kilometrage"] == 0.5
    assert part_of(api, old)["retired_at"] == got["removed"]["removed_at"]


def test_replace_with_retire_old_false_keeps_the_old_part_in_service(api, setup):
    b, old, new, _ = setup
    got = replace(api, b, old, new, retire_old=False, at=ts(-1 * DAY))
    o = part_of(api, old)
    assert o["status"] == "stored" and o["retired_at"] is None, o
    # It can go on again (on another bike), from the moment it came off.
    y = new_bike(api, name="Y")
    install(api, y, old, at=got["removed"]["removed_at"])
    assert replace(api, b, new, new_part(api, name="third"), retire_old=True)["installed"]


def test_replace_with_retire_old_true_or_null(api, setup):
    b, old, new, _ = setup
    replace(api, b, old, new, retire_old=None)
    assert part_of(api, old)["status"] == "retired"
    third = new_part(api, name="third")
    replace(api, b, new, third, retire_old=True)
    assert part_of(api, new)["status"] == "retired"


def test_replace_copies_the_intervals_with_baseline_at(api, setup):
    b, old, new, _ = setup
    a = assert_status(api.post(f"/api/parts/{old['id']}/intervals",
                               json={"task": "Lube chain", "every_distance": 100}), 201)
    c = assert_status(api.post(f"/api/parts/{old['id']}/intervals",
                               json={"task": "Check wear", "every_days": 30,
                                     "every_moving_hours": 12.5, "warn_at_pct": 60}), 201)
    own = assert_status(api.post(f"/api/parts/{new['id']}/intervals",
                                 json={"task": "Its own", "every_days": 9}), 201)
    at = _now() - 2 * DAY
    ride(api, b, 30, logged_at=_iso(at), moving_time_s=3600)        # at `at`: not after it
    ride(api, b, 40, logged_at=_iso(at + HOUR), moving_time_s=7200)
    replace(api, b, old, new, at=_iso(at))
    got = assert_status(api.get(f"/api/parts/{new['id']}/intervals"), 200)
    copies = [x for x in got if x["id"] != own["id"]]
    assert len(got) == 3 and len(copies) == 2, got
    fields = ("task", "every_distance", "every_moving_hours", "every_days", "warn_at_pct")
    assert sorted(tuple(x[f] for f in fields) for x in copies) == \
        sorted(tuple(x[f] for f in fields) for x in (a, c))
    for x in copies:
        assert x["part_id"] == new["id"] and x["bike_id"] is None
        assert x["id"] not in (a["id"], c["id"])
        assert parse_ts(x["created_at"]) == at and parse_ts(x["status"]["since"]) == at, x
    lube = next(x for x in copies if x["task"] == "Lube chain")
    assert lube["status"]["distance"] == 40 and lube["status"]["pct"] == 40, lube
    wear = next(x for x in copies if x["task"] == "Check wear")
    assert wear["status"]["moving_hours"] == 2 and wear["status"]["days"] == 2, wear
    # The old part keeps its own, unchanged.
    kept = assert_status(api.get(f"/api/parts/{old['id']}/intervals"), 200)
    assert sorted(x["id"] for x in kept) == sorted([a["id"], c["id"]])


def test_replace_on_a_part_without_intervals_copies_none(api, setup):
    b, old, new, _ = setup
    replace(api, b, old, new)
    assert assert_status(api.get(f"/api/parts/{new['id']}/intervals"), 200) == []


def test_replace_with_a_part_that_was_on_another_bike(api, setup):
    b, old, new, _ = setup
    y = new_bike(api, name="Y")
    install(api, y, new, at=ts(-4 * DAY))
    ride(api, y, 3, logged_at=ts(-3 * DAY))
    off = remove(api, y, new, at=ts(-2 * DAY))
    got = replace(api, b, old, new, at=off["removed_at"])  # from its removal on: fine
    assert got["installed"]["installed_at"] == off["removed_at"]
    assert part_of(api, new)["total_kilometrage"] == 3.5


# ---- refusals: 400 -----------------------------------------------------------------------

@pytest.mark.parametrize("body,field", [
    ({}, "new_part_id"),
    ({"new_part_id": None}, "new_part_id"),
    ({"new_part_id": "nope"}, "new_part_id"),
    ({"new_part_id": 5}, "new_part_id"),
    ({"new_part_id": "SELF"}, "new_part_id"),
    ({"new_part_id": "self"}, "new_part_id"),
    ({"new_part_id": "NEW", "at": "yesterday"}, "at"),
    ({"new_part_id": "NEW", "at": "2024-01-15T10:00:00"}, "at"),
    ({"new_part_id": "NEW", "retire_old": "yes"}, "retire_old"),
    ({"new_part_id": "NEW", "retire_old": 1}, "retire_old"),
    ({"new_part_id": "NEW", "reason": "worn"}, "reason"),
])
def test_replace_bad_body_is_400(db, api, setup, body, field):
    b, old, new, _ = setup
    for k, v in list(body.items()):
        if v == "NEW":
            body[k] = new["id"]
        elif v == "SELF":
            body[k] = old["id"].upper()
        elif v == "self":
            body[k] = old["id"]
    before = _state(db, api, b, old, new)
    assert_error(api.post(_path(b, old), json=body), 400, "validation_error", {field}, exact=True)
    assert _state(db, api, b, old, new) == before


def test_replace_without_a_body_is_400(api, setup):
    b, old, _, _ = setup
    assert_error(api.post(_path(b, old)), 400, "validation_error")


def test_replace_route_ownership_comes_first(api, other_api, setup):
    b, old, new, _ = setup
    their_bike = new_bike(other_api)
    their_part = new_part(other_api)
    assert_error(api.post(_path(their_bike, old), json={}), 403, "forbidden")
    assert_error(api.post(_path(b, their_part), json={"new_part_id": "x"}), 403, "forbidden")
    assert_error(api.post(_path(random_uuid(), old), json={}), 404, "not_found")
    assert_error(api.post(_path(b, random_uuid()), json={"new_part_id": new["id"]}), 404,
                 "not_found")
    assert_error(api.post(_path("nope", old), json={}), 400, "validation_error", {"bike_id"})


def test_replace_new_part_missing_or_another_users_names_it(db, api, other_api, setup):
    b, old, new, _ = setup
    theirs = new_part(other_api)
    before = _state(db, api, b, old, new)
    got = assert_error(api.post(_path(b, old), json={"new_part_id": random_uuid()}), 404,
                       "not_found", {"new_part_id"}, exact=True)
    assert got["details"]["new_part_id"] == "not found"
    got = assert_error(api.post(_path(b, old), json={"new_part_id": theirs["id"]}), 403,
                       "forbidden", {"new_part_id"}, exact=True)
    assert got["details"]["new_part_id"] == "belongs to another user"
    # Before the times: a future `at` with a missing new part is still the 404.
    assert_error(api.post(_path(b, old), json={"new_part_id": random_uuid(), "at": ts(HOUR)}),
                 404, "not_found", {"new_part_id"})
    assert _state(db, api, b, old, new) == before
    assert part_of(other_api, theirs)["status"] == "stored"


def test_replace_in_the_future_is_400(db, api, setup):
    b, old, new, _ = setup
    before = _state(db, api, b, old, new)
    got = assert_error(api.post(_path(b, old), json={"new_part_id": new["id"], "at": ts(10 * MIN)}),
                       400, "validation_error", {"at"}, exact=True)
    assert got["details"]["at"] == "must not be in the future"
    assert _state(db, api, b, old, new) == before
    got = replace(api, b, old, new, at=ts(2 * MIN))  # within the clock-skew allowance
    assert got["installed"]["removed_at"] is None


def test_replace_before_the_old_installation_began_is_400(db, api):
    b = new_bike(api)
    old = new_part(api, name="old")
    new = new_part(api, name="new")
    t = _now() - 2 * DAY
    install(api, b, old, at=_iso(t))
    before = _state(db, api, b, old, new)
    got = assert_error(api.post(_path(b, old), json={"new_part_id": new["id"], "at": _iso(t - US)}),
                       400, "validation_error", {"at"}, exact=True)
    assert got["details"]["at"].startswith("must not be before the old part's installation began (")
    assert _state(db, api, b, old, new) == before
    got = replace(api, b, old, new, at=_iso(t))  # at the very instant: fine
    assert parse_ts(got["installed"]["installed_at"]) == t


def test_replace_before_the_new_parts_last_removal_is_400(db, api, setup):
    b, old, new, _ = setup
    y = new_bike(api, name="Y")
    install(api, y, new, at=ts(-4 * DAY))
    t = _now() - 2 * DAY
    remove(api, y, new, at=_iso(t))
    before = _state(db, api, b, old, new)
    got = assert_error(api.post(_path(b, old), json={"new_part_id": new["id"], "at": _iso(t - US)}),
                       400, "validation_error", {"at"}, exact=True)
    assert got["details"]["at"].startswith(
        "must not be before the end of the new part's previous installation ("), got
    assert _state(db, api, b, old, new) == before
    assert parse_ts(replace(api, b, old, new, at=_iso(t))["installed"]["installed_at"]) == t


def test_replace_before_the_new_part_came_back_into_service_is_400(db, api, setup):
    b, old, new, _ = setup
    assert_status(api.post(f"/api/parts/{new['id']}/retire", json={"retired_at": ts(-4 * DAY)}), 200)
    assert_status(api.post(f"/api/parts/{new['id']}/unretire"), 200)
    back = db.query("SELECT unretired_at FROM vehicles.user_part WHERE id = %s", (new["id"],))[0][0]
    before = _state(db, api, b, old, new)
    got = assert_error(api.post(_path(b, old), json={"new_part_id": new["id"],
                                                    "at": _iso(back - US)}),
                       400, "validation_error", {"at"}, exact=True)
    assert got["details"]["at"].startswith("must not be before the new part came back into service (")
    assert _state(db, api, b, old, new) == before
    assert parse_ts(replace(api, b, old, new, at=_iso(back))["installed"]["installed_at"]) == back


def test_replace_times_come_before_the_states(db, api):
    b = new_bike(api)
    old = new_part(api, name="not on the bike")
    new = new_part(api, name="new")
    # The old part is not installed (a 409), but the future `at` is answered first.
    assert_error(api.post(_path(b, old), json={"new_part_id": new["id"], "at": ts(HOUR)}), 400,
                 "validation_error", {"at"})
    assert_error(api.post(_path(b, old), json={"new_part_id": new["id"]}), 409, "conflict")


# ---- refusals: 409, each changing nothing --------------------------------------------------

def _conflict(db, api, b, old, new, message, parts=()):
    before = _state(db, api, b, old, new, *parts)
    got = assert_error(api.post(_path(b, old), json={"new_part_id": new["id"]}), 409, "conflict")
    assert got["message"] == message, got
    assert _state(db, api, b, old, new, *parts) == before


def test_replace_old_part_not_on_this_bike_is_409(db, api, setup):
    b, old, new, _ = setup
    y = new_bike(api, name="Y")
    stored = new_part(api, name="stored")
    ride(api, b, 5)
    _conflict(db, api, b, stored, new, "part is not installed on this bike")
    _conflict(db, api, y, old, new, "part is not installed on this bike", parts=[stored])
    gone = new_part(api, name="retired")
    assert_status(api.post(f"/api/parts/{gone['id']}/retire"), 200)
    _conflict(db, api, b, gone, new, "part is not installed on this bike")


def test_replace_with_a_new_part_installed_anywhere_is_409(db, api, setup):
    b, old, new, _ = setup
    ride(api, b, 5)
    install(api, b, new)  # on the same bike
    _conflict(db, api, b, old, new, "new part is installed on a bike; remove it first")
    remove(api, b, new)
    y = new_bike(api, name="Y")
    install(api, y, new)  # on another bike
    _conflict(db, api, b, old, new, "new part is installed on a bike; remove it first")


def test_replace_with_a_retired_new_part_is_409(db, api, setup):
    b, old, new, _ = setup
    ride(api, b, 5)
    assert_status(api.post(f"/api/parts/{new['id']}/retire", json={"retired_at": ts(-1 * DAY)}),
                  200)
    _conflict(db, api, b, old, new, "new part is retired; unretire it first")


# ---- a replace racing a ride on the same bike ---------------------------------------------

def test_replace_racing_rides_keeps_totals_exact(api):
    for i in range(8):
        b = new_bike(api, name=f"race {i}")
        old = new_part(api, name="old")
        new = new_part(api, name="new")
        install(api, b, old, at=ts(-1 * DAY))
        ride_body = {"distance": 3.5, "moving_time_s": 35}
        if i % 2:
            ride_body["logged_at"] = ts(-1 * HOUR)  # backdated across a backdated `at`
        rep_body = {"new_part_id": new["id"]}
        if i % 2:
            rep_body["at"] = ts(-2 * HOUR)
        r1, r2, rep = run_parallel([
            lambda: api.post(f"/api/bikes/{b['id']}/kilometrage", json=ride_body),
            lambda: api.post(f"/api/bikes/{b['id']}/kilometrage", json=ride_body),
            lambda: api.post(_path(b, old), json=rep_body)])
        assert (r1.status_code, r2.status_code, rep.status_code) == (201, 201, 201), \
            (describe(r1), describe(r2), describe(rep))
        o, n = part_of(api, old), part_of(api, new)
        # Each ride reached exactly one of the two parts.
        assert o["total_kilometrage"] + n["total_kilometrage"] == 7, (o, n)
        assert o["total_moving_time_s"] + n["total_moving_time_s"] == 70, (o, n)
        assert bike_of(api, b)["total_kilometrage"] == 7
        if i % 2:
            assert n["total_kilometrage"] == 7


@contextlib.contextmanager
def bike_lock_held(db, bike):
    """The bike's row locked by another transaction, as a ride on it holds it. FOR NO KEY
    UPDATE, which a ride's FOR UPDATE also conflicts with, but a foreign key's share lock
    does not: what waits for it takes the bike's row lock itself."""
    conn = psycopg2.connect(db.dsn, connect_timeout=5)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM vehicles.user_bike WHERE id = %s FOR NO KEY UPDATE",
                        (bike["id"],))
        yield
    finally:
        conn.rollback()
        conn.close()


def waits_for_the_bike(db, bike, call):
    """Whether call() waits while the bike is locked (then answers once it is free)."""
    done = {}
    with bike_lock_held(db, bike):
        t = threading.Thread(target=lambda: done.setdefault("r", call()))
        t.start()
        time.sleep(0.8)
        waited = "r" not in done
    t.join(10)
    return waited, done.get("r")


def test_replace_locks_the_bike_first(db, api, setup):
    # A ride locks its bike before it credits the parts on it: a replace that did not take
    # the bike's lock could run between a ride's finding the old part and crediting it.
    b, old, new, _ = setup
    waited, r = waits_for_the_bike(db, b, lambda: api.post(_path(b, old),
                                                           json={"new_part_id": new["id"]}))
    assert waited, "the replace did not wait for the bike's lock"
    assert r.status_code == 201, describe(r)


def test_retire_locks_the_bike_its_last_installation_was_on(db, api):
    # Even when that installation is closed already (it ends after retired_at): a backdated
    # ride on that bike must not be credited against the period being cut off.
    b = new_bike(api)
    p = new_part(api)
    install(api, b, p, at=ts(-3 * DAY))
    remove(api, b, p, at=ts(-1 * DAY))
    waited, r = waits_for_the_bike(db, b, lambda: api.post(f"/api/parts/{p['id']}/retire",
                                                           json={"retired_at": ts(-2 * DAY)}))
    assert waited, "the retirement did not wait for the bike's lock"
    assert r.status_code == 200, describe(r)
