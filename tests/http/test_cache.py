"""The list cache (include/list_cache.h, sql/functions/85_cache.sql) against the real
redis-server scripts/test starts (scripts/lib/redis.sh: REDIS_SOCKET, REDIS_PIDFILE,
REDIS_START).

The lists answered from Redis are proved so by overwriting what Redis holds: a list "primed"
here has its stored body replaced by a marker of the same generation, and the next read must
show the marker (so it came from Redis). After a write, no list may show the marker any more:
the database gave the user a new generation in the writing transaction, whoever wrote.
"""
import os
import re
import signal
import subprocess
import threading
import time

import psycopg2
import pytest

import flows
from flows import install, new_bike, new_part, remove, ride
from support import assert_status, describe

REDIS_SOCKET = os.environ.get("REDIS_SOCKET", "")
REDIS_PIDFILE = os.environ.get("REDIS_PIDFILE", "")
REDIS_START = os.environ.get("REDIS_START", "")
WORKER_LOG = os.environ.get("WORKER_LOG", "")

pytestmark = pytest.mark.skipif(not REDIS_SOCKET, reason="needs the stack's Redis (REDIS_SOCKET)")

STALE = b'["stale"]'
BIKE_FORMS = [{}, {"include_parts": "true"}, {"unit": "mi"}, {"limit": 1}, {"offset": 1},
              {"include_parts": "false", "unit": "mi", "limit": 3}]
PART_FORMS = [{}, {"installed": "true"}, {"installed": "false"}, {"unit": "mi", "limit": 2}]


def rcli(*args, stdin=None):
    p = subprocess.run(["redis-cli", "-s", REDIS_SOCKET, *args], input=stdin,
                       capture_output=True, timeout=10)
    assert p.returncode == 0, p.stderr
    return p.stdout


def keys_of(uid):
    return sorted(k for k in rcli("--scan", "--pattern", f"vs:list:*:{uid}:*").decode().split()
                  if k)


def stored(key):
    """(generation, total, body) of a stored list."""
    assert rcli("EXISTS", key).strip() == b"1", key
    gen, total, body = rcli("GET", key).rstrip(b"\n").split(b"\n", 2)
    return gen, int(total), body


def put(key, value):
    rcli("-x", "SET", key, stdin=value)  # -x: the value (binary-safe) from stdin, last
    rcli("EXPIRE", key, "300")


def tamper(key, body=STALE, total=999):
    gen, _, _ = stored(key)
    put(key, gen + b"\n" + str(total).encode() + b"\n" + body)
    return gen


def hits():
    info = rcli("INFO", "stats").decode()
    return int(re.search(r"keyspace_hits:(\d+)", info).group(1))


def lists(api, kind, forms):
    out = []
    for params in forms:
        r = api.get(f"/api/{kind}", params=params or None)
        assert r.status_code == 200, describe(r)
        out.append(r)
    return out


def prime(api, uid, kind, forms):
    """Reads every form once (stored), marks what Redis holds, and checks each form now comes
    from Redis. Returns nothing: the lists are stale in Redis from here on."""
    lists(api, kind, forms)
    ks = [k for k in keys_of(uid) if k.split(":")[4] == kind[0]]
    assert len(ks) == len(forms), (ks, forms)
    for k in ks:
        tamper(k)
    for r in lists(api, kind, forms):
        assert r.content == STALE and r.headers["X-Total-Count"] == "999", describe(r)


def fresh(api, kind, forms):
    """Every form read again: none is the marker. Returns the bodies."""
    out = []
    for r in lists(api, kind, forms):
        assert r.content != STALE and r.headers["X-Total-Count"] != "999", describe(r)
        out.append(r.json())
    return out


def prime_all(api, uid):
    prime(api, uid, "bikes", BIKE_FORMS)
    prime(api, uid, "parts", PART_FORMS)


def fresh_all(api):
    return fresh(api, "bikes", BIKE_FORMS), fresh(api, "parts", PART_FORMS)


@pytest.fixture
def gear(user, api):
    """A user with two bikes, one carrying a part, and a loose part."""
    b1, b2 = new_bike(api, name="One"), new_bike(api, name="Two")
    p1, p2 = new_part(api, name="On one"), new_part(api, name="Loose", type="tires")
    install(api, b1, p1)
    return {"bikes": [b1, b2], "parts": [p1, p2]}


# ---- hits --------------------------------------------------------------------------------

