# SPDX-License-Identifier: MIT
"""Durable delivery (ARCHITECTURE section 2): the daemon is killed with
SIGKILL at random moments while the collector is stopped and restarted in
between; in the end every detection reached the collector at least once,
and the duplicates stay within the documented bound.  With the collector
down, the spool grows to spool_max_size, fetching pauses, nothing is
dropped, and everything arrives when the collector returns."""

import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import harness as h

R = h.Results()
# A crash re-sends at most the messages in flight (256) and those
# acknowledged since the read position was last saved (127); a broken
# connection at most those in flight (include/queue.h).
RESEND_BOUND = 384
CS3 = re.compile(rb" cs3=((?:[^\\ ]|\\.)*) cs3Label=")
DCD = re.compile(rb" deviceCustomDate1=(\d+) ")


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


def all_messages(colls):
    out = []
    for c in colls:
        out.extend(c.messages())
    return out


def kill9():
    wd = h.Workdir()
    rng = random.Random(20261126)
    try:
        sim = h.Sim(wd, "--count", 20000, "--seed", 5, "--hostile-ratio",
                    "0.02")
        port = free_port()
        colls = [h.Collector(wd, port=port)]
        conf = h.write_config(wd, sim, colls[0], extra={
            "source.poll_interval": "1s", "source.page_size": "300",
            "output.port": str(port)})
        kills = restarts = 0
        collector_up = True
        for i in range(24):
            d = h.start_daemon(wd, conf)
            time.sleep(rng.uniform(0.05, 1.2))
            d.send_signal(signal.SIGKILL)
            d.wait()
            kills += 1
            if i % 3 == 0:
                sim.call("POST", "/_sim/add?n=%d" % rng.randint(100, 800))
            if i % 5 == 2 and collector_up:
                colls[-1].stop()
                collector_up = False
            elif i % 5 == 4 and not collector_up:
                colls.append(h.Collector(wd, port=port))
                collector_up = True
                restarts += 1
        if not collector_up:
            colls.append(h.Collector(wd, port=port))
            restarts += 1
        want = {d["FullId"] for d in sim.corpus()}
        d = h.start_daemon(wd, conf)

        def got_all():
            ids = {full_id(m) for m in all_messages(colls)}
            return want <= ids

        h.wait_for(got_all, 180, step=0.5)
        rc = h.stop_daemon(d)
        msgs = all_messages(colls)
        ids = [full_id(m) for m in msgs]
        seen = set(ids)
        missing = want - seen
        dups = len(ids) - len(seen)
        bound = RESEND_BOUND * (kills + 2 * restarts)
        print("kill -9 test: %d kills, %d collector restarts, %d detections,"
              " %d messages, %d duplicates (bound %d)"
              % (kills, restarts, len(want), len(ids), dups, bound))
        R.check(rc == 0, "final SIGTERM: exit 0")
        R.check(not missing, "after %d kills every detection reached the "
                "collector at least once (%d missing)" % (kills, len(missing)))
        R.check(None not in seen, "every message carries its FullId")
        R.check(dups <= bound, "duplicates within the documented bound "
                "(%d <= %d)" % (dups, bound))
        log = h.daemon_log(wd)
        R.check("Segmentation" not in log and "AddressSanitizer" not in log,
                "no crash in the daemon's own log")
    finally:
        wd.close()


def spool_dir_bytes(path):
    total = 0
    for name in os.listdir(path):
        if name.endswith(".seg"):
            total += os.path.getsize(os.path.join(path, name))
    return total


