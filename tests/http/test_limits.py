"""Limits that mean what they say (src/ratelimit.c, src/routes.c, nginx/nginx.conf.in,
src/auth.c, src/health.c, fly.toml):

- one rule for an Authorization header, for access and the rate-limit bucket: "Bearer" in
  any case, one space, the token; every other form is 401 and counts per address;
- limits per user, shared by every worker: all of a user's tokens share one bucket (sent 8 at
  a time, so they land on different workers); a token the worker does not accept counts per
  address, so forging neither escapes limiting nor spends the forged sub's budget;
- /health/ready costs the database at most one check per worker per second, however many
  requests ask (counted in pg_stat_statements, not timed), and is never refused;
- a forwarded client address is believed only from the proxy.

Counts are bounds: a bucket passes its burst plus what refills while the test runs.
"""
import ipaddress
import os
import pathlib
import re
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import jwt
import psycopg2
import pytest

try:
    import tomllib
except ImportError:  # Python < 3.11
    tomllib = None

from support import (BASE_URL, DATABASE_URL, assert_error, claims_for, describe, fresh_source,
                     mint, session, stats_db)

pytestmark = pytest.mark.nginx

ROOT = pathlib.Path(__file__).resolve().parents[2]
WRITE_BURST = int(os.environ.get("RATE_BURST_WRITE", "20"))
ANON_BURST = int(os.environ.get("RATE_BURST_ANON", "20"))
OTHER_SECRET = "another-secret-that-is-also-32-chars-long!!"
ES256_KID = os.environ.get("TEST_ES256_KID", "")
ES256_KEY = os.environ.get("TEST_ES256_PRIVATE_KEY", "")
BOGUS = {"bogus": True}  # a write the worker refuses with 400 before the database


def _per_second(rate):
    n, unit = re.fullmatch(r"(\d+)r/([sm])", rate).groups()
    return int(n) / (60 if unit == "m" else 1)


WRITE_RATE = _per_second(os.environ.get("RATE_WRITE", "100r/m"))
ANON_RATE = _per_second(os.environ.get("RATE_ANON", "60r/m"))


def _fire(source, reqs, threads=8):
    """Sends reqs ((method, path, headers, json)) from one source address, 8 at a time.
    Returns (responses in order, seconds taken)."""
    def one(req):
        method, path, headers, body = req
        with session(source) as s:
            return s.request(method, BASE_URL + path, headers=headers, json=body, timeout=10)

    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=threads) as ex:
        rs = list(ex.map(one, reqs))
    return rs, time.monotonic() - t0


def _limit(burst, rate, secs):
    """Most requests a bucket lets through in secs: its burst, the first one, the refill."""
    return burst + 2 + int(rate * (secs + 1))


def _statuses(rs):
    return sorted({r.status_code for r in rs})


def _es256_token(sub, **over):
    if not (ES256_KID and ES256_KEY):
        pytest.skip("the stack has no ES256 JWKS key (TEST_ES256_KID, TEST_ES256_PRIVATE_KEY)")
    with open(ES256_KEY, "rb") as f:
        key = f.read()
    return jwt.encode(claims_for(sub, **over), key, algorithm="ES256", headers={"kid": ES256_KID})


# ---- the Authorization header: one rule --------------------------------------------------

ACCEPTED = ["Bearer {}", "bearer {}", "BEARER {}", "bEaReR {}"]
REFUSED = ["Bearer\t{}", "Bearer  {}", "Bearer \t{}", "Bearer {} x", "Bearer{}", "Bearer: {}",
           "Basic {}", "Token {}", "Bearer {},", "Bearer {}\t{}"]


@pytest.mark.parametrize("form", ACCEPTED)
def test_scheme_in_any_case_with_one_space_is_accepted(client, user, form):
    r = client(None).get("/api/bikes", headers={"Authorization": form.format(user.token)})
    assert r.status_code == 200, describe(r)


@pytest.mark.parametrize("form", REFUSED)
def test_any_other_form_is_401_from_the_worker(client, user, form):
    r = client(None).get("/api/bikes", headers={"Authorization": form.format(user.token, user.token)})
    assert_error(r, 401, "unauthorized")
    assert "X-Request-Id" in r.headers


