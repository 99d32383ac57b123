/* SPDX-License-Identifier: MIT */
/*
 * Client-side request pacing: the Defender APIs allow so many calls per
 * sliding window (the Alert API 100 per minute and 1,500 per hour, Graph
 * /security 150 per minute, per app and tenant).  A pacer remembers when
 * the last requests finished and says how long to wait so that no window
 * of any limit ever holds more of them than allowed.  The source module
 * asks before each request and notes each one after its answer.  A
 * pacer is not locked: one shared by threads needs a lock of its user's.
 */
#ifndef PACE_H
#define PACE_H

#include <stddef.h>
#include <stdint.h>

struct pace;

struct pace_limit {
	int64_t window_ms; /* length of the sliding window */
	unsigned limit; /* requests allowed in any such window */
};

/*
 * A pacer for n limits (copied), with every window multiplied by scale
 * (1.0 for the real limits; tests shorten them).  NULL when out of
 * memory or a limit is zero.  n == 0 gives a pacer that never waits.
 */
struct pace *pace_new(const struct pace_limit *limits, size_t n, double scale);
void pace_free(struct pace *p);

/*
 * Milliseconds to wait before a request may start at now_ms (a monotonic
 * clock reading), 0 when it may start at once.  *which (when not NULL)
 * is set to the index of the limit that holds it back.
 */
int64_t pace_delay(const struct pace *p, int64_t now_ms, size_t *which);

/*
 * A request starts (for a pacer that concurrent requests share): until
 * its pace_note(), pace_delay() counts it as finished inside every
 * window.  Not needed when one request at a time uses the pacer.
 */
void pace_start(struct pace *p);

/*
 * Record a request that finished at now_ms (ending one pace_start(), if
 * any is open).
 */
void pace_note(struct pace *p, int64_t now_ms);

/* The limit at index i after scaling (i < n), for log lines. */
const struct pace_limit *pace_limit_get(const struct pace *p, size_t i);

#endif
