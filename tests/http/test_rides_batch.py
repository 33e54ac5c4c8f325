"""Batch ingest (issue 13 point 3): POST /api/rides/batch {"unit"?, "rides": [1..200 rides]},
each ride with source and external_id, each validated, ownership-checked and applied on its
own; answers 200 {"results": [{"index", "status": created|unchanged|error, "log"?, "error"?}],
"unit"}. A retried batch creates nothing twice."""
import json

import pytest

from flows import (DAY, HOUR, Api, bike_km, install, new_part, part_km,
                   remove, run_parallel, ts)
from flows import check_consistency, check_invariant  # noqa: F401 (fixtures)
from support import assert_error, assert_status, describe, random_uuid

pytestmark = pytest.mark.usefixtures("check_invariant", "check_consistency")

BATCH = "/api/rides/batch"
LOG_KEYS = {"id", "created_at", "bike_id", "user_id", "distance", "logged_at", "notes",
            "moving_time_s", "elevation_gain", "ride_type", "source", "external_id", "unit"}
JSON = {"Content-Type": "application/json"}


def _ride(bike, ext, **over):
    r = {"bike_id": bike["id"], "distance": 10, "source": "garmin", "external_id": ext}
    r.update(over)
    return r


def _batch(api, rides, timeout=30, **top):
    body = {"rides": rides}
    body.update(top)
    return api.post(BATCH, json=body, timeout=timeout)


def _results(r, n):
    body = assert_status(r, 200)
    assert set(body) == {"results", "unit"}, describe(r)
    res = body["results"]
    assert isinstance(res, list) and len(res) == n, describe(r)
    assert [x["index"] for x in res] == list(range(n)), describe(r)
    for x in res:
        assert x["status"] in ("created", "unchanged", "error"), x
        if x["status"] == "error":
            assert x.get("log") is None, x
            e = x["error"]
            assert isinstance(e, dict) and isinstance(e.get("error"), str), x
            assert isinstance(e.get("message"), str) and e["message"], x
        else:
            assert x.get("error") is None, x
            assert set(x["log"]) == LOG_KEYS, x
    return body


def _err(x, code, fields=None):
    assert x["status"] == "error", x
    assert x["error"]["error"] == code, x
    if fields is not None:
        details = x["error"].get("details")
        assert isinstance(details, dict) and set(details) == set(fields), x
        for f in fields:
            assert isinstance(details[f], str) and details[f], x


def _total(api, bike):
    return assert_status(api.get(f"/api/bikes/{bike['id']}/kilometrage"), 200)["total"]


def _mt(api, thing, kind):
    return assert_status(api.get(f"/api/{kind}s/{thing['id']}"), 200)["total_moving_time_s"]


def _give(api, kind, thing, to):
    r = api.post(f"/api/{kind}s/{thing['id']}/transfer", json={"new_owner_email": to.email})
    return assert_status(r, 200)


# ---- a good batch --------------------------------------------------------------------------

def test_batch_of_one(user, api, create_bike):
    b = create_bike(api, initial_kilometrage=1)
    p = new_part(api)
    install(api, b, p, at=ts(-10 * DAY))
    at = ts(-1 * HOUR)
    r = _batch(api, [_ride(b, "a-1", distance=12.5, logged_at=at, moving_time_s=1800,
                           elevation_gain=120.44, ride_type="indoor", notes="n")])
    body = _results(r, 1)
    assert body["unit"] == "km"
    x = body["results"][0]
    assert x["status"] == "created", describe(r)
    log = x["log"]
    assert (log["bike_id"], log["user_id"], log["distance"], log["moving_time_s"],
            log["elevation_gain"], log["ride_type"], log["notes"], log["source"],
            log["external_id"], log["unit"]) == \
        (b["id"], user.id, 12.5, 1800, 120.4, "indoor", "n", "garmin", "a-1", "km"), describe(r)
    h = assert_status(api.get(f"/api/bikes/{b['id']}/kilometrage"), 200)
    assert h["items"] == [log]
    assert bike_km(api, b) == 13.5 and part_km(api, p) == 12.5
    assert _mt(api, b, "bike") == 1800 and _mt(api, p, "part") == 1800


