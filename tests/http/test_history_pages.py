"""History pages that do not slow down with history (issue 11, point 3): the `total` of
GET /api/bikes/:id/kilometrage is the bike's stored ride count (vehicles.user_bike.ride_count,
011_ride_count.sql), kept by the ride functions in the transaction that adds or removes a
ride. These tests check that the count is right after every way rides come and go (rides,
deletes, both at once, transfers, bike and account deletion), that paging stays correct
(cursor pages, offsets past the end), that vehicles.kilometrage_check() notices a count
that drifted from the rows, and that a page of a long history costs the database no more
than the same page of a short one (pg_stat_statements)."""
import datetime
import decimal

import psycopg2
import pytest

import support
from flows import DAY, HOUR, MIN, Api, invariant_rows, new_part, install, ride, run_parallel, ts
from flows import check_invariant  # noqa: F401 (fixtures)
from support import assert_error, assert_status, describe, parse_ts

pytestmark = pytest.mark.usefixtures("check_invariant")


def _k(bike):
    return f"/api/bikes/{bike['id']}/kilometrage"


def _page(api, bike, **params):
    return assert_status(api.get(_k(bike), params=params or None), 200)


def _stored(db, bike):
    """(ride_count, number of rows) of the bike, straight from the tables."""
    (count, rows), = db.query(
        "SELECT b.ride_count, (SELECT count(*) FROM vehicles.kilometrage_log l WHERE l.bike_id = b.id)"
        " FROM vehicles.user_bike b WHERE b.id = %s", (bike["id"],))
    return count, rows


def _cursor_at(log):
    """The cursor of a ride (include/cursor.h: microseconds since 1970, a dot, the id)."""
    d = parse_ts(log["logged_at"]) - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return f"{(d.days * 86400 + d.seconds) * 10**6 + d.microseconds}.{log['id']}"


def _assert_total(db, api, bike, n):
    assert _page(api, bike)["total"] == n
    assert _stored(db, bike) == (n, n)


def _seed(db, bike, user_id, n):
    """n rides on the bike written straight into the table, a minute apart going back from
    now, with the bike's total and ride count set from the rows as the ride functions would
    (far quicker than n requests)."""
    db.execute("INSERT INTO vehicles.kilometrage_log (bike_id, user_id, distance, logged_at)"
               " SELECT %s, %s, 1 + i %% 5, now() - i * interval '1 minute'"
               " FROM generate_series(1, %s) i", (bike["id"], user_id, n))
    db.execute("UPDATE vehicles.user_bike b"
               " SET total_kilometrage = b.initial_kilometrage + s.km, ride_count = s.n"
               " FROM (SELECT sum(distance) AS km, count(*) AS n FROM vehicles.kilometrage_log"
               "        WHERE bike_id = %s) s WHERE b.id = %s", (bike["id"], bike["id"]))


# ---- the total ---------------------------------------------------------------------------

def test_total_follows_each_ride_and_each_delete(db, api, create_bike):
    b = create_bike(api)
    logs = []
    for i in range(4):
        logs.append(ride(api, b, i + 1, logged_at=ts(-i * HOUR))["log"])
        _assert_total(db, api, b, i + 1)
    assert_status(api.delete(f"{_k(b)}/{logs[1]['id']}"), 200)
    _assert_total(db, api, b, 3)
    # A delete that finds nothing (already gone) takes nothing off.
    assert_error(api.delete(f"{_k(b)}/{logs[1]['id']}"), 404, "not_found")
    _assert_total(db, api, b, 3)
    for log in logs[0:1] + logs[2:]:
        assert_status(api.delete(f"{_k(b)}/{log['id']}"), 200)
    _assert_total(db, api, b, 0)
    assert _page(api, b)["items"] == []
    ride(api, b, 2)
    _assert_total(db, api, b, 1)


