"""A slow database costs a bounded wait: a request that waits on a lock longer than the
service's lock timeout answers 503 unavailable with Retry-After, leaves no transaction open,
and the next request is served normally."""
import threading
import time

import psycopg2

import support
from flows import bike_km, new_bike
from support import assert_error, assert_status


def _hold_bike_lock(bike_id, seconds, ready):
    conn = psycopg2.connect(support.DATABASE_URL, connect_timeout=5)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM vehicles.user_bike WHERE id = %s FOR UPDATE", (bike_id,))
            ready.set()
            time.sleep(seconds)
        conn.rollback()
    finally:
        conn.close()


def test_a_lock_wait_past_the_bound_is_503_with_retry_after(api, db):
    b = new_bike(api)
    ready = threading.Event()
    t = threading.Thread(target=_hold_bike_lock, args=(b["id"], 8, ready))
    t.start()
    try:
        assert ready.wait(5)
        started = time.monotonic()
        r = api.post(f"/api/bikes/{b['id']}/kilometrage", json={"distance": 5}, timeout=20)
        waited = time.monotonic() - started
        assert_error(r, 503, "unavailable")
        assert r.headers.get("Retry-After", "").isdigit(), r.headers
        assert waited < 7.5, f"waited {waited:.1f}s: the lock timeout did not bound it"
    finally:
        t.join(15)
    # Nothing of the refused ride stayed, no worker sits in a transaction, and the same
    # request now succeeds.
    assert bike_km(api, b) == 0
    rows = db.query("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'vehicle-worker'"
                    " AND state LIKE 'idle in transaction%%'")
    assert rows[0][0] == 0
    assert_status(api.post(f"/api/bikes/{b['id']}/kilometrage", json={"distance": 5}), 201)
    assert bike_km(api, b) == 5
