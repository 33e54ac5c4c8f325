"""Service intervals (issue 13 points 4, 5 and 7): POST/GET /api/{parts,bikes}/:id/intervals,
PATCH/DELETE /api/intervals/:id, the status of an interval as rides and completions come in
(km and mi, distance, moving hours, days), completion through a maintenance record with
interval_id, DELETE /api/maintenance/:id, and intervals across transfers and deletes."""
from decimal import ROUND_HALF_UP, Decimal

import pytest

from flows import DAY, HOUR, MIN, install, maint, new_bike, new_part, now, ride, ts
from flows import check_invariant  # noqa: F401 (fixtures)
from support import (RFC3339_UTC, UUID_RE, assert_error, assert_status, describe, parse_ts,
                     random_uuid)

pytestmark = pytest.mark.usefixtures("check_invariant")

INTERVAL_KEYS = {"id", "created_at", "updated_at", "part_id", "bike_id", "task", "every_distance",
                 "every_moving_hours", "every_days", "warn_at_pct", "status", "unit"}
STATUS_KEYS = {"since", "distance", "moving_hours", "days", "pct", "state"}
MI_TO_KM = Decimal("1.60934")
KM_TO_MI = Decimal("0.621371")
EVERY_REQUIRED = "one of every_distance, every_moving_hours, every_days is required"


def _path(kind, x):
    return f"/api/{kind}s/{x['id'] if isinstance(x, dict) else x}/intervals"


def new_interval(api, kind, owner, **fields):
    body = {"task": "Lube chain", "every_distance": 100}
    body.update(fields)
    iv = assert_status(api.post(_path(kind, owner), json=body), 201)
    assert set(iv) == INTERVAL_KEYS and set(iv["status"]) == STATUS_KEYS, iv
    return iv


def intervals(api, kind, owner, **params):
    return assert_status(api.get(_path(kind, owner), params=params or None), 200)


def interval(api, iv, unit=None):
    """The interval as its part's or bike's list answers it now."""
    kind, owner = ("part", iv["part_id"]) if iv["part_id"] else ("bike", iv["bike_id"])
    found = [x for x in intervals(api, kind, owner, **({"unit": unit} if unit else {}))
             if x["id"] == iv["id"]]
    assert len(found) == 1, found
    return found[0]


def status(api, iv, unit=None):
    return interval(api, iv, unit)["status"]


def km(x):
    """What the service stores for a distance given in mi: km, 3 decimals."""
    return (Decimal(str(x)) * MI_TO_KM).quantize(Decimal("0.001"), ROUND_HALF_UP)


def pct(used, every):
    return float((Decimal(used) * 100 / Decimal(every)).quantize(Decimal("0.1"), ROUND_HALF_UP))


def mounted(api, **part_fields):
    """A bike and a part installed on it two days ago (so backdated rides credit it)."""
    bike = new_bike(api)
    part = new_part(api, **part_fields)
    install(api, bike, part, at=ts(-2 * DAY))
    return bike, part


def complete(api, iv, kind=None, owner=None, **fields):
    """A maintenance record completing iv (on its own part or bike unless told)."""
    if kind is None:
        kind, owner = ("part", iv["part_id"]) if iv["part_id"] else ("bike", iv["bike_id"])
    return maint(api, kind, owner, interval_id=iv["id"], **fields)


# ---- create, list, shape ---------------------------------------------------------------

def test_create_part_interval_shape_and_defaults(api):
    part = new_part(api)
    iv = new_interval(api, "part", part, task="  Lube chain  ", every_distance=300)
    assert UUID_RE.match(iv["id"])
    assert iv["part_id"] == part["id"] and iv["bike_id"] is None
    assert iv["task"] == "Lube chain" and iv["every_distance"] == 300
    assert iv["every_moving_hours"] is None and iv["every_days"] is None
    assert iv["warn_at_pct"] == 80 and iv["unit"] == "km"
    for f in ("created_at", "updated_at"):
        assert RFC3339_UTC.match(iv[f]), f
    assert iv["status"] == {"since": iv["created_at"], "distance": 0, "moving_hours": None,
                            "days": None, "pct": 0, "state": "ok"}


