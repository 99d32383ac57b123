# SPDX-License-Identifier: MIT
"""Delivery under the faults a collector connection meets in production,
injected for real on loopback sockets:

- kill -9 while the collector reads slowly (LF and octet framing): no
  message arrives cut in half, nothing is lost, duplicates stay within
  the documented bound;
- a collector with a small receive buffer stops reading and resets the
  connection: what is lost is at most what its own receive buffer held;
- a clean stop waits for the collector to acknowledge what was sent and
  saves the exact position (nothing is re-sent at the next start); with a
  collector that does not read, what it did not acknowledge within
  shutdown_grace is sent again at the next start;
- SIGTERM while a connect, a TLS handshake or the collector's name lookup
  hangs is noticed at once;
- UDP datagrams the collector refused count as dropped, not delivered;
- the local transport holds messages while /dev/log is gone instead of
  losing them;
- --test-connection survives a collector that resets the connection
  during the TLS close.

MDESIEM_TORN_KILLS sets how many kills per framing must land under
backpressure (default 25, so 50 in all); MDESIEM_ONLY=torn|reset|other
runs one part."""

import base64
import collections
import json
import os
import random
import re
import signal
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time

import harness as h

R = h.Results()
CS3 = re.compile(rb" cs3=((?:[^\\ ]|\\.)*) cs3Label=")
HEADER = re.compile(rb"^<\d+>1 \S+ \S+ \S+ \S+ - - ")
KILLS = int(os.environ.get("MDESIEM_TORN_KILLS", "25"))
# What a crash may send again (README "How delivery works"): the messages
# in flight (at most 256) and those acknowledged since the read position
# was last saved (at most 127).
RESEND_BOUND = 384


def full_id(msg):
    m = CS3.search(msg)
    if not m:
        return None
    return m.group(1).replace(b"\\=", b"=").replace(b"\\\\", b"\\").decode()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Tail:
    """Reads a collector's output file incrementally: every record once."""

    def __init__(self, path):
        self.path = path
        self.off = 0
        self.records = []

    def poll(self):
        if not os.path.exists(self.path):
            return self.records
        with open(self.path, "rb") as f:
            f.seek(self.off)
            data = f.read()
        end = data.rfind(b"\n") + 1
        for line in data[:end].splitlines():
            if line.strip():
                self.records.append(json.loads(line))
        self.off += end
        return self.records


def torn_of(records, corpus_ids):
    """Messages that are not whole: an LF line cut by a connection close,
    a message without its FullId, or one whose body differs from another
    copy of the same detection (a prefix of it)."""
    bodies = collections.defaultdict(set)
    torn = 0
    for r in records:
        msg = base64.b64decode(r["b64"])
        fid = full_id(msg)
        if r.get("unterminated") or fid is None or fid not in corpus_ids:
            torn += 1
            continue
        bodies[fid].add(HEADER.sub(b"", msg))
    torn += sum(len(v) - 1 for v in bodies.values())
    return torn


