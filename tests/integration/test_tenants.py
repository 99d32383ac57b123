# SPDX-License-Identifier: MIT
"""Many tenants in one daemon, against the simulator serving many tenants
(each with its own secret, detections and faults; tokens bound to their
tenant):

- 50 tenants x 200 detections, one with a wrong secret, one throttled for
  good, one answering 500: --once delivers the 47 healthy ones exactly
  once, exits 1 naming the three; fixed, a second --once delivers them
  exactly once and exits 0.  --status: one line per tenant, then totals.
- The upgrade from a state directory of one tenant, and the same
  configuration rewritten as one [tenant NAME] section: nothing is
  delivered again, new detections exactly once.
- SIGHUP adding, removing and changing tenants while another's request is
  in flight: that request is not cancelled.
- A backlog beside quiet tenants: a new detection of a quiet tenant is
  delivered while the busy tenant still pages through its backlog.
- kill -9 in the middle of a 50-tenant run: nothing lost, duplicates at
  most a page per tenant.
- Delivered per tenant: three tenants on one shared output and one with
  its own; the shared collector stops reading (SIGSTOP), so spooled runs
  ahead of delivered; once it reads again, each tenant's delivered count
  (--status, status.json, metrics) is exactly what the collector received
  of it.  After a restart the counts begin again at 0.
- Graph's limit per app across tenants, shortened (--rate-scale 0.1: a
  window of 1 s; 40 requests a window): 30 tenants of one client_id go
  over it without the app pacer (the simulator answers 429) and never
  with it, and every alert version is delivered exactly once.
"""

import collections
import json
import os
import sys
import re
import signal
import subprocess
import time

import harness as h

R = h.Results()
CS3 = re.compile(rb"cs3=((?:[^ \\]|\\.)+)")


def tid(i):
    """The simulator's i-th tenant id (0: the primary one)."""
    return "00000000-0000-0000-0000-%012d" % (i + 1)


def write_conf(wd, sim, coll, tenants, name="mdesiem.conf", extra=None,
               tenant_extra=None, state=None):
    """harness.write_config without [azure] tenant_id, then one [tenant]
    section each.  tenants: list of (name, index); extra: {"section.key":
    value}; tenant_extra: {name: {key: value}}."""
    e = {"azure.tenant_id": None, "source.page_size": "100",
         "state.shutdown_grace": "20s", "daemon.concurrency": "8"}
    e.update(extra or {})
    path = h.write_config(wd, sim, coll, name=name, extra=e, state=state)
    with open(path, "a") as f:
        for tname, i in tenants:
            f.write("[tenant %s]\ntenant_id = %s\n" % (tname, tid(i)))
            for k, v in (tenant_extra or {}).get(tname, {}).items():
                f.write("%s = %s\n" % (k, v))
            f.write("\n")
    return path


def corpus_ids(sim, i):
    return {d["FullId"] for d in sim.call("GET", "/_sim/corpus?tenant=" + tid(i))}


def delivered(coll):
    out = []
    for m in coll.messages():
        g = CS3.search(m)
        out.append(re.sub(r"\\(.)", r"\1", g.group(1).decode())
                   if g else None)
    return collections.Counter(out)


def fault(sim, i, **kw):
    sim.call("POST", "/_sim/fault?tenant=" + tid(i), kw)


def clear_faults(sim, i):
    sim.call("DELETE", "/_sim/fault?tenant=" + tid(i))


