"""Ownership transfer of bikes and parts, ownership history, and the internal summary
(api-notes "Ownership transfer", "Internal routes")."""
import pytest

from flows import (DAY, HOUR, bike_km, bike_of, install, maint, new_part,
                   part_km, part_of, remove, ride, service_token, ts)
from flows import check_invariant  # noqa: F401 (fixtures)
from support import (assert_error, assert_status, describe, parse_ts, random_uuid,
                     user_token)

pytestmark = pytest.mark.usefixtures("check_invariant")


def _bt(bike):
    return f"/api/bikes/{bike['id']}/transfer"


def _pt(part):
    return f"/api/parts/{part['id']}/transfer"


def _history_rows(db, entity_id):
    return db.query("SELECT entity_type::text, previous_owner_id::text, new_owner_id::text, notes"
                    " FROM vehicles.ownership_history WHERE entity_id = %s", (entity_id,))


# ---- bike transfer ---------------------------------------------------------------------

def test_bike_transfer_moves_bike_and_installed_parts(db, user, other, api, other_api, create_bike):
    b = create_bike(api, initial_kilometrage=100)
    p = new_part(api, name="chain")
    q = new_part(api, name="tyre", type="tires")
    loose = new_part(api, name="spare")
    was_on = new_part(api, name="was on")
    install(api, b, p, at=ts(-3 * DAY))
    install(api, b, q, at=ts(-3 * DAY))
    install(api, b, was_on, at=ts(-3 * DAY))
    remove(api, b, was_on, at=ts(-2 * DAY))
    ride(api, b, 30, logged_at=ts(-1 * DAY))
    m = maint(api, "bike", b, description="tuned", performed_at=ts(-12 * HOUR))
    assert_status(api.post(f"/api/bikes/{b['id']}/set-active"), 200)

    r = api.post(_bt(b), json={"new_owner_email": other.email, "notes": "sold"})
    t = assert_status(r, 200)
    assert t["transferred_parts_count"] == 2, describe(r)
    assert t["success"] is True

    # Database: owners and one history row per bike and part.
    assert db.query("SELECT user_id::text FROM vehicles.user_bike WHERE id = %s", (b["id"],)) == [(other.id,)]
    owners = dict(db.query("SELECT id::text, user_id::text FROM vehicles.user_part WHERE id = ANY(%s::uuid[])",
                           ([p["id"], q["id"], loose["id"], was_on["id"]],)))
    assert owners == {p["id"]: other.id, q["id"]: other.id, loose["id"]: user.id, was_on["id"]: user.id}
    for e, kind in ((b, "bike"), (p, "part"), (q, "part")):
        assert _history_rows(db, e["id"]) == [(kind, user.id, other.id, "sold")]
    assert _history_rows(db, loose["id"]) == [] and _history_rows(db, was_on["id"]) == []

    # The sender has no active bike now.
    assert assert_status(api.get("/api/bikes/active"), 200) is None

    # The new owner sees everything, with the same totals.
    got = bike_of(other_api, b)
    assert got["user_id"] == other.id and got["total_kilometrage"] == 130
    assert got["is_active"] is False
    assert {x["id"] for x in got["parts"]} == {p["id"], q["id"]}
    assert {x["id"] for x in assert_status(other_api.get(f"/api/bikes/{b['id']}/parts"), 200)} == \
        {p["id"], q["id"]}
    h = assert_status(other_api.get(f"/api/bikes/{b['id']}/kilometrage"), 200)
    assert h["total"] == 1 and h["items"][0]["distance"] == 30
    ml = assert_status(other_api.get(f"/api/bikes/{b['id']}/maintenance"), 200)
    assert [x["id"] for x in ml] == [m["id"]]
    s = assert_status(other_api.get(f"/api/bikes/{b['id']}/stats"), 200)
    assert s["total_kilometrage"] == 130 and s["installed_parts_count"] == 2
    assert part_km(other_api, p) == 30 and part_km(other_api, q) == 30
    assert {x["id"] for x in assert_status(other_api.get("/api/parts"), 200)} == {p["id"], q["id"]}
    # The old owner keeps the parts that were not on it.
    assert {x["id"] for x in assert_status(api.get("/api/parts"), 200)} == {loose["id"], was_on["id"]}
    assert part_km(api, was_on) == 0
    assert assert_status(api.get("/api/bikes"), 200) == []


