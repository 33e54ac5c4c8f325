"""Prometheus metrics (issue 12, point 4): the master's text (src/metrics.c, src/metrics_http.c)
on nginx's metrics listener, never on the public one.

The counters move by exactly what was sent, per route table pattern and status (a path no
route matches under route="unmatched"), with a latency histogram whose count is the requests;
the listener refuses an address outside METRICS_ALLOW; it answers while every worker is busy
(the master serves it, not a pool worker), and shows them in flight; its counters survive a
SIGHUP's re-exec of the workers; a killed worker counts as a death and a start, and its request
in hand leaves the in-flight gauge.

Environment: METRICS_URL (default: BASE_URL's host on its port + 6088, scripts/lib/nginx.sh's
default METRICS_PORT); VAR_DIR for the tests that signal the master (test_supervisor.py's).
"""
import os
import re
import signal
import socket
import threading
import time
import urllib.parse

import psycopg2
import pytest
import requests

import support
from flows import new_bike
from support import BASE_URL, assert_error, assert_status, describe, random_uuid
from test_supervisor import (VAR_DIR, WORKER_LOG, LogWatch, _kids, _record_kill, _shared_master,
                             _wait_pool)


def _default_metrics_url():
    u = urllib.parse.urlsplit(BASE_URL)
    host = u.hostname or "127.0.0.1"
    return f"http://{host}:{(u.port or 80) + 6088}"


METRICS_URL = os.environ.get("METRICS_URL", "").rstrip("/") or _default_metrics_url()
TYPE = "text/plain; version=0.0.4; charset=utf-8"
LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
needs_var = pytest.mark.skipif(not VAR_DIR, reason="VAR_DIR is not set: cannot find the master")


