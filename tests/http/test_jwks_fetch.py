"""Keys that rotate (issue 12, point 2): the instance's one key fetcher keeps the workers' key
set in step with $SUPABASE_URL/auth/v1/.well-known/jwks.json.

The stack must run with SUPABASE_URL pointing at tests/http/jwks_server.py (a stand-in for
Supabase that the tests steer through the files of JWKS_CTL) and a short JWKS_REFRESH_S;
scripts/test (and scripts/.privstack-jwks) start it so. Static keys (SUPABASE_JWT_SECRET,
SUPABASE_JWKS) stay configured: the fetched set adds to them.

Every request of the stack's tests goes through nginx. The production-start test runs a
master of its own (no static key, Supabase unreachable at first), spoken to in FastCGI.
"""
import base64
import json
import os
import subprocess
import sys
import tempfile
import time

import jwt
import pytest
import requests

from support import Api, claims_for, describe, user_token
from test_supervisor import Fcgi, private_master  # noqa: F401 (a fixture)

CTL = os.environ.get("JWKS_CTL", "")
REFRESH = float(os.environ.get("JWKS_REFRESH_S", "0") or 0)
VAR_DIR = os.environ.get("VAR_DIR", "")
MISS_INTERVAL = 30.0  # KEYSHARE_MISS_INTERVAL_MS
HERE = os.path.dirname(os.path.abspath(__file__))

pytestmark = pytest.mark.skipif(
    not CTL or not 0 < REFRESH <= 5,
    reason="needs the stack started with SUPABASE_URL at jwks_server.py (JWKS_CTL) and JWKS_REFRESH_S <= 5")


# ---- keys and the stand-in server ----------------------------------------------------------

class Key:
    """A fresh ES256 key pair: its public JWK and tokens signed with it."""

    def __init__(self, tag):
        from cryptography.hazmat.primitives.asymmetric import ec
        self.kid = f"rot-{tag}-{os.urandom(4).hex()}"
        self.private = ec.generate_private_key(ec.SECP256R1())
        pub = self.private.public_key().public_numbers()

        def b64(n):
            return base64.urlsafe_b64encode(n.to_bytes(32, "big")).rstrip(b"=").decode()
        self.jwk = {"kty": "EC", "crv": "P-256", "x": b64(pub.x), "y": b64(pub.y), "kid": self.kid,
                    "alg": "ES256", "use": "sig"}

    def token(self, sub):
        return jwt.encode(claims_for(sub), self.private, algorithm="ES256", headers={"kid": self.kid})


def _write(dirpath, name, text):
    tmp = os.path.join(dirpath, name + ".tmp")
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, os.path.join(dirpath, name))


def serve(keys, ctl=None):
    """The server answers 200 with exactly these keys from now on."""
    ctl = ctl or CTL
    _write(ctl, "jwks.json", json.dumps({"keys": [k.jwk for k in keys]}))
    _write(ctl, "mode", "serve")


def set_mode(mode, ctl=None):
    _write(ctl or CTL, "mode", mode)


def hits(ctl=None, reason=None, since=0.0, mode=None):
    """The server's requests: (time, mode, X-Fetch-Reason) after since."""
    try:
        with open(os.path.join(ctl or CTL, "hits")) as f:
            lines = f.read().split("\n")
    except OSError:
        return []
    out = []
    for line in lines:
        parts = line.split()
        if len(parts) < 3:
            continue
        t = float(parts[0])
        if t > since and (reason is None or parts[2] == reason) and (mode is None or parts[1] == mode):
            out.append((t, parts[1], parts[2]))
    return out


def wait_fetch(since, reason=None, mode=None, timeout=None):
    """Waits until the fetcher asked after since (and for the answer to reach the workers)."""
    deadline = time.time() + (timeout or 3 * REFRESH + 8)
    while time.time() < deadline:
        got = hits(reason=reason, since=since, mode=mode)
        if got:
            time.sleep(0.4)  # the fetch's answer, published, then read by the next request
            return got[0][0]
        time.sleep(0.05)
    pytest.fail(f"no fetch ({reason or 'any'}, mode {mode or 'any'}) within the wait; hits: {hits()[-5:]}")


def wait_refresh():
    """Waits for the next periodic fetch that starts after now."""
    return wait_fetch(time.time(), reason="refresh")