def test_batch_defaults(api, create_bike):
    b = create_bike(api)
    body = _results(_batch(api, [_ride(b, "d-1")]), 1)
    log = body["results"][0]["log"]
    assert (log["moving_time_s"], log["elevation_gain"], log["ride_type"], log["notes"]) == \
        (None, None, "outdoor", None)
    assert _total(api, b) == 1


def test_full_batch_of_200_fits_the_body_limit_and_a_retry_creates_nothing(api, create_bike):
    b = create_bike(api)
    c = create_bike(api, name="second")
    p = new_part(api)
    install(api, b, p, at=ts(-300 * DAY))
    rides = [_ride(b if i % 2 == 0 else c, f"activity-{i:012d}-abcdefgh", distance=1.5,
                   logged_at=ts(-(i + 1) * HOUR), moving_time_s=3600 + i,
                   elevation_gain=123.4, ride_type="outdoor", notes="Morning ride, easy")
             for i in range(200)]
    raw = json.dumps({"unit": "km", "rides": rides}).encode()
    assert len(raw) < 64 * 1024, len(raw)
    r = api.post(BATCH, data=raw, headers=JSON, timeout=60)
    body = _results(r, 200)
    assert [x["status"] for x in body["results"]] == ["created"] * 200, describe(r)
    logs = [x["log"] for x in body["results"]]
    assert [x["external_id"] for x in logs] == [x["external_id"] for x in rides]
    assert len({x["id"] for x in logs}) == 200
    assert bike_km(api, b) == 150 and bike_km(api, c) == 150 and part_km(api, p) == 150
    moving_b = sum(3600 + i for i in range(0, 200, 2))
    assert _mt(api, b, "bike") == moving_b and _mt(api, p, "part") == moving_b
    assert _total(api, b) == 100 and _total(api, c) == 100
    # The same batch again: every ride unchanged, the same logs, nothing credited twice.
    again = _results(api.post(BATCH, data=raw, headers=JSON, timeout=60), 200)
    assert [x["status"] for x in again["results"]] == ["unchanged"] * 200
    assert [x["log"] for x in again["results"]] == logs
    assert bike_km(api, b) == 150 and part_km(api, p) == 150 and _mt(api, p, "part") == moving_b
    assert _total(api, b) == 100 and _total(api, c) == 100


@pytest.mark.parametrize("n", [0, 201])
def test_batch_size_out_of_bounds_is_400(api, create_bike, n):
    b = create_bike(api)
    rides = [{"bike_id": b["id"], "distance": 1, "source": "s", "external_id": str(i)}
             for i in range(n)]
    raw = json.dumps({"rides": rides}).encode()
    assert len(raw) < 64 * 1024
    assert_error(api.post(BATCH, data=raw, headers=JSON, timeout=30), 400, "validation_error",
                 {"rides"}, exact=True)
    assert _total(api, b) == 0 and bike_km(api, b) == 0


@pytest.mark.parametrize("raw,field", [
    (b'{"rides": {}}', "rides"),
    (b'{"rides": "x"}', "rides"),
    (b'{"rides": null}', "rides"),
    (b'{}', "rides"),
    (b'{"unit": "mi"}', "rides"),
    (b'{"rides": [RIDE], "unit": "yd"}', "unit"),
    (b'{"rides": [RIDE], "unit": 5}', "unit"),
    (b'{"rides": [RIDE], "speed": 1}', "speed"),
    (b'[RIDE]', None),
    (b'"x"', None),
    (b'null', None),
    (b'{"rides": [RIDE]', None),
])
def test_bad_top_level_body_is_400_for_the_whole_batch(api, create_bike, raw, field):
    b = create_bike(api)
    one = json.dumps(_ride(b, "top-1")).encode()
    r = api.post(BATCH, data=raw.replace(b"RIDE", one), headers=JSON)
    assert_error(r, 400, "validation_error", None if field is None else {field},
                 exact=field is not None)
    assert _total(api, b) == 0


def test_batch_needs_a_token(anon_api, api, create_bike):
    b = create_bike(api)
    assert_error(_batch(anon_api, [_ride(b, "anon")]), 401, "unauthorized")
    assert _total(api, b) == 0


