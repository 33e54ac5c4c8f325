"""The active bike: GET /api/bikes/active, set-active, deactivate."""
import pytest

from support import assert_error, assert_status, describe, random_uuid


def _active(api, **params):
    r = api.get("/api/bikes/active", params=params or None)
    return r, assert_status(r, 200)


def test_no_active_bike_is_200_null(api, create_bike):
    create_bike(api)
    r, body = _active(api)
    assert body is None, describe(r)
    assert r.text.strip() == "null", describe(r)


def test_set_active_without_body(api, create_bike):
    b = create_bike(api)
    r = api.post(f"/api/bikes/{b['id']}/set-active")
    got = assert_status(r, 200)
    assert got["id"] == b["id"] and got["is_active"] is True, describe(r)
    assert got["unit"] == "km"
    r, active = _active(api)
    assert active is not None and active["id"] == b["id"] and active["is_active"] is True, describe(r)
    assert active["parts"] == []
    assert assert_status(api.get(f"/api/bikes/{b['id']}"), 200)["is_active"] is True


def test_set_active_with_empty_object_body(api, create_bike):
    b = create_bike(api)
    got = assert_status(api.post(f"/api/bikes/{b['id']}/set-active", json={}), 200)
    assert got["id"] == b["id"] and got["is_active"] is True


def test_set_active_twice_is_fine(api, create_bike):
    b = create_bike(api)
    assert_status(api.post(f"/api/bikes/{b['id']}/set-active"), 200)
    got = assert_status(api.post(f"/api/bikes/{b['id']}/set-active"), 200)
    assert got["is_active"] is True


def test_active_in_miles(api, create_bike):
    b = create_bike(api, initial_kilometrage=16.898)
    assert_status(api.post(f"/api/bikes/{b['id']}/set-active"), 200)
    _, active = _active(api, unit="mi")
    assert active["total_kilometrage"] == 10.5 and active["unit"] == "mi"
    assert_error(api.get("/api/bikes/active?unit=parsec"), 400, "validation_error", {"unit"})


def test_only_one_active_bike(api, create_bike):
    a = create_bike(api, name="A")
    b = create_bike(api, name="B")
    assert_status(api.post(f"/api/bikes/{a['id']}/set-active"), 200)
    got = assert_status(api.post(f"/api/bikes/{b['id']}/set-active"), 200)
    assert got["is_active"] is True
    assert assert_status(api.get(f"/api/bikes/{a['id']}"), 200)["is_active"] is False
    _, active = _active(api)
    assert active["id"] == b["id"]
    flags = {x["id"]: x["is_active"] for x in assert_status(api.get("/api/bikes"), 200)}
    assert flags == {a["id"]: False, b["id"]: True}


def test_active_bike_is_per_user(api, other_api, create_bike):
    mine = create_bike(api)
    theirs = create_bike(other_api)
    assert_status(api.post(f"/api/bikes/{mine['id']}/set-active"), 200)
    assert_status(other_api.post(f"/api/bikes/{theirs['id']}/set-active"), 200)
    assert _active(api)[1]["id"] == mine["id"]
    assert _active(other_api)[1]["id"] == theirs["id"]


def test_deactivate_non_active_is_409(api, create_bike):
    a = create_bike(api, name="A")
    b = create_bike(api, name="B")
    # No active bike at all.
    assert_error(api.post(f"/api/bikes/{a['id']}/deactivate"), 409, "conflict")
    # Another bike is active: it stays active.
    assert_status(api.post(f"/api/bikes/{b['id']}/set-active"), 200)
    assert_error(api.post(f"/api/bikes/{a['id']}/deactivate", json={}), 409, "conflict")
    assert _active(api)[1]["id"] == b["id"]


def test_deactivate_active(api, create_bike):
    b = create_bike(api)
    assert_status(api.post(f"/api/bikes/{b['id']}/set-active"), 200)
    got = assert_status(api.post(f"/api/bikes/{b['id']}/deactivate"), 200)
    assert got["id"] == b["id"] and got["is_active"] is False
    assert _active(api)[1] is None
    assert assert_status(api.get(f"/api/bikes/{b['id']}"), 200)["is_active"] is False
    # And again: it is no longer the active bike.
    assert_error(api.post(f"/api/bikes/{b['id']}/deactivate"), 409, "conflict")


def test_deactivate_with_empty_object_body(api, create_bike):
    b = create_bike(api)
    assert_status(api.post(f"/api/bikes/{b['id']}/set-active"), 200)
    got = assert_status(api.post(f"/api/bikes/{b['id']}/deactivate", json={}), 200)
    assert got["is_active"] is False


def test_deleting_active_bike_clears_active(api, create_bike):
    b = create_bike(api)
    assert_status(api.post(f"/api/bikes/{b['id']}/set-active"), 200)
    assert_status(api.delete(f"/api/bikes/{b['id']}"), 200)
    r, active = _active(api)
    assert active is None, describe(r)


@pytest.mark.parametrize("action", ["set-active", "deactivate"])
def test_toggle_other_users_bike_is_403(api, other_api, create_bike, action):
    b = create_bike(other_api)
    assert_status(other_api.post(f"/api/bikes/{b['id']}/set-active"), 200)
    assert_error(api.post(f"/api/bikes/{b['id']}/{action}"), 403, "forbidden")
    # Bad body on a foreign bike: still 403 (ownership before body).
    assert_error(api.post(f"/api/bikes/{b['id']}/{action}", json={"bogus": 1}), 403, "forbidden")
    assert _active(api)[1] is None
    assert _active(other_api)[1]["id"] == b["id"]


@pytest.mark.parametrize("action", ["set-active", "deactivate"])
def test_toggle_missing_and_malformed(api, action):
    assert_error(api.post(f"/api/bikes/{random_uuid()}/{action}"), 404, "not_found")
    assert_error(api.post(f"/api/bikes/{random_uuid()}/{action}", json={"bogus": 1}), 404, "not_found")
    assert_error(api.post(f"/api/bikes/not-a-uuid/{action}"), 400, "validation_error", {"id"})


@pytest.mark.parametrize("action", ["set-active", "deactivate"])
def test_toggle_unknown_body_field_is_400(api, create_bike, action):
    b = create_bike(api)
    if action == "deactivate":
        assert_status(api.post(f"/api/bikes/{b['id']}/set-active"), 200)
    assert_error(api.post(f"/api/bikes/{b['id']}/{action}", json={"bogus": 1}), 400,
                 "validation_error", {"bogus"})
    r = api.post(f"/api/bikes/{b['id']}/{action}", data=b"[]", headers={"Content-Type": "application/json"})
    assert_error(r, 400, "validation_error")
    # Nothing changed.
    assert assert_status(api.get(f"/api/bikes/{b['id']}"), 200)["is_active"] is (action == "deactivate")
