# SPDX-License-Identifier: MIT
"""Running as a service: status.json and the Prometheus file hold the right
counters after a run with injected faults; --status exit codes; systemd
notifications (READY, STATUS, WATCHDOG, STOPPING) over $NOTIFY_SOCKET;
--test-connection names the failing step and the likely fix."""

import json
import os
import signal
import socket
import subprocess
import threading
import time

import harness as h

R = h.Results()


def status_and_metrics():
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, "--count", 300, "--seed", 4)
        coll = h.Collector(wd)
        prom = wd.file("textfile")
        os.mkdir(prom)
        conf = h.write_config(wd, sim, coll, extra={
            "source.page_size": "100", "metrics.textfile_dir": prom})
        sim.fault(path="siem", status=500, count=2)
        sim.fault(path="siem", status=429, count=1, retry_after=1)
        rc, err, _ = h.run_daemon(conf, "--once")
        R.check(rc == 0, "run with injected faults exits 0")
        full = json.load(open(wd.file("state/status.json")))
        st = dict(full.get("counters", {}))
        st["collector_up"] = full.get("collector_up",
                                      full.get("collector", {}))
        R.check(st.get("fetched") == 300 and st.get("delivered") == 300,
                "status.json: fetched and delivered counters (%s, %s)"
                % (st.get("fetched"), st.get("delivered")))
        R.check(st.get("retries", 0) >= 3 and st.get("throttled") == 1,
                "status.json: retries and 429s counted (%s, %s)"
                % (st.get("retries"), st.get("throttled")))
        R.check(st.get("token_renewals", 0) >= 1 and
                st.get("collector_up") in (1, True),
                "status.json: token renewals, collector up")
        text = open(os.path.join(prom, "mdesiem.prom")).read()
        R.check("mdesiem_records_delivered_total 300" in text and
                "mdesiem_throttled_total 1" in text and "# TYPE" in text,
                "Prometheus textfile holds the counters")
        out = subprocess.run([h.DAEMON, "--status", "-c", conf],
                             capture_output=True, text=True)
        R.check(out.returncode == 1 and "degraded" in out.stdout,
                "--status after the daemon stopped: degraded, exit 1")
        # A running daemon with its collector up is healthy.
        conf2 = h.write_config(wd, sim, coll, name="d.conf", extra={
            "source.poll_interval": "1s"})
        d = h.start_daemon(wd, conf2)
        time.sleep(2.5)
        out = subprocess.run([h.DAEMON, "--status", "-c", conf2],
                             capture_output=True, text=True)
        R.check(out.returncode == 0, "--status of a healthy daemon: exit 0 "
                "(%s)" % out.stdout.strip().replace("\n", " | ")[:300])
        coll.stop()
        sim.call("POST", "/_sim/add?n=5")
        h.wait_for(lambda: subprocess.run(
            [h.DAEMON, "--status", "-c", conf2],
            capture_output=True).returncode == 1, 20, 0.5)
        out = subprocess.run([h.DAEMON, "--status", "-c", conf2],
                             capture_output=True, text=True)
        R.check(out.returncode == 1 and "collector" in out.stdout,
                "--status with the collector down: degraded, exit 1")
        h.stop_daemon(d)
    finally:
        wd.close()


def notify():
    wd = h.Workdir()
    path = wd.file("notify.sock")
    got = []
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(0.2)
    done = threading.Event()

    def reader():
        while not done.is_set():
            try:
                got.append(s.recv(4096).decode())
            except socket.timeout:
                pass

    t = threading.Thread(target=reader)
    t.start()
    try:
        sim = h.Sim(wd, "--count", 20)
        coll = h.Collector(wd)
        conf = h.write_config(wd, sim, coll, extra={
            "source.poll_interval": "1s"})
        env = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC="1000000")
        log = open(wd.file("daemon.log"), "ab")
        p = subprocess.Popen([h.DAEMON, "-c", conf], env=env,
                             stderr=log, stdout=subprocess.DEVNULL)
        wd.procs.append(p)
        time.sleep(3)
        p.send_signal(signal.SIGTERM)
        rc = p.wait(30)
        time.sleep(0.3)
        joined = "\n".join(got)
        R.check("READY=1" in joined, "systemd: READY=1 sent")
        R.check("STATUS=" in joined and "delivered" in joined,
                "systemd: STATUS= with the cycle's figures")
        R.check(joined.count("WATCHDOG=1") >= 3,
                "systemd: WATCHDOG=1 pings at half of WatchdogSec (%d)"
                % joined.count("WATCHDOG=1"))
        R.check("STOPPING=1" in joined and rc == 0,
                "systemd: STOPPING=1 on SIGTERM, exit 0")
    finally:
        done.set()
        t.join()
        s.close()
        wd.close()


def probe(wd, conf, *fault):
    out = subprocess.run([h.DAEMON, "--test-connection", "-c", conf],
                         capture_output=True, text=True, timeout=120)
    return out.returncode, out.stdout


def test_connection():
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, "--count", 20)
        coll = h.Collector(wd)
        conf = h.write_config(wd, sim, coll)
        rc, out = probe(wd, conf)
        R.check(rc == 0 and "all steps passed" in out and
                out.count("\nok") + out.startswith("ok") >= 3,
                "--test-connection: every step ok, exit 0")
        bad = h.write_config(wd, sim, coll, name="bad.conf", extra={
            "azure.client_secret": "nope"})
        rc, out = probe(wd, bad)
        R.check(rc == 1 and "FAIL   sign in" in out and
                "AADSTS7000215" in out and "Value, not its Secret ID" in out,
                "wrong secret: the sign-in step fails with AADSTS7000215 "
                "and the fix")
        R.check("nope" not in out, "no secret in the report")
        sim.fault(path="siem", status=403, count=1)
        rc, out = probe(wd, conf)
        R.check(rc == 1 and "FAIL   read one record" in out and
                "admin consent" in out,
                "missing permission: the read step fails, names the "
                "permission and admin consent")
        region = h.write_config(wd, sim, coll, name="region.conf", extra={
            "source.url": "http://127.0.0.1:1/siem/api/alerts"})
        rc, out = probe(wd, region)
        R.check(rc == 1 and "FAIL   read one record" in out and
                "likely fix" in out, "wrong API host: the read step fails "
                "with a fix")
        tenant = h.write_config(wd, sim, coll, name="tenant.conf", extra={
            "azure.tenant_id": "00000000-0000-0000-0000-00000000dead"})
        rc, out = probe(wd, tenant)
        R.check(rc == 1 and "AADSTS90002" in out and "tenant_id" in out,
                "wrong tenant: AADSTS90002 and the fix")
        coll.stop()
        rc, out = probe(wd, conf)
        R.check(rc == 1 and "FAIL   collector" in out and
                "nothing listens" in out,
                "collector refused: the collector step fails with the fix")
    finally:
        wd.close()


def main():
    status_and_metrics()
    notify()
    test_connection()
    R.done()


if __name__ == "__main__":
    main()
