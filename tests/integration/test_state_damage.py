# SPDX-License-Identifier: MIT
"""Damaged or tampered state: each state file in turn is deleted,
corrupted or cut, with the daemon stopped and while it runs.  Each time
the daemon reports it (log line, --status, a metric) and carries on with
what is intact; counted at the collector, it loses only what the damage
destroyed."""

import glob
import json
import os
import struct
import subprocess
import time

import harness as h
from test_state_owner import entries

R = h.Results()


def setup(wd, count, seed):
    """A simulator, a collector port with nothing on it yet, and a state
    directory whose spool holds `count` undelivered messages."""
    sim = h.Sim(wd, "--count", count, "--seed", seed, "--hostile-ratio", 0)
    port = h.free_port()
    prom = wd.file("prom")
    os.mkdir(prom)
    conf = h.write_config(wd, sim, None, extra={
        "output.transport": "tcp", "output.host": "127.0.0.1",
        "output.port": str(port), "state.shutdown_grace": "1s",
        "metrics.textfile_dir": prom})
    rc, _, _ = h.run_daemon(conf, "--once")
    return sim, port, conf, wd.file("state"), prom


def seg_files(state):
    return sorted(glob.glob(os.path.join(h.spool_dir(state), "*.seg")))


def status(state):
    with open(os.path.join(state, "status.json")) as f:
        return json.load(f)


def metric(prom, name):
    with open(os.path.join(prom, "mdesiem.prom")) as f:
        for line in f:
            if line.startswith(name + " "):
                return int(float(line.split()[1]))
    return None


def add(sim, n):
    start = h.sim_now(sim)
    ids = set(sim.call("POST", "/_sim/add?n=%d" % n)["added"])
    h.wait_api_time(sim, start)
    return ids


def ids(coll):
    return [h.cef_full_id(m) for m in coll.messages()]


def deleted_segments():
    """The operator deletes spool/*.seg and the read position names a
    segment after the last one: what they held is gone; what comes after
    is delivered, fetching does not pause as "spool full"."""
    wd = h.Workdir()
    try:
        sim, port, conf, state, prom = setup(wd, 200, 51)
        for f in seg_files(state):
            os.unlink(f)
        with open(os.path.join(h.spool_dir(state), "read.pos"), "w") as f:
            f.write("7 1234\n")
        new = add(sim, 20)
        coll = h.Collector(wd, port=port)
        rc, err, _ = h.run_daemon(conf, "--once")
        got = ids(coll)
        R.check(rc == 0 and set(got) == new and len(got) == 20,
                "segments deleted, read.pos past them: the 20 new records "
                "are delivered (%d messages, exit %d)" % (len(got), rc))
        R.check("read.pos names a segment after the last one" in err,
                "the log says so")
        R.check(status(state)["counters"]["state_damage"] >= 1
                and metric(prom, "mdesiem_state_damage_total") >= 1,
                "status and metric count it")
    finally:
        wd.close()


def damaged_length(older):
    """The length field of one entry is damaged (in the newest segment,
    or in an older one near its end): the reader skips to the next
    intact entry; that one message is lost, counted in bytes."""
    wd = h.Workdir()
    try:
        sim, port, conf, state, prom = setup(wd, 200, 52)
        seg = seg_files(state)[0]
        with open(seg, "rb") as f:
            data = bytearray(f.read())
        data_entries = [e for e in entries(bytes(data)) if e[1] != 2]
        victim = data_entries[190 if older else 100]
        struct.pack_into("<I", data, victim[0] + 4, 0x00F00000)
        with open(seg, "wb") as f:
            f.write(data)
        if older:  # the writer moves on: this one becomes an older one
            open(os.path.join(h.spool_dir(state), "%020d.seg" % 2), "wb").close()
        coll = h.Collector(wd, port=port)
        rc, err, _ = h.run_daemon(conf, "--once")
        got = ids(coll)
        where = "an older segment near its end" if older else "the spool"
        R.check(rc == 0 and len(got) == 199 and len(set(got)) == 199,
                "a damaged length in %s: the other 199 messages are "
                "delivered (%d, exit %d)" % (where, len(got), rc))
        st = status(state)
        R.check("is damaged; the reader skips to the next intact message"
                in err and st["counters"]["damaged_bytes"] >= 16,
                "the log says where, status counts the bytes skipped (%d)"
                % st["counters"]["damaged_bytes"])
        if older:
            R.check("damaged bytes found (1 older segments damaged)" in err,
                    "the start checks the older segment too")
        R.check(metric(prom, "mdesiem_spool_damaged_bytes_total") >= 16,
                "metric mdesiem_spool_damaged_bytes_total")
        out = subprocess.run([h.DAEMON, "-c", conf, "--status"],
                             capture_output=True, text=True).stdout
        R.check("state damage: " in out, "--status shows the damage")
    finally:
        wd.close()


