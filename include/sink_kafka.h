/* SPDX-License-Identifier: MIT */
/*
 * The Kafka transport: a librdkafka producer behind the acknowledging
 * sink operations (open, send, poll, drain, close).  Each message is one
 * Kafka record: key = the record's stable key (all versions of an alert
 * land in one partition, in order), value = exactly the formatted event,
 * headers KAFKA_HEADER_TENANT (the tenant name) and KAFKA_HEADER_VERSION
 * (the record's version time, ISO 8601 UTC).  A message counts as
 * acknowledged once its delivery report succeeded; reports come back out
 * of order across partitions, so the acknowledged mark is the end of the
 * contiguous run of successes.  Messages in flight are bounded by
 * queue.buffering.max.messages.
 *
 * Errors, and what the caller does:
 * - no room (producer queue or in-flight bound full): ERR_AGAIN, wait in
 *   sink_kafka_poll() and send again (backpressure);
 * - a broker outage or leader election: librdkafka retries by itself
 *   (message.timeout.ms = 0 by default); the caller sees backpressure;
 * - a message larger than message.max.bytes: ERR_BADREC from send, or,
 *   when a broker refuses it later, counted as failed and skipped;
 * - unknown topic, authorization failed, a message timed out, a fatal
 *   producer error: ERR_SINK (why filled, sink_kafka_why() after poll):
 *   close, reopen later and resend everything after the acknowledged
 *   mark.  A permanent error is logged once, with the topic and
 *   librdkafka's reason, until a message gets through again.
 */
#ifndef SINK_KAFKA_H
#define SINK_KAFKA_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct kafka_conf;
struct sink;
struct sink_kafka;
struct sink_msg;

struct sink_kafka_opts {
	const char *brokers; /* [output] brokers */
	const char *topic; /* [output] topic, %t = tenant name */
	const struct kafka_conf *kafka; /* [kafka], may be NULL */
};

/* Counters since sink_kafka_new(), for status and metrics. */
struct sink_kafka_stats {
	uint64_t in_flight; /* handed to the producer, not yet retired */
	uint64_t acked; /* successful delivery reports */
	uint64_t retried; /* handed back for a resend (failed report) */
	uint64_t failed; /* refused for good (too large): skipped */
	uint64_t max_in_flight; /* queue.buffering.max.messages */
};

/*
 * A producer for o (everything copied), not yet started.  Returns NULL on
 * allocation failure.
 */
struct sink_kafka *sink_kafka_new(const struct sink_kafka_opts *o);

/* Close and free.  k may be NULL. */
void sink_kafka_free(struct sink_kafka *k);

/*
 * Start the producer (librdkafka connects in the background: an
 * unreachable cluster shows later as backpressure).  Closes a previous
 * session first.  Returns 0, or ERR_SINK with why filled.
 */
int sink_kafka_open(struct sink_kafka *k, char *why, size_t whylen);

/*
 * Hand over one whole message without blocking.  Returns 0 (taken),
 * ERR_AGAIN (no room now, nothing taken), ERR_BADREC (can never be sent:
 * larger than message.max.bytes; why filled) or ERR_SINK (why filled).
 */
int sink_kafka_send(
    struct sink_kafka *k, const struct sink_msg *m, char *why, size_t whylen);

/*
 * Serve delivery reports, waiting at most wait_ms for one.  *acked: the
 * highest mark such that every message handed over with a mark up to it
 * is acknowledged (or skipped as failed); 0 before the first.  Returns 0
 * or ERR_SINK (sink_kafka_why() says why).
 */
int sink_kafka_poll(struct sink_kafka *k, long wait_ms, uint64_t *acked);

/*
 * Clean stop: wait at most ms until everything handed over is
 * acknowledged; *acked as for sink_kafka_poll().  Returns 0 (everything
 * acknowledged), ERR_AGAIN (not within ms) or ERR_SINK.
 */
int sink_kafka_drain(struct sink_kafka *k, long ms, uint64_t *acked);

/*
 * Stop the producer; what is in flight is dropped (the caller resends
 * everything after its acknowledged mark).
 */
void sink_kafka_close(struct sink_kafka *k);

/* Why the last ERR_SINK happened, or "". */
const char *sink_kafka_why(const struct sink_kafka *k);

/*
 * Nonzero while messages wait and no broker is reachable, or after a
 * failure (ERR_SINK) until the producer is reopened.
 */
int sink_kafka_is_down(const struct sink_kafka *k);

/* Why sink_kafka_is_down() says so: the last problem logged, or "". */
const char *sink_kafka_down_why(const struct sink_kafka *k);

void sink_kafka_stats(const struct sink_kafka *k, struct sink_kafka_stats *st);

/*
 * The largest value message.max.bytes lets through (see
 * kafka_conf_max_value()), for the formatter's length limit.
 */
uint64_t sink_kafka_max_value(const struct sink_kafka *k);

/*
 * sink.c's side (sink_kafka_ops works on struct sink): give s a producer
 * for configuration c (copied).  0, or ERR_NOMEM.
 */
int sink_kafka_attach(struct sink *s, const struct config *c);

/* Free s's producer, if it has one. */
void sink_kafka_detach(struct sink *s);

/*
 * The counters of s's producer into *st: 0, or -1 when s is not a Kafka
 * sink.
 */
int sink_kafka_counters(const struct sink *s, struct sink_kafka_stats *st);

/* What --test-connection found, one text per step. */
struct sink_kafka_probe {
	int metadata_ok; /* the brokers answered a metadata request */
	char metadata[700];
	int topic_ok; /* the topic exists, every partition has a leader */
	char topic[700];
	int write_ok; /* 1 passed, 0 failed, -1 cannot be tested */
	char write[700];
};

/*
 * --test-connection: start a producer for o (topic created nowhere:
 * allow.auto.create.topics is off for it), ask the brokers for the
 * metadata of the topic (%t = tenant), and report whether it exists and
 * can take messages, waiting at most timeout_ms.  Kafka has no request
 * that tests write permission without writing a record: write_ok is -1
 * unless the producer was refused outright (an idempotent producer's id,
 * say).  Nothing is produced.  Returns 0 when every step passed.
 */
int sink_kafka_probe(const struct sink_kafka_opts *o, const char *tenant,
    long timeout_ms, struct sink_kafka_probe *pr);

#endif
