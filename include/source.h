/* SPDX-License-Identifier: MIT */
/*
 * The source interface: "give me the next batch of raw records after this
 * cursor".  A cycle calls source_begin() with its window, then
 * source_next() until it returns ERR_END, normalising each item of each
 * page into a canonical record.  Adapters: source_graph.c (Graph
 * security/alerts_v2), source_alerts.c (the Defender for Endpoint Alert
 * API), both paged by source_odata.c, and source_siem.c (the legacy SIEM
 * API).
 */
#ifndef SOURCE_H
#define SOURCE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "ts.h"

struct config;
struct cJSON;
struct http;
struct record;
struct token;

/*
 * Where one raw record lies in a page's text, and the value of its first
 * evidence member (RECORD_EVIDENCE_KEY; evidence_len 0 when it has none).
 */
struct source_span {
	size_t off;
	size_t len;
	size_t evidence_off;
	size_t evidence_len;
};

/*
 * The block that holds the tree of the record parsed last from a page's
 * text (source_page_next()): its nodes and strings are cut from it one
 * after another, and the next record starts again at its beginning, so
 * that a record costs no malloc or free per node.  A tree that does not
 * fit takes the rest from malloc (spilled) and the block grows for the
 * next one.
 */
struct source_arena {
	char *base;
	size_t size; /* bytes at base */
	size_t used; /* bytes given to the current tree */
	size_t want; /* bytes the current tree asked for, spilled included */
	int spilled; /* some of the current tree is malloc's */
};

/*
 * One page of raw records, read with source_page_next(): either a parsed
 * body (the SIEM API), or the body's text and the place of each record in
 * it (the OData APIs), each record parsed only when it is read, since the
 * cJSON tree of a whole page is several times the size of its text.
 */
struct source_page {
	struct cJSON *root; /* owned: the parsed body, or NULL */
	const struct cJSON *items; /* its array of raw records */
	const char *text; /* borrowed: the body, until the next */
	const struct source_span *spans; /*   source_next() */
	size_t nspans;
	size_t nread; /* records read so far */
	const struct cJSON *cur; /* the last record read from items */
	struct cJSON *item; /* owned: the last record parsed from text, */
	struct source_arena arena; /*   in this block */
	struct ts commit_to; /* cursor value once this page and */
	int has_commit; /*   all before it are delivered */
	int last; /* the window holds no more pages */
};

struct source_stats {
	unsigned long requests;
	unsigned long retries;
	unsigned long throttled;
	unsigned long splits;
};

struct source;
struct pace_limit;

/*
 * One API adapter: its code and what it knows of its API, so that the
 * configuration and the pipeline need not know any API by name.  A new
 * API is one adapter file with its source_ops and a row in source.c.
 */
struct source_ops {
	const char *name; /* api = NAME */
	/* Sign-in: Entra ID's v1 endpoint (resource=) instead of v2 (scope=). */
	int token_v1;
	int64_t page_size; /* page_size when the configuration sets none */
	/* region = choices (NULL: the API has no regions), those open in
	 * the government clouds (NULL: none), and the one used when none is
	 * given (NULL: the API's global host). */
	const char *const *regions;
	const char *const *gov_regions;
	const char *default_region;
	/* The [source] keys only some APIs read that this one reads. */
	const char *const *keys;
	/* The URL and the token audience for c's cloud and region (checked
	 * already): the URL written into out[0..len), 0 or -1 if too long. */
	int (*default_url)(const struct config *c, char *out, size_t len);
	const char *(*audience)(const struct config *c);
	/* The API's documented request limits per app and tenant, as paced. */
	const struct pace_limit *limits;
	size_t nlimits;
	/* The limit per app across all its tenants, as paced: one pacer for
	 * every source of one client_id on this API (NULL: none). */
	const struct pace_limit *app_limit;
	/* --test-connection's request for one record: these parameters, and
	 * this one set to the time a day ago (NULL: none). */
	const char *probe_query;
	const char *probe_since;
	/* The streams ([source] streams) it reads: CONFIG_STREAM_BIT()s;
	 * 0: alerts alone. */
	unsigned streams;
	/* What Microsoft announced for this API's end, for a warning that
	 * names the move to make; NULL for an API with no end announced. */
	const char *deprecation;
	/* What to do when the API answers as switched off (ERR_RETIRED);
	 * NULL: README's migration section. */
	const char *retired_hint;
	int (*begin)(
	    struct source *s, const struct ts *since, const struct ts *until);
	int (*next)(struct source *s, struct source_page *page);
	int (*normalize)(struct source *s, const struct cJSON *item,
	    struct record *r, const char **why);
	void (*free_state)(struct source *s);
	/* Bytes one answer may hold for this configuration (what parsing
	 * it whole costs is a few times that); NULL: the common cap. */
	size_t (*answer_max)(const struct config *c);
};

