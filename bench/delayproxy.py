#!/usr/bin/python3
"""A TCP proxy that delays every byte by a fixed time in each direction: a database "far
away" for benchmarks (bench/cache-bench), on one machine, without touching the loopback
interface that other processes share (tc netem would).

  bench/delayproxy.py --listen 127.0.0.1:6544 --upstream unix:/path/.s.PGSQL.5433 --delay-ms 0.5
  bench/delayproxy.py --listen 127.0.0.1:6544 --upstream 127.0.0.1:5432 --delay-ms 0.5

--delay-ms is one way: 0.5 makes every round trip 1 ms longer. Each chunk is forwarded when
its time has come, in order, so a pipeline of statements stays one trip. Threads and blocking
sockets (asyncio's timers round to whole milliseconds, which would make 0.5 ms a 1 ms or more
one way); Debian's python3 only.
"""
import argparse
import queue
import signal
import socket
import sys
import threading
import time


def pump(src, dst, delay):
    """src -> dst, each chunk `delay` seconds after it arrived."""
    q = queue.Queue()

    def reader():
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                q.put((time.monotonic() + delay, data))
        except OSError:
            pass
        q.put(None)

    threading.Thread(target=reader, daemon=True).start()
    try:
        while True:
            item = q.get()
            if item is None:
                break
            due, data = item
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            chunks = [data]
            while not q.empty():  # whatever else is due now goes in the same send
                nxt = q.queue[0]
                if nxt is None or nxt[0] > time.monotonic():
                    break
                chunks.append(q.get_nowait()[1])
            dst.sendall(b"".join(chunks))
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def upstream_socket(spec):
    if spec.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(spec[5:])
        return s
    host, _, port = spec.rpartition(":")
    s = socket.create_connection((host, int(port)))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def serve(client, spec, delay):
    try:
        up = upstream_socket(spec)
    except OSError:
        client.close()
        return
    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    t = threading.Thread(target=pump, args=(up, client, delay), daemon=True)
    t.start()
    pump(client, up, delay)
    t.join()
    client.close()
    up.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True, help="host:port")
    ap.add_argument("--upstream", required=True, help="host:port or unix:/path")
    ap.add_argument("--delay-ms", type=float, default=0.5, help="one way, milliseconds")
    args = ap.parse_args()
    host, _, port = args.listen.rpartition(":")
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((host, int(port)))
    lsock.listen(128)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"delayproxy: {args.listen} -> {args.upstream}, {args.delay_ms} ms each way", flush=True)
    while True:
        client, _ = lsock.accept()
        threading.Thread(target=serve, args=(client, args.upstream, args.delay_ms / 1000.0),
                         daemon=True).start()


if __name__ == "__main__":
    main()