def torn_kills(framing, pressed_want, seed):
    """kill -9 under backpressure until pressed_want kills landed while
    the collector was still receiving; then count torn messages, losses
    and duplicates."""
    wd = h.Workdir()
    rng = random.Random(seed)
    try:
        sim = h.Sim(wd, "--count", 20000, "--seed", seed, "--hostile-ratio",
                    "0.02")
        port = free_port()
        coll = h.CollectorWith(wd, "--rate", 1000000, framing=framing,
                               port=port)
        tail = Tail(coll.out)
        conf = h.write_config(wd, sim, coll, extra={
            "output.framing": framing, "source.page_size": "500",
            "source.poll_interval": "1s"})
        kills = pressed = 0
        pattern = ""
        while pressed < pressed_want and kills < 2 * pressed_want:
            d = h.start_daemon(wd, conf)
            time.sleep(rng.uniform(0.3, 1.2))
            before = len(tail.poll())
            time.sleep(0.1)
            # Backpressure: the collector is still receiving.
            busy = len(tail.poll()) > before
            d.send_signal(signal.SIGKILL)
            d.wait()
            kills += 1
            pressed += busy
            pattern += "+" if busy else "."
            sim.call("POST", "/_sim/add?n=%d" % rng.randint(100, 400))
        print("%s: kills while the collector was receiving: %s"
              % (framing, pattern))
        want = {x["FullId"] for x in sim.corpus()}
        d = h.start_daemon(wd, conf)

        def got_all():
            ids = {full_id(base64.b64decode(r["b64"])) for r in tail.poll()}
            return want <= ids

        h.wait_for(got_all, 600, step=1)
        rc = h.stop_daemon(d, timeout=60)
        recs = tail.poll()
        ids = [full_id(base64.b64decode(r["b64"])) for r in recs]
        seen = set(ids)
        torn = torn_of(recs, want)
        err = coll.stderr()
        if framing == "octet":
            torn += err.count("incomplete frame at close")
            torn += err.count("malformed frame")
        dups = len(ids) - len(seen)
        print("torn test (%s): %d kills, %d under backpressure, %d "
              "detections, %d messages, %d torn, %d missing, %d duplicates"
              % (framing, kills, pressed, len(want), len(recs), torn,
                 len(want - seen), dups))
        R.check(pressed >= pressed_want, "%s: %d kills landed while the "
                "collector was still receiving (%d kills)"
                % (framing, pressed, kills))
        R.check(torn == 0, "%s: kill -9 under backpressure, no message "
                "cut in half (%d torn)" % (framing, torn))
        R.check(not (want - seen), "%s: every detection arrived (%d missing)"
                % (framing, len(want - seen)))
        R.check(dups <= RESEND_BOUND * (kills + 1), "%s: duplicates within "
                "the bound (%d <= %d)" % (framing, dups,
                                          RESEND_BOUND * (kills + 1)))
        R.check(rc == 0, "%s: the final SIGTERM exits 0" % framing)
        return torn, kills
    finally:
        wd.close()


def reset_loss():
    """The collector's receive buffer is small; it stops reading, waits
    until its queue is full, then resets the connection.  Only what its
    own buffer held may be lost."""
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, "--count", 6000, "--seed", 31, "--hostile-ratio", 0)
        unread = wd.file("unread.json")
        coll = h.CollectorWith(wd, "--rcvbuf", 16384, "--stall-after", 300,
                               "--unread-out", unread)
        conf = h.write_config(wd, sim, coll, extra={
            "source.page_size": "500", "source.poll_interval": "1s"})
        want = {x["FullId"] for x in sim.corpus()}
        d = h.start_daemon(wd, conf)
        h.wait_for(lambda: os.path.exists(unread), 120)
        h.wait_for(lambda: len({full_id(m) for m in coll.messages()} &
                               want) >= len(want) - 2000, 120, 0.5)
        # Delivery goes on over a new connection: wait until it settled.
        last = [-1]

        def settled():
            n = len(coll.messages())
            done = n == last[0]
            last[0] = n
            return done

        h.wait_for(settled, 120, step=2)
        rc = h.stop_daemon(d)
        with open(unread) as f:
            held = base64.b64decode(json.load(f)["b64"])
        held_ids = {full_id(b"x" + part) for part in held.split(b"\n")}
        got = {full_id(m) for m in coll.messages()}
        lost = want - got
        print("reset test: collector buffer held %d bytes (%d detections "
              "or parts), %d detections lost"
              % (len(held), len(held_ids - {None}) + 1, len(lost)))
        R.check(lost <= held_ids, "reset with bytes unread: lost only what "
                "the collector's receive buffer held (%d lost, %d of them "
                "not in its buffer)" % (len(lost), len(lost - held_ids)))
        R.check(rc == 0, "reset: SIGTERM exits 0")
        return len(lost)
    finally:
        wd.close()


