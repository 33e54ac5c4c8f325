"""What a review of issue 13 found, each pinned: two batches that log the same external_ids in
opposite orders (they deadlocked: one was refused whole), a bad number or a U+0000 in one ride
of a batch (it refused the whole batch), an Idempotency-Key replaying a "ride already logged"
answer (it answered 201), timestamps a direct SQL caller could give (-infinity broke the bike's
history for its next owner), and deleting a maintenance record that also names another user's
part (it went from their history too)."""
import json

import pytest

from flows import DAY, maint, new_bike, new_part, install, ride, run_parallel, ts
from flows import check_consistency, check_invariant  # noqa: F401 (fixtures)
from support import assert_error, assert_status
from test_sql_kilometrage import AsUser

pytestmark = pytest.mark.usefixtures("check_invariant", "check_consistency")

BATCH = "/api/rides/batch"


def _batch_of(bike, ids):
    return {"rides": [{"bike_id": bike["id"], "distance": 1, "source": "dl", "external_id": i}
                      for i in ids]}


def test_two_batches_with_the_same_ids_in_opposite_orders_both_answer_each_ride(api):
    x, y = new_bike(api), new_bike(api)
    ids = [f"r{i}" for i in range(60)]
    for _ in range(3):
        a, b = run_parallel([lambda: api.post(BATCH, json=_batch_of(x, ids), timeout=60),
                             lambda: api.post(BATCH, json=_batch_of(y, ids[::-1]), timeout=60)])
        statuses = []
        for r in (a, b):
            body = assert_status(r, 200)
            statuses.append([res["status"] for res in body["results"]])
        # Each id was logged once, on one of the two bikes; the other batch got a 409 for it.
        created = sum(s.count("created") for s in statuses)
        assert created == 60, statuses
        ids = [f"{i}-again" for i in ids]
    total = sum(assert_status(api.get(f"/api/bikes/{b['id']}"), 200)["total_kilometrage"]
                for b in (x, y))
    assert total == 180


def test_a_huge_number_or_a_nul_in_one_ride_is_that_rides_error(api):
    bike = new_bike(api)
    body = ('{"rides": ['
            '{"bike_id": "%s", "distance": 1e308, "source": "g", "external_id": "n1"},'
            '{"bike_id": "%s", "distance": 2, "source": "g", "external_id": "n2"},'
            '{"bike_id": "%s", "distance": 2, "moving_time_s": 123456789012345678901234567890123456789012345,'
            ' "source": "g", "external_id": "n3"},'
            '{"bike_id": "%s", "distance": 2, "notes": "a\\u0000b", "source": "g", "external_id": "n4"}'
            ']}') % ((bike["id"],) * 4)
    r = api.post(BATCH, data=body, headers={"Content-Type": "application/json"})
    res = assert_status(r, 200)["results"]
    assert [x["status"] for x in res] == ["error", "created", "error", "error"], res
    assert set(res[0]["error"]["details"]) == {"distance"}
    assert set(res[2]["error"]["details"]) == {"moving_time_s"}
    assert set(res[3]["error"]["details"]) == {"notes"}
    assert assert_status(api.get(f"/api/bikes/{bike['id']}"), 200)["total_kilometrage"] == 2
    # A U+0000 outside the rides is still the whole request's 400.
    r = api.post(BATCH, data='{"unit": "k\\u0000m", "rides": []}',
                 headers={"Content-Type": "application/json"})
    assert_error(r, 400, "validation_error")
    # The single-ride route keeps refusing such a body whole.
    r = api.post(f"/api/bikes/{bike['id']}/kilometrage", data='{"distance": 1e308}',
                 headers={"Content-Type": "application/json"})
    assert_error(r, 400, "validation_error")


def test_a_key_replays_the_status_of_its_first_answer(api):
    bike = new_bike(api)
    body = {"distance": 3, "source": "k", "external_id": "k-1"}
    assert api.post(f"/api/bikes/{bike['id']}/kilometrage", json=body).status_code == 201
    first = api.post(f"/api/bikes/{bike['id']}/kilometrage", json=body,
                     headers={"Idempotency-Key": "replay-200"})
    assert first.status_code == 200, first.text
    again = api.post(f"/api/bikes/{bike['id']}/kilometrage", json=body,
                     headers={"Idempotency-Key": "replay-200"})
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    # A key whose first answer created the ride still replays 201.
    new = {"distance": 4, "source": "k", "external_id": "k-2"}
    one = api.post(f"/api/bikes/{bike['id']}/kilometrage", json=new, headers={"Idempotency-Key": "k201"})
    two = api.post(f"/api/bikes/{bike['id']}/kilometrage", json=new, headers={"Idempotency-Key": "k201"})
    assert (one.status_code, two.status_code) == (201, 201)
    assert assert_status(api.get(f"/api/bikes/{bike['id']}"), 200)["total_kilometrage"] == 7