def bad_readpos():
    """read.pos is garbage: the reader starts at the first segment;
    messages may come twice, none is lost."""
    wd = h.Workdir()
    try:
        sim, port, conf, state, prom = setup(wd, 200, 53)
        want = {d["FullId"] for d in sim.corpus()}
        with open(os.path.join(h.spool_dir(state), "read.pos"), "w") as f:
            f.write("\x00garbage")
        coll = h.Collector(wd, port=port)
        rc, err, _ = h.run_daemon(conf, "--once")
        R.check(rc == 0 and set(ids(coll)) == want,
                "read.pos unreadable: all 200 delivered (exit %d)" % rc)
        R.check("read.pos is unreadable" in err, "the log says so")
    finally:
        wd.close()


def damaged_cursor():
    """The cursor file is cut in half: kept aside as .damaged, the source
    goes on from the spool's last commit; nothing is lost."""
    wd = h.Workdir()
    try:
        sim, port, conf, state, prom = setup(wd, 200, 54)
        path = h.cursor_file(state)
        with open(path, "rb") as f:
            text = f.read()
        with open(path, "wb") as f:
            f.write(text[:len(text) // 2])
        new = add(sim, 30)
        want = {d["FullId"] for d in sim.corpus()}
        coll = h.Collector(wd, port=port)
        rc, err, _ = h.run_daemon(conf, "--once")
        got = ids(coll)
        R.check(rc == 0 and want <= set(got), "cursor file cut: every "
                "record is delivered (%d of %d, exit %d)"
                % (len(want & set(got)), len(want), rc))
        R.check(new <= set(got), "the new ones too")
        R.check("cursor-siem.json is damaged" in err
                and os.path.exists(path + ".damaged"),
                "the log says so and the file is kept as .damaged")
        R.check(status(state)["counters"]["state_damage"] >= 1,
                "status counts it")
    finally:
        wd.close()


def deleted_while_running():
    """spool/*.seg deleted while the daemon runs (collector down): the
    daemon moves to a new segment, says so, and what comes after is
    delivered when the collector is back."""
    wd = h.Workdir()
    try:
        sim, port, conf, state, prom = setup(wd, 100, 55)
        d = h.start_daemon(wd, conf)
        h.wait_for(lambda: os.path.exists(os.path.join(state,
                                                       "status.json")), 30)
        time.sleep(2)
        for f in seg_files(state):
            os.unlink(f)
        new = add(sim, 25)
        coll = h.Collector(wd, port=port)
        got_new = h.wait_for(lambda: new <= set(ids(coll)), 150, 0.3)
        rc = h.stop_daemon(d)
        log = h.daemon_log(wd)
        R.check("deleted while in use" in log or "is missing (deleted?)" in
                log, "segment deleted while running: the log says so")
        R.check(got_new and rc == 0, "the 25 records fetched after it are "
                "delivered (%d of 25), SIGTERM exit %d"
                % (len(new & set(ids(coll))), rc))
    finally:
        wd.close()


def main():
    deleted_segments()
    damaged_length(False)
    damaged_length(True)
    bad_readpos()
    damaged_cursor()
    deleted_while_running()
    R.done()


if __name__ == "__main__":
    main()