# ---- each ride on its own ------------------------------------------------------------------

def test_mixed_batch_creates_the_good_rides_and_names_each_error(api, other_api, create_bike):
    b = create_bike(api)
    c = create_bike(api, name="second")
    theirs = create_bike(other_api)
    p = new_part(api)
    install(api, b, p, at=ts(-10 * DAY))
    logged = assert_status(api.post(f"/api/bikes/{b['id']}/kilometrage",
                                    json={"distance": 4, "source": "garmin",
                                          "external_id": "old", "logged_at": ts(-DAY)}), 201)
    rides = [
        _ride(b, "m-0", distance=2),                                     # 0 created
        _ride(b, "m-1", distance=0),                                     # 1 400 distance
        _ride(theirs, "m-2"),                                            # 2 403
        {"bike_id": random_uuid(), "distance": 1, "source": "g", "external_id": "m-3"},  # 404
        _ride({"id": "nope"}, "m-4"),                                    # 4 400 bike_id
        {"bike_id": b["id"], "distance": 1, "external_id": "m-5"},       # 5 400 source
        {"bike_id": b["id"], "distance": 1, "source": "g"},              # 6 400 external_id
        _ride(b, "m-7", speed=30),                                       # 7 400 speed
        _ride(b, "old", distance=5),                                     # 8 409
        _ride(c, "m-9", distance=3, moving_time_s=60),                   # 9 created
        {"distance": 1, "source": "g", "external_id": "m-10"},           # 10 400 bike_id
        {"bike_id": b["id"], "source": "g", "external_id": "m-11"},      # 11 400 distance
        _ride(b, "m-12", moving_time_s=-1, ride_type="gravel"),          # 12 400 both
        _ride(b, "old", distance=4, logged_at=logged["log"]["logged_at"]),  # 13 unchanged
        _ride(b, "m-14", distance=1, logged_at=ts(DAY)),                 # 14 400 logged_at
    ]
    body = _results(_batch(api, rides), len(rides))
    res = body["results"]
    assert res[0]["status"] == "created" and res[0]["log"]["distance"] == 2
    _err(res[1], "validation_error", {"distance"})
    _err(res[2], "forbidden")
    _err(res[3], "not_found")
    _err(res[4], "validation_error", {"bike_id"})
    _err(res[5], "validation_error", {"source"})
    _err(res[6], "validation_error", {"external_id"})
    _err(res[7], "validation_error", {"speed"})
    _err(res[8], "conflict")
    assert res[9]["status"] == "created" and res[9]["log"]["bike_id"] == c["id"]
    _err(res[10], "validation_error", {"bike_id"})
    _err(res[11], "validation_error", {"distance"})
    _err(res[12], "validation_error", {"moving_time_s", "ride_type"})
    assert res[13]["status"] == "unchanged" and res[13]["log"] == logged["log"], res[13]
    _err(res[14], "validation_error", {"logged_at"})
    assert bike_km(api, b) == 6 and part_km(api, p) == 6 and bike_km(api, c) == 3
    assert _mt(api, c, "bike") == 60
    assert _total(api, b) == 2 and _total(api, c) == 1
    assert bike_km(other_api, theirs) == 0 and _total(other_api, theirs) == 0


