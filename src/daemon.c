/* SPDX-License-Identifier: MIT */
/*
 * The running daemon (include/daemon.h).
 *
 * Threads:
 * - the main thread: signals (only it receives them), reloads, status and
 *   metrics files, systemd's watchdog and STATUS= line;
 * - the scheduler's workers ([daemon] concurrency of them, sched.h): each
 *   turn is one step of one tenant (cycle_step(): one sign-in or one page
 *   at most), through the worker's own HTTP client, so that connections
 *   to Entra ID and the API hosts are reused across tenants.  No turn
 *   sleeps: a Retry-After, a backoff or the next poll is a due time;
 * - one delivery thread per output queue (queue.h), woken when a tenant
 *   commits a page.
 *
 * Each tenant has its own cursor, dedup set, token, pacing and failure
 * state: a tenant that fails is reported once per change, retried with
 * backoff, and never holds another.  Tenants with the same output share
 * its queue; a full queue pauses only the tenants that feed it.
 */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "cycle.h"
#include "daemon.h"
#include "errcode.h"
#include "http.h"
#include "log.h"
#include "nap.h"
#include "notify.h"
#include "queue.h"
#include "sched.h"
#include "spool.h"
#include "statedir.h"
#include "status.h"

#ifndef MDESIEM_VERSION
#define MDESIEM_VERSION "0.0.0"
#endif

#define BACKOFF_FIRST_MS 15000L /* a failed window: retried after this */
#define BACKOFF_MAX_MS (15L * 60 * 1000) /* doubling up to this */
#define PAUSE_MS 1000 /* a full spool: look again after this */
#define PUBLISH_MS 5000 /* status files at least this often */
#define MAIN_NAP_MS \
	1000 /* the main thread's loop, at most (a signal ends it) */

struct daemon;

/* An output queue and its delivery thread. */
struct outq {
	struct outq *next;
	struct daemon *d;
	char name[STATEDIR_NAME_MAX];
	char label[STATEDIR_LABEL_MAX];
	struct queue *q;
	struct buf last_commit; /* the spool's newest COMMIT at open */
	long grace_ms; /* shutdown_grace of the tenant that opened it */
	int refs; /* tenants feeding it */
	pthread_t thread;
	int started;
	volatile sig_atomic_t wake; /* queue_idle() returns early */
	volatile sig_atomic_t quit; /* then finish (or settle) and exit */
	volatile sig_atomic_t compact; /* the disk filled: compact when empty */
	int settle; /* a reload: settle, not finish */
	pthread_mutex_t wmu; /* the delivery thread's wait: */
	pthread_cond_t wcv; /*   woken by a commit or the quit */
	int finish_rc;
};

struct tenant {
	struct tenant *next;
	struct daemon *d;
	struct sched_item item;
	struct config *cfg; /* in d->set */
	enum config_stream stream; /* one tenant object per stream */
	struct cycle *cy;
	struct outq *out;
	pthread_mutex_t mu; /* held during a turn */
	struct status snap; /* the last status taken */
	int has_snap;
	/* failures */
	int failing;
	long backoff_ms;
	char err[512]; /* the failure logged last */
	/* --once */
	int finished; /* read one window whole, or failed */
	struct ts replay_pos; /* --replay: read up to here */
	int failed;
	char why[512]; /* why it failed, for the verdict */
};

struct daemon {
	struct config_set *set;
	const char *path;
	int once;
	const struct daemon_flags *flags;
	char state_dir[PATH_MAX]; /* a copy: a reload frees the old set */
	struct tenant *tenants;
	size_t ntenants;
	struct outq *outqs;
	struct sched *sched;
	struct http_opts http_opts; /* the workers' clients, before a turn */
	pthread_mutex_t mu; /* tenants' finished flags, the outq list */
	time_t started;
	unsigned long windows; /* windows ended (read or failed), under mu */
	struct status *st; /* publish(): one per tenant */
	size_t st_cap;
};

/* --- threads and signals --- */

/*
 * Only the main thread takes the daemon's signals: every thread is made
 * with them blocked.
 */
static void
block_signals(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, old);
}

static void
restore_signals(const sigset_t *old)
{
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

/* --- output queues --- */

static void
outq_kick(struct outq *o)
{
	pthread_mutex_lock(&o->wmu);
	o->wake = 1;
	pthread_cond_signal(&o->wcv);
	pthread_mutex_unlock(&o->wmu);
}

static void
outq_appended(void *arg)
{
	outq_kick(arg);
}

/* queue_set_waiter(): wait at most ms, or until outq_kick(). */
static void
outq_wait(void *arg, long ms)
{
	struct outq *o = arg;
	struct timespec until;

	nap_deadline(ms, &until);
	pthread_mutex_lock(&o->wmu);
	while (!o->wake && !o->quit &&
	    pthread_cond_timedwait(&o->wcv, &o->wmu, &until) == 0)
		;
	pthread_mutex_unlock(&o->wmu);
}

static void
outq_lock(void *arg)
{
	queue_lock(((struct outq *)arg)->q);
}

static void
outq_unlock(void *arg)
{
	queue_unlock(((struct outq *)arg)->q);
}

static void
outq_sync_init(struct outq *o)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&o->wmu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&o->wcv, &ca);
	pthread_condattr_destroy(&ca);
}

