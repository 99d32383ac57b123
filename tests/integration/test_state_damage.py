# SPDX-License-Identifier: MIT
"""Damaged or tampered state: each state file in turn is deleted,
corrupted or cut, with the daemon stopped and while it runs.  Each time
the daemon reports it (log line, --status, a metric) and carries on with
what is intact; counted at the collector, it loses only what the damage
destroyed."""

import glob
import json
import os
import shutil
import struct
import subprocess
import time

import harness as h
from test_state_owner import entries

R = h.Results()


def configure(wd, count, seed, extra=None):
    """A simulator, a collector port with nothing on it yet, and the
    configuration of a daemon that feeds it."""
    sim = h.Sim(wd, "--count", count, "--seed", seed, "--hostile-ratio", 0)
    port = h.free_port()
    prom = wd.file("prom")
    os.mkdir(prom)
    conf = h.write_config(wd, sim, None, extra={
        "output.transport": "tcp", "output.host": "127.0.0.1",
        "output.port": str(port), "state.shutdown_grace": "1s",
        "metrics.textfile_dir": prom, **(extra or {})})
    return sim, port, conf, wd.file("state"), prom


def setup(wd, count, seed, extra=None):
    """configure(), and a state directory whose spool holds `count`
    undelivered messages."""
    sim, port, conf, state, prom = configure(wd, count, seed, extra)
    h.run_daemon(conf, "--once")
    return sim, port, conf, state, prom


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


def small_segments(wd, count, seed):
    """setup() with segments of 64 KiB (a test hook) and pages of 25, so
    that a few hundred messages fill several (a segment ends at a
    page's end)."""
    os.environ["MDESIEM_SPOOL_SEGMENT_MAX"] = "65536"
    return setup(wd, count, seed, {"source.page_size": "25"})


def loss_seen(state, prom, err, got, count, what):
    """What the collector got and what the daemon counted as lost add up
    to what was spooled; status, metric and --status agree."""
    lost = status(state)["counters"].get("lost_messages", -1)
    R.check(len(got) == len(set(got)) and lost > 0
            and len(got) + lost == count,
            "%s: %d delivered once each + %d counted as lost = %d"
            % (what, len(set(got)), lost, count))
    R.check(metric(prom, "mdesiem_spool_lost_messages_total") == lost,
            "metric mdesiem_spool_lost_messages_total says %d" % lost)
    out = subprocess.run([h.DAEMON, "-c", conf_of(state), "--status"],
                         capture_output=True, text=True).stdout
    R.check("%d spooled messages lost" % lost in out,
            "--status says %d spooled messages lost" % lost)
    R.check("were never read" in err, "the log says how many were lost")


def conf_of(state):
    return os.path.join(os.path.dirname(state), "mdesiem.conf")


def swapped_segments():
    """Two segments renamed into each other's names: neither is read (no
    message out of order, none twice); what they held is counted."""
    wd = h.Workdir()
    try:
        sim, port, conf, state, prom = small_segments(wd, 400, 61)
        segs = seg_files(state)
        R.check(len(segs) >= 4, "400 messages fill %d segments" % len(segs))
        os.rename(segs[1], segs[1] + ".t")
        os.rename(segs[2], segs[1])
        os.rename(segs[1] + ".t", segs[2])
        want = {d["FullId"] for d in sim.corpus()}
        coll = h.Collector(wd, port=port)
        rc, err, _ = h.run_daemon(conf, "--once")
        got = ids(coll)
        R.check(rc == 0 and set(got) <= want,
                "segments swapped: exit %d, only this queue's records" % rc)
        R.check(err.count("is another segment of this queue under this "
                          "name") == 2, "the log names both segments")
        loss_seen(state, prom, err, got, 400, "segments swapped")
        rc, err, _ = h.run_daemon(conf, "--once")
        R.check(rc == 0 and len(ids(coll)) == len(got),
                "after a restart nothing comes again")
    finally:
        os.environ.pop("MDESIEM_SPOOL_SEGMENT_MAX", None)
        wd.close()


def foreign_segment():
    """A segment of another state directory's queue restored over one
    of this one's: none of the other queue's records is delivered."""
    wd, wd2 = h.Workdir(), h.Workdir()
    try:
        sim, port, conf, state, prom = small_segments(wd, 300, 62)
        sim2, _, _, state2, _ = small_segments(wd2, 300, 63)
        other = {d["FullId"] for d in sim2.corpus()}
        want = {d["FullId"] for d in sim.corpus()}
        shutil.copy(seg_files(state2)[1], seg_files(state)[1])
        coll = h.Collector(wd, port=port)
        rc, err, _ = h.run_daemon(conf, "--once")
        got = ids(coll)
        R.check(rc == 0 and set(got) <= want and not set(got) & other,
                "another queue's segment: none of its records delivered "
                "(exit %d, %d of them)" % (rc, len(set(got) & other)))
        R.check("belongs to another queue" in err,
                "the log says the segment is another queue's")
        R.check(status(state)["counters"]["damaged_bytes"] > 60000,
                "its bytes are counted as skipped")
        loss_seen(state, prom, err, got, 300, "another queue's segment")
    finally:
        os.environ.pop("MDESIEM_SPOOL_SEGMENT_MAX", None)
        wd2.close()
        wd.close()


