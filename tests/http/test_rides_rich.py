"""Richer rides (issue 13 point 1): moving_time_s, elevation_gain, ride_type, source and
external_id on POST /api/bikes/:id/kilometrage, their limits on both sides, the log items that
carry them, total_moving_time_s on bikes and parts credited like distance, and the
(user, source, external_id) duplicate rule (200 unchanged / 409) after the Idempotency-Key."""
import pytest

from flows import (DAY, Api, bike_km, bike_of, install, new_part, part_km, part_of, remove,
                   ride, run_parallel, ts)
from flows import check_consistency, check_invariant  # noqa: F401 (fixtures)
from support import assert_error, assert_status, describe

pytestmark = pytest.mark.usefixtures("check_invariant", "check_consistency")

LOG_KEYS = {"id", "created_at", "bike_id", "user_id", "distance", "logged_at", "notes",
            "moving_time_s", "elevation_gain", "ride_type", "source", "external_id", "unit"}
FT = 0.3048


def _k(bike):
    return f"/api/bikes/{bike['id']}/kilometrage"


def _mt_bike(api, bike):
    return bike_of(api, bike)["total_moving_time_s"]


def _mt_part(api, part):
    return part_of(api, part)["total_moving_time_s"]


def _give(api, kind, thing, to):
    r = api.post(f"/api/{kind}s/{thing['id']}/transfer", json={"new_owner_email": to.email})
    return assert_status(r, 200)


def _history(api, bike, **params):
    return assert_status(api.get(_k(bike), params=params or None), 200)


# ---- the new fields ----------------------------------------------------------------------

def test_rich_ride_answer_and_history_carry_every_field(user, api, create_bike):
    b = create_bike(api)
    p = new_part(api)
    install(api, b, p, at="2024-01-01T00:00:00Z")
    at = "2024-03-01T08:30:00Z"
    r = api.post(_k(b), json={"distance": 42.195, "logged_at": at, "notes": "race",
                              "moving_time_s": 10800, "elevation_gain": 250.44,
                              "ride_type": "virtual", "source": "zwift", "external_id": "z-1"})
    body = assert_status(r, 201)
    log = body["log"]
    assert set(log) == LOG_KEYS, describe(r)
    assert (log["distance"], log["logged_at"], log["notes"], log["moving_time_s"],
            log["elevation_gain"], log["ride_type"], log["source"], log["external_id"],
            log["unit"], log["user_id"], log["bike_id"]) == \
        (42.195, at, "race", 10800, 250.4, "virtual", "zwift", "z-1", "km", user.id, b["id"])
    assert body["bike"]["total_moving_time_s"] == 10800, describe(r)
    assert [(x["id"], x["total_moving_time_s"]) for x in body["affected_parts"]] == \
        [(p["id"], 10800)], describe(r)
    item = _history(api, b)["items"][0]
    assert item == log
    # Every answer that carries a bike or a part carries its moving time.
    assert bike_of(api, b)["total_moving_time_s"] == 10800
    assert part_of(api, p)["total_moving_time_s"] == 10800
    bikes = assert_status(api.get("/api/bikes"), 200)
    assert [x["total_moving_time_s"] for x in bikes if x["id"] == b["id"]] == [10800]
    parts = assert_status(api.get("/api/parts"), 200)
    assert [x["total_moving_time_s"] for x in parts if x["id"] == p["id"]] == [10800]
    on_bike = assert_status(api.get(f"/api/bikes/{b['id']}/parts"), 200)
    assert [x["total_moving_time_s"] for x in on_bike if x["id"] == p["id"]] == [10800]


def test_new_fields_default_to_null_and_outdoor(api, create_bike):
    b = create_bike(api)
    for extra in ({}, {"moving_time_s": None, "elevation_gain": None, "ride_type": None,
                       "source": None, "external_id": None}):
        log = ride(api, b, 5, **extra)["log"]
        assert (log["moving_time_s"], log["elevation_gain"], log["ride_type"], log["source"],
                log["external_id"]) == (None, None, "outdoor", None, None), log
    assert _mt_bike(api, b) == 0 and bike_of(api, b)["total_kilometrage"] == 10


