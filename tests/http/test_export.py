"""GET /api/export (issue 14 point 4): one JSON document with everything the caller owns,
from one snapshot, streamed; the objects and ids the other routes answer, in km; never
another user's data or an email; 5 exports per user per rolling hour (429 with Retry-After);
a big account costs the worker bounded memory; a failure after the head cuts the response.
"""
import json
import os
import re
import threading
import time

import psycopg2
import pytest
import requests

import support
from flows import HOUR, install, maint, new_bike, new_part, remove, ride, run_parallel, ts
from support import Api, assert_error, assert_status

SECTIONS = ["bikes", "parts", "installations", "rides", "maintenance", "intervals",
            "ownership_history"]
VAR_DIR = os.environ.get("VAR_DIR", "")
WORKER_LOG = os.environ.get("WORKER_LOG", "") or (VAR_DIR and os.path.join(VAR_DIR, "log", "worker.log"))
BIG_RIDES = 100_000


def export(api):
    """The export as (response, document); the document fully read and parsed."""
    r = api.get("/api/export", timeout=120)
    assert_status(r, 200)
    return r, json.loads(r.content)


def by_id(rows):
    return {row["id"]: row for row in rows}


def log_size():
    return os.path.getsize(WORKER_LOG) if WORKER_LOG and os.path.exists(WORKER_LOG) else 0


def log_since(pos):
    if not WORKER_LOG or not os.path.exists(WORKER_LOG):
        return ""
    with open(WORKER_LOG, "rb") as f:
        f.seek(pos)
        return f.read().decode(errors="replace")


def troubles(text, *user_ids):
    """ERROR/WARN lines of the worker log that name one of the users (or are sanitizer
    reports)."""
    out = []
    for line in text.splitlines():
        if "ERROR: AddressSanitizer" in line or "runtime error:" in line:
            out.append(line)
        elif re.search(r"\b(ERROR|WARN)\b", line) and any(f"user={u}" in line for u in user_ids):
            out.append(line)
    return out


def history_rows(api, kind, id):
    return assert_status(api.get(f"/api/{kind}s/{id}/history"), 200)["transfers"]


# ---- the document round-trips against the routes ------------------------------------------


@pytest.fixture
def scene(make_user):
    """The caller (a) with two bikes, parts in all states, rides, maintenance, intervals; a
    bike bought from b (b's rides on it, a history row naming b); a part given to b."""
    a, b = make_user(tag="exa"), make_user(tag="exb")
    bike = new_bike(a.api, name="Road", purchase_price=1999.5)
    bike2 = new_bike(a.api, name="Gravel", type="gravel")
    gone = new_part(a.api, name="Old chain")                 # removed, then given away
    worn = new_part(a.api, name="Worn cassette", type="cassette")  # removed, stored
    chain = new_part(a.api, name="Chain", purchase_price=39.99)     # installed now
    install(a.api, bike, gone, at=ts(-50 * HOUR))
    install(a.api, bike, worn, at=ts(-49 * HOUR))
    ride(a.api, bike, 12.345, logged_at=ts(-48 * HOUR), moving_time_s=1800, elevation_gain=250,
         ride_type="outdoor", source="garmin", external_id="g-1", notes="first")
    remove(a.api, bike, gone, at=ts(-40 * HOUR))
    remove(a.api, bike, worn, at=ts(-30 * HOUR))
    install(a.api, bike, chain, at=ts(-20 * HOUR))
    ride(a.api, bike, 30, logged_at=ts(-10 * HOUR))
    ride(a.api, bike2, 5.5, logged_at=ts(-5 * HOUR), ride_type="indoor")
    iv_part = assert_status(a.api.post(f"/api/parts/{chain['id']}/intervals",
                                       json={"task": "wax", "every_distance": 300}), 201)
    iv_bike = assert_status(a.api.post(f"/api/bikes/{bike2['id']}/intervals",
                                       json={"task": "service", "every_days": 180}), 201)
    m_bike = maint(a.api, "bike", bike["id"], cost=12.5)
    m_part = maint(a.api, "part", chain["id"], interval_id=iv_part["id"])
    # b's bike, ridden by b, sold to a with a note
    bought = new_bike(b.api, name="Bought")
    ride(b.api, bought, 7, logged_at=ts(-3 * HOUR))
    assert_status(b.api.post(f"/api/bikes/{bought['id']}/transfer",
                             json={"new_owner_email": a.email, "notes": "sold to a"}), 200)
    # a part a gave away: no longer a's
    assert_status(a.api.post(f"/api/parts/{gone['id']}/transfer",
                             json={"new_owner_email": b.email}), 200)
    b_own = new_bike(b.api, name="B's own")
    ride(b.api, b_own, 3)
    return dict(a=a, b=b, bike=bike, bike2=bike2, bought=bought, gone=gone, worn=worn, chain=chain,
                iv_part=iv_part, iv_bike=iv_bike, m_bike=m_bike, m_part=m_part, b_own=b_own)


