"""Account deletion as Supabase does it (dashboard, admin API): DELETE FROM auth.users. It
always succeeds; it removes the account's own bikes, parts and their records, unlinks the
account from the ownership trail and from what it logged on bikes that are now another
user's (the rows stay, the id goes NULL), and removes nothing that belongs to another user."""
import pytest

from flows import (DAY, HOUR, bike_km, bike_of, install, maint, new_part, part_km, remove,
                   ride, ts)
from flows import check_invariant  # noqa: F401 (fixtures)
from support import assert_status

pytestmark = pytest.mark.usefixtures("check_invariant")


def _give(api, kind, thing, to):
    r = api.post(f"/api/{kind}s/{thing['id']}/transfer", json={"new_owner_email": to.email})
    return assert_status(r, 200)


def _delete_account(db, *users):
    db.execute("DELETE FROM auth.users WHERE id = ANY(%s::uuid[])", ([u.id for u in users],))


def _count(db, table, where, args):
    (n,), = db.query(f"SELECT count(*) FROM vehicles.{table} WHERE {where}", args)
    return n


def _violations(db, ids):
    return db.query("SELECT kind, id FROM vehicles.kilometrage_check() WHERE id = ANY(%s::uuid[])",
                    (ids,))


def test_sellers_deletion_keeps_the_buyers_bike_history(db, user, api, other, other_api,
                                                        create_bike):
    x = create_bike(api, initial_kilometrage=100)
    p = new_part(api, name="sold with the bike")
    install(api, x, p, at=ts(-10 * DAY))
    r1 = ride(api, x, 30, logged_at=ts(-9 * DAY))["log"]
    m1 = maint(api, "bike", x, description="seller's service", performed_at=ts(-8 * DAY))
    m2 = maint(api, "part", p, description="seller's chain check", performed_at=ts(-8 * DAY))
    _give(api, "bike", x, other)
    r2 = ride(other_api, x, 5)["log"]

    _delete_account(db, user)

    got = bike_of(other_api, x)
    assert got["total_kilometrage"] == 135 and part_km(other_api, p) == 35
    hist = assert_status(other_api.get(f"/api/bikes/{x['id']}/kilometrage"), 200)
    assert {i["id"]: i["user_id"] for i in hist["items"]} == {r1["id"]: None, r2["id"]: other.id}
    ms = assert_status(other_api.get(f"/api/bikes/{x['id']}/maintenance"), 200)
    assert {m["id"] for m in ms} == {m1["id"]}
    assert {m["id"] for m in assert_status(other_api.get(f"/api/parts/{p['id']}/maintenance"),
                                           200)} == {m2["id"]}
    assert db.query("SELECT user_id FROM vehicles.maintenance_record WHERE id = ANY(%s::uuid[])",
                    ([m1["id"], m2["id"]],)) == [(None,), (None,)]
    # The ownership trail keeps its rows, without the deleted account's id.
    assert sorted(db.query(
        "SELECT entity_type::text, previous_owner_id, new_owner_id::text"
        " FROM vehicles.ownership_history WHERE entity_id = ANY(%s::uuid[])",
        ([x["id"], p["id"]],))) == [("bike", None, other.id), ("part", None, other.id)]
    assert _violations(db, [x["id"], p["id"]]) == []
    # The buyer can still correct the seller's ride.
    assert_status(other_api.delete(f"/api/bikes/{x['id']}/kilometrage/{r1['id']}"), 200)
    assert bike_km(other_api, x) == 105 and part_km(other_api, p) == 5


def test_deletion_removes_everything_of_the_account(db, user, api, other, other_api, create_bike):
    x = create_bike(api)
    y = create_bike(api, name="second")
    p = new_part(api, name="on x")
    q = new_part(api, name="was on y")
    loose = new_part(api, name="loose")
    install(api, x, p, at=ts(-5 * DAY))
    install(api, y, q, at=ts(-5 * DAY))
    ride(api, x, 3, logged_at=ts(-4 * DAY), headers={"Idempotency-Key": "k1"})
    ride(api, y, 4, logged_at=ts(-4 * DAY))
    remove(api, y, q, at=ts(-3 * DAY))
    install(api, x, q, at=ts(-2 * DAY))
    ride(api, x, 2, logged_at=ts(-1 * DAY))
    maint(api, "bike", x)                                      # bike only
    maint(api, "part", loose)                                  # part only
    maint(api, "bike", y, part_id=q["id"], performed_at=ts(-4 * DAY))  # bike and part
    assert_status(api.post(f"/api/bikes/{x['id']}/set-active"), 200)
    theirs = create_bike(other_api)
    their_part = new_part(other_api)
    install(other_api, theirs, their_part)
    ride(other_api, theirs, 9)
    maint(other_api, "bike", theirs)

    _delete_account(db, user)

    mine = [x["id"], y["id"], p["id"], q["id"], loose["id"]]
    assert _count(db, "user_bike", "user_id = %s", (user.id,)) == 0
    assert _count(db, "user_part", "user_id = %s", (user.id,)) == 0
    assert _count(db, "kilometrage_log", "bike_id = ANY(%s::uuid[]) OR user_id = %s",
                  (mine, user.id)) == 0
    assert _count(db, "kilometrage_credit", "part_id = ANY(%s::uuid[])", (mine,)) == 0
    assert _count(db, "part_installation", "part_id = ANY(%s::uuid[]) OR bike_id = ANY(%s::uuid[])",
                  (mine, mine)) == 0
    assert _count(db, "maintenance_record", "bike_id = ANY(%s::uuid[]) OR part_id = ANY(%s::uuid[])"
                  " OR user_id = %s", (mine, mine, user.id)) == 0
    assert _count(db, "idempotency_key", "user_id = %s", (user.id,)) == 0
    assert db.query("SELECT count(*) FROM public.user_settings WHERE user_id = %s",
                    (user.id,)) == [(0,)]
    # The other user's things are untouched.
    assert bike_km(other_api, theirs) == 9 and part_km(other_api, their_part) == 9
    assert len(assert_status(other_api.get(f"/api/bikes/{theirs['id']}/maintenance"), 200)) == 1