def test_mileage_alias_takes_the_new_fields(api, create_bike):
    b = create_bike(api)
    r = api.post(f"/api/bikes/{b['id']}/mileage",
                 json={"distance": 10, "unit": "mi", "moving_time_s": 1800,
                       "elevation_gain": 1000, "ride_type": "indoor", "source": "trainer",
                       "external_id": "t-1"})
    log = assert_status(r, 201)["log"]
    assert (log["distance"], log["elevation_gain"], log["ride_type"], log["unit"]) == \
        (10, 1000.0, "indoor", "mi"), describe(r)
    assert _mt_bike(api, b) == 1800


@pytest.mark.parametrize("field,value,answer", [
    ("moving_time_s", 0, 0),
    ("moving_time_s", 604800, 604800),
    ("elevation_gain", 0, 0),
    ("elevation_gain", 100000, 100000),
    ("elevation_gain", 123.46, 123.5),
    ("elevation_gain", 123.44, 123.4),
    ("ride_type", "outdoor", "outdoor"),
    ("ride_type", "indoor", "indoor"),
    ("ride_type", "virtual", "virtual"),
    ("source", "s" * 50, "s" * 50),
    ("source", "é" * 50, "é" * 50),
    ("source", "  " + "t" * 50 + "  ", "t" * 50),
    ("source", "x", "x"),
])
def test_new_field_limits_are_inclusive(api, create_bike, field, value, answer):
    b = create_bike(api)
    log = ride(api, b, 1, **{field: value})["log"]
    assert log[field] == answer, log
    assert _history(api, b)["items"][0][field] == answer


@pytest.mark.parametrize("value", ["e" * 255, "x", "é" * 255, "garmin:123456789"])
def test_external_id_limits_are_inclusive(api, create_bike, value):
    b = create_bike(api)
    log = ride(api, b, 1, source="garmin", external_id=value)["log"]
    assert (log["source"], log["external_id"]) == ("garmin", value)


@pytest.mark.parametrize("extra,field", [
    ({"moving_time_s": -1}, "moving_time_s"),
    ({"moving_time_s": 604801}, "moving_time_s"),
    ({"moving_time_s": 1.5}, "moving_time_s"),
    ({"moving_time_s": "60"}, "moving_time_s"),
    ({"moving_time_s": True}, "moving_time_s"),
    ({"moving_time_s": 1e12}, "moving_time_s"),
    ({"moving_time_s": 2 ** 31}, "moving_time_s"),
    ({"moving_time_s": 2 ** 63}, "moving_time_s"),
    ({"moving_time_s": 2 ** 64}, "moving_time_s"),
    ({"moving_time_s": -2 ** 63}, "moving_time_s"),
    ({"moving_time_s": 1e308}, "moving_time_s"),
    ({"moving_time_s": [60]}, "moving_time_s"),
    ({"elevation_gain": 1e308}, "elevation_gain"),
    ({"elevation_gain": -1e308}, "elevation_gain"),
    ({"elevation_gain": 2 ** 64}, "elevation_gain"),
    ({"elevation_gain": 1e308, "unit": "mi"}, "elevation_gain"),
    ({"elevation_gain": {"m": 1}}, "elevation_gain"),
    ({"elevation_gain": -0.1}, "elevation_gain"),
    ({"elevation_gain": 100000.1}, "elevation_gain"),
    ({"elevation_gain": "5"}, "elevation_gain"),
    ({"elevation_gain": 328084, "unit": "mi"}, "elevation_gain"),   # 100000.0032 m
    ({"elevation_gain": -1, "unit": "mi"}, "elevation_gain"),
    ({"ride_type": "gravel"}, "ride_type"),
    ({"ride_type": "Outdoor"}, "ride_type"),
    ({"ride_type": ""}, "ride_type"),
    ({"ride_type": 1}, "ride_type"),
    ({"source": ""}, "source"),
    ({"source": "   "}, "source"),
    ({"source": "s" * 51}, "source"),
    ({"source": "é" * 51}, "source"),
    ({"source": 5}, "source"),
    ({"source": "g", "external_id": ""}, "external_id"),
    ({"source": "g", "external_id": "e" * 256}, "external_id"),
    ({"source": "g", "external_id": 5}, "external_id"),
    ({"external_id": "abc"}, "external_id"),                        # without source
    ({"source": None, "external_id": "abc"}, "external_id"),
])
def test_bad_new_field_is_400_and_changes_nothing(api, create_bike, extra, field):
    b = create_bike(api)
    p = new_part(api)
    install(api, b, p)
    body = {"distance": 1}
    body.update(extra)
    assert_error(api.post(_k(b), json=body), 400, "validation_error", {field}, exact=True)
    assert bike_km(api, b) == 0 and part_km(api, p) == 0
    assert _mt_bike(api, b) == 0 and _mt_part(api, p) == 0
    assert _history(api, b)["total"] == 0


