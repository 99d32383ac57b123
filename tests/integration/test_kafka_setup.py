# SPDX-License-Identifier: MIT
"""Setting up the Kafka output, as a user meets it: mdesiemd -n judges the
[kafka] section with librdkafka's own words (exit 78), -n -v never prints
a Kafka secret, and --test-connection against a cluster of librdkafka's
mock brokers reports the metadata, the topic and write permission, with
the likely fix for each failure."""

import os

import harness as h
import kafka_harness as k

R = h.Results()


def check_config(wd):
    conf = k.kafka_config(wd, None, type("B", (), {"bootstrap": "k1:9092"}),
                          "th-cef", extra={
                              "kafka.foo.bar": "1",
                              "kafka.compression.codec": "rar"})
    rc, err, _ = h.run_daemon(conf, "-n")
    R.check(rc == 78, "-n: a [kafka] key librdkafka rejects is exit 78 "
            "(got %d)" % rc)
    R.check('[kafka] foo.bar: No such configuration property: "foo.bar"'
            in err, "-n names the key and librdkafka's words")
    R.check('[kafka] compression.codec: Invalid value "rar" for '
            'configuration property "compression.codec"' in err,
            "-n reports every rejected key")

    secret = wd.file("eventhubs_secret")
    with open(secret, "w") as f:
        f.write("Endpoint=sb://ns.servicebus.windows.net/;"
                "SharedAccessKeyName=send;SharedAccessKey=c2VjcmV0\n")
    os.chmod(secret, 0o600)
    conf = k.kafka_config(wd, None, type("B", (), {"bootstrap": "ns:9093"}),
                          "th-cef", extra={
                              "kafka.security.protocol": "SASL_SSL",
                              "kafka.sasl.mechanisms": "PLAIN",
                              "kafka.sasl.username": "$ConnectionString",
                              "kafka.sasl.password_file": secret})
    rc, err, out = h.run_daemon(conf, "-n", "-v")
    out = out.decode()
    R.check(rc == 0, "-n -v: an Event Hubs configuration is valid (%r)"
            % err)
    R.check("c2VjcmV0" not in out and "SharedAccessKey" not in out,
            "-n -v never prints the password file's contents")
    R.check("sasl.password_file = %s\n" % secret in out,
            "-n -v shows the password file's name")
    R.check("sasl.username = (redacted)" in out,
            "-n -v redacts what librdkafka marks sensitive")
    R.check("\nenable.idempotence = true\nacks = all\n" in out,
            "-n -v shows the producer defaults")

    conf = k.kafka_config(wd, None, type("B", (), {"bootstrap": "k:9092"}),
                          "th-cef", extra={"kafka.acks": "1"})
    rc, err, _ = h.run_daemon(conf, "-n")
    R.check(rc == 78 and "`acks` must be set to `all` when "
            "`enable.idempotence` is true" in err,
            "-n: a combination librdkafka refuses is exit 78")


def probe(conf):
    rc, err, out = h.run_daemon(conf, "--test-connection", timeout=120)
    return rc, out.decode("utf-8", "replace")


def check_probe(wd):
    sim = h.Sim(wd, "--count", "5")
    mk = k.MockKafka(wd, topics=[("th-cef", 3)])
    try:
        conf = k.kafka_config(wd, sim, mk, "th-cef")
        rc, out = probe(conf)
        R.check(rc == 0, "--test-connection passes against the cluster")
        R.check("ok     kafka metadata: %s answered: 3 brokers in the "
                "cluster" % mk.bootstrap in out, "metadata step")
        R.check("ok     kafka topic: topic th-cef exists: 3 partitions, "
                "each with a leader" in out, "topic step")
        R.check("skip   kafka write permission: Kafka cannot test it "
                "without writing a record" in out,
                "write permission: said plainly that it cannot be tested")
        R.check(mk.consume("th-cef") == [],
                "--test-connection writes nothing to the topic")

        conf = k.kafka_config(wd, sim, mk, "nosuch")
        mk.cmd("topic-error nosuch UNKNOWN_TOPIC_OR_PART")
        rc, out = probe(conf)
        R.check(rc == 1 and "FAIL   kafka topic: topic nosuch: Broker: "
                "Unknown topic or partition" in out,
                "an unknown topic fails the topic step")
        R.check("likely fix: the topic does not exist: create it" in out,
                "... with the likely fix")

        mk.cmd("topic-error th-cef TOPIC_AUTHORIZATION_FAILED")
        conf = k.kafka_config(wd, sim, mk, "th-cef")
        rc, out = probe(conf)
        R.check(rc == 1 and "Topic authorization failed" in out and
                "likely fix: grant this client Write and Describe on the "
                "topic" in out, "a topic not authorized: the ACL to grant")
        mk.cmd("topic-error th-cef NO_ERROR")

        conf = k.kafka_config(wd, sim, type("B", (), {
            "bootstrap": "127.0.0.1:1"}), "th-cef",
            extra={"source.timeout": "3s"})
        rc, out = probe(conf)
        R.check(rc == 1 and "FAIL   kafka metadata: no metadata from "
                "127.0.0.1:1" in out and "Connection refused" in out,
                "no broker listening: the metadata step says so")
        R.check("likely fix: nothing listens there" in out,
                "... with the likely fix")
    finally:
        mk.close()


def main():
    why = k.available()
    if why is not None:
        print("skip kafka set-up tests: %s" % why)
        R.done()
    wd = h.Workdir()
    try:
        check_config(wd)
        check_probe(wd)
    finally:
        wd.close()
    R.done()


if __name__ == "__main__":
    main()
