/* SPDX-License-Identifier: MIT */
/*
 * The scheduler (include/sched.h): a min-heap of items by (due, order)
 * under one mutex, and worker threads that take the item at the top once
 * it is due.  Idle workers wait on a condition variable (CLOCK_MONOTONIC)
 * until the top item's due time or until an item is added, woken or
 * rescheduled earlier.  The heap holds only items that are not running:
 * a worker takes the item out for its turn and puts it back with its new
 * due time, so no item is ever in two turns at once.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nap.h"
#include "sched.h"

/* A turn that sets no deadline of its own counts as stuck after this. */
#define TURN_LIMIT_MS (10 * 60 * 1000)

struct sched_worker {
	struct sched *s;
	pthread_t thread;
	int started;
	void *ctx;
	int64_t busy_since; /* 0: idle */
	int64_t deadline; /* 0: none set by the turn */
};

struct sched {
	struct sched_ops ops;
	pthread_mutex_t mu;
	pthread_cond_t work; /* workers: the heap changed */
	pthread_cond_t done; /* sched_remove(): a turn ended */
	struct sched_item **heap;
	size_t n, cap;
	uint64_t order;
	int quit;
	struct sched_worker *w;
	int nworkers;
};

/* --- the heap --- */

static int
before(const struct sched_item *a, const struct sched_item *b)
{
	if (a->due_ms != b->due_ms)
		return a->due_ms < b->due_ms;
	return a->order < b->order;
}

static void
place(struct sched *s, size_t i, struct sched_item *it)
{
	s->heap[i] = it;
	it->heap_i = i;
}

static void
sift_up(struct sched *s, size_t i)
{
	struct sched_item *it = s->heap[i];

	while (i > 0 && before(it, s->heap[(i - 1) / 2])) {
		place(s, i, s->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	place(s, i, it);
}

static void
sift_down(struct sched *s, size_t i)
{
	struct sched_item *it = s->heap[i];
	size_t c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= s->n)
			break;
		if (c + 1 < s->n && before(s->heap[c + 1], s->heap[c]))
			c++;
		if (!before(s->heap[c], it))
			break;
		place(s, i, s->heap[c]);
		i = c;
	}
	place(s, i, it);
}

static int
push(struct sched *s, struct sched_item *it)
{
	struct sched_item **nh;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;

		if ((nh = reallocarray(s->heap, cap, sizeof(*nh))) == NULL)
			return -1;
		s->heap = nh;
		s->cap = cap;
	}
	it->order = ++s->order;
	place(s, s->n++, it);
	sift_up(s, it->heap_i);
	return 0;
}

static void
take_out(struct sched *s, struct sched_item *it)
{
	size_t i = it->heap_i;

	it->heap_i = SIZE_MAX;
	if (--s->n == i)
		return;
	place(s, i, s->heap[s->n]);
	sift_down(s, i);
	sift_up(s, s->heap[i]->heap_i);
}

/* --- workers --- */

/*
 * Wait for the heap to change or due_ms, but at most WAIT_MAX_MS at a
 * time: a clock that jumps (a resumed virtual machine, or libfaketime in
 * the tests) is looked at again soon, not only when the old deadline
 * passes.
 */
#define WAIT_MAX_MS 5000

static void
wait_until(struct sched *s, int64_t due_ms)
{
	struct timespec ts;
	int64_t cap = nap_now_ms() + WAIT_MAX_MS;

	if (due_ms > cap)
		due_ms = cap;

	ts.tv_sec = (time_t)(due_ms / 1000);
	ts.tv_nsec = (long)(due_ms % 1000) * 1000000L;
	pthread_cond_timedwait(&s->work, &s->mu, &ts);
}

/* One turn of it, the lock released around it. */
static void
run_turn(
    struct sched *s, struct sched_worker *w, struct sched_item *it, int64_t now)
{
	int64_t due = INT64_MAX;

	take_out(s, it);
	it->running = 1;
	w->busy_since = now;
	w->deadline = 0;
	pthread_mutex_unlock(&s->mu);
	s->ops.turn(it->obj, w, now, &due);
	pthread_mutex_lock(&s->mu);
	it->running = 0;
	w->busy_since = 0;
	w->deadline = 0;
	if (it->removing) {
		pthread_cond_broadcast(&s->done);
		return;
	}
	it->due_ms = due;
	if (push(s, it) != 0)
		it->heap_i = SIZE_MAX; /* out of memory: it drops out */
	pthread_cond_signal(&s->work);
}

