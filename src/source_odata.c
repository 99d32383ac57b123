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
#include "log.h"
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
	if (origin_of(s->cfg->url, st->origin, sizeof(st->origin)) != 0) {
		snprintf(s->error, sizeof(s->error),
		    "[source] url %s has no usable scheme and host",
		    s->cfg->url);
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
	const char *base = s->cfg->url;

	buf_clear(&st->url);
	if (buf_printf(&st->url, "%s%c%s&$top=%" PRId64 "%s", base,
	        strchr(base, '?') ? '&' : '?', st->filter.data,
	        s->cfg->page_size, st->api->extra) != 0)
		return ERR_NOMEM;
	if (st->skip > 0 &&
	    buf_printf(&st->url, "&$skip=%" PRIu64, st->skip) != 0)
		return ERR_NOMEM;
	return 0;
}

static const char *
item_id(const cJSON *item)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "id");

	return cJSON_IsString(id) ? id->valuestring : NULL;
}

/* Does the page hold one of the ids that ended the page before? */
static int
anchored(const struct odata_state *st, const cJSON *items)
{
	const cJSON *it;
	const char *id, *a;
	size_t i;

	if (st->nanchors == 0)
		return 1;
	cJSON_ArrayForEach(it, items)
	{
		if ((id = item_id(it)) == NULL)
			continue;
		for (i = 0, a = st->anchors.data; i < st->nanchors;
		     i++, a += strlen(a) + 1)
			if (strcmp(a, id) == 0)
				return 1;
	}
	return 0;
}

/* Remember the ids ending this page and the one beginning it. */
static int
keep_anchors(struct source *s, struct odata_state *st, const cJSON *items)
{
	int n = cJSON_GetArraySize(items), i;
	uint64_t m = margin(s->cfg->page_size);
	const char *id;

	buf_clear(&st->anchors);
	buf_clear(&st->first);
	st->nanchors = 0;
	if (n > 0 && (id = item_id(cJSON_GetArrayItem(items, 0))) != NULL &&
	    buf_adds(&st->first, id) != 0)
		return ERR_NOMEM;
	for (i = n - (int)(m < (uint64_t)n ? m : (uint64_t)n); i < n; i++) {
		if ((id = item_id(cJSON_GetArrayItem(items, i))) == NULL)
			continue;
		if (buf_add(&st->anchors, id, strlen(id) + 1) != 0)
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
check_skip_page(struct source *s, struct odata_state *st, const cJSON *items)
{
	const char *first = cJSON_GetArraySize(items) > 0
	    ? item_id(cJSON_GetArrayItem(items, 0))
	    : NULL;

	if (first != NULL && st->first.len > 0 &&
	    strcmp(first, st->first.data) == 0 &&
	    cJSON_GetArraySize(items) >= (int)s->cfg->page_size) {
		snprintf(s->error, sizeof(s->error),
		    "%s returned the same page for $skip=%" PRIu64
		    " as before: it does not honour $skip",
		    st->api->label, st->skip);
		return ERR_HTTP;
	}
	if (anchored(st, items))
		return 0;
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
take_next_link(struct source *s, struct odata_state *st, const cJSON *root)
{
	const cJSON *nl =
	    cJSON_GetObjectItemCaseSensitive(root, "@odata.nextLink");
	char origin[ORIGIN_MAX];

	buf_clear(&st->next);
	if (!cJSON_IsString(nl) || nl->valuestring[0] == '\0')
		return 0;
	if (origin_of(nl->valuestring, origin, sizeof(origin)) != 0)
		snprintf(origin, sizeof(origin), "an unusable URL");
	else if (strcmp(origin, st->origin) == 0)
		origin[0] = '\0';
	if (origin[0] != '\0') {
		snprintf(s->error, sizeof(s->error),
		    "%s sent an @odata.nextLink to %s, not to %s; not "
		    "sending the access token there",
		    st->api->label, origin, st->origin);
		return ERR_HTTP;
	}
	if (strcmp(nl->valuestring, st->url.data) == 0) {
		snprintf(s->error, sizeof(s->error),
		    "%s sent an @odata.nextLink equal to the request",
		    st->api->label);
		return ERR_HTTP;
	}
	if (buf_adds(&st->next, nl->valuestring) != 0) {
		snprintf(s->error, sizeof(s->error),
		    "%s sent an @odata.nextLink longer than %zu bytes",
		    st->api->label, st->next.max);
		return ERR_HTTP;
	}
	return 0;
}

/* Fetch the next request's page: *root owned, *items its value array. */
static int
fetch_page(struct source *s, struct odata_state *st, int *built, cJSON **root,
    const cJSON **items)
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
	if ((rc = source_fetch_json(s, st->url.data, st->api->headers, root)) !=
	    0)
		return rc;
	*items = cJSON_GetObjectItemCaseSensitive(*root, "value");
	if (!cJSON_IsArray(*items)) {
		cJSON_Delete(*root);
		*root = NULL;
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
	if (n >= (uint64_t)s->cfg->page_size) {
		st->skip = st->offset - margin(s->cfg->page_size);
		log_debug("%s: a full page without @odata.nextLink; "
		          "continuing with $skip=%" PRIu64,
		    st->api->label, st->skip);
		return;
	}
	page->commit_to = st->until;
	page->has_commit = 1;
	if (ts_cmp(&st->until, &st->final) >= 0) {
		st->done = 1;
		return;
	}
	/* Next sub-window; the one-tick overlap is dropped by the dedup. */
	if (st->offset < (uint64_t)s->cfg->page_size &&
	    st->width < INT64_MAX / 4)
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
	const cJSON *items;
	cJSON *root;
	int built, rc;

	if (st == NULL)
		return ERR_NOMEM;
	if (st->sub_done && (rc = start_sub(s, st)) != 0)
		return rc;
	for (;;) {
		if (st->done)
			return 1;
		if (++st->pages > MAX_PAGES) {
			snprintf(s->error, sizeof(s->error),
			    "%s sent more than %d pages for one window; "
			    "giving up on it",
			    st->api->label, MAX_PAGES);
			return ERR_HTTP;
		}
		if ((rc = fetch_page(s, st, &built, &root, &items)) != 0)
			return rc;
		if (built && st->skip > 0 &&
		    (rc = check_skip_page(s, st, items)) != 0) {
			cJSON_Delete(root);
			if (rc < 0)
				return rc;
			s->stats.splits++;
			restart_pass(st);
			continue;
		}
		if ((rc = take_next_link(s, st, root)) != 0 ||
		    (rc = keep_anchors(s, st, items)) != 0) {
			cJSON_Delete(root);
			return rc;
		}
		advance(
		    s, st, page, built, (uint64_t)cJSON_GetArraySize(items));
		page->root = root;
		page->items = items;
		return 0;
	}
}
