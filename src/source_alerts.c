/* SPDX-License-Identifier: MIT */
/*
 * Adapter for the Defender for Endpoint Alert API: GET {url}?$filter=
 * lastUpdateTime ge .. and lastUpdateTime le ..&$top=N&$expand=evidence
 * with the token for https://api.securitycenter.microsoft.com (or the
 * government host), paged by source_odata.c.  The API documents $top (up
 * to 10,000) and $skip but no @odata.nextLink and no order, so paging is
 * mostly $skip until a short page; a nextLink is followed when one comes.
 * Records: record_from_alerts().
 */
#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "pace.h"
#include "record_alert.h"
#include "source_impl.h"

/* Token audiences per cloud; the government clouds' are also their API
 * hosts (reference/mde-api.md). */
static const char *const alerts_audiences[] = {
    [CLOUD_GLOBAL] = "https://api.securitycenter.microsoft.com",
    [CLOUD_GCC] = "https://api-gcc.securitycenter.microsoft.us",
    [CLOUD_GCC_HIGH] = "https://api-gov.securitycenter.microsoft.us",
    [CLOUD_DOD] = "https://api-gov.securitycenter.microsoft.us",
};

/* The hosts {region}.api.security.microsoft.com (reference/
 * landscape-2026.md 1.3: ina is India), in the global cloud only. */
static const char *const alerts_regions[] = {
    "us", "eu", "uk", "au", "swa", "ina", NULL};

static const char *const alerts_keys[] = {"region", "filter", NULL};

/*
 * The Alert API documents 100 requests per minute and 1,500 per hour per
 * app and tenant (reference/mde-api.md 5.4); paced at 95 %.
 */
static const struct pace_limit alerts_limits[] = {
    {60 * 1000, 95},
    {3600 * 1000, 1425},
};

static const struct source_odata_api alerts_api = {
    .label = "the Alert API",
    .time_field = "lastUpdateTime",
    .extra = "&$expand=evidence",
    .headers = NULL,
};

static int
alerts_begin(struct source *s, const struct ts *since, const struct ts *until)
{
	return source_odata_begin(s, &alerts_api, since, until);
}

static int
alerts_normalize(struct source *s, const struct cJSON *item, struct record *r,
    const char **why)
{
	(void)s;
	return record_from_alerts(r, item, why);
}

static int
alerts_url(const struct config *c, char *out, size_t len)
{
	int n;

	if (c->cloud != CLOUD_GLOBAL)
		n = snprintf(
		    out, len, "%s/api/alerts", alerts_audiences[c->cloud]);
	else if (c->region != NULL)
		n = snprintf(out, len,
		    "https://%s.api.security.microsoft.com/api/alerts",
		    c->region);
	else
		n = snprintf(
		    out, len, "https://api.security.microsoft.com/api/alerts");
	return n >= 0 && (size_t)n < len ? 0 : -1;
}

static const char *
alerts_audience(const struct config *c)
{
	return alerts_audiences[c->cloud];
}

const struct source_ops source_alerts_ops = {
    .name = "alerts",
    .page_size = 1000,
    .regions = alerts_regions,
    .keys = alerts_keys,
    .default_url = alerts_url,
    .audience = alerts_audience,
    .limits = alerts_limits,
    .nlimits = sizeof(alerts_limits) / sizeof(alerts_limits[0]),
    .probe_query = "$top=1",
    /* reference/landscape-2026.md 1.2: MC1220762 retires "the MDE API and
     * XDR API"; "After February 1, 2027, the MDE and XDR APIs will no
     * longer function".  Learn names advanced hunting; the Alert API's
     * page neither names nor exempts it. */
    .deprecation = "api = alerts: Microsoft's notice MC1220762 says the "
                   "Defender for Endpoint and XDR APIs stop working after "
                   "2027-02-01, which puts the Alert API at risk; move to "
                   "api = graph (README, \"Migrating to Graph\")",
    .retired_hint = "move to api = graph (README, \"Migrating to Graph\")",
    .begin = alerts_begin,
    .next = source_odata_next,
    .normalize = alerts_normalize,
    .free_state = source_odata_free_state,
};
