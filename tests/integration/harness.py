# SPDX-License-Identifier: MIT
"""Shared pieces of the integration tests: start the simulator, a loopback
collector and the daemon as real processes, write configurations, parse
what the collector received (with liblognorm for CEF), and count results
into the closing "N passed, N failed" line."""

import base64
import calendar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("BUILD", "build")
DAEMON = os.path.join(TOP, BUILD, "mdesiemd")
SIM = os.path.join(TOP, "tests", "sim", "mdesim.py")
COLLECTOR = os.path.join(TOP, "tests", "sim", "collector.py")
TENANT = "00000000-0000-0000-0000-000000000001"
CLIENT = "11111111-1111-1111-1111-111111111111"
SECRET = "sim-secret"


class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, cond, what):
        if cond:
            self.passed += 1
            print("ok   " + what)
        else:
            self.failed += 1
            print("FAIL " + what)
        sys.stdout.flush()
        return cond

    def done(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        sys.exit(0 if self.failed == 0 else 1)


def wait_port_file(path, proc, timeout=180):
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(path):
            with open(path) as f:
                txt = f.read().strip()
            if txt:
                return int(txt)
        if proc.poll() is not None:
            raise RuntimeError("process exited early: %s" % proc.args)
        time.sleep(0.05)
    raise RuntimeError("no port file from %s" % proc.args)


class Workdir:
    """A temporary directory removed at the end (kept when KEEP=1)."""

    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="mdesiem-test-")
        self.procs = []

    def file(self, name):
        return os.path.join(self.path, name)

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if os.environ.get("KEEP") != "1":
            shutil.rmtree(self.path, ignore_errors=True)


class Sim:
    def __init__(self, wd, *args):
        pf = wd.file("sim.port.%d" % len(wd.procs))
        self.log = open(wd.file("sim.log"), "ab")
        self.proc = subprocess.Popen(
            [sys.executable, SIM, "--port", "0", "--port-file", pf,
             "--quiet"] + [str(a) for a in args],
            stdout=subprocess.DEVNULL, stderr=self.log)
        wd.procs.append(self.proc)
        self.port = wait_port_file(pf, self.proc)
        self.base = "http://127.0.0.1:%d" % self.port

    def call(self, method, path, body=None):
        data = None
        headers = {}
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.base + path, data=data,
                                     method=method, headers=headers)
        with urllib.request.urlopen(req, timeout=60) as r:
            txt = r.read()
        return json.loads(txt) if txt else None

    def corpus(self):
        return self.call("GET", "/_sim/corpus")

    def fault(self, **kw):
        return self.call("POST", "/_sim/fault", kw)

    def stats(self):
        return self.call("GET", "/_sim/stats")


