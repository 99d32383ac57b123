/* SPDX-License-Identifier: MIT */
/*
 * Tests for the Kafka transport (sink_kafka.c), driving its operations
 * directly against librdkafka's mock cluster: three real Kafka protocol
 * brokers on loopback ports in this process, faulted through
 * rdkafka_mock.h.  What the cluster holds is read back with a real
 * consumer (librdkafka's, assigned to every partition from the start),
 * so each case checks what a SIEM reading the topic would see: every
 * message exactly once (or, after a failure, at least once within the
 * bound), keys, partitions, order per key, headers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "check.h"
#include "config.h"
#include "errcode.h"
#include "kafka_conf.h"
#include "nap.h"
#include "sink.h"
#include "sink_kafka.h"

#define MAX_READ 20000
#define WAIT_MS 30000 /* generous: the machine may be busy */

static rd_kafka_t *mock_rk;
static rd_kafka_mock_cluster_t *mc;
static const char *bootstraps;

/* One record read back. */
struct rec {
	int32_t partition;
	int64_t offset;
	char key[64];
	char value[128];
	size_t value_len;
	char tenant[80];
	char version[32];
};

static struct rec got[MAX_READ];
static size_t ngot;

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
quiet(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	(void)level;
	(void)fac;
	(void)buf;
}

static int
start_cluster(void)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char err[256];

	rd_kafka_conf_set_log_cb(conf, quiet);
	mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (mock_rk == NULL)
		return -1;
	if ((mc = rd_kafka_mock_cluster_new(mock_rk, 3)) == NULL)
		return -1;
	bootstraps = rd_kafka_mock_cluster_bootstraps(mc);
	return 0;
}

static void
header(const rd_kafka_message_t *m, const char *name, char *out, size_t len)
{
	rd_kafka_headers_t *h = NULL;
	const void *v;
	size_t n;

	out[0] = '\0';
	if (rd_kafka_message_headers(m, &h) != 0 ||
	    rd_kafka_header_get_last(h, name, &v, &n) != 0)
		return;
	snprintf(out, len, "%.*s", (int)n, (const char *)v);
}

static void
keep(const rd_kafka_message_t *m)
{
	struct rec *r;

	if (ngot >= MAX_READ)
		return;
	r = &got[ngot++];
	r->partition = m->partition;
	r->offset = m->offset;
	snprintf(r->key, sizeof(r->key), "%.*s", (int)m->key_len,
	    m->key != NULL ? (const char *)m->key : "");
	r->value_len = m->len;
	snprintf(r->value, sizeof(r->value), "%.*s",
	    (int)(m->len < 127 ? m->len : 127), (const char *)m->payload);
	header(m, KAFKA_HEADER_TENANT, r->tenant, sizeof(r->tenant));
	header(m, KAFKA_HEADER_VERSION, r->version, sizeof(r->version));
}

/* Read every partition of topic from the start to its end into got[]. */
static int
consume(const char *topic, int partitions)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_topic_partition_list_t *tl;
	rd_kafka_message_t *m;
	rd_kafka_t *rk;
	char err[256];
	long end = now_ms() + WAIT_MS;
	int i, eof = 0;

	ngot = 0;
	rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, NULL, 0);
	rd_kafka_conf_set(conf, "group.id", "test", NULL, 0);
	rd_kafka_conf_set(conf, "enable.partition.eof", "true", NULL, 0);
	rd_kafka_conf_set_log_cb(conf, quiet);
	if ((rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err))) ==
	    NULL)
		return -1;
	tl = rd_kafka_topic_partition_list_new(partitions);
	for (i = 0; i < partitions; i++)
		rd_kafka_topic_partition_list_add(tl, topic, i)->offset =
		    RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_assign(rk, tl);
	rd_kafka_topic_partition_list_destroy(tl);
	while (eof < partitions && now_ms() < end) {
		if ((m = rd_kafka_consumer_poll(rk, 200)) == NULL)
			continue;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
			eof++;
		else if (m->err == 0)
			keep(m);
		rd_kafka_message_destroy(m);
	}
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return eof == partitions ? 0 : -1;
}

