"""Install, remove, and the parts on a bike (api-notes "Parts and installations")."""
import pytest

from flows import (DAY, HOUR, MIN, bike_of, install, maint, new_part, open_installations,
                   part_of, remove, ride, ts, ts_offset)
from flows import check_invariant  # noqa: F401 (fixtures)
from support import (RFC3339_UTC, UUID_RE, assert_error, assert_status, describe, parse_ts,
                     random_uuid)

pytestmark = pytest.mark.usefixtures("check_invariant")


def _install_path(bike, part):
    return f"/api/bikes/{bike['id'] if isinstance(bike, dict) else bike}/parts/" \
           f"{part['id'] if isinstance(part, dict) else part}/install"


def _remove_path(bike, part):
    return _install_path(bike, part)[:-len("install")] + "remove"


# ---- install ---------------------------------------------------------------------------

def test_install_returns_the_installation_record(api, create_bike):
    b = create_bike(api)
    p = new_part(api)
    r = api.post(_install_path(b, p))  # no body at all
    i = assert_status(r, 201)
    assert UUID_RE.match(i["id"]), describe(r)
    assert i["part_id"] == p["id"] and i["bike_id"] == b["id"]
    assert RFC3339_UTC.match(i["installed_at"]) and RFC3339_UTC.match(i["created_at"])
    assert i["removed_at"] is None
    assert part_of(api, p)["current_bike_id"] == b["id"]


def test_install_with_empty_object_and_with_installed_at(api, create_bike):
    b = create_bike(api)
    p = new_part(api)
    q = new_part(api, name="q")
    assert_status(api.post(_install_path(b, p), json={}), 201)
    at = ts_offset(-2 * DAY, hours=5)  # an offset other than Z
    i = assert_status(api.post(_install_path(b, q), json={"installed_at": at}), 201)
    assert abs((parse_ts(i["installed_at"]) - parse_ts(ts(-2 * DAY))).total_seconds()) < 5, i


def test_installed_parts_of_a_bike(api, create_bike):
    b = create_bike(api)
    p = new_part(api, name="Chain", initial_kilometrage=16.898)
    q = new_part(api, name="Tyre", type="tires")
    ip = install(api, b, p, at=ts(-2 * HOUR))
    iq = install(api, b, q, at=ts(-1 * HOUR))
    new_part(api, name="spare")
    r = api.get(f"/api/bikes/{b['id']}/parts")
    lst = assert_status(r, 200)
    assert {x["id"] for x in lst} == {p["id"], q["id"]}, describe(r)
    by = {x["id"]: x for x in lst}
    assert by[p["id"]]["installation"] == {"id": ip["id"], "installed_at": ip["installed_at"]}
    assert by[q["id"]]["installation"] == {"id": iq["id"], "installed_at": iq["installed_at"]}
    for x in lst:
        assert x["current_bike_id"] == b["id"] and x["unit"] == "km"
    mi = assert_status(api.get(f"/api/bikes/{b['id']}/parts", params={"unit": "mi"}), 200)
    assert {x["id"]: x["total_kilometrage"] for x in mi}[p["id"]] == 10.5
    assert all(x["unit"] == "mi" for x in mi)


def test_bike_detail_list_and_active_carry_parts(api, create_bike):
    b = create_bike(api)
    empty = create_bike(api, name="empty")
    p = new_part(api)
    i = install(api, b, p)
    got = bike_of(api, b)
    assert [x["id"] for x in got["parts"]] == [p["id"]]
    assert got["parts"][0]["installation"] == {"id": i["id"], "installed_at": i["installed_at"]}
    lst = assert_status(api.get("/api/bikes", params={"include_parts": "true"}), 200)
    parts = {x["id"]: [q["id"] for q in x["parts"]] for x in lst}
    assert parts == {b["id"]: [p["id"]], empty["id"]: []}, lst
    assert_status(api.post(f"/api/bikes/{b['id']}/set-active"), 200)
    active = assert_status(api.get("/api/bikes/active"), 200)
    assert [x["id"] for x in active["parts"]] == [p["id"]]
    assert active["parts"][0]["installation"]["id"] == i["id"]


