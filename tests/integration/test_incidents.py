# SPDX-License-Identifier: MIT
"""Graph incidents beside alerts ([source] streams = alerts, incidents),
end to end against the simulator's security/incidents:
- both streams in one daemon: every alert and every incident version is
  delivered once, each incident's fields equal to the source (JSON), its
  alert ids a bounded list; incidents updated and re-classified come again
  once each; a run after that delivers nothing; $top stays at most 50 and
  $expand=alerts is asked for;
- kill -9 three times in the middle of a run: nothing lost, duplicates
  only within the delivery window; a clean run after: nothing new;
- --test-connection reads each stream and names SecurityIncident.Read.All
  when the incidents list answers 403;
- configuration errors: streams with api = alerts, an unknown stream, the
  same stream twice, in [source] and in a [tenant NAME] section;
- an alerts-only state directory upgraded to both streams: no alert is
  delivered again, every incident is;
- three tenants, one of them with streams = alerts in its own section:
  each tenant's incidents once, with its tenant name;
- CEF through liblognorm and LEEF through the strict LEEF parser: every
  incident message parses, with its name, id, status and alert ids."""

import collections
import json
import os
import re
import signal
import time

import harness as h
import leef_parser

R = h.Results()
GRAPH = "/graph/v1.0/security/alerts_v2"
SURR = re.compile("[\ud800-\udfff]")
SEV = {"informational": "Informational", "low": "Low", "medium": "Medium",
       "high": "High"}


def tid(i):
    return "00000000-0000-0000-0000-%012d" % (i + 1)


def conf(wd, sim, coll, name="mdesiem.conf", state=None, extra=None,
         fmt="json"):
    x = {"source.api": "graph", "source.url": sim.base + GRAPH,
         "source.page_size": "100", "source.streams": "alerts, incidents",
         "output.format": fmt, "output.max_message_size": "64K"}
    x.update(extra or {})
    return h.write_config(wd, sim, coll, name=name, extra=x,
                          state=state or wd.file("state"))


def json_of(msg):
    t = msg.decode("utf-8", "replace")
    return json.loads(t[t.index("{"):])


def split(coll):
    """(incident versions, alert versions) delivered, as Counters of
    (id, last update time)."""
    inc, al = collections.Counter(), collections.Counter()
    for m in coll.messages():
        j = json_of(m)
        if j.get("source_api") == "graph_incidents":
            inc[(j["incident_id"], j["last_update_time"])] += 1
        else:
            al[(j["alert_id"], j["last_update_time"])] += 1
    return inc, al


def source(sim, api, tenant=None):
    q = "/_sim/alerts?api=" + api + ("&tenant=" + tenant if tenant else "")
    return sim.call("GET", q)


def versions(objs):
    return {(o["id"], norm(o["lastUpdateDateTime"])) for o in objs}


def norm(t):
    m = re.fullmatch(r"(.{19})(?:\.(\d+))?Z", t)
    return "%s.%sZ" % (m.group(1), (m.group(2) or "").ljust(7, "0"))


def want_ids(o):
    ids = [a["id"] for a in o.get("alerts") or []]
    s = ",".join(ids[:50])
    return s + (",+%d" % (len(ids) - 50) if len(ids) > 50 else "")


def check_fields(coll, objs):
    """Every delivered incident carries what its source said."""
    by = {(o["id"], norm(o["lastUpdateDateTime"])): o for o in objs}
    bad, n, bounded = [], 0, 0
    for m in coll.messages():
        j = json_of(m)
        if j.get("source_api") != "graph_incidents":
            continue
        o = by.get((j["incident_id"], j["last_update_time"]))
        if o is None:
            continue
        n += 1
        tags = ", ".join((o.get("customTags") or []) +
                         (o.get("systemTags") or []))
        want = {"alert_title": o["displayName"],
                "severity": SEV.get(o["severity"], o["severity"]),
                "status": o["status"], "classification": o["classification"],
                "determination": o["determination"],
                "assigned_to": o.get("assignedTo"),
                "incident_link_to_mtp": o["incidentWebUrl"],
                "incident_tags": tags or None, "alert_ids": want_ids(o)}
        for k, v in want.items():
            # JSON output writes a lone surrogate as U+FFFD.
            if isinstance(v, str):
                v = SURR.sub("\ufffd", v)
            if j.get(k) != v:
                bad.append((o["id"], k, j.get(k), v))
        bounded += len(o.get("alerts") or []) > 50
    return n, bad, bounded


