# SPDX-License-Identifier: MIT
"""The transports besides plain TCP, as a SIEM engineer sees them, against
real listeners: TLS (RFC 5425) to a loopback TLS collector with a test CA
made here with the openssl command (server certificate for 127.0.0.1 and
localhost, client certificate for mutual TLS); refusals (wrong CA, wrong
host name, missing or untrusted client certificate) with one clear log
line, a failing exit status and not one byte of a detection on the wire;
reconnecting after the TLS collector went away; UDP (RFC 5426), one
message per datagram within max_message_size; local syslog(3), read from
/dev/log (bound here when this machine has no syslog daemon)."""

import collections
import os
import socket
import struct
import subprocess
import threading
import time

import harness as h

R = h.Results()
COUNT = 120
SEVERITY = {"high": 3, "medium": 4, "low": 5, "informational": 6}


def openssl(wd, *args):
    subprocess.run(["openssl"] + list(args), cwd=wd.path, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_ca(wd, name):
    openssl(wd, "req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", name + ".key",
            "-out", name + ".pem", "-days", "2", "-subj",
            "/CN=mdesiem test %s" % name, "-addext",
            "basicConstraints=critical,CA:TRUE", "-addext",
            "keyUsage=critical,keyCertSign,cRLSign")


def make_leaf(wd, name, ca, cn, ext):
    with open(wd.file(name + ".ext"), "w") as f:
        f.write("basicConstraints=CA:FALSE\n%s\n" % ext)
    openssl(wd, "req", "-new", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", name + ".key",
            "-out", name + ".csr", "-subj", "/CN=" + cn)
    openssl(wd, "x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem",
            "-CAkey", ca + ".key", "-CAcreateserial", "-out", name + ".pem",
            "-days", "2", "-extfile", name + ".ext")
    os.chmod(wd.file(name + ".key"), 0o600)


def make_pki(wd):
    """ca signs server (127.0.0.1, localhost) and client; rogue is a CA
    nobody trusts, with a client certificate of its own."""
    make_ca(wd, "ca")
    make_ca(wd, "rogue")
    make_leaf(wd, "server", "ca", "localhost",
              "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
              "extendedKeyUsage=serverAuth")
    make_leaf(wd, "client", "ca", "mdesiemd-client",
              "extendedKeyUsage=clientAuth")
    make_leaf(wd, "rogueclient", "rogue", "rogue-client",
              "extendedKeyUsage=clientAuth")


def tls_collector(wd, *extra, port=0):
    return h.CollectorWith(wd, "--tls-cert", wd.file("server.pem"),
                           "--tls-key", wd.file("server.key"), *extra,
                           framing="octet", port=port)


def tls_config(wd, sim, coll, name="tls.conf", **kw):
    extra = {"output.transport": "tls", "output.framing": None,
             "output.tls_ca_file": wd.file("ca.pem"),
             "source.page_size": "50", "source.timeout": "5s",
             "state.directory": wd.file("state-" + name)}
    extra.update({k.replace("__", "."): v for k, v in kw.items()})
    return h.write_config(wd, sim, coll, name=name, extra=extra)


def cef_ids(msgs, wd):
    lines = [h.cef_payload(m) for m in msgs]
    parsed = h.lognorm_parse([l for l in lines if l], wd)
    return [p.get("Extensions", {}).get("cs3") if p else None
            for p in parsed], len(lines) - len([l for l in lines if l])


def all_delivered(what, msgs, wd, want):
    ids, unparsed = cef_ids(msgs, wd)
    counts = collections.Counter(ids)
    missing = len(set(want) - set(counts))
    dups = sum(1 for n in counts.values() if n > 1)
    R.check(unparsed == 0 and None not in counts and missing == 0 and
            dups == 0 and set(counts) <= set(want),
            "%s: every detection delivered once, parsed as CEF (%d "
            "messages, %d missing, %d duplicated, %d unparsed)"
            % (what, len(msgs), missing, dups, unparsed))


def settle(coll, n):
    """Messages of coll once n arrived (or 10 s passed): the collector
    writes what it received a moment after the daemon exits."""
    h.wait_for(lambda: len(coll.messages()) >= n, 10)
    time.sleep(0.2)
    return coll.messages()


def warning_lines(err):
    return [l for l in err.splitlines() if "unavailable:" in l]


class Relay:
    """A raw TCP relay in front of a collector that records every byte the
    daemon sends, to show what went on the wire."""

    def __init__(self, target_port):
        self.target = target_port
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(16)
        self.port = self.lsock.getsockname()[1]
        self.sent = []  # bytes from the daemon, one entry per connection
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            threading.Thread(target=self._pair, args=(c,),
                             daemon=True).start()

    def _pair(self, c):
        up = socket.create_connection(("127.0.0.1", self.target))
        with self.lock:
            idx = len(self.sent)
            self.sent.append(b"")

        def pump(src, dst, record):
            try:
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    if record:
                        with self.lock:
                            self.sent[idx] += data
                    dst.sendall(data)
            except OSError:
                pass
            for s in (dst, src):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        t = threading.Thread(target=pump, args=(up, c, False), daemon=True)
        t.start()
        pump(c, up, True)
        t.join(5)
        c.close()
        up.close()

    def close(self):
        self.lsock.close()


def tls_records(data):
    """Split a client's byte stream into TLS records: [(type, length)],
    and the number of bytes that are not whole records."""
    out = []
    pos = 0
    while pos + 5 <= len(data):
        typ, ver, n = struct.unpack("!BHH", data[pos:pos + 5])
        if pos + 5 + n > len(data) or ver >> 8 != 3:
            break
        out.append((typ, n))
        pos += 5 + n
    return out, len(data) - pos


def check_nothing_sent(what, relay, coll, flight):
    """The collector recorded nothing, and the daemon's bytes on the wire
    are TLS records only, starting with a handshake record (0x16): then
    change_cipher_spec (0x14), alerts (0x15) and encrypted records (0x17).
    In TLS 1.3 the client's second flight is encrypted: OpenSSL sends
    Certificate, CertificateVerify (with a certificate) and Finished as
    one record each, so flight is how many encrypted records a refused
    client may send (0 when it refuses the server itself); a detection
    would need one more."""
    R.check(coll.records() == [], "%s: the collector received no message"
            % what)
    with relay.lock:
        conns = list(relay.sent)
    raw = b"".join(conns)
    ok = bool(conns)
    most = 0
    for data in conns:
        recs, rest = tls_records(data)
        ok = ok and rest == 0 and bool(recs) and recs[0][0] == 0x16
        ok = ok and all(t in (0x14, 0x15, 0x16, 0x17) for t, _ in recs)
        most = max(most, len([t for t, _ in recs if t == 0x17]))
    R.check(ok and most <= flight and b"CEF:" not in raw,
            "%s: on the wire only TLS records, no clear text, no "
            "application data (%d connections, %d bytes, at most %d "
            "encrypted records, %d allowed)"
            % (what, len(conns), len(raw), most, flight))


def refused_case(wd, sim, coll, what, expect, name, flight=0, **kw):
    relay = Relay(coll.port)
    conf = tls_config(wd, sim, None, name=name, output__host="127.0.0.1",
                      output__port=str(relay.port),
                      state__shutdown_grace="2s", **kw)
    rc, err, _ = h.run_daemon(conf, "--once", timeout=120)
    relay.close()
    R.check(rc != 0, "%s: --once exits non-zero (got %d)" % (what, rc))
    lines = warning_lines(err)
    R.check(len(lines) == 1 and all(e in lines[0] for e in expect),
            "%s: one clear log line %r" % (what, lines[0] if lines else
                                           err[-600:]))
    check_nothing_sent(what, relay, coll, flight)
    return lines[0] if lines else ""


def tls_tests():
    wd = h.Workdir()
    try:
        make_pki(wd)
        sim = h.Sim(wd, "--count", COUNT, "--seed", 5)
        want = [d["FullId"] for d in sim.corpus()]

        coll = tls_collector(wd)
        conf = tls_config(wd, sim, coll)
        rc, err, _ = h.run_daemon(conf, "--once")
        R.check(rc == 0, "tls: --once exits 0 (got %d)" % rc)
        if rc != 0:
            print(err[-2000:])
        all_delivered("tls, octet framing", settle(coll, len(want)), wd,
                      want)
        R.check("unavailable" not in err, "tls: no warning in the log")

        coll2 = tls_collector(wd)
        conf = tls_config(wd, sim, coll2, name="tls-name.conf",
                          output__tls_server_name="localhost")
        rc, err, _ = h.run_daemon(conf, "--once")
        R.check(rc == 0, "tls with tls_server_name = localhost (DNS "
                "name in the certificate): exit 0 (got %d)" % rc)
        all_delivered("tls by DNS name", settle(coll2, len(want)), wd,
                      want)

        mtls = tls_collector(wd, "--tls-ca", wd.file("ca.pem"))
        conf = tls_config(wd, sim, mtls, name="mtls.conf",
                          output__tls_cert_file=wd.file("client.pem"),
                          output__tls_key_file=wd.file("client.key"))
        rc, err, _ = h.run_daemon(conf, "--once")
        R.check(rc == 0, "mutual tls: exit 0 (got %d)" % rc)
        if rc != 0:
            print(err[-2000:])
        all_delivered("mutual tls", settle(mtls, len(want)), wd, want)
        cns = set(r.get("client_cn") for r in mtls.records())
        R.check(cns == {"mdesiemd-client"}, "mutual tls: the collector "
                "verified our client certificate (%s)" % sorted(map(str,
                                                                   cns)))

        tls12_on_the_wire(wd, sim, want)
        refusals(wd, sim)
        wd_reconnect(wd, sim, want)
    finally:
        wd.close()


def tls12_on_the_wire(wd, sim, want):
    """TLS 1.2 shows record types on the wire: detections travel only in
    encrypted records, and the daemon ends with close_notify (an alert
    record, RFC 5425 section 4.4) before closing."""
    coll = tls_collector(wd, "--tls-max-version", "1.2")
    relay = Relay(coll.port)
    conf = tls_config(wd, sim, None, name="tls12.conf",
                      output__host="127.0.0.1", output__port=str(relay.port))
    rc, err, _ = h.run_daemon(conf, "--once")
    R.check(rc == 0, "tls 1.2: exit 0 (got %d)" % rc)
    all_delivered("tls 1.2", settle(coll, len(want)), wd, want)

    def ended():
        with relay.lock:
            conns = list(relay.sent)
        recs, rest = tls_records(conns[-1]) if conns else ([], 1)
        return rest == 0 and recs and recs[-1][0] == 0x15

    closed = h.wait_for(ended, 5)
    relay.close()
    with relay.lock:
        conns = list(relay.sent)
    recs, rest = tls_records(b"".join(conns))
    R.check(len(conns) == 1 and rest == 0 and b"CEF:" not in conns[0] and
            {t for t, _ in recs} == {0x14, 0x15, 0x16, 0x17},
            "tls 1.2: on the wire only TLS records, the detections "
            "encrypted (%d records)" % len(recs))
    R.check(closed, "tls 1.2: the daemon sent close_notify before closing")


def refusals(wd, sim):
    coll = tls_collector(wd)
    refused_case(wd, sim, coll, "wrong CA",
                 ["certificate verification failed",
                  "unable to get local issuer certificate",
                  "check [output] tls_ca_file"], "wrongca.conf",
                 output__tls_ca_file=wd.file("rogue.pem"))
    refused_case(wd, sim, coll, "system CA store",
                 ["certificate verification failed",
                  "set [output] tls_ca_file"], "sysca.conf",
                 output__tls_ca_file=None)
    refused_case(wd, sim, coll, "wrong host name",
                 ["certificate verification failed", "hostname mismatch",
                  'not valid for "wrong.example"',
                  "check [output] host or tls_server_name"],
                 "wrongname.conf", output__tls_server_name="wrong.example")
    for ver in ("1.3", "1.2"):
        mtls = tls_collector(wd, "--tls-ca", wd.file("ca.pem"),
                             "--tls-max-version", ver)
        refused_case(wd, sim, mtls, "mutual tls %s, no client certificate"
                     % ver, ["requires a TLS client certificate",
                             "set [output] tls_cert_file and tls_key_file"],
                     "nocert%s.conf" % ver,
                     flight=2 if ver == "1.3" else 0)
        refused_case(wd, sim, mtls, "mutual tls %s, untrusted client "
                     "certificate" % ver,
                     ["refused our TLS client certificate",
                      "check [output] tls_cert_file"],
                     "roguecert%s.conf" % ver,
                     flight=3 if ver == "1.3" else 0,
                     output__tls_cert_file=wd.file("rogueclient.pem"),
                     output__tls_key_file=wd.file("rogueclient.key"))


def wd_reconnect(wd, sim, want):
    """The TLS collector goes away while the daemon runs, then returns on
    the same port: the daemon notices, says so, and delivers all."""
    coll = tls_collector(wd)
    conf = tls_config(wd, sim, coll, name="reconnect.conf")
    p = h.start_daemon(wd, conf)
    try:
        ok = h.wait_for(lambda: len(coll.messages()) >= len(want), 60)
        R.check(ok, "tls reconnect: first delivery (%d messages)"
                % len(coll.messages()))
        port = coll.port
        coll.stop()
        added = sim.call("POST", "/_sim/add?n=5")["added"]
        ok = h.wait_for(lambda: "unavailable" in h.daemon_log(wd), 30)
        R.check(ok, "tls reconnect: the daemon noticed the collector left")
        coll2 = tls_collector(wd, port=port)
        ok = h.wait_for(lambda: "is back" in h.daemon_log(wd), 60)
        R.check(ok, "tls reconnect: the daemon says the collector is back")
        # The spool resends from its last saved position: older messages
        # may come first.
        h.wait_for(lambda: all(any(f.encode() in m for m in
                                   coll2.messages()) for f in added), 30)
        ids, _ = cef_ids(coll.messages() + coll2.messages(), wd)
        if not R.check(set(want + added) <= set(ids), "tls reconnect: "
                       "every detection delivered (%d of %d)"
                       % (len(set(ids) & set(want + added)),
                          len(want + added))):
            print(h.daemon_log(wd)[-3000:])
            print(coll.stderr()[-1500:], coll2.stderr()[-1500:])
    finally:
        rc = h.stop_daemon(p)
    R.check(rc == 0, "tls reconnect: SIGTERM exits 0 (got %d)" % rc)


def udp_tests():
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, "--count", COUNT, "--seed", 6)
        want = [d["FullId"] for d in sim.corpus()]
        coll = h.CollectorWith(wd, "--udp")
        conf = h.write_config(wd, sim, coll, extra={
            "output.transport": "udp", "output.framing": None})
        rc, err, _ = h.run_daemon(conf, "--once")
        R.check(rc == 0, "udp: --once exits 0 (got %d)" % rc)
        msgs = settle(coll, len(want))
        recs = coll.records()
        sizes = [r["size"] for r in recs]
        R.check(msgs and max(sizes) <= 2048, "udp: every datagram within "
                "the udp default max_message_size 2048 (largest %d)"
                % max(sizes or [0]))
        R.check(len(msgs) == len(want) and
                all(m.startswith(b"<") and m[-1:] != b"\n" for m in msgs),
                "udp: one syslog message per datagram, no framing (%d "
                "datagrams for %d detections)" % (len(msgs), len(want)))
        all_delivered("udp", msgs, wd, want)

        # Nobody listening: ICMP port unreachable is not an error.
        coll.stop()
        # Stamped 5 s ago: a run reads what the API's clock says is past.
        sim.call("POST", "/_sim/add?n=3&ago=5")
        rc, err, _ = h.run_daemon(conf, "--once", "-v")
        R.check(rc == 0 and "refused a UDP datagram" in err,
                "udp, collector not listening: lossy by nature, exit 0, "
                "noted in the debug log")
    finally:
        wd.close()


