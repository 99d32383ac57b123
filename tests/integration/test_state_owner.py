# SPDX-License-Identifier: MIT
"""Whose state it is (ARCHITECTURE section 2): the cursor file and the
spool's COMMITs name their tenant id, api and source URL.  When tenant_id,
api or url change with the same state directory, that source starts
afresh from start_from, says so, and applies nothing of the other state;
what the spool still holds is delivered.  State in the format of the
version before (no URL in the cursor file, COMMITs without owner) is taken
over without delivering anything again."""

import glob
import json
import os
import struct

import harness as h

R = h.Results()


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def entries(data):
    """(offset, type, severity, payload) of each entry of a segment."""
    out, pos = [], 0
    while pos + 16 <= len(data):
        magic, n, _crc, typ, sev = struct.unpack_from("<IIIBB", data, pos)
        if magic != 0x5153444D:
            raise ValueError("not an entry at %d" % pos)
        out.append((pos, typ, sev, data[pos + 16:pos + 16 + n]))
        pos += 16 + n
    return out


def entry(typ, sev, payload):
    tail = struct.pack("<BBH", typ, sev, 0)
    crc = crc32c(payload, crc32c(tail, crc32c(struct.pack("<I", len(payload)))))
    return struct.pack("<III", 0x5153444D, len(payload), crc) + tail + payload


def to_legacy(state):
    """Put the state of the one tenant back where a daemon of one tenant
    kept it: cursor-API.json and spool/ at the top."""
    tdir = os.path.dirname(h.cursor_file(state))
    for f in os.listdir(tdir):
        os.rename(os.path.join(tdir, f), os.path.join(state, f))
    os.rmdir(tdir)
    os.rmdir(os.path.join(state, "tenants"))
    qdir = os.path.dirname(h.spool_dir(state))
    os.rename(os.path.join(qdir, "spool"), os.path.join(state, "spool"))
    os.rmdir(qdir)
    os.rmdir(os.path.join(state, "queues"))


def downgrade(state):
    """Rewrite state as the version before wrote it: its layout, cursor
    files without "url", COMMITs without owner (and read.pos moved
    accordingly)."""
    to_legacy(state)
    for path in glob.glob(os.path.join(state, "cursor-*.json")):
        with open(path) as f:
            doc = json.load(f)
        doc.pop("url", None)
        with open(path, "w") as f:
            json.dump(doc, f, separators=(",", ":"))
    spool = os.path.join(state, "spool")
    with open(os.path.join(spool, "read.pos")) as f:
        rseg, roff = (int(x) for x in f.read().split()[:2])
    for path in sorted(glob.glob(os.path.join(spool, "*.seg"))):
        seg = int(os.path.basename(path)[:20])
        with open(path, "rb") as f:
            data = f.read()
        out, removed = b"", 0
        for off, typ, sev, payload in entries(data):
            if typ == 4:  # that version's segments had no header
                if seg == rseg and off < roff:
                    removed += 16 + len(payload)
                continue
            if typ == 2 and payload[8] & 2:
                n = struct.unpack_from("<H", payload, 21)[0]
                payload = (payload[:8] + bytes([payload[8] & ~2])
                           + payload[9:21] + payload[23 + n:])
                if seg == rseg and off < roff:
                    removed += 2 + n
            out += entry(typ, sev, payload)
        with open(path, "wb") as f:
            f.write(out)
        if seg == rseg:
            roff -= removed
    with open(os.path.join(spool, "read.pos"), "w") as f:
        f.write("%d %d\n" % (rseg, roff))
    if os.path.exists(os.path.join(spool, "queue.id")):
        os.unlink(os.path.join(spool, "queue.id"))


def commits(state):
    """Owner of each COMMIT in the spool (None: no owner)."""
    out = []
    spool = h.spool_dir(state) or os.path.join(state, "spool")
    for path in sorted(glob.glob(os.path.join(spool, "*.seg"))):
        with open(path, "rb") as f:
            for _off, typ, _sev, p in entries(f.read()):
                if typ == 2:
                    n = struct.unpack_from("<H", p, 21)[0] if p[8] & 2 else 0
                    out.append(p[23:23 + n].decode() if p[8] & 2 else None)
    return out


def ids(coll):
    return [h.cef_full_id(m) for m in coll.messages()]


def tenant_change():
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, "--count", 300, "--seed", 41, "--tenants", 2,
                    "--hostile-ratio", 0)
        coll = h.Collector(wd)
        state = wd.file("state")
        conf = h.write_config(wd, sim, coll)
        rc, err, _ = h.run_daemon(conf, "--once")
        a = {d["FullId"] for d in sim.corpus()}
        R.check(rc == 0 and set(ids(coll)) == a, "tenant A: all 300 "
                "delivered")
        with open(h.cursor_file(state)) as f:
            doc = json.load(f)
        R.check(doc.get("url") == sim.base + "/siem/api/alerts"
                and doc.get("tenant") == h.TENANT,
                "the cursor file names tenant, api and source URL")
        own = commits(state)
        R.check(own and all(o == "%s\nsiem\n%s/siem/api/alerts"
                            % (h.TENANT, sim.base) for o in own),
                "every COMMIT in the spool names its owner (%d)" % len(own))
        tb = "00000000-0000-0000-0000-000000000002"
        b = {d["FullId"] for d in sim.call("GET", "/_sim/corpus?tenant=" + tb)}
        conf = h.write_config(wd, sim, coll, extra={"azure.tenant_id": tb})
        rc, err, _ = h.run_daemon(conf, "--once")
        got = ids(coll)
        R.check(rc == 0, "tenant_id changed: --once exits 0 (%d)" % rc)
        R.check("is not this source's state: it names another tenant id"
                in err and "starts afresh from [source] start_from" in err,
                "the log says the state is another tenant's and it starts "
                "afresh")
        R.check(b <= set(got) and len(got) == 600 and len(set(got)) == 600,
                "tenant B's whole backlog (300) is delivered, and nothing of"
                " A again (%d messages)" % len(got))
        R.check(os.path.exists(h.cursor_file(state) + ".previous"),
                "A's cursor file is kept as cursor-siem.json.previous")
        rc, err, _ = h.run_daemon(conf, "--once")
        R.check(rc == 0 and len(ids(coll)) == 600 and "afresh" not in err,
                "the next run continues B's state: nothing twice")
    finally:
        wd.close()


