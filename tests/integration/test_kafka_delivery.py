# SPDX-License-Identifier: MIT
"""Delivery to Kafka end to end: the simulator's detections, the daemon
with transport = kafka, a cluster of librdkafka's mock brokers (three
brokers, real Kafka protocol on loopback) and a real consumer (kcat)
reading the topic back.

- A clean run delivers every detection exactly once: key = the alert id,
  partition = CRC32(key) mod partitions, all versions of an alert in one
  partition in order, the value exactly the CEF event, headers with the
  tenant and the version time; status counts what the cluster acknowledged.
- Twelve kill -9 during production of 20,000 detections, with brokers
  going away and coming back: nothing lost, duplicates within the
  documented bound.
- Brokers down and up, produce errors pushed, a leader moved, while the
  daemon runs: nothing lost, nothing doubled.
- No broker at all: the spool fills to spool_max_size and fetching
  pauses; when the brokers are back everything arrives once.
- A topic that does not exist, while the daemon runs: logged once while
  the producer keeps trying, named in status; all arrive once it exists.
- A message too large for the producer is shortened to fit; one a broker
  refuses is reported with the topic and counted; an unknown topic is a
  clear error, and nothing is lost once the topic exists.
- topic = th-%t names the tenant's topic; with three [tenant NAME]
  sections each tenant's records go to its own topic, or, with one
  shared topic, carry their tenant in the mdesiem-tenant header."""

import json
import os
import random
import re
import signal
import subprocess
import time
import zlib

import harness as h
import kafka_harness as k

R = h.Results()
GRAPH = "/graph/v1.0/security/alerts_v2"
SIEM = "/siem/api/alerts"


def queue_constant(name):
    """A constant of include/queue.h (the output queue's bounds)."""
    with open(os.path.join(h.TOP, "include", "queue.h")) as f:
        m = re.search(r"#define %s (\d+)" % name, f.read())
    return int(m.group(1))


# After a crash, at most the messages in flight (QUEUE_KAFKA_INFLIGHT_MAX)
# and those acknowledged since the read position was saved
# (QUEUE_SAVE_EVERY) are sent again (README, "The delivery contract for
# Kafka").
RESEND_BOUND = queue_constant("QUEUE_KAFKA_INFLIGHT_MAX") + \
    queue_constant("QUEUE_SAVE_EVERY")
CS3 = re.compile(r" cs3=((?:[^\\ ]|\\.)*) cs3Label=")
EXT_ID = re.compile(r" externalId=((?:[^\\ ]|\\.)*)")
MDE_LUT = re.compile(r" mdeLastUpdateTime=((?:[^\\ ]|\\.)*)")


def unescape(v):
    return v.replace("\\=", "=").replace("\\\\", "\\")


def ts7(text):
    """An ISO 8601 UTC time as the daemon writes it: 7 fractional digits
    ("2026-11-26T20:31:02.5000000Z")."""
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$", text)
    return "%s.%sZ" % (m.group(1), ((m.group(2) or "") + "0" * 7)[:7])


def run(conf, *args, timeout=600):
    env = dict(os.environ)
    env["MDESIEM_RATE_SCALE"] = "0.01"
    p = subprocess.run([h.DAEMON, "-c", conf] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, env=env)
    return p.returncode, p.stderr.decode("utf-8", "replace")


def run_until(conf, pred, tries=15):
    """--once until pred() holds: records changed within the second the
    last window ended in are in the next window (the API's clock counts
    whole seconds).  Returns the last (exit status, stderr)."""
    rc, err = run(conf, "--once")
    for _ in range(tries):
        if pred():
            break
        time.sleep(1)
        rc, err = run(conf, "--once")
    return rc, err


def start(wd, conf):
    env = dict(os.environ)
    env["MDESIEM_RATE_SCALE"] = "0.01"
    log = open(wd.file("daemon.log"), "ab")
    p = subprocess.Popen([h.DAEMON, "-c", conf], stdout=subprocess.DEVNULL,
                         stderr=log, env=env)
    wd.procs.append(p)
    return p


def status(state):
    with open(os.path.join(state, "status.json")) as f:
        return json.load(f)