def test_create_bike_interval_with_every_measure(api):
    bike = new_bike(api)
    iv = new_interval(api, "bike", bike, task="Service", every_distance=None,
                      every_moving_hours=12.5, every_days=30, warn_at_pct=50)
    assert iv["bike_id"] == bike["id"] and iv["part_id"] is None
    assert (iv["every_distance"], iv["every_moving_hours"], iv["every_days"]) == (None, 12.5, 30)
    assert iv["warn_at_pct"] == 50
    assert iv["status"] == {"since": iv["created_at"], "distance": None, "moving_hours": 0,
                            "days": 0, "pct": 0, "state": "ok"}


def test_create_and_list_in_miles(api):
    part = new_part(api)
    iv = new_interval(api, "part", part, every_distance=50, unit="mi")
    assert iv["every_distance"] == 50 and iv["unit"] == "mi"
    listed = intervals(api, "part", part)[0]
    assert listed["every_distance"] == float(km(50)) and listed["unit"] == "km"
    assert intervals(api, "part", part, unit="mi")[0]["every_distance"] == 50
    # Every interval says its unit, also one without a distance.
    days = new_interval(api, "part", part, every_distance=None, every_days=3)
    assert interval(api, days, "mi")["unit"] == "mi"


def test_list_newest_first_with_paging_and_total(api):
    bike = new_bike(api)
    made = [new_interval(api, "bike", bike, task=f"t{i}") for i in range(3)]
    r = api.get(_path("bike", bike))
    got = assert_status(r, 200)
    assert r.headers.get("X-Total-Count") == "3", describe(r)
    assert [x["id"] for x in got] == [x["id"] for x in reversed(made)]
    r = api.get(_path("bike", bike), params={"limit": 1, "offset": 1})
    assert [x["id"] for x in assert_status(r, 200)] == [made[1]["id"]]
    assert r.headers.get("X-Total-Count") == "3"
    # A part's list holds its own only.
    assert intervals(api, "part", new_part(api)) == []


def test_list_bad_query_is_400(api):
    bike = new_bike(api)
    assert_error(api.get(_path("bike", bike), params={"unit": "yd"}), 400, "validation_error",
                 ["unit"])
    assert_error(api.get(_path("bike", bike), params={"limit": 0}), 400, "validation_error",
                 ["limit"])


# ---- validation --------------------------------------------------------------------------

def test_create_collects_every_bad_field(api):
    part = new_part(api)
    body = {"task": "  ", "every_distance": 0, "every_moving_hours": -1, "every_days": 1.5,
            "warn_at_pct": 0, "unit": "yd", "colour": "red", "id": random_uuid(), "status": {}}
    r = api.post(_path("part", part), json=body)
    assert_error(r, 400, "validation_error", ["task", "every_distance", "every_moving_hours",
                                              "every_days", "warn_at_pct", "unit", "colour",
                                              "id", "status"], exact=True)
    assert intervals(api, "part", part) == []


@pytest.mark.parametrize("field,value", [
    ("task", ""), ("task", "x" * 101), ("task", 5), ("task", None),
    ("every_distance", 0), ("every_distance", -5), ("every_distance", "100"),
    ("every_distance", 1000000.001), ("every_distance", 0.0004), ("every_distance", True),
    ("every_moving_hours", 0), ("every_moving_hours", 100000.5), ("every_moving_hours", "2"),
    ("every_moving_hours", 0.0004),
    ("every_days", 0), ("every_days", 36501), ("every_days", 2.5), ("every_days", 7.0),
    ("every_days", "7"),
    ("warn_at_pct", 0), ("warn_at_pct", 101), ("warn_at_pct", 50.5), ("warn_at_pct", None),
    ("warn_at_pct", "80"),
    ("unit", "miles"), ("part_id", random_uuid()), ("bike_id", random_uuid()),
    ("created_at", "2024-01-01T00:00:00Z"), ("updated_at", "2024-01-01T00:00:00Z"),
])
def test_create_bad_field_is_400(api, field, value):
    part = new_part(api)
    body = {"task": "Lube", "every_days": 10, field: value}
    assert_error(api.post(_path("part", part), json=body), 400, "validation_error", [field],
                 exact=True)