def scrape(source=None):
    """The samples of one GET /metrics, as {(name, frozenset(labels)): value}."""
    r = support.session(source).get(METRICS_URL + "/metrics", timeout=5)
    assert r.status_code == 200, describe(r)
    assert r.headers.get("Content-Type") == TYPE, describe(r)
    out = {}
    for line in r.text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = LINE.match(line)
        assert m, f"not a sample line: {line!r}"
        labels = frozenset(LABEL.findall(m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def requests_of(samples, method, route, code):
    return value(samples, "vehicle_http_requests_total", method=method, route=route, code=str(code))


def unmatched(samples, code):
    return value(samples, "vehicle_http_requests_total", route="unmatched", code=str(code))


def hist(samples, method, route, part="count"):
    return value(samples, f"vehicle_http_request_duration_seconds_{part}", method=method, route=route)


def in_flight(samples):
    return value(samples, "vehicle_http_requests_in_flight")


def wait_for(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        s = scrape()
        if pred(s):
            return s
        if time.monotonic() > deadline:
            pytest.fail(f"after {timeout}s, not {what}: in flight {in_flight(s)}, "
                        f"workers {value(s, 'vehicle_workers')}")
        time.sleep(0.05)


def test_every_family_is_there():
    s = scrape()
    names = {n for n, _ in s}
    for n in ("vehicle_http_requests_in_flight", "vehicle_workers", "vehicle_worker_starts_total",
              "vehicle_worker_deaths_total", "vehicle_db_errors_total", "vehicle_db_reconnects_total",
              "vehicle_start_time_seconds"):
        assert n in names, f"no {n} in {sorted(names)}"
    assert value(s, "vehicle_workers") >= 1
    assert abs(value(s, "vehicle_start_time_seconds") - time.time()) < 7 * 86400


def test_public_port_does_not_serve_metrics(anon_api):
    for path in ("/metrics", "/metrics/"):
        r = anon_api.get(path)
        assert_error(r, 404, "not_found")
        assert "vehicle_" not in r.text, describe(r)


def test_counters_move_by_exactly_what_was_sent(api, anon_api):
    bike = new_bike(api)
    before = scrape()
    for _ in range(5):
        assert_status(api.get(f"/api/bikes/{bike['id']}"), 200)
    for _ in range(3):
        assert_error(api.get(f"/api/bikes/{random_uuid()}"), 404, "not_found")
    for _ in range(2):
        assert_error(anon_api.get("/api/no-such-thing"), 404, "not_found")
    assert_error(anon_api.request("DELETE", "/health"), 405, "method_not_allowed")
    after = scrape()
    route = "/api/bikes/:id"
    assert requests_of(after, "GET", route, 200) - requests_of(before, "GET", route, 200) == 5
    assert requests_of(after, "GET", route, 404) - requests_of(before, "GET", route, 404) == 3
    assert unmatched(after, 404) - unmatched(before, 404) == 2
    assert unmatched(after, 405) - unmatched(before, 405) == 1
    # The histogram counts the same requests, and its +Inf bucket is its count.
    assert hist(after, "GET", route) - hist(before, "GET", route) == 8
    inf = value(after, "vehicle_http_request_duration_seconds_bucket", method="GET", route=route, le="+Inf")
    assert inf == hist(after, "GET", route)
    assert hist(after, "GET", route, "sum") > hist(before, "GET", route, "sum")
    assert in_flight(after) == 0


def test_a_disallowed_address_is_refused():
    if not support.SPREAD_SOURCES:
        pytest.skip("needs the suite's 127.x source addresses (BASE_URL on IPv4 loopback)")
    r = support.session("127.0.77.3").get(METRICS_URL + "/metrics", timeout=5)
    assert_error(r, 403, "forbidden")
    assert "vehicle_" not in r.text
    # A header naming an allowed address changes nothing: the TCP peer is judged.
    r = support.session("127.0.77.4").get(METRICS_URL + "/metrics", timeout=5,
                                          headers={"Fly-Client-IP": "127.0.0.1",
                                                   "X-Forwarded-For": "127.0.0.1"})
    assert_error(r, 403, "forbidden")
    # Allowed, but only GET (HEAD) on /metrics.
    assert_error(requests.post(METRICS_URL + "/metrics", timeout=5), 403, "forbidden")
    assert_error(requests.get(METRICS_URL + "/other", timeout=5), 404, "not_found")


class Busy:
    """Every worker held by a ride waiting on a lock of the bike's row, until release()."""

    def __init__(self, api, bike, n):
        self.conn = psycopg2.connect(support.DATABASE_URL, connect_timeout=5)
        with self.conn.cursor() as cur:
            cur.execute("SELECT 1 FROM vehicles.user_bike WHERE id = %s FOR UPDATE", (bike["id"],))
        self.statuses = []
        self.lock = threading.Lock()

        def ride():
            try:
                r = support.Api(api.token).post(f"/api/bikes/{bike['id']}/kilometrage",
                                                json={"distance": 1}, timeout=20)
                st = r.status_code
            except requests.RequestException as e:
                st = repr(e)
            with self.lock:
                self.statuses.append(st)
        self.threads = [threading.Thread(target=ride, daemon=True) for _ in range(n)]
        for t in self.threads:
            t.start()

    def release(self):
        if self.conn is not None:
            self.conn.rollback()
            self.conn.close()
            self.conn = None
        for t in self.threads:
            t.join(25)
        return sorted(self.statuses, key=str)


@needs_var
def test_answers_while_every_worker_is_busy(api):
    master = _shared_master()
    n = len(_kids(master))
    bike = new_bike(api)
    busy = Busy(api, bike, n)
    try:
        # (the lock timeout is 5 s: the rides wait that long at most)
        s = wait_for(lambda s: in_flight(s) == n, 3, f"{n} requests in flight")
        started = time.monotonic()
        scrape()
        took = time.monotonic() - started
        assert took < 0.5, f"a scrape took {took:.2f}s while the pool was busy"
        assert value(s, "vehicle_workers") == n
    finally:
        statuses = busy.release()
    assert statuses == [201] * n, statuses
    wait_for(lambda s: in_flight(s) == 0, 3, "idle again")


@needs_var
def test_counters_survive_sighup(api):
    master = _shared_master()
    watch = LogWatch(WORKER_LOG)
    n = len(_kids(master))
    old = _wait_pool(master, n, watch, timeout=10)
    bike = new_bike(api)
    for _ in range(3):
        assert_status(api.get(f"/api/bikes/{bike['id']}"), 200)
    before = scrape()
    os.kill(master, signal.SIGHUP)
    _wait_pool(master, n, watch, timeout=30, exclude=old)
    s = wait_for(lambda s: value(s, "vehicle_workers") == n, 5, f"{n} workers")
    route = "/api/bikes/:id"
    assert requests_of(s, "GET", route, 200) == requests_of(before, "GET", route, 200) >= 3
    assert hist(s, "GET", route) == hist(before, "GET", route)
    assert value(s, "vehicle_worker_starts_total") == value(before, "vehicle_worker_starts_total") + n
    assert value(s, "vehicle_start_time_seconds") == value(before, "vehicle_start_time_seconds")
    # (replaced workers were asked to stop: no deaths)
    for state in ("serving", "starting", "stopping"):
        assert value(s, "vehicle_worker_deaths_total", state=state) == \
            value(before, "vehicle_worker_deaths_total", state=state)
    assert_status(api.get(f"/api/bikes/{bike['id']}"), 200)
    assert requests_of(scrape(), "GET", route, 200) == requests_of(before, "GET", route, 200) + 1


@needs_var
def test_a_killed_worker_counts_and_its_request_leaves_the_gauge(api):
    master = _shared_master()
    watch = LogWatch(WORKER_LOG)
    n = len(_kids(master))
    old = _wait_pool(master, n, watch, timeout=10)
    bike = new_bike(api)
    before = scrape()
    busy = Busy(api, bike, n)
    try:
        wait_for(lambda s: in_flight(s) == n, 3, f"{n} requests in flight")
        victim = max(old)
        _record_kill(victim)
        os.kill(victim, signal.SIGKILL)
        s = wait_for(lambda s: value(s, "vehicle_worker_starts_total") ==
                     value(before, "vehicle_worker_starts_total") + 1 and
                     value(s, "vehicle_workers") == n, 3, "the replacement started")
        assert in_flight(s) == n - 1
        assert value(s, "vehicle_worker_deaths_total", state="serving") == \
            value(before, "vehicle_worker_deaths_total", state="serving") + 1
    finally:
        statuses = busy.release()
    # The killed worker's client got nginx's 503; the others' rides went through.
    assert statuses.count(201) == n - 1, statuses
    wait_for(lambda s: in_flight(s) == 0, 5, "idle again")


@needs_var
def test_the_master_socket_bounds_what_it_reads():
    path = os.path.join(VAR_DIR, "run", "metrics.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
        c.settimeout(5)
        c.connect(path)
        c.sendall(b"GET /metrics HTTP/1.0\r\nX: " + b"a" * 4096)
        head = c.recv(200)
    assert head.startswith(b"HTTP/1.0 400 "), head
    # A client that sends nothing is dropped at its deadline, and meanwhile scrapes answer.
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as idle:
        idle.settimeout(10)
        idle.connect(path)
        started = time.monotonic()
        scrape()
        assert idle.recv(1) == b""
        waited = time.monotonic() - started
    assert 1 < waited < 6, f"an idle connection was closed after {waited:.1f}s"
