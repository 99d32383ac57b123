# SPDX-License-Identifier: MIT
"""The host's clock against the API's (README "Faults and what happens").
The daemon runs under libfaketime, its wall clock first 20 minutes ahead,
then stepped back 20 minutes (right again), then 20 minutes behind, while
the simulator, on the real clock, keeps getting new alerts (Graph: new
versions of alerts; SIEM: new detections).  Every alert arrives exactly
once, the log says once when the clocks part and once when they agree
again, status.json, --status and the metrics show the skew, and the lag
stays small.  A cursor saved 20 minutes ahead of the API's time (by a
version that followed the host's clock) is moved back, logged, and new
alerts are not skipped.  A start_from after the API's time reads nothing
and says so.  Certificate sign-in with the clock 20 minutes ahead costs
one refused sign-in, after which assertions are made on the API's time.

libfaketime fakes the wall clock only (FAKETIME_DONT_FAKE_MONOTONIC=1):
on a real host a clock stepped by NTP or by hand moves CLOCK_REALTIME,
never CLOCK_MONOTONIC, and faking both would model no real machine.
FAKETIME_TIMESTAMP_FILE with FAKETIME_NO_CACHE=1 lets the offset change
while the daemon runs."""

import collections
import json
import os
import re
import subprocess
import time

import harness as h

R = h.Results()
FAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
PATHS = {"graph": "/graph/v1.0/security/alerts_v2", "siem": "/siem/api/alerts"}
TIME_RE = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,7}))?Z?")
ROUNDS = 3  # rounds of new alerts per clock setting
PER_ROUND = 3


def norm_time(s):
    m = TIME_RE.fullmatch(s or "")
    if not m:
        return None
    return "%s.%sZ" % (m.group(1), (m.group(2) or "").ljust(7, "0"))