def test_every_page_carries_the_same_total(db, api, create_bike):
    b = create_bike(api)
    for i in range(7):
        ride(api, b, 1, logged_at=ts(-i * MIN))
    first = _page(api, b, limit=3)
    by_cursor = _page(api, b, limit=3, cursor=first["next_cursor"])
    by_offset = _page(api, b, limit=3, offset=6)
    assert [len(h["items"]) for h in (first, by_cursor, by_offset)] == [3, 3, 1]
    assert {h["total"] for h in (first, by_cursor, by_offset)} == {7}


def test_a_replayed_ride_is_counted_once(db, api, create_bike):
    b = create_bike(api)
    for _ in range(3):
        ride(api, b, 4, headers={"Idempotency-Key": "history-once"})
    _assert_total(db, api, b, 1)


def test_a_refused_ride_counts_nothing(db, api, other_api, create_bike):
    b = create_bike(api)
    ride(api, b, 1)
    assert_status(api.post(_k(b), json={"distance": -1}), 400)
    assert_status(other_api.post(_k(b), json={"distance": 1}), 403)
    _assert_total(db, api, b, 1)


def test_parallel_rides_and_deletes_on_one_bike_all_count(db, api, create_bike):
    b = create_bike(api)
    p = new_part(api)
    install(api, b, p, at=ts(-DAY))
    old = [ride(api, b, 1, logged_at=ts(-(i + 1) * MIN))["log"] for i in range(10)]
    clients = [Api(api.token) for _ in range(8)]
    try:
        # 16 new rides and 10 deletes at once, plus a second delete of 4 of them (404).
        calls = [lambda i=i: clients[i % 8].post(_k(b), json={"distance": 2}) for i in range(16)]
        calls += [lambda i=i: clients[i % 8].delete(f"{_k(b)}/{old[i]['id']}") for i in range(10)]
        calls += [lambda i=i: clients[(i + 3) % 8].delete(f"{_k(b)}/{old[i]['id']}") for i in range(4)]
        res = run_parallel(calls)
    finally:
        for c in clients:
            c.close()
    statuses = [r.status_code for r in res]
    assert statuses[:16] == [201] * 16, statuses
    # Each ride deleted twice at once: one 200 and one 404, whichever came first.
    deletes = statuses[16:]
    assert [sorted((deletes[i], deletes[10 + i])) for i in range(4)] == [[200, 404]] * 4, deletes
    assert deletes[4:10] == [200] * 6, deletes
    _assert_total(db, api, b, 16)
    assert len(_page(api, b, limit=200)["items"]) == 16


# ---- rides that change hands or go -------------------------------------------------------

def test_a_transferred_bike_keeps_its_count(db, api, other, other_api, create_bike):
    b = create_bike(api)
    for i in range(3):
        ride(api, b, 1, logged_at=ts(-i * HOUR))
    r = api.post(f"/api/bikes/{b['id']}/transfer", json={"new_owner_email": other.email})
    assert_status(r, 200)
    _assert_total(db, other_api, b, 3)
    ride(other_api, b, 5)
    _assert_total(db, other_api, b, 4)


def test_account_deletion_keeps_the_count_of_the_bikes_that_stay(db, make_user, create_bike):
    seller, buyer = make_user(tag="seller"), make_user(tag="buyer")
    sold, kept = create_bike(seller.api), create_bike(seller.api)
    for i in range(3):
        ride(seller.api, sold, 1, logged_at=ts(-(i + 1) * HOUR))
        ride(seller.api, kept, 1)
    r = seller.api.post(f"/api/bikes/{sold['id']}/transfer", json={"new_owner_email": buyer.email})
    assert_status(r, 200)
    ride(buyer.api, sold, 2)

    db.execute("DELETE FROM auth.users WHERE id = %s", (seller.id,))

    # The seller's rides stay on the sold bike (without their user) and still count.
    h = _page(buyer.api, sold)
    assert h["total"] == 4 and [i["user_id"] for i in h["items"]].count(None) == 3, h
    assert _stored(db, sold) == (4, 4)
    # The seller's own bike went with its rides: nothing left to count.
    assert db.query("SELECT count(*) FROM vehicles.kilometrage_log WHERE bike_id = %s",
                    (kept["id"],)) == [(0,)]