def test_both(wd):
    sim = h.Sim(wd, "--graph-count", 300, "--incidents-count", 400,
                "--seed", 5)
    coll = h.Collector(wd)
    c = conf(wd, sim, coll)
    rc, err, _ = h.run_daemon(c, "--once")
    R.check(rc == 0, "both streams: --once exits 0 (%d)" % rc)
    inc, al = split(coll)
    wi, wa = versions(source(sim, "incidents")), versions(source(sim, "graph"))
    R.check(set(inc) == wi and max(inc.values()) == 1,
            "both streams: each of %d incidents once (%d delivered)"
            % (len(wi), sum(inc.values())))
    R.check(set(al) == wa and max(al.values()) == 1,
            "both streams: each of %d alerts once beside them (%d)"
            % (len(wa), sum(al.values())))
    n, bad, bounded = check_fields(coll, source(sim, "incidents"))
    R.check(n == len(wi) and not bad,
            "mapping: name, severity, status, classification, "
            "determination, assignedTo, url, tags, alert ids as the source "
            "(%d checked, %d wrong: %s)" % (n, len(bad), bad[:3]))
    R.check(bounded > 0, "mapping: incidents of more than 50 alerts carry "
            "50 ids and the count of the rest (%d)" % bounded)
    st = sim.stats()["alert_apis"]["incidents"]
    R.check(st["max_top_seen"] == 50 and st["expand_missing"] == 0 and
            st["prefer_missing"] == 0,
            "incidents: $top 50, $expand=alerts and the Prefer header on "
            "every request (max $top %d)" % st["max_top_seen"])
    # Updates: some twice and three times, so they are re-classified.
    t0 = h.sim_now(sim)
    upd = []
    for k in range(3):
        r = sim.call("POST", "/_sim/update?api=incidents&n=%d" % (40 - 10 * k))
        upd += [(u["id"], u["lastUpdate"]) for u in r["updated"]]
    h.wait_api_time(sim, t0 + 1)
    before = sum(inc.values()) + sum(al.values())
    rc, err, _ = h.run_daemon(c, "--once")
    inc2, al2 = split(coll)
    new = inc2 - inc
    # An incident updated twice in between is read in its last version.
    touched = {i for i, _ in upd}
    want = {v for v in versions(source(sim, "incidents")) if v[0] in touched}
    R.check(rc == 0 and set(new) == want and max(new.values()) == 1,
            "updates: each of %d new incident versions once (%d, from %d "
            "updates)" % (len(want), sum(new.values()), len(upd)))
    R.check(al2 == al, "updates: no alert again")
    resolved = [o for o in source(sim, "incidents")
                if o["status"] == "resolved"]
    n, bad, _ = check_fields(coll, resolved)
    R.check(resolved and not bad,
            "re-classified incidents carry their classification and "
            "determination (%d resolved, %d wrong)" % (len(resolved), len(bad)))
    rc, err, _ = h.run_daemon(c, "--once")
    inc3, al3 = split(coll)
    R.check(rc == 0 and inc3 == inc2 and al3 == al2,
            "a run after that delivers nothing (%d, %d messages)"
            % (sum(inc3.values()) - sum(inc2.values()),
               sum(al3.values()) - sum(al2.values())))
    cur = os.path.join(wd.file("state"), "tenants", "default",
                       "cursor-graph-incidents.json")
    with open(cur) as f:
        R.check(json.load(f)["api"] == "graph/incidents",
                "state: the incidents cursor is its own file, tagged "
                "graph/incidents")
    # --status and metrics name the stream.
    mdir = wd.file("metrics")
    os.mkdir(mdir)
    c2 = conf(wd, sim, coll, name="m.conf",
              extra={"metrics.textfile_dir": mdir})
    h.run_daemon(c2, "--once")
    p = h.subprocess.run([h.DAEMON, "-c", c2, "--status"],
                         stdout=h.subprocess.PIPE, timeout=30)
    R.check(b"tenant default (incidents): ok" in p.stdout,
            "--status: a line for the incidents stream")
    with open(os.path.join(wd.file("state"), "status.json")) as f:
        js = json.load(f)
    ts = {e["stream"]: e for e in js["tenant_status"]}
    R.check(set(ts) == {"alerts", "incidents"} and
            ts["incidents"]["delivered"] == 0 and
            ts["alerts"]["delivered"] == js["counters"]["delivered"],
            "status.json: one entry per stream; the tenant's delivered "
            "count on the alerts entry alone (%s)"
            % {k: v["delivered"] for k, v in ts.items()})
    prom = open(os.path.join(mdir, os.listdir(mdir)[0])).read()
    R.check('mdesiem_tenant_records_fetched_total{tenant="default",'
            'stream="incidents"}' in prom and
            'mdesiem_tenant_records_fetched_total{tenant="default"}' in prom,
            "metrics: the incidents stream is its own series")