def test_every_section_round_trips_against_the_routes(scene):
    a = scene["a"]
    pos = log_size()
    r, doc = export(a.api)
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.headers.get("Cache-Control") == "no-store"
    assert "Content-Length" not in r.headers  # streamed
    assert list(doc) == ["exported_at", "user_id", "unit"] + SECTIONS
    assert doc["user_id"] == a.id and doc["unit"] == "km"
    assert abs(support.parse_ts(doc["exported_at"]).timestamp() - time.time()) < 60

    bikes = assert_status(a.api.get("/api/bikes"), 200)
    assert by_id(doc["bikes"]) == by_id(bikes)
    assert set(by_id(doc["bikes"])) == {scene["bike"]["id"], scene["bike2"]["id"], scene["bought"]["id"]}
    assert [b["created_at"] for b in doc["bikes"]] == sorted(b["created_at"] for b in doc["bikes"])
    assert by_id(doc["bikes"])[scene["bike"]["id"]]["purchase_price"] == 1999.5

    parts = assert_status(a.api.get("/api/parts"), 200)
    assert by_id(doc["parts"]) == by_id(parts)
    assert set(by_id(doc["parts"])) == {scene["worn"]["id"], scene["chain"]["id"]}
    assert {p["id"]: p["status"] for p in doc["parts"]} == {
        scene["worn"]["id"]: "stored", scene["chain"]["id"]: "installed"}

    want = {}
    for p in parts:
        want.update(by_id(assert_status(a.api.get(f"/api/parts/{p['id']}"), 200)["installations"]))
    assert by_id(doc["installations"]) == want and len(want) == 2

    want = {}
    for b in bikes:
        page = assert_status(a.api.get(f"/api/bikes/{b['id']}/kilometrage",
                                       params={"limit": 200}), 200)
        want.update(by_id(page["items"]))
    assert by_id(doc["rides"]) == want and len(want) == 4
    assert [x["logged_at"] for x in doc["rides"]] == sorted(x["logged_at"] for x in doc["rides"])
    first = doc["rides"][0]
    assert (first["distance"], first["unit"], first["moving_time_s"], first["elevation_gain"],
            first["source"], first["external_id"]) == (12.345, "km", 1800, 250.0, "garmin", "g-1")
    # b's ride on the bike b sold to a: a ride stays with its bike
    assert any(x["user_id"] == scene["b"].id and x["bike_id"] == scene["bought"]["id"]
               for x in doc["rides"])

    want = {}
    for kind, rows in (("bike", bikes), ("part", parts)):
        for x in rows:
            want.update(by_id(assert_status(a.api.get(f"/api/{kind}s/{x['id']}/maintenance"), 200)))
    assert by_id(doc["maintenance"]) == want
    assert set(want) == {scene["m_bike"]["id"], scene["m_part"]["id"]}

    want = {}
    for kind, rows in (("bike", bikes), ("part", parts)):
        for x in rows:
            for iv in assert_status(a.api.get(f"/api/{kind}s/{x['id']}/intervals"), 200):
                iv.pop("status")
                want[iv["id"]] = iv
    assert by_id(doc["intervals"]) == want
    assert set(want) == {scene["iv_part"]["id"], scene["iv_bike"]["id"]}

    want = {}
    for kind, rows in (("bike", bikes), ("part", parts)):
        for x in rows:
            want.update(by_id(history_rows(a.api, kind, x["id"])))
    assert by_id(doc["ownership_history"]) == want and len(want) == 1
    (h,) = doc["ownership_history"]
    assert (h["entity_id"], h["previous_owner_id"], h["new_owner_id"], h["to_you"], h["notes"]) == (
        scene["bought"]["id"], scene["b"].id, a.id, True, "sold to a")
    assert troubles(log_since(pos), a.id) == []


