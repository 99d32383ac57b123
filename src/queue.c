/* SPDX-License-Identifier: MIT */
/*
 * The output queue (include/queue.h): spool -> framing -> sink, with the
 * acknowledged read position.
 *
 * The messages in flight sit in a bounded ring, oldest first, each with
 * its mark, the spool position after it and its spool bytes.  The sink
 * reports the highest mark up to which everything is acknowledged; those
 * messages leave the ring and the acknowledged position moves to the last
 * one's end.  That position is what is persisted (spool_save()), every
 * QUEUE_SAVE_EVERY messages, when the queue runs dry, before going back
 * after a broken connection, and at the clean stop.  A message the
 * transport can never deliver (ERR_BADREC) takes its place in the ring as
 * dropped, so that the position passes it in order.
 *
 * One message read from the spool may wait for room ("pending"): it stays
 * framed in q->framed and is handed over again, unchanged.
 *
 * Whose the messages are: DATA entries do not say, the COMMIT after them
 * does (its owner begins with the tenant id).  The reader counts the
 * messages it read since the last COMMIT it passed (the open run); when
 * it passes the next COMMIT, those of the run already acknowledged go to
 * that tenant's delivered count at once, and the rest become one range
 * (tenant, messages left) in a FIFO that acknowledgements consume in
 * order.  Every range holds a message in flight, so the FIFO needs no
 * more slots than the ring; the tenants are a table of their own, one
 * entry per tenant id seen, never one per record.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "config.h"
#include "errcode.h"
#include "frame.h"
#include "log.h"
#include "nap.h"
#include "queue.h"
#include "sink.h"
#include "sink_kafka.h"
#include "spool.h"

#define SAVE_IDLE_MS 200 /* a dry queue saves at most this often */

struct qent {
	uint64_t mark;
	struct spool_pos end; /* spool position after the message */
	uint32_t bytes; /* spool bytes */
	int dropped; /* ERR_BADREC: never delivered */
};

/* Messages read before one COMMIT, not all acknowledged yet. */
struct qrange {
	uint32_t owner; /* index in q->owners, or NO_OWNER */
	uint32_t left; /* not acknowledged yet */
};

/* A tenant whose COMMITs the reader passed, and its delivered count. */
struct qowner {
	char *id; /* tenant id, lower case, NUL-terminated */
	uint64_t delivered;
};

#define NO_OWNER UINT32_MAX
#define OWNERS_MAX 65536 /* tenants counted apart per queue, at most */

struct queue {
	struct spool *spool;
	/*
	 * Tenants append to the spool from their own threads: every use of
	 * it, theirs (queue_lock()) and the queue's (the s_* calls below),
	 * holds spool_mu.
	 */
	pthread_mutex_t spool_mu;
	struct sink *sink;
	struct frame_opts fopts;
	const volatile sig_atomic_t *stop;
	void (*tick)(void *);
	void *tick_arg;
	void (*waiter)(void *arg, long ms); /* NULL: nap_ms() */
	void *waiter_arg;
	long tick_ms;
	int finishing; /* queue_finish(): stop requests do not end waits */

	/* the message read from the spool and not handed over yet */
	struct buf framed;
	int has_pending;
	int p_sev;
	struct spool_pos p_end;
	uint32_t p_bytes;
	struct buf p_key, p_tenant; /* a KEYED entry's key and tenant */
	struct ts p_version;

	/* in flight */
	size_t inflight_max; /* ring slots */
	uint64_t inflight_bytes_max;
	struct qent *ring;
	size_t head, count;
	uint64_t inflight_bytes;
	uint64_t next_mark;

	/* the acknowledged position */
	struct spool_pos acked_pos;
	unsigned long unsaved; /* messages passed since the last save */
	int64_t last_save;
	int read_error; /* logged */
	int resend_said; /* "sent again" logged since the last delivery */
	uint64_t damage_seen; /* spool damage findings logged */

	uint64_t sent, delivered, dropped, resent;
	time_t last_ok;

	/* whose: the open run, the ranges, the tenants (owner_mu) */
	uint32_t run_read; /* messages read since the last COMMIT passed */
	uint32_t run_passed; /* of those: acknowledged or dropped */
	uint32_t run_credit; /* of those: acknowledged */
	struct qrange *ranges; /* FIFO, inflight_max + 1 slots */
	size_t r_head, r_count;
	pthread_mutex_t owner_mu; /* owners, their counts */
	struct qowner *owners;
	size_t nowners, owners_cap;
	uint32_t *oslot; /* hash: owner index + 1, or 0; oslot_cap slots */
	size_t oslot_cap;
};