def test_kill(wd):
    sim = h.Sim(wd, "--graph-count", 500, "--incidents-count", 3000,
                "--seed", 7, "--rate-scale", "0.1")
    coll = h.Collector(wd)
    c = conf(wd, sim, coll, name="k.conf", state=wd.file("kstate"),
             extra={"source.page_size": "50"})
    for k in range(3):
        p = h.start_daemon(wd, c)
        h.wait_for(lambda: sum(split(coll)[0].values()) > (k + 1) * 700,
                   timeout=90)
        p.send_signal(signal.SIGKILL)
        p.wait()
    rc, err, _ = h.run_daemon(c, "--once", timeout=600)
    inc, al = split(coll)
    wi = versions(source(sim, "incidents"))
    R.check(rc == 0 and wi <= set(inc),
            "kill -9 x3: every incident version delivered (%d of %d)"
            % (len(wi & set(inc)), len(wi)))
    R.check(versions(source(sim, "graph")) <= set(al),
            "kill -9 x3: every alert delivered beside them")
    dups = sum(inc.values()) - len(inc) + sum(al.values()) - len(al)
    R.check(dups <= 3 * 256, "kill -9: duplicates only within the "
            "delivery window (%d for 3 kills)" % dups)
    rc, err, _ = h.run_daemon(c, "--once")
    R.check(rc == 0 and split(coll) == (inc, al),
            "kill -9: a clean run after delivers nothing")


def test_probe(wd):
    sim = h.Sim(wd, "--graph-count", 5, "--incidents-count", 5)
    coll = h.Collector(wd)
    c = conf(wd, sim, coll, name="p.conf", state=wd.file("pstate"))
    p = h.subprocess.run([h.DAEMON, "-c", c, "--test-connection"],
                         stdout=h.subprocess.PIPE, timeout=60)
    out = p.stdout.decode()
    R.check(p.returncode == 0 and "ok     read one record" in out and
            "ok     read one incident" in out and
            "/security/incidents answered" in out,
            "--test-connection: each stream read")
    sim.fault(path="incidents", status=403, count=-1)
    p = h.subprocess.run([h.DAEMON, "-c", c, "--test-connection"],
                         stdout=h.subprocess.PIPE, timeout=60)
    out = p.stdout.decode()
    R.check(p.returncode != 0 and "ok     read one record" in out and
            "FAIL   read one incident" in out and
            "SecurityIncident.Read.All" in out,
            "--test-connection: a 403 for incidents names "
            "SecurityIncident.Read.All")


def check_n(wd, body, what, needle):
    path = wd.file("bad.conf")
    with open(path, "w") as f:
        f.write(body)
    os.chmod(path, 0o600)
    p = h.subprocess.run([h.DAEMON, "-c", path, "-n"],
                         stdout=h.subprocess.PIPE, stderr=h.subprocess.PIPE,
                         timeout=30)
    err = p.stderr.decode() + p.stdout.decode()
    R.check(p.returncode == 78 and needle in err,
            "config: %s (%d, %r)" % (what, p.returncode, err.strip()[:160]))


BASE = """[azure]
client_id = 11111111-1111-1111-1111-111111111111
client_secret = sim-secret
%s
[source]
api = %s
%s
[output]
host = 127.0.0.1
[state]
directory = /tmp/unused-mdesiem-state
"""


def test_config(wd):
    t1 = "tenant_id = " + tid(0)
    check_n(wd, BASE % (t1, "alerts", "streams = alerts, incidents"),
            "streams = incidents with api = alerts is refused",
            '[source] streams: "alerts, incidents" only with api = graph')
    check_n(wd, BASE % (t1, "graph", "streams = alerts, incident"),
            "an unknown stream is named",
            '[source] streams: "alerts, incident": not a stream')
    check_n(wd, BASE % (t1, "graph", "streams = incidents,incidents"),
            "a stream named twice", "a stream named twice")
    check_n(wd, BASE % (t1, "graph", "streams = "),
            "an empty list", "[source] streams: empty")
    body = BASE % ("", "graph", "") + \
        "[tenant a]\ntenant_id = %s\n\n[tenant b]\ntenant_id = %s\n" \
        "api = siem\nstreams = incidents\n" % (tid(0), tid(1))
    check_n(wd, body, "in a [tenant NAME] section, with its api",
            "[tenant b] streams")