def test_create_limits_are_accepted(api):
    part = new_part(api)
    iv = new_interval(api, "part", part, task="x" * 100, every_distance=1000000,
                      every_moving_hours=100000, every_days=36500, warn_at_pct=100)
    assert (iv["every_distance"], iv["every_moving_hours"], iv["every_days"]) == \
        (1000000, 100000, 36500)
    new_interval(api, "part", part, every_distance=0.001, every_moving_hours=0.001, every_days=1,
                 warn_at_pct=1)
    # The km limit said in miles: 1000000 km is 621372.737 mi.
    assert_error(api.post(_path("part", part), json={"task": "t", "every_distance": 621373,
                                                     "unit": "mi"}),
                 400, "validation_error", ["every_distance"], exact=True)


@pytest.mark.parametrize("body", [
    {"task": "Lube"},
    {"task": "Lube", "every_distance": None, "every_moving_hours": None, "every_days": None},
    {"task": "Lube", "every_days": None, "warn_at_pct": 50},
])
def test_create_without_a_measure_is_400(api, body):
    part = new_part(api)
    b = assert_error(api.post(_path("part", part), json=body), 400, "validation_error",
                     ["every_distance"], exact=True)
    assert b["details"]["every_distance"] == EVERY_REQUIRED


def test_create_without_task_or_with_bad_body(api):
    bike = new_bike(api)
    b = assert_error(api.post(_path("bike", bike), json={"every_days": 3}), 400,
                     "validation_error", ["task"], exact=True)
    assert b["details"]["task"] == "is required"
    assert_error(api.post(_path("bike", bike), json=[1]), 400, "validation_error")
    assert_error(api.post(_path("bike", bike), data=b"{", headers={"Content-Type":
                                                                    "application/json"}),
                 400, "validation_error")


# ---- PATCH and DELETE ------------------------------------------------------------------------

def _iv_path(iv):
    return f"/api/intervals/{iv['id'] if isinstance(iv, dict) else iv}"


def test_patch_fields_and_units(api):
    part = new_part(api)
    iv = new_interval(api, "part", part, every_distance=100)
    r = api.patch(_iv_path(iv), json={"task": " Wax chain ", "every_distance": 50, "unit": "mi",
                                      "every_days": 14, "warn_at_pct": 90})
    got = assert_status(r, 200)
    assert set(got) == INTERVAL_KEYS
    assert got["task"] == "Wax chain" and got["every_distance"] == 50 and got["unit"] == "mi"
    assert got["every_days"] == 14 and got["warn_at_pct"] == 90
    assert got["status"]["days"] == 0 and got["status"]["distance"] == 0
    assert parse_ts(got["updated_at"]) > parse_ts(iv["updated_at"])
    assert interval(api, iv)["every_distance"] == float(km(50))
    # Dropping a measure while another remains.
    got = assert_status(api.patch(_iv_path(iv), json={"every_distance": None}), 200)
    assert got["every_distance"] is None and got["status"]["distance"] is None
    assert got["every_days"] == 14 and got["unit"] == "km"


def test_patch_empty_changes_nothing(api):
    bike = new_bike(api)
    iv = new_interval(api, "bike", bike)
    got = assert_status(api.patch(_iv_path(iv), json={}), 200)
    assert got == iv


def test_patch_cannot_drop_the_last_measure(api):
    bike = new_bike(api)
    iv = new_interval(api, "bike", bike, every_distance=None, every_days=7)
    # The stored measures are the database's to know: still one error, on every_distance.
    b = assert_error(api.patch(_iv_path(iv), json={"every_days": None}), 400, "validation_error",
                     ["every_distance"], exact=True)
    assert b["details"]["every_distance"] == EVERY_REQUIRED
    b = assert_error(api.patch(_iv_path(iv), json={"every_days": None, "every_distance": None,
                                                   "every_moving_hours": None}),
                     400, "validation_error", ["every_distance"], exact=True)
    assert b["details"]["every_distance"] == EVERY_REQUIRED
    # Replacing it in the same patch is fine.
    got = assert_status(api.patch(_iv_path(iv), json={"every_days": None,
                                                      "every_moving_hours": 3}), 200)
    assert got["every_days"] is None and got["every_moving_hours"] == 3
    assert interval(api, iv)["every_days"] is None


