"""Races, each repeated over many rounds with parallel clients: the database must end
consistent (one open installation per part at most, no part on another owner's bike, no
installation left open on a deleted bike, the kilometrage invariant), never a 500.

With BASE_URL_B set (scripts/test's second stack: its own nginx and workers on the same
PostgreSQL), the clients alternate between the two instances, so every race is also one
between two instances of a fleet.
"""
import os
import random

import pytest

from flows import (HOUR, MIN, Api, bike_km, install, new_bike, new_part,
                   open_installations, part_km, remove, run_parallel, ts)
from flows import check_invariant, check_consistency  # noqa: F401 (fixtures)
from support import BASE_URL, assert_status, describe, parse_ts

# The instances the clients are spread over, in turn.
INSTANCES = [BASE_URL] + ([os.environ["BASE_URL_B"].rstrip("/")] if os.environ.get("BASE_URL_B") else [])

pytestmark = pytest.mark.usefixtures("check_invariant", "check_consistency")

GENERIC_CONFLICT = "Operation conflicts with current state"


@pytest.fixture
def clients(user):
    """Several independent connections with the user's token, spread over the instances."""
    made = [Api(user.token, base_url=INSTANCES[i % len(INSTANCES)]) for i in range(4)]
    yield made
    for c in made:
        c.close()


def _statuses(res):
    return sorted(r.status_code for r in res)


def _no_5xx(res):
    for r in res:
        assert r.status_code < 500, describe(r)
        assert "deadlock" not in r.text.lower(), describe(r)


def _install(c, bike, part, **body):
    return lambda: c.post(f"/api/bikes/{bike['id']}/parts/{part['id']}/install", json=body)


def _remove(c, bike, part, **body):
    return lambda: c.post(f"/api/bikes/{bike['id']}/parts/{part['id']}/remove", json=body)


def test_the_instances_are_distinct_and_share_one_database(db, api):
    # What the spreading relies on: with two instances, each is its own nginx and pool
    # (different addresses), and a bike made through one is read through the other.
    assert len(set(INSTANCES)) == len(INSTANCES)
    b = new_bike(api)
    for base in INSTANCES:
        c = Api(api.token, base_url=base)
        try:
            assert assert_status(c.get(f"/api/bikes/{b['id']}"), 200)["id"] == b["id"]
        finally:
            c.close()


def test_parallel_rides_on_one_bike_sum_exactly(api):
    b = new_bike(api, initial_kilometrage=1)
    parts = [new_part(api, name=f"P{i}") for i in range(2)]
    for p in parts:
        install(api, b, p, at=ts(-1 * HOUR))
    many = [Api(api.token, base_url=INSTANCES[i % len(INSTANCES)]) for i in range(8)]
    try:
        res = run_parallel([lambda i=i: many[i % 8].post(f"/api/bikes/{b['id']}/kilometrage",
                                                       json={"distance": 0.7 + i % 3})
                            for i in range(40)])
    finally:
        for c in many:
            c.close()
    _no_5xx(res)
    assert [r.status_code for r in res] == [201] * 40, [describe(r) for r in res if r.status_code != 201][:3]
    want = round(sum(0.7 + i % 3 for i in range(40)), 3)
    assert bike_km(api, b) == round(1 + want, 3)
    for p in parts:
        assert part_km(api, p) == want
    assert assert_status(api.get(f"/api/bikes/{b['id']}/kilometrage"), 200)["total"] == 40


def test_two_installs_of_one_part_on_the_same_bike(db, api, clients):
    b = new_bike(api)
    for _ in range(15):
        p = new_part(api)
        res = run_parallel([_install(clients[0], b, p), _install(clients[1], b, p)])
        _no_5xx(res)
        assert _statuses(res) == [201, 409], [describe(r) for r in res]
        assert len(open_installations(db, p["id"])) == 1


def test_two_installs_of_one_part_on_different_bikes(db, api, clients):
    x = new_bike(api, name="X")
    y = new_bike(api, name="Y")
    for _ in range(15):
        p = new_part(api)
        res = run_parallel([_install(clients[0], x, p), _install(clients[1], y, p)])
        _no_5xx(res)
        assert _statuses(res) == [201, 409], [describe(r) for r in res]
        won = res[0] if res[0].status_code == 201 else res[1]
        opened = open_installations(db, p["id"])
        assert len(opened) == 1 and str(opened[0][1]) == won.json()["bike_id"]


