# SPDX-License-Identifier: MIT
"""The command line and configuration errors as a user meets them: exit
codes 0/1/2/78 and messages that name the section and key."""

import os
import shutil
import subprocess

import harness as h

R = h.Results()


def run(*args):
    p = subprocess.run([h.DAEMON] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def main():
    wd = h.Workdir()
    try:
        # As installed (make install: mode 0644): a checkout may leave it
        # group-writable (git archive's umask 002), which -n refuses.
        example = wd.file("mdesiem.conf.example")
        shutil.copyfile(os.path.join(h.TOP, "conf", "mdesiem.conf.example"),
                        example)
        os.chmod(example, 0o644)
        rc, out, err = run("-n", "-c", example)
        R.check(rc == 0, "-n accepts conf/mdesiem.conf.example (%s)"
                % err.strip()[:300])
        rc, out, err = run("-V")
        R.check(rc == 0 and out.startswith("mdesiemd "), "-V prints the "
                "version")
        rc, out, err = run("-h")
        R.check(rc == 0 and "usage: mdesiemd" in out, "-h prints usage")
        rc, out, err = run("--no-such-option")
        R.check(rc == 2 and "usage" in err, "unknown option: exit 2")
        rc, out, err = run("-c", wd.file("missing.conf"), "-n")
        R.check(rc == 78 and "missing.conf" in err,
                "missing file: exit 78, named")

        conf = h.write_config(wd, None, extra={"source.tenantid": "x"})
        rc, out, err = run("-n", "-c", conf)
        R.check(rc == 78 and "[source] tenantid" in err,
                "unknown key: exit 78, '[source] tenantid' named (%s)"
                % err.strip())
        conf = h.write_config(wd, None, extra={"azure.tenant_id": None})
        rc, out, err = run("-n", "-c", conf)
        R.check(rc == 78 and "[azure] tenant_id" in err,
                "missing tenant_id: exit 78, named (%s)" % err.strip())
        conf = h.write_config(wd, None, mode=0o644)
        rc, out, err = run("-n", "-c", conf)
        R.check(rc == 78 and "client_secret" in err and "chmod 600" in err,
                "world-readable file with client_secret refused with the "
                "fix (%s)" % err.strip())
        rc, out, err = run("-c", conf, "--once")
        R.check(rc == 78, "the daemon refuses it too (exit 78)")
        conf = h.write_config(wd, None, extra={
            "source.poll_interval": "5x", "output.transport": "carrier",
            "bogus.key": "1"})
        rc, out, err = run("-n", "-c", conf)
        R.check(rc == 78 and "[source] poll_interval" in err and
                "[output] transport" in err and "[bogus]" in err,
                "every problem reported, not only the first (%s)"
                % err.strip())
        # A secret pasted into an id key: refused, never echoed, by -n and
        # by a start alike.
        pasted = "Qx71Q~" + "k" * 20 + "Zq7_v.Jb-4t5Yw"
        for key in ("azure.client_id", "azure.tenant_id"):
            conf = h.write_config(wd, None, extra={key: pasted})
            for args in (("-n",), ("--once",), ("--test-connection",)):
                rc, out, err = run(*(args + ("-c", conf)))
                R.check(rc == 78 and pasted not in out + err and
                        pasted[:8] not in out + err and
                        "[%s] %s" % tuple(key.split(".")) in err and
                        "client_secret_file" in err,
                        "%s holding a secret, %s: exit 78, the key named, "
                        "the value not shown (%s)"
                        % (key, args[0], err.strip()[:300]))
        conf = h.write_config(wd, None, mode=0o660)
        rc, out, err = run("-n", "-c", conf)
        R.check(rc == 78 and "writable by group or others" in err and
                "chmod go-w " + conf in err,
                "group-writable configuration refused with the fix (%s)"
                % err.strip())
        rc, out, err = run("-c", conf, "--once")
        R.check(rc == 78 and "chmod go-w" in err,
                "the daemon refuses it too (exit 78)")
        conf = h.write_config(wd, None)
        rc, out, err = run("-n", "-v", "-c", conf)
        R.check(rc == 0 and h.SECRET not in out and "redacted" in out,
                "-n -v prints the configuration with the secret redacted")
    finally:
        wd.close()
    R.done()


if __name__ == "__main__":
    main()