static struct sink_kafka *
producer(const char *topic, struct kafka_conf *kc)
{
	struct sink_kafka_opts o = {bootstraps, topic, kc};
	struct sink_kafka *k = sink_kafka_new(&o);
	char why[512];

	if (k == NULL || sink_kafka_open(k, why, sizeof(why)) != 0) {
		fprintf(stderr, "cannot start the producer: %s\n", why);
		sink_kafka_free(k);
		return NULL;
	}
	return k;
}

/* Poll until *acked reaches mark.  Returns the last poll's result. */
static int
wait_acked(struct sink_kafka *k, uint64_t mark, uint64_t *acked)
{
	long end = now_ms() + WAIT_MS;
	int rc;

	do {
		rc = sink_kafka_poll(k, 100, acked);
	} while (rc == 0 && *acked < mark && now_ms() < end);
	return rc;
}

static void
msg(struct sink_msg *m, const char *value, const char *key, const char *tenant,
    int64_t version, uint64_t mark)
{
	memset(m, 0, sizeof(*m));
	m->data = value;
	m->len = strlen(value);
	m->key = key;
	m->keylen = key != NULL ? strlen(key) : 0;
	m->tenant = tenant;
	m->version.sec = version;
	m->version.tick = version > 0 ? 1234567 : 0;
	m->sev = 5;
	m->mark = mark;
}

/*
 * Send n messages with marks first..first+n-1: value "CEF:0|v<mark-1>",
 * key "alert-<(mark-1) % keys>".
 */
static int
send_n(struct sink_kafka *k, int n, int keys, uint64_t first)
{
	char value[64], key[32], why[512];
	struct sink_msg m;
	uint64_t acked;
	int i, rc;

	for (i = (int)first - 1; i < (int)first - 1 + n; i++) {
		snprintf(value, sizeof(value), "CEF:0|v%d", i);
		snprintf(key, sizeof(key), "alert-%d", i % keys);
		msg(&m, value, key, "contoso", 1700000000 + i, (uint64_t)i + 1);
		while ((rc = sink_kafka_send(k, &m, why, sizeof(why))) ==
		    ERR_AGAIN)
			sink_kafka_poll(k, 50, &acked);
		if (rc != 0) {
			fprintf(stderr, "send %d: %d %s\n", i, rc, why);
			return rc;
		}
	}
	return 0;
}

/* got[] holds each of n values exactly once: count duplicates, missing. */
static void
tally(int n, int *missing, int *dups)
{
	static unsigned char seen[MAX_READ];
	size_t i;
	int v;

	memset(seen, 0, sizeof(seen));
	*missing = *dups = 0;
	for (i = 0; i < ngot; i++) {
		if (sscanf(got[i].value, "CEF:0|v%d", &v) != 1 || v < 0 ||
		    v >= n)
			continue;
		if (seen[v]++)
			(*dups)++;
	}
	for (v = 0; v < n; v++)
		*missing += seen[v] == 0;
}

static int32_t
partition_of(const char *key, int32_t partitions)
{
	return rd_kafka_msg_partitioner_consistent_random(
	    NULL, key, strlen(key), partitions, NULL, NULL);
}

/*
 * A clean run: every message exactly once; the key is the record key,
 * the partition CRC32(key) mod partitions, versions of one key in order;
 * headers carry the tenant and the version time.
 */
