"""Maintenance records of bikes and parts, and GET /api/bikes/:id/stats, /api/parts/:id/stats
(api-notes "Maintenance and statistics")."""
import pytest

from flows import (DAY, HOUR, MIN, install, maint, new_part, remove, ride, ts,
                   utc_date)
from flows import check_invariant  # noqa: F401 (fixtures)
from support import (RFC3339_UTC, UUID_RE, assert_error, assert_status, describe, parse_ts,
                     random_uuid)

pytestmark = pytest.mark.usefixtures("check_invariant")

MAINT_TYPES = ["repair", "replacement", "adjustment", "cleaning", "inspection", "other"]
BIKE_STATS = {"total_kilometrage", "kilometrage_since_last_maintenance", "days_owned",
              "days_since_last_maintenance", "installed_parts_count", "total_cost",
              "cost_per_distance", "unit"}
PART_STATS = {"total_kilometrage", "days_owned", "days_since_last_maintenance", "current_bike",
              "installation_count", "replacement_threshold", "needs_replacement", "total_cost",
              "cost_per_distance", "unit"}


def _m(kind, x):
    return f"/api/{kind}s/{x['id']}/maintenance"


# ---- create ----------------------------------------------------------------------------

def test_create_bike_record_shape(user, api, create_bike):
    b = create_bike(api)
    r = api.post(_m("bike", b), json={"maintenance_type": "repair", "description": "Trued wheel",
                                      "cost": 25.5, "metadata": {"shop": "Velo"}})
    m = assert_status(r, 201)
    assert UUID_RE.match(m["id"]), describe(r)
    assert m["user_id"] == user.id and m["bike_id"] == b["id"] and m["part_id"] is None
    assert m["maintenance_type"] == "repair" and m["description"] == "Trued wheel"
    assert m["cost"] == 25.5 and m["metadata"] == {"shop": "Velo"}
    for f in ("created_at", "updated_at", "performed_at"):
        assert RFC3339_UTC.match(m[f]), f
    # performed_at defaults to now.
    assert abs((parse_ts(m["performed_at"]) - parse_ts(m["created_at"])).total_seconds()) < 5


def test_create_minimal_has_null_cost_and_empty_metadata(api, create_bike):
    b = create_bike(api)
    m = maint(api, "bike", b)
    assert m["cost"] is None and m["metadata"] == {}


@pytest.mark.parametrize("t", MAINT_TYPES)
def test_every_maintenance_type(api, create_bike, t):
    b = create_bike(api)
    assert maint(api, "bike", b, maintenance_type=t)["maintenance_type"] == t


def test_performed_at_and_cost_edges(api, create_bike):
    b = create_bike(api)
    at = "2024-01-15T12:00:00+02:00"
    m = maint(api, "bike", b, performed_at=at, cost=0)
    assert m["performed_at"] == "2024-01-15T10:00:00Z" and m["cost"] == 0
    maint(api, "bike", b, performed_at=ts(2 * MIN), description="d" * 2000)


@pytest.mark.parametrize("body,field", [
    ({"description": "x"}, "maintenance_type"),
    ({"maintenance_type": "oiling", "description": "x"}, "maintenance_type"),
    ({"maintenance_type": None, "description": "x"}, "maintenance_type"),
    ({"maintenance_type": "repair"}, "description"),
    ({"maintenance_type": "repair", "description": ""}, "description"),
    ({"maintenance_type": "repair", "description": "d" * 2001}, "description"),
    ({"maintenance_type": "repair", "description": 7}, "description"),
    ({"maintenance_type": "repair", "description": "x", "performed_at": "2024-01-15"}, "performed_at"),
    ({"maintenance_type": "repair", "description": "x", "performed_at": "2024-01-15 10:00"},
     "performed_at"),
    ({"maintenance_type": "repair", "description": "x", "performed_at": "2024-01-15T10:00:00"},
     "performed_at"),
    ({"maintenance_type": "repair", "description": "x", "performed_at": "2999-01-01T00:00:00Z"},
     "performed_at"),
    ({"maintenance_type": "repair", "description": "x", "cost": -0.01}, "cost"),
    ({"maintenance_type": "repair", "description": "x", "cost": "12.50"}, "cost"),
    ({"maintenance_type": "repair", "description": "x", "cost": True}, "cost"),
    ({"maintenance_type": "repair", "description": "x", "metadata": []}, "metadata"),
    ({"maintenance_type": "repair", "description": "x", "metadata": "shop"}, "metadata"),
    ({"maintenance_type": "repair", "description": "x", "metadata": {"n": "x" * 16400}}, "metadata"),
    ({"maintenance_type": "repair", "description": "x", "part_id": "nope"}, "part_id"),
    ({"maintenance_type": "repair", "description": "x", "mechanic": "Bob"}, "mechanic"),
    ({"maintenance_type": "repair", "description": "x", "id": random_uuid()}, "id"),
])
def test_create_bad_body_is_400(api, create_bike, body, field):
    b = create_bike(api)
    assert_error(api.post(_m("bike", b), json=body), 400, "validation_error", {field}, exact=True)
    assert assert_status(api.get(_m("bike", b)), 200) == []


