"""Rides: POST/GET/DELETE /api/bikes/:id/kilometrage (api-notes "Kilometrage"), idempotency,
backdating, corrections, keyset paging, parallel rides, and the invariant after each test."""
import pytest

from flows import (DAY, HOUR, MIN, Api, bike_km, bike_of, install, new_part,
                   part_km, remove, ride, run_parallel, ts)
from flows import check_invariant  # noqa: F401 (fixtures)
from support import (RFC3339_UTC, UUID_RE, assert_error, assert_status, describe, parse_ts,
                     random_uuid)

pytestmark = pytest.mark.usefixtures("check_invariant")


def _k(bike):
    return f"/api/bikes/{bike['id']}/kilometrage"


# ---- logging a ride --------------------------------------------------------------------

def test_ride_answer_shape(user, api, create_bike):
    b = create_bike(api, initial_kilometrage=100)
    p = new_part(api, name="A chain")
    q = new_part(api, name="B tyre", type="tires", initial_kilometrage=5)
    spare = new_part(api, name="spare")
    install(api, b, p)
    install(api, b, q)
    r = api.post(_k(b), json={"distance": 12.5, "notes": "commute"})
    body = assert_status(r, 201)
    assert set(body) == {"bike", "log", "affected_parts", "unit"}, describe(r)
    assert body["unit"] == "km"
    assert body["bike"]["id"] == b["id"] and body["bike"]["total_kilometrage"] == 112.5
    log = body["log"]
    assert UUID_RE.match(log["id"]) and log["bike_id"] == b["id"] and log["user_id"] == user.id
    assert log["distance"] == 12.5 and log["notes"] == "commute"
    assert RFC3339_UTC.match(log["logged_at"]) and RFC3339_UTC.match(log["created_at"])
    totals = {x["id"]: x["total_kilometrage"] for x in body["affected_parts"]}
    assert totals == {p["id"]: 12.5, q["id"]: 17.5}, describe(r)
    assert part_km(api, p) == 12.5 and part_km(api, q) == 17.5 and part_km(api, spare) == 0
    assert bike_km(api, b) == 112.5


def test_ride_without_parts(api, create_bike):
    b = create_bike(api)
    body = ride(api, b, 3)
    assert body["affected_parts"] == [] and body["bike"]["total_kilometrage"] == 3


def test_ride_in_miles(db, api, create_bike):
    b = create_bike(api)
    p = new_part(api)
    install(api, b, p)
    body = ride(api, b, 10.5, unit="mi")
    assert body["unit"] == "mi"
    assert body["log"]["distance"] == 10.5 and body["bike"]["total_kilometrage"] == 10.5
    assert body["affected_parts"][0]["total_kilometrage"] == 10.5
    (d,), = db.query("SELECT distance FROM vehicles.kilometrage_log WHERE id = %s", (body["log"]["id"],))
    assert float(d) == 16.898
    (t,), = db.query("SELECT total_kilometrage FROM vehicles.user_part WHERE id = %s", (p["id"],))
    assert float(t) == 16.898
    assert bike_km(api, b) == 16.898
    assert bike_of(api, b, unit="mi")["total_kilometrage"] == 10.5
    h = assert_status(api.get(_k(b), params={"unit": "mi"}), 200)
    assert h["items"][0]["distance"] == 10.5 and h["unit"] == "mi"
    assert assert_status(api.get(_k(b)), 200)["items"][0]["distance"] == 16.898


def test_mileage_alias(api, create_bike):
    b = create_bike(api)
    body = assert_status(api.post(f"/api/bikes/{b['id']}/mileage",
                                  json={"distance": 10.5, "unit": "mi",
                                        "logged_at": "2024-01-15T10:00:00Z"}), 201)
    assert body["log"]["logged_at"] == "2024-01-15T10:00:00Z"
    h = assert_status(api.get(f"/api/bikes/{b['id']}/mileage"), 200)
    assert [x["id"] for x in h["items"]] == [body["log"]["id"]]
    assert_status(api.delete(f"/api/bikes/{b['id']}/mileage/{body['log']['id']}"), 200)
    assert bike_km(api, b) == 0