def graph_conf(wd, sim, mk, topic, name, extra=None):
    state = wd.file("state-" + name)
    e = {"source.api": "graph", "source.url": sim.base + GRAPH,
         "source.page_size": "200", "source.start_from": "3h"}
    e.update(extra or {})
    return k.kafka_config(wd, sim, mk, topic, extra=e, state=state,
                          name=name + ".conf"), state


def siem_conf(wd, sim, mk, topic, name, extra=None):
    state = wd.file("state-" + name)
    e = {"source.api": "siem", "source.url": sim.base + SIEM,
         "source.page_size": "300", "source.poll_interval": "1s"}
    e.update(extra or {})
    return k.kafka_config(wd, sim, mk, topic, extra=e, state=state,
                          name=name + ".conf"), state


def check_clean(wd):
    sim = h.Sim(wd, "--graph-count", "400", "--seed", "11")
    mk = k.MockKafka(wd, topics=[("th-cef", 3)])
    try:
        conf, state = graph_conf(wd, sim, mk, "th-cef", "clean")
        rc, err = run(conf, "--once")
        R.check(rc == 0, "clean run: --once exits 0 (%s)" % err[-300:])
        sim.call("POST", "/_sim/update?api=graph&n=150")
        rc, err = run_until(conf, lambda: len(mk.consume("th-cef")) >= 550)
        R.check(rc == 0, "clean run after updates: --once exits 0")
        alerts = sim.call("GET", "/_sim/alerts?api=graph")
        recs = mk.consume("th-cef")
        payloads = [r["payload"] for r in recs]
        R.check(len(payloads) == len(set(payloads)),
                "no message twice (%d messages, %d distinct)"
                % (len(payloads), len(set(payloads))))
        ids = {a["id"] for a in alerts}
        R.check(len(recs) == len(ids) + 150,
                "every version exactly once: %d alerts + 150 updates = %d "
                "messages" % (len(ids), len(recs)))
        R.check(all(r["payload"].startswith("CEF:0|Microsoft|") and
                    "\n" not in r["payload"] for r in recs),
                "the value is exactly the CEF event: no syslog header, no "
                "framing")
        R.check(all(r["headers"].get("mdesiem-tenant") == "default"
                    for r in recs), "header mdesiem-tenant: the tenant")
        st = status(state)
        kst = st.get("kafka", {})
        R.check(kst.get("acknowledged", 0) >= 150 and
                kst.get("in_flight") == 0 and kst.get("failed") == 0,
                "status: Kafka acknowledged counted, nothing in flight, "
                "nothing failed (%r)" % kst)
        keys = [r["key"] for r in recs]
        R.check(set(keys) == ids, "every alert arrived, its id the key "
                "(%d keys, %d alerts)" % (len(set(keys)), len(ids)))
        bad_part = [r for r in recs if r["partition"] !=
                    zlib.crc32((r["key"] or "").encode()) % 3]
        R.check(not bad_part, "partition = CRC32(key) mod partitions "
                "(%d elsewhere)" % len(bad_part))
        out_of_order, split = 0, 0
        by_key = {}
        for r in recs:  # partition, then offset order
            m = MDE_LUT.search(r["payload"])
            v = unescape(m.group(1)) if m else ""
            prev = by_key.get(r["key"])
            if prev is not None:
                split += prev[0] != r["partition"]
                out_of_order += v < prev[1]
            by_key[r["key"]] = (r["partition"], v)
        R.check(split == 0 and out_of_order == 0,
                "all versions of an alert in one partition, in order "
                "(%d split, %d out of order)" % (split, out_of_order))
        latest = {a["id"]: ts7(a["lastUpdateDateTime"]) for a in alerts}
        last = {}
        for r in recs:
            last[r["key"]] = r["headers"].get("mdesiem-version")
        R.check(all(latest.get(key) == v for key, v in last.items()),
                "header mdesiem-version: the version time, ISO 8601 UTC "
                "with 7 fractional digits (the last message of each "
                "alert: its last update)")
    finally:
        mk.close()


def fullids(recs):
    out = []
    for r in recs:
        m = CS3.search(r["payload"])
        out.append(unescape(m.group(1)) if m else None)
    return out


