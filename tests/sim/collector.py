#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""collector: a loopback syslog receiver for tests.

Accepts TCP connections on 127.0.0.1 (optionally TLS), splits the byte
stream into messages (LF-terminated lines, or RFC 6587 octet counting) and
appends one JSON line per message to --out:

    {"conn": 1, "ts": 1700000000.123, "b64": "<raw bytes>", "text": "<utf-8, errors replaced>"}

TLS (RFC 5425): --tls-cert/--tls-key make it a TLS listener; --tls-ca
additionally REQUIRES a client certificate signed by that CA (mutual TLS;
each record then carries "client_cn", the client certificate's common
name); --tls-max-version 1.2 caps the protocol version. A failed handshake
is reported on stderr and nothing is written for that connection.

UDP (RFC 5426): with --udp it binds a UDP socket on 127.0.0.1 instead and
writes one record per datagram, exactly its bytes, with "size" and
"conn": 0; --framing does not apply.

The line is flushed as soon as the message is complete. With --framing lf a
message is the bytes before the LF, exactly (a CR before the LF is kept);
bytes left unterminated when the peer closes are written too, with
"unterminated": true. With --framing octet a malformed frame header, a frame
over --max-message bytes, or a frame cut short by the peer closing is
reported on stderr and the connection is closed; nothing is written for it.
Faults for delivery tests: --rate N reads at most N bytes a second per
connection (a slow collector, so that the sender's queue fills);
--rcvbuf N sets SO_RCVBUF on the listening socket before listen(), so every
connection gets a small receive buffer (and a small TCP window);
--stall-after N makes the first connection stop reading after N messages;
once its receive queue has not grown for --stall-quiet seconds, the unread
bytes (after the start of a message read but not complete) are copied
(MSG_PEEK) to --unread-out as one JSON object {"bytes": N, "b64": "..."}
and the connection is reset (SO_LINGER 0: the
unread bytes are discarded, as when a collector host dies); with
--reset-on-usr1 the reset waits for SIGUSR1 instead. Later connections are
served normally.

SIGTERM or SIGINT: exit 0.
"""

import argparse
import base64
import fcntl
import json
import os
import signal
import socket
import socketserver
import ssl
import struct
import sys
import termios
import threading
import time


class Output:
    def __init__(self, path):
        self.f = open(path, "ab")
        self.lock = threading.Lock()
        self.closed = False

    def write(self, conn, msg, **extra):
        rec = {"conn": conn, "ts": round(time.time(), 6),
               "b64": base64.b64encode(msg).decode("ascii"),
               "text": msg.decode("utf-8", "replace")}
        rec.update(extra)
        line = (json.dumps(rec) + "\n").encode("ascii")
        with self.lock:
            if not self.closed:
                self.f.write(line)
                self.f.flush()

    def close(self):
        with self.lock:
            self.closed = True
            self.f.close()


class FrameError(Exception):
    pass


class LineFramer:
    """LF-terminated messages; the LF is removed, everything else kept."""

    def __init__(self):
        self.buf = bytearray()

    def feed(self, data):
        scan = len(self.buf)  # the kept remainder holds no LF
        self.buf += data
        out = []
        start = 0
        while True:
            i = self.buf.find(b"\n", scan)
            if i < 0:
                break
            out.append(bytes(self.buf[start:i]))
            start = scan = i + 1
        if start:
            del self.buf[:start]
        return out

    def leftover(self):
        return bytes(self.buf)


class OctetFramer:
    """RFC 6587 octet counting: MSG-LEN SP MSG, MSG-LEN = NONZERO-DIGIT *DIGIT.
    feed() returns the complete messages; after a malformed frame header it
    returns the messages before it and sets self.error."""

    MAX_DIGITS = 10

    def __init__(self, max_message):
        self.buf = bytearray()
        self.max_message = max_message
        self.error = None

    def feed(self, data):
        self.buf += data
        out = []
        pos = 0
        buf = self.buf
        try:
            while pos < len(buf):
                j = pos
                while j < len(buf) and 0x30 <= buf[j] <= 0x39 and j - pos <= self.MAX_DIGITS:
                    j += 1
                if j - pos > self.MAX_DIGITS:
                    raise FrameError("frame length has too many digits %r"
                                     % bytes(buf[pos:pos + 16]))
                if j == len(buf):
                    break  # header not complete yet
                if buf[j] != 0x20 or j == pos:
                    raise FrameError("bad frame header %r" % bytes(buf[pos:pos + 16]))
                if buf[pos] == 0x30:
                    raise FrameError("frame length with a leading zero %r"
                                     % bytes(buf[pos:j]))
                n = int(buf[pos:j])
                if n > self.max_message:
                    raise FrameError("frame of %d bytes exceeds --max-message %d"
                                     % (n, self.max_message))
                end = j + 1 + n
                if end > len(buf):
                    break  # message not complete yet
                out.append(bytes(buf[j + 1:end]))
                pos = end
        except FrameError as e:
            self.error = str(e)
        del buf[:pos]
        return out

    def leftover(self):
        return bytes(self.buf)


def log(msg):
    sys.stderr.write("collector: %s\n" % msg)
    sys.stderr.flush()


def unread_bytes(sock):
    """Bytes in sock's receive queue (FIONREAD)."""
    raw = fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0\0\0\0")
    return struct.unpack("i", raw)[0]


def stall_and_reset(srv, sock, conn, partial):
    """Stop reading; once the receive queue is stable, record what it
    holds (after partial, the start of a message read but not complete)
    and reset the connection (see --stall-after)."""
    last, since = -1, time.time()
    while not srv.reset_now.is_set():
        n = unread_bytes(sock)
        if n != last:
            last, since = n, time.time()
        if not srv.reset_on_usr1 and time.time() - since >= srv.stall_quiet:
            break
        time.sleep(0.05)
    last = unread_bytes(sock)
    data = partial + (sock.recv(last, socket.MSG_PEEK) if last > 0 else b"")
    if srv.unread_out:
        tmp = srv.unread_out + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"bytes": len(data),
                       "b64": base64.b64encode(data).decode("ascii")}, f)
        os.replace(tmp, srv.unread_out)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                    struct.pack("ii", 1, 0))
    log("connection %d: reset with %d unread bytes" % (conn, len(data)))


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        srv = self.server
        with srv.lock:
            srv.seq += 1
            conn = srv.seq
            if srv.active >= srv.max_clients:
                log("connection %d from %s refused: %d clients already"
                    % (conn, self.client_address, srv.active))
                return
            srv.active += 1
        try:
            self._serve(conn)
        finally:
            with srv.lock:
                srv.active -= 1

    def _serve(self, conn):
        srv = self.server
        sock = self.request
        peer = "%s:%d" % self.client_address[:2]
        extra = {}
        if srv.tls:
            try:
                sock = srv.tls.wrap_socket(sock, server_side=True)
            except (ssl.SSLError, OSError) as e:
                log("connection %d from %s: TLS handshake failed: %s" % (conn, peer, e))
                return
            cn = client_cn(sock)
            if cn is not None:
                extra["client_cn"] = cn
        log("connection %d from %s" % (conn, peer))
        framer = OctetFramer(srv.max_message) if srv.framing == "octet" else LineFramer()
        count = 0
        # A short timeout lets a stopping collector drain open connections
        # (read until they go quiet) instead of dropping what the kernel
        # already accepted, as a graceful syslog server does.
        sock.settimeout(0.2)
        stall = srv.stall_after if conn == 1 else None
        try:
            while True:
                if stall is not None and count >= stall:
                    stall_and_reset(srv, sock, conn, framer.leftover())
                    return
                try:
                    data = sock.recv(srv.chunk)
                except socket.timeout:
                    if srv.draining:
                        break
                    continue
                except (ConnectionResetError, ssl.SSLError) as e:
                    log("connection %d: %s" % (conn, e))
                    data = b""
                if not data:
                    break
                for msg in framer.feed(data):
                    srv.out.write(conn, msg, **extra)
                    count += 1
                if srv.rate:
                    time.sleep(len(data) / srv.rate)
                if getattr(framer, "error", None):  # octet framing only
                    log("connection %d: malformed frame after %d messages, closing: %s"
                        % (conn, count, framer.error))
                    return
        finally:
            try:
                sock.close()
            except OSError:
                pass
        rest = framer.leftover()
        if rest:
            if srv.framing == "lf":
                srv.out.write(conn, rest, unterminated=True)
                count += 1
                log("connection %d: %d unterminated bytes at close" % (conn, len(rest)))
            else:
                log("connection %d: incomplete frame at close (%d bytes)" % (conn, len(rest)))
        log("connection %d closed after %d messages" % (conn, count))