def test_another_users_data_never_appears(scene):
    a, b = scene["a"], scene["b"]
    _, doc = export(a.api)
    text = json.dumps(doc)
    # the part a gave away is gone, with its installations and its history row
    assert scene["gone"]["id"] not in text
    assert scene["b_own"]["id"] not in text
    assert a.email not in text and b.email not in text and "@" not in text
    assert all(p["user_id"] == a.id for p in doc["parts"])
    assert all(x["user_id"] == a.id for x in doc["bikes"])

    # b's export has that part and its history row, which names a by id only
    _, bdoc = export(b.api)
    btext = json.dumps(bdoc)
    assert scene["gone"]["id"] in by_id(bdoc["parts"])
    assert scene["bought"]["id"] not in btext  # sold: no longer b's, nor its history
    (h,) = [x for x in bdoc["ownership_history"] if x["entity_id"] == scene["gone"]["id"]]
    assert (h["previous_owner_id"], h["new_owner_id"], h["from_you"], h["to_you"]) == (
        a.id, b.id, False, True)
    assert by_id(bdoc["ownership_history"]) == by_id(history_rows(b.api, "part", scene["gone"]["id"]))
    assert a.email not in btext and b.email not in btext
    # the part's installations on a's bike are its history: b sees them, a does not
    assert {i["part_id"] for i in bdoc["installations"]} == {scene["gone"]["id"]}


def test_an_empty_account_exports_empty_sections(user):
    _, doc = export(user.api)
    assert doc["user_id"] == user.id
    assert all(doc[s] == [] for s in SECTIONS)


def test_query_and_methods(user, client):
    assert_error(user.api.get("/api/export", params={"unit": "mi"}), 400, "validation_error", ["unit"])
    assert_status(user.api.get("/api/export", params={"unit": "km"}), 200)  # what it is anyway
    r = user.api.request("HEAD", "/api/export")
    assert r.status_code == 200 and r.content == b""
    assert_error(user.api.post("/api/export", json={}), 405, "method_not_allowed")
    assert_error(client(None).get("/api/export"), 401, "unauthorized")


# ---- the hourly limit -------------------------------------------------------------------------


def test_the_sixth_export_in_an_hour_is_429_with_retry_after(make_user, client, db):
    u = make_user(tag="exl")
    c = client(u.token, retry_429=False)
    for _ in range(5):
        assert_status(c.get("/api/export"), 200)
    assert c.request("HEAD", "/api/export").status_code == 429  # HEAD asks, never counts
    r = c.get("/api/export")
    assert_error(r, 429, "rate_limited")
    assert 3500 <= int(r.headers["Retry-After"]) <= 3600, r.headers
    assert db.query("SELECT count(*) FROM vehicles.export_log WHERE user_id = %s", (u.id,))[0][0] == 5
    # another user is not limited by it
    assert_status(client(make_user(tag="exm").token, retry_429=False).get("/api/export"), 200)
    # rolling: once the oldest is an hour old, one more goes; Retry-After follows the oldest
    db.execute("UPDATE vehicles.export_log SET created_at = now() - interval '59 minutes 30 seconds'"
               " WHERE ctid = (SELECT ctid FROM vehicles.export_log WHERE user_id = %s"
               " ORDER BY created_at LIMIT 1)", (u.id,))
    r = c.get("/api/export")
    assert_error(r, 429, "rate_limited")
    assert 1 <= int(r.headers["Retry-After"]) <= 31, r.headers
    db.execute("UPDATE vehicles.export_log SET created_at = now() - interval '61 minutes'"
               " WHERE ctid = (SELECT ctid FROM vehicles.export_log WHERE user_id = %s"
               " ORDER BY created_at LIMIT 1)", (u.id,))
    assert_status(c.get("/api/export"), 200)
    assert_error(c.get("/api/export"), 429, "rate_limited")


def test_exports_at_once_share_the_five(make_user, client):
    u = make_user(tag="exp")
    clients = [client(u.token, retry_429=False) for _ in range(8)]
    codes = run_parallel([lambda c=c: c.get("/api/export", timeout=60).status_code for c in clients])
    assert sorted(codes) == [200] * 5 + [429] * 3, codes


