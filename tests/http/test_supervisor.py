"""The prefork master (`vehicle-worker --master`, src/master.c): it keeps WORKERS workers
running whatever happens to them, replaces them on SIGHUP with no request lost, stops them
gracefully on SIGTERM, and takes them with it when it dies.

The shared stack's master is the pid in $VAR_DIR/run/workers.pid. The tests that stop a
master, kill one or break its workers' start start a private master instead (on a socket of
their own, spoken to in FastCGI directly, with the shared workers' environment), so the stack
the other tests use stays whole.

Workers of the shared stack killed here on purpose are listed in <log dir>/test-kills, one pid
a line: scripts/test fails the run on any other "worker N died" line in the worker log.

Needs VAR_DIR (scripts/test passes it); WORKER_LOG for the readiness of the shared workers.
"""
import base64
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time

import pytest
import requests

from support import Api, assert_status, describe

VAR_DIR = os.environ.get("VAR_DIR", "")
WORKER_LOG = os.environ.get("WORKER_LOG", "") or (VAR_DIR and os.path.join(VAR_DIR, "log", "worker.log"))

pytestmark = pytest.mark.skipif(not VAR_DIR, reason="VAR_DIR is not set: cannot find the workers")

SANITIZER = re.compile(r"ERROR: AddressSanitizer|runtime error:|LeakSanitizer")
READY = re.compile(r"pid=(\d+) .*op=worker .*worker ready")


# ---- processes, from /proc ----------------------------------------------------------------

