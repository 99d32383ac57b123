/* SPDX-License-Identifier: MIT */
/*
 * Adapter for the legacy SIEM detections API ("Pull detections to your
 * SIEM tools"): GET {url}?sinceTimeUtc=..&untilTimeUtc=..&limit=N, a bare
 * JSON array filtered on LastProcessedTimeUtc (reference/mde-api.md 1.4).
 *
 * `limit` returns the MOST RECENT N records of a window, in no promised
 * order, and there is no paging.  So a full answer means the window held
 * more than we saw: it is thrown away and a narrower window is read.  The
 * window is read oldest first in sub-windows whose width adapts to the
 * density of records (the span of a full answer tells how dense the
 * newest part is), so a backlog costs few wasted requests and every
 * completed sub-window lets the cursor advance.  A window of one second or
 * less that is still full is read without `limit`: a burst sharing one
 * timestamp cannot be split.  Consecutive sub-windows overlap by one tick,
 * so no record on a boundary is missed whichever bound the service treats
 * as inclusive; the dedup set drops the repeat.
 *
 * An answer is a JSON array parsed whole, so what one answer may hold is
 * capped (siem_answer_max(): 64 KiB a record of page_size, 1 to 128 MiB);
 * an answer past the cap is dropped and the next request asks for half
 * as many records over a narrower window, growing back after answers
 * that fit.  Only a one-second window, read without `limit`, cannot be
 * made smaller: past the cap it fails with a message that says so.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "errcode.h"
#include "log.h"
#include "record.h"
#include "source_impl.h"

#define RECORD_BUDGET (64 * 1024) /* bytes a record may take in an answer */
#define ANSWER_MIN (1UL << 20)
#define ANSWER_MAX (128UL << 20)

struct siem_state {
	struct ts since; /* start of the next sub-window */
	struct ts until; /* end of the whole window */
	int64_t width; /* ticks of the next sub-window */
	long limit; /* records asked for: page_size, less after a cap */
	int done;
	struct buf url;
	struct buf groups; /* "&machinegroups=.." pre-encoded */
};

static struct siem_state *
state(struct source *s)
{
	if (s->state == NULL) {
		struct siem_state *st = calloc(1, sizeof(*st));
		char *const *g;

		if (st == NULL)
			return NULL;
		buf_init(&st->url, 0);
		buf_init(&st->groups, 0);
		for (g = s->cfg->machine_groups; g != NULL && *g != NULL; g++) {
			if (buf_adds(&st->groups, "&machinegroups=") != 0 ||
			    http_urlencode(&st->groups, *g, strlen(*g)) != 0) {
				buf_reset(&st->groups);
				free(st);
				return NULL;
			}
		}
		st->limit = (long)s->cfg->page_size;
		s->state = st;
	}
	return s->state;
}

static void
siem_free_state(struct source *s)
{
	struct siem_state *st = s->state;

	if (st == NULL)
		return;
	buf_reset(&st->url);
	buf_reset(&st->groups);
	free(st);
	s->state = NULL;
}

static int
siem_begin(struct source *s, const struct ts *since, const struct ts *until)
{
	struct siem_state *st = state(s);

	if (st == NULL)
		return ERR_NOMEM;
	st->since = *since;
	st->until = *until;
	st->width = ts_diff_ticks(until, since);
	st->done = ts_cmp(since, until) > 0;
	return 0;
}

static int
build_url(
    struct source *s, struct siem_state *st, const struct ts *end, int limited)
{
	char a[TS_STRLEN], b[TS_STRLEN];
	const char *base = s->cfg->url;

	ts_format7(&st->since, a);
	ts_format7(end, b);
	buf_clear(&st->url);
	if (buf_printf(&st->url, "%s%csinceTimeUtc=%s&untilTimeUtc=%s", base,
	        strchr(base, '?') ? '&' : '?', a, b) != 0)
		return ERR_NOMEM;
	if (limited && buf_printf(&st->url, "&limit=%ld", st->limit) != 0)
		return ERR_NOMEM;
	if (buf_add(&st->url, st->groups.data, st->groups.len) != 0)
		return ERR_NOMEM;
	return 0;
}