static void
outq_sync_free(struct outq *o)
{
	pthread_cond_destroy(&o->wcv);
	pthread_mutex_destroy(&o->wmu);
}

/* The delivery thread ends: settle or finish first. */
static void
outq_quit(struct outq *o, int settle)
{
	pthread_mutex_lock(&o->wmu);
	o->settle = settle;
	o->quit = 1;
	o->wake = 1;
	pthread_cond_signal(&o->wcv);
	pthread_mutex_unlock(&o->wmu);
}

static void *
deliver_main(void *arg)
{
	struct outq *o = arg;

	log_set_tenant(NULL);
	while (!o->quit) {
		if (o->compact && queue_pending_bytes(o->q) == 0) {
			if (queue_compact(o->q) == 0)
				o->compact = 0;
		}
		queue_idle(o->q, 1000, &o->wake);
		pthread_mutex_lock(&o->wmu);
		o->wake = 0;
		pthread_mutex_unlock(&o->wmu);
	}
	o->finish_rc = o->settle ? queue_settle(o->q, o->grace_ms)
	                         : queue_finish(o->q, o->grace_ms);
	return NULL;
}

static void
log_recovery(const struct outq *o, const struct spool_recovery *rec)
{
	if (rec->truncated_bytes > 0)
		log_warning(
		    "spool of %s: dropped %llu bytes after the last commit "
		    "(a page cut short by a crash or power loss); those "
		    "records are fetched again",
		    o->label, (unsigned long long)rec->truncated_bytes);
	if (rec->corrupt_bytes > 0)
		log_warning("spool of %s: %llu damaged bytes found (%llu older "
		            "segments damaged); the reader skips them to the "
		            "next intact message and delivers the rest",
		    o->label, (unsigned long long)rec->corrupt_bytes,
		    (unsigned long long)rec->damaged_segments);
	if (rec->readpos[0] != '\0')
		log_warning("spool of %s: %s", o->label, rec->readpos);
	if (queue_pending_bytes(o->q) > 0)
		log_info("spool of %s: %llu bytes wait for delivery", o->label,
		    (unsigned long long)queue_pending_bytes(o->q));
}

/* The queue c's output feeds, opened (and its thread started) if need be. */
static struct outq *
outq_get(struct daemon *d, const struct config *c)
{
	char label[STATEDIR_LABEL_MAX], name[STATEDIR_NAME_MAX];
	char dir[PATH_MAX], err[512];
	struct spool_recovery rec;
	struct outq *o;
	sigset_t old;

	statedir_queue_name(c, label, name);
	for (o = d->outqs; o != NULL; o = o->next)
		if (strcmp(o->name, name) == 0) {
			o->refs++;
			return o;
		}
	if (statedir_queue(d->state_dir, c, dir, sizeof(dir)) != 0) {
		log_error("cannot create the queue directory of %s under %s: "
		          "%s",
		    label, d->state_dir, strerror(errno));
		return NULL;
	}
	if ((o = calloc(1, sizeof(*o))) == NULL)
		return NULL;
	o->d = d;
	snprintf(o->name, sizeof(o->name), "%s", name);
	snprintf(o->label, sizeof(o->label), "%s", label);
	o->grace_ms = (long)c->shutdown_grace * 1000;
	buf_init(&o->last_commit, 0);
	outq_sync_init(o);
	memset(&rec, 0, sizeof(rec));
	rec.last_commit = &o->last_commit;
	o->q = queue_new(c, dir, d->flags->stop, &rec, err, sizeof(err));
	if (o->q == NULL) {
		log_error("%s", err);
		buf_reset(&o->last_commit);
		outq_sync_free(o);
		free(o);
		return NULL;
	}
	queue_set_waiter(o->q, outq_wait, o);
	log_recovery(o, &rec);
	block_signals(&old);
	if (pthread_create(&o->thread, NULL, deliver_main, o) != 0) {
		restore_signals(&old);
		log_error("cannot start the delivery thread of %s", label);
		queue_free(o->q);
		buf_reset(&o->last_commit);
		outq_sync_free(o);
		free(o);
		return NULL;
	}
	restore_signals(&old);
	o->started = 1;
	o->refs = 1;
	o->next = d->outqs;
	d->outqs = o;
	return o;
}

/* Stop o's thread (it finishes or settles first) and free it. */
static int
outq_close(struct outq *o, int settle)
{
	int rc;

	outq_quit(o, settle);
	if (o->started)
		pthread_join(o->thread, NULL);
	rc = o->finish_rc;
	queue_free(o->q);
	outq_sync_free(o);
	buf_reset(&o->last_commit);
	free(o);
	return rc;
}