@pytest.mark.parametrize("body,field", [
    ({"distance": 0}, "distance"),
    ({"distance": -5}, "distance"),
    ({"distance": "5"}, "distance"),
    ({"distance": None}, "distance"),
    ({}, "distance"),
    ({"distance": 100000.001}, "distance"),
    ({"distance": 62138, "unit": "mi"}, "distance"),  # 100000.4 km
    ({"distance": 1, "unit": "yd"}, "unit"),
    ({"distance": 1, "logged_at": "2024-01-15"}, "logged_at"),
    ({"distance": 1, "logged_at": "2024-01-15T10:00:00"}, "logged_at"),
    ({"distance": 1, "logged_at": "2024-02-30T10:00:00Z"}, "logged_at"),
    ({"distance": 1, "logged_at": 1700000000}, "logged_at"),
    ({"distance": 1, "logged_at": "in the future"}, "logged_at"),
    ({"distance": 1, "notes": "n" * 2001}, "notes"),
    ({"distance": 1, "notes": 5}, "notes"),
    ({"distance": 1, "speed": 30}, "speed"),
    ({"distance": 1, "bike_id": "x"}, "bike_id"),
])
def test_ride_bad_body_is_400_and_changes_nothing(api, create_bike, body, field):
    b = create_bike(api)
    p = new_part(api)
    install(api, b, p)
    assert_error(api.post(_k(b), json=body), 400, "validation_error", {field}, exact=True)
    assert bike_km(api, b) == 0 and part_km(api, p) == 0
    assert assert_status(api.get(_k(b)), 200)["total"] == 0


def test_ride_limits_are_inclusive(api, create_bike):
    b = create_bike(api)
    assert ride(api, b, 100000)["log"]["distance"] == 100000
    assert ride(api, b, 1, notes="n" * 2000)["log"]["notes"] == "n" * 2000
    assert ride(api, b, 0.001)["log"]["distance"] == 0.001


def test_ride_logged_in_the_future(api, create_bike):
    b = create_bike(api)
    assert_error(api.post(_k(b), json={"distance": 1, "logged_at": ts(10 * MIN)}), 400,
                 "validation_error", {"logged_at"})
    assert_status(api.post(_k(b), json={"distance": 1, "logged_at": ts(1 * MIN)}), 201)


def test_ride_ownership_and_ids(api, other_api, create_bike):
    b = create_bike(other_api)
    assert_error(api.post(_k(b), json={"distance": 1}), 403, "forbidden")
    assert_error(api.post(_k(b), json={"distance": -1}), 403, "forbidden")  # 403 before body
    assert_error(api.post(f"/api/bikes/{random_uuid()}/kilometrage", json={"distance": -1}), 404,
                 "not_found")
    assert_error(api.post("/api/bikes/zzz/kilometrage", json={"distance": 1}), 400,
                 "validation_error", {"id"})
    assert_error(api.get(_k(b)), 403, "forbidden")
    assert bike_km(other_api, b) == 0


# ---- backdating ------------------------------------------------------------------------

def test_backdated_ride_credits_the_parts_of_that_day(api, create_bike):
    b = create_bike(api)
    a = new_part(api, name="A")
    c = new_part(api, name="B")
    install(api, b, a, at=ts(-10 * DAY))     # T1
    remove(api, b, a, at=ts(-5 * DAY))       # T2
    install(api, b, c, at=ts(-5 * DAY))
    body = ride(api, b, 40, logged_at=ts(-7 * DAY))
    assert [x["id"] for x in body["affected_parts"]] == [a["id"]], body
    assert part_km(api, a) == 40 and part_km(api, c) == 0
    body = ride(api, b, 3)  # today: B only
    assert [x["id"] for x in body["affected_parts"]] == [c["id"]]
    assert part_km(api, a) == 40 and part_km(api, c) == 3
    body = ride(api, b, 2, logged_at=ts(-12 * DAY))  # before either
    assert body["affected_parts"] == []
    assert bike_km(api, b) == 45


def test_ride_at_the_exact_removal_instant_goes_to_the_new_part(api, create_bike):
    b = create_bike(api)
    a = new_part(api, name="A")
    c = new_part(api, name="B")
    t1, t2 = ts(-4 * DAY), ts(-2 * DAY)
    install(api, b, a, at=t1)
    remove(api, b, a, at=t2)
    install(api, b, c, at=t2)
    # Installed at or before logged_at, not removed by then.
    body = ride(api, b, 9, logged_at=t2)
    assert [x["id"] for x in body["affected_parts"]] == [c["id"]]
    body = ride(api, b, 4, logged_at=t1)
    assert [x["id"] for x in body["affected_parts"]] == [a["id"]]


def test_backdated_install_credits_rides_since(api, create_bike):
    b = create_bike(api)
    ride(api, b, 5, logged_at=ts(-3 * DAY))
    ride(api, b, 7, logged_at=ts(-1 * DAY))
    ride(api, b, 11)
    p = new_part(api, initial_kilometrage=1)
    install(api, b, p, at=ts(-2 * DAY))
    assert part_km(api, p) == 1 + 7 + 11
    assert bike_km(api, b) == 23