def test_patch_collects_bad_and_read_only_fields(api):
    bike = new_bike(api)
    iv = new_interval(api, "bike", bike)
    body = {"id": iv["id"], "part_id": None, "bike_id": bike["id"], "created_at": iv["created_at"],
            "updated_at": iv["updated_at"], "status": iv["status"], "task": None,
            "every_distance": -1, "every_moving_hours": "1", "every_days": 0, "warn_at_pct": None,
            "unit": "yd", "nope": 1}
    assert_error(api.patch(_iv_path(iv), json=body), 400, "validation_error", list(body),
                 exact=True)
    assert interval(api, iv) == iv


def test_delete_interval(api):
    part = new_part(api)
    iv = new_interval(api, "part", part)
    keep = new_interval(api, "part", part, task="keep")
    r = api.delete(_iv_path(iv))
    assert assert_status(r, 200) == {"success": True, "id": iv["id"]}
    assert [x["id"] for x in intervals(api, "part", part)] == [keep["id"]]
    assert_error(api.delete(_iv_path(iv)), 404, "not_found")
    assert_error(api.patch(_iv_path(iv), json={"task": "x"}), 404, "not_found")


def test_deleting_an_interval_keeps_its_records(api):
    bike = new_bike(api)
    iv = new_interval(api, "bike", bike)
    m = complete(api, iv)
    assert m["interval_id"] == iv["id"]
    assert_status(api.delete(_iv_path(iv)), 200)
    records = assert_status(api.get(f"/api/bikes/{bike['id']}/maintenance"), 200)
    assert [(x["id"], x["interval_id"]) for x in records] == [(m["id"], None)]


# ---- ownership: 400 / 404 / 403 on every route --------------------------------------------

def test_interval_routes_of_another_user(api, other_api):
    bike, part = new_bike(other_api), new_part(other_api)
    theirs = new_interval(other_api, "part", part)
    bad = {"task": ""}  # ownership answers before the body
    for kind, owner in (("bike", bike), ("part", part)):
        assert_error(api.post(_path(kind, owner), json={"task": "t", "every_days": 1}), 403,
                     "forbidden")
        assert_error(api.post(_path(kind, owner), json=bad), 403, "forbidden")
        assert_error(api.get(_path(kind, owner)), 403, "forbidden")
    assert_error(api.patch(_iv_path(theirs), json={"task": "mine"}), 403, "forbidden")
    assert_error(api.patch(_iv_path(theirs), json=bad), 403, "forbidden")
    assert_error(api.delete(_iv_path(theirs)), 403, "forbidden")
    assert interval(other_api, theirs) == theirs


def test_interval_routes_of_nothing_and_malformed_ids(api):
    gone = random_uuid()
    for kind in ("bike", "part"):
        assert_error(api.post(_path(kind, gone), json={"task": ""}), 404, "not_found")
        assert_error(api.get(_path(kind, gone)), 404, "not_found")
        assert_error(api.post(_path(kind, "nope"), json={"task": "t", "every_days": 1}), 400,
                     "validation_error", ["id"], exact=True)
        assert_error(api.get(_path(kind, "nope")), 400, "validation_error", ["id"], exact=True)
    assert_error(api.patch(_iv_path(gone), json={"task": ""}), 404, "not_found")
    assert_error(api.delete(_iv_path(gone)), 404, "not_found")
    assert_error(api.patch(_iv_path("nope"), json={"task": "t"}), 400, "validation_error", ["id"],
                 exact=True)
    assert_error(api.delete(_iv_path("nope")), 400, "validation_error", ["id"], exact=True)


