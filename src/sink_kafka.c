/* SPDX-License-Identifier: MIT */
/*
 * Kafka transport (include/sink_kafka.h): a librdkafka producer, in the
 * place of a syslog connection at the end of the pipeline.  Every message
 * handed over takes the next slot of a ring sized for the in-flight bound
 * (queue.buffering.max.messages); the slot's number travels with the
 * message as its opaque and comes back in the delivery report, which
 * marks the slot done (or failed).  The acknowledged mark moves over the
 * contiguous run of done slots from the oldest, so it never passes a
 * message that the cluster does not hold yet.  Delivery reports, errors
 * and librdkafka's log lines are all served from rd_kafka_poll() in the
 * caller's thread (log.queue), so no callback runs concurrently with the
 * rest of the daemon.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "config.h"
#include "errcode.h"
#include "kafka_conf.h"
#include "log.h"
#include "nap.h"
#include "sink.h"
#include "sink_impl.h"
#include "sink_kafka.h"
#include "ts.h"

#define WHY_MAX 512
#define TOPIC_SLOTS 256 /* topic handles kept per producer (%t) */
#define TENANT_MAX 64
#define RING_MIN 16

enum slot_state { SLOT_PENDING = 0, SLOT_DONE, SLOT_FAILED };

struct slot {
	uint64_t mark;
	unsigned char state;
};

/* A topic handle for one tenant (%t topics). */
struct topic_slot {
	char tenant[TENANT_MAX + 1];
	rd_kafka_topic_t *rkt;
};

struct sink_kafka {
	char *brokers;
	char *topic; /* the template */
	struct kafka_conf kafka; /* a copy */
	int per_tenant; /* topic holds %t */

	rd_kafka_t *rk; /* NULL: closed */
	rd_kafka_topic_t *rkt; /* the one topic, without %t */
	struct topic_slot *topics; /* TOPIC_SLOTS, with %t */

	struct slot *ring;
	uint64_t mask; /* ring size - 1 */
	uint64_t head, tail; /* next slot to fill, oldest not retired */
	uint64_t max_in_flight;
	uint64_t acked_mark;

	int closing; /* delivery reports of purged messages are ignored */
	int broken; /* a report failed: ERR_SINK until reopened */
	int down; /* no broker, or the topic cannot be written */
	char why[WHY_MAX];
	char logged[WHY_MAX]; /* last problem logged, "" after a success */

	struct ts vlast; /* version header cache */
	char vtext[TS_STRLEN];
	struct sink_kafka_stats st;
};