def backpressure():
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, "--count", 5000, "--seed", 8, "--hostile-ratio", 0)
        port = free_port()
        conf = h.write_config(wd, sim, None, extra={
            "output.transport": "tcp", "output.host": "127.0.0.1",
            "output.port": str(port), "state.spool_max_size": "1M",
            "source.page_size": "200", "source.poll_interval": "1s"})
        d = h.start_daemon(wd, conf)
        ok = h.wait_for(lambda: "spool_max_size" in h.daemon_log(wd), 60)
        R.check(ok, "collector down: the spool fills and the daemon says "
                "fetching is paused")
        time.sleep(2.5)
        spool = h.spool_dir(wd.file("state"))
        size = spool_dir_bytes(spool)
        R.check(1 << 20 <= size < (1 << 20) + (2 << 20),
                "spool stopped near spool_max_size (%d bytes)" % size)
        req1 = sim.stats()["requests"].get("siem", 0)
        time.sleep(2.5)
        req2 = sim.stats()["requests"].get("siem", 0)
        R.check(req1 == req2, "no fetching while the spool is full "
                "(%d -> %d requests)" % (req1, req2))
        R.check(d.poll() is None, "the daemon keeps running")
        coll = h.Collector(wd, port=port)
        want = {x["FullId"] for x in sim.corpus()}
        h.wait_for(lambda: len(coll.messages()) >= len(want), 120, 0.5)
        rc = h.stop_daemon(d)
        msgs = coll.messages()
        ids = [full_id(m) for m in msgs]
        R.check(set(ids) == want and len(ids) == len(want),
                "collector back: all %d delivered exactly once (%d messages)"
                % (len(want), len(ids)))
        # Windows are read oldest first: coarse order holds end to end.
        times = [int(DCD.search(m).group(1)) for m in msgs if DCD.search(m)]
        q = max(1, len(times) // 4)
        quarters = [times[i * q:(i + 1) * q] for i in range(4)]
        ordered = all(max(quarters[i]) <= min(quarters[i + 2])
                      for i in range(2) if quarters[i] and quarters[i + 2])
        R.check(ordered, "delivered in order (oldest windows first)")
        log = h.daemon_log(wd)
        R.check("unavailable" in log and "is back after" in log,
                "log says when the collector went away and came back")
        R.check("fetching resumes" in log, "log says when fetching resumed")
        R.check(rc == 0, "SIGTERM: exit 0")
    finally:
        wd.close()


def once_with_collector_down():
    """--once with no collector: exit 1, and nothing is lost: the next
    run delivers it from the spool without fetching it again."""
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, "--count", 300, "--seed", 9)
        port = free_port()
        conf = h.write_config(wd, sim, None, extra={
            "output.transport": "tcp", "output.host": "127.0.0.1",
            "output.port": str(port), "state.shutdown_grace": "2s"})
        rc, err, _ = h.run_daemon(conf, "--once")
        R.check(rc == 1, "--once with the collector down exits 1")
        R.check("stay in the spool" in err, "and says the records wait in "
                "the spool")
        coll = h.Collector(wd, port=port)
        before = sim.stats()["requests"].get("siem", 0)
        rc, err, _ = h.run_daemon(conf, "--once")
        R.check(rc == 0, "the next --once exits 0")
        ids = [full_id(m) for m in coll.messages()]
        want = {x["FullId"] for x in sim.corpus()}
        R.check(set(ids) == want and len(ids) == len(want),
                "everything delivered exactly once from the spool")
        R.check(sim.stats()["requests"].get("siem", 0) - before <= 2,
                "without fetching it again")
    finally:
        wd.close()


