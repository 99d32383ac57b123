# SPDX-License-Identifier: MIT
"""What each output format must carry for a SIEM API detection, worked out
here from the documented rules (README "Output formats", reference/
formats.md), independently of the C formatters, for the format tests.

A detection is given as a dict of SIEM API names to values as cJSON hands
them over: str values as raw bytes (invalid UTF-8 kept), numbers, bools,
None.  For each format, expect_*() returns {key: (value, prio)} where
prio is "keep" (always there, exact), "high" (exact; may be dropped to fit
a size limit, and one text value per message may be cut to the room left
at the end) or "low" (exact; may be cut to a non-empty prefix or
dropped), plus the header fields; check_*() compares a parsed message
with that and lists the differences.
"""

import ipaddress
import re

# ---- the record, as record_from_siem() builds it -------------------------

BOOL_FIELDS = ("RemediationIsSuccess", "WasExecutingWhileDetected")


def parse_bool(b):
    t = b.lower()
    if t == b"true":
        return True
    if t == b"false":
        return False
    if b in (b"1", b"0"):
        return b == b"1"
    return None


def number_text(v):
    v = float(v)
    if -9.2e18 <= v <= 9.2e18 and float(int(v)) == v:
        return str(int(v)).encode()
    return (b"%.17g" % v)


def record(src):
    """{SIEM name: bytes} as the canonical record holds it."""
    r = {}
    for k, v in src.items():
        if v is None:
            continue
        if isinstance(v, bool):
            b = b"true" if v else b"false"
        elif isinstance(v, (int, float)):
            if k in BOOL_FIELDS and v in (0, 1):
                b = b"true" if v == 1 else b"false"
            else:
                b = number_text(v)
        elif isinstance(v, bytes):
            b = v.split(b"\0", 1)[0]   # cJSON strings end at NUL
            if k in BOOL_FIELDS and parse_bool(b) is not None:
                b = b"true" if parse_bool(b) else b"false"
        else:
            continue
        if b:
            r[k] = b
    if r.get("IoaDefinitiondId") and not r.get("IoaDefinitionId"):
        r["IoaDefinitionId"] = r["IoaDefinitiondId"]
    return r


def from_text(v):
    """A value from python's json module (surrogateescape'd bytes)."""
    if isinstance(v, str):
        return v.encode("utf-8", "surrogateescape")
    return v


SURR = re.compile("[\ud800-\udfff]")


def from_sim(v):
    """A value of the simulator's corpus: the daemon turns an escaped lone
    surrogate into U+FFFD before parsing the page."""
    if isinstance(v, str):
        return SURR.sub("\ufffd", v).encode("utf-8")
    return v


# ---- times ----------------------------------------------------------------

TS = re.compile(rb"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):"
                rb"([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?(.*)\Z", re.S)
ZONE = re.compile(rb"([+-])([0-9]{2}):?([0-9]{2})\Z")


def _days(y, m, d):
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _mdays(y, m):
    leap = (y % 4 == 0 and y % 100 != 0) or y % 400 == 0
    return 28 + leap if m == 2 else [31, 28, 31, 30, 31, 30, 31, 31, 30,
                                     31, 30, 31][m - 1]