static char *
copy_str(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

struct sink_kafka *
sink_kafka_new(const struct sink_kafka_opts *o)
{
	struct sink_kafka *k;

	if ((k = calloc(1, sizeof(*k))) == NULL)
		return NULL;
	kafka_conf_init(&k->kafka);
	k->brokers = copy_str(o->brokers);
	k->topic = copy_str(o->topic != NULL ? o->topic : "");
	if ((o->brokers != NULL && k->brokers == NULL) || k->topic == NULL ||
	    kafka_conf_copy(&k->kafka, o->kafka) != 0) {
		sink_kafka_free(k);
		return NULL;
	}
	k->per_tenant = strstr(k->topic, "%t") != NULL;
	k->vlast.sec = -1;
	return k;
}

void
sink_kafka_free(struct sink_kafka *k)
{
	if (k == NULL)
		return;
	sink_kafka_close(k);
	free(k->topics);
	free(k->ring);
	free(k->brokers);
	free(k->topic);
	kafka_conf_reset(&k->kafka);
	free(k);
}

/* Log a problem once, until a delivery succeeds again. */
static void
log_once(struct sink_kafka *k, enum log_level level, const char *text)
{
	if (strcmp(k->logged, text) == 0)
		return;
	snprintf(k->logged, sizeof(k->logged), "%s", text);
	log_msg(level, "kafka: %s", text);
}

static void
fail(struct sink_kafka *k, const char *text)
{
	if (!k->broken)
		snprintf(k->why, sizeof(k->why), "%s", text);
	k->broken = 1;
}

/* A record this topic can never take: counted and skipped. */
static int
refused_for_good(rd_kafka_resp_err_t err)
{
	return err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ||
	    err == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE ||
	    err == RD_KAFKA_RESP_ERR_INVALID_RECORD;
}

/* A record's key for a log line: printable, else "(no id)". */
static const char *
record_id(const rd_kafka_message_t *m, char *out, size_t outlen)
{
	const unsigned char *p = m->key;
	size_t i;

	if (p == NULL || m->key_len == 0 || m->key_len >= outlen)
		return "(no id)";
	for (i = 0; i < m->key_len; i++) {
		if (p[i] <= ' ' || p[i] > '~')
			return "(no id)";
	}
	memcpy(out, p, m->key_len);
	out[m->key_len] = '\0';
	return out;
}

static void
on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct sink_kafka *k = opaque;
	struct slot *sl;
	char text[WHY_MAX], id[200];

	(void)rk;
	if (k->closing)
		return;
	sl = &k->ring[(uint64_t)(uintptr_t)m->_private & k->mask];
	if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		sl->state = SLOT_DONE;
		k->st.acked++;
		/* After a failure, only the reopened producer says "up". */
		if (k->broken)
			return;
		if (k->down)
			log_info("kafka: topic %s takes messages again",
			    rd_kafka_topic_name(m->rkt));
		k->down = 0;
		k->logged[0] = '\0';
		return;
	}
	snprintf(text, sizeof(text), "topic %s: %s (%s)",
	    rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err),
	    rd_kafka_err2name(m->err));
	if (refused_for_good(m->err)) {
		/* A bad record: logged by its key (never its content). */
		sl->state = SLOT_DONE;
		k->st.failed++;
		log_warning("kafka: skipping record %s: %s: a message of %zu "
		            "bytes, counted as failed; raise the topic's "
		            "max.message.bytes or lower [output] "
		            "max_message_size",
		    record_id(m, id, sizeof(id)), text, m->len);
		return;
	}
	/* The caller reports ERR_SINK and its reason (sink.c: once). */
	sl->state = SLOT_FAILED;
	fail(k, text);
}

static void
on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct sink_kafka *k = opaque;
	char text[WHY_MAX], fatal[WHY_MAX];

	if (k->closing)
		return;
	if (err == RD_KAFKA_RESP_ERR__FATAL) {
		rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
		snprintf(
		    text, sizeof(text), "the producer stopped: %.400s", fatal);
		fail(k, text);
		return;
	}
	if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN ||
	    err == RD_KAFKA_RESP_ERR__AUTHENTICATION ||
	    err == RD_KAFKA_RESP_ERR__SSL ||
	    err == RD_KAFKA_RESP_ERR__RESOLVE) {
		k->down = 1;
		snprintf(text, sizeof(text),
		    "%s: %s; messages wait in the spool (nothing is lost)",
		    k->brokers, reason);
		log_once(k, LOG_LVL_WARNING, text);
		return;
	}
	log_debug("kafka: %s: %s", rd_kafka_err2name(err), reason);
}

static void
on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	/* A property that does not apply to a producer, and the like. */
	if (strcmp(fac, "CONFWARN") == 0 && level <= 4)
		log_warning("kafka: %s", buf);
	else
		log_debug("kafka: %s: %s", fac, buf);
}

static uint64_t
conf_uint(rd_kafka_conf_t *conf, const char *name, uint64_t def)
{
	char v[32], *end;
	size_t n = sizeof(v);
	unsigned long long u;

	if (rd_kafka_conf_get(conf, name, v, &n) != RD_KAFKA_CONF_OK)
		return def;
	u = strtoull(v, &end, 10);
	return end != v && *end == '\0' && u > 0 ? u : def;
}