def _stat(pid):
    """(state, ppid, start time in ticks), or None when pid is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return fields[0], int(fields[1]), int(fields[19])


def _alive(pid):
    st = _stat(pid)
    return st is not None and st[0] != "Z"


def _comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def _kids(ppid, state_z=False):
    """The children of ppid: the live ones, or (state_z) the zombies. Not the key fetcher
    (vehicle-jwks, src/jwks_fetch.c: with SUPABASE_URL the master's one other child)."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        st = _stat(int(name))
        if st is not None and st[1] == ppid and (st[0] == "Z") == state_z and \
                _comm(int(name)) != "vehicle-jwks":
            out.append(int(name))
    return sorted(out)


def _environ(pid):
    with open(f"/proc/{pid}/environ", "rb") as f:
        items = f.read().split(b"\0")
    return dict(i.decode(errors="replace").split("=", 1) for i in items if b"=" in i)


def _argv(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return [a.decode() for a in f.read().split(b"\0") if a]


def _shared_master():
    with open(os.path.join(VAR_DIR, "run", "workers.pid")) as f:
        pid = int(f.read().strip())
    assert _alive(pid), f"the stack's worker master (pid {pid}) is not running"
    return pid


def _pool_size(master):
    """The count the master is meant to keep: WORKERS_FILE's, else WORKERS (a multiwatch
    started by an older stack: its -f)."""
    env = _environ(master)
    path = env.get("WORKERS_FILE", "")
    if path and os.path.exists(path):
        with open(path) as f:
            return int(f.read().strip())
    if "WORKERS" in env:
        return int(env["WORKERS"])
    argv = _argv(master)
    return int(argv[argv.index("-f") + 1]) if "-f" in argv else 4


def _record_kill(pid):
    """Lists a shared worker this file kills, for scripts/test's check of the worker log."""
    log_dir = os.path.dirname(WORKER_LOG) if WORKER_LOG else os.path.join(VAR_DIR, "log")
    with open(os.path.join(log_dir, "test-kills"), "a") as f:
        f.write(f"{pid}\n")


class LogWatch:
    """The pids that logged "worker ready" in a log file, read incrementally."""

    def __init__(self, path):
        self.path, self.pos, self.ready = path, 0, set()

    def update(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.pos)
                data = f.read()
        except FileNotFoundError:
            return self.ready
        end = data.rfind(b"\n") + 1
        self.pos += end
        for line in data[:end].decode(errors="replace").splitlines():
            m = READY.search(line)
            if m:
                self.ready.add(int(m.group(1)))
        return self.ready


def _wait_pool(master, n, watch, timeout, exclude=()):
    """Waits until master has exactly n live children, none of them in exclude, each of which
    logged "worker ready"; returns them. Fails with what it saw."""
    deadline = time.monotonic() + timeout
    while True:
        kids = _kids(master)
        ready = watch.update()
        if len(kids) == n and not set(kids) & set(exclude) and set(kids) <= ready:
            return kids
        if time.monotonic() > deadline:
            pytest.fail(f"after {timeout}s the master (pid {master}) has {len(kids)} workers, "
                        f"not {n}: {kids}; not yet ready: {sorted(set(kids) - ready)}; "
                        f"still the old ones: {sorted(set(kids) & set(exclude))}")
        time.sleep(0.05)


class Stream:
    """GET path in a loop on a few threads until the block ends; every answer but a 200 (and
    every connection error) is kept in .bad."""

    def __init__(self, path="/health/ready", threads=4):
        self.path, self.nthreads = path, threads
        self.count, self.bad = 0, []
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def _run(self):
        api = Api(None)
        while not self.stop.is_set():
            try:
                r = api.get(self.path, timeout=10)
                bad = None if r.status_code == 200 else describe(r)
            except requests.RequestException as e:
                bad = repr(e)
            with self.lock:
                self.count += 1
                if bad:
                    self.bad.append(bad)

    def __enter__(self):
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(self.nthreads)]
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(15)


# ---- FastCGI, for private masters -----------------------------------------------------------

FCGI_BEGIN, FCGI_END, FCGI_PARAMS, FCGI_STDIN, FCGI_STDOUT = 1, 3, 4, 5, 6


def _record(rtype, content=b"", rid=1):
    pad = -len(content) % 8
    return struct.pack("!BBHHBx", 1, rtype, rid, len(content), pad) + content + b"\0" * pad


def _pairs(params):
    out = b""
    for k, v in params.items():
        k, v = k.encode(), v.encode()
        for x in (k, v):
            out += bytes([len(x)]) if len(x) < 128 else struct.pack("!I", len(x) | 0x80000000)
        out += k + v
    return out


class Fcgi:
    """One FastCGI request over a fresh connection: start() sends everything but the body,
    body() sends some of it, finish() ends it and returns (status, headers, body text)."""

    def __init__(self, path, method="GET", token=None, content_type=None, length=0):
        self.params = {"REQUEST_METHOD": method, "DOCUMENT_URI": path, "SCRIPT_NAME": path,
                       "REQUEST_URI": path, "QUERY_STRING": "", "CONTENT_LENGTH": str(length),
                       "REMOTE_ADDR": "127.0.0.1", "REQUEST_ID": os.urandom(8).hex()}
        if token:
            self.params["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        if content_type:
            self.params["CONTENT_TYPE"] = content_type

    def start(self, sock_path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(15)
        self.s.connect(sock_path)
        self.s.sendall(_record(FCGI_BEGIN, struct.pack("!HB5x", 1, 0)) +
                       _record(FCGI_PARAMS, _pairs(self.params)) + _record(FCGI_PARAMS))
        return self

    def body(self, data):
        self.s.sendall(_record(FCGI_STDIN, data))

    def finish(self):
        self.s.sendall(_record(FCGI_STDIN))
        out, buf = b"", b""
        while True:
            while len(buf) < 8 or len(buf) < 8 + struct.unpack("!H", buf[4:6])[0] + buf[6]:
                chunk = self.s.recv(65536)
                assert chunk, f"the worker closed the connection; got so far: {out!r}"
                buf += chunk
            _, rtype, _, clen, plen = struct.unpack("!BBHHBx", buf[:8])
            content, buf = buf[8:8 + clen], buf[8 + clen + plen:]
            if rtype == FCGI_STDOUT:
                out += content
            elif rtype == FCGI_END:
                break
        self.s.close()
        head, _, text = out.decode().partition("\r\n\r\n")
        lines = head.split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines if ": " in line)
        return int(headers.get("Status", "200").split()[0]), headers, text


def _jwks():
    """A JWKS text with one fresh ES256 public key (what SUPABASE_JWKS may name)."""
    from cryptography.hazmat.primitives.asymmetric import ec
    pub = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()

    def b64(n):
        return base64.urlsafe_b64encode(n.to_bytes(32, "big")).rstrip(b"=").decode()
    return json.dumps({"keys": [{"kty": "EC", "crv": "P-256", "x": b64(pub.x), "y": b64(pub.y),
                                 "kid": "supervisor-test", "alg": "ES256", "use": "sig"}]})


class PrivateMaster:
    """`vehicle-worker --master` on a listening socket of its own, with the shared workers'
    environment plus `env` (None drops a variable)."""

    def __init__(self, env=None, stdin_socket=True):
        shared = _kids(_shared_master())
        assert shared, "the stack has no worker to copy the program and environment from"
        self.exe = _argv(shared[0])[0]
        self.dir = tempfile.mkdtemp(prefix="vs-master-")
        self.sock_path = os.path.join(self.dir, "fcgi.sock")
        self.log_path = os.path.join(self.dir, "master.log")
        self.jwks_path = os.path.join(self.dir, "jwks.json")
        with open(self.jwks_path, "w") as f:
            f.write(_jwks())
        full = _environ(shared[0])
        full.pop("WORKERS_FILE", None)
        # A metrics socket of its own: the shared master's stays the shared stack's.
        full.update({"WORKERS": "2", "SUPABASE_JWKS": self.jwks_path,
                     "METRICS_SOCKET": os.path.join(self.dir, "metrics.sock")})
        for k, v in (env or {}).items():
            if v is None:
                full.pop(k, None)
            else:
                full[k] = v
        self.seen = set()
        lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        lsock.bind(self.sock_path)
        lsock.listen(64)
        with open(self.log_path, "ab") as log:
            stdin = lsock.fileno() if stdin_socket else subprocess.DEVNULL
            self.proc = subprocess.Popen([self.exe, "--master"], stdin=stdin, stdout=log,
                                         stderr=subprocess.STDOUT, env=full, start_new_session=True)
        lsock.close()
        self.watch = LogWatch(self.log_path)

    def kids(self):
        kids = _kids(self.proc.pid)
        self.seen.update(kids)
        return kids

    def wait_pool(self, n, timeout, exclude=()):
        kids = _wait_pool(self.proc.pid, n, self.watch, timeout, exclude)
        self.seen.update(kids)
        return kids

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def close(self):
        if self.proc.poll() is None:
            self.kids()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pid in self.seen:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        log = self.log()
        shutil.rmtree(self.dir, ignore_errors=True)
        assert not SANITIZER.search(log), f"sanitizer report in the private master's log:\n{log[-4000:]}"


@pytest.fixture
def private_master():
    made = []

    def make(**kw):
        made.append(PrivateMaster(**kw))
        return made[-1]
    yield make
    for m in made:
        m.close()


# ---- the shared stack ---------------------------------------------------------------------

def test_pool_whole_again_after_ten_kills(api, anon_api, create_bike):
    master = _shared_master()
    n = _pool_size(master)
    watch = LogWatch(WORKER_LOG)
    _wait_pool(master, n, watch, timeout=10)
    bike = create_bike(api, name="Supervised")
    killed = []
    for _ in range(10):
        kids = _kids(master)
        assert kids, f"no worker left to kill after {len(killed)} kills"
        newest = max(kids, key=lambda p: (_stat(p)[2], p))
        _record_kill(newest)
        os.kill(newest, signal.SIGKILL)
        killed.append(newest)
        time.sleep(0.5)
    _wait_pool(master, n, watch, timeout=5, exclude=killed)
    assert _kids(master, state_z=True) == [], "the master left a dead worker unreaped"
    for i in range(3 * n):
        assert_status(anon_api.get("/health"), 200)
        r = api.get(f"/api/bikes/{bike['id']}")
        assert r.status_code == 200, f"request {i + 1} after the kills: {describe(r)}"


def test_sighup_replaces_every_worker_with_no_request_lost():
    master = _shared_master()
    n = _pool_size(master)
    watch = LogWatch(WORKER_LOG)
    old = _wait_pool(master, n, watch, timeout=10)
    with Stream() as stream:
        time.sleep(0.3)
        os.kill(master, signal.SIGHUP)
        _wait_pool(master, n, watch, timeout=30, exclude=old)
        time.sleep(0.3)
    assert stream.count >= 20, f"only {stream.count} requests during the replacement"
    assert stream.bad == [], f"{len(stream.bad)} of {stream.count} requests failed: {stream.bad[:5]}"


def test_sighup_takes_the_worker_count_from_workers_file():
    master = _shared_master()
    path = _environ(master).get("WORKERS_FILE")
    assert path, "the master was started without WORKERS_FILE (scripts/lib/workers.sh passes it)"
    n = _pool_size(master)
    watch = LogWatch(WORKER_LOG)
    old = _wait_pool(master, n, watch, timeout=10)
    saved = open(path).read() if os.path.exists(path) else None
    try:
        with Stream() as stream:
            with open(path, "w") as f:
                f.write(f"{n + 1}\n")
            os.kill(master, signal.SIGHUP)
            bigger = _wait_pool(master, n + 1, watch, timeout=30, exclude=old)
            if saved is None:
                os.unlink(path)
            else:
                with open(path, "w") as f:
                    f.write(saved)
            saved = False
            os.kill(master, signal.SIGHUP)
            _wait_pool(master, n, watch, timeout=30, exclude=bigger)
    finally:
        if saved is None and os.path.exists(path):
            os.unlink(path)
        elif saved:
            with open(path, "w") as f:
                f.write(saved)
    assert stream.bad == [], f"{len(stream.bad)} of {stream.count} requests failed: {stream.bad[:5]}"


# ---- private masters ----------------------------------------------------------------------

def test_sigterm_lets_the_request_in_hand_finish(private_master, user, api):
    m = private_master()
    m.wait_pool(2, timeout=15)
    body = json.dumps({"name": "Finished after SIGTERM", "type": "road"}).encode()
    req = Fcgi("/api/bikes", "POST", token=user.token, content_type="application/json",
               length=len(body)).start(m.sock_path)
    req.body(body[:10])
    time.sleep(0.5)  # a worker has taken it and waits for the rest of the body
    m.proc.send_signal(signal.SIGTERM)
    # The idle worker goes at once; the busy one stays for its request, and so does the master.
    deadline = time.monotonic() + 5
    while len(m.kids()) != 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(m.kids()) == 1, f"workers after SIGTERM with one request in hand: {m.kids()}"
    time.sleep(1)
    assert m.proc.poll() is None, f"the master left before its worker finished:\n{m.log()[-2000:]}"
    req.body(body[10:])
    status, _, text = req.finish()
    assert status == 201, f"the request in hand when SIGTERM came: {status} {text}"
    bike = json.loads(text)
    assert m.proc.wait(5) == 0, m.log()[-2000:]
    assert_status(api.get(f"/api/bikes/{bike['id']}"), 200)
    assert "died" not in m.log(), m.log()[-2000:]


def test_crash_loop_backs_off_and_never_gives_up(private_master):
    m = private_master()
    m.wait_pool(2, timeout=15)
    with open(m.jwks_path, "w") as f:
        f.write("not a JWKS")  # every new worker now refuses to start
    for pid in m.kids():
        os.kill(pid, signal.SIGKILL)
    time.sleep(6)
    died = re.findall(r"worker \d+ died \(exit status 1\) before it was ready", m.log())
    # 100 ms doubling (capped at 5 s): about seven failed starts in six seconds; without a
    # backoff a start that fails at once would be retried hundreds of times.
    assert 3 <= len(died) <= 14, f"{len(died)} failed starts in 6 s:\n{m.log()[-3000:]}"
    assert m.proc.poll() is None, f"the master gave up:\n{m.log()[-3000:]}"
    with open(m.jwks_path, "w") as f:
        f.write(_jwks())
    kids = m.wait_pool(2, timeout=10)
    assert len(kids) == 2
    status, _, text = Fcgi("/health").start(m.sock_path).finish()
    assert status == 200, text


def test_workers_die_with_the_master(private_master):
    m = private_master()
    kids = m.wait_pool(2, timeout=15)
    m.proc.kill()
    m.proc.wait()
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in kids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(p) for p in kids), f"workers outlived their master: {kids}"
    with pytest.raises(OSError):  # nobody holds the listening socket any more
        Fcgi("/health").start(m.sock_path).finish()


@pytest.mark.parametrize("env, stdin_socket, says", [
    ({"WORKERS": "0"}, True, "WORKERS must be a whole number"),
    ({"VEHICLE_ENV": "staging"}, True, "VEHICLE_ENV must be"),
    ({"SUPABASE_JWKS": "/nonexistent/jwks.json"}, True, "token keys"),
    ({}, False, "fd 0 is not a listening socket"),
])
def test_master_refuses_a_bad_configuration_before_forking(private_master, env, stdin_socket, says):
    m = private_master(env=env, stdin_socket=stdin_socket)
    try:
        code = m.proc.wait(10)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the master runs with {env}:\n{m.log()[-2000:]}")
    assert code == 2, m.log()
    assert says in m.log(), m.log()
    assert "started" not in m.log(), f"it forked first:\n{m.log()}"