def test_backdated_removal_takes_back_rides_since(api, create_bike):
    b = create_bike(api)
    p = new_part(api)
    install(api, b, p, at=ts(-5 * DAY))
    ride(api, b, 3, logged_at=ts(-4 * DAY))
    ride(api, b, 4, logged_at=ts(-2 * DAY))
    ride(api, b, 5)
    assert part_km(api, p) == 12
    remove(api, b, p, at=ts(-3 * DAY))
    assert part_km(api, p) == 3
    assert bike_km(api, b) == 12
    # Re-installed later: only the rides of the new period come back.
    install(api, b, p, at=ts(-1 * DAY))
    assert part_km(api, p) == 3 + 5


# ---- idempotency -----------------------------------------------------------------------

def test_idempotent_retry_returns_the_first_answer(api, create_bike):
    b = create_bike(api)
    p = new_part(api)
    install(api, b, p)
    hdr = {"Idempotency-Key": "ride-2024-01-15-abc"}
    body = {"distance": 21.1, "notes": "retry me"}
    first = api.post(_k(b), json=body, headers=hdr)
    one = assert_status(first, 201)
    again = api.post(_k(b), json=body, headers=hdr)
    two = assert_status(again, 201)
    assert two["log"]["id"] == one["log"]["id"]
    assert two == one, f"{describe(first)}\n{describe(again)}"
    assert bike_km(api, b) == 21.1 and part_km(api, p) == 21.1
    assert assert_status(api.get(_k(b)), 200)["total"] == 1
    # Without the header every request is a new ride.
    ride(api, b, 21.1, notes="retry me")
    assert bike_km(api, b) == 42.2


def test_idempotency_key_reused_with_a_different_body_is_409(api, create_bike):
    b = create_bike(api)
    c = create_bike(api, name="other bike")
    hdr = {"Idempotency-Key": "k1"}
    assert_status(api.post(_k(b), json={"distance": 5}, headers=hdr), 201)
    assert_error(api.post(_k(b), json={"distance": 6}, headers=hdr), 409, "conflict")
    assert_error(api.post(_k(c), json={"distance": 5}, headers=hdr), 409, "conflict")
    assert bike_km(api, b) == 5 and bike_km(api, c) == 0


@pytest.mark.parametrize("key", ["a" * 256, "tab\there", "bell\x07", "del\x7f"])
def test_invalid_idempotency_key_is_400(api, create_bike, key):
    b = create_bike(api)
    r = api.post(_k(b), json={"distance": 5}, headers={"Idempotency-Key": key})
    assert_error(r, 400, "validation_error")
    assert bike_km(api, b) == 0


def test_idempotency_key_of_255_chars_is_fine(api, create_bike):
    b = create_bike(api)
    hdr = {"Idempotency-Key": "k" * 255}
    one = assert_status(api.post(_k(b), json={"distance": 5}, headers=hdr), 201)
    two = assert_status(api.post(_k(b), json={"distance": 5}, headers=hdr), 201)
    assert one["log"]["id"] == two["log"]["id"] and bike_km(api, b) == 5


def test_idempotency_keys_are_per_user(api, other_api, create_bike):
    mine = create_bike(api)
    theirs = create_bike(other_api)
    hdr = {"Idempotency-Key": "shared-key"}
    one = assert_status(api.post(_k(mine), json={"distance": 5}, headers=hdr), 201)
    two = assert_status(other_api.post(_k(theirs), json={"distance": 5}, headers=hdr), 201)
    assert one["log"]["id"] != two["log"]["id"]
    assert bike_km(api, mine) == 5 and bike_km(other_api, theirs) == 5


def test_parallel_retries_with_one_key_log_once(api, create_bike):
    b = create_bike(api)
    p = new_part(api)
    install(api, b, p)
    clients = [Api(api.token) for _ in range(6)]
    try:
        res = run_parallel([lambda c=c: c.post(_k(b), json={"distance": 2.5},
                                                headers={"Idempotency-Key": "same"})
                            for c in clients])
    finally:
        for c in clients:
            c.close()
    ids = {assert_status(r, 201)["log"]["id"] for r in res}
    assert len(ids) == 1, [describe(r) for r in res]
    assert bike_km(api, b) == 2.5 and part_km(api, p) == 2.5


# ---- corrections -----------------------------------------------------------------------

