/* SPDX-License-Identifier: MIT */
/*
 * Adapter for Microsoft Graph security/alerts_v2, the default source:
 * GET {url}?$filter=lastUpdateDateTime ge .. and lastUpdateDateTime le ..
 * &$top=N with the token for https://graph.microsoft.com (or the national
 * cloud's Graph host), paged by source_odata.c.  Graph's evolvable enums
 * (serviceSource, detectionSource) hide newer members unless asked for
 * them, hence the Prefer header.  Records: record_from_graph().
 */
#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "pace.h"
#include "record_alert.h"
#include "source_impl.h"

/* Graph's hosts per cloud, which are also its token audiences
 * (reference/mde-api.md). */
static const char *const graph_hosts[] = {
    [CLOUD_GLOBAL] = "https://graph.microsoft.com",
    [CLOUD_GCC] = "https://graph.microsoft.com",
    [CLOUD_GCC_HIGH] = "https://graph.microsoft.us",
    [CLOUD_DOD] = "https://dod-graph.microsoft.us",
};

/*
 * Graph /security documents 150 requests per minute per app and tenant
 * (reference/mde-api.md 6.3); paced at 95 %, leaving room for a
 * --test-connection or a restart.
 */
static const struct pace_limit graph_limits[] = {
    {60 * 1000, 142},
};

/*
 * And 130,000 requests per 10 s per app across all its tenants (the same
 * page): one pacer for every tenant of one client_id, at 95 % too.
 */
static const struct pace_limit graph_app_limit = {10 * 1000, 123500};

static const char *const graph_keys[] = {"filter", NULL};

static const char *const graph_headers[] = {
    "Prefer: include-unknown-enum-members",
    NULL,
};

static const struct source_odata_api graph_api = {
    .label = "Graph",
    .time_field = "lastUpdateDateTime",
    .extra = "",
    .headers = graph_headers,
};

static int
graph_begin(struct source *s, const struct ts *since, const struct ts *until)
{
	return source_odata_begin(s, &graph_api, since, until);
}

static int
graph_normalize(struct source *s, const struct cJSON *item, struct record *r,
    const char **why)
{
	(void)s;
	return record_from_graph(r, item, why);
}

static int
graph_url(const struct config *c, char *out, size_t len)
{
	int n = snprintf(
	    out, len, "%s/v1.0/security/alerts_v2", graph_hosts[c->cloud]);

	return n >= 0 && (size_t)n < len ? 0 : -1;
}

static const char *
graph_audience(const struct config *c)
{
	return graph_hosts[c->cloud];
}

const struct source_ops source_graph_ops = {
    .name = "graph",
    .page_size = 500,
    .keys = graph_keys,
    .default_url = graph_url,
    .audience = graph_audience,
    .limits = graph_limits,
    .nlimits = sizeof(graph_limits) / sizeof(graph_limits[0]),
    .app_limit = &graph_app_limit,
    .probe_query = "$top=1",
    /* security/incidents beside alerts_v2: source_incidents.c */
    .streams =
        CONFIG_STREAM_BIT(STREAM_ALERTS) | CONFIG_STREAM_BIT(STREAM_INCIDENTS),
    .retired_hint = "see Microsoft Graph's changelog for what replaces it "
                    "and README, \"Migrating to Graph\"",
    .begin = graph_begin,
    .next = source_odata_next,
    .normalize = graph_normalize,
    .free_state = source_odata_free_state,
};