def deleted_counted():
    """Segments deleted between the read position and the next one
    left: how many messages they held is said and counted."""
    for first in (True, False):
        wd = h.Workdir()
        try:
            sim, port, conf, state, prom = small_segments(wd, 400, 64)
            segs = seg_files(state)
            gone = segs[0:2] if first else segs[1:3]
            for f in gone:
                os.unlink(f)
            coll = h.Collector(wd, port=port)
            rc, err, _ = h.run_daemon(conf, "--once")
            got = ids(coll)
            R.check(rc == 0, "exit %d" % rc)
            loss_seen(state, prom, err, got, 400,
                      "segments %s deleted"
                      % ("at the read position" if first else "after it"))
        finally:
            os.environ.pop("MDESIEM_SPOOL_SEGMENT_MAX", None)
            wd.close()


def read_error():
    """A segment the reader cannot read (it became a directory: read()
    fails with EISDIR): said once with the file and errno; once the
    file is back, delivery goes on: nothing lost, nothing twice."""
    wd = h.Workdir()
    try:
        sim, port, conf, state, prom = small_segments(wd, 300, 65)
        want = {d["FullId"] for d in sim.corpus()}
        seg = seg_files(state)[2]
        os.rename(seg, seg + ".away")
        os.mkdir(seg)
        coll = h.Collector(wd, port=port)
        d = h.start_daemon(wd, conf)
        line = "spool: cannot read %s: Is a directory" % seg
        R.check(h.wait_for(lambda: line in h.daemon_log(wd), 60, 0.3),
                "the log names the file and the error")
        time.sleep(4)
        before = len(ids(coll))
        R.check(h.daemon_log(wd).count(line) == 1 and 0 < before < 300,
                "said once, though tried again (%d delivered before it)"
                % before)
        os.rmdir(seg)
        os.rename(seg + ".away", seg)
        done = h.wait_for(lambda: set(ids(coll)) == want, 60, 0.3)
        rc = h.stop_daemon(d)
        got = ids(coll)
        R.check(done and rc == 0 and len(got) == 300,
                "the file is back: all 300 delivered, each once (%d, %d "
                "distinct, exit %d)" % (len(got), len(set(got)), rc))
        log = h.daemon_log(wd)
        R.check("reading again after the read error" in log
                and "damage" not in log.split(line)[-1]
                and status(state)["counters"]["state_damage"] == 0,
                "the log says delivery goes on; no damage is counted")
    finally:
        os.environ.pop("MDESIEM_SPOOL_SEGMENT_MAX", None)
        wd.close()


def upgrade_headerless():
    """A spool written before segments had headers (the daemon of that
    version wrote tests/data/state/v0-headerless: 60 messages, read.pos
    after the 30th): its last 30 are delivered once each, none of the
    first 30 again, and what comes after, in new segments, too; no damage
    is reported."""
    wd = h.Workdir()
    try:
        fixture = os.path.join(h.TOP, "tests/data/state/v0-headerless/spool")
        with open(os.path.join(fixture, "%020d.seg" % 1), "rb") as f:
            msgs = [p for _o, t, _s, p in entries(f.read()) if t == 1]
        old = [h.cef_full_id(m) for m in msgs]
        sim, port, conf, state, prom = configure(
            wd, 0, 66, {"source.page_size": "25"})
        os.makedirs(os.path.join(state, "queues"))
        shutil.copytree(fixture, os.path.join(state, "queues", "old",
                                              "spool"))
        os.environ["MDESIEM_SPOOL_SEGMENT_MAX"] = "65536"
        new = add(sim, 40)  # spooled while the collector is away
        rc, err1, _ = h.run_daemon(conf, "--once")
        R.check(len(seg_files(state)) >= 2,
                "the new messages go to a new segment after the old one "
                "(%d segments)" % len(seg_files(state)))
        coll = h.Collector(wd, port=port)
        rc, err2, _ = h.run_daemon(conf, "--once")
        got = ids(coll)
        R.check(rc == 0 and sorted(got) == sorted(old[30:] + list(new)),
                "upgrade: the 30 unread old messages and the 40 new ones "
                "are delivered once each, none of the 30 read before (%d "
                "messages, %d distinct, exit %d)"
                % (len(got), len(set(got)), rc))
        R.check(got[:30] == old[30:], "the old ones first, in order")
        err = err1 + err2
        R.check("damage" not in err and "set aside" not in err
                and "missing" not in err
                and status(state)["counters"]["state_damage"] == 0,
                "no damage reported")
        more = add(sim, 10)
        rc, err, _ = h.run_daemon(conf, "--once")
        got = ids(coll)
        R.check(rc == 0 and len(got) == 80 and more <= set(got),
                "after the upgrade: 10 more, once each (%d in all)"
                % len(got))
    finally:
        os.environ.pop("MDESIEM_SPOOL_SEGMENT_MAX", None)
        wd.close()


def main():
    deleted_segments()
    damaged_length(False)
    damaged_length(True)
    bad_readpos()
    damaged_cursor()
    deleted_while_running()
    swapped_segments()
    foreign_segment()
    deleted_counted()
    read_error()
    upgrade_headerless()
    R.done()


if __name__ == "__main__":
    main()