def ts_parse(b):
    """(seconds, ticks of 100 ns) like ts_parse(), or None."""
    m = TS.match(b or b"")
    if not m:
        return None
    y, mo, d, hh, mi, ss = (int(x) for x in m.groups()[:6])
    if not (1 <= mo <= 12 and 1 <= d <= _mdays(y, mo) and hh <= 23 and
            mi <= 59 and ss <= 60):
        return None
    frac = int(((m.group(7) or b"")[:7]).ljust(7, b"0"))
    zone = m.group(8)
    off = 0
    if zone in (b"", b"Z", b"z"):
        pass
    else:
        z = ZONE.match(zone)
        if not z or int(z.group(2)) > 23 or int(z.group(3)) > 59:
            return None
        off = (int(z.group(2)) * 3600 + int(z.group(3)) * 60) * \
            (-1 if z.group(1) == b"-" else 1)
    ss = min(ss, 59)
    sec = _days(y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss - off
    return sec, frac


def epoch_ms(t):
    return str((t[0] * 10000000 + t[1]) // 10000)


def iso7(t):
    days, rem = divmod(t[0], 86400)
    z = days + 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    y = yoe + era * 400 + (m <= 2)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%07dZ" % (
        y, m, d, rem // 3600, rem % 3600 // 60, rem % 60, t[1])


# ---- text -----------------------------------------------------------------

def text(b):
    """Bytes as text: invalid UTF-8 -> U+FFFD per maximal subpart."""
    return b.decode("utf-8", "replace")


def replace(s, chars, by=" "):
    return "".join(by if c in chars else c for c in s)


C0_DEL = "".join(chr(i) for i in range(32)) + "\x7f"


def limit(s, n):
    if n and len(s) > n:
        return s[:n].rstrip(" ")
    return s


INT_RE = re.compile(rb"-?(?:0|[1-9][0-9]{0,17})\Z")


def is_int(b):
    return bool(INT_RE.match(b)) and len(b.lstrip(b"-")) <= 18


def ip_family(s):
    if "%" in s or "/" in s or not s:
        return 0
    try:
        a = ipaddress.ip_address(s)
    except ValueError:
        return 0
    return a.version


def host_ip(r):
    """The device's first usable address (identSrc)."""
    for field, fam in (("InternalIPv4List", 4), ("InternalIPv6List", 6)):
        for part in re.split(r"[,; \t\r\n]+", text(r.get(field, b""))):
            if ip_family(part) != fam:
                continue
            a = ipaddress.ip_address(part)
            if a.is_loopback or a.is_link_local or a.is_unspecified or \
                    (fam == 4 and a.packed[0] == 0):
                continue
            return part
    return None


def severity_num(r):
    return {"informational": 1, "low": 3, "medium": 5, "high": 8}.get(
        text(r.get("Severity", b"")).lower(), 0)


def fallback_sig(r):
    h = 0xcbf29ce484222325
    for c in r.get("AlertTitle", b""):
        h = ((h ^ c) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return "mde-%016x" % h


def signature(r):
    """CEF's Device Event Class ID before escaping (LEEF's EventID)."""
    s = text(r.get("IoaDefinitionId", b"")).strip(C0_DEL + " ")
    return s if s else fallback_sig(r)


def alert_time(r):
    return ts_parse(r.get("AlertTime"))


# ---- CEF ------------------------------------------------------------------

S, CS = 1023, 4000
# (key, SIEM field, kind, max chars, prio, label key, label)
CEF_MAP = [
    ("externalId", "AlertId", "shortid", 40, "keep", None, None),
    ("mdeAlertId", "AlertId", "longid", CS, "keep", None, None),
    ("cs3", "FullId", "text", CS, "keep", "cs3Label", "FullId"),
    ("rt", "AlertTime", "alerttime", 0, "keep", None, None),
    ("deviceCustomDate1", "LastProcessedTimeUtc", "epoch", 0, "keep",
     "deviceCustomDate1Label", "LastProcessedTimeUtc"),
    ("deviceExternalId", "DeviceID", "text", 255, "keep", None, None),
    ("mdeIncidentId", "IncidentId", "text", CS, "keep", None, None),
    ("mdeLastUpdateTime", "LastUpdateTime", "text", CS, "keep", None, None),
    ("shost", "MachineName", "text", S, "high", None, None),
    ("sourceDnsDomain", "MachineDomain", "text", 255, "high", None, None),
    ("mdeComputerDnsName", "ComputerDnsName", "text", CS, "high", None,
     None),
    ("src", "IpAddress", "ipv4", 0, "high", None, None),
    ("c6a2", "IpAddress", "ipv6", 0, "high", "c6a2Label",
     "Source IPv6 Address"),
    ("suser", "UserName", "text", S, "high", None, None),
    ("sntdom", "UserDomain", "text", 255, "high", None, None),
    ("fileHash", "Sha1", "text", 255, "high", None, None),
    ("cs6", "Sha256", "text", CS, "high", "cs6Label", "Sha256"),
    ("cs5", "Md5", "text", CS, "high", "cs5Label", "Md5"),
    ("mdeFileHash", "FileHash", "text", CS, "high", None, None),
    ("cat", "Category", "text", S, "high", None, None),
    ("sourceServiceName", "Source", "text", S, "high", None, None),
    ("cs1", "ThreatName", "text", CS, "high", "cs1Label", "ThreatName"),
    ("mdeThreatFamily", "ThreatFamily", "text", CS, "high", None, None),
    ("mdeThreatCategory", "ThreatCategory", "text", CS, "high", None, None),
    ("cs4", "Actor", "text", CS, "high", "cs4Label", "Actor"),
    ("act", "RemediationAction", "text", 63, "high", None, None),
    ("cn2", "RemediationIsSuccess", "bool", 0, "high", "cn2Label",
     "RemediationIsSuccess"),
    ("cn1", "WasExecutingWhileDetected", "bool", 0, "high", "cn1Label",
     "WasExecutingWhileDetected"),
    ("cn3", "AlertPart", "int", 0, "high", "cn3Label", "AlertPart"),
    ("cs2", "MachineGroup", "text", CS, "high", "cs2Label", "MachineGroup"),
    ("mdeReportId", "ReportID", "text", CS, "high", None, None),
    ("mdeIocUniqueId", "IocUniqueId", "text", CS, "high", None, None),
    ("mdeExternalId", "ExternalId", "text", CS, "high", None, None),
    ("mdeStatus", "Status", "text", CS, "high", None, None),
    ("mdeClassification", "Classification", "text", CS, "high", None,
     None),
    ("mdeDetermination", "Determination", "text", CS, "high", None, None),
    ("mdeAssignedTo", "AssignedTo", "text", CS, "high", None, None),
    ("mdeServiceSource", "ServiceSource", "text", CS, "high", None, None),
    ("mdeAlertCreationTime", "AlertCreationTime", "text", CS, "high", None,
     None),
    ("mdeProductName", "ProductName", "text", CS, "high", None, None),
    ("mdeAlertPolicyId", "AlertPolicyId", "text", CS, "high", None, None),
    ("mdeInvestigationState", "InvestigationState", "text", CS, "high", None,
     None),
    ("fname", "FileName", "text", S, "low", None, None),
    ("filePath", "FilePath", "text", S, "low", None, None),
    ("msg", "Description", "text", S, "low", None, None),
    ("mdeCommandLine", "CommandLine", "text", CS, "low", None, None),
    ("request", "Url", "text", S, "low", None, None),
    ("mdeIocName", "IocName", "text", CS, "low", None, None),
    ("mdeIocValue", "IocValue", "text", CS, "low", None, None),
    ("mdeCreatorIocName", "CreatorIocName", "text", CS, "low", None, None),
    ("mdeCreatorIocValue", "CreatorIocValue", "text", CS, "low", None,
     None),
    ("suid", "LogOnUsers", "text", S, "low", None, None),
    ("mdeInternalIPv4List", "InternalIPv4List", "text", CS, "low", None,
     None),
    ("mdeInternalIPv6List", "InternalIPv6List", "text", CS, "low", None,
     None),
    ("mdeDeviceCreatedMachineTags", "DeviceCreatedMachineTags", "text", CS,
     "low", None, None),
    ("mdeCloudCreatedMachineTags", "CloudCreatedMachineTags", "text", CS,
     "low", None, None),
    ("mdeMitreTechniques", "MitreTechniques", "text", CS, "low", None,
     None),
    ("flexString1", "LinkToWDATP", "text", S, "low", "flexString1Label",
     "LinkToWDATP"),
    ("flexString2", "IncidentLinkToWDATP", "text", S, "low",
     "flexString2Label", "IncidentLinkToWDATP"),
    ("mdeLinkToMTP", "LinkToMTP", "text", CS, "low", None, None),
    ("mdeIncidentLinkToMTP", "IncidentLinkToMTP", "text", CS, "low", None,
     None),
    ("mdeIpAddress", "IpAddress", "notip", CS, "low", None, None),
    ("mdeCustomDetails", "CustomDetails", "text", CS, "low", None, None),
    ("mdeAdditionalData", "AdditionalData", "text", CS, "low", None, None),
]


def kind_value(r, field, kind, lim, clean):
    """The text a row of kind carries for r, or None (clean: the format's
    sanitising of a text value, before trimming and limits)."""
    raw = r.get(field, b"")
    if kind == "text":
        v = limit(clean(text(raw)).strip(" "), lim)
        return v or None
    if kind == "bool":
        b = parse_bool(raw) if raw else None
        return None if b is None else b
    if kind == "int":
        return raw.decode() if raw and is_int(raw) else None
    if kind == "epoch":
        t = ts_parse(raw)
        return epoch_ms(t) if t else None
    if kind == "alerttime":
        t = alert_time(r)
        return epoch_ms(t) if t else None
    trimmed = clean(text(raw)).strip(" ")
    if not trimmed:
        return None
    if kind in ("shortid", "longid"):
        short = len(trimmed) <= 40
        if short != (kind == "shortid"):
            return None
        return limit(trimmed, lim)
    fam = ip_family(trimmed)
    if (kind == "ipv4" and fam == 4) or (kind == "ipv6" and fam == 6) or \
            (kind == "notip" and fam == 0):
        return limit(trimmed, lim)
    return None


def cef_clean(s):
    return replace(s, "".join(c for c in C0_DEL if c not in "\r\n"))


def expect_cef(r):
    attrs = {}
    for key, field, kind, lim, prio, lkey, label in CEF_MAP:
        v = kind_value(r, field, kind, lim, cef_clean)
        if v is None:
            continue
        if isinstance(v, bool):
            v = "1" if v else "0"
        attrs[key] = (v, prio)
        if lkey:
            attrs[lkey] = (label, prio)
    title = text(r.get("AlertTitle", b""))
    # header fields are not trimmed; controls (CR, LF too) become spaces
    name = replace(title, C0_DEL)[:512] if title else \
        "Microsoft Defender for Endpoint detection"
    header = ["Microsoft", "Microsoft Defender ATP", "2.0",
              replace(signature(r), C0_DEL)[:1023], name,
              str(severity_num(r))]
    return header, attrs


# ---- LEEF -----------------------------------------------------------------

# (key, SIEM field, kind, max chars, prio)
LEEF_MAP = [
    ("devTime", "AlertTime", "alerttime", 0, "keep"),
    ("sev", "Severity", "sev", 0, "keep"),
    ("alertId", "AlertId", "text", 0, "keep"),
    ("fullId", "FullId", "text", 0, "keep"),
    ("lastProcessedTime", "LastProcessedTimeUtc", "text", 0, "keep"),
    ("deviceId", "DeviceID", "text", 255, "keep"),
    ("incidentId", "IncidentId", "text", 0, "keep"),
    ("lastUpdateTime", "LastUpdateTime", "text", 0, "keep"),
    ("cat", "Category", "text", 0, "high"),
    ("identSrc", "InternalIPv4List", "hostip", 0, "high"),
    ("identHostName", "ComputerDnsName", "text", 255, "high"),
    ("resource", "MachineName", "text", 0, "high"),
    ("src", "IpAddress", "ip", 0, "high"),
    ("usrName", "UserName", "text", 255, "high"),
    ("domain", "UserDomain", "text", 0, "high"),
    ("policy", "Source", "text", 0, "high"),
    ("machineDomain", "MachineDomain", "text", 0, "high"),
    ("sha1", "Sha1", "text", 0, "high"),
    ("sha256", "Sha256", "text", 0, "high"),
    ("md5", "Md5", "text", 0, "high"),
    ("fileHash", "FileHash", "text", 0, "high"),
    ("threatName", "ThreatName", "text", 0, "high"),
    ("threatFamily", "ThreatFamily", "text", 0, "high"),
    ("threatCategory", "ThreatCategory", "text", 0, "high"),
    ("actor", "Actor", "text", 0, "high"),
    ("remediationAction", "RemediationAction", "text", 0, "high"),
    ("remediationIsSuccess", "RemediationIsSuccess", "bool", 0, "high"),
    ("wasExecutingWhileDetected", "WasExecutingWhileDetected", "bool", 0,
     "high"),
    ("alertPart", "AlertPart", "int", 0, "high"),
    ("machineGroup", "MachineGroup", "text", 0, "high"),
    ("reportId", "ReportID", "text", 0, "high"),
    ("iocUniqueId", "IocUniqueId", "text", 0, "high"),
    ("externalId", "ExternalId", "text", 0, "high"),
    ("status", "Status", "text", 0, "high"),
    ("classification", "Classification", "text", 0, "high"),
    ("determination", "Determination", "text", 0, "high"),
    ("assignedTo", "AssignedTo", "text", 0, "high"),
    ("serviceSource", "ServiceSource", "text", 0, "high"),
    ("alertCreationTime", "AlertCreationTime", "text", 0, "high"),
    ("productName", "ProductName", "text", 0, "high"),
    ("alertPolicyId", "AlertPolicyId", "text", 0, "high"),
    ("investigationState", "InvestigationState", "text", 0, "high"),
    ("alertTitle", "AlertTitle", "text", 0, "low"),
    ("fileName", "FileName", "text", 0, "low"),
    ("filePath", "FilePath", "text", 0, "low"),
    ("description", "Description", "text", 0, "low"),
    ("commandLine", "CommandLine", "text", 0, "low"),
    ("url", "Url", "text", 0, "low"),
    ("iocName", "IocName", "text", 0, "low"),
    ("iocValue", "IocValue", "text", 0, "low"),
    ("creatorIocName", "CreatorIocName", "text", 0, "low"),
    ("creatorIocValue", "CreatorIocValue", "text", 0, "low"),
    ("logOnUsers", "LogOnUsers", "text", 0, "low"),
    ("internalIPv4List", "InternalIPv4List", "text", 0, "low"),
    ("internalIPv6List", "InternalIPv6List", "text", 0, "low"),
    ("deviceCreatedMachineTags", "DeviceCreatedMachineTags", "text", 0,
     "low"),
    ("cloudCreatedMachineTags", "CloudCreatedMachineTags", "text", 0,
     "low"),
    ("mitreTechniques", "MitreTechniques", "text", 0, "low"),
    ("alertUrl", "LinkToMTP", "text", 0, "low"),
    ("incidentUrl", "IncidentLinkToMTP", "text", 0, "low"),
    ("linkToWDATP", "LinkToWDATP", "text", 0, "low"),
    ("incidentLinkToWDATP", "IncidentLinkToWDATP", "text", 0, "low"),
    ("ipAddress", "IpAddress", "notip", 0, "low"),
    ("customDetails", "CustomDetails", "text", 0, "low"),
    ("additionalData", "AdditionalData", "text", 0, "low"),
]


def expect_leef(r, delim):
    """delim: the attribute delimiter ("\\t" for 1.0)."""
    def clean(s):
        return replace(s, C0_DEL + delim)

    attrs = {}
    for key, field, kind, lim, prio in LEEF_MAP:
        if kind == "sev":
            v = str(severity_num(r) or 1)
        elif kind == "hostip":
            v = host_ip(r)
        elif kind == "ip":
            v = kind_value(r, field, "ipv4", lim, clean) or \
                kind_value(r, field, "ipv6", lim, clean)
        else:
            v = kind_value(r, field, kind, lim, clean)
        if v is None:
            continue
        if isinstance(v, bool):
            v = "true" if v else "false"
        attrs[key] = (v, prio)
    sig = signature(r)
    eid = limit(replace(sig, C0_DEL + "|").strip(" "), 255)
    header = ["Microsoft", "Microsoft Defender ATP", "2.0",
              eid or fallback_sig(r)]
    return header, attrs


# ---- JSON -----------------------------------------------------------------

# (key, SIEM field, kind, prio); the order is the output order
JSON_MAP = [
    ("alert_id", "AlertId", "text", "keep"),
    ("full_id", "FullId", "text", "keep"),
    ("alert_time", "AlertTime", "alerttime", "keep"),
    ("last_processed_time", "LastProcessedTimeUtc", "iso", "keep"),
    ("last_update_time", "LastUpdateTime", "iso", "keep"),
    ("device_id", "DeviceID", "text", "keep"),
    ("incident_id", "IncidentId", "text", "keep"),
    ("severity", "Severity", "text", "high"),
    ("category", "Category", "text", "high"),
    ("ioa_definition_id", "IoaDefinitionId", "text", "high"),
    ("detection_source", "Source", "text", "high"),
    ("service_source", "ServiceSource", "text", "high"),
    ("status", "Status", "text", "high"),
    ("classification", "Classification", "text", "high"),
    ("determination", "Determination", "text", "high"),
    ("assigned_to", "AssignedTo", "text", "high"),
    ("alert_creation_time", "AlertCreationTime", "iso", "high"),
    ("computer_dns_name", "ComputerDnsName", "text", "high"),
    ("machine_name", "MachineName", "text", "high"),
    ("machine_domain", "MachineDomain", "text", "high"),
    ("ip_address", "IpAddress", "text", "high"),
    ("user_name", "UserName", "text", "high"),
    ("user_domain", "UserDomain", "text", "high"),
    ("sha1", "Sha1", "text", "high"),
    ("sha256", "Sha256", "text", "high"),
    ("md5", "Md5", "text", "high"),
    ("file_hash", "FileHash", "text", "high"),
    ("threat_name", "ThreatName", "text", "high"),
    ("threat_family", "ThreatFamily", "text", "high"),
    ("threat_category", "ThreatCategory", "text", "high"),
    ("actor", "Actor", "text", "high"),
    ("remediation_action", "RemediationAction", "text", "high"),
    ("remediation_is_success", "RemediationIsSuccess", "bool", "high"),
    ("was_executing_while_detected", "WasExecutingWhileDetected", "bool",
     "high"),
    ("alert_part", "AlertPart", "int", "high"),
    ("report_id", "ReportID", "int", "high"),
    ("machine_group", "MachineGroup", "text", "high"),
    ("ioc_unique_id", "IocUniqueId", "text", "high"),
    ("external_id", "ExternalId", "text", "high"),
    ("product_name", "ProductName", "text", "high"),
    ("alert_policy_id", "AlertPolicyId", "text", "high"),
    ("investigation_state", "InvestigationState", "text", "high"),
    ("alert_title", "AlertTitle", "text", "low"),
    ("description", "Description", "text", "low"),
    ("file_name", "FileName", "text", "low"),
    ("file_path", "FilePath", "text", "low"),
    ("command_line", "CommandLine", "text", "low"),
    ("url", "Url", "text", "low"),
    ("ioc_name", "IocName", "text", "low"),
    ("ioc_value", "IocValue", "text", "low"),
    ("creator_ioc_name", "CreatorIocName", "text", "low"),
    ("creator_ioc_value", "CreatorIocValue", "text", "low"),
    ("logon_users", "LogOnUsers", "text", "low"),
    ("internal_ipv4_list", "InternalIPv4List", "text", "low"),
    ("internal_ipv6_list", "InternalIPv6List", "text", "low"),
    ("device_created_tags", "DeviceCreatedMachineTags", "text", "low"),
    ("cloud_created_tags", "CloudCreatedMachineTags", "text", "low"),
    ("mitre_techniques", "MitreTechniques", "text", "low"),
    ("link_to_wdatp", "LinkToWDATP", "text", "low"),
    ("incident_link_to_wdatp", "IncidentLinkToWDATP", "text", "low"),
    ("link_to_mtp", "LinkToMTP", "text", "low"),
    ("incident_link_to_mtp", "IncidentLinkToMTP", "text", "low"),
    # then custom_details, additional_data (Graph's dictionaries, written
    # as objects) and evidence: a SIEM detection has none of them
]

# characters a JSON value keeps at most (cut without trimming blanks)
JSON_LIMITS = {"device_id": 255}


def expect_json(r):
    attrs = {"schema_version": (1, "keep"), "source_api": ("siem", "keep")}
    for key, field, kind, prio in JSON_MAP:
        raw = r.get(field, b"")
        v = None
        if kind == "text":
            v = text(raw)[:JSON_LIMITS.get(key)] if raw else None
        elif kind == "iso":
            t = ts_parse(raw)
            v = iso7(t) if t else None
        elif kind == "alerttime":
            t = alert_time(r)
            v = iso7(t) if t else None
        elif kind == "bool":
            v = parse_bool(raw) if raw else None
        elif kind == "int":
            v = int(raw) if raw and is_int(raw) else None
        if v is not None:
            attrs[key] = (v, prio)
    return attrs


# ---- comparing ------------------------------------------------------------

def compare(got, want, limited, what, bad):
    """got: {key: value} parsed; want: {key: (value, prio)}."""
    high_cut = 0
    for key, (val, prio) in want.items():
        g = got.get(key)
        if g is None:
            if prio == "keep" or not limited:
                bad.append("%s: %s missing (want %r)" % (what, key,
                                                        str(val)[:60]))
            continue
        if g == val:
            continue
        if limited and prio in ("low", "high") and isinstance(g, str) and \
                g and isinstance(val, str) and val.startswith(g):
            high_cut += prio == "high"
            if high_cut > 1:
                bad.append("%s: %s cut, a second kept-whole value cut"
                           % (what, key))
            continue
        bad.append("%s: %s=%r, want %r" % (what, key, str(g)[:60],
                                           str(val)[:60]))
    for key in got:
        if key not in want:
            bad.append("%s: unexpected key %s=%r" % (what, key,
                                                     str(got[key])[:60]))
