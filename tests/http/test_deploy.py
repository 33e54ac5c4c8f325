"""Deploys lose nothing: SIGTERM to `scripts/run` or to the container entry
(`scripts/container-entry`) under a stream of writes. The requests in flight complete, new
connections are refused, every process of the stack is gone within STOP_TIMEOUT, and every
write that was answered 2xx is in the database.

The shared stack stays up: each test starts a second, private stack of its own (its own
VAR_DIR under /tmp, short enough for Unix socket paths, and a free PORT) with the suite's
binaries (the directory of MIGRATE_BIN, else build/), on the suite's database (DATABASE_URL,
where migrating again is a no-op) with the suite's SUPABASE_JWT_SECRET. Whatever is left of it
is killed when the test ends, passed or failed.

To be sure requests are in flight when the signal comes, the test holds a lock on a bike's row
and sends rides to that bike: they wait in their workers (pg_stat_activity shows them blocked
on the test's backend) while SIGTERM is sent; the lock is released only once a new connection
has been refused, so they finish during the stop. A stop that does not drain (nginx's TERM,
the workers killed) fails them.

The second half checks that fly.toml and the Containerfile agree with the stack they run:
kill_timeout against the entry's stop, the concurrency limits against the pool's bounds, the
checks against the health routes, [metrics] against nginx's metrics listener, and the image's
writable places (scripts/container-check runs the image on a read-only root to prove the last).
"""
import os
import re
import shlex
import signal
import socket
import subprocess
import tempfile
import threading
import time
import tomllib
import uuid

import psycopg2
import pytest
import requests

import support

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD_DIR = (os.path.dirname(os.environ["MIGRATE_BIN"]) if os.environ.get("MIGRATE_BIN")
             else os.path.join(ROOT, "build"))
STOP_TIMEOUT = 10
WORKERS = 4
HELD = 2        # rides held on the test's lock when SIGTERM comes (fewer than WORKERS)
STREAMS = 2     # threads writing all through the stop (HELD + STREAMS <= WORKERS)
SANITIZER = ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer")

needs_build = pytest.mark.skipif(
    not os.path.exists(os.path.join(BUILD_DIR, "vehicle-worker")),
    reason=f"no {BUILD_DIR}/vehicle-worker")


# ---- processes, from /proc ----------------------------------------------------------------

def _stat(pid):
    """(state, ppid), or None when pid is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return fields[0], int(fields[1])


def _marked(pid, var_dir):
    """VAR_DIR=var_dir in its environment (nginx clears its own), or var_dir in its argv."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            if f"VAR_DIR={var_dir}".encode() in f.read().split(b"\0"):
                return True
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return var_dir.encode() in f.read()
    except OSError:
        return False