class Collector:
    def __init__(self, wd, framing="lf", port=0):
        self.out = wd.file("collector.%d.jsonl" % len(wd.procs))
        pf = self.out + ".port"
        self.proc = subprocess.Popen(
            [sys.executable, COLLECTOR, "--port", str(port), "--port-file",
             pf, "--out", self.out, "--framing", framing],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wd.procs.append(self.proc)
        self.port = wait_port_file(pf, self.proc)

    def messages(self):
        msgs = []
        if not os.path.exists(self.out):
            return msgs
        with open(self.out, "rb") as f:
            for line in f:
                # The collector may be writing the last line right now.
                if not line.strip() or not line.endswith(b"\n"):
                    continue
                try:
                    msgs.append(base64.b64decode(json.loads(line)["b64"]))
                except ValueError:
                    # a line caught half-written (a buffered write cut at
                    # the page size): the last one; read again later
                    break
        return msgs

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()


def write_config(wd, sim, collector=None, name="mdesiem.conf", extra=None,
                 state=None, mode=0o600):
    sections = {
        "azure": {
            "tenant_id": TENANT,
            "client_id": CLIENT,
            "client_secret": SECRET,
            "login_url": sim.base if sim else "https://login.microsoftonline.com",
        },
        "source": {
            "api": "siem",
            "url": (sim.base if sim else "https://x") + "/siem/api/alerts",
            "poll_interval": "1s",
            "page_size": "500",
            "start_from": "3h",
            "overlap": "10m",
            "timeout": "10s",
        },
        "output": {
            "format": "cef",
            "transport": "tcp" if collector else "stdout",
            "framing": "lf",
            "header": "rfc5424",
        },
        "state": {"directory": state or wd.file("state")},
        "log": {"level": "info"},
    }
    if collector:
        sections["output"]["host"] = "127.0.0.1"
        sections["output"]["port"] = str(collector.port)
    for key, value in (extra or {}).items():
        sec, k = key.split(".", 1)
        if value is None:
            sections[sec].pop(k, None)
        else:
            sections.setdefault(sec, {})[k] = value
    path = wd.file(name)
    with open(path, "w") as f:
        for sec, kv in sections.items():
            f.write("[%s]\n" % sec)
            for k, v in kv.items():
                f.write("%s = %s\n" % (k, v))
            f.write("\n")
    os.chmod(path, mode)
    return path


def cursor_file(state, api="siem", tenant="default"):
    """A tenant's cursor file under the state directory state."""
    return os.path.join(state, "tenants", tenant, "cursor-%s.json" % api)


def spool_dir(state):
    """The spool of the only output queue under state (None before the
    daemon made it)."""
    root = os.path.join(state, "queues")
    try:
        (q,) = os.listdir(root)
    except (OSError, ValueError):
        return None
    return os.path.join(root, q, "spool")


def run_daemon(conf, *args, timeout=300):
    """Run mdesiemd to completion; returns (exit code, stderr text)."""
    p = subprocess.run([DAEMON, "-c", conf] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    # Give a loopback collector a moment to write out what it has read.
    time.sleep(0.3)
    return p.returncode, p.stderr.decode("utf-8", "replace"), p.stdout


def start_daemon(wd, conf, *args):
    log = open(wd.file("daemon.log"), "ab")
    p = subprocess.Popen([DAEMON, "-c", conf] + list(args),
                         stdout=subprocess.DEVNULL, stderr=log)
    wd.procs.append(p)
    return p


def daemon_log(wd):
    try:
        with open(wd.file("daemon.log"), "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def stop_daemon(p, timeout=30):
    p.send_signal(signal.SIGTERM)
    return p.wait(timeout=timeout)


def wait_for(pred, timeout=60, step=0.1):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()


def sim_now(sim):
    """The simulator's clock (Unix seconds, float)."""
    t = sim.stats()["now"]
    secs = calendar.timegm(time.strptime(t[:19], "%Y-%m-%dT%H:%M:%S"))
    return secs + float("0." + (t[20:27] or "0"))


def wait_api_time(sim, since, secs=2.5, timeout=30):
    """Wait until the simulator's clock is secs past since (Unix seconds).
    A window ends at the API's time from the Date of its answers, cut to
    whole seconds and less 1 s (src/srvclock.c): a --once run sees what
    the API stamped at least 2 s before it started."""
    return wait_for(lambda: sim_now(sim) >= since + secs, timeout, 0.2)


def cef_payload(msg):
    """The CEF part of a syslog message (bytes -> str)."""
    text = msg.decode("utf-8")
    i = text.find("CEF:0|")
    return text[i:] if i >= 0 else None


def lognorm_parse(cef_lines, wd):
    """Parse CEF payloads with liblognorm; returns one dict (or None) per
    line.  liblognorm 2.0.6 drops the first character of the first
    extension key unless a space follows the header's last '|', so one is
    inserted (reference/formats.md)."""
    rb = wd.file("cef.rulebase")
    with open(rb, "w") as f:
        f.write("version=2\nrule=:%x:cef%\n")
    fixed = []
    for line in cef_lines:
        fixed.append(insert_space_after_header(line))
    data = ("\n".join(fixed) + "\n").encode("utf-8")
    p = subprocess.run(["lognormalizer", "-r", rb, "-e", "json"],
                       input=data, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=300)
    out = []
    for line in p.stdout.decode("utf-8").split("\n"):
        if not line:
            continue
        obj = json.loads(line)
        out.append(obj.get("x") if "x" in obj else None)
    return out


def insert_space_after_header(line):
    count = 0
    i = 0
    while i < len(line):
        c = line[i]
        if c == "\\":
            i += 2
            continue
        if c == "|":
            count += 1
            if count == 7:
                return line[:i + 1] + " " + line[i + 1:]
        i += 1
    return line


class CollectorWith(Collector):
    """A collector started with extra arguments (--tls-cert ..., --udp);
    records() gives the whole JSON record of each message."""

    def __init__(self, wd, *args, framing="lf", port=0):
        self.out = wd.file("collector.%d.jsonl" % len(wd.procs))
        pf = self.out + ".port"
        self.log = wd.file("collector.%d.log" % len(wd.procs))
        with open(self.log, "ab") as err:
            self.proc = subprocess.Popen(
                [sys.executable, COLLECTOR, "--port", str(port),
                 "--port-file", pf, "--out", self.out, "--framing",
                 framing] + [str(a) for a in args],
                stdout=subprocess.DEVNULL, stderr=err)
        wd.procs.append(self.proc)
        self.port = wait_port_file(pf, self.proc)

    def records(self):
        recs = []
        if not os.path.exists(self.out):
            return recs
        with open(self.out, "rb") as f:
            for line in f:
                if line.strip():
                    recs.append(json.loads(line))
        return recs

    def stderr(self):
        with open(self.log, "rb") as f:
            return f.read().decode("utf-8", "replace")


class DevLog:
    """A Unix datagram listener at /dev/log, as a local syslog daemon
    listens there; close() takes it away (the path too)."""

    PATH = "/dev/log"

    def __init__(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.PATH)
        os.chmod(self.PATH, 0o666)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        self.msgs = []
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            try:
                data = self.sock.recv(1 << 20)
            except OSError:
                return
            if not data:  # shut down
                return
            self.msgs.append(data)

    def close(self):
        # A recv() blocked in the reader thread keeps the socket alive
        # past close(): shut it down first, so it is gone at once.
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        os.unlink(self.PATH)


_CS3 = re.compile(rb" cs3=((?:[^\\ ]|\\.)*) cs3Label=")


def cef_full_id(msg):
    """The FullId a CEF message carries (cs3, unescaped), or None."""
    m = _CS3.search(msg)
    if not m:
        return None
    return m.group(1).replace(b"\\=", b"=").replace(b"\\\\", b"\\").decode()


def free_port():
    """A loopback TCP port nothing listens on (yet)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Notify:
    """A $NOTIFY_SOCKET like systemd's at path: a datagram socket
    recording (time.monotonic(), message) of everything the daemon says."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.got = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.done.is_set():
            try:
                m = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            self.got.append((time.monotonic(), m.decode("utf-8", "replace")))

    def pings(self):
        """When each WATCHDOG=1 arrived (time.monotonic())."""
        return [t for t, m in self.got if "WATCHDOG=1" in m.split("\n")]

    def close(self):
        self.done.set()
        self.thread.join()
        self.sock.close()
