"""Costs (issue 14, point 3): purchase_price on bikes and parts (create and PATCH, nullable,
0..1000000000, to the cent), total_cost and cost_per_distance in GET /api/parts/:id/stats and
GET /api/bikes/:id/stats (per km or mi as asked, 4 decimals, null at 0 km)."""
import json
from decimal import ROUND_HALF_UP, Decimal

import psycopg2
import pytest

import support
from flows import DAY, install, maint, new_bike, new_part, remove, ride, ts
from flows import check_invariant  # noqa: F401 (fixtures)
from support import assert_error, assert_status, describe

pytestmark = pytest.mark.usefixtures("check_invariant")

KM_TO_MI = Decimal("0.621371")
KINDS = ["bike", "part"]


def _new(api, kind, **fields):
    return (new_bike if kind == "bike" else new_part)(api, **fields)


def _path(kind, x):
    return f"/api/{kind}s/{x['id']}"


def _per(total, km, unit="km"):
    """What cost_per_distance must be: total / distance in the unit, to 4 decimals, half up."""
    v = Decimal(str(total)) / Decimal(str(km))
    if unit == "mi":
        v = v / KM_TO_MI
    return float(v.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def _stats(api, kind, x, unit=None):
    r = api.get(f"{_path(kind, x)}/stats", params={"unit": unit} if unit else None)
    return assert_status(r, 200)


# ---- purchase_price --------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_purchase_price_absent_is_null_and_shown_everywhere(api, kind):
    x = _new(api, kind)
    assert "purchase_price" in x and x["purchase_price"] is None
    y = _new(api, kind, purchase_price=349.99)
    assert y["purchase_price"] == 349.99
    got = assert_status(api.get(_path(kind, y)), 200)
    assert got["purchase_price"] == 349.99
    listed = assert_status(api.get(f"/api/{kind}s"), 200)
    assert {i["id"]: i["purchase_price"] for i in listed} == {x["id"]: None, y["id"]: 349.99}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("price", [0, 0.0, 1000000000, 1e9, 999999999.99])
def test_purchase_price_limits_accepted(api, kind, price):
    x = _new(api, kind, purchase_price=price)
    assert x["purchase_price"] == price, x
    assert assert_status(api.get(_path(kind, x)), 200)["purchase_price"] == price
    # The same value in a PATCH.
    y = _new(api, kind)
    r = api.patch(_path(kind, y), json={"purchase_price": price})
    assert assert_status(r, 200)["purchase_price"] == price


RANGE = "must be at least 0 and at most 1000000000"
BAD_PRICES = [(-0.01, RANGE), (-1, RANGE), (1000000000.01, RANGE), (1e10, RANGE),
              ("12", "must be a number"), ("12.5", "must be a number"),
              (True, "must be a number"), (False, "must be a number"), ([], "must be a number"),
              ({}, "must be a number")]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("price,problem", BAD_PRICES)
def test_purchase_price_refused_on_create(api, kind, price, problem):
    body = {"name": "n", "type": "road" if kind == "bike" else "chain", "purchase_price": price}
    r = api.post(f"/api/{kind}s", json=body)
    err = assert_error(r, 400, "validation_error", {"purchase_price"}, exact=True)
    assert err["details"]["purchase_price"] == problem, describe(r)
    assert assert_status(api.get(f"/api/{kind}s"), 200) == []


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("price,problem", BAD_PRICES)
def test_purchase_price_refused_on_patch(api, kind, price, problem):
    x = _new(api, kind, purchase_price=10)
    r = api.patch(_path(kind, x), json={"purchase_price": price})
    err = assert_error(r, 400, "validation_error", {"purchase_price"}, exact=True)
    assert err["details"]["purchase_price"] == problem, describe(r)
    assert assert_status(api.get(_path(kind, x)), 200)["purchase_price"] == 10


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("sent,stored", [(12.345, 12.35), (12.344, 12.34), (1.005, 1.01),
                                         (0.004, 0), (0.005, 0.01), (999999999.994, 999999999.99),
                                         (999999999.995, 1000000000), (7, 7), (19.9, 19.9)])
def test_purchase_price_rounded_to_cents(api, db, kind, sent, stored):
    x = _new(api, kind, purchase_price=sent)
    assert x["purchase_price"] == stored, describe_price(x)
    table = "user_bike" if kind == "bike" else "user_part"
    (got,), = db.query(f"SELECT purchase_price::text FROM vehicles.{table} WHERE id = %s",
                       (x["id"],))
    assert Decimal(got) == Decimal(str(stored))
    y = _new(api, kind)
    r = api.patch(_path(kind, y), json={"purchase_price": sent})
    assert assert_status(r, 200)["purchase_price"] == stored


def describe_price(x):
    return f"purchase_price {x.get('purchase_price')!r}"


@pytest.mark.parametrize("kind", KINDS)
def test_purchase_price_patch_sets_keeps_and_null_clears(api, kind):
    x = _new(api, kind, purchase_price=120)
    # Another field patched: the price stays.
    r = api.patch(_path(kind, x), json={"name": "renamed"})
    assert assert_status(r, 200)["purchase_price"] == 120
    r = api.patch(_path(kind, x), json={"purchase_price": 80.5})
    assert assert_status(r, 200)["purchase_price"] == 80.5
    r = api.patch(_path(kind, x), json={"purchase_price": None})
    assert assert_status(r, 200)["purchase_price"] is None
    assert assert_status(api.get(_path(kind, x)), 200)["purchase_price"] is None
    # null on create is as absent.
    y = _new(api, kind, purchase_price=None)
    assert y["purchase_price"] is None


# The functions check it themselves: anyone with SQL access as authenticated calls them.
def _as_user(user, sql, args):
    conn = psycopg2.connect(support.DATABASE_URL, connect_timeout=5)
    try:
        with conn.cursor() as cur:
            cur.execute("SET LOCAL ROLE authenticated")
            cur.execute("SELECT set_config('request.jwt.claims', %s, true)",
                        (json.dumps({"sub": user.id, "role": "authenticated"}),))
            try:
                cur.execute(sql, args)
            except psycopg2.Error as e:
                return e.pgcode, e.diag.message_primary, e.diag.message_detail
            return cur.fetchall()
    finally:
        conn.rollback()
        conn.close()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("price,detail", [(-0.01, RANGE), (1000000000.01, RANGE),
                                          ("12", "must be a number"),
                                          (True, "must be a number")])
def test_gear_functions_check_purchase_price(user, api, kind, price, detail):
    fields = {"name": "n", "type": "road" if kind == "bike" else "chain", "purchase_price": price}
    got = _as_user(user, "SELECT vehicles.gear_create(%s, gen_random_uuid(), %s)",
                   (kind, json.dumps(fields)))
    assert got == ("VS400", "purchase_price", detail)
    mine = _new(api, kind)["id"]
    got = _as_user(user, "SELECT vehicles.gear_update(%s, %s, %s)",
                   (kind, mine, json.dumps({"purchase_price": price})))
    assert got == ("VS400", "purchase_price", detail)


@pytest.mark.parametrize("kind", KINDS)
def test_gear_functions_round_purchase_price_and_null_clears(user, kind):
    table = "user_bike" if kind == "bike" else "user_part"
    fields = {"name": "n", "type": "road" if kind == "bike" else "chain",
              "purchase_price": 1.005}
    conn = psycopg2.connect(support.DATABASE_URL, connect_timeout=5)
    try:
        with conn.cursor() as cur:
            cur.execute("SET LOCAL ROLE authenticated")
            cur.execute("SELECT set_config('request.jwt.claims', %s, true)",
                        (json.dumps({"sub": user.id, "role": "authenticated"}),))
            cur.execute("SELECT vehicles.gear_create(%s, gen_random_uuid(), %s)",
                        (kind, json.dumps(fields)))
            (x,), = cur.fetchall()
            price = f"SELECT purchase_price::text FROM vehicles.{table} WHERE id = %s"
            cur.execute(price, (x,))
            assert cur.fetchall() == [("1.01",)]
            cur.execute("SELECT vehicles.gear_update(%s, %s, %s)",
                        (kind, x, json.dumps({"purchase_price": 1000000000})))
            cur.execute(price, (x,))
            assert cur.fetchall() == [("1000000000.00",)]
            cur.execute("SELECT vehicles.gear_update(%s, %s, %s)",
                        (kind, x, json.dumps({"purchase_price": None})))
            cur.execute(price, (x,))
            assert cur.fetchall() == [(None,)]
    finally:
        conn.rollback()
        conn.close()


# ---- part stats ------------------------------------------------------------------------

def test_part_stats_costs_without_anything(api):
    p = new_part(api)
    s = _stats(api, "part", p)
    assert s["total_cost"] == 0 and s["cost_per_distance"] is None, s
    q = new_part(api, purchase_price=45.5)
    s = _stats(api, "part", q, "mi")
    assert s["total_cost"] == 45.5 and s["cost_per_distance"] is None, s


def test_part_stats_costs_price_and_its_maintenance(api):
    b = new_bike(api)
    other_bike = new_bike(api, name="other")
    p = new_part(api, purchase_price=100, initial_kilometrage=50)
    install(api, b, p, at=ts(-3 * DAY))
    ride(api, b, 30, logged_at=ts(-2 * DAY))
    maint(api, "part", p, cost=10.5)
    maint(api, "part", p, cost=4.25, bike_id=other_bike["id"])  # names the part: counted
    maint(api, "bike", b, cost=4.25, part_id=p["id"])           # names the part: counted
    maint(api, "part", p)                                        # no cost
    maint(api, "bike", b, cost=1000)                             # the bike's only: not counted
    s = _stats(api, "part", p)
    assert s["total_kilometrage"] == 80
    assert s["total_cost"] == 119, s
    assert s["cost_per_distance"] == _per(119, 80) == 1.4875, s
    mi = _stats(api, "part", p, "mi")
    assert mi["total_cost"] == 119
    assert mi["cost_per_distance"] == _per(119, 80, "mi") == 2.3939, mi


def test_part_stats_cost_per_distance_counts_initial_kilometrage_and_rounds(api):
    p = new_part(api, purchase_price=10, initial_kilometrage=3)
    s = _stats(api, "part", p)
    assert s["total_cost"] == 10
    assert s["cost_per_distance"] == 3.3333, s
    mi = _stats(api, "part", p, "mi")
    assert mi["cost_per_distance"] == _per(10, 3, "mi") == 5.3645, mi
    # 2/3 -> 0.6667 (rounded, not cut).
    q = new_part(api, purchase_price=2, initial_kilometrage=3)
    assert _stats(api, "part", q)["cost_per_distance"] == 0.6667
    # The price cleared: the maintenance alone.
    assert_status(api.patch(f"/api/parts/{p['id']}", json={"purchase_price": None}), 200)
    maint(api, "part", p, cost=0.99)
    s = _stats(api, "part", p)
    assert s["total_cost"] == 0.99 and s["cost_per_distance"] == 0.33, s


def test_part_stats_cost_per_distance_1_per_km_is_1_6093_per_mi(api):
    p = new_part(api, purchase_price=250, initial_kilometrage=250)
    assert _stats(api, "part", p)["cost_per_distance"] == 1
    assert _stats(api, "part", p, "mi")["cost_per_distance"] == 1.6093


# ---- bike stats ------------------------------------------------------------------------

def test_bike_stats_costs_without_anything(api):
    b = new_bike(api)
    s = _stats(api, "bike", b)
    assert s["total_cost"] == 0 and s["cost_per_distance"] is None, s
    c = new_bike(api, purchase_price=1999.99)
    s = _stats(api, "bike", c)
    assert s["total_cost"] == 1999.99 and s["cost_per_distance"] is None, s


def test_bike_stats_costs_count_parts_ever_installed_once(user, other, api, other_api):
    b = new_bike(api, purchase_price=1000, initial_kilometrage=100)
    twice = new_part(api, name="twice", purchase_price=30)
    removed = new_part(api, name="removed", purchase_price=40)
    given = new_part(api, name="given away", purchase_price=50)
    new_part(api, name="never installed", purchase_price=60)
    elsewhere = new_part(api, name="on another bike", purchase_price=70)
    unpriced = new_part(api, name="no price")
    b2 = new_bike(api, name="second")
    install(api, b, twice, at=ts(-10 * DAY))
    remove(api, b, twice, at=ts(-9 * DAY))
    install(api, b, twice, at=ts(-8 * DAY))
    install(api, b, removed, at=ts(-10 * DAY))
    remove(api, b, removed, at=ts(-5 * DAY))
    install(api, b, given, at=ts(-10 * DAY))
    install(api, b, unpriced, at=ts(-10 * DAY))
    install(api, b2, elsewhere, at=ts(-10 * DAY))
    ride(api, b, 50, logged_at=ts(-7 * DAY))
    maint(api, "bike", b, cost=20)
    maint(api, "part", twice, bike_id=b["id"], cost=5)  # names the bike: counted
    maint(api, "part", twice, cost=7)                   # the part's only: not the bike's
    maint(api, "bike", b2, cost=300)
    assert_status(api.post(f"/api/parts/{given['id']}/transfer",
                           json={"new_owner_email": other.email}), 200)
    s = _stats(api, "bike", b)
    assert s["total_kilometrage"] == 150
    # 1000 + 20 + 5 + 30 (once) + 40 (removed, still the owner's); not the given one.
    assert s["total_cost"] == 1095, s
    assert s["cost_per_distance"] == _per(1095, 150) == 7.3, s
    mi = _stats(api, "bike", b, "mi")
    assert mi["total_cost"] == 1095
    assert mi["cost_per_distance"] == _per(1095, 150, "mi") == 11.7482, mi
    # A price changed on a part is seen; a deleted part is no longer counted.
    assert_status(api.patch(f"/api/parts/{removed['id']}", json={"purchase_price": 40.01}), 200)
    assert _stats(api, "bike", b)["total_cost"] == 1095.01
    assert_status(api.delete(f"/api/parts/{removed['id']}"), 200)
    assert _stats(api, "bike", b)["total_cost"] == 1055
    # The other user's view of the given part is theirs alone.
    assert assert_status(other_api.get(f"/api/parts/{given['id']}/stats"), 200)["total_cost"] == 50


def test_bike_stats_costs_after_the_bike_is_transferred(user, other, api, other_api):
    b = new_bike(api, purchase_price=500, initial_kilometrage=10)
    on = new_part(api, name="on it", purchase_price=25)
    off = new_part(api, name="taken off", purchase_price=35)
    install(api, b, on, at=ts(-3 * DAY))
    install(api, b, off, at=ts(-3 * DAY))
    remove(api, b, off, at=ts(-2 * DAY))
    assert _stats(api, "bike", b)["total_cost"] == 560
    assert_status(api.post(f"/api/bikes/{b['id']}/transfer",
                           json={"new_owner_email": other.email}), 200)
    # The installed part went with the bike; the removed one stayed with its owner.
    s = _stats(other_api, "bike", b)
    assert s["total_cost"] == 525, s
    assert s["cost_per_distance"] == 52.5, s