def test_upgrade(wd):
    sim = h.Sim(wd, "--graph-count", 400, "--incidents-count", 120,
                "--seed", 9)
    coll = h.Collector(wd)
    st = wd.file("ustate")
    c = conf(wd, sim, coll, name="u1.conf", state=st,
             extra={"source.streams": None})
    rc, _, _ = h.run_daemon(c, "--once")
    inc, al = split(coll)
    R.check(rc == 0 and not inc and len(al) == 400,
            "upgrade: alerts alone by default (%d alerts, %d incidents)"
            % (len(al), len(inc)))
    c = conf(wd, sim, coll, name="u2.conf", state=st)
    rc, err, _ = h.run_daemon(c, "--once")
    inc2, al2 = split(coll)
    R.check(rc == 0 and al2 == al,
            "upgrade: streams = alerts, incidents over an alerts-only state "
            "delivers no alert again (%d)" % (sum(al2.values()) - sum(al.values())))
    R.check(set(inc2) == versions(source(sim, "incidents")) and
            max(inc2.values()) == 1,
            "upgrade: every incident once (%d)" % sum(inc2.values()))


def test_tenants(wd):
    sim = h.Sim(wd, "--tenants", 3, "--graph-count", 30,
                "--incidents-count", 60, "--seed", 11)
    coll = h.Collector(wd)
    path = wd.file("t.conf")
    with open(path, "w") as f:
        f.write("[azure]\nclient_id = %s\nclient_secret = %s\nlogin_url = %s\n"
                "[source]\napi = graph\nurl = %s\npage_size = 100\n"
                "start_from = 3h\nstreams = alerts, incidents\n"
                "[output]\nformat = json\nhost = 127.0.0.1\nport = %d\n"
                "max_message_size = 64K\n[state]\ndirectory = %s\n"
                % (h.CLIENT, h.SECRET, sim.base, sim.base + GRAPH, coll.port,
                   wd.file("tstate")))
        for i, n in enumerate(("a", "b", "c")):
            f.write("[tenant %s]\ntenant_id = %s\n" % (n, tid(i)))
            if n == "c":
                f.write("streams = alerts\n")
    os.chmod(path, 0o600)
    rc, err, _ = h.run_daemon(path, "--once")
    got = collections.defaultdict(collections.Counter)
    for m in coll.messages():
        j = json_of(m)
        if j.get("source_api") == "graph_incidents":
            got[j["tenant_name"]][(j["incident_id"], j["last_update_time"])] += 1
    ok = rc == 0
    for i, n in enumerate(("a", "b")):
        want = versions(source(sim, "incidents", tid(i)))
        ok &= set(got[n]) == want and max(got[n].values()) == 1
    R.check(ok, "tenants: each tenant's incidents once, with its name "
            "(%s)" % {k: sum(v.values()) for k, v in got.items()})
    R.check("c" not in got, "tenants: streams = alerts in [tenant c] "
            "reads no incidents there")


def test_formats(wd):
    sim = h.Sim(wd, "--incidents-count", 200, "--seed", 13)
    for fmt in ("cef", "leef"):
        coll = h.Collector(wd)
        c = conf(wd, sim, coll, name=fmt + ".conf",
                 state=wd.file(fmt + "state"), fmt=fmt,
                 extra={"source.streams": "incidents"})
        rc, err, _ = h.run_daemon(c, "--once")
        msgs = coll.messages()
        by = {o["id"]: o for o in source(sim, "incidents")}
        bad = 0
        if fmt == "cef":
            lines = [h.cef_payload(m) for m in msgs]
            for x, line in zip(h.lognorm_parse(lines, wd), lines):
                ext = (x or {}).get("Extensions", {})
                o = by.get(ext.get("mdeIncidentId"))
                bad += (o is None or x.get("Name") != o["displayName"] or
                        ext.get("mdeStatus") != o["status"] or
                        ext.get("mdeAlertIds") != want_ids(o))
        else:
            for m in msgs:
                t = m.decode("utf-8")
                try:
                    ev = leef_parser.parse(t[t.index("LEEF:"):])
                except (ValueError, leef_parser.LeefError):
                    bad += 1
                    continue
                o = by.get(ev.attrs.get("incidentId"))
                bad += (o is None or ev.attrs.get("alertTitle") != o["displayName"]
                        or ev.attrs.get("status") != o["status"] or
                        ev.attrs.get("alertIds") != want_ids(o))
        R.check(rc == 0 and len(msgs) == len(by) and bad == 0,
                "%s: every incident parses with its name, id, status and "
                "alert ids (%d messages, %d wrong)" % (fmt, len(msgs), bad))


def main():
    for t in (test_config, test_probe, test_both, test_upgrade, test_tenants,
              test_formats, test_kill):
        wd = h.Workdir()
        try:
            t(wd)
        except Exception as e:  # a test bug or a hang: say which, go on
            R.check(False, "%s raised %r" % (t.__name__, e))
        finally:
            wd.close()
    R.done()


if __name__ == "__main__":
    main()