def _ours(var_dir):
    """Every live process of the private stack: those marked with its VAR_DIR and their
    descendants (nginx's workers rename themselves and carry no environment)."""
    procs = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(int(name))
            if st is not None and st[0] != "Z":
                procs[int(name)] = st[1]
    found = {pid for pid in procs if _marked(pid, var_dir)}
    grew = True
    while grew:
        more = {pid for pid, ppid in procs.items() if ppid in found} - found
        found |= more
        grew = bool(more)
    return sorted(found)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _refused(port):
    """True when a new TCP connection to port is refused."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except ConnectionRefusedError:
        return True
    except OSError:
        return False


def _configure_flags():
    """The flags BUILD_DIR was configured with: scripts/run's build step must see the same,
    or it starts the directory afresh (scripts/build), under the running suite."""
    try:
        out = subprocess.run([os.path.join(BUILD_DIR, "config.status"), "--config"],
                             capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return ""
    return " ".join(shlex.split(out))


class PrivateStack:
    """scripts/run or scripts/container-entry on a VAR_DIR and PORT of its own."""

    def __init__(self, entry, stop_timeout=STOP_TIMEOUT):
        self.entry = entry
        self.var_dir = tempfile.mkdtemp(prefix="vs-deploy-", dir="/tmp")
        os.chmod(self.var_dir, 0o755)
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.out_path = os.path.join(self.var_dir, "entry.out")
        self.worker_log = os.path.join(self.var_dir, "log", "worker.log")
        env = {k: v for k, v in os.environ.items()
               if k not in ("WORKERS_FILE", "MIGRATE_DATABASE_URL", "PG_CTL", "PGDATA",
                            "FCGI_SOCKET", "NGINX_TEMPLATE", "WORKER_BIN")}
        big = {f"RATE_{k}": "100000r/s" for k in ("WRITE", "READ", "ANON", "ADDR")}
        big.update({f"RATE_BURST_{k}": "100000" for k in ("WRITE", "READ", "ANON", "ADDR")})
        env.update(big)
        # (METRICS_PORT too: its default, PORT + 6088, may be no port at all for a high PORT.)
        env.update(VAR_DIR=self.var_dir, PORT=str(self.port), LISTEN_ADDR="127.0.0.1",
                   METRICS_PORT=str(_free_port()),
                   BUILD_DIR=BUILD_DIR, CONFIGURE_FLAGS=_configure_flags(),
                   WORKERS=str(WORKERS), STOP_TIMEOUT=str(stop_timeout),
                   VEHICLE_ENV="development", DATABASE_URL=support.DATABASE_URL,
                   SUPABASE_JWT_SECRET=support.JWT_SECRET, WORKER_LOG=self.worker_log,
                   NGINX_ACCESS_LOG=os.path.join(self.var_dir, "log", "access.log"),
                   NGINX_ERROR_LOG=os.path.join(self.var_dir, "log", "nginx-error.log"))
        self.out = open(self.out_path, "wb")
        self.proc = subprocess.Popen([os.path.join(ROOT, "scripts", entry)], cwd=ROOT, env=env,
                                     stdin=subprocess.DEVNULL, stdout=self.out,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def output(self):
        with open(self.out_path, errors="replace") as f:
            return f.read()

    def wait_healthy(self, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"{self.entry} exited ({self.proc.returncode}) before serving:\n"
                            + self.output()[-3000:])
            try:
                if requests.get(self.base + "/health", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        pytest.fail(f"{self.entry}: /health did not answer 200 within {timeout}s:\n"
                    + self.output()[-3000:])

    def close(self):
        """Kills whatever is left, whatever happened, and removes VAR_DIR."""
        for _ in range(3):
            pids = _ours(self.var_dir)
            if self.proc.poll() is None:
                pids.append(self.proc.pid)
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.3)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self.out.close()
        subprocess.run(["rm", "-rf", self.var_dir], check=False)


@pytest.fixture
def private_stack():
    made = []

    def make(entry, **kw):
        s = PrivateStack(entry, **kw)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def stop(stack):
    """The deploy's signal: SIGTERM to the entry script, as the platform sends it (fly.toml's
    kill_signal). A separate function so that a check of the test can swap in a hard stop."""
    os.kill(stack.proc.pid, signal.SIGTERM)


# ---- the writes ---------------------------------------------------------------------------

class Outcome:
    __slots__ = ("kind", "t0", "t1", "status", "body", "id", "error")

    def __init__(self, kind, t0):
        self.kind, self.t0 = kind, t0
        self.t1 = self.status = self.body = self.id = self.error = None

    def __repr__(self):
        what = self.error if self.status is None else f"{self.status} {self.body!r}"[:300]
        return f"<{self.kind} sent {self.t0:.3f} done {self.t1:.3f}: {what}>"


def _write(sess, base, kind, bike_id, t_base):
    """One write: a ride with a fresh Idempotency-Key, or a bike with a unique name."""
    o = Outcome(kind, time.monotonic() - t_base)
    try:
        if kind == "bike":
            r = sess.post(base + "/api/bikes", timeout=support.TIMEOUT,
                          json={"name": f"deploy {uuid.uuid4()}", "type": "road"})
        else:
            r = sess.post(f"{base}/api/bikes/{bike_id}/kilometrage", timeout=support.TIMEOUT,
                          json={"distance": 1.5}, headers={"Idempotency-Key": str(uuid.uuid4())})
        o.status = r.status_code
        o.body = r.text
        if 200 <= r.status_code < 300:
            body = r.json()
            o.id = body.get("id") if kind == "bike" else (body.get("log") or {}).get("id")
        elif r.status_code == 503:
            o.body = (r.text, r.headers.get("Content-Type"), r.headers.get("Retry-After"))
    except requests.RequestException as e:
        o.error = f"{type(e).__name__}: {e}"
    o.t1 = time.monotonic() - t_base
    return o


def _stream(base, token, kind, bike_id, t_base, until, out):
    """Writes one after another until `until` is set and the stack refuses them."""
    sess = requests.Session()
    sess.headers["Authorization"] = f"Bearer {token}"
    try:
        while True:
            o = _write(sess, base, kind, bike_id, t_base)
            out.append(o)
            if until.is_set() and o.status is None:
                # Refused once the stop began: one more try on a new connection, then done.
                sess.close()
                out.append(_write(sess, base, kind, bike_id, t_base))
                return
            if o.status is None:
                time.sleep(0.05)  # (judged afterwards; do not spin on a refusal)
    finally:
        sess.close()


def _blocked_on(db_conn, n, timeout):
    """Waits until n backends wait on db_conn's locks, directly or behind one that does."""
    pid = db_conn.get_backend_pid()
    deadline = time.monotonic() + timeout
    with psycopg2.connect(support.DATABASE_URL, connect_timeout=5) as c2:
        c2.autocommit = True
        while time.monotonic() < deadline:
            with c2.cursor() as cur:
                cur.execute("SELECT pid, pg_blocking_pids(pid) FROM pg_stat_activity"
                            " WHERE wait_event_type = 'Lock'")
                waits = dict(cur.fetchall())
            behind, grew = {pid}, True
            while grew:
                more = {p for p, by in waits.items() if behind & set(by)} - behind
                behind |= more
                grew = bool(more)
            if len(behind) - 1 >= n:
                return True
            time.sleep(0.05)
    return False