/* A ring of a power of two slots, at least max_in_flight. */
static int
size_ring(struct sink_kafka *k, uint64_t max_in_flight)
{
	uint64_t size = RING_MIN;
	struct slot *r;

	while (size < max_in_flight)
		size *= 2;
	if (k->ring == NULL || k->mask + 1 != size) {
		if ((r = calloc(size, sizeof(*r))) == NULL)
			return ERR_NOMEM;
		free(k->ring);
		k->ring = r;
		k->mask = size - 1;
	}
	k->max_in_flight = max_in_flight;
	k->st.max_in_flight = max_in_flight;
	return 0;
}

static rd_kafka_conf_t *
producer_conf(struct sink_kafka *k, char *why, size_t whylen)
{
	rd_kafka_conf_t *conf;

	if ((conf = kafka_conf_build(&k->kafka, k->brokers, why, whylen)) ==
	    NULL)
		return NULL;
	if (size_ring(k,
	        conf_uint(conf, "queue.buffering.max.messages", 100000)) != 0 ||
	    rd_kafka_conf_set(conf, "log.queue", "true", why, whylen) !=
	        RD_KAFKA_CONF_OK) {
		snprintf(why, whylen, "out of memory");
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rd_kafka_conf_set_error_cb(conf, on_error);
	rd_kafka_conf_set_log_cb(conf, on_log);
	rd_kafka_conf_set_opaque(conf, k);
	return conf;
}

int
sink_kafka_open(struct sink_kafka *k, char *why, size_t whylen)
{
	rd_kafka_conf_t *conf;
	char err[WHY_MAX];

	sink_kafka_close(k);
	if ((conf = producer_conf(k, why, whylen)) == NULL)
		return ERR_SINK;
	k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (k->rk == NULL) {
		rd_kafka_conf_destroy(conf);
		snprintf(
		    why, whylen, "cannot start the Kafka producer: %s", err);
		return ERR_SINK;
	}
	rd_kafka_set_log_queue(k->rk, NULL);
	if (!k->per_tenant &&
	    (k->rkt = rd_kafka_topic_new(k->rk, k->topic, NULL)) == NULL) {
		snprintf(why, whylen, "topic %s: %s", k->topic,
		    rd_kafka_err2str(rd_kafka_last_error()));
		sink_kafka_close(k);
		return ERR_SINK;
	}
	if (k->per_tenant && k->topics == NULL &&
	    (k->topics = calloc(TOPIC_SLOTS, sizeof(*k->topics))) == NULL) {
		snprintf(why, whylen, "out of memory");
		sink_kafka_close(k);
		return ERR_SINK;
	}
	k->head = k->tail = 0;
	k->broken = 0;
	k->why[0] = '\0';
	return 0;
}

void
sink_kafka_close(struct sink_kafka *k)
{
	size_t i;

	if (k->rk == NULL)
		return;
	if (k->broken)
		k->st.retried += k->head - k->tail;
	k->closing = 1;
	rd_kafka_purge(k->rk,
	    RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT |
	        RD_KAFKA_PURGE_F_NON_BLOCKING);
	if (k->rkt != NULL)
		rd_kafka_topic_destroy(k->rkt);
	k->rkt = NULL;
	for (i = 0; k->topics != NULL && i < TOPIC_SLOTS; i++) {
		if (k->topics[i].rkt != NULL)
			rd_kafka_topic_destroy(k->topics[i].rkt);
		k->topics[i].rkt = NULL;
		k->topics[i].tenant[0] = '\0';
	}
	rd_kafka_destroy(k->rk);
	k->rk = NULL;
	k->closing = 0;
	k->head = k->tail = 0;
}

/* The topic handle for tenant; NULL with why filled. */
static rd_kafka_topic_t *
topic_for(struct sink_kafka *k, const char *tenant, char *why, size_t whylen)
{
	char name[KAFKA_TOPIC_MAX + 1];
	struct topic_slot *ts;
	uint32_t h = 2166136261U;
	const char *p;

	if (!k->per_tenant)
		return k->rkt;
	if (tenant == NULL || tenant[0] == '\0')
		tenant = KAFKA_DEFAULT_TENANT;
	for (p = tenant; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619U;
	ts = &k->topics[h % TOPIC_SLOTS];
	if (ts->rkt != NULL && strcmp(ts->tenant, tenant) == 0)
		return ts->rkt;
	if (strlen(tenant) > TENANT_MAX ||
	    kafka_topic_expand(k->topic, tenant, name, sizeof(name)) != 0) {
		snprintf(
		    why, whylen, "no Kafka topic for tenant %.64s", tenant);
		return NULL;
	}
	if (ts->rkt != NULL)
		rd_kafka_topic_destroy(ts->rkt);
	ts->tenant[0] = '\0';
	if ((ts->rkt = rd_kafka_topic_new(k->rk, name, NULL)) == NULL) {
		snprintf(why, whylen, "topic %s: %s", name,
		    rd_kafka_err2str(rd_kafka_last_error()));
		return NULL;
	}
	snprintf(ts->tenant, sizeof(ts->tenant), "%s", tenant);
	return ts->rkt;
}

/* The version header's text: ISO 8601 UTC, 7 fractional digits. */
static const char *
version_text(struct sink_kafka *k, const struct ts *t)
{
	if (ts_cmp(t, &k->vlast) != 0) {
		ts_format7(t, k->vtext);
		k->vlast = *t;
	}
	return k->vtext;
}

/* The produce arguments for m; returns how many. */
static size_t
produce_args(struct sink_kafka *k, rd_kafka_topic_t *rkt,
    const struct sink_msg *m, rd_kafka_vu_t *vu)
{
	const char *tenant = m->tenant != NULL && m->tenant[0] != '\0'
	    ? m->tenant
	    : KAFKA_DEFAULT_TENANT;
	const char *version;
	size_t n = 0;

	vu[n].vtype = RD_KAFKA_VTYPE_RKT;
	vu[n++].u.rkt = rkt;
	vu[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
	vu[n++].u.i = RD_KAFKA_MSG_F_COPY;
	vu[n].vtype = RD_KAFKA_VTYPE_VALUE;
	/* librdkafka copies the value (F_COPY) and never writes it. */
	vu[n].u.mem.ptr = (void *)(uintptr_t)m->data;
	vu[n++].u.mem.size = m->len;
	if (m->key != NULL) {
		vu[n].vtype = RD_KAFKA_VTYPE_KEY;
		vu[n].u.mem.ptr = (void *)(uintptr_t)m->key;
		vu[n++].u.mem.size = m->keylen;
	}
	vu[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
	vu[n++].u.ptr = (void *)(uintptr_t)k->head;
	vu[n].vtype = RD_KAFKA_VTYPE_HEADER;
	vu[n].u.header.name = KAFKA_HEADER_TENANT;
	vu[n].u.header.val = tenant;
	vu[n++].u.header.size = (ssize_t)strlen(tenant);
	if (m->version.sec > 0) {
		version = version_text(k, &m->version);
		vu[n].vtype = RD_KAFKA_VTYPE_HEADER;
		vu[n].u.header.name = KAFKA_HEADER_VERSION;
		vu[n].u.header.val = version;
		vu[n++].u.header.size = (ssize_t)strlen(version);
	}
	return n;
}

/* What a refused produce call means for the caller. */
static int
produce_failed(struct sink_kafka *k, rd_kafka_error_t *e,
    const struct sink_msg *m, char *why, size_t whylen)
{
	rd_kafka_resp_err_t err = rd_kafka_error_code(e);
	char text[WHY_MAX];
	int rc = ERR_SINK;

	if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
		rc = ERR_AGAIN;
	} else if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
		snprintf(why, whylen,
		    "a message of %zu bytes (with key and headers) is more "
		    "than [kafka] message.max.bytes allows",
		    m->len + m->keylen);
		rc = ERR_BADREC;
	} else if (err == RD_KAFKA_RESP_ERR__FATAL) {
		snprintf(text, sizeof(text), "the producer stopped: %s",
		    rd_kafka_error_string(e));
		fail(k, text);
		snprintf(why, whylen, "%s", k->why);
	} else {
		snprintf(text, sizeof(text), "%s (%s)",
		    rd_kafka_error_string(e), rd_kafka_err2name(err));
		fail(k, text);
		snprintf(why, whylen, "%s", k->why);
	}
	rd_kafka_error_destroy(e);
	return rc;
}

int
sink_kafka_send(
    struct sink_kafka *k, const struct sink_msg *m, char *why, size_t whylen)
{
	rd_kafka_vu_t vu[8];
	rd_kafka_topic_t *rkt;
	rd_kafka_error_t *e;
	struct slot *sl;
	size_t n;

	if (k->rk == NULL || k->broken) {
		snprintf(why, whylen, "%s",
		    k->why[0] != '\0' ? k->why : "the producer is not started");
		return ERR_SINK;
	}
	if (k->head - k->tail >= k->max_in_flight)
		return ERR_AGAIN;
	if ((rkt = topic_for(k, m->tenant, why, whylen)) == NULL)
		return ERR_SINK;
	n = produce_args(k, rkt, m, vu);
	if ((e = rd_kafka_produceva(k->rk, vu, n)) != NULL)
		return produce_failed(k, e, m, why, whylen);
	sl = &k->ring[k->head & k->mask];
	sl->mark = m->mark;
	sl->state = SLOT_PENDING;
	k->head++;
	return 0;
}

/* Retire done slots from the oldest; the acknowledged mark follows. */
static void
advance(struct sink_kafka *k)
{
	struct slot *sl;

	while (k->tail < k->head) {
		sl = &k->ring[k->tail & k->mask];
		if (sl->state != SLOT_DONE)
			break;
		k->acked_mark = sl->mark;
		k->tail++;
	}
}

static int
finish_poll(struct sink_kafka *k, uint64_t *acked)
{
	advance(k);
	*acked = k->acked_mark;
	return k->broken ? ERR_SINK : 0;
}

int
sink_kafka_poll(struct sink_kafka *k, long wait_ms, uint64_t *acked)
{
	if (k->rk == NULL) {
		*acked = k->acked_mark;
		if (k->why[0] == '\0')
			snprintf(k->why, sizeof(k->why),
			    "the producer is not started");
		return ERR_SINK;
	}
	rd_kafka_poll(k->rk, wait_ms > 0 ? (int)wait_ms : 0);
	return finish_poll(k, acked);
}

int
sink_kafka_drain(struct sink_kafka *k, long ms, uint64_t *acked)
{
	if (k->rk == NULL)
		return sink_kafka_poll(k, 0, acked);
	/* rd_kafka_flush() serves the delivery reports as it waits. */
	if (k->head != k->tail)
		rd_kafka_flush(k->rk, (int)ms);
	rd_kafka_poll(k->rk, 0);
	if (finish_poll(k, acked) != 0)
		return ERR_SINK;
	return k->head == k->tail ? 0 : ERR_AGAIN;
}

const char *
sink_kafka_why(const struct sink_kafka *k)
{
	return k->why;
}

int
sink_kafka_is_down(const struct sink_kafka *k)
{
	return (k->down && k->head != k->tail) || k->broken;
}

const char *
sink_kafka_down_why(const struct sink_kafka *k)
{
	return k->broken ? k->why : k->logged;
}

void
sink_kafka_stats(const struct sink_kafka *k, struct sink_kafka_stats *st)
{
	*st = k->st;
	st->in_flight = k->head - k->tail;
}

uint64_t
sink_kafka_max_value(const struct sink_kafka *k)
{
	return kafka_conf_max_value(&k->kafka);
}

/* --- sink.c's operations (struct sink, src/sink_impl.h) --- */

#define STEP_MS 250 /* waits notice a stop and ping at least this often */

int
sink_kafka_attach(struct sink *s, const struct config *c)
{
	struct sink_kafka_opts o = {c->brokers, c->topic, c->kafka};

	if ((s->kafka = sink_kafka_new(&o)) == NULL)
		return ERR_NOMEM;
	snprintf(s->where, sizeof(s->where), "kafka %.120s/%.120s",
	    c->brokers != NULL ? c->brokers : "",
	    c->topic != NULL ? c->topic : "");
	return 0;
}

void
sink_kafka_detach(struct sink *s)
{
	sink_kafka_free(s->kafka);
	s->kafka = NULL;
}

int
sink_kafka_counters(const struct sink *s, struct sink_kafka_stats *st)
{
	if (s->kafka == NULL)
		return -1;
	sink_kafka_stats(s->kafka, st);
	return 0;
}

static int
ops_open(struct sink *s, char *why, size_t whylen)
{
	return sink_kafka_open(s->kafka, why, whylen);
}

static int
ops_send(struct sink *s, const struct sink_msg *m, char *why, size_t whylen)
{
	return sink_kafka_send(s->kafka, m, why, whylen);
}

/* How long the next wait of at most left ms may be: 0 ends it. */
static long
step_ms(const struct sink *s, int64_t end)
{
	int64_t now = nap_now_ms(), left = end - now;

	if (s->deadline > 0 && s->deadline - now < left)
		left = s->deadline - now;
	if ((s->stop != NULL && *s->stop) || left <= 0)
		return 0;
	return left < STEP_MS ? (long)left : STEP_MS;
}

static int
ops_poll(struct sink *s, long wait_ms, uint64_t *acked)
{
	int64_t end = nap_now_ms() + (wait_ms > 0 ? wait_ms : 0);
	uint64_t before = s->acked;
	long ms = step_ms(s, end);
	int rc;

	for (;;) {
		if ((rc = sink_kafka_poll(s->kafka, ms, acked)) != 0) {
			snprintf(s->why, sizeof(s->why), "%s",
			    sink_kafka_why(s->kafka));
			return rc;
		}
		if (*acked != before || (ms = step_ms(s, end)) == 0)
			return 0;
		sink_tick(s);
	}
}

static int
ops_drain(struct sink *s, long ms, uint64_t *acked)
{
	int64_t end = nap_now_ms() + (ms > 0 ? ms : 0);
	int rc;

	for (;;) {
		rc = sink_kafka_drain(s->kafka, step_ms(s, end), acked);
		if (rc == ERR_SINK)
			snprintf(s->why, sizeof(s->why), "%s",
			    sink_kafka_why(s->kafka));
		if (rc != ERR_AGAIN || step_ms(s, end) == 0)
			return rc;
		sink_tick(s);
	}
}

static void
ops_close(struct sink *s)
{
	sink_kafka_close(s->kafka);
}

const struct sink_ops sink_kafka_ops = {
    .name = "kafka",
    .framing = FRAMING_LF,
    .per_message = 1,
    .up_on_ack = 1,
    .open = ops_open,
    .send = ops_send,
    .poll = ops_poll,
    .drain = ops_drain,
    .close = ops_close,
};

/* --- --test-connection --- */

struct probe_state {
	char error[WHY_MAX]; /* the last error librdkafka reported */
	char fatal[WHY_MAX];
};

static void
probe_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct probe_state *ps = opaque;

	if (err == RD_KAFKA_RESP_ERR__FATAL) {
		rd_kafka_fatal_error(rk, ps->fatal, sizeof(ps->fatal));
		return;
	}
	/* "all brokers down" says less than the reason before it. */
	if (err != RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || ps->error[0] == '\0')
		snprintf(ps->error, sizeof(ps->error), "%s", reason);
}

static rd_kafka_t *
probe_producer(const struct sink_kafka_opts *o, struct probe_state *ps,
    char *why, size_t whylen)
{
	rd_kafka_conf_t *conf;
	char err[WHY_MAX];
	rd_kafka_t *rk;

	if ((conf = kafka_conf_build(o->kafka, o->brokers, why, whylen)) ==
	    NULL)
		return NULL;
	rd_kafka_conf_set(conf, "allow.auto.create.topics", "false", NULL, 0);
	rd_kafka_conf_set_error_cb(conf, probe_error);
	rd_kafka_conf_set_log_cb(conf, on_log);
	rd_kafka_conf_set_opaque(conf, ps);
	if ((rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err))) ==
	    NULL) {
		rd_kafka_conf_destroy(conf);
		snprintf(
		    why, whylen, "cannot start the Kafka producer: %s", err);
	}
	return rk;
}

