/* SPDX-License-Identifier: MIT */
/*
 * OData paging shared by the Graph alerts_v2 and Alert API adapters
 * (source_graph.c, source_alerts.c): one window
 * [since, until] on the API's last-update field is read as
 *
 *   GET {url}?$filter=[(<filter>) and ]F ge <since> and F le <until>
 *       &$top=<page_size>[&$expand=..][&$skip=K]
 *
 * following @odata.nextLink (the whole URL, as paging rules require) while
 * there is one, and $skip when a full page comes without it, until a
 * short page without a nextLink.  A nextLink is followed only when it has
 * the scheme, host and port of the configured URL: the bearer token was
 * issued for that API and is never sent anywhere else.
 *
 * Neither API promises an order, and the set changes while it is read:
 * an alert updated during paging gets a last update time after `until`,
 * leaves the result set, and everything behind it moves up one place, so
 * a plain $skip walk would step over an item at the next page boundary.
 * (A nextLink is the server's own continuation, a $skiptoken or $skip
 * that paging rules forbid us to alter: it is followed as given.)  Two
 * defences for our own $skip walk:
 * - $skip advances by less than a page (a margin of 5 %), and each $skip
 *   page must contain one of the ids that ended the page before.
 *   If none is there, more items moved than the margin covers, and the
 *   window is read again from the start (at most MAX_RESTARTS times;
 *   what was taken already is dropped by the dedup set).
 * - The cursor moves only after the last page of a window (has_commit is
 *   set there alone), since the pages of one window are not in time
 *   order; the next cycle reads from cursor - overlap again, so an alert
 *   that changed meanwhile (new last update time: a new dedup key) and
 *   anything that moved within the recent past is read once more, and the
 *   dedup set drops what was already delivered.
 *
 * A page is not parsed whole: jsonscan.c checks the body and finds where
 * each record of "value" lies, and the cycle parses one record at a
 * time.  A page of 1,000 Graph alerts is a few MB of text but four times
 * that as a cJSON tree.
 */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "config.h"
#include "errcode.h"
#include "jsonscan.h"
#include "log.h"
#include "record.h"
#include "source_impl.h"

#define MAX_RESTARTS 3
#define MAX_PAGES 1000000 /* per window: a server paging in circles */
#define ORIGIN_MAX 300
#define SUBWINDOW_TICKS (3600LL * TS_TICKS_PER_SEC) /* first width: 1 h */

struct odata_state {
	const struct source_odata_api *api;
	struct ts since; /* the current sub-window */
	struct ts until;
	struct ts final; /* end of the whole window */
	int64_t width; /* ticks of the next sub-window */
	int sub_done; /* start the next sub-window on next() */
	struct buf filter; /* "$filter=..." URL-encoded */
	struct buf url; /* the request being made */
	struct buf next; /* @odata.nextLink to follow, or empty */
	struct buf anchors; /* ids that ended the last page, NUL-ended */
	struct buf first; /* id that began the last page */
	struct buf id; /* scratch: the id of one record */
	const char *text; /* the page's body (in the source's response) */
	struct source_span *spans; /* where its records lie in text */
	size_t nspans, capspans;
	int has_value; /* it has a "value" array */
	const char *link; /* its raw @odata.nextLink value, or NULL */
	size_t linklen;
	size_t nanchors;
	uint64_t offset; /* items received in this pass */
	uint64_t skip; /* $skip of the next built request */
	int done;
	int restarts;
	unsigned long pages; /* requests in this window */
	char origin[ORIGIN_MAX]; /* of the configured url */
};

static struct odata_state *
state(struct source *s)
{
	struct odata_state *st;

	if (s->state != NULL)
		return s->state;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	buf_init(&st->filter, 64 * 1024);
	buf_init(&st->url, 64 * 1024);
	buf_init(&st->next, 64 * 1024);
	buf_init(&st->anchors, 0);
	buf_init(&st->first, 0);
	buf_init(&st->id, 0);
	s->state = st;
	return st;
}

void
source_odata_free_state(struct source *s)
{
	struct odata_state *st = s->state;

	if (st == NULL)
		return;
	buf_reset(&st->filter);
	buf_reset(&st->url);
	buf_reset(&st->next);
	buf_reset(&st->anchors);
	buf_reset(&st->first);
	buf_reset(&st->id);
	free(st->spans);
	free(st);
	s->state = NULL;
}

/*
 * "scheme://host:port" of url in lowercase, with the scheme's default
 * port made explicit.  -1 for URLs we would not send a token to (no
 * scheme or host, user information, an unknown scheme).
 */