def test_delete_ride_reverses_exactly(api, create_bike):
    x = create_bike(api, initial_kilometrage=50)
    y = create_bike(api, name="Y")
    p = new_part(api, initial_kilometrage=3)
    q = new_part(api, name="q")
    install(api, x, p, at=ts(-3 * DAY))
    install(api, x, q, at=ts(-3 * DAY))
    keep = ride(api, x, 4.4, logged_at=ts(-2 * DAY))
    gone = ride(api, x, 7.777, logged_at=ts(-1 * DAY))
    remove(api, x, q)            # q moved on, still credited with the ride
    install(api, y, q)
    ride(api, y, 1)
    assert part_km(api, q) == 4.4 + 7.777 + 1
    r = api.delete(f"{_k(x)}/{gone['log']['id']}")
    assert assert_status(r, 200) == {"success": True, "id": gone["log"]["id"]}
    assert bike_km(api, x) == 54.4
    assert part_km(api, p) == 7.4
    assert part_km(api, q) == 5.4
    assert bike_km(api, y) == 1
    h = assert_status(api.get(_k(x)), 200)
    assert [i["id"] for i in h["items"]] == [keep["log"]["id"]] and h["total"] == 1
    assert_error(api.delete(f"{_k(x)}/{gone['log']['id']}"), 404, "not_found")
    assert bike_km(api, x) == 54.4


def test_delete_ride_of_another_bike_or_user(api, other_api, create_bike):
    mine = create_bike(api)
    mine2 = create_bike(api, name="2")
    log = ride(api, mine, 5)["log"]
    theirs = create_bike(other_api)
    their_log = ride(other_api, theirs, 6)["log"]
    assert_error(api.delete(f"{_k(theirs)}/{their_log['id']}"), 403, "forbidden")
    assert_error(api.delete(f"{_k(mine2)}/{log['id']}"), 404, "not_found")  # not that bike's
    assert_error(api.delete(f"{_k(mine)}/{random_uuid()}"), 404, "not_found")
    assert_error(api.delete(f"{_k(mine)}/nope"), 400, "validation_error", {"log_id"})
    assert bike_km(api, mine) == 5 and bike_km(other_api, theirs) == 6


# ---- history ---------------------------------------------------------------------------

def test_history_envelope_newest_first(api, create_bike):
    b = create_bike(api)
    logs = [ride(api, b, i + 1, logged_at=ts((i - 10) * HOUR))["log"] for i in range(5)]
    r = api.get(_k(b))
    h = assert_status(r, 200)
    assert set(h) == {"items", "total", "limit", "offset", "next_cursor", "unit"}, describe(r)
    assert h["total"] == 5 and h["limit"] == 50 and h["offset"] == 0 and h["unit"] == "km"
    assert h["next_cursor"] is None
    assert [i["id"] for i in h["items"]] == [l["id"] for l in reversed(logs)]
    first = h["items"][0]
    for k in ("id", "bike_id", "user_id", "distance", "logged_at", "notes", "created_at"):
        assert first[k] == logs[-1][k], k
    h = assert_status(api.get(_k(b), params={"limit": 2, "offset": 1}), 200)
    assert [i["id"] for i in h["items"]] == [logs[3]["id"], logs[2]["id"]]
    assert h["limit"] == 2 and h["offset"] == 1 and h["total"] == 5
    assert isinstance(h["next_cursor"], str)


def test_history_default_limit_is_50(api, create_bike):
    b = create_bike(api)
    clients = [Api(api.token) for _ in range(6)]
    try:
        res = run_parallel([lambda i=i: clients[i % 6].post(_k(b), json={"distance": 1, "logged_at": ts(-i * MIN)})
                            for i in range(53)])
    finally:
        for c in clients:
            c.close()
    assert {r.status_code for r in res} == {201}
    h = assert_status(api.get(_k(b)), 200)
    assert len(h["items"]) == 50 and h["limit"] == 50 and h["total"] == 53
    assert h["next_cursor"] is not None
    rest = assert_status(api.get(_k(b), params={"cursor": h["next_cursor"]}), 200)
    assert len(rest["items"]) == 3 and rest["next_cursor"] is None
    assert not {i["id"] for i in rest["items"]} & {i["id"] for i in h["items"]}


def test_history_limits(api, create_bike):
    b = create_bike(api)
    ride(api, b, 1)
    assert assert_status(api.get(_k(b), params={"limit": 200}), 200)["limit"] == 200
    for params, field in (({"limit": 201}, "limit"), ({"limit": 0}, "limit"),
                          ({"offset": -1}, "offset"), ({"unit": "ft"}, "unit"),
                          ({"cursor": "garbage"}, "cursor"),
                          ({"cursor": "123.not-a-uuid"}, "cursor"),
                          ({"cursor": "12345"}, "cursor"),
                          ({"cursor": "1x." + random_uuid()}, "cursor")):
        assert_error(api.get(_k(b), params=params), 400, "validation_error", {field})