def check_kill9(wd):
    rng = random.Random(20261202)
    sim = h.Sim(wd, "--count", "20000", "--seed", "5")
    # 32 partitions: the mock brokers keep about 5 MB of each.
    mk = k.MockKafka(wd, topics=[("th-cef", 32)])
    try:
        conf, state = siem_conf(wd, sim, mk, "th-cef", "kill9")
        kills = 0
        down = False
        for i in range(12):
            d = start(wd, conf)
            time.sleep(rng.uniform(0.3, 2.0))
            d.send_signal(signal.SIGKILL)
            d.wait()
            kills += 1
            if i % 4 == 1:
                mk.cmd("down -1")
                down = True
            elif down:
                mk.cmd("up -1")
                down = False
            if i % 3 == 0:
                sim.call("POST", "/_sim/add?n=%d" % rng.randint(100, 600))
        if down:
            mk.cmd("up -1")
        want = {d["FullId"] for d in sim.corpus()}
        d = start(wd, conf)

        def got_all():
            return want <= set(fullids(mk.consume("th-cef")))

        h.wait_for(got_all, 300, step=2)
        rc = h.stop_daemon(d)
        ids = fullids(mk.consume("th-cef"))
        seen = set(ids)
        dups = len(ids) - len(seen)
        bound = RESEND_BOUND * kills
        print("kafka kill -9: %d kills, %d detections, %d messages, "
              "%d duplicates (bound %d)" % (kills, len(want), len(ids),
                                            dups, bound))
        R.check(rc == 0, "final SIGTERM: exit 0")
        R.check(want <= seen, "after %d kills every detection is in the "
                "topic (%d missing)" % (kills, len(want - seen)))
        R.check(None not in seen, "every message carries its FullId")
        R.check(dups <= bound, "duplicates within the documented bound "
                "(%d <= %d)" % (dups, bound))
        recs = mk.consume("th-cef")
        R.check(all(r["key"] == i for r, i in zip(recs, fullids(recs))),
                "the key is the FullId")
    finally:
        mk.close()


def check_faults(wd):
    sim = h.Sim(wd, "--count", "3000", "--seed", "9")
    mk = k.MockKafka(wd, topics=[("th-cef", 12)])
    try:
        conf, state = siem_conf(wd, sim, mk, "th-cef", "faults")
        d = start(wd, conf)
        h.wait_for(lambda: len(mk.consume("th-cef")) >= 3000, 120, step=1)
        mk.cmd("down -1")
        sim.call("POST", "/_sim/add?n=1500")
        h.wait_for(lambda: status(state).get("kafka", {}).get(
            "in_flight", 0) > 0 or not status(state)["collector_up"], 60,
            step=0.5)
        time.sleep(3)  # an outage of a few seconds, whatever it does
        mk.cmd("up -1")
        mk.cmd("errors produce NOT_LEADER_FOR_PARTITION _TRANSPORT "
               "NOT_ENOUGH_REPLICAS REQUEST_TIMED_OUT "
               "LEADER_NOT_AVAILABLE _TRANSPORT")
        sim.call("POST", "/_sim/add?n=1500")
        mk.cmd("leader th-cef 0 2")
        mk.cmd("leader th-cef 1 3")
        sim.call("POST", "/_sim/add?n=1000")
        want = {x["FullId"] for x in sim.corpus()}
        h.wait_for(lambda: want <= set(fullids(mk.consume("th-cef"))), 180,
                   step=1)
        rc = h.stop_daemon(d)
        ids = fullids(mk.consume("th-cef"))
        R.check(rc == 0, "faults: SIGTERM exit 0")
        R.check(want <= set(ids), "brokers down and up, pushed produce "
                "errors, leaders moved: nothing lost (%d missing)"
                % len(want - set(ids)))
        # When librdkafka reports every broker down, what was in flight is
        # handed over again once they are back (README, "The delivery
        # contract for Kafka"): at most the in-flight window twice over.
        dups = len(ids) - len(set(ids))
        print("faults: %d duplicates" % dups)
        R.check(dups <= 2 * queue_constant("QUEUE_KAFKA_INFLIGHT_MAX"),
                "... and duplicates within the in-flight bound (%d <= %d)"
                % (dups, 2 * queue_constant("QUEUE_KAFKA_INFLIGHT_MAX")))
    finally:
        mk.close()