def set_offset(path, offset):
    """Change the daemon's wall clock: an atomic replace, so that
    libfaketime never reads half a file."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(offset + "\n")
    os.replace(tmp, path)


def faked_env(rc_file):
    env = dict(os.environ)
    env.update({"LD_PRELOAD": FAKETIME, "FAKETIME_TIMESTAMP_FILE": rc_file,
                "FAKETIME_NO_CACHE": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1"})
    return env


def start(wd, conf, env, *args):
    log = open(wd.file("daemon.log"), "ab")
    p = subprocess.Popen([h.DAEMON, "-c", conf] + list(args),
                         stdout=subprocess.DEVNULL, stderr=log, env=env)
    wd.procs.append(p)
    return p


def keys(api, coll):
    """The dedup key of every message at the collector (JSON lines)."""
    out = []
    for m in coll.messages():
        o = json.loads(m.decode("utf-8"))
        if api == "siem":
            out.append(o.get("full_id"))
        else:
            out.append((o.get("alert_id"), norm_time(o.get("last_update_time"))))
    return out


def wanted(api, sim):
    if api == "siem":
        return {d["FullId"] for d in sim.corpus()}
    return {(a["id"], norm_time(a["lastUpdateDateTime"]))
            for a in sim.call("GET", "/_sim/alerts?api=graph")}


def arrive(api, sim):
    """New alerts at the simulator, stamped with its (real) time now."""
    if api == "siem":
        return set(sim.call("POST", "/_sim/add?n=%d" % PER_ROUND)["added"])
    got = sim.call("POST", "/_sim/update?api=graph&n=%d" % PER_ROUND)
    return {(u["id"], norm_time(u["lastUpdate"])) for u in got["updated"]}


def config(wd, sim, coll, api, name):
    state = wd.file("state-" + name)
    prom = wd.file("prom-" + name)
    os.makedirs(prom, exist_ok=True)
    return h.write_config(wd, sim, coll, name=name + ".conf", state=state, extra={
        "source.api": api, "source.url": sim.base + PATHS[api],
        "source.poll_interval": "1s", "source.overlap": "10m",
        "source.start_from": "3h", "source.clock_tolerance": "2m",
        "output.format": "json", "output.header": "none",
        "metrics.textfile_dir": prom}), state, prom


def sim_args(api):
    if api == "siem":
        return ["--count", 40, "--seed", 31]
    return ["--count", 0, "--graph-count", 40, "--seed", 32]


PHASES = [
    # offset, what the log must say (a pattern), sign of the skew
    ("+20m", r"the host's clock is 1(199|200|201) s ahead of the %s API's", 1),
    ("+0", r"the host's clock agrees with the %s API's again", 0),
    ("-20m", r"the host's clock is 1(199|200|201) s behind the %s API's", -1),
]


def stepped_clock(api):
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, *sim_args(api))
        coll = h.Collector(wd)
        conf, state, prom = config(wd, sim, coll, api, api)
        rc_file = wd.file("faketime.rc")
        set_offset(rc_file, PHASES[0][0])
        want = wanted(api, sim)
        d = start(wd, conf, faked_env(rc_file))
        # The corpus first: a Graph alert that gets a new version before
        # its old one was read has only the new one to deliver.
        h.wait_for(lambda: want <= set(keys(api, coll)), 60)
        for offset, said, sign in PHASES:
            set_offset(rc_file, offset)
            said_rx = re.compile(said % api)
            h.wait_for(lambda: said_rx.search(h.daemon_log(wd)), 60)
            n = len(said_rx.findall(h.daemon_log(wd)))
            R.check(n == 1, "%s, clock %s: the log says once (%d times): %s"
                    % (api, offset, n, said_rx.pattern))
            for _ in range(ROUNDS):
                want |= arrive(api, sim)
                h.wait_for(lambda: want <= set(keys(api, coll)), 30)
            got = set(keys(api, coll))
            R.check(want <= got, "%s, clock %s: new alerts keep arriving "
                    "(%d of %d)" % (api, offset, len(want & got), len(want)))
            st = json.load(open(os.path.join(state, "status.json")))
            skew = st.get("clock", {}).get("skew_seconds")
            R.check(skew is not None and abs(skew - 1200 * sign) <= 5,
                    "%s, clock %s: status.json skew_seconds %r" %
                    (api, offset, skew))
            lag = st.get("lag_seconds")
            R.check(lag is not None and 0 <= lag <= 60,
                    "%s, clock %s: lag measured on the API's clock (%r s)" %
                    (api, offset, lag))
        log = h.daemon_log(wd)
        R.check("after the %s API's time" % api not in log,
                "%s: no window started after the API's time" % api)
        out = subprocess.run([h.DAEMON, "-c", conf, "--status"],
                             stdout=subprocess.PIPE, env=faked_env(rc_file),
                             timeout=30).stdout.decode()
        R.check(re.search(r"clock: the host's is 1(199|200|201) s behind "
                          r"Defender's\n", out) and
                re.search(r"degraded: the host's clock is 1(199|200|201) s "
                          r"behind", out),
                "%s: --status shows the skew as degraded" % api)
        with open(os.path.join(prom, "mdesiem.prom")) as f:
            metrics = f.read()
        m = re.search(r"\nmdesiem_clock_skew_seconds (-?\d+)\n", metrics)
        R.check(m is not None and abs(int(m.group(1)) + 1200) <= 5 and
                "\nmdesiem_clock_off 1\n" in metrics,
                "%s: metrics mdesiem_clock_skew_seconds %s, "
                "mdesiem_clock_off 1" % (api, m.group(1) if m else None))
        R.check(h.stop_daemon(d) == 0, "%s: SIGTERM, exit 0" % api)
        got = keys(api, coll)
        counts = collections.Counter(got)
        dups = sum(1 for c in counts.values() if c > 1)
        R.check(set(counts) == want and dups == 0,
                "%s: every alert exactly once across the steps (%d delivered, "
                "%d wanted, %d twice, %d missing)" %
                (api, len(got), len(want), dups, len(want - set(counts))))
    finally:
        wd.close()


def cursor_ahead(api):
    """A cursor file saved 20 minutes ahead of the API (the host's clock
    ran ahead under a version that followed it): moved back, said, and
    the alerts of those 20 minutes are not skipped."""
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, *sim_args(api))
        coll = h.Collector(wd)
        conf, state, _ = config(wd, sim, coll, api, api)
        rc, err, _ = h.run_daemon(conf, "--once")
        R.check(rc == 0, "%s ahead: first run exit 0" % api)
        first = len(keys(api, coll))
        path = h.cursor_file(state, api)
        with open(path) as f:
            cur = json.load(f)
        ahead = time.strftime("%Y-%m-%dT%H:%M:%S.0000000Z",
                              time.gmtime(time.time() + 1200))
        cur["position"] = ahead
        with open(path, "w") as f:
            json.dump(cur, f)
        added = arrive(api, sim)
        h.wait_api_time(sim, time.time())
        rc, err, _ = h.run_daemon(conf, "--once")
        R.check(rc == 0, "%s ahead: second run exit 0" % api)
        R.check("the cursor %s is " % ahead in err and
                "more than [source] overlap" in err,
                "%s ahead: the log names the cursor ahead of the API's clock"
                % api)
        got = keys(api, coll)
        R.check(added <= set(got[first:]),
                "%s ahead: the alerts of the skipped span arrive (%d of %d)"
                % (api, len(added & set(got[first:])), len(added)))
        with open(path) as f:
            pos = json.load(f)["position"]
        R.check(pos < ahead, "%s ahead: the saved cursor moved back (%s)"
                % (api, pos))
    finally:
        wd.close()


def start_later(api):
    """start_from after the API's time: nothing is read, and the log says
    why (a window with since > until is never skipped in silence)."""
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, *sim_args(api))
        coll = h.Collector(wd)
        conf, _, _ = config(wd, sim, coll, api, api + "-later")
        later = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                              time.gmtime(time.time() + 3600))
        text = open(conf).read().replace("start_from = 3h",
                                         "start_from = " + later)
        with open(conf, "w") as f:
            f.write(text)
        rc, err, _ = h.run_daemon(conf, "--once")
        R.check(rc == 0 and "the window would start at %s.0000000Z, after "
                "the %s API's time" % (later[:-1], api) in err,
                "%s: start_from in the future: exit 0, said in the log" % api)
        R.check(len(coll.messages()) == 0,
                "%s: start_from in the future: nothing delivered" % api)
    finally:
        wd.close()


def cert_sign_in():
    """Certificate sign-in with the host's clock 20 minutes ahead: Entra
    refuses an assertion whose nbf is in its future (AADSTS700024).  The
    refusal's Date gives the API's time, and the next assertion is made
    on it: one sign-in is refused, then everything is delivered."""
    wd = h.Workdir()
    try:
        crt, key = wd.file("c.crt"), wd.file("c.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-keyout", key, "-out", crt, "-days", "2",
                        "-subj", "/CN=mdesiem-clock"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.chmod(key, 0o600)
        sim = h.Sim(wd, *(sim_args("graph") + ["--client-cert", crt]))
        coll = h.Collector(wd)
        conf, _, _ = config(wd, sim, coll, "graph", "cert")
        text = open(conf).read().replace("client_secret = %s\n" % h.SECRET,
                                         "certificate_file = %s\n"
                                         "private_key_file = %s\n" % (crt, key))
        with open(conf, "w") as f:
            f.write(text)
        rc_file = wd.file("faketime.rc")
        set_offset(rc_file, "+20m")
        want = wanted("graph", sim)
        d = start(wd, conf, faked_env(rc_file))
        h.wait_for(lambda: want <= set(keys("graph", coll)), 60)
        log = h.daemon_log(wd)
        R.check(want <= set(keys("graph", coll)),
                "cert, clock +20m: signed in and delivered (%d of %d)"
                % (len(want & set(keys("graph", coll))), len(want)))
        R.check(log.count("AADSTS700024") == 1,
                "cert, clock +20m: one sign-in refused for its times (%d)"
                % log.count("AADSTS700024"))
        last = (sim.stats()["assertions"] or [{}])[-1]
        R.check(abs(last.get("nbf", 0) - time.time()) < 60,
                "cert, clock +20m: the accepted assertion is on the API's "
                "time (nbf %s s from it)" % (last.get("nbf", 0) - int(time.time())))
        R.check(h.stop_daemon(d) == 0, "cert: SIGTERM, exit 0")
    finally:
        wd.close()


def main():
    if not os.path.exists(FAKETIME):
        print("skip: %s missing (Debian package faketime)" % FAKETIME)
        R.done()
    for api in ("graph", "siem"):
        stepped_clock(api)
        cursor_ahead(api)
    start_later("graph")
    cert_sign_in()
    R.done()


if __name__ == "__main__":
    main()