def status_of(wd, state="state"):
    try:
        with open(wd.file(state + "/status.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def in_flight(wd):
    return status_of(wd).get("spool", {}).get("in_flight", 0)


def clean_stop_waits():
    """SIGTERM while a slow collector still receives: the daemon delivers
    the rest and exits only once the collector's kernel acknowledged it
    all; the next start sends nothing again."""
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, "--count", 3000, "--seed", 32, "--hostile-ratio", 0)
        rcvbuf = 32768
        coll = h.CollectorWith(wd, "--rate", 400000, "--rcvbuf", rcvbuf)
        tail = Tail(coll.out)
        conf = h.write_config(wd, sim, coll, extra={
            "source.page_size": "500", "state.shutdown_grace": "90s"})
        want = {x["FullId"] for x in sim.corpus()}
        d = h.start_daemon(wd, conf)
        h.wait_for(lambda: len(tail.poll()) >= 300, 120)
        rc = h.stop_daemon(d, timeout=120)
        read_at_exit = len(tail.poll())
        h.wait_for(lambda: len(tail.poll()) >= len(want), 60)
        recs = tail.poll()
        ids = [full_id(base64.b64decode(r["b64"])) for r in recs]
        shortest = min(len(base64.b64decode(r["b64"])) for r in recs)
        # What the collector had not read yet sat in its receive buffer
        # (the kernel doubles SO_RCVBUF) or in its last read.
        slack = (2 * rcvbuf + 65536) // shortest + 2
        R.check(rc == 0, "clean stop: exit 0")
        R.check(len(ids) == len(want) and set(ids) == want,
                "clean stop: every detection exactly once (%d messages)"
                % len(ids))
        R.check(read_at_exit >= len(want) - slack, "clean stop: the daemon "
                "exited only once the collector had acknowledged "
                "everything (%d of %d read when it exited; its receive "
                "buffer holds at most %d)" % (read_at_exit, len(want),
                                              slack))
        n = len(tail.poll())
        d = h.start_daemon(wd, conf)
        h.wait_for(lambda: status_of(wd).get("pid") == d.pid, 60)
        h.stop_daemon(d)
        R.check(len(tail.poll()) == n, "clean stop saved the exact "
                "position: the next start sends nothing again (%d new)"
                % (len(tail.poll()) - n))
    finally:
        wd.close()


def stop_unacknowledged():
    """The collector stops reading; SIGTERM with a short shutdown_grace;
    the collector then resets the connection.  What it had not
    acknowledged is sent at the next start: only its own buffer is
    lost."""
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, "--count", 3000, "--seed", 33, "--hostile-ratio", 0)
        unread = wd.file("unread.json")
        coll = h.CollectorWith(wd, "--rcvbuf", 16384, "--stall-after", 200,
                               "--unread-out", unread, "--reset-on-usr1")
        conf = h.write_config(wd, sim, coll, extra={
            "source.page_size": "500", "state.shutdown_grace": "2s"})
        want = {x["FullId"] for x in sim.corpus()}
        d = h.start_daemon(wd, conf)
        stalled = h.wait_for(lambda: len(coll.messages()) >= 200 and
                             in_flight(wd) > 0, 120)
        rc = h.stop_daemon(d, timeout=60)
        log = h.daemon_log(wd)
        coll.proc.send_signal(signal.SIGUSR1)
        h.wait_for(lambda: os.path.exists(unread), 30)
        d = h.start_daemon(wd, conf)
        h.wait_for(lambda: want <= {full_id(m) for m in coll.messages()} |
                   held_ids_of(unread), 120)
        h.wait_for(lambda: in_flight(wd) == 0 and
                   status_of(wd).get("pid") == d.pid, 60)
        rc2 = h.stop_daemon(d)
        held = held_ids_of(unread)
        lost = want - {full_id(m) for m in coll.messages()}
        print("stop with the collector stalled: %d detections lost, all in "
              "the collector's buffer: %s" % (len(lost), lost <= held))
        R.check(stalled, "stalled collector: messages in flight, not "
                "acknowledged")
        R.check(rc == 0 and "not acknowledged by the collector within "
                "[state] shutdown_grace" in log, "SIGTERM with messages "
                "not acknowledged: exit 0 after shutdown_grace, and the "
                "log says they are sent again at the next start")
        R.check(lost <= held, "the next start sent what was not "
                "acknowledged: lost only what the collector's buffer held "
                "(%d lost, %d not in its buffer)" % (len(lost),
                                                     len(lost - held)))
        R.check(rc2 == 0, "second run: SIGTERM exits 0")
    finally:
        wd.close()


def held_ids_of(path):
    """FullIds of the messages (or parts) a reset collector held."""
    try:
        with open(path) as f:
            held = base64.b64decode(json.load(f)["b64"])
    except (OSError, ValueError):
        return set()
    return {full_id(b"x" + part) for part in held.split(b"\n")} - {None}


