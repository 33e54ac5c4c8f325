"""Ride edits (issue 13 point 2): PATCH /api/bikes/:id/kilometrage/:log_id (and /mileage/).
The old credits are taken back and the new ones given, to the parts on the bike at the new
logged_at that the caller owns now; answers {bike, log, affected_parts, unit} with 200."""
import pytest

from flows import (DAY, Api, bike_km, install, new_part, part_km, remove,
                   ride, run_parallel, ts)
from flows import check_consistency, check_invariant  # noqa: F401 (fixtures)
from support import assert_error, assert_status, describe, parse_ts, random_uuid

pytestmark = pytest.mark.usefixtures("check_invariant", "check_consistency")


def _k(bike):
    return f"/api/bikes/{bike['id']}/kilometrage"


def _patch(api, bike, log, body, alias="kilometrage"):
    return api.patch(f"/api/bikes/{bike['id']}/{alias}/{log['id']}", json=body)


def _ok(api, bike, log, body, alias="kilometrage"):
    r = _patch(api, bike, log, body, alias)
    out = assert_status(r, 200)
    assert set(out) == {"bike", "log", "affected_parts", "unit"}, describe(r)
    assert out["log"]["id"] == log["id"], describe(r)
    return out


def _mt(api, thing, kind):
    return assert_status(api.get(f"/api/{kind}s/{thing['id']}"), 200)["total_moving_time_s"]


def _give(api, kind, thing, to):
    r = api.post(f"/api/{kind}s/{thing['id']}/transfer", json={"new_owner_email": to.email})
    return assert_status(r, 200)


def _stored(api, bike):
    return assert_status(api.get(_k(bike)), 200)["items"]


# ---- what an edit changes ------------------------------------------------------------------

def test_patch_distance_moves_the_totals(api, create_bike):
    b = create_bike(api, initial_kilometrage=100)
    p = new_part(api, name="P", initial_kilometrage=2)
    q = new_part(api, name="Q")
    install(api, b, p)
    install(api, b, q)
    log = ride(api, b, 10, moving_time_s=600, notes="keep", source="g", external_id="e1")["log"]
    ride(api, b, 1)
    out = _ok(api, b, log, {"distance": 15.5})
    assert out["unit"] == "km" and out["bike"]["total_kilometrage"] == 116.5
    assert {x["id"]: x["total_kilometrage"] for x in out["affected_parts"]} == \
        {p["id"]: 18.5, q["id"]: 16.5}
    want = dict(log, distance=15.5)
    assert out["log"] == want
    assert bike_km(api, b) == 116.5 and part_km(api, p) == 18.5 and part_km(api, q) == 16.5
    assert [x for x in _stored(api, b) if x["id"] == log["id"]] == [want]
    out = _ok(api, b, log, {"distance": 0.001})
    assert bike_km(api, b) == 101.001 and part_km(api, p) == 3.001
    assert _mt(api, b, "bike") == 600 and _mt(api, p, "part") == 600


def test_patch_logged_at_moves_the_credit_between_parts(api, create_bike):
    b = create_bike(api)
    a = new_part(api, name="A")
    c = new_part(api, name="C")
    t1, t2 = ts(-10 * DAY), ts(-5 * DAY)
    install(api, b, a, at=t1)
    remove(api, b, a, at=t2)
    install(api, b, c, at=t2)
    log = ride(api, b, 7, logged_at=ts(-7 * DAY), moving_time_s=300)["log"]
    assert part_km(api, a) == 7 and part_km(api, c) == 0
    steps = [
        (ts(-3 * DAY), c),      # after the swap: C
        (t1, a),                # exactly at A's install: A
        (t2, c),                # exactly at A's removal and C's install: C, not A
        (ts(-12 * DAY), None),  # before either: nobody
        (ts(-6 * DAY), a),
    ]
    for at, who in steps:
        out = _ok(api, b, log, {"logged_at": at})
        got = [x["id"] for x in out["affected_parts"]]
        assert got == ([] if who is None else [who["id"]]), (at, describe_parts(out))
        assert parse_ts(out["log"]["logged_at"]) == parse_ts(at), describe_parts(out)
        km_a, km_c = (7 if who is a else 0), (7 if who is c else 0)
        assert (part_km(api, a), part_km(api, c)) == (km_a, km_c), at
        assert (_mt(api, a, "part"), _mt(api, c, "part")) == (km_a and 300, km_c and 300), at
        assert bike_km(api, b) == 7 and _mt(api, b, "bike") == 300