def test_several_bad_fields_are_named_in_one_400(api, create_bike):
    b = create_bike(api)
    r = api.post(_k(b), json={"distance": 0, "moving_time_s": 604801, "elevation_gain": -5,
                              "ride_type": "gravel", "source": "s" * 51, "notes": 7})
    assert_error(r, 400, "validation_error",
                 {"distance", "moving_time_s", "elevation_gain", "ride_type", "source", "notes"},
                 exact=True)
    r = api.post(_k(b), json={"distance": 1, "moving_time_s": 1.5, "external_id": "x"})
    assert_error(r, 400, "validation_error", {"moving_time_s", "external_id"}, exact=True)
    assert _history(api, b)["total"] == 0
    # The same fields, good: accepted (not refused as unknown).
    assert_status(api.post(_k(b), json={"distance": 1, "moving_time_s": 1, "elevation_gain": 1,
                                        "ride_type": "indoor", "source": "s",
                                        "external_id": "x"}), 201)


# ---- elevation in metres and feet --------------------------------------------------------

def test_elevation_limit_in_feet_and_rounding(db, api, create_bike):
    b = create_bike(api)
    # 328083.9 ft = 99999.97272 m: under the limit; stored in metres to 3 decimals.
    log = ride(api, b, 1, unit="mi", elevation_gain=328083.9)["log"]
    assert log["elevation_gain"] == 328083.9 and log["unit"] == "mi", log
    (m,), = db.query("SELECT elevation_gain FROM vehicles.kilometrage_log WHERE id = %s",
                     (log["id"],))
    assert float(m) == 99999.973
    assert _history(api, b)["items"][0]["elevation_gain"] == 100000.0
    assert _history(api, b, unit="mi")["items"][0]["elevation_gain"] == 328083.9


def test_elevation_in_feet_round_trips_and_converts(db, api, create_bike):
    b = create_bike(api)
    log = ride(api, b, 1, unit="mi", elevation_gain=1234.5)["log"]
    assert log["elevation_gain"] == 1234.5
    (m,), = db.query("SELECT elevation_gain FROM vehicles.kilometrage_log WHERE id = %s",
                     (log["id"],))
    assert float(m) == round(1234.5 * FT, 3)          # 376.276 m
    assert _history(api, b)["items"][0]["elevation_gain"] == 376.3
    assert _history(api, b, unit="mi")["items"][0]["elevation_gain"] == 1234.5
    # Metres in, feet out: 123.46 m = 405.05 ft -> 405.1 to 1 decimal.
    c = create_bike(api, name="metric")
    ride(api, c, 1, elevation_gain=123.46)
    assert _history(api, c, unit="mi")["items"][0]["elevation_gain"] == 405.1
    assert _history(api, c)["items"][0]["elevation_gain"] == 123.5


# ---- total_moving_time_s credited like distance ------------------------------------------