def check_backpressure(wd):
    """No broker at all: the records wait in the spool, fetching pauses at
    spool_max_size and says so; when the brokers come back everything
    arrives, once each, and fetching resumes."""
    sim = h.Sim(wd, "--count", "5000", "--seed", "8", "--hostile-ratio",
                "0")
    mk = k.MockKafka(wd, topics=[("th-cef", 8)])
    try:
        mk.cmd("down -1")
        conf, state = siem_conf(wd, sim, mk, "th-cef", "full", extra={
            "state.spool_max_size": "1M", "source.page_size": "200"})
        log = wd.file("daemon.log")
        start_at = os.path.getsize(log) if os.path.exists(log) else 0

        def text():
            with open(log, "rb") as f:
                f.seek(start_at)
                return f.read().decode("utf-8", "replace")

        d = start(wd, conf)
        def full_and_down():
            try:
                st = status(state)
            except (OSError, ValueError):
                return False
            return st["spool"]["full"] and not st["collector_up"]

        h.wait_for(lambda: "spool_max_size" in text() and full_and_down(),
                   120, step=0.5)
        st = status(state)
        print("status with the spool full: %r" % {
            x: st[x] for x in ("collector_up", "collector_error", "spool")})
        R.check("spool_max_size" in text() and st["spool"]["full"] and
                not st["collector_up"], "brokers down: the spool fills to "
                "spool_max_size, fetching pauses, the output is down")
        R.check(st["counters"]["delivered"] == 0 and d.poll() is None,
                "... nothing counted as delivered, the daemon waits")
        mk.cmd("up -1")
        want = {x["FullId"] for x in sim.corpus()}
        h.wait_for(lambda: want <= set(fullids(mk.consume("th-cef"))), 180,
                   step=1)
        rc = h.stop_daemon(d)
        ids = fullids(mk.consume("th-cef"))
        R.check(rc == 0 and set(ids) == want and len(ids) == len(want),
                "brokers back: all %d delivered exactly once (%d messages)"
                % (len(want), len(ids)))
        R.check("fetching resumes" in text(), "the log says fetching "
                "resumed")
    finally:
        mk.close()


def check_too_large(wd):
    sim = h.Sim(wd, "--count", "300", "--seed", "3", "--hostile-ratio",
                "0.2")
    mk = k.MockKafka(wd, topics=[("small", 1)])
    try:
        conf, state = siem_conf(wd, sim, mk, "small", "large", extra={
            "kafka.message.max.bytes": "4096"})
        rc, err = run(conf, "--once")
        recs = mk.consume("small")
        R.check(rc == 0 and len(recs) == 300, "message.max.bytes 4096: "
                "every detection delivered (%d)" % len(recs))
        R.check(max(len(r["payload"].encode()) for r in recs) <= 4096 - 2048,
                "... each shortened to max_message_size (message.max.bytes "
                "less 2048)")
        # A broker that refuses a produce request as too large.
        mk.cmd("errors produce MSG_SIZE_TOO_LARGE")
        sim.call("POST", "/_sim/add?n=50")
        errs, failed = [], []

        def once():
            rc, err = run(conf, "--once")
            errs.append(err)
            failed.append(status(state)["kafka"]["failed"])

        once()
        for _ in range(15):
            if len(mk.consume("small")) + sum(failed) >= 350:
                break
            time.sleep(1)
            once()
        got = len(mk.consume("small"))
        R.check(any("topic small: Broker: Message size too large" in e
                    for e in errs),
                "a refused message is reported with the topic and "
                "librdkafka's reason")
        ids = {x["FullId"] for x in sim.corpus()}
        named = re.findall(r"kafka: skipping record (\S+): topic small: "
                           r"Broker: Message size too large", "".join(errs))
        R.check(named and set(named) <= ids, "... each as a bad record, "
                "named by its key, the FullId (%d named)" % len(named))
        R.check(sum(failed) == 350 - got and got < 350,
                "... counted as failed (%d), the stream goes on"
                % sum(failed))
    finally:
        mk.close()