static struct spool_pos
s_tell(struct queue *q)
{
	struct spool_pos p;

	pthread_mutex_lock(&q->spool_mu);
	p = spool_tell(q->spool);
	pthread_mutex_unlock(&q->spool_mu);
	return p;
}

static int
s_save(struct queue *q, struct spool_pos pos)
{
	int rc;

	pthread_mutex_lock(&q->spool_mu);
	rc = spool_save(q->spool, pos);
	pthread_mutex_unlock(&q->spool_mu);
	return rc;
}

static int
s_rewind(struct queue *q)
{
	int rc;

	pthread_mutex_lock(&q->spool_mu);
	rc = spool_rewind(q->spool);
	pthread_mutex_unlock(&q->spool_mu);
	return rc;
}

static uint64_t
s_pending(struct queue *q)
{
	uint64_t n;

	pthread_mutex_lock(&q->spool_mu);
	n = spool_pending(q->spool);
	pthread_mutex_unlock(&q->spool_mu);
	return n;
}

static int
s_compact(struct queue *q)
{
	int rc;

	pthread_mutex_lock(&q->spool_mu);
	rc = spool_compact(q->spool);
	pthread_mutex_unlock(&q->spool_mu);
	return rc;
}

void
queue_set_waiter(struct queue *q, void (*fn)(void *arg, long ms), void *arg)
{
	q->waiter = fn;
	q->waiter_arg = arg;
}

void
queue_lock(struct queue *q)
{
	pthread_mutex_lock(&q->spool_mu);
}

void
queue_unlock(struct queue *q)
{
	pthread_mutex_unlock(&q->spool_mu);
}

static void commit_passed(void *arg, const void *payload, size_t len);

static void
tick(struct queue *q)
{
	if (q->tick != NULL)
		q->tick(q->tick_arg);
}

struct queue *
queue_new(const struct config *c, const char *dir,
    const volatile sig_atomic_t *stop, struct spool_recovery *rec, char *err,
    size_t errlen)
{
	int kafka = c->transport == TRANSPORT_KAFKA;
	size_t slots = kafka ? QUEUE_KAFKA_INFLIGHT_MAX : QUEUE_INFLIGHT_MAX;
	struct queue *q;

	if ((q = calloc(1, sizeof(*q))) == NULL ||
	    (q->ring = calloc(slots, sizeof(*q->ring))) == NULL ||
	    (q->ranges = calloc(slots + 1, sizeof(*q->ranges))) == NULL ||
	    (q->oslot = calloc(16, sizeof(*q->oslot))) == NULL ||
	    (q->owners = calloc(8, sizeof(*q->owners))) == NULL) {
		if (q != NULL) {
			free(q->ring);
			free(q->ranges);
			free(q->oslot);
		}
		free(q);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	q->inflight_max = slots;
	q->oslot_cap = 16;
	q->owners_cap = 8;
	pthread_mutex_init(&q->owner_mu, NULL);
	q->inflight_bytes_max =
	    kafka ? QUEUE_KAFKA_INFLIGHT_BYTES : QUEUE_INFLIGHT_BYTES;
	pthread_mutex_init(&q->spool_mu, NULL);
	buf_init(&q->framed, 0);
	buf_init(&q->p_key, 0);
	buf_init(&q->p_tenant, 0);
	frame_opts_init(&q->fopts, c);
	q->stop = stop;
	q->tick_ms = 1000;
	q->next_mark = 1;
	if ((q->sink = sink_new(c, stop)) == NULL) {
		snprintf(err, errlen,
		    "cannot set up the %s output: out of "
		    "memory or unsupported",
		    config_transport_name(c->transport));
		queue_free(q);
		return NULL;
	}
	if ((q->spool = spool_open(dir, rec, err, errlen)) == NULL) {
		queue_free(q);
		return NULL;
	}
	spool_set_commit_hook(q->spool, commit_passed, q);
	q->acked_pos = s_tell(q);
	/*
	 * Everything was delivered: start with an empty segment, so that a
	 * disk that filled gets its space back before the first fetch (a
	 * --once run ends before the delivery loop would compact).  What
	 * recovery needs of the old one is in rec already.
	 */
	(void)queue_compact(q);
	return q;
}

void
queue_free(struct queue *q)
{
	if (q == NULL)
		return;
	sink_free(q->sink);
	spool_close(q->spool);
	buf_reset(&q->framed);
	buf_reset(&q->p_key);
	buf_reset(&q->p_tenant);
	pthread_mutex_destroy(&q->spool_mu);
	pthread_mutex_destroy(&q->owner_mu);
	while (q->nowners > 0)
		free(q->owners[--q->nowners].id);
	free(q->owners);
	free(q->oslot);
	free(q->ranges);
	free(q->ring);
	free(q);
}

struct spool *
queue_spool(struct queue *q)
{
	return q->spool;
}

void
queue_set_tick(struct queue *q, void (*fn)(void *), void *arg, long every_ms)
{
	q->tick = fn;
	q->tick_arg = arg;
	q->tick_ms = every_ms > 0 && every_ms < 1000 ? every_ms : 1000;
	sink_set_tick(q->sink, fn, arg);
}

/* --- whose the messages are --- */

static uint64_t
id_hash(const char *id, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)tolower((unsigned char)id[i])) *
		    1099511628211ULL;
	return h;
}