def test_every_accepted_form_counts_in_the_users_one_bucket(make_user):
    # Alternating the forms of one token: every one is the user's (no early 429 from the
    # per-address bucket of requests without a token), and they share one budget.
    u = make_user(tag="rl")
    src = fresh_source()
    n = WRITE_BURST + 40
    reqs = [("POST", "/api/bikes", {"Authorization": ACCEPTED[i % 4].format(u.token)}, BOGUS)
            for i in range(n)]
    rs, secs = _fire(src, reqs)
    assert set(_statuses(rs)) <= {400, 429}, _statuses(rs)
    passed = [r for r in rs if r.status_code == 400]
    # Eight at a time, requests arrive out of index order: count, do not look at positions.
    # The whole burst passes (none fell into a per-address bucket of burst 20)...
    assert len(passed) >= WRITE_BURST, \
        f"only {len(passed)} of {n} passed: some forms were not counted as the user's"
    # ...and no more than one bucket's worth.
    assert len(passed) <= _limit(WRITE_BURST, WRITE_RATE, secs), \
        f"{len(passed)} of {n} passed: the forms are not one bucket"


def test_refused_forms_count_per_address(client, user):
    # nginx does not take a malformed header for the user's: limited like no token at all.
    src = fresh_source()
    n = ANON_BURST * 2 + 10
    reqs = [("GET", "/api/bikes", {"Authorization": REFUSED[i % 3].format(user.token)}, None)
            for i in range(n)]
    rs, secs = _fire(src, reqs)
    assert set(_statuses(rs)) <= {401, 429}, _statuses(rs)
    assert len([r for r in rs if r.status_code == 401]) <= _limit(ANON_BURST, ANON_RATE, secs)
    # ...while the same user's proper requests from that address are not held back.
    r = client(user.token, retry_429=False, source=src).get("/api/bikes")
    assert r.status_code == 200, describe(r)


# ---- per user, not per token ---------------------------------------------------------------

def test_tokens_of_one_user_share_one_bucket(make_user, client):
    u = make_user(tag="rl")
    tokens = [u.token, mint(claims_for(u.id, session_id=str(uuid.uuid4()), iat=int(time.time()) - 5))]
    if ES256_KID and ES256_KEY:
        tokens.append(_es256_token(u.id))
    assert len(set(tokens)) == len(tokens)
    for t in tokens:  # each is a good token on its own
        r = client(t, retry_429=False).get("/api/bikes")
        assert r.status_code == 200, describe(r)
    src = fresh_source()
    n = WRITE_BURST * 2 + 10
    reqs = [("POST", "/api/bikes", {"Authorization": f"Bearer {tokens[i % len(tokens)]}"}, BOGUS)
            for i in range(n)]
    rs, secs = _fire(src, reqs)
    assert set(_statuses(rs)) <= {400, 429}, _statuses(rs)
    passed = len([r for r in rs if r.status_code == 400])
    # The same count as with one token: the burst got through, then the user was limited.
    assert passed >= WRITE_BURST, f"only {passed} passed"
    assert passed <= _limit(WRITE_BURST, WRITE_RATE, secs), \
        f"{passed} of {n} writes passed with {len(tokens)} tokens of one user (burst {WRITE_BURST})"


def test_users_are_still_apart(make_user, client):
    a, b = make_user(tag="rl"), make_user(tag="rl")
    src = fresh_source()
    rs, _ = _fire(src, [("POST", "/api/bikes", {"Authorization": f"Bearer {a.token}"}, BOGUS)
                        for _ in range(WRITE_BURST * 2 + 10)])
    assert any(r.status_code == 429 for r in rs), "no 429 for the first user"
    r = client(b.token, retry_429=False, source=src).post("/api/bikes", json=BOGUS)
    assert_error(r, 400, "validation_error")


def _forged(sub, i):
    """Tokens with sub that nobody with our keys signed, a new one each time."""
    claims = claims_for(sub, jti=str(uuid.uuid4()))
    kind = i % 3
    if kind == 0:
        return mint(claims, secret=OTHER_SECRET)
    if kind == 1:  # a valid header and signature of another token, this payload
        h, _, s = mint(claims_for(sub, aud="x")).split(".")
        import base64
        import json
        p = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        return f"{h}.{p}.{s}"
    from cryptography.hazmat.primitives.asymmetric import ec
    return jwt.encode(claims, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256",
                      headers={"kid": ES256_KID or "some-kid"})


def test_forged_tokens_count_per_address(user):
    # Each forged token is new, so a bucket per token would never fill: they must count
    # against the sender's address.
    src = fresh_source()
    n = ANON_BURST * 2 + 10
    rs, secs = _fire(src, [("GET", "/api/bikes", {"Authorization": f"Bearer {_forged(user.id, i)}"}, None)
                           for i in range(n)])
    assert set(_statuses(rs)) <= {401, 429}, _statuses(rs)
    unlimited = len([r for r in rs if r.status_code == 401])
    assert unlimited <= _limit(ANON_BURST, ANON_RATE, secs), \
        f"{unlimited} of {n} forged tokens reached the worker (anonymous burst {ANON_BURST})"


