# SPDX-License-Identifier: MIT
"""End to end, api = graph and api = alerts: the simulator serves 5,000
alerts through each API (unsorted, several pages per window, Graph dropping
@odata.nextLink from some full pages, hostile strings); --once runs deliver
every (id, last update) exactly once, alerts updated between runs and while
a window is paged come again as new events, a second run after that
delivers nothing, and liblognorm parses every CEF line with the key fields
equal to the source.  A backlog of 20,000 alerts through the Alert API
drains without a single 429 from the simulator's limiter (the documented
limits, with windows scaled down tenfold on both sides); with the limiter
set lower, the 429s are absorbed and nothing is lost.  The Graph [source]
filter is ANDed into $filter; a nextLink to another host is refused;
cloud = gcc-high shows the documented hosts in -n -v."""

import collections
import json
import os
import re
import subprocess
import time

import harness as h

R = h.Results()
PATHS = {"graph": "/graph/v1.0/security/alerts_v2", "alerts": "/mde/api/alerts"}
TIME_FIELD = {"graph": "lastUpdateDateTime", "alerts": "lastUpdateTime"}
SCALE = "0.1"  # rate-limit windows of 6 s and 360 s, here and in the sim

SURR = re.compile("[\ud800-\udfff]")
FFFD_RUN = re.compile("\ufffd+")
UESC = re.compile(r"(?<!\\)(?:\\\\)*\\u([0-9a-fA-F]{4})")
TIME_RE = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,7}))?Z?")
DETECTED = ("detected", "blocked", "prevented")


def norm_time(s):
    """An ISO time in the 7-digit form (what the dedup key uses)."""
    m = TIME_RE.fullmatch(s or "")
    if not m:
        return None
    return "%s.%sZ" % (m.group(1), (m.group(2) or "").ljust(7, "0"))


def clean(v):
    """A value after CEF: controls other than CR/LF become spaces, invalid
    UTF-8 becomes U+FFFD, ends trimmed."""
    if v is None:
        return ""
    v = SURR.sub("\ufffd", str(v))
    v = "".join(" " if (ord(c) < 32 and c not in "\r\n") or ord(c) == 127
                else c for c in v)
    return FFFD_RUN.sub("\ufffd", v.strip(" "))


def same(got, want):
    want = clean(want)
    got = FFFD_RUN.sub("\ufffd", got)
    if got == want:
        return True
    # A documented per-key length limit keeps a prefix.
    return len(got) >= 63 and want.startswith(got.rstrip(" "))


# -- the mapping, as README documents it --------------------------------------

def _best(items, rank):
    best, br = None, None
    for e in items:
        r = rank(e)
        if best is None or r > br:
            best, br = e, r
    return best


def _detected(e):
    return str(e.get("detectionStatus") or "").lower() in DETECTED


def _verdict(e):
    return {"malicious": 2, "suspicious": 1}.get(str(e.get("verdict") or "").lower(), 0)


def _join(v, sep):
    if isinstance(v, str):
        return v
    return sep.join(x for x in v or [] if isinstance(x, str) and x)


def _split_dns(dns, out):
    if not dns:
        return
    name, dot, dom = dns.partition(".")
    out["shost"] = name
    if dom:
        out["sourceDnsDomain"] = dom


