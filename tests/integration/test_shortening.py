#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Parse the shortened messages written by the test_shortening unit test
with real parsers: liblognorm for CEF, the strict LEEF parser for LEEF
(tests/integration/leef_parser.py) and Python's json module.

test_shortening writes every message it had to shorten (hostile corpus
and records with many long values, under budgets from 1 to 8 KiB) to
$BUILD/tests/shortening.{cef,leef,json}.txt, and the number of pairs its
own reader found in each to shortening.FMT.keys.  Each line must parse,
and to exactly that many keys: a cut that broke an escape or a separator
would merge or split pairs.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import leef_parser  # noqa: E402
from test_cef_lognorm import header_end  # noqa: E402


def read(build, fmt):
    base = os.path.join(build, "tests", "shortening." + fmt)
    with open(base + ".txt", "rb") as f:
        lines = f.read().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    with open(base + ".keys") as f:
        keys = [int(s) for s in f if s.strip()]
    return lines, keys


def cef_counts(lines):
    """Extension key count liblognorm reads from each line (None: no parse)."""
    tool = shutil.which("lognormalizer") or "/usr/bin/lognormalizer"
    feed = []
    for line in lines:
        end = header_end(line)
        if 0 < end < len(line):
            line = line[:end] + b" " + line[end:]
        feed.append(line)
    with tempfile.NamedTemporaryFile("w", suffix=".rb", delete=False) as rb:
        rb.write("version=2\nrule=:%x:cef%\n")
    try:
        proc = subprocess.run([tool, "-r", rb.name, "-e", "json"],
                              input=b"\n".join(feed) + b"\n",
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=300, check=False)
    finally:
        os.unlink(rb.name)
    out = [s for s in proc.stdout.split(b"\n") if s.strip()]
    if proc.returncode != 0 or len(out) != len(lines):
        return None
    counts = []
    for res in out:
        x = json.loads(res.decode("utf-8")).get("x")
        counts.append(len(x.get("Extensions", {}))
                      if isinstance(x, dict) else None)
    return counts


def leef_count(line):
    try:
        return len(leef_parser.parse(line).attrs)
    except leef_parser.LeefError:
        return None


def json_count(line):
    try:
        obj = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return len(obj) if isinstance(obj, dict) else None


def main():
    build = os.environ.get("BUILD") or "build"
    passed = failed = 0
    for fmt in ("cef", "leef", "json"):
        try:
            lines, keys = read(build, fmt)
        except OSError as e:
            print("FAIL %s: %s (run build/tests/test_shortening first)"
                  % (fmt, e))
            failed += 1
            continue
        if fmt == "cef":
            counts = cef_counts(lines)
        else:
            fn = leef_count if fmt == "leef" else json_count
            counts = [fn(line) for line in lines]
        if counts is None or len(lines) != len(keys) or len(lines) < 500:
            print("FAIL %s: %d lines, %d key counts, parser gave %s"
                  % (fmt, len(lines), len(keys),
                     "nothing" if counts is None else len(counts)))
            failed += 1
            continue
        bad = [i for i, (c, k) in enumerate(zip(counts, keys)) if c != k]
        for i in bad[:5]:
            print("  line %d: parser read %s keys, the test %d: %s"
                  % (i + 1, counts[i], keys[i], lines[i][:200]))
        ok = not bad and all(len(line) <= 8192 for line in lines)
        print("%s %s: %d shortened messages parse, each to its %s keys"
              % ("ok  " if ok else "FAIL", fmt, len(lines),
                 "CEF extension" if fmt == "cef" else fmt.upper()))
        passed += ok
        failed += not ok
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