def test_moving_time_totals_after_rides_and_delete(api, create_bike):
    b = create_bike(api)
    p = new_part(api, name="P")
    q = new_part(api, name="Q")
    install(api, b, p)
    install(api, b, q)
    one = ride(api, b, 10, moving_time_s=1200)
    assert one["bike"]["total_moving_time_s"] == 1200
    ride(api, b, 5)                                  # no moving time: counts 0
    two = ride(api, b, 7, moving_time_s=600)
    assert {x["id"]: x["total_moving_time_s"] for x in two["affected_parts"]} == \
        {p["id"]: 1800, q["id"]: 1800}
    assert _mt_bike(api, b) == 1800 and _mt_part(api, p) == 1800 and _mt_part(api, q) == 1800
    assert_status(api.delete(f"{_k(b)}/{one['log']['id']}"), 200)
    assert _mt_bike(api, b) == 600 and _mt_part(api, p) == 600 and _mt_part(api, q) == 600
    assert bike_km(api, b) == 12 and part_km(api, p) == 12


def test_moving_time_moves_with_backdated_install_and_removal(api, create_bike):
    b = create_bike(api)
    p = new_part(api, name="P")
    install(api, b, p, at=ts(-10 * DAY))
    ride(api, b, 3, logged_at=ts(-8 * DAY), moving_time_s=100)
    ride(api, b, 4, logged_at=ts(-4 * DAY), moving_time_s=200)
    ride(api, b, 5, logged_at=ts(-1 * DAY), moving_time_s=400)
    assert _mt_part(api, p) == 700
    remove(api, b, p, at=ts(-6 * DAY))             # takes back the last two
    assert _mt_part(api, p) == 100 and part_km(api, p) == 3
    q = new_part(api, name="Q")
    install(api, b, q, at=ts(-5 * DAY))            # gets them
    assert _mt_part(api, q) == 600 and part_km(api, q) == 9
    assert _mt_bike(api, b) == 700


def test_moving_time_not_credited_to_a_part_given_away(db, api, other, other_api, create_bike):
    x = create_bike(api)
    p = new_part(api, name="given away")
    mine = new_part(api, name="mine")
    install(api, x, p, at=ts(-10 * DAY))
    install(api, x, mine, at=ts(-10 * DAY))
    ride(api, x, 5, logged_at=ts(-8 * DAY), moving_time_s=900)
    remove(api, x, p, at=ts(-6 * DAY))
    _give(api, "part", p, other)
    assert _mt_part(other_api, p) == 900
    body = ride(api, x, 3, logged_at=ts(-7 * DAY), moving_time_s=300)
    assert [q["id"] for q in body["affected_parts"]] == [mine["id"]], body
    assert _mt_part(other_api, p) == 900 and part_km(other_api, p) == 5
    assert _mt_part(api, mine) == 1200 and _mt_bike(api, x) == 1200
    rows = db.query("SELECT moving_time_s FROM vehicles.kilometrage_withheld WHERE part_id = %s",
                    (p["id"],))
    assert [r for r, in rows] == [300]


def test_a_deleted_ride_leaves_the_moving_time_of_a_part_given_away(api, other, other_api,
                                                                    create_bike):
    x = create_bike(api)
    p = new_part(api, name="given away")
    mine = new_part(api, name="mine")
    install(api, x, p, at=ts(-10 * DAY))
    install(api, x, mine, at=ts(-10 * DAY))
    log = ride(api, x, 5, logged_at=ts(-8 * DAY), moving_time_s=900)["log"]
    remove(api, x, p, at=ts(-6 * DAY))
    _give(api, "part", p, other)
    assert_status(api.delete(f"{_k(x)}/{log['id']}"), 200)
    assert _mt_part(other_api, p) == 900 and part_km(other_api, p) == 5
    assert _mt_part(api, mine) == 0 and _mt_bike(api, x) == 0


