/* SPDX-License-Identifier: MIT */
/*
 * Adapter for Microsoft Graph security/incidents, the stream that [source]
 * streams = incidents adds beside Graph's alerts:
 *
 *   GET {graph}/v1.0/security/incidents?$filter=lastUpdateDateTime ge ..
 *       and lastUpdateDateTime le ..&$top=N&$expand=alerts
 *
 * with the same token as alerts_v2 (Graph's audience; the app needs
 * SecurityIncident.Read.All), paged by source_odata.c under the same
 * window, overlap and commit rules.  The list URL is [source] url with
 * its security/alerts_v2 made security/incidents, so a national cloud or
 * a test server serves both lists.  $top is at most 50 (what peers use
 * and document as the limit; Microsoft's page gives none).  $expand=alerts
 * brings each incident's alerts, whose ids the record carries as a
 * bounded list.  Records: record_from_incident().
 */
#include <stdlib.h>
#include <string.h>

#include "errcode.h"
#include "record_alert.h"
#include "source_impl.h"

#define INCIDENTS_TOP_MAX 50
#define ALERTS_PATH "/security/alerts_v2"
#define INCIDENTS_PATH "/security/incidents"

static const char *const incidents_headers[] = {
    "Prefer: include-unknown-enum-members",
    NULL,
};

static const struct source_odata_api incidents_api = {
    .label = "Graph incidents",
    .time_field = "lastUpdateDateTime",
    .extra = "&$expand=alerts",
    .headers = incidents_headers,
};

int
source_incidents_url(const struct config *c, char **out)
{
	const char *u = c->url, *q;
	size_t n, plen = strlen(ALERTS_PATH), ilen = strlen(INCIDENTS_PATH);
	size_t qlen;
	char *r;

	if (u == NULL)
		return ERR_CONFIG;
	q = u + strcspn(u, "?#");
	n = (size_t)(q - u);
	while (n > 0 && u[n - 1] == '/')
		n--;
	if (n < plen || memcmp(u + n - plen, ALERTS_PATH, plen) != 0)
		return ERR_CONFIG;
	qlen = strlen(q);
	if ((r = malloc(n - plen + ilen + qlen + 1)) == NULL)
		return ERR_NOMEM;
	memcpy(r, u, n - plen);
	memcpy(r + n - plen, INCIDENTS_PATH, ilen);
	memcpy(r + n - plen + ilen, q, qlen + 1);
	*out = r;
	return 0;
}

int64_t
source_incidents_page_size(const struct config *c)
{
	return c->page_size < INCIDENTS_TOP_MAX ? c->page_size
	                                        : INCIDENTS_TOP_MAX;
}

static int
incidents_begin(
    struct source *s, const struct ts *since, const struct ts *until)
{
	return source_odata_begin(s, &incidents_api, since, until);
}

static int
incidents_normalize(struct source *s, const struct cJSON *item,
    struct record *r, const char **why)
{
	(void)s;
	return record_from_incident(r, item, why);
}

/* Not an api of its own: what the graph adapter reads beside alerts_v2,
 * with its sign-in, hosts and limits (source_graph.c). */
const struct source_ops source_incidents_ops = {
    .name = "graph",
    .probe_query = "$top=1",
    .retired_hint = "see Microsoft Graph's changelog for what replaces "
                    "security/incidents, or set [source] streams = alerts",
    .begin = incidents_begin,
    .next = source_odata_next,
    .normalize = incidents_normalize,
    .free_state = source_odata_free_state,
};
