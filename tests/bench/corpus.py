# SPDX-License-Identifier: MIT
"""Backlogs for the benchmarks: N detections shaped like the SIEM API's
(the simulator's generator, tests/sim/mdesim.py: the 50 documented keys,
realistic values, about 2 KB each, 1 % hostile), spread over the 30 days
before the last midnight,
sorted by LastProcessedTimeUtc and written one JSON object per line; the
same detections as Graph alerts_v2 objects sorted by lastUpdateDateTime;
and the minimal page windows the floor requests.

Files are cached in the build directory under a name that includes every
input, so a second `make bench` on the same day does not generate them
again."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "sim"))
import mdesim  # noqa: E402

TPS = mdesim.TPS
GEN_VERSION = 2
DAY = 86400 * TPS
SPAN = 30 * DAY
HOSTILE_RATIO = 0.01
TENANT = "00000000-0000-0000-0000-000000000001"


def end_of_backlog():
    """The backlog ends at the last midnight (UTC): like a real one it
    reaches (nearly) up to now, which the daemon's first window ends at,
    and a corpus stays usable for a day."""
    return mdesim.now_ticks() // DAY * DAY


def _detections(n, seed, end):
    """n detections (dicts) with their ASCII-only flag, in LPT order."""
    gen = mdesim.CorpusGenerator(seed)
    rng = gen.rng
    lo, hi = end - SPAN, end - 60 * TPS
    dets = gen.detections(n, lambda: (rng.randint(lo, hi), hi))
    hostile = set(rng.sample(range(n), round(n * HOSTILE_RATIO)))
    out = []
    h = 0
    for i, d in enumerate(dets):
        ascii_only = True
        if i in hostile:
            mdesim.make_hostile(d, h)
            ascii_only = h % 2 == 0  # half are sent as raw UTF-8
            h += 1
        out.append((d, ascii_only))
    out.sort(key=lambda x: (mdesim.parse_time(x[0]["LastProcessedTimeUtc"]),
                            x[0]["FullId"]))
    return out


def _graph_alert(d):
    """A Graph security alert (alerts_v2) carrying detection d, per the
    SIEM-to-Graph mapping (reference/mde-api.md 2.4)."""
    aid = d["AlertId"]
    tags = [t.strip() for t in (d["DeviceCreatedMachineTags"] + "," +
                                d["CloudCreatedMachineTags"]).split(",")
            if t.strip()]
    device = {
        "@odata.type": "#microsoft.graph.security.deviceEvidence",
        "createdDateTime": d["AlertTime"],
        "verdict": "unknown",
        "remediationStatus": "none",
        "remediationStatusDetails": None,
        "mdeDeviceId": d["DeviceID"],
        "azureAdDeviceId": None,
        "deviceDnsName": d["ComputerDnsName"],
        "osPlatform": "Windows10",
        "osBuild": 22631,
        "healthStatus": "active",
        "riskScore": "medium",
        "rbacGroupName": d["MachineGroup"],
        "onboardingStatus": "onboarded",
        "ipInterfaces": [x.strip() for x in d["InternalIPv4List"].split(",")
                         if x.strip()],
        "loggedOnUsers": [{"accountName": u.split("\\")[-1],
                           "domainName": u.split("\\")[0]}
                          for u in d["LogOnUsers"].split("; ") if u],
        "roles": ["compromised"],
        "tags": tags,
    }
    evidence = [device]
    if d["FileName"]:
        evidence.append({
            "@odata.type": "#microsoft.graph.security.fileEvidence",
            "createdDateTime": d["AlertTime"],
            "verdict": "suspicious",
            "remediationStatus": d["RemediationAction"] or "none",
            "detectionStatus": "detected",
            "mdeDeviceId": d["DeviceID"],
            "roles": [],
            "tags": [],
            "fileDetails": {
                "sha1": d["Sha1"], "sha256": d["Sha256"] or None,
                "fileName": d["FileName"], "filePath": d["FilePath"],
                "fileSize": 6136392, "filePublisher": None,
                "signer": None, "issuer": None,
            },
        })
    if d["CommandLine"]:
        evidence.append({
            "@odata.type": "#microsoft.graph.security.processEvidence",
            "createdDateTime": d["AlertTime"],
            "verdict": "suspicious",
            "remediationStatus": "none",
            "processId": 4780,
            "processCommandLine": d["CommandLine"],
            "detectionStatus": "detected",
            "mdeDeviceId": d["DeviceID"],
        })
    if d["UserName"]:
        evidence.append({
            "@odata.type": "#microsoft.graph.security.userEvidence",
            "createdDateTime": d["AlertTime"],
            "verdict": "unknown",
            "remediationStatus": "none",
            "userAccount": {"accountName": d["UserName"],
                            "domainName": d["UserDomain"],
                            "userSid": None, "azureAdUserId": None},
        })
    if d["IpAddress"]:
        evidence.append({
            "@odata.type": "#microsoft.graph.security.ipEvidence",
            "createdDateTime": d["AlertTime"],
            "verdict": "unknown",
            "remediationStatus": "none",
            "ipAddress": d["IpAddress"],
        })
    return {
        "@odata.type": "#microsoft.graph.security.alert",
        "id": aid + "_" + d["IocUniqueId"][:8],
        "providerAlertId": aid,
        "incidentId": str(d["ReportID"] % 100000),
        "status": "new",
        "severity": d["Severity"].lower(),
        "classification": None,
        "determination": None,
        "serviceSource": "microsoftDefenderForEndpoint",
        "detectionSource": {"EDR": "microsoftDefenderForEndpoint",
                            "WindowsDefenderAv": "antivirus"}
        .get(d["Source"], "customTi"),
        "detectorId": d["IoaDefinitionId"],
        "tenantId": TENANT,
        "title": d["AlertTitle"],
        "description": d["Description"],
        "recommendedActions": "Review the device timeline.",
        "category": d["Category"],
        "assignedTo": None,
        "alertWebUrl": d["LinkToMTP"],
        "incidentWebUrl": d["IncidentLinkToMTP"],
        "actorDisplayName": d["Actor"] or None,
        "threatDisplayName": d["ThreatName"] or None,
        "threatFamilyName": d["ThreatFamily"] or None,
        "mitreTechniques": ["T1564.001"],
        "createdDateTime": d["AlertTime"],
        "lastUpdateDateTime": d["LastProcessedTimeUtc"],
        "resolvedDateTime": None,
        "firstActivityDateTime": d["AlertTime"],
        "lastActivityDateTime": d["LastProcessedTimeUtc"],
        "comments": [],
        "evidence": evidence,
    }


def _write(path, lines):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "wb") as f:
        for line in lines:
            f.write(line)
            f.write(b"\n")
    os.replace(tmp, path)


def paths(outdir, n, seed, end):
    base = os.path.join(outdir, "corpus-v%d-%d-%d-%s" % (
        GEN_VERSION, n, seed, mdesim.format_time(end, 0)[:10]))
    return base + ".siem.jsonl", base + ".graph.jsonl"


def make(outdir, n, seed=7, graph=False):
    """Write (or reuse) the corpus files; returns (siem path, graph path or
    None)."""
    os.makedirs(outdir, exist_ok=True)
    end = end_of_backlog()
    siem, gpath = paths(outdir, n, seed, end)
    need_graph = graph and not os.path.exists(gpath)
    if os.path.exists(siem) and not need_graph:
        return siem, gpath if graph else None
    day = mdesim.format_time(end, 0)[:10]
    for old in os.listdir(outdir):
        if old.startswith("corpus-") and day not in old:
            os.unlink(os.path.join(outdir, old))  # an older day's
    dets = _detections(n, seed, end)
    if not os.path.exists(siem):
        _write(siem, (mdesim.serialize(d, a).encode("utf-8")
                      for d, a in dets))
    if need_graph:
        _write(gpath, (mdesim.serialize(_graph_alert(d), a).encode("utf-8")
                       for d, a in dets))
    return siem, gpath if graph else None


def order_times(path, field):
    """The ordering timestamps of a corpus file, as text, in file order."""
    key = ('"%s":"' % field).encode()
    out = []
    with open(path, "rb") as f:
        for line in f:
            i = line.index(key) + len(key)
            out.append(line[i:line.index(b'"', i)].decode())
    return out


def windows(times, page):
    """Minimal inclusive [since, until] windows holding at most `page`
    records each, cut only between distinct times."""
    out = []
    i, n = 0, len(times)
    while i < n:
        j = min(i + page, n)
        # never split records that share a time
        while j < n and j > i + 1 and times[j] == times[j - 1]:
            j -= 1
        out.append((times[i], times[j - 1]))
        i = j
    return out


def first_time(path, field):
    key = ('"%s":"' % field).encode()
    with open(path, "rb") as f:
        line = f.readline()
    i = line.index(key) + len(key)
    return line[i:line.index(b'"', i)].decode()