@pytest.mark.parametrize("over,field", [
    ({"moving_time_s": 604801}, "moving_time_s"),
    ({"moving_time_s": 1.5}, "moving_time_s"),
    ({"moving_time_s": "60"}, "moving_time_s"),
    ({"elevation_gain": 100000.1}, "elevation_gain"),
    ({"elevation_gain": -1}, "elevation_gain"),
    ({"ride_type": "Outdoor"}, "ride_type"),
    ({"source": "s" * 51}, "source"),
    ({"source": "  "}, "source"),
    ({"source": None}, "source"),
    ({"external_id": "e" * 256}, "external_id"),
    ({"external_id": ""}, "external_id"),
    ({"external_id": None}, "external_id"),
    ({"distance": 100000.001}, "distance"),
    ({"distance": "1"}, "distance"),
    ({"distance": None}, "distance"),
    ({"notes": "n" * 2001}, "notes"),
    ({"logged_at": "2024-01-15"}, "logged_at"),
    ({"logged_at": "2024-01-15T10:00:00+16:00"}, "logged_at"),
    ({"logged_at": 1700000000}, "logged_at"),
    ({"moving_time_s": 2 ** 63}, "moving_time_s"),
    ({"elevation_gain": 1e308}, "elevation_gain"),
    ({"bike_id": 5}, "bike_id"),
    ({"bike_id": None}, "bike_id"),
    ({"bike_id": ""}, "bike_id"),
    ({"unit": "mi"}, "unit"),          # the unit is the batch's, not a ride's
])
def test_a_bad_ride_is_its_own_400(api, create_bike, over, field):
    b = create_bike(api)
    rides = [_ride(b, "ok-0"), _ride(b, "bad", **over), _ride(b, "ok-2")]
    res = _results(_batch(api, rides), 3)["results"]
    assert [x["status"] for x in res] == ["created", "error", "created"], res
    _err(res[1], "validation_error", {field})
    assert bike_km(api, b) == 20 and _total(api, b) == 2


def test_limits_inside_a_batch_are_inclusive(api, create_bike):
    b = create_bike(api)
    rides = [_ride(b, "e" * 255, source="s" * 50, moving_time_s=604800, elevation_gain=100000,
                   distance=100000),
             _ride(b, "x", moving_time_s=0, elevation_gain=0, distance=0.001, ride_type="virtual")]
    res = _results(_batch(api, rides), 2)["results"]
    assert [x["status"] for x in res] == ["created", "created"], res
    assert res[0]["log"]["external_id"] == "e" * 255 and res[0]["log"]["moving_time_s"] == 604800
    assert res[0]["log"]["elevation_gain"] == 100000


def test_a_ride_that_is_not_an_object_is_its_own_error(api, create_bike):
    b = create_bike(api)
    res = _results(_batch(api, [_ride(b, "a"), 5, "x", None, [], _ride(b, "b")]), 6)["results"]
    assert [x["status"] for x in res] == ["created"] + ["error"] * 4 + ["created"], res
    for x in res[1:5]:
        _err(x, "validation_error")
    assert _total(api, b) == 2


def test_batch_in_miles(db, api, create_bike):
    b = create_bike(api)
    r = _batch(api, [_ride(b, "mi-1", distance=10, elevation_gain=1000)], unit="mi")
    body = _results(r, 1)
    assert body["unit"] == "mi"
    log = body["results"][0]["log"]
    assert (log["distance"], log["elevation_gain"], log["unit"]) == (10, 1000.0, "mi"), describe(r)
    (d, e), = db.query("SELECT distance, elevation_gain FROM vehicles.kilometrage_log"
                       " WHERE id = %s", (log["id"],))
    assert (float(d), float(e)) == (16.093, 304.8)
    # 328083.9 ft fits, 328084 ft does not.
    res = _results(_batch(api, [_ride(b, "mi-2", elevation_gain=328083.9),
                                _ride(b, "mi-3", elevation_gain=328084)], unit="mi"), 2)["results"]
    assert res[0]["status"] == "created" and res[0]["log"]["elevation_gain"] == 328083.9
    _err(res[1], "validation_error", {"elevation_gain"})
    # The same ride sent in km (16.093 km, 304.8 m) is unchanged.
    res = _results(_batch(api, [_ride(b, "mi-1", distance=16.093, elevation_gain=304.8,
                                      logged_at=log["logged_at"])]), 1)["results"]
    assert res[0]["status"] == "unchanged" and res[0]["log"]["id"] == log["id"], res
    assert res[0]["log"]["distance"] == 16.093 and res[0]["log"]["unit"] == "km"


# ---- retries and duplicates ----------------------------------------------------------------

