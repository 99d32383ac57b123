# SPDX-License-Identifier: MIT
"""End to end, api = siem: the simulator holds 20,000 detections with bursts
larger than page_size inside one second (and on one identical timestamp),
late-indexed detections and hostile strings; mdesiemd --once delivers each
FullId exactly once over TCP, a second --once delivers nothing, and every
line parsed back by liblognorm carries the source values."""

import collections
import re
import sys

import harness as h

R = h.Results()
PAGE = 500

# CEF key -> SIEM field, for the fields compared value by value.
CEF_KEYS = {
    "cat": "Category", "sourceServiceName": "Source", "shost": "MachineName",
    "fname": "FileName", "filePath": "FilePath", "sntdom": "UserDomain",
    "suser": "UserName", "fileHash": "Sha1", "cs6": "Sha256", "cs5": "Md5",
    "cs1": "ThreatName", "cs4": "Actor", "request": "Url",
    "flexString1": "LinkToWDATP", "sourceDnsDomain": "MachineDomain",
    "suid": "LogOnUsers", "msg": "Description", "act": "RemediationAction",
    "deviceExternalId": "DeviceID", "cs2": "MachineGroup", "cs3": "FullId",
    "flexString2": "IncidentLinkToWDATP",
    "mdeComputerDnsName": "ComputerDnsName", "mdeCommandLine": "CommandLine",
    "mdeThreatFamily": "ThreatFamily",
}
HEADER_KEYS = {"Name": "AlertTitle"}
SURR = re.compile("[\ud800-\udfff]")
FFFD_RUN = re.compile("\ufffd+")


def clean(v):
    """What a value must look like after CEF: controls other than CR/LF
    become spaces, invalid UTF-8 becomes U+FFFD, ends trimmed."""
    if v is None:
        return ""
    v = str(v)
    v = SURR.sub("\ufffd", v)
    v = "".join(" " if (ord(c) < 32 and c not in "\r\n") or ord(c) == 127
                else c for c in v)
    return FFFD_RUN.sub("\ufffd", v.strip(" "))


def same(parsed, source, key):
    want = clean(source)
    got = FFFD_RUN.sub("\ufffd", parsed)
    if got == want:
        return True
    # A documented per-key length limit keeps a prefix.
    return len(got) >= 63 and want.startswith(got.rstrip(" "))


def check_values(parsed_lines, by_id, what):
    bad = []
    checked = 0
    for x in parsed_lines:
        if x is None:
            bad.append("unparsed line")
            continue
        ext = x.get("Extensions", {})
        src = by_id.get(ext.get("cs3"))
        if src is None:
            bad.append("unknown FullId %r" % ext.get("cs3"))
            continue
        for key, field in CEF_KEYS.items():
            want = clean(src.get(field))
            if want == "":
                if key in ext:
                    bad.append("%s present for empty %s" % (key, field))
                continue
            checked += 1
            if key not in ext or not same(ext[key], src.get(field), key):
                bad.append("%s: %s=%r, source %s=%r" % (
                    ext.get("cs3"), key, ext.get(key), field,
                    src.get(field)))
        for key, field in HEADER_KEYS.items():
            # In the header CR and LF cannot be escaped: they are spaces.
            hv = str(src.get(field) or "").replace("\r", " ").replace(
                "\n", " ")
            if clean(hv) and not same(x.get(key, "").strip(" "), hv, key):
                bad.append("%s: header %s=%r" % (ext.get("cs3"), key,
                                                 x.get(key)))
        sev = {"Informational": "1", "Low": "3", "Medium": "5",
               "High": "8"}.get(src.get("Severity"), "0")
        if x.get("Severity") != sev:
            bad.append("severity %r for %r" % (x.get("Severity"),
                                               src.get("Severity")))
    for b in bad[:10]:
        print("  " + b)
    R.check(not bad and checked > 0,
            "%s: liblognorm parses every line, %d values equal the source"
            % (what, checked))


def delivered_ids(coll, wd):
    lines = [h.cef_payload(m) for m in coll.messages()]
    parsed = h.lognorm_parse([l for l in lines if l], wd)
    ids = [p.get("Extensions", {}).get("cs3") if p else None
           for p in parsed]
    return lines, parsed, ids


def main():
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, "--count", 20000, "--burst", 5 * PAGE, "--late", 40,
                    "--hostile-ratio", "0.1", "--seed", 7, "--span", 7200)
        coll = h.Collector(wd)
        # Values are compared whole here; shortening to max_message_size
        # is checked on its own below and in the format tests.
        conf = h.write_config(wd, sim, coll,
                              extra={"source.page_size": str(PAGE),
                                     "output.max_message_size": "1M"})
        corpus = sim.corpus()
        by_id = {d["FullId"]: d for d in corpus}
        rc, err, _ = h.run_daemon(conf, "--once")
        R.check(rc == 0, "first --once exits 0 (got %d)" % rc)
        if rc != 0:
            print(err[-3000:])
        lines, parsed, ids = delivered_ids(coll, wd)
        counts = collections.Counter(ids)
        dups = [k for k, n in counts.items() if n > 1]
        R.check(not dups, "no FullId delivered twice (%d dups)" % len(dups))
        R.check(None not in counts, "every line carries its FullId")
        late = set(by_id) - set(counts)
        R.check(len(late) == 40, "every visible detection delivered, only "
                "the 40 late-indexed ones missing (%d missing)" % len(late))
        R.check(all(l and "\n" not in l for l in lines),
                "one message per line, no raw LF inside")
        check_values(parsed, by_id, "first run")
        stats = sim.stats()
        R.check(stats.get("max_limit_seen", 0) <= PAGE,
                "requests use limit <= page_size")

        # Late-indexed detections appear; the overlap re-read finds them.
        sim.call("POST", "/_sim/release")
        n_before = len(coll.messages())
        rc, err, _ = h.run_daemon(conf, "--once")
        R.check(rc == 0, "second --once exits 0")
        lines, parsed, ids = delivered_ids(coll, wd)
        new = collections.Counter(ids[n_before:])
        R.check(set(new) == late and all(n == 1 for n in new.values()),
                "second run delivers exactly the %d late-indexed ones "
                "(got %d)" % (len(late), len(new)))

        n_before = len(coll.messages())
        rc, err, _ = h.run_daemon(conf, "--once")
        R.check(rc == 0 and len(coll.messages()) == n_before,
                "third --once delivers nothing")
        R.check("0 delivered" in err or "run complete" in err,
                "summary line logged")
    finally:
        wd.close()
    R.done()


if __name__ == "__main__":
    main()
