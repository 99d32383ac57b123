# SPDX-License-Identifier: MIT
"""Secrets in memory as another process sees them: the daemon and
--test-connection are not dumpable (no core dump, no /proc/PID/mem or
environ for other processes of the same user), its memory holds
one copy of the access token and no leftover of a request or answer
that carried the secret (a scan of /proc/PID/mem, as root); and a private
key protected by a passphrase is refused with a clear error by -n, a start
and --test-connection, without a terminal prompt and without hanging."""

import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request

import harness as h

R = h.Results()
NOBODY = 65534


def as_user(uid):
    """preexec_fn: run the child as uid (when we are root)."""
    def drop():
        if os.geteuid() == 0:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
    return drop


def runner_uid():
    return NOBODY if os.geteuid() == 0 else os.geteuid()


def proc_owner(pid):
    return os.stat("/proc/%d/environ" % pid).st_uid


def peer_reads_environ(pid, uid):
    """Can another process of uid (cat(1)) read /proc/PID/environ?"""
    p = subprocess.run(["cat", "/proc/%d/environ" % pid],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       preexec_fn=as_user(uid), timeout=30)
    if p.returncode == 0:
        return "read"
    return "refused: " + p.stderr.decode("utf-8", "replace").strip()


def shared_dir(wd, name):
    """A directory the daemon's user may use, inside the workdir."""
    d = wd.file(name)
    os.mkdir(d)
    if os.geteuid() == 0:
        os.chmod(wd.path, 0o711)
        os.chown(d, NOBODY, NOBODY)
    return d


def runnable(d):
    """The daemon, copied where the daemon's user may run it: a checkout
    under /root (as in CI) is closed to others."""
    path = os.path.join(d, "mdesiemd")
    shutil.copyfile(h.DAEMON, path)
    os.chmod(path, 0o755)
    return path


def give(path):
    if os.geteuid() == 0:
        os.chown(path, NOBODY, NOBODY)


def check_not_dumpable(what, pid, uid):
    owner = proc_owner(pid)
    peer = peer_reads_environ(pid, uid)
    R.check(owner == 0 and peer.startswith("refused"),
            "%s: not dumpable: /proc/PID/environ owned by root (uid %d), "
            "another process of its user is refused (%s)"
            % (what, owner, peer))


def control(uid):
    """The same checks on an ordinary process of that user: they tell."""
    p = subprocess.Popen(["sleep", "30"], preexec_fn=as_user(uid))
    try:
        time.sleep(0.2)
        owner = proc_owner(p.pid)
        peer = peer_reads_environ(p.pid, uid)
        R.check(owner == uid and peer == "read",
                "control: an ordinary process is owned by its user (uid "
                "%d) and readable by its peers (%s)" % (owner, peer))
    finally:
        p.kill()
        p.wait()


def not_dumpable():
    wd = h.Workdir()
    uid = runner_uid()
    try:
        control(uid)
        d = shared_dir(wd, "run")
        sim = h.Sim(wd, "--count", 5, "--seed", 12)
        conf = h.write_config(wd, sim, name="run/mdesiem.conf",
                              state=os.path.join(d, "state"))
        give(conf)
        daemon = runnable(d)
        log = open(wd.file("daemon.log"), "ab")
        p = subprocess.Popen([daemon, "-c", conf],
                             stdout=subprocess.DEVNULL, stderr=log,
                             preexec_fn=as_user(uid))
        wd.procs.append(p)
        up = h.wait_for(lambda: os.path.exists(
            os.path.join(d, "state", "status.json")) or
            p.poll() is not None, 60)
        R.check(up and p.poll() is None, "the daemon runs as uid %d (%s)"
                % (uid, h.daemon_log(wd)[-300:]))
        if p.poll() is None:
            check_not_dumpable("daemon", p.pid, uid)
        rc = h.stop_daemon(p)
        R.check(rc == 0, "daemon: SIGTERM exits 0")

        # --test-connection, held in the sign-in by a host that accepts
        # the connection and never answers.
        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        conf = h.write_config(wd, None, name="run/probe.conf",
                              state=os.path.join(d, "state2"), extra={
                                  "azure.login_url": "http://127.0.0.1:%d"
                                  % silent.getsockname()[1],
                                  "source.timeout": "5s"})
        give(conf)
        p = subprocess.Popen([daemon, "-c", conf, "--test-connection"],
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL,
                             preexec_fn=as_user(uid))
        wd.procs.append(p)
        conn, _ = silent.accept()
        check_not_dumpable("--test-connection", p.pid, uid)
        rc = p.wait(timeout=60)
        R.check(rc == 1, "--test-connection: the silent sign-in fails "
                "(exit %s)" % rc)
        conn.close()
        silent.close()
    finally:
        wd.close()