def expected_graph(a):
    ev = [e for e in a.get("evidence") or [] if isinstance(e, dict)]

    def kind(e):
        return (e.get("@odata.type") or "").rsplit(".", 1)[-1]

    x = {
        "cat": a.get("category"), "cs4": a.get("actorDisplayName"),
        "cs1": a.get("threatDisplayName"), "mdeThreatFamily": a.get("threatFamilyName"),
        "sourceServiceName": a.get("detectionSource"),
        "mdeServiceSource": a.get("serviceSource"), "msg": a.get("description"),
        "mdeStatus": a.get("status"), "mdeClassification": a.get("classification"),
        "mdeDetermination": a.get("determination"), "mdeIncidentId": a.get("incidentId"),
        "mdeAssignedTo": a.get("assignedTo"),
        "mdeAlertCreationTime": a.get("createdDateTime"),
        "flexString1": a.get("alertWebUrl"), "mdeLinkToMTP": a.get("alertWebUrl"),
        "flexString2": a.get("incidentWebUrl"),
        "mdeIncidentLinkToMTP": a.get("incidentWebUrl"),
        "mdeMitreTechniques": _join(a.get("mitreTechniques"), ", "),
    }
    dev = next((e for e in ev if kind(e) == "deviceEvidence"), None)
    if dev:
        x["mdeComputerDnsName"] = dev.get("deviceDnsName")
        _split_dns(dev.get("deviceDnsName"), x)
        x["deviceExternalId"] = dev.get("mdeDeviceId")
        x["cs2"] = dev.get("rbacGroupName")
        x["suid"] = "; ".join(
            ("%s\\%s" % (u["domainName"], u["accountName"]) if u.get("domainName")
             else u["accountName"])
            for u in dev.get("loggedOnUsers") or [] if u.get("accountName"))
        x["mdeDeviceCreatedMachineTags"] = _join(dev.get("tags"), ", ")
    files = [e for e in ev if kind(e) in ("fileEvidence", "processEvidence")]
    f = _best(files, lambda e: (4 if _detected(e) else 2) if kind(e) == "fileEvidence"
              else (3 if _detected(e) else 1))
    if f:
        fd = f.get("fileDetails" if kind(f) == "fileEvidence" else "imageFile") or {}
        x.update({"fname": fd.get("fileName"), "filePath": fd.get("filePath"),
                  "fileHash": fd.get("sha1"), "cs6": fd.get("sha256"),
                  "mdeFileHash": fd.get("sha1") or fd.get("sha256")})
        rs = f.get("remediationStatus")
        if rs and rs.lower() != "none":
            x["act"] = rs
    procs = [e for e in ev if kind(e) == "processEvidence"]
    p = _best(procs, lambda e: 1 if _detected(e) else 0)
    if p:
        x["mdeCommandLine"] = p.get("processCommandLine")
    ip = _best([e for e in ev if kind(e) == "ipEvidence"], _verdict)
    x["ip"] = ip.get("ipAddress") if ip else None
    url = _best([e for e in ev if kind(e) == "urlEvidence"], _verdict)
    x["request"] = url.get("url") if url else None
    user = _best([e for e in ev if kind(e) == "userEvidence"], _verdict)
    acct = (user or p or {}).get("userAccount") or {}
    if acct.get("accountName"):
        x["suser"] = acct.get("accountName")
        x["sntdom"] = acct.get("domainName")
    return x


def expected_alerts(a):
    ev = [e for e in a.get("evidence") or [] if isinstance(e, dict)]

    def kind(e):
        return str(e.get("entityType") or "").lower()

    inc = a.get("incidentId")
    x = {
        "cat": a.get("category"), "cs1": a.get("threatName"),
        "mdeThreatFamily": a.get("threatFamilyName"),
        "sourceServiceName": a.get("detectionSource"), "msg": a.get("description"),
        "mdeStatus": a.get("status"), "mdeClassification": a.get("classification"),
        "mdeDetermination": a.get("determination"),
        "mdeIncidentId": str(inc) if inc is not None else None,
        "mdeAssignedTo": a.get("assignedTo"),
        "mdeAlertCreationTime": a.get("alertCreationTime"),
        "mdeMitreTechniques": _join(a.get("mitreTechniques"), ", "),
        "deviceExternalId": a.get("machineId"), "cs2": a.get("rbacGroupName"),
        "mdeComputerDnsName": a.get("computerDnsName"),
    }
    _split_dns(a.get("computerDnsName"), x)
    files = [e for e in ev if kind(e) in ("file", "process")]
    f = _best(files, lambda e: (4 if _detected(e) else 2) if kind(e) == "file"
              else (3 if _detected(e) else 1))
    if f:
        x.update({"fname": f.get("fileName"), "filePath": f.get("filePath"),
                  "fileHash": f.get("sha1"), "cs6": f.get("sha256"),
                  "mdeFileHash": f.get("sha1") or f.get("sha256")})
    p = _best([e for e in ev if kind(e) == "process"], lambda e: 1 if _detected(e) else 0)
    if p:
        x["mdeCommandLine"] = p.get("processCommandLine")
    ip = next((e for e in ev if kind(e) == "ip"), None)
    x["ip"] = ip.get("ipAddress") if ip else None
    url = next((e for e in ev if kind(e) == "url"), None)
    x["request"] = url.get("url") if url else None
    ru = a.get("relatedUser")
    user = next((e for e in ev if kind(e) == "user"), None)
    if isinstance(ru, dict) and ru.get("userName"):
        x["suser"], x["sntdom"] = ru.get("userName"), ru.get("domainName")
    elif user and user.get("accountName"):
        x["suser"], x["sntdom"] = user.get("accountName"), user.get("domainName")
    return x