def test_keyset_paging_returns_every_entry_once(api, create_bike):
    b = create_bike(api)
    base = ts(-30 * DAY)
    want = []
    for i in range(25):
        # Distinct times and runs of equal ones (4 rides share each of some instants).
        at = base if i % 3 == 0 else ts(-(i + 1) * HOUR)
        want.append(ride(api, b, i + 1, logged_at=at)["log"]["id"])
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 7}
        if cursor:
            params["cursor"] = cursor
        h = assert_status(api.get(_k(b), params=params), 200)
        assert h["total"] == 25
        seen += [(i["logged_at"], i["id"]) for i in h["items"]]
        pages += 1
        cursor = h["next_cursor"]
        if cursor is None:
            break
        assert pages < 10, "paging does not end"
    ids = [i for _, i in seen]
    assert sorted(ids) == sorted(want), f"missing or repeated: {len(ids)} of 25"
    assert len(set(ids)) == 25 and pages == 4
    keys = [(parse_ts(t), i) for t, i in seen]
    assert keys == sorted(keys, reverse=True), "not newest first on (logged_at, id)"
    # Offset paging agrees with the cursor.
    off = []
    for o in range(0, 25, 7):
        off += [i["id"] for i in assert_status(api.get(_k(b), params={"limit": 7, "offset": o}), 200)["items"]]
    assert off == ids


def test_keyset_paging_over_rides_before_1970(api, create_bike):
    b = create_bike(api)
    want = {ride(api, b, 1, logged_at=at)["log"]["id"]
            for at in ("1969-07-20T20:17:00Z", "1968-01-01T00:00:00Z", "2000-01-01T00:00:00Z")}
    h = assert_status(api.get(_k(b), params={"limit": 1}), 200)
    seen = [i["id"] for i in h["items"]]
    while h["next_cursor"] is not None and len(seen) < 5:
        r = api.get(_k(b), params={"limit": 1, "cursor": h["next_cursor"]})
        h = assert_status(r, 200)
        seen += [i["id"] for i in h["items"]]
    assert sorted(seen) == sorted(want)


# ---- concurrency -----------------------------------------------------------------------

def test_50_parallel_rides_on_one_bike(api, create_bike):
    b = create_bike(api, initial_kilometrage=1)
    parts = [new_part(api, name=f"P{i}") for i in range(3)]
    for p in parts:
        install(api, b, p)
    clients = [Api(api.token) for _ in range(10)]
    try:
        res = run_parallel([lambda i=i: clients[i % 10].post(_k(b), json={"distance": 1.111})
                            for i in range(50)])
    finally:
        for c in clients:
            c.close()
    assert [r.status_code for r in res] == [201] * 50, [describe(r) for r in res if r.status_code != 201][:3]
    assert len({r.json()["log"]["id"] for r in res}) == 50
    assert bike_km(api, b) == round(1 + 50 * 1.111, 3)
    for p in parts:
        assert part_km(api, p) == round(50 * 1.111, 3)
    assert assert_status(api.get(_k(b)), 200)["total"] == 50


# ---- limits of what a ride and a cursor can carry ---------------------------------------

def _nested(depth):
    """metadata nesting `depth` objects: {"a": {"a": ... {"a": 1}}}"""
    m = 1
    for _ in range(depth):
        m = {"a": m}
    return m


def test_ride_on_a_bike_with_deep_metadata_answers_201(api, create_bike):
    # The ride's answer wraps the bike's metadata in more levels than the body had.
    b = create_bike(api, metadata=_nested(29))
    body = ride(api, b, 5)
    assert body["bike"]["total_kilometrage"] == 5
    assert body["bike"]["metadata"] == _nested(29)


@pytest.mark.parametrize("stamp", ["2024-01-15T10:00:00+16:00", "2024-01-15T10:00:00-23:30"])
def test_logged_at_offset_postgres_cannot_take_is_400(api, create_bike, stamp):
    # RFC 3339 allows offsets up to ±23:59; PostgreSQL only up to ±15:59.
    b = create_bike(api)
    assert_error(api.post(_k(b), json={"distance": 1, "logged_at": stamp}), 400, "validation_error",
                 {"logged_at"})


def test_history_cursor_before_1900_is_400(api, create_bike):
    b = create_bike(api)
    r = api.get(_k(b), params={"cursor": f"-253402300799000000.{random_uuid()}"})
    assert_error(r, 400, "validation_error", {"cursor"})