def test_a_hit_is_the_miss_byte_for_byte(user, api, gear):
    for kind, forms in (("bikes", BIKE_FORMS), ("parts", PART_FORMS)):
        for params in forms:
            miss = api.get(f"/api/{kind}", params=params or None)
            before = hits()
            hit = api.get(f"/api/{kind}", params=params or None)
            assert hits() > before, f"{kind} {params}: not answered from Redis"
            assert hit.status_code == miss.status_code == 200, describe(hit)
            assert hit.content == miss.content, (kind, params)
            assert hit.headers["X-Total-Count"] == miss.headers["X-Total-Count"]
            assert hit.headers["Content-Type"] == miss.headers["Content-Type"]
    # one key per form and kind, each stored with the user's generation and the list's total
    ks = keys_of(user.id)
    assert len(ks) == len(BIKE_FORMS) + len(PART_FORMS), ks
    gens = {stored(k)[0] for k in ks}
    assert len(gens) == 1
    assert stored([k for k in ks if k.endswith(":b:km:50:0:0")][0])[1] == 2
    # HEAD: the same headers, no body
    r = api.request("HEAD", "/api/bikes")
    assert r.status_code == 200 and r.headers["X-Total-Count"] == "2" and not r.content


def test_a_user_without_a_generation_is_not_cached(user, api):
    assert assert_status(api.get("/api/bikes"), 200) == []
    assert keys_of(user.id) == []
    new_bike(api)
    assert len(assert_status(api.get("/api/bikes"), 200)) == 1
    assert len(keys_of(user.id)) == 1


# ---- every write is seen by the next read ------------------------------------------------

def test_bike_create_update_delete(user, api, gear):
    prime_all(api, user.id)
    b3 = new_bike(api, name="Three")
    bikes, _ = fresh_all(api)
    assert bikes[0][0]["id"] == b3["id"] and len(bikes[0]) == 3

    prime_all(api, user.id)
    assert_status(api.patch(f"/api/bikes/{b3['id']}", json={"name": "Renamed"}), 200)
    bikes, _ = fresh_all(api)
    assert bikes[0][0]["name"] == "Renamed"

    prime_all(api, user.id)
    assert_status(api.request("DELETE", f"/api/bikes/{gear['bikes'][0]['id']}"), 200)
    bikes, parts = fresh_all(api)
    assert gear["bikes"][0]["id"] not in [b["id"] for b in bikes[0]]
    # its part was removed from it
    assert all(p["current_bike_id"] is None for p in parts[0])


def test_part_create_update_delete(user, api, gear):
    prime_all(api, user.id)
    p3 = new_part(api, name="New chain")
    _, parts = fresh_all(api)
    assert parts[0][0]["id"] == p3["id"] and len(parts[0]) == 3

    prime_all(api, user.id)
    assert_status(api.patch(f"/api/parts/{gear['parts'][0]['id']}", json={"brand": "KMC"}), 200)
    bikes, parts = fresh_all(api)
    assert [p["brand"] for p in parts[0] if p["id"] == gear["parts"][0]["id"]] == ["KMC"]
    on = [b for b in bikes[1] if b["id"] == gear["bikes"][0]["id"]][0]
    assert on["parts"][0]["brand"] == "KMC"  # include_parts

    prime_all(api, user.id)
    assert_status(api.request("DELETE", f"/api/parts/{gear['parts'][0]['id']}"), 200)
    bikes, parts = fresh_all(api)
    assert gear["parts"][0]["id"] not in [p["id"] for p in parts[0]]
    assert all(b["parts"] == [] for b in bikes[1])


def test_rides_change_totals(user, api, gear):
    b1, p1 = gear["bikes"][0], gear["parts"][0]
    prime_all(api, user.id)
    log = ride(api, b1, 12.5)
    bikes, parts = fresh_all(api)
    assert [b["total_kilometrage"] for b in bikes[0] if b["id"] == b1["id"]] == [12.5]
    assert [p["total_kilometrage"] for p in parts[0] if p["id"] == p1["id"]] == [12.5]
    assert [b["parts"][0]["total_kilometrage"] for b in bikes[1] if b["id"] == b1["id"]] == [12.5]

    prime_all(api, user.id)
    assert_status(api.request("DELETE", f"/api/bikes/{b1['id']}/kilometrage/{log['log']['id']}"), 200)
    bikes, parts = fresh_all(api)
    assert [p["total_kilometrage"] for p in parts[0] if p["id"] == p1["id"]] == [0]


