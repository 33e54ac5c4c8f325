"""Transaction pooling (issue 12): with the workers behind pgbouncer in transaction mode
(DATABASE_POOL_MODE=transaction), nothing of a request outlives its transaction on the server
sessions the pool hands around: no named prepared statement (pgbouncer 1.18 and Supabase's
port 6543 cannot keep one on the session that prepared it), no setting, advisory lock or
LISTEN. Runs when POOL_DATABASE_URL (the workers' DATABASE_URL, through the pooler) and
POOL_SIZE (its server connections) are set: scripts/test's second run, scripts/lib/pgbouncer.sh.

It looks at every server connection of the pool: POOL_SIZE clients through the pooler, each
holding a transaction open, get POOL_SIZE distinct server sessions, which are all the pool has
(reserve_pool_size 0). Workers in session mode behind the same pooler leave their statements
there, and this test fails (POOLED=session in scripts/.privstack-pool).
"""
import os

import psycopg2
import pytest

from flows import install, new_bike, new_part
from support import assert_status

POOL_DATABASE_URL = os.environ.get("POOL_DATABASE_URL", "")
POOL_SIZE = int(os.environ.get("POOL_SIZE", "0") or 0)

pytestmark = pytest.mark.skipif(not (POOL_DATABASE_URL and POOL_SIZE),
                                reason="needs POOL_DATABASE_URL and POOL_SIZE (workers behind pgbouncer)")

# What a server session carries over from the requests it served: every row should be empty.
PROBE = """
SELECT pg_backend_pid(),
       (SELECT coalesce(array_agg(name ORDER BY name), '{}') FROM pg_prepared_statements),
       current_setting('statement_timeout'),
       current_setting('lock_timeout'),
       current_setting('client_connection_check_interval'),
       coalesce(current_setting('request.jwt.claim.sub', true), ''),
       coalesce(current_setting('request.jwt.claims', true), ''),
       current_user::text,
       (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()),
       (SELECT count(*) FROM pg_listening_channels()),
       (SELECT count(*) FROM pg_class WHERE relpersistence = 't')
"""


def _work(api, rounds):
    """Requests that run most kinds of statement, on every worker (more rounds than workers):
    the answers' (request, status, expected) that were not as expected, checked after the
    sessions were (a failure there says more)."""
    bike = new_bike(api)
    part = new_part(api)
    install(api, bike, part)
    b, p = f"/api/bikes/{bike['id']}", f"/api/parts/{part['id']}"
    wrong = []
    for _ in range(rounds):
        for method, path, body, want in (("POST", f"{b}/kilometrage", {"distance": 1.5}, 201),
                                         ("GET", b, None, 200), ("GET", "/api/bikes", None, 200),
                                         ("GET", p, None, 200), ("GET", f"{b}/kilometrage", None, 200),
                                         ("GET", "/health/ready", None, 200)):
            got = api.request(method, path, json=body).status_code
            if got != want:
                wrong.append((method, path, got, want))
    return bike, wrong


def _probe_every_server():
    """One row of PROBE per server connection of the pool, all held at once."""
    conns = []
    try:
        for _ in range(POOL_SIZE):
            c = psycopg2.connect(POOL_DATABASE_URL, connect_timeout=5)
            conns.append(c)
        rows = []
        for c in conns:
            cur = c.cursor()  # psycopg2 opens a transaction: the server stays this client's
            cur.execute(PROBE)
            rows.append(cur.fetchone())
        return rows
    finally:
        for c in conns:
            try:
                c.rollback()
                c.close()
            except psycopg2.Error:
                pass


def test_pooled_sessions_keep_nothing_of_the_requests(api, db):
    bike, wrong = _work(api, rounds=12)
    # The workers' connections all end in the pool: none of them is direct.
    worker_pids = {r[0] for r in db.query(
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'vehicle-worker'")}
    rows = _probe_every_server()
    pids = {r[0] for r in rows}
    assert len(pids) == POOL_SIZE, f"expected {POOL_SIZE} distinct server sessions, got {rows}"
    assert worker_pids <= pids, (
        f"workers' backends {sorted(worker_pids - pids)} are not the pool's: DATABASE_URL direct?")
    for pid, prepared, st_to, lock_to, check, sub, claims, who, adv, listen, temp in rows:
        assert prepared == [], f"server session {pid} holds named prepared statements {prepared}"
        assert (st_to, lock_to, check) == ("0", "0", "0"), \
            f"session {pid}: timeouts leaked ({st_to}, {lock_to}, {check})"
        assert (sub, claims) == ("", ""), f"session {pid}: claims leaked ({sub!r}, {claims!r})"
        assert who == "postgres", f"session {pid}: role leaked ({who})"
        assert (adv, listen, temp) == (0, 0, 0), f"session {pid}: advisory locks/LISTEN/temp tables"
    assert not wrong, f"unexpected answers: {wrong[:10]}"
    assert assert_status(api.get(f"/api/bikes/{bike['id']}"), 200)["total_kilometrage"] == 18


def test_workers_use_the_pool_in_transaction_mode():
    """The pooler really is in transaction mode (its admin console), so the run above proves
    something about transaction pooling, not a session pool."""
    admin = os.environ.get("POOL_ADMIN_URL")
    if not admin:
        pytest.skip("needs POOL_ADMIN_URL")
    c = psycopg2.connect(admin, connect_timeout=5)
    c.autocommit = True  # the admin console takes no transactions
    try:
        cur = c.cursor()
        cur.execute("SHOW POOLS")
        cols = [d[0] for d in cur.description]
        pools = [dict(zip(cols, r)) for r in cur.fetchall()]
    finally:
        c.close()
    ours = [p for p in pools if p["database"] == "vehicles"]
    assert ours and all(p["pool_mode"] == "transaction" for p in ours), pools