def describe_parts(out):
    return [(x["id"], x["total_kilometrage"]) for x in out["affected_parts"]]


def test_patch_distance_and_logged_at_together(api, create_bike):
    b = create_bike(api)
    a = new_part(api, name="A")
    c = new_part(api, name="C")
    install(api, b, a, at=ts(-10 * DAY))
    remove(api, b, a, at=ts(-5 * DAY))
    install(api, b, c, at=ts(-5 * DAY))
    log = ride(api, b, 7, logged_at=ts(-7 * DAY))["log"]
    out = _ok(api, b, log, {"distance": 2, "logged_at": ts(-1 * DAY), "moving_time_s": 60})
    assert [x["id"] for x in out["affected_parts"]] == [c["id"]]
    assert part_km(api, a) == 0 and part_km(api, c) == 2 and bike_km(api, b) == 2
    assert _mt(api, c, "part") == 60 and _mt(api, a, "part") == 0


def test_patch_moving_time(api, create_bike):
    b = create_bike(api)
    p = new_part(api)
    install(api, b, p)
    log = ride(api, b, 5, moving_time_s=600)["log"]
    ride(api, b, 5, moving_time_s=100)
    for value, total in ((1200, 1300), (0, 100), (None, 100), (604800, 604900), (1, 101)):
        out = _ok(api, b, log, {"moving_time_s": value})
        assert out["log"]["moving_time_s"] == value
        assert out["bike"]["total_moving_time_s"] == total
        assert [x["total_moving_time_s"] for x in out["affected_parts"]] == [total]
        assert _mt(api, b, "bike") == total and _mt(api, p, "part") == total
    assert bike_km(api, b) == 10 and part_km(api, p) == 10


def test_patch_elevation_ride_type_notes(api, create_bike):
    b = create_bike(api)
    log = ride(api, b, 5, elevation_gain=100, ride_type="indoor", notes="n")["log"]
    out = _ok(api, b, log, {"elevation_gain": 250.46, "ride_type": "virtual", "notes": "edited"})
    assert (out["log"]["elevation_gain"], out["log"]["ride_type"], out["log"]["notes"]) == \
        (250.5, "virtual", "edited")
    out = _ok(api, b, log, {"elevation_gain": None, "notes": None})
    assert (out["log"]["elevation_gain"], out["log"]["ride_type"], out["log"]["notes"]) == \
        (None, "virtual", None)
    out = _ok(api, b, log, {"elevation_gain": 100000, "notes": "n" * 2000, "ride_type": "outdoor"})
    assert out["log"]["elevation_gain"] == 100000 and out["log"]["ride_type"] == "outdoor"
    assert _stored(api, b)[0] == out["log"]
    assert bike_km(api, b) == 5