def test_install_and_remove(user, api, gear):
    b2, p2 = gear["bikes"][1], gear["parts"][1]
    prime_all(api, user.id)
    install(api, b2, p2)
    bikes, parts = fresh_all(api)
    assert {p["id"] for p in parts[1]} == {p["id"] for p in gear["parts"]}  # installed=true
    assert parts[2] == []                                                   # installed=false
    assert [b["parts"][0]["id"] for b in bikes[1] if b["id"] == b2["id"]] == [p2["id"]]

    prime_all(api, user.id)
    remove(api, b2, p2)
    bikes, parts = fresh_all(api)
    assert [p["id"] for p in parts[2]] == [p2["id"]]
    assert [b["parts"] for b in bikes[1] if b["id"] == b2["id"]] == [[]]


def test_set_active_and_deactivate(user, api, gear):
    b2 = gear["bikes"][1]
    prime_all(api, user.id)
    assert_status(api.post(f"/api/bikes/{b2['id']}/set-active"), 200)
    bikes, _ = fresh_all(api)
    assert [b["id"] for b in bikes[0] if b["is_active"]] == [b2["id"]]

    prime_all(api, user.id)
    assert_status(api.post(f"/api/bikes/{b2['id']}/deactivate"), 200)
    bikes, _ = fresh_all(api)
    assert not any(b["is_active"] for b in bikes[0])


def test_transfers_change_both_users_lists(user, other, api, other_api, gear):
    b1, p1, p2 = gear["bikes"][0], gear["parts"][0], gear["parts"][1]
    new_bike(other_api, name="Theirs")
    assert_status(api.post(f"/api/bikes/{b1['id']}/set-active"), 200)
    prime_all(api, user.id)
    prime_all(other_api, other.id)
    r = api.post(f"/api/bikes/{b1['id']}/transfer", json={"new_owner_email": other.email})
    assert_status(r, 200)
    mine, theirs = fresh_all(api), fresh_all(other_api)
    assert b1["id"] not in [b["id"] for b in mine[0][0]] and not any(b["is_active"] for b in mine[0][0])
    assert p1["id"] not in [p["id"] for p in mine[1][0]]
    assert b1["id"] in [b["id"] for b in theirs[0][0]] and p1["id"] in [p["id"] for p in theirs[1][0]]

    prime_all(api, user.id)
    prime_all(other_api, other.id)
    assert_status(api.post(f"/api/parts/{p2['id']}/transfer", json={"new_owner_email": other.email}), 200)
    mine, theirs = fresh_all(api), fresh_all(other_api)
    assert mine[1][0] == [] and p2["id"] in [p["id"] for p in theirs[1][0]]


def test_account_deletion(db, user, api, gear):
    prime_all(api, user.id)
    db.execute("DELETE FROM auth.users WHERE id = %s", (user.id,))
    bikes, parts = fresh_all(api)
    assert all(b == [] for b in bikes) and all(p == [] for p in parts)


def test_writes_that_bypass_the_service(db, user, api, gear):
    b1, b2, p2 = gear["bikes"][0], gear["bikes"][1], gear["parts"][1]
    cases = [
        ("UPDATE vehicles.user_bike SET name = 'by SQL' WHERE id = %s", (b2["id"],),
         lambda bikes, parts: "by SQL" in [b["name"] for b in bikes[0]]),
        ("UPDATE vehicles.user_part SET total_kilometrage = 77 WHERE id = %s", (p2["id"],),
         lambda bikes, parts: 77 in [p["total_kilometrage"] for p in parts[0]]),
        ("INSERT INTO vehicles.part_installation (part_id, bike_id) VALUES (%s, %s)",
         (p2["id"], b2["id"]), lambda bikes, parts: parts[2] == []),
        ("INSERT INTO public.user_settings (user_id, active_bike_id) VALUES (%s, %s)"
         " ON CONFLICT (user_id) DO UPDATE SET active_bike_id = EXCLUDED.active_bike_id",
         (user.id, b1["id"]), lambda bikes, parts: [b["is_active"] for b in bikes[0]].count(True) == 1),
        ("UPDATE public.user_settings SET active_bike_id = NULL WHERE user_id = %s", (user.id,),
         lambda bikes, parts: not any(b["is_active"] for b in bikes[0])),
        ("DELETE FROM vehicles.part_installation WHERE part_id = %s", (p2["id"],),
         lambda bikes, parts: [p["id"] for p in parts[2]] == [p2["id"]]),
    ]
    for sql, args, shows in cases:
        prime_all(api, user.id)
        db.execute(sql, args)
        bikes, parts = fresh_all(api)
        assert shows(bikes, parts), sql


# ---- another user's list ------------------------------------------------------------------

