# SPDX-License-Identifier: MIT
"""--replay FROM [--until TO] [--tenant NAME]: a past range sent again.
The simulator's detections spread over two hours; a live --once delivers
them all.  A replay of [90m, 30m] ago then delivers exactly the records
whose LastProcessedTimeUtc lies in the range, each once, each marked
(CEF mdeReplay=1, LEEF replay=1, JSON "replay": "1"), and the live state
(cursor, dedup, queues) is byte for byte what it was: a --once after it
sends exactly the alerts added since.  The same command again resumes (sends
nothing new after a complete run; after kill -9 the rest, nothing lost); a
different range starts afresh.  A replay runs beside the running service;
two at once are refused; bad ranges, a range past the retention and
unknown tenants get a clear error and exit 2; --tenant limits a replay of
many tenants to one.  With streams = alerts, incidents both are replayed;
on a terminal, progress is a bar on stderr."""

import calendar
import fcntl
import json
import os
import re
import signal
import subprocess
import time

import harness as h

R = h.Results()
ISO = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z?")


def secs(t):
    m = ISO.match(t)
    return calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")) + \
        float("0." + (m.group(2) or "0"))


def full_id(msg):
    m = re.search(rb"cs3=(\S+)", msg)
    return m.group(1).decode().replace("\\=", "=") if m else None


def ext_id(msg):
    m = re.search(rb"externalId=(\S+)", msg)
    return m.group(1).decode() if m else None


def live_files(state):
    """Every file of the live state (not replay/), with its bytes."""
    out = {}
    for root, dirs, files in os.walk(state):
        rel = os.path.relpath(root, state)
        if rel == "replay" or rel.startswith("replay" + os.sep):
            continue
        for f in files:
            if f in ("status.json", "lock"):
                continue
            p = os.path.join(root, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, state)] = fh.read()
    return out


def in_range(corpus, lo, hi):
    return {r["FullId"] for r in corpus
            if lo <= secs(r["LastProcessedTimeUtc"]) <= hi}