def test_patch_in_miles(db, api, create_bike):
    b = create_bike(api)
    p = new_part(api)
    install(api, b, p)
    log = ride(api, b, 5, elevation_gain=10)["log"]
    out = _ok(api, b, log, {"distance": 10, "elevation_gain": 1000, "unit": "mi"})
    assert out["unit"] == "mi" and out["log"]["unit"] == "mi"
    assert out["log"]["distance"] == 10 and out["log"]["elevation_gain"] == 1000.0
    assert out["bike"]["total_kilometrage"] == 10
    assert [x["total_kilometrage"] for x in out["affected_parts"]] == [10]
    (d, e), = db.query("SELECT distance, elevation_gain FROM vehicles.kilometrage_log"
                       " WHERE id = %s", (log["id"],))
    assert (float(d), float(e)) == (16.093, 304.8)
    assert bike_km(api, b) == 16.093 and part_km(api, p) == 16.093
    # 328083.9 ft is under 100000 m, 328084 ft over it.
    assert _ok(api, b, log, {"elevation_gain": 328083.9, "unit": "mi"})["log"]["elevation_gain"] \
        == 328083.9
    assert_error(_patch(api, b, log, {"elevation_gain": 328084, "unit": "mi"}), 400,
                 "validation_error", {"elevation_gain"}, exact=True)
    # The unit alone changes nothing but the answer's unit.
    out = _ok(api, b, log, {"unit": "mi"})
    assert out["log"]["distance"] == 10 and out["unit"] == "mi"
    assert bike_km(api, b) == 16.093


def test_empty_patch_changes_nothing(api, create_bike):
    b = create_bike(api)
    p = new_part(api)
    install(api, b, p)
    log = ride(api, b, 5, moving_time_s=60, elevation_gain=1, source="s", external_id="x")["log"]
    out = _ok(api, b, log, {})
    assert out["log"] == log
    assert [x["id"] for x in out["affected_parts"]] == [p["id"]]
    assert bike_km(api, b) == 5 and part_km(api, p) == 5 and _mt(api, p, "part") == 60
    assert _stored(api, b) == [log]


def test_patch_through_the_mileage_alias(api, create_bike):
    b = create_bike(api)
    log = ride(api, b, 5)["log"]
    out = _ok(api, b, log, {"distance": 3, "unit": "mi"}, alias="mileage")
    assert out["log"]["distance"] == 3 and out["unit"] == "mi"
    assert bike_km(api, b) == 4.828


# ---- what an edit refuses ------------------------------------------------------------------

@pytest.mark.parametrize("body,field", [
    ({"source": "strava"}, "source"),
    ({"external_id": "other"}, "external_id"),
    ({"id": random_uuid()}, "id"),
    ({"bike_id": random_uuid()}, "bike_id"),
    ({"user_id": random_uuid()}, "user_id"),
    ({"created_at": "2024-01-01T00:00:00Z"}, "created_at"),
    ({"speed": 30}, "speed"),
    ({"distance": 0}, "distance"),
    ({"distance": -1}, "distance"),
    ({"distance": None}, "distance"),
    ({"distance": "5"}, "distance"),
    ({"distance": 100000.001}, "distance"),
    ({"distance": 62138, "unit": "mi"}, "distance"),
    ({"logged_at": None}, "logged_at"),
    ({"logged_at": "2024-01-15"}, "logged_at"),
    ({"logged_at": "soon"}, "logged_at"),
    ({"ride_type": None}, "ride_type"),
    ({"ride_type": "gravel"}, "ride_type"),
    ({"moving_time_s": -1}, "moving_time_s"),
    ({"moving_time_s": 604801}, "moving_time_s"),
    ({"moving_time_s": 1.5}, "moving_time_s"),
    ({"moving_time_s": "60"}, "moving_time_s"),
    ({"moving_time_s": 2 ** 63}, "moving_time_s"),
    ({"moving_time_s": 1e308}, "moving_time_s"),
    ({"elevation_gain": 1e308}, "elevation_gain"),
    ({"elevation_gain": 100000.1}, "elevation_gain"),
    ({"elevation_gain": -1}, "elevation_gain"),
    ({"elevation_gain": "1"}, "elevation_gain"),
    ({"notes": "n" * 2001}, "notes"),
    ({"notes": 5}, "notes"),
    ({"unit": "yd"}, "unit"),
])
def test_bad_patch_is_400_and_changes_nothing(api, create_bike, body, field):
    b = create_bike(api)
    p = new_part(api)
    install(api, b, p)
    log = ride(api, b, 5, moving_time_s=60, source="s", external_id="x")["log"]
    assert_error(_patch(api, b, log, body), 400, "validation_error", {field}, exact=True)
    assert _stored(api, b) == [log]
    assert bike_km(api, b) == 5 and part_km(api, p) == 5 and _mt(api, p, "part") == 60