def test_retried_batch_creates_nothing_twice(api, create_bike):
    b = create_bike(api)
    a = new_part(api, name="A")
    c = new_part(api, name="C")
    install(api, b, a, at=ts(-10 * DAY))
    remove(api, b, a, at=ts(-5 * DAY))
    install(api, b, c, at=ts(-5 * DAY))
    rides = [_ride(b, f"r-{i}", distance=i + 1, logged_at=ts(-(2 * i + 1) * DAY),
                   moving_time_s=100 * (i + 1)) for i in range(5)]
    first = _results(_batch(api, rides), 5)["results"]
    assert [x["status"] for x in first] == ["created"] * 5
    # Days 1, 3 ago: C; 5 (the swap instant): C; 7, 9: A.
    want = (bike_km(api, b), part_km(api, a), part_km(api, c), _mt(api, a, "part"),
            _mt(api, c, "part"), _mt(api, b, "bike"))
    assert want == (15, 9, 6, 900, 600, 1500)
    for retry in (rides, [{k: v for k, v in x.items() if k != "logged_at"} for x in rides]):
        again = _results(_batch(api, retry), 5)["results"]
        assert [x["status"] for x in again] == ["unchanged"] * 5, again
        assert [x["log"] for x in again] == [x["log"] for x in first]
        assert (bike_km(api, b), part_km(api, a), part_km(api, c), _mt(api, a, "part"),
                _mt(api, c, "part"), _mt(api, b, "bike")) == want
        assert _total(api, b) == 5
    # One ride changed in the retry: that one is a conflict, the others still unchanged.
    changed = [dict(x) for x in rides]
    changed[2]["distance"] = 99
    again = _results(_batch(api, changed), 5)["results"]
    assert [x["status"] for x in again] == ["unchanged", "unchanged", "error", "unchanged",
                                            "unchanged"]
    _err(again[2], "conflict")
    assert bike_km(api, b) == 15 and _total(api, b) == 5


def test_duplicates_inside_one_batch(api, create_bike):
    b = create_bike(api)
    p = new_part(api)
    install(api, b, p, at=ts(-10 * DAY))
    at = ts(-1 * DAY)
    rides = [_ride(b, "dup", distance=5, logged_at=at, moving_time_s=60),
             _ride(b, "dup", distance=5, logged_at=at, moving_time_s=60),
             _ride(b, "dup", distance=6, logged_at=at, moving_time_s=60),
             _ride(b, "dup", distance=5, moving_time_s=60),
             _ride(b, "other", distance=1)]
    res = _results(_batch(api, rides), 5)["results"]
    assert [x["status"] for x in res] == ["created", "unchanged", "error", "unchanged",
                                          "created"], res
    assert res[1]["log"] == res[0]["log"] and res[3]["log"] == res[0]["log"]
    _err(res[2], "conflict")
    assert bike_km(api, b) == 6 and part_km(api, p) == 6 and _mt(api, p, "part") == 60
    assert _total(api, b) == 2


def test_batch_after_single_posts_and_deletes(api, create_bike):
    b = create_bike(api)
    one = assert_status(api.post(f"/api/bikes/{b['id']}/kilometrage",
                                 json={"distance": 10, "source": "garmin", "external_id": "s-1",
                                       "logged_at": "2024-02-02T10:00:00Z"}), 201)["log"]
    res = _results(_batch(api, [_ride(b, "s-1"), _ride(b, "s-1", logged_at=one["logged_at"])]),
                   2)["results"]
    assert [x["status"] for x in res] == ["unchanged", "unchanged"], res
    assert res[0]["log"] == one
    assert_status(api.delete(f"/api/bikes/{b['id']}/kilometrage/{one['id']}"), 200)
    res = _results(_batch(api, [_ride(b, "s-1", distance=11)]), 1)["results"]
    assert res[0]["status"] == "created" and res[0]["log"]["id"] != one["id"]
    assert bike_km(api, b) == 11 and _total(api, b) == 1
    # And the single POST sees what the batch logged.
    again = assert_status(api.post(f"/api/bikes/{b['id']}/kilometrage",
                                   json={"distance": 11, "source": "garmin",
                                         "external_id": "s-1"}), 200)
    assert again["log"] == res[0]["log"] and again["affected_parts"] == []


def test_external_ids_are_per_user_in_a_batch(api, other_api, create_bike):
    mine = create_bike(api)
    theirs = create_bike(other_api)
    _results(_batch(api, [_ride(mine, "same")]), 1)
    res = _results(_batch(other_api, [_ride(theirs, "same")]), 1)["results"]
    assert res[0]["status"] == "created"
    assert bike_km(api, mine) == 10 and bike_km(other_api, theirs) == 10