def wait_miss_window():
    """Waits until a kid-miss refetch is allowed again (one per 30 s per instance)."""
    last = max([t for t, _, _ in hits(reason="kid-miss")] or [0])
    wait = last + MISS_INTERVAL + 0.5 - time.time()
    if wait > 0:
        time.sleep(wait)


def status(token, path="/api/bikes"):
    r = Api(token).get(path)
    return r.status_code, r


def statuses(token, n=12):
    """Several requests, so that every worker (and its token cache) is asked."""
    return [status(token)[0] for _ in range(n)]


@pytest.fixture(scope="module")
def base_key():
    """A fetched key every test may rely on, and the static keys' set restored at the end."""
    try:
        with open(os.path.join(CTL, "jwks.json")) as f:
            original = f.read()
    except OSError:
        original = '{"keys":[]}'
    k = Key("base")
    serve([k])
    wait_refresh()
    yield k
    _write(CTL, "jwks.json", original)
    set_mode("serve")


# ---- the stack's fetcher -------------------------------------------------------------------

def test_fetched_key_gets_the_users_rate_limit_bucket(base_key, user):
    # The bucket comes from the worker's verdict (src/ratelimit.c) with every key it has: a
    # token it cannot verify counts per address (RATE_ANON's burst, 20 by default), one it can
    # per user (RATE_READ's burst, far larger here). So a burst of reads past the anonymous
    # burst, from one address, with a token of a fetched-only key, must see no 429.
    anon_burst = int(os.environ.get("RATE_BURST_ANON", "20"))
    c = Api(base_key.token(user.id), retry_429=False)
    try:
        got = [c.get("/api/bikes").status_code for _ in range(anon_burst + 15)]
    finally:
        c.close()
    assert 429 not in got, f"a fetched key's token was limited as anonymous: {got}"
    assert set(got) == {200}, got


def test_unknown_kid_refetches_at_once(base_key, user):
    wait_miss_window()
    new = Key("miss")
    serve([base_key, new])
    t0 = time.time()
    code, r = status(new.token(user.id))
    took = time.time() - t0
    assert code == 200, f"a token of a key just published was refused: {describe(r)}"
    assert took < 2.5, f"the kid-miss refetch took {took:.2f}s (the wait is bounded at about 1 s)"
    assert hits(reason="kid-miss", since=t0 - 0.01), "no kid-miss fetch reached the server"


def test_kid_miss_refetch_at_most_once_per_30s_then_refresh_brings_the_key(base_key, user):
    # Closes the window (if it is open): one token of a kid nobody serves.
    stranger = Key("stranger")
    status(stranger.token(user.id))
    t0 = time.time()
    new = Key("later")
    serve([base_key, new])
    for _ in range(6):
        s = time.time()
        code, r = status(new.token(user.id))
        assert code == 401, f"no kid-miss refetch was allowed, so the new kid is unknown yet: {describe(r)}"
        assert time.time() - s < 0.8, "a refused kid miss must not wait for a refetch"
    assert hits(reason="kid-miss", since=t0) == [], "more than one kid-miss refetch per 30 s"
    # The periodic refresh brings it without any request asking.
    wait_refresh()
    assert statuses(new.token(user.id)) == [200] * 12


def test_removed_key_refused_after_next_refresh_even_if_cached(base_key, user):
    gone = Key("gone")
    serve([base_key, gone])
    wait_refresh()
    tok = gone.token(user.id)
    assert statuses(tok) == [200] * 12  # verified, and kept in each worker's token cache
    serve([base_key])
    wait_refresh()
    got = statuses(tok)
    assert got == [401] * 12, f"a token of a removed key is still accepted: {got}"
    assert statuses(base_key.token(user.id)) == [200] * 12


@pytest.mark.parametrize("mode", ["500", "junk", "empty", "nokey", "bad", "big", "hang", "down"])
def test_failed_fetch_keeps_the_last_keys(base_key, user, mode):
    hs = user_token(user.id)
    assert statuses(base_key.token(user.id), 4) == [200] * 4
    t0 = time.time()
    set_mode(mode)
    try:
        if mode == "down":
            time.sleep(2 * REFRESH + 1)  # refused connections leave no hit to wait for
        else:
            wait_fetch(t0, mode=mode)
        # While a fetch hangs (or just failed), requests are answered at once, with the keys
        # of the last good set and the static ones.
        s = time.time()
        assert statuses(base_key.token(user.id)) == [200] * 12
        assert statuses(hs, 4) == [200] * 4
        assert time.time() - s < 5, "requests waited on a failing fetch"
    finally:
        serve([base_key])
    # The fetcher goes on after the failure: a key added now arrives with a refresh.
    extra = Key("after-" + mode)
    serve([base_key, extra])
    wait_fetch(time.time(), mode="serve", timeout=30)  # a hung fetch first runs into its timeout
    assert statuses(extra.token(user.id), 4) == [200] * 4


