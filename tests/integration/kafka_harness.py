# SPDX-License-Identifier: MIT
"""Kafka for the integration tests: a cluster of librdkafka's mock brokers
(build/kafka/mockkafka: real Kafka protocol servers on loopback ports),
faulted through its command line, and a real consumer (Debian's kcat) to
read a topic back from its first offset to its end."""

import json
import os
import shutil
import subprocess

import harness as h

MOCKKAFKA = os.path.join(h.TOP, h.BUILD, "kafka", "mockkafka")
KCAT = shutil.which("kcat") or shutil.which("kafkacat")


def available():
    """None when the tests can run here, else why not."""
    if not os.access(MOCKKAFKA, os.X_OK):
        return "%s is not built (make check builds it)" % MOCKKAFKA
    if KCAT is None:
        return "kcat is not installed (Debian package kcat)"
    return None


class MockKafka:
    """mockkafka in the background; cmd() sends one command, waits for
    its answer and raises on an error."""

    def __init__(self, wd, brokers=3, topics=()):
        args = [MOCKKAFKA, "-n", str(brokers)]
        for name, parts in topics:
            args += ["-t", "%s:%d" % (name, parts)]
        self.log = open(wd.file("mockkafka.log"), "ab")
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.log)
        wd.procs.append(self.proc)
        line = self.proc.stdout.readline().decode().strip()
        if not line.startswith("bootstrap="):
            raise RuntimeError("mockkafka did not start: %r" % line)
        self.bootstrap = line[len("bootstrap="):]

    def cmd(self, line):
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().decode().strip()
        if answer != "ok":
            raise RuntimeError("mockkafka %r: %s" % (line, answer))

    def partitions(self, topic, timeout=60):
        p = subprocess.run([KCAT, "-L", "-J", "-b", self.bootstrap, "-t",
                            topic], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
        md = json.loads(p.stdout or b"{}")
        for t in md.get("topics", []):
            if t.get("topic") == topic and not t.get("error"):
                return len(t.get("partitions", []))
        return 0

    def low_watermark(self, topic, part, timeout=60):
        """The first offset partition part still holds."""
        p = subprocess.run([KCAT, "-Q", "-b", self.bootstrap, "-t",
                            "%s:%d:-2" % (topic, part)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
        words = p.stdout.decode().split()
        return int(words[-1]) if words and words[-1].isdigit() else -1

    def consume(self, topic, timeout=120):
        """Every record of topic, in partition and offset order: dicts
        with partition, offset, key, payload (str) and headers (dict).
        The mock brokers keep only the newest few megabytes of each
        partition: a partition that no longer starts at offset 0 is an
        error (give the topic more partitions), never a silent loss."""
        for part in range(self.partitions(topic)):
            low = self.low_watermark(topic, part)
            if low != 0:
                raise RuntimeError(
                    "%s [%d] starts at offset %d: the mock brokers dropped "
                    "its oldest records; give the topic more partitions"
                    % (topic, part, low))
        p = subprocess.run(
            [KCAT, "-C", "-b", self.bootstrap, "-t", topic, "-e", "-J", "-q",
             "-o", "beginning"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        if p.returncode != 0:
            raise RuntimeError("kcat: %s" % p.stderr.decode(errors="replace"))
        out = []
        for line in p.stdout.decode("utf-8", "replace").split("\n"):
            if not line.startswith("{"):
                continue
            r = json.loads(line)
            hs = r.get("headers") or []
            r["headers"] = dict(zip(hs[0::2], hs[1::2]))
            out.append(r)
        out.sort(key=lambda r: (r["partition"], r["offset"]))
        return out

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def kafka_config(wd, sim, mk, topic, extra=None, **kw):
    """A daemon configuration delivering to topic on mk."""
    more = {
        "output.transport": "kafka",
        "output.framing": None,
        "output.header": None,
        "output.brokers": mk.bootstrap,
        "output.topic": topic,
    }
    more.update(extra or {})
    return h.write_config(wd, sim, None, extra=more, **kw)