def test_patch_in_the_future_is_400(api, create_bike):
    b = create_bike(api)
    log = ride(api, b, 5)["log"]
    assert_error(_patch(api, b, log, {"logged_at": ts(DAY)}), 400,
                 "validation_error", {"logged_at"})
    assert _stored(api, b) == [log]


def test_several_bad_fields_in_one_patch(api, create_bike):
    b = create_bike(api)
    log = ride(api, b, 5)["log"]
    r = _patch(api, b, log, {"distance": 0, "moving_time_s": -1, "ride_type": "x",
                             "source": "s", "foo": 1})
    assert_error(r, 400, "validation_error",
                 {"distance", "moving_time_s", "ride_type", "source", "foo"}, exact=True)
    assert _stored(api, b) == [log]


@pytest.mark.parametrize("raw", [b"[]", b'"x"', b"5", b"null", b"{",
                                 b'{"distance":1,"distance":2}'])
def test_patch_body_not_an_object_is_400(api, create_bike, raw):
    b = create_bike(api)
    log = ride(api, b, 5)["log"]
    r = api.patch(f"{_k(b)}/{log['id']}", data=raw, headers={"Content-Type": "application/json"})
    assert_error(r, 400, "validation_error")
    assert _stored(api, b) == [log]


def test_patch_ownership_and_ids(api, other_api, create_bike):
    mine = create_bike(api)
    mine2 = create_bike(api, name="2")
    log = ride(api, mine, 5)["log"]
    theirs = create_bike(other_api)
    their_log = ride(other_api, theirs, 6)["log"]
    # Another user's bike: 403, before the body is judged.
    assert_error(_patch(api, theirs, their_log, {"distance": 1}), 403, "forbidden")
    assert_error(_patch(api, theirs, their_log, {"distance": -1}), 403, "forbidden")
    # My bike, but the ride is another bike's (mine or theirs): 404.
    assert_error(_patch(api, mine2, log, {"distance": 1}), 404, "not_found")
    assert_error(_patch(api, mine, their_log, {"distance": 1}), 404, "not_found")
    assert_error(api.patch(f"{_k(mine)}/{random_uuid()}", json={"distance": 1}), 404,
                 "not_found")
    assert_error(api.patch(f"/api/bikes/{random_uuid()}/kilometrage/{log['id']}",
                           json={"distance": 1}), 404, "not_found")
    assert_error(api.patch(f"{_k(mine)}/nope", json={"distance": 1}), 400, "validation_error",
                 {"log_id"})
    assert_error(api.patch(f"/api/bikes/nope/kilometrage/{log['id']}", json={"distance": 1}),
                 400, "validation_error", {"id"})
    assert bike_km(api, mine) == 5 and bike_km(other_api, theirs) == 6


def test_patch_without_a_token_is_401(anon_api, api, create_bike):
    b = create_bike(api)
    log = ride(api, b, 5)["log"]
    assert_error(_patch(anon_api, b, log, {"distance": 1}), 401, "unauthorized")
    assert bike_km(api, b) == 5


# ---- edits and owners ----------------------------------------------------------------------

