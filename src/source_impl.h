/* SPDX-License-Identifier: MIT */
/*
 * State shared by source.c and the API adapters (source_siem.c, ...): the
 * common request path with token renewal, retries and Retry-After.  Not
 * part of the public interface (include/source.h).
 */
#ifndef SOURCE_IMPL_H
#define SOURCE_IMPL_H

#include <signal.h>

#include "http.h"
#include "source.h"

struct cJSON;

struct source {
	const struct source_ops *ops;
	const struct config *cfg;
	struct http *http;
	struct token *token;
	const volatile sig_atomic_t *stop;
	struct source_stats stats;
	char error[1024];
	struct http_resp resp;
	void *state;			/* the adapter's own */
};

/*
 * GET url with a bearer token and parse the JSON body into *out (owned by
 * the caller).  Renews the token once on a 401, waits out Retry-After on
 * 429, retries network errors, 5xx and malformed bodies with capped
 * backoff; logs each retry.  Returns 0 or the last error (s->error set).
 */
int source_fetch_json(struct source *s, const char *url,
    const char *const *headers, struct cJSON **out);

extern const struct source_ops source_siem_ops;

#endif
