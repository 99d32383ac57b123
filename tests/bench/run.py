#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make bench: throughput, memory and per-detection cost of mdesiemd,
measured side by side with the floor.

For each source shape (siem, graph), output format (cef, leef, json) and
backlog (50,000 and 200,000 detections) it runs `mdesiemd --once` against
benchsrv (pre-rendered pages, tests/bench/benchsrv.c) into sinkcount (a
loopback TCP collector that counts bytes and lines), then runs the floor
(tests/bench/floor.c: the same pages over the same loopback HTTP with
libcurl, parsed with cJSON, the same number of bytes to the same sink).
Each figure is the median of --runs runs.  Then the micro-benchmark of
normalize + format (ns/record, and instructions/record under callgrind),
and the CPU an idle daemon uses between polls.

Nothing here asserts speed.  The exit status is non-zero only when a run
did not deliver every detection or a program failed.

    tests/bench/run [--quick] [--runs N] [--backlogs 50000,200000]
                    [--formats cef,leef,json] [--sources siem,graph]
                    [--no-micro] [--no-idle] [--idle-seconds 60]
    tests/bench/run --profile 10000 [--sources graph] [--formats leef]
                                        (one run under callgrind)
"""

import argparse
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import corpus  # noqa: E402

BUILD = os.path.join(TOP, os.environ.get("BUILD", "build"))
DAEMON = os.path.join(BUILD, "mdesiemd")
BENCH = os.path.join(BUILD, "bench")
TENANT = "00000000-0000-0000-0000-000000000001"
PAGE_SIZE = 1000
# Every record of a benchmark corpus is older than this: a daemon started
# from here (a minute before now) has nothing to fetch.
AFTER_CORPUS = "1m"
GRAPH_PATH = "/graph/v1.0/security/alerts_v2"
SIEM_PATH = "/siem/api/alerts"
CALLGRIND_ITER = 2
# The daemon paces its requests to the documented API limits (Graph: 142
# a minute, so at most 142,000 alerts a minute with page_size 1,000).  The
# benchmark measures the daemon, not those limits: its test hook shrinks
# the pacing windows a thousandfold.
PACING_SCALE = "0.001"


def daemon_env():
    env = dict(os.environ)
    env["MDESIEM_RATE_SCALE"] = PACING_SCALE
    return env
MICRO_MIN_SECONDS = 1.0


def tool(name):
    return os.path.join(BENCH, name)


def log(msg):
    sys.stderr.write("bench: %s\n" % msg)
    sys.stderr.flush()


def wait_port(path, proc, timeout=120):
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(path):
            with open(path) as f:
                txt = f.read().strip()
            if txt:
                return int(txt)
        if proc.poll() is not None:
            raise RuntimeError("%s exited early" % proc.args[0])
        time.sleep(0.02)
    raise RuntimeError("%s did not start" % proc.args[0])


class Server:
    """benchsrv with the siem and graph corpora of one backlog."""

    def __init__(self, wd, siem, graph, tenants=0):
        pf = os.path.join(wd, "benchsrv.port")
        if os.path.exists(pf):
            os.unlink(pf)
        args = [tool("benchsrv"), "--port-file", pf]
        if tenants:
            args += ["--tenants", str(tenants)]
        if siem:
            args += ["--siem", siem]
        if graph:
            args += ["--graph", graph]
        self.proc = subprocess.Popen(args, stderr=subprocess.DEVNULL)
        self.port = wait_port(pf, self.proc)
        self.base = "http://127.0.0.1:%d" % self.port

    def stats(self):
        with urllib.request.urlopen(self.base + "/_bench/stats") as r:
            s = json.loads(r.read())
        s["cpu"] = (s["utime_us"] + s["stime_us"]) / 1e6
        return s

    def close(self):
        self.proc.terminate()
        self.proc.wait()


class Sink:
    def __init__(self, wd):
        pf = os.path.join(wd, "sink.port")
        if os.path.exists(pf):
            os.unlink(pf)
        self.proc = subprocess.Popen([tool("sinkcount"), pf],
                                     stdout=subprocess.PIPE)
        self.port = wait_port(pf, self.proc)

    def result(self):
        """(bytes, lines) once every sender has closed."""
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=60)
        b, lines, _conns = (int(x) for x in out.split())
        return b, lines


class Usage:
    def __init__(self, text):
        f = text.split()
        self.wall = int(f[1]) / 1e6
        self.cpu = (int(f[2]) + int(f[3])) / 1e6
        self.rss_kb = int(f[4])


def spawn(argv, stdout_path, stderr_path, env=None):
    """Run argv to completion under `measure`; returns (exit status,
    Usage).  See measure.c for why not wait4() from here."""
    acts = [(os.POSIX_SPAWN_OPEN, 1, stdout_path,
             os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
            (os.POSIX_SPAWN_OPEN, 2, stderr_path,
             os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)]
    fd, upath = tempfile.mkstemp(prefix="usage-")
    os.close(fd)
    try:
        pid = os.posix_spawn(tool("measure"), [tool("measure"), upath] +
                             argv, env or os.environ, file_actions=acts)
        _, status = os.waitpid(pid, 0)
        rc = os.waitstatus_to_exitcode(status)
        text = read(upath)
    finally:
        os.unlink(upath)
    if not text:
        raise RuntimeError("measure failed to run %s" % argv[0])
    return rc, Usage(text)


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def write_config(path, srv, sink_port, source, fmt, state, start_from,
                 poll="60s", kafka=None):
    url = srv.base + (GRAPH_PATH if source == "graph" else SIEM_PATH)
    if kafka is not None:
        output = ("transport = kafka\nbrokers = %s\ntopic = %s\n"
                  % (kafka.bootstrap, kafka.topic))
    else:
        output = ("transport = tcp\nhost = 127.0.0.1\nport = %d\n"
                  "framing = lf\nheader = rfc5424\n" % sink_port)
    text = """[azure]