def test_buyers_deletion_takes_the_bike_with_the_sellers_records(db, user, api, other,
                                                                 other_api, create_bike):
    # The seller logged maintenance (bike only, and bike with a part) and rides on X, sold
    # it, and kept a part that had been on X. The buyer deletes their account.
    x = create_bike(api)
    kept = new_part(api, name="kept by seller")
    sold = new_part(api, name="sold with the bike")
    install(api, x, kept, at=ts(-10 * DAY))
    install(api, x, sold, at=ts(-10 * DAY))
    ride(api, x, 8, logged_at=ts(-9 * DAY))
    maint(api, "bike", x, description="bike only", performed_at=ts(-9 * DAY))
    both = maint(api, "bike", x, part_id=kept["id"], description="bike and kept part",
                 performed_at=ts(-9 * DAY))
    remove(api, x, kept, at=ts(-5 * DAY))
    _give(api, "bike", x, other)
    ride(other_api, x, 1, logged_at=ts(-1 * HOUR))

    _delete_account(db, other)

    assert _count(db, "user_bike", "id = %s", (x["id"],)) == 0
    assert _count(db, "user_part", "id = %s", (sold["id"],)) == 0
    # The seller's part keeps its kilometrage (the credit stays, detached from the ride) and
    # its maintenance record (without the deleted bike).
    assert part_km(api, kept) == 8
    ms = assert_status(api.get(f"/api/parts/{kept['id']}/maintenance"), 200)
    assert [(m["id"], m["bike_id"]) for m in ms] == [(both["id"], None)]
    assert _violations(db, [kept["id"]]) == []
    assert_status(api.get(f"/api/parts/{kept['id']}"), 200)


def test_deleting_both_sides_of_a_sale_at_once(db, user, api, other, other_api, create_bike):
    x = create_bike(api)
    p = new_part(api)
    install(api, x, p, at=ts(-3 * DAY))
    ride(api, x, 2, logged_at=ts(-2 * DAY))
    maint(api, "bike", x, performed_at=ts(-2 * DAY))
    _give(api, "bike", x, other)
    maint(other_api, "bike", x, part_id=p["id"])
    assert_status(other_api.post(f"/api/bikes/{x['id']}/set-active"), 200)
    # And a record naming a bike of one and a part of the other.
    kept = create_bike(api, name="kept")
    q = new_part(api, name="given")
    install(api, kept, q, at=ts(-3 * DAY))
    both = maint(api, "bike", kept, part_id=q["id"], performed_at=ts(-2 * DAY))
    _give(api, "part", q, other)
    _delete_account(db, user, other)
    assert _count(db, "user_bike", "id = ANY(%s::uuid[])", ([x["id"], kept["id"]],)) == 0
    assert _count(db, "user_part", "id = ANY(%s::uuid[])", ([p["id"], q["id"]],)) == 0
    assert _count(db, "maintenance_record", "bike_id = %s OR part_id = %s OR id = %s",
                  (x["id"], p["id"], both["id"])) == 0
    assert _count(db, "ownership_history", "entity_id = ANY(%s::uuid[]) AND"
                  " (previous_owner_id IS NOT NULL OR new_owner_id IS NOT NULL)",
                  ([x["id"], p["id"]],)) == 0


def test_a_record_of_a_deleted_bike_and_a_given_part_stays_with_the_part(db, user, api, other,
                                                                         other_api, create_bike):
    x = create_bike(api)
    q = new_part(api, name="given")
    install(api, x, q, at=ts(-3 * DAY))
    ride(api, x, 4, logged_at=ts(-2 * DAY))
    both = maint(api, "bike", x, part_id=q["id"], performed_at=ts(-2 * DAY))
    _give(api, "part", q, other)
    _delete_account(db, user)
    ms = assert_status(other_api.get(f"/api/parts/{q['id']}/maintenance"), 200)
    assert [(m["id"], m["bike_id"], m["user_id"]) for m in ms] == [(both["id"], None, None)]
    got = assert_status(other_api.get(f"/api/parts/{q['id']}"), 200)
    assert got["total_kilometrage"] == 4
    assert [(i["bike_id"], i["removed_at"] is not None) for i in got["installations"]] == \
        [(None, True)]
    assert _violations(db, [q["id"]]) == []