def scan_memory(pid, secret):
    """Copies of the secret, of token request bodies, and of each
    simulator token in the writable memory of pid (read in chunks that
    overlap by more than a token; regions over 1 GiB, such as a
    sanitizer's shadow memory, are left out)."""
    found = {"secret": 0, "body": 0, "tokens": {}}
    chunk, edge = 16 << 20, 4096
    with open("/proc/%d/maps" % pid) as maps, \
            open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for line in maps:
            f = line.split()
            lo, hi = [int(x, 16) for x in f[0].split("-")]
            if not f[1].startswith("rw") or hi - lo > 1 << 30:
                continue
            seen = set()
            for at in range(lo, hi, chunk):
                try:
                    mem.seek(at)
                    data = mem.read(min(chunk + edge, hi - at))
                except OSError:
                    continue
                for what, needle in (("secret", secret),
                                     ("body", b"&client_secret=")):
                    i = data.find(needle)
                    while i >= 0:
                        if at + i not in seen:
                            seen.add(at + i)
                            found[what] += 1
                        i = data.find(needle, i + 1)
                for m in re.finditer(rb"simtok\.[A-Za-z0-9_-]{40}", data):
                    if at + m.start() not in seen:
                        seen.add(at + m.start())
                        t = m.group(0)
                        found["tokens"][t] = found["tokens"].get(t, 0) + 1
    return found


