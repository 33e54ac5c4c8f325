"""Shared helpers of the black-box HTTP suite: configuration, tokens, the API client and the
assertions on the error shape. Fixtures built on these live in conftest.py.

Environment (see tests/http/README.md):
  BASE_URL             the service, e.g. http://127.0.0.1:3013 (nginx in front of the workers)
  DATABASE_URL         libpq conninfo of the same database, as a superuser (fixtures only)
  SUPABASE_JWT_SECRET  the HS256 secret the workers verify tokens with
  PG_CTL, PG_START_OPTS  used by the database-outage test only
"""
import base64
import json
import os
import re
import threading
import time
import uuid

import ipaddress
import itertools
import urllib.parse

import jwt
import requests
from requests.adapters import HTTPAdapter

BASE_URL = os.environ.get("BASE_URL", "").rstrip("/")
DATABASE_URL = os.environ.get("DATABASE_URL", "")
JWT_SECRET = os.environ.get("SUPABASE_JWT_SECRET", "")

# Every request gets a timeout: a hang is a failure, never a stuck suite.
TIMEOUT = 10

RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# Texts that must never reach a client (api-notes: no stack trace, SQL text or SQLSTATE).
LEAKS = ("SQLSTATE", "syntax error at", "violates ", "pq_", "PGRES", "Traceback", "segfault")

_UNSET = object()

# 429s absorbed by the client's retry (see Api.request); reported at the end of the run.
RETRIED_429 = {"count": 0}
_retry_lock = threading.Lock()


