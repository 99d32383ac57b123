#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Parse the CEF corpus written by the test_cef unit test with liblognorm.

test_cef writes every message of its hostile corpus to
$BUILD/tests/cef_lines.txt and what a parser must read from each one to
$BUILD/tests/cef_expected.jsonl (one JSON object per line):

  header    the six header fields after unescaping
  exact     extension keys that must be present with exactly these values
  optional  keys that may be missing (dropped to fit max_len), else exact
  prefix    keys that may be missing or cut to fit a limit: the parsed
            value must be a non-empty prefix of the given one
  max_len   the size limit the message was made for (0: none)
  raw       keys whose value is worked out here from the raw input bytes
            ({"hex": ..., "limit": characters}), independently of the
            formatter: invalid UTF-8 becomes U+FFFD (Python's decoder
            replaces maximal subparts, as the formatter must), controls
            other than CR/LF become spaces, then trim and limit
  raw_name  the raw AlertTitle bytes (hex), for the header Name

This runs lognormalizer (liblognorm, the parser behind rsyslog's
mmnormalize) over the corpus and checks each parsed message against its
expectation.  liblognorm 2.0.6 drops the first character of the first
extension key unless a space follows the header's last '|', so one space
is inserted there before parsing (only when an extension follows).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HEADER_KEYS = ["DeviceVendor", "DeviceProduct", "DeviceVersion",
               "SignatureID", "Name", "Severity"]
LABELED = re.compile(r"^(cs|cn|c6a|cfp|flexString|flexDate|"
                     r"deviceCustomDate)[0-9]$")


def header_end(line):
    """Index just past the 7th unescaped '|', or -1."""
    pipes = 0
    i = 0
    while i < len(line):
        c = line[i:i + 1]
        if c == b"\\":
            i += 2
            continue
        if c == b"|":
            pipes += 1
            if pipes == 7:
                return i + 1
        i += 1
    return -1


DEFAULT_NAME = "Microsoft Defender for Endpoint detection"


def sanitize(raw, header):
    """What a raw value must read as after replacement, before limits."""
    out = []
    for ch in raw.decode("utf-8", "replace"):
        o = ord(ch)
        if o == 0x7F or (o < 0x20 and (header or ch not in "\r\n")):
            ch = " "
        out.append(ch)
    return "".join(out)


def raw_value(spec):
    """The value of a raw pair without max_len: trimmed, then limited."""
    val = sanitize(bytes.fromhex(spec["hex"]), False).strip(" ")
    if spec["limit"] and len(val) > spec["limit"]:
        val = val[:spec["limit"]].rstrip(" ")
    return val


def expected_header(exp):
    hdr = list(exp["header"])
    if "raw_name" in exp:
        name = sanitize(bytes.fromhex(exp["raw_name"]), True)[:512]
        hdr[4] = name if name else DEFAULT_NAME
    return hdr


def check_raw(exp, ext, bad):
    """Raw pairs: exact without max_len, else a prefix or dropped."""
    for key, spec in exp.get("raw", {}).items():
        want = raw_value(spec)
        got = ext.get(key)
        if got is None:
            if want and not exp["max_len"]:
                bad.append("%s missing" % key)
        elif exp["max_len"]:
            if not got or not want.startswith(got):
                bad.append("%s=%r is not a prefix of %r"
                           % (key, got[:60], want[:60]))
        elif got != want:
            bad.append("%s=%r, want %r" % (key, got[:60], want[:60]))


def check(parsed, exp, line):
    """List of problems (empty when the message meets its expectation)."""
    bad = []
    x = parsed.get("x")
    if not isinstance(x, dict):
        return ["liblognorm did not parse it: %s" % json.dumps(parsed)[:300]]
    for key, want in zip(HEADER_KEYS, expected_header(exp)):
        if x.get(key) != want:
            bad.append("header %s=%r, want %r"
                       % (key, str(x.get(key))[:60], want[:60]))
    ext = x.get("Extensions", {})
    check_raw(exp, ext, bad)
    for key in exp["exact"]:
        if key not in ext:
            bad.append("%s missing" % key)
    for key, val in ext.items():
        if key in exp["exact"] or key in exp["optional"]:
            want = exp["exact"].get(key, exp["optional"].get(key))
            if val != want:
                bad.append("%s=%r, want %r" % (key, val[:80], want[:80]))
        elif key in exp.get("raw", {}):
            pass
        elif key in exp["prefix"]:
            if not val or not exp["prefix"][key].startswith(val):
                bad.append("%s=%r is not a prefix of the value"
                           % (key, val[:80]))
        else:
            bad.append("unexpected key %s=%r" % (key, val[:80]))
        if LABELED.match(key) and key + "Label" not in ext:
            bad.append("%s without %sLabel" % (key, key))
        if key.endswith("Label") and key[:-5] not in ext:
            bad.append("%s without %s" % (key, key[:-5]))
    if exp["max_len"] and len(line) > exp["max_len"]:
        bad.append("%d bytes, over max_len %d" % (len(line), exp["max_len"]))
    return bad


def main():
    build = os.environ.get("BUILD") or "build"
    lines_path = os.path.join(build, "tests", "cef_lines.txt")
    exp_path = os.path.join(build, "tests", "cef_expected.jsonl")
    tool = shutil.which("lognormalizer") or "/usr/bin/lognormalizer"
    for path in (lines_path, exp_path, tool):
        if not os.path.exists(path):
            print("missing %s (run build/tests/test_cef first; "
                  "lognormalizer is in liblognorm-utils)" % path)
            print("0 passed, 1 failed")
            return 1

    with open(lines_path, "rb") as f:
        lines = f.read().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    with open(exp_path, encoding="utf-8") as f:
        exps = [json.loads(s) for s in f if s.strip()]
    if not lines or len(lines) != len(exps):
        print("corpus broken: %d lines, %d expectations"
              % (len(lines), len(exps)))
        print("0 passed, 1 failed")
        return 1

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
                              timeout=120, check=False)
    finally:
        os.unlink(rb.name)
    out = [s for s in proc.stdout.split(b"\n") if s.strip()]
    if proc.returncode != 0 or len(out) != len(lines):
        print("lognormalizer failed (rc %d, %d results for %d lines): %s"
              % (proc.returncode, len(out), len(lines),
                 proc.stderr.decode(errors="replace")[:500]))
        print("0 passed, 1 failed")
        return 1

    passed = failed = 0
    for line, exp, res in zip(lines, exps, out):
        try:
            parsed = json.loads(res.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            parsed = {"error": str(e)}
        bad = check(parsed, exp, line)
        if bad:
            failed += 1
            print("FAIL %s: %s" % (exp["name"], "; ".join(bad[:5])))
        else:
            passed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
