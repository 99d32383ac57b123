# SPDX-License-Identifier: MIT
"""api = siem under faults, as a user sees them: each injected fault gives
its log line and the run recovers with nothing lost; a restart resumes
without loss or duplicate; an access token that expires in the middle of a
run is renewed; wrong credentials fail with the Entra error."""

import collections
import time

import harness as h

R = h.Results()


def ids_of(coll, wd):
    lines = [h.cef_payload(m) for m in coll.messages()]
    parsed = h.lognorm_parse([l for l in lines if l], wd)
    return [p.get("Extensions", {}).get("cs3") if p else None
            for p in parsed]


def exactly_once(coll, wd, want, what):
    counts = collections.Counter(ids_of(coll, wd))
    dups = sum(1 for n in counts.values() if n > 1)
    missing = len(set(want) - set(counts))
    R.check(dups == 0 and missing == 0 and set(counts) <= set(want),
            "%s: every detection exactly once (%d missing, %d duplicated, "
            "%d delivered)" % (what, missing, dups, len(counts)))


def fault_case(name, fault, expect_log, expect_rc=0, count=300):
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, "--count", count, "--seed", 3)
        coll = h.Collector(wd)
        conf = h.write_config(wd, sim, coll, extra={
            "source.page_size": "100", "source.timeout": "2s"})
        sim.fault(**fault)
        t0 = time.time()
        rc, err, _ = h.run_daemon(conf, "--once")
        R.check(rc == expect_rc, "%s: exit %d (got %d)" % (name, expect_rc,
                                                             rc))
        R.check(expect_log in err, "%s: log says %r" % (name, expect_log))
        if expect_log not in err:
            print(err[-2000:])
        if expect_rc == 0:
            sizes = [len(m) for m in coll.messages()]
            R.check(sizes and max(sizes) <= 8192, "%s: every message within "
                    "the default max_message_size (largest %d)"
                    % (name, max(sizes or [0])))
            exactly_once(coll, wd, [d["FullId"] for d in sim.corpus()],
                         name)
        else:
            # Nothing committed past what failed: a clean run delivers all.
            sim.call("DELETE", "/_sim/fault")
            rc, err, _ = h.run_daemon(conf, "--once")
            R.check(rc == 0, "%s: the next run succeeds" % name)
            exactly_once(coll, wd, [d["FullId"] for d in sim.corpus()],
                         name + ", after recovery")
        return time.time() - t0
    finally:
        wd.close()


def faults():
    fault_case("HTTP 500", {"path": "siem", "status": 500, "count": 2},
               "HTTP 500 from 127.0.0.1")
    took = fault_case("HTTP 429", {"path": "siem", "status": 429,
                                   "count": 1, "retry_after": 2},
                      "HTTP 429 from 127.0.0.1")
    R.check(took >= 2.0, "HTTP 429: Retry-After 2 s honoured (%.1f s)"
            % took)
    fault_case("malformed JSON", {"path": "siem", "malformed": True,
                                  "count": 1}, "malformed JSON from")
    fault_case("truncated body", {"path": "siem", "truncate": True,
                                  "count": 1}, "cannot reach 127.0.0.1")
    fault_case("slow response", {"path": "siem", "delay": 4, "count": 1},
               "timed out")
    fault_case("token endpoint 500", {"path": "token", "status": 500,
                                      "count": 1}, "retrying in")
    fault_case("HTTP 403", {"path": "siem", "status": 403, "count": 100},
               "HTTP 403 from 127.0.0.1", expect_rc=1)


def wrong_secret():
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, "--count", 10)
        coll = h.Collector(wd)
        conf = h.write_config(wd, sim, coll,
                              extra={"azure.client_secret": "wrong-secret"})
        rc, err, _ = h.run_daemon(conf, "--once")
        R.check(rc == 1, "wrong secret: exit 1")
        R.check("AADSTS7000215" in err, "wrong secret: Entra's AADSTS7000215"
                " in the log")
        R.check("wrong-secret" not in err and "sim-secret" not in err,
                "wrong secret: no secret in the log")
        R.check(len(coll.messages()) == 0, "wrong secret: nothing sent")
    finally:
        wd.close()


