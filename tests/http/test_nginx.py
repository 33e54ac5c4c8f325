"""What nginx adds in front of the workers (nginx/nginx.conf.in): CORS, the 64 KiB body cap,
rate limits, request ids, JSON (with Cache-Control: no-store and a charset) for the errors it
produces itself, TRACE's 405 with the path's Allow, and HEAD wherever GET works.

These need the real nginx config; against a bare nginx they fail, by design.
CORS_ORIGINS (as given to the stack; default http://localhost:3000) names the allowed origin.
Rate-limit tests each use a fresh user, so their buckets are theirs alone.
"""
import http.client
import json
import os
import socket
import urllib.parse
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


def _raw(request, timeout=10):
    """Sends raw bytes (requests would refuse to send them) and parses the answer."""
    u = urllib.parse.urlsplit(BASE_URL)
    with socket.create_connection((u.hostname, u.port or 80), timeout=timeout) as sock:
        sock.sendall(request)
        resp = http.client.HTTPResponse(sock, method=request.split(b" ", 1)[0].decode())
        resp.begin()
        body = resp.read()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body


def _assert_nginx_json(status, headers, body, want_status, want_code):
    what = f"{status} {headers} {body[:300]!r}"
    assert status == want_status, what
    assert headers.get("content-type", "").replace(" ", "").lower() == \
        "application/json;charset=utf-8", what
    assert headers.get("cache-control") == "no-store", what
    doc = json.loads(body)
    assert doc.get("error") == want_code and doc.get("message"), what


def test_nginx_501_unknown_transfer_encoding_is_json():
    st, h, body = _raw(b"POST /api/bikes HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n"
                       b"Connection: close\r\n\r\n")
    _assert_nginx_json(st, h, body, 501, "not_implemented")


def test_nginx_505_http_2_request_line_is_json():
    st, h, body = _raw(b"GET /health HTTP/2.0\r\nHost: t\r\nConnection: close\r\n\r\n")
    _assert_nginx_json(st, h, body, 505, "http_version_not_supported")


def test_nginx_errors_carry_no_store_and_charset(api):
    # 400 (a request line nginx refuses) and 413 (the body cap), both nginx's own.
    st, h, body = _raw(b"GET /api/bikes/%00 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    _assert_nginx_json(st, h, body, 400, "validation_error")
    r = api.post("/api/bikes", data=b"x" * (65 * 1024), headers={"Content-Type": "application/json"})
    assert_error(r, 413, "payload_too_large")
    assert r.headers.get("Cache-Control") == "no-store", dict(r.headers)
    assert "charset=utf-8" in r.headers.get("Content-Type", "").lower(), dict(r.headers)
    # A worker's answer keeps its own Cache-Control: one header, not two.
    r = api.get("/api/bikes")
    assert r.headers.get("Cache-Control") == "no-store", dict(r.headers)


def _allow(headers):
    return [m.strip() for m in headers.get("allow", "").split(",") if m.strip()]


def test_trace_is_405_json_with_the_paths_allow():
    st, h, body = _raw(b"TRACE /api/bikes/00000000-0000-4000-8000-000000000000 HTTP/1.1\r\n"
                       b"Host: t\r\nConnection: close\r\n\r\n")
    _assert_nginx_json(st, h, body, 405, "method_not_allowed")
    assert sorted(_allow(h)) == ["DELETE", "GET", "HEAD", "PATCH"], h
    st, h, body = _raw(b"TRACE /health?x=1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    _assert_nginx_json(st, h, body, 405, "method_not_allowed")
    assert _allow(h) == ["GET", "HEAD"], h
    # No such path: the worker's 404, as for any other method.
    st, h, body = _raw(b"TRACE /api/nothing-here HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    _assert_nginx_json(st, h, body, 404, "not_found")


# ---- HEAD wherever GET works (RFC 9110 9.3.2) --------------------------------------------------

def test_head_on_health_answers_like_get(client):
    c = client(None)
    for path in ("/health", "/health/ready"):
        g = c.get(path)
        h = c.request("HEAD", path)
        assert h.status_code == g.status_code == 200, describe(h)
        assert h.content == b"", describe(h)
        assert h.headers.get("Content-Type") == g.headers.get("Content-Type"), dict(h.headers)
        assert h.headers.get("Cache-Control") == "no-store", dict(h.headers)


def test_head_on_api_routes(api):
    b = assert_status(api.post("/api/bikes", json={"name": "head", "type": "road"}), 201)
    for path in ("/api/bikes", f"/api/bikes/{b['id']}", f"/api/bikes/{b['id']}/stats"):
        g = api.get(path)
        h = api.request("HEAD", path)
        assert h.status_code == g.status_code == 200, describe(h)
        assert h.content == b"", describe(h)
        assert h.headers.get("X-Total-Count") == g.headers.get("X-Total-Count"), dict(h.headers)
    # Errors too: the status and headers of GET's answer, no body.
    h = api.request("HEAD", "/api/bikes/00000000-0000-4000-8000-000000000000")
    assert h.status_code == 404 and h.content == b"", describe(h)
    # HEAD is GET's: a path without GET has no HEAD.
    h = api.request("HEAD", f"/api/bikes/{b['id']}/set-active")
    assert h.status_code == 405 and h.content == b"", describe(h)
    assert h.headers.get("Allow") == "POST", dict(h.headers)


def test_405_lists_head_with_get(api):
    r = api.post("/health", json={})
    assert_error(r, 405, "method_not_allowed")
    assert r.headers.get("Allow") == "GET, HEAD", dict(r.headers)
    r = api.request("PUT", "/api/bikes", json={})
    assert_error(r, 405, "method_not_allowed")
    assert sorted(_allow({"allow": r.headers.get("Allow", "")})) == ["GET", "HEAD", "POST"], \
        dict(r.headers)


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
    # ...while its writes are still limited. The bucket refills one write per 0.6 s, and the
    # two requests above may have taken that long on a busy machine: a few quick writes
    # cannot all have found a refilled slot.
    again = [ca.post("/api/bikes", json={"bogus": True}) for _ in range(5)]
    limited = [r for r in again if r.status_code == 429]
    assert limited, f"writes no longer limited: {[r.status_code for r in again]}"
    _assert_429(limited[0])


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
