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


def test_deprecation_probe(wd, sim, coll):
    """--test-connection passes and adds a note for a deprecated API."""
    for api in ("siem", "alerts", "graph"):
        conf, _, _ = config(wd, sim, coll, api, "probe-" + api)
        p = subprocess.run([h.DAEMON, "--test-connection", "-c", conf],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=60)
        out = p.stdout.decode()
        notes = [l for l in out.splitlines() if l.startswith("note ")]
        if api == "graph":
            R.check(p.returncode == 0 and not notes, "--test-connection, "
                    "graph: passes without a note")
        else:
            R.check(p.returncode == 0 and len(notes) == 1 and
                    NOTICE[api] in notes[0] and MIGRATION in notes[0],
                    "--test-connection, %s: passes, with one note naming "
                    "the deprecation (%s)" % (api, notes or out[-300:]))


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


def have_faketime():
    if os.path.exists(FAKETIME):
        return True
    print("skip: %s missing (Debian package faketime)" % FAKETIME)
    return False


def start_faked(wd, conf, name):
    """The daemon with both its clocks offset by what the returned file
    says (+0 now)."""
    rc_file = wd.file(name + ".faketime")
    set_offset(rc_file, "+0")
    log_path = wd.file(name + ".log")
    env = dict(os.environ)
    env.update({"LD_PRELOAD": FAKETIME, "FAKETIME_TIMESTAMP_FILE": rc_file,
                "FAKETIME_NO_CACHE": "1"})
    log = open(log_path, "ab")
    p = subprocess.Popen([h.DAEMON, "-c", conf], stdout=subprocess.DEVNULL,
                         stderr=log, env=env)
    wd.procs.append(p)
    return rc_file, log_path, p


def test_deprecation_daily(wd, sim, coll):
    """The running daemon says it at start, not at every cycle, and again
    once a day has passed."""
    if not have_faketime():
        return
    conf, state, prom = config(wd, sim, coll, "siem", "daily")
    rc_file, log_path, p = start_faked(wd, conf, "daily")

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


def retire(sim, api, how, status=None):
    q = "/_sim/retire?api=%s&how=%s" % (api, how)
    if status is not None:
        q += "&status=%d" % status
    return sim.call("POST", q)


def requests(sim, api):
    return sim.stats()["requests"].get(api, 0)


def retired_lines(err):
    return [l for l in err.splitlines() if "answers as retired" in l]


def check_retired_once(sim, coll, conf, state, prom, api, what):
    """--once against a retired API: exit 1, one request, one error line
    with the migration hint, --status, status.json and metrics say so."""
    before = requests(sim, api)
    rc, err, _ = h.run_daemon(conf, "--once")
    lines = retired_lines(err)
    R.check(rc == 1, "%s: --once exits 1 (%d)" % (what, rc))
    R.check(len(lines) == 1 and "[error]" in lines[0] and
            ("the %s API answers as retired: Microsoft has switched it off"
             % api) in lines[0] and MIGRATION in lines[0] and
            "asking again every hour" in lines[0],
            "%s: one error line saying retired, with README's migration "
            "section (%s)" % (what, lines or err[-500:]))
    R.check("fetching from the %s API failed" % api not in err and
            "retrying" not in err, "%s: not a generic HTTP error, not "
            "retried" % what)
    R.check(requests(sim, api) - before == 1, "%s: the simulator counted "
            "one request (%d)" % (what, requests(sim, api) - before))
    src, out = status(conf)
    R.check(src == 1 and ("degraded: the %s API answers as retired" % api)
            in out and "fetch: the API answers as retired since" in out and
            "degraded: fetching from Defender fails" not in out,
            "%s: --status degraded, saying retired (%s)"
            % (what, degraded(out)))
    st = status_json(state)
    R.check(st.get("retired") is True and st.get("retired_since") and
            "answers as retired" in st.get("last_error", ""),
            "%s: status.json retired, since, last_error" % what)
    R.check(metric(prom, "mdesiem_source_retired") == 1,
            "%s: mdesiem_source_retired 1" % what)
    return lines[0] if lines else ""