def syn_sent_to(port):
    """A connection to 127.0.0.1:port is waiting for its SYN-ACK."""
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[3] == "02" and int(fields[2].split(":")[1], 16) == port:
                return True
    return False


def sigterm_while(wd, what, conf, waiting, notify):
    """Start the daemon, wait until waiting() says it hangs in the
    connection, then SIGTERM it; returns (exit code, seconds to exit,
    largest gap between watchdog pings while it hung)."""
    env = dict(os.environ, NOTIFY_SOCKET=notify, WATCHDOG_USEC="4000000")
    log = open(wd.file("daemon.log"), "ab")
    d = subprocess.Popen([h.DAEMON, "-c", conf], env=env, stderr=log,
                         stdout=subprocess.DEVNULL)
    wd.procs.append(d)
    hung = h.wait_for(waiting, 60)
    start = time.time()
    # Hang for a while: the watchdog must keep being pinged.
    time.sleep(5)
    d.send_signal(signal.SIGTERM)
    try:
        rc = d.wait(timeout=45)
    except subprocess.TimeoutExpired:
        d.kill()
        rc = None
    took = time.time() - start - 5
    R.check(hung, "%s: the daemon hangs in the connection" % what)
    return rc, took


def ping_gap(listener, since):
    times = [since] + [t for t in listener.pings() if t >= since]
    return max(b - a for a, b in zip(times, times[1:])) if len(times) > 1 \
        else None


def stop_during_connect():
    """SIGTERM while a TCP connect hangs (the collector's listen queue is
    full) and while a TLS handshake hangs (it accepts and says nothing):
    noticed at once, not after [source] timeout; the watchdog is pinged
    all along."""
    wd = h.Workdir()
    notify = h.Notify(wd.file("notify.sock"))
    held = []
    try:
        sim = h.Sim(wd, "--count", 50, "--seed", 34)
        full = socket.socket()
        full.bind(("127.0.0.1", 0))
        full.listen(0)
        port = full.getsockname()[1]
        held.append(socket.create_connection(("127.0.0.1", port)))
        conf = h.write_config(wd, sim, None, extra={
            "output.transport": "tcp", "output.host": "127.0.0.1",
            "output.port": str(port), "source.timeout": "60s",
            "state.shutdown_grace": "2s"})
        since = time.monotonic()
        rc, took = sigterm_while(wd, "tcp connect", conf,
                                 lambda: syn_sent_to(port), notify.path)
        gap = ping_gap(notify, since)
        R.check(rc == 0 and took < 20, "SIGTERM during a TCP connect that "
                "hangs: exit 0 after %.1f s ([source] timeout 60 s, "
                "shutdown_grace 2 s)" % took)
        R.check(gap is not None and gap < 4, "the watchdog is pinged while "
                "the connect hangs (largest gap %s s, WatchdogSec 4 s)"
                % (None if gap is None else round(gap, 1)))

        quiet = socket.socket()
        quiet.bind(("127.0.0.1", 0))
        quiet.listen(8)
        qport = quiet.getsockname()[1]

        def accept_and_hold():
            try:
                while True:
                    held.append(quiet.accept()[0])
            except OSError:
                return

        threading.Thread(target=accept_and_hold, daemon=True).start()
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", wd.file("ca.key"), "-out",
                        wd.file("ca.pem"), "-days", "2", "-subj", "/CN=t"],
                       check=True, capture_output=True)
        conf = h.write_config(wd, sim, None, name="tls.conf", extra={
            "output.transport": "tls", "output.framing": None,
            "output.host": "127.0.0.1", "output.port": str(qport),
            "output.tls_ca_file": wd.file("ca.pem"),
            "source.timeout": "60s", "state.shutdown_grace": "2s",
            "state.directory": wd.file("state-tls")})
        n = len(held)
        since = time.monotonic()
        rc, took = sigterm_while(wd, "tls handshake", conf,
                                 lambda: len(held) > n, notify.path)
        gap = ping_gap(notify, since)
        R.check(rc == 0 and took < 20, "SIGTERM during a TLS handshake that "
                "hangs: exit 0 after %.1f s ([source] timeout 60 s)" % took)
        R.check(gap is not None and gap < 4, "the watchdog is pinged while "
                "the handshake hangs (largest gap %s s)"
                % (None if gap is None else round(gap, 1)))
        full.close()
        quiet.close()
    finally:
        for c in held:
            c.close()
        notify.close()
        wd.close()