def _master_children():
    with open(os.path.join(VAR_DIR, "run", "workers.pid")) as f:
        master = int(f.read().strip())
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                text = f.read()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()
        if int(fields[1]) == master and fields[0] != "Z":
            out.append(text[text.index("(") + 1:text.rindex(")")])
    return out


def test_one_fetcher_per_instance(base_key):
    kids = _master_children() if VAR_DIR else []
    if VAR_DIR:
        assert kids.count("vehicle-jwks") == 1, f"the master's children: {kids}"
        assert len(kids) > 2, f"the stack should have several workers: {kids}"
    span = 3 * REFRESH + 0.5
    t0 = time.time()
    time.sleep(span)
    n = len([h for h in hits(since=t0) if h[2] == "refresh"])
    # One fetcher: about span/REFRESH fetches; one per worker would be several times that.
    assert 2 <= n <= 4, f"{n} refreshes in {span:.1f}s with JWKS_REFRESH_S={REFRESH:g}"


# ---- production start without Supabase -----------------------------------------------------

@pytest.fixture
def own_server():
    d = tempfile.mkdtemp(prefix="vs-jwks-")
    _write(d, "jwks.json", '{"keys":[]}')
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "jwks_server.py"), d],
                            stdin=subprocess.DEVNULL)
    for _ in range(100):
        if os.path.exists(os.path.join(d, "port")):
            break
        time.sleep(0.05)
    with open(os.path.join(d, "port")) as f:
        port = int(f.read())
    yield d, port
    _write(d, "stop", "")
    proc.terminate()
    proc.wait(10)


def _fcgi(sock, path, token=None):
    code, _, text = Fcgi(path, token=token).start(sock).finish()
    try:
        return code, json.loads(text)
    except ValueError:
        return code, text


def test_production_start_without_supabase_serves_503_then_ready(own_server, private_master, user):
    ctl, port = own_server
    set_mode("down", ctl)
    time.sleep(0.3)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/", timeout=2)
    m = private_master(env={"VEHICLE_ENV": "production", "SUPABASE_URL": f"http://127.0.0.1:{port}",
                            "JWKS_REFRESH_S": "1", "SUPABASE_JWT_SECRET": None, "SUPABASE_JWKS": None})
    key = Key("prod")
    tok = key.token(user.id)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            if _fcgi(m.sock_path, "/health")[0] == 200:
                break
        except OSError:
            pass
        time.sleep(0.2)
    else:
        pytest.fail(f"the workers never answered /health:\n{m.log()[-3000:]}")
    # /health answers before the fetcher's first attempt has failed: until then, ready says so.
    deadline = time.time() + 10
    while True:
        code, body = _fcgi(m.sock_path, "/health/ready")
        first = isinstance(body, dict) and \
            body.get("details", {}).get("token_keys") == "no fetch has finished yet"
        if not first or time.time() > deadline:
            break
        time.sleep(0.1)
    assert code == 503, body
    assert isinstance(body, dict) and body.get("error") == "unavailable", body
    assert "reach" in body.get("details", {}).get("token_keys", ""), body
    code, body = _fcgi(m.sock_path, "/api/bikes", tok)
    assert code == 503, f"a token that may well be good is not 401 while no key is there: {body}"
    assert "died" not in m.log(), m.log()[-3000:]
    serve([key], ctl)
    deadline = time.time() + 15
    while time.time() < deadline and _fcgi(m.sock_path, "/health/ready")[0] != 200:
        time.sleep(0.2)
    code, body = _fcgi(m.sock_path, "/health/ready")
    assert code == 200, body
    code, body = _fcgi(m.sock_path, "/api/bikes", tok)
    assert code == 200, body
    assert "key set changed: +" + key.kid in m.log()
