/* SPDX-License-Identifier: MIT */
/*
 * The API's clock (include/srvclock.h).  A Date header is the server's
 * time cut to whole seconds when it made the answer, so it is never ahead
 * of the server's time at the moment we read it; moving it on by the
 * monotonic time since, less a margin, keeps that true between answers.
 * The skew is measured against the middle of the Date's second.
 */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "errcode.h"
#include "srvclock.h"
#include "ts.h"

#define NS_PER_SEC 1000000000LL
#define MARGIN_NS NS_PER_SEC /* the Date of another front end */
#define DRIFT_DIV 10000 /* 100 ppm of the time since the last answer */
#define MIN_DATE 1577836800LL /* 2020-01-01T00:00:00Z */

struct srvclock {
	int known;
	int off; /* the last check found the skew too large */
	int64_t date; /* server seconds, from the last Date */
	struct timespec mono; /* CLOCK_MONOTONIC when it arrived */
	int64_t skew_ms; /* host clock - server clock on that answer */
};

struct srvclock *
srvclock_new(void)
{
	return calloc(1, sizeof(struct srvclock));
}

void
srvclock_free(struct srvclock *c)
{
	free(c);
}

void
srvclock_note(struct srvclock *c, int64_t date, const struct timespec *mono,
    const struct timespec *real)
{
	if (date < MIN_DATE)
		return;
	c->known = 1;
	c->date = date;
	c->mono = *mono;
	c->skew_ms = ((int64_t)real->tv_sec - date) * 1000 +
	    (int64_t)real->tv_nsec / 1000000 - 500;
}

int
srvclock_known(const struct srvclock *c)
{
	return c->known;
}

int
srvclock_now_at(
    const struct srvclock *c, const struct timespec *mono_now, struct ts *out)
{
	int64_t since;

	if (!c->known)
		return ERR_NOTFOUND;
	since =
	    ((int64_t)mono_now->tv_sec - (int64_t)c->mono.tv_sec) * NS_PER_SEC +
	    ((int64_t)mono_now->tv_nsec - (int64_t)c->mono.tv_nsec);
	if (since < 0)
		since = 0;
	out->sec = c->date;
	out->tick = 0;
	ts_add_ticks(out, (since - MARGIN_NS - since / DRIFT_DIV) / 100);
	return 0;
}

int
srvclock_now(const struct srvclock *c, struct ts *out)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return srvclock_now_at(c, &now, out);
}

int
srvclock_skew(const struct srvclock *c, int64_t *secs)
{
	if (!c->known)
		return ERR_NOTFOUND;
	*secs = c->skew_ms / 1000;
	return 0;
}

enum srvclock_change
srvclock_check(struct srvclock *c, int64_t tolerance)
{
	int64_t skew;

	if (srvclock_skew(c, &skew) != 0)
		return SRVCLOCK_SAME;
	if (skew < 0)
		skew = -skew;
	if (!c->off && skew > tolerance) {
		c->off = 1;
		return SRVCLOCK_OFF;
	}
	if (c->off && skew + SRVCLOCK_HYSTERESIS <= tolerance) {
		c->off = 0;
		return SRVCLOCK_BACK;
	}
	return SRVCLOCK_SAME;
}

int
srvclock_off(const struct srvclock *c)
{
	return c->off;
}