def local_run(wd, sim, devlog, want, what, header):
    del devlog.msgs[:]
    conf = h.write_config(wd, sim, None, name=what + ".conf", extra={
        "output.transport": "local", "output.framing": None,
        "output.header": header, "output.app_name": "mdetest",
        "output.facility": "local5",
        "state.directory": wd.file("state-" + what)})
    rc, err, _ = h.run_daemon(conf, "--once")
    R.check(rc == 0, "%s: --once exits 0 (got %d)" % (what, rc))
    h.wait_for(lambda: len(devlog.msgs) >= len(want), 10)
    msgs = list(devlog.msgs)
    # An unknown severity is the lowest step: informational (severity.c).
    sev = {d["FullId"]: SEVERITY.get(d["Severity"].lower(), 6)
           for d in sim.corpus()}
    ids, _ = cef_ids(msgs, wd)
    good = 0
    for m, fid in zip(msgs, ids):
        head = m[:m.find(b"CEF:0|")]
        pri = int(head[1:head.find(b">")]) if head.startswith(b"<") else -1
        # glibc: "<PRI>Mmm dd hh:mm:ss ident[pid]: " then our message.
        if (pri >> 3 == 21 and pri & 7 == sev.get(fid) and
                b" mdetest[" in head and head.endswith(b"]: ") and
                head.count(b"<") == 1):
            good += 1
    R.check(msgs and good == len(msgs),
            "%s: syslog(3) with facility local5, each detection's own "
            "severity, ident app_name[pid], our header stripped (%d of %d)"
            % (what, good, len(msgs)))
    all_delivered(what, msgs, wd, want)


def local_tests():
    # a skip is printed, never counted as a pass (tests/run.sh lists it)
    if os.path.exists(h.DevLog.PATH):
        print("skip local: /dev/log belongs to this machine's syslog "
              "daemon; delivery through it is not checked here")
        return
    try:
        devlog = h.DevLog()
    except OSError as e:
        print("skip local: cannot bind /dev/log (%s)" % e)
        return
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, "--count", COUNT, "--seed", 7)
        want = [d["FullId"] for d in sim.corpus()]
        local_run(wd, sim, devlog, want, "local", "rfc5424")
        local_run(wd, sim, devlog, want, "local-noheader", "none")
    finally:
        devlog.close()
        wd.close()
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, "--count", 5, "--seed", 7)
        conf = h.write_config(wd, sim, None, extra={
            "output.transport": "local", "output.framing": None})
        rc, err, _ = h.run_daemon(conf, "--once", timeout=120)
        R.check(rc != 0 and "no local syslog daemon: /dev/log" in err,
                "local without a syslog daemon: exit non-zero, says so")
    finally:
        wd.close()


def main():
    tls_tests()
    udp_tests()
    local_tests()
    R.done()


if __name__ == "__main__":
    main()