def test_a_part_given_away_keeps_its_kilometrage_when_its_ride_is_edited(db, api, other,
                                                                         other_api, create_bike):
    x = create_bike(api)
    p = new_part(api, name="given away")
    mine = new_part(api, name="mine")
    install(api, x, p, at=ts(-10 * DAY))
    install(api, x, mine, at=ts(-10 * DAY))
    log = ride(api, x, 5, logged_at=ts(-8 * DAY), moving_time_s=900)["log"]
    remove(api, x, p, at=ts(-6 * DAY))
    _give(api, "part", p, other)
    assert part_km(other_api, p) == 5 and _mt(other_api, p, "part") == 900
    for body in ({"distance": 8, "moving_time_s": 100}, {"logged_at": ts(-3 * DAY)},
                 {"logged_at": ts(-9 * DAY)}, {"distance": 1}):
        out = _ok(api, x, log, body)
        assert [q["id"] for q in out["affected_parts"]] == [mine["id"]], (body, describe_parts(out))
        assert part_km(other_api, p) == 5 and _mt(other_api, p, "part") == 900, body
    assert part_km(api, mine) == 1 and _mt(api, mine, "part") == 100
    assert bike_km(api, x) == 1 and _mt(api, x, "bike") == 100


def test_buyers_edit_does_not_reach_the_sellers_part(db, api, other, other_api, create_bike):
    y = create_bike(api)
    q = new_part(api, name="kept by seller")
    sold = new_part(api, name="sold with the bike")
    install(api, y, q, at=ts(-10 * DAY))
    install(api, y, sold, at=ts(-10 * DAY))
    log = ride(api, y, 6, logged_at=ts(-8 * DAY), moving_time_s=60)["log"]
    remove(api, y, q, at=ts(-5 * DAY))
    _give(api, "bike", y, other)
    out = _ok(other_api, y, log, {"distance": 9, "moving_time_s": 120})
    assert [x["id"] for x in out["affected_parts"]] == [sold["id"]]
    assert part_km(other_api, sold) == 9 and _mt(other_api, sold, "part") == 120
    assert part_km(api, q) == 6 and _mt(api, q, "part") == 60
    assert bike_km(other_api, y) == 9
    # The old owner cannot edit it any more.
    assert_error(_patch(api, y, log, {"distance": 1}), 403, "forbidden")


def test_an_edited_ride_is_what_its_external_id_now_matches(api, create_bike):
    b = create_bike(api)
    body = {"distance": 10, "logged_at": "2024-05-04T07:00:00Z", "source": "garmin",
            "external_id": "a-1", "moving_time_s": 100}
    log = assert_status(api.post(_k(b), json=body), 201)["log"]
    edited = _ok(api, b, log, {"distance": 12, "moving_time_s": 200})["log"]
    assert_error(api.post(_k(b), json=body), 409, "conflict")
    again = assert_status(api.post(_k(b), json=dict(body, distance=12, moving_time_s=200)), 200)
    assert again["log"] == edited and again["affected_parts"] == []
    assert bike_km(api, b) == 12 and _mt(api, b, "bike") == 200


def test_parallel_edits_of_one_ride_keep_the_totals_exact(user, api, create_bike):
    b = create_bike(api)
    a = new_part(api, name="A")
    c = new_part(api, name="C")
    install(api, b, a, at=ts(-10 * DAY))
    remove(api, b, a, at=ts(-5 * DAY))
    install(api, b, c, at=ts(-5 * DAY))
    log = ride(api, b, 1, logged_at=ts(-7 * DAY), moving_time_s=10)["log"]
    clients = [Api(user.token) for _ in range(6)]
    try:
        for _ in range(3):
            calls = [lambda i=i, cl=cl: cl.patch(
                f"{_k(b)}/{log['id']}",
                json={"distance": i + 1, "moving_time_s": 10 * (i + 1),
                      "logged_at": ts((-7 if i % 2 else -2) * DAY)})
                for i, cl in enumerate(clients)]
            res = run_parallel(calls)
            assert [r.status_code for r in res] == [200] * 6, [describe(r) for r in res]
            final = _stored(api, b)[0]
            d, m = final["distance"], final["moving_time_s"]
            assert bike_km(api, b) == d and _mt(api, b, "bike") == m
            assert part_km(api, a) + part_km(api, c) == d
            assert _mt(api, a, "part") + _mt(api, c, "part") == m
    finally:
        for cl in clients:
            cl.close()
