"""GET /api/due (issue 13 point 6): the caller's intervals with their state, worn parts as
task "replace" and bikes due a service as task "service"; its filter, order and units; and the
internal summary's bikes_needing_maintenance counting overdue intervals."""
import pytest

from flows import DAY, install, maint, new_bike, new_part, remove, ride, service_token, ts
from flows import check_invariant  # noqa: F401 (fixtures)
from support import assert_error, assert_status

pytestmark = pytest.mark.usefixtures("check_invariant")

DUE_KEYS = {"interval_id", "part_id", "bike_id", "task", "pct", "state", "distance",
            "every_distance", "unit"}


def new_interval(api, kind, owner, **fields):
    body = {"task": "Lube chain", "every_distance": 100}
    body.update(fields)
    return assert_status(api.post(f"/api/{kind}s/{owner['id']}/intervals", json=body), 201)


def due(api, **params):
    got = assert_status(api.get("/api/due", params=params or None), 200)
    assert isinstance(got, list)
    for row in got:
        assert set(row) == DUE_KEYS, row
    return got


def _key(row):
    return row["interval_id"] or row["part_id"] or row["bike_id"]


def assert_sorted(rows):
    # pct descending, nulls first; then the id ascending.
    keys = [(row["pct"] is not None, -(row["pct"] or 0), _key(row)) for row in rows]
    assert keys == sorted(keys), rows


@pytest.fixture
def garage(api):
    """One of each kind of row: intervals ok, due_soon and overdue, a worn part (threshold
    50 km, 60 ridden), a part with a zero threshold (pct null), a bike due a service."""
    bike = new_bike(api)
    chain, tyre, spare = new_part(api), new_part(api), new_part(api)
    worn = new_part(api, metadata={"replacement_threshold_km": 50})
    zero = new_part(api, metadata={"replacement_threshold_km": 0})
    for p in (chain, tyre, worn):
        install(api, bike, p)
    g = {"bike": bike, "chain": chain, "tyre": tyre, "spare": spare, "worn": worn, "zero": zero}
    g["ok"] = new_interval(api, "bike", bike, task="Service", every_distance=1000)
    g["soon"] = new_interval(api, "part", chain, task="Lube chain", every_distance=70)
    g["late"] = new_interval(api, "part", tyre, task="Check tyre", every_distance=50)
    g["days"] = new_interval(api, "part", spare, task="Wax", every_distance=None, every_days=5)
    ride(api, bike, 60)
    serviced = new_bike(api, metadata={"maintenance_interval_km": 30})
    ride(api, serviced, 40)
    g["serviced"] = serviced
    return g


def test_due_lists_every_kind_sorted(api, garage):
    g = garage
    rows = due(api)
    assert_sorted(rows)
    by = {(r["task"], r["interval_id"] or r["part_id"] or r["bike_id"]): r for r in rows}
    assert by[("Service", g["ok"]["id"])] == {
        "interval_id": g["ok"]["id"], "part_id": None, "bike_id": g["bike"]["id"],
        "task": "Service", "pct": 6, "state": "ok", "distance": 60, "every_distance": 1000,
        "unit": "km"}
    assert by[("Lube chain", g["soon"]["id"])] == {
        "interval_id": g["soon"]["id"], "part_id": g["chain"]["id"], "bike_id": g["bike"]["id"],
        "task": "Lube chain", "pct": 85.7, "state": "due_soon", "distance": 60,
        "every_distance": 70, "unit": "km"}
    assert by[("Check tyre", g["late"]["id"])]["state"] == "overdue"
    assert by[("Check tyre", g["late"]["id"])]["pct"] == 120
    # A part on no bike: bike_id null; a days-only interval: no distance.
    assert by[("Wax", g["days"]["id"])] == {
        "interval_id": g["days"]["id"], "part_id": g["spare"]["id"], "bike_id": None,
        "task": "Wax", "pct": 0, "state": "ok", "distance": None, "every_distance": None,
        "unit": "km"}
    assert by[("replace", g["worn"]["id"])] == {
        "interval_id": None, "part_id": g["worn"]["id"], "bike_id": g["bike"]["id"],
        "task": "replace", "pct": 120, "state": "overdue", "distance": 60,
        "every_distance": 50, "unit": "km"}
    assert by[("replace", g["zero"]["id"])] == {
        "interval_id": None, "part_id": g["zero"]["id"], "bike_id": None, "task": "replace",
        "pct": None, "state": "overdue", "distance": 0, "every_distance": 0, "unit": "km"}
    assert by[("service", g["serviced"]["id"])] == {
        "interval_id": None, "part_id": None, "bike_id": g["serviced"]["id"], "task": "service",
        "pct": 133.3, "state": "overdue", "distance": 40, "every_distance": 30, "unit": "km"}
    assert len(rows) == 7
    # The zero threshold (pct null) comes first, then the highest pct.
    assert rows[0]["part_id"] == g["zero"]["id"] and rows[1]["task"] == "service"


def test_due_ties_are_ordered_by_id(api):
    parts = [new_part(api) for _ in range(3)]
    made = [new_interval(api, "part", p, every_days=10, every_distance=None) for p in parts]
    rows = due(api)
    assert [r["interval_id"] for r in rows] == sorted(m["id"] for m in made)
    assert {r["pct"] for r in rows} == {0}