def test_old_owner_gets_403_everywhere(api, other, other_api, create_bike):
    b = create_bike(api)
    p = new_part(api)
    install(api, b, p)
    log = ride(api, b, 5)["log"]
    assert_status(api.post(_bt(b), json={"new_owner_email": other.email}), 200)
    bid, pid = b["id"], p["id"]
    for method, path, body in [
        ("GET", f"/api/bikes/{bid}", None), ("PATCH", f"/api/bikes/{bid}", {"name": "x"}),
        ("DELETE", f"/api/bikes/{bid}", None), ("GET", f"/api/bikes/{bid}/parts", None),
        ("GET", f"/api/bikes/{bid}/kilometrage", None),
        ("POST", f"/api/bikes/{bid}/kilometrage", {"distance": 1}),
        ("DELETE", f"/api/bikes/{bid}/kilometrage/{log['id']}", None),
        ("GET", f"/api/bikes/{bid}/maintenance", None),
        ("POST", f"/api/bikes/{bid}/maintenance", {"maintenance_type": "repair", "description": "x"}),
        ("GET", f"/api/bikes/{bid}/stats", None), ("GET", f"/api/bikes/{bid}/history", None),
        ("POST", f"/api/bikes/{bid}/set-active", None),
        ("POST", f"/api/bikes/{bid}/transfer", {"new_owner_email": other.email}),
        ("POST", f"/api/bikes/{bid}/parts/{pid}/remove", None),
        ("GET", f"/api/parts/{pid}", None), ("PATCH", f"/api/parts/{pid}", {"name": "x"}),
        ("DELETE", f"/api/parts/{pid}", None), ("GET", f"/api/parts/{pid}/stats", None),
        ("GET", f"/api/parts/{pid}/maintenance", None), ("GET", f"/api/parts/{pid}/history", None),
    ]:
        kw = {} if body is None else {"json": body}
        assert_error(api.request(method, path, **kw), 403, "forbidden")
    assert bike_km(other_api, b) == 5 and part_km(other_api, p) == 5
    assert bike_of(other_api, b)["name"] == b["name"]


def test_new_owner_can_ride_and_correct(api, other, other_api, create_bike):
    b = create_bike(api)
    p = new_part(api)
    install(api, b, p)
    old = ride(api, b, 5)["log"]
    assert_status(api.post(_bt(b), json={"new_owner_email": other.email}), 200)
    body = ride(other_api, b, 3)
    assert [x["id"] for x in body["affected_parts"]] == [p["id"]]
    assert_status(other_api.delete(f"/api/bikes/{b['id']}/kilometrage/{old['id']}"), 200)
    assert bike_km(other_api, b) == 3 and part_km(other_api, p) == 3


def test_backdated_ride_by_new_owner_keeps_the_invariant(db, api, other, other_api, create_bike):
    # A part the seller took off before the sale was on the bike in the past; the new owner
    # logs a ride of that time. The part was on the bike that day, but it is not the new
    # owner's: the ride is withheld from it (api-notes, Kilometrage: a request changes only
    # what the caller owns), and check_invariant agrees.
    b = create_bike(api)
    kept = new_part(api, name="kept by seller")
    install(api, b, kept, at=ts(-10 * DAY))
    remove(api, b, kept, at=ts(-5 * DAY))
    assert_status(api.post(_bt(b), json={"new_owner_email": other.email}), 200)
    body = ride(other_api, b, 4, logged_at=ts(-7 * DAY))
    assert bike_km(other_api, b) == 4 and body["affected_parts"] == []
    assert part_km(api, kept) == 0, body
    assert db.query("SELECT log_id::text FROM vehicles.kilometrage_withheld WHERE part_id = %s",
                    (kept["id"],)) == [(body["log"]["id"],)]


def test_email_is_case_insensitive(make_user, api, create_bike):
    to = make_user(email=f"Mixed.Case-{random_uuid()[:8]}@Example.TEST")
    b = create_bike(api)
    assert_status(api.post(_bt(b), json={"new_owner_email": to.email.upper()}), 200)
    assert bike_of(to.api, b)["user_id"] == to.id


def test_unknown_or_unconfirmed_recipient_is_409(make_user, api, create_bike):
    b = create_bike(api)
    unconfirmed = make_user(confirmed=False)
    assert_error(api.post(_bt(b), json={"new_owner_email": "nobody-" + random_uuid() + "@example.test"}),
                 409, "conflict")
    r = api.post(_bt(b), json={"new_owner_email": unconfirmed.email})
    assert_error(r, 409, "conflict")
    assert unconfirmed.email not in r.text
    assert bike_of(api, b)["user_id"] != unconfirmed.id
    p = new_part(api)
    assert_error(api.post(_pt(p), json={"new_owner_email": unconfirmed.email}), 409, "conflict")