/*
 * The adapter of api, or NULL; source_ops_at(i) for i = 0, 1, ... lists
 * every adapter, then NULL.
 */
const struct source_ops *source_ops_for(enum config_api api);
const struct source_ops *source_ops_at(size_t i);

/*
 * A source for the configured api, using h and t (borrowed; they must
 * outlive it).  NULL on allocation failure.
 */
struct source *source_new(const struct config *c, struct http *h,
    struct token *t, const volatile sig_atomic_t *stop);
void source_free(struct source *s);

/*
 * source_new() for one stream of c->streams: STREAM_ALERTS is the api's
 * own list, STREAM_INCIDENTS Graph's security/incidents.  NULL on
 * allocation failure or a url the stream's cannot be made from.
 */
struct source *source_new_stream(const struct config *c, struct http *h,
    struct token *t, const volatile sig_atomic_t *stop,
    enum config_stream stream);

/* The URL of the list it reads (borrowed, as long as s lives). */
const char *source_url(const struct source *s);

/* Between windows: let go of the last answer's buffer (wiped). */
void source_idle(struct source *s);

/* The HTTP client of the next requests (source's and its token's). */
void source_set_http(struct source *s, struct http *h);

/* Start reading the window [since, until]. */
int source_begin(
    struct source *s, const struct ts *since, const struct ts *until);

/*
 * The next page of the window, with at most one API request.  Returns 0
 * with *page filled (the caller frees it with source_page_reset()),
 * ERR_END when the window is exhausted, ERR_AGAIN when the request must wait
 * (rate limit, Retry-After, backoff before a retry, or the next request
 * of a narrowed SIEM window): call again at source_retry_at(); or an
 * error that ends the window: ERR_NET/ERR_SERVER/ERR_PARSE/ERR_THROTTLED
 * (retried within the budget already), ERR_CREDENTIALS, ERR_FORBIDDEN,
 * ERR_AUTH, ERR_STOPPED, or ERR_RETIRED when the API answers as switched
 * off (410; a 404 after source_note_answered() or an earlier 200; an
 * error body that says so), never retried here.  source_error()
 * describes it, with what to do.
 */
int source_next(struct source *s, struct source_page *page);

/* When the request source_next() answered ERR_AGAIN for is due (ms of
 * CLOCK_MONOTONIC, as nap_now_ms()). */
int64_t source_retry_at(const struct source *s);

/*
 * Get an access token (a request to Entra ID unless one is cached), with
 * the retries of a page request.  The cycle signs in before its first
 * window, whose end the answer's Date then bounds (srvclock.h).  Returns
 * 0, ERR_AGAIN (call again at source_retry_at()), or the errors of
 * source_next(); source_error() says what happened.
 */
int source_sign_in(struct source *s);

/*
 * Normalise one item of a page: item, read last from page with
 * source_page_next() (page NULL: an item from elsewhere).  A record
 * parsed from the page's text borrows the text of its evidence
 * (record.evidence_text) from the page.  0 or ERR_BADREC with *why.
 */
int source_normalize(struct source *s, const struct source_page *page,
    const struct cJSON *item, struct record *r, const char **why);

/*
 * The next raw record of page, in order: 0 with *item (borrowed, valid
 * until the next call or source_page_reset()), ERR_END after the last
 * one (every iterator answers so: 0 an item, ERR_END no more), or
 * ERR_PARSE when a record of the text does not parse after all (nothing
 * of the page should be kept then).
 */
int source_page_next(struct source_page *page, const struct cJSON **item);

void source_page_reset(struct source_page *page);

/*
 * --test-connection: sign in and read at most one record, without
 * retries.  Returns 0 with *count (0 or 1), or the error (source_error()
 * says what happened).
 */
int source_probe(struct source *s, long *count);

/*
 * The deprecation notice of the source's API (a static, one-line text
 * naming what Microsoft announced and README's migration section), or NULL
 * when none is known.
 */
const char *source_deprecation(const struct source *s);

/*
 * The API has answered before (a cursor position says so): from now on a
 * 404 for its list of records means the API is gone (ERR_RETIRED), not a
 * wrong URL.  Any 200 answer sets this too.
 */
void source_note_answered(struct source *s);

/* Text of the last error (no secrets), and counters. */
const char *source_error(const struct source *s);
const struct source_stats *source_stats(const struct source *s);

#endif
