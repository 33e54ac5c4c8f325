#!/usr/bin/python3
"""The load of bench/soak: REQUESTS mixed requests from THREADS threads over keep-alive
connections to 127.0.0.1:PORT, each thread as its own seeded user (bench/seed.sql), and every
worker's PSS (/proc/PID/smaps_rollup) after WARMUP requests and at the end.

One round per thread, in order (the expected status in brackets; anything else is an error):
  GET bike [200], remove part 1 [200], ride [201], GET part [200], install part 1 [201],
  ride with an Idempotency-Key [201], list bikes [200], bad JSON body [400],
  invalid bike [400], unknown bike [404], another user's bike [403],
  an anon-role token [403], a ride with an unknown field [400]
Prints one line per sample and a summary; exits 1 when a status was unexpected, a worker was
replaced, or a worker's PSS grew by more than LIMIT_KIB after warm-up (LIMIT_KIB < 0: PSS is
reported, not judged).
Usage: soak.py PORT MASTER_PID REQUESTS WARMUP THREADS LIMIT_KIB
"""
import http.client
import json
import os
import sys
import threading
import time
import uuid

import jwt

PORT, MASTER, TOTAL, WARMUP, THREADS, LIMIT = (int(a) for a in sys.argv[1:7])
SECRET = os.environ["SUPABASE_JWT_SECRET"]
SAMPLES = 10


def ident(kind, n):
    return {"user": "00000000-0000-4000-8000-%012x", "bike": "00000000-0000-4000-9000-%012x",
            "part": "00000000-0000-4000-a001-%012x"}[kind] % n


def token(sub, role="authenticated"):
    claims = {"sub": sub, "aud": "authenticated", "role": role, "exp": int(time.time()) + 6 * 3600}
    return jwt.encode(claims, SECRET, algorithm="HS256")


def round_of(n):
    """The requests of one round for user n: (method, path, body, headers, expected)."""
    bike, part, other = ident("bike", n), ident("part", n), ident("bike", n % THREADS + 1)
    ride = json.dumps({"distance": 1.25})
    return [
        ("GET", f"/api/bikes/{bike}", None, {}, 200),
        ("POST", f"/api/bikes/{bike}/parts/{part}/remove", "{}", {}, 200),
        ("POST", f"/api/bikes/{bike}/kilometrage", ride, {}, 201),
        ("GET", f"/api/parts/{part}", None, {}, 200),
        ("POST", f"/api/bikes/{bike}/parts/{part}/install", "{}", {}, 201),
        ("POST", f"/api/bikes/{bike}/kilometrage", ride, {"Idempotency-Key": None}, 201),
        ("GET", "/api/bikes?limit=5", None, {}, 200),
        ("POST", f"/api/bikes/{bike}/kilometrage", '{"distance": 1.2', {}, 400),
        ("GET", "/api/bikes/not-a-uuid", None, {}, 400),
        ("GET", f"/api/bikes/{uuid.UUID(int=n + 7 << 64)}", None, {}, 404),
        ("GET", f"/api/bikes/{other}", None, {}, 403),
        ("GET", "/api/bikes", None, {"Authorization": "anon"}, 403),
        ("POST", f"/api/bikes/{bike}/kilometrage", '{"distance": 1, "bogus": true}', {}, 400),
    ]


def pss(pid):
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    raise RuntimeError(f"no Pss in /proc/{pid}/smaps_rollup")


def workers():
    with open(f"/proc/{MASTER}/task/{MASTER}/children") as f:
        return sorted(int(p) for p in f.read().split())


lock = threading.Lock()
state = {"sent": 0, "errors": 0, "statuses": {}, "examples": []}
gate = threading.Condition(lock)
paused = {"at": None, "waiting": 0}


def client(n):
    auth = {"Authorization": "Bearer " + token(ident("user", n)),
            "Content-Type": "application/json"}
    anon = "Bearer " + token(ident("user", n), role="anon")
    reqs = round_of(n)
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    while True:
        for method, path, body, extra, want in reqs:
            with lock:
                while paused["at"] is not None and state["sent"] >= paused["at"]:
                    paused["waiting"] += 1
                    gate.notify_all()
                    gate.wait()
                    paused["waiting"] -= 1
                    gate.notify_all()
                if state["sent"] >= TOTAL:
                    conn.close()
                    return
                state["sent"] += 1
            h = dict(auth)
            for k, v in extra.items():
                h[k] = anon if v == "anon" else (v or str(uuid.uuid4()))
            try:
                conn.request(method, path, body=body, headers=h)
                r = conn.getresponse()
                r.read()
                status = r.status
            except (OSError, http.client.HTTPException) as e:
                status = type(e).__name__
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
            with lock:
                state["statuses"][status] = state["statuses"].get(status, 0) + 1
                if status != want:
                    state["errors"] += 1
                    if len(state["examples"]) < 5:
                        state["examples"].append(f"{method} {path} -> {status} (want {want})")


def pause_at(count):
    """Holds every thread once `count` requests were sent, so PSS is read at rest."""
    with lock:
        paused["at"] = count
        while paused["waiting"] < alive() and state["sent"] < TOTAL:
            gate.wait(0.5)


def resume():
    """Lets the threads go, and returns once all of them have (the next pause counts afresh)."""
    with lock:
        paused["at"] = None
        gate.notify_all()
        while paused["waiting"] > 0:
            gate.wait(0.1)


def alive():
    return sum(t.is_alive() for t in threads)


threads = [threading.Thread(target=client, args=(i + 1,), daemon=True) for i in range(THREADS)]
t0 = time.monotonic()
marks = [WARMUP + (TOTAL - WARMUP) * k // SAMPLES for k in range(SAMPLES + 1)]
base = None
table = []
for t in threads:
    t.start()
for mark in marks:
    pause_at(mark)
    time.sleep(0.2)  # answers written, workers idle
    ws = workers()
    now = {w: pss(w) for w in ws}
    if base is None:
        base = now
        print(f"warm-up done: {state['sent']} requests in {time.monotonic() - t0:.1f}s; "
              f"PSS KiB {now}", flush=True)
    else:
        print(f"{state['sent']:>7} requests {time.monotonic() - t0:7.1f}s  PSS KiB "
              + " ".join(f"{w}:{now.get(w, '-')}({now.get(w, 0) - base.get(w, 0):+d})" for w in ws),
              flush=True)
    table.append(now)
    resume()
for t in threads:
    t.join()
elapsed = time.monotonic() - t0
end = table[-1]
print(f"\nrequests {state['sent']}, {elapsed:.1f}s ({state['sent'] / elapsed:.0f} req/s), "
      f"{THREADS} connections; statuses {dict(sorted(state['statuses'].items(), key=str))}; "
      f"unexpected {state['errors']}")
for e in state["examples"]:
    print("  unexpected:", e)
fail = state["errors"] > 0
if sorted(end) != sorted(base):
    print(f"FAIL: the workers changed during the soak: {sorted(base)} -> {sorted(end)}")
    fail = True
for w in sorted(base):
    if w in end:
        grew = end[w] - base[w]
        peak = max(s.get(w, 0) for s in table) - base[w]
        verdict = ("(no limit)" if LIMIT < 0 else
                   "ok" if grew <= LIMIT and peak <= LIMIT else "FAIL")
        print(f"worker {w}: PSS {base[w]} KiB after warm-up, {end[w]} KiB at the end "
              f"({grew:+d} KiB, peak {peak:+d}) {verdict}")
        fail |= verdict == "FAIL"
sys.exit(1 if fail else 0)
