#!/usr/bin/python3
"""bench/run's arithmetic: /proc readings, wrk's output, medians and the printed table.

  tally.py cpu OUT NAME=PID[,PID...]...   CPU ticks of each named process tree into OUT (JSON)
  tally.py pss NAME=PID[,PID...]...       PSS (KiB) of each process of each named tree (JSON)
  tally.py wrk FILE                       wrk --latency output -> JSON (rps, p99_ms, requests, errors)
  tally.py round CASE SIDE N WRK BEFORE AFTER   one measured round as a JSON line
  tally.py pgbench CASE SIDE OUT BEFORE AFTER   one pgbench run (its output OUT) as a JSON line
  tally.py statements FILE                SQL statements in a pgbench script
  tally.py sentlog LOG START END OUT      statements clients ran, from PostgreSQL's log
  tally.py meta FILE KEY=VALUE...          merge settings into FILE (JSON) for the report
  tally.py report DIR                     the table, from DIR's rounds.jsonl, pgbench.jsonl, ...

A process tree is each PID with all its descendants at the moment of reading. CPU is utime +
stime from /proc/PID/stat; a process that exits between two readings is gone from the second,
so each root's cutime + cstime (the children it has reaped) is counted too.
"""
import json
import os
import re
import statistics
import sys

TICK_US = 1e6 / os.sysconf("SC_CLK_TCK")


def proc_table():
    """pid -> (ppid, utime + stime, cutime + cstime) of every process now."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: split after the last ")".
        fields = stat[stat.rindex(")") + 2:].split()
        # fields[0] is field 3 (state): ppid 4, utime 14, stime 15, cutime 16, cstime 17.
        table[int(name)] = (int(fields[1]), int(fields[11]) + int(fields[12]),
                            int(fields[13]) + int(fields[14]))
    return table


def trees(specs, table):
    """NAME=PID,PID... -> {name: ([roots], [every pid of the trees])}."""
    children = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    out = {}
    for spec in specs:
        name, _, pids = spec.partition("=")
        roots = [int(p) for p in pids.split(",") if p and int(p) in table]
        seen, todo = [], list(roots)
        while todo:
            pid = todo.pop()
            if pid not in seen:
                seen.append(pid)
                todo.extend(children.get(pid, []))
        out[name] = (roots, seen)
    return out


def cmd_cpu(out_file, specs):
    table = proc_table()
    snap = {}
    for name, (roots, pids) in trees(specs, table).items():
        snap[name] = {"pids": {str(p): table[p][1] for p in pids},
                      "reaped": sum(table[p][2] for p in roots)}
    with open(out_file, "w") as f:
        json.dump(snap, f)


def cpu_delta_us(before, after):
    """Microseconds of CPU per group between two snapshots (new processes count from 0)."""
    out = {}
    for name, a in after.items():
        b = before.get(name, {"pids": {}, "reaped": 0})
        ticks = a["reaped"] - b["reaped"]
        for pid, t in a["pids"].items():
            ticks += t - b["pids"].get(pid, 0)
        out[name] = ticks * TICK_US
    return out


def pss_kib(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def cmd_pss(specs):
    result = {}
    for name, (roots, pids) in trees(specs, proc_table()).items():
        result[name] = {"roots": {str(p): pss_kib(p) for p in roots},
                        "others": {str(p): pss_kib(p) for p in pids if p not in roots}}
    json.dump(result, sys.stdout)
    print()


UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def parse_wrk(text):
    """The figures bench/run needs from wrk --latency's report."""
    def one(pattern, default=None):
        m = re.search(pattern, text, re.M)
        return m.groups() if m else default

    rps = one(r"^Requests/sec:\s+([\d.]+)")
    reqs = one(r"^\s*(\d+) requests in")
    p99 = one(r"^\s+99(?:\.000)?%\s+([\d.]+)(us|ms|s|m)\s*$")
    socket = one(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", ("0",) * 4)
    non2xx = one(r"Non-2xx or 3xx responses: (\d+)", ("0",))
    if not (rps and reqs and p99):
        raise SystemExit("tally.py: wrk's output has no Requests/sec, request count or 99%% line:\n" + text)
    return {"rps": float(rps[0]), "requests": int(reqs[0]),
            "p99_ms": float(p99[0]) * UNITS_MS[p99[1]],
            "socket_errors": sum(int(x) for x in socket), "non2xx": int(non2xx[0])}


def cmd_wrk(path):
    with open(path) as f:
        json.dump(parse_wrk(f.read()), sys.stdout)
    print()


def cmd_round(case, side, n, wrk_file, before_file, after_file):
    with open(wrk_file) as f:
        w = parse_wrk(f.read())
    with open(before_file) as f:
        before = json.load(f)
    with open(after_file) as f:
        after = json.load(f)
    cpu = cpu_delta_us(before, after)
    w.update(case=case, side=side, round=int(n),
             cpu_us={k: v / max(w["requests"], 1) for k, v in cpu.items()})
    print(json.dumps(w))


def cmd_pgbench(case, side, out_file, before_file, after_file):
    """One pgbench run as a JSON line: tps and PostgreSQL's CPU µs per transaction."""
    with open(out_file) as f:
        text = f.read()
    tps = re.search(r"^tps = ([\d.]+)", text, re.M)
    txns = re.search(r"^number of transactions actually processed: (\d+)", text, re.M)
    if not (tps and txns):
        raise SystemExit("tally.py: pgbench's output has no tps or transaction count:\n" + text)
    with open(before_file) as b, open(after_file) as a:
        us = cpu_delta_us(json.load(b), json.load(a))["pg"]
    print(json.dumps({"case": case, "side": side, "tps": float(tps.group(1)),
                      "pg_us": us / max(int(txns.group(1)), 1)}))


def count_statements(path):
    """SQL commands of a pgbench script: lines ending in ';' outside comments and meta lines."""
    n = 0
    with open(path) as f:
        for line in f:
            s = line.strip()
            if s and not s.startswith("--") and not s.startswith("\\") and s.endswith(";"):
                n += 1
    return n


def cmd_statements(path):
    print(count_statements(path))


# What log_statement = all writes for each statement a client runs (log_line_prefix has
# "app=%a "): "statement: SQL" (simple protocol) or "execute NAME: SQL" (extended, prepared
# or not). Unlike pg_stat_statements, it counts a prepared BEGIN or COMMIT every time.
LOGGED = re.compile(r" app=(\S*) LOG:  (?:statement|execute [^:]*): (.*)$")


def cmd_sentlog(log, start, end, out):
    """Statements in LOG between byte offsets START and END from clients other than psql:
    prints their number, writes "calls | statement" lines to OUT."""
    with open(log, "rb") as f:
        f.seek(int(start))
        text = f.read(int(end) - int(start)).decode("utf-8", "replace")
    found = []  # [app, sql]; a statement's further lines follow its first, tab-indented
    for line in text.splitlines():
        m = LOGGED.search(line)
        if m:
            found.append([m.group(1), m.group(2)])
        elif line.startswith("\t") and found:
            found[-1][1] += " " + line
        else:
            found.append(["", None])  # another message: no continuation of the last statement
    counts = {}
    for app, sql in found:
        if sql is not None and app != "psql":
            sql = " ".join(sql.split())
            counts[sql] = counts.get(sql, 0) + 1
    with open(out, "w") as f:
        for sql, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            f.write("%d | %s\n" % (n, sql))
    print(sum(counts.values()))


# ---- the report ----------------------------------------------------------------------------

def read_jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, spec="{:,.0f}"):
    return "–" if v is None else spec.format(v)


