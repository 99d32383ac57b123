# SPDX-License-Identifier: MIT
"""Sources Microsoft retires or changes: regions of the Alert API as -n -v
shows them, deprecation warnings for api = siem and alerts (log, --status,
status.json, metrics), and an API that answers as switched off (log line,
--status, exit code of --once, requests the simulator counted).

"Once a day" is tested with libfaketime moving both clocks a day ahead
while the daemon runs: the warning is timed on the monotonic clock, which
on a real host advances a day in a day and never jumps; moving it with
the wall clock is a day passing, compressed."""

import json
import os
import subprocess
import time

import harness as h

R = h.Results()
FAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
PATHS = {"graph": "/graph/v1.0/security/alerts_v2",
         "alerts": "/mde/api/alerts", "siem": "/siem/api/alerts"}
NOTICE = {"siem": "api = siem: the legacy SIEM API is deprecated",
          "alerts": "api = alerts: Microsoft's notice MC1220762 says the "
                    "Defender for Endpoint and XDR APIs stop working after "
                    "2027-02-01"}
MIGRATION = 'README, "Migrating to Graph"'


def check_config(conf):
    p = subprocess.run([h.DAEMON, "-n", "-v", "-c", conf],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=30)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def test_regions(wd):
    conf = h.write_config(wd, None, name="ina.conf", extra={
        "source.api": "alerts", "source.url": None, "source.region": "ina"})
    rc, out, err = check_config(conf)
    R.check(rc == 0 and
            "https://ina.api.security.microsoft.com/api/alerts" in out,
            "region = ina: -n -v shows the India host (%s)"
            % (err.strip() or "ok"))
    conf = h.write_config(wd, None, name="ina-siem.conf", extra={
        "source.url": None, "source.region": "ina"})
    rc, out, err = check_config(conf)
    R.check(rc == 78 and '[source] region: "ina" is not one of us, eu, uk'
            in err, "region = ina with api = siem: exit 78, the SIEM API's "
            "regions named (%s)" % err.strip())


def config(wd, sim, coll, api, name, extra=None):
    state = wd.file("state-" + name)
    prom = wd.file("prom-" + name)
    os.makedirs(prom, exist_ok=True)
    ex = {"source.api": api, "source.url": sim.base + PATHS[api],
          "output.format": "json", "output.header": "none",
          "metrics.textfile_dir": prom}
    ex.update(extra or {})
    conf = h.write_config(wd, sim, coll, name=name + ".conf", state=state,
                          extra=ex)
    return conf, state, prom


def status(conf):
    p = subprocess.run([h.DAEMON, "--status", "-c", conf],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=30)
    return p.returncode, p.stdout.decode()


def degraded(out):
    return [l for l in out.splitlines() if l.startswith("degraded:")]


def status_json(state):
    with open(os.path.join(state, "status.json")) as f:
        return json.load(f)


def metric(prom, name):
    with open(os.path.join(prom, "mdesiem.prom")) as f:
        for line in f:
            if line.startswith(name + " "):
                return float(line.split()[1])
    return None


def test_deprecation_once(wd, sim, coll, api):
    """--once with a deprecated API: the warning in the log, --status and
    status.json, the gauge at 1, and a healthy exit all the same."""
    conf, state, prom = config(wd, sim, coll, api, "dep-" + api)
    rc, err, _ = h.run_daemon(conf, "--once")
    warned = [l for l in err.splitlines() if NOTICE[api] in l]
    R.check(rc == 0 and len(warned) == 1 and "[warning]" in warned[0] and
            MIGRATION in warned[0], "api = %s --once: exit 0, one warning "
            "naming the deprecation and README's section (%s)"
            % (api, warned or err[-400:]))
    src, out = status(conf)
    R.check(("deprecated: " + NOTICE[api]) in out and MIGRATION in out and
            degraded(out) == ["degraded: the daemon is not running"],
            "api = %s: --status prints the notice, not as a reason to be "
            "degraded (%s)" % (api, degraded(out)))
    st = status_json(state)
    R.check(NOTICE[api] in (st.get("deprecation") or ""),
            "api = %s: status.json carries the notice" % api)
    R.check(metric(prom, "mdesiem_source_deprecated") == 1,
            "api = %s: mdesiem_source_deprecated 1" % api)


def test_no_deprecation(wd, sim, coll):
    conf, state, prom = config(wd, sim, coll, "graph", "dep-graph")
    rc, err, _ = h.run_daemon(conf, "--once")
    src, out = status(conf)
    R.check(rc == 0 and "deprecated" not in err and
            "deprecated" not in out, "api = graph: no deprecation warning "
            "in the log or --status")
    R.check(status_json(state).get("deprecation", 1) is None and
            metric(prom, "mdesiem_source_deprecated") == 0,
            "api = graph: status.json deprecation null, gauge 0")


def set_offset(path, offset):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(offset + "\n")
    os.replace(tmp, path)


def test_deprecation_daily(wd, sim, coll):
    """The running daemon says it at start, not at every cycle, and again
    once a day has passed."""
    if not os.path.exists(FAKETIME):
        print("skip: %s missing (Debian package faketime)" % FAKETIME)
        return
    conf, state, prom = config(wd, sim, coll, "siem", "daily")
    rc_file = wd.file("daily.faketime")
    set_offset(rc_file, "+0")
    env = dict(os.environ)
    env.update({"LD_PRELOAD": FAKETIME, "FAKETIME_TIMESTAMP_FILE": rc_file,
                "FAKETIME_NO_CACHE": "1"})
    log_path = wd.file("daily.log")
    log = open(log_path, "ab")
    p = subprocess.Popen([h.DAEMON, "-c", conf], stdout=subprocess.DEVNULL,
                         stderr=log, env=env)
    wd.procs.append(p)

    def said():
        with open(log_path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        return sum(1 for l in text.splitlines() if NOTICE["siem"] in l)

    def cycles():
        try:
            return status_json(state)["updated"]
        except (OSError, ValueError, KeyError):
            return None

    R.check(h.wait_for(lambda: said() >= 1, 60), "running: the warning "
            "at start")
    first = cycles()
    # A few more cycles (poll_interval 1s) without a second warning.
    h.wait_for(lambda: cycles() not in (None, first), 30)
    second = cycles()
    h.wait_for(lambda: cycles() not in (None, first, second), 30)
    R.check(said() == 1, "running: not repeated at each cycle (%d)"
            % said())
    set_offset(rc_file, "+1d")
    R.check(h.wait_for(lambda: said() >= 2, 60), "a day later: said again "
            "(%d)" % said())
    time.sleep(3)
    R.check(said() == 2, "and only once (%d)" % said())
    rc = h.stop_daemon(p)
    R.check(rc == 0, "SIGTERM: exit 0 (%s)" % rc)


def main():
    wd = h.Workdir()
    try:
        test_regions(wd)
        sim = h.Sim(wd, "--count", 20, "--graph-count", 20,
                    "--alerts-count", 20, "--seed", 16)
        coll = h.Collector(wd)
        for api in ("siem", "alerts"):
            test_deprecation_once(wd, sim, coll, api)
        test_no_deprecation(wd, sim, coll)
        test_deprecation_daily(wd, sim, coll)
    finally:
        wd.close()
    R.done()


if __name__ == "__main__":
    main()
