# SPDX-License-Identifier: MIT
"""`make demo` as a new user meets it (tests/demo.sh, what the make target
runs): the default is Graph alerts_v2 as CEF; API= and FORMAT= show every
other source and format; each run delivers every alert the simulator holds
and ends with the two lines saying what ran."""

import os
import re
import subprocess

import harness as h

R = h.Results()
DEMO = os.path.join(h.TOP, "tests", "demo.sh")
FIRST = {"cef": "CEF:0|Microsoft|", "leef": "LEEF:2.0|Microsoft|",
         "json": '{"schema_version":1,'}
WHAT = {"graph": "Microsoft Graph alerts_v2 (api = graph, the default source)",
        "alerts": "Alert API (api = alerts)",
        "siem": "legacy SIEM API (api = siem"}


def demo(api=None, fmt=None):
    env = dict(os.environ, BUILD=h.BUILD)
    env.pop("API", None)
    env.pop("FORMAT", None)
    if api:
        env["API"] = api
    if fmt:
        env["FORMAT"] = fmt
    p = subprocess.run(["sh", DEMO], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, env=env, timeout=300)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def check_run(api, fmt, rc, out, label):
    lines = out.rstrip("\n").splitlines()
    last2 = lines[-2:] if len(lines) >= 2 else ["", ""]
    R.check(rc == 0, "%s: exit 0 (%d)" % (label, rc))
    R.check(last2[0].startswith("demo: ran ") and WHAT[api] in last2[0] and
            ("%s over TCP" % fmt.upper()) in last2[0],
            "%s: the next to last line says what ran (%r)" % (label, last2[0]))
    m = re.match(r"demo: (\d+) of (\d+) alerts delivered(?: \((\d+) "
                 r"skipped as bad records: the log above says why\))?, "
                 r"exit status 0;", last2[1])
    R.check(m is not None and m.group(2) == "25" and
            int(m.group(1)) + int(m.group(3) or 0) == 25,
            "%s: the last line says all 25 were delivered or skipped as "
            "bad records, each named in the log (%r)" % (label, last2[1]))
    R.check("make demo API=graph|alerts|siem FORMAT=cef|leef|json" in last2[1],
            "%s: the last line names the other choices" % label)
    R.check(any(FIRST[fmt] in l for l in lines),
            "%s: the messages shown are %s" % (label, fmt.upper()))


def main():
    rc, out = demo()
    check_run("graph", "cef", rc, out, "make demo")
    for api in ("graph", "alerts", "siem"):
        for fmt in ("cef", "leef", "json"):
            if (api, fmt) == ("graph", "cef"):
                continue
            rc, out = demo(api, fmt)
            check_run(api, fmt, rc, out,
                      "make demo API=%s FORMAT=%s" % (api, fmt))
    rc, out = demo("graphs", None)
    R.check(rc == 2 and "use API=graph, alerts or siem" in out,
            "API=graphs: exit 2 naming the choices (%d)" % rc)
    rc, out = demo(None, "xml")
    R.check(rc == 2 and "use FORMAT=cef, leef or json" in out,
            "FORMAT=xml: exit 2 naming the choices (%d)" % rc)
    R.done()


if __name__ == "__main__":
    main()