@pytest.mark.parametrize("at", ["-infinity", "infinity", "epoch", "yesterday", "1900-01-01",
                                "2024-01-01 10:00:00", "2024-02-30T10:00:00Z", "2024-01-01T24:00:00Z"])
def test_sql_callers_get_rfc_3339_timestamps_only(user, api, at):
    bike = new_bike(api)
    a = AsUser(user)
    try:
        code, field = a.error("SELECT vehicles.ride_log(gen_random_uuid(), %s, %s::jsonb, NULL, NULL)",
                              (bike["id"], json.dumps({"distance": 1, "logged_at": at})))
        assert (code, field) == ("VS400", "logged_at")
        log = ride(api, bike, 1)["log"]["id"]
        code, field = a.error("SELECT vehicles.ride_update(%s, %s, %s::jsonb)",
                              (bike["id"], log, json.dumps({"logged_at": at})))
        assert (code, field) == ("VS400", "logged_at")
        (res,), = a.run("SELECT vehicles.ride_batch(%s::jsonb)", (json.dumps(
            [{"bike_id": bike["id"], "ride": {"distance": 1, "logged_at": at, "source": "s",
                                              "external_id": "e"}}]),))
        assert res[0]["status"] == "error" and set(res[0]["error"]["details"]) == {"logged_at"}
    finally:
        a.close()
    assert assert_status(api.get(f"/api/bikes/{bike['id']}/kilometrage"), 200)["total"] == 1


def test_sql_callers_may_send_whole_numbers_written_with_a_point(user, api):
    bike = new_bike(api)
    a = AsUser(user)
    try:
        (res,), = a.run("SELECT vehicles.ride_log(gen_random_uuid(), %s, %s::jsonb, NULL, NULL)",
                        (bike["id"], '{"distance": 1, "moving_time_s": 60.0}'))
        assert res["body"]["log"]["moving_time_s"] == 60
        (res,), = a.run("SELECT vehicles.ride_batch(%s::jsonb)", (json.dumps(
            [{"index": "abc", "bike_id": bike["id"], "ride": {"distance": 1, "moving_time_s": 60.0,
                                                              "source": "s", "external_id": "e"}}]),))
        assert res[0]["index"] == 0 and res[0]["status"] == "created", res
    finally:
        a.close()


def test_deleting_a_record_that_names_another_users_part_keeps_it_for_them(api, other, other_api):
    bike, part = new_bike(api), new_part(api)
    install(api, bike, part, at=ts(-3 * DAY))
    ivl = assert_status(api.post(f"/api/parts/{part['id']}/intervals",
                                 json={"task": "Lube chain", "every_days": 30}), 201)
    rec = maint(api, "bike", bike, part_id=part["id"], interval_id=ivl["id"],
                performed_at=ts(-2 * DAY))
    assert_status(api.post(f"/api/parts/{part['id']}/transfer",
                           json={"new_owner_email": other.email}), 200)
    # The part and its interval are theirs now; the record is in both histories.
    assert [m["id"] for m in assert_status(
        other_api.get(f"/api/parts/{part['id']}/maintenance"), 200)] == [rec["id"]]
    since = assert_status(other_api.get(f"/api/parts/{part['id']}/intervals"), 200)[0]["status"]["since"]
    assert since == rec["performed_at"]
    # The bike's owner deletes it: it leaves the bike's history only.
    assert assert_status(api.delete(f"/api/maintenance/{rec['id']}"), 200) == {"success": True,
                                                                              "id": rec["id"]}
    assert assert_status(api.get(f"/api/bikes/{bike['id']}/maintenance"), 200) == []
    theirs = assert_status(other_api.get(f"/api/parts/{part['id']}/maintenance"), 200)
    assert [(m["id"], m["bike_id"], m["interval_id"]) for m in theirs] == [(rec["id"], None, ivl["id"])]
    after = assert_status(other_api.get(f"/api/parts/{part['id']}/intervals"), 200)[0]["status"]
    assert after["since"] == since
    # The bike's owner cannot reach it any more; the part's owner can delete it for good.
    assert_error(api.delete(f"/api/maintenance/{rec['id']}"), 403, "forbidden")
    assert_status(other_api.delete(f"/api/maintenance/{rec['id']}"), 200)
    assert_error(other_api.delete(f"/api/maintenance/{rec['id']}"), 404, "not_found")