def test_maintenance_delete_ownership(db, user, other, api, other_api, make_user):
    bike, part = mounted(api)
    m = maint(api, "bike", bike, part_id=part["id"])
    third = make_user(tag="c")
    assert_error(third.api.delete(f"/api/maintenance/{m['id']}"), 403, "forbidden")
    assert_error(api.delete(f"/api/maintenance/{random_uuid()}"), 404, "not_found")
    assert_error(api.delete("/api/maintenance/nope"), 400, "validation_error", ["id"], exact=True)
    # The part goes to another user: the record names their part, so they may delete it,
    # but only from their side: it stays in the bike's history (the bike is not theirs).
    assert_status(api.post(f"/api/parts/{part['id']}/transfer",
                           json={"new_owner_email": other.email}), 200)
    r = other_api.delete(f"/api/maintenance/{m['id']}")
    assert assert_status(r, 200) == {"success": True, "id": m["id"]}
    assert_error(other_api.delete(f"/api/maintenance/{m['id']}"), 403, "forbidden")
    assert db.query("SELECT bike_id::text, part_id FROM vehicles.maintenance_record WHERE id = %s",
                    (m["id"],)) == [(bike["id"], None)]
    assert_status(api.delete(f"/api/maintenance/{m['id']}"), 200)
    assert_error(api.delete(f"/api/maintenance/{m['id']}"), 404, "not_found")
    assert db.query("SELECT count(*) FROM vehicles.maintenance_record WHERE id = %s",
                    (m["id"],)) == [(0,)]


def test_maintenance_delete_of_a_bike_record(api, other_api):
    bike = new_bike(api)
    m = maint(api, "bike", bike)
    assert_error(other_api.delete(f"/api/maintenance/{m['id']}"), 403, "forbidden")
    assert_status(api.delete(f"/api/maintenance/{m['id']}"), 200)
    assert assert_status(api.get(f"/api/bikes/{bike['id']}/maintenance"), 200) == []


# ---- interval_id on maintenance records ----------------------------------------------------

def test_interval_id_must_be_of_the_records_bike_or_part(api, other_api):
    bike, part = mounted(api)
    bike_iv = new_interval(api, "bike", bike)
    part_iv = new_interval(api, "part", part)
    other_part_iv = new_interval(api, "part", new_part(api))
    theirs = new_interval(other_api, "bike", new_bike(other_api))
    problem = "must be a service interval of this bike or part"
    for kind, owner, extra, iv in (
            ("bike", bike, {}, part_iv),  # the part is not named by the record
            ("part", part, {}, bike_iv),
            ("bike", bike, {"part_id": part["id"]}, other_part_iv),
            ("bike", bike, {}, theirs),
            ("bike", bike, {}, {"id": random_uuid()})):
        body = {"maintenance_type": "cleaning", "description": "d", "interval_id": iv["id"],
                **extra}
        b = assert_error(api.post(f"/api/{kind}s/{owner['id']}/maintenance", json=body), 400,
                         "validation_error", ["interval_id"], exact=True)
        assert b["details"]["interval_id"] == problem
    b = assert_error(api.post(f"/api/bikes/{bike['id']}/maintenance",
                              json={"maintenance_type": "cleaning", "description": "",
                                    "interval_id": "nope"}),
                     400, "validation_error", ["interval_id", "description"], exact=True)
    assert b["details"]["interval_id"] == "must be a UUID"
    # Either the record's bike or its part may match; null is no interval.
    assert complete(api, part_iv, "bike", bike, part_id=part["id"])["interval_id"] == part_iv["id"]
    assert complete(api, bike_iv, "part", part, bike_id=bike["id"])["interval_id"] == bike_iv["id"]
    assert maint(api, "bike", bike, interval_id=None)["interval_id"] is None
    listed = assert_status(api.get(f"/api/parts/{part['id']}/maintenance"), 200)
    assert {x["interval_id"] for x in listed} == {part_iv["id"], bike_iv["id"]}


# ---- status: distance in km and mi ---------------------------------------------------------

