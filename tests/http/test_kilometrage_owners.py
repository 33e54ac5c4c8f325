"""Kilometrage across owners (api-notes "Kilometrage", the exception): a ride, a ride's
deletion, an install or a removal changes only what the caller owns at that moment. A part
that changed owner keeps its kilometrage as it stood; the rides that would have reached it
are recorded in vehicles.kilometrage_withheld, and a ride deleted after its part changed
owner leaves that part's credit in place, detached from the ride (log_id NULL). The
invariant fixture checks after every test that each (ride, part on the bike then) pair has
exactly one credit or one withheld record and every total is initial + credits."""
import pytest

from flows import (DAY, Api, bike_km, install, new_part, part_km, remove, ride, run_parallel,
                   ts)
from flows import check_consistency, check_invariant  # noqa: F401 (fixtures)
from support import assert_error, assert_status, describe

pytestmark = pytest.mark.usefixtures("check_invariant", "check_consistency")


def _give(api, kind, thing, to):
    r = api.post(f"/api/{kind}s/{thing['id']}/transfer", json={"new_owner_email": to.email})
    return assert_status(r, 200)


def _credits(db, part):
    """(log_id or None, distance) of every credit of the part, in km."""
    rows = db.query("SELECT log_id, distance FROM vehicles.kilometrage_credit WHERE part_id = %s",
                    (part["id"],))
    return sorted(((None if log is None else str(log), float(d)) for log, d in rows),
                  key=lambda x: (x[0] or "", x[1]))


def _withheld(db, part):
    return sorted((str(log), float(d)) for log, d in db.query(
        "SELECT log_id, distance FROM vehicles.kilometrage_withheld WHERE part_id = %s",
        (part["id"],)))


def _km(db, part):
    (t,), = db.query("SELECT total_kilometrage FROM vehicles.user_part WHERE id = %s", (part["id"],))
    return float(t)


# ---- A fits P to X, gives P to B: A's later writes on X no longer reach P ---------------------

def test_backdated_ride_by_the_previous_owner_is_withheld(db, api, other, other_api, create_bike):
    x = create_bike(api)
    p = new_part(api, name="given away")
    mine = new_part(api, name="still mine")
    install(api, x, p, at=ts(-10 * DAY))
    install(api, x, mine, at=ts(-10 * DAY))
    ride(api, x, 5, logged_at=ts(-8 * DAY))
    remove(api, x, p, at=ts(-6 * DAY))
    _give(api, "part", p, other)
    assert part_km(other_api, p) == 5
    # A backdates rides to days P was on X, again and again: P stays at 5.
    logs = []
    for d in (7, 9, 7):
        body = ride(api, x, 3, logged_at=ts(-d * DAY))
        assert [q["id"] for q in body["affected_parts"]] == [mine["id"]], body
        logs.append(body["log"]["id"])
    assert part_km(other_api, p) == 5 and _km(db, p) == 5
    assert part_km(api, mine) == 5 + 9 and bike_km(api, x) == 5 + 9
    assert _withheld(db, p) == sorted((log, 3.0) for log in logs)
    # A ride after P left X was never P's: neither credited nor withheld.
    ride(api, x, 2, logged_at=ts(-5 * DAY))
    assert len(_withheld(db, p)) == 3 and part_km(other_api, p) == 5


def test_ride_deleted_by_the_previous_owner_leaves_the_credit(db, api, other, other_api,
                                                            create_bike):
    x = create_bike(api)
    p = new_part(api, name="given away")
    mine = new_part(api, name="still mine")
    install(api, x, p, at=ts(-10 * DAY))
    install(api, x, mine, at=ts(-10 * DAY))
    old = ride(api, x, 5, logged_at=ts(-8 * DAY))["log"]
    remove(api, x, p, at=ts(-6 * DAY))
    _give(api, "part", p, other)
    assert_status(api.delete(f"/api/bikes/{x['id']}/kilometrage/{old['id']}"), 200)
    # The bike and A's own part lose the ride; B's part keeps its 5 km, detached from it.
    assert bike_km(api, x) == 0 and part_km(api, mine) == 0
    assert part_km(other_api, p) == 5 and _credits(db, p) == [(None, 5.0)]
    assert _credits(db, mine) == []
    # Logging and deleting again cannot move B's part either way.
    for _ in range(3):
        log = ride(api, x, 4, logged_at=ts(-8 * DAY))["log"]
        assert_status(api.delete(f"/api/bikes/{x['id']}/kilometrage/{log['id']}"), 200)
    assert part_km(other_api, p) == 5 and _withheld(db, p) == []
    assert bike_km(api, x) == 0