def mib(kib):
    return "–" if kib is None else "%.1f MiB" % (kib / 1024.0)


def memory_lines(label, snap):
    """One line of PSS for a pss snapshot: per worker (max, sum), the master, nginx, total."""
    if not snap:
        return []
    workers = [v for v in snap["workers"]["others"].values() if v is not None]
    master = sum(v for v in snap["workers"]["roots"].values() if v is not None)
    nginx = sum(v for part in ("roots", "others") for v in snap["nginx"][part].values() if v is not None)
    total = nginx + master + sum(workers)
    return ["memory (PSS) %s: worker max %s, %d workers sum %s; master %s; nginx %s; "
            "nginx + master + workers %s" % (label, mib(max(workers) if workers else None), len(workers),
                                             mib(sum(workers)), mib(master), mib(nginx), mib(total))]


# The cases bench/run knows, in the order it runs them, with the table's label for each.
CASES = {"health": "GET /health", "get": "GET /api/bikes/:id", "list": "GET /api/bikes",
         "ride": "POST /api/bikes/:id/kilometrage, many bikes",
         "ride1": "POST /api/bikes/:id/kilometrage, one bike"}


def cmd_meta(path, pairs):
    """Merges KEY=VALUE pairs into the JSON object in path (numbers stay numbers)."""
    meta = {}
    if os.path.exists(path):
        with open(path) as f:
            meta = json.load(f)
    for pair in pairs:
        key, _, value = pair.partition("=")
        meta[key] = int(value) if re.fullmatch(r"\d+", value) else value
    with open(path, "w") as f:
        json.dump(meta, f)


