"""Idempotency-Key replays: the first answer verbatim, marked as a replay, whatever happened to
the ride since (api-notes: an idempotent retry changes nothing)."""
from flows import bike_km, install, new_bike, new_part, part_km
from support import assert_status

HDR = "Idempotent-Replayed"


def _k(b):
    return f"/api/bikes/{b['id']}/kilometrage"


def test_a_first_answer_is_not_marked_and_a_replay_is(api):
    b = new_bike(api)
    key = {"Idempotency-Key": "mark-1"}
    first = api.post(_k(b), json={"distance": 3}, headers=key)
    assert_status(first, 201)
    assert HDR not in first.headers
    again = api.post(_k(b), json={"distance": 3}, headers=key)
    assert assert_status(again, 201) == first.json()
    assert again.headers.get(HDR) == "true"
    # A request without a key is never a replay.
    plain = api.post(_k(b), json={"distance": 3})
    assert_status(plain, 201)
    assert HDR not in plain.headers


def test_replay_after_the_ride_was_deleted_is_the_first_answer_and_changes_nothing(api):
    b = new_bike(api)
    p = new_part(api)
    install(api, b, p)
    key = {"Idempotency-Key": "deleted-later"}
    first = assert_status(api.post(_k(b), json={"distance": 12.5}, headers=key), 201)
    log_id = first["log"]["id"]
    assert_status(api.delete(f"{_k(b)}/{log_id}"), 200)
    assert bike_km(api, b) == 0 and part_km(api, p) == 0
    again = api.post(_k(b), json={"distance": 12.5}, headers=key)
    assert assert_status(again, 201) == first
    assert again.headers.get(HDR) == "true"
    # Nothing was logged or credited again: the deletion stands.
    assert bike_km(api, b) == 0 and part_km(api, p) == 0
    assert assert_status(api.get(_k(b)), 200)["total"] == 0
