/* SPDX-License-Identifier: MIT */
/*
 * Tests for the scheduler with real threads: every due item runs, soonest
 * first; a busy item (always due again at once) shares the workers with
 * the others turn by turn; an item is never in two turns at once;
 * sched_remove() waits for a turn in progress; a turn past its deadline
 * counts as stuck.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "nap.h"
#include "sched.h"

struct obj {
	struct sched_item it;
	int id;
	atomic_int turns;
	atomic_int inside;
	atomic_int overlap;
	int again; /* due again at once this many times */
	int sleep_ms;
	int64_t deadline_in; /* set a deadline this far ahead */
	atomic_int *watch; /* another item's turns, read as a turn starts */
	atomic_int seen;
};

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static int order_log[64];
static int norder;

static void
turn(void *arg, struct sched_worker *w, int64_t now, int64_t *due)
{
	struct obj *o = arg;

	if (atomic_fetch_add(&o->inside, 1) != 0)
		atomic_fetch_add(&o->overlap, 1);
	if (o->watch != NULL)
		atomic_store(&o->seen, atomic_load(o->watch));
	if (o->deadline_in != 0)
		sched_worker_deadline(w, now + o->deadline_in);
	pthread_mutex_lock(&log_mu);
	if (norder < 64)
		order_log[norder++] = o->id;
	pthread_mutex_unlock(&log_mu);
	if (o->sleep_ms > 0)
		usleep((useconds_t)o->sleep_ms * 1000);
	atomic_fetch_add(&o->turns, 1);
	*due = o->again-- > 0 ? now : INT64_MAX;
	atomic_fetch_sub(&o->inside, 1);
}

static const struct sched_ops ops = {turn, NULL, NULL, NULL};

static void
init(struct obj *o, int id)
{
	memset(o, 0, sizeof(*o));
	o->id = id;
	o->it.obj = o;
}

static void
wait_turns(struct obj *o, int n)
{
	int i;

	for (i = 0; i < 500 && atomic_load(&o->turns) < n; i++)
		usleep(10000);
}

static void
test_order(void)
{
	struct sched *s = sched_new(&ops, 1);
	struct obj a, b, c;
	int64_t now = nap_now_ms();

	init(&a, 1);
	init(&b, 2);
	init(&c, 3);
	norder = 0;
	sched_add(s, &b.it, now + 150);
	sched_add(s, &c.it, now + 60);
	sched_add(s, &a.it, now);
	wait_turns(&b, 1);
	CHECK(a.turns == 1 && b.turns == 1 && c.turns == 1);
	CHECK(norder == 3 && order_log[0] == 1 && order_log[1] == 3 &&
	    order_log[2] == 2);
	CHECK(sched_count(s, nap_now_ms(), NULL) == 3);
	sched_free(s);
}

/*
 * One worker: a busy item (always due again at once) and five quiet ones
 * added while it runs.  Each quiet one waits at most one busy turn: when
 * the last of them starts, the busy one has had at most six turns since
 * they were added (its turn in progress, and one between each two).
 * The count is read by the quiet items' own turns, not by this thread,
 * which only looks every 10 ms.
 */
static void
test_fair(void)
{
	struct sched *s = sched_new(&ops, 1);
	struct obj busy, q[5];
	int i, b0, b1 = 0;

	init(&busy, 0);
	busy.again = 100000;
	busy.sleep_ms = 2;
	sched_add(s, &busy.it, nap_now_ms());
	wait_turns(&busy, 5);
	b0 = atomic_load(&busy.turns);
	for (i = 0; i < 5; i++) {
		init(&q[i], i + 1);
		q[i].watch = &busy.turns;
		sched_add(s, &q[i].it, nap_now_ms());
	}
	for (i = 0; i < 5; i++) {
		wait_turns(&q[i], 1);
		if (atomic_load(&q[i].seen) > b1)
			b1 = atomic_load(&q[i].seen);
	}
	for (i = 0; i < 5; i++)
		CHECK(q[i].turns == 1);
	if (b1 - b0 > 6)
		fprintf(stderr, "busy turns meanwhile: %d\n", b1 - b0);
	CHECK(b1 - b0 <= 6);
	sched_remove(s, &busy.it);
	sched_free(s);
}

static void
test_no_overlap(void)
{
	struct sched *s = sched_new(&ops, 4);
	struct obj o;

	init(&o, 1);
	o.again = 300;
	sched_add(s, &o.it, nap_now_ms());
	wait_turns(&o, 301);
	CHECK(o.turns == 301);
	CHECK(o.overlap == 0);
	sched_free(s);
}

static void
test_remove_waits(void)
{
	struct sched *s = sched_new(&ops, 2);
	struct obj o;

	init(&o, 1);
	o.sleep_ms = 200;
	o.again = 100;
	sched_add(s, &o.it, nap_now_ms());
	usleep(50000);
	CHECK(o.inside == 1);
	sched_remove(s, &o.it);
	CHECK(o.inside == 0 && o.turns == 1);
	usleep(50000);
	CHECK(o.turns == 1);
	sched_free(s);
}

static void
test_stuck(void)
{
	struct sched *s = sched_new(&ops, 2);
	struct obj o;
	int busy = 0;

	init(&o, 1);
	o.sleep_ms = 300;
	o.deadline_in = 50;
	sched_add(s, &o.it, nap_now_ms());
	usleep(150000);
	CHECK(sched_stuck(s, nap_now_ms(), &busy) == 1 && busy == 1);
	wait_turns(&o, 1);
	usleep(20000);
	CHECK(sched_stuck(s, nap_now_ms(), &busy) == 0 && busy == 0);
	sched_free(s);
}

static void
test_wake(void)
{
	struct sched *s = sched_new(&ops, 1);
	struct obj o;

	init(&o, 1);
	sched_add(s, &o.it, nap_now_ms() + 60000);
	usleep(30000);
	CHECK(o.turns == 0);
	sched_wake(s, &o.it);
	wait_turns(&o, 1);
	CHECK(o.turns == 1);
	sched_free(s);
}

int
main(void)
{
	test_order();
	test_fair();
	test_no_overlap();
	test_remove_waits();
	test_stuck();
	test_wake();
	return check_done();
}
