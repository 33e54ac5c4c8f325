#!/usr/bin/python3
"""One request at a time (bench/cache-bench): the latency of a list read that is a hit, a miss
(the user's generation changed just before it, outside the timed request) and, for the
setting with the cache off, of the plain read.

  bench/cache-latency.py --base http://127.0.0.1:3074 --dsn '...' --label local-on \\
      --case few-list:TOKEN:USER:/api/bikes --case many-list:TOKEN:USER:/api/bikes?include_parts=true

Prints "label case kind p50_ms p90_ms" lines (kind: hit, miss, off).
"""
import argparse
import statistics
import time

import psycopg2
import requests


def timed(s, url, token):
    t0 = time.perf_counter()
    r = s.get(url, headers={"Authorization": "Bearer " + token}, timeout=10)
    took = time.perf_counter() - t0
    assert r.status_code == 200, (r.status_code, r.text[:200])
    return took * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--dsn", required=True)
    ap.add_argument("--label", required=True)
    ap.add_argument("--case", action="append", required=True, help="name:token:user:path")
    ap.add_argument("-n", type=int, default=200)
    args = ap.parse_args()
    db = psycopg2.connect(args.dsn)
    db.autocommit = True
    s = requests.Session()
    cached = args.label.endswith("-on")
    for spec in args.case:
        name, token, user, path = spec.split(":", 3)
        url = args.base + path
        for _ in range(20):
            timed(s, url, token)
        kinds = ("hit", "miss") if cached else ("off",)
        for kind in kinds:
            got = []
            for _ in range(args.n):
                if kind == "miss":
                    with db.cursor() as cur:
                        cur.execute("UPDATE vehicles.list_generation SET gen = gen_random_uuid()"
                                    " WHERE user_id = %s", (user,))
                got.append(timed(s, url, token))
            got.sort()
            print(f"{args.label} {name} {kind} {statistics.median(got):.3f}"
                  f" {got[int(len(got) * 0.9)]:.3f}", flush=True)


if __name__ == "__main__":
    main()