def test_previous_owner_cannot_install_or_remove_a_given_part(db, api, other, other_api,
                                                             create_bike):
    x = create_bike(api)
    p = new_part(api)
    install(api, x, p, at=ts(-10 * DAY))
    ride(api, x, 5, logged_at=ts(-8 * DAY))
    _give(api, "part", p, other)  # removes it from X first
    for action, body in (("install", {"installed_at": ts(-9 * DAY)}),
                         ("remove", {"removed_at": ts(-9 * DAY)}), ("install", {}), ("remove", {})):
        assert_error(api.post(f"/api/bikes/{x['id']}/parts/{p['id']}/{action}", json=body),
                     403, "forbidden")
    assert part_km(other_api, p) == 5


def test_a_part_given_back_is_credited_again(db, user, api, other, other_api, create_bike):
    x = create_bike(api)
    p = new_part(api)
    install(api, x, p, at=ts(-10 * DAY))
    remove(api, x, p, at=ts(-6 * DAY))
    _give(api, "part", p, other)
    withheld = ride(api, x, 3, logged_at=ts(-8 * DAY))["log"]
    _give(other_api, "part", p, user)
    # A owns P again: a new backdated ride reaches it; the one withheld meanwhile stays so.
    body = ride(api, x, 2, logged_at=ts(-9 * DAY))
    assert [q["id"] for q in body["affected_parts"]] == [p["id"]]
    assert part_km(api, p) == 2
    assert _withheld(db, p) == [(withheld["id"], 3.0)]


# ---- C takes Q off Y and sells Y to B: B's writes on Y do not reach Q ------------------------

def test_buyers_backdated_ride_does_not_reach_the_sellers_part(db, api, other, other_api,
                                                             create_bike):
    y = create_bike(api)
    q = new_part(api, name="kept by seller")
    sold = new_part(api, name="sold with the bike")
    install(api, y, q, at=ts(-10 * DAY))
    install(api, y, sold, at=ts(-10 * DAY))
    remove(api, y, q, at=ts(-5 * DAY))
    _give(api, "bike", y, other)
    body = ride(other_api, y, 4, logged_at=ts(-7 * DAY))
    # The part that went with the bike is the buyer's: credited. The seller's is not.
    assert [x["id"] for x in body["affected_parts"]] == [sold["id"]], body
    assert bike_km(other_api, y) == 4 and part_km(other_api, sold) == 4
    assert part_km(api, q) == 0 and _km(db, q) == 0
    assert _withheld(db, q) == [(body["log"]["id"], 4.0)]


def test_buyer_deleting_the_sellers_ride_leaves_the_sellers_part(db, api, other, other_api,
                                                                create_bike):
    y = create_bike(api)
    q = new_part(api, name="kept by seller")
    sold = new_part(api, name="sold with the bike")
    install(api, y, q, at=ts(-10 * DAY))
    install(api, y, sold, at=ts(-10 * DAY))
    log = ride(api, y, 6, logged_at=ts(-8 * DAY))["log"]
    remove(api, y, q, at=ts(-5 * DAY))
    _give(api, "bike", y, other)
    assert_status(other_api.delete(f"/api/bikes/{y['id']}/kilometrage/{log['id']}"), 200)
    assert bike_km(other_api, y) == 0 and part_km(other_api, sold) == 0
    assert part_km(api, q) == 6 and _credits(db, q) == [(None, 6.0)]


def test_buyers_backdated_install_and_removal_touch_only_the_buyers_part(db, api, other,
                                                                         other_api, create_bike):
    y = create_bike(api)
    q = new_part(api, name="kept by seller")
    install(api, y, q, at=ts(-10 * DAY))
    t_ride = ts(-8 * DAY)
    ride(api, y, 6, logged_at=t_ride)
    remove(api, y, q, at=ts(-5 * DAY))
    _give(api, "bike", y, other)
    own = new_part(other_api, name="buyer's")
    install(other_api, y, own, at=ts(-9 * DAY))
    assert part_km(other_api, own) == 6 and part_km(api, q) == 6
    remove(other_api, y, own, at=t_ride)  # takes the 6 back from the buyer's part only
    assert part_km(other_api, own) == 0 and part_km(api, q) == 6
    assert bike_km(other_api, y) == 6


