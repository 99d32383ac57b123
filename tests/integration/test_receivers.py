#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The default max_message_size against a real receiver left at its own
defaults: rsyslog (imtcp on loopback, no maxMessageSize set, so 8096
bytes).  The simulator serves detections, a third of them hostile (many
with 4,000+ character values); mdesiemd --once delivers them as CEF over
TCP with LF framing.  rsyslog writes each message it parsed as one line.

- the tcp default (4096) and 8096: every message arrives whole, one line
  per detection, each a complete CEF message (a split would leave a tail
  line that is no CEF message at all);
- 8192 (the former default): rsyslog splits the long ones, which is what
  the default must prevent.

Skipped (reported as such, not failed) where rsyslogd is not installed:
rsyslog conflicts with other syslog daemons in Debian, so it is not in the
test packages.
"""

import os
import shutil
import socket
import subprocess
import time

import harness as h

R = h.Results()
COUNT = 300


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Rsyslog:
    def __init__(self, wd, name):
        self.out = wd.file(name + ".log")
        self.port = free_port()
        work = wd.file(name + ".work")
        os.mkdir(work)
        conf = wd.file(name + ".conf")
        with open(conf, "w") as f:
            f.write('global(workDirectory="%s")\n' % work)
            f.write('module(load="imtcp")\n')
            f.write('input(type="imtcp" address="127.0.0.1" port="%d")\n'
                    % self.port)
            f.write('template(name="raw" type="list") '
                    '{ property(name="rawmsg") constant(value="\\n") }\n')
            f.write('*.* action(type="omfile" file="%s" template="raw")\n'
                    % self.out)
        self.err = open(wd.file(name + ".stderr"), "ab")
        self.proc = subprocess.Popen(
            [shutil.which("rsyslogd"), "-n", "-f", conf, "-i",
             wd.file(name + ".pid")],
            stdout=subprocess.DEVNULL, stderr=self.err)
        wd.procs.append(self.proc)
        end = time.time() + 30
        while time.time() < end:
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("rsyslogd did not listen")

    def lines(self, want, timeout=20):
        """The lines written so far, waiting until there are want."""
        end = time.time() + timeout
        lines = []
        while time.time() < end:
            try:
                with open(self.out, "rb") as f:
                    lines = [x for x in f.read().split(b"\n") if x]
            except OSError:
                lines = []
            if len(lines) >= want:
                time.sleep(0.5)  # and nothing more behind them
                break
            time.sleep(0.2)
        with open(self.out, "rb") as f:
            return [x for x in f.read().split(b"\n") if x]


def skipped(err):
    return err.count("skipping record")


def run(wd, sim, name, size):
    rs = Rsyslog(wd, name)
    extra = {"output.transport": "tcp", "output.host": "127.0.0.1",
             "output.port": str(rs.port)}
    if size is not None:
        extra["output.max_message_size"] = str(size)
    conf = h.write_config(wd, sim, None, name=name + ".mdesiem.conf",
                          state=wd.file("state-" + name), extra=extra)
    rc, err, _ = h.run_daemon(conf, "--once")
    R.check(rc == 0, "%s: --once exits 0 (got %d)" % (name, rc))
    want = COUNT - skipped(err)
    lines = rs.lines(want)
    rs.proc.terminate()
    rs.proc.wait()
    broken = [x for x in lines if b"CEF:0|" not in x]
    longest = max((len(x) for x in lines), default=0)
    return want, lines, broken, longest


def main():
    if shutil.which("rsyslogd") is None:
        print("skip rsyslogd is not installed (apt-get install rsyslog); "
              "nothing checked")
        R.done()
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, "--count", COUNT, "--hostile-ratio", "0.34",
                    "--seed", 23, "--span", 7200)
        for name, size in (("default", None), ("8096", 8096)):
            want, lines, broken, longest = run(wd, sim, name, size)
            R.check(len(lines) == want and not broken and want > 0.9 * COUNT,
                    "rsyslog, max_message_size %s: %d detections, %d lines, "
                    "none split (longest %d bytes)"
                    % (name, want, len(lines), longest))
        want, lines, broken, longest = run(wd, sim, "8192", 8192)
        R.check(len(lines) > want and broken,
                "rsyslog, max_message_size 8192 (the former default): %d "
                "detections arrive as %d lines, %d of them tails of a split "
                "message" % (want, len(lines), len(broken)))
    finally:
        wd.close()
    R.done()


if __name__ == "__main__":
    main()