def api_change():
    """siem, then graph with the same state directory: cursor-graph.json
    does not exist, and the spool's last COMMIT (the SIEM API's) is not
    applied to it."""
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, "--count", 200, "--graph-count", 150, "--seed", 42,
                    "--hostile-ratio", 0)
        coll = h.Collector(wd)
        conf = h.write_config(wd, sim, coll)
        rc, _, _ = h.run_daemon(conf, "--once")
        R.check(rc == 0 and len(coll.messages()) == 200, "siem: 200 "
                "delivered")
        conf = h.write_config(wd, sim, coll, extra={
            "source.api": "graph",
            "source.url": sim.base + "/graph/v1.0/security/alerts_v2",
            "source.page_size": "100"})
        rc, err, _ = h.run_daemon(conf, "--once")
        n = len(coll.messages())
        R.check(rc == 0 and n == 350, "api changed to graph: its whole "
                "backlog (150) is delivered (%d messages in all)" % n)
        R.check("the last commit is another source's" in err
                and "recovered the cursor" not in err,
                "the SIEM API's last COMMIT is not applied, and the log "
                "says so")
    finally:
        wd.close()


def url_change():
    """Another source URL (another simulator) with the same state: its
    backlog is read from start_from, not from the old cursor."""
    wd = h.Workdir()
    try:
        sim1 = h.Sim(wd, "--count", 200, "--seed", 43, "--hostile-ratio", 0)
        sim2 = h.Sim(wd, "--count", 200, "--seed", 44, "--hostile-ratio", 0)
        coll = h.Collector(wd)
        conf = h.write_config(wd, sim1, coll)
        rc, _, _ = h.run_daemon(conf, "--once")
        R.check(rc == 0 and len(coll.messages()) == 200, "url 1: 200 "
                "delivered")
        conf = h.write_config(wd, sim2, coll)
        rc, err, _ = h.run_daemon(conf, "--once")
        want = {d["FullId"] for d in sim2.corpus()}
        got = ids(coll)
        R.check(rc == 0 and want <= set(got) and len(got) == 400,
                "url changed: the new source's whole backlog is delivered "
                "(%d of 200)" % len(want & set(got)))
        R.check("it names another source URL" in err, "and the log says "
                "why it starts afresh")
    finally:
        wd.close()


def upgrade():
    """State as the version before wrote it (downgraded from a real run,
    and the unit tests read a state directory that version's daemon
    wrote): taken over, nothing delivered twice, and its COMMIT, without
    owner, still reconciles a cursor file one page behind."""
    wd = h.Workdir()
    try:
        sim = h.Sim(wd, "--count", 300, "--seed", 45, "--hostile-ratio", 0)
        coll = h.Collector(wd)
        state = wd.file("state")
        conf = h.write_config(wd, sim, coll)
        rc, _, _ = h.run_daemon(conf, "--once")
        R.check(rc == 0 and len(coll.messages()) == 300, "first run: 300")
        downgrade(state)
        R.check(commits(state) and all(o is None for o in commits(state)),
                "state rewritten in the old format (COMMITs without owner)")
        path = os.path.join(state, "cursor-siem.json")
        with open(path) as f:
            doc = json.load(f)
        # The old version's crash between COMMIT and cursor file.
        doc["spool_seq"] = str(int(doc["spool_seq"]) - 1)
        with open(path, "w") as f:
            json.dump(doc, f)
        start = h.sim_now(sim)
        new = set(sim.call("POST", "/_sim/add?n=50")["added"])
        h.wait_api_time(sim, start)
        rc, err, _ = h.run_daemon(conf, "--once")
        got = ids(coll)
        R.check(rc == 0, "upgrade: --once exits 0 (%d)" % rc)
        R.check("names no source URL (written by an earlier version): "
                "taken over" in err, "the log says the old state is taken "
                "over")
        R.check("recovered the cursor of the last committed page" in err,
                "the old COMMIT without owner reconciles the cursor file")
        R.check(new <= set(got) and len(got) == 350 and len(set(got)) == 350,
                "the 50 new records delivered, nothing of the 300 again "
                "(%d messages)" % len(got))
        with open(h.cursor_file(state)) as f:
            R.check(json.load(f).get("url") == sim.base + "/siem/api/alerts",
                    "the cursor file names its URL from now on")
    finally:
        wd.close()


def main():
    tenant_change()
    api_change()
    url_change()
    upgrade()
    R.done()


if __name__ == "__main__":
    main()