tenant_id = %s
client_id = 11111111-1111-1111-1111-111111111111
client_secret = bench-secret
login_url = %s

[source]
api = %s
url = %s
page_size = %d
poll_interval = %s
start_from = %s
overlap = 10m
timeout = 60s

[output]
format = %s
%s
[state]
directory = %s

[log]
level = info
""" % (TENANT, srv.base, source, url, PAGE_SIZE, poll, start_from, fmt,
       output, state)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)


def last_error(text):
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else "no message"


def probe(wd, srv, source, fmt):
    """None when the daemon accepts this source and format, else why not."""
    sink = Sink(wd)
    conf = os.path.join(wd, "probe.conf")
    state = tempfile.mkdtemp(prefix="state-", dir=wd)
    write_config(conf, srv, sink.port, source, fmt, state, AFTER_CORPUS)
    err = os.path.join(wd, "probe.err")
    rc, _ = spawn([DAEMON, "-c", conf, "--once"], os.devnull, err,
                  daemon_env())
    sink.result()
    shutil.rmtree(state, ignore_errors=True)
    if rc == 0:
        return None
    msg = last_error(read(err))
    # drop the stderr time stamp and level
    return msg.split(": ", 1)[-1] if msg.count(": ") else msg


def run_daemon(wd, srv, source, fmt, start_from, tag):
    sink = Sink(wd)
    conf = os.path.join(wd, "mdesiem-%s.conf" % tag)
    state = tempfile.mkdtemp(prefix="state-", dir=wd)
    write_config(conf, srv, sink.port, source, fmt, state, start_from)
    err = os.path.join(wd, "daemon-%s.err" % tag)
    s0 = srv.stats()
    rc, u = spawn([DAEMON, "-c", conf, "--once"], os.devnull, err,
                  daemon_env())
    s1 = srv.stats()
    nbytes, lines = sink.result()
    shutil.rmtree(state, ignore_errors=True)
    return {
        "rc": rc, "err": err, "wall": u.wall, "cpu": u.cpu,
        "rss_kb": u.rss_kb,
        "bytes": nbytes, "lines": lines,
        "srv_cpu": s1["cpu"] - s0["cpu"],
        "requests": s1["api_requests"] - s0["api_requests"],
    }


def floor_argv(srv, source, windows_file, sink_port, nbytes, count):
    """The floor's command line: the same pages and output bytes."""
    url = srv.base + (GRAPH_PATH if source == "graph" else SIEM_PATH)
    token = srv.base + "/%s/oauth2/%stoken" % (
        TENANT, "v2.0/" if source == "graph" else "")
    return [tool("floor"), "--api", source, "--url", url, "--token-url",
            token, "--windows", windows_file, "--limit", str(PAGE_SIZE),
            "--sink-port", str(sink_port), "--bytes", str(nbytes),
            "--count", str(count)]


def run_floor(wd, srv, source, windows_file, nbytes, count):
    sink = Sink(wd)
    out = os.path.join(wd, "floor.out")
    err = os.path.join(wd, "floor.err")
    s0 = srv.stats()
    rc, u = spawn(floor_argv(srv, source, windows_file, sink.port, nbytes,
                             count), out, err)
    s1 = srv.stats()
    sbytes, lines = sink.result()
    if rc != 0:
        raise RuntimeError("floor failed: %s" % last_error(read(err)))
    recs, pages, _ = (int(x) for x in read(out).split())
    return {
        "wall": u.wall, "cpu": u.cpu, "rss_kb": u.rss_kb, "records": recs, "pages": pages,
        "bytes": sbytes, "lines": lines, "srv_cpu": s1["cpu"] - s0["cpu"],
    }


def med(runs, key):
    return statistics.median(r[key] for r in runs)