EXPECTED = {"graph": expected_graph, "alerts": expected_alerts}
SEVERITY = {"informational": "1", "low": "3", "medium": "5", "high": "8"}


def check_line(api, x, src, bad):
    """Compare one parsed CEF line with its source alert."""
    ext = x.get("Extensions", {})
    aid = src["id"]
    for key, want in EXPECTED[api](src).items():
        if key == "ip":
            got = [ext[k] for k in ("src", "c6a2", "mdeIpAddress") if k in ext]
            if clean(want) and not (len(got) == 1 and same(got[0], want)):
                bad.append("%s: ip %r, source %r" % (aid, got, want))
            elif not clean(want) and got:
                bad.append("%s: ip %r for none" % (aid, got))
            continue
        if clean(want) == "":
            if key in ext:
                bad.append("%s: %s=%r present for an empty value" % (aid, key, ext[key]))
        elif key not in ext or not same(ext[key], want):
            bad.append("%s: %s=%r, source %r" % (aid, key, ext.get(key), want))
    got_lu = norm_time(ext.get("mdeLastUpdateTime"))
    if got_lu != norm_time(src[TIME_FIELD[api]]):
        bad.append("%s: mdeLastUpdateTime %r" % (aid, ext.get("mdeLastUpdateTime")))
    title = str(src.get("title") or "").replace("\r", " ").replace("\n", " ")
    if clean(title) and not same(x.get("Name", "").strip(" "), title):
        bad.append("%s: header Name %r" % (aid, x.get("Name")))
    sig = str(src.get("detectorId") or "").replace("\r", " ").replace("\n", " ")
    if clean(sig) and not same(x.get("SignatureID", "").strip(" "), sig):
        bad.append("%s: header signature %r" % (aid, x.get("SignatureID")))
    sev = SEVERITY.get(str(src.get("severity")).lower(), "0")
    if x.get("Severity") != sev:
        bad.append("%s: severity %r for %r" % (aid, x.get("Severity"), src.get("severity")))


# -- helpers -----------------------------------------------------------------

def run(conf, *args, scale=SCALE, timeout=300):
    env = dict(os.environ)
    if scale:
        env["MDESIEM_RATE_SCALE"] = scale
    p = subprocess.run([h.DAEMON, "-c", conf] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout, env=env)
    return p.returncode, p.stderr.decode("utf-8", "replace"), p.stdout.decode(
        "utf-8", "replace")


def config(wd, sim, coll, api, name, page, extra=None):
    state = wd.file("state-" + name)
    os.makedirs(state, exist_ok=True)
    e = {"source.api": api, "source.url": sim.base + PATHS[api],
         "source.page_size": str(page), "source.start_from": "3h",
         "output.max_message_size": "1M"}
    e.update(extra or {})
    return h.write_config(wd, sim, coll, name=name + ".conf", extra=e, state=state)


def corpus(sim, api):
    return sim.call("GET", "/_sim/alerts?api=" + api)


def versions(alerts, api):
    return {(a["id"], norm_time(a[TIME_FIELD[api]])): a for a in alerts}


class Delivered:
    """What a collector received, parsed by liblognorm, read incrementally."""

    def __init__(self, wd, coll):
        self.wd, self.coll, self.n = wd, coll, 0

    def new(self):
        msgs = self.coll.messages()
        lines = [h.cef_payload(m) for m in msgs[self.n:]]
        self.n = len(msgs)
        parsed = h.lognorm_parse([l for l in lines if l], self.wd) if lines else []
        out = []
        for x in parsed:
            ext = (x or {}).get("Extensions", {})
            aid = ext.get("externalId") or ext.get("mdeAlertId")
            out.append(((aid, norm_time(ext.get("mdeLastUpdateTime"))), x))
        return lines, out


def check_values(api, parsed, by_version, what):
    bad, n = [], 0
    for key, x in parsed:
        src = by_version.get(key)
        if x is None or src is None:
            bad.append("line not parsed or unknown version %r" % (key,))
            continue
        check_line(api, x, src, bad)
        n += 1
    for b in bad[:10]:
        print("  " + b)
    R.check(not bad and n > 0, "%s: liblognorm parses all %d lines, key fields "
            "equal the source" % (what, n))


