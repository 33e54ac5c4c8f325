#!/usr/bin/env python3
"""A stand-in for Supabase's key endpoint, controlled by the tests through files in a
directory (tests/http/test_jwks_fetch.py):

    jwks_server.py DIR [PORT]

It serves GET /auth/v1/.well-known/jwks.json on 127.0.0.1:PORT (0 or none: any free port)
and writes the port it got to DIR/port. What it answers is what DIR/mode says (re-read on
each request; absent means "serve"):

    serve   200 with DIR/jwks.json's bytes, application/json
    500     500 with a JSON error
    junk    200 with text that is no JSON
    empty   200 with {"keys":[]}
    nokey   200 with a set of only unsupported keys (an HMAC "oct" key)
    bad     200 with a set whose one EC key is malformed
    big     200 with a valid-looking JSON text over 1 MiB (JWKS_MAX_BYTES)
    hang    accepts, reads the request, answers nothing for 30 s
    down    closes its listening socket (connection refused) until the mode changes

Every request is appended to DIR/hits: "<unix time> <mode> <X-Fetch-Reason> <path>".
It exits when DIR/stop exists or on SIGTERM.
"""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIR = sys.argv[1]
WANT_PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 0
PATH = "/auth/v1/.well-known/jwks.json"


def _mode():
    try:
        with open(os.path.join(DIR, "mode")) as f:
            return f.read().strip() or "serve"
    except OSError:
        return "serve"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, status, body, ctype="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        mode = _mode()
        reason = self.headers.get("X-Fetch-Reason", "-")
        with open(os.path.join(DIR, "hits"), "a") as f:
            f.write(f"{time.time():.3f} {mode} {reason} {self.path}\n")
        if self.path != PATH:
            return self._send(404, b'{"error":"not found"}')
        if mode == "hang":
            time.sleep(30)
            return
        if mode == "500":
            return self._send(500, b'{"error":"boom"}')
        if mode == "junk":
            return self._send(200, b"<html>this is no JSON</html>", "text/html")
        if mode == "empty":
            return self._send(200, b'{"keys":[]}')
        if mode == "nokey":
            return self._send(200, json.dumps({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "x"}]}).encode())
        if mode == "bad":
            return self._send(200, b'{"keys":[{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA","kid":"bad"}]}')
        if mode == "big":
            return self._send(200, b'{"keys":[],"pad":"' + b"x" * (1024 * 1024 + 10) + b'"}')
        try:
            with open(os.path.join(DIR, "jwks.json"), "rb") as f:
                body = f.read()
        except OSError:
            body = b'{"keys":[]}'
        return self._send(200, body)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    port = WANT_PORT
    srv = None
    while not os.path.exists(os.path.join(DIR, "stop")):
        down = _mode() == "down"
        if srv is None and not down:
            srv = Server(("127.0.0.1", port), Handler)
            port = srv.server_address[1]
            threading.Thread(target=srv.serve_forever, daemon=True).start()
            tmp = os.path.join(DIR, "port.tmp")
            with open(tmp, "w") as f:
                f.write(f"{port}\n")
            os.replace(tmp, os.path.join(DIR, "port"))
        elif srv is not None and down:
            srv.shutdown()
            srv.server_close()  # refused from now on
            srv = None
        time.sleep(0.05)
    if srv is not None:
        srv.shutdown()


if __name__ == "__main__":
    import signal
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    main()
