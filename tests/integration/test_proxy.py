# SPDX-License-Identifier: MIT
"""Through a corporate proxy, api = siem end to end: the loopback proxy
(tests/sim/proxy.py) sits between the daemon and the simulator, set by
[source] proxy or by the http_proxy / https_proxy environment variables,
with and without basic authentication; no_proxy bypasses it; a wrong
proxy password fails with a line that says so.  https goes through a
CONNECT tunnel to a TLS front of the simulator whose certificate only
[source] ca_file trusts (a TLS-inspecting proxy's CA)."""

import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import urllib.request

import harness as h

R = h.Results()
PROXY = os.path.join(h.TOP, "tests", "sim", "proxy.py")
PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy",
              "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


class Proxy:
    def __init__(self, wd, *args):
        pf = wd.file("proxy.port.%d" % len(wd.procs))
        log = open(wd.file("proxy.log"), "ab")
        self.proc = subprocess.Popen(
            [sys.executable, PROXY, "--port", "0", "--port-file", pf,
             "--quiet"] + list(args), stdout=subprocess.DEVNULL, stderr=log)
        wd.procs.append(self.proc)
        self.port = h.wait_port_file(pf, self.proc)
        self.url = "http://127.0.0.1:%d" % self.port

    def stats(self):
        # Straight to the proxy, never through one.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(self.url + "/_proxy/stats", timeout=30) as r:
            return json.loads(r.read())


class TlsFront:
    """TLS in front of the simulator's plain port, with a certificate for
    127.0.0.1 that no system CA signed."""

    def __init__(self, wd, sim_port):
        self.cert = wd.file("front.crt")
        key = wd.file("front.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-keyout", key, "-out", self.cert,
                        "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(self.cert, key)
        self.sim_port = sim_port
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,),
                             daemon=True).start()

    def _serve(self, c):
        try:
            tls = self.ctx.wrap_socket(c, server_side=True)
        except (OSError, ssl.SSLError):
            c.close()
            return
        self.connections += 1
        up = socket.create_connection(("127.0.0.1", self.sim_port))
        threading.Thread(target=self._pump, args=(up, tls),
                         daemon=True).start()
        self._pump(tls, up)

    @staticmethod
    def _pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except (OSError, ssl.SSLError):
            pass
        for s in (src, dst):
            try:
                s.close()
            except OSError:
                pass


def run(conf, env_extra=None):
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARS}
    env.update(env_extra or {})
    p = subprocess.run([h.DAEMON, "-c", conf, "--once"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=env, timeout=300)
    return p.returncode, p.stderr.decode("utf-8", "replace")


def api_requests(sim):
    req = sim.stats()["requests"]
    return req.get("token", 0) + req.get("siem", 0)


def delivered_all(sim, coll, what):
    want = {d["FullId"] for d in sim.corpus()}
    got = [m for m in coll.messages() if b"CEF:0|" in m]
    R.check(len(got) == len(want), "%s: %d detections delivered (of %d)"
            % (what, len(got), len(want)))


def subst(v, proxy):
    """PROXY: the proxy's URL; AUTHPROXY: the same with mde:s3cr3t."""
    auth = "http://mde:s3cr3t@127.0.0.1:%d" % proxy.port
    return v.replace("AUTHPROXY", auth).replace("PROXY", proxy.url)


def case(name, proxy_args=(), config_proxy=None, env=None, user=None,
         count=150):
    """One --once run through a proxy; every API request went through it."""
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, "--count", count, "--seed", 11)
        coll = h.Collector(wd)
        proxy = Proxy(wd, *proxy_args)
        extra = {"source.page_size": "50"}
        if config_proxy is not None:
            extra["source.proxy"] = subst(config_proxy, proxy)
        env = {k: subst(v, proxy) for k, v in (env or {}).items()}
        conf = h.write_config(wd, sim, coll, extra=extra)
        rc, err = run(conf, env)
        R.check(rc == 0, "%s: --once exits 0 (%d)" % (name, rc))
        if rc != 0:
            print(err[-1500:])
        delivered_all(sim, coll, name)
        st = proxy.stats()
        n = api_requests(sim)
        R.check(n > 0 and st["forwarded"] == n,
                "%s: all %d token and API requests went through the proxy "
                "(it forwarded %d)" % (name, n, st["forwarded"]))
        R.check(list(st["targets"]) == ["127.0.0.1:%d" % sim.port],
                "%s: the proxy forwarded to the simulator only" % name)
        if user is not None:
            R.check(st["users"].get(user) == n,
                    "%s: every request authenticated as %s" % (name, user))
        R.check("pass" not in err and "s3cr" not in err,
                "%s: no proxy password in the log" % name)
    finally:
        wd.close()