static void
test_clean(void)
{
	struct sink_kafka_stats st;
	struct sink_kafka *k;
	int missing, dups, bad_part = 0, bad_order = 0, last[20];
	uint64_t acked = 0;
	size_t i;
	int v;

	rd_kafka_mock_topic_create(mc, "clean", 3, 3);
	if ((k = producer("clean", NULL)) == NULL) {
		CHECK(!"producer");
		return;
	}
	CHECK(send_n(k, 2000, 20, 1) == 0);
	CHECK(wait_acked(k, 2000, &acked) == 0);
	CHECK(acked == 2000);
	sink_kafka_stats(k, &st);
	CHECK(st.acked == 2000 && st.in_flight == 0 && st.failed == 0);
	CHECK(st.max_in_flight == 10000);
	CHECK(sink_kafka_drain(k, 1000, &acked) == 0 && acked == 2000);
	sink_kafka_free(k);
	CHECK(consume("clean", 3) == 0);
	tally(2000, &missing, &dups);
	CHECK(ngot == 2000 && missing == 0 && dups == 0);
	memset(last, -1, sizeof(last));
	for (i = 0; i < ngot; i++) {
		int key;

		sscanf(got[i].value, "CEF:0|v%d", &v);
		sscanf(got[i].key, "alert-%d", &key);
		if (key < 0 || key >= 20 || v % 20 != key) {
			bad_part++;
			continue;
		}
		bad_part += got[i].partition != partition_of(got[i].key, 3);
		/* A partition is read in offset order: versions ascend. */
		bad_order += v < last[key];
		last[key] = v;
	}
	CHECK(bad_part == 0);
	CHECK(bad_order == 0);
	CHECK_STR(got[0].tenant, "contoso");
	sscanf(got[0].value, "CEF:0|v%d", &v);
	{
		char want[TS_STRLEN];
		struct ts t = {1700000000 + v, 1234567};

		ts_format7(&t, want);
		CHECK_STR(got[0].version, want);
	}
}

/* Values are sent as they are: no framing, no header, any byte. */
static void
test_value_exact(void)
{
	static const char value[] = "CEF:0|Microsoft|x|2.0|a|b|5|msg=\xc3\xa9 "
	                            "x\\=y";
	struct sink_kafka *k;
	struct sink_msg m;
	uint64_t acked = 0;
	char why[512];

	rd_kafka_mock_topic_create(mc, "exact", 1, 3);
	if ((k = producer("exact", NULL)) == NULL) {
		CHECK(!"producer");
		return;
	}
	msg(&m, value, NULL, NULL, 0, 7);
	CHECK(sink_kafka_send(k, &m, why, sizeof(why)) == 0);
	CHECK(wait_acked(k, 7, &acked) == 0 && acked == 7);
	sink_kafka_free(k);
	CHECK(consume("exact", 1) == 0);
	CHECK(ngot == 1);
	if (ngot == 1) {
		CHECK(got[0].value_len == strlen(value));
		CHECK_STR(got[0].value, value);
		CHECK_STR(got[0].key, "");
		/* No tenant named: the one tenant's name; no version. */
		CHECK_STR(got[0].tenant, KAFKA_DEFAULT_TENANT);
		CHECK_STR(got[0].version, "");
	}
}

/*
 * Reports come back out of order across partitions: the acknowledged
 * mark stops before a message whose partition leader is slow.
 */
static void
test_out_of_order(void)
{
	struct sink_kafka *k;
	struct sink_msg m;
	char why[512], kslow[16], kfast[16];
	uint64_t acked = 0;
	long end;
	int i;

	rd_kafka_mock_topic_create(mc, "order", 2, 1);
	rd_kafka_mock_partition_set_leader(mc, "order", 0, 1);
	rd_kafka_mock_partition_set_leader(mc, "order", 1, 2);
	for (i = 0;; i++) {
		snprintf(kslow, sizeof(kslow), "s%d", i);
		if (partition_of(kslow, 2) == 0)
			break;
	}
	for (i = 0;; i++) {
		snprintf(kfast, sizeof(kfast), "f%d", i);
		if (partition_of(kfast, 2) == 1)
			break;
	}
	if ((k = producer("order", NULL)) == NULL) {
		CHECK(!"producer");
		return;
	}
	/* Warm up: metadata and producer id known before the delay. */
	msg(&m, "CEF:0|warm", kfast, NULL, 0, 1);
	CHECK(sink_kafka_send(k, &m, why, sizeof(why)) == 0);
	CHECK(wait_acked(k, 1, &acked) == 0 && acked == 1);
	rd_kafka_mock_broker_set_rtt(mc, 1, 3000);
	msg(&m, "CEF:0|slow", kslow, NULL, 0, 10);
	CHECK(sink_kafka_send(k, &m, why, sizeof(why)) == 0);
	msg(&m, "CEF:0|fast", kfast, NULL, 0, 11);
	CHECK(sink_kafka_send(k, &m, why, sizeof(why)) == 0);
	end = now_ms() + WAIT_MS;
	{
		struct sink_kafka_stats st;

		do {
			sink_kafka_poll(k, 50, &acked);
			sink_kafka_stats(k, &st);
		} while (st.acked < 2 && acked < 10 && now_ms() < end);
		/* The fast one is acknowledged, the slow one not yet. */
		CHECK(st.acked == 2);
		CHECK(acked == 1);
		CHECK(st.in_flight == 2);
	}
	CHECK(wait_acked(k, 11, &acked) == 0 && acked == 11);
	rd_kafka_mock_broker_set_rtt(mc, 1, 0);
	sink_kafka_free(k);
}