def _as_user_conn(user):
    """A connection in a transaction as role authenticated with the user's claims."""
    conn = psycopg2.connect(support.DATABASE_URL, connect_timeout=5)
    cur = conn.cursor()
    cur.execute("SET LOCAL ROLE authenticated")
    cur.execute("SELECT set_config('request.jwt.claims', %s, true)",
                (json.dumps({"sub": user.id, "role": "authenticated"}),))
    return conn, cur


def test_the_last_slot_is_taken_once(user, db):
    # Two exports' counts at the same moment: the second waits for the first's transaction
    # (the per-user lock) and then counts its row, so it is refused.
    db.execute("INSERT INTO vehicles.export_log (user_id, created_at)"
               " SELECT %s, now() - interval '10 minutes' FROM generate_series(1, 4)", (user.id,))
    c1, cur1 = _as_user_conn(user)
    c2, cur2 = _as_user_conn(user)
    try:
        cur1.execute("SELECT vehicles.export_begin(true)")
        assert cur1.fetchone()[0] == 0  # the 5th, not committed yet
        got = {}
        t = threading.Thread(target=lambda: (cur2.execute("SELECT vehicles.export_begin(true)"),
                                             got.setdefault("v", cur2.fetchone()[0])))
        t.start()
        t.join(1.0)
        assert t.is_alive(), f"the second count did not wait: {got}"
        c1.commit()
        t.join(10)
        assert 2900 < got["v"] <= 3000, got  # the oldest (10 minutes old) + 1 h
        c2.commit()
    finally:
        c1.close()
        c2.close()
    assert db.query("SELECT count(*) FROM vehicles.export_log WHERE user_id = %s", (user.id,))[0][0] == 5


def test_export_log_is_not_readable_by_users(user, db):
    # only the security-definer function counts and writes it
    assert db.query("SELECT has_table_privilege('authenticated', 'vehicles.export_log', 'SELECT'),"
                    " has_table_privilege('authenticated', 'vehicles.export_log', 'INSERT')")[0] == (
        False, False)


# ---- a big account ------------------------------------------------------------------------------


def _seed_rides(db, user_id, n):
    """A bike with n rides, written straight into the tables (as bench/history.sql does)."""
    bike_id = support.random_uuid()
    db.execute("INSERT INTO vehicles.user_bike (id, user_id, name, type, created_at)"
               " VALUES (%s, %s, 'Many rides', 'road', now() - interval '3 years')", (bike_id, user_id))
    db.execute("INSERT INTO vehicles.kilometrage_log (bike_id, user_id, distance, logged_at, created_at,"
               " moving_time_s, notes)"
               " SELECT %s, %s, 1 + (i %% 40) + (i %% 7) / 8.0, now() - i * interval '7 minutes',"
               " now() - i * interval '7 minutes', 600 + i %% 3000, 'ride ' || i"
               " FROM generate_series(1, %s) i", (bike_id, user_id, n))
    db.execute("UPDATE vehicles.user_bike b SET total_kilometrage = (SELECT sum(distance)"
               " FROM vehicles.kilometrage_log WHERE bike_id = b.id), ride_count = %s,"
               " total_moving_time_s = (SELECT sum(moving_time_s) FROM vehicles.kilometrage_log"
               " WHERE bike_id = b.id) WHERE id = %s", (n, bike_id))
    return bike_id


@pytest.fixture
def big(make_user, db):
    u = make_user(tag="exbig")
    return u, _seed_rides(db, u.id, BIG_RIDES)


def _workers():
    """The master's live workers (pids), from $VAR_DIR/run/workers.pid."""
    with open(os.path.join(VAR_DIR, "run", "workers.pid")) as f:
        master = int(f.read().split()[0])
    kids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    st = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(st[1]) == master:
                kids.append(int(name))
    return kids


def _status_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def _quarantined(pid):
    """The worker runs under AddressSanitizer with its quarantine of freed memory on."""
    with open(f"/proc/{pid}/maps") as f:
        if "libasan" not in f.read():
            return False
    with open(f"/proc/{pid}/environ", "rb") as f:
        env = dict(i.split(b"=", 1) for i in f.read().split(b"\0") if b"=" in i)
    return not re.search(rb"(^|:)quarantine_size_mb=0(:|$)", env.get(b"ASAN_OPTIONS", b""))