/* The slot of tenant id (n bytes): its owner index + 1 there, or 0. */
static size_t
owner_slot(const struct queue *q, const char *id, size_t n)
{
	size_t i = (size_t)id_hash(id, n) & (q->oslot_cap - 1);

	for (; q->oslot[i] != 0; i = (i + 1) & (q->oslot_cap - 1)) {
		const char *o = q->owners[q->oslot[i] - 1].id;

		if (strncasecmp(o, id, n) == 0 && o[n] == '\0')
			break;
	}
	return i;
}

/* Double the hash (owner_mu held).  Returns 0 or ERR_NOMEM. */
static int
owners_grow(struct queue *q)
{
	size_t cap = q->oslot_cap * 2, i;
	uint32_t *old = q->oslot;
	struct qowner *o;

	if ((o = realloc(q->owners, cap / 2 * sizeof(*o))) == NULL)
		return ERR_NOMEM;
	q->owners = o;
	q->owners_cap = cap / 2;
	if ((q->oslot = calloc(cap, sizeof(*q->oslot))) == NULL) {
		q->oslot = old;
		return ERR_NOMEM;
	}
	q->oslot_cap = cap;
	for (i = 0; i < q->nowners; i++) {
		const char *id = q->owners[i].id;

		q->oslot[owner_slot(q, id, strlen(id))] = (uint32_t)i + 1;
	}
	free(old);
	return 0;
}

/*
 * The owner index of tenant id (n bytes), added when new; NO_OWNER when
 * memory or OWNERS_MAX runs out.  Once a tenant, not once a record.
 */
static uint32_t
owner_of(struct queue *q, const char *id, size_t n)
{
	size_t i;
	char *copy;

	pthread_mutex_lock(&q->owner_mu);
	if ((q->nowners + 1) * 2 > q->oslot_cap &&
	    (q->nowners >= OWNERS_MAX || owners_grow(q) != 0)) {
		i = SIZE_MAX;
		goto out;
	}
	i = owner_slot(q, id, n);
	if (q->oslot[i] != 0) {
		i = q->oslot[i] - 1;
		goto out;
	}
	if ((copy = malloc(n + 1)) == NULL) {
		i = SIZE_MAX;
		goto out;
	}
	memcpy(copy, id, n);
	copy[n] = '\0';
	q->owners[q->nowners].id = copy;
	q->owners[q->nowners].delivered = 0;
	q->oslot[i] = (uint32_t)++q->nowners;
	i = q->nowners - 1;
out:
	pthread_mutex_unlock(&q->owner_mu);
	return i == SIZE_MAX ? NO_OWNER : (uint32_t)i;
}

static void
credit(struct queue *q, uint32_t owner, uint64_t n)
{
	if (owner == NO_OWNER || n == 0)
		return;
	pthread_mutex_lock(&q->owner_mu);
	q->owners[owner].delivered += n;
	pthread_mutex_unlock(&q->owner_mu);
}

/*
 * The reader passed a COMMIT (spool_set_commit_hook(), spool_mu held):
 * the open run is its owner's.
 */