/* A tenant lets go of its queue; the last one closes it (settled). */
static void
outq_put(struct daemon *d, struct outq *o)
{
	struct outq **pp;

	if (--o->refs > 0)
		return;
	for (pp = &d->outqs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == o) {
			*pp = o->next;
			break;
		}
	outq_close(o, 1);
}

/* --- tenants --- */

static const char *
tenant_name(const struct tenant *t)
{
	return t->cfg->tenant_name;
}

static struct tenant *
stream_start(struct daemon *d, struct config *c, enum config_stream stream,
    int64_t due_ms)
{
	char dir[PATH_MAX];
	struct cycle_feed feed;
	struct tenant *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->d = d;
	t->cfg = c;
	t->stream = stream;
	pthread_mutex_init(&t->mu, NULL);
	log_set_tenant(d->set->multi ? c->tenant_name : NULL);
	if (statedir_tenant(d->state_dir, c->tenant_name, dir, sizeof(dir)) !=
	    0) {
		log_error("cannot create the state directory of the tenant "
		          "under %s: %s",
		    d->state_dir, strerror(errno));
		goto fail;
	}
	if ((t->out = outq_get(d, c)) == NULL)
		goto fail;
	memset(&feed, 0, sizeof(feed));
	feed.queue = t->out->q;
	feed.lock = outq_lock;
	feed.unlock = outq_unlock;
	feed.appended = outq_appended;
	feed.arg = t->out;
	t->cy = cycle_new_stream(
	    c, stream, dir, &feed, &t->out->last_commit, d->flags->stop);
	if (t->cy == NULL) {
		outq_put(d, t->out);
		goto fail;
	}
	log_set_tenant(NULL);
	t->item.obj = t;
	t->next = d->tenants;
	d->tenants = t;
	d->ntenants++;
	sched_add(d->sched, &t->item, due_ms);
	return t;
fail:
	log_set_tenant(NULL);
	pthread_mutex_destroy(&t->mu);
	free(t);
	return NULL;
}

/*
 * A tenant: one object per stream of [source] streams, each with its own
 * cycle (cursor, dedup set) and turns; they share the tenant's output
 * queue.  The first stream's object, or NULL when one cannot start (the
 * ones started go on).
 */
static struct tenant *
tenant_start(struct daemon *d, struct config *c, int64_t due_ms)
{
	struct tenant *first = NULL, *t;
	int s;

	for (s = 0; s < STREAM__COUNT; s++) {
		if (!(c->streams & CONFIG_STREAM_BIT(s)))
			continue;
		if ((t = stream_start(d, c, (enum config_stream)s, due_ms)) ==
		    NULL)
			return NULL;
		if (first == NULL)
			first = t;
	}
	return first;
}

