# SPDX-License-Identifier: MIT
"""Throttling under systemd's watchdog: a real $NOTIFY_SOCKET listener,
WATCHDOG_USEC=6000000 (pings due every 3 s), while the simulator answers
429 with Retry-After: 30 again and again.  Every wait of a tenant is a due
time of the scheduler, never a sleep in a thread the watchdog depends on:
no two pings may be more than half the interval apart, and the run still
delivers everything exactly once when the throttling ends.  With one
tenant and with three (one of them throttled)."""

import collections
import os
import re
import subprocess
import time

import harness as h

R = h.Results()
WATCHDOG_USEC = 6000000
CS3 = re.compile(rb"cs3=((?:[^ \\]|\\.)+)")


def ids(coll):
    out = []
    for m in coll.messages():
        g = CS3.search(m)
        out.append(re.sub(r"\\(.)", r"\1", g.group(1).decode()) if g else None)
    return collections.Counter(out)


def run(wd, tenants):
    sim = h.Sim(wd, "--tenants", max(tenants, 1), "--count", 50, "--seed", 21)
    coll = h.Collector(wd)
    if tenants == 0:
        conf = h.write_config(wd, sim, coll, extra={
            "source.poll_interval": "1s", "source.timeout": "10s"})
        throttled = h.TENANT
        want = {d["FullId"] for d in sim.corpus()}
        what = "one tenant"
    else:
        conf = h.write_config(wd, sim, coll, extra={
            "source.poll_interval": "1s", "source.timeout": "10s",
            "azure.tenant_id": None})
        with open(conf, "a") as f:
            for i in range(tenants):
                f.write("[tenant w%d]\ntenant_id = "
                        "00000000-0000-0000-0000-%012d\n\n" % (i, i + 1))
        throttled = "00000000-0000-0000-0000-%012d" % 2
        want = set()
        for i in range(tenants):
            want |= {d["FullId"] for d in sim.call(
                "GET", "/_sim/corpus?tenant=00000000-0000-0000-0000-%012d"
                % (i + 1))}
        what = "%d tenants" % tenants
    # 429 with Retry-After: 30, twice in a row: a minute of waiting.
    sim.call("POST", "/_sim/fault?tenant=" + throttled,
             {"path": "siem", "status": 429, "retry_after": 30, "count": 2})
    n = h.Notify(wd.file("notify.sock"))
    try:
        env = dict(os.environ, NOTIFY_SOCKET=n.path,
                   WATCHDOG_USEC=str(WATCHDOG_USEC))
        log = open(wd.file("daemon.log"), "ab")
        start = time.monotonic()
        p = subprocess.run([h.DAEMON, "-c", conf, "--once"], env=env,
                           stderr=log, stdout=subprocess.DEVNULL, timeout=400)
        end = time.monotonic()
        time.sleep(0.3)
        pings = [start] + n.pings() + [end]
        gaps = [b - a for a, b in zip(pings, pings[1:])]
        worst = max(gaps)
        R.check(len(pings) > 20 and worst <= WATCHDOG_USEC / 2e6,
                "%s: %d watchdog pings over %.0f s of Retry-After waits, "
                "never more than half the interval apart (largest gap "
                "%.1f s)" % (what, len(pings) - 2, end - start, worst))
        got = ids(coll)
        R.check(p.returncode == 0 and set(got) == want and
                all(c == 1 for c in got.values()),
                "%s: the run completes, every detection exactly once "
                "(exit %d, %d of %d)" % (what, p.returncode,
                                         len(set(got) & want), len(want)))
        st = sim.stats()
        R.check(st["status"].get("429", 0) >= 2,
                "%s: the simulator answered 429 twice" % what)
    finally:
        n.close()


def main():
    for tenants in (0, 3):
        wd = h.Workdir()
        try:
            run(wd, tenants)
        except Exception as e:
            R.check(False, "%d tenants: %r" % (tenants, e))
            print(h.daemon_log(wd)[-3000:])
        finally:
            wd.close()
    R.done()


if __name__ == "__main__":
    main()