def b64url(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_for(sub, **over):
    """A user token's claims; keyword overrides replace claims, a value of None drops one."""
    now = int(time.time())
    c = {
        "sub": sub,
        "aud": "authenticated",
        "role": "authenticated",
        "iat": now,
        "exp": now + 3600,
    }
    for k, v in over.items():
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    return c


def mint(claims, secret=None, algorithm="HS256", headers=None):
    """Signs claims with PyJWT (HS256 by default, with the service's secret)."""
    return jwt.encode(claims, JWT_SECRET if secret is None else secret, algorithm=algorithm,
                      headers=headers)


def mint_unsigned(claims):
    """An `alg: none` token: header.payload. with an empty signature."""
    header = b64url(json.dumps({"alg": "none", "typ": "JWT"}))
    payload = b64url(json.dumps(claims))
    return f"{header}.{payload}."


def user_token(sub, email=None, **over):
    c = claims_for(sub, **over)
    if email is not None and "email" not in over:
        c["email"] = email
    return mint(c)


def _loopback_base():
    host = urllib.parse.urlsplit(BASE_URL).hostname or ""
    try:
        return ipaddress.ip_address(host).version == 4 and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# nginx limits requests per client address too (RATE_ADDR, RATE_ANON), and the whole suite runs
# from one machine. When the service is on an IPv4 loopback address, each client connects from
# its own source address in 127.0.0.0/8 (Linux routes all of it to lo), so one test's requests
# never eat into another's per-address budget, and the rate-limit tests start from a fresh one.
SPREAD_SOURCES = _loopback_base() and os.environ.get("HTTP_TEST_SPREAD_SOURCES", "1") != "0"
# A random starting point, so a run does not inherit the buckets a previous run emptied.
_all_sources = [f"127.{a}.{b}.{c}" for a in (0, 1) for b in range(1, 255) for c in range(2, 255)]
_start = int.from_bytes(os.urandom(4), "big") % len(_all_sources)
_sources = itertools.cycle(_all_sources[_start:] + _all_sources[:_start])
_sources_lock = threading.Lock()


def fresh_source():
    """A source address for a new client, or None (the OS picks) when not spreading."""
    if not SPREAD_SOURCES:
        return None
    with _sources_lock:
        return next(_sources)


class _SourceAdapter(HTTPAdapter):
    def __init__(self, source, **kw):
        self._source = source
        super().__init__(**kw)

    def init_poolmanager(self, connections, maxsize, block=False, **pool_kwargs):
        pool_kwargs["source_address"] = (self._source, 0)
        super().init_poolmanager(connections, maxsize, block=block, **pool_kwargs)


def session(source=_UNSET, pool=10):
    """A requests.Session connecting from `source` (default: a fresh one, see fresh_source)."""
    s = requests.Session()
    if source is _UNSET:
        source = fresh_source()
    if source:
        adapter = _SourceAdapter(source, pool_connections=pool, pool_maxsize=pool)
        s.mount("http://", adapter)
        s.mount("https://", adapter)
    return s


def describe(resp):
    """One line that says what was asked and what came back, for assertion messages."""
    req = resp.request
    body = resp.text
    if len(body) > 600:
        body = body[:600] + "..."
    return f"{req.method} {req.url} -> {resp.status_code} {resp.headers.get('Content-Type')} {body!r}"


class Api:
    """A requests.Session bound to BASE_URL, with a Bearer token when given one.

    request(method, path, json=..., data=..., headers=..., params=...) returns the
    requests.Response. `json=` sends a JSON body (Content-Type application/json); `data=`
    sends raw bytes with whatever headers are given.

    Each client connects from its own source address where it can (see fresh_source); should
    nginx's per-address limit still bite, a 429 is retried after a short pause (nginx answers
    a 429 without passing the request on, so even a POST is safe to resend) and the count is
    reported at the end of the run. Rate-limit tests use retry_429=False.
    """

    def __init__(self, token=None, retry_429=True, base_url=None, source=_UNSET):
        self.base = (base_url or BASE_URL).rstrip("/")
        self.token = token
        self.retry_429 = retry_429
        self.source = fresh_source() if source is _UNSET else source
        self.s = session(self.source)
        if token is not None:
            self.s.headers["Authorization"] = f"Bearer {token}"

    def url(self, path):
        return self.base + path

    def request(self, method, path, json=_UNSET, data=None, headers=None, params=None,
                timeout=TIMEOUT):
        kw = {"headers": headers, "params": params, "timeout": timeout, "allow_redirects": False}
        if json is not _UNSET:
            kw["json"] = json
        if data is not None:
            kw["data"] = data
        deadline = time.monotonic() + 8
        pause = 0.1
        while True:
            resp = self.s.request(method, self.url(path), **kw)
            if resp.status_code != 429 or not self.retry_429 or time.monotonic() > deadline:
                return resp
            with _retry_lock:
                RETRIED_429["count"] += 1
            time.sleep(pause)
            pause = min(pause * 2, 1.0)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def close(self):
        self.s.close()


def json_body(resp):
    """The parsed JSON body; fails the test (with the response) when it is not JSON."""
    ct = resp.headers.get("Content-Type", "")
    assert ct.split(";")[0].strip().lower() == "application/json", \
        f"expected a JSON Content-Type: {describe(resp)}"
    try:
        return resp.json()
    except ValueError:
        raise AssertionError(f"body is not JSON: {describe(resp)}") from None


def assert_no_leak(resp):
    for s in LEAKS:
        assert s not in resp.text, f"response leaks internals ({s!r}): {describe(resp)}"


def assert_error(resp, status, code, fields=None, exact=False):
    """Asserts the API's error shape: status, {"error": code, "message": text, "details"?}.

    fields: the field names details must name (each with a non-empty problem text);
    exact=True: and no others.
    """
    assert resp.status_code == status, f"expected {status} {code}: {describe(resp)}"
    body = json_body(resp)
    assert isinstance(body, dict), describe(resp)
    assert body.get("error") == code, f"expected error {code!r}: {describe(resp)}"
    assert isinstance(body.get("message"), str) and body["message"], \
        f"error without a message: {describe(resp)}"
    assert_no_leak(resp)
    if fields is not None:
        details = body.get("details")
        assert isinstance(details, dict), f"expected details naming {sorted(fields)}: {describe(resp)}"
        missing = set(fields) - set(details)
        assert not missing, f"details do not name {sorted(missing)}: {describe(resp)}"
        for f in fields:
            assert isinstance(details[f], str) and details[f], \
                f"details.{f} is not a problem text: {describe(resp)}"
        if exact:
            extra = set(details) - set(fields)
            assert not extra, f"details name fields that were fine: {sorted(extra)}: {describe(resp)}"
    return body


def assert_status(resp, status):
    """Asserts a success status and a JSON body; returns the body."""
    assert resp.status_code == status, f"expected {status}: {describe(resp)}"
    return json_body(resp)


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def parse_ts(s):
    """An RFC 3339 UTC timestamp of the API ('...Z', fraction optional) as an aware datetime."""
    import datetime
    assert isinstance(s, str) and RFC3339_UTC.match(s), f"not RFC 3339 UTC: {s!r}"
    main, _, frac = s[:-1].partition(".")
    dt = datetime.datetime.strptime(main, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return dt + datetime.timedelta(microseconds=int((frac + "000000")[:6]) if frac else 0)


def random_uuid():
    return str(uuid.uuid4())


def unique_email(tag="u"):
    return f"http-{tag}-{uuid.uuid4().hex[:16]}@example.test"


def stats_db():
    """An autocommit connection to the cluster's maintenance database, where
    pg_stat_statements lives (so the service's database gets no extension); skips the test
    when the cluster has not loaded it (scripts/lib/pg.sh does)."""
    import psycopg2
    import pytest
    try:
        conn = psycopg2.connect(DATABASE_URL, dbname="postgres", connect_timeout=5)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            cur.execute("SELECT 1 FROM pg_stat_statements LIMIT 1")
    except psycopg2.Error as e:
        pytest.skip(f"pg_stat_statements is not loaded (scripts/lib/pg.sh loads it): {e}")
    return conn
