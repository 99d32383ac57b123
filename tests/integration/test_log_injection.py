# SPDX-License-Identifier: MIT
"""Text from the APIs in log lines cannot forge a line or a terminal
escape: a record whose id holds a newline, a forged log line, ESC
sequences and C1 controls is skipped as bad and logged with those bytes
escaped (\\xHH, \\u00HH), as the daemon's log, --status and
--test-connection show it."""

import urllib.parse

import harness as h

R = h.Results()
# A newline and a whole forged line, an ANSI colour, a C1 CSI, a BEL.
EVIL = "\nFAKE mdesiemd[error]: forged\x1b[31mRED\u009b2J\x07"


def main():
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, "--count", 5, "--seed", 17)
        conf = h.write_config(wd, sim, extra={"source.poll_interval": "1s"})
        d = h.start_daemon(wd, conf)
        h.wait_for(lambda: "cycle done" in h.daemon_log(wd), 60)
        added = sim.call("POST", "/_sim/add?n=1&bad=1&id_len=120&id_pad="
                         + urllib.parse.quote(EVIL))["added"]
        logged = h.wait_for(lambda: "skipping bad record" in
                            h.daemon_log(wd), 60)
        rc = h.stop_daemon(d)
        log = h.daemon_log(wd)
        line = [x for x in log.split("\n") if "skipping bad record" in x]
        R.check(logged and len(line) == 1 and rc == 0,
                "the bad record is skipped and logged on one line (%s)"
                % (line[:1],))
        R.check(all(x.startswith("20") and " mdesiemd[" in x
                    for x in log.split("\n") if x),
                "every line of the log is one of the daemon's own (no "
                "forged line)")
        R.check("FAKE mdesiemd[error]" not in log.replace(
            "\\x0aFAKE mdesiemd[error]", ""),
                "the forged line only appears escaped, inside the id")
        R.check("\x1b" not in log and "\u009b" not in log and
                "\x07" not in log, "no ESC, CSI or BEL byte in the log")
        R.check(line and "\\x0aFAKE mdesiemd[error]: forged\\x1b[31mRED"
                "\\u009b2J\\x07" in line[0],
                "the id is shown with its bytes escaped")
        R.check(len(added) == 1 and EVIL in added[0],
                "the simulator served an id holding those bytes")
    finally:
        wd.close()
    R.done()


if __name__ == "__main__":
    main()