def test_moving_time_goes_with_a_bike_sold_with_its_parts(api, other, other_api, create_bike):
    x = create_bike(api)
    p = new_part(api)
    install(api, x, p, at=ts(-10 * DAY))
    ride(api, x, 5, logged_at=ts(-8 * DAY), moving_time_s=700)
    _give(api, "bike", x, other)
    assert _mt_bike(other_api, x) == 700 and _mt_part(other_api, p) == 700
    ride(other_api, x, 1, moving_time_s=10)
    assert _mt_bike(other_api, x) == 710 and _mt_part(other_api, p) == 710


def test_kilometrage_check_sees_moving_time_out_of_step(db, api, other, create_bike):
    x = create_bike(api)
    p = new_part(api, name="P")
    q = new_part(api, name="Q")
    install(api, x, p, at=ts(-10 * DAY))
    install(api, x, q, at=ts(-10 * DAY))
    log = ride(api, x, 3, logged_at=ts(-8 * DAY), moving_time_s=100)["log"]
    remove(api, x, q, at=ts(-6 * DAY))
    _give(api, "part", q, other)
    held = ride(api, x, 2, logged_at=ts(-7 * DAY), moving_time_s=50)["log"]
    conn = db._connect()
    with db.lock:
        conn.autocommit = False
        try:
            with conn.cursor() as cur:
                def kinds(thing):
                    cur.execute("SELECT kind FROM vehicles.kilometrage_check() WHERE id = %s",
                                (thing["id"],))
                    return sorted(k for k, in cur.fetchall())
                assert kinds(x) == [] and kinds(p) == [] and kinds(q) == []
                cur.execute("UPDATE vehicles.user_bike SET total_moving_time_s ="
                            " total_moving_time_s + 1 WHERE id = %s", (x["id"],))
                assert kinds(x) == ["bike_moving"]
                cur.execute("UPDATE vehicles.user_part SET total_moving_time_s ="
                            " total_moving_time_s + 1 WHERE id = %s", (p["id"],))
                assert kinds(p) == ["part_moving"]
                # A credit whose seconds are not its ride's, the total agreeing with it.
                cur.execute("UPDATE vehicles.kilometrage_credit SET moving_time_s = 101"
                            " WHERE log_id = %s AND part_id = %s", (log["id"], p["id"]))
                assert "credit_without_installation" in kinds(p)
                # A withheld record whose seconds are not its ride's.
                cur.execute("UPDATE vehicles.kilometrage_withheld SET moving_time_s = 51"
                            " WHERE log_id = %s AND part_id = %s", (held["id"], q["id"]))
                assert cur.rowcount == 1
                assert "withheld_without_installation" in kinds(q)
        finally:
            conn.rollback()
            conn.autocommit = True


# ---- (source, external_id): a recorder's retry ---------------------------------------------

def _rich(**over):
    body = {"distance": 25.5, "logged_at": "2024-05-04T07:00:00Z", "moving_time_s": 3600,
            "elevation_gain": 300.5, "ride_type": "outdoor", "notes": "morning",
            "source": "garmin", "external_id": "act-1"}
    body.update(over)
    return body


def test_same_external_id_same_fields_is_200_unchanged(api, create_bike):
    b = create_bike(api)
    p = new_part(api)
    install(api, b, p, at="2024-01-01T00:00:00Z")
    first = assert_status(api.post(_k(b), json=_rich()), 201)
    for body in (_rich(), {k: v for k, v in _rich().items() if k != "logged_at"}):
        r = api.post(_k(b), json=body)
        again = assert_status(r, 200)
        assert set(again) == {"bike", "log", "affected_parts", "unit"}, describe(r)
        assert again["log"] == first["log"], describe(r)
        assert again["affected_parts"] == [] and again["unit"] == "km", describe(r)
        assert again["bike"]["total_kilometrage"] == 25.5
        assert again["bike"]["total_moving_time_s"] == 3600
    assert bike_km(api, b) == 25.5 and part_km(api, p) == 25.5
    assert _mt_bike(api, b) == 3600 and _mt_part(api, p) == 3600
    assert _history(api, b)["total"] == 1


