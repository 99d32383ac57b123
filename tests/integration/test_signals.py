# SPDX-License-Identifier: MIT
"""Signals as an operator uses them: SIGHUP with a broken file keeps the
old configuration running and logs every problem; SIGHUP with a new
collector port moves delivery there without loss or duplicate; SIGUSR1
logs the counters; SIGTERM exits 0 with the state persisted."""

import collections
import os
import re
import signal
import time

import harness as h

R = h.Results()
CS3 = re.compile(rb" cs3=((?:[^\\ ]|\\.)*) cs3Label=")


def ids(coll):
    out = []
    for m in coll.messages():
        g = CS3.search(m)
        out.append(g.group(1).replace(b"\\=", b"=").decode() if g else None)
    return out


def main():
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, "--count", 400, "--seed", 21)
        c1 = h.Collector(wd)
        c2 = h.Collector(wd)
        conf = h.write_config(wd, sim, c1, extra={
            "source.poll_interval": "1s"})
        want = {x["FullId"] for x in sim.corpus()}
        d = h.start_daemon(wd, conf)
        h.wait_for(lambda: len(c1.messages()) >= len(want), 60)
        R.check(set(ids(c1)) == want, "first collector gets everything")

        # A broken file: every problem logged, the old config stays.
        good = open(conf).read()
        with open(conf, "w") as f:
            f.write(good.replace("[output]", "[output]\nbogus = 1\n")
                    .replace("poll_interval = 1s", "poll_interval = 5x"))
        d.send_signal(signal.SIGHUP)
        h.wait_for(lambda: "stays in force" in h.daemon_log(wd), 15)
        log = h.daemon_log(wd)
        R.check("[output] bogus: unknown key" in log and
                "[source] poll_interval" in log,
                "SIGHUP with a broken file logs every problem")
        R.check("stays in force" in log and d.poll() is None,
                "and the old configuration keeps running")
        added = set(sim.call("POST", "/_sim/add?n=30")["added"])
        h.wait_for(lambda: len(c1.messages()) >= len(want) + 30, 30)
        R.check(added <= set(ids(c1)), "still delivering to the old port")
        want |= added

        # A valid file with another collector port.
        with open(conf, "w") as f:
            f.write(good.replace("port = %d" % c1.port,
                                 "port = %d" % c2.port))
        os.chmod(conf, 0o600)
        d.send_signal(signal.SIGHUP)
        h.wait_for(lambda: "applied" in h.daemon_log(wd), 15)
        added = set(sim.call("POST", "/_sim/add?n=40")["added"])
        want |= added
        h.wait_for(lambda: added <= set(ids(c2)), 30)
        R.check(added <= set(ids(c2)), "after SIGHUP new detections go to "
                "the new port")
        d.send_signal(signal.SIGUSR1)
        h.wait_for(lambda: "counters:" in h.daemon_log(wd), 10)
        R.check("counters:" in h.daemon_log(wd), "SIGUSR1 logs the counters")
        rc = h.stop_daemon(d)
        R.check(rc == 0, "SIGTERM: exit 0")
        allids = ids(c1) + ids(c2)
        counts = collections.Counter(allids)
        R.check(set(counts) == want and max(counts.values()) == 1,
                "across the reload: every detection exactly once "
                "(%d delivered, %d wanted)" % (len(allids), len(want)))
        state = h.cursor_file(wd.file("state"))
        R.check(os.path.exists(state), "cursor state persisted")
        # Restart: nothing new, nothing repeated.
        n = len(allids)
        d = h.start_daemon(wd, conf)
        time.sleep(2.5)
        h.stop_daemon(d)
        R.check(len(ids(c1)) + len(ids(c2)) == n,
                "restart after SIGTERM delivers nothing again")
    finally:
        wd.close()
    R.done()


if __name__ == "__main__":
    main()
