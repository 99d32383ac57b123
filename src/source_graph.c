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

#include "record_alert.h"
#include "source_impl.h"

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

const struct source_ops source_graph_ops = {
    .name = "graph",
    .retired_hint = "see Microsoft Graph's changelog for what replaces it "
                    "and README, \"Migrating to Graph\"",
    .begin = graph_begin,
    .next = source_odata_next,
    .normalize = graph_normalize,
    .free_state = source_odata_free_state,
};
