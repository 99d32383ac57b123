# SPDX-License-Identifier: MIT
"""systemd/mdesiemd.service as an administrator meets it: `make install`
puts it in place with the daemon's path filled in, systemd parses it
without warnings, and `systemd-analyze security --offline=true` rates its
exposure 2.0 or lower.  Needs systemd-analyze (Debian package "systemd";
it works without systemd running); without it the analysis is skipped
with a line saying so."""

import os
import re
import shutil
import subprocess

import harness as h

R = h.Results()
UNIT = os.path.join(h.TOP, "systemd", "mdesiemd.service")
MAX_EXPOSURE = 2.0


def directives(text):
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")):
            out.append(line)
    return out


def check_text():
    with open(UNIT) as f:
        text = f.read()
    d = directives(text)
    for want in ("Type=notify",
                 "ExecStart=@SBINDIR@/mdesiemd -c /etc/mdesiem/mdesiem.conf",
                 "ExecReload=/bin/sh -c 'kill -HUP $MAINPID'",
                 "RestartPreventExitStatus=78",
                 "DynamicUser=yes",
                 "StateDirectory=mdesiem",
                 "ConfigurationDirectory=mdesiem",
                 "LoadCredential=client_secret:/etc/mdesiem/client_secret",
                 "ProtectSystem=strict",
                 "NoNewPrivileges=yes",
                 "CapabilityBoundingSet=",
                 "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
                 "SystemCallFilter=@system-service",
                 "MemoryDenyWriteExecute=yes",
                 "UMask=0077",
                 "LimitCORE=0",
                 "MemoryMax=2G"):
        R.check(want in d, "unit sets %s" % want)
    R.check(any(x.startswith("WatchdogSec=") for x in d),
            "unit sets WatchdogSec=")


def installed_unit(wd):
    """`make install` into a scratch DESTDIR; the unit it wrote."""
    dest = wd.file("dest")
    p = subprocess.run(["make", "-s", "-C", h.TOP, "install",
                        "DESTDIR=" + dest, "PREFIX=/usr/local",
                        "BUILD=" + h.BUILD],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=600)
    unit = os.path.join(dest, "usr/local/lib/systemd/system/mdesiemd.service")
    R.check(p.returncode == 0 and os.path.exists(unit),
            "make install writes lib/systemd/system/mdesiemd.service")
    if not os.path.exists(unit):
        print(p.stdout.decode("utf-8", "replace")[-2000:])
        return None
    with open(unit) as f:
        text = f.read()
    R.check(re.search(r"@[A-Z_]+@", text) is None,
            "installed unit has no @...@ placeholder left")
    R.check("ExecStart=/usr/local/sbin/mdesiemd -c /etc/mdesiem/mdesiem.conf"
            in directives(text),
            "installed unit runs /usr/local/sbin/mdesiemd")
    R.check(os.path.exists(os.path.join(dest, "usr/local/sbin/mdesiemd")),
            "make install puts the daemon in sbin")
    return unit


def exposure(unit):
    p = subprocess.run(["systemd-analyze", "security", "--offline=true",
                        "--no-pager", unit],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
    out = p.stdout.decode("utf-8", "replace")
    m = re.search(r"Overall exposure level for \S+: ([0-9]+\.[0-9]+)", out)
    if not m:
        print(out[-2000:] + p.stderr.decode("utf-8", "replace")[-2000:])
        return None, out
    return float(m.group(1)), out


def check_analysis(wd, unit):
    # The file name decides the unit name the analysis prints.
    copy = os.path.join(wd.file("a"), "mdesiemd.service")
    os.makedirs(os.path.dirname(copy))
    with open(UNIT) as f:
        text = f.read()
    daemon_dir = os.path.dirname(h.DAEMON)
    with open(copy, "w") as f:
        f.write(text.replace("@SBINDIR@", daemon_dir))

    level, out = exposure(unit or copy)
    R.check(level is not None and level <= MAX_EXPOSURE,
            "systemd-analyze security --offline=true: exposure %s "
            "(at most %.1f)" % (level, MAX_EXPOSURE))
    print("     " + "\n     ".join(
        l for l in out.splitlines() if l.startswith("\u2717")))
    p = subprocess.run(["systemd-analyze", "security", "--offline=true",
                        "--threshold=%d" % int(MAX_EXPOSURE * 10), copy],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=120)
    R.check(p.returncode == 0, "--threshold=%d passes"
            % int(MAX_EXPOSURE * 10))

    p = subprocess.run(["systemd-analyze", "verify", copy],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
    err = p.stderr.decode("utf-8", "replace")
    bad = [l for l in err.splitlines()
           if "mdesiemd.service" in l and
           re.search(r"Unknown|ignoring|Failed|Invalid|not executable", l)]
    R.check(p.returncode == 0 and not bad,
            "systemd-analyze verify: no warnings about the unit %s" % bad)


def main():
    wd = h.Workdir()
    try:
        check_text()
        unit = installed_unit(wd)
        if shutil.which("systemd-analyze") is None:
            print("skip: systemd-analyze not found; install the Debian "
                  "package systemd to run the security analysis")
        else:
            check_analysis(wd, unit)
    finally:
        wd.close()
    R.done()


if __name__ == "__main__":
    main()