@pytest.mark.skipif(not VAR_DIR, reason="needs VAR_DIR to find the workers")
def test_a_hundred_thousand_rides_stream_in_bounded_memory(big, db):
    u, bike_id = big
    pids = _workers()
    before = {}
    for pid in pids:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS
        before[pid] = _status_kb(pid, "VmRSS")
    pos = log_size()
    t0 = time.monotonic()
    r, doc = export(Api(u.token))
    took = time.monotonic() - t0
    peaks = {pid: _status_kb(pid, "VmHWM") for pid in pids}
    served = max(pids, key=lambda p: peaks[p] - before[p])
    size_mb = len(r.content) / 2**20
    growth_mb = (peaks[served] - before[served]) / 1024
    print(f"\nexport of {BIG_RIDES} rides: {size_mb:.1f} MiB in {took:.1f} s; worker {served} RSS "
          f"{before[served] / 1024:.1f} MiB before, peak {peaks[served] / 1024:.1f} MiB "
          f"(+{growth_mb:.1f} MiB); ASAN_OPTIONS={os.environ.get('ASAN_OPTIONS', '')}")
    assert r.headers.get("Transfer-Encoding") == "chunked"
    rides = doc["rides"]
    assert len(rides) == BIG_RIDES and {x["bike_id"] for x in rides} == {bike_id}
    assert len({x["id"] for x in rides}) == BIG_RIDES
    assert [x["logged_at"] for x in rides] == sorted(x["logged_at"] for x in rides)
    assert rides[0]["notes"] == f"ride {BIG_RIDES}" and rides[-1]["notes"] == "ride 1"
    total = db.query("SELECT total_kilometrage FROM vehicles.user_bike WHERE id = %s", (bike_id,))[0][0]
    assert doc["bikes"][0]["total_kilometrage"] == pytest.approx(float(total))
    # The worker holds a chunk of rows and a row's JSON, not the document (a plain build grew
    # by under 1 MiB for 36 MiB). AddressSanitizer's quarantine keeps freed memory resident,
    # up to its size (256 MiB by default): there the growth says nothing, so it is only
    # judged with the quarantine off (ASAN_OPTIONS=quarantine_size_mb=0: +4 MiB) or no ASan.
    if _quarantined(served):
        print("worker runs with ASan's quarantine: peak RSS reported, not judged")
    else:
        assert growth_mb < min(16, size_mb / 2), (growth_mb, size_mb)
    assert troubles(log_since(pos), u.id) == []
    assert _export_open(db) == 0



def _export_open(db):
    """Server sessions still inside a transaction or a cursor of an export: none may be left."""
    return db.query("SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
                    " AND (state LIKE 'idle in transaction%%'"
                    " OR (state = 'active' AND query LIKE '%%FROM vs_export%%'))")[0][0]

@pytest.mark.skipif(not VAR_DIR, reason="needs VAR_DIR to read the worker log")
def test_a_database_failure_midway_cuts_the_response(big, db, api):
    # Once the head is out the status cannot change: the worker ends the connection instead,
    # so the client sees a truncated response (no last chunk), never a short valid document.
    u, _ = big
    pos = log_size()
    s = requests.Session()
    r = s.get(support.BASE_URL.rstrip("/") + "/api/export",
              headers={"Authorization": f"Bearer {u.token}"}, stream=True, timeout=60)
    assert r.status_code == 200
    killed = []
    deadline = time.monotonic() + 10
    while not killed and time.monotonic() < deadline:
        # The export runs on its worker's own connection: the backend whose query is a FETCH
        # of the export's cursor.
        killed = db.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                          " WHERE query LIKE '%%FROM vs_export%%' AND state = 'active'"
                          " AND pid <> pg_backend_pid()")
    assert killed, "the export finished before it could be cut"
    body = b""
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        for chunk in r.iter_content(65536):
            body += chunk
    with pytest.raises(ValueError):
        json.loads(body)
    s.close()
    # The worker is fine, and nothing of the export is left on the server.
    assert_status(api.get("/api/bikes"), 200)
    time.sleep(0.5)
    assert _export_open(db) == 0
    assert db.query("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'vehicle-worker'"
                    " AND state LIKE 'idle in transaction%%'")[0][0] == 0
    log = log_since(pos)
    assert "streamed answer cut short" in log, log[-2000:]