static void *
worker_main(void *arg)
{
	struct sched_worker *w = arg;
	struct sched *s = w->s;

	pthread_mutex_lock(&s->mu);
	while (!s->quit) {
		int64_t now;

		if (s->n == 0) {
			pthread_cond_wait(&s->work, &s->mu);
			continue;
		}
		now = nap_now_ms();
		if (s->heap[0]->due_ms > now) {
			wait_until(s, s->heap[0]->due_ms);
			continue;
		}
		run_turn(s, w, s->heap[0], now);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

struct sched *
sched_new(const struct sched_ops *ops, int nworkers)
{
	pthread_condattr_t ca;
	struct sched *s;
	int i;

	if (nworkers < 1 || (s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->ops = *ops;
	s->nworkers = nworkers;
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->work, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&s->done, NULL);
	if ((s->w = calloc((size_t)nworkers, sizeof(*s->w))) == NULL) {
		sched_free(s);
		return NULL;
	}
	for (i = 0; i < nworkers; i++) {
		struct sched_worker *w = &s->w[i];

		w->s = s;
		if (ops->worker_new != NULL &&
		    (w->ctx = ops->worker_new(ops->arg)) == NULL) {
			sched_free(s);
			return NULL;
		}
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			sched_free(s);
			return NULL;
		}
		w->started = 1;
	}
	return s;
}

void
sched_free(struct sched *s)
{
	int i;

	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->quit = 1;
	pthread_cond_broadcast(&s->work);
	pthread_mutex_unlock(&s->mu);
	for (i = 0; s->w != NULL && i < s->nworkers; i++) {
		if (s->w[i].started)
			pthread_join(s->w[i].thread, NULL);
		if (s->w[i].ctx != NULL && s->ops.worker_free != NULL)
			s->ops.worker_free(s->w[i].ctx);
	}
	for (i = 0; (size_t)i < s->n; i++)
		s->heap[i]->heap_i = SIZE_MAX;
	free(s->w);
	free(s->heap);
	pthread_cond_destroy(&s->work);
	pthread_cond_destroy(&s->done);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

void
sched_add(struct sched *s, struct sched_item *it, int64_t due_ms)
{
	pthread_mutex_lock(&s->mu);
	it->due_ms = due_ms;
	it->running = 0;
	it->removing = 0;
	it->heap_i = SIZE_MAX;
	if (push(s, it) == 0)
		pthread_cond_signal(&s->work);
	pthread_mutex_unlock(&s->mu);
}

void
sched_remove(struct sched *s, struct sched_item *it)
{
	pthread_mutex_lock(&s->mu);
	it->removing = 1;
	while (it->running)
		pthread_cond_wait(&s->done, &s->mu);
	if (it->heap_i != SIZE_MAX)
		take_out(s, it);
	it->removing = 0;
	pthread_mutex_unlock(&s->mu);
}

void
sched_wake(struct sched *s, struct sched_item *it)
{
	int64_t now = nap_now_ms();

	pthread_mutex_lock(&s->mu);
	if (!it->running && it->heap_i != SIZE_MAX && it->due_ms > now) {
		take_out(s, it);
		it->due_ms = now;
		push(s, it);
		pthread_cond_signal(&s->work);
	}
	pthread_mutex_unlock(&s->mu);
}

void *
sched_worker_ctx(const struct sched_worker *w)
{
	return w->ctx;
}

void
sched_worker_deadline(struct sched_worker *w, int64_t deadline_ms)
{
	pthread_mutex_lock(&w->s->mu);
	w->deadline = deadline_ms;
	pthread_mutex_unlock(&w->s->mu);
}

int
sched_stuck(struct sched *s, int64_t now_ms, int *busy)
{
	int i, stuck = 0, n = 0;

	pthread_mutex_lock(&s->mu);
	for (i = 0; i < s->nworkers; i++) {
		const struct sched_worker *w = &s->w[i];

		if (w->busy_since == 0)
			continue;
		n++;
		if (now_ms > (w->deadline != 0 ? w->deadline
		                               : w->busy_since + TURN_LIMIT_MS))
			stuck++;
	}
	pthread_mutex_unlock(&s->mu);
	if (busy != NULL)
		*busy = n;
	return stuck;
}

size_t
sched_count(struct sched *s, int64_t now_ms, size_t *due)
{
	size_t i, n, d = 0;

	pthread_mutex_lock(&s->mu);
	n = s->n;
	for (i = 0; i < s->n; i++)
		d += s->heap[i]->due_ms <= now_ms;
	pthread_mutex_unlock(&s->mu);
	if (due != NULL)
		*due = d;
	return n;
}