class TlsSim:
    """The simulator serving https with a certificate made here: the
    token request and answer then pass through OpenSSL's buffers too."""

    def __init__(self, wd, *args):
        key, self.crt = wd.file("sim.key"), wd.file("sim.crt")
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                key, "-out", self.crt, "-subj", "/CN=127.0.0.1", "-addext",
                "subjectAltName=IP:127.0.0.1", "-days", "2")
        pf = wd.file("tls-sim.port")
        p = subprocess.Popen(
            [sys.executable, h.SIM, "--port", "0", "--port-file", pf,
             "--quiet", "--tls-cert", self.crt, "--tls-key", key]
            + [str(a) for a in args], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        wd.procs.append(p)
        self.base = "https://127.0.0.1:%d" % h.wait_port_file(pf, p)
        self.ctx = ssl.create_default_context(cafile=self.crt)

    def stats(self):
        with urllib.request.urlopen(self.base + "/_sim/stats",
                                    context=self.ctx, timeout=60) as r:
            return json.loads(r.read())


def memory_wiped(tls):
    """After several token renewals, the memory holds the secret where it
    is kept (the configuration and the token cache), the current token,
    and nothing else: no old token, no request body; over plain http to
    loopback and over https."""
    what = "https" if tls else "http"
    if os.geteuid() != 0:
        print("skip memory scan: reading another process's memory needs "
              "root (the daemon is not dumpable)")
        return
    if tls and shutil.which("openssl") is None:
        print("skip memory scan over https: no openssl")
        return
    wd = h.Workdir()
    secret = "Mq8Q~" + "s3cr3tV4lu3" * 4
    try:
        args = ("--count", 30, "--seed", 14, "--client-secret", secret,
                "--token-lifetime", "8", "--token-bytes", "900")
        sim = TlsSim(wd, *args) if tls else h.Sim(wd, *args)
        extra = {"azure.client_secret": secret,
                 "source.poll_interval": "2s"}
        if tls:
            extra["source.ca_file"] = sim.crt
        conf = h.write_config(wd, sim, extra=extra)
        d = h.start_daemon(wd, conf)
        renewed = h.wait_for(lambda: sim.stats().get("tokens_issued", 0)
                             >= 4, 90)
        issued = sim.stats().get("tokens_issued")
        R.check(renewed, "%s: the daemon renewed its token several times "
                "(%s)" % (what, issued))
        best = None
        for _ in range(4):
            d.send_signal(signal.SIGSTOP)
            try:
                f = scan_memory(d.pid, secret.encode())
            finally:
                d.send_signal(signal.SIGCONT)
            if best is None or len(f["tokens"]) < len(best["tokens"]):
                best = f
            time.sleep(0.7)
        R.check(len(best["tokens"]) == 1,
                "%s: one access token in memory after %s issued (%d "
                "distinct, %d copies)" % (what, issued, len(best["tokens"]),
                                          sum(best["tokens"].values())))
        R.check(best["secret"] <= 2 and best["body"] == 0,
                "%s: the secret only where it is kept (%d copies, at most "
                "2: configuration and token cache), no token request body "
                "left (%d)" % (what, best["secret"], best["body"]))
        R.check(h.stop_daemon(d) == 0, "%s memory scan: SIGTERM exits 0"
                % what)
    finally:
        wd.close()


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run_detached(args, timeout=60):
    """No controlling terminal (a new session), stdin an open pipe that
    never gives a byte: a prompt would hang until the timeout."""
    p = subprocess.Popen([h.DAEMON] + args, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        return None, (out + err).decode("utf-8", "replace")
    return p.returncode, (out + err).decode("utf-8", "replace")


def passphrase_keys():
    if shutil.which("openssl") is None:
        print("skip passphrase keys: no openssl")
        return
    wd = h.Workdir()
    try:
        key = wd.file("enc.key")
        crt = wd.file("enc.crt")
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt",
                "rsa_keygen_bits:2048", "-aes256", "-pass", "pass:x",
                "-out", key)
        os.chmod(key, 0o600)
        openssl("req", "-x509", "-new", "-key", key, "-passin", "pass:x",
                "-subj", "/CN=127.0.0.1", "-days", "2", "-out", crt)
        trad = wd.file("trad.key")
        openssl("genrsa", "-traditional", "-aes256", "-passout", "pass:x",
                "-out", trad, "2048")
        os.chmod(trad, 0o600)
        sim = h.Sim(wd, "--count", 3, "--seed", 13)
        cases = [
            ("private_key_file", key, {
                "azure.client_secret": None,
                "azure.certificate_file": crt,
                "azure.private_key_file": key}),
            ("tls_key_file", key, {
                "output.transport": "tls", "output.host": "127.0.0.1",
                "output.port": "6514", "output.framing": "octet",
                "output.tls_ca_file": crt, "output.tls_cert_file": crt,
                "output.tls_key_file": key}),
            ("tls_key_file (traditional PEM)", trad, {
                "output.transport": "tls", "output.host": "127.0.0.1",
                "output.port": "6514", "output.framing": "octet",
                "output.tls_ca_file": crt, "output.tls_cert_file": crt,
                "output.tls_key_file": trad}),
        ]
        for n, (what, path, extra) in enumerate(cases):
            conf = h.write_config(wd, sim, name="c%d.conf" % n, extra=extra)
            for mode in (["-n"], ["--once"], ["--test-connection"]):
                rc, text = run_detached(mode + ["-c", conf])
                R.check(rc == 78 and "protected by a passphrase" in text and
                        path in text and "openssl pkey" in text,
                        "%s protected by a passphrase, %s: exit 78 with the "
                        "file and the fix, no prompt, no hang (exit %s: %s)"
                        % (what, mode[0], rc, text.strip()[-300:]))
    finally:
        wd.close()


def main():
    not_dumpable()
    memory_wiped(False)
    memory_wiped(True)
    passphrase_keys()
    R.done()


if __name__ == "__main__":
    main()