def test_logged_at_is_compared_as_an_instant(api, create_bike):
    b = create_bike(api)
    first = assert_status(api.post(_k(b), json=_rich()), 201)
    again = assert_status(api.post(_k(b), json=_rich(logged_at="2024-05-04T09:00:00+02:00")),
                          200)
    assert again["log"] == first["log"]
    assert_error(api.post(_k(b), json=_rich(logged_at="2024-05-04T07:00:00+02:00")), 409,
                 "conflict")


def test_distance_is_compared_at_3_decimals(api, create_bike):
    b = create_bike(api)
    first = assert_status(api.post(_k(b), json=_rich()), 201)
    again = assert_status(api.post(_k(b), json=_rich(distance=25.5004)), 200)
    assert again["log"] == first["log"]
    assert bike_km(api, b) == 25.5


def test_same_ride_in_miles_and_feet_is_unchanged(api, create_bike):
    b = create_bike(api)
    first = assert_status(api.post(_k(b), json=_rich(distance=16.093, elevation_gain=304.8)),
                          201)
    # 10 mi = 16.09344 km -> 16.093 at 3 decimals; 1000 ft = 304.8 m.
    r = api.post(_k(b), json=_rich(distance=10, elevation_gain=1000, unit="mi"))
    again = assert_status(r, 200)
    assert again["log"]["id"] == first["log"]["id"] and again["unit"] == "mi", describe(r)
    assert again["log"]["distance"] == 10 and again["log"]["elevation_gain"] == 1000.0
    assert _history(api, b)["total"] == 1


def test_first_ride_without_logged_at_retried_without_it(api, create_bike):
    b = create_bike(api)
    body = {"distance": 3, "source": "wahoo", "external_id": "w-9"}
    first = assert_status(api.post(_k(b), json=body), 201)
    again = assert_status(api.post(_k(b), json=body), 200)
    assert again["log"] == first["log"]
    again = assert_status(api.post(_k(b), json=dict(body, logged_at=first["log"]["logged_at"])),
                          200)
    assert again["log"]["id"] == first["log"]["id"]
    assert bike_km(api, b) == 3


@pytest.mark.parametrize("over", [
    {"distance": 25.6},
    {"distance": 25.5006},
    {"logged_at": "2024-05-04T07:00:01Z"},
    {"moving_time_s": 3601},
    {"moving_time_s": None},
    {"elevation_gain": 300.6},
    {"elevation_gain": None},
    {"ride_type": "indoor"},
    {"notes": "evening"},
    {"notes": None},
])
def test_same_external_id_other_fields_is_409_and_changes_nothing(api, create_bike, over):
    b = create_bike(api)
    p = new_part(api)
    install(api, b, p, at="2024-01-01T00:00:00Z")
    first = assert_status(api.post(_k(b), json=_rich()), 201)
    assert_error(api.post(_k(b), json=_rich(**over)), 409, "conflict")
    assert bike_km(api, b) == 25.5 and part_km(api, p) == 25.5
    assert _mt_bike(api, b) == 3600 and _mt_part(api, p) == 3600
    h = _history(api, b)
    assert h["total"] == 1 and h["items"][0] == first["log"]


def test_same_external_id_on_another_bike_is_409(api, create_bike):
    b = create_bike(api)
    c = create_bike(api, name="other")
    assert_status(api.post(_k(b), json=_rich()), 201)
    assert_error(api.post(_k(c), json=_rich()), 409, "conflict")
    assert bike_km(api, c) == 0 and bike_km(api, b) == 25.5


def test_same_external_id_after_the_bike_was_given_away_is_409(api, other, other_api,
                                                              create_bike):
    x = create_bike(api)
    y = create_bike(api, name="new bike")
    assert_status(api.post(_k(x), json=_rich()), 201)
    _give(api, "bike", x, other)
    # The issue: logging it again "on a bike the caller no longer owns, 409".
    assert_error(api.post(_k(x), json=_rich()), 409, "conflict")
    assert_error(api.post(_k(y), json=_rich()), 409, "conflict")
    # Any other ride on that bike is an ownership error.
    assert_error(api.post(_k(x), json=_rich(external_id="act-2")), 403, "forbidden")
    assert_error(api.post(_k(x), json={"distance": 1}), 403, "forbidden")
    assert bike_km(api, y) == 0 and bike_km(other_api, x) == 25.5
    # The new owner's own rides carry their own ids: the same pair is free for them.
    assert_status(other_api.post(_k(x), json=_rich()), 201)
    assert bike_km(other_api, x) == 51