def test_transfer_to_yourself_is_400(user, api, create_bike):
    b = create_bike(api)
    assert_error(api.post(_bt(b), json={"new_owner_email": user.email}), 400, "validation_error",
                 {"new_owner_email"})
    assert_error(api.post(_bt(b), json={"new_owner_email": user.email.upper()}), 400,
                 "validation_error", {"new_owner_email"})
    p = new_part(api)
    assert_error(api.post(_pt(p), json={"new_owner_email": user.email}), 400, "validation_error",
                 {"new_owner_email"})


@pytest.mark.parametrize("body,fields", [
    ({}, {"new_owner_email"}),
    ({"new_owner_email": None}, {"new_owner_email"}),
    ({"new_owner_email": "not-an-email"}, {"new_owner_email"}),
    ({"new_owner_email": "a@"}, {"new_owner_email"}),
    ({"new_owner_email": 5}, {"new_owner_email"}),
    ({"new_owner_email": "x" * 250 + "@e.st"}, {"new_owner_email"}),
    ({"new_owner_email": "a@b.c", "notes": "n" * 2001}, {"notes"}),
    ({"new_owner_email": "a@b.c", "price": 100}, {"price"}),
])
def test_transfer_bad_body_is_400(api, create_bike, body, fields):
    b = create_bike(api)
    p = new_part(api)
    assert_error(api.post(_bt(b), json=body), 400, "validation_error", fields, exact=True)
    assert_error(api.post(_pt(p), json=body), 400, "validation_error", fields, exact=True)


def test_transfer_ownership_checks_come_before_the_body(api, other, other_api, create_bike):
    theirs = create_bike(other_api)
    their_part = new_part(other_api)
    for body in ({"new_owner_email": other.email}, {}, {"new_owner_email": "bad"}):
        assert_error(api.post(_bt(theirs), json=body), 403, "forbidden")
        assert_error(api.post(_pt(their_part), json=body), 403, "forbidden")
        assert_error(api.post(f"/api/bikes/{random_uuid()}/transfer", json=body), 404, "not_found")
        assert_error(api.post(f"/api/parts/{random_uuid()}/transfer", json=body), 404, "not_found")
    assert_error(api.post("/api/bikes/nope/transfer", json={}), 400, "validation_error", {"id"})
    assert bike_of(other_api, theirs)["user_id"] == other.id


# ---- part transfer ---------------------------------------------------------------------

def test_part_transfer_of_an_installed_part_removes_it_first(db, user, other, api, other_api,
                                                            create_bike):
    b = create_bike(api)
    p = new_part(api, initial_kilometrage=10)
    i = install(api, b, p, at=ts(-2 * DAY))
    ride(api, b, 15, logged_at=ts(-1 * DAY))
    r = api.post(_pt(p), json={"new_owner_email": other.email})
    t = assert_status(r, 200)
    assert t["removed_from_bike_id"] == b["id"], describe(r)
    assert t["transferred_parts_count"] == 1
    got = part_of(other_api, p)
    assert got["user_id"] == other.id and got["current_bike_id"] is None
    assert got["total_kilometrage"] == 25
    assert len(got["installations"]) == 1 and got["installations"][0]["id"] == i["id"]
    closed = got["installations"][0]["removed_at"]
    assert closed is not None
    assert abs((parse_ts(closed) - parse_ts(t["transferred_at"])).total_seconds()) < 1
    assert assert_status(api.get(f"/api/bikes/{b['id']}/parts"), 200) == []
    assert bike_of(api, b)["total_kilometrage"] == 15
    assert_error(api.get(f"/api/parts/{p['id']}"), 403, "forbidden")
    assert _history_rows(db, p["id"]) == [("part", user.id, other.id, None)]
    # Rides on the old bike no longer reach it.
    ride(api, b, 1)
    assert part_km(other_api, p) == 25
    # The new owner can fit it to their own bike.
    ob = create_bike(other_api)
    install(other_api, ob, p)
    ride(other_api, ob, 2)
    assert part_km(other_api, p) == 27


def test_part_transfer_of_a_loose_part(db, user, other, api, other_api):
    p = new_part(api)
    t = assert_status(api.post(_pt(p), json={"new_owner_email": other.email}), 200)
    assert t["removed_from_bike_id"] is None and t["transferred_parts_count"] == 1
    assert part_of(other_api, p)["user_id"] == other.id


# ---- history ---------------------------------------------------------------------------

