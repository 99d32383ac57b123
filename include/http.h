/* SPDX-License-Identifier: MIT */
/*
 * HTTP client on libcurl: one reusable easy handle (keep-alive) per
 * tenant, a hard cap on response bodies, per-request timeout, proxy and
 * CA options, and a stop flag that aborts a transfer in progress.  Used by
 * the token and source modules; network failures are returned, never
 * logged here.
 */
#ifndef HTTP_H
#define HTTP_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"

struct http;
struct srvclock;

struct http_opts {
	long timeout; /* seconds for a whole request */
	const char *ca_file; /* extra CA bundle, or NULL */
	const char *proxy; /* proxy URL, or NULL: environment */
	size_t max_body; /* hard cap on a response body */
	const volatile sig_atomic_t *stop; /* nonzero aborts, or NULL */
	const char *user_agent;
	struct srvclock *clock; /* fed every answer's Date, or NULL
				   (borrowed: must outlive the client) */
};

struct http_resp {
	long status; /* HTTP status, 0 when none was received */
	struct buf body; /* response body (capped) */
	long retry_after; /* seconds from Retry-After, -1 if absent; an
			     HTTP-date counts from the answer's Date */
	int64_t date; /* Unix seconds from the Date header, 0 if none */
	struct timespec date_mono; /* CLOCK_MONOTONIC and CLOCK_REALTIME */
	struct timespec date_real; /*   when that header arrived */
	char error[256]; /* transport error text when status == 0 */
};

/* Process-wide libcurl set-up and clean-up; call once from main. */
int http_global_init(void);

/*
 * Make OpenSSL wipe the memory it frees (it holds decrypted answers with
 * access tokens, and requests with the secret before encryption), as
 * http_global_init() does for libcurl's.  Must run before anything else
 * uses OpenSSL: first thing in main().  0, or -1 when it came too late.
 */
int http_wipe_openssl(void);
void http_global_cleanup(void);

/* A new client, or NULL.  opts strings are copied. */
struct http *http_new(const struct http_opts *opts);
void http_free(struct http *h);

/*
 * Apply opts to h, which many tenants' requests share (one client per
 * worker: its connections are reused across them).  A change of CA
 * bundle or proxy makes a fresh libcurl handle.  Returns 0 or -1.
 */
int http_configure(struct http *h, const struct http_opts *opts);

/* The clock given in the options (borrowed), or NULL. */
struct srvclock *http_clock(const struct http *h);

/* Prepare / release a response (the body buffer). */
void http_resp_init(struct http_resp *r, size_t max_body);
void http_resp_reset(struct http_resp *r);

/*
 * GET url with "Authorization: Bearer <bearer>" (when bearer != NULL) and
 * the extra headers (NULL-terminated, may be NULL).  Returns 0 when a
 * response was received (any status: check resp->status), ERR_NET on
 * connect/resolve/TLS/timeout failure (resp->error says which), ERR_TOOBIG
 * when the body passed max_body, ERR_STOPPED on a stop request.
 */
int http_get(struct http *h, const char *url, const char *bearer,
    const char *const *headers, struct http_resp *resp);

/*
 * POST an application/x-www-form-urlencoded body.  Same returns as
 * http_get().  The body may hold secrets: it is not kept or logged.
 */
int http_post_form(struct http *h, const char *url, const char *body,
    size_t len, struct http_resp *resp);

/*
 * Append s URL-encoded (RFC 3986 unreserved kept) to b.  Returns 0 or
 * a buf error.
 */
int http_urlencode(struct buf *b, const char *s, size_t n);

#endif
