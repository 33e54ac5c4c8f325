"""What nginx adds in front of the workers (nginx/nginx.conf.in): CORS, the 64 KiB body cap,
rate limits, request ids, and JSON for the errors it produces itself.

These need the real nginx config; against a bare nginx they fail, by design.
CORS_ORIGINS (as given to the stack; default http://localhost:3000) names the allowed origin.
Rate-limit tests each use a fresh user, so their buckets are theirs alone.
"""
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from support import BASE_URL, assert_error, assert_status, describe, session

pytestmark = pytest.mark.nginx

ORIGIN = (os.environ.get("CORS_ORIGINS", "").replace(",", " ").split() or ["http://localhost:3000"])[0]
if ORIGIN == "*":
    ORIGIN = "http://localhost:3000"
BAD_ORIGIN = "https://evil.example"

# Writes per user: 100 r/m with a burst of 20 by default (RATE_WRITE, RATE_BURST_WRITE).
WRITE_BURST = int(os.environ.get("RATE_BURST_WRITE", "20"))


def _csv(v):
    return {x.strip().lower() for x in (v or "").split(",") if x.strip()}


# ---- CORS --------------------------------------------------------------------------------

def test_cors_preflight_allowed_origin(client):
    r = client().request("OPTIONS", "/api/bikes", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert r.status_code == 204, describe(r)
    assert r.headers.get("Access-Control-Allow-Origin") == ORIGIN, describe(r) + f" {dict(r.headers)}"
    assert {"get", "post", "patch", "delete"} <= _csv(r.headers.get("Access-Control-Allow-Methods"))
    assert {"authorization", "content-type"} <= _csv(r.headers.get("Access-Control-Allow-Headers"))
    assert r.headers.get("Access-Control-Max-Age"), dict(r.headers)


def test_cors_preflight_on_item_route(client):
    r = client().request("OPTIONS", "/api/bikes/00000000-0000-4000-8000-000000000000", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "PATCH"})
    assert r.status_code == 204, describe(r)
    assert r.headers.get("Access-Control-Allow-Origin") == ORIGIN