def restart_and_token_expiry():
    """The daemon runs, stops on SIGTERM, and resumes a week later (here:
    after new detections arrived while it was down)."""
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, "--count", 1000, "--seed", 11)
        coll = h.Collector(wd)
        conf = h.write_config(wd, sim, coll, extra={
            "source.poll_interval": "1s", "source.page_size": "200"})
        d = h.start_daemon(wd, conf)
        want = {x["FullId"] for x in sim.corpus()}
        h.wait_for(lambda: len(coll.messages()) >= len(want), 60)
        # New detections keep arriving while it runs.
        added = sim.call("POST", "/_sim/add?n=50")["added"]
        want |= set(added)
        h.wait_for(lambda: len(coll.messages()) >= len(want), 30)
        R.check(len(coll.messages()) >= len(want),
                "daemon picks up new detections as they arrive")
        # Token expires in the middle of the run: 401, renewal, no loss.
        issued = sim.stats()["tokens_issued"]
        sim.call("POST", "/_sim/expire-tokens")
        added = sim.call("POST", "/_sim/add?n=50")["added"]
        want |= set(added)
        h.wait_for(lambda: len(coll.messages()) >= len(want), 30)
        R.check(sim.stats()["tokens_issued"] > issued,
                "expired token renewed during the run")
        R.check("renewing the access token" in h.daemon_log(wd),
                "the 401 and the renewal are logged")
        rc = h.stop_daemon(d)
        R.check(rc == 0, "SIGTERM: exit 0 (got %s)" % rc)
        # While it is down, more detections arrive; then it starts again.
        added = sim.call("POST", "/_sim/add?n=120&burst=1")["added"]
        want |= set(added)
        d = h.start_daemon(wd, conf)
        h.wait_for(lambda: len(coll.messages()) >= len(want), 60)
        time.sleep(2.5)  # a couple more cycles: nothing may repeat
        rc = h.stop_daemon(d)
        R.check(rc == 0, "second SIGTERM: exit 0")
        exactly_once(coll, wd, want, "stop and restart")
        log = h.daemon_log(wd)
        R.check("sim-secret" not in log and "simtok." not in log,
                "no secret or token in the log")
    finally:
        wd.close()


def answer_cap():
    """An answer is parsed whole, so its size is capped (64 KiB a record
    of page_size, at least 1 MiB): with page_size = 10 and records of
    ~120 KB, a full answer passes 1 MiB; the daemon asks for fewer records
    over narrower windows and delivers every record once.  A second whose
    records alone pass the cap cannot be split: a clear error, exit 1."""
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, "--count", 0, "--seed", 18, "--hostile-ratio", 0)
        added = []
        for i in range(30):  # one a second: each second fits the cap
            added += sim.call("POST", "/_sim/add?n=1&id_len=60000&ago=%d"
                              % (900 - 20 * i))["added"]
        coll = h.CollectorWith(wd, "--max-message", 4 << 20)
        conf = h.write_config(wd, sim, coll, extra={
            "source.page_size": "10", "output.max_message_size": "1M"})
        rc, err, _ = h.run_daemon(conf, "--once")
        msgs = coll.messages()
        once = all(sum(1 for m in msgs if i.split(":")[0].encode() in m)
                   == 1 for i in added)
        R.check(rc == 0 and "passed 1 MiB, the most one answer may take; "
                "asking for 5 records at a time" in err,
                "answers past the cap: narrower requests, said once per "
                "cut (%s: %s)" % (rc, err.strip()[-300:]))
        R.check(once and len(msgs) == len(added), "every record delivered "
                "once (%d messages for %d records)" % (len(msgs),
                                                       len(added)))
        sim.call("POST", "/_sim/add?n=12&burst=1&id_len=60000&ago=100")
        rc, err, _ = h.run_daemon(conf, "--once")
        R.check(rc == 1 and "holds more than 1 MiB, the most one answer "
                "may take (records sharing one second cannot be read in "
                "parts); raise [source] page_size" in err,
                "a second past the cap: exit 1 and what to do (%s)"
                % err.strip()[-400:])
    finally:
        wd.close()


def main():
    faults()
    wrong_secret()
    restart_and_token_expiry()
    answer_cap()
    R.done()


if __name__ == "__main__":
    main()