static void
commit_passed(void *arg, const void *payload, size_t len)
{
	struct queue *q = arg;
	const char *owner, *nl;
	size_t n;
	uint32_t who = NO_OWNER;
	uint32_t left = q->run_read - q->run_passed;

	if (q->run_read == 0)
		return;
	if (spool_commit_owner_of(payload, len, &owner, &n) == 0 &&
	    owner != NULL) {
		/* "tenant id\napi\nurl" (cursor_owner_text()) */
		if ((nl = memchr(owner, '\n', n)) != NULL)
			n = (size_t)(nl - owner);
		who = owner_of(q, owner, n);
	}
	credit(q, who, q->run_credit);
	if (left > 0) {
		if (q->r_count == q->inflight_max + 1) {
			/* Cannot be (a range holds a message in flight). */
			credit(q, who, left);
		} else {
			struct qrange *r = &q->ranges[(q->r_head + q->r_count) %
			    (q->inflight_max + 1)];

			r->owner = who;
			r->left = left;
			q->r_count++;
		}
	}
	q->run_read = q->run_passed = q->run_credit = 0;
}

/* One message in flight left the ring: acknowledged, or dropped. */
static void
passed(struct queue *q, int delivered, uint64_t *batch, uint32_t *whose)
{
	struct qrange *r;

	if (q->r_count == 0) {
		q->run_passed++;
		q->run_credit += delivered != 0;
		return;
	}
	r = &q->ranges[q->r_head];
	if (r->owner != *whose) {
		credit(q, *whose, *batch);
		*batch = 0;
		*whose = r->owner;
	}
	*batch += delivered != 0;
	if (--r->left == 0) {
		q->r_head = (q->r_head + 1) % (q->inflight_max + 1);
		q->r_count--;
	}
}

/* What is read and not acknowledged will be read again. */
static void
whose_rewind(struct queue *q)
{
	q->r_head = q->r_count = 0;
	q->run_read = q->run_passed;
}

uint64_t
queue_tenant_delivered(struct queue *q, const char *tenant_id)
{
	size_t n = strlen(tenant_id), i;
	uint64_t v = 0;

	pthread_mutex_lock(&q->owner_mu);
	i = owner_slot(q, tenant_id, n);
	if (q->oslot[i] != 0)
		v = q->owners[q->oslot[i] - 1].delivered;
	pthread_mutex_unlock(&q->owner_mu);
	return v;
}

/* --- the acknowledged position --- */

static int
save(struct queue *q)
{
	if (q->unsaved == 0)
		return 0;
	if (s_save(q, q->acked_pos) != 0) {
		log_error(
		    "cannot save the spool read position: %s", strerror(errno));
		return ERR_IO;
	}
	q->unsaved = 0;
	q->last_save = nap_now_ms();
	return 0;
}

static int
save_if_due(struct queue *q)
{
	if (q->unsaved >= QUEUE_SAVE_EVERY ||
	    (q->unsaved > 0 && q->count == 0 &&
	        nap_now_ms() - q->last_save >= SAVE_IDLE_MS))
		return save(q);
	return 0;
}

/* Everything up to mark acked is acknowledged: move the position. */
static void
take_acks(struct queue *q, uint64_t acked)
{
	uint64_t batch = 0;
	uint32_t whose = NO_OWNER;

	while (q->count > 0) {
		const struct qent *e = &q->ring[q->head];

		if (!e->dropped && e->mark > acked)
			break;
		q->acked_pos = e->end;
		q->inflight_bytes -= e->bytes;
		if (e->dropped)
			q->dropped++;
		else {
			q->delivered++;
			q->resend_said = 0;
		}
		passed(q, !e->dropped, &batch, &whose);
		q->unsaved++;
		q->head = (q->head + 1) % q->inflight_max;
		q->count--;
	}
	credit(q, whose, batch);
	/*
	 * Nothing read is unacknowledged: the position may pass what the
	 * reader skipped after the last message (COMMIT entries).
	 */
	if (q->count == 0 && !q->has_pending) {
		struct spool_pos pos = s_tell(q);

		if (pos.seg != q->acked_pos.seg ||
		    pos.off != q->acked_pos.off) {
			q->acked_pos = pos;
			q->unsaved++;
		}
	}
}

/*
 * The connection broke (or a message could not be framed): what was not
 * acknowledged is sent again, from the acknowledged position.  Returns
 * ERR_IO, or 0.
 */
