/* SPDX-License-Identifier: MIT */
/*
 * One poll cycle of one tenant: read the window [cursor - overlap, now]
 * from the source, normalise, drop what the dedup set already holds,
 * format, frame, deliver, and commit the cursor after each delivered page
 * (ARCHITECTURE section 2).  main.c runs cycles in a loop.
 */
#ifndef CYCLE_H
#define CYCLE_H

#include <signal.h>

struct config;
struct cycle;

struct cycle_stats {
	unsigned long fetched;		/* records read from the API */
	unsigned long delivered;	/* messages written to the collector */
	unsigned long duplicates;	/* dropped by the dedup set */
	unsigned long bad_records;	/* could not be normalised */
	unsigned long pages;
};

/*
 * Set up a cycle runner for c (borrowed: it must outlive the runner):
 * HTTP client, token cache, source, sink, and the cursor loaded from the
 * state directory.  Returns NULL after logging why.
 */
struct cycle *cycle_new(const struct config *c,
    const volatile sig_atomic_t *stop);
void cycle_free(struct cycle *cy);

/*
 * Run one cycle.  patient: when the collector is unreachable, keep the
 * page and retry until it answers or a stop is requested (daemon mode);
 * otherwise give up after a few attempts (--once).  Returns 0 when the
 * whole window was fetched and delivered, else the error (already
 * logged); what was delivered stays committed.
 */
int cycle_run(struct cycle *cy, int patient);

/* Totals since cycle_new(). */
const struct cycle_stats *cycle_stats(const struct cycle *cy);

#endif