# A name server on 127.0.0.1:53 that reads queries and never answers, run
# in the daemon's own network namespace (as in test_stop_connect.py); it
# notes the first query, and ends with its parent (the daemon).
BLACKHOLE = r"""
import os, select, socket, sys, time
ppid = os.getppid()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", 53))
t = socket.socket()
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("127.0.0.1", 53))
t.listen(8)
open(sys.argv[1] + ".up", "w").close()
conns = []
end = time.time() + 300
while time.time() < end and os.getppid() == ppid:
    r, _, _ = select.select([u, t], [], [], 0.2)
    for s in r:
        if s is u:
            u.recvfrom(4096)
        else:
            conns.append(t.accept()[0])
        open(sys.argv[1] + ".query", "w").close()
"""


def stop_during_lookup():
    """SIGTERM while the collector's name lookup hangs (a name server that
    never answers, resolver timeout 30 s): noticed at once."""
    try:
        ok = subprocess.run(["unshare", "-m", "-n", "sh", "-c",
                             "ip link set lo up"], capture_output=True,
                            timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    if not ok:
        print("skip SIGTERM during the collector's name lookup: no network "
              "namespace here (unshare -m -n needs root)")
        return
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, "--count", 20, "--seed", 38)
        state = wd.file("state")
        # First the spool gets something to deliver: no collector yet.
        conf = h.write_config(wd, sim, None, extra={
            "output.transport": "tcp", "output.host": "127.0.0.1",
            "output.port": str(free_port()), "state.shutdown_grace": "1s"})
        h.run_daemon(conf, "--once")
        conf = h.write_config(wd, sim, None, name="name.conf", extra={
            "output.transport": "tcp",
            "output.host": "collector.mdesiem-test.example",
            "output.port": "514", "source.timeout": "60s",
            "state.shutdown_grace": "2s", "state.directory": state})
        resolv = wd.file("resolv.conf")
        with open(resolv, "w") as f:
            f.write("nameserver 127.0.0.1\noptions timeout:30 attempts:1\n")
        bh = wd.file("blackhole.py")
        with open(bh, "w") as f:
            f.write(BLACKHOLE)
        mark = wd.file("ns")
        script = (
            "ip link set lo up && mount --bind %s /etc/resolv.conf && "
            "{ %s %s %s & while [ ! -e %s.up ]; do sleep 0.05; done; "
            "exec %s -c %s; }" % (resolv, sys.executable, bh, mark, mark,
                                  h.DAEMON, conf))
        log = open(wd.file("daemon.log"), "ab")
        d = subprocess.Popen(["unshare", "-m", "-n", "sh", "-c", script],
                             stdout=subprocess.DEVNULL, stderr=log)
        wd.procs.append(d)
        asked = h.wait_for(lambda: os.path.exists(mark + ".query"), 60)
        t0 = time.time()
        d.send_signal(signal.SIGTERM)
        try:
            rc = d.wait(timeout=60)
        except subprocess.TimeoutExpired:
            d.kill()
            rc = d.wait()
        took = time.time() - t0
        R.check(asked, "the collector's name lookup reaches the name "
                "server, which never answers")
        R.check(rc == 0 and took < 20, "SIGTERM during the collector's "
                "name lookup: exit %s after %.1f s (resolver timeout 30 s, "
                "shutdown_grace 2 s)" % (rc, took))
    finally:
        wd.close()