def test_forged_tokens_do_not_spend_their_subs_budget(make_user, client):
    victim = make_user(tag="rl")
    rs, _ = _fire(fresh_source(), [("POST", "/api/bikes",
                                    {"Authorization": f"Bearer {_forged(victim.id, i)}"}, BOGUS)
                                   for i in range(WRITE_BURST + 20)])
    assert set(_statuses(rs)) <= {401, 429}, _statuses(rs)
    rs, _ = _fire(fresh_source(), [("POST", "/api/bikes", {"Authorization": f"Bearer {victim.token}"}, BOGUS)
                                   for _ in range(WRITE_BURST // 2)])
    assert _statuses(rs) == [400], f"the victim was limited by forged tokens: {_statuses(rs)}"


def test_retry_after_says_when_one_more_fits(make_user):
    # The worker's 429 tells the time until the user's bucket has room for one more request:
    # at RATE_WRITE one write drains in 1/rate seconds (0.6 s at 100r/m), not a minute.
    u = make_user(tag="rl")
    rs, _ = _fire(fresh_source(), [("POST", "/api/bikes", {"Authorization": f"Bearer {u.token}"}, BOGUS)
                                   for _ in range(WRITE_BURST * 2 + 10)])
    limited = [r for r in rs if r.status_code == 429]
    assert limited, _statuses(rs)
    wait = max(int(r.headers["Retry-After"]) for r in limited)
    assert 1 <= wait <= int(1 / WRITE_RATE) + 1, f"Retry-After {wait} at {WRITE_RATE:.2f} writes/s"


def test_unknown_routes_spend_the_budget_too(make_user, client):
    # The bucket is taken before the route is looked up, as nginx's limit_req was: a flood of
    # 404s is limited like any other requests of the user.
    u = make_user(tag="rl")
    rs, _ = _fire(fresh_source(), [("POST", "/api/no-such-route", {"Authorization": f"Bearer {u.token}"}, BOGUS)
                                   for _ in range(WRITE_BURST * 2 + 10)])
    assert set(_statuses(rs)) == {404, 429}, _statuses(rs)
    r = client(u.token, retry_429=False).post("/api/bikes", json=BOGUS)
    assert_error(r, 429, "rate_limited")


# ---- /health/ready: bounded database work ------------------------------------------------

def _ready_checks(cur, dbname):
    # src/health.c's statement; before it had a name it was a plain SELECT 1 (counted too, so
    # the test also measures the old code: nothing else runs one during the flood).
    cur.execute("SELECT coalesce(sum(s.calls), 0) FROM pg_stat_statements s"
                " JOIN pg_database d ON d.oid = s.dbid"
                " WHERE d.datname = %s"
                " AND (s.query LIKE '%%vehicle_health_ready%%' OR s.query = 'SELECT $1')", (dbname,))
    return int(cur.fetchone()[0])


def test_health_ready_flood_costs_one_check_per_worker_per_second(db):
    dbname = db.query("SELECT current_database()")[0][0]
    conn = stats_db()
    try:
        with conn.cursor() as cur:
            try:
                cur.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                _ready_checks(cur, dbname)
            except psycopg2.Error as e:
                pytest.skip(f"pg_stat_statements is not loaded (scripts/lib/pg.sh loads it): {e}")
            cur.execute("SELECT count(*) FROM pg_stat_activity"
                        " WHERE datname = %s AND application_name = 'vehicle-worker'", (dbname,))
            workers = int(cur.fetchone()[0])
            assert workers >= 1
            before = _ready_checks(cur, dbname)
            n = 400
            rs, secs = _fire(fresh_source(), [("GET", "/health/ready", {}, None)] * n, threads=16)
            checks = _ready_checks(cur, dbname) - before
    finally:
        conn.close()
    assert _statuses(rs) == [200], f"health checks refused: {_statuses(rs)}"
    bound = workers * (int(secs) + 2)
    assert checks <= bound, \
        f"{n} requests in {secs:.1f}s caused {checks} database checks ({workers} workers: at most {bound})"
    assert checks >= 1, "no check reached the database: is the statement the one counted?"


# ---- the forwarded client address ----------------------------------------------------------

def _render_realip(env):
    """The real-IP block scripts/lib/nginx.sh renders for these settings: (status, text)."""
    script = ('set -euo pipefail; . scripts/lib/common.sh; . scripts/lib/nginx.sh; '
              'stack_nginx_blocks; printf "%s" "$STACK_NGINX_REALIP"')
    base = {"ROOT": str(ROOT), "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PORT": "3003",
            "LISTEN_ADDR": "127.0.0.1", "CORS_ORIGINS": "http://localhost:3000",
            "INTERNAL_ALLOW": "127.0.0.1"}
    base.update(env)
    p = subprocess.run(["bash", "-c", script], cwd=ROOT, env=base, capture_output=True, text=True,
                       timeout=30)
    return p.returncode, p.stdout + p.stderr


def _trusted(text):
    return [ipaddress.ip_network(a, strict=False) for a in re.findall(r"set_real_ip_from ([^;]+);", text)]


def _covered(nets, addr):
    a = ipaddress.ip_address(addr)
    return any(a.version == n.version and a in n for n in nets)


@pytest.mark.skipif(tomllib is None, reason="needs Python 3.11 (tomllib)")
def test_fly_believes_the_forwarded_address_only_from_its_proxy():
    with open(ROOT / "fly.toml", "rb") as f:
        env = tomllib.load(f)["env"]
    assert env.get("REAL_IP_HEADER") == "Fly-Client-IP"
    rc, text = _render_realip({"REAL_IP_FROM": env.get("REAL_IP_FROM", ""),
                               "REAL_IP_HEADER": env["REAL_IP_HEADER"]})
    assert rc == 0, text
    nets = _trusted(text)
    assert "real_ip_header Fly-Client-IP;" in text, text
    assert _covered(nets, "172.16.5.9"), f"Fly's proxy is not trusted: {text}"
    # Other apps on the private network (6PN), and anyone on the internet, are not.
    for addr in ("fdaa:0:1234:a7b:1::2", "fdaa::3", "203.0.113.7", "8.8.8.8", "2001:db8::1",
                 "10.0.0.5", "192.168.1.2"):
        assert not _covered(nets, addr), f"{addr} may name its own client address: {text}"


@pytest.mark.parametrize("every", ["0.0.0.0/0", "::/0", "172.16.0.0/16 ::/0"])
def test_trusting_every_peer_is_refused(every):
    rc, text = _render_realip({"REAL_IP_FROM": every, "REAL_IP_HEADER": "Fly-Client-IP"})
    assert rc != 0, f"REAL_IP_FROM={every!r} was accepted: {text}"
    assert "REAL_IP_FROM" in text, text


def _stack_realip():
    """The running stack's trusted proxies and header, from its rendered nginx.conf."""
    conf = pathlib.Path(os.environ.get("VAR_DIR", ROOT / "var")) / "nginx" / "nginx.conf"
    if not conf.is_file():
        return [], None
    text = conf.read_text()
    m = re.search(r"real_ip_header ([^;]+);", text)
    return _trusted(text), (m.group(1) if m else None)


def _anon_flood(source, header, addrs):
    reqs = [("GET", "/api/bikes", {header: a, "X-Forwarded-For": a, "X-Real-IP": a}, None)
            for a in addrs]
    return _fire(source, reqs)


def test_forwarded_address_is_ignored_from_other_peers():
    nets, header = _stack_realip()
    src = fresh_source()
    if src is None or _covered(nets, src):
        pytest.skip("needs a client address that is not a trusted proxy")
    n = ANON_BURST * 2 + 10
    rs, secs = _anon_flood(src, header or "Fly-Client-IP", [f"198.51.100.{i % 250 + 1}" for i in range(n)])
    assert set(_statuses(rs)) <= {401, 429}, _statuses(rs)
    passed = len([r for r in rs if r.status_code == 401])
    assert passed <= _limit(ANON_BURST, ANON_RATE, secs), \
        f"{passed} of {n} passed: a header chose the bucket of an untrusted peer"


def test_forwarded_address_is_believed_from_the_proxy():
    # The other half: from the proxy the header does choose the bucket, so the test above
    # is not passing merely because nothing is ever believed.
    nets, header = _stack_realip()
    if not header or not _covered(nets, "127.0.0.1"):
        pytest.skip("the stack trusts no proxy at 127.0.0.1 (REAL_IP_FROM)")
    n = ANON_BURST * 2 + 10
    rs, _ = _anon_flood("127.0.0.1", header, [f"198.51.{100 + i // 250}.{i % 250 + 1}" for i in range(n)])
    assert _statuses(rs) == [401], f"clients of the proxy share a bucket: {_statuses(rs)}"
    rs, secs = _anon_flood("127.0.0.1", header, ["192.0.2.77"] * n)
    passed = len([r for r in rs if r.status_code == 401])
    assert passed <= _limit(ANON_BURST, ANON_RATE, secs), f"{passed} of {n} passed for one client"