def client_cn(sock):
    """Common name of the verified client certificate, or None."""
    try:
        cert = sock.getpeercert()
    except (ValueError, ssl.SSLError):
        return None
    for rdn in (cert or {}).get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return value
    return None


def serve_udp(a):
    """One record per datagram until SIGTERM/SIGINT."""
    out = Output(a.out)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # A large receive buffer, so that a burst is not lost here (root may
    # go past net.core.rmem_max).
    try:
        sock.setsockopt(socket.SOL_SOCKET, 33, 32 << 20)  # SO_RCVBUFFORCE
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 << 20)
    sock.bind(("127.0.0.1", a.port))
    port = sock.getsockname()[1]

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("collector listening on udp 127.0.0.1:%d" % port, flush=True)
    if a.port_file:
        write_port_file(a.port_file, port)
    try:
        while True:
            data, peer = sock.recvfrom(65535)
            out.write(0, data, size=len(data), peer="%s:%d" % peer[:2])
    finally:
        sock.close()
        out.close()
    return 0


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 128
    rcvbuf = 0

    def server_bind(self):
        # Accepted sockets inherit the buffer size set before listen().
        if self.rcvbuf:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF,
                                   self.rcvbuf)
        socketserver.ThreadingTCPServer.server_bind(self)


def write_port_file(path, port):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def main(argv=None):
    p = argparse.ArgumentParser(description="Loopback syslog TCP collector")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--out", required=True, help="JSON lines, one per message")
    p.add_argument("--framing", choices=("lf", "octet"), default="lf")
    p.add_argument("--max-clients", type=int, default=16)
    p.add_argument("--max-message", type=int, default=1 << 20,
                   help="octet framing: largest accepted frame, bytes")
    p.add_argument("--tls-cert", help="PEM certificate: accept TLS (RFC 5425)")
    p.add_argument("--tls-key", help="PEM private key for --tls-cert")
    p.add_argument("--tls-ca", help="PEM CA: require and verify client "
                   "certificates signed by it (mutual TLS)")
    p.add_argument("--tls-max-version", choices=("1.2", "1.3"),
                   help="highest TLS version offered")
    p.add_argument("--udp", action="store_true",
                   help="receive UDP datagrams instead (one message each)")
    p.add_argument("--rate", type=int, default=0,
                   help="read at most this many bytes a second per connection")
    p.add_argument("--rcvbuf", type=int, default=0,
                   help="SO_RCVBUF of every connection, set before listen()")
    p.add_argument("--stall-after", type=int,
                   help="first connection: stop reading after N messages, "
                   "then reset it")
    p.add_argument("--stall-quiet", type=float, default=1.0,
                   help="seconds the receive queue must stay unchanged "
                   "before the reset")
    p.add_argument("--unread-out",
                   help="where --stall-after writes the unread bytes")
    p.add_argument("--reset-on-usr1", action="store_true",
                   help="--stall-after: reset at SIGUSR1, not when quiet")
    a = p.parse_args(argv)

    if a.udp:
        return serve_udp(a)
    tls = None
    if a.tls_cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(a.tls_cert, a.tls_key)
        if a.tls_ca:
            tls.load_verify_locations(a.tls_ca)
            tls.verify_mode = ssl.CERT_REQUIRED
        if a.tls_max_version == "1.2":
            tls.maximum_version = ssl.TLSVersion.TLSv1_2

    Server.rcvbuf = a.rcvbuf
    server = Server(("127.0.0.1", a.port), Handler)
    server.rate = a.rate
    # Small reads when slow, so that the rate is smooth.
    server.chunk = min(65536, max(1024, a.rate // 50)) if a.rate else 65536
    server.stall_after = a.stall_after
    server.stall_quiet = a.stall_quiet
    server.unread_out = a.unread_out
    server.reset_on_usr1 = a.reset_on_usr1
    server.reset_now = threading.Event()
    signal.signal(signal.SIGUSR1, lambda signum, frame: server.reset_now.set())
    server.out = Output(a.out)
    server.framing = a.framing
    server.max_clients = a.max_clients
    server.max_message = a.max_message
    server.tls = tls
    server.lock = threading.Lock()
    server.seq = 0
    server.active = 0
    port = server.server_address[1]

    server.draining = False

    def stop(signum, frame):
        # Stop accepting, let open connections drain, then exit 0.
        server.draining = True
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("collector listening on 127.0.0.1:%d" % port, flush=True)
    if a.port_file:
        write_port_file(a.port_file, port)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        end = time.time() + 5
        while server.active > 0 and time.time() < end:
            time.sleep(0.05)
        server.out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