def sim_stats(sim, api):
    return sim.stats()["alert_apis"][api]


def exactly_once(keys, want, what):
    counts = collections.Counter(keys)
    dups = [k for k, c in counts.items() if c > 1]
    missing = set(want) - set(counts)
    extra = set(counts) - set(want)
    R.check(not dups and not missing and not extra,
            "%s: every (id, last update) exactly once (%d delivered, %d dups, "
            "%d missing, %d unexpected)" % (what, len(keys), len(dups), len(missing),
                                            len(extra)))


# -- the tests ---------------------------------------------------------------

def test_api(wd, sim, api, page):
    coll = h.Collector(wd)
    conf = config(wd, sim, coll, api, api, page)
    seen = Delivered(wd, coll)
    c0 = versions(corpus(sim, api), api)
    # While the first window is paged, alerts already read change and leave
    # it, so everything behind them moves up.  Graph: a few per page, on
    # pages reached by nextLink ($skiptoken) or by $skip.  Alert API, all
    # by $skip: first fewer than the $skip overlap covers, then more (the
    # window must be read again).
    if api == "graph":
        sim.call("POST", "/_sim/alerts-config?update_api=graph&"
                 "update_during_paging=4,4,4,4")
    else:
        sim.call("POST", "/_sim/alerts-config?update_api=alerts&alerts_nextlink=0&"
                 "update_during_paging=%d,%d" % (page // 20 - 2, page // 20 + 20))
    rc, err, _ = run(conf, "--once")
    R.check(rc == 0, "%s: first --once exits 0 (got %d)" % (api, rc))
    if rc != 0:
        print(err[-2000:])
    lines, parsed = seen.new()
    st = sim_stats(sim, api)
    R.check(st["pages"] > 5000 // page, "%s: the window took %d pages" % (api, st["pages"]))
    if api == "graph":
        R.check(st["nextlinks_sent"] > 0 and st["nextlinks_dropped"] > 0 and
                st["skip_requests"] > 0,
                "graph: nextLinks followed, $skip after full pages without one "
                "(%d sent, %d dropped)" % (st["nextlinks_sent"], st["nextlinks_dropped"]))
        R.check(st["prefer_missing"] == 0, "graph: Prefer: include-unknown-enum-members "
                "on every request")
    else:
        R.check(st["expand_missing"] == 0 and st["skip_requests"] > 0,
                "alerts: $expand=evidence on every request, $skip paging")
        sim.call("POST", "/_sim/alerts-config?alerts_nextlink=0.3")
        R.check(all(q["top"] == page for q in st["queries"]), "alerts: $top = page_size")
    c1 = versions(corpus(sim, api), api)
    unchanged = set(c0) & set(c1)
    got = [k for k, _ in parsed]
    changed = len(c0) - len(unchanged)
    if api == "alerts":
        R.check("reading the window again" in err,
                "alerts: a shift larger than the $skip overlap is noticed")
    R.check(changed > 0 and unchanged <= set(got) and
            len(got) == len(set(got)) and set(got) <= set(c0) | set(c1),
            "%s first run: %d alerts changed while paging; every unchanged "
            "one delivered, none twice" % (api, changed))
    by_version = dict(c0)
    by_version.update(c1)
    check_values(api, parsed, by_version, "%s first run" % api)
    R.check(all(l and "\n" not in l for l in lines), "%s: one message per line" % api)

    # Updates between runs: each new version is delivered once, nothing else.
    upd = sim.call("POST", "/_sim/update?api=%s&n=300" % api)["updated"]
    h.wait_api_time(sim, time.time())
    c2 = versions(corpus(sim, api), api)
    rc, err, _ = run(conf, "--once")
    lines, parsed2 = seen.new()
    got2 = [k for k, _ in parsed2]
    want2 = set(c2) - set(got)
    R.check(rc == 0 and len(upd) == 300 and len(want2) >= 300,
            "%s: second --once after 300 updates exits 0" % api)
    exactly_once(got2, want2, "%s second run" % api)
    check_values(api, parsed2, c2, "%s second run" % api)
    R.check(all(x["Extensions"].get("mdeStatus") in ("inProgress", "resolved",
                                                     "InProgress", "Resolved")
                for k, x in parsed2 if k in {(u["id"], u["lastUpdate"]) for u in upd}),
            "%s: updated alerts carry their new status" % api)
    rc, err, _ = run(conf, "--once")
    lines, parsed3 = seen.new()
    R.check(rc == 0 and not parsed3, "%s: third --once delivers nothing (%d)"
            % (api, len(parsed3)))
    return c2


def test_filter(wd, sim):
    coll = h.Collector(wd)
    conf = config(wd, sim, coll, "graph", "graph-filter", 500, {
        "source.filter": "serviceSource eq 'microsoftDefenderForEndpoint'"})
    rc, err, _ = run(conf, "--once")
    _, parsed = Delivered(wd, coll).new()
    mde = {k for k, a in versions(corpus(sim, "graph"), "graph").items()
           if a["serviceSource"] == "microsoftDefenderForEndpoint"}
    q = sim_stats(sim, "graph")["queries"][-1]["filter"]
    R.check(rc == 0 and q.startswith("(serviceSource eq 'microsoftDefenderForEndpoint') "
                                     "and lastUpdateDateTime ge "),
            "graph: [source] filter is ANDed into $filter (%r)" % q[:90])
    exactly_once([k for k, _ in parsed], mde, "graph with filter: only "
                 "microsoftDefenderForEndpoint alerts")


def test_foreign_next_link(wd, sim):
    other = h.Sim(wd, "--count", 0, "--graph-count", 10)
    conf = config(wd, sim, None, "graph", "graph-foreign", 500)
    body = ('{"value":[],"@odata.nextLink":"%s%s?$skip=1"}' % (other.base, PATHS["graph"]))
    sim.fault(path="graph", body=body)
    rc, err, _ = run(conf, "--once")
    R.check(rc != 0 and "not sending the access token there" in err,
            "graph: an @odata.nextLink to another host is refused")
    R.check(other.stats()["requests"].get("graph", 0) == 0,
            "graph: nothing was sent to the other host")


def test_backlog(wd):
    sim = h.Sim(wd, "--count", 0, "--alerts-count", 20000, "--rate-scale", SCALE,
                "--hostile-ratio", 0, "--span", 20000, "--seed", 11)
    coll = h.Collector(wd)
    conf = config(wd, sim, coll, "alerts", "backlog", 100, {"source.start_from": "7h"})
    want = versions(corpus(sim, "alerts"), "alerts")
    rc, err, _ = run(conf, "--once")
    _, parsed = Delivered(wd, coll).new()
    st = sim.stats()
    R.check(rc == 0, "backlog: --once exits 0")
    R.check(st["alert_apis"]["alerts"]["pages"] > 200 and
            st["alert_apis"]["alerts"]["rate_limited"] == 0 and
            "429" not in st["status"],
            "backlog: %d requests paced under 100/min and 1,500/h: no 429"
            % st["alert_apis"]["alerts"]["pages"])
    exactly_once([k for k, _ in parsed], want, "backlog of 20,000")


def test_lower_limit(wd, sim):
    sim.call("POST", "/_sim/alerts-config?rate_alerts_min=6")
    coll = h.Collector(wd)
    conf = config(wd, sim, coll, "alerts", "throttled", 500)
    want = versions(corpus(sim, "alerts"), "alerts")
    before = sim_stats(sim, "alerts")["rate_limited"]
    rc, err, _ = run(conf, "--once")
    _, parsed = Delivered(wd, coll).new()
    limited = sim_stats(sim, "alerts")["rate_limited"] - before
    R.check(rc == 0 and limited > 0,
            "lower limit: %d answers of 429 absorbed, --once exits 0" % limited)
    exactly_once([k for k, _ in parsed], want, "lower limit: nothing lost")
    sim.call("POST", "/_sim/alerts-config?rate_alerts_min=100")


def test_clouds(wd):
    want = {
        ("graph", "gcc-high"): ("https://login.microsoftonline.us",
                                "https://graph.microsoft.us/v1.0/security/alerts_v2",
                                "https://graph.microsoft.us"),
        ("alerts", "gcc-high"): ("https://login.microsoftonline.us",
                                 "https://api-gov.securitycenter.microsoft.us/api/alerts",
                                 "https://api-gov.securitycenter.microsoft.us"),
        ("graph", "dod"): ("https://login.microsoftonline.us",
                           "https://dod-graph.microsoft.us/v1.0/security/alerts_v2",
                           "https://dod-graph.microsoft.us"),
        ("alerts", "gcc"): ("https://login.microsoftonline.com",
                            "https://api-gcc.securitycenter.microsoft.us/api/alerts",
                            "https://api-gcc.securitycenter.microsoft.us"),
        ("graph", "global"): ("https://login.microsoftonline.com",
                              "https://graph.microsoft.com/v1.0/security/alerts_v2",
                              "https://graph.microsoft.com"),
        ("alerts", "global"): ("https://login.microsoftonline.com",
                               "https://api.security.microsoft.com/api/alerts",
                               "https://api.securitycenter.microsoft.com"),
    }
    for (api, cloud), (login, url, aud) in want.items():
        conf = h.write_config(wd, None, None, name="cloud-%s-%s.conf" % (api, cloud),
                              extra={"azure.login_url": None, "source.url": None,
                                     "source.api": api, "source.cloud": cloud})
        rc, err, out = run(conf, "-n", "-v", scale=None)
        lines = set(out.splitlines())
        ok = rc == 0 and {"login_url = " + login, "url = " + url,
                          "audience = " + aud} <= lines
        if not ok:
            print(err[-500:], out[:1500])
        R.check(ok, "cloud = %s, api = %s: -n -v shows %s, %s, audience %s"
                % (cloud, api, login, url, aud))


def as_written(v):
    """A source value as the JSON output carries it: each lone surrogate
    becomes U+FFFD, a string ends at its first NUL (C strings)."""
    if isinstance(v, str):
        return SURR.sub("\ufffd", v.split("\x00", 1)[0])
    if isinstance(v, list):
        return [as_written(x) for x in v]
    if isinstance(v, dict):
        return {as_written(k): as_written(x) for k, x in v.items()}
    return v


def test_json_evidence(wd, sim, api):
    """format = json: every line carries its alert's evidence array equal
    to the source's (hostile strings included), whether the daemon copied
    the text it received or wrote the parsed tree."""
    coll = h.Collector(wd)
    conf = config(wd, sim, coll, api, api + "-json", 500,
                  {"output.format": "json"})
    src = versions(corpus(sim, api), api)
    rc, err, _ = run(conf, "--once")
    R.check(rc == 0, "%s json: --once exits 0 (got %d)" % (api, rc))
    bad, n, escaped, copied = [], 0, 0, 0
    for m in coll.messages():
        o = json.loads(m[m.index(b"{"):].decode("utf-8"))
        a = src.get((o.get("alert_id"), norm_time(o.get("last_update_time"))))
        if a is None:
            continue
        n += 1
        want = as_written(a.get("evidence"))
        if o.get("evidence") != want:
            bad.append("%s: evidence %r, source %r" % (a["id"], o.get("evidence"), want))
        # A \\uXXXX escape of a character the tree writes as it is
        # (printable ASCII, or UTF-8 past the C1 controls) proves that the
        # array went out as the API wrote it.
        text = json.dumps(a.get("evidence"), separators=(",", ":"))
        if any(0x20 <= c < 0x7f and chr(c) not in '"\\' or
               c >= 0xa0 and c not in (0x2028, 0x2029) and not 0xd800 <= c <= 0xdfff
               for c in (int(x, 16) for x in UESC.findall(text))):
            escaped += 1
            copied += text.encode() in m
    R.check(n > 0 and not bad, "%s json: %d lines, evidence equal to the source's "
            "in each%s" % (api, n, "" if not bad else ": " + "; ".join(bad[:3])))
    R.check(copied > 0, "%s json: evidence arrays go out as the API wrote them: "
            "%d of the %d with a \\u escape the tree would write as UTF-8 keep it"
            % (api, copied, escaped))


def main():
    wd = h.Workdir()
    try:
        test_clouds(wd)
        sim = h.Sim(wd, "--count", 0, "--graph-count", 5000, "--alerts-count", 5000,
                    "--graph-drop-nextlink", "0.3", "--alerts-nextlink", "0.2",
                    "--hostile-ratio", "0.1", "--seed", 5, "--span", 7200,
                    "--rate-scale", SCALE)
        test_api(wd, sim, "graph", 200)
        test_api(wd, sim, "alerts", 250)
        test_json_evidence(wd, sim, "graph")
        test_json_evidence(wd, sim, "alerts")
        test_filter(wd, sim)
        test_foreign_next_link(wd, sim)
        test_lower_limit(wd, sim)
        test_backlog(wd)
    finally:
        wd.close()
    R.done()


if __name__ == "__main__":
    main()