def test_create_future_performed_at_is_400_on_parts_too(api):
    p = new_part(api)
    assert_error(api.post(_m("part", p), json={"maintenance_type": "repair", "description": "x",
                                               "performed_at": ts(1 * HOUR)}),
                 400, "validation_error", {"performed_at"}, exact=True)


def test_create_ownership(api, other_api, create_bike):
    theirs = create_bike(other_api)
    their_part = new_part(other_api)
    mine = create_bike(api)
    body = {"maintenance_type": "repair", "description": "x"}
    assert_error(api.post(_m("bike", theirs), json=body), 403, "forbidden")
    assert_error(api.post(_m("bike", theirs), json={"description": ""}), 403, "forbidden")
    assert_error(api.post(_m("part", their_part), json=body), 403, "forbidden")
    assert_error(api.post(f"/api/bikes/{random_uuid()}/maintenance", json={}), 404, "not_found")
    assert_error(api.post(f"/api/parts/{random_uuid()}/maintenance", json=body), 404, "not_found")
    assert_error(api.post("/api/parts/xyz/maintenance", json=body), 400, "validation_error", {"id"})
    # Naming another user's part on my bike, or a missing one.
    assert_error(api.post(_m("bike", mine), json=dict(body, part_id=their_part["id"])), 403, "forbidden")
    assert_error(api.post(_m("bike", mine), json=dict(body, part_id=random_uuid())), 404, "not_found")
    assert assert_status(api.get(_m("bike", mine)), 200) == []
    assert assert_status(other_api.get(_m("bike", theirs)), 200) == []


# ---- lists -----------------------------------------------------------------------------

def test_bike_record_naming_a_part_is_in_both_lists(api, create_bike):
    b = create_bike(api)
    p = new_part(api)
    both = maint(api, "bike", b, maintenance_type="replacement", description="new chain",
                 part_id=p["id"])
    assert both["bike_id"] == b["id"] and both["part_id"] == p["id"]
    part_only = maint(api, "part", p, description="waxed")
    assert part_only["bike_id"] is None and part_only["part_id"] == p["id"]
    bike_only = maint(api, "bike", b, description="wash")
    via_part = maint(api, "part", p, description="on the bike", bike_id=b["id"])
    bl = [m["id"] for m in assert_status(api.get(_m("bike", b)), 200)]
    pl = [m["id"] for m in assert_status(api.get(_m("part", p)), 200)]
    assert set(bl) == {both["id"], bike_only["id"], via_part["id"]}
    assert set(pl) == {both["id"], part_only["id"], via_part["id"]}