/* Oldest and newest LastProcessedTimeUtc in a page (end when none parse). */
static void
bounds(const cJSON *arr, const struct ts *end, struct ts *lo, struct ts *hi)
{
	const cJSON *it;
	struct ts t;
	int any = 0;

	*lo = *hi = *end;
	cJSON_ArrayForEach(it, arr)
	{
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(
		    it, "LastProcessedTimeUtc");

		if (!cJSON_IsString(v) ||
		    ts_parse(v->valuestring, strlen(v->valuestring), &t) != 0)
			continue;
		if (!any || ts_cmp(&t, lo) < 0)
			*lo = t;
		if (!any || ts_cmp(&t, hi) > 0)
			*hi = t;
		any = 1;
	}
}

/*
 * Narrow the sub-window after a full answer: aim at 70 % of a page, going
 * by the density of the newest records we were shown.  Their density is
 * measured between the oldest and the newest of them, not up to the end
 * of the window, which may be empty (a backlog that ended long ago).
 */
static void
narrow(struct siem_state *st, const cJSON *arr, const struct ts *end)
{
	struct ts lo, hi;
	int64_t span, cur;

	bounds(arr, end, &lo, &hi);
	span = ts_diff_ticks(&hi, &lo);
	cur = ts_diff_ticks(end, &st->since);
	st->width = span / 10 * 7;
	if (st->width >= cur / 2)
		st->width = cur / 2;
	if (st->width < 1)
		st->width = 1;
}

/*
 * After an answer that was not full: aim the next sub-window at 70 % of a
 * page by the density just seen, so that a backlog is read in pages of
 * even size, whatever its density; grow at most twofold at a time, as
 * what comes next may be denser.
 */
static void
adapt(struct siem_state *st, int got, int page_size)
{
	int64_t target = (int64_t)page_size * 7 / 10, w = st->width;

	if ((int64_t)got * 2 <= target) {
		if (w < INT64_MAX / 4)
			st->width = w * 2;
		return;
	}
	/* w * target / got without overflow */
	st->width = w / got * target + w % got * target / got;
	if (st->width < 1)
		st->width = 1;
}

static size_t
siem_answer_max(const struct config *c)
{
	size_t n = (size_t)c->page_size * RECORD_BUDGET;

	return n < ANSWER_MIN ? ANSWER_MIN : n > ANSWER_MAX ? ANSWER_MAX : n;
}

/*
 * An answer past siem_answer_max(): ask for half as many records over a
 * narrower window (ERR_AGAIN, due at once), or, for a one-second window
 * read without `limit`, fail saying what cannot be read.
 */
static int
too_big(
    struct source *s, struct siem_state *st, const struct ts *end, int limited)
{
	char a[TS_STRLEN];
	size_t cap = siem_answer_max(s->cfg) >> 20;

	ts_format7(&st->since, a);
	if (!limited) {
		snprintf(s->error, sizeof(s->error),
		    "the SIEM API's answer for the second from %s holds more "
		    "than %zu MiB, the most one answer may take (records "
		    "sharing one second cannot be read in parts); raise "
		    "[source] page_size (each record may take 64 KiB)",
		    a, cap);
		return ERR_TOOBIG;
	}
	st->limit = st->limit > 1 ? st->limit / 2 : 1;
	st->width = ts_diff_ticks(end, &st->since) / 2;
	if (st->width < 1)
		st->width = 1;
	log_warning("the SIEM API's answer for the window from %s passed %zu "
	            "MiB, the most one answer may take; asking for %ld records "
	            "at a time over narrower windows",
	    a, cap, st->limit);
	s->retry_at_ms = 0;
	return ERR_AGAIN;
}

