# SPDX-License-Identifier: MIT
"""`mdesiemd -n` refuses exactly what a start refuses.  Every configuration
under tests/data/config goes through `mdesiemd -n` and through a real
start of the daemon, and both must give the same verdict: exit 78 (a
configuration error, which systemd does not restart) or not.  A start that
gets as far as "started" is stopped with SIGTERM.

The start runs in a network namespace of its own (unshare -n, or -rn as
a user), so that a configuration naming Microsoft's or example.com's hosts
reaches nothing.  Each configuration is copied into a scratch directory
(mode 0600, as one holding a secret must be); a [state] directory or
[metrics] textfile_dir that exists on this machine is replaced by an empty
scratch one, and one is added when none is given, so that a start writes
nothing outside the scratch directory.  Neither change can alter a verdict:
an existing directory is accepted either way."""

import glob
import os
import re
import subprocess
import time

import harness as h

R = h.Results()
DATA = os.path.join(h.TOP, "tests", "data", "config")
SECTION = re.compile(r"^\s*\[([^\]]*)\]")
KEY = re.compile(r"^\s*([A-Za-z_]+)\s*=\s*(.*?)\s*$")
SCRATCH_KEYS = {("state", "directory"), ("metrics", "textfile_dir")}

# What each configuration added for a moved rule must get (78: refused).
EXPECT = {
    "errors.conf": 78,
    "leef_delimiter_letter.conf": 78,
    "leef_delimiter_letter_cef.conf": 78,
    "ca_file_missing.conf": 78,
    "tls_ca_file_missing.conf": 78,
    "secret_file_missing.conf": 78,
    "state_parent_missing.conf": 78,
    "textfile_dir_missing.conf": 78,
    "graph_minimal.conf": 0,
    "leef_delimiter_tab.conf": 0,
    "kafka_minimal.conf": 0,
    "kafka_event_hubs.conf": 0,
    "kafka_unknown_property.conf": 78,
    "kafka_bad_value.conf": 78,
    "kafka_acks_idempotence.conf": 78,
    "kafka_password_file_missing.conf": 78,
    "kafka_ca_location_missing.conf": 78,
    "kafka_topic_bad.conf": 78,
    "kafka_keys_without_kafka.conf": 78,
}


def netns_prefix():
    """The unshare command that gives a process no network, or None."""
    for pre in (["unshare", "-n"], ["unshare", "-rn"]):
        try:
            p = subprocess.run(pre + ["true"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=30)
        except OSError:
            return None
        if p.returncode == 0:
            return pre
    return None


def private_copy(wd, src):
    """src copied for both runs, directories that exist made scratch."""
    name = os.path.basename(src)
    base = wd.file(name[:-len(".conf")])
    os.makedirs(base)
    out, section, seen = [], "", set()
    with open(src, encoding="utf-8", errors="surrogateescape") as f:
        lines = f.read().split("\n")
    for line in lines:
        m = SECTION.match(line)
        if m:
            section = m.group(1).strip().lower()
        k = KEY.match(line)
        if k and (section, k.group(1).lower()) in SCRATCH_KEYS:
            seen.add((section, k.group(1).lower()))
            if os.path.isdir(k.group(2)):
                line = "%s = %s" % (k.group(1),
                                    os.path.join(base, k.group(1)))
                os.makedirs(os.path.join(base, k.group(1)))
        out.append(line)
    if ("state", "directory") not in seen:
        out += ["", "[state]", "directory = " + os.path.join(base, "state")]
    path = os.path.join(base, name)
    with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
        f.write("\n".join(out))
    os.chmod(path, 0o600)
    return path


def env():
    e = dict(os.environ)
    e.pop("CREDENTIALS_DIRECTORY", None)
    e.pop("INVOCATION_ID", None)
    return e


def check_only(conf):
    p = subprocess.run([h.DAEMON, "-n", "-c", conf], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=env(), timeout=60)
    return p.returncode, p.stderr.decode("utf-8", "replace")


def start(conf, netns, log):
    """Exit status of a start, or "started" (then stopped)."""
    with open(log, "wb") as f:
        p = subprocess.Popen(netns + [h.DAEMON, "-c", conf],
                             stdout=subprocess.DEVNULL, stderr=f, env=env())

    def text():
        with open(log, "rb") as f:
            return f.read().decode("utf-8", "replace")

    h.wait_for(lambda: p.poll() is not None or " started: " in text(),
               timeout=120)
    if p.poll() is None:
        p.terminate()
        p.wait(timeout=120)
        return "started", text()
    return p.returncode, text()


def main():
    netns = netns_prefix()
    confs = sorted(glob.glob(os.path.join(DATA, "*.conf")))
    R.check(len(confs) >= len(EXPECT), "tests/data/config holds %d "
            "configurations" % len(confs))
    if netns is None:
        print("skip test_config_verdict: no network namespace here "
              "(unshare -n and -rn failed); the starts were not run")
        R.done()
    wd = h.Workdir()
    try:
        for src in confs:
            name = os.path.basename(src)
            conf = private_copy(wd, src)
            rc_n, err_n = check_only(conf)
            rc_s, err_s = start(conf, netns, conf + ".log")
            R.check(rc_n in (0, 78), "%s: -n exits 0 or 78 (%s)"
                    % (name, rc_n))
            if not R.check((rc_n == 78) == (rc_s == 78),
                           "%s: -n and a start agree (-n %s, start %s)"
                           % (name, rc_n, rc_s)):
                print("     -n said: %s\n     the start said: %s"
                      % (err_n.strip()[:600], err_s.strip()[:600]))
            if name in EXPECT:
                R.check(rc_n == EXPECT[name], "%s: -n exits %d"
                        % (name, EXPECT[name]))
            if rc_n == 78:
                # a refusal names the section and key of every problem
                R.check(re.search(r"^(\[\w+\]( [\w.]+)?: |\S+:\d+: )", err_n,
                                  re.M) is not None and
                        err_n.splitlines() ==
                        [l for l in err_s.splitlines()],
                        "%s: -n and a start name the same problems" % name)
    finally:
        wd.close()
    R.done()


if __name__ == "__main__":
    main()