def windows_file(wd, source, siem_path, graph_path, tag):
    """The floor's requests: SIEM windows of at most one page each; for
    Graph one window, paged with $top along @odata.nextLink."""
    path = os.path.join(wd, "windows-%s-%s.txt" % (source, tag))
    if os.path.exists(path):
        return path
    if source == "siem":
        times = corpus.order_times(siem_path, "LastProcessedTimeUtc")
        wins = corpus.windows(times, PAGE_SIZE)
    else:
        first = corpus.first_time(graph_path, "lastUpdateDateTime")
        wins = [(first, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))]
    with open(path, "w") as f:
        for a, b in wins:
            f.write("%s %s\n" % (a, b))
    return path


def start_from_for(path, field):
    """One second before the oldest record, as the daemon's start_from."""
    t = corpus.first_time(path, field)
    return corpus.mdesim.format_time(
        corpus.mdesim.parse_time(t) - corpus.TPS, 0)


def bench_backlog(wd, n, args, rows, failures):
    want_graph = "graph" in args.sources
    siem_path, graph_path = corpus.make(BENCH, n, graph=False)
    srv = Server(wd, siem_path, None)
    try:
        combos = []
        for source in args.sources:
            for fmt in args.formats:
                why = probe(wd, srv, source, fmt)
                if why is not None:
                    rows.append({"source": source, "format": fmt,
                                 "backlog": n, "skip": why})
                    log("%s/%s skipped: %s" % (source, fmt, why))
                else:
                    combos.append((source, fmt))
    finally:
        srv.close()
    if not combos:
        return
    if want_graph and any(s == "graph" for s, _ in combos):
        log("generating the Graph corpus of %d alerts" % n)
        siem_path, graph_path = corpus.make(BENCH, n, graph=True)
    srv = Server(wd, siem_path, graph_path)
    try:
        for source, fmt in combos:
            rows.append(bench_row(wd, srv, source, fmt, n, siem_path,
                                  graph_path, args, failures))
    finally:
        srv.close()


def bench_row(wd, srv, source, fmt, n, siem_path, graph_path, args,
              failures):
    field = "lastUpdateDateTime" if source == "graph" else \
        "LastProcessedTimeUtc"
    path = graph_path if source == "graph" else siem_path
    sf = start_from_for(path, field)
    wf = windows_file(wd, source, siem_path, graph_path, str(n))
    druns, fruns = [], []
    for i in range(args.runs):
        tag = "%s-%s-%d-%d" % (source, fmt, n, i)
        log("%s/%s %d detections, run %d of %d" % (source, fmt, n, i + 1,
                                                    args.runs))
        d = run_daemon(wd, srv, source, fmt, sf, tag)
        if d["rc"] != 0 or d["lines"] != n:
            failures.append("%s: exit %d, %d of %d detections delivered: %s"
                            % (tag, d["rc"], d["lines"], n,
                               last_error(read(d["err"]))))
        f = run_floor(wd, srv, source, wf, d["bytes"], n)
        if f["records"] != n or f["bytes"] != d["bytes"]:
            failures.append("%s: floor read %d of %d records, wrote %d of "
                            "%d bytes" % (tag, f["records"], n, f["bytes"],
                                          d["bytes"]))
        druns.append(d)
        fruns.append(f)
    wall, cpu = med(druns, "wall"), med(druns, "cpu")
    fwall, fcpu = med(fruns, "wall"), med(fruns, "cpu")
    return {
        "source": source, "format": fmt, "backlog": n, "skip": None,
        "runs": len(druns),
        "rate": n / wall, "wall": wall, "cpu100k": cpu * 100000 / n,
        "rss_mb": med(druns, "rss_kb") / 1024,
        "bpd": med(druns, "bytes") / n,
        "requests": int(med(druns, "requests")),
        "delivered": min(d["lines"] for d in druns),
        "floor_wall": fwall, "floor_cpu": fcpu,
        "floor_pages": int(med(fruns, "pages")),
        "floor_rss_mb": med(fruns, "rss_kb") / 1024,
        "wall_x": wall / fwall, "cpu_x": cpu / fcpu,
        "srv_pct": 100 * med(druns, "srv_cpu") / wall,
        "srv_floor_pct": 100 * med(fruns, "srv_cpu") / fwall,
    }


def table(rows):
    out = []
    out.append("| source | format | backlog | det/s | wall s | CPU s/100k "
               "| peak RSS MB | bytes/det | requests | floor wall s "
               "| floor pages | wall x floor | CPU x floor | server CPU % |")
    out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:"
               "|---:|---:|")
    for r in rows:
        if r["skip"]:
            out.append("| %s | %s | %d | skipped: %s |||||||||||"
                       % (r["source"], r["format"], r["backlog"], r["skip"]))
            continue
        out.append("| %s | %s | %d | %.0f | %.2f | %.2f | %.1f | %.0f | %d "
                   "| %.2f | %d | %.2f | %.2f | %.1f |" % (
                       r["source"], r["format"], r["backlog"], r["rate"],
                       r["wall"], r["cpu100k"], r["rss_mb"], r["bpd"],
                       r["requests"], r["floor_wall"], r["floor_pages"],
                       r["wall_x"], r["cpu_x"], r["srv_pct"]))
    return "\n".join(out)