def test_deleting_a_bike_leaves_the_others_count(db, api, create_bike):
    gone, stays = create_bike(api), create_bike(api)
    for _ in range(2):
        ride(api, gone, 1)
        ride(api, stays, 1)
    assert_status(api.delete(f"/api/bikes/{gone['id']}"), 200)
    assert_error(api.get(_k(gone)), 404, "not_found")
    _assert_total(db, api, stays, 2)


# ---- paging --------------------------------------------------------------------------------

def test_cursor_pages_walk_a_long_history_once(db, user, api, create_bike):
    b = create_bike(api)
    _seed(db, b, user.id, 1000)
    # Two rides at one instant, to page across a tie on logged_at.
    at = ts(-30 * DAY)
    tie = {ride(api, b, 1, logged_at=at)["log"]["id"] for _ in range(2)}
    keys, cursor = [], None
    for _ in range(20):
        h = _page(api, b, limit=200, **({"cursor": cursor} if cursor else {}))
        assert h["total"] == 1002 and h["offset"] == 0
        keys += [(parse_ts(i["logged_at"]), i["id"]) for i in h["items"]]
        cursor = h["next_cursor"]
        if cursor is None:
            break
    seen = [i for _, i in keys]
    assert len(seen) == 1002 and len(set(seen)) == 1002, len(seen)
    assert tie <= set(seen)
    assert keys == sorted(keys, reverse=True), "not newest first on (logged_at, id)"
    # Offsets agree with the cursor, deep ones too.
    deep = _page(api, b, limit=5, offset=997)
    assert [i["id"] for i in deep["items"]] == seen[997:]
    assert deep["next_cursor"] is None and deep["total"] == 1002


def test_offsets_and_cursors_past_the_end(db, api, create_bike):
    b = create_bike(api)
    logs = [ride(api, b, i + 1, logged_at=ts(-(i + 1) * HOUR))["log"] for i in range(3)]
    for offset in (3, 4, 1000, 100000000):
        h = _page(api, b, offset=offset)
        assert h["items"] == [] and h["total"] == 3 and h["offset"] == offset, describe(
            api.get(_k(b), params={"offset": offset}))
        assert h["next_cursor"] is None
    h = _page(api, b, limit=2, offset=2)
    assert [i["id"] for i in h["items"]] == [logs[2]["id"]] and h["next_cursor"] is None
    # The last page by cursor, and a cursor at the oldest ride: nothing older.
    h = _page(api, b, limit=2)
    h = _page(api, b, limit=2, cursor=h["next_cursor"])
    assert [i["id"] for i in h["items"]] == [logs[2]["id"]] and h["next_cursor"] is None
    assert h["total"] == 3
    h = _page(api, b, cursor=_cursor_at(logs[1]))
    assert [i["id"] for i in h["items"]] == [logs[2]["id"]] and h["next_cursor"] is None
    h = _page(api, b, cursor=_cursor_at(logs[2]))
    assert h["items"] == [] and h["next_cursor"] is None and h["total"] == 3


# ---- the invariant check -------------------------------------------------------------------