def test_cors_preflight_disallowed_origin_gets_no_cors_headers(client):
    r = client().request("OPTIONS", "/api/bikes", headers={
        "Origin": BAD_ORIGIN, "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in r.headers, dict(r.headers)
    assert "Access-Control-Allow-Methods" not in r.headers, dict(r.headers)


def test_cors_simple_request_exposes_headers(api):
    r = api.get("/api/bikes", headers={"Origin": ORIGIN})
    assert_status(r, 200)
    assert r.headers.get("Access-Control-Allow-Origin") == ORIGIN, dict(r.headers)
    assert "x-total-count" in _csv(r.headers.get("Access-Control-Expose-Headers")), dict(r.headers)
    assert "origin" in _csv(r.headers.get("Vary")), dict(r.headers)


def test_cors_headers_on_errors_too(anon_api):
    # A browser must be able to read a 401.
    r = anon_api.get("/api/bikes", headers={"Origin": ORIGIN})
    assert_error(r, 401, "unauthorized")
    assert r.headers.get("Access-Control-Allow-Origin") == ORIGIN, dict(r.headers)


def test_cors_disallowed_origin_on_request(api):
    r = api.get("/api/bikes", headers={"Origin": BAD_ORIGIN})
    assert_status(r, 200)
    assert "Access-Control-Allow-Origin" not in r.headers, dict(r.headers)


# ---- request id, headers -------------------------------------------------------------------

def test_request_id_on_every_response(api, anon_api):
    ids = set()
    for r in (api.get("/api/bikes"), anon_api.get("/health"), api.get("/api/nope")):
        rid = r.headers.get("X-Request-Id", "")
        assert rid and "," not in rid, f"one X-Request-Id expected: {describe(r)} {dict(r.headers)}"
        ids.add(rid)
    assert len(ids) == 3
    assert r.headers.get("X-Content-Type-Options") == "nosniff"


# ---- body cap --------------------------------------------------------------------------------

def test_body_over_64k_is_413_json(api):
    body = b'{"name":"x","type":"road","metadata":{"pad":"' + b"x" * (64 * 1024) + b'"}}'
    r = api.post("/api/bikes", data=body, headers={"Content-Type": "application/json"})
    assert_error(r, 413, "payload_too_large")
    assert assert_status(api.get("/api/bikes"), 200) == []


def test_body_just_under_64k_reaches_the_worker(api):
    # Under the cap: the worker answers (here 400: metadata over 16 KiB), not nginx.
    pad = 64 * 1024 - 200
    body = b'{"name":"x","type":"road","metadata":{"pad":"' + b"x" * pad + b'"}}'
    r = api.post("/api/bikes", data=body, headers={"Content-Type": "application/json"})
    assert_error(r, 400, "validation_error", {"metadata"})


# ---- errors nginx produces are JSON -----------------------------------------------------------

def test_nginx_400_is_json():
    # A request line nginx itself refuses.
    with session() as s:
        r = s.get(BASE_URL + "/api/bikes/%00", timeout=10)
    assert_error(r, 400, "validation_error")


# ---- rate limits -----------------------------------------------------------------------------
# Each test's clients connect from a fresh source address where the service is on loopback
# (support.fresh_source), so the per-address limits start empty too.

def _burst(c, n, method, path, **kw):
    """n requests at once from 8 threads, from c's source address, with c's headers; no retry."""
    headers = dict(c.s.headers)

    def one(_):
        with session(c.source) as s:
            return s.request(method, c.url(path), headers=headers, timeout=10, **kw)

    with ThreadPoolExecutor(max_workers=8) as ex:
        return list(ex.map(one, range(n)))


def _assert_429(r):
    assert_error(r, 429, "rate_limited")
    ra = r.headers.get("Retry-After", "")
    assert ra.isdigit() and int(ra) > 0, f"Retry-After {ra!r}: {dict(r.headers)}"


def test_write_burst_is_rate_limited(make_user, client):
    u = make_user(tag="rl")
    c = client(u.token, retry_429=False)
    # Invalid writes (400 from the worker) count like any others and create nothing.
    rs = _burst(c, WRITE_BURST * 2 + 10, "POST", "/api/bikes", json={"bogus": True})
    limited = [r for r in rs if r.status_code == 429]
    others = {r.status_code for r in rs if r.status_code != 429}
    assert limited, f"no 429 in {len(rs)} writes: statuses {sorted({r.status_code for r in rs})}"
    assert others <= {400}, f"unexpected statuses {others}"
    # At least the burst got through before limiting started.
    assert len(rs) - len(limited) >= WRITE_BURST, f"only {len(rs) - len(limited)} writes passed"
    _assert_429(limited[0])


def test_rate_limit_is_per_user(make_user, client):
    # (All of one user's tokens share the bucket: test_limits.py.)
    a = make_user(tag="rl")
    b = make_user(tag="rl")
    ca = client(a.token, retry_429=False)
    rs = _burst(ca, WRITE_BURST * 2 + 10, "POST", "/api/bikes", json={"bogus": True})
    assert any(r.status_code == 429 for r in rs), "no 429 for the first user"
    # Same address, another user's token: not held back by the first one's budget.
    cb = client(b.token, retry_429=False, source=ca.source)
    r = cb.post("/api/bikes", json={"name": "fresh", "type": "road"})
    assert r.status_code == 201, describe(r)
    # Reads have their own budget: the limited token can still read.
    r = ca.get("/api/bikes")
    assert r.status_code == 200, f"reads limited by the write budget: {describe(r)}"
    # ...while its writes are still limited.
    _assert_429(ca.post("/api/bikes", json={"bogus": True}))


def test_read_burst_is_rate_limited(make_user, client):
    u = make_user(tag="rl")
    c = client(u.token, retry_429=False)
    read_burst = int(os.environ.get("RATE_BURST_READ", "50"))
    rs = _burst(c, read_burst * 2 + 20, "GET", "/api/bikes")
    assert {r.status_code for r in rs} <= {200, 429}, sorted({r.status_code for r in rs})
    limited = [r for r in rs if r.status_code == 429]
    assert limited, f"no 429 in {len(rs)} reads"
    _assert_429(limited[0])


def test_requests_without_token_are_limited_per_address(client):
    c = client(None, retry_429=False)
    anon_burst = int(os.environ.get("RATE_BURST_ANON", "20"))
    rs = _burst(c, anon_burst * 2 + 10, "GET", "/api/bikes")
    assert {r.status_code for r in rs} <= {401, 429}, sorted({r.status_code for r in rs})
    limited = [r for r in rs if r.status_code == 429]
    assert limited, f"no 429 in {len(rs)} requests without a token"
    _assert_429(limited[0])


def test_health_is_never_rate_limited(client):
    c = client(None, retry_429=False)
    rs = _burst(c, 60, "GET", "/health") + _burst(c, 30, "GET", "/health/ready")
    assert {r.status_code for r in rs} == {200}