def test_fifty(wd):
    n = 50
    sim = h.Sim(wd, "--tenants", n, "--count", 200, "--seed", 3)
    coll = h.Collector(wd)
    names = [("t%02d" % i, i) for i in range(n)]
    wrong, throttled, failing = 3, 17, 31
    conf = write_conf(wd, sim, coll, names, tenant_extra={
        "t%02d" % wrong: {"client_secret": "not-the-secret"}})
    fault(sim, throttled, path="siem", status=429, retry_after=1, count=-1)
    fault(sim, failing, path="siem", status=500, count=-1)
    want = {i: corpus_ids(sim, i) for i in range(n)}
    R.check(all(len(v) == 200 for v in want.values()),
            "50 tenants x 200 detections in the simulator")
    rc, err, _ = h.run_daemon(conf, "--once", timeout=600)
    bad = {"t%02d" % wrong, "t%02d" % throttled, "t%02d" % failing}
    R.check(rc == 1, "--once with three failing tenants exits 1 (got %d)" % rc)
    named = set(re.findall(r"  tenant (t\d\d): ", err))
    R.check(named == bad, "the verdict names exactly the three failing "
            "tenants (%s)" % sorted(named))
    R.check("tenant t%02d: " % wrong in err and "tenant t%02d: " % failing
            in err, "failures are logged with their tenant's name")
    got = delivered(coll)
    healthy = set().union(*(want[i] for i in range(n)
                            if "t%02d" % i not in bad))
    broken = set().union(*(want[i] for i in (wrong, throttled, failing)))
    dups = [k for k, c in got.items() if c > 1]
    R.check(set(got) == healthy and not dups,
            "the 47 healthy tenants delivered exactly once (%d of %d, %d "
            "dups, %d of the failing tenants')"
            % (len(set(got) & healthy), len(healthy), len(dups),
               len(set(got) & broken)))
    named = 0
    by_id = {}
    for i in range(n):
        for x in want[i]:
            by_id[x] = i
    for m in coll.messages():
        g = CS3.search(m)
        fid = re.sub(r"\\(.)", r"\1", g.group(1).decode()) if g else None
        i = by_id.get(fid)
        if i is not None and re.search(
                rb"[| ]mdeTenantName=t%02d mdeTenantId=%s " %
                (i, tid(i).encode()), m):
            named += 1
    R.check(named == len(got), "every message names its tenant: "
            "mdeTenantName and mdeTenantId (%d of %d)" % (named, len(got)))
    st = subprocess.run([h.DAEMON, "-c", conf, "--status"],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = st.stdout.decode()
    lines = [l for l in out.splitlines() if l.startswith("tenant ")]
    R.check(len(lines) == n, "--status: one line per tenant (%d)" % len(lines))
    failing_lines = {l.split(":")[0][7:] for l in lines if "FAILING" in l}
    R.check(failing_lines == bad, "--status marks the three as failing (%s)"
            % sorted(failing_lines))
    R.check(re.search(r"^totals: 50 tenants, 3 failing$", out, re.M)
            is not None, "--status: a totals line after the tenants")
    R.check(st.returncode == 1, "--status: degraded while tenants fail")
    # Fixed: the simulator takes the secret, the faults end.
    sim.call("POST", "/_sim/tenants?id=%s&client_secret=not-the-secret"
             % tid(wrong))
    clear_faults(sim, throttled)
    clear_faults(sim, failing)
    rc, err, _ = h.run_daemon(conf, "--once", timeout=600)
    R.check(rc == 0, "fixed, --once exits 0 (got %d)" % rc)
    if rc != 0:
        print(err[-2000:])
    got = delivered(coll)
    everything = set().union(*want.values())
    dups = [k for k, c in got.items() if c > 1]
    R.check(set(got) == everything and not dups,
            "then all 50 tenants delivered exactly once (%d of %d, %d dups)"
            % (len(set(got) & everything), len(everything), len(dups)))
    sim_st = sim.stats()
    return sim_st


def add(sim, n, i=0):
    """n new detections of tenant i, once the API's clock has passed them."""
    t0 = h.sim_now(sim)
    ids = sim.call("POST", "/_sim/add?n=%d&tenant=%s" % (n, tid(i)))["added"]
    h.wait_api_time(sim, t0)
    return ids


def to_legacy(state):
    """Put a state directory back into the layout of a daemon of one
    tenant: cursor-API.json and spool/ at its top."""
    tdir = os.path.join(state, "tenants", "default")
    for f in os.listdir(tdir):
        os.rename(os.path.join(tdir, f), os.path.join(state, f))
    os.rmdir(tdir)
    os.rmdir(os.path.join(state, "tenants"))
    qroot = os.path.join(state, "queues")
    (q,) = os.listdir(qroot)
    os.rename(os.path.join(qroot, q, "spool"), os.path.join(state, "spool"))
    os.rmdir(os.path.join(qroot, q))
    os.rmdir(qroot)


def test_upgrade(wd):
    sim = h.Sim(wd, "--tenants", 2, "--count", 300, "--seed", 5)
    coll = h.Collector(wd)
    state = wd.file("ustate")
    one = h.write_config(wd, sim, coll, name="one.conf",
                         extra={"state.directory": state})
    rc, err, _ = h.run_daemon(one, "--once")
    R.check(rc == 0 and len(delivered(coll)) == 300,
            "upgrade: a run of one tenant delivers 300 (%d)" % rc)
    to_legacy(state)
    new = add(sim, 7)
    rc, err, _ = h.run_daemon(one, "--once")
    got = delivered(coll)
    R.check(rc == 0 and os.path.isfile(
        os.path.join(state, "tenants", "default", "cursor-siem.json")),
        "upgrade: the state of one tenant moves into tenants/default")
    R.check(set(new) <= set(got) and all(c == 1 for c in got.values()),
            "upgrade: nothing delivered again, the 7 new ones once")
    new = add(sim, 5)
    conf = write_conf(wd, sim, coll, [("main", 0), ("other", 1)],
                      name="many.conf", state=state)
    rc, err, _ = h.run_daemon(conf, "--once")
    R.check(rc == 0, "upgrade: the same tenant as [tenant main] beside "
            "another exits 0 (%d)" % rc)
    R.check("takes that state over" in err and os.path.isdir(
        os.path.join(state, "tenants", "main")),
        "upgrade: [tenant main] takes the state of default over")
    got = delivered(coll)
    dups = [k for k, c in got.items() if c > 1]
    other = corpus_ids(sim, 1)
    R.check(not dups and set(new) <= set(got) and other <= set(got),
            "upgrade: nothing delivered again, the 5 new ones and the new "
            "tenant's 300 once (%d dups)" % len(dups))


def requests(sim, i):
    return sum(sim.stats()["tenants"][tid(i)]["requests"].values())


def test_reload(wd):
    sim = h.Sim(wd, "--tenants", 4, "--count", 50, "--seed", 9)
    coll = h.Collector(wd)
    state = wd.file("rstate")
    conf = write_conf(wd, sim, coll, [("a", 0), ("b", 1), ("slow", 3)],
                      name="r.conf", state=state)
    p = h.start_daemon(wd, conf)
    ids = {i: corpus_ids(sim, i) for i in range(4)}
    ok = h.wait_for(lambda: set(delivered(coll)) >= ids[0] | ids[1] | ids[3],
                    timeout=120)
    R.check(ok, "reload: a, b and slow delivered before the reload")
    # slow's next request takes 4 s; the reload comes while it is in flight.
    fault(sim, 3, path="siem", delay=4, count=1)
    before = requests(sim, 3)
    h.wait_for(lambda: requests(sim, 3) > before, timeout=30)
    time.sleep(0.5)
    write_conf(wd, sim, coll, [("a", 0), ("c", 2), ("slow", 3)], name="r.conf",
               state=state, tenant_extra={"a": {"page_size": "50"}})
    p.send_signal(signal.SIGHUP)
    ok = h.wait_for(lambda: ids[2] <= set(delivered(coll)), timeout=120)
    R.check(ok, "reload: the added tenant c is delivered")
    new = add(sim, 5, 3)
    ok = h.wait_for(lambda: set(new) <= set(delivered(coll)), timeout=60)
    R.check(ok, "reload: the untouched tenant goes on")
    rc = h.stop_daemon(p)
    log = h.daemon_log(wd)
    R.check(rc == 0, "reload: SIGTERM, exit 0 (%d)" % rc)
    R.check("reload: tenant b removed" in log and
            "reload: tenant c added" in log and
            "reload: tenant a changed" in log,
            "reload: added, removed and changed tenants are logged")
    R.check("tenant slow changed" not in log and "tenant slow removed"
            not in log, "reload: the untouched tenant is not restarted")
    R.check(os.path.isdir(os.path.join(state, "tenants", "b")),
            "reload: the removed tenant's state stays")
    got = delivered(coll)
    dups = [k for k, c in got.items() if c > 1]
    R.check(not dups, "reload: nothing delivered twice (%d)" % len(dups))
    R.check("Operation was aborted" not in log and "callback aborted"
            not in log, "reload: no request was cancelled")


EXT = re.compile(rb"externalId=((?:[^ \\]|\\.)+)")
UPD = re.compile(rb"mdeLastUpdateTime=((?:[^ \\]|\\.)+)")


def graph_versions(coll):
    """(alert id, last update) of every Graph message delivered."""
    out = []
    for m in coll.messages():
        a, u = EXT.search(m), UPD.search(m)
        out.append((a.group(1).decode() if a else None,
                    u.group(1).decode() if u else None))
    return collections.Counter(out)


def test_backlog(wd):
    """Graph, real paging: one tenant with 20,000 alerts (each page 0.1 s
    at the API) beside 20 quiet ones."""
    quiet = 20
    sim = h.Sim(wd, "--tenants", quiet + 1, "--graph-count", 5, "--seed", 11)
    busy_tid = "00000000-0000-0000-0000-0000000b0557"
    sim.call("POST", "/_sim/tenants?id=%s&graph_count=20000" % busy_tid)
    sim.call("POST", "/_sim/fault?tenant=" + busy_tid,
             {"path": "graph", "delay": 0.1, "count": -1})
    coll = h.Collector(wd)
    names = [("q%02d" % i, i) for i in range(1, quiet + 1)]
    conf = write_conf(wd, sim, coll, names, name="b.conf",
                      state=wd.file("bstate"),
                      extra={"source.api": "graph",
                             "source.url": sim.base +
                             "/graph/v1.0/security/alerts_v2",
                             "source.page_size": "200",
                             "source.start_from": "30d",
                             "daemon.concurrency": "4"},
                      tenant_extra={})
    with open(conf, "a") as f:
        f.write("[tenant busy]\ntenant_id = %s\n" % busy_tid)
    p = h.start_daemon(wd, conf)
    h.wait_for(lambda: len(graph_versions(coll)) > 2000, timeout=120)
    t0 = h.sim_now(sim)
    upd = sim.call("POST", "/_sim/update?api=graph&n=1&tenant=" + tid(7))
    h.wait_api_time(sim, t0)
    aid = upd["updated"][0]["id"]
    ok = h.wait_for(lambda: sum(c for (a, u), c in graph_versions(coll).items()
                                if a == aid) >= 2, timeout=120)
    got = len(graph_versions(coll))
    total = 20000 + quiet * 5
    R.check(ok and got < total,
            "backlog: a quiet tenant's new alert version arrives while the "
            "busy tenant still pages (%d of its 20,000 delivered then)"
            % (got - quiet * 5))
    h.wait_for(lambda: len(graph_versions(coll)) >= total + 1, timeout=300)
    h.stop_daemon(p)
    got = graph_versions(coll)
    R.check(len(got) == total + 1 and all(c == 1 for c in got.values()),
            "backlog: every alert version exactly once in the end (%d of %d)"
            % (len(got), total + 1))


def free_port():
    import socket
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        return so.getsockname()[1]


def test_outputs(wd):
    """A tenant with its own collector gets its own queue: that collector
    dead, the others' delivery goes on; [tenant X] hostname names the
    syslog HOSTNAME."""
    sim = h.Sim(wd, "--tenants", 3, "--count", 40, "--seed", 17)
    shared = h.Collector(wd)
    dead_port = free_port()
    state = wd.file("ostate")
    conf = write_conf(wd, sim, shared, [("a", 0), ("b", 1), ("own", 2)],
                      name="o.conf", state=state, tenant_extra={
                          "a": {"hostname": "cust-a"},
                          "own": {"port": str(dead_port)}})
    rc, err, _ = h.run_daemon(conf, "--once")
    msgs = shared.messages()
    ids = delivered(shared)
    want = corpus_ids(sim, 0) | corpus_ids(sim, 1)
    R.check(rc == 1 and set(ids) == want and all(
        c == 1 for c in ids.values()),
        "outputs: with one tenant's own collector dead, the shared "
        "collector gets the other two tenants' detections once (exit %d, "
        "%d of %d)" % (rc, len(set(ids) & want), len(want)))
    R.check(len(os.listdir(os.path.join(state, "queues"))) == 2,
            "outputs: two queues, one per output")
    a = corpus_ids(sim, 0)
    host_a = [m for m in msgs if CS3.search(m) and
              re.sub(r"\\(.)", r"\1", CS3.search(m).group(1).decode()) in a]
    R.check(host_a and all(m.split(b" ")[2] == b"cust-a" for m in host_a),
            "outputs: [tenant a] hostname = cust-a is the HOSTNAME of a's "
            "messages")
    R.check(all(m.split(b" ")[2] != b"cust-a" for m in msgs
                if m not in host_a), "outputs: the others keep the host's")
    R.check("bytes stay in the spool" in err,
            "outputs: --once says what stays in the dead output's spool")
    own = h.Collector(wd, port=dead_port)
    rc, err, _ = h.run_daemon(conf, "--once")
    got = delivered(own)
    R.check(rc == 0 and set(got) == corpus_ids(sim, 2) and all(
        c == 1 for c in got.values()),
        "outputs: its collector back, the tenant's detections arrive once "
        "(exit %d, %d)" % (rc, len(got)))
    R.check(len(delivered(shared)) == len(want),
            "outputs: nothing more at the shared collector")


def test_kill(wd):
    n = 50
    sim = h.Sim(wd, "--tenants", n, "--count", 400, "--seed", 13)
    coll = h.Collector(wd)
    names = [("k%02d" % i, i) for i in range(n)]
    conf = write_conf(wd, sim, coll, names, name="k.conf",
                      state=wd.file("kstate"))
    want = set().union(*(corpus_ids(sim, i) for i in range(n)))
    for k in range(3):
        p = h.start_daemon(wd, conf)
        h.wait_for(lambda: len(delivered(coll)) > (k + 1) * 4000, timeout=60)
        p.send_signal(signal.SIGKILL)
        p.wait()
    rc, err, _ = h.run_daemon(conf, "--once", timeout=600)
    R.check(rc == 0, "kill -9: a last --once exits 0 (%d)" % rc)
    got = delivered(coll)
    missing = want - set(got)
    dups = sum(c - 1 for c in got.values() if c > 1)
    R.check(not missing, "kill -9 x3 in a 50-tenant run: nothing lost "
            "(%d missing)" % len(missing))
    # Re-sent after a crash: what was in flight, at most the queue's bound.
    R.check(dups <= 3 * 384, "kill -9: duplicates within the bound (%d for "
            "3 kills, at most %d)" % (dups, 3 * 384))


def tenant_status(state):
    with open(os.path.join(state, "status.json")) as f:
        return {t["name"]: t for t in json.load(f)["tenant_status"]}


def per_tenant(coll, names, sim):
    """What the collector received of each tenant (name -> count)."""
    owner = {}
    for name, i in names:
        for x in corpus_ids(sim, i):
            owner[x] = name
    got = collections.Counter()
    for fid, c in delivered(coll).items():
        got[owner.get(fid)] += c
    return got


def test_delivered(wd):
    sim = h.Sim(wd, "--tenants", 4, "--count", 300, "--seed", 23)
    # A small receive buffer: a collector that stops reading stops the
    # acknowledgements soon.
    shared = h.CollectorWith(wd, "--rcvbuf", 4096)
    own = h.Collector(wd)
    state = wd.file("dstate")
    prom = wd.file("prom")
    os.mkdir(prom)
    names = [("a", 0), ("b", 1), ("c", 2), ("own", 3)]
    conf = write_conf(wd, sim, shared, names, name="d.conf", state=state,
                      extra={"metrics.textfile_dir": prom},
                      tenant_extra={"own": {"port": str(own.port)}})
    shared.proc.send_signal(signal.SIGSTOP)
    p = h.start_daemon(wd, conf)
    try:
        def spooled_all():
            try:
                ts = tenant_status(state)
            except (OSError, ValueError):
                return False
            return all(ts.get(n, {}).get("spooled") == 300 for n, _ in names
                       ) and ts["own"].get("delivered") == 300
        R.check(h.wait_for(spooled_all, timeout=60),
                "delivered: every tenant spooled 300, the own output's "
                "tenant delivered 300")
        ts = tenant_status(state)
        R.check(all(ts[n]["delivered"] < 300 for n in "abc"),
                "delivered: the stopped collector's tenants lag behind "
                "spooled (%s)" % [ts[n]["delivered"] for n in "abc"])
        st = subprocess.run([h.DAEMON, "-c", conf, "--status"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out = st.stdout.decode()
        R.check(re.search(r"^tenant own: ok, .*spooled 300, delivered 300,",
                          out, re.M) is not None and
                re.search(r"^tenant a: .*spooled 300, delivered \d+,", out,
                          re.M) is not None,
                "delivered: --status shows delivered per tenant")
        shared.proc.send_signal(signal.SIGCONT)
        R.check(h.wait_for(lambda: all(
            tenant_status(state)[n]["delivered"] == 300 for n, _ in names),
            timeout=60), "delivered: reading again, all 300 of each "
            "tenant delivered (%s)" % {n: tenant_status(state)[n][
                "delivered"] for n, _ in names})
        got = per_tenant(shared, names, sim)
        got.update(per_tenant(own, names, sim))
        ts = tenant_status(state)
        R.check(all(ts[n]["delivered"] == got[n] for n, _ in names),
                "delivered: each tenant's count is what its collector "
                "received (%s vs %s)" % (
                    {n: ts[n]["delivered"] for n, _ in names}, dict(got)))
        with open(os.path.join(prom, "mdesiem.prom")) as f:
            metrics = f.read()
        R.check(all('mdesiem_tenant_delivered_total{tenant="%s"} %d' % (
            n, got[n]) in metrics for n, _ in names),
            "delivered: mdesiem_tenant_delivered_total per tenant")
    finally:
        h.stop_daemon(p)
    # Counters since start: a restart begins at 0, new ones count.
    p = h.start_daemon(wd, conf)
    try:
        add(sim, 5, 1)
        def restarted():
            ts = tenant_status(state)
            return len(ts) == len(names) and ts["b"]["delivered"] == 5
        R.check(h.wait_for(restarted, timeout=60),
            "delivered: after a restart, b's count is its 5 new detections")
        ts = tenant_status(state)
        R.check(ts["a"]["delivered"] == 0 and ts["own"]["delivered"] == 0,
                "delivered: nothing counted again after a clean restart")
    finally:
        h.stop_daemon(p)


def test_app_limit(wd):
    n, per_window = 30, 40
    sim = h.Sim(wd, "--tenants", n, "--graph-count", 40, "--seed", 29,
                "--rate-scale", "0.1", "--rate-graph-app", per_window)
    want = set()
    for i in range(n):
        for a in sim.call("GET", "/_sim/alerts?api=graph&tenant=" + tid(i)):
            want.add(a["id"])
    names = [("g%02d" % i, i) for i in range(n)]
    graph = {"source.api": "graph", "source.page_size": "10",
             "source.url": sim.base + "/graph/v1.0/security/alerts_v2",
             "source.start_from": "30d", "daemon.concurrency": "8"}

    def once(tag, env_extra):
        coll = h.Collector(wd)
        conf = write_conf(wd, sim, coll, names, name=tag + ".conf",
                          state=wd.file(tag + "state"), extra=graph)
        env = dict(os.environ, MDESIEM_RATE_SCALE="0.1", **env_extra)
        before = sim.stats()["app_rate_limited"]
        t0 = time.time()
        p = subprocess.run([h.DAEMON, "-c", conf, "--once"], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=300)
        time.sleep(1.2)  # the simulator's window passes
        return (p.returncode, sim.stats()["app_rate_limited"] - before,
                graph_versions(coll), time.time() - t0)

    rc, limited, _, _ = once("free", {})
    R.check(limited > 0, "app limit: without the app pacer, 30 tenants go "
            "over %d requests a window (%d answered 429)"
            % (per_window, limited))
    rc, limited, got, secs = once("paced", {
        "MDESIEM_APP_LIMIT": str(per_window * 95 // 100)})
    R.check(rc == 0 and limited == 0,
            "app limit: paced across tenants, no request over the app's "
            "limit (exit %d, %d answered 429, %.1f s)" % (rc, limited, secs))
    ids = collections.Counter()
    for (aid, _), c in got.items():
        ids[aid] += c
    R.check(set(ids) == want and all(c == 1 for c in ids.values()),
            "app limit: every alert version delivered exactly once (%d of "
            "%d)" % (len(ids), len(want)))


def main():
    only = sys.argv[1:]
    for t in (test_fifty, test_upgrade, test_reload, test_backlog,
              test_outputs, test_kill, test_delivered, test_app_limit):
        if only and t.__name__ not in only:
            continue
        wd = h.Workdir()
        try:
            t(wd)
        except Exception as e:  # a broken case must not hide the others
            R.check(False, "%s: %r" % (t.__name__, e))
            print(h.daemon_log(wd)[-3000:])
        finally:
            wd.close()
    R.done()


if __name__ == "__main__":
    main()