def test_another_users_list_is_never_served(user, other, api, other_api, gear):
    new_bike(other_api, name="Theirs")
    prime(api, user.id, "bikes", [{}])
    theirs = assert_status(other_api.get("/api/bikes"), 200)
    assert [b["name"] for b in theirs] == ["Theirs"]
    # Even a stored list copied under their key is refused: it is of another generation.
    mine_key, their_key = keys_of(user.id)[0], keys_of(other.id)[0]
    put(their_key, rcli("GET", mine_key).rstrip(b"\n"))
    r = other_api.get("/api/bikes")
    assert [b["name"] for b in assert_status(r, 200)] == ["Theirs"], describe(r)
    assert r.content != STALE


# ---- Redis down, slow -----------------------------------------------------------------------

def redis_pid():
    with open(REDIS_PIDFILE) as f:
        return int(f.read().strip())


def log_size():
    return os.path.getsize(WORKER_LOG) if WORKER_LOG and os.path.exists(WORKER_LOG) else 0


def log_since(offset):
    with open(WORKER_LOG, "rb") as f:
        f.seek(offset)
        return f.read().decode(errors="replace")


def wait_cached(api, uid, timeout=45):
    """Until a list read is stored again (the workers' rest after a failure is over)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rcli("DEL", *keys_of(uid)) if keys_of(uid) else None
        assert_status(api.get("/api/bikes"), 200)
        if keys_of(uid):
            return
        time.sleep(0.5)
    raise AssertionError("the cache was not used again after Redis came back")


@pytest.fixture
def redis_restored():
    yield
    pid = None
    try:
        pid = redis_pid()
        os.kill(pid, signal.SIGCONT)
    except (OSError, ValueError):
        pid = None
    if pid is None or subprocess.run(["redis-cli", "-s", REDIS_SOCKET, "ping"],
                                     capture_output=True, timeout=5).stdout.strip() != b"PONG":
        subprocess.run(REDIS_START, shell=True, check=True, timeout=20)
        for _ in range(50):
            if os.path.exists(REDIS_SOCKET):
                break
            time.sleep(0.1)


@pytest.mark.skipif(not (REDIS_START and WORKER_LOG), reason="needs REDIS_START and WORKER_LOG")
def test_redis_down_lists_come_from_the_database(user, api, gear, redis_restored):
    prime_all(api, user.id)
    offset = log_size()
    pid = redis_pid()
    os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        if not os.path.exists(f"/proc/{pid}"):
            break
        time.sleep(0.05)
    # a write while Redis is down: no key could be deleted, and none needs to be
    b3 = new_bike(api, name="While down")
    for _ in range(3):  # every worker sees it (one request each is not guaranteed)
        bikes, parts = fresh_all(api)
        assert bikes[0][0]["id"] == b3["id"] and len(bikes[0]) == 3
    assert "list cache: Redis" in log_since(offset)
    assert "internal_error" not in log_since(offset)
    # Redis back, with the old (stale) entries it held gone or not: still the new lists
    subprocess.run(REDIS_START, shell=True, check=True, timeout=20)
    wait_cached(api, user.id)
    bikes, _ = fresh_all(api)
    assert bikes[0][0]["id"] == b3["id"]


@pytest.mark.skipif(not WORKER_LOG, reason="needs WORKER_LOG")
def test_redis_slow_answers_within_the_bound_and_old_entries_stay_unused(user, api, gear,
                                                                         redis_restored):
    prime_all(api, user.id)  # Redis holds (marked) lists of the generation before the write
    offset = log_size()
    pid = redis_pid()
    os.kill(pid, signal.SIGSTOP)
    try:
        b3 = new_bike(api, name="While paused")
        for _ in range(8):
            t0 = time.monotonic()
            r = api.get("/api/bikes")
            took = time.monotonic() - t0
            assert [b["id"] for b in assert_status(r, 200)][0] == b3["id"], describe(r)
            # REDIS_TIMEOUT_MS (25 ms) and the sanitizer build's own time: a request never
            # waits long for a paused Redis (with REDIS_TIMEOUT_MS=1000 this fails)
            assert took < 0.5, f"{took:.3f} s"
    finally:
        os.kill(pid, signal.SIGCONT)
    assert "list cache: Redis GET got no answer in time" in log_since(offset)
    # Redis is back with the entries it held before the write: they are never served, and
    # the lists are stored again under the new generation once the workers' rest is over.
    old = {k: stored(k)[0] for k in keys_of(user.id)}
    deadline = time.monotonic() + 45
    while True:
        fresh_all(api)
        if all(stored(k)[0] != g for k, g in old.items()):
            break
        assert time.monotonic() < deadline, "the lists were not stored again"
        time.sleep(0.5)


# ---- the generations, in SQL -----------------------------------------------------------------

def gen_of(db, uid):
    rows = db.query("SELECT gen::text FROM vehicles.list_generation WHERE user_id = %s", (uid,))
    return rows[0][0] if rows else None


def test_one_transaction_bumps_once_per_user_and_concurrent_writers_lose_none(db, user, api, gear):
    dsn = os.environ["DATABASE_URL"]
    b1, b2 = gear["bikes"]
    g0 = gen_of(db, user.id)
    c1, c2 = psycopg2.connect(dsn), psycopg2.connect(dsn)
    try:
        with c1.cursor() as x, c2.cursor() as y:
            x.execute("UPDATE vehicles.user_bike SET name = 'x1' WHERE id = %s", (b1["id"],))
            x.execute("UPDATE vehicles.user_bike SET name = 'x2' WHERE id = %s", (b1["id"],))
            y.execute("UPDATE vehicles.user_bike SET name = 'y' WHERE id = %s", (b2["id"],))
            x.execute("SELECT current_setting('vehicles.list_gen_noted', true)")
            assert x.fetchone()[0] == f"{user.id},"  # noted once
            c1.commit()
            g1 = gen_of(db, user.id)
            c2.commit()  # waited for nothing: the first commit released the row
            g2 = gen_of(db, user.id)
    finally:
        c1.close()
        c2.close()
    assert len({g0, g1, g2}) == 3


def test_two_users_bumped_in_one_order(db, make_user):
    """Transactions that bump the same two users, whose writes came in opposite orders, lock
    the generations in one (uuid) order: held up on the first, neither deadlocks the other.
    (Bumped in the order of their writes, t1 would hold hi and wait for lo while t2, first in
    line for lo, then waits for hi.)"""
    lo, hi = sorted([make_user(), make_user()], key=lambda u: u.id)
    bl1, bl2, bh1, bh2 = new_bike(lo.api), new_bike(lo.api), new_bike(hi.api), new_bike(hi.api)
    dsn = os.environ["DATABASE_URL"]
    for _ in range(3):
        hold, t1, t2 = (psycopg2.connect(dsn) for _ in range(3))
        errors = []

        def commit(conn):
            try:
                conn.commit()
            except psycopg2.Error as e:
                errors.append(e)

        try:
            with hold.cursor() as h, t1.cursor() as x, t2.cursor() as y:
                for c in (x, y):
                    c.execute("SET deadlock_timeout = '100ms'")
                x.execute("UPDATE vehicles.user_bike SET name = 'x' WHERE id = %s", (bh1["id"],))
                x.execute("UPDATE vehicles.user_bike SET name = 'x' WHERE id = %s", (bl1["id"],))
                y.execute("UPDATE vehicles.user_bike SET name = 'y' WHERE id = %s", (bl2["id"],))
                y.execute("UPDATE vehicles.user_bike SET name = 'y' WHERE id = %s", (bh2["id"],))
                h.execute("SELECT 1 FROM vehicles.list_generation WHERE user_id = %s FOR UPDATE",
                          (lo.id,))
                th = [threading.Thread(target=commit, args=(t,)) for t in (t2, t1)]
                for t in th:  # t2 first in line for lo's generation
                    t.start()
                    time.sleep(0.3)
                hold.rollback()
                for t in th:
                    t.join(10)
            assert errors == [], errors
        finally:
            for c in (hold, t1, t2):
                c.close()


def test_generations_are_not_the_users(db, user, other, api, other_api, gear):
    """authenticated reads its own generation only, through vehicles.list_gen(), and touches
    the tables in no way: they are written by the triggers' security-definer functions alone."""
    new_bike(other_api)
    conn = psycopg2.connect(os.environ["DATABASE_URL"])
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT set_config('request.jwt.claims', %s, true)",
                        ('{"sub": "%s", "role": "authenticated"}' % user.id,))
            cur.execute("SET LOCAL ROLE authenticated")
            cur.execute("SELECT vehicles.list_gen()")
            epoch, gen, active = cur.fetchone()[0].split(".")
            assert gen == gen_of(db, user.id) and active == ""
            for sql in ("SELECT * FROM vehicles.list_generation",
                        "UPDATE vehicles.list_generation SET gen = gen_random_uuid()",
                        "INSERT INTO vehicles.list_generation (user_id) VALUES (gen_random_uuid())",
                        "SELECT * FROM vehicles.list_epoch",
                        "UPDATE vehicles.list_epoch SET epoch = gen_random_uuid()",
                        "SELECT vehicles.list_gen_note(gen_random_uuid(), NULL)"):
                cur.execute("SAVEPOINT s")
                with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                    cur.execute(sql)
                cur.execute("ROLLBACK TO SAVEPOINT s")
    finally:
        conn.close()