static int
origin_of(const char *url, char *out, size_t len)
{
	const char *a, *end, *hend, *port;
	size_t i, slen, plen;
	int n;

	if ((a = strstr(url, "://")) == NULL)
		return -1;
	slen = (size_t)(a - url);
	a += 3;
	end = a + strcspn(a, "/?#");
	if (end == a || memchr(a, '@', (size_t)(end - a)) != NULL)
		return -1;
	if (*a == '[') {
		if ((hend = memchr(a, ']', (size_t)(end - a))) == NULL)
			return -1;
		hend++;
	} else if ((hend = memchr(a, ':', (size_t)(end - a))) == NULL)
		hend = end;
	if (hend < end && *hend == ':' && hend + 1 < end) {
		port = hend + 1;
		plen = (size_t)(end - port);
	} else if (slen == 5 && strncasecmp(url, "https", 5) == 0) {
		port = "443";
		plen = 3;
	} else if (slen == 4 && strncasecmp(url, "http", 4) == 0) {
		port = "80";
		plen = 2;
	} else
		return -1;
	n = snprintf(out, len, "%.*s://%.*s:%.*s", (int)slen, url,
	    (int)(hend - a), a, (int)plen, port);
	if (n < 0 || (size_t)n >= len)
		return -1;
	for (i = 0; out[i] != '\0'; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
	return 0;
}

/* Items the $skip walk re-reads at each page boundary. */
static uint64_t
margin(int64_t page)
{
	if (page >= 20)
		return (uint64_t)page / 20;
	return page >= 2 ? 1 : 0;
}

static void
restart_pass(struct odata_state *st)
{
	st->offset = 0;
	st->skip = 0;
	st->nanchors = 0;
	buf_clear(&st->next);
	buf_clear(&st->anchors);
	buf_clear(&st->first);
}

/* The $filter of the sub-window [st->since, st->until]. */
static int
build_filter(struct source *s, struct odata_state *st)
{
	char a[TS_STRLEN], b[TS_STRLEN];
	int rc;

	ts_format7(&st->since, a);
	ts_format7(&st->until, b);
	/* The plain text goes to url first, then encoded into filter. */
	buf_clear(&st->url);
	buf_clear(&st->filter);
	if (s->cfg->filter != NULL && s->cfg->filter[0] != '\0' &&
	    (rc = buf_printf(&st->url, "(%s) and ", s->cfg->filter)) != 0)
		return rc;
	if ((rc = buf_printf(&st->url, "%s ge %s and %s le %s",
	         st->api->time_field, a, st->api->time_field, b)) != 0 ||
	    (rc = buf_adds(&st->filter, "$filter=")) != 0 ||
	    (rc = http_urlencode(&st->filter, st->url.data, st->url.len)) != 0)
		return rc == ERR_TOOBIG ? ERR_CONFIG : rc;
	return 0;
}

/*
 * A long window (a first run's backlog, a day of downtime) is read as
 * consecutive sub-windows, oldest first, each committed on its own: the
 * cursor advances as the backlog is read and the dedup set stays small.
 * The width adapts: it doubles after a sub-window that fit in one page.
 */
static int
start_sub(struct source *s, struct odata_state *st)
{
	int64_t left = ts_diff_ticks(&st->final, &st->since);

	st->until = st->since;
	ts_add_ticks(&st->until, st->width < left ? st->width : left);
	st->sub_done = 0;
	st->done = 0;
	st->pages = 0;
	st->restarts = 0;
	restart_pass(st);
	return build_filter(s, st);
}

int
source_odata_begin(struct source *s, const struct source_odata_api *api,
    const struct ts *since, const struct ts *until)
{
	struct odata_state *st = state(s);

	if (st == NULL)
		return ERR_NOMEM;
	st->api = api;
	st->since = *since;
	st->final = *until;
	st->width = SUBWINDOW_TICKS;
	if (origin_of(source_list_url(s), st->origin, sizeof(st->origin)) !=
	    0) {
		snprintf(s->error, sizeof(s->error),
		    "[source] url %s has no usable scheme and host",
		    source_list_url(s));
		return ERR_CONFIG;
	}
	if (ts_cmp(since, until) > 0) {
		st->done = 1;
		return 0;
	}
	return start_sub(s, st);
}

static int
build_url(struct source *s, struct odata_state *st)
{
	const char *base = source_list_url(s);

	buf_clear(&st->url);
	if (buf_printf(&st->url, "%s%c%s&$top=%" PRId64 "%s", base,
	        strchr(base, '?') ? '&' : '?', st->filter.data, s->page_size,
	        st->api->extra) != 0)
		return ERR_NOMEM;
	if (st->skip > 0 &&
	    buf_printf(&st->url, "&$skip=%" PRIu64, st->skip) != 0)
		return ERR_NOMEM;
	return 0;
}

static int
add_span(struct odata_state *st, const char *start, const char *end,
    const char *ev, const char *ev_end)
{
	struct source_span *n;
	size_t cap;

	if (st->nspans == st->capspans) {
		cap = st->capspans ? st->capspans * 2 : 256;
		if ((n = reallocarray(st->spans, cap, sizeof(*n))) == NULL)
			return ERR_NOMEM;
		st->spans = n;
		st->capspans = cap;
	}
	st->spans[st->nspans].off = (size_t)(start - st->text);
	st->spans[st->nspans].len = (size_t)(end - start);
	st->spans[st->nspans].evidence_off =
	    ev != NULL ? (size_t)(ev - st->text) : 0;
	st->spans[st->nspans].evidence_len =
	    ev != NULL ? (size_t)(ev_end - ev) : 0;
	st->nspans++;
	return 0;
}

/* Note where each element of the array at top->p lies, and step past it. */
static int
index_records(struct odata_state *st, struct jsonscan *top)
{
	struct jsonscan arr;
	const char *key, *start, *ev, *ev_end;
	size_t keylen;
	int rc;

	if (jsonscan_open(&arr, top->p, top->end, top->depth + 1) != 0)
		return ERR_PARSE;
	while ((rc = jsonscan_next(&arr, &key, &keylen)) == 1) {
		start = arr.p;
		/* and where its evidence lies, for the JSON output */
		if ((rc = jsonscan_skip_find(
		         &arr, RECORD_EVIDENCE_KEY, &ev, &ev_end)) != 0)
			return rc == JSONSCAN_NOMEM ? ERR_NOMEM : ERR_PARSE;
		if ((rc = add_span(st, start, arr.p, ev, ev_end)) != 0)
			return rc;
	}
	if (rc != 0)
		return ERR_PARSE;
	top->p = arr.p;
	return 0;
}

/*
 * source_fetch()'s take: check the page as cJSON would parse it, and find
 * its first "value" array (the records) and first "@odata.nextLink", as
 * cJSON_GetObjectItemCaseSensitive() would.
 */
static int
take_page(void *arg, const char *text, size_t len)
{
	struct odata_state *st = arg;
	const char *p = text, *end = text + len, *key;
	struct jsonscan top;
	size_t keylen;
	int seen_value = 0, is, is_link, rc;

	st->text = text;
	st->nspans = 0;
	st->has_value = 0;
	st->link = NULL;
	st->linklen = 0;
	if (len > 4 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3; /* cJSON skips a UTF-8 byte order mark */
	p = jsonscan_ws(p, end);
	if (p < end && *p != '{') /* JSON, but not an object */
		return jsonscan_value(p, end, 0) != NULL ? 0 : ERR_PARSE;
	if (jsonscan_open(&top, p, end, 0) != 0)
		return ERR_PARSE;
	while ((rc = jsonscan_next(&top, &key, &keylen)) == 1) {
		is = seen_value ? 0 : jsonscan_key_is(key, keylen, "value");
		is_link = is != 0 || st->link != NULL
		    ? 0
		    : jsonscan_key_is(key, keylen, "@odata.nextLink");
		if (is < 0 || is_link < 0)
			return ERR_NOMEM;
		if (is) {
			seen_value = 1;
			st->has_value = top.p < end && *top.p == '[';
			if (st->has_value) {
				if ((rc = index_records(st, &top)) != 0)
					return rc;
				continue;
			}
		} else if (is_link) {
			st->link = top.p;
			if (jsonscan_skip(&top) != 0)
				return ERR_PARSE;
			st->linklen = (size_t)(top.p - st->link);
			continue;
		}
		if (jsonscan_skip(&top) != 0)
			return ERR_PARSE;
	}
	return rc == 0 ? 0 : ERR_PARSE;
}

/*
 * The "id" of record i into st->id, as cJSON would read it: 1 when it
 * has one that is a string, 0 when not, or ERR_NOMEM.
 */
static int
record_id(struct odata_state *st, size_t i)
{
	const char *p = st->text + st->spans[i].off, *key, *v;
	struct jsonscan js;
	size_t keylen;
	cJSON *id;
	int rc;

	buf_clear(&st->id);
	if (jsonscan_open(&js, p, p + st->spans[i].len, 0) != 0 ||
	    js.close != '}')
		return 0;
	while (jsonscan_next(&js, &key, &keylen) == 1) {
		if ((rc = jsonscan_key_is(key, keylen, "id")) < 0)
			return ERR_NOMEM;
		if (rc == 0) {
			if (jsonscan_skip(&js) != 0)
				return 0;
			continue;
		}
		v = js.p;
		if (v >= js.end || *v != '"' || jsonscan_skip(&js) != 0)
			return 0;
		/* Mostly plain text; escapes are left to cJSON. */
		if (memchr(v, '\\', (size_t)(js.p - v)) == NULL &&
		    memchr(v, '\0', (size_t)(js.p - v)) == NULL)
			return buf_add(&st->id, v + 1, (size_t)(js.p - v - 2))
			    ? ERR_NOMEM
			    : 1;
		if ((id = cJSON_ParseWithLength(v, (size_t)(js.p - v))) == NULL)
			return ERR_NOMEM;
		rc = buf_adds(&st->id, id->valuestring) ? ERR_NOMEM : 1;
		cJSON_Delete(id);
		return rc;
	}
	return 0;
}

/* Does the page hold one of the ids that ended the page before? */
static int
anchored(struct odata_state *st)
{
	const char *a;
	size_t i, j;
	int rc;

	if (st->nanchors == 0)
		return 1;
	for (i = 0; i < st->nspans; i++) {
		if ((rc = record_id(st, i)) < 0)
			return rc;
		if (rc == 0)
			continue;
		for (j = 0, a = st->anchors.data; j < st->nanchors;
		     j++, a += strlen(a) + 1)
			if (strcmp(a, buf_str(&st->id)) == 0)
				return 1;
	}
	return 0;
}

/* Remember the ids ending this page and the one beginning it. */
static int
keep_anchors(struct source *s, struct odata_state *st)
{
	uint64_t m = margin(s->page_size);
	size_t n = st->nspans, i;
	int rc;

	buf_clear(&st->anchors);
	buf_clear(&st->first);
	st->nanchors = 0;
	if (n > 0 && (rc = record_id(st, 0)) != 0 &&
	    (rc < 0 || buf_adds(&st->first, buf_str(&st->id)) != 0))
		return ERR_NOMEM;
	for (i = n - (m < n ? m : n); i < n; i++) {
		if ((rc = record_id(st, i)) < 0)
			return rc;
		if (rc == 0)
			continue;
		if (buf_add(&st->anchors, buf_str(&st->id), st->id.len + 1) !=
		    0)
			return ERR_NOMEM;
		st->nanchors++;
	}
	return 0;
}

/*
 * A $skip page: check it continues the one before.  0 to use it, 1 to
 * read the window again, or an error.
 */
static int
check_skip_page(struct source *s, struct odata_state *st)
{
	int rc = st->nspans > 0 ? record_id(st, 0) : 0;

	if (rc < 0)
		return rc;
	if (rc == 1 && st->first.len > 0 &&
	    strcmp(buf_str(&st->id), st->first.data) == 0 &&
	    st->nspans >= (size_t)s->page_size) {
		snprintf(s->error, sizeof(s->error),
		    "%s returned the same page for $skip=%" PRIu64
		    " as before: it does not honour $skip",
		    st->api->label, st->skip);
		return ERR_HTTP;
	}
	if ((rc = anchored(st)) != 0)
		return rc < 0 ? rc : 0;
	if (st->restarts >= MAX_RESTARTS) {
		log_warning("%s: alerts keep changing while the window is "
		            "paged; continuing (the next cycle's overlap "
		            "re-reads recent changes)",
		    st->api->label);
		return 0;
	}
	st->restarts++;
	log_info("%s: more alerts changed during paging than $skip "
	         "overlaps; reading the window again",
	    st->api->label);
	return 1;
}

/* Take the page's @odata.nextLink, if any, after checking its host. */
static int
take_next_link(struct source *s, struct odata_state *st)
{
	char origin[ORIGIN_MAX];
	cJSON *nl;
	int rc = ERR_HTTP;

	buf_clear(&st->next);
	if (st->link == NULL || *st->link != '"')
		return 0;
	if ((nl = cJSON_ParseWithLength(st->link, st->linklen)) == NULL) {
		snprintf(s->error, sizeof(s->error), "out of memory");
		return ERR_NOMEM;
	}
	if (nl->valuestring[0] == '\0') {
		rc = 0;
		goto out;
	}
	if (origin_of(nl->valuestring, origin, sizeof(origin)) != 0)
		snprintf(origin, sizeof(origin), "an unusable URL");
	else if (strcmp(origin, st->origin) == 0)
		origin[0] = '\0';
	if (origin[0] != '\0')
		snprintf(s->error, sizeof(s->error),
		    "%s sent an @odata.nextLink to %s, not to %s; not "
		    "sending the access token there",
		    st->api->label, origin, st->origin);
	else if (strcmp(nl->valuestring, st->url.data) == 0)
		snprintf(s->error, sizeof(s->error),
		    "%s sent an @odata.nextLink equal to the request",
		    st->api->label);
	else if (buf_adds(&st->next, nl->valuestring) != 0)
		snprintf(s->error, sizeof(s->error),
		    "%s sent an @odata.nextLink longer than %zu bytes",
		    st->api->label, st->next.max);
	else
		rc = 0;
out:
	cJSON_Delete(nl);
	return rc;
}

/* Fetch and index the next request's page. */
static int
fetch_page(struct source *s, struct odata_state *st, int *built)
{
	int rc;

	*built = st->next.len == 0;
	if (*built) {
		if ((rc = build_url(s, st)) != 0)
			return rc;
	} else {
		buf_clear(&st->url);
		if (buf_add(&st->url, st->next.data, st->next.len) != 0)
			return ERR_NOMEM;
	}
	if ((rc = source_fetch(
	         s, st->url.data, st->api->headers, take_page, st)) != 0)
		return rc;
	if (!st->has_value) {
		snprintf(s->error, sizeof(s->error),
		    "%s answered without a \"value\" array", st->api->label);
		return ERR_PARSE;
	}
	return 0;
}

/* Where the next request starts, once this page has been taken. */
static void
advance(struct source *s, struct odata_state *st, struct source_page *page,
    int built, uint64_t n)
{
	st->offset = (built ? st->skip : st->offset) + n;
	if (st->next.len > 0)
		return;
	if (n >= (uint64_t)s->page_size) {
		st->skip = st->offset - margin(s->page_size);
		log_debug("%s: a full page without @odata.nextLink; "
		          "continuing with $skip=%" PRIu64,
		    st->api->label, st->skip);
		return;
	}
	page->commit_to = st->until;
	page->has_commit = 1;
	if (ts_cmp(&st->until, &st->final) >= 0) {
		st->done = 1;
		page->last = 1;
		return;
	}
	/* Next sub-window; the one-tick overlap is dropped by the dedup. */
	if (st->offset < (uint64_t)s->page_size && st->width < INT64_MAX / 4)
		st->width *= 2;
	st->since = st->until;
	ts_add_ticks(&st->since, -1);
	st->sub_done = 1;
	st->done = 1;
}

int
source_odata_next(struct source *s, struct source_page *page)
{
	struct odata_state *st = state(s);
	int built, rc;

	if (st == NULL)
		return ERR_NOMEM;
	if (st->sub_done && (rc = start_sub(s, st)) != 0)
		return rc;
	for (;;) {
		if (st->done) {
			/* Between windows the index of a page is not needed:
			 * 32 bytes a record, 32 KB for a page of 1,000, held
			 * by every tenant that read one would add up. */
			free(st->spans);
			st->spans = NULL;
			st->nspans = st->capspans = 0;
			return ERR_END;
		}
		if (++st->pages > MAX_PAGES) {
			snprintf(s->error, sizeof(s->error),
			    "%s sent more than %d pages for one window; "
			    "giving up on it",
			    st->api->label, MAX_PAGES);
			return ERR_HTTP;
		}
		if ((rc = fetch_page(s, st, &built)) != 0) {
			if (rc == ERR_AGAIN)
				st->pages--; /* the same request, later */
			return rc;
		}
		if (built && st->skip > 0 &&
		    (rc = check_skip_page(s, st)) != 0) {
			if (rc < 0)
				return rc;
			s->stats.splits++;
			restart_pass(st);
			/* One request per call: the next one is due at once. */
			s->retry_at_ms = 0;
			return ERR_AGAIN;
		}
		if ((rc = take_next_link(s, st)) != 0 ||
		    (rc = keep_anchors(s, st)) != 0)
			return rc;
		advance(s, st, page, built, (uint64_t)st->nspans);
		page->text = st->text;
		page->spans = st->spans;
		page->nspans = st->nspans;
		return 0;
	}
}
