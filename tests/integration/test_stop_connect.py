# SPDX-License-Identifier: MIT
"""SIGTERM while a request to Entra ID or the API cannot get anywhere:
the daemon exits 0 at once, not when the connect or the name resolution
gives up (30 s and more here).  Three hosts that never answer:
- a listening socket whose backlog is full: the connect hangs in SYN-SENT;
- a socket that accepts and never replies: the request waits for an
  answer;
- a name server that never answers (glibc's resolver, in a network and
  mount namespace of the daemon's own with a resolv.conf pointing at it):
  libcurl's threaded resolver waits in getaddrinfo().  Without
  CURLOPT_QUICK_EXIT libcurl joins that thread on abort, which takes as
  long as the resolver's timeout.
The checks are on behaviour (the exit, its code, the log), with a bound
of 8 s for "at once" against waits of 30 s, so a loaded machine does not
make them fail."""

import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time

import harness as h

R = h.Results()
AT_ONCE = 8.0  # seconds; the waits it is compared with are 30 s or more
SYN_SENT = "02"


def config(wd, login, url, name):
    return h.write_config(wd, None, None, name=name + ".conf",
                          state=wd.file("state-" + name), extra={
                              "azure.login_url": login,
                              "source.api": "graph", "source.url": url,
                              "source.timeout": "60s",
                              "source.poll_interval": "1s"})


def socket_inodes(pid):
    out = set()
    fd_dir = "/proc/%d/fd" % pid
    try:
        names = os.listdir(fd_dir)
    except OSError:
        return out
    for n in names:
        try:
            link = os.readlink(os.path.join(fd_dir, n))
        except OSError:
            continue
        if link.startswith("socket:["):
            out.add(link[8:-1])
    return out


def syn_sent_to(pid, port):
    """Has process pid a socket in SYN-SENT towards 127.0.0.1:port?"""
    want = ":%04X" % port
    mine = socket_inodes(pid)
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            parts = line.split()
            if (parts[2].endswith(want) and parts[3] == SYN_SENT and
                    parts[9] in mine):
                return True
    return False


def full_backlog():
    """A listener that never accepts, its backlog filled: a new connect
    gets no SYN-ACK.  Returns (port, sockets to keep open)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(0)
    port = srv.getsockname()[1]
    keep = [srv]
    for _ in range(8):
        c = socket.socket()
        c.setblocking(False)
        try:
            c.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        keep.append(c)
    return port, keep


class Silent(threading.Thread):
    """Accepts connections and never writes a byte."""

    def __init__(self):
        super().__init__(daemon=True)
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(8)
        self.port = self.srv.getsockname()[1]
        self.accepted = []

    def run(self):
        while True:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            self.accepted.append(c)


def stop_and_time(wd, d, what):
    t0 = time.monotonic()
    d.send_signal(signal.SIGTERM)
    try:
        rc = d.wait(timeout=60)
    except subprocess.TimeoutExpired:
        d.kill()
        rc = d.wait()
    took = time.monotonic() - t0
    R.check(rc == 0 and took < AT_ONCE,
            "SIGTERM during %s: exit %s after %.1f s (at most %.0f s)"
            % (what, rc, took, AT_ONCE))
    R.check("stopping" in h.daemon_log(wd),
            "SIGTERM during %s: the stop is logged" % what)


def connect_hangs():
    wd = h.Workdir()
    try:
        port, keep = full_backlog()
        base = "http://127.0.0.1:%d" % port
        conf = config(wd, base, base + "/graph/v1.0/security/alerts_v2",
                      "backlog")
        d = h.start_daemon(wd, conf)
        ok = h.wait_for(lambda: syn_sent_to(d.pid, port), 30)
        R.check(ok, "connect to a full backlog hangs in SYN-SENT")
        stop_and_time(wd, d, "a connect")
        for s in keep:
            s.close()
    finally:
        wd.close()


def no_answer():
    wd = h.Workdir()
    try:
        srv = Silent()
        srv.start()
        base = "http://127.0.0.1:%d" % srv.port
        conf = config(wd, base, base + "/graph/v1.0/security/alerts_v2",
                      "silent")
        d = h.start_daemon(wd, conf)
        ok = h.wait_for(lambda: len(srv.accepted) > 0, 30)
        R.check(ok, "a server that accepts and never answers is reached")
        stop_and_time(wd, d, "a request without an answer")
        srv.srv.close()
    finally:
        wd.close()


# Run inside the daemon's namespaces: a UDP and TCP "name server" on
# 127.0.0.1:53 that reads queries and never answers.  It notes the first
# query in a file, and ends when its parent (the daemon) is gone.
BLACKHOLE = r"""
import os, select, socket, sys, time
ppid = os.getppid()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", 53))
t = socket.socket()
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("127.0.0.1", 53))
t.listen(8)
open(sys.argv[1] + ".up", "w").close()
conns = []
end = time.time() + 300
while time.time() < end and os.getppid() == ppid:
    r, _, _ = select.select([u, t], [], [], 0.2)
    for s in r:
        if s is u:
            u.recvfrom(4096)
        else:
            conns.append(t.accept()[0])
        open(sys.argv[1] + ".query", "w").close()
"""


def namespaces_usable():
    try:
        p = subprocess.run(["unshare", "-m", "-n", "sh", "-c",
                            "ip link set lo up"], capture_output=True,
                           timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return p.returncode == 0


def dns_hangs():
    if not namespaces_usable():
        print("skip SIGTERM during name resolution: no network namespace "
              "here (unshare -m -n needs root or CAP_SYS_ADMIN)")
        return
    wd = h.Workdir()
    try:
        resolv = wd.file("resolv.conf")
        with open(resolv, "w") as f:
            f.write("nameserver 127.0.0.1\noptions timeout:30 attempts:1\n")
        bh = wd.file("blackhole.py")
        with open(bh, "w") as f:
            f.write(BLACKHOLE)
        mark = wd.file("ns")
        conf = config(wd, "https://login.mdesiem-test.example",
                      "https://graph.mdesiem-test.example/v1.0/security/"
                      "alerts_v2", "dns")
        script = (
            "ip link set lo up && mount --bind %s /etc/resolv.conf && "
            "{ %s %s %s & while [ ! -e %s.up ]; do sleep 0.05; done; "
            "exec %s -c %s; }" % (resolv, sys.executable, bh, mark, mark,
                                  h.DAEMON, conf))
        log = open(wd.file("daemon.log"), "ab")
        # unshare and sh exec in place: this process becomes the daemon.
        d = subprocess.Popen(["unshare", "-m", "-n", "sh", "-c", script],
                             stdout=subprocess.DEVNULL, stderr=log)
        wd.procs.append(d)
        ok = h.wait_for(lambda: os.path.exists(mark + ".query"), 30)
        R.check(ok, "the name server gets the daemon's query")
        stop_and_time(wd, d, "name resolution")
    finally:
        wd.close()


def main():
    connect_hangs()
    no_answer()
    dns_hangs()
    R.done()


if __name__ == "__main__":
    main()