def test_due_state_filter(api, garage):
    g = garage
    assert [r["interval_id"] for r in due(api, state="due_soon")] == [g["soon"]["id"]]
    ok = due(api, state="ok")
    assert {r["interval_id"] for r in ok} == {g["ok"]["id"], g["days"]["id"]}
    late = due(api, state="overdue")
    assert {r["task"] for r in late} == {"Check tyre", "replace", "service"} and len(late) == 4
    both = due(api, state="overdue,due_soon")
    assert_sorted(both)
    assert len(both) == 5 and "ok" not in {r["state"] for r in both}
    assert len(due(api, state="ok,due_soon,overdue")) == 7 == len(due(api))


@pytest.mark.parametrize("params,fields", [
    ({"state": "late"}, ["state"]), ({"state": ""}, ["state"]), ({"state": "ok,"}, ["state"]),
    ({"state": "ok,,overdue"}, ["state"]), ({"state": "OK"}, ["state"]),
    ({"state": "ok overdue"}, ["state"]), ({"unit": "yd"}, ["unit"]),
    ({"unit": "miles", "state": "due"}, ["unit", "state"]),
])
def test_due_bad_query_is_400(api, params, fields):
    assert_error(api.get("/api/due", params=params), 400, "validation_error", fields, exact=True)


def test_due_in_miles(api, garage):
    g = garage
    rows = {_key(r): r for r in due(api, unit="mi")}
    assert all(r["unit"] == "mi" for r in rows.values())
    soon = rows[g["soon"]["id"]]
    assert soon["distance"] == 37.282 and soon["every_distance"] == 43.496
    assert soon["pct"] == 85.7 and soon["state"] == "due_soon"
    worn = rows[g["worn"]["id"]]
    assert worn["distance"] == 37.282 and worn["every_distance"] == 31.069
    assert rows[g["serviced"]["id"]]["every_distance"] == 18.641


def test_due_is_the_callers_own(api, other_api, garage):
    bike = new_bike(other_api, metadata={"maintenance_interval_km": 1})
    part = new_part(other_api, metadata={"replacement_threshold_km": 0})
    new_interval(other_api, "bike", bike, every_distance=1)
    new_interval(other_api, "part", part, every_distance=1)
    ride(other_api, bike, 5)
    theirs = due(other_api)
    assert {r["task"] for r in theirs} == {"Lube chain", "replace", "service"}
    mine = {_key(r) for r in due(api)}
    assert not mine & {_key(r) for r in theirs}
    assert due(api, state="ok") and len(due(api)) == 7


def test_due_follows_completions_and_removals(api, garage):
    g = garage
    maint(api, "part", g["tyre"], interval_id=g["late"]["id"])
    assert {r["interval_id"]: r["state"] for r in due(api) if r["interval_id"]}[g["late"]["id"]] \
        == "ok"
    remove(api, g["bike"], g["chain"])
    row = [r for r in due(api) if r["interval_id"] == g["soon"]["id"]][0]
    assert row["bike_id"] is None and row["state"] == "due_soon"
    # A service record: the bike is no longer due a service.
    maint(api, "bike", g["serviced"])
    assert "service" not in {r["task"] for r in due(api)}


# ---- the internal summary ----------------------------------------------------------------

def summary(client, user):
    api = client(service_token())
    return assert_status(api.get(f"/internal/bikes/user/{user.id}/summary"), 200)


def test_summary_counts_bikes_with_an_overdue_interval(user, api, client):
    assert summary(client, user)["bikes_needing_maintenance"] == 0
    # A bike whose installed part has an overdue interval.
    b1, p1 = new_bike(api), new_part(api)
    install(api, b1, p1, at=ts(-DAY))
    part_iv = new_interval(api, "part", p1, every_distance=10)
    # A bike with an overdue interval of its own.
    b2 = new_bike(api)
    new_interval(api, "bike", b2, every_distance=None, every_days=1)
    # Due soon only, and an overdue part that is not installed: not counted.
    b3, p3 = new_bike(api), new_part(api)
    install(api, b3, p3)
    new_interval(api, "part", p3, every_distance=100)
    loose = new_part(api)
    new_interval(api, "part", loose, every_distance=None, every_days=1)
    maint(api, "part", loose, performed_at=ts(-3 * DAY),
          interval_id=new_interval(api, "part", loose, every_days=1, every_distance=None)["id"])
    ride(api, b3, 90)
    assert summary(client, user)["bikes_needing_maintenance"] == 0
    ride(api, b1, 10)
    assert summary(client, user)["bikes_needing_maintenance"] == 1
    maint(api, "bike", b2, performed_at=ts(-2 * DAY),
          interval_id=[r for r in due(api) if r["bike_id"] == b2["id"]][0]["interval_id"])
    assert summary(client, user)["bikes_needing_maintenance"] == 2
    # Completing the part's interval clears its bike.
    maint(api, "part", p1, interval_id=part_iv["id"])
    assert summary(client, user)["bikes_needing_maintenance"] == 1
    # Overdue again; removed from b1, b1 no longer counts; installed on b3, b3 does.
    ride(api, b1, 10)
    assert summary(client, user)["bikes_needing_maintenance"] == 2
    remove(api, b1, p1)
    assert summary(client, user)["bikes_needing_maintenance"] == 1
    install(api, b3, p1)
    s = summary(client, user)
    assert s["bikes_needing_maintenance"] == 2 and s["total_bikes"] == 3
