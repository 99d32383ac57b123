#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""proxy: a loopback HTTP proxy for tests, like the corporate proxies the
daemon has to go through.  It forwards absolute-URI requests
("GET http://127.0.0.1:8080/path HTTP/1.1", what a client sends to an
HTTP proxy for an http:// URL) and tunnels CONNECT (what it sends for an
https:// URL).  With --auth USER:PASS it answers 407 to requests without
that "Proxy-Authorization: Basic" header.  GET /_proxy/stats (an
origin-form request to the proxy itself) returns what it has seen as JSON.

Python 3.11 standard library only; listens on 127.0.0.1 only.
"""

import argparse
import base64
import binascii
import http.client
import json
import os
import select
import signal
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate",
              "proxy-authorization", "proxy-connection", "te", "trailer",
              "transfer-encoding", "upgrade"}
BODY_MAX = 64 * 1024 * 1024


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.data = {"requests": 0, "forwarded": 0, "connects": 0,
                     "denied": 0, "bad_auth": 0, "errors": 0,
                     "targets": {}, "users": {}}

    def count(self, key, target=None, user=None):
        with self.lock:
            self.data[key] += 1
            if target is not None:
                t = self.data["targets"]
                t[target] = t.get(target, 0) + 1
            if user is not None:
                u = self.data["users"]
                u[user] = u.get(user, 0) + 1

    def snapshot(self):
        with self.lock:
            return json.loads(json.dumps(self.data))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mdesim-proxy/1.0"
    sys_version = ""

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):
        if not self.server.quiet:
            sys.stderr.write("proxy: %s %s\n" % (self.address_string(),
                                                 fmt % args))

    # -- helpers ------------------------------------------------------------
    def _reply(self, status, body, headers=()):
        data = json.dumps(body).encode() if not isinstance(body, bytes) \
            else body
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _user(self):
        """The Basic user name, "" when auth is off, None when refused."""
        want = self.server.auth
        if want is None:
            return ""
        hdr = self.headers.get("Proxy-Authorization", "")
        scheme, _, cred = hdr.partition(" ")
        try:
            given = base64.b64decode(cred.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            given = None
        if scheme.lower() == "basic" and given == want:
            return given.split(":", 1)[0]
        self.server.stats.count("bad_auth" if hdr else "denied")
        self._reply(407, {"error": "proxy authentication required"},
                    [("Proxy-Authenticate", 'Basic realm="mdesim-proxy"')])
        return None

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline(1024).split(b";")[0].strip()
                           or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n",
                                                            b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
        n = int(self.headers.get("Content-Length") or 0)
        if not 0 <= n <= BODY_MAX:
            raise ValueError("bad Content-Length")
        return self.rfile.read(n) if n else b""

    # -- forwarding ---------------------------------------------------------
    def _forward(self):
        stats = self.server.stats
        if not self.path.lower().startswith("http://"):
            if self.command == "GET" and self.path == "/_proxy/stats":
                self._reply(200, stats.snapshot())
            else:
                self._reply(400, {"error": "not a proxy request: %s"
                                  % self.path})
            return
        stats.count("requests")
        try:
            body = self._read_body()
        except ValueError:
            self.close_connection = True
            self._reply(400, {"error": "unreadable request body"})
            return
        user = self._user()
        if user is None:
            return
        u = urlsplit(self.path)
        target = "%s:%d" % (u.hostname, u.port or 80)
        stats.count("forwarded", target, user or None)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in HOP_BY_HOP}
        path = (u.path or "/") + ("?" + u.query if u.query else "")
        conn = http.client.HTTPConnection(
            u.hostname, u.port or 80, timeout=self.server.upstream_timeout)
        try:
            conn.request(self.command, path, body=body or None,
                         headers=headers)
            resp = conn.getresponse()
            try:
                data, short = resp.read(), False
            except http.client.IncompleteRead as e:
                data, short = e.partial, True
            self._relay(resp, data, short)
        except OSError as e:
            stats.count("errors")
            self._reply(502, {"error": "upstream %s: %s" % (target, e)})
        finally:
            conn.close()

    def _relay(self, resp, data, short):
        self.send_response(resp.status, resp.reason)
        length = None
        for k, v in resp.getheaders():
            if k.lower() == "content-length":
                length = v
            elif k.lower() not in HOP_BY_HOP:
                self.send_header(k, v)
        # A cut answer stays cut: the announced length, part of the body.
        self.send_header("Content-Length",
                         length if short and length else str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        if short:
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _forward

    def do_CONNECT(self):
        stats = self.server.stats
        stats.count("requests")
        user = self._user()
        if user is None:
            return
        host, _, port = self.path.rpartition(":")
        try:
            upstream = socket.create_connection(
                (host.strip("[]"), int(port)),
                timeout=self.server.upstream_timeout)
        except (OSError, ValueError) as e:
            stats.count("errors")
            self._reply(502, {"error": "cannot connect to %s: %s"
                              % (self.path, e)})
            return
        stats.count("connects", self.path, user or None)
        self.send_response(200, "Connection Established")
        self.end_headers()
        self.wfile.flush()
        self._tunnel(upstream)
        self.close_connection = True

    def _tunnel(self, upstream):
        client = self.connection
        socks = [client, upstream]
        try:
            while True:
                ready, _, _ = select.select(socks, [], [], 300)
                if not ready:
                    return
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    (upstream if s is client else client).sendall(data)
        except OSError:
            return
        finally:
            upstream.close()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def handle_error(self, request, client_address):
        if not self.quiet:
            sys.stderr.write("proxy: connection %s: %r\n"
                             % (client_address, sys.exc_info()[1]))


def write_port_file(path, port):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def main(argv=None):
    p = argparse.ArgumentParser(description="Loopback HTTP proxy for tests")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--auth", metavar="USER:PASS",
                   help="require Proxy-Authorization: Basic for USER:PASS")
    p.add_argument("--timeout", type=float, default=30,
                   help="seconds for upstream connections")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    if args.auth is not None and ":" not in args.auth:
        p.error("--auth takes USER:PASS")
    server = Server(("127.0.0.1", args.port), Handler)
    server.auth = args.auth
    server.quiet = args.quiet
    server.upstream_timeout = args.timeout
    server.stats = Stats()
    port = server.server_address[1]

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("proxy listening on http://127.0.0.1:%d" % port, flush=True)
    if args.port_file:
        write_port_file(args.port_file, port)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