def udp_dropped():
    """UDP datagrams the collector refused are dropped, not delivered, in
    status.json, --status and the metrics."""
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, "--count", 40, "--seed", 35)
        prom = wd.file("textfile")
        os.mkdir(prom)
        conf = h.write_config(wd, sim, None, extra={
            "output.transport": "udp", "output.framing": None,
            "output.host": "127.0.0.1", "output.port": str(free_port()),
            "metrics.textfile_dir": prom})
        rc, err, _ = h.run_daemon(conf, "--once")
        c = status_of(wd).get("counters", {})
        with open(os.path.join(prom, "mdesiem.prom")) as f:
            text = f.read()
        m = re.search(r"^mdesiem_records_dropped_total (\d+)$", text, re.M)
        out = subprocess.run([h.DAEMON, "--status", "-c", conf],
                             capture_output=True, text=True).stdout
        R.check(rc == 0, "udp, nobody listening: --once exits 0 (lossy by "
                "nature)")
        R.check(c.get("dropped", 0) >= 20 and
                c.get("delivered", 0) + c.get("dropped", 0) == 40,
                "udp refused: counted as dropped, not delivered (%s "
                "delivered, %s dropped of 40)" % (c.get("delivered"),
                                                  c.get("dropped")))
        R.check(m is not None and int(m.group(1)) == c.get("dropped"),
                "metrics: mdesiem_records_dropped_total %s"
                % (m.group(1) if m else "missing"))
        R.check("%d dropped by the transport" % c.get("dropped", -1) in out,
                "--status shows the dropped messages")
        coll = h.CollectorWith(wd, "--udp")
        conf = h.write_config(wd, sim, coll, name="ok.conf", extra={
            "output.transport": "udp", "output.framing": None,
            "state.directory": wd.file("state-ok")})
        rc, err, _ = h.run_daemon(conf, "--once")
        c = status_of(wd, "state-ok").get("counters", {})
        R.check(rc == 0 and c.get("dropped") == 0 and
                c.get("delivered") == 40, "udp with a collector: 40 "
                "delivered, 0 dropped (%s, %s)" % (c.get("delivered"),
                                                   c.get("dropped")))
    finally:
        wd.close()


def local_held():
    """/dev/log goes away while the daemon runs (the syslog daemon
    restarts): messages wait and arrive when it is back; none is lost."""
    if os.path.exists(h.DevLog.PATH):
        print("skip local syslog away: /dev/log belongs to this machine's "
              "syslog daemon")
        return
    try:
        devlog = h.DevLog()
    except OSError as e:
        print("skip local syslog away: cannot bind /dev/log (%s)" % e)
        return
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, "--count", 40, "--seed", 36)
        want = {x["FullId"] for x in sim.corpus()}
        conf = h.write_config(wd, sim, None, extra={
            "output.transport": "local", "output.framing": None,
            "source.poll_interval": "1s"})
        d = h.start_daemon(wd, conf)
        h.wait_for(lambda: len(devlog.msgs) >= 40, 60)
        first = devlog
        devlog.close()
        devlog = None
        want |= set(sim.call("POST", "/_sim/add?n=30")["added"])
        away = h.wait_for(lambda: "unavailable" in h.daemon_log(wd), 60)
        devlog = h.DevLog()
        h.wait_for(lambda: len(devlog.msgs) >= 30, 60)
        h.wait_for(lambda: status_of(wd).get("counters", {})
                   .get("delivered") == 70, 30)
        rc = h.stop_daemon(d)
        got = {full_id(m) for m in first.msgs + devlog.msgs}
        c = status_of(wd).get("counters", {})
        R.check(away, "local: the daemon says the local syslog daemon is "
                "unavailable")
        R.check(want <= got, "local: nothing lost while /dev/log was away "
                "(%d of %d arrived)" % (len(want & got), len(want)))
        R.check(rc == 0 and c.get("dropped") == 0 and
                c.get("delivered") == 70, "local: 70 delivered, 0 dropped "
                "(%s, %s)" % (c.get("delivered"), c.get("dropped")))
    finally:
        if devlog is not None:
            devlog.close()
        wd.close()


