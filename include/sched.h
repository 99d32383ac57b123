/* SPDX-License-Identifier: MIT */
/*
 * The scheduler of many tenants (ARCHITECTURE section 8): a fixed pool of
 * worker threads runs "turns" of the items that are due, soonest first.
 * A turn does a bounded amount of work (one page of one tenant: a token
 * request and one API request at most) and says when the item is due
 * again: at once (more pages), after a Retry-After, a backoff or the
 * pacing delay, or at the next poll.  No turn sleeps: every wait is a due
 * time here, so one throttled or failing tenant never holds a worker, and
 * a tenant with a long backlog takes its turn after those already due.
 *
 * Items are kept in a min-heap by (due time, order of becoming due); an
 * item is never run by two workers at once.  Times are milliseconds of
 * CLOCK_MONOTONIC (nap_now_ms()).
 */
#ifndef SCHED_H
#define SCHED_H

#include <stddef.h>
#include <stdint.h>

struct sched;
struct sched_worker;

/* Embedded in each scheduled object; owned by the scheduler while added. */
struct sched_item {
	size_t heap_i; /* position in the heap, SIZE_MAX when not in it */
	int64_t due_ms;
	uint64_t order; /* FIFO among equal due times */
	int running; /* a worker is in its turn */
	int removing; /* sched_remove() waits for the turn to end */
	void *obj;
};

struct sched_ops {
	/*
	 * Run one turn of obj on worker w (w's context: sched_worker_ctx()).
	 * Set *due_ms to when obj is next due (INT64_MAX: only when woken
	 * with sched_wake()).  deadline_ms, set by the turn when it starts a
	 * call that may block (an HTTP request), is how long the turn may take
	 * before the watchdog calls it stuck; see sched_stuck().
	 */
	void (*turn)(
	    void *obj, struct sched_worker *w, int64_t now_ms, int64_t *due_ms);
	/* Make / free a worker's context (an HTTP client, buffers); or NULL. */
	void *(*worker_new)(void *arg);
	void (*worker_free)(void *ctx);
	void *arg;
};

/*
 * A scheduler with nworkers threads (started at once; they wait for
 * items).  Returns NULL after an allocation or thread failure.
 */
struct sched *sched_new(const struct sched_ops *ops, int nworkers);

/*
 * Stop: workers finish the turn they are in (the turn itself notices the
 * process-wide stop flag) and exit; then free everything.  Items stay
 * their owners'.  sched_free(NULL) is a no-op.
 */
void sched_free(struct sched *s);

/* Add it (it->obj set by the caller) due at due_ms. */
void sched_add(struct sched *s, struct sched_item *it, int64_t due_ms);

/*
 * Take it out, waiting for a turn in progress to end (no request of it is
 * cancelled).  Afterwards no worker touches it.
 */
void sched_remove(struct sched *s, struct sched_item *it);

/* Make it due now (no effect while it runs: it is rescheduled after). */
void sched_wake(struct sched *s, struct sched_item *it);

/* The worker's context, from ops->worker_new(). */
void *sched_worker_ctx(const struct sched_worker *w);

/*
 * A turn says how long it may still take (now + the request's timeout):
 * past that the worker counts as stuck.  0 clears it.
 */
void sched_worker_deadline(struct sched_worker *w, int64_t deadline_ms);

/*
 * The number of workers in a turn past its deadline (a hang: the
 * watchdog must stop being fed), and how many are in a turn at all.
 */
int sched_stuck(struct sched *s, int64_t now_ms, int *busy);

/* Items in the scheduler, and those due at or before now_ms. */
size_t sched_count(struct sched *s, int64_t now_ms, size_t *due);

#endif