def test_installed_parts_list_paging(api, create_bike):
    b = create_bike(api)
    made = [new_part(api, name=f"p{i}") for i in range(3)]
    for i, p in enumerate(made):
        install(api, b, p, at=ts((i - 5) * HOUR))
    ids = [p["id"] for p in reversed(made)]  # newest installation first
    r = api.get(f"/api/bikes/{b['id']}/parts", params={"limit": 2})
    assert [x["id"] for x in assert_status(r, 200)] == ids[:2], describe(r)
    assert r.headers.get("X-Total-Count") == "3", describe(r)
    r = api.get(f"/api/bikes/{b['id']}/parts", params={"limit": 2, "offset": 2})
    assert [x["id"] for x in assert_status(r, 200)] == ids[2:]
    assert r.headers.get("X-Total-Count") == "3"


def test_installed_parts_of_other_users_bike_is_403(api, other_api, create_bike):
    b = create_bike(other_api)
    assert_error(api.get(f"/api/bikes/{b['id']}/parts"), 403, "forbidden")
    assert_error(api.get(f"/api/bikes/{random_uuid()}/parts"), 404, "not_found")
    assert_error(api.get("/api/bikes/nope/parts"), 400, "validation_error", {"bike_id"})


def test_install_twice_on_same_bike_is_409(db, api, create_bike):
    b = create_bike(api)
    p = new_part(api)
    install(api, b, p)
    assert_error(api.post(_install_path(b, p)), 409, "conflict")
    assert len(open_installations(db, p["id"])) == 1


def test_install_on_another_bike_while_installed_is_409(db, api, create_bike):
    x = create_bike(api, name="X")
    y = create_bike(api, name="Y")
    p = new_part(api)
    install(api, x, p)
    assert_error(api.post(_install_path(y, p)), 409, "conflict")
    assert open_installations(db, p["id"])[0][1] == x["id"]
    assert assert_status(api.get(f"/api/bikes/{y['id']}/parts"), 200) == []


def test_install_on_other_users_bike_or_part_is_403(api, other_api, create_bike):
    mine_b = create_bike(api)
    mine_p = new_part(api)
    their_b = create_bike(other_api)
    their_p = new_part(other_api)
    assert_error(api.post(_install_path(their_b, mine_p)), 403, "forbidden")
    assert_error(api.post(_install_path(mine_b, their_p)), 403, "forbidden")
    # 403 before the body is looked at.
    assert_error(api.post(_install_path(their_b, mine_p), json={"installed_at": "garbage"}), 403,
                 "forbidden")
    assert part_of(api, mine_p)["current_bike_id"] is None
    assert part_of(other_api, their_p)["current_bike_id"] is None


def test_install_missing_bike_or_part_is_404(api, create_bike):
    b = create_bike(api)
    p = new_part(api)
    assert_error(api.post(_install_path(random_uuid(), p)), 404, "not_found")
    assert_error(api.post(_install_path(b, random_uuid())), 404, "not_found")
    assert_error(api.post(_install_path(b, random_uuid()), json={"bad": 1}), 404, "not_found")


@pytest.mark.parametrize("which", ["bike_id", "part_id"])
def test_install_malformed_ids_are_400(api, create_bike, which):
    b = create_bike(api)
    p = new_part(api)
    path = _install_path("nope" if which == "bike_id" else b, "nope" if which == "part_id" else p)
    assert_error(api.post(path), 400, "validation_error", {which}, exact=True)


@pytest.mark.parametrize("body,field", [
    ({"installed_at": "yesterday"}, "installed_at"),
    ({"installed_at": "2024-01-15T10:00:00"}, "installed_at"),  # no offset
    ({"installed_at": 1700000000}, "installed_at"),
    ({"removed_at": "2024-01-15T10:00:00Z"}, "removed_at"),
    ({"bike_id": "x"}, "bike_id"),
])
def test_install_bad_body_is_400(api, create_bike, body, field):
    b = create_bike(api)
    p = new_part(api)
    assert_error(api.post(_install_path(b, p), json=body), 400, "validation_error", {field})
    assert part_of(api, p)["current_bike_id"] is None


