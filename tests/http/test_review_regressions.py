"""Regressions for defects a code review found: each failed before its fix."""
import time
import uuid

import pytest

from flows import DAY, check_invariant, install, new_bike, new_part, remove, ride, ts  # noqa: F401
from support import assert_error, assert_status

pytestmark = pytest.mark.usefixtures("check_invariant")


def _nested(depth):
    """metadata nesting `depth` objects: {"a": {"a": ... {"a": 1}}}"""
    m = 1
    for _ in range(depth):
        m = {"a": m}
    return m


def test_ride_on_a_bike_with_deep_metadata_answers_201(api):
    # The ride's answer wraps the bike's metadata in more levels than the body had; it was
    # committed and answered 500.
    b = new_bike(api, metadata=_nested(29))
    body = ride(api, b, 5)
    assert body["bike"]["total_kilometrage"] == 5
    assert body["bike"]["metadata"] == _nested(29)


@pytest.mark.parametrize("stamp", ["2024-01-15T10:00:00+16:00", "2024-01-15T10:00:00-23:30"])
def test_offsets_postgres_cannot_take_are_400(api, stamp):
    b = new_bike(api)
    assert_error(api.post(f"/api/bikes/{b['id']}/kilometrage",
                          json={"distance": 1, "logged_at": stamp}), 400, "validation_error",
                 {"logged_at"})


def test_cursor_before_1900_is_400(api):
    b = new_bike(api)
    r = api.get(f"/api/bikes/{b['id']}/kilometrage",
                params={"cursor": f"-253402300799000000.{uuid.uuid4()}"})
    assert_error(r, 400, "validation_error", {"cursor"})


@pytest.mark.parametrize("number", ["123456789012345678901234567890", "1e20", "1e99999"])
def test_numbers_that_would_change_are_400(api, number):
    raw = '{"name":"n","type":"road","metadata":{"x":%s}}' % number
    r = api.post("/api/bikes", data=raw, headers={"Content-Type": "application/json"})
    assert_error(r, 400, "validation_error")


def test_escaped_duplicate_key_is_400(api):
    raw = '{"name":"a","n\\u0061me":"b","type":"road"}'
    r = api.post("/api/bikes", data=raw, headers={"Content-Type": "application/json"})
    assert_error(r, 400, "validation_error")


def test_too_many_query_parameters_is_400_not_ignored(api):
    params = [(f"junk{i}", "1") for i in range(16)] + [("unit", "mi")]
    assert_error(api.get("/api/bikes", params=params), 400, "validation_error", {"query"})


def test_removal_answers_the_installation_it_closed(api):
    # install at T, remove at T, install again at T: the removal must name the new one.
    b = new_bike(api)
    p = new_part(api)
    t = ts(-DAY)
    first = install(api, b, p, at=t)
    remove(api, b, p, at=t)
    second = install(api, b, p, at=t)
    closed = remove(api, b, p, at=t)
    assert closed["id"] == second["id"] != first["id"]


def test_first_request_after_backends_are_killed_succeeds(db, api):
    # The server closing the workers' idle connections (restart, failover) must cost no
    # request a 503: the worker notices before sending.
    b = new_bike(api)
    for _ in range(3):
        assert_status(api.get(f"/api/bikes/{b['id']}"), 200)
    db.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
             " WHERE application_name = 'vehicle-worker'")
    time.sleep(0.3)
    for _ in range(12):
        assert_status(api.get(f"/api/bikes/{b['id']}"), 200)
