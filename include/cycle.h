/* SPDX-License-Identifier: MIT */
/*
 * The pipeline of one tenant: fetch pages of the window [cursor - overlap,
 * now], normalise, drop what the dedup set holds, format, append to the
 * durable spool and commit (spool COMMIT, then cursor file), and drain the
 * spool to the collector (ARCHITECTURE section 2).  main.c drives it.
 */
#ifndef CYCLE_H
#define CYCLE_H

#include <signal.h>
#include <stdint.h>

struct config;
struct cycle;

struct cycle_stats {
	unsigned long fetched; /* records read from the API */
	unsigned long spooled; /* messages made durable */
	unsigned long delivered; /* messages the collector acknowledged */
	unsigned long duplicates; /* dropped by the dedup set */
	unsigned long bad_records; /* could not be normalised */
	unsigned long oversized_keys; /* of those: dedup key over 64 KiB */
	unsigned long commit_parts; /* pages committed in parts: extra parts */
	unsigned long messages_shortened; /* packed to fit max_message_size */
	unsigned long values_shortened; /*   values cut in them */
	unsigned long values_dropped; /*   values left out of them */
	unsigned long pages;
};

/*
 * Set up the pipeline for c (borrowed: it must outlive the runner): HTTP
 * client, token cache, source, sink, spool (recovered) and cursor
 * (reconciled with the spool).  Returns NULL after logging why.
 */
struct cycle *cycle_new(
    const struct config *c, const volatile sig_atomic_t *stop);
void cycle_free(struct cycle *cy);

/*
 * Fetch the whole window into the spool, draining to the collector between
 * pages without waiting for it.  Stops early (0) when the spool reaches
 * [state] spool_max_size: the cursor stays, Defender keeps the data.
 * Returns 0, or the fetch error (already logged).  After ERR_RETIRED (the
 * API answers as switched off) the API is asked again only an hour later;
 * calls before that return ERR_RETIRED at once, without a request.
 */
int cycle_fetch(struct cycle *cy);

/*
 * Deliver what the spool holds (queue_drain()).  wait_ms <= 0: send what
 * can be sent now, without waiting; otherwise keep going for at most
 * wait_ms.  Returns 0 when everything is delivered and acknowledged,
 * ERR_AGAIN or ERR_SINK when not (yet), ERR_STOPPED, ERR_IO.
 */
int cycle_drain(struct cycle *cy, long wait_ms);

/*
 * Sleep up to ms, delivering the spool whenever the collector can take
 * it.  Returns early (ERR_STOPPED) when *wake becomes nonzero (a signal
 * to handle).
 */
int cycle_idle(struct cycle *cy, long ms, const volatile sig_atomic_t *wake);

/*
 * Clean stop of delivery within grace_ms (queue_finish()): deliver, wait
 * for the collector's acknowledgements, save the exact read position, so
 * that nothing acknowledged is re-sent at the next start.  Returns 0 when
 * nothing is left, ERR_AGAIN / ERR_SINK when something stays for the next
 * run, ERR_IO.
 */
int cycle_finish(struct cycle *cy, long grace_ms);

/*
 * Before a reload: send nothing more, wait at most ms for what is in
 * flight to be acknowledged, save the exact position (queue_settle()).
 */
int cycle_settle(struct cycle *cy, long ms);

/* Spool bytes the collector has not acknowledged yet. */
uint64_t cycle_pending_bytes(const struct cycle *cy);

/*
 * Why fetching is paused, in words for a log line (the spool reached
 * spool_max_size, or the disk is full), or NULL when it is not: --once
 * then stopped before it fetched everything.
 */
const char *cycle_paused(const struct cycle *cy);

struct http;
struct http_opts;
struct token;

/* HTTP client options and the token cache the configuration calls for. */
void cycle_http_opts(const struct config *c, const volatile sig_atomic_t *stop,
    struct http_opts *o);
struct token *cycle_token_new(const struct config *c, struct http *h);

struct status;

/* Fill the counters, times and state of st (status.json). */
void cycle_status(const struct cycle *cy, struct status *st);

/*
 * Call fn(arg) regularly while working or waiting (between pages, and at
 * least every every_ms (at most 1000) while idle, delivering or
 * connecting): the systemd watchdog ping.
 */
void cycle_set_tick(
    struct cycle *cy, void (*fn)(void *), void *arg, long every_ms);

/* Totals since cycle_new(). */
const struct cycle_stats *cycle_stats(const struct cycle *cy);

#endif
