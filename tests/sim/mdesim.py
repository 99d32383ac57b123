#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""mdesim: a loopback stand-in for Microsoft Entra ID (client-credentials
token endpoints, v1 and v2), the Defender for Endpoint SIEM detections API
(GET /siem/api/alerts), Microsoft Graph security/alerts_v2
(GET /graph/v1.0/security/alerts_v2) and the Defender for Endpoint Alert API
(GET /mde/api/alerts), with a control API under /_sim/ for tests.

Python 3.11 standard library only; listens on 127.0.0.1 only.
See tests/sim/README.md for the endpoints and the fault-injection API.
"""

import argparse
import base64
import bisect
import datetime
import hashlib
import json
import os
import random
import re
import secrets
import signal
import socket
import sys
import threading
import time
import traceback
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, parse_qsl, quote, urlencode, urlsplit

# ---------------------------------------------------------------------------
# Time: integer ticks of 100 ns since 1970-01-01T00:00:00Z (never floats).

TPS = 10_000_000  # ticks per second
NEVER = 1 << 62  # visible_at of a record hidden until released
_EPOCH_ORD = datetime.date(1970, 1, 1).toordinal()
_TIME_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]{1,7}))?Z?"
)
_DURATION_RE = re.compile(
    r"P(?:([0-9]+)D)?(?:T(?:([0-9]+)H)?(?:([0-9]+)M)?(?:([0-9]+)(?:\.([0-9]{1,7}))?S)?)?"
)


def now_ticks():
    return time.time_ns() // 100


def parse_time(text):
    """ISO 8601 UTC time with 0-7 fractional digits and an optional Z -> ticks."""
    m = _TIME_RE.fullmatch(text)
    if not m:
        raise ValueError("not an ISO 8601 UTC time: %r" % text)
    y, mo, d, hh, mi, ss = (int(g) for g in m.groups()[:6])
    if hh > 23 or mi > 59 or ss > 59:
        raise ValueError("time of day out of range: %r" % text)
    try:
        days = datetime.date(y, mo, d).toordinal() - _EPOCH_ORD
    except ValueError:
        raise ValueError("invalid date: %r" % text) from None
    frac = int((m.group(7) or "").ljust(7, "0"))
    return ((days * 86400) + hh * 3600 + mi * 60 + ss) * TPS + frac


def format_time(ticks, digits=7):
    """ticks -> 'YYYY-MM-DDTHH:MM:SS[.f{digits}]Z' (fraction truncated)."""
    secs, frac = divmod(ticks, TPS)
    days, rem = divmod(secs, 86400)
    d = datetime.date.fromordinal(_EPOCH_ORD + days)
    hh, rem = divmod(rem, 3600)
    mi, ss = divmod(rem, 60)
    s = "%04d-%02d-%02dT%02d:%02d:%02d" % (d.year, d.month, d.day, hh, mi, ss)
    if digits > 0:
        s += "." + ("%07d" % frac)[:digits]
    return s + "Z"


def parse_duration(text):
    """ISO 8601 duration (PnDTnHnMn.nS) -> ticks."""
    m = _DURATION_RE.fullmatch(text)
    if not m or text in ("P", "PT") or text.endswith("T"):
        raise ValueError("not an ISO 8601 duration: %r" % text)
    d, h, mi, s, f = m.groups()
    secs = int(d or 0) * 86400 + int(h or 0) * 3600 + int(mi or 0) * 60 + int(s or 0)
    return secs * TPS + int((f or "").ljust(7, "0"))


# ---------------------------------------------------------------------------
# Detection corpus (shape of the SIEM API, 50 keys in the documented order).

SIEM_FIELDS = (
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
)
NON_STRING_FIELDS = ("AlertPart", "ReportID", "RemediationIsSuccess",
                     "WasExecutingWhileDetected")
KEY_FIELDS = ("FullId", "AlertId", "IocUniqueId", "LastProcessedTimeUtc",
              "AlertTime")
HOSTILE_FIELDS = tuple(f for f in SIEM_FIELDS
                       if f not in NON_STRING_FIELDS and f not in KEY_FIELDS)

# Every hostile record gets one of these in every field of HOSTILE_FIELDS,
# rotated so that after len(HOSTILE_KINDS) hostile records every field has
# carried every kind.
HOSTILE_KINDS = (
    ("pipe", "a|b|c"),
    ("backslash", "C:\\Temp\\evil\\x.exe"),
    ("equals", "key=value=more"),
    ("cr", "line1\rline2"),
    ("lf", "line1\nline2"),
    ("crlf", "line1\r\nline2\r\n"),
    ("tab", "col1\tcol2\t"),
    ("control", "soh\x01esc\x1b[31mred\x7fdel"),
    ("spaces", "  padded value  "),
    ("cjk", "侵入検知"),
    ("emoji", "fire 🔥 emoji"),
    ("lone_surrogate", "lone\ud800surrogate"),
    ("long", ("long-value-" + "0123456789abcdef" * 300)[:4100]),
    ("long_escapes", ("x=1|y\\z " * 600)[:4200]),
    ("cef_extension", "x=1 cs1=evil"),
    ("cef_header", "|CEF:0|forged|"),
    ("leef_header", "LEEF:2.0|forged|product|1.0|id|^\tsev=10"),
    ("escaped_equals", "a\\\\=b \\= c"),
    ("trailing_backslash", "ends with a backslash\\"),
    ("quotes", "say \"hi\" and 'bye'"),
    ("syslog_header", "<13>1 2020-01-01T00:00:00Z forged-host app - - - msg"),
    ("unicode_separators", "nel\u0085ls\u2028ps\u2029bom\ufeffend"),
    ("mixed", " |=\\\r\n\t侵🔥\ud800 x=1 \\"),
)

SEVERITIES = ("Informational",) * 15 + ("Low",) * 30 + ("Medium",) * 35 + \
    ("High",) * 18 + ("UnSpecified",) * 2
MACHINE_GROUPS = ("UKMachines", "FranceMachines", "USMachines", "Servers",
                  "Workstations", "")
DOMAINS = ("contoso.com", "corp.fabrikam.net", "domain.com", "")
NETBIOS = {"contoso.com": "CONTOSO", "corp.fabrikam.net": "FABRIKAM",
           "domain.com": "DOMAIN", "": ""}
USERS = ("alice", "bob", "liz.bean", "jay-hardee", "svc_backup", "admin",
         "SYSTEM", "network service")
ACTORS = ("BORON", "STRONTIUM", "PLATINUM", "NOBELIUM")
EDR_ALERTS = (
    ("Suspicious File Activity", "Malware"),
    ("Suspicious PowerShell command line", "Execution"),
    ("Suspicious process injection observed", "DefenseEvasion"),
    ("Credential dumping activity observed", "CredentialAccess"),
    ("Suspicious scheduled task", "Persistence"),
    ("Suspicious remote activity", "LateralMovement"),
    ("Communication with a malicious network destination", "CommandAndControl"),
    ("Ransomware behavior detected in the file system", "Ransomware"),
    ("Suspicious LDAP query", "Discovery"),
)
AV_THREATS = (
    ("HackTool:Win32/Mikatz!dha", "Mikatz", "Tool"),
    ("Trojan:Win32/Emotet.A", "Emotet", "Trojan"),
    ("Ransom:Win32/Ryuk.B", "Ryuk", "Ransom"),
    ("Backdoor:Win32/Cobaltstrike.C", "Cobaltstrike", "Backdoor"),
    ("PUA:Win32/Presenoker", "Presenoker", "PUA"),
    ("Exploit:O97M/CVE-2017-11882.A", "CVE-2017-11882", "Exploit"),
)
REMEDIATIONS = ("quarantine", "remove", "clean", "block", "allow", "")
FILES = (
    ("cmdParent.exe", "C:\\WINDOWS\\SysWOW64\\boo3\\qwerty"),
    ("powershell.exe", "C:\\Windows\\System32\\WindowsPowerShell\\v1.0"),
    ("invoice_2024.pdf.exe", "C:\\Users\\alice\\Downloads"),
    ("rundll32.exe", "C:\\Windows\\System32"),
    ("mimikatz.exe", "C:\\Users\\Public\\Temp"),
    ("update.js", "C:\\Users\\bob\\AppData\\Local\\Temp"),
    ("Robocopy.exe", "C:\\Windows\\System32"),
)
COMMAND_LINES = (
    "powershell.exe -NoProfile -EncodedCommand SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoA",
    "rundll32.exe C:\\Users\\Public\\a.dll,DllRegisterServer",
    "cmd.exe /c whoami /all",
    "schtasks /create /tn Updater /tr C:\\ProgramData\\u.exe /sc minute",
    "",
)
URLS = ("down.esales360.cn", "http://malicious.example.net/payload.bin",
        "https://login-micros0ft.example.com/?u=alice", "")
TAGS = ("", "", "", "Finance", "VIP", "Tier0", "Finance, VIP")


def _hex(rng, nbytes, upper=False):
    s = "%0*x" % (nbytes * 2, rng.getrandbits(nbytes * 8))
    return s.upper() if upper else s


def _guid(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _ipv4(rng):
    return "%d.%d.%d.%d" % (rng.choice((10, 172, 192, 218, 52)), rng.randrange(256),
                            rng.randrange(256), rng.randrange(1, 255))


def _ipv6(rng):
    return "fd30:%x:%x:%x::%x" % (rng.randrange(65536), rng.randrange(65536),
                                  rng.randrange(65536), rng.randrange(1, 65536))


def make_machines(rng, n=60):
    machines = []
    for i in range(n):
        domain = rng.choice(DOMAINS)
        name = "%s-%04d" % (rng.choice(("ws", "srv", "lt", "mymachine")), i)
        machines.append({
            "MachineName": name,
            "MachineDomain": domain,
            "ComputerDnsName": name + "." + domain if domain else name,
            "DeviceID": _hex(rng, 20),
            "MachineGroup": rng.choice(MACHINE_GROUPS),
            "InternalIPv4List": ", ".join(_ipv4(rng) for _ in range(rng.randrange(0, 3))),
            "InternalIPv6List": ", ".join(_ipv6(rng) for _ in range(rng.randrange(0, 2))),
            "DeviceCreatedMachineTags": rng.choice(TAGS),
            "CloudCreatedMachineTags": rng.choice(TAGS),
        })
    return machines


class CorpusGenerator:
    """Makes detections; deterministic for a given seed and call sequence."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.machines = make_machines(self.rng)
        self.alert_ids = set()
        self.full_ids = set()

    def new_alert_id(self):
        rng = self.rng
        while True:
            aid = "da6373707189816856%02d_%d" % (rng.randrange(100),
                                                 rng.randrange(10 ** 7, 10 ** 10))
            if aid not in self.alert_ids:
                self.alert_ids.add(aid)
                return aid

    def new_alert(self):
        """Fields shared by every detection (AlertPart) of one alert."""
        rng = self.rng
        m = rng.choice(self.machines)
        aid = self.new_alert_id()
        source = rng.choices(("EDR", "WindowsDefenderAv", "WindowsDefenderSmartScreen",
                              "CustomerTI", "AutomatedInvestigation"),
                             weights=(55, 30, 5, 5, 5))[0]
        a = dict(m)
        a["AlertId"] = aid
        a["Source"] = source
        a["Severity"] = rng.choice(SEVERITIES)
        if source == "WindowsDefenderAv":
            threat, family, tcat = rng.choice(AV_THREATS)
            a["AlertTitle"] = "Microsoft Defender AV detected '%s' malware" % family
            a["Category"] = "Malware"
            a["ThreatName"], a["ThreatFamily"], a["ThreatCategory"] = threat, family, tcat
        elif source == "WindowsDefenderSmartScreen":
            a["AlertTitle"], a["Category"] = "Suspicious URL clicked", "InitialAccess"
        elif source == "CustomerTI":
            a["AlertTitle"], a["Category"] = "Custom TI match: known bad file", "Malware"
        else:
            a["AlertTitle"], a["Category"] = rng.choice(EDR_ALERTS)
        for k in ("ThreatName", "ThreatFamily", "ThreatCategory"):
            a.setdefault(k, "")
        a["Actor"] = rng.choice(ACTORS) if rng.random() < 0.05 else ""
        a["IoaDefinitionId"] = _guid(rng) if rng.random() < 0.85 else ""
        a["Description"] = rng.choice((
            "Test Alert",
            "A process was observed doing something suspicious.",
            "Malware was detected and quarantined. Review the device timeline.",
            "Credential theft tool activity. An attacker may be moving laterally.",
        ))
        a["LinkToWDATP"] = "https://securitycenter.windows.com/alert/" + aid
        a["IncidentLinkToWDATP"] = ("https://securitycenter.windows.com/incidents/"
                                    "byalert?alertId=%s&source=SIEM" % aid)
        a["LinkToMTP"] = "https://security.microsoft.com/alert/" + aid
        a["IncidentLinkToMTP"] = ("https://security.microsoft.com/incidents/"
                                  "byalert?alertId=%s&source=SIEM" % aid)
        a["AlertTimeDigits"] = rng.randrange(0, 8)
        return a

    def new_detection(self, alert, part, lpt, alert_time):
        rng = self.rng
        while True:
            ioc = base64.b64encode(rng.getrandbits(256).to_bytes(32, "big")).decode()
            full_id = alert["AlertId"] + ":" + ioc
            if full_id not in self.full_ids:
                self.full_ids.add(full_id)
                break
        src = alert["Source"]
        av = src == "WindowsDefenderAv"
        fname, fpath = rng.choice(FILES) if rng.random() < 0.8 else ("", "")
        sha1 = _hex(rng, 20) if fname else ""
        user = rng.choice(USERS) if src == "EDR" and rng.random() < 0.7 else ""
        nb = NETBIOS[alert["MachineDomain"]] or "WORKGROUP"
        r = rng.random()
        ip = _ipv4(rng) if r < 0.35 else (_ipv6(rng) if r < 0.5 else "")
        d = {}
        for k in SIEM_FIELDS:
            d[k] = ""
        d.update({
            "AlertTime": format_time(alert_time, alert["AlertTimeDigits"]),
            "ComputerDnsName": alert["ComputerDnsName"],
            "AlertTitle": alert["AlertTitle"],
            "Category": alert["Category"],
            "Severity": alert["Severity"],
            "AlertId": alert["AlertId"],
            "Actor": alert["Actor"],
            "LinkToWDATP": alert["LinkToWDATP"],
            "Sha1": sha1,
            "FileName": fname,
            "FilePath": fpath,
            "IpAddress": ip,
            "Url": rng.choice(URLS) if ip and rng.random() < 0.5 else "",
            "IoaDefinitionId": alert["IoaDefinitionId"],
            "UserName": user,
            "AlertPart": part,
            "FullId": full_id,
            "LastProcessedTimeUtc": format_time(lpt, 7),
            "ThreatCategory": alert["ThreatCategory"],
            "ThreatFamily": alert["ThreatFamily"],
            "ThreatName": alert["ThreatName"],
            "RemediationAction": rng.choice(REMEDIATIONS) if av else "",
            "RemediationIsSuccess": rng.choice((True, False)) if av else None,
            "Source": src,
            "Md5": _hex(rng, 16) if fname and rng.random() < 0.6 else "",
            "Sha256": _hex(rng, 32) if fname and (av or rng.random() < 0.3) else "",
            "WasExecutingWhileDetected": rng.choice((True, False)) if av else None,
            "UserDomain": nb if user else "",
            "LogOnUsers": "; ".join("%s\\%s" % (nb.lower(), u) for u in
                                    rng.sample(USERS[:4], rng.randrange(0, 3))),
            "MachineDomain": alert["MachineDomain"],
            "MachineName": alert["MachineName"],
            "InternalIPv4List": alert["InternalIPv4List"],
            "InternalIPv6List": alert["InternalIPv6List"],
            "FileHash": sha1,
            "DeviceID": alert["DeviceID"],
            "MachineGroup": alert["MachineGroup"],
            "Description": alert["Description"],
            "DeviceCreatedMachineTags": alert["DeviceCreatedMachineTags"],
            "CloudCreatedMachineTags": alert["CloudCreatedMachineTags"],
            "CommandLine": rng.choice(COMMAND_LINES) if src == "EDR" else "",
            "IncidentLinkToWDATP": alert["IncidentLinkToWDATP"],
            "ReportID": rng.randrange(1, 2 ** 31),
            "LinkToMTP": alert["LinkToMTP"],
            "IncidentLinkToMTP": alert["IncidentLinkToMTP"],
            "ExternalId": _hex(rng, 20, upper=True),
            "IocUniqueId": ioc,
        })
        if src == "CustomerTI" and sha1:
            d["IocName"], d["IocValue"] = "Sha1", sha1
            d["CreatorIocName"], d["CreatorIocValue"] = "Sha1", sha1
        return d

    def detections(self, n, lpt_fn, same_lpt=None):
        """n detections grouped into alerts of 1..6 parts. lpt_fn() -> ticks
        picks an alert's base LastProcessedTimeUtc; parts follow within a few
        seconds (clamped to lpt_fn's range via the returned (lo, hi))."""
        rng = self.rng
        out = []
        while len(out) < n:
            parts = rng.choices((1, 2, 3, 4, 5, 6), weights=(70, 15, 8, 4, 2, 1))[0]
            parts = min(parts, n - len(out))
            alert = self.new_alert()
            base, hi = lpt_fn()
            alert_time = base - rng.randrange(TPS, 600 * TPS)
            for p in range(parts):
                if same_lpt is not None:
                    lpt = same_lpt
                elif p == 0:
                    lpt = base
                else:
                    lpt = min(hi, base + rng.randrange(0, 5 * TPS))
                out.append(self.new_detection(alert, p, lpt, alert_time))
        return out