def test_delete_frees_the_external_id(api, create_bike):
    b = create_bike(api)
    first = assert_status(api.post(_k(b), json=_rich()), 201)
    assert_status(api.delete(f"{_k(b)}/{first['log']['id']}"), 200)
    second = assert_status(api.post(_k(b), json=_rich(distance=30)), 201)
    assert second["log"]["id"] != first["log"]["id"]
    assert second["log"]["external_id"] == "act-1"
    assert bike_km(api, b) == 30
    assert_status(api.post(_k(b), json=_rich(distance=30)), 200)


def test_external_id_is_per_user_and_per_source(api, other_api, create_bike):
    mine = create_bike(api)
    theirs = create_bike(other_api)
    a = assert_status(api.post(_k(mine), json=_rich()), 201)
    b = assert_status(other_api.post(_k(theirs), json=_rich()), 201)
    assert a["log"]["id"] != b["log"]["id"]
    c = assert_status(api.post(_k(mine), json=_rich(source="strava")), 201)
    assert c["log"]["id"] != a["log"]["id"]
    # Without an external_id a source alone never deduplicates.
    ride(api, mine, 1, source="garmin")
    ride(api, mine, 1, source="garmin")
    assert bike_km(api, mine) == 53 and bike_km(other_api, theirs) == 25.5


def test_idempotency_key_is_judged_before_the_external_id(api, create_bike):
    b = create_bike(api)
    k1 = {"Idempotency-Key": "sync-1"}
    first = api.post(_k(b), json=_rich(), headers=k1)
    one = assert_status(first, 201)
    replay = api.post(_k(b), json=_rich(), headers=k1)
    assert assert_status(replay, 201) == one, describe(replay)
    assert replay.headers.get("Idempotent-Replayed") == "true"
    # A new key with the same ride: the external_id answers, 200 unchanged.
    dup = api.post(_k(b), json=_rich(), headers={"Idempotency-Key": "sync-2"})
    assert assert_status(dup, 200)["log"]["id"] == one["log"]["id"], describe(dup)
    # The first key with another body: the key's own conflict.
    assert_error(api.post(_k(b), json=_rich(distance=1), headers=k1), 409, "conflict")
    # After a delete the key still replays its first answer and creates nothing...
    assert_status(api.delete(f"{_k(b)}/{one['log']['id']}"), 200)
    replay = api.post(_k(b), json=_rich(), headers=k1)
    assert assert_status(replay, 201) == one, describe(replay)
    assert _history(api, b)["total"] == 0 and bike_km(api, b) == 0
    # ...while a request without it logs the freed external_id anew.
    fresh = assert_status(api.post(_k(b), json=_rich()), 201)
    assert fresh["log"]["id"] != one["log"]["id"] and bike_km(api, b) == 25.5


def test_parallel_posts_of_one_external_id_log_once(user, api, create_bike):
    b = create_bike(api)
    p = new_part(api)
    install(api, b, p, at="2024-01-01T00:00:00Z")
    clients = [Api(user.token) for _ in range(6)]
    try:
        res = run_parallel([lambda c=c: c.post(_k(b), json=_rich()) for c in clients])
    finally:
        for c in clients:
            c.close()
    codes = sorted(r.status_code for r in res)
    assert codes == [200] * 5 + [201], [describe(r) for r in res]
    assert len({r.json()["log"]["id"] for r in res}) == 1
    assert bike_km(api, b) == 25.5 and part_km(api, p) == 25.5 and _mt_part(api, p) == 3600