def test_install_racing_part_delete(db, api, clients):
    b = new_bike(api)
    for _ in range(12):
        p = new_part(api)
        res = run_parallel([_install(clients[0], b, p),
                            lambda p=p: clients[1].delete(f"/api/parts/{p['id']}")])
        _no_5xx(res)
        assert res[0].status_code in (201, 404), describe(res[0])
        assert res[1].status_code == 200, describe(res[1])
        assert db.query("SELECT count(*) FROM vehicles.part_installation WHERE part_id = %s",
                        (p["id"],)) == [(0,)]
        assert db.query("SELECT count(*) FROM vehicles.user_part WHERE id = %s", (p["id"],)) == [(0,)]
    assert assert_status(api.get(f"/api/bikes/{b['id']}/parts"), 200) == []


def test_install_racing_bike_delete(db, api, clients):
    for _ in range(12):
        b = new_bike(api)
        p = new_part(api)
        res = run_parallel([_install(clients[0], b, p),
                            lambda b=b: clients[1].delete(f"/api/bikes/{b['id']}")])
        _no_5xx(res)
        assert res[0].status_code in (201, 404), describe(res[0])
        assert res[1].status_code == 200, describe(res[1])
        assert open_installations(db, p["id"]) == []
        got = assert_status(api.get(f"/api/parts/{p['id']}"), 200)
        assert got["current_bike_id"] is None
        assert len(got["installations"]) == (1 if res[0].status_code == 201 else 0)


def test_ride_racing_a_removal(api, clients):
    for _ in range(15):
        b = new_bike(api)
        p = new_part(api)
        install(api, b, p, at=ts(-1 * HOUR))
        res = run_parallel([lambda b=b: clients[0].post(f"/api/bikes/{b['id']}/kilometrage",
                                                       json={"distance": 1}),
                            _remove(clients[1], b, p)])
        _no_5xx(res)
        log = assert_status(res[0], 201)["log"]
        closed = assert_status(res[1], 200)
        credited = parse_ts(log["logged_at"]) < parse_ts(closed["removed_at"])
        assert part_km(api, p) == (1 if credited else 0), (log, closed)


def test_ride_racing_an_install(api, clients):
    for _ in range(15):
        b = new_bike(api)
        p = new_part(api)
        res = run_parallel([lambda b=b: clients[0].post(f"/api/bikes/{b['id']}/kilometrage",
                                                       json={"distance": 1}),
                            _install(clients[1], b, p)])
        _no_5xx(res)
        log = assert_status(res[0], 201)["log"]
        inst = assert_status(res[1], 201)
        credited = parse_ts(inst["installed_at"]) <= parse_ts(log["logged_at"])
        assert part_km(api, p) == (1 if credited else 0), (log, inst)


def test_moving_a_part_while_another_client_removes_it(api, clients):
    # One client takes the part off bike X while another fits it to bike Y (no installed_at
    # given): the install either waits for the removal and succeeds, or finds it still on
    # X (409). It must never complain about an installed_at it was not sent.
    x = new_bike(api, name="X")
    y = new_bike(api, name="Y")
    bad = []
    for _ in range(40):
        p = new_part(api)
        install(api, x, p, at=ts(-1 * HOUR))
        res = run_parallel([_remove(clients[0], x, p), _install(clients[1], y, p)])
        _no_5xx(res)
        assert res[0].status_code == 200, describe(res[0])
        if res[1].status_code not in (201, 409):
            bad.append(describe(res[1]))
        if res[1].status_code == 201:
            remove(api, y, p)
    assert not bad, f"{len(bad)} of 40 installs failed: {bad[0]}"