def test_kilometrage_check_reports_a_ride_count_that_drifted(db, user, api, create_bike):
    b = create_bike(api)
    ride(api, b, 1)
    ride(api, b, 2)
    conn = psycopg2.connect(support.DATABASE_URL, connect_timeout=5)
    try:
        with conn.cursor() as cur:
            def rows():
                cur.execute("SELECT kind, expected, actual FROM vehicles.kilometrage_check()"
                            " WHERE id = %s", (b["id"],))
                return cur.fetchall()
            assert rows() == []
            cur.execute("UPDATE vehicles.user_bike SET ride_count = ride_count + 1 WHERE id = %s",
                        (b["id"],))
            assert rows() == [("ride_count", decimal.Decimal(2), decimal.Decimal(3))]
            cur.execute("UPDATE vehicles.user_bike SET ride_count = 0 WHERE id = %s", (b["id"],))
            assert rows() == [("ride_count", decimal.Decimal(2), decimal.Decimal(0))]
            # A ride written past the functions (the count not moved) is seen the same way.
            cur.execute("UPDATE vehicles.user_bike SET ride_count = 2 WHERE id = %s", (b["id"],))
            cur.execute("INSERT INTO vehicles.kilometrage_log (bike_id, user_id, distance)"
                        " VALUES (%s, %s, 1)", (b["id"], user.id))
            cur.execute("UPDATE vehicles.user_bike SET total_kilometrage = total_kilometrage + 1"
                        " WHERE id = %s", (b["id"],))
            assert rows() == [("ride_count", decimal.Decimal(3), decimal.Decimal(2))]
    finally:
        conn.rollback()
        conn.close()
    assert _stored(db, b) == (2, 2)
    assert not invariant_rows(db, [user.id])


# ---- cost ----------------------------------------------------------------------------------

def _buffers(cur, dbname):
    cur.execute("SELECT coalesce(sum(s.shared_blks_hit + s.shared_blks_read), 0)"
                " FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid"
                " WHERE d.datname = %s", (dbname,))
    return int(cur.fetchone()[0])


def test_a_page_of_a_long_history_reads_no_more_than_a_short_one(db, make_user, create_bike):
    """Database buffers per request (every statement of the database, from
    pg_stat_statements) for the first page and a cursor page deep in a bike of 20,000 rides,
    against the same pages of a bike of 120: counting the rides for `total`, or a cursor page
    that reads every newer ride (a generic plan that cannot use the cursor as an index
    bound), costs hundreds more. Buffers, not time: the same on a loaded machine."""
    dbname = db.query("SELECT current_database()")[0][0]
    long_user, short_user = make_user(tag="long"), make_user(tag="short")
    long_bike, short_bike = create_bike(long_user.api), create_bike(short_user.api)
    _seed(db, long_bike, long_user.id, 20000)
    _seed(db, short_bike, short_user.id, 120)
    db.execute("ANALYZE vehicles.kilometrage_log")
    long_cursor = _page(long_user.api, long_bike, offset=15000)["next_cursor"]
    short_cursor = _page(short_user.api, short_bike)["next_cursor"]
    cases = {
        "first": ({}, {}),
        "cursor": ({"cursor": long_cursor}, {"cursor": short_cursor}),
    }
    conn = support.stats_db()
    cost = {}
    try:
        with conn.cursor() as cur:
            for name, (long_params, short_params) in cases.items():
                for who, u, b, params in (("long", long_user, long_bike, long_params),
                                          ("short", short_user, short_bike, short_params)):
                    # Every worker past its first five executions: prepared statements then
                    # run a generic plan where PostgreSQL finds it no dearer.
                    for _ in range(60):
                        assert len(_page(u.api, b, **params)["items"]) == 50
                    # The least of three batches: whatever else runs in the database
                    # meanwhile can only add buffers.
                    batches = []
                    for _ in range(3):
                        before = _buffers(cur, dbname)
                        for _ in range(10):
                            _page(u.api, b, **params)
                        batches.append((_buffers(cur, dbname) - before) / 10)
                    cost[name, who] = min(batches)
    finally:
        conn.close()
    # A page that reads the rides it skips costs hundreds of buffers more on the long history;
    # the slack absorbs a plan's choice between indexes (behind a transaction pooler every
    # statement is planned with its values: a short history's cursor page was seen at 14
    # buffers while every other page, the long one's cursor page too, took 44).
    for name in cases:
        assert cost[name, "long"] <= cost[name, "short"] + 40, \
            f"{name} page: {cost[name, 'long']:.0f} buffers a request on 20,000 rides," \
            f" {cost[name, 'short']:.0f} on 120 ({cost})"