def bypass():
    """no_proxy names the simulator: the proxy sees nothing."""
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, "--count", 50)
        coll = h.Collector(wd)
        proxy = Proxy(wd)
        conf = h.write_config(wd, sim, coll)
        rc, err = run(conf, {"http_proxy": proxy.url,
                             "no_proxy": "localhost,127.0.0.1"})
        R.check(rc == 0, "no_proxy: --once exits 0")
        delivered_all(sim, coll, "no_proxy")
        R.check(proxy.stats()["requests"] == 0,
                "no_proxy=127.0.0.1: nothing went through the proxy")
    finally:
        wd.close()


def wrong_password():
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, "--count", 20)
        coll = h.Collector(wd)
        proxy = Proxy(wd, "--auth", "mde:s3cr3t")
        conf = h.write_config(wd, sim, coll, extra={
            "source.proxy": "http://mde:wrong-pw@127.0.0.1:%d" % proxy.port})
        rc, err = run(conf)
        R.check(rc != 0, "wrong proxy password: --once fails (%d)" % rc)
        R.check("the proxy refused our credentials (HTTP 407" in err,
                "wrong proxy password: the log says the proxy refused the "
                "credentials")
        lines = [l for l in err.splitlines() if "407" in l]
        print("     " + (lines[0] if lines else err[-300:]))
        R.check("wrong-pw" not in err, "wrong proxy password: not logged")
        R.check(proxy.stats()["bad_auth"] > 0 and
                api_requests(sim) == 0,
                "wrong proxy password: refused by the proxy, nothing "
                "reached the simulator")
    finally:
        wd.close()


def https_tunnel():
    """https through CONNECT; the TLS front's certificate is trusted only
    through [source] ca_file."""
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, "--count", 120, "--seed", 5)
        coll = h.Collector(wd)
        front = TlsFront(wd, sim.port)
        proxy = Proxy(wd, "--auth", "mde:s3cr3t")
        base = "https://127.0.0.1:%d" % front.port
        extra = {"azure.login_url": base,
                 "source.url": base + "/siem/api/alerts",
                 "source.page_size": "40",
                 "source.ca_file": front.cert}
        conf = h.write_config(wd, sim, coll, extra=extra)
        env = {"https_proxy": "http://mde:s3cr3t@127.0.0.1:%d" % proxy.port}
        rc, err = run(conf, env)
        R.check(rc == 0, "https via CONNECT: --once exits 0 (%d)" % rc)
        if rc != 0:
            print(err[-1500:])
        delivered_all(sim, coll, "https via CONNECT")
        st = proxy.stats()
        R.check(st["connects"] > 0 and st["forwarded"] == 0 and
                list(st["targets"]) == ["127.0.0.1:%d" % front.port],
                "https via CONNECT: tunnelled to the TLS front (%d "
                "tunnels)" % st["connects"])
        R.check(api_requests(sim) > 0 and front.connections > 0,
                "https via CONNECT: the simulator answered through TLS")

        # Without the CA the certificate is refused, and the log says so.
        extra["source.ca_file"] = None
        conf = h.write_config(wd, sim, coll, extra=extra, name="noca.conf")
        rc, err = run(conf, env)
        R.check(rc != 0 and ("certificate" in err.lower() or
                             "SSL" in err or "TLS" in err),
                "https without ca_file: TLS verification fails (%d)" % rc)
        lines = [l for l in err.splitlines() if "certif" in l.lower()]
        print("     " + (lines[0] if lines else err[-300:]))

        # A wrong password on the tunnel: refused before any TLS.
        conf = h.write_config(wd, sim, coll, extra=dict(
            extra, **{"source.ca_file": front.cert}), name="badpw.conf")
        rc, err = run(conf, {"https_proxy":
                             "http://mde:wrong-pw@127.0.0.1:%d" % proxy.port})
        R.check(rc != 0 and
                "the proxy refused our credentials (HTTP 407" in err,
                "https, wrong proxy password: the log says the proxy "
                "refused the credentials")
        R.check("wrong-pw" not in err, "https, wrong proxy password: not "
                "logged")
    finally:
        wd.close()


def main():
    case("[source] proxy", config_proxy="PROXY")
    case("[source] proxy with basic auth", proxy_args=("--auth", "mde:s3cr3t"),
         config_proxy="AUTHPROXY", user="mde")
    case("http_proxy", env={"http_proxy": "PROXY"})
    case("http_proxy with basic auth", proxy_args=("--auth", "mde:s3cr3t"),
         env={"http_proxy": "AUTHPROXY"}, user="mde")
    bypass()
    wrong_password()
    https_tunnel()
    R.done()


if __name__ == "__main__":
    main()