def local_too_large():
    """A message larger than the local syslog socket takes (EMSGSIZE) is
    the local transport's one loss: dropped, counted in status.json,
    --status and the metrics, and said in the log; the rest is
    delivered."""
    if os.path.exists(h.DevLog.PATH):
        print("skip local too large: /dev/log belongs to this machine's "
              "syslog daemon")
        return
    try:
        devlog = h.DevLog()
    except OSError as e:
        print("skip local too large: cannot bind /dev/log (%s)" % e)
        return
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, "--count", 0, "--seed", 37, "--hostile-ratio", 0)
        want = set(sim.call("POST", "/_sim/add?n=5&ago=300")["added"])
        big = set(sim.call("POST", "/_sim/add?n=2&ago=200&desc_len=600000")
                  ["added"])
        want |= set(sim.call("POST", "/_sim/add?n=5&ago=100")["added"])
        prom = wd.file("textfile")
        os.mkdir(prom)
        conf = h.write_config(wd, sim, None, extra={
            "output.transport": "local", "output.framing": None,
            "output.max_message_size": "1M", "output.format": "json",
            "metrics.textfile_dir": prom})
        rc, err, _ = h.run_daemon(conf, "--once")
        h.wait_for(lambda: len(devlog.msgs) >= len(want), 30)
        got = {json.loads(m[m.index(b"{"):]).get("full_id")
               for m in devlog.msgs}
        c = status_of(wd).get("counters", {})
        with open(os.path.join(prom, "mdesiem.prom")) as f:
            m = re.search(r"^mdesiem_records_dropped_total (\d+)$", f.read(),
                          re.M)
        out = subprocess.run([h.DAEMON, "--status", "-c", conf],
                             capture_output=True, text=True).stdout
        R.check(want <= got and not (big & got),
                "local: the %d others delivered, the 2 too large not (%d "
                "arrived)" % (len(want), len(got)))
        R.check(c.get("dropped") == 2 and c.get("delivered") == len(want),
                "local too large: 2 dropped, %d delivered in status.json "
                "(%s, %s)" % (len(want), c.get("dropped"),
                              c.get("delivered")))
        R.check(m is not None and int(m.group(1)) == 2 and
                "2 dropped by the transport" in out,
                "local too large: in the metrics and --status")
        R.check("too large for the local syslog socket" in err,
                "local too large: the log says so and how to avoid it")
    finally:
        devlog.close()
        wd.close()


def probe_tls_reset():
    """--test-connection against a TLS collector that resets the
    connection right after the handshake, at several moments: the
    command reports and exits; no SIGPIPE."""
    wd = h.Workdir()
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", wd.file("srv.key"), "-out",
                        wd.file("srv.pem"), "-days", "2", "-subj",
                        "/CN=localhost", "-addext",
                        "subjectAltName=IP:127.0.0.1"],
                       check=True, capture_output=True)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(wd.file("srv.pem"), wd.file("srv.key"))
        ls = socket.socket()
        ls.bind(("127.0.0.1", 0))
        ls.listen(8)
        port = ls.getsockname()[1]
        delays = [0, 0.001, 0.003, 0.01, 0.03]

        def serve():
            i = 0
            while True:
                try:
                    c, _ = ls.accept()
                except OSError:
                    return
                try:
                    t = ctx.wrap_socket(c, server_side=True)
                    time.sleep(delays[i % len(delays)])
                    t.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                 struct.pack("ii", 1, 0))
                    t.close()
                except (OSError, ssl.SSLError):
                    c.close()
                i += 1

        threading.Thread(target=serve, daemon=True).start()
        sim = h.Sim(wd, "--count", 3, "--seed", 37)
        conf = h.write_config(wd, sim, None, extra={
            "output.transport": "tls", "output.framing": None,
            "output.host": "127.0.0.1", "output.port": str(port),
            "output.tls_ca_file": wd.file("srv.pem")})
        codes = []
        complete = 0
        for _ in range(10):
            p = subprocess.run([h.DAEMON, "-c", conf, "--test-connection"],
                               capture_output=True, text=True, timeout=60)
            codes.append(p.returncode)
            complete += ("collector: tls 127.0.0.1:%d" % port in p.stdout and
                         "test-connection: " in p.stdout)
        ls.close()
        R.check(all(c in (0, 1) for c in codes) and complete == len(codes),
                "--test-connection with a reset during the TLS close: it "
                "reports the collector step and exits with 0 or 1, never "
                "by a signal (exit codes %s)" % codes)
    finally:
        wd.close()


def main():
    only = os.environ.get("MDESIEM_ONLY", "")
    if only in ("", "torn"):
        torn_kills("lf", KILLS, 41)
        torn_kills("octet", KILLS, 42)
    if only in ("", "reset"):
        reset_loss()
    if only in ("", "other"):
        clean_stop_waits()
        stop_unacknowledged()
        stop_during_connect()
        stop_during_lookup()
        udp_dropped()
        local_held()
        local_too_large()
        probe_tls_reset()
    R.done()


if __name__ == "__main__":
    main()