/* In flight is bounded by queue.buffering.max.messages: then ERR_AGAIN. */
static void
test_in_flight_bound(void)
{
	struct kafka_conf kc;
	struct sink_kafka_stats st;
	struct sink_kafka *k;
	struct sink_msg m;
	char why[512];
	uint64_t acked = 0, mark;
	int rc = 0;

	kafka_conf_init(&kc);
	kafka_conf_add(
	    &kc, "queue.buffering.max.messages", "100", 1, why, sizeof(why));
	rd_kafka_mock_topic_create(mc, "bound", 3, 3);
	/* Brokers away: nothing is acknowledged, the bound fills. */
	rd_kafka_mock_broker_set_down(mc, -1);
	if ((k = producer("bound", &kc)) == NULL) {
		CHECK(!"producer");
		kafka_conf_reset(&kc);
		rd_kafka_mock_broker_set_up(mc, -1);
		return;
	}
	for (mark = 1; mark <= 1000; mark++) {
		msg(&m, "CEF:0|v", "k", NULL, 0, mark);
		if ((rc = sink_kafka_send(k, &m, why, sizeof(why))) != 0)
			break;
	}
	CHECK(rc == ERR_AGAIN);
	CHECK(mark == 101);
	sink_kafka_stats(k, &st);
	CHECK(st.in_flight == 100 && st.max_in_flight == 100);
	/* Waiting is backpressure, not an error. */
	CHECK(sink_kafka_poll(k, 500, &acked) == 0 && acked == 0);
	CHECK(sink_kafka_drain(k, 300, &acked) == ERR_AGAIN && acked == 0);
	rd_kafka_mock_broker_set_up(mc, -1);
	CHECK(wait_acked(k, 100, &acked) == 0 && acked == 100);
	msg(&m, "CEF:0|v", "k", NULL, 0, 101);
	CHECK(sink_kafka_send(k, &m, why, sizeof(why)) == 0);
	CHECK(wait_acked(k, 101, &acked) == 0 && acked == 101);
	sink_kafka_free(k);
	kafka_conf_reset(&kc);
}

/*
 * Brokers down, then up; pushed produce errors and a leader change:
 * librdkafka retries, nothing is lost and, idempotent, nothing doubled.
 */
