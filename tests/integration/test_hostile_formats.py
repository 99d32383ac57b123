#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The hostile corpus through every format, read back by real parsers.

test_cef, test_leef and test_json_out format the hostile corpus
(tests/unit/hostile.h: every string field carries every class of hostile
bytes over the corpus) and write it to $BUILD/tests/hostile.json with
their output next to it, one line per record ("#TOOBIG" where a size
limit cannot hold even the ids).  Here:

  CEF   every line is parsed by liblognorm (lognormalizer, the parser
        behind rsyslog's mmnormalize);
  LEEF  every event is parsed by the strict LEEF parser (leef_parser.py,
        IBM's rules), in 2.0 with '^', 2.0 with TAB (x09) and 1.0;
  JSON  every line is parsed by python3's json module;

and every parsed value is compared with its source value as
formats_model.py works it out from the documented rules: equal, or the
documented substitute, or (under a size limit) a documented prefix or
dropped.  Any shifted header field, forged or duplicated key, split
message or changed value is a failure.
"""

import json
import os
import sys

import formats_model as fm
import harness as h
import leef_parser

R = h.Results()
BUILD = os.environ.get("BUILD") or "build"
DIR = os.path.join(BUILD, "tests")
CEF_HEADER = ["DeviceVendor", "DeviceProduct", "DeviceVersion",
              "SignatureID", "Name", "Severity"]


def load_source():
    with open(os.path.join(DIR, "hostile.json"), "rb") as f:
        data = f.read().decode("utf-8", "surrogateescape")
    return [fm.record({k: fm.from_text(v) for k, v in d.items()})
            for d in json.loads(data)]


def load_lines(name):
    with open(os.path.join(DIR, "hostile.%s.txt" % name), "rb") as f:
        lines = f.read().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


def report(bad, ok_text):
    for b in bad[:12]:
        print("  " + b)
    if len(bad) > 12:
        print("  ... %d more" % (len(bad) - 12))
    R.check(not bad, ok_text)


def check_toobig(recs, lines, limit, what, bad, keys):
    """#TOOBIG only under a limit, and only when the ids alone are big."""
    n = 0
    for i, (rec, line) in enumerate(zip(recs, lines)):
        if line != b"#TOOBIG":
            continue
        n += 1
        header, attrs = keys(rec)
        keep = sum(len(v.encode()) for v in header) + sum(
            len(k) + len(v.encode()) for k, (v, p) in attrs.items()
            if p == "keep" and isinstance(v, str))
        if not limit or keep < limit // 2:
            bad.append("%s record %d: refused as too big (ids %d bytes)"
                       % (what, i, keep))
    return n


def test_cef(recs):
    for name, limit in (("cef", 0), ("cef.2048", 2048)):
        lines = load_lines(name)
        bad = []
        if len(lines) != len(recs):
            bad.append("%d lines for %d records" % (len(lines), len(recs)))
        skipped = check_toobig(recs, lines, limit, name, bad,
                               fm.expect_cef)
        todo = [(i, l.decode("utf-8")) for i, l in enumerate(lines)
                if l != b"#TOOBIG"]
        wd = h.Workdir()
        try:
            parsed = h.lognorm_parse([l for _, l in todo], wd)
        finally:
            wd.close()
        if len(parsed) != len(todo):
            bad.append("liblognorm gave %d results for %d lines"
                       % (len(parsed), len(todo)))
        for (i, line), x in zip(todo, parsed):
            what = "%s record %d" % (name, i)
            if x is None:
                bad.append("%s: liblognorm cannot parse %r"
                           % (what, line[:100]))
                continue
            header, want = fm.expect_cef(recs[i])
            got_hdr = [x.get(k) for k in CEF_HEADER]
            if got_hdr != header:
                bad.append("%s: header %r, want %r" % (
                    what, [str(v)[:30] for v in got_hdr],
                    [v[:30] for v in header]))
            ext = x.get("Extensions", {})
            fm.compare(ext, want, bool(limit), what, bad)
            for key in ext:
                if key.endswith("Label") and key[:-5] not in ext:
                    bad.append("%s: %s without its value" % (what, key))
            if limit and len(line.encode()) > limit:
                bad.append("%s: %d bytes over %d" % (what, len(line),
                                                     limit))
        report(bad, "CEF %s: liblognorm parses all %d lines (%d refused "
               "as too big), every value equals its source or documented "
               "substitute/prefix" % (name, len(todo), skipped))


def test_leef(recs):
    runs = (("leef2", "2.0", "^", 0), ("leef2tab", "2.0", "\t", 0),
            ("leef1", "1.0", "\t", 0), ("leef2.2048", "2.0", "^", 2048),
            ("leef2tab.1024", "2.0", "\t", 1024))
    for name, version, delim, limit in runs:
        lines = load_lines(name)
        bad = []
        if len(lines) != len(recs):
            bad.append("%d lines for %d records" % (len(lines), len(recs)))
        skipped = check_toobig(recs, lines, limit, name, bad,
                               lambda r: fm.expect_leef(r, delim))
        n = 0
        for i, (rec, line) in enumerate(zip(recs, lines)):
            if line == b"#TOOBIG":
                continue
            what = "%s record %d" % (name, i)
            try:
                ev = leef_parser.parse(line)
            except leef_parser.LeefError as e:
                bad.append("%s: %s: %r" % (what, e, line[:100]))
                continue
            n += 1
            header, want = fm.expect_leef(rec, delim)
            if ev.version != version or ev.delimiter != delim:
                bad.append("%s: version %s delimiter %r" % (
                    what, ev.version, ev.delimiter))
            if ev.header != header:
                bad.append("%s: header %r, want %r" % (
                    what, [v[:30] for v in ev.header],
                    [v[:30] for v in header]))
            fm.compare(ev.attrs, want, bool(limit), what, bad)
            if limit and len(line) > limit:
                bad.append("%s: %d bytes over %d" % (what, len(line),
                                                     limit))
        report(bad, "LEEF %s: the strict parser reads all %d events (%d "
               "refused as too big), every value equals its source or "
               "documented substitute/prefix" % (name, n, skipped))


def test_json(recs):
    for name, limit in (("json", 0), ("json.2048", 2048)):
        lines = load_lines(name)
        bad = []
        if len(lines) != len(recs):
            bad.append("%d lines for %d records" % (len(lines), len(recs)))
        skipped = check_toobig(recs, lines, limit, name, bad,
                               lambda r: ([], fm.expect_json(r)))
        n = 0
        for i, (rec, line) in enumerate(zip(recs, lines)):
            if line == b"#TOOBIG":
                continue
            what = "%s record %d" % (name, i)
            try:
                obj = json.loads(line.decode("utf-8"))
            except ValueError as e:
                bad.append("%s: %s" % (what, e))
                continue
            n += 1
            if any(b < 0x20 or b == 0x7F for b in line):
                bad.append("%s: raw control character" % what)
            if "\u2028" in line.decode() or "\u2029" in line.decode():
                bad.append("%s: raw U+2028/U+2029" % what)
            cut = obj.pop("truncated", None)
            if cut is not None and (cut is not True or not limit):
                bad.append("%s: truncated=%r" % (what, cut))
            fm.compare(obj, fm.expect_json(rec), bool(limit), what, bad)
            if limit and len(line) > limit:
                bad.append("%s: %d bytes over %d" % (what, len(line),
                                                     limit))
        report(bad, "JSON %s: json.loads reads all %d lines (%d refused "
               "as too big), every value equals its source (U+FFFD for "
               "invalid UTF-8) or a documented prefix" % (name, n, skipped))


def main():
    try:
        recs = load_source()
    except OSError as e:
        print("missing corpus (run the unit tests first): %s" % e)
        print("0 passed, 1 failed")
        return 1
    R.check(len(recs) >= 200, "hostile corpus has %d records" % len(recs))
    for test in (test_cef, test_leef, test_json):
        try:
            test(recs)
        except OSError as e:
            R.check(False, "%s: %s" % (test.__name__, e))
    R.done()
    return 0


if __name__ == "__main__":
    sys.exit(main())