def rss_flatness(rows):
    out = []
    by = {}
    for r in rows:
        if not r["skip"]:
            by.setdefault((r["source"], r["format"]), {})[r["backlog"]] = r
    for (s, f), m in sorted(by.items()):
        ks = sorted(m)
        if len(ks) >= 2:
            a, b = m[ks[0]], m[ks[-1]]
            out.append("peak RSS %s/%s: %.1f MB at %d, %.1f MB at %d "
                       "(%+.1f %%)" % (s, f, a["rss_mb"], ks[0], b["rss_mb"],
                                       ks[-1], 100 * (b["rss_mb"] /
                                                      a["rss_mb"] - 1)))
    return out


# -- per-record cost -------------------------------------------------------

# Microsoft's documented example detections (SIEM API, current and 2017),
# as the unit tests' golden files hold them.
FIXTURES = [os.path.join(TOP, "tests", "data", "cef", f) for f in (
    "siem-api-detections-example.json",
    "siem-api-detection-2017-legacy-example.json")]


def fixture_corpus(wd):
    """The fixture detections as a corpus file (one object a line)."""
    path = os.path.join(wd, "fixtures.jsonl")
    with open(path, "w") as out:
        for f in FIXTURES:
            with open(f) as inp:
                doc = json.load(inp)
            for d in doc if isinstance(doc, list) else [doc]:
                out.write(json.dumps(d) + "\n")
    return path


