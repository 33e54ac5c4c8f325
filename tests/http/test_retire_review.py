"""What a review of issue 14 found, each pinned: a part's new owner backdating its retirement
into the previous owner's time (it shortened their installation and took back their rides),
parts swapped back and forth multiplying their intervals, and an install before a part came
back into service named by the wrong bound."""
import pytest

from flows import DAY, HOUR, install, new_bike, new_part, part_of, remove, ride, ts
from flows import check_invariant  # noqa: F401 (fixtures)
from support import assert_error, assert_status
from test_replace import replace
from test_retire import retire, unretire

pytestmark = pytest.mark.usefixtures("check_invariant")


def test_a_new_owner_cannot_retire_into_the_previous_owners_time(api, other, other_api, db):
    bike, part = new_bike(api), new_part(api)
    install(api, bike, part, at=ts(-3 * DAY))
    ride(api, bike, 10, logged_at=ts(-2 * DAY))
    ride(api, bike, 5, logged_at=ts(-1 * HOUR))
    assert_status(api.post(f"/api/parts/{part['id']}/transfer",
                           json={"new_owner_email": other.email}), 200)
    before = db.query("SELECT installed_at, removed_at FROM vehicles.part_installation"
                      " WHERE part_id = %s", (part["id"],))
    r = other_api.post(f"/api/parts/{part['id']}/retire", json={"retired_at": ts(-2.5 * DAY)})
    assert_error(r, 400, "validation_error", ["retired_at"], exact=True)
    assert "became yours" in r.json()["details"]["retired_at"]
    assert db.query("SELECT installed_at, removed_at FROM vehicles.part_installation"
                    " WHERE part_id = %s", (part["id"],)) == before
    assert part_of(other_api, part)["total_kilometrage"] == 15
    # Retired now (or any time since it became theirs): the previous owner's period stays.
    got = retire(other_api, part)
    assert got["status"] == "retired" and got["total_kilometrage"] == 15
    assert db.query("SELECT installed_at, removed_at FROM vehicles.part_installation"
                    " WHERE part_id = %s", (part["id"],)) == before


def test_swapping_two_parts_back_and_forth_does_not_multiply_intervals(api):
    bike, a, c = new_bike(api), new_part(api, name="a"), new_part(api, name="c")
    install(api, bike, a, at=ts(-10 * DAY))
    assert_status(api.post(f"/api/parts/{a['id']}/intervals",
                           json={"task": "Lube chain", "every_distance": 100}), 201)
    at = -9 * DAY
    for i in range(6):
        old, new = (a, c) if i % 2 == 0 else (c, a)
        replace(api, bike, old, new, at=ts(at), retire_old=False)
        at += DAY
    for p in (a, c):
        got = assert_status(api.get(f"/api/parts/{p['id']}/intervals"), 200)
        assert [x["task"] for x in got] == ["Lube chain"], got


def test_an_install_before_the_part_came_back_names_that_bound(api):
    bike, part = new_bike(api), new_part(api)
    install(api, bike, part, at=ts(-3 * DAY))
    remove(api, bike, part, at=ts(-2.5 * DAY))
    retire(api, part, retired_at=ts(-2 * DAY))
    unretire(api, part)
    r = api.post(f"/api/bikes/{bike['id']}/parts/{part['id']}/install",
                 json={"installed_at": ts(-2.2 * DAY)})
    assert_error(r, 400, "validation_error", ["installed_at"], exact=True)
    assert "came back into service" in r.json()["details"]["installed_at"]
    # Before the previous installation's end it is still "came back into service": the later
    # of the two bounds is the one to name.
    r = api.post(f"/api/bikes/{bike['id']}/parts/{part['id']}/install",
                 json={"installed_at": ts(-2.7 * DAY)})
    assert "came back into service" in r.json()["details"]["installed_at"]
