# SPDX-License-Identifier: MIT
"""Certificate sign-in.  First the simulator's checks, with client
assertions signed here by the openssl command: it takes good PS256 and
RS256 assertions and refuses, with Entra's AADSTS codes, a bad signature,
an unknown certificate, a wrong aud, iss or sub, times out of range, a
missing thumbprint.  Then the daemon: certificate_file and
private_key_file sign in (PS256, and RS256 with assertion_alg = rs256)
and deliver; an unknown certificate is refused with the Entra error in
the log; a key others can read, or one that does not match the
certificate, is refused before anything is sent."""

import base64
import hashlib
import json
import os
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import harness as h

R = h.Results()
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_pair(wd, name):
    crt, key = wd.file(name + ".crt"), wd.file(name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-keyout", key, "-out", crt, "-days", "2",
                    "-subj", "/CN=mdesiem-" + name],
                   check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    os.chmod(key, 0o600)
    return crt, key


def der(crt):
    return subprocess.run(["openssl", "x509", "-in", crt, "-outform", "DER"],
                          check=True, stdout=subprocess.PIPE).stdout


def assertion(crt, key, aud, alg="PS256", saltlen=32, thumb=None,
              claims=None, header=None):
    now = int(time.time())
    hd = {"alg": alg, "typ": "JWT"}
    if thumb != "none":
        d = der(crt)
        if alg == "RS256" or thumb == "x5t":
            hd["x5t"] = b64url(hashlib.sha1(d).digest())
        else:
            hd["x5t#S256"] = b64url(hashlib.sha256(d).digest())
    hd.update(header or {})
    cl = {"aud": aud, "iss": h.CLIENT, "sub": h.CLIENT,
          "jti": str(uuid.uuid4()), "nbf": now, "iat": now, "exp": now + 300}
    cl.update(claims or {})
    signed = (b64url(json.dumps(hd).encode()) + "." +
              b64url(json.dumps(cl).encode()))
    cmd = ["openssl", "dgst", "-sha256", "-sign", key, "-binary"]
    if alg == "PS256":
        cmd += ["-sigopt", "rsa_padding_mode:pss",
                "-sigopt", "rsa_pss_saltlen:%d" % saltlen]
    sig = subprocess.run(cmd, input=signed.encode(), check=True,
                         stdout=subprocess.PIPE).stdout
    return signed + "." + b64url(sig)


def post_token(sim, v2, jwt, atype=JWT_BEARER):
    path = "/%s/oauth2/%stoken" % (h.TENANT, "v2.0/" if v2 else "")
    form = {"grant_type": "client_credentials", "client_id": h.CLIENT,
            "client_assertion_type": atype, "client_assertion": jwt}
    if v2:
        form["scope"] = "https://graph.windows.net/.default"
    else:
        form["resource"] = "https://graph.windows.net"
    req = urllib.request.Request(sim.base + path,
                                 data=urllib.parse.urlencode(form).encode())
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def expect(sim, v2, jwt, status, code, text, what, atype=JWT_BEARER):
    st, body = post_token(sim, v2, jwt, atype)
    desc = body.get("error_description", "")
    ok = st == status and (code is None or
                           desc.startswith("AADSTS%d: " % code)) and \
        text in desc
    R.check(ok, "simulator: %s -> %d %s" % (what, status,
                                             code or "token"))
    if not ok:
        print("     got %d %s" % (st, json.dumps(body)[:400]))


