#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Self-test of the test simulators: tests/sim/mdesim.py (Entra ID + SIEM
API) and tests/sim/collector.py (syslog receiver). Prints one line per check
and ends with "N passed, N failed"."""

import base64
import calendar
import collections
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MDESIM = os.path.join(TOP, "tests", "sim", "mdesim.py")
COLLECTOR = os.path.join(TOP, "tests", "sim", "collector.py")

TENANT = "00000000-0000-0000-0000-000000000001"
CLIENT = "11111111-1111-1111-1111-111111111111"
SECRET = "sim-secret"
RESOURCE = "https://graph.windows.net"

FIELDS = [
    "AlertTime", "ComputerDnsName", "AlertTitle", "Category", "Severity",
    "AlertId", "Actor", "LinkToWDATP", "IocName", "IocValue", "CreatorIocName",
    "CreatorIocValue", "Sha1", "FileName", "FilePath", "IpAddress", "Url",
    "IoaDefinitionId", "UserName", "AlertPart", "FullId",
    "LastProcessedTimeUtc", "ThreatCategory", "ThreatFamily", "ThreatName",
    "RemediationAction", "RemediationIsSuccess", "Source", "Md5", "Sha256",
    "WasExecutingWhileDetected", "UserDomain", "LogOnUsers", "MachineDomain",
    "MachineName", "InternalIPv4List", "InternalIPv6List", "FileHash",
    "DeviceID", "MachineGroup", "Description", "DeviceCreatedMachineTags",
    "CloudCreatedMachineTags", "CommandLine", "IncidentLinkToWDATP",
    "ReportID", "LinkToMTP", "IncidentLinkToMTP", "ExternalId", "IocUniqueId",
]
KEYS = {"FullId", "AlertId", "IocUniqueId", "LastProcessedTimeUtc", "AlertTime"}
NUMBERS = {"AlertPart", "ReportID"}
BOOLS = {"RemediationIsSuccess", "WasExecutingWhileDetected"}
HOSTILE_FIELDS = [f for f in FIELDS if f not in KEYS | NUMBERS | BOOLS]

passed = 0
failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok   - %s" % name)
    else:
        failed += 1
        print("FAIL - %s%s" % (name, (": " + str(detail)[:300]) if detail else ""))
    return cond


# -- time helpers (independent of the simulator's own) ----------------------

TPS = 10_000_000
TIME_RE = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,7}))?Z?")


def ticks(s):
    m = TIME_RE.fullmatch(s)
    secs = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S"))
    return secs * TPS + int((m.group(2) or "").ljust(7, "0"))


def iso(t, digits=7, z=True):
    secs, frac = divmod(t, TPS)
    s = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs))
    if digits:
        s += "." + ("%07d" % frac)[:digits]
    return s + ("Z" if z else "")


# -- HTTP helpers ------------------------------------------------------------

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def fetch(method, url, data=None, headers=None, timeout=20):
    if isinstance(data, dict):
        data = urllib.parse.urlencode(data).encode()
    elif isinstance(data, str):
        data = data.encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with OPENER.open(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def jget(body):
    try:
        return json.loads(body)
    except ValueError:
        return None


def wait_port_file(path, proc, timeout=180):
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(path):
            with open(path) as f:
                txt = f.read()
            if txt.endswith("\n"):
                return int(txt)
        if proc.poll() is not None:
            return None
        time.sleep(0.02)
    return None


class Sim:
    def __init__(self, tmp, name, *args):
        self.port_file = os.path.join(tmp, name + ".port")
        self.err = open(os.path.join(tmp, name + ".err"), "w")
        self.proc = subprocess.Popen(
            [sys.executable, MDESIM, "--port", "0", "--port-file", self.port_file] + list(args),
            stdout=subprocess.PIPE, stderr=self.err, text=True)
        self.port = None
        self.base = None

    def wait(self):
        self.port = wait_port_file(self.port_file, self.proc)
        if self.port:
            self.base = "http://127.0.0.1:%d" % self.port
        return self.port

    def token(self, v2=False, tenant=TENANT, **form):
        f = {"grant_type": "client_credentials", "client_id": CLIENT,
             "client_secret": SECRET}
        if v2:
            f["scope"] = RESOURCE + "/.default"
        else:
            f["resource"] = RESOURCE
        f.update(form)
        f = {k: v for k, v in f.items() if v is not None}
        path = "/%s/oauth2/%stoken" % (tenant, "v2.0/" if v2 else "")
        st, h, b = fetch("POST", self.base + path, f,
                        {"Content-Type": "application/x-www-form-urlencoded"})
        return st, h, jget(b)

    def alerts(self, tok, query="", **params):
        q = urllib.parse.urlencode(params, doseq=True)
        if query:
            q = query + ("&" + q if q else "")
        hdrs = {"Authorization": "Bearer " + tok} if tok else {}
        return fetch("GET", self.base + "/siem/api/alerts" + ("?" + q if q else ""), None, hdrs)

    def ctl(self, method, path, body=None):
        st, h, b = fetch(method, self.base + "/_sim/" + path, body,
                        {"Content-Type": "application/json"} if body else {})
        return st, jget(b)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()


def ids(body):
    return {d["FullId"] for d in json.loads(body)}


# -- simulator checks --------------------------------------------------------

def test_tokens(sim):
    st, h, j = sim.token()
    check("v1 token: 200", st == 200, (st, j))
    j = j or {}
    check("v1 token: expires_in/expires_on/not_before are strings",
          all(isinstance(j.get(k), str) and j[k].isdigit()
              for k in ("expires_in", "expires_on", "not_before")), j)
    check("v1 token: token_type Bearer, resource echoed",
          j.get("token_type") == "Bearer" and j.get("resource") == RESOURCE, j)
    check("v1 token: Content-Type json", h.get("Content-Type", "").startswith("application/json"))
    st, h, j2 = sim.token(v2=True)
    j2 = j2 or {}
    check("v2 token: 200 with numeric expires_in/ext_expires_in",
          st == 200 and type(j2.get("expires_in")) is int
          and type(j2.get("ext_expires_in")) is int
          and isinstance(j2.get("access_token"), str), (st, j2))

    cases = [
        ("unknown tenant", dict(tenant="99999999-0000-0000-0000-000000000000"),
         400, "invalid_request", 90002),
        ("wrong client_id", dict(client_id="22222222-2222-2222-2222-222222222222"),
         400, "unauthorized_client", 700016),
        ("wrong secret", dict(client_secret="nope"), 401, "invalid_client", 7000215),
        ("grant_type password", dict(grant_type="password"),
         400, "unsupported_grant_type", 70003),
        ("v1 missing resource", dict(resource=None), 400, "invalid_request", 900144),
        ("v2 missing scope", dict(v2=True, scope=None), 400, "invalid_request", 900144),
        ("v2 scope without /.default", dict(v2=True, scope=RESOURCE),
         400, "invalid_scope", 70011),
    ]
    for name, kw, status, error, code in cases:
        st, h, j = sim.token(**kw)
        j = j or {}
        desc = j.get("error_description", "")
        ok = (st == status and j.get("error") == error and j.get("error_codes") == [code]
              and desc.startswith("AADSTS%d: " % code) and "\r\nTrace ID: " in desc
              and "\r\nCorrelation ID: " in desc and "\r\nTimestamp: " in desc
              and all(k in j for k in ("timestamp", "trace_id", "correlation_id")))
        check("token error %s: %d %s AADSTS%d" % (name, status, error, code), ok, (st, j))
    st, h, j = sim.token(resource=None)
    check("AADSTS900144 names the parameter",
          "'resource'" in (j or {}).get("error_description", ""), j)
    st, h, j = sim.token(v2=True, scope=None)
    check("AADSTS900144 names 'scope' for v2",
          "'scope'" in (j or {}).get("error_description", ""), j)


def test_auth(sim, tok):
    st, h, b = sim.alerts(None)
    j = jget(b) or {}
    check("SIEM without token: 401 Unauthorized",
          st == 401 and j.get("error", {}).get("code") == "Unauthorized", (st, b[:200]))
    st, h, b = sim.alerts("simtok.not-a-real-token")
    check("SIEM with unknown token: 401", st == 401, st)
    st, h, j = sim.token(resource="https://api.securitycenter.microsoft.com")
    st, h, b = sim.alerts(j["access_token"])
    check("SIEM with token for another audience: 401", st == 401, (st, b[:200]))
    st, h, j = sim.token(v2=True)
    st, h, b = sim.alerts(j["access_token"], limit=1)
    check("SIEM accepts a v2 token with scope <resource>/.default", st == 200, st)
    st, h, b = sim.alerts(tok, limit=1)
    check("SIEM with valid token: 200, Content-Type application/json; charset=utf-8",
          st == 200 and h.get("Content-Type") == "application/json; charset=utf-8",
          (st, h.get("Content-Type")))


def test_corpus(sim, count, burst, late, span, start):
    st, h, raw = fetch("GET", sim.base + "/_sim/corpus")
    corpus = json.loads(raw)
    total = count + 2 * burst + late
    check("corpus has count + 2*burst + late records", len(corpus) == total,
          (len(corpus), total))
    check("every record has the 50 keys in the documented order",
          all(list(d) == FIELDS for d in corpus))
    bad_types = [d["FullId"] for d in corpus if not (
        all(type(d[k]) is int for k in NUMBERS)
        and all(d[k] in (True, False, None) for k in BOOLS)
        and all(type(d[k]) is str for k in FIELDS if k not in NUMBERS | BOOLS))]
    check("value types: numbers, true/false/null, strings", not bad_types, bad_types[:3])
    fids = [d["FullId"] for d in corpus]
    check("FullId unique", len(set(fids)) == len(fids))
    check("FullId = AlertId:IocUniqueId, IocUniqueId 44 chars",
          all(d["FullId"] == d["AlertId"] + ":" + d["IocUniqueId"]
              and len(d["IocUniqueId"]) == 44 for d in corpus))
    check("AlertId shape", all(re.fullmatch(r"da6373707189816856\d\d_\d+", d["AlertId"])
                               for d in corpus))
    parts = collections.defaultdict(list)
    for d in corpus:
        parts[d["AlertId"]].append(d["AlertPart"])
    check("alerts with several parts numbered 0..n-1",
          any(len(p) > 2 for p in parts.values())
          and all(sorted(p) == list(range(len(p))) for p in parts.values()))
    check("LastProcessedTimeUtc has 7 fractional digits and Z",
          all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z", d["LastProcessedTimeUtc"])
              for d in corpus))
    digits = {len((TIME_RE.fullmatch(d["AlertTime"]).group(2) or "")) for d in corpus}
    check("AlertTime uses 0..7 fractional digits", digits == set(range(8)), digits)
    check("AlertTime <= LastProcessedTimeUtc",
          all(ticks(d["AlertTime"]) <= ticks(d["LastProcessedTimeUtc"]) for d in corpus))
    sev = collections.Counter(d["Severity"] for d in corpus)
    check("severities", all(sev[s] for s in ("Informational", "Low", "Medium", "High",
                                             "UnSpecified")), sev.most_common(8))
    clean = [d for d in corpus if d["Severity"] in sev and len(d["Severity"]) < 15
             and d["Severity"][0].isupper() and d["Severity"].isalpha()]
    hexok = all((d["Sha1"] == "" or re.fullmatch(r"[0-9a-f]{40}", d["Sha1"]))
                and (d["Md5"] == "" or re.fullmatch(r"[0-9a-f]{32}", d["Md5"]))
                and (d["Sha256"] == "" or re.fullmatch(r"[0-9a-f]{64}", d["Sha256"]))
                for d in clean)
    check("hash lengths (non-hostile records)", hexok)
    ips = [d["IpAddress"] for d in clean]
    check("IpAddress IPv4, IPv6 and empty",
          any(re.fullmatch(r"\d+\.\d+\.\d+\.\d+", i) for i in ips)
          and any(":" in i for i in ips) and "" in ips)
    check("IoaDefinitionId GUID or empty",
          "" in {d["IoaDefinitionId"] for d in clean}
          and any(re.fullmatch(r"[0-9a-f-]{36}", d["IoaDefinitionId"]) for d in clean))

    # hostile strings
    preds = {
        "|": lambda v: "|" in v, "\\": lambda v: "\\" in v, "=": lambda v: "=" in v,
        "CR": lambda v: "\r" in v, "LF": lambda v: "\n" in v, "TAB": lambda v: "\t" in v,
        "\\x01": lambda v: "\x01" in v, "\\x1b": lambda v: "\x1b" in v,
        "\\x7f": lambda v: "\x7f" in v,
        "leading space": lambda v: v.startswith(" "),
        "trailing space": lambda v: v.endswith(" ") and v.strip() != "",
        "CJK": lambda v: "侵入検知" in v, "emoji": lambda v: "\U0001F525" in v,
        "lone surrogate": lambda v: "\ud800" in v, "over 4000 chars": lambda v: len(v) > 4000,
        "x=1 cs1=evil": lambda v: "x=1 cs1=evil" in v,
        "|CEF:0|forged|": lambda v: "|CEF:0|forged|" in v,
        "\\\\=": lambda v: "\\\\=" in v, "trailing backslash": lambda v: v.endswith("\\"),
    }
    missing = []
    for f in HOSTILE_FIELDS:
        vals = [d[f] for d in corpus]
        for pname, p in preds.items():
            if not any(p(v) for v in vals):
                missing.append((f, pname))
    check("every string field carries every hostile kind", not missing, missing[:10])
    keybad = [d["FullId"] for d in corpus
              if any(re.search(r"[\x00-\x20\x7f|\\]", d[k]) or not d[k].isascii()
                     for k in KEYS)]
    check("key fields stay clean", not keybad, keybad[:3])
    check("body has a literal \\ud800 escape", b"\\ud800" in raw)
    check("body has CJK both raw UTF-8 and \\u-escaped",
          "侵入検知".encode() in raw and b"\\u4fb5" in raw)

    # time layout
    lpts = collections.Counter(d["LastProcessedTimeUtc"] for d in corpus)
    same = [t for t, n in lpts.items() if n >= burst]
    check("burst: %d records share one LastProcessedTimeUtc" % burst, len(same) == 1, same)
    secs = collections.Counter(t[:19] for t in lpts.elements() if t not in same)
    check("burst: %d records within one second" % burst,
          any(n >= burst for n in secs.values()), secs.most_common(2))
    st, hidden = sim.ctl("GET", "corpus?hidden=1")
    hid = {d["FullId"] for d in hidden}
    check("corpus?hidden=1 lists the late records", len(hid) == late, len(hid))
    check("late records have LPT in [start-50s, start-5s]",
          all(start - 50 * TPS <= ticks(d["LastProcessedTimeUtc"]) <= start - 5 * TPS
              for d in hidden))
    check("other records have LPT in [start-span, start-60s]",
          all(start - span * TPS <= ticks(d["LastProcessedTimeUtc"]) <= start - 60 * TPS
              for d in corpus if d["FullId"] not in hid))
    return corpus, hid


def test_queries(sim, tok, corpus, hid, start):
    visible = [d for d in corpus if d["FullId"] not in hid]
    vis_ids = {d["FullId"] for d in visible}
    st, h, b = sim.alerts(tok)
    got = json.loads(b) if st == 200 else []
    check("no parameters: the last 2 hours, late records hidden",
          st == 200 and {d["FullId"] for d in got} == vis_ids, (st, len(got), len(vis_ids)))
    check("response equals corpus values (same JSON)",
          all(d == c for d, c in zip(sorted(got, key=lambda x: x["FullId"]),
                                     sorted(visible, key=lambda x: x["FullId"]))))
    order = [d["LastProcessedTimeUtc"] for d in got]
    check("response is not sorted", order != sorted(order) and order != sorted(order, reverse=True))

    since = iso(start - 3 * 3600 * TPS)
    st, h, b = sim.alerts(tok, sinceTimeUtc=since, limit=25)
    got = json.loads(b)
    rest = [d["LastProcessedTimeUtc"] for d in visible if d["FullId"] not in ids(b)]
    check("limit=25 returns 25 records", len(got) == 25, len(got))
    check("limit returns the most recent records",
          min(d["LastProcessedTimeUtc"] for d in got) >= max(rest))
    st, h, b2 = sim.alerts(tok, sinceTimeUtc=since, limit=25)
    check("limit ties resolved deterministically", ids(b) == ids(b2))
    st, h, b = sim.alerts(tok, sinceTimeUtc=since, limit=100000)
    check("limit above the window size returns all", ids(b) == vis_ids)
    st, h, b = sim.alerts(tok, sinceTimeUtc=since, limit=0)
    check("limit=0 returns []", st == 200 and json.loads(b) == [], b[:50])

    # inclusive bounds, fractional digits, Z optional
    by_lpt = collections.defaultdict(set)
    for d in visible:
        by_lpt[d["LastProcessedTimeUtc"]].add(d["FullId"])
    lpt = next(t for t, s in sorted(by_lpt.items()) if len(s) == 1 and not t.endswith("0Z"))
    t = ticks(lpt)
    st, h, b = sim.alerts(tok, sinceTimeUtc=lpt, untilTimeUtc=lpt)
    check("since == until == LPT returns exactly that record (both inclusive)",
          st == 200 and ids(b) == by_lpt[lpt], (st, b[:100]))
    st, h, b = sim.alerts(tok, sinceTimeUtc=iso(t + 1), untilTimeUtc=iso(t + 10 * TPS))
    check("since = LPT + 100ns excludes it", st == 200 and not (ids(b) & by_lpt[lpt]))
    st, h, b = sim.alerts(tok, sinceTimeUtc=iso(t - 10 * TPS), untilTimeUtc=iso(t - 1))
    check("until = LPT - 100ns excludes it", st == 200 and not (ids(b) & by_lpt[lpt]))
    ok = True
    for digits in range(8):
        for z in (True, False):
            st, h, b = sim.alerts(tok, sinceTimeUtc=iso(t, digits, z), untilTimeUtc=iso(t, 7, z))
            ok = ok and st == 200 and by_lpt[lpt] <= ids(b)
    check("times with 0..7 fractional digits, with and without Z", ok)
    sec = lpt[:19]
    st, h, b = sim.alerts(tok, sinceTimeUtc=sec, untilTimeUtc=sec + ".9999999")
    want = {d["FullId"] for d in visible if d["LastProcessedTimeUtc"][:19] == sec}
    check("whole-second window", ids(b) == want)
    for bad in ("yesterday", "2020-13-01T00:00:00Z", "2020-01-01T00:00:00.12345678Z",
                "2020-01-01 00:00:00", "2020-01-01T00:00:00+01:00"):
        st, h, b = sim.alerts(tok, sinceTimeUtc=bad)
        check("malformed time %r: 400 BadRequest" % bad,
              st == 400 and (jget(b) or {}).get("error", {}).get("code") == "BadRequest",
              (st, b[:120]))
    st, h, b = sim.alerts(tok, limit="ten")
    check("malformed limit: 400", st == 400, st)

    groups = ["UKMachines", "FranceMachines"]
    st, h, b = sim.alerts(tok, sinceTimeUtc=since, machinegroups=groups)
    want = {d["FullId"] for d in visible if d["MachineGroup"] in groups}
    check("machinegroups=UKMachines&machinegroups=FranceMachines",
          st == 200 and ids(b) == want and len(want) > 0, (st, len(want)))
    st, h, b = sim.alerts(tok, "machineGroups=UKMachines", sinceTimeUtc=since)
    check("parameter names are case-insensitive",
          ids(b) == {d["FullId"] for d in visible if d["MachineGroup"] == "UKMachines"})
    st, h, b = sim.alerts(tok, ago="PT10M")
    now = ticks(sim.ctl("GET", "stats")[1]["now"])
    got = json.loads(b)
    check("ago=PT10M",
          st == 200 and all(ticks(d["LastProcessedTimeUtc"]) >= now - 601 * TPS for d in got)
          and {d["FullId"] for d in visible
               if ticks(d["LastProcessedTimeUtc"]) >= now - 590 * TPS} <= ids(b))

    st, j = sim.ctl("POST", "release")
    check("release makes the late records visible", j == {"released": len(hid)}, j)
    st, h, b = sim.alerts(tok)
    check("late records now served", hid <= ids(b))


def test_tokens_expiry(sim, tok):
    st, j = sim.ctl("POST", "expire-tokens")
    st, h, b = sim.alerts(tok)
    j = jget(b) or {}
    check("expired token: 401 with 'expired' in the message",
          st == 401 and "expired" in j.get("error", {}).get("message", ""), (st, b[:200]))
    st, h, j = sim.token()
    st, h, b = sim.alerts(j["access_token"], limit=1)
    check("a new token works after expiry", st == 200, st)
    return j["access_token"]


def test_faults(sim, tok):
    def fault(**kw):
        st, j = sim.ctl("POST", "fault", json.dumps(kw))
        return st

    fault(path="siem", status=429, retry_after=2)
    st, h, b = sim.alerts(tok, limit=1)
    check("fault 429 with Retry-After",
          st == 429 and h.get("Retry-After") == "2"
          and jget(b) == {"error": {"code": "TooManyRequests", "message": "Too many requests."}},
          (st, dict(h), b))
    st, h, b = sim.alerts(tok, limit=1)
    check("fault consumed after count=1", st == 200, st)
    fault(path="siem", status=500, count=2)
    s1 = sim.alerts(tok, limit=1)
    s2 = sim.alerts(tok, limit=1)
    s3 = sim.alerts(tok, limit=1)
    check("fault 500 x2 (InternalServerError), then 200",
          s1[0] == 500 and s2[0] == 500 and s3[0] == 200
          and jget(s1[2])["error"]["code"] == "InternalServerError", (s1[0], s2[0], s3[0]))
    fault(path="siem", status=403)
    st, h, b = sim.alerts(tok, limit=1)
    check("fault 403 Forbidden", st == 403 and jget(b)["error"]["code"] == "Forbidden", st)
    fault(path="siem", status=401)
    st, h, b = sim.alerts(tok, limit=1)
    check("fault 401 Unauthorized", st == 401 and jget(b)["error"]["code"] == "Unauthorized", st)
    fault(path="token", status=500)
    st1 = sim.token()[0]
    st2 = sim.token()[0]
    check("fault on the token path", st1 == 500 and st2 == 200, (st1, st2))
    fault(path="any", status=503)
    st1 = sim.token()[0]
    check("fault path=any hits the next API request", st1 == 503, st1)
    fault(path="siem", delay=0.6)
    t0 = time.monotonic()
    st, h, b = sim.alerts(tok, limit=3)
    el = time.monotonic() - t0
    check("fault delay 0.6s then a normal answer",
          st == 200 and el >= 0.6 and len(json.loads(b)) == 3, (st, el))

    fault(path="siem", truncate=True)
    c = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=10)
    c.request("GET", "/siem/api/alerts?limit=50", headers={"Authorization": "Bearer " + tok})
    r = c.getresponse()
    clen = int(r.getheader("Content-Length"))
    try:
        data = r.read()
        got = len(data)
    except http.client.IncompleteRead as e:
        got = len(e.partial)
    c.close()
    check("fault truncate: full Content-Length, half the body, connection closed",
          r.status == 200 and 0 < got < clen, (r.status, got, clen))

    fault(path="siem", malformed=True)
    st, h, b = sim.alerts(tok, limit=5)
    check("fault malformed: 200 with invalid JSON",
          st == 200 and jget(b) is None and len(b) > 100, (st, b[-40:]))
    fault(path="siem", body="<html>proxy error</html>")
    st, h, b = sim.alerts(tok, limit=5)
    check("fault body: exact text", st == 200 and b == b"<html>proxy error</html>", b)
    fault(path="siem", status=500, count=5)
    st, j = sim.ctl("DELETE", "fault")
    st, h, b = sim.alerts(tok, limit=1)
    check("DELETE /_sim/fault clears the queue", st == 200 and j == {"cleared": 1}, (st, j))
    st = fault(path="siem", stauts=500)
    check("a fault with an unknown field is refused", st == 400, st)


def test_keepalive(sim, tok):
    c = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=10)
    ok = True
    socks = set()
    for auth in (tok, None, tok, "bogus"):
        hdr = {"Authorization": "Bearer " + auth} if auth else {}
        c.request("GET", "/siem/api/alerts?limit=2", headers=hdr)
        r = c.getresponse()
        r.read()
        socks.add(id(c.sock))
        ok = ok and r.getheader("Content-Length") is not None
    body = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": CLIENT,
                                   "client_secret": SECRET, "resource": RESOURCE})
    c.request("POST", "/%s/oauth2/token" % TENANT, body,
              {"Content-Type": "application/x-www-form-urlencoded"})
    r = c.getresponse()
    r.read()
    c.close()
    check("keep-alive: 200s, 401s and token on one connection, Content-Length always",
          ok and len(socks) == 1 and r.status == 200, (ok, len(socks), r.status))


def test_add(sim, tok):
    st, j = sim.ctl("POST", "add?n=5")
    added = set((j or {}).get("added", []))
    st, h, b = sim.alerts(tok, sinceTimeUtc=iso(time.time_ns() // 100 - 60 * TPS))
    check("add n=5: visible at once", len(added) == 5 and added <= ids(b), (len(added),))
    st, j = sim.ctl("POST", "add?n=4&burst=1")
    added = set(j["added"])
    st, h, raw = fetch("GET", sim.base + "/_sim/corpus")
    lpts = {d["LastProcessedTimeUtc"] for d in json.loads(raw) if d["FullId"] in added}
    check("add burst=1: one identical LPT", len(added) == 4 and len(lpts) == 1, lpts)
    st, j = sim.ctl("POST", "add?n=2&hidden=1&ago=30")
    added = set(j["added"])
    st, h, b = sim.alerts(tok)
    before = added & ids(b)
    sim.ctl("POST", "release")
    st, h, b = sim.alerts(tok)
    check("add hidden=1&ago=30: hidden until release", not before and added <= ids(b))


def test_stats(sim, limits_seen):
    st, j = sim.ctl("GET", "stats")
    check("stats",
          st == 200 and j["requests"]["token"] > 10 and j["requests"]["siem"] > 20
          and j["status"].get("401", 0) >= 3 and j["status"].get("429", 0) == 1
          and j["tokens_issued"] >= 5 and j["max_limit_seen"] == limits_seen,
          {k: j.get(k) for k in ("requests", "status", "tokens_issued", "max_limit_seen")})


# -- collector checks --------------------------------------------------------

class Collector:
    def __init__(self, tmp, name, *args):
        self.out = os.path.join(tmp, name + ".jsonl")
        self.port_file = os.path.join(tmp, name + ".port")
        self.err = open(os.path.join(tmp, name + ".err"), "w")
        self.proc = subprocess.Popen(
            [sys.executable, COLLECTOR, "--port", "0", "--port-file", self.port_file,
             "--out", self.out] + list(args),
            stdout=subprocess.PIPE, stderr=self.err, text=True)
        self.port = wait_port_file(self.port_file, self.proc)

    def lines(self, n, timeout=3):
        end = time.time() + timeout
        while True:
            recs = []
            if os.path.exists(self.out):
                with open(self.out) as f:
                    recs = [json.loads(x) for x in f if x.endswith("\n")]
            if len(recs) >= n or time.time() > end:
                return recs
            time.sleep(0.02)

    def connect(self):
        return socket.create_connection(("127.0.0.1", self.port), timeout=5)

    def stop(self):
        rc = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()
        return rc


def raw_msgs(recs):
    return [base64.b64decode(r["b64"]) for r in recs]


def test_collector(tmp):
    c = Collector(tmp, "col-lf")
    try:
        line = c.proc.stdout.readline()
        check("collector prints its listening line",
              line.strip() == "collector listening on 127.0.0.1:%d" % c.port, line)
        s = c.connect()
        for piece in (b"first\r\nsec", b"o", b"nd\n\xff\xfe bad utf8\n", b"tail"):
            s.sendall(piece)
            time.sleep(0.03)
        s.close()
        recs = c.lines(4)
        check("lf: messages split at LF across segments, CR kept, tail kept",
              raw_msgs(recs) == [b"first\r", b"second", b"\xff\xfe bad utf8", b"tail"]
              and recs[-1].get("unterminated") is True, raw_msgs(recs))
        check("lf: text decoded with replacement",
              len(recs) > 2 and recs[2]["text"] == "\ufffd\ufffd bad utf8")
        s = c.connect()
        s.sendall(b"again\n")
        s.close()
        recs = c.lines(5)
        check("lf: a new connection is accepted", len(recs) == 5 and recs[4]["conn"] == 2,
              recs[-1:])
    finally:
        rc = c.stop()
    check("collector exits 0 on SIGTERM", rc == 0, rc)

    c = Collector(tmp, "col-oct", "--framing", "octet", "--max-message", "1000")
    try:
        s = c.connect()
        for piece in (b"5", b" he", b"llo11 hello\nworld3 ", b"\x00\x01\x02"):
            s.sendall(piece)
            time.sleep(0.03)
        recs = c.lines(3)
        check("octet: frames across segments, LF inside a frame",
              raw_msgs(recs) == [b"hello", b"hello\nworld", b"\x00\x01\x02"], raw_msgs(recs))
        s.sendall(b"\n4 oops")
        s.settimeout(3)
        try:
            closed = s.recv(10) == b""
        except ConnectionResetError:
            closed = True
        s.close()
        check("octet: a malformed frame closes the connection", closed)
        s = c.connect()
        s.sendall(b"2 ok1001 " + b"x" * 1001)
        s.settimeout(3)
        try:
            closed = s.recv(10) == b""
        except ConnectionResetError:
            closed = True
        s.close()
        recs = c.lines(4)
        check("octet: a frame over --max-message closes the connection",
              closed and raw_msgs(recs)[3:] == [b"ok"], raw_msgs(recs)[3:])
    finally:
        c.stop()

    if shutil.which("openssl"):
        key, crt = os.path.join(tmp, "k.pem"), os.path.join(tmp, "c.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", crt,
                        "-days", "1", "-subj", "/CN=localhost"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        c = Collector(tmp, "col-tls", "--framing", "octet", "--tls-cert", crt, "--tls-key", key)
        try:
            ctx = ssl.create_default_context(cafile=crt)
            ctx.check_hostname = False
            with ctx.wrap_socket(c.connect(), server_hostname="localhost") as s:
                s.sendall(b"7 tls msg")
                recs = c.lines(1)
            check("tls: octet frames over TLS", raw_msgs(recs) == [b"tls msg"], raw_msgs(recs))
        finally:
            c.stop()
    else:
        print("skip - tls collector (no openssl)")


def test_tenants(tmp):
    """--tenants N: each tenant its own corpus, secret, faults; a token is
    bound to its tenant."""
    t2 = "00000000-0000-0000-0000-000000000002"
    t3 = "00000000-0000-0000-0000-000000000003"
    sim = Sim(tmp, "tenants", "--tenants", "3", "--count", "20", "--graph-count", "15",
              "--quiet")
    try:
        if not check("--tenants 3: starts", sim.wait(), sim.proc.poll()):
            return
        st, j = sim.ctl("GET", "tenants")
        got = [t["id"] for t in (j or {}).get("tenants", [])]
        check("--tenants 3: lists the primary tenant and two more",
              got == [TENANT, t2, t3], got)
        toks = {}
        for t in (TENANT, t2, t3):
            st, h, j = sim.token(tenant=t)
            toks[t] = (j or {}).get("access_token")
        check("each tenant issues tokens", all(toks.values()), toks)
        sets = {}
        for t in (TENANT, t2, t3):
            st, h, b = sim.alerts(toks[t], sinceTimeUtc="2000-01-01T00:00:00Z")
            sets[t] = ids(b) if st == 200 else set()
        check("each tenant has its own 20 detections",
              all(len(v) == 20 for v in sets.values())
              and not (sets[TENANT] & sets[t2]) and not (sets[t2] & sets[t3]),
              {k: len(v) for k, v in sets.items()})
        st, h, b = fetch("GET", sim.base + "/t/%s/siem/api/alerts?limit=1" % t2, None,
                         {"Authorization": "Bearer " + toks[TENANT]})
        check("a token of tenant A reading tenant B (/t/B/...): 401",
              st == 401 and b"cannot read tenant" in b, (st, b[:200]))
        st, h, b = fetch("GET", sim.base + "/t/%s/siem/api/alerts?limit=1" % t2, None,
                         {"Authorization": "Bearer " + toks[t2]})
        check("/t/B/... with B's own token: 200", st == 200, st)
        st, h, b = fetch("GET", sim.base + "/t/%s/graph/v1.0/security/alerts_v2" % t3,
                         None, {"Authorization": "Bearer " + sim.token(
                             v2=True, tenant=t3,
                             scope="https://graph.microsoft.com/.default")[2]
                             ["access_token"]})
        check("Graph per tenant: 15 alerts", st == 200 and len(jget(b)["value"]) == 15,
              (st, b[:200]))
        st, j = sim.ctl("POST", "tenants?id=%s&client_secret=other" % t2)
        st, h, j = sim.token(tenant=t2)
        check("a tenant's secret can change: the old one gets AADSTS7000215",
              st == 401 and (j or {}).get("error_codes") == [7000215], (st, j))
        st, h, j = sim.token(tenant=t2, client_secret="other")
        check("... and the new one works", st == 200, (st, j))
        st, j = sim.ctl("POST", "tenants?id=%s&consent=0" % t3)
        st, h, j = sim.token(tenant=t3)
        check("revoked consent: AADSTS700016",
              st == 400 and (j or {}).get("error_codes") == [700016], (st, j))
        st, j = sim.ctl("POST", "fault?tenant=%s" % t2,
                        json.dumps({"status": 500, "count": -1}))
        st, h, b = sim.alerts(toks[t2], limit=1)
        st1, h, b = sim.alerts(toks[TENANT], limit=1)
        check("a fault queued for one tenant hits only that tenant",
              st == 500 and st1 == 200, (st, st1))
        st, j = sim.ctl("POST", "tenants?id=tenant-x&count=4")
        st, h, j = sim.token(tenant="tenant-x")
        tx = (j or {}).get("access_token")
        st, h, b = sim.alerts(tx, sinceTimeUtc="2000-01-01T00:00:00Z")
        check("a tenant added at run time serves its corpus",
              st == 200 and len(json.loads(b)) == 4, (st, b[:100]))
        st, j = sim.ctl("GET", "stats?tenant=%s" % t2)
        check("stats?tenant=: that tenant's view, and requests per tenant",
              st == 200 and j["tenant"] == t2
              and j["tenants"][t2]["requests"].get("siem", 0) >= 2
              and j["connections"] >= 1, (st, j and j.get("tenants")))
        st, j = sim.ctl("GET", "stats?tenant=nope")
        check("stats for an unknown tenant: 404", st == 404, st)
    finally:
        sim.stop()


def main():
    tmp = tempfile.mkdtemp(prefix="mdesim-test-")
    t0 = time.monotonic()
    sims = []
    try:
        count, burst, late, span = 3000, 40, 6, 3600
        sim = Sim(tmp, "main", "--seed", "7", "--count", str(count), "--burst", str(burst),
                  "--late", str(late), "--span", str(span), "--hostile-ratio", "0.1")
        sims.append(sim)
        delayed = Sim(tmp, "delayed", "--count", "5", "--late", "3", "--late-delay", "4",
                      "--quiet")
        sims.append(delayed)
        big = Sim(tmp, "big", "--count", "20000", "--quiet")
        sims.append(big)
        if not check("mdesim starts and writes its port file", sim.wait(), sim.proc.poll()):
            return
        line = sim.proc.stdout.readline()
        check("mdesim prints its listening line",
              line.strip() == "mdesim listening on http://127.0.0.1:%d" % sim.port, line)

        st, stats = sim.ctl("GET", "stats")
        start = ticks(stats["start"])

        delayed.wait()
        dtok = delayed.token()[2]["access_token"]
        early = len(json.loads(delayed.alerts(dtok)[2]))
        test_tokens(sim)
        st, h, j = sim.token()
        tok = j["access_token"]
        test_auth(sim, tok)
        corpus, hid = test_corpus(sim, count, burst, late, span, start)
        test_queries(sim, tok, corpus, hid, start)
        tok = test_tokens_expiry(sim, tok)
        test_faults(sim, tok)
        test_keepalive(sim, tok)
        test_add(sim, tok)
        test_stats(sim, 100000)

        big.wait()
        btok = big.token()[2]["access_token"]
        t1 = time.monotonic()
        st, h, b = big.alerts(btok, sinceTimeUtc="2000-01-01T00:00:00Z")
        el = time.monotonic() - t1
        n = len(json.loads(b)) if st == 200 else -1
        check("20,000 records served in %.2fs (%d MB)" % (el, len(b) >> 20),
              n == 20000 and el < 5, (st, n, el))

        test_collector(tmp)
        test_tenants(tmp)

        # --late-delay: hidden at first, visible 4 s after start
        wait = 4.3 - (time.time_ns() // 100 - ticks(delayed.ctl("GET", "stats")[1]["start"])) / TPS
        if wait > 0:
            time.sleep(wait)
        late_n = len(json.loads(delayed.alerts(dtok)[2]))
        check("--late-delay: late records appear on their own", early == 5 and late_n == 8,
              (early, late_n))
    except Exception:
        traceback.print_exc(file=sys.stdout)
        check("no unexpected exception", False)
    finally:
        for s in sims:
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print("# %.1fs" % (time.monotonic() - t0))
    print("%d passed, %d failed" % (passed, failed))


if __name__ == "__main__":
    main()
    sys.exit(1 if failed else 0)