static int
rewind_unacked(struct queue *q, int count_resent)
{
	unsigned long again = 0;
	int read_ahead = q->count > 0 || q->has_pending;
	size_t i;

	for (i = 0; i < q->count; i++)
		again += !q->ring[(q->head + i) % q->inflight_max].dropped;
	if (count_resent && again > 0) {
		q->resent += again;
		/* Said once an outage: retries until a delivery are debug. */
		log_msg(q->resend_said ? LOG_LVL_DEBUG : LOG_LVL_INFO,
		    "%lu messages sent but not acknowledged by the collector "
		    "are sent again",
		    again);
		q->resend_said = 1;
	}
	q->head = q->count = 0;
	q->inflight_bytes = 0;
	q->has_pending = 0;
	whose_rewind(q);
	if (save(q) != 0)
		return ERR_IO;
	if (read_ahead && s_rewind(q) != 0) {
		log_error(
		    "spool: cannot read again from the saved position: %s",
		    strerror(errno));
		return ERR_IO;
	}
	return 0;
}

/* Ask the sink what is acknowledged, waiting at most wait_ms. */
static int
poll_acks(struct queue *q, long wait_ms)
{
	uint64_t acked;
	int rc = sink_poll(q->sink, wait_ms, &acked);

	take_acks(q, acked);
	if (rc == ERR_SINK)
		return rewind_unacked(q, 1) != 0 ? ERR_IO : ERR_SINK;
	return save_if_due(q);
}

/* --- handing over --- */

/* Read and frame the next message: 0, 1 (none), or an error. */
/* Say what the reader found damaged, once a finding (spool_mu held). */
static void
report_damage(struct queue *q)
{
	struct spool_damage d;
	const char *note;
	uint64_t k;

	spool_get_damage(q->spool, &d);
	if (d.events == q->damage_seen)
		return;
	/* Each finding since the last report, the newest with the totals. */
	for (k = q->damage_seen + 1; k < d.events; k++)
		if ((note = spool_damage_note(q->spool, k)) != NULL)
			log_warning("spool: %s", note);
	q->damage_seen = d.events;
	log_warning("spool: %s (so far: %llu damaged bytes skipped, %llu "
	            "segments missing, %llu set aside, %llu messages lost); "
	            "delivery goes on with what is intact",
	    d.last, (unsigned long long)d.bytes,
	    (unsigned long long)(d.missing_segments + d.deleted_segments),
	    (unsigned long long)d.foreign_segments,
	    (unsigned long long)d.lost_messages);
}

static int
load(struct queue *q)
{
	struct spool_pos before, after;
	struct spool_msg m;
	int rc;

	/* m points into the spool: copied before the lock is let go. */
	pthread_mutex_lock(&q->spool_mu);
	before = spool_tell(q->spool);
	rc = spool_next_msg(q->spool, &m);
	report_damage(q);
	if ((rc == 0 || rc == ERR_END) && q->read_error) {
		q->read_error = 0;
		log_info("spool: reading again after the read error; "
		         "delivery goes on");
	}
	if (rc != 0) {
		pthread_mutex_unlock(&q->spool_mu);
		if (rc != ERR_END && !q->read_error) {
			q->read_error = 1;
			log_error("spool: cannot read %s; delivery waits and "
			          "tries again",
			    spool_read_error(q->spool));
		}
		return rc;
	}

	after = spool_tell(q->spool);
	q->p_sev = m.sev;
	q->p_version = m.version;
	buf_clear(&q->p_key);
	buf_clear(&q->p_tenant);
	buf_clear(&q->framed);
	rc = 0;
	if (m.keylen > 0)
		rc = buf_add(&q->p_key, m.key, m.keylen);
	if (rc == 0 && m.tenantlen > 0)
		rc = buf_add(&q->p_tenant, m.tenant, m.tenantlen);
	if (rc == 0)
		rc = frame_wrap(&q->framed, &q->fopts, m.data, m.len);
	pthread_mutex_unlock(&q->spool_mu);
	q->p_end = after;
	q->p_bytes = (uint32_t)(after.seg == before.seg ? after.off - before.off
	                                                : after.off);
	if (rc != 0) {
		/* Read again later: the reader is past it. */
		q->has_pending = 1;
		if (rewind_unacked(q, 0) != 0)
			return ERR_IO;
		return rc;
	}
	q->has_pending = 1;
	q->run_read++;
	return 0;
}