def _lock_waiters(db_conn):
    """The backends waiting directly on db_conn's locks."""
    c2 = psycopg2.connect(support.DATABASE_URL, connect_timeout=5)
    try:
        with c2.cursor() as cur:
            cur.execute("SELECT pid FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
                        (db_conn.get_backend_pid(),))
            return {r[0] for r in cur.fetchall()}
    finally:
        c2.close()


def _backends_end(pids, timeout):
    """Seconds until none of pids is a backend any more (None: not within timeout)."""
    t0 = time.monotonic()
    c2 = psycopg2.connect(support.DATABASE_URL, connect_timeout=5)
    c2.autocommit = True  # each poll its own transaction: a fresh pg_stat_activity
    try:
        while True:
            with c2.cursor() as cur:
                cur.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", (list(pids),))
                if cur.fetchone()[0] == 0:
                    return time.monotonic() - t0
            if time.monotonic() - t0 > timeout:
                return None
            time.sleep(0.05)
    finally:
        c2.close()


def _in_db(db, table, ids):
    ids = [i for i in ids if i]
    if not ids:
        return set()
    rows = db.query(f"SELECT id::text FROM vehicles.{table} WHERE id = ANY(%s::uuid[])", (ids,))
    return {r[0] for r in rows}


@needs_build
@pytest.mark.parametrize("entry", ["container-entry", "run"])
def test_sigterm_under_writes_loses_nothing(entry, private_stack, make_user, db):
    stack = private_stack(entry)
    stack.wait_healthy()
    u = make_user(tag="deploy")
    auth = {"Authorization": f"Bearer {u.token}"}

    def new_bike(name):
        r = requests.post(stack.base + "/api/bikes", headers=auth, timeout=support.TIMEOUT,
                          json={"name": name, "type": "road"})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    stream_bike, held_bike = new_bike("deploy stream"), new_bike("deploy held")
    pids_before = _ours(stack.var_dir)
    assert len(pids_before) >= WORKERS + 3, f"the stack's processes: {pids_before}"

    t_base = time.monotonic()
    stopping = threading.Event()
    streamed = []
    threads = [threading.Thread(target=_stream, daemon=True,
                                args=(stack.base, u.token, ("ride", "bike")[i % 2], stream_bike,
                                      t_base, stopping, streamed))
               for i in range(STREAMS)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    assert any(o.status == 201 for o in streamed), f"no write succeeded before the stop: {streamed[:5]}"

    held = [None] * HELD
    lock = psycopg2.connect(support.DATABASE_URL, connect_timeout=5)
    try:
        with lock.cursor() as cur:
            cur.execute("SELECT 1 FROM vehicles.user_bike WHERE id = %s FOR UPDATE", (held_bike,))

        def held_ride(i):
            with requests.Session() as s:
                s.headers.update(auth)
                held[i] = _write(s, stack.base, "ride", held_bike, t_base)

        held_threads = [threading.Thread(target=held_ride, args=(i,), daemon=True) for i in range(HELD)]
        for t in held_threads:
            t.start()
        # (The workers' lock timeout is 5 s: everything below stays well inside it.)
        assert _blocked_on(lock, HELD, 2.5), f"the held rides never waited on the test's lock: {held}"

        t_stop = time.monotonic() - t_base
        stopping.set()
        stop(stack)
        deadline = time.monotonic() + 2.0
        refused = False
        while time.monotonic() < deadline and not refused:
            refused = _refused(stack.port)
            time.sleep(0.02)
        in_flight = [t.is_alive() for t in held_threads]
    finally:
        lock.rollback()
        lock.close()
    assert refused, "no new connection was refused within 2s of SIGTERM"
    assert all(in_flight), "a held ride finished before the lock was released"

    for t in held_threads + threads:
        t.join(timeout=STOP_TIMEOUT + 5)
    assert not any(t.is_alive() for t in held_threads + threads), "a client hangs after the stop"

    # Gone within STOP_TIMEOUT: the entry script and every process of the stack.
    deadline = t_base + t_stop + STOP_TIMEOUT
    while time.monotonic() < deadline and (stack.proc.poll() is None or _ours(stack.var_dir)):
        time.sleep(0.1)
    left = _ours(stack.var_dir)
    t_gone = time.monotonic() - t_base - t_stop
    assert stack.proc.poll() is not None and not left, \
        f"still running {STOP_TIMEOUT}s after SIGTERM: entry {stack.proc.poll()}, {left}"
    out = stack.output()
    assert stack.proc.returncode == (143 if entry == "run" else 0), out[-3000:]
    assert "sending SIGKILL" not in out, f"the stop had to kill:\n{out[-3000:]}"

    # The requests in flight completed.
    for o in held:
        assert o is not None and o.status == 201, f"a ride in flight at SIGTERM was lost: {o}"
    # Everything else: 2xx, or after the stop began a refusal (connection refused or reset)
    # or a JSON 503; nothing else, and no failure at all before the stop.
    for o in streamed:
        if o.status is not None and 200 <= o.status < 300:
            continue
        assert o.t1 >= t_stop, f"failed before the stop began ({t_stop:.3f}): {o}"
        if o.status is None:
            assert "ConnectionError" in o.error or "ConnectionReset" in o.error, o
        else:
            assert o.status == 503, f"not a clean refusal: {o}"
            body, ctype, retry = o.body
            assert ctype and ctype.startswith("application/json") and retry, o
    assert any(o.status is None and o.t0 >= t_stop for o in streamed), \
        "no write was refused after the stop: the stream did not run through it"

    # Every write answered 2xx is in the database.
    ok = [o for o in streamed + held if o.status is not None and 200 <= o.status < 300]
    assert all(o.id for o in ok), [o for o in ok if not o.id][:3]
    rides = [o.id for o in ok if o.kind == "ride"]
    bikes = [o.id for o in ok if o.kind == "bike"]
    missing = (set(rides) - _in_db(db, "kilometrage_log", rides)) | \
        (set(bikes) - _in_db(db, "user_bike", bikes))
    assert not missing, f"answered 2xx but not in the database: {sorted(missing)[:5]}"

    refusals = sum(1 for o in streamed if o.status is None)
    print(f"{entry}: {len(ok)} writes answered 2xx (all in the database), {refusals} refused, "
          f"{sum(1 for o in streamed if o.status == 503)} 503; gone {t_gone:.2f}s after SIGTERM")
    with open(stack.worker_log, errors="replace") as f:
        log = f.read()
    assert not [s for s in SANITIZER if s in log], log[-3000:]
    assert " died" not in log, f"a worker died during the stop:\n{log[-3000:]}"


# ---- the worst-case stop, and a stop during the migration --------------------------------

# What the entry may take past STOP_TIMEOUT when the deadline is hit: the SIGKILL of what is
# left and its own clean-up. fly.toml's kill_timeout must leave at least this much.
ENTRY_KILL_MARGIN = 2
# How often a running statement checks that its client is still there (db.h's
# DB_CLIENT_CHECK_MS).
CLIENT_CHECK_S = 1


def _gone(stack, timeout):
    """Seconds until the entry and every process of its stack are gone (None: not in time)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if stack.proc.poll() is not None and not _ours(stack.var_dir):
            return time.monotonic() - t0
        time.sleep(0.05)
    return None


@needs_build
def test_stop_deadline_bounds_the_worst_case(private_stack, make_user, db):
    """A request that outlasts STOP_TIMEOUT (a ride waiting on the test's lock, inside the
    worker's 5 s lock_timeout) is killed at the deadline: the whole stack is gone within
    STOP_TIMEOUT + ENTRY_KILL_MARGIN, which fly.toml's kill_timeout covers (below)."""
    stop_timeout = 2
    stack = private_stack("container-entry", stop_timeout=stop_timeout)
    stack.wait_healthy()
    u = make_user(tag="deadline")
    auth = {"Authorization": f"Bearer {u.token}"}
    r = requests.post(stack.base + "/api/bikes", headers=auth, timeout=support.TIMEOUT,
                      json={"name": "deadline", "type": "road"})
    assert r.status_code == 201, r.text
    bike = r.json()["id"]
    held = []
    lock = psycopg2.connect(support.DATABASE_URL, connect_timeout=5)
    try:
        with lock.cursor() as cur:
            cur.execute("SELECT 1 FROM vehicles.user_bike WHERE id = %s FOR UPDATE", (bike,))
        with requests.Session() as s:
            s.headers.update(auth)
            t = threading.Thread(daemon=True, target=lambda: held.append(
                _write(s, stack.base, "ride", bike, time.monotonic())))
            t.start()
            assert _blocked_on(lock, 1, 2.5), "the ride never waited on the test's lock"
            ride_backends = _lock_waiters(lock)
            stop(stack)
            took = _gone(stack, stop_timeout + ENTRY_KILL_MARGIN + 5)
            t.join(timeout=10)
            # The killed worker's backend ends by itself while the test still holds the row
            # (client_connection_check_interval), before its 5 s lock_timeout would end it
            # (at least 2.8 s after the kill here): otherwise it would run, and commit, once
            # the lock is free.
            ended = _backends_end(ride_backends, CLIENT_CHECK_S + 0.5)
    finally:
        lock.rollback()
        lock.close()
    out = stack.output()
    assert took is not None and took <= stop_timeout + ENTRY_KILL_MARGIN, \
        f"gone {took}s after SIGTERM (STOP_TIMEOUT {stop_timeout}s + {ENTRY_KILL_MARGIN}s):\n{out[-3000:]}"
    assert "sending SIGKILL" in out, f"the deadline was not reached:\n{out[-3000:]}"
    assert ride_backends and ended is not None, \
        f"the killed worker's ride {ride_backends} still waited on the lock after its client was gone"
    # Killed, not answered: nothing 2xx, and nothing of it in the database.
    assert held and (held[0].status is None or held[0].status >= 500), held
    assert db.query("SELECT count(*) FROM vehicles.kilometrage_log WHERE bike_id = %s",
                    (bike,))[0][0] == 0
    print(f"killed at the deadline: gone {took:.2f}s after SIGTERM (STOP_TIMEOUT {stop_timeout}s)")


@needs_build
def test_sigterm_during_the_migration_stops_at_once(private_stack):
    """The entry migrates before it serves; a stop then (the migration waiting for another
    instance's advisory lock, here the test's) ends the migration and exits at once instead
    of waiting for it until the platform's SIGKILL."""
    lock = psycopg2.connect(support.DATABASE_URL, connect_timeout=5)
    lock.autocommit = True
    try:
        with lock.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(hashtext('vehicles.migrate'))")
        stack = private_stack("container-entry")
        waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'" \
                  " AND query LIKE '%pg_advisory_lock(hashtext(''vehicles.migrate''))%'" \
                  " AND pid <> pg_backend_pid()"
        deadline = time.monotonic() + 60
        n = 0
        with lock.cursor() as cur:
            while time.monotonic() < deadline and stack.proc.poll() is None:
                cur.execute(waiting)
                n = cur.fetchone()[0]
                if n:
                    break
                time.sleep(0.1)
        assert n == 1, f"the migration never waited on the lock:\n{stack.output()[-3000:]}"
        stop(stack)
        took = _gone(stack, 5)
        out = stack.output()
        assert took is not None, f"still running 5s after SIGTERM:\n{out[-3000:]}"
        assert stack.proc.returncode == 0, out[-3000:]
        # PostgreSQL notices the closed connection of a session waiting on a lock only once
        # it has the lock: released, the migration's session takes it and ends at once,
        # holding nothing (and having applied nothing: the lock comes before the work).
        with lock.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(hashtext('vehicles.migrate'))")
            held = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database =" \
                   " (SELECT oid FROM pg_database WHERE datname = current_database())"
            for _ in range(100):
                cur.execute(held)
                if cur.fetchone()[0] == 0:
                    break
                time.sleep(0.05)
            else:
                pytest.fail("the stopped migration's session still holds or waits for the lock")
    finally:
        lock.close()
    print(f"stopped during the migration: gone {took:.2f}s after SIGTERM")


# ---- fly.toml and the image agree with the stack -----------------------------------------

def _text(*path):
    with open(os.path.join(ROOT, *path)) as f:
        return f.read()


def _fly():
    with open(os.path.join(ROOT, "fly.toml"), "rb") as f:
        return tomllib.load(f)


def _default(name):
    """NAME's default in scripts/lib/common.sh or nginx.sh (`NAME=${NAME:-VALUE}`), or None.
    A default of the form $((OTHER + N)) is worked out from OTHER's setting."""
    for lib in ("common.sh", "nginx.sh"):
        m = re.search(r"^\s*%s=\$\{%s:-(.*)\}\s*$" % (name, name), _text("scripts", "lib", lib),
                      re.M)
        if m:
            v = m.group(1)
            calc = re.fullmatch(r"\$\(\(([A-Z_]+) \+ (\d+)\)\)", v)
            return str(int(_setting(calc.group(1))) + int(calc.group(2))) if calc else v
    return None


def _setting(name):
    """What the Machine runs with: fly.toml's [env], else the stack's default."""
    v = _fly().get("env", {}).get(name, _default(name))
    assert v is not None, f"{name}: neither in fly.toml [env] nor defaulted in scripts/lib/common.sh"
    return v


def _c_define(path, name):
    m = re.search(r"^#define %s (\d+)" % name, _text(*path), re.M)
    assert m, f"no #define {name} in {'/'.join(path)}"
    return int(m.group(1))


def _secs(duration):
    m = re.fullmatch(r"(\d+)(ms|s|m)?", str(duration))
    assert m, f"not a duration: {duration!r}"
    return int(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, None: 0.001}[m.group(2)]


def _runtime_stage():
    """The Containerfile's last stage (what runs)."""
    text = _text("Containerfile")
    return text[text.rindex("\nFROM "):]


def test_fly_stop_matches_the_entry():
    fly = _fly()
    stop_s = int(_setting("STOP_TIMEOUT"))
    assert fly["kill_signal"] == "SIGTERM"
    assert re.search(r"^STOPSIGNAL SIGTERM$", _runtime_stage(), re.M)
    # The platform's SIGKILL after the entry's own deadline and its kill step (measured by
    # test_stop_deadline_bounds_the_worst_case), within Fly's maximum.
    assert stop_s + ENTRY_KILL_MARGIN <= int(fly["kill_timeout"]) <= 300
    # The longest request in flight finishes inside STOP_TIMEOUT: its time queued
    # (QUEUE_WAIT_MS, then 503) and the longest statement bound of a route.
    longest_ms = max(_c_define(("src", "routes.c"), "ROUTES_WRITE_TIMEOUT_MS"),
                     _c_define(("src", "routes.c"), "ROUTES_READ_TIMEOUT_MS"))
    assert stop_s * 1000 >= longest_ms + int(_setting("QUEUE_WAIT_MS"))


def test_fly_concurrency_fits_the_pool():
    svc = _fly()["services"]
    assert len(svc) == 1
    conc = svc[0]["concurrency"]
    workers = int(_setting("WORKERS"))
    max_conns = workers * int(_setting("FCGI_QUEUE_PER_WORKER"))
    # Requests, as the pool counts them (one FastCGI connection per request).
    assert conc["type"] == "requests"
    # Beyond the workers before the proxy looks elsewhere; never more than the pool admits,
    # nor than one nginx process holds (two connections per proxied request).
    assert workers <= conc["soft_limit"] < conc["hard_limit"] <= max_conns
    assert 2 * conc["hard_limit"] <= int(_setting("NGINX_WORKER_CONNECTIONS"))
    # hard_limit is sized by the queue bound (fly.toml's comment): there must be one.
    assert int(_setting("QUEUE_WAIT_MS")) > 0


def test_fly_checks_use_the_health_routes():
    fly = _fly()
    svc = fly["services"][0]
    port = int(fly["env"]["PORT"])
    assert svc["internal_port"] == port
    assert re.search(r"^EXPOSE %d$" % port, _runtime_stage(), re.M)
    # Readiness routes traffic (service checks); liveness is a top-level check (monitoring).
    ready = svc.get("http_checks", [])
    assert [c["path"] for c in ready] == ["/health/ready"]
    alive = [c for c in fly.get("checks", {}).values() if c.get("type") == "http"]
    assert [c["path"] for c in alive] == ["/health"] and alive[0]["port"] == port
    queue_s = int(_setting("QUEUE_WAIT_MS")) / 1000
    nginx = _text("nginx", "nginx.conf.in")
    for c in ready + alive:
        # A saturated pool answers 503 after its queue bound, inside the check's timeout.
        assert _secs(c["timeout"]) > queue_s, c
        assert c.get("method", "get").lower() == "get", c
        # Exact locations without rate limits: a check never sees 429.
        block = re.search(r"location = %s \{([^}]*)\}" % re.escape(c["path"]), nginx)
        assert block and "limit_req" not in block.group(1), c["path"]
        r = requests.get(support.BASE_URL + c["path"], timeout=support.TIMEOUT)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json"), \
            (c["path"], r.status_code, r.text)


def test_fly_metrics_matches_nginx():
    fly = _fly()
    metrics = fly["metrics"]
    assert metrics["path"] == "/metrics"
    # Not a public port: no [[services]] entry exposes it.
    assert metrics["port"] not in [s["internal_port"] for s in fly["services"]]
    # Fly's scraper comes over the private network; never every address.
    allow = fly["env"]["METRICS_ALLOW"].split()
    assert "fdaa::/16" in allow and not {"all", "0.0.0.0/0", "::/0"} & set(allow)
    # The port nginx's metrics listener takes on the Machine (its default follows PORT).
    assert metrics["port"] == int(_setting("METRICS_PORT"))


def test_image_writes_only_under_var():
    """What scripts/container-check proves on a read-only root, held here statically: the
    image's user, its one writable directory, and every path nginx writes under it."""
    run = _runtime_stage()
    m = re.search(r"^USER (\d+):(\d+)$", run, re.M)
    assert m and int(m.group(1)) != 0 and int(m.group(2)) != 0, "USER must be numeric, not root"
    env = dict(re.findall(r"\b([A-Z_]+)=(\S+)", run[run.index("\nENV "):run.index("\nUSER ")]))
    assert env["VAR_DIR"] == "/app/var"
    assert env["TMPDIR"].startswith(env["VAR_DIR"] + "/")
    assert re.search(r"^RUN mkdir -p /app/var && chown vehicle:vehicle /app/var$", run, re.M)
    nginx = _text("nginx", "nginx.conf.in")
    paths = re.findall(r"^\s*(?:pid|\w+_temp_path)\s+(\S+?);", nginx, re.M)
    assert len(paths) == 6 and all(p.startswith("@VAR_DIR@/") for p in paths), paths
    assert re.search(r"^error_log @ERROR_LOG@", nginx, re.M)
    assert re.search(r"^\s*access_log @ACCESS_LOG@", nginx, re.M)
    # The worker links libcurl (the key fetcher): the builder needs its headers, the image
    # the library.
    assert "libcurl" in _text("configure.ac")
    builder = _text("Containerfile")[:len(_text("Containerfile")) - len(run)]
    assert "libcurl4-openssl-dev" in builder and re.search(r"\blibcurl4\b", run)
    ignored = _text(".dockerignore").split()
    assert "var" in ignored and "build-*" in ignored