def simulator_checks(wd):
    a_crt, a_key = make_pair(wd, "a")
    b_crt, b_key = make_pair(wd, "b")
    sim = h.Sim(wd, "--count", 5, "--client-cert", a_crt)
    v1 = sim.base + "/%s/oauth2/token" % h.TENANT
    v2 = sim.base + "/%s/oauth2/v2.0/token" % h.TENANT

    expect(sim, True, assertion(a_crt, a_key, v2), 200, None, "",
           "PS256 signed by openssl, v2")
    expect(sim, False, assertion(a_crt, a_key, v1), 200, None, "",
           "PS256 signed by openssl, v1")
    expect(sim, True, assertion(a_crt, a_key, v2, alg="RS256"), 200, None,
           "", "RS256 with x5t")
    expect(sim, True, assertion(a_crt, a_key, v2, thumb="x5t"), 200, None,
           "", "PS256 with x5t")

    invalid = "Client assertion contains an invalid signature. [Reason - "
    expect(sim, True, assertion(b_crt, b_key, v2), 401, 700027,
           invalid + "The key was not found., Thumbprint of key used by "
           "client: '%s'" % hashlib.sha256(der(b_crt)).hexdigest().upper(),
           "unknown certificate")
    expect(sim, True, assertion(a_crt, b_key, v2), 401, 700027,
           invalid + "The provided signature value did not match",
           "registered thumbprint, other key")
    expect(sim, True, assertion(a_crt, a_key, v2, saltlen=20), 401, 700027,
           "did not match", "PSS salt shorter than the digest")
    jwt = assertion(a_crt, a_key, v2)
    expect(sim, True, jwt[:-8] + ("AAAAAAAA" if jwt[-8:] != "AAAAAAAA"
                                  else "BBBBBBBB"),
           401, 700027, "did not match", "tampered signature")
    jwt = assertion(a_crt, a_key, v2)
    head, claims, sig = jwt.split(".")
    cl = json.loads(base64.urlsafe_b64decode(claims + "=="))
    cl["exp"] += 60
    expect(sim, True, ".".join([head, b64url(json.dumps(cl).encode()), sig]),
           401, 700027, "did not match", "claims changed after signing")

    realm = "Client assertion audience claim does not match Realm issuer."
    expect(sim, True, assertion(a_crt, a_key, v1), 401, 700023, realm,
           "aud of the v1 endpoint sent to v2")
    expect(sim, True, assertion(
        a_crt, a_key, "https://login.microsoftonline.com/%s/oauth2/v2.0/"
        "token" % h.TENANT), 401, 700023, realm, "aud of another host")
    expect(sim, True, assertion(a_crt, a_key, v2, claims={
        "iss": "22222222-2222-2222-2222-222222222222"}), 401, 700021,
        "doesn't match 'client_id'", "iss of another app")
    expect(sim, True, assertion(a_crt, a_key, v2, claims={"sub": None}),
           401, 700021, "doesn't match", "no sub")

    now = int(time.time())
    window = "Client assertion is not within its valid time range."
    expect(sim, True, assertion(a_crt, a_key, v2, claims={
        "nbf": now - 1200, "iat": now - 1200, "exp": now - 900}),
        401, 700024, window, "expired 15 min ago")
    expect(sim, True, assertion(a_crt, a_key, v2, claims={
        "nbf": now + 900, "iat": now + 900, "exp": now + 1200}),
        401, 700024, window, "valid only from 15 min ahead")
    expect(sim, True, assertion(a_crt, a_key, v2, claims={
        "exp": now + 3600}), 401, 700024, window, "lifetime of an hour")
    expect(sim, True, assertion(a_crt, a_key, v2, claims={"exp": None}),
           401, 700024, window, "no exp")

    expect(sim, True, assertion(a_crt, a_key, v2, thumb="none"), 401, 50027,
           "No certificate thumbprint", "no thumbprint in the header")
    expect(sim, True, assertion(a_crt, a_key, v2, alg="PS256",
                                header={"alg": "HS256"}),
           401, 50027, "Unsupported signing algorithm", "alg HS256")
    expect(sim, True, "not.a.jwt", 401, 50027, "invalid or malformed",
           "garbage assertion")
    expect(sim, True, assertion(a_crt, a_key, v2), 400, 7000216,
           "'client_assertion', 'client_secret' or 'request' is required",
           "wrong client_assertion_type", atype="jwt")

    st = sim.stats()
    R.check(len(st["assertions"]) == 4 and st["assertion_jti_reuse"] == 0,
            "simulator: 4 assertions accepted, no jti reused")