def test_install_bad_body_comes_before_the_conflict(api, create_bike):
    # Checks run in order: body (400) before state (409).
    x = create_bike(api, name="X")
    y = create_bike(api, name="Y")
    p = new_part(api)
    install(api, x, p)
    assert_error(api.post(_install_path(y, p), json={"installed_at": ts(1 * HOUR)}), 400,
                 "validation_error", {"installed_at"})
    assert_error(api.post(_install_path(y, p), json={"color": "red"}), 400, "validation_error",
                 {"color"})
    assert_error(api.post(_remove_path(y, p), json={"removed_at": "soon"}), 400,
                 "validation_error", {"removed_at"})


def test_install_more_than_5_minutes_in_future_is_400(api, create_bike):
    b = create_bike(api)
    p = new_part(api)
    assert_error(api.post(_install_path(b, p), json={"installed_at": ts(10 * MIN)}), 400,
                 "validation_error", {"installed_at"})
    assert_status(api.post(_install_path(b, p), json={"installed_at": ts(2 * MIN)}), 201)


def test_install_before_previous_installation_ended_is_400(api, create_bike):
    x = create_bike(api, name="X")
    y = create_bike(api, name="Y")
    p = new_part(api)
    install(api, x, p, at=ts(-5 * DAY))
    remove(api, x, p, at=ts(-2 * DAY))
    # Overlapping the previous period, on the same or another bike.
    assert_error(api.post(_install_path(y, p), json={"installed_at": ts(-3 * DAY)}), 400,
                 "validation_error", {"installed_at"})
    assert_error(api.post(_install_path(x, p), json={"installed_at": ts(-6 * DAY)}), 400,
                 "validation_error", {"installed_at"})
    assert part_of(api, p)["current_bike_id"] is None
    # From the end of the previous period on it is fine.
    install(api, y, p, at=ts(-1 * DAY))


# ---- remove ----------------------------------------------------------------------------

def test_remove_returns_the_closed_record(api, create_bike):
    b = create_bike(api)
    p = new_part(api)
    i = install(api, b, p, at=ts(-1 * HOUR))
    r = api.post(_remove_path(b, p))
    c = assert_status(r, 200)
    assert c["id"] == i["id"] and c["part_id"] == p["id"] and c["bike_id"] == b["id"]
    assert c["installed_at"] == i["installed_at"]
    assert RFC3339_UTC.match(c["removed_at"] or ""), describe(r)
    assert parse_ts(c["removed_at"]) >= parse_ts(c["installed_at"])
    assert part_of(api, p)["current_bike_id"] is None
    assert assert_status(api.get(f"/api/bikes/{b['id']}/parts"), 200) == []
    assert bike_of(api, b)["parts"] == []


def test_remove_with_removed_at(api, create_bike):
    b = create_bike(api)
    p = new_part(api)
    install(api, b, p, at=ts(-3 * DAY))
    at = ts(-1 * DAY)
    c = assert_status(api.post(_remove_path(b, p), json={"removed_at": at}), 200)
    assert abs((parse_ts(c["removed_at"]) - parse_ts(at)).total_seconds()) < 0.001


def test_remove_when_not_installed_on_that_bike_is_409(api, create_bike):
    x = create_bike(api, name="X")
    y = create_bike(api, name="Y")
    p = new_part(api)
    assert_error(api.post(_remove_path(x, p)), 409, "conflict")  # not installed anywhere
    install(api, x, p)
    assert_error(api.post(_remove_path(y, p)), 409, "conflict")  # installed elsewhere
    assert part_of(api, p)["current_bike_id"] == x["id"]
    remove(api, x, p)
    assert_error(api.post(_remove_path(x, p)), 409, "conflict")  # already removed


def test_removed_at_before_installed_at_is_400(api, create_bike):
    b = create_bike(api)
    p = new_part(api)
    install(api, b, p, at=ts(-1 * DAY))
    assert_error(api.post(_remove_path(b, p), json={"removed_at": ts(-2 * DAY)}), 400,
                 "validation_error", {"removed_at"})
    assert part_of(api, p)["current_bike_id"] == b["id"]


def test_remove_future_over_5_minutes_is_400(api, create_bike):
    b = create_bike(api)
    p = new_part(api)
    install(api, b, p)
    assert_error(api.post(_remove_path(b, p), json={"removed_at": ts(1 * HOUR)}), 400,
                 "validation_error", {"removed_at"})