def test_distance_state_in_km_at_each_boundary(api):
    bike, part = mounted(api)
    iv = new_interval(api, "part", part, every_distance=100)
    steps = [(79.949, 79.9, "ok"), (0.001, 80.0, "due_soon"), (19.999, 99.9, "due_soon"),
             (0.001, 100.0, "overdue"), (50, 150.0, "overdue")]
    total = Decimal(0)
    for d, want_pct, state in steps:
        ride(api, bike, d)
        total += Decimal(str(d))
        s = status(api, iv)
        assert (s["distance"], s["pct"], s["state"]) == (float(total), want_pct, state), (d, s)


def test_distance_state_at_exact_warn_and_due(api):
    bike, part = mounted(api)
    iv = new_interval(api, "part", part, every_distance=200, warn_at_pct=50)
    ride(api, bike, 99.8)
    assert status(api, iv)["state"] == "ok"
    ride(api, bike, 0.2)
    assert (status(api, iv)["pct"], status(api, iv)["state"]) == (50, "due_soon")
    ride(api, bike, 99.8)
    assert (status(api, iv)["pct"], status(api, iv)["state"]) == (99.9, "due_soon")
    ride(api, bike, 0.2)
    assert (status(api, iv)["pct"], status(api, iv)["state"]) == (100, "overdue")


def test_distance_state_in_miles(api):
    bike, part = mounted(api)
    iv = new_interval(api, "part", part, every_distance=50, unit="mi")
    every = km(50)
    used = Decimal(0)
    for d, state in ((39.9, "ok"), (0.1, "due_soon"), (9.9, "due_soon"), (0.1, "overdue")):
        ride(api, bike, d, unit="mi")
        used += km(d)
        s = status(api, iv, "mi")
        assert s["pct"] == pct(used, every) and s["state"] == state, (d, s)
        assert abs(s["distance"] - float(used * KM_TO_MI)) < 0.0011, s
        # The same pct and state in km: computed in km whatever the unit asked.
        k = status(api, iv)
        assert (k["pct"], k["state"], k["distance"]) == (s["pct"], state, float(used))
    assert pct(km(39.9), every) == 79.8 and pct(km(40), every) == 80.0
    assert pct(km(49.9), every) == 99.8 and pct(used, every) == 100.0


def test_part_interval_counts_only_what_the_part_was_credited(api):
    bike, part = mounted(api)
    spare = new_part(api)
    iv = new_interval(api, "part", part)
    spare_iv = new_interval(api, "part", spare)
    bike_iv = new_interval(api, "bike", bike)
    ride(api, bike, 30)
    assert status(api, iv)["distance"] == 30 and status(api, bike_iv)["distance"] == 30
    assert status(api, spare_iv)["distance"] == 0
    # Moved to another bike: its rides follow the part, the first bike's stay with that bike.
    other_bike = new_bike(api)
    assert_status(api.post(f"/api/bikes/{bike['id']}/parts/{part['id']}/remove", json={}), 200)
    install(api, other_bike, part)
    ride(api, other_bike, 5)
    ride(api, bike, 7)
    assert status(api, iv)["distance"] == 35 and status(api, bike_iv)["distance"] == 37


# ---- the baseline -----------------------------------------------------------------------

def test_ride_at_the_baseline_instant_is_not_counted(api):
    bike, part = mounted(api)
    iv = new_interval(api, "part", part)
    t0 = now() - HOUR
    base = ts(base=t0)
    m = complete(api, iv, performed_at=base)
    s = status(api, iv)
    assert s["since"] == m["performed_at"] and s["distance"] == 0
    ride(api, bike, 10, logged_at=base)
    assert status(api, iv)["distance"] == 0
    ride(api, bike, 4, logged_at=ts(MIN / 60000, base=t0))  # 1 ms after
    assert status(api, iv)["distance"] == 4
    # A ride before the interval's creation is not counted either.
    iv2 = new_interval(api, "part", part)
    ride(api, bike, 2, logged_at=ts(-MIN))
    assert status(api, iv2)["distance"] == 0