def once_spool_full():
    """--once with a slow collector and a small spool: fetching pauses at
    spool_max_size, what was fetched is delivered, and the run exits 1
    saying why; further runs fetch the rest, each record once."""
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, "--count", 3000, "--seed", 15, "--hostile-ratio", 0)
        coll = h.CollectorWith(wd, "--rate", 400000)
        conf = h.write_config(wd, sim, coll, extra={
            "state.spool_max_size": "1M", "source.page_size": "200",
            "state.shutdown_grace": "120s"})
        want = {x["FullId"] for x in sim.corpus()}
        rc, err, _ = h.run_daemon(conf, "--once")
        got = {full_id(m) for m in coll.messages()}
        R.check(rc == 1 and "--once stopped fetching early: the spool "
                "reached [state] spool_max_size" in err,
                "--once, spool full: exit 1 and the reason (%s: %s)"
                % (rc, err.strip()[-300:]))
        R.check(0 < len(got) < len(want), "--once delivered what it "
                "fetched before the pause (%d of %d)"
                % (len(got), len(want)))
        runs = 1
        while rc == 1 and runs < 12:
            rc, err, _ = h.run_daemon(conf, "--once")
            runs += 1
        # What the collector's kernel acknowledged, it reads at its pace.
        h.wait_for(lambda: len(coll.messages()) >= len(want), 60, 0.5)
        ids = [full_id(m) for m in coll.messages()]
        R.check(rc == 0 and set(ids) == want and len(ids) == len(want),
                "the next runs fetch the rest; every record once (%d runs, "
                "%d of %d, %d messages)" % (runs, len(set(ids) & want),
                                            len(want), len(ids)))
    finally:
        wd.close()


def once_disk_full():
    """--once with the state directory on a 4 MB tmpfs that fills while a
    slow collector drains it: exit 1 saying the disk is full; the next
    runs fetch the rest, each record once."""
    wd = h.Workdir()
    mnt = wd.file("state")
    os.mkdir(mnt)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs",
                       mnt], capture_output=True).returncode != 0:
        print("skip --once disk-full test: cannot mount a tmpfs here")
        wd.close()
        return
    try:
        sim = h.Sim(wd, "--count", 4000, "--seed", 20, "--hostile-ratio", 0)
        coll = h.CollectorWith(wd, "--rate", 400000)
        conf = h.write_config(wd, sim, coll, extra={
            "source.page_size": "200", "state.shutdown_grace": "120s"})
        want = {x["FullId"] for x in sim.corpus()}
        rc, err, _ = h.run_daemon(conf, "--once")
        R.check(rc == 1 and "--once stopped fetching early: the disk of the "
                "state directory is full" in err,
                "--once, disk full: exit 1 and the reason (%s: %s)"
                % (rc, err.strip()[-300:]))
        runs = 1
        while rc == 1 and runs < 20:
            rc, err, _ = h.run_daemon(conf, "--once")
            runs += 1
        h.wait_for(lambda: len(coll.messages()) >= len(want), 60, 0.5)
        ids = [full_id(m) for m in coll.messages()]
        R.check(rc == 0 and set(ids) == want and
                len(ids) - len(set(ids)) <= RESEND_BOUND,
                "disk full, --once again: every record arrives (%d runs, %d "
                "of %d, %d duplicates)" % (runs, len(set(ids) & want),
                                           len(want), len(ids) - len(set(ids))))
    finally:
        subprocess.run(["umount", mnt], capture_output=True)
        wd.close()