def test_lists_newest_first_with_paging(api, create_bike):
    b = create_bike(api)
    made = [maint(api, "bike", b, description=f"m{i}", performed_at=ts((i - 10) * DAY))
            for i in range(5)]
    maint(api, "bike", create_bike(api, name="other"), description="elsewhere")
    ids = [m["id"] for m in reversed(made)]
    r = api.get(_m("bike", b))
    assert [m["id"] for m in assert_status(r, 200)] == ids
    assert r.headers.get("X-Total-Count") == "5", describe(r)
    r = api.get(_m("bike", b), params={"limit": 2, "offset": 1})
    assert [m["id"] for m in assert_status(r, 200)] == ids[1:3]
    assert r.headers.get("X-Total-Count") == "5"
    p = new_part(api)
    pm = [maint(api, "part", p, performed_at=ts(-i * HOUR)) for i in range(3)]
    r = api.get(_m("part", p), params={"limit": 2})
    assert [m["id"] for m in assert_status(r, 200)] == [pm[0]["id"], pm[1]["id"]]
    assert r.headers.get("X-Total-Count") == "3"
    assert_error(api.get(_m("part", p), params={"limit": 500}), 400, "validation_error", {"limit"})


def test_list_ownership(api, other_api, create_bike):
    b = create_bike(other_api)
    p = new_part(other_api)
    assert_error(api.get(_m("bike", b)), 403, "forbidden")
    assert_error(api.get(_m("part", p)), 403, "forbidden")
    assert_error(api.get(f"/api/bikes/{random_uuid()}/maintenance"), 404, "not_found")
    assert_error(api.get("/api/bikes/1/maintenance"), 400, "validation_error", {"id"})


def test_bike_detail_recent_maintenance_is_five_newest(api, create_bike):
    b = create_bike(api)
    made = [maint(api, "bike", b, performed_at=ts((i - 10) * DAY)) for i in range(7)]
    got = assert_status(api.get(f"/api/bikes/{b['id']}"), 200)
    assert [m["id"] for m in got["recent_maintenance"]] == [m["id"] for m in reversed(made)][:5]


def test_part_detail_maintenance(api):
    p = new_part(api)
    a = maint(api, "part", p, performed_at=ts(-2 * DAY))
    c = maint(api, "part", p, performed_at=ts(-1 * DAY))
    got = assert_status(api.get(f"/api/parts/{p['id']}"), 200)
    assert [m["id"] for m in got["maintenance"]] == [c["id"], a["id"]]


# ---- bike stats ------------------------------------------------------------------------

def test_bike_stats_without_anything(api, create_bike):
    b = create_bike(api, initial_kilometrage=120)
    r = api.get(f"/api/bikes/{b['id']}/stats")
    s = assert_status(r, 200)
    assert set(s) == BIKE_STATS, describe(r)
    assert s == {"total_kilometrage": 120, "kilometrage_since_last_maintenance": 120,
                 "days_owned": 0, "days_since_last_maintenance": None,
                 "installed_parts_count": 0, "total_cost": 0, "cost_per_distance": 0,
                 "unit": "km"}


def test_bike_stats_after_rides_and_maintenance(api, create_bike):
    b = create_bike(api, purchase_date=utc_date(-10))
    p = new_part(api)
    q = new_part(api, name="q")
    gone = new_part(api, name="gone")
    install(api, b, p, at=ts(-20 * DAY))
    install(api, b, q)
    install(api, b, gone, at=ts(-20 * DAY))
    remove(api, b, gone, at=ts(-19 * DAY))
    ride(api, b, 10, logged_at=ts(-5 * DAY))
    maint(api, "bike", b, performed_at=ts(-3 * DAY - 1 * HOUR))
    maint(api, "bike", b, performed_at=ts(-4 * DAY))
    maint(api, "part", p, performed_at=ts(-1 * HOUR))  # part-only: not the bike's
    ride(api, b, 4, logged_at=ts(-2 * DAY))
    ride(api, b, 6)
    s = assert_status(api.get(f"/api/bikes/{b['id']}/stats"), 200)
    assert s == {"total_kilometrage": 20, "kilometrage_since_last_maintenance": 10,
                 "days_owned": 10, "days_since_last_maintenance": 3,
                 "installed_parts_count": 2, "total_cost": 0, "cost_per_distance": 0,
                 "unit": "km"}
    mi = assert_status(api.get(f"/api/bikes/{b['id']}/stats", params={"unit": "mi"}), 200)
    assert mi["unit"] == "mi"
    assert mi["total_kilometrage"] == round(20 * 0.621371, 3)
    assert mi["kilometrage_since_last_maintenance"] == round(10 * 0.621371, 3)
    assert mi["days_owned"] == 10