def test_completion_resets_usage_and_delete_restores_the_baseline(api):
    bike, part = mounted(api)
    iv = new_interval(api, "part", part, every_distance=50)
    ride(api, bike, 45, logged_at=ts(-3 * HOUR))  # before creation: not counted
    ride(api, bike, 45)
    assert status(api, iv)["state"] == "due_soon"
    first = complete(api, iv)
    s = status(api, iv)
    assert (s["since"], s["distance"], s["pct"], s["state"]) == \
        (first["performed_at"], 0, 0, "ok")
    ride(api, bike, 10)
    assert status(api, iv)["distance"] == 10
    second = complete(api, iv)
    ride(api, bike, 3)
    assert status(api, iv)["distance"] == 3
    # Deleting the newest completion: the previous one is the baseline again.
    assert_status(api.delete(f"/api/maintenance/{second['id']}"), 200)
    s = status(api, iv)
    assert s["since"] == first["performed_at"] and s["distance"] == 13
    # And with none left, the interval's creation.
    assert_status(api.delete(f"/api/maintenance/{first['id']}"), 200)
    s = status(api, iv)
    assert s["since"] == iv["created_at"] and s["distance"] == 58 and s["state"] == "overdue"


def test_backdated_completion(api):
    bike, part = mounted(api)
    iv = new_interval(api, "part", part)
    ride(api, bike, 30, logged_at=ts(-30 * MIN))  # before creation
    ride(api, bike, 20)
    # A completion dated before the interval: its baseline all the same.
    old = complete(api, iv, performed_at=ts(-HOUR))
    s = status(api, iv)
    assert s["since"] == old["performed_at"] and s["distance"] == 50
    mid = complete(api, iv, performed_at=ts(-20 * MIN))
    assert status(api, iv)["distance"] == 20 and status(api, iv)["since"] == mid["performed_at"]
    # An older completion logged later does not move the baseline back.
    complete(api, iv, performed_at=ts(-2 * HOUR))
    assert status(api, iv)["since"] == mid["performed_at"]


def test_bike_interval_counts_the_bikes_rides(api):
    bike = new_bike(api)
    iv = new_interval(api, "bike", bike, every_distance=10, warn_at_pct=100)
    ride(api, bike, 9.99)
    assert (status(api, iv)["pct"], status(api, iv)["state"]) == (99.9, "ok")
    r = ride(api, bike, 0.01)
    assert status(api, iv)["state"] == "overdue"
    assert_status(api.delete(f"/api/bikes/{bike['id']}/kilometrage/{r['log']['id']}"), 200)
    assert (status(api, iv)["distance"], status(api, iv)["state"]) == (9.99, "ok")


# ---- days and moving hours -----------------------------------------------------------------

def test_every_days_counts_whole_utc_days(api):
    bike = new_bike(api)
    iv = new_interval(api, "bike", bike, every_distance=None, every_days=10)
    assert status(api, iv)["days"] == 0
    # Each completion is newer than the one before, so each is the baseline in turn.
    made = []
    for at, days, state in ((-10 * DAY - MIN, 10, "overdue"), (-10 * DAY + MIN, 9, "due_soon"),
                            (-8 * DAY - MIN, 8, "due_soon"), (-8 * DAY + MIN, 7, "ok")):
        made.append(complete(api, iv, performed_at=ts(at)))
        s = status(api, iv)
        assert (s["days"], s["pct"], s["state"], s["distance"]) == \
            (days, days * 10, state, None), s
    for m, days in zip(reversed(made[1:]), (8, 9, 10)):
        assert_status(api.delete(f"/api/maintenance/{m['id']}"), 200)
        assert status(api, iv)["days"] == days


def test_moving_hours_state_at_each_boundary(api):
    bike = new_bike(api)
    iv = new_interval(api, "bike", bike, every_distance=None, every_moving_hours=10)
    # 28781 s is 79.947 %, 28782 s 79.95 % (rounds to 80.0); 35982 s rounds to 100.0.
    total = 0
    for secs, want, state in ((28781, 79.9, "ok"), (1, 80.0, "due_soon"),
                              (7199, 99.9, "due_soon"), (1, 100.0, "overdue")):
        ride(api, bike, 1, moving_time_s=secs)
        total += secs
        s = status(api, iv)
        assert (s["pct"], s["state"]) == (want, state), (secs, s)
        assert s["moving_hours"] == round(total / 3600, 3) and s["distance"] is None
    ride(api, bike, 1)  # no moving time: counts nothing
    assert status(api, iv)["moving_hours"] == round(total / 3600, 3)