static void
push(struct queue *q, int dropped)
{
	struct qent *e = &q->ring[(q->head + q->count) % q->inflight_max];

	e->mark = q->next_mark++;
	e->end = q->p_end;
	e->bytes = q->p_bytes;
	e->dropped = dropped;
	q->count++;
	q->inflight_bytes += q->p_bytes;
	q->has_pending = 0;
	q->sent++;
}

/*
 * Hand messages over until the spool is read (0), the sink or the
 * in-flight bound has no room (ERR_AGAIN), or ERR_SINK / ERR_STOPPED /
 * ERR_IO.
 */
static int
pump(struct queue *q)
{
	struct sink_msg m;
	int rc;

	if (sink_retry_in_ms(q->sink) > 0)
		return ERR_SINK;
	for (;;) {
		if (q->count == q->inflight_max ||
		    q->inflight_bytes >= q->inflight_bytes_max)
			return ERR_AGAIN;
		if (!q->has_pending && (rc = load(q)) != 0)
			return rc == ERR_END ? 0 : rc;
		memset(&m, 0, sizeof(m));
		m.data = q->framed.data;
		m.len = q->framed.len;
		m.sev = q->p_sev;
		m.mark = q->next_mark;
		if (q->p_key.len > 0) {
			m.key = q->p_key.data;
			m.keylen = q->p_key.len;
		}
		if (q->p_tenant.len > 0)
			m.tenant = q->p_tenant.data;
		m.version = q->p_version;
		rc = sink_send(q->sink, &m);
		if (rc == 0 || rc == ERR_BADREC) {
			push(q, rc == ERR_BADREC);
			continue;
		}
		if (rc == ERR_SINK)
			return rewind_unacked(q, 1) != 0 ? ERR_IO : ERR_SINK;
		return rc;
	}
}

/* Nothing read and not acknowledged, nothing left to read. */
static int
all_done(struct queue *q)
{
	return q->count == 0 && !q->has_pending && s_pending(q) == 0;
}

/*
 * Hand over and collect acknowledgements while that makes progress,
 * without waiting.  Returns 0 (everything acknowledged), ERR_AGAIN
 * (waiting for room or acknowledgements), or pump()'s errors.
 */
static int
step(struct queue *q)
{
	for (;;) {
		uint64_t sent = q->sent, passed = q->delivered + q->dropped;
		int rc = pump(q), prc;

		if (rc != 0 && rc != ERR_AGAIN)
			return rc;
		if ((prc = poll_acks(q, 0)) != 0)
			return prc;
		if (rc == 0 && all_done(q)) {
			q->last_ok = time(NULL);
			return save_if_due(q);
		}
		if (q->sent == sent && q->delivered + q->dropped == passed)
			return ERR_AGAIN;
	}
}

/* Wait at most ms for what step() said it waits for. */
static int
wait_for(struct queue *q, int why, long ms, const volatile sig_atomic_t *wake)
{
	long retry;

	if (why == ERR_AGAIN && sink_is_connected(q->sink)) {
		int rc = poll_acks(q, ms);

		return rc == ERR_IO ? rc : 0;
	}
	retry = sink_retry_in_ms(q->sink);
	if (why == ERR_SINK && retry + 1 < ms)
		ms = retry + 1;
	if (q->waiter != NULL) {
		if (wake == NULL || !*wake)
			q->waiter(q->waiter_arg, ms);
		return wake != NULL && *wake ? ERR_STOPPED : 0;
	}
	return nap_ms(ms, wake) == ERR_STOPPED ? ERR_STOPPED : 0;
}

static int
stopped(const struct queue *q)
{
	return !q->finishing && q->stop != NULL && *q->stop;
}

int
queue_drain(struct queue *q, long wait_ms)
{
	int64_t end = nap_now_ms() + (wait_ms > 0 ? wait_ms : 0), left;
	int rc, wrc;

	/* Also while the collector is away: what writing found. */
	pthread_mutex_lock(&q->spool_mu);
	report_damage(q);
	pthread_mutex_unlock(&q->spool_mu);
	for (;;) {
		rc = step(q);
		if (rc == 0 || (rc != ERR_AGAIN && rc != ERR_SINK))
			return rc;
		left = end - nap_now_ms();
		if (wait_ms <= 0 || left <= 0)
			return rc;
		if (stopped(q))
			return ERR_STOPPED;
		wrc =
		    wait_for(q, rc, left < q->tick_ms ? (long)left : q->tick_ms,
		        q->finishing ? NULL : q->stop);
		tick(q);
		if (wrc == ERR_IO)
			return wrc;
	}
}