def test_retired(wd, sim, coll):
    # 410 Gone, on a first run.
    conf, state, prom = config(wd, sim, coll, "siem", "gone")
    retire(sim, "siem", "gone")
    line = check_retired_once(sim, coll, conf, state, prom, "siem",
                              "siem answering 410")
    R.check("HTTP 410" in line, "the line names HTTP 410")
    retire(sim, "siem", "none")

    # A body that says so (Graph, 400), on a first run.
    conf, state, prom = config(wd, sim, coll, "graph", "notice")
    retire(sim, "graph", "notice")
    line = check_retired_once(sim, coll, conf, state, prom, "graph",
                              "graph saying retired in a 400")
    R.check("has been retired" in line and "Graph's changelog" in line,
            "graph: the API's own words and Graph's own hint")
    retire(sim, "graph", "none")

    # A 404 for everything: retired only after it answered before.
    conf, state, prom = config(wd, sim, coll, "alerts", "notfound")
    retire(sim, "alerts", "notfound")
    rc, err, _ = h.run_daemon(conf, "--once")
    R.check(rc == 1 and not retired_lines(err) and "HTTP 404" in err,
            "alerts: a 404 on a first run is a plain HTTP 404 (a wrong url "
            "is as likely)")
    retire(sim, "alerts", "none")
    rc, err, _ = h.run_daemon(conf, "--once")
    R.check(rc == 0, "alerts: a run that reads (exit %d)" % rc)
    retire(sim, "alerts", "notfound")
    line = check_retired_once(sim, coll, conf, state, prom, "alerts",
                              "alerts answering 404 after it answered")
    R.check("HTTP 404" in line and "where it answered before" in line and
            "url or region changed" in line, "alerts: the 404 line says it "
            "answered before and names url and region")
    retire(sim, "alerts", "none")