def cert_config(wd, sim, coll, crt, key, name="mdesiem.conf", alg=None):
    extra = {"azure.client_secret": None,
             "azure.certificate_file": crt,
             "azure.private_key_file": key}
    if alg:
        extra["azure.assertion_alg"] = alg
    return h.write_config(wd, sim, coll, name=name, extra=extra)


def daemon_checks(wd):
    a_crt, a_key = make_pair(wd, "da")
    b_crt, b_key = make_pair(wd, "db")
    sim = h.Sim(wd, "--count", 200, "--seed", 8, "--client-cert", a_crt)
    coll = h.Collector(wd)
    want = len(sim.corpus())

    conf = cert_config(wd, sim, coll, a_crt, a_key)
    rc, err, _ = h.run_daemon(conf, "--once")
    R.check(rc == 0, "daemon: certificate sign-in, --once exits 0 (%d)" % rc)
    if rc != 0:
        print(err[-1500:])
    # The collector writes what it reads a moment after the daemon exits.
    h.wait_for(lambda: len([m for m in coll.messages()
                            if b"CEF:0|" in m]) >= want, 10)
    got = [m for m in coll.messages() if b"CEF:0|" in m]
    R.check(len(got) == want, "daemon: %d of %d detections delivered"
            % (len(got), want))
    last = (sim.stats()["assertions"] or [{}])[-1]
    R.check(last.get("alg") == "PS256" and
            last.get("thumbprint") == "x5t#S256" and
            last.get("lifetime") == 300,
            "daemon: PS256 with x5t#S256, 5-minute assertion (%s)" % last)

    sim.call("POST", "/_sim/add?n=5")
    conf = cert_config(wd, sim, coll, a_crt, a_key, "rs.conf", "rs256")
    rc, err, _ = h.run_daemon(conf, "--once")
    last = (sim.stats()["assertions"] or [{}])[-1]
    R.check(rc == 0 and last.get("alg") == "RS256" and
            last.get("thumbprint") == "x5t",
            "daemon: assertion_alg = rs256 signs RS256 with x5t")

    conf = cert_config(wd, sim, coll, b_crt, b_key, "unknown.conf")
    rc, err, _ = h.run_daemon(conf, "--once")
    R.check(rc != 0 and "AADSTS700027: Client assertion contains an "
            "invalid signature" in err,
            "daemon: a certificate the app does not know is refused with "
            "Entra's AADSTS700027 in the log")
    line = [l for l in err.splitlines() if "AADSTS" in l]
    print("     " + (line[0] if line else err[-300:]))
    R.check("eyJ" not in err, "daemon: no assertion in the log")

    conf = cert_config(wd, sim, coll, a_crt, b_key, "mismatch.conf")
    n = sim.stats()["requests"]["token"]
    rc, err, _ = h.run_daemon(conf, "--once")
    R.check(rc != 0 and "does not belong to the certificate" in err and
            sim.stats()["requests"]["token"] == n,
            "daemon: a key that does not match the certificate is refused "
            "before anything is sent")

    os.chmod(a_key, 0o644)
    conf = cert_config(wd, sim, coll, a_crt, a_key, "mode.conf")
    rc, err, _ = h.run_daemon(conf, "--once")
    R.check(rc == 78 and "[azure] private_key_file: " in err and
            "readable by group or others" in err,
            "daemon: a key others can read is a configuration error (78)")


def main():
    wd = h.Workdir()
    try:
        simulator_checks(wd)
    finally:
        wd.close()
    wd = h.Workdir()
    try:
        daemon_checks(wd)
    finally:
        wd.close()
    R.done()


if __name__ == "__main__":
    main()