def segment_name_durable():
    """A new spool segment's directory entry is fsync'd before anything
    in it is counted durable (before the segment's first fdatasync), and
    so is a new spool directory's: seen with strace, the calls as the
    kernel gets them."""
    if shutil.which("strace") is None:
        print("skip segment name durability: no strace")
        return
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, "--count", 20, "--seed", 16)
        conf = h.write_config(wd, sim)
        trace = wd.file("strace.log")
        p = subprocess.run(
            ["strace", "-f", "-o", trace, "-e",
             "trace=openat,mkdir,fsync,fdatasync,close", h.DAEMON, "-c", conf,
             "--once"], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, timeout=300,
            # LeakSanitizer cannot run under ptrace (make asan).
            env=dict(os.environ, ASAN_OPTIONS="detect_leaks=0:"
                     + os.environ.get("ASAN_OPTIONS", "")))
        spool = h.spool_dir(wd.file("state"))
        calls = []
        unfinished = {}
        with open(trace) as f:
            for line in f:
                # A call another thread's call interrupted comes in two
                # lines: "PID name(args <unfinished ...>", later
                # "PID <... name resumed>) = RET".
                pid, _, rest = line.partition(" ")
                u = re.search(r"^\s*(\w+\(.*) <unfinished \.\.\.>", rest)
                if u:
                    unfinished[pid] = u.group(1)
                    continue
                r = re.search(r"^\s*<\.\.\. \w+ resumed>(.*)", rest)
                if r and pid in unfinished:
                    line = unfinished.pop(pid) + r.group(1)
                m = re.search(r"(openat|mkdir|fsync|fdatasync|close)\((.*)\)\s+="
                              r"\s+(-?\d+)", line)
                if m:
                    calls.append((m.group(1), m.group(2), int(m.group(3))))
        seg_fd, dir_fds, order = None, set(), []
        for name, args, ret in calls:
            if name == "openat" and ".seg\"" in args and "O_CREAT" in args \
                    and ret >= 0 and seg_fd is None:
                seg_fd = ret
                order.append("segment created")
            elif name == "openat" and '"%s"' % spool in args and \
                    "O_DIRECTORY" in args and ret >= 0:
                dir_fds.add(ret)
            elif name == "fsync" and seg_fd is not None and \
                    int(args) in dir_fds and "dir synced" not in order:
                order.append("dir synced")
            elif name == "fdatasync" and seg_fd is not None and \
                    int(args) == seg_fd and "data synced" not in order:
                order.append("data synced")
            if name == "close":
                dir_fds.discard(int(args))
        mk = [i for i, c in enumerate(calls)
              if c[0] == "mkdir" and '"%s"' % spool in c[1] and c[2] == 0]
        parent_synced = bool(mk) and any(
            c[0] == "fsync" for c in calls[mk[0] + 1:mk[0] + 4])
        R.check(p.returncode == 0 and order[:3] == [
            "segment created", "dir synced", "data synced"],
            "a new segment's name is fsync'd in the spool directory before "
            "its first commit is (%s)" % ", ".join(order))
        R.check(parent_synced, "the new spool directory's name is fsync'd "
                "in the state directory")
    finally:
        wd.close()


def disk_full():
    """A state directory on a 4 MB tmpfs fills up while the collector is
    down: fetching pauses, nothing is dropped or corrupted, and all of it
    arrives once the collector is back."""
    wd = h.Workdir()
    mnt = wd.file("state")
    os.mkdir(mnt)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs",
                       mnt], capture_output=True).returncode != 0:
        print("skip disk-full test: cannot mount a tmpfs here (not root?)")
        wd.close()
        return
    try:
        sim = h.Sim(wd, "--count", 4000, "--seed", 12, "--hostile-ratio", 0)
        port = free_port()
        conf = h.write_config(wd, sim, None, extra={
            "output.transport": "tcp", "output.host": "127.0.0.1",
            "output.port": str(port), "source.page_size": "200",
            "source.poll_interval": "1s"})
        d = h.start_daemon(wd, conf)
        ok = h.wait_for(lambda: "disk is full" in h.daemon_log(wd), 60)
        R.check(ok, "disk full: the daemon says fetching is paused")
        time.sleep(2)
        R.check(d.poll() is None, "disk full: the daemon keeps running")
        coll = h.Collector(wd, port=port)
        want = {x["FullId"] for x in sim.corpus()}
        h.wait_for(lambda: len(coll.messages()) >= len(want), 120, 0.5)
        rc = h.stop_daemon(d)
        ids = [full_id(m) for m in coll.messages()]
        R.check(set(ids) == want, "disk full: every detection delivered "
                "after the collector came back (%d of %d)"
                % (len(set(ids)), len(want)))
        R.check(len(ids) - len(set(ids)) <= RESEND_BOUND,
                "disk full: duplicates within the bound (%d)"
                % (len(ids) - len(set(ids))))
        R.check(rc == 0, "disk full: SIGTERM exits 0")
    finally:
        subprocess.run(["umount", mnt], capture_output=True)
        wd.close()


def main():
    disk_full()
    once_with_collector_down()
    once_spool_full()
    once_disk_full()
    segment_name_durable()
    backpressure()
    kill9()
    R.done()


if __name__ == "__main__":
    main()