def cmd_report(d):
    with open(os.path.join(d, "meta.json")) as f:
        meta = json.load(f)
    rounds = read_jsonl(os.path.join(d, "rounds.jsonl"))
    pgb = {(r["case"], r["side"]): r for r in read_jsonl(os.path.join(d, "pgbench.jsonl"))}

    def floor(case, s):
        """pgbench's cell: tps, and PostgreSQL's CPU µs per transaction."""
        r = pgb.get((case, s))
        return "–" if r is None else "%s (%s µs)" % (fmt(r["tps"]), fmt(r["pg_us"]))

    stmts = {(r["case"], r["side"]): r for r in read_jsonl(os.path.join(d, "statements.jsonl"))}
    cols = ["case", "service req/s", "p99 ms", "peer req/s", "p99 ms", "service/peer",
            "pgbench peer SQL (pg µs)", "pgbench service SQL (pg µs)", "µs nginx", "µs workers", "µs pg",
            "µs peer", "µs pg (peer)", "SQL/req svc, peer"]
    rows, notes = [], []
    for case in meta["cases"].split():
        label = CASES[case]
        def side(s, key, sub=None):
            vals = [r[key][sub] if sub else r[key] for r in rounds if r["case"] == case and r["side"] == s]
            return median(vals)
        srps, prps = side("service", "rps"), side("peer", "rps")
        ratio = srps / prps if srps and prps else None
        sql = []
        for s in ("service", "peer"):
            st = stmts.get((case, s))
            if st is None:
                sql.append("–")
                continue
            sql.append("%g" % st["per_request"])
            if st.get("file_statements") is not None and abs(st["per_request"] - st["file_statements"]) > 0.05:
                notes.append("WARNING: %s sent %g statements per request on %s; %s has %d: update it "
                             "(what was sent: %s)" % (s, st["per_request"], label, st["file"],
                                                      st["file_statements"], st["sent"]))
        rows.append([label, fmt(srps), fmt(side("service", "p99_ms"), "{:.1f}"), fmt(prps),
                     fmt(side("peer", "p99_ms"), "{:.1f}"), fmt(ratio, "{:.2f}×"),
                     floor(case, "peer"), floor(case, "service"),
                     fmt(side("service", "cpu_us", "nginx")), fmt(side("service", "cpu_us", "workers")),
                     fmt(side("service", "cpu_us", "pg")), fmt(side("peer", "cpu_us", "peer")),
                     fmt(side("peer", "cpu_us", "pg")), ", ".join(sql)])
    widths = [max(len(str(r[i])) for r in rows + [cols]) for i in range(len(cols))]
    line = lambda r: "| " + " | ".join(str(c).ljust(widths[i]) if i == 0 else str(c).rjust(widths[i])
                                       for i, c in enumerate(r)) + " |"
    out = ["bench/run at %s: %d workers, %d connections, %ss x %d rounds per side (median), "
           "pgbench %d clients (peer's SQL: %s) %ss; peer on %s, pool %s" % (
               meta["head"], meta["workers"], meta["connections"], meta["duration"], meta["rounds"],
               meta["workers"], meta.get("peer_pool", meta["workers"]), meta["pgbench_duration"],
               meta["peer_runtime"], meta.get("peer_pool", meta["workers"])),
           "load average: %s at the start, %s at the end" % (meta["load_start"], meta.get("load_end", "?")),
           "", line(cols), "| " + " | ".join("-" * w for w in widths) + " |"]
    out += [line(r) for r in rows]
    out += [""]
    for label, key in (("after warm-up, idle", "pss_warm"), ("after the run, idle", "pss_end")):
        path = os.path.join(d, key + ".json")
        if os.path.exists(path):
            with open(path) as f:
                out += memory_lines(label, json.load(f))
    out += notes
    print("\n".join(out))


def main(argv):
    if len(argv) < 2:
        raise SystemExit(__doc__)
    cmd, args = argv[1], argv[2:]
    if cmd == "cpu":
        cmd_cpu(args[0], args[1:])
    elif cmd == "pss":
        cmd_pss(args)
    elif cmd == "wrk":
        cmd_wrk(args[0])
    elif cmd == "round":
        cmd_round(*args)
    elif cmd == "pgbench":
        cmd_pgbench(*args)
    elif cmd == "statements":
        cmd_statements(args[0])
    elif cmd == "sentlog":
        cmd_sentlog(*args)
    elif cmd == "meta":
        cmd_meta(args[0], args[1:])
    elif cmd == "report":
        cmd_report(args[0])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