def main():
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, "--count", "400", "--hostile-ratio", "0")
        col = h.Collector(wd)
        state = wd.file("state")
        conf = h.write_config(wd, sim, col, state=state)
        rc, err, _ = h.run_daemon(conf, "--once")
        R.check(rc == 0 and len(col.messages()) == 400,
                "the live --once delivers all 400 (%d, rc %d)"
                % (len(col.messages()), rc))
        before = live_files(state)
        corpus = sim.corpus()
        n0 = len(col.messages())

        # -- a replay of [90m, 30m] ago
        t0 = time.time()
        rc, err, _ = h.run_daemon(conf, "--replay", "90m", "--until", "30m")
        t1 = time.time()
        got = col.messages()[n0:]
        ids = [full_id(m) for m in got]
        sure = in_range(corpus, t1 - 90 * 60 + 1, t0 - 30 * 60 - 1)
        maybe = in_range(corpus, t0 - 90 * 60 - 1, t1 - 30 * 60 + 1)
        R.check(rc == 0, "the replay exits 0 once delivered (rc %d): %s"
                % (rc, err[-300:]))
        R.check(len(ids) == len(set(ids)),
                "each replayed record once (%d messages, %d ids)"
                % (len(ids), len(set(ids))))
        R.check(sure <= set(ids) <= maybe and len(sure) > 50,
                "exactly the records of the range (%d sent, %d sure, %d "
                "at most)" % (len(set(ids)), len(sure), len(maybe)))
        R.check(all(b"mdeReplay=1 " in m for m in got),
                "every replayed CEF message carries mdeReplay=1")
        R.check(not any(b"mdeReplay" in m for m in col.messages()[:n0]),
                "live messages carry no replay marker")
        R.check("replay:" in err and "records sent" in err
                and "% of the range" in err,
                "progress lines in the log: %s" % err[-400:])
        R.check(live_files(state) == before,
                "the live state is byte for byte untouched")

        # -- the same command again: resumes, nothing more to send
        n1 = len(col.messages())
        rc, err, _ = h.run_daemon(conf, "--replay", "90m", "--until", "30m")
        R.check(rc == 0 and len(col.messages()) == n1
                and "resuming" in err,
                "the same command again resumes: nothing sent twice "
                "(%d new, rc %d)" % (len(col.messages()) - n1, rc))

        # -- a --once after the replay sends exactly what was added
        added = sim.call("POST", "/_sim/add?n=7")["added"]
        h.wait_api_time(sim, time.time())
        n2 = len(col.messages())
        rc, err, _ = h.run_daemon(conf, "--once")
        new = {full_id(m) for m in col.messages()[n2:]}
        R.check(rc == 0 and len(col.messages()) - n2 == 7
                and new == set(added),
                "a --once after the replay sends exactly the 7 added "
                "(%d)" % (len(col.messages()) - n2))
        before = live_files(state)

        # -- a different range starts afresh
        n3 = len(col.messages())
        rc, err, _ = h.run_daemon(conf, "--replay", "100m", "--until", "80m")
        got = col.messages()[n3:]
        ids = {full_id(m) for m in got}
        R.check(rc == 0 and "starts afresh" in err and len(got) == len(ids)
                and len(ids) > 0,
                "a different range starts afresh (%d sent)" % len(ids))

        # -- beside the running service; two replays at once refused
        svc = h.start_daemon(wd, conf)
        h.wait_for(lambda: os.path.exists(os.path.join(state, "status.json")),
                   timeout=30)
        time.sleep(1)
        rc, err, _ = h.run_daemon(conf, "--replay", "100m", "--until", "80m")
        R.check(rc == 0, "a replay runs beside the running service (rc %d): "
                "%s" % (rc, err[-300:]))
        R.check(svc.poll() is None, "the service keeps running")
        with open(os.path.join(state, "replay", "lock"), "w") as lk:
            fcntl.flock(lk, fcntl.LOCK_EX)
            rc, err, _ = h.run_daemon(conf, "--replay", "1h")
        R.check(rc == 1 and "another replay is running" in err,
                "two replays at once: refused (rc %d): %s" % (rc, err[-200:]))
        h.stop_daemon(svc)
        before = live_files(state)

        # -- bad arguments
        for args, what, word in (
                (["--replay", "yesterday"], "a bad FROM",
                 '--replay: "yesterday"'),
                (["--replay", "1h", "--until", "2h"], "TO before FROM",
                 'is before --replay "1h"'),
                (["--replay", "200d"], "past the retention", "retention"),
                (["--until", "1h"], "--until alone", "--until goes with"),
                (["--replay", "1h", "--tenant", "nope"], "an unknown tenant",
                 "no such tenant"),
                (["--replay", "1h", "--once"], "--replay with --once",
                 "--replay goes alone")):
            rc, err, _ = h.run_daemon(conf, *args)
            R.check(rc == 2 and word in err,
                    "%s: exit 2 naming it (rc %d): %s" % (what, rc, err[-200:]))
        R.check(live_files(state) == before,
                "the live state is still untouched after every replay")
    finally:
        wd.close()


def formats():
    """LEEF and JSON carry the marker too."""
    for fmt, mark in (("leef", b"|replay=1^"), ("json", b'"replay":"1"')):
        wd = h.Workdir()
        try:
            sim = h.Sim(wd, "--count", "50", "--hostile-ratio", "0")
            col = h.Collector(wd)
            conf = h.write_config(wd, sim, col,
                                  extra={"output.format": fmt})
            rc, err, _ = h.run_daemon(conf, "--replay", "3h")
            got = col.messages()
            R.check(rc == 0 and len(got) == 50
                    and all(mark in m.replace(b" ", b"") for m in got),
                    "%s: 50 replayed, each marked (%d, rc %d): %r"
                    % (fmt, len(got), rc, got[:1]))
        finally:
            wd.close()


def killed():
    """kill -9 in the middle of a replay; the same command again sends
    the rest: every record of the range arrives, duplicates only within
    what was in flight."""
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, "--count", "6000", "--hostile-ratio", "0")
        col = h.Collector(wd)
        conf = h.write_config(wd, sim, col, extra={"source.page_size": "100"})
        log = open(wd.file("replay.log"), "ab")
        p = subprocess.Popen([h.DAEMON, "-c", conf, "--replay", "3h"],
                             stdout=subprocess.DEVNULL, stderr=log)
        h.wait_for(lambda: len(col.messages()) >= 1500, timeout=120,
                   step=0.02)
        p.send_signal(signal.SIGKILL)
        p.wait()
        first = len(col.messages())
        rc, err, _ = h.run_daemon(conf, "--replay", "3h")
        ids = [full_id(m) for m in col.messages()]
        R.check(rc == 0 and "resuming" in err,
                "after kill -9 the same command resumes (rc %d)" % rc)
        R.check(len(set(ids)) == 6000,
                "every record of the range arrives (%d of 6000; %d before "
                "the kill)" % (len(set(ids)), first))
        R.check(len(ids) - len(set(ids)) <= 1500,
                "duplicates bounded (%d)" % (len(ids) - len(set(ids))))
    finally:
        wd.close()