def check_unknown_topic(wd):
    sim = h.Sim(wd, "--count", "200", "--seed", "4")
    mk = k.MockKafka(wd, topics=[])
    try:
        mk.cmd("topic-error nosuch UNKNOWN_TOPIC_OR_PART")
        conf, state = siem_conf(wd, sim, mk, "nosuch", "unknown", extra={
            "state.shutdown_grace": "5s",
            "kafka.allow.auto.create.topics": "false",
            "kafka.topic.metadata.propagation.max.ms": "1000"})
        rc, err = run(conf, "--once")
        R.check(rc == 1, "unknown topic: --once exits 1")
        R.check("topic nosuch: Broker: Unknown topic or partition" in err,
                "... the log names the topic and librdkafka's reason")
        st = status(state)
        print("status after the unknown topic: %r" % {
            x: st[x] for x in ("collector_up", "spool", "kafka", "counters")})
        R.check(not st["collector_up"] and st["counters"]["delivered"] == 0,
                "... status: the output is down, nothing counted as "
                "delivered")
        mk.cmd("topic-error nosuch NO_ERROR")
        try:
            mk.cmd("create nosuch 2")
        except RuntimeError as e:  # the brokers made it on the request
            if "already exists" not in str(e):
                raise
        rc, err = run(conf, "--once")
        ids = fullids(mk.consume("nosuch"))
        R.check(rc == 0 and len(set(ids)) == 200, "once the topic exists, "
                "all 200 arrive (%d)" % len(set(ids)))
    finally:
        mk.close()


def check_reported_once(wd):
    """A running daemon meets a topic that does not exist: the log says so
    once, with the topic and librdkafka's reason, while it keeps trying
    with backoff; status says why the output is down; once the topic is
    there everything arrives and the log says the output is back."""
    sim = h.Sim(wd, "--count", "100", "--seed", "6")
    mk = k.MockKafka(wd, topics=[])
    try:
        mk.cmd("topic-error later UNKNOWN_TOPIC_OR_PART")
        conf, state = siem_conf(wd, sim, mk, "later", "once", extra={
            "kafka.allow.auto.create.topics": "false",
            "kafka.topic.metadata.propagation.max.ms": "1000"})
        log = wd.file("daemon.log")
        start_at = os.path.getsize(log) if os.path.exists(log) else 0
        d = start(wd, conf)
        reason = "topic later: Broker: Unknown topic or partition"

        def down():
            try:
                return reason in status(state).get("collector_error", "")
            except (OSError, ValueError):
                return False

        h.wait_for(down, 60, step=0.5)
        R.check(down(), "status: collector_error names the topic and "
                "librdkafka's reason")
        # Three attempts at least (the backoff: 0.5, 1, 2 s), each of the
        # 100 records handed back.
        def retried():
            try:
                return status(state)["kafka"]["retried"]
            except (OSError, ValueError, KeyError):
                return 0

        h.wait_for(lambda: retried() >= 300, 120, step=0.5)
        R.check(retried() >= 300, "the producer tried again and again "
                "(%d records handed back)" % retried())
        with open(log, "rb") as f:
            f.seek(start_at)
            text = f.read().decode("utf-8", "replace")
        lines = [x for x in text.splitlines() if reason in x]
        R.check(len(lines) == 1, "reported once while it keeps trying "
                "(%d lines: %r)" % (len(lines), lines[:3]))
        again = [x for x in text.splitlines() if "are sent again" in x]
        R.check(len(again) <= 1, "... and so is the resend of what it "
                "holds (%d lines)" % len(again))
        mk.cmd("topic-error later NO_ERROR")
        try:
            mk.cmd("create later 2")
        except RuntimeError as e:
            if "already exists" not in str(e):
                raise
        want = {x["FullId"] for x in sim.corpus()}
        h.wait_for(lambda: want <= set(fullids(mk.consume("later"))), 120,
                   step=1)
        h.wait_for(lambda: status(state)["collector_up"], 30, step=0.5)
        st = status(state)
        rc = h.stop_daemon(d)
        with open(log, "rb") as f:
            f.seek(start_at)
            text = f.read().decode("utf-8", "replace")
        R.check(rc == 0 and want <= set(fullids(mk.consume("later"))),
                "once the topic exists, all 100 arrive")
        R.check(st["collector_up"] and st.get("collector_error") == "",
                "status: up again, no reason left (%r)"
                % st.get("collector_error"))
        R.check("collector kafka " in text and " is back after " in text,
                "the log says the output is back")
    finally:
        mk.close()


