# SPDX-License-Identifier: MIT
"""Poison records (ARCHITECTURE section 2.8): no value the API sends may
stop delivery.  A detection whose FullId (its dedup key) is over 64 KiB
cannot be committed: it is skipped, logged by a short, printable prefix of
its id, counted once (status, metrics), and the records around it are
delivered.  A page whose dedup keys pass the 16 MiB one spool commit holds
is committed in parts: every record arrives exactly once, also when the
daemon is killed between two parts."""

import json
import os
import signal
import urllib.parse

import harness as h

R = h.Results()
full_id = h.cef_full_id
free_port = h.free_port


def add(sim, n, id_len=0, id_pad=None):
    q = "n=%d" % n
    if id_len:
        q += "&id_len=%d" % id_len
    if id_pad is not None:
        q += "&id_pad=" + urllib.parse.quote(id_pad)
    return sim.call("POST", "/_sim/add?" + q)["added"]


def status(state):
    with open(os.path.join(state, "status.json")) as f:
        return json.load(f)


def metric(prom, name):
    with open(os.path.join(prom, "mdesiem.prom")) as f:
        for line in f:
            if line.startswith(name + " "):
                return int(float(line.split()[1]))
    return None


def oversized_keys():
    """Two ids over 64 KiB among good records, one of them with CR, LF
    and a fake log line in it: skipped once, logged safely, counted."""
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, "--count", 50, "--seed", 31, "--hostile-ratio", 0)
        coll = h.Collector(wd)
        prom = wd.file("prom")
        os.mkdir(prom)
        state = wd.file("state")
        conf = h.write_config(wd, sim, coll, extra={
            "metrics.textfile_dir": prom, "output.max_message_size": "1M"})
        rc, err, _ = h.run_daemon(conf, "--once")
        R.check(rc == 0, "first run: exit 0")
        start = h.sim_now(sim)
        good = add(sim, 5)
        bad = add(sim, 1, id_len=70000,
                  id_pad="\r\n2026-12-02T00:00:00Z mdesiemd[error]: forged ")
        good += add(sim, 5)
        bad += add(sim, 1, id_len=300000)
        good += add(sim, 5)
        h.wait_api_time(sim, start)
        rc, err, _ = h.run_daemon(conf, "--once")
        R.check(rc == 0, "records with dedup keys over 64 KiB: --once "
                "exits 0 (%d)" % rc)
        ids = [full_id(m) for m in coll.messages()]
        R.check(all(ids.count(g) == 1 for g in good),
                "the 15 records around them are delivered, once each")
        R.check(not any(b in ids for b in bad), "the two are not delivered")
        lines = [ln for ln in err.splitlines() if "skipping record" in ln]
        R.check(len(lines) == 2 and all("dedup key is" in ln for ln in lines),
                "each is logged once (%d lines)" % len(lines))
        R.check(all(len(ln) < 400 for ln in lines),
                "by a prefix of its id, not the whole of it (%s)"
                % [len(ln) for ln in lines])
        R.check("forged" not in err.replace("?forged", ""),
                "CR and LF in the id do not make a log line of their own")
        R.check(any("(70000 bytes)" in ln for ln in lines)
                and any("(300000 bytes)" in ln for ln in lines),
                "the line gives the id's length")
        st = status(state)
        R.check(st["counters"]["oversized_keys"] == 2
                and st["counters"]["bad_records"] == 2,
                "status: 2 oversized keys, 2 bad records (%s)"
                % st["counters"])
        R.check(metric(prom, "mdesiem_oversized_keys_total") == 2,
                "metric mdesiem_oversized_keys_total 2")
        # The overlap reads them again: no new line, no new count.
        add(sim, 2)
        h.wait_api_time(sim, h.sim_now(sim))
        rc, err, _ = h.run_daemon(conf, "--once")
        R.check(rc == 0 and "skipping record" not in err,
                "the next window reads them again in its overlap: skipped "
                "in silence, not counted again")
        R.check(status(state)["counters"]["oversized_keys"] == 0,
                "status of that run: 0 oversized keys")
        ids = [full_id(m) for m in coll.messages()]
        R.check(len(ids) == len(set(ids)) == 50 + 15 + 2,
                "every good record delivered exactly once (%d, %d distinct)"
                % (len(ids), len(set(ids))))
    finally:
        wd.close()


def big_commit():
    """450 records with 40 KB ids on one page: 18 MB of keys, more than
    the 16 MiB one commit holds.  Once the first part is committed, the
    daemon is killed (collector down: nothing was sent yet); the next run
    delivers every record exactly once."""
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, "--count", 20, "--seed", 32, "--hostile-ratio", 0)
        port = free_port()
        prom = wd.file("prom")
        os.mkdir(prom)
        state = wd.file("state")
        conf = h.write_config(wd, sim, None, extra={
            "output.transport": "tcp", "output.host": "127.0.0.1",
            "output.port": str(port), "output.max_message_size": "1M",
            "metrics.textfile_dir": prom, "state.shutdown_grace": "1s",
            # 450 records of about 80 KB in one second: an answer of about
            # 36 MB, within what page_size 2000 lets one answer take.
            "source.page_size": "2000"})
        start = h.sim_now(sim)
        big = add(sim, 450, id_len=40000)
        h.wait_api_time(sim, start)
        d = h.start_daemon(wd, conf)
        parted = h.wait_for(lambda: "committed in parts" in h.daemon_log(wd),
                            120, 0.02)
        d.send_signal(signal.SIGKILL)
        d.wait()
        R.check(parted, "a page of 18 MB of keys: the log says it is "
                "committed in parts")
        coll = h.Collector(wd, port=port)
        rc, err, _ = h.run_daemon(conf, "--once")
        R.check(rc == 0, "after kill -9 between parts, --once exits 0 "
                "(%d)" % rc)
        # CEF holds 4,000 characters of a custom string: compare those.
        big = [b[:3000] for b in big]
        ids = [full_id(m)[:3000] for m in coll.messages()]
        R.check(all(ids.count(b) == 1 for b in big),
                "all 450 records delivered exactly once (%d of 450 present,"
                " %d messages)" % (len(set(big) & set(ids)), len(ids)))
        R.check(len(ids) == len(set(ids)) == 470,
                "and the 20 others: 470 messages, no duplicate (%d)"
                % len(ids))
        R.check("skipping" not in err and "ERR" not in err,
                "nothing skipped")
        # A fresh state directory, no crash: the counters.
        conf2 = h.write_config(wd, sim, coll, name="second.conf",
                               state=wd.file("state2"), extra={
                                   "output.max_message_size": "1M",
                                   "source.page_size": "2000",
                                   "metrics.textfile_dir": prom})
        rc, err, _ = h.run_daemon(conf2, "--once")
        st = status(wd.file("state2"))
        R.check(rc == 0 and st["counters"]["commit_parts"] >= 1,
                "status counts the extra commits (%s)"
                % st["counters"].get("commit_parts"))
        R.check(metric(prom, "mdesiem_commit_parts_total") >= 1,
                "metric mdesiem_commit_parts_total")
        ids = [full_id(m)[:3000] for m in coll.messages()]
        R.check(all(ids.count(b) == 2 for b in big),
                "a second state directory delivers each once more (%d)"
                % len(ids))
    finally:
        wd.close()


def main():
    oversized_keys()
    big_commit()
    R.done()


if __name__ == "__main__":
    main()