static void
test_outage(void)
{
	struct sink_kafka *k;
	uint64_t acked = 0;
	int missing, dups;
	long end;

	rd_kafka_mock_topic_create(mc, "outage", 3, 3);
	if ((k = producer("outage", NULL)) == NULL) {
		CHECK(!"producer");
		return;
	}
	CHECK(send_n(k, 500, 50, 1) == 0);
	CHECK(wait_acked(k, 500, &acked) == 0 && acked == 500);
	rd_kafka_mock_broker_set_down(mc, -1);
	CHECK(send_n(k, 500, 50, 501) == 0);
	end = now_ms() + 2000;
	while (now_ms() < end)
		CHECK(sink_kafka_poll(k, 100, &acked) == 0);
	CHECK(acked < 1000);
	rd_kafka_mock_broker_set_up(mc, -1);
	CHECK(wait_acked(k, 1000, &acked) == 0 && acked == 1000);

	rd_kafka_mock_push_request_errors(mc, 0 /* Produce */, 6,
	    RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
	    RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
	    RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
	    RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
	    RD_KAFKA_RESP_ERR__TRANSPORT);
	CHECK(send_n(k, 500, 50, 1001) == 0);
	rd_kafka_mock_partition_set_leader(mc, "outage", 0, 3);
	rd_kafka_mock_partition_set_leader(mc, "outage", 1, 1);
	CHECK(send_n(k, 500, 50, 1501) == 0);
	CHECK(wait_acked(k, 2000, &acked) == 0 && acked == 2000);
	CHECK(sink_kafka_is_down(k) == 0);
	sink_kafka_free(k);
	CHECK(consume("outage", 3) == 0);
	tally(2000, &missing, &dups);
	CHECK(ngot == 2000);
	CHECK(missing == 0 && dups == 0);
}