def test_part_moving_hours_and_the_largest_measure(api):
    bike, part = mounted(api)
    iv = new_interval(api, "part", part, every_distance=100, every_moving_hours=2,
                      warn_at_pct=90)
    ride(api, bike, 10, moving_time_s=3600)
    s = status(api, iv, "mi")
    # 10 % by distance, 50 % by time: the largest.
    assert (s["moving_hours"], s["pct"], s["state"]) == (1, 50, "ok")
    assert abs(s["distance"] - 6.214) < 0.0011
    ride(api, bike, 85, moving_time_s=60)
    s = status(api, iv)
    assert (s["distance"], s["pct"], s["state"]) == (95, 95, "due_soon")


# ---- transfers and deletes --------------------------------------------------------------------

def test_transfer_moves_intervals(api, other, other_api):
    bike, part = mounted(api)
    bike_iv = new_interval(api, "bike", bike)
    part_iv = new_interval(api, "part", part, every_distance=40)
    ride(api, bike, 20)
    assert_status(api.post(f"/api/bikes/{bike['id']}/transfer",
                           json={"new_owner_email": other.email}), 200)
    for iv, dist in ((bike_iv, 20), (part_iv, 20)):
        got = interval(other_api, iv)
        assert got["id"] == iv["id"] and got["status"]["distance"] == dist
        assert_error(api.patch(_iv_path(iv), json={"task": "x"}), 403, "forbidden")
        assert_error(api.delete(_iv_path(iv)), 403, "forbidden")
    assert_error(api.get(_path("bike", bike)), 403, "forbidden")
    assert_error(api.get(_path("part", part)), 403, "forbidden")
    assert_error(maint_raw(api, "bike", new_bike(api), part_iv), 400, "validation_error",
                 ["interval_id"])
    # The new owner rides and completes it.
    ride(other_api, bike, 15)
    assert interval(other_api, part_iv)["status"]["state"] == "due_soon"
    complete(other_api, part_iv)
    assert interval(other_api, part_iv)["status"]["distance"] == 0
    assert_status(other_api.patch(_iv_path(part_iv), json={"task": "theirs"}), 200)
    assert [x["interval_id"] for x in assert_status(api.get("/api/due"), 200)] == []


def maint_raw(api, kind, owner, iv):
    return api.post(f"/api/{kind}s/{owner['id']}/maintenance",
                    json={"maintenance_type": "cleaning", "description": "d",
                          "interval_id": iv["id"]})


def test_part_transfer_moves_its_intervals(api, other, other_api):
    part = new_part(api)
    iv = new_interval(api, "part", part)
    assert_status(api.post(f"/api/parts/{part['id']}/transfer",
                           json={"new_owner_email": other.email}), 200)
    assert interval(other_api, iv)["id"] == iv["id"]
    assert_error(api.patch(_iv_path(iv), json={}), 403, "forbidden")
    assert_status(other_api.delete(_iv_path(iv)), 200)


def test_deleting_a_part_or_bike_deletes_its_intervals(db, api):
    bike, part = mounted(api)
    part_iv = new_interval(api, "part", part)
    bike_iv = new_interval(api, "bike", bike)
    complete(api, part_iv, "bike", bike, part_id=part["id"])
    assert_status(api.delete(f"/api/bikes/{bike['id']}"), 200)
    assert_error(api.patch(_iv_path(bike_iv), json={}), 404, "not_found")
    # The part stays, and so does its interval.
    assert interval(api, part_iv)["id"] == part_iv["id"]
    assert_status(api.delete(f"/api/parts/{part['id']}"), 200)
    assert_error(api.delete(_iv_path(part_iv)), 404, "not_found")
    assert db.query("SELECT count(*) FROM vehicles.service_interval WHERE id = ANY(%s::uuid[])",
                    ([part_iv["id"], bike_iv["id"]],)) == [(0,)]