def test_retired_running(wd, sim, coll):
    """The running daemon asks a retired API once, not at every poll,
    then again an hour later (libfaketime: both clocks), and resumes when
    it answers."""
    if not have_faketime():
        return
    conf, state, prom = config(wd, sim, coll, "siem", "running")
    retire(sim, "siem", "gone")
    before = requests(sim, "siem")
    rc_file, log_path, p = start_faked(wd, conf, "running")

    def log():
        with open(log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    R.check(h.wait_for(lambda: retired_lines(log()), 60), "running: the "
            "retired line")
    first = status_json(state)["updated"]
    h.wait_for(lambda: status_json(state)["updated"] != first, 30)
    second = status_json(state)["updated"]
    h.wait_for(lambda: status_json(state)["updated"] not in (first, second),
               30)
    R.check(requests(sim, "siem") - before == 1 and
            len(retired_lines(log())) == 1, "running: over several polls "
            "(poll_interval 1s) one request and one line (%d requests)"
            % (requests(sim, "siem") - before))
    set_offset(rc_file, "+61m")
    R.check(h.wait_for(lambda: requests(sim, "siem") - before == 2, 60),
            "an hour later: asked again (%d)" % (requests(sim, "siem")
                                                 - before))
    R.check(h.wait_for(lambda: "the siem API still answers as retired; "
                       "asking again in an hour" in log(), 30),
            "and said so in one shorter line")
    time.sleep(2)
    R.check(requests(sim, "siem") - before == 2, "and not again at the "
            "next polls")
    retire(sim, "siem", "none")
    set_offset(rc_file, "+122m")
    R.check(h.wait_for(lambda: "the siem API answers again; fetching "
                       "resumes" in log(), 60), "switched on again: it "
                       "resumes")
    R.check(h.wait_for(lambda: status_json(state).get("retired") is False
                       and status_json(state).get("fetch_ok") is True, 30),
            "status.json: retired false, fetch ok")
    rc = h.stop_daemon(p)
    R.check(rc == 0, "SIGTERM: exit 0 (%s)" % rc)


# Graph properties newer than Microsoft's SIEM-to-Graph table:
# (alerts_v2 property, CEF key, LEEF key, JSON key)
NEWER = [("productName", "mdeProductName", "productName", "product_name"),
         ("alertPolicyId", "mdeAlertPolicyId", "alertPolicyId",
          "alert_policy_id"),
         ("investigationState", "mdeInvestigationState", "investigationState",
          "investigation_state"),
         ("customDetails", "mdeCustomDetails", "customDetails",
          "custom_details"),
         ("additionalData", "mdeAdditionalData", "additionalData",
          "additional_data")]


def newer_text(v):
    """What CEF and LEEF carry: strings as they are, dictionaries as
    compact JSON text; None for nothing."""
    if v is None or v == {} or v == []:
        return None
    if isinstance(v, str):
        return v
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def delivered(fmt, coll, wd):
    """{alert id: {key: value}} of what the collector received."""
    import leef_parser
    msgs = [m.decode("utf-8") for m in coll.messages()]
    out = {}
    if fmt == "cef":
        for x in h.lognorm_parse([h.cef_payload(m.encode()) for m in msgs],
                                 wd):
            ext = (x or {}).get("Extensions", {})
            out[ext.get("externalId") or ext.get("mdeAlertId")] = ext
    elif fmt == "leef":
        for m in msgs:
            ev = leef_parser.parse(m[m.index("LEEF:"):])
            out[ev.attrs.get("alertId")] = ev.attrs
    else:
        for m in msgs:
            o = json.loads(m)
            out[o.get("alert_id")] = o
    return out


def test_newer_fields(wd):
    """Graph alerts with the newer properties (most of the simulator's
    carry some) through CEF (read back by liblognorm), LEEF (the strict
    parser) and JSON: each carried exactly when present, nothing for an
    absent or empty one."""
    sim = h.Sim(wd, "--count", 0, "--graph-count", 60, "--seed", 161)
    alerts = {a["id"]: a for a in sim.call("GET", "/_sim/alerts?api=graph")}
    seen = {p: 0 for p, _, _, _ in NEWER}
    for a in alerts.values():
        for p, _, _, _ in NEWER:
            seen[p] += newer_text(a.get(p)) is not None
    R.check(all(0 < n < len(alerts) for n in seen.values()),
            "the simulator's Graph alerts carry each newer property on some "
            "alerts, not all (%s)" % seen)
    col = {"cef": 1, "leef": 2, "json": 3}
    for fmt in ("cef", "leef", "json"):
        coll = h.Collector(wd)
        conf, state, prom = config(wd, sim, coll, "graph", "newer-" + fmt, {
            "output.format": fmt, "output.max_message_size": "64K",
            "source.start_from": "3h"})
        rc, err, _ = h.run_daemon(conf, "--once")
        got = delivered(fmt, coll, wd)
        coll.stop()
        bad = []
        for aid, a in alerts.items():
            m = got.get(aid)
            if m is None:
                bad.append("%s missing" % aid)
                continue
            for row in NEWER:
                key, want = row[col[fmt]], a.get(row[0])
                if fmt == "json":
                    ok = (m.get(key) == want) if newer_text(want) is not None \
                        else key not in m
                else:
                    ok = m.get(key) == newer_text(want)
                if not ok:
                    bad.append("%s %s=%r, source %r" % (aid, key, m.get(key),
                                                         want))
        R.check(rc == 0 and len(got) == len(alerts) and not bad,
                "%s: every alert, each newer property carried exactly when "
                "present (%d alerts; %s)" % (fmt, len(got), bad[:3] if bad
                                             else err[-300:] if rc else "ok"))


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
        test_deprecation_probe(wd, sim, coll)
        test_deprecation_daily(wd, sim, coll)
        test_retired(wd, sim, coll)
        test_retired_running(wd, sim, coll)
        test_newer_fields(wd)
    finally:
        wd.close()
    R.done()


if __name__ == "__main__":
    main()