static int
siem_next(struct source *s, struct source_page *page)
{
	struct siem_state *st = state(s);
	int64_t left;
	cJSON *root;
	int rc, limited;

	for (;;) {
		struct ts end = st->since;

		if (st->done)
			return ERR_END;
		left = ts_diff_ticks(&st->until, &st->since);
		ts_add_ticks(&end, st->width < left ? st->width : left);
		limited = ts_diff_ticks(&end, &st->since) > TS_TICKS_PER_SEC;
		if ((rc = build_url(s, st, &end, limited)) != 0)
			return rc;
		rc = source_fetch_json(s, st->url.data, NULL, &root);
		if (rc == ERR_TOOBIG)
			return too_big(s, st, &end, limited);
		if (rc != 0)
			return rc;
		if (!cJSON_IsArray(root)) {
			cJSON_Delete(root);
			snprintf(s->error, sizeof(s->error),
			    "the SIEM API "
			    "answered with JSON that is not an array");
			return ERR_PARSE;
		}
		if (!limited || cJSON_GetArraySize(root) < st->limit) {
			page->root = root;
			page->items = root;
			page->commit_to = end;
			page->has_commit = 1;
			if (ts_cmp(&end, &st->until) >= 0) {
				st->done = 1;
				page->last = 1;
			} else {
				/* Overlap one tick: see the file comment. */
				st->since = end;
				ts_add_ticks(&st->since, -1);
				adapt(st, cJSON_GetArraySize(root),
				    (int)st->limit);
			}
			/* Back towards page_size after an answer that fit. */
			if (st->limit < s->cfg->page_size)
				st->limit = st->limit * 2 < s->cfg->page_size
				    ? st->limit * 2
				    : (long)s->cfg->page_size;
			return 0;
		}
		s->stats.splits++;
		narrow(st, root, &end);
		log_debug("SIEM API window of %lld ms was full; narrowing to "
		          "%lld ms",
		    (long long)(ts_diff_ticks(&end, &st->since) / 10000),
		    (long long)(st->width / 10000));
		cJSON_Delete(root);
		/* One request per call: the narrower one is due at once. */
		s->retry_at_ms = 0;
		return ERR_AGAIN;
	}
}

static int
siem_normalize(
    struct source *s, const cJSON *item, struct record *r, const char **why)
{
	(void)s;
	return record_from_siem(r, item, why);
}

/* The exporter hosts wdatp-alertexporter-{us,eu,uk}.windows.com; in the
 * government clouds one US host (reference/mde-api.md 1). */
static const char *const siem_regions[] = {"us", "eu", "uk", NULL};
static const char *const siem_gov_regions[] = {"us", NULL};
static const char *const siem_keys[] = {"region", "machine_groups", NULL};

static int
siem_url(const struct config *c, char *out, size_t len)
{
	int n;

	if (c->cloud == CLOUD_GLOBAL)
		n = snprintf(out, len,
		    "https://wdatp-alertexporter-%s.windows.com/api/alerts",
		    c->region);
	else
		n = snprintf(out, len,
		    "https://wdatp-alertexporter-us%s"
		    ".securitycenter.windows.us/api/alerts",
		    c->cloud == CLOUD_GCC ? ".gcc" : "");
	return n >= 0 && (size_t)n < len ? 0 : -1;
}

static const char *
siem_audience(const struct config *c)
{
	(void)c;
	return "https://graph.windows.net";
}

/* The SIEM API documents no request limits: pacing only spaces retries. */
const struct source_ops source_siem_ops = {
    .name = "siem",
    .token_v1 = 1,
    .page_size = 1000,
    .regions = siem_regions,
    .gov_regions = siem_gov_regions,
    .default_region = "us",
    .keys = siem_keys,
    .default_url = siem_url,
    .audience = siem_audience,
    .probe_query = "limit=1",
    .probe_since = "sinceTimeUtc",
    /* reference/mde-api.md 1.9: deprecated 2023-12-31; since 2024-12-31
     * Microsoft "reserve[s] the right to turn off the SIEM API, without
     * further notice" (defender-endpoint/configure-siem). */
    .deprecation = "api = siem: the legacy SIEM API is deprecated "
                   "(2023-12-31) and Microsoft may switch it off at any "
                   "time without notice; move to api = graph (README, "
                   "\"Migrating to Graph\")",
    .retired_hint = "move to api = graph (README, \"Migrating to Graph\")",
    .begin = siem_begin,
    .next = siem_next,
    .normalize = siem_normalize,
    .answer_max = siem_answer_max,
    .free_state = siem_free_state,
};
