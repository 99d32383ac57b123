/* SPDX-License-Identifier: MIT */
/*
 * Request pacing (include/pace.h).  Each limit keeps a ring of the finish
 * times of its last `limit` requests.  When the ring is full, the next
 * request waits until the oldest of them has left the window.  Counting
 * finish times rather than start times makes the rule hold for the
 * server too: a request arrives before its answer leaves, so two requests
 * that finished a window apart also arrived more than a window apart,
 * whatever the latency of each.  A pacer shared by concurrent requests
 * (the app-wide Graph limit) also counts those started and not finished
 * (pace_start()): each may finish inside the window.
 */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "pace.h"

struct ring {
	struct pace_limit lim;
	int64_t *t; /* lim.limit finish times */
	unsigned head; /* the oldest entry once full */
	unsigned count;
};

struct pace {
	size_t n;
	struct ring *r;
	unsigned inflight; /* pace_start() without pace_note() yet */
};

/* While every slot is taken by requests in flight: ask again this soon. */
#define INFLIGHT_RETRY_MS 20

struct pace *
pace_new(const struct pace_limit *limits, size_t n, double scale)
{
	struct pace *p;
	size_t i;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	if (n > 0 && (p->r = calloc(n, sizeof(*p->r))) == NULL)
		goto fail;
	p->n = n;
	for (i = 0; i < n; i++) {
		struct ring *r = &p->r[i];

		r->lim = limits[i];
		if (r->lim.limit == 0)
			goto fail;
		r->lim.window_ms = (int64_t)((double)r->lim.window_ms * scale);
		if (r->lim.window_ms < 1)
			r->lim.window_ms = 1;
		if ((r->t = calloc(r->lim.limit, sizeof(*r->t))) == NULL)
			goto fail;
	}
	return p;
fail:
	pace_free(p);
	return NULL;
}

void
pace_free(struct pace *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n && p->r != NULL; i++)
		free(p->r[i].t);
	free(p->r);
	free(p);
}

/*
 * When the window of r lets one more request start at now_ms, given
 * inflight requests started and not finished: each of those may finish
 * inside the window, so they count as if they had.
 */
static int64_t
ring_ready(const struct ring *r, unsigned inflight, int64_t now_ms)
{
	uint64_t used = (uint64_t)r->count + inflight;
	uint64_t k;

	if (used < r->lim.limit)
		return now_ms;
	/* k finishes must leave the window; the k-th oldest last. */
	k = used - r->lim.limit + 1;
	if (k > r->count)
		return now_ms + INFLIGHT_RETRY_MS;
	/* Strictly after: the server may count its window inclusive. */
	return r->t[(r->head + k - 1) % r->lim.limit] + r->lim.window_ms + 1;
}

int64_t
pace_delay(const struct pace *p, int64_t now_ms, size_t *which)
{
	int64_t wait = 0;
	size_t i;

	for (i = 0; i < p->n; i++) {
		int64_t ready = ring_ready(&p->r[i], p->inflight, now_ms);

		if (ready - now_ms > wait) {
			wait = ready - now_ms;
			if (which != NULL)
				*which = i;
		}
	}
	return wait;
}

void
pace_start(struct pace *p)
{
	p->inflight++;
}

void
pace_note(struct pace *p, int64_t now_ms)
{
	size_t i;

	if (p->inflight > 0)
		p->inflight--;
	for (i = 0; i < p->n; i++) {
		struct ring *r = &p->r[i];

		if (r->count < r->lim.limit) {
			r->t[(r->head + r->count) % r->lim.limit] = now_ms;
			r->count++;
		} else {
			r->t[r->head] = now_ms;
			r->head = (r->head + 1) % r->lim.limit;
		}
	}
}

const struct pace_limit *
pace_limit_get(const struct pace *p, size_t i)
{
	return i < p->n ? &p->r[i].lim : NULL;
}