def test_bike_stats_record_naming_a_part_counts_for_the_bike(api, create_bike):
    b = create_bike(api)
    p = new_part(api)
    ride(api, b, 8, logged_at=ts(-2 * DAY))
    maint(api, "part", p, bike_id=b["id"], performed_at=ts(-1 * DAY))
    ride(api, b, 1)
    s = assert_status(api.get(f"/api/bikes/{b['id']}/stats"), 200)
    assert s["kilometrage_since_last_maintenance"] == 1 and s["days_since_last_maintenance"] == 1


def test_bike_stats_errors(api, other_api, create_bike):
    b = create_bike(other_api)
    assert_error(api.get(f"/api/bikes/{b['id']}/stats"), 403, "forbidden")
    assert_error(api.get(f"/api/bikes/{random_uuid()}/stats"), 404, "not_found")
    assert_error(api.get("/api/bikes/x/stats"), 400, "validation_error", {"id"})
    mine = create_bike(api)
    assert_error(api.get(f"/api/bikes/{mine['id']}/stats", params={"unit": "nm"}), 400,
                 "validation_error", {"unit"})


# ---- part stats ------------------------------------------------------------------------

def test_part_stats_without_anything(api):
    p = new_part(api, initial_kilometrage=7)
    r = api.get(f"/api/parts/{p['id']}/stats")
    s = assert_status(r, 200)
    assert set(s) == PART_STATS, describe(r)
    assert s == {"total_kilometrage": 7, "days_owned": 0, "days_since_last_maintenance": None,
                 "current_bike": None, "installation_count": 0, "replacement_threshold": None,
                 "needs_replacement": None, "total_cost": 0, "cost_per_distance": 0,
                 "unit": "km"}


def test_part_stats_threshold_and_bike(api, create_bike):
    x = create_bike(api, name="Old")
    y = create_bike(api, name="Roadie")
    p = new_part(api, purchase_date=utc_date(-30), metadata={"replacement_threshold_km": 1000})
    install(api, x, p, at=ts(-20 * DAY))
    remove(api, x, p, at=ts(-10 * DAY))
    install(api, y, p, at=ts(-9 * DAY))
    ride(api, y, 999.5, logged_at=ts(-5 * DAY))
    maint(api, "part", p, performed_at=ts(-2 * DAY - 2 * HOUR))
    s = assert_status(api.get(f"/api/parts/{p['id']}/stats"), 200)
    assert s == {"total_kilometrage": 999.5, "days_owned": 30, "days_since_last_maintenance": 2,
                 "current_bike": {"id": y["id"], "name": "Roadie"}, "installation_count": 2,
                 "replacement_threshold": 1000, "needs_replacement": False, "total_cost": 0,
                 "cost_per_distance": 0, "unit": "km"}
    mi = assert_status(api.get(f"/api/parts/{p['id']}/stats", params={"unit": "mi"}), 200)
    assert mi["replacement_threshold"] == 621.371 and mi["unit"] == "mi"
    assert mi["total_kilometrage"] == round(999.5 * 0.621371, 3)
    assert mi["needs_replacement"] is False
    ride(api, y, 0.5)  # exactly at the threshold
    s = assert_status(api.get(f"/api/parts/{p['id']}/stats"), 200)
    assert s["total_kilometrage"] == 1000 and s["needs_replacement"] is True
    remove(api, y, p)
    s = assert_status(api.get(f"/api/parts/{p['id']}/stats"), 200)
    assert s["current_bike"] is None and s["installation_count"] == 2
    # Threshold removed -> null again.
    assert_status(api.patch(f"/api/parts/{p['id']}",
                            json={"metadata": {"replacement_threshold_km": None}}), 200)
    s = assert_status(api.get(f"/api/parts/{p['id']}/stats"), 200)
    assert s["replacement_threshold"] is None and s["needs_replacement"] is None


def test_part_stats_errors(api, other_api):
    p = new_part(other_api)
    assert_error(api.get(f"/api/parts/{p['id']}/stats"), 403, "forbidden")
    assert_error(api.get(f"/api/parts/{random_uuid()}/stats"), 404, "not_found")
    assert_error(api.get("/api/parts/x/stats"), 400, "validation_error", {"id"})