/* Too large for message.max.bytes: ERR_BADREC, the stream goes on. */
static void
test_too_large(void)
{
	static char big[20000], fits[20000];
	struct kafka_conf kc;
	struct sink_kafka_stats st;
	struct sink_kafka *k;
	struct sink_msg m;
	char why[512];
	uint64_t acked = 0;

	kafka_conf_init(&kc);
	kafka_conf_add(&kc, "message.max.bytes", "10000", 1, why, sizeof(why));
	rd_kafka_mock_topic_create(mc, "large", 1, 3);
	if ((k = producer("large", &kc)) == NULL) {
		CHECK(!"producer");
		kafka_conf_reset(&kc);
		return;
	}
	memset(big, 'x', sizeof(big) - 1);
	msg(&m, big, "alert-big", "contoso", 1700000000, 1);
	CHECK(sink_kafka_send(k, &m, why, sizeof(why)) == ERR_BADREC);
	CHECK_STR(why,
	    "a message of 20008 bytes (with key and headers) is more than "
	    "[kafka] message.max.bytes allows");
	/* The largest value max_message_size allows does go through. */
	CHECK(sink_kafka_max_value(k) == 10000 - KAFKA_MSG_OVERHEAD);
	memset(fits, 'y', sink_kafka_max_value(k));
	msg(&m, fits, "0123456789abcdef0123456789abcdef0123456789abcdef_x",
	    "a-tenant-name-of-sixty-four-characters-is-the-longest-allowed-x",
	    1700000000, 2);
	CHECK(sink_kafka_send(k, &m, why, sizeof(why)) == 0);
	CHECK(wait_acked(k, 2, &acked) == 0 && acked == 2);
	/* A broker that refuses a message: counted, skipped, not stuck. */
	rd_kafka_mock_push_request_errors(
	    mc, 0, 1, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
	msg(&m, "CEF:0|refused", "k", NULL, 0, 3);
	CHECK(sink_kafka_send(k, &m, why, sizeof(why)) == 0);
	CHECK(wait_acked(k, 3, &acked) == 0 && acked == 3);
	msg(&m, "CEF:0|after", "k", NULL, 0, 4);
	CHECK(sink_kafka_send(k, &m, why, sizeof(why)) == 0);
	CHECK(wait_acked(k, 4, &acked) == 0 && acked == 4);
	sink_kafka_stats(k, &st);
	CHECK(st.failed == 1 && st.acked == 2);
	sink_kafka_free(k);
	kafka_conf_reset(&kc);
	CHECK(consume("large", 1) == 0);
	CHECK(ngot == 2);
	if (ngot == 2) {
		CHECK(got[0].value_len == 10000 - KAFKA_MSG_OVERHEAD);
		CHECK_STR(got[1].value, "CEF:0|after");
	}
}

/*
 * Permanent topic errors: ERR_SINK naming the topic and librdkafka's
 * reason; the sink is down; after a reopen, a resend from the
 * acknowledged mark delivers everything at least once.
 */
static void
test_topic_errors(void)
{
	struct kafka_conf kc;
	struct sink_kafka_stats st;
	struct sink_kafka *k;
	struct sink_msg m;
	char why[512];
	uint64_t acked = 0;
	int rc, missing, dups;

	rd_kafka_mock_topic_create(mc, "denied", 3, 3);
	if ((k = producer("denied", NULL)) == NULL) {
		CHECK(!"producer");
		return;
	}
	CHECK(send_n(k, 100, 10, 1) == 0);
	CHECK(wait_acked(k, 100, &acked) == 0 && acked == 100);
	rd_kafka_mock_push_request_errors(
	    mc, 0, 1, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
	CHECK(send_n(k, 100, 10, 101) == 0);
	rc = wait_acked(k, 200, &acked);
	CHECK(rc == ERR_SINK);
	CHECK(acked < 200);
	CHECK(strstr(sink_kafka_why(k),
	          "topic denied: Broker: Topic authorization failed "
	          "(TOPIC_AUTHORIZATION_FAILED)") != NULL);
	CHECK(sink_kafka_is_down(k));
	msg(&m, "CEF:0|no", "k", NULL, 0, 500);
	CHECK(sink_kafka_send(k, &m, why, sizeof(why)) == ERR_SINK);
	/* The caller reopens and resends everything after acked. */
	sink_kafka_close(k);
	sink_kafka_stats(k, &st);
	CHECK(st.retried == 200 - acked);
	CHECK(sink_kafka_open(k, why, sizeof(why)) == 0);
	{
		uint64_t from = acked;
		char value[64], key[32];
		int i;

		for (i = (int)from; i < 200; i++) {
			snprintf(value, sizeof(value), "CEF:0|v%d", i);
			snprintf(key, sizeof(key), "alert-%d", i % 10);
			msg(&m, value, key, NULL, 0, (uint64_t)i + 1);
			CHECK(sink_kafka_send(k, &m, why, sizeof(why)) == 0);
		}
	}
	CHECK(wait_acked(k, 200, &acked) == 0 && acked == 200);
	CHECK(!sink_kafka_is_down(k));
	sink_kafka_free(k);
	CHECK(consume("denied", 3) == 0);
	/* At least once; at most what was in flight is doubled. */
	tally(200, &missing, &dups);
	CHECK(missing == 0);
	CHECK(dups <= 100);

	/* A topic that does not exist (and is not created on demand). */
	kafka_conf_init(&kc);
	kafka_conf_add(
	    &kc, "allow.auto.create.topics", "false", 1, why, sizeof(why));
	kafka_conf_add(&kc, "topic.metadata.propagation.max.ms", "500", 2, why,
	    sizeof(why));
	rd_kafka_mock_topic_set_error(
	    mc, "nosuch", RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
	if ((k = producer("nosuch", &kc)) == NULL) {
		CHECK(!"producer");
		kafka_conf_reset(&kc);
		return;
	}
	msg(&m, "CEF:0|lost?", "k", NULL, 0, 1);
	rc = sink_kafka_send(k, &m, why, sizeof(why));
	if (rc == 0) {
		rc = wait_acked(k, 1, &acked);
		snprintf(why, sizeof(why), "%s", sink_kafka_why(k));
	}
	CHECK(rc == ERR_SINK);
	CHECK_STR(why,
	    "topic nosuch: Broker: Unknown topic or partition "
	    "(UNKNOWN_TOPIC_OR_PART)");
	CHECK(sink_kafka_is_down(k));
	sink_kafka_free(k);
	kafka_conf_reset(&kc);
	rd_kafka_mock_topic_set_error(mc, "nosuch", RD_KAFKA_RESP_ERR_NO_ERROR);
}

/* topic = x-%t: one topic per tenant; no tenant: "default". */
static void
test_tenant_topics(void)
{
	static const char *const tenants[] = {"contoso", "fabrikam", NULL};
	struct sink_kafka *k;
	struct sink_msg m;
	char why[512], value[32];
	uint64_t acked = 0, mark = 0;
	int i, t;

	rd_kafka_mock_topic_create(mc, "mssp-contoso", 1, 3);
	rd_kafka_mock_topic_create(mc, "mssp-fabrikam", 1, 3);
	rd_kafka_mock_topic_create(mc, "mssp-default", 1, 3);
	if ((k = producer("mssp-%t", NULL)) == NULL) {
		CHECK(!"producer");
		return;
	}
	for (i = 0; i < 30; i++) {
		t = i % 3;
		snprintf(value, sizeof(value), "CEF:0|%d", i);
		msg(&m, value, "k", tenants[t], 0, ++mark);
		CHECK(sink_kafka_send(k, &m, why, sizeof(why)) == 0);
	}
	CHECK(wait_acked(k, mark, &acked) == 0 && acked == mark);
	sink_kafka_free(k);
	CHECK(consume("mssp-contoso", 1) == 0 && ngot == 10);
	CHECK(ngot > 0 && strcmp(got[0].tenant, "contoso") == 0);
	CHECK(consume("mssp-fabrikam", 1) == 0 && ngot == 10);
	CHECK(consume("mssp-default", 1) == 0 && ngot == 10);
	CHECK(ngot > 0 && strcmp(got[0].tenant, "default") == 0);
}

/*
 * Through sink.c, as the output queue drives it: connect on demand,
 * ERR_SINK with the reason, down until a record is acknowledged again.
 */
static void
test_sink_ops(void)
{
	struct config c;
	struct sink *s;
	struct sink_msg m;
	uint64_t acked = 0, mark;
	int64_t end;
	int rc = 0;

	memset(&c, 0, sizeof(c));
	c.transport = TRANSPORT_KAFKA;
	c.brokers = (char *)(uintptr_t)bootstraps;
	c.topic = (char *)(uintptr_t) "ops";
	c.timeout = 10;
	c.max_message_size = 8192;
	rd_kafka_mock_topic_create(mc, "ops", 2, 3);
	if ((s = sink_new(&c, NULL)) == NULL) {
		CHECK(!"sink_new for kafka");
		return;
	}
	for (mark = 1; mark <= 50; mark++) {
		msg(&m, "CEF:0|ops", "k", NULL, 0, mark);
		CHECK(sink_send(s, &m) == 0);
	}
	end = nap_now_ms() + WAIT_MS;
	while (acked < 50 && nap_now_ms() < end)
		CHECK(sink_poll(s, 200, &acked) == 0);
	CHECK(acked == 50 && !sink_is_down(s));
	rd_kafka_mock_push_request_errors(
	    mc, 0, 1, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
	msg(&m, "CEF:0|ops", "k", NULL, 0, 51);
	CHECK(sink_send(s, &m) == 0);
	end = nap_now_ms() + WAIT_MS;
	while (rc == 0 && nap_now_ms() < end)
		rc = sink_poll(s, 200, &acked);
	CHECK(rc == ERR_SINK && acked == 50);
	CHECK(sink_is_down(s));
	/* A new producer after the backoff; down until it is acknowledged. */
	end = nap_now_ms() + WAIT_MS;
	while ((rc = sink_send(s, &m)) == ERR_SINK && nap_now_ms() < end)
		nap_ms(sink_retry_in_ms(s) + 1, NULL);
	CHECK(rc == 0);
	CHECK(sink_is_down(s));
	end = nap_now_ms() + WAIT_MS;
	while (acked < 51 && nap_now_ms() < end)
		CHECK(sink_poll(s, 200, &acked) == 0);
	CHECK(acked == 51 && !sink_is_down(s));
	CHECK(sink_drain(s, 1000, &acked) == 0 && acked == 51);
	sink_free(s);
}

int
main(void)
{
	if (start_cluster() != 0) {
		fprintf(stderr, "cannot start the mock cluster\n");
		return 1;
	}
	test_clean();
	test_value_exact();
	test_out_of_order();
	test_in_flight_bound();
	test_outage();
	test_too_large();
	test_topic_errors();
	test_tenant_topics();
	test_sink_ops();
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(mock_rk);
	return check_done();
}