def test_batch_on_a_bike_given_away(api, other, other_api, create_bike):
    x = create_bike(api)
    y = create_bike(api, name="new")
    _results(_batch(api, [_ride(x, "g-1")]), 1)
    _give(api, "bike", x, other)
    res = _results(_batch(api, [_ride(x, "g-1"), _ride(y, "g-1"), _ride(y, "g-2"),
                                _ride(x, "g-3")]), 4)["results"]
    _err(res[3], "forbidden")
    # The issue: logged again "on a bike the caller no longer owns, 409"; another ride on
    # that bike is an ownership error.
    _err(res[0], "conflict")
    _err(res[1], "conflict")
    assert res[2]["status"] == "created"
    assert bike_km(other_api, x) == 10 and bike_km(api, y) == 10


def test_batch_credits_only_the_callers_parts(db, api, other, other_api, create_bike):
    x = create_bike(api)
    p = new_part(api, name="given away")
    mine = new_part(api, name="mine")
    install(api, x, p, at=ts(-10 * DAY))
    install(api, x, mine, at=ts(-10 * DAY))
    remove(api, x, p, at=ts(-6 * DAY))
    _give(api, "part", p, other)
    res = _results(_batch(api, [_ride(x, "w-1", distance=3, logged_at=ts(-8 * DAY),
                                      moving_time_s=30)]), 1)["results"]
    assert res[0]["status"] == "created"
    assert part_km(other_api, p) == 0 and _mt(other_api, p, "part") == 0
    assert part_km(api, mine) == 3 and _mt(api, mine, "part") == 30
    rows = db.query("SELECT distance, moving_time_s FROM vehicles.kilometrage_withheld"
                    " WHERE part_id = %s", (p["id"],))
    assert [(float(d), m) for d, m in rows] == [(3.0, 30)]


def test_parallel_identical_batches_log_each_ride_once(user, api, create_bike):
    b = create_bike(api)
    p = new_part(api)
    install(api, b, p, at=ts(-10 * DAY))
    rides = [_ride(b, f"par-{i}", distance=1, logged_at=ts(-(i + 1) * HOUR), moving_time_s=10)
             for i in range(20)]
    clients = [Api(user.token) for _ in range(4)]
    try:
        res = run_parallel([lambda cl=cl: _batch(cl, rides) for cl in clients], timeout=60)
    finally:
        for cl in clients:
            cl.close()
    bodies = [_results(r, 20)["results"] for r in res]
    for i in range(20):
        statuses = sorted(body[i]["status"] for body in bodies)
        assert statuses == ["created", "unchanged", "unchanged", "unchanged"], (i, statuses)
        assert len({body[i]["log"]["id"] for body in bodies}) == 1
    assert bike_km(api, b) == 20 and part_km(api, p) == 20 and _mt(api, p, "part") == 200
    assert _total(api, b) == 20


def test_batch_takes_an_upper_case_bike_id(api, create_bike):
    b = create_bike(api)
    res = _results(_batch(api, [_ride({"id": b["id"].upper()}, "up-1")]), 1)["results"]
    assert res[0]["status"] == "created" and res[0]["log"]["bike_id"] == b["id"], res
    assert bike_km(api, b) == 10


def test_an_idempotency_key_is_not_used_on_a_batch(api, create_bike):
    b = create_bike(api)
    hdr = {"Idempotency-Key": "batch-1"}
    body = {"rides": [_ride(b, "ik-1"), _ride(b, "ik-2")]}
    first = api.post(BATCH, json=body, headers=hdr)
    assert [x["status"] for x in _results(first, 2)["results"]] == ["created", "created"]
    again = api.post(BATCH, json=body, headers=hdr)
    # Not a replay of the first answer: each ride judged by its external_id.
    assert [x["status"] for x in _results(again, 2)["results"]] == ["unchanged", "unchanged"]
    assert again.headers.get("Idempotent-Replayed") is None, describe(again)
    assert bike_km(api, b) == 20 and _total(api, b) == 2


def test_get_on_the_batch_route_is_405(api):
    assert_error(api.get(BATCH), 405, "method_not_allowed")
