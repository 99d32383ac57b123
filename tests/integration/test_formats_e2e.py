#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""End to end, api = siem, for the LEEF and JSON outputs: the simulator
serves detections, a third of them hostile (separators, CR/LF/TAB,
controls, CJK, emoji, lone surrogates, 4,000+ character values, forged
CEF/LEEF/syslog text); mdesiemd --once delivers them over TCP with an
RFC 5424 header to the loopback collector with

  format = leef, leef_version = 2.0, leef_delimiter = ^
  format = leef, leef_version = 2.0, leef_delimiter = x09
  format = leef, leef_version = 1.0
  format = json

Every detection arrives exactly once, every message parses (the strict
LEEF parser, python3's json module) and every value equals its value in
the simulator's /_sim/corpus, or its documented substitute; with max_message_size = 8192 a value may also be
a documented prefix or dropped, and no message exceeds the limit (the
default for tcp, 4096, would skip the hostile records whose ids alone
are longer); --status and the metrics count the messages packed and the
values left out, and one info line names the first record that lost
values."""

import collections
import json
import os
import re

import formats_model as fm
import harness as h
import leef_parser

R = h.Results()
COUNT = 1500


def payload(msg):
    """The message after its RFC 5424 header (7 space-separated fields:
    PRI+VERSION, TIMESTAMP, HOSTNAME, APP-NAME, PROCID, MSGID, SD)."""
    parts = msg.split(b" ", 7)
    return parts[7] if len(parts) == 8 else None


def metric(prom, name):
    with open(os.path.join(prom, "mdesiem.prom")) as f:
        for line in f:
            if line.startswith(name + " "):
                return int(line.split()[1])
    return None


def check_packing(name, conf, prom, err):
    """A limited run: --status and the metrics count what was packed, and
    one info line names the first record that lost values."""
    _, _, out = h.run_daemon(conf, "--status")
    m = re.search(r"max_message_size: (\d+) messages packed to fit "
                  r"\((\d+) values shortened, (\d+) left out\)",
                  out.decode("utf-8", "replace"))
    shortened = metric(prom, "mdesiem_messages_shortened_total")
    dropped = metric(prom, "mdesiem_values_dropped_total")
    R.check(m is not None and int(m.group(1)) > 0 and
            int(m.group(1)) == shortened and int(m.group(3)) == dropped,
            "%s: --status and the metrics count the messages packed (%s) "
            "and values left out (%s)" % (name, shortened, dropped))
    lines = re.findall(r"info\]: record (\S+): \d+ values left out", err)
    R.check(len(lines) == 1,
            "%s: one info line names the first record that lost values "
            "(%s)" % (name, lines[:2]))


def check_run(sim, coll, wd, name, extra, parse, expect, limited, by_id):
    prom = None
    if limited:
        prom = wd.file("prom-" + name)
        os.mkdir(prom)
        extra = dict(extra, **{"metrics.textfile_dir": prom})
    conf = h.write_config(wd, sim, coll, name="%s.conf" % name,
                          state=wd.file("state-" + name), extra=extra)
    n0 = len(coll.messages())
    rc, err, _ = h.run_daemon(conf, "--once")
    R.check(rc == 0, "%s: --once exits 0 (got %d)" % (name, rc))
    if rc != 0:
        print(err[-2000:])
    if limited:
        check_packing(name, conf, prom, err)
    msgs = coll.messages()[n0:]
    bad = []
    seen = collections.Counter()
    nvalues = 0
    for m in msgs:
        body = payload(m)
        if body is None:
            bad.append("no RFC 5424 header: %r" % m[:80])
            continue
        if limited and len(m) > 8192:
            bad.append("%d bytes over max_message_size" % len(m))
        try:
            fid, got, header = parse(body)
        except (ValueError, UnicodeDecodeError) as e:
            bad.append("unparseable: %s: %r" % (e, body[:100]))
            continue
        seen[fid] += 1
        src = by_id.get(fid)
        if src is None:
            bad.append("unknown full id %r" % fid)
            continue
        want_header, want = expect(src)
        if header is not None and header != want_header:
            bad.append("%s: header %r, want %r" % (fid, header,
                                                   want_header))
        fm.compare(got, want, limited, fid, bad)
        nvalues += len(got)
    dups = [k for k, v in seen.items() if v > 1]
    R.check(not dups and set(seen) == set(by_id),
            "%s: every one of the %d detections delivered exactly once "
            "(%d messages, %d duplicates)" % (name, len(by_id), len(msgs),
                                              len(dups)))
    for b in bad[:12]:
        print("  " + b)
    R.check(not bad and nvalues > 0,
            "%s: every message parses; all %d values equal the source or "
            "its documented substitute%s" % (
                name, nvalues, "/prefix" if limited else ""))


def leef_run(version, delim):
    def parse(body):
        ev = leef_parser.parse(body)
        if ev.version != version or ev.delimiter != delim:
            raise ValueError("version %s delimiter %r" % (ev.version,
                                                          ev.delimiter))
        return ev.attrs.get("fullId"), ev.attrs, ev.header
    return parse


def json_run(limited):
    """A parser of JSON lines; "truncated" may only appear, as true, in a
    run with a size limit."""
    def parse(body):
        text = body.decode("utf-8")
        if any(ord(c) < 0x20 or c in "\x7f\u2028\u2029" for c in text):
            raise ValueError("raw control character")
        obj = json.loads(text)
        cut = obj.pop("truncated", None)
        if cut is not None and (cut is not True or not limited):
            raise ValueError("truncated=%r" % (cut,))
        return obj.get("full_id"), obj, None
    return parse


def main():
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, "--count", COUNT, "--hostile-ratio", "0.34",
                    "--seed", 17, "--span", 7200)
        coll = h.Collector(wd)
        corpus = sim.corpus()
        recs = {}
        for d in corpus:
            r = fm.record({k: fm.from_sim(v) for k, v in d.items()})
            recs[fm.text(r["FullId"])] = r
        R.check(len(recs) == len(corpus) >= COUNT,
                "simulator corpus: %d detections" % len(recs))
        big = {"output.max_message_size": "1M"}
        runs = [
            ("leef-caret", dict(big, **{"output.format": "leef",
                                        "output.leef_version": "2.0",
                                        "output.leef_delimiter": "^"}),
             leef_run("2.0", "^"), lambda r: fm.expect_leef(r, "^"), False),
            ("leef-caret-8192", {"output.format": "leef",
                                 "output.leef_delimiter": "^",
                                 "output.max_message_size": "8192"},
             leef_run("2.0", "^"), lambda r: fm.expect_leef(r, "^"), True),
            ("leef-x09", dict(big, **{"output.format": "leef",
                                      "output.leef_version": "2.0",
                                      "output.leef_delimiter": "x09"}),
             leef_run("2.0", "\t"), lambda r: fm.expect_leef(r, "\t"),
             False),
            ("leef-1.0", dict(big, **{"output.format": "leef",
                                      "output.leef_version": "1.0"}),
             leef_run("1.0", "\t"), lambda r: fm.expect_leef(r, "\t"),
             False),
            ("json", dict(big, **{"output.format": "json"}),
             json_run(False), lambda r: (None, fm.expect_json(r)), False),
            ("json-8192", {"output.format": "json",
                           "output.max_message_size": "8192"}, json_run(True),
             lambda r: (None, fm.expect_json(r)), True),
        ]
        for name, extra, parse, expect, limited in runs:
            check_run(sim, coll, wd, name, extra, parse, expect, limited,
                      recs)

        # a delimiter that cannot separate alphanumeric keys is refused
        conf = h.write_config(wd, sim, coll, name="bad.conf",
                              state=wd.file("state-bad"),
                              extra={"output.format": "leef",
                                     "output.leef_delimiter": "a"})
        rc, err, _ = h.run_daemon(conf, "--once")
        R.check(rc == 78 and "[output] leef_delimiter" in err,
                "leef_delimiter = a is refused as a configuration error, "
                "naming the key (rc %d)" % rc)
    finally:
        wd.close()
    R.done()


if __name__ == "__main__":
    main()
