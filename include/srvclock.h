/* SPDX-License-Identifier: MIT */
/*
 * The API's clock, as its answers tell it.  Every HTTP answer carries a
 * Date header (RFC 9110 6.6.1: when the server made it, in whole
 * seconds); http.c notes each one here.  Windows end, and cursors are
 * committed, at this estimate of the server's time, never at the host's:
 * a host clock running ahead or stepped back cannot make the daemon skip
 * records.  The estimate moves on with CLOCK_MONOTONIC between answers,
 * which a step of the wall clock does not move.  The skew (host clock
 * minus server clock) is measured on each answer and judged against a
 * tolerance for the log, --status and the metrics.
 *
 * One estimate per tenant: its sign-in and API answers.  No globals.
 */
#ifndef SRVCLOCK_H
#define SRVCLOCK_H

#include <stdint.h>
#include <time.h>

#include "ts.h"

struct srvclock;

/* Verdicts of srvclock_check(). */
enum srvclock_change {
	SRVCLOCK_SAME = 0, /* no answer yet, or no change */
	SRVCLOCK_OFF, /* the skew just passed the tolerance */
	SRVCLOCK_BACK, /* it is within the tolerance again */
};

/* A clock that knows nothing yet, or NULL when out of memory. */
struct srvclock *srvclock_new(void);
void srvclock_free(struct srvclock *c);

/*
 * Note an answer whose Date header said date (Unix seconds), received
 * when CLOCK_MONOTONIC read mono and CLOCK_REALTIME read real.  A date
 * before 2020 (an unset or broken clock upstream) is ignored.
 */
void srvclock_note(struct srvclock *c, int64_t date,
    const struct timespec *mono, const struct timespec *real);

/* Nonzero once an answer with a usable Date was noted. */
int srvclock_known(const struct srvclock *c);

/*
 * The server's time when CLOCK_MONOTONIC reads mono_now, never ahead of
 * it: the last Date (already at or before the server's time when it
 * answered: whole seconds, cut), plus the monotonic time since, minus a
 * margin of 1 s and 100 ppm of that time (the drift of the local
 * oscillator).  Returns 0, or ERR_NOTFOUND before any Date (*out
 * untouched).
 */
int srvclock_now_at(
    const struct srvclock *c, const struct timespec *mono_now, struct ts *out);

/* srvclock_now_at() at the current CLOCK_MONOTONIC time. */
int srvclock_now(const struct srvclock *c, struct ts *out);

/*
 * How many seconds the host clock was ahead of the server's (negative:
 * behind) on the last answer, rounded toward zero.  Returns 0, or
 * ERR_NOTFOUND before any Date (*secs untouched).
 */
int srvclock_skew(const struct srvclock *c, int64_t *secs);

/*
 * Judge the last skew against tolerance seconds: SRVCLOCK_OFF once when
 * its size first exceeds the tolerance, SRVCLOCK_BACK once when it is
 * within the tolerance by SRVCLOCK_HYSTERESIS seconds again (so a skew
 * close to the tolerance does not flap), SRVCLOCK_SAME otherwise.
 */
#define SRVCLOCK_HYSTERESIS 5
enum srvclock_change srvclock_check(struct srvclock *c, int64_t tolerance);

/* Nonzero while the last srvclock_check() found the skew too large. */
int srvclock_off(const struct srvclock *c);

#endif