def make_hostile(d, h):
    """Overwrite every HOSTILE_FIELDS value of detection d with hostile kind
    (h + field index) mod len(HOSTILE_KINDS)."""
    k = len(HOSTILE_KINDS)
    for i, f in enumerate(HOSTILE_FIELDS):
        d[f] = HOSTILE_KINDS[(h + i) % k][1]


_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def serialize(d, ascii_only=True):
    """JSON text of one detection. With ascii_only=False non-ASCII is raw
    UTF-8; lone surrogates are always written as \\uXXXX escapes."""
    if ascii_only:
        return json.dumps(d, ensure_ascii=True, separators=(",", ":"))
    s = json.dumps(d, ensure_ascii=False, separators=(",", ":"))
    return _SURROGATE_RE.sub(lambda m: "\\u%04x" % ord(m.group()), s)


class Record:
    __slots__ = ("lpt", "visible_at", "group", "full_id", "dtags", "ctags", "json")

    def __init__(self, d, visible_at, ascii_only=True):
        self.lpt = parse_time(d["LastProcessedTimeUtc"])
        self.visible_at = visible_at
        self.group = d["MachineGroup"]
        self.full_id = d["FullId"]
        self.dtags = d["DeviceCreatedMachineTags"]
        self.ctags = d["CloudCreatedMachineTags"]
        self.json = serialize(d, ascii_only).encode("utf-8")  # UTF-8 bytes

    def sort_key(self):
        return (self.lpt, self.full_id)


