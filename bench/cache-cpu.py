#!/usr/bin/python3
"""What a pgbench script costs PostgreSQL in CPU, per transaction, on databases of one
cluster, in alternated rounds: the CPU time every process of the cluster used during the run
(the postmaster's own, its live children's, and what it reaped of the backends that ended),
divided by the transactions pgbench counted. CPU time, unlike tps, hardly moves with what
else the machine runs, so the before and after of a change show on a shared machine.

  bench/cache-cpu.py --pgdata var/x/pg --conninfo 'host=... port=...' --rounds 5 \\
      --db before --db after -- -n -M prepared -c 4 -j 2 -T 8 -D base=0 -D nusers=500 \\
      -f bench/ride.pgbench.sql

Prints one line per run and, per database, the median of the rounds.

  bench/cache-cpu.py snap pg=PID workers=PID nginx=PID ...

prints "pg=SECONDS workers=SECONDS ...": the CPU each process and its children used so far
(bench/cache-bench takes one before and one after each wrk run).
"""
import argparse
import os
import statistics
import subprocess
import sys

TICK = os.sysconf("SC_CLK_TCK")


def cluster_cpu(postmaster):
    """Seconds of CPU of the postmaster, its reaped children and its live children."""
    return tree_cpu([postmaster])[postmaster]


def tree_cpu(roots):
    """{root: seconds of CPU of root, its reaped children and its live children}."""
    total = dict.fromkeys(roots, 0)
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ppid = int(fields[1])
        utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
        if int(pid) in total:
            total[int(pid)] += utime + stime + cutime + cstime
        elif ppid in total:
            total[ppid] += utime + stime
    return {k: v / TICK for k, v in total.items()}


def run(args, db):
    pm = int(open(os.path.join(args.pgdata, "postmaster.pid")).readline())
    before = cluster_cpu(pm)
    p = subprocess.run([args.pgbench] + args.pgbench_args + [f"{args.conninfo} dbname={db}"],
                       capture_output=True, text=True)
    after = cluster_cpu(pm)
    if p.returncode != 0:
        sys.exit(f"pgbench failed on {db}:\n{p.stdout}\n{p.stderr}")
    tps = txns = None
    for line in p.stdout.splitlines():
        if line.startswith("tps = "):
            tps = float(line.split()[2])
        if line.startswith("number of transactions actually processed:"):
            txns = int(line.split(":")[1].split("/")[0])
    return tps, (after - before) * 1e6 / txns


def snap(specs):
    named = [(name, int(pid)) for name, pid in (x.split("=", 1) for x in specs)]
    cpu = tree_cpu([pid for _, pid in named])
    print(" ".join(f"{name}={cpu[pid]:.3f}" for name, pid in named))


def main():
    if sys.argv[1:2] == ["snap"]:
        return snap(sys.argv[2:])
    ap = argparse.ArgumentParser()
    ap.add_argument("--pgdata", required=True)
    ap.add_argument("--conninfo", required=True, help="libpq conninfo without dbname")
    ap.add_argument("--db", action="append", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--pgbench", default="/usr/lib/postgresql/15/bin/pgbench")
    ap.add_argument("pgbench_args", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    if args.pgbench_args[:1] == ["--"]:
        args.pgbench_args = args.pgbench_args[1:]
    got = {db: [] for db in args.db}
    for r in range(args.rounds):
        for db in args.db:
            tps, us = run(args, db)
            got[db].append((tps, us))
            print(f"round {r + 1} {db:>12}: {tps:8.0f} tps  {us:7.0f} us CPU/txn", flush=True)
    for db in args.db:
        print(f"median   {db:>12}: {statistics.median(t for t, _ in got[db]):8.0f} tps  "
              f"{statistics.median(u for _, u in got[db]):7.0f} us CPU/txn")


if __name__ == "__main__":
    main()
