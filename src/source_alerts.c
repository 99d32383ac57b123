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

#include "record_alert.h"
#include "source_impl.h"

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

const struct source_ops source_alerts_ops = {
    .name = "alerts",
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