def test_transfer_racing_a_ride_an_install_and_a_second_transfer(db, make_user, user, api, clients):
    b_user = make_user(tag="b")
    c_user = make_user(tag="c")
    for _ in range(10):
        b = new_bike(api)
        on = [new_part(api, name=f"on{i}") for i in range(2)]
        for p in on:
            install(api, b, p, at=ts(-1 * HOUR))
        loose = new_part(api, name="loose")
        res = run_parallel([
            lambda b=b: clients[0].post(f"/api/bikes/{b['id']}/transfer",
                                        json={"new_owner_email": b_user.email}),
            lambda b=b: clients[1].post(f"/api/bikes/{b['id']}/transfer",
                                        json={"new_owner_email": c_user.email}),
            lambda b=b: clients[2].post(f"/api/bikes/{b['id']}/kilometrage", json={"distance": 2}),
            _install(clients[3], b, loose),
        ])
        _no_5xx(res)
        assert sorted(r.status_code for r in res[:2]) == [200, 403], [describe(r) for r in res[:2]]
        assert res[2].status_code in (201, 403), describe(res[2])
        assert res[3].status_code in (201, 403), describe(res[3])
        (owner,), = db.query("SELECT user_id::text FROM vehicles.user_bike WHERE id = %s", (b["id"],))
        assert owner in (b_user.id, c_user.id)
        won = res[0] if res[0].status_code == 200 else res[1]
        moved = 2 + (1 if res[3].status_code == 201 else 0)
        assert won.json()["transferred_parts_count"] == moved, describe(won)
        ids = [p["id"] for p in on] + ([loose["id"]] if res[3].status_code == 201 else [])
        owners = db.query("SELECT user_id::text FROM vehicles.user_part WHERE id = ANY(%s::uuid[])", (ids,))
        assert {o for (o,) in owners} == {owner}
        assert db.query("SELECT count(*) FROM vehicles.ownership_history WHERE entity_id = ANY(%s::uuid[])",
                        (ids + [b["id"]],)) == [(moved + 1,)]
        (km,), = db.query("SELECT total_kilometrage FROM vehicles.user_bike WHERE id = %s", (b["id"],))
        assert float(km) == (2 if res[2].status_code == 201 else 0)


def test_mixed_load_has_no_deadlocks(make_user):
    users = [make_user(tag=f"m{i}") for i in range(3)]
    world = []
    for u in users:
        bikes = [new_bike(u.api, name=f"b{i}") for i in range(2)]
        parts = [new_part(u.api, name=f"p{i}") for i in range(4)]
        world.append((u, bikes, parts))

    def worker(seed):
        r = random.Random(seed)
        u, bikes, parts = world[seed % len(world)]
        c = Api(u.token, base_url=INSTANCES[seed % len(INSTANCES)])
        out = []
        try:
            for _ in range(25):
                b, p = r.choice(bikes), r.choice(parts)
                op = r.choice(["install", "remove", "ride", "ride_back", "unride", "stats", "get",
                               "maint", "patch"])
                if op == "install":
                    resp = c.post(f"/api/bikes/{b['id']}/parts/{p['id']}/install")
                elif op == "remove":
                    resp = c.post(f"/api/bikes/{b['id']}/parts/{p['id']}/remove")
                elif op == "ride":
                    resp = c.post(f"/api/bikes/{b['id']}/kilometrage", json={"distance": r.randint(1, 9)})
                elif op == "ride_back":
                    resp = c.post(f"/api/bikes/{b['id']}/kilometrage",
                                  json={"distance": 1.5, "logged_at": ts(-r.randint(1, 120) * MIN)})
                elif op == "unride":
                    h = c.get(f"/api/bikes/{b['id']}/kilometrage", params={"limit": 3})
                    items = h.json()["items"] if h.status_code == 200 else []
                    resp = c.delete(f"/api/bikes/{b['id']}/kilometrage/{items[-1]['id']}") if items else h
                elif op == "stats":
                    resp = c.get(f"/api/parts/{p['id']}/stats")
                elif op == "get":
                    resp = c.get(f"/api/bikes/{b['id']}")
                elif op == "maint":
                    resp = c.post(f"/api/bikes/{b['id']}/maintenance",
                                  json={"maintenance_type": "cleaning", "description": "x",
                                        "part_id": p["id"]})
                else:
                    resp = c.patch(f"/api/parts/{p['id']}", json={"metadata": {"n": r.randint(0, 99)}})
                out.append((op, resp))
        finally:
            c.close()
        return out

    results = run_parallel([lambda s=s: worker(s) for s in range(9)], timeout=60)
    for out in results:
        for op, resp in out:
            assert resp.status_code < 500, f"{op}: {describe(resp)}"
            assert "deadlock" not in resp.text.lower(), f"{op}: {describe(resp)}"
            if resp.status_code == 409:
                assert op in ("install", "remove"), f"{op}: {describe(resp)}"
                assert resp.json()["message"] != GENERIC_CONFLICT, \
                    f"{op}: a database conflict (deadlock/serialisation) reached the client: {describe(resp)}"
            else:
                # 404: a ride another worker deleted first.
                assert resp.status_code in (200, 201) or (resp.status_code == 404 and op == "unride"), \
                    f"{op}: {describe(resp)}"