def tenants():
    """With [tenant] sections, every tenant is replayed, or with --tenant
    only that one."""
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, "--count", "40", "--tenants", "3",
                    "--hostile-ratio", "0")
        col = h.Collector(wd)
        ts = sim.call("GET", "/_sim/tenants")
        conf = h.write_config(wd, sim, col, extra={"azure.tenant_id": None})
        with open(conf, "a") as f:
            for i, t in enumerate(ts["tenants"] if isinstance(ts, dict)
                                  else ts):
                tid = t["id"] if isinstance(t, dict) else t
                f.write("[tenant t%d]\ntenant_id = %s\n" % (i, tid))
                if isinstance(t, dict) and t.get("client_secret"):
                    f.write("client_secret = %s\n" % t["client_secret"])
                f.write("\n")
        rc, err, _ = h.run_daemon(conf, "--replay", "3h", "--tenant", "t1")
        got = col.messages()
        R.check(rc == 0 and len(got) == 40
                and all(b"mdeTenantName=t1 " in m for m in got),
                "--tenant t1: its 40 alone (%d, rc %d): %s"
                % (len(got), rc, err[-300:]))
        rc, err, _ = h.run_daemon(conf, "--replay", "3h")
        got = col.messages()[40:]
        names = {re.search(rb"mdeTenantName=(\S+)", m).group(1) for m in got}
        R.check(rc == 0 and len(got) == 120
                and names == {b"t0", b"t1", b"t2"},
                "without --tenant every tenant (%d, %r)" % (len(got), names))
    finally:
        wd.close()


def body(msg):
    """A JSON message's object without the replay marker."""
    t = msg.decode("utf-8", "replace")
    o = json.loads(t[t.index("{"):])
    o.pop("replay", None)
    return json.dumps(o, sort_keys=True)


def streams():
    """Graph with streams = alerts, incidents: a replay sends both again,
    exactly the live messages, each marked."""
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, "--graph-count", 120, "--incidents-count", 80)
        col = h.Collector(wd)
        conf = h.write_config(wd, sim, col, extra={
            "source.api": "graph",
            "source.url": sim.base + "/graph/v1.0/security/alerts_v2",
            "source.page_size": "50",
            "source.streams": "alerts, incidents",
            "output.format": "json", "output.max_message_size": "64K"})
        rc, err, _ = h.run_daemon(conf, "--once")
        live = col.messages()
        rc2, err, _ = h.run_daemon(conf, "--replay", "3h")
        rep = col.messages()[len(live):]
        R.check(rc == 0 and rc2 == 0 and len(live) == 200,
                "graph, both streams: live 200 (%d), replay rc %d"
                % (len(live), rc2))
        R.check(sorted(body(m) for m in rep) == sorted(body(m) for m in live)
                and all(b'"replay":"1"' in m for m in rep),
                "the replay sends both streams again, each message as the "
                "live one plus the marker (%d of %d)" % (len(rep), len(live)))
    finally:
        wd.close()


def terminal():
    """On a terminal, progress is a bar on stderr."""
    import pty
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, "--count", "100", "--hostile-ratio", "0")
        col = h.Collector(wd)
        conf = h.write_config(wd, sim, col)
        master, slave = pty.openpty()
        p = subprocess.Popen([h.DAEMON, "-c", conf, "--replay", "3h"],
                             stdout=subprocess.DEVNULL, stderr=slave)
        os.close(slave)
        out = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        rc = p.wait(timeout=120)
        os.close(master)
        R.check(rc == 0 and b"\rreplay [" in out and b"100%" in out
                and b"100 sent" in out,
                "on a terminal: a progress bar on stderr (rc %d): %r"
                % (rc, out[-200:]))
    finally:
        wd.close()


main()
formats()
killed()
tenants()
streams()
terminal()
R.done()
