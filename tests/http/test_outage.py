"""Database outage: stop the cluster, the service answers 503 fast; start it, the service
recovers on its own (no restart of workers or nginx).

Needs PG_CTL (a command prefix, e.g. "runuser -u postgres -- pg_ctl -D DIR"), used as
`$PG_CTL stop -m fast` and `$PG_CTL start -w $PG_START_OPTS`. Skipped when PG_CTL is unset.
"""
import os
import subprocess
import time

import pytest

from support import assert_error, assert_status, describe, json_body

PG_CTL = os.environ.get("PG_CTL", "").strip()
PG_START_OPTS = os.environ.get("PG_START_OPTS", "").strip()

pytestmark = [pytest.mark.outage,
              pytest.mark.skipif(not PG_CTL, reason="PG_CTL is not set: cannot stop the database")]

# Enough requests that every worker of a small pool meets the outage (and the recovery).
PROBES = 8
# Behind a transaction pooler (POOL_MODE=transaction: the workers connect to pgbouncer, which
# stays up) no worker's connection closes when the cluster stops, so a worker learns of the
# outage only when it next asks: readiness answers from its last check for up to
# HEALTH_READY_INTERVAL_MS (include/health.h) first.
POOLED = os.environ.get("POOL_MODE") == "transaction"
READY_INTERVAL_S = 1.0


def _pg(args, timeout=60):
    r = subprocess.run(f"{PG_CTL} {args}", shell=True, capture_output=True, text=True, timeout=timeout)
    return r


def _start():
    r = _pg(f"start -w {PG_START_OPTS}".strip())
    return r


def test_database_outage_and_recovery(user, api, anon_api, create_bike):
    bike = create_bike(api, name="Outage")
    assert_status(anon_api.get("/health/ready"), 200)

    stop = _pg("stop -m fast")
    assert stop.returncode == 0, f"pg_ctl stop failed: {stop.stdout} {stop.stderr}"
    if POOLED:
        time.sleep(READY_INTERVAL_S + 0.2)
    try:
        for _ in range(PROBES):
            t0 = time.monotonic()
            r = anon_api.get("/health/ready", timeout=10)
            assert_error(r, 503, "unavailable")
            assert time.monotonic() - t0 < 10
        for _ in range(PROBES):
            r = api.get(f"/api/bikes/{bike['id']}", timeout=10)
            assert_error(r, 503, "unavailable")
        r = api.get("/api/bikes", timeout=10)
        assert_error(r, 503, "unavailable")
        r = api.post("/api/bikes", json={"name": "During outage", "type": "road"}, timeout=10)
        assert_error(r, 503, "unavailable")
        # Liveness never touches the database.
        r = anon_api.get("/health", timeout=10)
        assert assert_status(r, 200) == {"status": "ok"}
        # Token checks need no database either.
        assert_error(anon_api.get("/api/bikes", timeout=10), 401, "unauthorized")
    finally:
        start = _start()
    assert start.returncode == 0, f"pg_ctl start failed: {start.stdout} {start.stderr}"

    # Wait (up to ~10 s) for the service to see the database again.
    deadline = time.monotonic() + 10
    while True:
        r = anon_api.get("/health/ready", timeout=10)
        if r.status_code == 200 or time.monotonic() > deadline:
            break
        assert r.status_code == 503, f"while the database comes back: {describe(r)}"
        json_body(r)
        time.sleep(0.2)
    assert_status(r, 200)

    # Once ready, the very next bike request succeeds, and so does every one after it
    # (whichever worker takes it).
    for i in range(PROBES):
        r = api.get(f"/api/bikes/{bike['id']}", timeout=10)
        assert r.status_code == 200, f"request {i + 1} after recovery: {describe(r)}"
        assert r.json()["id"] == bike["id"]
    for i in range(PROBES // 2):
        r = api.post("/api/bikes", json={"name": f"After outage {i}", "type": "road"}, timeout=10)
        assert r.status_code == 201, f"write {i + 1} after recovery: {describe(r)}"
    for i in range(PROBES):
        assert_status(anon_api.get("/health/ready", timeout=10), 200)


# ---- connections closed by the server ---------------------------------------------------

def test_first_request_after_backends_are_killed_succeeds(db, api, create_bike):
    # The server closing the workers' idle connections (restart, failover) must cost no
    # request a 503: the worker notices before sending.
    b = create_bike(api)
    for _ in range(3):
        assert_status(api.get(f"/api/bikes/{b['id']}"), 200)
    db.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
             " WHERE application_name = 'vehicle-worker'")
    time.sleep(0.3)
    for _ in range(12):
        assert_status(api.get(f"/api/bikes/{b['id']}"), 200)