def check_tenant_topic(wd):
    sim = h.Sim(wd, "--count", "50", "--seed", "2")
    mk = k.MockKafka(wd, topics=[("mssp-default", 1)])
    try:
        conf, state = siem_conf(wd, sim, mk, "mssp-%t", "tenant")
        rc, err = run(conf, "--once")
        recs = mk.consume("mssp-default")
        R.check(rc == 0 and len(recs) == 50, "topic = mssp-%%t: the one "
                "tenant's topic is mssp-default (%d)" % len(recs))
        lpt = {d["FullId"]: ts7(d["LastProcessedTimeUtc"])
               for d in sim.corpus()}
        R.check(all(r["key"] == i for r, i in zip(recs, fullids(recs))),
                "api = siem: the key is the FullId")
        R.check(all(r["headers"].get("mdesiem-version") == lpt.get(r["key"])
                    for r in recs), "api = siem: header mdesiem-version is "
                "LastProcessedTimeUtc")
        R.check(all(r["partition"] == 0 for r in recs) and
                all(r["headers"].get("mdesiem-tenant") == "default"
                    for r in recs), "... and mdesiem-tenant the tenant's "
                "name, default")
    finally:
        mk.close()


def check_many_tenants(wd):
    """Three [tenant NAME] sections in one daemon: topic = mssp-%t gives
    each its own topic, holding its detections and no other's; a topic
    without %t is shared, and each record's mdesiem-tenant header names
    its tenant."""
    import test_tenants as tt
    sim = h.Sim(wd, "--tenants", "3", "--count", "60", "--seed", "12")
    names = ["a", "b", "c"]
    mk = k.MockKafka(wd, topics=[("mssp-a", 2), ("mssp-b", 2),
                                 ("mssp-c", 2), ("shared", 3)])
    try:
        coll = type("C", (), {"port": 9})
        for topic, tag in (("mssp-%t", "own"), ("shared", "shared")):
            conf = tt.write_conf(
                wd, sim, coll, [(n, i) for i, n in enumerate(names)],
                name="tenants-%s.conf" % tag, state=wd.file("state-" + tag),
                extra={"output.transport": "kafka", "output.host": None,
                       "output.port": None, "output.framing": None,
                       "output.header": None, "output.brokers": mk.bootstrap,
                       "output.topic": topic})
            # write_conf keeps keys set to None: drop those lines
            with open(conf) as f:
                text = "".join(x for x in f if not x.endswith("= None\n"))
            with open(conf, "w") as f:
                f.write(text)
            want = {n: tt.corpus_ids(sim, i) for i, n in enumerate(names)}
            total = sum(len(v) for v in want.values())

            def count():
                if tag == "own":
                    return sum(len(mk.consume("mssp-" + n)) for n in names)
                return len(mk.consume("shared"))

            rc, err = run_until(conf, lambda: count() >= total)
            R.check(rc == 0 and count() == total, "%s: --once over three "
                    "tenants exits 0, %d records (%d)"
                    % (tag, total, count()))
            for n in names:
                recs = (mk.consume("mssp-" + n) if tag == "own" else
                        [r for r in mk.consume("shared")
                         if r["headers"].get("mdesiem-tenant") == n])
                ids = fullids(recs)
                R.check(set(ids) == want[n] and len(ids) == len(want[n]),
                        "%s: tenant %s: its %d detections, once each, no "
                        "other's (%d records)" % (tag, n, len(want[n]),
                                                  len(ids)))
                R.check(all(r["headers"].get("mdesiem-tenant") == n and
                            r["key"] == i for r, i in zip(recs, ids)),
                        "%s: tenant %s: header mdesiem-tenant %s, key the "
                        "FullId" % (tag, n, n))
    finally:
        mk.close()


def main():
    why = k.available()
    if why is not None:
        print("skip kafka delivery tests: %s" % why)
        R.done()
    wd = h.Workdir()
    try:
        check_clean(wd)
        check_faults(wd)
        check_backpressure(wd)
        check_too_large(wd)
        check_unknown_topic(wd)
        check_reported_once(wd)
        check_tenant_topic(wd)
        check_many_tenants(wd)
        check_kill9(wd)
    finally:
        wd.close()
    R.done()


if __name__ == "__main__":
    main()