int
queue_idle(struct queue *q, long ms, const volatile sig_atomic_t *wake)
{
	int64_t end = nap_now_ms() + ms, left;
	int rc = 0;

	for (;;) {
		if (!all_done(q) && sink_retry_in_ms(q->sink) == 0)
			rc = step(q);
		else if (save_if_due(q) != 0)
			rc = ERR_IO;
		if (wake != NULL && *wake)
			return ERR_STOPPED;
		if ((left = end - nap_now_ms()) <= 0)
			return 0;
		if (left > q->tick_ms)
			left = q->tick_ms;
		/* What to wait for: nothing, the backoff, room or acks. */
		if (all_done(q))
			rc = 0;
		else if (sink_retry_in_ms(q->sink) > 0)
			rc = ERR_SINK;
		if (wait_for(q, rc == ERR_AGAIN || rc == ERR_SINK ? rc : 0,
		        (long)left, wake) == ERR_STOPPED)
			return ERR_STOPPED;
		tick(q);
	}
}

int
queue_settle(struct queue *q, long ms)
{
	uint64_t acked;
	int rc;

	sink_set_limits(q->sink, NULL, nap_now_ms() + (ms > 0 ? ms : 0));
	rc = sink_drain(q->sink, ms > 0 ? ms : 0, &acked);
	take_acks(q, acked);
	if (q->count > 0)
		log_warning("%zu messages sent were not acknowledged by the "
		            "collector within [state] shutdown_grace; they are "
		            "sent again at the next start",
		    q->count);
	/* What is not acknowledged is read again (now or at next start). */
	if (rewind_unacked(q, 0) != 0 || save(q) != 0)
		rc = ERR_IO;
	sink_set_limits(q->sink, q->stop, 0);
	return rc;
}

int
queue_finish(struct queue *q, long grace_ms)
{
	int64_t end = nap_now_ms() + (grace_ms > 0 ? grace_ms : 0);
	int rc, src;

	q->finishing = 1;
	sink_set_limits(q->sink, NULL, end);
	rc = queue_drain(q, grace_ms > 0 ? grace_ms : 0);
	q->finishing = 0;
	src = queue_settle(q, (long)(end - nap_now_ms()));
	if (src == ERR_IO || (rc == 0 && src != 0))
		rc = src == ERR_SINK || src == ERR_IO ? src : ERR_AGAIN;
	return rc;
}

int
queue_compact(struct queue *q)
{
	if (!all_done(q))
		return 0;
	if (save(q) != 0 || s_compact(q) != 0) {
		log_error(
		    "spool: cannot start a new segment: %s", strerror(errno));
		return ERR_IO;
	}
	q->acked_pos = s_tell(q);
	return 0;
}

uint64_t
queue_pending_bytes(struct queue *q)
{
	return s_pending(q) + q->inflight_bytes +
	    (q->has_pending ? q->p_bytes : 0);
}

void
queue_get_stats(struct queue *q, struct queue_stats *st)
{
	uint64_t lost = sink_lost(q->sink);
	struct sink_kafka_stats ks;

	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&q->spool_mu);
	spool_get_damage(q->spool, &st->damage);
	pthread_mutex_unlock(&q->spool_mu);
	/* Datagrams the collector refused later are not delivered. */
	st->delivered = q->delivered > lost ? q->delivered - lost : 0;
	st->dropped = q->dropped + lost;
	st->resent = q->resent;
	st->in_flight = q->count;
	st->pending_bytes = queue_pending_bytes(q);
	st->reconnects = sink_reconnects(q->sink);
	st->collector_up = !sink_is_down(q->sink);
	snprintf(st->collector_error, sizeof(st->collector_error), "%s",
	    st->collector_up ? "" : sink_down_why(q->sink));
	st->last_delivery_ok = q->last_ok;
	if (sink_kafka_counters(q->sink, &ks) == 0) {
		st->kafka = 1;
		st->kafka_acked = ks.acked;
		st->kafka_failed = ks.failed;
	}
}