static void
probe_topic(const rd_kafka_metadata_topic_t *t, struct sink_kafka_probe *pr)
{
	int i, leaderless = 0;

	if (t->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(pr->topic, sizeof(pr->topic), "topic %s: %s (%s)",
		    t->topic, rd_kafka_err2str(t->err),
		    rd_kafka_err2name(t->err));
		return;
	}
	for (i = 0; i < t->partition_cnt; i++)
		leaderless += t->partitions[i].leader < 0;
	if (t->partition_cnt == 0 || leaderless > 0) {
		snprintf(pr->topic, sizeof(pr->topic),
		    "topic %s: %d of %d partitions have no leader", t->topic,
		    t->partition_cnt == 0 ? 0 : leaderless, t->partition_cnt);
		return;
	}
	pr->topic_ok = 1;
	snprintf(pr->topic, sizeof(pr->topic),
	    "topic %s exists: %d partition%s, each with a leader", t->topic,
	    t->partition_cnt, t->partition_cnt == 1 ? "" : "s");
}

int
sink_kafka_probe(const struct sink_kafka_opts *o, const char *tenant,
    long timeout_ms, struct sink_kafka_probe *pr)
{
	const struct rd_kafka_metadata *md = NULL;
	struct probe_state ps;
	char topic[KAFKA_TOPIC_MAX + 1];
	rd_kafka_topic_t *rkt = NULL;
	rd_kafka_resp_err_t err;
	rd_kafka_t *rk;

	memset(pr, 0, sizeof(*pr));
	memset(&ps, 0, sizeof(ps));
	pr->write_ok = -1;
	snprintf(pr->topic, sizeof(pr->topic), "needs the metadata");
	snprintf(pr->write, sizeof(pr->write), "needs the metadata");
	kafka_topic_expand(o->topic, tenant, topic, sizeof(topic));
	if ((rk = probe_producer(o, &ps, pr->metadata, sizeof(pr->metadata))) ==
	    NULL)
		return -1;
	if ((rkt = rd_kafka_topic_new(rk, topic, NULL)) == NULL) {
		snprintf(pr->metadata, sizeof(pr->metadata), "topic %s: %s",
		    topic, rd_kafka_err2str(rd_kafka_last_error()));
		goto out;
	}
	err = rd_kafka_metadata(rk, 0, rkt, &md, (int)timeout_ms);
	rd_kafka_poll(rk, 0); /* serve the error callbacks */
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR || md == NULL) {
		snprintf(pr->metadata, sizeof(pr->metadata),
		    "no metadata from %s: %s%s%s", o->brokers,
		    rd_kafka_err2str(err), ps.error[0] ? ": " : "", ps.error);
		goto out;
	}
	pr->metadata_ok = 1;
	snprintf(pr->metadata, sizeof(pr->metadata),
	    "%s answered: %d broker%s in the cluster", o->brokers,
	    md->broker_cnt, md->broker_cnt == 1 ? "" : "s");
	if (md->topic_cnt == 1)
		probe_topic(&md->topics[0], pr);
	else
		snprintf(pr->topic, sizeof(pr->topic),
		    "topic %s: not in the brokers' answer", topic);
	if (ps.fatal[0] != '\0') {
		pr->write_ok = 0;
		snprintf(pr->write, sizeof(pr->write),
		    "the producer was refused: %s", ps.fatal);
	} else {
		snprintf(pr->write, sizeof(pr->write),
		    "Kafka cannot test it without writing a record; the first "
		    "delivery shows it (a refusal is logged as \"Topic "
		    "authorization failed\" and shown by --status)");
	}
out:
	if (md != NULL)
		rd_kafka_metadata_destroy(md);
	if (rkt != NULL)
		rd_kafka_topic_destroy(rkt);
	rd_kafka_destroy(rk);
	return pr->metadata_ok && pr->topic_ok && pr->write_ok != 0 ? 0 : -1;
}