# ---- races: a part given away while its old bike's owner backdates rides -------------------

def test_rides_racing_a_part_transfer_credit_or_withhold_never_both(db, user, api, other,
                                                                    other_api, create_bike):
    clients = [Api(user.token) for _ in range(4)]
    try:
        for _ in range(5):
            x = create_bike(api)
            p = new_part(api)
            install(api, x, p, at=ts(-10 * DAY))
            calls = [lambda c=c, x=x: c.post(f"/api/bikes/{x['id']}/kilometrage",
                                             json={"distance": 1, "logged_at": ts(-5 * DAY)})
                     for c in clients[:3]]
            calls.append(lambda p=p: clients[3].post(f"/api/parts/{p['id']}/transfer",
                                                     json={"new_owner_email": other.email}))
            res = run_parallel(calls)
            assert [r.status_code for r in res] == [201, 201, 201, 200], [describe(r) for r in res]
            # Each ride credited P if it came first, was withheld from it if the transfer did;
            # P's total is what it had when it left (the invariant fixture checks the rest).
            credited = {str(x) for x, in db.query(
                "SELECT log_id FROM vehicles.kilometrage_credit WHERE part_id = %s", (p["id"],))}
            for r in res[:3]:
                mine = [q["id"] for q in r.json()["affected_parts"]]
                assert mine == ([p["id"]] if r.json()["log"]["id"] in credited else []), describe(r)
            assert part_km(other_api, p) == len(credited)
            ride(api, x, 1, logged_at=ts(-5 * DAY))
            assert part_km(other_api, p) == len(credited)
    finally:
        for c in clients:
            c.close()


# ---- the invariant check itself ------------------------------------------------------------

def test_kilometrage_check_sees_a_missing_or_doubled_withheld_record(db, api, other, create_bike):
    x = create_bike(api)
    p = new_part(api)
    install(api, x, p, at=ts(-10 * DAY))
    remove(api, x, p, at=ts(-6 * DAY))
    _give(api, "part", p, other)
    log = ride(api, x, 3, logged_at=ts(-8 * DAY))["log"]
    later = ride(api, x, 1)["log"]  # P was not on X any more
    conn = db._connect()
    with db.lock:
        conn.autocommit = False
        try:
            with conn.cursor() as cur:
                def kinds():
                    cur.execute("SELECT kind FROM vehicles.kilometrage_check() WHERE id = %s",
                                (p["id"],))
                    return sorted(k for k, in cur.fetchall())
                assert kinds() == []
                # A credit as well as the withheld record: two answers for one pair.
                cur.execute("INSERT INTO vehicles.kilometrage_credit (log_id, part_id, distance)"
                            " VALUES (%s, %s, 3)", (log["id"], p["id"]))
                cur.execute("UPDATE vehicles.user_part SET total_kilometrage = total_kilometrage + 3"
                            " WHERE id = %s", (p["id"],))
                assert kinds() == ["ride_credited_and_withheld"]
                # Neither: the pair is unexplained.
                cur.execute("DELETE FROM vehicles.kilometrage_withheld WHERE log_id = %s", (log["id"],))
                cur.execute("DELETE FROM vehicles.kilometrage_credit WHERE log_id = %s", (log["id"],))
                cur.execute("UPDATE vehicles.user_part SET total_kilometrage = total_kilometrage - 3"
                            " WHERE id = %s", (p["id"],))
                assert kinds() == ["installation_ride_without_credit"]
                # A withheld record for a ride the part was not on the bike for.
                cur.execute("INSERT INTO vehicles.kilometrage_withheld (log_id, part_id, distance)"
                            " SELECT id, %s, distance FROM vehicles.kilometrage_log"
                            " WHERE id = %s", (p["id"], later["id"]))
                assert "withheld_without_installation" in kinds()
        finally:
            conn.rollback()
            conn.autocommit = True