class Store:
    """All detections, kept sorted by (LastProcessedTimeUtc, FullId)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.ordered = []  # generation order (for /_sim/corpus)
        self.sorted = []
        self.keys = []  # sort keys of self.sorted (for bisect)

    def add(self, recs):
        with self.lock:
            self.ordered.extend(recs)
            if len(recs) > 64:
                self.sorted.extend(recs)
                self.sorted.sort(key=Record.sort_key)
                self.keys = [r.sort_key() for r in self.sorted]
                return
            for r in recs:
                k = r.sort_key()
                i = bisect.bisect_right(self.keys, k)
                self.keys.insert(i, k)
                self.sorted.insert(i, r)

    def window(self, since, until):
        """Records with since <= LPT <= until (hidden ones included)."""
        with self.lock:
            lo = bisect.bisect_left(self.keys, (since,))
            hi = bisect.bisect_left(self.keys, (until + 1,))
            return self.sorted[lo:hi]

    def release(self, now):
        n = 0
        with self.lock:
            for r in self.ordered:
                if r.visible_at > now:
                    r.visible_at = now
                    n += 1
        return n

    def hidden_count(self, now):
        with self.lock:
            return sum(1 for r in self.ordered if r.visible_at > now)


# ---------------------------------------------------------------------------
# HTTP plumbing: responses, routes, faults.

JSON_CT = "application/json; charset=utf-8"


class Response:
    __slots__ = ("status", "body", "ctype", "headers")

    def __init__(self, status, body=b"", ctype=JSON_CT, headers=None):
        self.status = status
        self.body = body.encode("utf-8") if isinstance(body, str) else body
        self.ctype = ctype
        self.headers = headers or []


def json_response(status, obj, headers=None):
    return Response(status, json.dumps(obj), JSON_CT, headers)


ERROR_TEXT = {
    400: ("BadRequest", "The request is invalid."),
    401: ("Unauthorized", "Malformed request or invalid token."),
    403: ("Forbidden", "Unauthorized exception - any of the domains is not managed "
                       "by the tenant administrator or tenant state is deleted."),
    404: ("NotFound", "The requested resource was not found."),
    405: ("MethodNotAllowed", "The HTTP method is not allowed for this resource."),
    429: ("TooManyRequests", "Too many requests."),
    500: ("InternalServerError", "Error in the service."),
    503: ("ServiceUnavailable", "The service is temporarily unavailable."),
}


def api_error(status, message=None, headers=None):
    """Error body of the Defender APIs: {"error":{"code":..,"message":..}}."""
    code, default = ERROR_TEXT.get(status, (None, None))
    if code is None:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        code, default = phrase.replace(" ", "").replace("-", ""), phrase + "."
    return json_response(status, {"error": {"code": code, "message": message or default}},
                         headers)


class Request:
    __slots__ = ("method", "path", "query", "headers", "body", "match", "raw_query",
                 "tenant", "path_tenant", "token_tenant")

    def __init__(self, method, path, raw_query, headers, body):
        self.method = method
        self.path = path
        self.raw_query = raw_query
        self.query = parse_qs(raw_query, keep_blank_values=True)
        self.headers = headers
        self.body = body
        self.match = None
        self.tenant = None  # the Tenant the request is about
        self.path_tenant = None  # tenant id named by a /t/{tenant} prefix
        self.token_tenant = None  # Tenant of a valid-looking bearer token

    def param(self, name, default=None):
        """First value of a query parameter, name matched case-insensitively."""
        vals = self.params(name)
        return vals[0] if vals else default

    def params(self, name):
        out = []
        for k, v in self.query.items():
            if k.lower() == name.lower():
                out.extend(v)
        return out


# Dispatch table: (compiled path regex, kind, handler(sim, req) -> Response).
# kind names the API for statistics and fault matching; "control" routes
# (/_sim/...) are never faulted. Further APIs register here.
ROUTES = []


def route(pattern, kind):
    rx = re.compile(pattern)

    def deco(fn):
        ROUTES.append((rx, kind, fn))
        return fn
    return deco


def api_kinds():
    return sorted({k for _, k, _ in ROUTES if k != "control"})


class Fault:
    FIELDS = ("path", "status", "count", "retry_after", "delay", "truncate",
              "malformed", "body")

    def __init__(self, spec):
        if not isinstance(spec, dict):
            raise ValueError("a fault is a JSON object")
        unknown = set(spec) - set(self.FIELDS)
        if unknown:
            raise ValueError("unknown fault field(s): %s" % ", ".join(sorted(unknown)))
        self.path = spec.get("path", "any")
        if self.path != "any" and self.path not in api_kinds():
            raise ValueError("path must be one of: any, %s" % ", ".join(api_kinds()))
        self.status = spec.get("status")
        if self.status is not None and (not isinstance(self.status, int)
                                        or not 100 <= self.status <= 599):
            raise ValueError("status must be an HTTP status code or null")
        self.count = int(spec.get("count", 1))
        if self.count == 0:
            raise ValueError("count must be positive, or negative for a fault that never runs out")
        self.retry_after = spec.get("retry_after")
        self.delay = float(spec.get("delay") or 0.0)
        self.truncate = bool(spec.get("truncate", False))
        self.malformed = bool(spec.get("malformed", False))
        self.body = spec.get("body")
        if self.body is not None and not isinstance(self.body, str):
            raise ValueError("body must be a string or null")

    def describe(self):
        return {f: getattr(self, f) for f in self.FIELDS}


class FaultQueue:
    def __init__(self):
        self.lock = threading.Lock()
        self.queue = []

    def add(self, faults):
        with self.lock:
            self.queue.extend(faults)
            return len(self.queue)

    def clear(self):
        with self.lock:
            n = len(self.queue)
            self.queue = []
            return n

    def take(self, kind):
        """The first queued fault matching kind; consumes one of its count
        (a negative count never runs out)."""
        with self.lock:
            for i, f in enumerate(self.queue):
                if f.path in ("any", kind):
                    if f.count > 0:
                        f.count -= 1
                        if f.count == 0:
                            del self.queue[i]
                    return f
        return None

    def pending(self):
        with self.lock:
            return [f.describe() for f in self.queue]


def malformed_body(body):
    """A JSON body made invalid: last 10 characters cut."""
    text = body.decode("utf-8", "surrogateescape")
    cut = text[:-10] if len(text) > 20 else text[:len(text) // 2]
    try:
        json.loads(cut)
        cut = "[{" if cut.startswith("[") else "{\"error\":"
    except ValueError:
        pass
    return cut.encode("utf-8", "surrogateescape")


# ---------------------------------------------------------------------------
# Simulator state.

class Tenant:
    """One Entra tenant: its own secret, detections, alerts, rate limits
    and fault queue.  Tokens are bound to the tenant that issued them."""

    def __init__(self, sim, tenant_id, seed, counts, client_secret, index):
        self.sim = sim
        self.id = tenant_id
        self.key = tenant_id.lower()
        self.index = index
        self.client_secret = client_secret
        self.consent = True  # False: the app is not consented here
        self.seed = seed
        self.lock = threading.Lock()
        self.faults = FaultQueue()
        self.store = Store()
        self.gen = CorpusGenerator(seed)
        self.add_seq = 0
        self.hostile_seq = 0
        self.requests = {}
        self.tokens_issued = 0
        self._build_corpus(counts["count"])
        targs = argparse.Namespace(**vars(sim.args))
        targs.seed = seed
        targs.graph_count = counts["graph_count"]
        targs.alerts_count = counts["alerts_count"]
        targs.incidents_count = counts.get("incidents_count", 0)
        self.alert_apis = AlertApis(targs, sim.start)

    def describe(self):
        with self.lock:
            req = dict(self.requests)
            issued = self.tokens_issued
        return {"id": self.id, "index": self.index, "consent": self.consent,
                "secret_set": self.client_secret is not None,
                "requests": req, "tokens_issued": issued,
                "corpus": len(self.store.ordered),
                "graph": len(self.alert_apis.stores["graph"].order),
                "alerts": len(self.alert_apis.stores["alerts"].order),
                "incidents": len(self.alert_apis.stores["incidents"].order)}

    # -- corpus -----------------------------------------------------------
    def _build_corpus(self, count):
        a, gen, rng = self.sim.args, self.gen, self.gen.rng
        start = self.sim.start
        lo = start - a.span * TPS
        hi = max(lo, start - 60 * TPS)

        def uniform():
            return rng.randint(lo, hi), hi

        dets = gen.detections(count, uniform)
        if a.burst > 0:
            same = rng.randint(lo, hi)
            dets += gen.detections(a.burst, lambda: (same, hi), same_lpt=same)
            first = -(-lo // TPS)  # first whole second >= lo
            last = max(first, hi // TPS - 1)
            sec = rng.randint(first, last) * TPS
            dets += gen.detections(a.burst, lambda: (sec + rng.randrange(TPS),
                                                     sec + TPS - 1))
        n_visible = len(dets)
        if a.late > 0:
            llo, lhi = start - 50 * TPS, start - 5 * TPS
            dets += gen.detections(a.late, lambda: (rng.randint(llo, lhi), lhi))
        n_hostile = round(len(dets) * a.hostile_ratio)
        hostile = set(rng.sample(range(len(dets)), min(n_hostile, len(dets))))
        late_visible = start + int(a.late_delay * TPS) if a.late_delay > 0 else NEVER
        recs = []
        for i, d in enumerate(dets):
            ascii_only = True
            if i in hostile:
                ascii_only = self._hostilize(d)
            recs.append(Record(d, 0 if i < n_visible else late_visible, ascii_only))
        self.store.add(recs)

    def _hostilize(self, d):
        """Make d hostile; returns whether to serialize it ASCII-only (half of
        the hostile records are sent as raw UTF-8)."""
        h = self.hostile_seq
        self.hostile_seq += 1
        make_hostile(d, h)
        return h % 2 == 0

    def add_records(self, n, burst=False, hidden=False, ago=0, group=None, hostile=False,
                    id_len=0, id_pad=None, bad=False, desc_len=0):
        now = now_ticks()
        base = now - ago
        with self.lock:
            gen = self.gen
            if burst:
                dets = gen.detections(n, lambda: (base, base), same_lpt=base)
            else:
                # distinct LPTs, all <= base, in creation order
                dets = gen.detections(n, lambda: (base, base))
                for i, d in enumerate(dets):
                    d["LastProcessedTimeUtc"] = format_time(base - (n - 1) + i)
            recs = []
            for d in dets:
                if group is not None:
                    d["MachineGroup"] = group
                if id_len > len(d["FullId"]):
                    # A FullId of id_len bytes: the IocUniqueId padded.
                    pad = id_len - len(d["FullId"])
                    text = id_pad or str(len(self.gen.full_ids))
                    d["IocUniqueId"] += (text * (pad // len(text) + 1))[:pad]
                    d["FullId"] = d["AlertId"] + ":" + d["IocUniqueId"]
                    self.gen.full_ids.add(d["FullId"])
                if desc_len > 0:
                    # A large record: its Description that many bytes.
                    d["Description"] = ("large record " * (desc_len // 13 + 1))[:desc_len]
                ascii_only = self._hostilize(d) if hostile else True
                r = Record(d, NEVER if hidden else now, ascii_only)
                if bad:
                    # Served in its window, but its time is not a time.
                    r.json = serialize(dict(d, LastProcessedTimeUtc="not a time"),
                                       ascii_only).encode("utf-8")
                recs.append(r)
        self.store.add(recs)
        return [r.full_id for r in recs]



def tenant_ids(primary, n):
    """The ids of n simulated tenants: the primary one first, then
    00000000-0000-0000-0000-00000000000K for K = 1, 2, ... (skipping the
    primary's)."""
    out, k = [primary], 0
    while len(out) < n:
        k += 1
        tid = "00000000-0000-0000-0000-%012d" % k
        if tid.lower() != primary.lower():
            out.append(tid)
    return out


class Sim:
    def __init__(self, args):
        self.args = args
        self.start = now_ticks()
        self.client_id = args.client_id
        self.siem_resource = args.siem_resource
        self.quiet = args.quiet
        self.tokens = {}  # access token -> [audience, expires_at ticks, tenant key]
        self.lock = threading.Lock()
        self.stats_requests = {k: 0 for k in api_kinds()}
        self.stats_requests.update(control=0, unknown=0)
        self.stats_status = {}
        self.tokens_issued = 0
        self.connections = 0
        self.certs = [Cert(p) for p in args.client_cert or []]
        self.jtis = set()
        self.jti_reuse = 0
        self.assertions = []  # last 20 accepted client assertions
        self.max_limit_seen = 0
        self.siem_queries = []  # last 100 SIEM queries
        # Graph's limit per app across all tenants (reference/mde-api.md).
        self.app_limiter = RateLimiter([[int(10 * TPS * args.rate_scale),
                                         args.rate_graph_app]])
        self.app_limited = 0
        self.retired = {}  # API kind -> how it answers as switched off
        self.tenants = {}  # lowercase id -> Tenant, in creation order
        counts = {"count": args.count, "graph_count": args.graph_count,
                  "alerts_count": args.alerts_count,
                  "incidents_count": args.incidents_count}
        for i, tid in enumerate(tenant_ids(args.tenant_id, args.tenants)):
            self.add_tenant(tid, args.seed + i, counts, args.client_secret)
        self.primary = self.tenants[args.tenant_id.lower()]

    def add_tenant(self, tid, seed, counts, secret):
        with self.lock:
            t = self.tenants.get(tid.lower())
            if t is not None:
                return t, False
            index = len(self.tenants)
        t = Tenant(self, tid, seed, counts, secret, index)
        with self.lock:
            self.tenants.setdefault(t.key, t)
        return self.tenants[t.key], True

    def find_tenant(self, tid):
        if tid is None:
            return None
        with self.lock:
            return self.tenants.get(tid.lower())

    # The primary tenant's state, as a one-tenant simulator has it.
    @property
    def tenant(self):
        return self.primary.id

    @property
    def client_secret(self):
        return self.primary.client_secret

    @property
    def store(self):
        return self.primary.store

    @property
    def alert_apis(self):
        return self.primary.alert_apis

    @property
    def faults(self):
        return self.primary.faults

    def request_tenant(self, req, kind):
        """Who a request is about.  Control: ?tenant=, else the primary
        tenant.  Token endpoints: the tenant in their path (unknown ones are
        answered by the endpoint).  APIs: the tenant a /t/{tenant} prefix
        names, else the bearer token's tenant, else the primary one (whose
        faults then apply; the token check answers 401)."""
        if kind == "control":
            return self.control_tenant(req)
        if req.path_tenant is not None:
            return self.find_tenant(req.path_tenant)
        if kind == "token":
            t = self.find_tenant(req.match.group("tenant"))
            return t if t is not None else self.primary
        owner = self.token_owner(req)
        return owner if owner is not None else self.primary

    def app_rate_check(self):
        """Graph's limit per app across every tenant, or None."""
        with self.lock:
            ra = self.app_limiter.check(now_ticks())
            if ra is not None:
                self.app_limited += 1
        if ra is None:
            return None
        return api_error(429, "Application-wide rate limit is exceeded. Try again in "
                         "%d seconds." % ra, [("Retry-After", str(ra))])

    def control_tenant(self, req):
        """The tenant a control request names (?tenant=ID), else the
        primary one; None for an unknown id."""
        tid = req.param("tenant")
        if tid is None or tid == "":
            return self.primary
        return self.find_tenant(tid)

    # -- tokens -----------------------------------------------------------
    def issue_token(self, audience, tenant):
        tok = "simtok." + secrets.token_urlsafe(self.args.token_bytes)
        now = now_ticks()
        with self.lock:
            self.tokens[tok] = [audience, now + self.args.token_lifetime * TPS,
                                tenant.key]
            self.tokens_issued += 1
        with tenant.lock:
            tenant.tokens_issued += 1
        return tok, now

    def token_owner(self, req):
        """The Tenant of the request's bearer token, or None."""
        hdr = req.headers.get("Authorization") or ""
        parts = hdr.split(None, 1)
        if len(parts) != 2 or parts[0].lower() != "bearer":
            return None
        with self.lock:
            t = self.tokens.get(parts[1].strip())
            key = t[2] if t else None
            return self.tenants.get(key) if key else None

    def expire_tokens(self):
        now = now_ticks()
        with self.lock:
            for t in self.tokens.values():
                t[1] = min(t[1], now)
            return len(self.tokens)

    def check_bearer(self, req, audience):
        """None when req carries a valid token for audience, else a 401."""
        hdr = req.headers.get("Authorization")
        hdrs = [("WWW-Authenticate", 'Bearer error="invalid_token"')]
        if not hdr:
            return api_error(401, "Authorization header is missing.", hdrs)
        parts = hdr.split(None, 1)
        if len(parts) != 2 or parts[0].lower() != "bearer":
            return api_error(401, "Authorization header is malformed; expected "
                             "'Bearer <token>'.", hdrs)
        with self.lock:
            t = self.tokens.get(parts[1].strip())
            t = list(t) if t else None
        if t is None:
            return api_error(401, "The access token is invalid.", hdrs)
        if now_ticks() >= t[1]:
            return api_error(401, "The access token has expired.", hdrs)
        if _norm_aud(t[0]) != _norm_aud(audience):
            return api_error(401, "The access token audience '%s' is not valid for "
                             "this API." % t[0], hdrs)
        if req.tenant is not None and t[2] != req.tenant.key:
            return api_error(401, "The access token was issued for tenant '%s'; it "
                             "cannot read tenant '%s'." % (t[2], req.tenant.id), hdrs)
        return None

    # -- statistics -------------------------------------------------------
    def count_request(self, kind, tenant=None):
        with self.lock:
            self.stats_requests[kind] = self.stats_requests.get(kind, 0) + 1
        if tenant is not None:
            with tenant.lock:
                tenant.requests[kind] = tenant.requests.get(kind, 0) + 1

    def count_status(self, status):
        with self.lock:
            k = str(status)
            self.stats_status[k] = self.stats_status.get(k, 0) + 1

    def note_query(self, entry, limit):
        with self.lock:
            if limit is not None:
                self.max_limit_seen = max(self.max_limit_seen, limit)
            self.siem_queries.append(entry)
            del self.siem_queries[:-100]


def _norm_aud(a):
    return a.rstrip("/").casefold()


# ---------------------------------------------------------------------------
# Entra ID token endpoints.

def entra_error(status, error, code, description, extra_headers=None):
    now = datetime.datetime.now(datetime.timezone.utc)
    ts = now.strftime("%Y-%m-%d %H:%M:%SZ")
    trace, corr = str(uuid.uuid4()), str(uuid.uuid4())
    body = {
        "error": error,
        "error_description": "AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\n"
                             "Timestamp: %s" % (code, description, trace, corr, ts),
        "error_codes": [code],
        "timestamp": ts,
        "trace_id": trace,
        "correlation_id": corr,
        "error_uri": "https://login.microsoftonline.com/error?code=%d" % code,
    }
    return json_response(status, body, extra_headers)


# ---------------------------------------------------------------------------
# Certificate credentials: JWT client assertions (reference/mde-api.md 7.3),
# verified with the registered certificates' RSA public keys (PS256 with
# MGF1-SHA256 and a 32-byte salt, or RS256), in pure Python.

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CERT_DOC = ("Review the documentation at https://docs.microsoft.com/azure/"
            "active-directory/develop/active-directory-certificate-credentials .")
ASSERTION_LEEWAY = 300  # seconds of clock skew Entra tolerates
ASSERTION_MAX_LIFE = 600  # exp - nbf; Entra's documentation asks for 5-10 min
_SHA256_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


def _der(data, i):
    """One DER element at i: (tag, content start, content end)."""
    tag, n = data[i], data[i + 1]
    i += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(data[i:i + k], "big")
        i += k
    return tag, i, i + n


def _der_children(data, start, end):
    out = []
    while start < end:
        tag, s, e = _der(data, start)
        out.append((tag, s, e))
        start = e
    return out


class Cert:
    """A registered certificate: thumbprints and RSA public key."""

    def __init__(self, path):
        with open(path, "rb") as f:
            pem = f.read().decode("ascii", "replace")
        m = re.search(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----",
                      pem, re.S)
        if not m:
            raise ValueError("%s: no PEM certificate" % path)
        der = base64.b64decode("".join(m.group(1).split()))
        self.sha1 = hashlib.sha1(der).digest()
        self.sha256 = hashlib.sha256(der).digest()
        _, s, e = _der(der, 0)
        _, s, e = _der_children(der, s, e)[0]  # tbsCertificate
        fields = _der_children(der, s, e)
        if fields[0][0] == 0xA0:  # [0] version
            fields = fields[1:]
        _, s, e = fields[5]  # subjectPublicKeyInfo
        _, bs, be = _der_children(der, s, e)[1]  # BIT STRING
        _, s, e = _der(der, bs + 1)  # RSAPublicKey
        (_, ns, ne), (_, es, ee) = _der_children(der, s, e)[:2]
        self.n = int.from_bytes(der[ns:ne], "big")
        self.e = int.from_bytes(der[es:ee], "big")
        self.k = (self.n.bit_length() + 7) // 8


def _mgf1(seed, n):
    out = b""
    c = 0
    while len(out) < n:
        out += hashlib.sha256(seed + c.to_bytes(4, "big")).digest()
        c += 1
    return out[:n]


def rsa_verify(cert, alg, data, sig):
    """RFC 8017 RSASSA-PSS-VERIFY (sLen = hLen = 32) or
    RSASSA-PKCS1-v1_5-VERIFY, both with SHA-256."""
    if len(sig) != cert.k:
        return False
    m = pow(int.from_bytes(sig, "big"), cert.e, cert.n)
    mhash = hashlib.sha256(data).digest()
    if alg == "RS256":
        t = _SHA256_INFO + mhash
        em = m.to_bytes(cert.k, "big")
        return em == b"\x00\x01" + b"\xff" * (cert.k - len(t) - 3) + b"\x00" + t
    embits = cert.n.bit_length() - 1
    emlen = (embits + 7) // 8
    if m >> (8 * emlen):
        return False
    em = m.to_bytes(emlen, "big")
    hlen = slen = 32
    if emlen < hlen + slen + 2 or em[-1] != 0xBC:
        return False
    masked, h = em[:emlen - hlen - 1], em[emlen - hlen - 1:-1]
    top = 0xFF >> (8 * emlen - embits)
    if masked[0] & ~top & 0xFF:
        return False
    db = bytearray(a ^ b for a, b in zip(masked, _mgf1(h, len(masked))))
    db[0] &= top
    ps = emlen - hlen - slen - 2
    if any(db[:ps]) or db[ps] != 1:
        return False
    salt = bytes(db[-slen:])
    return hashlib.sha256(b"\x00" * 8 + mhash + salt).digest() == h


def _b64url_decode(s):
    if not re.fullmatch(r"[A-Za-z0-9_-]*", s):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _iso(epoch):
    t = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.0000000Z")


def _jwt_invalid(why):
    return entra_error(401, "invalid_client", 50027,
                       "JWT token is invalid or malformed. %s" % why)


def _parse_assertion(text):
    parts = text.split(".")
    if len(parts) != 3:
        raise ValueError("not a compact JWS")
    header = json.loads(_b64url_decode(parts[0]))
    claims = json.loads(_b64url_decode(parts[1]))
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise ValueError("header or claims not a JSON object")
    signed = (parts[0] + "." + parts[1]).encode("ascii")
    return header, claims, signed, _b64url_decode(parts[2])


def _find_cert(sim, header):
    """(certificate or None, thumbprint hex as Entra prints it) or a
    Response for a header without a usable thumbprint."""
    if "x5t#S256" in header:
        thumb, attr = header["x5t#S256"], "sha256"
    elif "x5t" in header:
        thumb, attr = header["x5t"], "sha1"
    else:
        return _jwt_invalid("No certificate thumbprint specified in token header.")
    try:
        raw = _b64url_decode(thumb)
    except (ValueError, TypeError):
        return _jwt_invalid("The certificate thumbprint is not base64url.")
    for c in sim.certs:
        if getattr(c, attr) == raw:
            return c, raw.hex().upper()
    return None, raw.hex().upper()


def check_assertion(sim, req, client_id, atype, text):
    """None when the client assertion is good, else Entra's error."""
    if atype != JWT_BEARER or not text:
        return entra_error(400, "invalid_request", 7000216,
                           "'client_assertion', 'client_secret' or 'request' is "
                           "required for the 'client_credentials' grant type.")
    try:
        header, claims, signed, sig = _parse_assertion(text)
    except (ValueError, TypeError, UnicodeDecodeError):
        return _jwt_invalid("The client assertion is not a signed JWT.")
    alg = header.get("alg")
    if alg not in ("PS256", "RS256"):
        return _jwt_invalid("Unsupported signing algorithm '%s'." % alg)
    found = _find_cert(sim, header)
    if isinstance(found, Response):
        return found
    cert, thumb = found
    if cert is None:
        return entra_error(401, "invalid_client", 700027,
                           "Client assertion contains an invalid signature. [Reason - "
                           "The key was not found., Thumbprint of key used by client: "
                           "'%s', Please visit the Azure Portal, Graph Explorer or "
                           "directly use MS Graph to see configured keys for app Id "
                           "'%s'.]" % (thumb, client_id))
    if not rsa_verify(cert, alg, signed, sig):
        return entra_error(401, "invalid_client", 700027,
                           "Client assertion contains an invalid signature. [Reason - "
                           "The provided signature value did not match the expected "
                           "signature value., Thumbprint of key used by client: '%s']"
                           % thumb)
    iss, sub = claims.get("iss"), claims.get("sub")
    if not isinstance(iss, str) or not isinstance(sub, str) or \
            iss.lower() != client_id.lower() or sub.lower() != client_id.lower():
        return entra_error(401, "invalid_client", 700021,
                           "Client assertion application identifier doesn't match "
                           "'client_id' parameter. " + CERT_DOC)
    endpoint = "http://%s%s" % (req.headers.get("Host", ""), req.path)
    aud = claims.get("aud")
    if not isinstance(aud, str) or _norm_aud(aud) != _norm_aud(endpoint):
        return entra_error(401, "invalid_client", 700023,
                           "Client assertion audience claim does not match Realm "
                           "issuer. " + CERT_DOC)
    err = _check_times(sim, claims)
    if err is None:
        _note_assertion(sim, header, claims, alg)
    return err


def _check_times(sim, claims):
    now = now_ticks() // TPS + sim.args.assertion_skew
    nbf, exp = claims.get("nbf"), claims.get("exp")
    if (isinstance(nbf, int) and isinstance(exp, int) and
            nbf - ASSERTION_LEEWAY <= now < exp + ASSERTION_LEEWAY and
            0 < exp - nbf <= ASSERTION_MAX_LIFE):
        return None
    return entra_error(401, "invalid_client", 700024,
                       "Client assertion is not within its valid time range. "
                       "Current time: %s, assertion valid from %s, expiry time "
                       "of assertion %s. %s"
                       % (_iso(now), _iso(nbf if isinstance(nbf, int) else 0),
                          _iso(exp if isinstance(exp, int) else 0), CERT_DOC))


def _note_assertion(sim, header, claims, alg):
    jti = claims.get("jti")
    with sim.lock:
        if jti in sim.jtis:
            sim.jti_reuse += 1
        sim.jtis.add(jti)
        sim.assertions.append({
            "alg": alg, "typ": header.get("typ"),
            "thumbprint": "x5t#S256" if "x5t#S256" in header else "x5t",
            "aud": claims.get("aud"), "iss": claims.get("iss"),
            "sub": claims.get("sub"), "jti": jti,
            "lifetime": claims["exp"] - claims["nbf"],
            "iat": claims.get("iat"), "nbf": claims["nbf"]})
        del sim.assertions[:-20]


def _token(sim, req, v2):
    tenant = req.match.group("tenant")
    if req.method != "POST":
        return entra_error(400, "invalid_request", 900561,
                           "The endpoint only accepts POST requests. Received a %s "
                           "request." % req.method)
    t = sim.find_tenant(tenant)
    if t is None:
        return entra_error(400, "invalid_request", 90002,
                           "Tenant '%s' not found. Check to make sure you have the "
                           "correct tenant ID and are signing into the correct cloud. "
                           "Check with your subscription administrator, this may "
                           "happen if there are no active subscriptions for the "
                           "tenant." % tenant)
    form = parse_qs(req.body.decode("utf-8", "replace"), keep_blank_values=True)

    def field(name):
        v = form.get(name)
        return v[0] if v else None

    def missing(name):
        return entra_error(400, "invalid_request", 900144,
                           "The request body must contain the following parameter: "
                           "'%s'." % name)

    grant = field("grant_type")
    if not grant:
        return missing("grant_type")
    if grant != "client_credentials":
        return entra_error(400, "unsupported_grant_type", 70003,
                           "The app requested an unsupported grant type '%s'." % grant)
    client_id = field("client_id")
    if not client_id:
        return missing("client_id")
    if v2:
        scope = field("scope")
        if not scope:
            return missing("scope")
        scopes = scope.split()
        if len(scopes) != 1 or not scopes[0].endswith("/.default"):
            return entra_error(400, "invalid_scope", 70011,
                               "The provided value for the input parameter 'scope' is "
                               "not valid. The scope %s is not valid." % scope)
        audience = scopes[0][:-len("/.default")]
    else:
        audience = field("resource")
        if not audience:
            return missing("resource")
    if client_id.lower() != sim.client_id.lower() or not t.consent:
        return entra_error(400, "unauthorized_client", 700016,
                           "Application with identifier '%s' was not found in the "
                           "directory '%s'. This can happen if the application has not "
                           "been installed by the administrator of the tenant or "
                           "consented to by any user in the tenant. You may have sent "
                           "your authentication request to the wrong tenant."
                           % (client_id, tenant))
    if field("client_assertion") is not None or \
            field("client_assertion_type") is not None:
        err = check_assertion(sim, req, client_id, field("client_assertion_type"),
                              field("client_assertion"))
        if err is not None:
            return err
        return _grant(sim, t, audience, v2)
    secret = field("client_secret")
    if secret is None:
        return entra_error(401, "invalid_client", 7000218,
                           "The request body must contain the following parameter: "
                           "'client_assertion' or 'client_secret'.")
    if secret != t.client_secret:
        return entra_error(401, "invalid_client", 7000215,
                           "Invalid client secret provided. Ensure the secret being "
                           "sent in the request is the client secret value, not the "
                           "client secret ID, for a secret added to app '%s'."
                           % client_id)
    return _grant(sim, t, audience, v2)


def _grant(sim, tenant, audience, v2):
    tok, now = sim.issue_token(audience, tenant)
    life = sim.args.token_lifetime
    if v2:
        body = {"token_type": "Bearer", "expires_in": life, "ext_expires_in": life,
                "access_token": tok}
    else:
        epoch = now // TPS
        body = {"token_type": "Bearer", "expires_in": str(life),
                "ext_expires_in": str(life), "expires_on": str(epoch + life),
                "not_before": str(epoch), "resource": audience, "access_token": tok}
    return json_response(200, body, [("Cache-Control", "no-store, no-cache"),
                                     ("Pragma", "no-cache")])


@route(r"/(?P<tenant>[^/]+)/oauth2/token", "token")
def token_v1(sim, req):
    return _token(sim, req, v2=False)


@route(r"/(?P<tenant>[^/]+)/oauth2/v2\.0/token", "token")
def token_v2(sim, req):
    return _token(sim, req, v2=True)


# ---------------------------------------------------------------------------
# Defender for Endpoint SIEM detections API.

@route(r"/siem/api/alerts/?", "siem")
def siem_alerts(sim, req):
    if req.method != "GET":
        return api_error(405)
    denied = sim.check_bearer(req, sim.siem_resource)
    if denied:
        return denied
    now = now_ticks()
    try:
        since_s = req.param("sinceTimeUtc") or None
        until_s = req.param("untilTimeUtc") or None
        ago_s = req.param("ago") or None
        since = parse_time(since_s) if since_s else None
        until = parse_time(until_s) if until_s else now
        if since is None:
            since = now - (parse_duration(ago_s) if ago_s else 2 * 3600 * TPS)
        limit_s = req.param("limit") or None
        limit = None
        if limit_s is not None:
            if not re.fullmatch(r"[0-9]{1,9}", limit_s):
                raise ValueError("limit must be a non-negative integer: %r" % limit_s)
            limit = int(limit_s)
    except ValueError as e:
        return api_error(400, str(e))
    groups = {g for g in req.params("machinegroups") if g}
    dtag = req.param("DeviceCreatedMachineTags") or None
    ctag = req.param("CloudCreatedMachineTags") or None

    sel = [r for r in req.tenant.store.window(since, until)
           if r.visible_at <= now
           and (not groups or r.group in groups)
           and (dtag is None or dtag in _tags(r.dtags))
           and (ctag is None or ctag in _tags(r.ctags))]
    if limit is not None:
        sel = sel[max(0, len(sel) - limit):] if limit else []
    # Answer in a deterministic but unsorted order.
    rng = random.Random("%s/%s/%s/%s/%d" % (sim.args.seed, since, until, limit, len(sel)))
    rng.shuffle(sel)
    if len(sel) > 1 and all(sel[i].sort_key() <= sel[i + 1].sort_key()
                            for i in range(len(sel) - 1)):
        sel.reverse()
    sim.note_query({"query": req.raw_query, "since": format_time(since),
                    "until": format_time(until), "limit": limit,
                    "machinegroups": sorted(groups), "returned": len(sel),
                    "at": format_time(now)}, limit)
    return Response(200, b"[" + b",".join(r.json for r in sel) + b"]")


def _tags(s):
    return {t.strip() for t in s.split(",")}


# ---------------------------------------------------------------------------
# Updatable alerts: Microsoft Graph security/alerts_v2
# (GET /graph/v1.0/security/alerts_v2) and the Defender for Endpoint Alert
# API (GET /mde/api/alerts).  OData $filter on the documented properties,
# $top, $skip, @odata.nextLink (full URL; Graph can drop it from some pages,
# the Alert API sends it only when asked to), answers in no particular
# order but stable within one query (a pseudo-random order seeded by the
# $filter text, so $skip paging over one query is consistent while the
# set changes), alerts updated over time, and the documented rate limits
# answered with 429 + Retry-After.

GRAPH_AUDIENCE = "https://graph.microsoft.com"
ALERTS_AUDIENCE = "https://api.securitycenter.microsoft.com"

# Graph properties newer than Microsoft's SIEM-to-Graph table (the beta
# resource page, reference/landscape-2026.md 1.4).
GRAPH_PRODUCTS = {
    "microsoftDefenderForEndpoint": "Microsoft Defender for Endpoint",
    "microsoftDefenderForOffice365": "Microsoft Defender for Office 365",
    "microsoftDefenderForIdentity": "Microsoft Defender for Identity",
    "microsoftDefenderForCloud": "Microsoft Defender for Cloud",
}
GRAPH_INVESTIGATION_STATES = (
    "unknown", "terminated", "successfullyRemediated", "benign", "failed",
    "partiallyRemediated", "running", "pendingApproval", "pendingResource",
    "queued", "innerFailure", "preexistingAlert", "unsupportedOs",
    "unsupportedAlertType", "suppressedAlert", "partiallyInvestigated",
    "terminatedByUser", "terminatedBySystem")

GRAPH_SERVICES = (("microsoftDefenderForEndpoint",) * 80 +
                  ("microsoftDefenderForOffice365",) * 10 +
                  ("microsoftDefenderForIdentity",) * 6 +
                  ("microsoftDefenderForCloud",) * 4)
GRAPH_DETECTION = {
    "microsoftDefenderForEndpoint": ("microsoftDefenderForEndpoint", "antivirus",
                                     "customTi", "automatedInvestigation",
                                     "smartScreen", "customDetection"),
    "microsoftDefenderForOffice365": ("microsoftDefenderForOffice365",),
    "microsoftDefenderForIdentity": ("microsoftDefenderForIdentity",),
    "microsoftDefenderForCloud": ("microsoftDefenderForServers",),
}
ALERTS_DETECTION = ("WindowsDefenderAtp", "WindowsDefenderAv", "CustomerTI",
                    "AutomatedInvestigation", "WindowsDefenderSmartScreen",
                    "CustomDetection")
GRAPH_SEVERITY = {"Informational": "informational", "Low": "low", "Medium": "medium",
                  "High": "high", "UnSpecified": "unknown"}
MITRE_IDS = ("T1059.001", "T1055", "T1003.001", "T1053.005", "T1021.002", "T1071.001",
             "T1486", "T1087.002", "T1564.001", "T1218.011", "T1064", "T1085", "T1220")
GRAPH_VERDICTS = ("unknown", "unknown", "suspicious", "malicious", "noThreatsFound")
GRAPH_DETECTION_STATUS = (None, None, "detected", "blocked", "prevented")
ALERTS_DETECTION_STATUS = (None, None, "Detected", "Blocked", "Prevented")
GRAPH_REMEDIATION = ("none", "none", "none", "remediated", "prevented", "blocked",
                     "notFound", "unremediated")
STATUS_FLOW = {"graph": ("new", "inProgress", "resolved"),
               "alerts": ("New", "InProgress", "Resolved"),
               "incidents": ("active", "inProgress", "resolved")}
RESOLUTIONS = {"graph": (("truePositive", "malware"), ("falsePositive", "clean"),
                         ("informationalExpectedActivity", "securityTesting")),
               "alerts": (("TruePositive", "Malware"), ("FalsePositive", "Clean"),
                          ("InformationalExpectedActivity", "SecurityTesting"))}
RESOLUTIONS["incidents"] = RESOLUTIONS["graph"]
ALERTS_EVIDENCE_KEYS = (
    "entityType", "evidenceCreationTime", "sha1", "sha256", "fileName", "filePath",
    "processId", "processCommandLine", "processCreationTime", "parentProcessId",
    "parentProcessCreationTime", "parentProcessFileName", "parentProcessFilePath",
    "ipAddress", "url", "registryKey", "registryHive", "registryValueType",
    "registryValue", "accountName", "domainName", "userSid", "aadUserId",
    "userPrincipalName", "detectionStatus")
# Members that get hostile text in a hostile alert (anywhere in the object).
ALERT_HOSTILE_KEYS = frozenset((
    "title", "description", "category", "actorDisplayName", "threatDisplayName",
    "threatFamilyName", "threatName", "assignedTo", "detectorId",
    "recommendedActions", "fileName", "filePath", "processCommandLine",
    "accountName", "domainName", "userName", "url", "deviceDnsName",
    "computerDnsName", "rbacGroupName", "ipAddress", "tags", "mitreTechniques"))

# Per API: the property that the cursor follows, and the $filter-able
# properties with their type (reference/mde-api.md 5.3 and 6.1).
ALERT_APIS = {
    "graph": {
        "time": "lastUpdateDateTime",
        "filter": {"assignedTo": "str", "classification": "str",
                   "determination": "str", "createdDateTime": "time",
                   "lastUpdateDateTime": "time", "severity": "str",
                   "serviceSource": "str", "status": "str"},
        "context": "https://graph.microsoft.com/v1.0/$metadata#security/alerts_v2",
    },
    "alerts": {
        "time": "lastUpdateTime",
        "filter": {"alertCreationTime": "time", "lastUpdateTime": "time",
                   "lastEventTime": "time", "incidentId": "num",
                   "investigationId": "num", "InvestigationId": "num",
                   "id": "str", "assignedTo": "str", "detectionSource": "str",
                   "status": "str", "severity": "str", "category": "str"},
        "context": "https://api.securitycenter.microsoft.com/api/$metadata#Alerts",
    },
    # Graph security/incidents (GET /graph/v1.0/security/incidents):
    # $filter on the documented properties, $expand=alerts.
    "incidents": {
        "time": "lastUpdateDateTime",
        "filter": {"assignedTo": "str", "classification": "str",
                   "createdDateTime": "time", "determination": "str",
                   "lastUpdateDateTime": "time", "severity": "str",
                   "status": "str"},
        "context": "https://graph.microsoft.com/v1.0/$metadata#security/incidents",
        "expand": "alerts",
    },
}
INCIDENT_NAMES = ("Multi-stage incident involving Execution & Defense evasion",
                  "Ransomware activity on multiple endpoints",
                  "Suspicious sign-in followed by mailbox rule creation",
                  "Credential theft on one endpoint",
                  "Phishing campaign reported by users")


def format_time_trimmed(ticks):
    """The Alert API's form: fraction digits without trailing zeros."""
    s = format_time(ticks, 7)[:-1]
    head, frac = s.split(".")
    frac = frac.rstrip("0")
    return head + ("." + frac if frac else "") + "Z"


def _hash01(*parts):
    """A deterministic number in [0, 1) for parts."""
    h = hashlib.blake2b("|".join(str(p) for p in parts).encode(), digest_size=8)
    return int.from_bytes(h.digest(), "big") / 2.0 ** 64


def hostilize_alert(obj, h):
    """Put hostile text into every ALERT_HOSTILE_KEYS string of obj (nested),
    rotating through HOSTILE_KINDS from h; returns the next h."""
    k = len(HOSTILE_KINDS)

    def walk(o):
        nonlocal h
        items = o.items() if isinstance(o, dict) else ()
        for key, v in list(items):
            if key in ALERT_HOSTILE_KEYS and isinstance(v, (str, type(None))) \
                    and not (key == "assignedTo" and v is None and h % 3):
                o[key] = HOSTILE_KINDS[h % k][1]
                h += 1
            elif key in ALERT_HOSTILE_KEYS and isinstance(v, list):
                o[key] = [HOSTILE_KINDS[(h + i) % k][1] if isinstance(x, str) else x
                          for i, x in enumerate(v)]
                h += 1
            elif isinstance(v, dict):
                walk(v)
            elif isinstance(v, list):
                for x in v:
                    if isinstance(x, dict):
                        walk(x)
    walk(obj)
    return h


class AlertGen:
    """Alerts of one API's shape; deterministic for a seed and call order."""

    def __init__(self, seed, kind):
        self.kind = kind
        self.rng = random.Random("%s/%s" % (seed, kind))
        self.machines = make_machines(self.rng)
        self.ids = set()
        self.incident = 20000

    def new_id(self):
        rng = self.rng
        while True:
            aid = "da%018d_%d" % (rng.randrange(10 ** 17, 10 ** 18),
                                  rng.randrange(-2 ** 31, 2 ** 31))
            if aid not in self.ids:
                self.ids.add(aid)
                return aid

    def _user(self, m):
        rng = self.rng
        return rng.choice(USERS), NETBIOS[m["MachineDomain"]] or "WORKGROUP"

    # -- Graph ---------------------------------------------------------------
    def _g_base(self, typ, created):
        rng = self.rng
        return {"@odata.type": "#microsoft.graph.security." + typ,
                "createdDateTime": created, "verdict": rng.choice(GRAPH_VERDICTS),
                "remediationStatus": rng.choice(GRAPH_REMEDIATION),
                "remediationStatusDetails": None, "roles": [], "detailedRoles": [],
                "tags": []}

    def _g_file(self):
        rng = self.rng
        fname, fpath = rng.choice(FILES)
        return {"sha1": _hex(rng, 20), "sha256": _hex(rng, 32) if rng.random() < 0.9 else None,
                "fileName": fname, "filePath": fpath, "fileSize": rng.randrange(1000, 10 ** 7),
                "filePublisher": rng.choice(("Microsoft Corporation", None)),
                "signer": None, "issuer": None}

    def _g_account(self, m):
        user, dom = self._user(m)
        return {"accountName": user, "domainName": dom,
                "userSid": "S-1-5-21-%d-%d" % (self.rng.randrange(10 ** 9),
                                               self.rng.randrange(1000, 99999)),
                "azureAdUserId": None, "userPrincipalName": None, "displayName": user}

    def _graph_evidence(self, m, created):
        rng = self.rng
        ev = []
        n_dev = 1 if rng.random() < 0.92 else (2 if rng.random() < 0.5 else 0)
        for _ in range(n_dev):
            d = self._g_base("deviceEvidence", created)
            d.update({
                "firstSeenDateTime": created, "mdeDeviceId": m["DeviceID"],
                "azureAdDeviceId": None, "deviceDnsName": m["ComputerDnsName"],
                "osPlatform": "Windows10", "osBuild": 22424, "version": "Other",
                "healthStatus": "active", "riskScore": "medium",
                "rbacGroupId": rng.randrange(1, 100), "rbacGroupName": m["MachineGroup"] or None,
                "onboardingStatus": "onboarded", "defenderAvStatus": "unknown",
                "ipInterfaces": [_ipv4(rng)],
                "loggedOnUsers": [{"accountName": u, "domainName": NETBIOS[m["MachineDomain"]] or None}
                                  for u in rng.sample(USERS[:4], rng.randrange(0, 3))],
                "tags": [t.strip() for t in m["DeviceCreatedMachineTags"].split(",") if t.strip()],
            })
            ev.append(d)
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            f = self._g_base("fileEvidence", created)
            f.update({"detectionStatus": rng.choice(GRAPH_DETECTION_STATUS),
                      "mdeDeviceId": m["DeviceID"], "fileDetails": self._g_file()})
            ev.append(f)
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            p = self._g_base("processEvidence", created)
            p.update({"processId": rng.randrange(4, 65536),
                      "parentProcessId": rng.randrange(4, 65536),
                      "processCommandLine": rng.choice(COMMAND_LINES) or None,
                      "processCreationDateTime": created,
                      "parentProcessCreationDateTime": created,
                      "detectionStatus": rng.choice(GRAPH_DETECTION_STATUS),
                      "mdeDeviceId": m["DeviceID"], "imageFile": self._g_file(),
                      "parentProcessImageFile": self._g_file(),
                      "userAccount": self._g_account(m)})
            ev.append(p)
        for _ in range(rng.choice((0, 0, 1, 2))):
            i = self._g_base("ipEvidence", created)
            i.update({"ipAddress": _ipv4(rng) if rng.random() < 0.7 else _ipv6(rng),
                      "countryLetterCode": rng.choice(("US", "CN", "NL", None))})
            ev.append(i)
        for _ in range(rng.choice((0, 0, 1, 2))):
            u = self._g_base("urlEvidence", created)
            u.update({"url": rng.choice(URLS) or "http://example.net/x"})
            ev.append(u)
        for _ in range(rng.choice((0, 0, 1, 2))):
            u = self._g_base("userEvidence", created)
            u.update({"userAccount": self._g_account(m)})
            ev.append(u)
        if rng.random() < 0.2:
            r = self._g_base("registryKeyEvidence", created)
            r.update({"registryKey": "SYSTEM\\CONTROLSET001\\CONTROL\\WMI",
                      "registryHive": "HKEY_LOCAL_MACHINE"})
            ev.append(r)
        rng.shuffle(ev)
        return ev

    def _common(self):
        """Title, category, severity, threat: shared by both shapes."""
        rng = self.rng
        a = {"severity": rng.choice(SEVERITIES), "threat": None, "family": None}
        if rng.random() < 0.3:
            threat, family, _ = rng.choice(AV_THREATS)
            a["title"] = "Microsoft Defender AV detected '%s' malware" % family
            a["category"] = "Malware"
            a["threat"], a["family"] = threat, family
        else:
            a["title"], a["category"] = rng.choice(EDR_ALERTS)
        a["description"] = rng.choice((
            "A process was observed doing something suspicious.",
            "Malware was detected and quarantined. Review the device timeline.",
            "Credential theft tool activity. An attacker may be moving laterally.",
        ))
        a["mitre"] = rng.sample(MITRE_IDS, rng.randrange(0, 4))
        return a

    def _graph_newer(self, a):
        """The newer properties, on most alerts (a share of them lack
        each, as older answers do); drawn from the alert id, not from the
        generator, so that the rest of the corpus stays as it was.  Custom
        details only on custom detections, as Defender sets them."""
        aid = a["id"]

        def h(k):
            return _hash01(aid, k)
        if h("product") < 0.8:
            a["productName"] = GRAPH_PRODUCTS.get(a["serviceSource"])
        if h("policy") < 0.5:
            a["alertPolicyId"] = str(uuid.UUID(int=int(h("pid") * 2 ** 64) << 64 |
                                               int(h("pid2") * 2 ** 64)))
        if h("state") < 0.7:
            a["investigationState"] = GRAPH_INVESTIGATION_STATES[
                int(h("which") * len(GRAPH_INVESTIGATION_STATES))]
        if a["detectionSource"] == "customDetection" or h("custom") < 0.1:
            a["customDetails"] = {"Country": ("US", "DE", "IN")[int(h("c") * 3)],
                                  "FailedSignIns": int(h("n") * 50),
                                  "Accounts": ["jdoe", "asmith"][:1 + int(h("a") * 2)]}
        if h("additional") < 0.3:
            a["additionalData"] = {"AlertRuleName": a["title"],
                                   "Expression": "score=%d; path=C:\\x" % int(h("s") * 100)}
        elif h("additional") < 0.4:
            a["additionalData"] = {}
        return a

    def graph_alert(self, lu, created):
        rng = self.rng
        m = rng.choice(self.machines)
        aid = self.new_id()
        c = self._common()
        svc = rng.choice(GRAPH_SERVICES)
        self.incident += rng.randrange(1, 3)
        tid = "b3c1b5fc-828c-45fa-a1e1-10d74f6d6e9c"
        cr = format_time(created, 7)
        return self._graph_newer({
            "@odata.type": "#microsoft.graph.security.alert",
            "id": aid, "providerAlertId": aid, "incidentId": str(self.incident),
            "status": "new", "severity": GRAPH_SEVERITY[c["severity"]],
            "classification": "unknown", "determination": "unknown",
            "serviceSource": svc, "detectionSource": rng.choice(GRAPH_DETECTION[svc]),
            "detectorId": _guid(rng), "tenantId": tid, "title": c["title"],
            "description": c["description"],
            "recommendedActions": "Collect artifacts and determine scope\n\tReview the "
                                  "machine timeline.",
            "category": c["category"], "assignedTo": None,
            "alertWebUrl": "https://security.microsoft.com/alerts/%s?tid=%s" % (aid, tid),
            "incidentWebUrl": "https://security.microsoft.com/incidents/%d?tid=%s"
                              % (self.incident, tid),
            "actorDisplayName": rng.choice(ACTORS) if rng.random() < 0.05 else None,
            "threatDisplayName": c["threat"], "threatFamilyName": c["family"],
            "mitreTechniques": c["mitre"], "createdDateTime": cr,
            "lastUpdateDateTime": format_time(lu, 7), "resolvedDateTime": None,
            "firstActivityDateTime": format_time(created - rng.randrange(TPS, 600 * TPS), 3),
            "lastActivityDateTime": format_time(created - rng.randrange(0, TPS), 3),
            "comments": [], "evidence": self._graph_evidence(m, cr),
            "systemTags": [],
        })

    # -- Alert API -------------------------------------------------------
    def _a_item(self, typ, created):
        d = dict.fromkeys(ALERTS_EVIDENCE_KEYS)
        d["entityType"] = typ
        d["evidenceCreationTime"] = created
        return d

    def _alerts_evidence(self, m, created):
        rng = self.rng
        ev = []
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            d = self._a_item("File", created)
            fname, fpath = rng.choice(FILES)
            d.update(sha1=_hex(rng, 20), sha256=_hex(rng, 32), fileName=fname,
                     filePath=fpath, detectionStatus=rng.choice(ALERTS_DETECTION_STATUS))
            ev.append(d)
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            d = self._a_item("Process", created)
            fname, fpath = rng.choice(FILES)
            d.update(sha1=_hex(rng, 20), sha256=_hex(rng, 32), fileName=fname,
                     filePath=fpath, processId=rng.randrange(4, 65536),
                     processCommandLine=rng.choice(COMMAND_LINES) or None,
                     processCreationTime=created, parentProcessId=rng.randrange(4, 65536),
                     parentProcessCreationTime=created, parentProcessFileName="explorer.exe",
                     parentProcessFilePath="C:\\Windows",
                     detectionStatus=rng.choice(ALERTS_DETECTION_STATUS))
            ev.append(d)
        for _ in range(rng.choice((0, 0, 1, 2))):
            d = self._a_item("User", created)
            user, dom = self._user(m)
            d.update(accountName=user, domainName=dom, userSid="S-1-5-21-1-%d" %
                     rng.randrange(1000, 99999), userPrincipalName=user + "@contoso.com")
            ev.append(d)
        for _ in range(rng.choice((0, 0, 1, 2))):
            d = self._a_item("Ip", created)
            d["ipAddress"] = _ipv4(rng) if rng.random() < 0.7 else _ipv6(rng)
            ev.append(d)
        for _ in range(rng.choice((0, 0, 1, 2))):
            d = self._a_item("Url", created)
            d["url"] = rng.choice(URLS) or "http://example.net/x"
            ev.append(d)
        if rng.random() < 0.2:
            d = self._a_item("Registry", created)
            d.update(registryKey="SYSTEM\\CONTROLSET001", registryHive="HKEY_LOCAL_MACHINE")
            ev.append(d)
        rng.shuffle(ev)
        return ev

    def alerts_alert(self, lu, created):
        rng = self.rng
        m = rng.choice(self.machines)
        aid = self.new_id()
        c = self._common()
        self.incident += rng.randrange(1, 3)
        cr = format_time(created, 7)
        user, dom = self._user(m)
        return {
            "id": aid, "incidentId": self.incident,
            "investigationId": rng.randrange(1, 10 ** 6) if rng.random() < 0.3 else None,
            "assignedTo": None, "severity": c["severity"], "status": "New",
            "classification": None, "determination": None,
            "investigationState": rng.choice(("Queued", "Running", "UnsupportedAlertType")),
            "detectionSource": rng.choice(ALERTS_DETECTION), "detectorId": _guid(rng),
            "category": c["category"], "threatFamilyName": c["family"],
            "title": c["title"], "description": c["description"],
            "alertCreationTime": cr,
            "firstEventTime": format_time(created - rng.randrange(TPS, 600 * TPS), 7),
            "lastEventTime": format_time(created - rng.randrange(0, TPS), 7),
            "lastUpdateTime": format_time_trimmed(lu), "resolvedTime": None,
            "machineId": m["DeviceID"], "computerDnsName": m["ComputerDnsName"],
            "rbacGroupName": m["MachineGroup"] or None,
            "aadTenantId": "a839b112-1253-6432-9bf6-94542403f21c",
            "threatName": c["threat"], "mitreTechniques": c["mitre"],
            "relatedUser": {"userName": user, "domainName": dom}
            if rng.random() < 0.5 else None,
            "comments": [], "evidence": self._alerts_evidence(m, cr),
        }

    def new_incident(self, lu, created):
        """A Graph incident with 1 to 4 alerts (some incidents many more,
        beyond what a record carries)."""
        rng = self.rng
        self.incident_seq = getattr(self, "incident_seq", 0) + 1
        iid = str(100000 + self.incident_seq)
        tid = "b3c1b5fc-828c-45fa-a1e1-10d74f6d6e9c"
        n = rng.choice((1, 1, 2, 3, 4)) if rng.random() > 0.02 else 60
        cr = format_time(created, 7)
        alerts = []
        for _ in range(n):
            a = self.graph_alert(lu, created)
            a["incidentId"] = iid
            a["incidentWebUrl"] = "https://security.microsoft.com/incidents/%s?tid=%s" % (iid, tid)
            alerts.append({k: a[k] for k in ("id", "title", "severity", "status",
                                              "serviceSource", "createdDateTime",
                                              "lastUpdateDateTime", "incidentId")})
        sev = rng.choice(("low", "medium", "high", "high", "informational"))
        return {
            "id": iid, "tenantId": tid, "status": "active", "severity": sev,
            "displayName": rng.choice(INCIDENT_NAMES) + " on %d endpoints" % n,
            "description": None, "classification": "unknown", "determination": "unknown",
            "assignedTo": None, "redirectIncidentId": None,
            "incidentWebUrl": "https://security.microsoft.com/incidents/%s?tid=%s" % (iid, tid),
            "createdDateTime": cr, "lastUpdateDateTime": format_time(lu, 7),
            "resolvedDateTime": None, "lastModifiedBy": "API-App:mdesim",
            "customTags": rng.choice(([], ["Demo"], ["Demo", "Tier 1"])),
            "systemTags": rng.choice(([], ["Defender Experts"])),
            "comments": [], "priorityScore": rng.randrange(0, 101),
            "alerts": alerts,
        }

    def make(self, lu, created):
        if self.kind == "incidents":
            return self.new_incident(lu, created)
        return self.graph_alert(lu, created) if self.kind == "graph" else \
            self.alerts_alert(lu, created)


class Alert:
    """The current version of one alert, with its served bodies cached."""
    __slots__ = ("id", "lu", "obj", "ascii_only", "cache", "attrs")

    def __init__(self, kind, obj, ascii_only):
        self.id = obj["id"]
        self.lu = parse_time(obj[ALERT_APIS[kind]["time"]])
        self.obj = obj
        self.ascii_only = ascii_only
        self.cache = {}
        self.attrs = None

    def filter_attrs(self, kind):
        if self.attrs is None:
            self.attrs = _alert_attrs(kind, self.obj)
        return self.attrs

    def body(self, kind, expand=True, long_form=False):
        """JSON bytes as served; long_form writes the Alert API's last update
        time with all 7 digits (the same version, another spelling)."""
        key = (expand, long_form)
        b = self.cache.get(key)
        if b is None:
            o = self.obj
            if not expand:
                drop = ALERT_APIS[kind].get("expand", "evidence")
                o = {k: v for k, v in o.items() if k != drop}
            if long_form:
                o = dict(o)
                o[ALERT_APIS[kind]["time"]] = format_time(self.lu, 7)
            b = serialize(o, self.ascii_only).encode("utf-8")
            self.cache[key] = b
        return b


# -- OData $filter: or / and / not, parentheses, comparisons ---------------

_ODATA_TOKEN = re.compile(
    r"\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<str>'(?:[^']|'')*')|"
    r"(?P<lit>[0-9][0-9:.TZ+-]*)|(?P<word>[A-Za-z_@][A-Za-z0-9_./]*))")
_ODATA_OPS = {
    "eq": lambda a, b: a == b, "ne": lambda a, b: a != b,
    "gt": lambda a, b: a is not None and b is not None and a > b,
    "ge": lambda a, b: a is not None and b is not None and a >= b,
    "lt": lambda a, b: a is not None and b is not None and a < b,
    "le": lambda a, b: a is not None and b is not None and a <= b,
}


def _odata_tokens(text):
    out, i = [], 0
    while i < len(text):
        if text[i:].strip() == "":
            break
        m = _ODATA_TOKEN.match(text, i)
        if not m or m.end() == i:
            raise ValueError("Invalid filter clause: unexpected text at %d: %r"
                             % (i, text[i:i + 20]))
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        i = m.end()
    return out


def compile_filter(text, props):
    """$filter text -> predicate(attrs) for the typed properties props;
    ValueError (answered 400) for anything else."""
    toks = _odata_tokens(text)
    pos = [0]

    def peek():
        return toks[pos[0]] if pos[0] < len(toks) else (None, None)

    def take():
        t = peek()
        pos[0] += 1
        return t

    def literal(kind, typ, prop):
        k, v = take()
        if k == "word" and v == "null":
            return None
        if typ == "time":
            if k != "lit":
                raise ValueError("Invalid filter clause: %s needs a DateTimeOffset" % prop)
            return parse_time(v)
        if typ == "num":
            if k != "lit" or not re.fullmatch(r"[0-9]+", v):
                raise ValueError("Invalid filter clause: %s needs a number" % prop)
            return int(v)
        if k != "str":
            raise ValueError("Invalid filter clause: %s needs a quoted string" % prop)
        return v[1:-1].replace("''", "'")

    def comparison():
        k, prop = take()
        if k != "word":
            raise ValueError("Invalid filter clause: expected a property name")
        if prop not in props:
            raise ValueError("Invalid filter clause: property '%s' cannot be "
                             "filtered on" % prop)
        k, op = take()
        if op not in _ODATA_OPS:
            raise ValueError("Invalid filter clause: unknown operator %r" % op)
        val = literal(k, props[prop], prop)
        f = _ODATA_OPS[op]
        return lambda a: f(a.get(prop), val)

    def factor():
        k, v = peek()
        if k == "lp":
            take()
            e = expr()
            if take()[0] != "rp":
                raise ValueError("Invalid filter clause: ')' expected")
            return e
        if k == "word" and v == "not":
            take()
            e = factor()
            return lambda a: not e(a)
        return comparison()

    def term():
        left = factor()
        while peek() == ("word", "and"):
            take()
            right = factor()
            left = (lambda l, r: lambda a: l(a) and r(a))(left, right)
        return left

    def expr():
        left = term()
        while peek() == ("word", "or"):
            take()
            right = term()
            left = (lambda l, r: lambda a: l(a) or r(a))(left, right)
        return left

    if not toks:
        return lambda a: True
    e = expr()
    if pos[0] != len(toks):
        raise ValueError("Invalid filter clause: unexpected %r" % (peek()[1],))
    return e


def _alert_attrs(kind, obj):
    """The filterable values of obj (times as ticks)."""
    out = {}
    for prop, typ in ALERT_APIS[kind]["filter"].items():
        v = obj.get(prop[0].lower() + prop[1:])
        if typ == "time" and v is not None:
            v = parse_time(v)
        out[prop] = v
    return out


class RateLimiter:
    """Sliding windows: at most limit requests in any window (ticks)."""

    def __init__(self, limits):
        self.limits = limits  # [[window ticks, limit], ...]; limit <= 0: off
        self.times = []

    def check(self, now):
        """None when the request is allowed (and counted), else the
        Retry-After seconds."""
        longest = max((w for w, _ in self.limits), default=0)
        del self.times[:bisect.bisect_right(self.times, now - longest)]
        for window, limit in self.limits:
            if limit <= 0:
                continue
            i = bisect.bisect_right(self.times, now - window)
            if len(self.times) - i >= limit:
                wait = self.times[i] + window - now
                return max(1, -(-wait // TPS))
        self.times.append(now)
        return None


class AlertStore:
    def __init__(self, kind):
        self.kind = kind
        self.by_id = {}
        self.order = []  # ids in creation order
        self.version = 0
        self.last_lu = 0
        self.selections = {}  # $filter text -> (version, [Alert]); small LRU

    def add(self, alert):
        self.by_id[alert.id] = alert
        self.order.append(alert.id)
        self.last_lu = max(self.last_lu, alert.lu)
        self.version += 1

    def select(self, seed, text, pred):
        """Alerts matching pred in the order of this $filter text, and their
        sort keys (for $skiptoken)."""
        hit = self.selections.get(text)
        if hit is not None and hit[0] == self.version:
            return hit[1], hit[2]
        keyed = sorted(((_hash01(seed, self.kind, text, a.id), a.id), a)
                       for a in self.by_id.values()
                       if pred(a.filter_attrs(self.kind)))
        sel = [a for _, a in keyed]
        keys = [k for k, _ in keyed]
        if len(self.selections) >= 8:
            self.selections.pop(next(iter(self.selections)))
        self.selections[text] = (self.version, sel, keys)
        return sel, keys


class AlertApis:
    """Corpus, paging switches, limiter and statistics of both APIs."""

    def __init__(self, args, start):
        self.args = args
        self.lock = threading.Lock()
        self.audience = {"graph": args.graph_audience, "alerts": args.alerts_audience,
                         "incidents": args.graph_audience}
        self.stores = {k: AlertStore(k) for k in ALERT_APIS}
        self.gens = {k: AlertGen(args.seed, k) for k in ALERT_APIS}
        self.rng = random.Random("%s/updates" % args.seed)
        self.config = {
            "graph_drop_nextlink": args.graph_drop_nextlink,
            "alerts_nextlink": args.alerts_nextlink,
            # Per coming page with $skip > 0: how many alerts already
            # paged past change during that request.
            "update_during_paging": [],
            "update_api": "alerts",
        }
        scale = args.rate_scale
        self.limiters = {
            "graph": RateLimiter([[int(60 * TPS * scale), args.rate_graph_min]]),
            "alerts": RateLimiter([[int(60 * TPS * scale), args.rate_alerts_min],
                                   [int(3600 * TPS * scale), args.rate_alerts_hour]]),
        }
        # One limit for any request on Graph's /security, per app and tenant.
        self.limiters["incidents"] = self.limiters["graph"]
        self.stats = {k: {"rate_limited": 0, "pages": 0, "max_top_seen": 0,
                          "skip_requests": 0, "skiptoken_requests": 0,
                          "nextlinks_sent": 0, "nextlinks_dropped": 0,
                          "prefer_missing": 0, "expand_missing": 0, "updates": 0,
                          "queries": []} for k in ALERT_APIS}
        self.hostile_seq = 0
        counts = {"graph": args.graph_count, "alerts": args.alerts_count,
                  "incidents": getattr(args, "incidents_count", 0)}
        for kind, n in counts.items():
            self._build(kind, n, start)

    def _build(self, kind, n, start):
        a = self.args
        gen, rng = self.gens[kind], self.gens[kind].rng
        lo = start - a.span * TPS
        hi = max(lo, start - 60 * TPS)
        n_hostile = round(n * a.hostile_ratio)
        hostile = set(rng.sample(range(n), min(n_hostile, n)))
        for i in range(n):
            lu = rng.randint(lo, hi)
            if kind == "alerts":
                digits = rng.randrange(1, 8)
                lu -= lu % (10 ** (7 - digits))
            created = lu - rng.randrange(0, 3 * 86400 * TPS)
            obj = gen.make(lu, created)
            ascii_only = True
            if i in hostile:
                ascii_only = self.hostile_seq % 2 == 0
                self.hostile_seq = hostilize_alert(obj, self.hostile_seq)
            self.stores[kind].add(Alert(kind, obj, ascii_only))

    # -- changes -----------------------------------------------------------
    def _bump(self, kind, alert, now):
        """A new version of alert: later last update time, next status."""
        store = self.stores[kind]
        o = alert.obj
        lu = max(now, store.last_lu + 1)
        store.last_lu = lu
        flow = STATUS_FLOW[kind]
        st = o["status"] if o["status"] in flow else flow[0]
        nxt = flow[min(flow.index(st) + 1, len(flow) - 1)]
        o["status"] = nxt
        if nxt == flow[1]:
            o["assignedTo"] = o["assignedTo"] or "secops@contoso.com"
        if nxt == flow[2]:
            cls, det = self.rng.choice(RESOLUTIONS[kind])
            o["classification"], o["determination"] = cls, det
            o["resolvedTime" if kind == "alerts" else "resolvedDateTime"] = format_time(lu, 7)
        if kind != "alerts":
            o["lastUpdateDateTime"] = format_time(lu, 7)
        else:
            o["lastUpdateTime"] = format_time_trimmed(lu)
        alert.lu = lu
        alert.cache = {}
        alert.attrs = None
        store.version += 1
        self.stats[kind]["updates"] += 1
        return {"api": kind, "id": alert.id, "lastUpdate": format_time(lu, 7)}

    def update(self, kinds, n, now, among=None):
        out = []
        with self.lock:
            for kind in kinds:
                store = self.stores[kind]
                pool = among if among is not None else store.order
                for aid in self.rng.sample(pool, min(n, len(pool))):
                    out.append(self._bump(kind, store.by_id[aid], now))
        return out

    def rate_check(self, kind):
        with self.lock:
            ra = self.limiters[kind].check(now_ticks())
            if ra is not None:
                self.stats[kind]["rate_limited"] += 1
        if ra is None:
            return None
        return api_error(429, "Rate limit is exceeded. Try again in %d seconds." % ra,
                         [("Retry-After", str(ra))])

    def set_limits(self, graph_min=None, alerts_min=None, alerts_hour=None):
        with self.lock:
            if graph_min is not None:
                self.limiters["graph"].limits[0][1] = graph_min
            if alerts_min is not None:
                self.limiters["alerts"].limits[0][1] = alerts_min
            if alerts_hour is not None:
                self.limiters["alerts"].limits[1][1] = alerts_hour

    def limits(self):
        return {k: [[w / TPS, n] for w, n in lim.limits]
                for k, lim in self.limiters.items() if k != "incidents"}

    def snapshot(self, kind):
        with self.lock:
            store = self.stores[kind]
            return [store.by_id[i] for i in store.order]

    def report(self):
        with self.lock:
            out = {}
            for kind, st in self.stats.items():
                d = dict(st)
                d["queries"] = list(st["queries"])
                d["corpus"] = len(self.stores[kind].order)
                out[kind] = d
            out.update(self._config_unlocked())
            return out

    def _config_unlocked(self):
        cfg = dict(self.config)
        cfg["update_during_paging"] = list(cfg["update_during_paging"])
        return {"config": cfg, "limits": self.limits()}

    def report_config(self):
        with self.lock:
            return self._config_unlocked()


def _next_link(req, key):
    """This request's URL with a $skiptoken after sort key `key` instead of
    $skip or an earlier $skiptoken: the whole URL, as Graph sends it.  The
    token is a position in the query's order, so the next page starts
    right after the last alert served even when alerts before it left."""
    token = base64.urlsafe_b64encode(json.dumps(key).encode()).decode()
    pairs = [(k, v) for k, v in parse_qsl(req.raw_query, keep_blank_values=True)
             if k.lower() not in ("$skip", "$skiptoken")]
    pairs.append(("$skiptoken", token))
    host = req.headers.get("Host") or "127.0.0.1"
    return "http://%s%s?%s" % (host, req.path,
                               urlencode(pairs, quote_via=quote, safe="$'(),:"))


def _paging_params(req, kind):
    def count(name, default, hi):
        v = req.param(name)
        if v is None or v == "":
            return default
        if not re.fullmatch(r"[0-9]{1,9}", v):
            raise ValueError("Invalid value for %s: %r" % (name, v))
        if int(v) > hi:
            raise ValueError("%s must not exceed %d" % (name, hi))
        return int(v)
    # Graph incidents: at most 50 a page (what peers use and document).
    top = count("$top", 100 if kind == "graph" else 10000,
                50 if kind == "incidents" else 10000)
    skip = count("$skip", 0, 10 ** 9)
    token = req.param("$skiptoken")
    if token is not None:
        try:
            k = json.loads(base64.urlsafe_b64decode(token.encode()))
            token = (float(k[0]), str(k[1]))
        except (ValueError, TypeError, IndexError, KeyError):
            raise ValueError("Invalid $skiptoken") from None
    return top, skip, token


def _alerts_api(sim, req, kind):
    if req.method != "GET":
        return api_error(405)
    apis = req.tenant.alert_apis
    limited = apis.rate_check(kind)
    if limited:
        return limited
    if kind != "alerts":
        limited = sim.app_rate_check()
        if limited:
            return limited
    denied = sim.check_bearer(req, apis.audience[kind])
    if denied:
        return denied
    text = req.param("$filter") or ""
    try:
        top, skip, token = _paging_params(req, kind)
        pred = compile_filter(text, ALERT_APIS[kind]["filter"])
    except ValueError as e:
        return api_error(400, str(e))
    expand = kind == "graph" or (req.param("$expand") or "").lower() == \
        ALERT_APIS[kind].get("expand", "evidence")
    store = apis.stores[kind]
    now = now_ticks()
    with apis.lock:
        st, cfg = apis.stats[kind], apis.config
        sel, keys = store.select(apis.args.seed, text, pred)
        start = skip if token is None else bisect.bisect_right(keys, token)
        if start > 0 and cfg["update_during_paging"] and cfg["update_api"] == kind:
            # Alerts already paged past change and leave the window: the
            # rest of the answer moves up (a $skiptoken keeps its place).
            n = cfg["update_during_paging"].pop(0)
            for a in apis.rng.sample(sel[:start], min(n, start)):
                apis._bump(kind, a, now)
            sel, keys = store.select(apis.args.seed, text, pred)
            start = skip if token is None else bisect.bisect_right(keys, token)
        page = sel[start:start + top]
        more = start + top < len(sel)
        link = None
        if more:
            if kind != "alerts":
                drop = _hash01(apis.args.seed, text, start) < cfg["graph_drop_nextlink"]
            else:
                drop = _hash01(apis.args.seed, text, start) >= cfg["alerts_nextlink"]
            if drop:
                st["nextlinks_dropped"] += 1
            else:
                link = _next_link(req, keys[start + len(page) - 1])
                st["nextlinks_sent"] += 1
        st["pages"] += 1
        st["max_top_seen"] = max(st["max_top_seen"], top)
        st["skip_requests"] += skip > 0 and token is None
        st["skiptoken_requests"] += token is not None
        if kind != "alerts" and "include-unknown-enum-members" not in \
                (req.headers.get("Prefer") or ""):
            st["prefer_missing"] += 1
        if kind != "graph" and not expand:
            st["expand_missing"] += 1
        st["queries"].append({"filter": text, "top": top, "skip": skip,
                              "skiptoken": token is not None,
                              "returned": len(page), "total": len(sel),
                              "nextlink": link is not None, "at": format_time(now)})
        del st["queries"][:-100]
        bodies = [a.body(kind, expand, kind == "alerts" and
                         _hash01(text, start, a.id) < 0.5) for a in page]
    out = [b'{"@odata.context":', json.dumps(ALERT_APIS[kind]["context"]).encode()]
    if (req.param("$count") or "").lower() == "true":
        out.append(b',"@odata.count":%d' % len(sel))
    out.append(b',"value":[')
    out.append(b",".join(bodies))
    out.append(b"]")
    if link is not None:
        out.append(b',"@odata.nextLink":' + json.dumps(link).encode())
    out.append(b"}")
    return Response(200, b"".join(out))


@route(r"/graph/v1\.0/security/alerts_v2/?", "graph")
def graph_alerts(sim, req):
    return _alerts_api(sim, req, "graph")


@route(r"/graph/v1\.0/security/incidents/?", "incidents")
def graph_incidents(sim, req):
    return _alerts_api(sim, req, "incidents")


@route(r"/mde/api/alerts/?", "alerts")
def mde_alerts(sim, req):
    return _alerts_api(sim, req, "alerts")


def _alert_kinds(req):
    api = req.param("api")
    if api is None or api == "":
        return list(ALERT_APIS)
    if api not in ALERT_APIS:
        raise ValueError("api must be one of: %s" % ", ".join(ALERT_APIS))
    return [api]


@route(r"/_sim/alerts", "control")
def ctl_alerts(sim, req):
    if req.method != "GET":
        return api_error(405)
    try:
        kind = _alert_kinds(req)
    except ValueError as e:
        return api_error(400, str(e))
    if len(kind) != 1:
        return api_error(400, "api=graph, api=alerts or api=incidents is required")
    alerts = req.tenant.alert_apis.snapshot(kind[0])
    return Response(200, b"[" + b",".join(a.body(kind[0]) for a in alerts) + b"]")


@route(r"/_sim/update", "control")
def ctl_update(sim, req):
    if req.method != "POST":
        return api_error(405)
    try:
        kinds = _alert_kinds(req)
        n = _control_int(req, "n", 1, 0, 10 ** 6)
    except ValueError as e:
        return api_error(400, str(e))
    return json_response(200, {"updated": req.tenant.alert_apis.update(kinds, n, now_ticks())})


@route(r"/_sim/alerts-config", "control")
def ctl_alerts_config(sim, req):
    apis = req.tenant.alert_apis
    if req.method == "GET":
        return json_response(200, apis.report_config())
    if req.method != "POST":
        return api_error(405)
    try:
        with apis.lock:
            for key in ("graph_drop_nextlink", "alerts_nextlink"):
                if req.param(key) is not None:
                    v = float(req.param(key))
                    if not 0 <= v <= 1:
                        raise ValueError("%s must be within [0, 1]" % key)
                    apis.config[key] = v
            if req.param("update_during_paging") is not None:
                v = req.param("update_during_paging")
                if not re.fullmatch(r"([0-9]{1,6}(,[0-9]{1,6})*)?", v):
                    raise ValueError("update_during_paging: counts, comma separated")
                apis.config["update_during_paging"] = [int(x) for x in v.split(",") if x]
            if req.param("update_api") is not None:
                if req.param("update_api") not in ALERT_APIS:
                    raise ValueError("update_api must be graph or alerts")
                apis.config["update_api"] = req.param("update_api")
        apis.set_limits(
            graph_min=_control_int(req, "rate_graph_min", None, 0, 10 ** 6),
            alerts_min=_control_int(req, "rate_alerts_min", None, 0, 10 ** 6),
            alerts_hour=_control_int(req, "rate_alerts_hour", None, 0, 10 ** 6))
    except ValueError as e:
        return api_error(400, str(e))
    return json_response(200, apis.report_config())


def add_alert_args(p):
    p.add_argument("--graph-count", type=int, default=0,
                   help="alerts in the Graph alerts_v2 corpus")
    p.add_argument("--alerts-count", type=int, default=0,
                   help="alerts in the Alert API corpus")
    p.add_argument("--incidents-count", type=int, default=0,
                   help="incidents in the Graph security/incidents corpus")
    p.add_argument("--graph-drop-nextlink", type=float, default=0.0, metavar="P",
                   help="share of Graph pages sent without @odata.nextLink")
    p.add_argument("--alerts-nextlink", type=float, default=0.0, metavar="P",
                   help="share of Alert API pages sent with @odata.nextLink")
    p.add_argument("--rate-scale", type=float, default=1.0, metavar="F",
                   help="rate-limit windows are F x 60 s and F x 3600 s")
    p.add_argument("--rate-alerts-min", type=int, default=100)
    p.add_argument("--rate-alerts-hour", type=int, default=1500)
    p.add_argument("--rate-graph-min", type=int, default=150)
    p.add_argument("--rate-graph-app", type=int, default=130000,
                   help="Graph requests per 10 s per app across all tenants")
    p.add_argument("--graph-audience", default=GRAPH_AUDIENCE)
    p.add_argument("--alerts-audience", default=ALERTS_AUDIENCE)


def check_alert_args(p, a):
    if min(a.graph_count, a.alerts_count, a.incidents_count) < 0:
        p.error("--graph-count and --alerts-count must not be negative")
    if not (0 <= a.graph_drop_nextlink <= 1 and 0 <= a.alerts_nextlink <= 1):
        p.error("--graph-drop-nextlink and --alerts-nextlink must be within [0, 1]")
    if not 0 < a.rate_scale <= 1:
        p.error("--rate-scale must be within (0, 1]")


# ---------------------------------------------------------------------------
# Control API (no authentication).

def _control_int(req, name, default, lo=0, hi=10 ** 9):
    v = req.param(name)
    if v is None or v == "":
        return default
    if not re.fullmatch(r"-?[0-9]+", v) or not lo <= int(v) <= hi:
        raise ValueError("%s must be an integer in [%d, %d]" % (name, lo, hi))
    return int(v)


def _flag(req, name):
    return (req.param(name) or "0").lower() in ("1", "true", "yes")


@route(r"/_sim/corpus", "control")
def ctl_corpus(sim, req):
    if req.method != "GET":
        return api_error(405)
    want = req.param("hidden")
    now = now_ticks()
    with req.tenant.store.lock:
        recs = list(req.tenant.store.ordered)
    if want is not None:
        hidden = want.lower() in ("1", "true", "yes")
        recs = [r for r in recs if (r.visible_at > now) == hidden]
    return Response(200, b"[" + b",".join(r.json for r in recs) + b"]")


@route(r"/_sim/add", "control")
def ctl_add(sim, req):
    if req.method != "POST":
        return api_error(405)
    try:
        n = _control_int(req, "n", 1, 1, 1_000_000)
        ago = _control_int(req, "ago", 0, 0, 10 ** 7) * TPS
        id_len = _control_int(req, "id_len", 0, 0, 1 << 20)
        desc_len = _control_int(req, "desc_len", 0, 0, 1 << 24)
    except ValueError as e:
        return api_error(400, str(e))
    ids = req.tenant.add_records(n, burst=_flag(req, "burst"), hidden=_flag(req, "hidden"),
                          ago=ago, group=req.param("group"), hostile=_flag(req, "hostile"),
                          id_len=id_len, id_pad=req.param("id_pad"),
                          bad=_flag(req, "bad"), desc_len=desc_len)
    return json_response(200, {"added": ids})


@route(r"/_sim/release", "control")
def ctl_release(sim, req):
    if req.method != "POST":
        return api_error(405)
    return json_response(200, {"released": req.tenant.store.release(now_ticks())})


@route(r"/_sim/expire-tokens", "control")
def ctl_expire(sim, req):
    if req.method != "POST":
        return api_error(405)
    return json_response(200, {"expired": sim.expire_tokens()})


@route(r"/_sim/fault", "control")
def ctl_fault(sim, req):
    if req.method == "DELETE":
        return json_response(200, {"cleared": req.tenant.faults.clear()})
    if req.method == "GET":
        return json_response(200, {"pending": req.tenant.faults.pending()})
    if req.method != "POST":
        return api_error(405)
    try:
        spec = json.loads(req.body.decode("utf-8") or "{}")
        faults = [Fault(s) for s in (spec if isinstance(spec, list) else [spec])]
    except (ValueError, TypeError) as e:
        return api_error(400, "bad fault: %s" % e)
    return json_response(200, {"queued": len(faults), "pending": req.tenant.faults.add(faults)})


RETIRED_NAMES = {"siem": "The SIEM API", "graph": "This Microsoft Graph API",
                 "incidents": "This Microsoft Graph API",
                 "alerts": "The Microsoft Defender for Endpoint API"}
RETIRED_HOW = ("gone", "notfound", "notice")


def retired_response(kind, spec):
    """How a switched-off API answers.  Microsoft documents none
    (reference/mde-api.md 9), so three plausible ones: 410 Gone, the
    generic 404 for every request, or an error (400 unless given) whose
    message says the API was retired."""
    how, status = spec["how"], spec["status"]
    if how == "gone":
        return api_error(410)
    if how == "notfound":
        return api_error(404)
    return api_error(status, "%s has been retired and no longer returns "
                     "data. Use the Microsoft Graph security API."
                     % RETIRED_NAMES.get(kind, "This API"))


@route(r"/_sim/retire", "control")
def ctl_retire(sim, req):
    """POST ?api=siem|graph|alerts&how=gone|notfound|notice[&status=N]:
    the API answers every request, of every tenant, as switched off;
    how=none switches it on again.  GET: what is retired."""
    if req.method == "GET":
        return json_response(200, {"retired": dict(sim.retired)})
    if req.method != "POST":
        return api_error(405)
    kind, how = req.param("api"), req.param("how", "gone")
    if kind not in api_kinds() or kind == "token":
        return api_error(400, "api must be one of: %s" % ", ".join(
            k for k in api_kinds() if k != "token"))
    if how == "none":
        sim.retired.pop(kind, None)
        return json_response(200, {"retired": dict(sim.retired)})
    if how not in RETIRED_HOW:
        return api_error(400, "how must be one of: none, %s" % ", ".join(RETIRED_HOW))
    try:
        status = int(req.param("status", "400"))
    except ValueError:
        status = 0
    if not 400 <= status <= 599:
        return api_error(400, "status must be an HTTP error status")
    sim.retired[kind] = {"how": how, "status": status}
    return json_response(200, {"retired": dict(sim.retired)})


@route(r"/_sim/stats", "control")
def ctl_stats(sim, req):
    if req.method != "GET":
        return api_error(405)
    now = now_ticks()
    with sim.lock:
        out = {
            "requests": dict(sim.stats_requests),
            "status": dict(sim.stats_status),
            "tokens_issued": sim.tokens_issued,
            "assertions": list(sim.assertions),
            "assertion_jti_reuse": sim.jti_reuse,
            "max_limit_seen": sim.max_limit_seen,
            "siem_queries": list(sim.siem_queries),
        }
    out["faults_pending"] = len(req.tenant.faults.pending())
    out["corpus"] = len(req.tenant.store.ordered)
    out["hidden"] = req.tenant.store.hidden_count(now)
    out["start"] = format_time(sim.start)
    out["now"] = format_time(now)
    out["alert_apis"] = req.tenant.alert_apis.report()
    out["tenant"] = req.tenant.id
    out["connections"] = sim.connections
    out["app_rate_limited"] = sim.app_limited
    with sim.lock:
        tenants = list(sim.tenants.values())
    out["tenants"] = {t.id: {"requests": t.describe()["requests"],
                             "tokens_issued": t.tokens_issued} for t in tenants}
    return json_response(200, out)


@route(r"/_sim/tenants", "control")
def ctl_tenants(sim, req):
    """GET: every tenant.  POST ?id=ID[&client_secret=S][&consent=0|1]
    [&count=N][&graph_count=N][&alerts_count=N][&incidents_count=N][&seed=N]: add a tenant, or
    change the secret or consent of an existing one."""
    if req.method == "GET":
        with sim.lock:
            tenants = list(sim.tenants.values())
        return json_response(200, {"tenants": [t.describe() for t in tenants]})
    if req.method != "POST":
        return api_error(405)
    tid = req.param("id")
    if not tid or not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", tid):
        return api_error(400, "id: a tenant id is required")
    try:
        counts = {k: _control_int(req, k, 0, 0, 10 ** 6)
                  for k in ("count", "graph_count", "alerts_count",
                            "incidents_count")}
        seed = _control_int(req, "seed", sim.args.seed + len(sim.tenants), 0, 10 ** 9)
    except ValueError as e:
        return api_error(400, str(e))
    t, added = sim.add_tenant(tid, seed, counts, sim.args.client_secret)
    if req.param("client_secret") is not None:
        t.client_secret = req.param("client_secret")
    if req.param("consent") is not None:
        t.consent = _flag(req, "consent")
    return json_response(200, {"added": added, "tenant": t.describe()})


# ---------------------------------------------------------------------------
# HTTP server.

_TENANT_PREFIX = re.compile(r"/t/([^/]+)(/.*)")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mdesim/1.0"
    sys_version = ""

    def setup(self):
        super().setup()
        with self.server.sim.lock:
            self.server.sim.connections += 1

    def do_GET(self):
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):
        if not self.server.sim.quiet:
            sys.stderr.write("mdesim: %s %s\n" % (self.address_string(), fmt % args))

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                line = self.rfile.readline(1024)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0:
            raise ValueError("negative Content-Length")
        return self.rfile.read(n) if n else b""

    def _dispatch(self):
        sim = self.server.sim
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            self._send(api_error(400, "Unreadable request body."))
            return
        parts = urlsplit(self.path)
        req = Request(self.command, parts.path, parts.query, self.headers, body)
        m = _TENANT_PREFIX.fullmatch(req.path)
        if m:  # /t/{tenant}/...: an API URL that names its tenant
            req.path_tenant, req.path = m.group(1), m.group(2)
        kind, handler = "unknown", None
        for rx, k, fn in ROUTES:
            m = rx.fullmatch(req.path)
            if m:
                req.match, kind, handler = m, k, fn
                break
        req.tenant = sim.request_tenant(req, kind)
        if req.tenant is None:
            self._send(api_error(404, "No such tenant: %s" % (
                req.param("tenant") if kind == "control" else req.path_tenant)))
            return
        sim.count_request(kind, req.tenant if kind != "control" else None)
        gone = sim.retired.get(kind)
        if gone is not None:  # switched off for every tenant, no faults
            resp = retired_response(kind, gone)
            sim.count_status(resp.status)
            self._send(resp)
            return
        fault = req.tenant.faults.take(kind) if kind not in ("control", "unknown") else None
        if fault is not None and not sim.quiet:
            sys.stderr.write("mdesim: fault on %s %s: %s\n" % (
                self.command, req.path,
                {k: v for k, v in fault.describe().items() if v not in (None, False, 0)}))
        try:
            resp, truncate = self._respond(sim, req, handler, fault)
        except Exception as e:  # a simulator bug: say so, keep serving
            if not sim.quiet:
                traceback.print_exc()
            resp, truncate = api_error(500, "mdesim internal error: %r" % e), False
        if kind != "control":
            sim.count_status(resp.status)
        self._send(resp, truncate)

    def _respond(self, sim, req, handler, fault):
        if handler is None:
            return api_error(404, "No such path: %s" % req.path), False
        if fault is None:
            return handler(sim, req), False
        if fault.delay > 0:
            time.sleep(fault.delay)
        if fault.status is not None and fault.status != 200:
            hdrs = []
            if fault.retry_after is not None:
                hdrs.append(("Retry-After", str(fault.retry_after)))
            return api_error(fault.status, None, hdrs), fault.truncate
        if fault.body is not None:
            return Response(200, fault.body), fault.truncate
        resp = handler(sim, req)
        if fault.malformed:
            resp.body = malformed_body(resp.body)
        return resp, fault.truncate

    def _send(self, resp, truncate=False):
        try:
            self.send_response(resp.status)
            for k, v in resp.headers:
                self.send_header(k, v)
            self.send_header("Content-Type", resp.ctype)
            self.send_header("Content-Length", str(len(resp.body)))
            self.end_headers()
            if truncate:
                self.wfile.write(resp.body[:len(resp.body) // 2])
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            else:
                self.wfile.write(resp.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        if not self.sim.quiet:
            exc = sys.exc_info()[1]
            sys.stderr.write("mdesim: connection %s: %r\n" % (client_address, exc))


def write_port_file(path, port):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Loopback Entra ID + Defender SIEM API simulator")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--count", type=int, default=1000, help="detections in the corpus")
    p.add_argument("--span", type=int, default=7200,
                   help="seconds before start over which LastProcessedTimeUtc spreads")
    p.add_argument("--burst", type=int, default=0,
                   help="N detections sharing one LPT plus N within one second")
    p.add_argument("--late", type=int, default=0,
                   help="N detections indexed late (hidden until release)")
    p.add_argument("--late-delay", type=float, default=0,
                   help="seconds after start when late detections appear (0: on release)")
    p.add_argument("--hostile-ratio", type=float, default=0.1)
    p.add_argument("--tenant-id", default="00000000-0000-0000-0000-000000000001")
    p.add_argument("--tenants", type=int, default=1,
                   help="tenants served: --tenant-id, then "
                        "00000000-0000-0000-0000-00000000000K for K = 1, 2, ...; each "
                        "with its own corpus of --count / --graph-count / "
                        "--alerts-count records (seed + index)")
    p.add_argument("--client-id", default="11111111-1111-1111-1111-111111111111")
    p.add_argument("--client-secret", default="sim-secret")
    p.add_argument("--token-lifetime", type=int, default=3599, help="seconds")
    p.add_argument("--token-bytes", type=int, default=32,
                   help="random bytes in an access token (1100 gives a JWT-sized token)")
    p.add_argument("--siem-resource", default="https://graph.windows.net")
    p.add_argument("--client-cert", action="append", metavar="PEM",
                   help="certificate registered for client assertions (repeatable)")
    p.add_argument("--assertion-skew", type=int, default=0, metavar="SEC",
                   help="seconds added to the clock that checks assertion times")
    add_alert_args(p)
    p.add_argument("--tls-cert", metavar="PEM",
                   help="serve https with this certificate (and --tls-key)")
    p.add_argument("--tls-key", metavar="PEM")
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args(argv)
    if (a.tls_cert is None) != (a.tls_key is None):
        p.error("--tls-cert and --tls-key go together")
    check_alert_args(p, a)
    if not 0 <= a.hostile_ratio <= 1:
        p.error("--hostile-ratio must be within [0, 1]")
    if not 1 <= a.tenants <= 100000:
        p.error("--tenants must be within [1, 100000]")
    if min(a.count, a.burst, a.late, a.span) < 0:
        p.error("--count, --burst, --late and --span must not be negative")
    return a


def main(argv=None):
    args = parse_args(argv)
    sim = Sim(args)
    server = Server(("127.0.0.1", args.port), Handler)
    server.sim = sim
    port = server.server_address[1]
    scheme = "http"
    if args.tls_cert:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        scheme = "https"

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("mdesim listening on %s://127.0.0.1:%d" % (scheme, port), flush=True)
    if args.port_file:
        write_port_file(args.port_file, port)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
