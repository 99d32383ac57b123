/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for srvclock.c: the estimate of the API's time never runs
 * ahead of the Date it was given plus the monotonic time since, whatever
 * the host's wall clock says; the skew is the host clock minus the
 * server's; the tolerance verdict changes once each way, with
 * hysteresis; a Date before 2020 is ignored.
 */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "errcode.h"
#include "srvclock.h"
#include "ts.h"

#define DATE 1764633600LL /* 2025-12-02T00:00:00Z */

static struct timespec
at(time_t sec, long nsec)
{
	struct timespec t;

	t.tv_sec = sec;
	t.tv_nsec = nsec;
	return t;
}

static void
test_unknown(void)
{
	struct srvclock *c = srvclock_new();
	struct timespec m = at(100, 0), r = at(DATE, 0);
	struct ts t = {42, 7};
	int64_t skew = 99;

	CHECK(c != NULL);
	CHECK(!srvclock_known(c));
	CHECK(srvclock_now_at(c, &m, &t) == ERR_NOTFOUND);
	CHECK(t.sec == 42 && t.tick == 7);
	CHECK(srvclock_skew(c, &skew) == ERR_NOTFOUND && skew == 99);
	CHECK(srvclock_check(c, 120) == SRVCLOCK_SAME);
	CHECK(!srvclock_off(c));
	/* Unset clocks upstream: 1970, or before 2020. */
	srvclock_note(c, 0, &m, &r);
	srvclock_note(c, 1500000000LL, &m, &r);
	CHECK(!srvclock_known(c));
	srvclock_free(c);
	srvclock_free(NULL);
}

static void
test_estimate(void)
{
	struct srvclock *c = srvclock_new();
	struct timespec m = at(1000, 250000000), r = at(DATE + 1200, 0);
	struct timespec later;
	struct ts t;

	/* The host's wall clock runs 20 minutes ahead: it does not matter. */
	srvclock_note(c, DATE, &m, &r);
	CHECK(srvclock_known(c));
	CHECK(srvclock_now_at(c, &m, &t) == 0);
	CHECK(t.sec == DATE - 1 && t.tick == 0);
	/* 10 s later by the monotonic clock: 10 s on, less the margin. */
	later = at(1010, 250000000);
	CHECK(srvclock_now_at(c, &later, &t) == 0);
	CHECK(t.sec == DATE + 8 && t.tick == 9990000);
	/* A day later: 100 ppm of drift more margin (8.64 s). */
	later = at(1000 + 86400, 250000000);
	CHECK(srvclock_now_at(c, &later, &t) == 0);
	CHECK(t.sec == DATE + 86400 - 10 && t.tick == 3600000);
	/* A monotonic time before the answer: the answer's own time. */
	later = at(999, 0);
	CHECK(srvclock_now_at(c, &later, &t) == 0);
	CHECK(t.sec == DATE - 1);
	/* A newer answer replaces the estimate, even an earlier Date. */
	m = at(2000, 0);
	srvclock_note(c, DATE - 3600, &m, &r);
	CHECK(srvclock_now_at(c, &m, &t) == 0);
	CHECK(t.sec == DATE - 3601);
	srvclock_free(c);
}

static void
test_skew(void)
{
	struct srvclock *c = srvclock_new();
	struct timespec m = at(5, 0), r;
	int64_t s = 0;

	r = at(DATE + 1200, 900000000);
	srvclock_note(c, DATE, &m, &r);
	CHECK(srvclock_skew(c, &s) == 0 && s == 1200);
	r = at(DATE - 1200, 100000000);
	srvclock_note(c, DATE, &m, &r);
	CHECK(srvclock_skew(c, &s) == 0 && s == -1200);
	/* Within the Date's own second: no skew. */
	r = at(DATE, 700000000);
	srvclock_note(c, DATE, &m, &r);
	CHECK(srvclock_skew(c, &s) == 0 && s == 0);
	srvclock_free(c);
}

static void
note_skew(struct srvclock *c, int64_t skew)
{
	struct timespec m = at(5, 0), r = at((time_t)(DATE + skew), 500000000);

	srvclock_note(c, DATE, &m, &r);
}

static void
test_check(void)
{
	struct srvclock *c = srvclock_new();

	note_skew(c, 30);
	CHECK(srvclock_check(c, 120) == SRVCLOCK_SAME && !srvclock_off(c));
	note_skew(c, 121);
	CHECK(srvclock_check(c, 120) == SRVCLOCK_OFF && srvclock_off(c));
	CHECK(srvclock_check(c, 120) == SRVCLOCK_SAME && srvclock_off(c));
	note_skew(c, 1200);
	CHECK(srvclock_check(c, 120) == SRVCLOCK_SAME);
	/* Back at the tolerance, not yet within it by the hysteresis. */
	note_skew(c, 118);
	CHECK(srvclock_check(c, 120) == SRVCLOCK_SAME && srvclock_off(c));
	note_skew(c, 115);
	CHECK(srvclock_check(c, 120) == SRVCLOCK_BACK && !srvclock_off(c));
	CHECK(srvclock_check(c, 120) == SRVCLOCK_SAME);
	/* Behind counts as much as ahead. */
	note_skew(c, -1200);
	CHECK(srvclock_check(c, 120) == SRVCLOCK_OFF);
	note_skew(c, 0);
	CHECK(srvclock_check(c, 120) == SRVCLOCK_BACK);
	srvclock_free(c);
}

/* The wall clock steps; the monotonic clock does not; nor the estimate. */
static void
test_real_clocks(void)
{
	struct srvclock *c = srvclock_new();
	struct timespec m, r;
	struct ts a, b;

	clock_gettime(CLOCK_MONOTONIC, &m);
	clock_gettime(CLOCK_REALTIME, &r);
	srvclock_note(c, DATE, &m, &r);
	CHECK(srvclock_now(c, &a) == 0);
	CHECK(srvclock_now(c, &b) == 0);
	CHECK(ts_cmp(&a, &b) <= 0);
	CHECK(a.sec >= DATE - 1 && a.sec <= DATE + 5);
	srvclock_free(c);
}

int
main(void)
{
	test_unknown();
	test_estimate();
	test_skew();
	test_check();
	test_real_clocks();
	return check_done();
}
