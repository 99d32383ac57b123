/* SPDX-License-Identifier: MIT */
/*
 * The pipeline of one tenant: fetch pages of the window [cursor - overlap,
 * now], normalise, drop what the dedup set holds, format, append to the
 * durable spool of its output queue and commit (spool COMMIT, then cursor
 * file) (ARCHITECTURE sections 2 and 8).  daemon.c drives it, one step
 * at a time, from the scheduler; the queue delivers.
 */
#ifndef CYCLE_H
#define CYCLE_H

#include "config.h"

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

struct buf;
struct http;
struct queue;

/*
 * Where a tenant's pipeline spools: its output queue, which tenants with
 * the same output share, and the lock that serialises every use of that
 * queue's spool (appends, commits, the queue's own reads).  appended(arg)
 * is called after each commit that added messages (the queue's delivery
 * wakes up).
 */
struct cycle_feed {
	struct queue *queue;
	void (*lock)(void *arg);
	void (*unlock)(void *arg);
	void (*appended)(void *arg);
	void *arg;
};

/*
 * Set up the pipeline of tenant c (borrowed: it must outlive the cycle):
 * token cache, source, cursor (cursor_dir/cursor-API.json), reconciled
 * with last_commit, the payload of the newest COMMIT of the queue's spool
 * when it was opened (applied only when this tenant owns it).  HTTP
 * clients are lent per step (cycle_step()).  Returns NULL after logging
 * why.
 */
struct cycle *cycle_new(const struct config *c, const char *cursor_dir,
    const struct cycle_feed *feed, const struct buf *last_commit,
    const volatile sig_atomic_t *stop);

/*
 * cycle_new() for one stream of c->streams (cycle_new() is
 * STREAM_ALERTS): its own source, cursor file and COMMIT owner.
 */
struct cycle *cycle_new_stream(const struct config *c,
    enum config_stream stream, const char *cursor_dir,
    const struct cycle_feed *feed, const struct buf *last_commit,
    const volatile sig_atomic_t *stop);
void cycle_free(struct cycle *cy);

/* What a step did, and when the next one is due. */
enum cycle_step {
	CYCLE_MORE, /* a page was read: the next is due at once */
	CYCLE_WAIT, /* a request must wait (rate limit, Retry-After, backoff) */
	CYCLE_DONE, /* the window was read whole: next poll */
	CYCLE_PAUSED, /* the spool is full (or the disk): try again soon */
	CYCLE_FAILED /* the window failed (cycle_error() says why) */
};

/*
 * One bounded step of the tenant's polling, at most one request (a
 * sign-in or one page), through h: open a window, read a page into the
 * spool and commit it.  Never sleeps: *due_ms is when the next step is
 * due for CYCLE_WAIT (ms of nap_now_ms()); the caller decides the others.
 */
enum cycle_step cycle_step(struct cycle *cy, struct http *h, int64_t *due_ms);

/* Whether a window is open (cycle_step() is in the middle of one). */
int cycle_busy(const struct cycle *cy);

/*
 * The disk filled under the spool: fetching waits until the queue has
 * delivered everything and compacted the spool (queue_compact()).
 */
int cycle_disk_full(const struct cycle *cy);

/*
 * A replay's (config.h: replay) position: *pos is where it has read to;
 * 1 while some of its range is left, else 0 (and 0 when not a replay).
 */
int cycle_replay_left(const struct cycle *cy, struct ts *pos);

/*
 * After CYCLE_FAILED: when the source wants to be asked again (ms of
 * nap_now_ms()), or 0 for the caller's backoff.  An API that answers as
 * retired (ERR_RETIRED) is asked again only hourly; *logged is then
 * nonzero (the cycle said so itself, with what to do).
 */
int64_t cycle_retry_at(const struct cycle *cy, int *logged);

/* The last failure (no secrets), or "". */
const char *cycle_error(const struct cycle *cy);

/* The owner of the tenant's COMMITs (spool_commit_owner()). */
const char *cycle_owner(const struct cycle *cy);

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

/* Totals since cycle_new(). */
const struct cycle_stats *cycle_stats(const struct cycle *cy);

#endif