def micro(formats, corpus_path, name):
    """ns/record and instructions/record of normalize + format."""
    res = []
    mb = tool("microbench")
    for fmt in formats:
        p = subprocess.run([mb, "--corpus", corpus_path, "--format", fmt,
                            "--seconds", str(MICRO_MIN_SECONDS)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
        if p.returncode == 3:
            res.append({"format": fmt, "corpus": name,
                        "skip": p.stderr.strip()})
            continue
        if p.returncode != 0:
            raise RuntimeError("microbench failed: %s" % p.stderr.strip())
        m = json.loads(p.stdout)
        m["format"] = fmt
        m["corpus"] = name
        m["skip"] = None
        m["ir"] = callgrind_per_record(mb, corpus_path, fmt, m["records"])
        res.append(m)
    return res


def callgrind_total(argv):
    with tempfile.TemporaryDirectory() as td:
        out = os.path.join(td, "cg.out")
        p = subprocess.run(["valgrind", "--tool=callgrind",
                            "--callgrind-out-file=" + out] + argv,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           text=True)
        if p.returncode != 0:
            raise RuntimeError("callgrind failed: %s" % p.stderr[-500:])
        return callgrind_file_total(out)


def callgrind_file_total(path):
    """All instructions of a callgrind output file (its totals line)."""
    for line in read(path).splitlines():
        if line.startswith("summary:") or line.startswith("totals:"):
            return int(line.split()[1])
    raise RuntimeError("no total in %s" % path)


def callgrind_per_record(mb, corpus_path, fmt, nrec):
    if shutil.which("valgrind") is None:
        return None
    # at least 2,000 records, so that first-use costs (buffers growing)
    # do not count on a corpus of two
    it = max(CALLGRIND_ITER, -(-2000 // nrec))
    base = [mb, "--corpus", corpus_path, "--format", fmt, "--iterations"]
    ir0 = callgrind_total(base + ["0"])
    ir1 = callgrind_total(base + [str(it)])
    return (ir1 - ir0) / (it * nrec)


# -- profile ---------------------------------------------------------------

def profile(wd, n, source, fmt):
    """One run of n detections (source, format) under callgrind; prints
    the functions with the largest inclusive instruction counts per
    detection.  The output file stays in the build directory for
    callgrind_annotate or kcachegrind."""
    siem_path, graph_path = corpus.make(BENCH, n, graph=source == "graph")
    field = "lastUpdateDateTime" if source == "graph" else \
        "LastProcessedTimeUtc"
    out = os.path.join(BENCH, "callgrind.mdesiemd.out")
    srv = Server(wd, siem_path, graph_path)
    sink = Sink(wd)
    try:
        conf = os.path.join(wd, "profile.conf")
        state = tempfile.mkdtemp(prefix="state-", dir=wd)
        write_config(conf, srv, sink.port, source, fmt, state,
                     start_from_for(graph_path if source == "graph"
                                    else siem_path, field))
        p = subprocess.run(["valgrind", "--tool=callgrind",
                            "--callgrind-out-file=" + out, DAEMON, "-c",
                            conf, "--once"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True,
                           env=daemon_env())
        if p.returncode != 0:
            raise RuntimeError("profiled run failed: %s" % p.stderr[-500:])
        nbytes, _ = sink.result()
        sink = None
        floor_total = profile_floor(wd, srv, n, source, siem_path,
                                    graph_path, nbytes)
    finally:
        if sink is not None:
            sink.result()
        srv.close()
    ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", out],
                         stdout=subprocess.PIPE, text=True).stdout
    print("callgrind, %s/%s, %d detections: inclusive instructions per "
          "detection (%s)" % (source, fmt, n, out))
    seen = set()
    for line in ann.splitlines():
        m = re.match(r"\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(\S+)", line)
        if not m or "below main" in line or ":0x" in m.group(2):
            continue
        where, _, func = m.group(2).rpartition(":")
        name = "%s:%s" % (os.path.basename(where), func) if where else func
        if func in seen:
            continue
        seen.add(func)
        print("%10.0f  %s" % (int(m.group(1).replace(",", "")) / n, name))
        if len(seen) == 40:
            break
    total = callgrind_file_total(out)
    print("floor under callgrind, the same records and bytes: %.0f "
          "instructions per detection; mdesiemd %.0f, %.2f x the floor"
          % (floor_total / n, total / n, total / floor_total))


def profile_floor(wd, srv, n, source, siem_path, graph_path, nbytes):
    """The floor's instructions for the same n records and output bytes,
    so that the ratio does not depend on what else the machine runs."""
    out = os.path.join(BENCH, "callgrind.floor.out")
    sink = Sink(wd)
    wf = windows_file(wd, source, siem_path, graph_path, "profile")
    try:
        p = subprocess.run(["valgrind", "--tool=callgrind",
                            "--callgrind-out-file=" + out] +
                           floor_argv(srv, source, wf, sink.port, nbytes, n),
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           text=True)
        if p.returncode != 0:
            raise RuntimeError("profiled floor failed: %s" % p.stderr[-500:])
    finally:
        sink.result()
    return callgrind_file_total(out)


# -- Kafka beside TCP --------------------------------------------------------

MOCKKAFKA = os.path.join(BUILD, "kafka", "mockkafka")
PARTITIONS = 3
KCAT = shutil.which("kcat")


class Kafka:
    """librdkafka's mock cluster (build/kafka/mockkafka, 3 brokers) with
    one topic of 3 partitions; count() reads the topic back with kcat."""

    def __init__(self, topic):
        self.topic = topic
        self.proc = subprocess.Popen([MOCKKAFKA, "-t", "%s:%d" % (
            topic, PARTITIONS)],
                                     stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        line = self.proc.stdout.readline().decode().strip()
        if not line.startswith("bootstrap="):
            raise RuntimeError("mockkafka did not start")
        self.bootstrap = line.split("=", 1)[1]

    def cpu(self):
        return proc_cpu_ticks(self.proc.pid) / os.sysconf("SC_CLK_TCK")

    def count(self):
        """Records in the topic: the sum of its high watermarks (the mock
        brokers keep only the newest few megabytes of each partition, so
        reading the records back would not count them all)."""
        n = 0
        for part in range(PARTITIONS):
            p = subprocess.run([KCAT, "-Q", "-b", self.bootstrap, "-t",
                                "%s:%d:-1" % (self.topic, part)],
                               stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, timeout=60)
            words = p.stdout.decode().split()
            n += int(words[-1]) if words and words[-1].isdigit() else 0
        return n

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def run_daemon_kafka(wd, srv, source, fmt, start_from, tag):
    kafka = Kafka("bench")
    try:
        conf = os.path.join(wd, "mdesiem-%s.conf" % tag)
        state = tempfile.mkdtemp(prefix="state-", dir=wd)
        write_config(conf, srv, 0, source, fmt, state, start_from,
                     kafka=kafka)
        err = os.path.join(wd, "daemon-%s.err" % tag)
        c0 = kafka.cpu()
        rc, u = spawn([DAEMON, "-c", conf, "--once"], os.devnull, err,
                      daemon_env())
        c1 = kafka.cpu()
        lines = kafka.count()
        shutil.rmtree(state, ignore_errors=True)
    finally:
        kafka.close()
    return {"rc": rc, "err": err, "wall": u.wall, "cpu": u.cpu,
            "rss_kb": u.rss_kb, "lines": lines, "peer_cpu": c1 - c0}


def bench_kafka(wd, n, args, kafka_rows, failures):
    """The same backlog (siem, cef) to TCP and to Kafka, one after the
    other, the same number of runs each."""
    if not os.access(MOCKKAFKA, os.X_OK) or KCAT is None:
        kafka_rows.append({"backlog": n, "skip": "mockkafka or kcat "
                           "missing (make bench builds mockkafka; apt-get "
                           "install kcat)"})
        return
    siem_path, _ = corpus.make(BENCH, n, graph=False)
    sf = start_from_for(siem_path, "LastProcessedTimeUtc")
    srv = Server(wd, siem_path, None)
    try:
        for transport in ("tcp", "kafka"):
            runs = []
            for i in range(args.runs):
                tag = "%s-cef-%d-%d" % (transport, n, i)
                log("siem/cef %d detections to %s, run %d of %d"
                    % (n, transport, i + 1, args.runs))
                if transport == "kafka":
                    d = run_daemon_kafka(wd, srv, "siem", "cef", sf, tag)
                else:
                    d = run_daemon(wd, srv, "siem", "cef", sf, tag)
                    d["peer_cpu"] = None
                if d["rc"] != 0 or d["lines"] != n:
                    failures.append("%s: exit %d, %d of %d detections "
                                    "delivered: %s" % (
                                        tag, d["rc"], d["lines"], n,
                                        last_error(read(d["err"]))))
                runs.append(d)
            wall = med(runs, "wall")
            kafka_rows.append({
                "backlog": n, "skip": None, "transport": transport,
                "rate": n / wall, "wall": wall,
                "cpu100k": med(runs, "cpu") * 100000 / n,
                "rss_mb": med(runs, "rss_kb") / 1024,
                "delivered": min(d["lines"] for d in runs),
                "peer_pct": (100 * med(runs, "peer_cpu") / wall
                             if transport == "kafka" else None)})
    finally:
        srv.close()


def kafka_table(rows):
    out = ["| transport | backlog | det/s | wall s | CPU s/100k | "
           "peak RSS MB | delivered | cluster CPU % |",
           "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        if r["skip"]:
            out.append("| | %d | skipped: %s ||||||" % (r["backlog"],
                                                        r["skip"]))
            continue
        out.append("| %s | %d | %.0f | %.2f | %.2f | %.1f | %d | %s |" % (
            r["transport"], r["backlog"], r["rate"], r["wall"],
            r["cpu100k"], r["rss_mb"], r["delivered"],
            "%.1f" % r["peer_pct"] if r["peer_pct"] is not None else "—"))
    return "\n".join(out)


# -- idle ------------------------------------------------------------------

def proc_cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def proc_switches(pid):
    n = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.split(":")[0] in ("voluntary_ctxt_switches",
                                      "nonvoluntary_ctxt_switches"):
                n += int(line.split()[1])
    return n


def idle(wd, seconds):
    siem_path, _ = corpus.make(BENCH, 5000)
    srv = Server(wd, siem_path, None)
    sink = Sink(wd)
    conf = os.path.join(wd, "idle.conf")
    state = tempfile.mkdtemp(prefix="state-", dir=wd)
    write_config(conf, srv, sink.port, "siem", "cef", state, AFTER_CORPUS,
                 poll="60s")
    err = open(os.path.join(wd, "idle.err"), "wb")
    p = subprocess.Popen([DAEMON, "-c", conf], stdout=subprocess.DEVNULL,
                         stderr=err)
    try:
        end = time.time() + 30
        while srv.stats()["api_requests"] < 1 and time.time() < end:
            time.sleep(0.1)
        time.sleep(1.0)
        hz = os.sysconf("SC_CLK_TCK")
        c0, w0, r0 = proc_cpu_ticks(p.pid), proc_switches(p.pid), \
            srv.stats()["api_requests"]
        time.sleep(seconds)
        c1, w1, r1 = proc_cpu_ticks(p.pid), proc_switches(p.pid), \
            srv.stats()["api_requests"]
        pidstat = None
        if shutil.which("pidstat"):
            pidstat = subprocess.run(["pidstat", "-u", "-p", str(p.pid),
                                      "1", "3"], stdout=subprocess.PIPE,
                                     text=True).stdout
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)
        err.close()
        sink.result()
        srv.close()
    return {"seconds": seconds, "ticks": c1 - c0, "hz": hz,
            "cpu_s": (c1 - c0) / hz, "switches": w1 - w0,
            "requests": r1 - r0, "pidstat": pidstat}


# -- many tenants ------------------------------------------------------------

def tenants_config(path, srv, sink_port, ntenants, state, start_from):
    """One [tenant] section per benchsrv tenant, the SIEM API, CEF to the
    sink; [daemon] concurrency left at its default."""
    write_config(path, srv, sink_port, "siem", "cef", state, start_from)
    with open(path) as f:
        text = f.read()
    text = text.replace("tenant_id = %s\n" % TENANT, "", 1)
    parts = [text]
    for k in range(1, ntenants + 1):
        parts.append("[tenant t%d]\ntenant_id = "
                     "00000000-0000-0000-0000-%012d\n" % (k, k))
    with open(path, "w") as f:
        f.write("\n".join(parts))
    os.chmod(path, 0o600)


def bench_tenants(wd, ntenants, per, failures):
    """ntenants x per detections: one full --once pass, then a second one
    with nothing new (every tenant polled once more)."""
    n = ntenants * per
    siem_path, _ = corpus.make(BENCH, n)
    srv = Server(wd, siem_path, None, tenants=ntenants)
    out = {"tenants": ntenants, "per": per}
    try:
        sf = start_from_for(siem_path, "LastProcessedTimeUtc")
        state = tempfile.mkdtemp(prefix="state-", dir=wd)
        conf = os.path.join(wd, "tenants.conf")
        for what in ("full", "idle"):
            sink = Sink(wd)
            tenants_config(conf, srv, sink.port, ntenants, state, sf)
            err = os.path.join(wd, "tenants-%s.err" % what)
            s0 = srv.stats()
            log("%d tenants x %d detections: %s --once pass"
                % (ntenants, per, what))
            rc, u = spawn([DAEMON, "-c", conf, "--once"], os.devnull, err,
                          daemon_env())
            s1 = srv.stats()
            _, lines = sink.result()
            want = n if what == "full" else 0
            if rc != 0 or lines != want:
                failures.append("tenants %s pass: exit %d, %d of %d "
                                "delivered: %s" % (what, rc, lines, want,
                                                   last_error(read(err))))
            out[what] = {
                "wall": u.wall, "cpu": u.cpu, "rss_mb": u.rss_kb / 1024,
                "requests": s1["requests"] - s0["requests"],
                "connections": s1["connections"] - s0["connections"],
                "delivered": lines,
            }
        shutil.rmtree(state, ignore_errors=True)
    finally:
        srv.close()
    return out


def tenants_report(t):
    f, i = t["full"], t["idle"]
    print()
    print("many tenants: %d tenants x %d detections (SIEM API, CEF, one TCP "
          "output), [daemon] concurrency 32" % (t["tenants"], t["per"]))
    print()
    print("| pass | wall s | CPU s | CPU ms per tenant | peak RSS MB | "
          "requests | TCP connections to the API | delivered |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in (("full", f), ("nothing new", i)):
        print("| %s | %.2f | %.2f | %.2f | %.1f | %d | %d | %d |" % (
            name, r["wall"], r["cpu"], 1000 * r["cpu"] / t["tenants"],
            r["rss_mb"], r["requests"], r["connections"], r["delivered"]))
    print()
    print("targets: full pass <= 10 s, <= 2 ms CPU per tenant poll with "
          "nothing new, peak RSS <= 64 MB, connections <= 64 + one per "
          "output")


# -- main ------------------------------------------------------------------

def machine():
    model = platform.processor() or "unknown"
    try:
        for line in subprocess.run(["lscpu"], stdout=subprocess.PIPE,
                                   text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "%d CPUs (nproc), %s, Linux %s" % (os.cpu_count(), model,
                                              platform.release())


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="5,000 detections, 1 run, siem/cef only, no "
                   "micro-benchmark, no idle measurement")
    p.add_argument("--runs", type=int)
    p.add_argument("--backlogs", help="default 50000,200000")
    p.add_argument("--formats", help="default cef,leef,json")
    p.add_argument("--sources", help="default siem,graph")
    p.add_argument("--no-micro", action="store_true")
    p.add_argument("--no-idle", action="store_true")
    p.add_argument("--no-kafka", action="store_true",
                   help="leave out siem/cef to Kafka (the mock cluster) "
                   "beside TCP")
    p.add_argument("--idle-seconds", type=int, default=60)
    p.add_argument("--tenants", type=int,
                   help="tenants of the many-tenants row (default 1000; "
                   "--quick: 50; 0: no such row)")
    p.add_argument("--keep", action="store_true",
                   help="keep the work directory (logs, configurations)")
    p.add_argument("--profile", type=int, metavar="N",
                   help="only profile one run of N detections under "
                   "callgrind (the first of --sources and --formats; "
                   "default siem/cef)")
    a = p.parse_args(argv)
    quick = {"runs": 1, "backlogs": "5000", "formats": "cef",
             "sources": "siem"}
    full = {"runs": 3, "backlogs": "50000,200000",
            "formats": "cef,leef,json", "sources": "siem,graph"}
    for k, v in (quick if a.quick else full).items():
        if getattr(a, k) is None:
            setattr(a, k, v)
    if a.quick:
        a.no_micro = a.no_idle = a.no_kafka = True
    if a.tenants is None:
        a.tenants = 50 if a.quick else 1000
    a.backlogs = [int(x) for x in a.backlogs.split(",")]
    a.formats = a.formats.split(",")
    a.sources = a.sources.split(",")
    return a


def row_order(r):
    order = ["siem", "graph", "alerts", "cef", "leef", "json"]
    rank = [order.index(x) if x in order else len(order)
            for x in (r["source"], r["format"])]
    return (rank[0], r["source"], rank[1], r["format"], r["backlog"])


def report(args, rows, micro_res, idle_res, elapsed, kafka_rows=()):
    rows = sorted(rows, key=row_order)
    print()
    print("mdesiemd benchmark: %s; page_size %d, TCP sink on loopback, "
          "LF framing, RFC 5424 header, spool on; medians of %d run(s)"
          % (machine(), PAGE_SIZE, args.runs))
    if any(r["source"] != "siem" for r in rows):
        print("(request pacing to the API limits scaled away: "
              "MDESIEM_RATE_SCALE=%s; Graph's 142 requests a minute cap a "
              "backlog at about 2,370 alerts/s with page_size %d)"
              % (PACING_SCALE, PAGE_SIZE))
    print()
    print(table(rows))
    print()
    for r in rows:
        if not r["skip"]:
            print("delivered %s/%s %d: the sink counted %d lines (fewest "
                  "of %d runs)" % (r["source"], r["format"], r["backlog"],
                                   r["delivered"], r["runs"]))
    for r in rows:
        if not r["skip"]:
            print("floor %s/%s %d: %.2f s wall, %.2f s CPU, %.1f MB RSS, "
                  "%d pages; server CPU %.1f %% of the daemon's wall time, "
                  "%.1f %% of the floor's" % (
                      r["source"], r["format"], r["backlog"], r["floor_wall"],
                      r["floor_cpu"], r["floor_rss_mb"], r["floor_pages"],
                      r["srv_pct"], r["srv_floor_pct"]))
    for line in rss_flatness(rows):
        print(line)
    if kafka_rows:
        print()
        print("Kafka beside TCP: siem/cef, the same backlog; Kafka to "
              "librdkafka's mock cluster (3 brokers on loopback, topic of 3 "
              "partitions, acks=all, idempotent), TCP to sinkcount; medians "
              "of %d run(s); cluster CPU is the mock brokers' share of the "
              "daemon's wall time" % args.runs)
        print()
        print(kafka_table(kafka_rows))
    if micro_res:
        print()
        print("| normalize + format | corpus | ns/record | "
              "instructions/record (callgrind) | bytes/record |")
        print("|---|---|---:|---:|---:|")
        for m in micro_res:
            if m["skip"]:
                print("| %s | %s | skipped: %s | | |" % (
                    m["format"], m["corpus"], m["skip"]))
            else:
                print("| %s | %s | %.0f | %s | %.0f |" % (
                    m["format"], m["corpus"], m["ns_per_record"],
                    "%.0f" % m["ir"] if m["ir"] is not None else "n/a",
                    m["bytes_per_record"]))
    if idle_res:
        print()
        print("idle daemon (poll_interval 60s, nothing to fetch): %d clock "
              "ticks = %.2f s CPU over %d s (%.3f %%), %d context switches, "
              "%d API requests" % (
                  idle_res["ticks"], idle_res["cpu_s"], idle_res["seconds"],
                  100 * idle_res["cpu_s"] / idle_res["seconds"],
                  idle_res["switches"], idle_res["requests"]))
        if idle_res["pidstat"]:
            print(idle_res["pidstat"])
    print()
    print("bench finished in %.0f s" % elapsed)


def main(argv=None):
    args = parse_args(argv)
    t0 = time.monotonic()
    for prog in [DAEMON] + [tool(x) for x in ("benchsrv", "sinkcount",
                                               "floor", "measure")]:
        if not os.access(prog, os.X_OK):
            log("%s is missing: run make bench" % prog)
            return 2
    wd = tempfile.mkdtemp(prefix="mdesiem-bench-")
    rows, failures, micro_res, idle_res = [], [], None, None
    tenants_res = None
    kafka_rows = []
    if args.profile:
        try:
            profile(wd, args.profile, args.sources[0], args.formats[0])
        finally:
            shutil.rmtree(wd, ignore_errors=True)
        return 0
    try:
        for n in args.backlogs:
            bench_backlog(wd, n, args, rows, failures)
        if not args.no_kafka:
            bench_kafka(wd, args.backlogs[0], args, kafka_rows, failures)
        if args.tenants > 0:
            tenants_res = bench_tenants(wd, args.tenants, 5, failures)
        if not args.no_micro:
            log("micro-benchmark of normalize + format")
            micro_res = micro(args.formats, fixture_corpus(wd),
                              "fixtures (2 detections)") + \
                micro(args.formats, corpus.make(BENCH, 5000)[0],
                      "bench (5,000 detections)")
        if not args.no_idle:
            log("idle daemon for %d s" % args.idle_seconds)
            idle_res = idle(wd, args.idle_seconds)
    finally:
        if args.keep:
            log("work directory kept: %s" % wd)
        else:
            shutil.rmtree(wd, ignore_errors=True)
    if tenants_res is not None:
        tenants_report(tenants_res)
    report(args, rows, micro_res, idle_res, time.monotonic() - t0,
           kafka_rows)
    for f in failures:
        print("FAILED: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