def test_remove_other_users_or_missing_is_403_404(api, other_api, create_bike):
    b = create_bike(other_api)
    p = new_part(other_api)
    install(other_api, b, p)
    assert_error(api.post(_remove_path(b, p)), 403, "forbidden")
    assert_error(api.post(_remove_path(b, p), json={"removed_at": "bad"}), 403, "forbidden")
    mine = create_bike(api)
    assert_error(api.post(_remove_path(mine, random_uuid())), 404, "not_found")
    assert_error(api.post(_remove_path(random_uuid(), new_part(api))), 404, "not_found")
    assert part_of(other_api, p)["current_bike_id"] == b["id"]


# ---- history and kilometrage across bikes ----------------------------------------------

def test_history_newest_first_across_two_bikes(api, create_bike):
    x = create_bike(api, name="X")
    y = create_bike(api, name="Y")
    p = new_part(api)
    a = install(api, x, p, at=ts(-10 * DAY))
    remove(api, x, p, at=ts(-8 * DAY))
    b = install(api, y, p, at=ts(-6 * DAY))
    remove(api, y, p, at=ts(-4 * DAY))
    c = install(api, x, p, at=ts(-2 * DAY))
    hist = part_of(api, p)["installations"]
    assert [h["id"] for h in hist] == [c["id"], b["id"], a["id"]]
    assert [h["bike_id"] for h in hist] == [x["id"], y["id"], x["id"]]
    assert [h["removed_at"] is None for h in hist] == [True, False, False]


def test_part_keeps_its_kilometrage_across_a_move(api, create_bike):
    x = create_bike(api, name="X")
    y = create_bike(api, name="Y")
    p = new_part(api, initial_kilometrage=100)
    install(api, x, p)
    ride(api, x, 10)
    remove(api, x, p)
    assert part_of(api, p)["total_kilometrage"] == 110
    install(api, y, p)
    assert part_of(api, p)["total_kilometrage"] == 110
    ride(api, y, 5)
    ride(api, x, 7)  # no longer on X
    assert part_of(api, p)["total_kilometrage"] == 115
    assert bike_of(api, x)["total_kilometrage"] == 17
    assert bike_of(api, y)["total_kilometrage"] == 5


def test_deleting_a_bike_closes_its_installations(db, api, create_bike):
    b = create_bike(api)
    p = new_part(api)
    q = new_part(api, name="q")
    install(api, b, p, at=ts(-1 * DAY))
    install(api, b, q)
    ride(api, b, 25)
    with_part = maint(api, "bike", b, description="chain", part_id=p["id"])
    maint(api, "bike", b, description="bike only")
    assert_status(api.delete(f"/api/bikes/{b['id']}"), 200)
    # Bike-only maintenance went with the bike; the record naming the part stays with it.
    pm = assert_status(api.get(f"/api/parts/{p['id']}/maintenance"), 200)
    assert [m["id"] for m in pm] == [with_part["id"]] and pm[0]["bike_id"] is None
    assert db.query("SELECT count(*) FROM vehicles.maintenance_record WHERE bike_id = %s",
                    (b["id"],)) == [(0,)]
    for part in (p, q):
        got = part_of(api, part)
        assert got["current_bike_id"] is None, got
        assert got["total_kilometrage"] == 25, got
        assert len(got["installations"]) == 1, got
        assert got["installations"][0]["removed_at"] is not None, got
        assert open_installations(db, part["id"]) == []
    lst = assert_status(api.get("/api/parts", params={"installed": "false"}), 200)
    assert {x["id"] for x in lst} == {p["id"], q["id"]}
    # And the part can go on another bike now.
    y = create_bike(api, name="Y")
    install(api, y, p)


# ---- removal at a repeated instant ------------------------------------------------------

def test_removal_answers_the_installation_it_closed(api, create_bike):
    # install at T, remove at T, install again at T: the removal must name the new one.
    b = create_bike(api)
    p = new_part(api)
    t = ts(-DAY)
    first = install(api, b, p, at=t)
    remove(api, b, p, at=t)
    second = install(api, b, p, at=t)
    closed = remove(api, b, p, at=t)
    assert closed["id"] == second["id"] != first["id"]