def test_history_shows_owner_periods_without_emails(make_user, user, other, api, other_api, create_bike):
    third = make_user(tag="c")
    b = create_bike(api)
    p = new_part(api)
    install(api, b, p)
    t1 = assert_status(api.post(_bt(b), json={"new_owner_email": other.email, "notes": "first"}), 200)
    t2 = assert_status(other_api.post(_bt(b), json={"new_owner_email": third.email}), 200)
    r = third.api.get(f"/api/bikes/{b['id']}/history")
    h = assert_status(r, 200)
    for u in (user, other, third):
        assert u.email.lower() not in r.text.lower(), f"email leaked: {describe(r)}"
    assert "@" not in r.text, describe(r)
    owners = h["owners"]
    assert [o["user_id"] for o in owners] == [user.id, other.id, third.id], describe(r)
    assert [o["is_you"] for o in owners] == [False, False, True]
    assert owners[0]["from"] == b["created_at"]
    assert owners[0]["to"] == t1["transferred_at"] == owners[1]["from"]
    assert owners[1]["to"] == t2["transferred_at"] == owners[2]["from"]
    assert owners[2]["to"] is None
    assert len(h["transfers"]) == 2
    assert [x["notes"] for x in h["transfers"]] == ["first", None]
    assert [(x["previous_owner_id"], x["new_owner_id"]) for x in h["transfers"]] == \
        [(user.id, other.id), (other.id, third.id)]
    # The part moved with the bike both times.
    r = third.api.get(f"/api/parts/{p['id']}/history")
    ph = assert_status(r, 200)
    assert "@" not in r.text
    assert [o["user_id"] for o in ph["owners"]] == [user.id, other.id, third.id]
    assert len(ph["transfers"]) == 2


def test_history_of_a_never_transferred_bike(user, api, create_bike):
    b = create_bike(api)
    h = assert_status(api.get(f"/api/bikes/{b['id']}/history"), 200)
    assert h["transfers"] == []
    assert h["owners"] == [{"user_id": user.id, "is_you": True, "from": b["created_at"], "to": None}]
    assert_error(api.get(f"/api/bikes/{random_uuid()}/history"), 404, "not_found")
    assert_error(api.get("/api/parts/x/history"), 400, "validation_error", {"id"})


# ---- internal summary ------------------------------------------------------------------

def _summary_path(uid):
    return f"/internal/bikes/user/{uid}/summary"


def test_internal_summary(user, api, client, create_bike):
    worn = create_bike(api, name="worn chain")
    chain = new_part(api, metadata={"replacement_threshold_km": 100})
    install(api, worn, chain)
    ride(api, worn, 150)
    due = create_bike(api, name="interval reached", metadata={"maintenance_interval_km": 50})
    ride(api, due, 60)
    serviced = create_bike(api, name="serviced", metadata={"maintenance_interval_km": 50})
    ride(api, serviced, 70, logged_at=ts(-2 * DAY))
    maint(api, "bike", serviced, performed_at=ts(-1 * DAY))
    ride(api, serviced, 10)
    fine = create_bike(api, name="fine", metadata={"maintenance_interval_km": 1000})
    ride(api, fine, 10.5, unit="mi")  # 16.898 km
    new_part(api, name="loose worn", metadata={"replacement_threshold_km": 1},
                     initial_kilometrage=5)  # past its threshold, but on no bike
    svc = client(service_token())
    r = svc.get(_summary_path(user.id))
    s = assert_status(r, 200)
    want = {"total_bikes": 4, "total_parts": 2, "total_kilometrage_km": round(150 + 60 + 80 + 16.898, 3),
            "bikes_needing_maintenance": 2}
    for k, v in want.items():
        assert s.get(k) == v, f"{k}: {describe(r)}"
    # Asked in miles, still km.
    s2 = assert_status(svc.get(_summary_path(user.id), params={"unit": "mi"}), 200)
    assert s2["total_kilometrage_km"] == want["total_kilometrage_km"]


def test_internal_summary_of_an_empty_user(make_user, client):
    u = make_user()
    s = assert_status(client(service_token()).get(_summary_path(u.id)), 200)
    assert {k: s[k] for k in ("total_bikes", "total_parts", "total_kilometrage_km",
                              "bikes_needing_maintenance")} == \
        {"total_bikes": 0, "total_parts": 0, "total_kilometrage_km": 0, "bikes_needing_maintenance": 0}


def test_internal_summary_auth(user, api, anon_api, client):
    assert_error(api.get(_summary_path(user.id)), 403, "forbidden")
    assert_error(anon_api.get(_summary_path(user.id)), 401, "unauthorized")
    assert_error(client(service_token(exp=1)).get(_summary_path(user.id)), 401, "unauthorized")
    assert_error(client("Bearer-garbage").get(_summary_path(user.id)), 401, "unauthorized")
    anon_role = user_token(random_uuid(), role="anon")
    assert_error(client(anon_role).get(_summary_path(user.id)), 403, "forbidden")
    svc = client(service_token())
    assert_error(svc.get(_summary_path("not-a-uuid")), 400, "validation_error", {"user_id"})
    # A service token is not a user token.
    assert_error(svc.get("/api/bikes"), 403, "forbidden")