/* Take t out (its request in progress ends first) and free it. */
static void
tenant_stop(struct daemon *d, struct tenant *t)
{
	struct tenant **pp;

	sched_remove(d->sched, &t->item);
	for (pp = &d->tenants; *pp != NULL; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	d->ntenants--;
	cycle_free(t->cy);
	outq_put(d, t->out);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

static struct tenant *
tenant_find(struct daemon *d, const char *name)
{
	struct tenant *t;

	for (t = d->tenants; t != NULL; t = t->next)
		if (strcmp(tenant_name(t), name) == 0)
			return t;
	return NULL;
}

/* A failure: logged once per change of what went wrong. */
static void
note_failure(struct tenant *t)
{
	const char *e = cycle_error(t->cy);
	int logged = 0;

	if (*e == '\0')
		e = "fetching failed";
	t->backoff_ms = t->failing ? t->backoff_ms * 2 : BACKOFF_FIRST_MS;
	if (t->backoff_ms > BACKOFF_MAX_MS)
		t->backoff_ms = BACKOFF_MAX_MS;
	(void)cycle_retry_at(t->cy, &logged);
	if (!logged && (!t->failing || strcmp(t->err, e) != 0)) {
		if (t->d->once)
			log_error("%s", e);
		else
			log_error("%s; retrying with a backoff of up to %ld "
			          "s, other tenants go on",
			    e, BACKOFF_MAX_MS / 1000);
	}
	if (strcmp(t->err, e) != 0)
		snprintf(t->err, sizeof(t->err), "%s", e);
	t->failing = 1;
}

static void
note_success(struct tenant *t)
{
	if (t->failing)
		log_info("fetching works again");
	t->failing = 0;
	t->err[0] = '\0';
	t->backoff_ms = 0;
}

/* A window ended: the status files are due again. */
static void
window_ended(struct daemon *d)
{
	pthread_mutex_lock(&d->mu);
	d->windows++;
	pthread_mutex_unlock(&d->mu);
}

static unsigned long
windows_ended(struct daemon *d)
{
	unsigned long n;

	pthread_mutex_lock(&d->mu);
	n = d->windows;
	pthread_mutex_unlock(&d->mu);
	return n;
}

static void
finish(struct tenant *t, int failed, const char *why)
{
	pthread_mutex_lock(&t->d->mu);
	t->finished = 1;
	t->failed = failed;
	if (why != NULL)
		snprintf(t->why, sizeof(t->why), "%s", why);
	pthread_mutex_unlock(&t->d->mu);
}

/* A scheduler turn: one step of tenant obj. */
static void
turn(void *obj, struct sched_worker *w, int64_t now_ms, int64_t *due_ms)
{
	struct tenant *t = obj;
	struct daemon *d = t->d;
	struct http *h = sched_worker_ctx(w);
	enum cycle_step r;
	int64_t at = 0;
	int replay_left = 0;

	if (*d->flags->stop || t->finished) {
		*due_ms = INT64_MAX;
		return;
	}
	log_set_tenant(d->set->multi ? tenant_name(t) : NULL);
	pthread_mutex_lock(&t->mu);
	/* A request, with its retries' waits outside the turn. */
	sched_worker_deadline(
	    w, now_ms + ((int64_t)t->cfg->timeout + 30) * 1000);
	r = cycle_step(t->cy, h, &at);
	sched_worker_deadline(w, 0);
	if (t->cfg->replay) {
		struct ts pos;

		replay_left = cycle_replay_left(t->cy, &pos);
		pthread_mutex_lock(&d->mu);
		t->replay_pos = pos;
		pthread_mutex_unlock(&d->mu);
	}
	pthread_mutex_unlock(&t->mu);
	now_ms = nap_now_ms();
	switch (r) {
	case CYCLE_MORE:
		note_success(t);
		*due_ms = now_ms;
		break;
	case CYCLE_WAIT:
		*due_ms = at > now_ms ? at : now_ms;
		break;
	case CYCLE_DONE:
		note_success(t);
		window_ended(d);
		if (d->once && replay_left) {
			*due_ms = now_ms; /* the replay's next window */
		} else if (d->once) {
			finish(t, 0, NULL);
			*due_ms = INT64_MAX;
		} else {
			*due_ms =
			    now_ms + (int64_t)t->cfg->poll_interval * 1000;
		}
		break;
	case CYCLE_PAUSED:
		/* The disk filled: the queue compacts once it is delivered. */
		if (cycle_disk_full(t->cy))
			t->out->compact = 1;
		if (d->once) {
			/* Not waited for: a --once run says so and ends. */
			const char *why = cycle_paused(t->cy);

			if (why == NULL)
				why = "the spool is full";
			log_error(
			    "--once stopped fetching early: %s; what was "
			    "fetched is delivered or kept, the rest waits "
			    "at Defender for the next run",
			    why);
			finish(t, 1,
			    "stopped fetching early, the spool or the "
			    "disk is full");
			*due_ms = INT64_MAX;
			break;
		}
		*due_ms = now_ms + PAUSE_MS;
		break;
	case CYCLE_FAILED:
	default:
		note_failure(t);
		window_ended(d);
		if (d->once) {
			finish(t, 1, t->err);
			*due_ms = INT64_MAX;
		} else {
			int logged;
			int64_t again = cycle_retry_at(t->cy, &logged);

			*due_ms = again > 0 ? again : now_ms + t->backoff_ms;
		}
		break;
	}
	log_set_tenant(NULL);
}

static void *
worker_new(void *arg)
{
	return http_new(arg);
}

static void
worker_free(void *ctx)
{
	http_free(ctx);
}

/* --- status --- */

static void
sum_status(struct status *tot, const struct status *st)
{
	status_add_counters(tot, st);
	tot->spooled += st->spooled;
	if (st->damage_last[0] != '\0')
		snprintf(tot->damage_last, sizeof(tot->damage_last), "%s",
		    st->damage_last);
	if (st->failing) {
		tot->fetch_ok = 0;
		if (tot->last_error[0] == '\0' ||
		    st->last_error_at > tot->last_error_at) {
			snprintf(tot->last_error, sizeof(tot->last_error), "%s",
			    st->last_error);
			tot->last_error_at = st->last_error_at;
		}
	}
	if (st->last_fetch_ok < tot->last_fetch_ok || tot->last_fetch_ok == 0)
		tot->last_fetch_ok = st->last_fetch_ok;
	if (st->lag_secs > tot->lag_secs)
		tot->lag_secs = st->lag_secs;
	if (st->spool_full)
		tot->spool_full = 1;
	if (st->retired && !tot->retired) {
		tot->retired = 1;
		tot->retired_since = st->retired_since;
	}
	if (st->deprecation[0] != '\0' && tot->deprecation[0] == '\0')
		snprintf(tot->deprecation, sizeof(tot->deprecation), "%s",
		    st->deprecation);
	if (st->clock_known) {
		if (!tot->clock_known || st->clock_off) {
			tot->clock_skew = st->clock_skew;
			tot->clock_tolerance = st->clock_tolerance;
		}
		tot->clock_known = 1;
		tot->clock_off |= st->clock_off;
	}
}

/* The queue's counters, once per queue. */
static void
sum_queue(struct status *tot, const struct outq *o, int first)
{
	struct queue_stats qs;

	queue_get_stats(o->q, &qs);
	/* The tenants' statuses have none of these (cycle_status()). */
	tot->delivered += qs.delivered;
	tot->dropped += qs.dropped;
	tot->resent += qs.resent;
	tot->in_flight += qs.in_flight;
	tot->reconnects += qs.reconnects;
	tot->pending_bytes += qs.pending_bytes;
	tot->damaged_bytes += qs.damage.bytes;
	tot->lost_messages += qs.damage.lost_messages;
	tot->state_damage += qs.damage.events;
	if (qs.damage.last[0] != '\0')
		snprintf(tot->damage_last, sizeof(tot->damage_last), "%s",
		    qs.damage.last);
	tot->collector_up =
	    first ? qs.collector_up : tot->collector_up && qs.collector_up;
	if (!qs.collector_up && tot->collector_error[0] == '\0')
		snprintf(tot->collector_error, sizeof(tot->collector_error),
		    "%s", qs.collector_error);
	if (qs.last_delivery_ok > tot->last_delivery_ok)
		tot->last_delivery_ok = qs.last_delivery_ok;
	if (qs.kafka) {
		tot->kafka = 1;
		tot->kafka_in_flight += qs.in_flight;
		tot->kafka_acked += qs.kafka_acked;
		tot->kafka_retried += qs.resent;
		tot->kafka_failed += qs.kafka_failed + qs.dropped;
	}
}

/*
 * Every tenant's status and the totals.  A tenant in a turn is not
 * waited for: its last status stands.
 */
static size_t
collect(struct daemon *d, struct status *tot, int running)
{
	struct tenant *t;
	struct outq *o;
	size_t n = 0;

	if (d->st_cap < d->ntenants) {
		struct status *p = realloc(d->st, d->ntenants * sizeof(*p));

		if (p == NULL)
			return 0;
		d->st = p;
		d->st_cap = d->ntenants;
	}
	status_init(tot);
	tot->fetch_ok = 1;
	tot->lag_secs = -1;
	for (t = d->tenants; t != NULL; t = t->next) {
		if (pthread_mutex_trylock(&t->mu) == 0) {
			status_init(&t->snap);
			cycle_status(t->cy, &t->snap);
			pthread_mutex_unlock(&t->mu);
			t->has_snap = 1;
		}
		if (!t->has_snap)
			continue;
		snprintf(
		    t->snap.queue, sizeof(t->snap.queue), "%s", t->out->label);
		t->snap.failing = t->failing;
		sum_status(tot, &t->snap);
		/* After the sum: the totals take delivered from the queues. */
		d->st[n] = t->snap;
		/* The queue counts per tenant, not per stream: the count is
		 * the alerts stream's entry's, so that entries sum to it. */
		d->st[n++].delivered = t->stream == STREAM_INCIDENTS &&
		        (t->cfg->streams & CONFIG_STREAM_BIT(STREAM_ALERTS))
		    ? 0
		    : queue_tenant_delivered(t->out->q, t->cfg->tenant_id);
	}
	for (o = d->outqs; o != NULL; o = o->next)
		sum_queue(tot, o, o == d->outqs);
	tot->last_success = tot->last_fetch_ok < tot->last_delivery_ok
	    ? tot->last_fetch_ok
	    : tot->last_delivery_ok;
	if (d->ntenants == 1 && n == 1) {
		snprintf(tot->api, sizeof(tot->api), "%s", d->st[0].api);
		snprintf(
		    tot->cursor, sizeof(tot->cursor), "%s", d->st[0].cursor);
	} else if (n > 0) {
		snprintf(tot->api, sizeof(tot->api), "%s", d->st[0].api);
	}
	tot->pid = (long)getpid();
	tot->running = running;
	tot->started = d->started;
	tot->updated = time(NULL);
	tot->poll_interval = d->set->tenant[0]->poll_interval;
	tot->tenants = d->set->ntenant; /* not its streams */
	tot->multi = d->set->multi;
	return n;
}

/* status.json, the Prometheus file, and systemd's STATUS= line. */
static void
publish(struct daemon *d, int running)
{
	static int warned;
	const struct config *c0 = d->set->tenant[0];
	struct status tot;
	size_t n = collect(d, &tot, running), i, failing = 0;

	for (i = 0; i < n; i++)
		failing += d->st[i].failing != 0;
	tot.failing_tenants = failing;
	if ((status_write_all(d->state_dir, &tot, d->st, n) != 0 ||
	        (c0->textfile_dir != NULL &&
	            status_write_metrics_all(
	                c0->textfile_dir, &tot, d->st, n) != 0)) &&
	    !warned) {
		warned = 1;
		log_warning("cannot write the status or metrics file: %s",
		    strerror(errno));
	}
	if (d->set->multi)
		notify_status("%zu tenants (%zu failing), %llu fetched, %llu "
		              "delivered, %llu in the spools, collector%s %s",
		    d->ntenants, failing, (unsigned long long)tot.fetched,
		    (unsigned long long)tot.delivered,
		    (unsigned long long)tot.pending_bytes,
		    d->outqs != NULL && d->outqs->next != NULL ? "s" : "",
		    tot.collector_up ? "up" : "DOWN");
	else
		notify_status("%llu fetched, %llu delivered, %llu in the "
		              "spool, collector %s%s",
		    (unsigned long long)tot.fetched,
		    (unsigned long long)tot.delivered,
		    (unsigned long long)tot.pending_bytes,
		    tot.collector_up ? "up" : "DOWN",
		    tot.fetch_ok ? "" : ", fetching FAILS");
}

static void
log_totals(struct daemon *d, const char *what)
{
	struct status tot;

	collect(d, &tot, 1);
	log_info("%s: %llu fetched, %llu delivered, %llu duplicates dropped, "
	         "%llu bad records, %llu bytes in the spool",
	    what, (unsigned long long)tot.fetched,
	    (unsigned long long)tot.delivered,
	    (unsigned long long)tot.duplicates,
	    (unsigned long long)tot.bad_records,
	    (unsigned long long)tot.pending_bytes);
}

/* --- reload --- */

/*
 * Load path for a reload, logging every problem.  Returns the new set, or
 * NULL (problems logged) when the old one must stay.
 */
static struct config_set *
load_for_reload(const char *path, const struct config_set *old)
{
	char *text = NULL, *line, *next;
	size_t len = 0;
	FILE *err = open_memstream(&text, &len);
	struct config_set *set;

	if (err == NULL)
		return NULL;
	set = config_set_load(path, err, 0);
	fclose(err);
	for (line = text; line != NULL && *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		log_error("reload: %s", line);
	}
	free(text);
	if (set != NULL &&
	    strcmp(set->tenant[0]->state_dir, old->tenant[0]->state_dir) != 0) {
		log_error("reload: [state] directory: cannot change while "
		          "running; restart the daemon to use %s",
		    set->tenant[0]->state_dir);
		config_set_free(set);
		return NULL;
	}
	if (set == NULL)
		log_error("reload: %s has errors; the running configuration "
		          "stays in force",
		    path);
	return set;
}

static size_t
set_index(const struct config_set *set, const struct config *c)
{
	size_t i;

	for (i = 0; i < set->ntenant; i++)
		if (set->tenant[i] == c)
			return i;
	return SIZE_MAX;
}

/*
 * SIGHUP: tenants added start, removed ones stop (their state stays),
 * changed ones restart; the others go on untouched, their requests in
 * flight included (their configuration moves into the new set).
 */
static void
reload(struct daemon *d)
{
	struct config_set *ns = load_for_reload(d->path, d->set), *os = d->set;
	struct tenant *t, *next;
	size_t i, added = 0, removed = 0, changed = 0, kept = 0;
	int64_t now = nap_now_ms();

	if (ns == NULL)
		return;
	notify_reloading();
	for (t = d->tenants; t != NULL; t = next) {
		const struct config *nc = config_set_find(ns, tenant_name(t));
		size_t oi, ni;

		next = t->next;
		if (nc == NULL) {
			log_info("reload: tenant %s removed; its state stays "
			         "in %s",
			    tenant_name(t), d->state_dir);
			tenant_stop(d, t);
			removed++;
			continue;
		}
		if (!config_equal(t->cfg, nc)) {
			log_info("reload: tenant %s changed; restarting it",
			    tenant_name(t));
			tenant_stop(d, t);
			changed++;
			continue;
		}
		/* The same: the running one keeps its object, in ns. */
		oi = set_index(os, t->cfg);
		ni = set_index(ns, nc);
		if (oi != SIZE_MAX && ni != SIZE_MAX) {
			os->tenant[oi] = ns->tenant[ni];
			ns->tenant[ni] = t->cfg;
		}
		kept++;
	}
	d->set = ns;
	for (i = 0; i < ns->ntenant; i++) {
		if (tenant_find(d, ns->tenant[i]->tenant_name) != NULL)
			continue;
		if (config_set_find(os, ns->tenant[i]->tenant_name) == NULL) {
			log_info("reload: tenant %s added",
			    ns->tenant[i]->tenant_name);
			added++;
		}
		if (tenant_start(d, ns->tenant[i], now) == NULL)
			log_error("reload: tenant %s cannot start; the others "
			          "go on",
			    ns->tenant[i]->tenant_name);
	}
	config_set_free(os);
	log_set_level(ns->tenant[0]->log_level);
	notify_ready();
	log_info("reload: configuration %s applied: %zu tenants (%zu added, "
	         "%zu removed, %zu changed, %zu unchanged)",
	    d->path, d->ntenants, added, removed, changed, kept);
}

/* --- the run --- */

/*
 * --replay's progress, every REPLAY_EVERY_MS: records sent, where in the
 * range it reads (the tenant furthest behind), and the time left at the
 * pace so far.  On a terminal, a bar on stderr; else a log line.
 */
#define REPLAY_EVERY_MS 3000
static void
replay_progress(struct daemon *d, int64_t started_ms, int last)
{
	const struct config *c = d->set->tenant[0];
	struct tenant *t;
	struct status tot;
	struct ts pos = c->until_cap, from;
	char at[TS_STRLEN], left[48] = "";
	double total, done = 1.0;
	int64_t el = nap_now_ms() - started_ms;

	if (ts_parse(c->start_from, strlen(c->start_from), &from) != 0)
		return;
	/* a tenant that has not read yet is still at the range's start */
	pthread_mutex_lock(&d->mu);
	for (t = d->tenants; t != NULL; t = t->next)
		if (t->replay_pos.sec == 0 || ts_cmp(&t->replay_pos, &from) < 0)
			pos = from;
		else if (ts_cmp(&t->replay_pos, &pos) < 0)
			pos = t->replay_pos;
	pthread_mutex_unlock(&d->mu);
	collect(d, &tot, 1);
	total = (double)ts_diff_ticks(&c->until_cap, &from);
	if (total > 0)
		done = (double)ts_diff_ticks(&pos, &from) / total;
	ts_format7(&pos, at);
	if (done > 0.0 && done < 1.0 && el > 0)
		snprintf(left, sizeof(left), ", about %.0f s left",
		    (double)el / 1000.0 * (1.0 - done) / done);
	if (isatty(STDERR_FILENO)) {
		char bar[31];
		int i, n = (int)(done * 30.0);

		for (i = 0; i < 30; i++)
			bar[i] = i < n ? '#' : '.';
		bar[30] = '\0';
		fprintf(stderr,
		    "\rreplay [%s] %3.0f%%  %llu sent, at %.19s%s   %s", bar,
		    done * 100.0, (unsigned long long)tot.delivered, at, left,
		    last ? "\n" : "");
		return;
	}
	log_info("replay: %llu records sent, read up to %s (%.0f%% of the "
	         "range)%s",
	    (unsigned long long)tot.delivered, at, done * 100.0, left);
}

/* Every tenant finished its --once window. */
static int
all_finished(struct daemon *d)
{
	struct tenant *t;
	int all = 1;

	pthread_mutex_lock(&d->mu);
	for (t = d->tenants; t != NULL && all; t = t->next)
		all = t->finished;
	pthread_mutex_unlock(&d->mu);
	return all;
}

/* Watchdog: fed while no worker is stuck past its request's deadline. */
static void
feed_watchdog(struct daemon *d, int64_t now, int64_t *next, long every)
{
	static int stuck_warned;
	int busy = 0, stuck;

	if (every <= 0 || now < *next)
		return;
	/* A third early: no gap reaches half of WatchdogSec. */
	*next = now + every * 2 / 3;
	stuck = sched_stuck(d->sched, now, &busy);
	if (stuck > 0) {
		if (!stuck_warned)
			log_error(
			    "%d of %d busy workers are stuck in a request "
			    "past its timeout; the watchdog is no longer "
			    "fed",
			    stuck, busy);
		stuck_warned = 1;
		return;
	}
	stuck_warned = 0;
	notify_watchdog();
}

/* Stop every tenant, then finish every queue (in parallel). */
static int
wind_down(struct daemon *d)
{
	struct outq *o;
	int rc = 0;

	sched_free(d->sched);
	d->sched = NULL;
	for (o = d->outqs; o != NULL; o = o->next)
		outq_quit(o, 0);
	for (o = d->outqs; o != NULL; o = o->next) {
		if (o->started)
			pthread_join(o->thread, NULL);
		o->started = 0;
		if (o->finish_rc != 0 && o->finish_rc != ERR_IO &&
		    queue_pending_bytes(o->q) > 0) {
			log_warning(
			    "%llu bytes stay in the spool of %s for the "
			    "next run: the collector did not take them "
			    "within [state] shutdown_grace",
			    (unsigned long long)queue_pending_bytes(o->q),
			    o->label);
		}
		if (o->finish_rc != 0)
			rc = o->finish_rc;
	}
	return rc;
}

static void
free_all(struct daemon *d)
{
	struct tenant *t, *tn;
	struct outq *o, *on;

	for (t = d->tenants; t != NULL; t = tn) {
		tn = t->next;
		cycle_free(t->cy);
		pthread_mutex_destroy(&t->mu);
		free(t);
	}
	for (o = d->outqs; o != NULL; o = on) {
		on = o->next;
		queue_free(o->q);
		buf_reset(&o->last_commit);
		outq_sync_free(o);
		free(o);
	}
	d->tenants = NULL;
	d->outqs = NULL;
	free(d->st);
	pthread_mutex_destroy(&d->mu);
}

/* --once's verdict: which tenants failed, and why. */
static int
verdict(struct daemon *d, int queues_rc)
{
	struct tenant *t;
	size_t failed = 0;

	for (t = d->tenants; t != NULL; t = t->next)
		if (t->failed)
			failed++;
	if (failed > 0 && d->set->multi) {
		log_error("run incomplete: %zu of %zu tenants failed:", failed,
		    d->ntenants);
		for (t = d->tenants; t != NULL; t = t->next)
			if (t->failed)
				log_error(
				    "  tenant %s: %s", tenant_name(t), t->why);
	}
	return failed > 0 || queues_rc != 0 ? 1 : 0;
}

static void
started_line(const struct daemon *d)
{
	const struct config *c = d->set->tenant[0];
	size_t nq = 0;
	struct outq *o;

	for (o = d->outqs; o != NULL; o = o->next)
		nq++;
	if (d->set->multi)
		log_info("mdesiemd %s started: %zu tenants, %zu output "
		         "queue%s, %d requests at once at most",
		    MDESIEM_VERSION, d->ntenants, nq, nq == 1 ? "" : "s",
		    c->concurrency);
	else
		log_info("mdesiemd %s started: %s API, %s output to %s",
		    MDESIEM_VERSION, config_api_name(c->api),
		    config_transport_name(c->transport), config_destination(c));
}

int
daemon_run(struct config_set **set, const char *path, int once,
    const struct daemon_flags *flags)
{
	struct daemon d;
	struct sched_ops ops;
	sigset_t old;
	size_t i;
	long every = notify_watchdog_interval_ms(), conc;
	int64_t now, last_pub = 0, next_ping = 0;
	int64_t started_ms = nap_now_ms(), last_progress = started_ms;
	long nap;
	unsigned long published = 0, w;
	int rc, replay = (*set)->tenant[0]->replay;

	/*
	 * glibc gives each thread that allocates its own arena (up to eight
	 * per core): with many workers the freed memory of one window stays
	 * in many of them.  Two are plenty: no allocation is per record.
	 */
	mallopt(M_ARENA_MAX, 2);
	memset(&d, 0, sizeof(d));
	d.set = *set;
	d.path = path;
	d.once = once;
	d.flags = flags;
	snprintf(d.state_dir, sizeof(d.state_dir), "%s",
	    d.set->tenant[0]->state_dir);
	d.started = time(NULL);
	pthread_mutex_init(&d.mu, NULL);
	cycle_http_opts(d.set->tenant[0], flags->stop, &d.http_opts);
	if (statedir_migrate(d.state_dir, d.set) != 0) {
		pthread_mutex_destroy(&d.mu);
		return 1;
	}
	memset(&ops, 0, sizeof(ops));
	ops.turn = turn;
	ops.worker_new = worker_new;
	ops.worker_free = worker_free;
	ops.arg = &d.http_opts;
	conc = d.set->tenant[0]->concurrency;
	if ((size_t)conc > d.set->ntenant)
		conc = (long)d.set->ntenant;
	block_signals(&old);
	d.sched = sched_new(&ops, (int)(conc > 0 ? conc : 1));
	restore_signals(&old);
	if (d.sched == NULL) {
		log_error("cannot start the workers: out of memory or threads");
		free_all(&d);
		return 1;
	}
	now = nap_now_ms();
	for (i = 0; i < d.set->ntenant; i++)
		if (tenant_start(&d, d.set->tenant[i], now) == NULL &&
		    !d.set->multi)
			break;
	if (d.ntenants == 0 || (!d.set->multi && d.ntenants < 1)) {
		wind_down(&d);
		free_all(&d);
		*set = d.set;
		return 1;
	}
	if (d.ntenants < d.set->ntenant)
		log_error("%zu of %zu tenants cannot start (said above); the "
		          "others run",
		    d.set->ntenant - d.ntenants, d.set->ntenant);
	started_line(&d);
	notify_ready();
	while (!*flags->stop) {
		/* Cleared before the flags are read: a signal after it ends the
		 * nap below at once. */
		*flags->wake = 0;
		now = nap_now_ms();
		if (*flags->reload) {
			*flags->reload = 0;
			if (!once)
				reload(&d);
		}
		if (*flags->counters) {
			*flags->counters = 0;
			log_totals(&d, "counters");
		}
		feed_watchdog(&d, now, &next_ping, every);
		if (once && all_finished(&d))
			break;
		if (replay && now - last_progress >= REPLAY_EVERY_MS) {
			replay_progress(&d, started_ms, 0);
			last_progress = now;
		}
		/* When a window ended (at most once a second), or regularly. */
		w = windows_ended(&d);
		if (last_pub == 0 || now - last_pub >= PUBLISH_MS ||
		    (w != published && now - last_pub >= 1000)) {
			publish(&d, 1);
			last_pub = now;
			published = w;
		}
		/* --once ends as soon as the last tenant is through. */
		nap = once ? 50 : MAIN_NAP_MS;
		if (every > 0 && every / 3 < nap)
			nap = every / 3 > 10 ? every / 3 : 10;
		nap_ms(nap, flags->wake);
	}
	if (!once) {
		notify_stopping();
		log_info("stopping: delivering what the spool holds (at most "
		         "%lld s)",
		    (long long)d.set->tenant[0]->shutdown_grace);
	}
	rc = wind_down(&d);
	if (replay)
		replay_progress(&d, started_ms, 1);
	rc = once ? verdict(&d, rc) : 0;
	if (once && *flags->stop)
		rc = 1;
	log_totals(&d, once ? "run complete" : "stopped");
	publish(&d, 0);
	*set = d.set;
	free_all(&d);
	return rc;
}
