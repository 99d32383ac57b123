/* SPDX-License-Identifier: MIT */
/*
 * State shared by source.c and the API adapters (source_siem.c, ...): the
 * common request path with token renewal, retries and Retry-After.  Not
 * part of the public interface (include/source.h).
 */
#ifndef SOURCE_IMPL_H
#define SOURCE_IMPL_H

#include <signal.h>

#include "config.h"
#include "http.h"
#include "source.h"

struct cJSON;
struct pace;

struct app_pace;

struct source {
	const struct source_ops *ops;
	const struct config *cfg;
	struct http *http;
	struct token *token;
	const volatile sig_atomic_t *stop;
	struct source_stats stats;
	char error[1024];
	struct http_resp resp;
	struct pace *pace; /* the API's rate limits, or NULL */
	struct app_pace *app; /* the limit per app across tenants, or NULL */
	void *state; /* the adapter's own */
	enum config_stream stream; /* what it reads */
	char *list_url; /* owned: the stream's list URL; NULL: [source] url */
	int64_t page_size; /* records per request, for this stream */
	int probe; /* one attempt, no retries */
	int answered; /* the API answered 200 before (source_note_answered) */
	/* Retries of the request being made: source_fetch() makes one
	 * attempt per call and says when the next one is due. */
	int64_t retry_at_ms; /* CLOCK_MONOTONIC ms; 0: at once */
	int attempt; /* failed attempts (network, 5xx, malformed) */
	int throttled_n; /* 429s in a row */
};

/*
 * GET url with a bearer token and parse the JSON body into *out (owned by
 * the caller).  One attempt per call: a 401 renews the token and tries
 * again at once; a 429 (Retry-After), a network error, a 5xx or a
 * malformed body that may be retried returns ERR_AGAIN with
 * s->retry_at_ms set (the caller calls again when it is due; nothing
 * here sleeps), and so does a wait for the API's rate limit.  Each retry
 * is logged.  Returns 0, ERR_AGAIN, or the error that ends the retries
 * (s->error set).
 */
int source_fetch_json(struct source *s, const char *url,
    const char *const *headers, struct cJSON **out);

/*
 * What source_fetch() does with a 200 response's body text[0..len) (NUL
 * after it), which stays in s->resp until the next request: 0, ERR_PARSE
 * when it is malformed (retried like one), or another error.
 */
typedef int source_take_fn(void *arg, const char *text, size_t len);

/* source_fetch_json(), with take(arg, ...) in place of the parse. */
int source_fetch(struct source *s, const char *url, const char *const *headers,
    source_take_fn *take, void *arg);

/*
 * OData paging for the Graph and Alert API adapters (source_odata.c):
 * $filter on the API's last-update field, $top, @odata.nextLink on the
 * configured host only, $skip after a full page without one.  The page's
 * items are the "value" array; only the last page of a window carries the
 * cursor commit.
 */
struct source_odata_api {
	const char *label; /* "Graph", "the Alert API": for messages */
	const char *time_field; /* lastUpdateDateTime, lastUpdateTime */
	const char *extra; /* more parameters, "&..." encoded, or "" */
	const char *const *headers; /* extra request headers, or NULL */
};

int source_odata_begin(struct source *s, const struct source_odata_api *api,
    const struct ts *since, const struct ts *until);
int source_odata_next(struct source *s, struct source_page *page);
void source_odata_free_state(struct source *s);

extern const struct source_ops source_siem_ops;
extern const struct source_ops source_graph_ops;
extern const struct source_ops source_alerts_ops;
extern const struct source_ops source_incidents_ops;

/* The URL of the list the source reads: its stream's, or [source] url. */
const char *source_list_url(const struct source *s);

/*
 * Graph incidents (source_incidents.c): the list URL for c (its [source]
 * url with security/alerts_v2 made security/incidents), written to
 * *out (new, the caller frees it), and the page size (at most 50).
 * 0, ERR_CONFIG when url does not end in security/alerts_v2, ERR_NOMEM.
 */
int source_incidents_url(const struct config *c, char **out);
int64_t source_incidents_page_size(const struct config *c);

#endif
