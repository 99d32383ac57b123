/* SPDX-License-Identifier: MIT */
/*
 * The source interface (include/source.h) and the request path every API
 * adapter shares: bearer token, one renewal on 401, Retry-After on 429,
 * capped exponential backoff with jitter on network errors, 5xx and
 * malformed bodies, and pacing under the API's documented rate limits
 * (pace.c).  Each failure gets one log line that names the host, the
 * status and the API's own error message.
 */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "errcode.h"
#include "jsonfix.h"
#include "log.h"
#include "nap.h"
#include "pace.h"
#include "record.h"
#include "source_impl.h"
#include "token.h"
#include "url.h"

#define FETCH_ATTEMPTS 4
#define BACKOFF_BASE_MS 1000L
#define BACKOFF_MAX_MS 30000L
#define RETRY_AFTER_DEFAULT 30L
#define RETRY_AFTER_MAX 900L
#define MAX_BODY (512UL * 1024 * 1024)
#define RETIRED_SCAN 4096 /* bytes of an error body searched for words */
#define PACED 1 /* fetch_once(): the app's limit is reached; s->retry_at_ms */

/* One row per api (enum config_api), each the adapter's own knowledge. */
static const struct source_ops *const adapters[] = {
    [API_GRAPH] = &source_graph_ops,
    [API_ALERTS] = &source_alerts_ops,
    [API_SIEM] = &source_siem_ops,
};

const struct source_ops *
source_ops_for(enum config_api api)
{
	if ((size_t)api >= sizeof(adapters) / sizeof(adapters[0]))
		return NULL;
	return adapters[api];
}

const struct source_ops *
source_ops_at(size_t i)
{
	return i < sizeof(adapters) / sizeof(adapters[0]) ? adapters[i] : NULL;
}

/*
 * A test hook, not a setting: MDESIEM_RATE_SCALE=0.1 shortens the pacing
 * windows tenfold (a minute becomes 6 s), to match the simulator started
 * with --rate-scale 0.1, so tests of the limits run in seconds.  Values
 * outside (0, 1] are ignored.
 */
static double
rate_scale(void)
{
	const char *v = getenv("MDESIEM_RATE_SCALE");
	char *end;
	double d;

	if (v == NULL || *v == '\0')
		return 1.0;
	errno = 0;
	d = strtod(v, &end);
	if (errno != 0 || *end != '\0' || !(d > 0.0 && d <= 1.0))
		return 1.0;
	return d;
}

/* How many streams share the API's request limits (Graph's /security). */
static unsigned
nstreams(const struct config *c)
{
	unsigned n = 0, m = c->streams;

	for (; m != 0; m >>= 1)
		n += m & 1u;
	return n > 0 ? n : 1;
}

const char *
source_list_url(const struct source *s)
{
	return s->list_url != NULL ? s->list_url : s->cfg->url;
}

const char *
source_url(const struct source *s)
{
	return source_list_url(s);
}

/*
 * The pacer of one app (client_id) on one API (source_ops.app_limit),
 * shared by its tenants' sources.
 */
struct app_pace {
	struct app_pace *next;
	const struct source_ops *ops;
	struct pace *pace;
	unsigned refs;
	char client_id[]; /* lower case */
};

/* The app pacers; every use of one holds apps_mu. */
static pthread_mutex_t apps_mu = PTHREAD_MUTEX_INITIALIZER;
static struct app_pace *apps;

/*
 * A test hook like MDESIEM_RATE_SCALE: MDESIEM_APP_LIMIT=N lowers the
 * limit per app across tenants (source_ops.app_limit) to N requests a
 * window (1 up to the adapter's), to match the simulator's
 * --rate-graph-app, so that tests reach it.
 */
static unsigned
app_limit(unsigned max)
{
	const char *v = getenv("MDESIEM_APP_LIMIT");
	char *end;
	unsigned long n;

	if (v == NULL || *v == '\0')
		return max;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < 1 || n > max)
		return max;
	return (unsigned)n;
}

/*
 * The pacer of client_id on the API of ops, made on first use.  NULL:
 * out of memory.
 */
static struct app_pace *
app_get(const struct source_ops *ops, const char *client_id)
{
	struct pace_limit lim = *ops->app_limit;
	size_t i, n = strlen(client_id);
	struct app_pace *a;

	pthread_mutex_lock(&apps_mu);
	for (a = apps; a != NULL; a = a->next)
		if (a->ops == ops && strcasecmp(a->client_id, client_id) == 0)
			break;
	lim.limit = app_limit(lim.limit);
	if (a == NULL && (a = calloc(1, sizeof(*a) + n + 1)) != NULL) {
		a->ops = ops;
		if ((a->pace = pace_new(&lim, 1, rate_scale())) == NULL) {
			free(a);
			a = NULL;
		} else {
			for (i = 0; i < n; i++)
				a->client_id[i] =
				    (char)tolower((unsigned char)client_id[i]);
			a->next = apps;
			apps = a;
		}
	}
	if (a != NULL)
		a->refs++;
	pthread_mutex_unlock(&apps_mu);
	return a;
}

static void
app_put(struct app_pace *a)
{
	struct app_pace **pp;

	if (a == NULL)
		return;
	pthread_mutex_lock(&apps_mu);
	if (--a->refs == 0) {
		for (pp = &apps; *pp != a; pp = &(*pp)->next)
			;
		*pp = a->next;
		pace_free(a->pace);
		free(a);
	}
	pthread_mutex_unlock(&apps_mu);
}

/*
 * Take a slot of the app's limit for a request starting now: 0, or the
 * milliseconds until one is free.
 */
static int64_t
app_take(struct app_pace *a)
{
	int64_t ms;

	if (a == NULL)
		return 0;
	pthread_mutex_lock(&apps_mu);
	if ((ms = pace_delay(a->pace, nap_now_ms(), NULL)) <= 0)
		pace_start(a->pace);
	pthread_mutex_unlock(&apps_mu);
	return ms > 0 ? ms : 0;
}

/* The request of app_take() finished. */
static void
app_done(struct app_pace *a)
{
	if (a == NULL)
		return;
	pthread_mutex_lock(&apps_mu);
	pace_note(a->pace, nap_now_ms());
	pthread_mutex_unlock(&apps_mu);
}

struct source *
source_new(const struct config *c, struct http *h, struct token *t,
    const volatile sig_atomic_t *stop)
{
	return source_new_stream(c, h, t, stop, STREAM_ALERTS);
}

struct source *
source_new_stream(const struct config *c, struct http *h, struct token *t,
    const volatile sig_atomic_t *stop, enum config_stream stream)
{
	const struct source_ops *api = source_ops_for(c->api);
	const struct source_ops *ops =
	    stream == STREAM_INCIDENTS ? &source_incidents_ops : api;
	struct source *s;

	if (ops == NULL || api == NULL)
		return NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	/* The streams of one tenant share the API's limits: each paces at
	 * its share (longer windows, the same counts). */
	s->pace = pace_new(
	    api->limits, api->nlimits, rate_scale() * (double)nstreams(c));
	if (s->pace == NULL ||
	    (api->app_limit != NULL && c->client_id != NULL &&
	        (s->app = app_get(api, c->client_id)) == NULL) ||
	    (stream == STREAM_INCIDENTS &&
	        source_incidents_url(c, &s->list_url) != 0)) {
		pace_free(s->pace);
		free(s);
		return NULL;
	}
	s->stream = stream;
	s->page_size = stream == STREAM_INCIDENTS
	    ? source_incidents_page_size(c)
	    : c->page_size;
	s->ops = ops;
	s->cfg = c;
	s->http = h;
	s->token = t;
	s->stop = stop;
	http_resp_init(
	    &s->resp, ops->answer_max != NULL ? ops->answer_max(c) : MAX_BODY);
	return s;
}

void
source_idle(struct source *s)
{
	http_resp_reset(&s->resp);
}

void
source_set_http(struct source *s, struct http *h)
{
	s->http = h;
	token_set_http(s->token, h);
}

void
source_free(struct source *s)
{
	if (s == NULL)
		return;
	if (s->ops->free_state != NULL)
		s->ops->free_state(s);
	http_resp_reset(&s->resp);
	pace_free(s->pace);
	free(s->list_url);
	app_put(s->app);
	free(s);
}

int
source_begin(struct source *s, const struct ts *since, const struct ts *until)
{
	s->error[0] = '\0';
	return s->ops->begin(s, since, until);
}

int
source_next(struct source *s, struct source_page *page)
{
	int rc;

	memset(page, 0, sizeof(*page));
	if ((rc = s->ops->next(s, page)) == 0)
		s->error[0] = '\0'; /* what was retried is over */
	return rc;
}

int
source_normalize(struct source *s, const struct source_page *page,
    const cJSON *item, struct record *r, const char **why)
{
	const struct source_span *sp;
	int rc = s->ops->normalize(s, item, r, why);

	if (rc != 0 || r->evidence == NULL || page == NULL ||
	    page->items != NULL || page->nread == 0 || item != page->item)
		return rc;
	sp = &page->spans[page->nread - 1];
	if (sp->evidence_len > 0 && page->text[sp->evidence_off] == '[') {
		r->evidence_text.p = page->text + sp->evidence_off;
		r->evidence_text.n = sp->evidence_len;
	}
	return 0;
}

/*
 * cJSON's allocator: from the arena of the record being parsed on this
 * thread (ARENA_ALIGN-aligned cuts), from malloc otherwise.  Only
 * source_page_next() and item_drop() set the arena, around the calls that
 * parse a record or free a spilled one; every other tree (configuration,
 * tokens, status, whole pages) is malloc's as before.
 */
#define ARENA_ALIGN 16
#define ARENA_PER_BYTE 8 /* first block: bytes per byte of the record */
#define ARENA_MIN 4096

static _Thread_local struct source_arena *parsing;

static void *
arena_alloc(size_t n)
{
	struct source_arena *a = parsing;
	size_t cut = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	void *p;

	if (a == NULL)
		return malloc(n);
	a->want += cut;
	if (cut <= a->size - a->used) {
		p = a->base + a->used;
		a->used += cut;
		return p;
	}
	a->spilled = 1;
	return malloc(n);
}

static int
in_arena(const struct source_arena *a, const void *p)
{
	uintptr_t u = (uintptr_t)p, b = (uintptr_t)a->base;

	return a->base != NULL && u >= b && u - b < a->size;
}

static void
arena_free(void *p)
{
	if (parsing != NULL && in_arena(parsing, p))
		return; /* the block is reused whole */
	free(p);
}

/* Before any thread parses anything. */
__attribute__((constructor)) static void
arena_hooks(void)
{
	cJSON_Hooks h = {arena_alloc, arena_free};

	cJSON_InitHooks(&h);
}

/* Give back the last record's tree: only what spilled is freed. */
static void
item_drop(struct source_page *page)
{
	struct source_arena *a = &page->arena;

	if (page->item != NULL && a->spilled) {
		parsing = a;
		cJSON_Delete(page->item);
		parsing = NULL;
	}
	page->item = NULL;
	a->used = 0;
	a->spilled = 0;
}

/* A block for a record of n bytes, larger than the last tree needed. */
static void
arena_fit(struct source_arena *a, size_t n)
{
	size_t need = n <= (SIZE_MAX - ARENA_MIN) / ARENA_PER_BYTE
	    ? n * ARENA_PER_BYTE + ARENA_MIN
	    : SIZE_MAX;

	if (a->want > need)
		need = a->want;
	a->want = 0;
	if (need <= a->size)
		return;
	if (a->size > 0 && need < a->size * 2 && a->size <= SIZE_MAX / 2)
		need = a->size * 2;
	free(a->base);
	a->base = malloc(need);
	a->size = a->base != NULL ? need : 0; /* none: all from malloc */
}

int
source_page_next(struct source_page *page, const cJSON **item)
{
	const struct source_span *sp;

	if (page->items != NULL) {
		if (page->nread++ == 0)
			page->cur = page->items->child;
		else if (page->cur != NULL)
			page->cur = page->cur->next;
		*item = page->cur;
		return page->cur != NULL ? 0 : ERR_END;
	}
	if (page->nread >= page->nspans)
		return ERR_END;
	sp = &page->spans[page->nread++];
	item_drop(page);
	arena_fit(&page->arena, sp->len);
	parsing = &page->arena;
	page->item = cJSON_ParseWithLength(page->text + sp->off, sp->len);
	parsing = NULL;
	if (page->item == NULL)
		return ERR_PARSE;
	*item = page->item;
	return 0;
}

void
source_page_reset(struct source_page *page)
{
	cJSON_Delete(page->root);
	item_drop(page);
	free(page->arena.base);
	memset(page, 0, sizeof(*page));
}

void
source_note_answered(struct source *s)
{
	s->answered = 1;
}

const char *
source_deprecation(const struct source *s)
{
	return s->ops->deprecation;
}

const char *
source_error(const struct source *s)
{
	return s->error;
}

const struct source_stats *
source_stats(const struct source *s)
{
	return &s->stats;
}

/* Copy the API's error message ({"error":{"code","message"}}) into out. */
static void
api_message(const struct buf *body, char *out, size_t outlen)
{
	cJSON *root = cJSON_ParseWithLength(buf_str(body), body->len);
	const cJSON *err, *code, *msg;
	size_t i;

	out[0] = '\0';
	err = cJSON_GetObjectItemCaseSensitive(root, "error");
	code = cJSON_GetObjectItemCaseSensitive(err, "code");
	msg = cJSON_GetObjectItemCaseSensitive(err, "message");
	if (cJSON_IsString(code) && cJSON_IsString(msg))
		snprintf(out, outlen, ": %s: %s", code->valuestring,
		    msg->valuestring);
	else if (cJSON_IsString(msg))
		snprintf(out, outlen, ": %s", msg->valuestring);
	cJSON_Delete(root);
	/* The text goes to a log line: keep it on one line. */
	for (i = 0; out[i] != '\0'; i++) {
		if ((unsigned char)out[i] < 0x20)
			out[i] = ' ';
	}
}

/*
 * Whether an error body says that the API is switched off.  Microsoft
 * documents no answer for a retired API (reference/mde-api.md 9), so the
 * words are those its retirement notices use; "deprecated" is not one:
 * the SIEM API has been deprecated for years and still answers.
 */
static int
says_retired(const struct buf *body)
{
	static const char *const words[] = {"retired", "decommissioned",
	    "no longer available", "no longer supported", "no longer function",
	    "switched off", "turned off", NULL};
	char text[RETIRED_SCAN + 1];
	size_t i, n = body->len < RETIRED_SCAN ? body->len : RETIRED_SCAN;

	if (n == 0)
		return 0;
	memcpy(text, body->data, n);
	text[n] = '\0';
	for (i = 0; words[i] != NULL; i++) {
		if (strcasestr(text, words[i]) != NULL)
			return 1;
	}
	return 0;
}

/*
 * An error answer that means the API is gone: 410 Gone; a 404 from an API
 * that answered before (in this run, or a cursor says so), since a whole
 * API answering 404 is what a switched-off endpoint looks like, while a
 * first 404 is as likely a wrong url or region; or any other refusal but
 * 401 and 429 whose body says so.  s->error says what was seen and what
 * to do.
 */
static int
retired(struct source *s, const char *host, const char *msg)
{
	long st = s->resp.status;
	const char *hint = s->ops->retired_hint;
	int gone = st == 410 || (st == 404 && s->answered) ||
	    (st >= 400 && st < 500 && st != 401 && st != 429 &&
	        says_retired(&s->resp.body));

	if (!gone)
		return 0;
	/* What to do first: a status line may cut the end. */
	snprintf(s->error, sizeof(s->error),
	    "the %s API answers as retired: Microsoft has switched it "
	    "off%s; %s (HTTP %ld from %s%s%s)",
	    s->ops->name,
	    st == 404 ? " (or [source] url or region changed)" : "",
	    hint != NULL ? hint : "see README, \"Migrating to Graph\"", st,
	    host, msg, st == 404 ? ", where it answered before" : "");
	return 1;
}

/*
 * Milliseconds until the API's rate limits allow one more request (0:
 * now).  A wait that long gets a log line: it is the reason a backlog
 * drains slowly.
 */
static int64_t
pace_wait(struct source *s)
{
	const struct pace_limit *lim;
	size_t which = 0;
	int64_t ms;

	ms = pace_delay(s->pace, nap_now_ms(), &which);
	if (ms <= 0)
		return 0;
	lim = pace_limit_get(s->pace, which);
	if (ms >= 5000)
		log_info("pacing requests to the %s API (at most %u per "
		         "%lld s): waiting %lld s",
		    s->ops->name, lim->limit,
		    (long long)(lim->window_ms / 1000),
		    (long long)((ms + 999) / 1000));
	return ms;
}

/*
 * One attempt: 0 once take() has the body, or an error with s->error set.
 * With url NULL (source_sign_in()), the access token alone.
 */
static int
fetch_once(struct source *s, const char *url, const char *host,
    const char *const *headers, source_take_fn *take, void *arg)
{
	const char *bearer;
	char msg[300];
	int64_t ms;
	int rc;

	if (s->stop != NULL && *s->stop)
		return ERR_STOPPED;
	if ((rc = token_get(s->token, &bearer)) != 0) {
		snprintf(
		    s->error, sizeof(s->error), "%s", token_error(s->token));
		s->resp.retry_after = token_retry_after(s->token);
		return rc;
	}
	if (url == NULL)
		return 0;
	/* The app's limit, shared: taken right before the request. */
	if (!s->probe && (ms = app_take(s->app)) > 0) {
		s->retry_at_ms = nap_now_ms() + ms;
		return PACED;
	}
	s->stats.requests++;
	rc = http_get(s->http, url, bearer, headers, &s->resp);
	if (!s->probe)
		app_done(s->app);
	pace_note(s->pace, nap_now_ms());
	if (rc != 0) {
		snprintf(s->error, sizeof(s->error), "cannot reach %s: %s",
		    host,
		    rc == ERR_TOOBIG ? "response too large" : s->resp.error);
		return rc;
	}
	if (s->resp.status == 200) {
		s->answered = 1;
		if (s->resp.body.len > 0)
			jsonfix_surrogates(s->resp.body.data, s->resp.body.len);
		rc = take(arg, buf_str(&s->resp.body), s->resp.body.len);
		if (rc == ERR_NOMEM)
			snprintf(s->error, sizeof(s->error), "out of memory");
		if (rc != ERR_PARSE)
			return rc;
		snprintf(s->error, sizeof(s->error),
		    "malformed JSON from %s "
		    "(%zu bytes)",
		    host, s->resp.body.len);
		return ERR_PARSE;
	}
	api_message(&s->resp.body, msg, sizeof(msg));
	if (retired(s, host, msg))
		return ERR_RETIRED;
	snprintf(s->error, sizeof(s->error), "HTTP %ld from %s%s",
	    s->resp.status, host, msg);
	switch (s->resp.status) {
	case 401:
		return ERR_AUTH;
	case 403:
		return ERR_FORBIDDEN;
	case 404:
		return ERR_NOTFOUND;
	case 429:
		return ERR_THROTTLED;
	default:
		return s->resp.status >= 500 ? ERR_SERVER : ERR_HTTP;
	}
}

static long
retry_delay_ms(struct source *s, int rc, int attempt)
{
	long ms;

	if (rc == ERR_THROTTLED) {
		long ra = s->resp.retry_after >= 0 ? s->resp.retry_after
		                                   : RETRY_AFTER_DEFAULT;

		return (ra > RETRY_AFTER_MAX ? RETRY_AFTER_MAX : ra) * 1000L;
	}
	ms = BACKOFF_BASE_MS << (attempt > 5 ? 5 : attempt);
	if (ms > BACKOFF_MAX_MS)
		ms = BACKOFF_MAX_MS;
	return ms / 2 + (long)nap_jitter((unsigned long)ms / 2 + 1);
}

/* The request is over (done or given up): the next one starts afresh. */
static int
settle(struct source *s, int rc)
{
	s->attempt = 0;
	s->throttled_n = 0;
	s->retry_at_ms = 0;
	return rc;
}

int
source_fetch(struct source *s, const char *url, const char *const *headers,
    source_take_fn *take, void *arg)
{
	char host[256] = "the API";
	int64_t now = nap_now_ms(), ms;
	int renewed = 0, rc;

	if (s->retry_at_ms > now)
		return ERR_AGAIN; /* called before it was due */
	/* Before the token: a long wait must not leave it near expiry. */
	if (!s->probe && (ms = pace_wait(s)) > 0) {
		s->retry_at_ms = now + ms;
		return ERR_AGAIN;
	}
	if (url != NULL)
		url_host(url, host, sizeof(host));
	for (;;) {
		rc = fetch_once(s, url, host, headers, take, arg);
		if (rc == PACED)
			return ERR_AGAIN;
		if (rc == 0 || rc == ERR_STOPPED)
			return settle(s, rc);
		if (s->probe && rc != ERR_AUTH)
			return settle(s, rc); /* --test-connection: report */
		if (rc != ERR_AUTH || renewed)
			break;
		/* The token may have been revoked or expired early. */
		renewed = 1;
		token_invalidate(s->token);
		log_info("%s; renewing the access token", s->error);
	}
	if (rc == ERR_THROTTLED && s->throttled_n < 8) {
		s->stats.throttled++;
		s->throttled_n++;
	} else if (rc == ERR_NET || rc == ERR_SERVER || rc == ERR_PARSE) {
		if (++s->attempt >= FETCH_ATTEMPTS)
			return settle(s, rc);
	} else {
		return settle(s, rc);
	}
	s->stats.retries++;
	ms = retry_delay_ms(s, rc, s->attempt);
	log_warning("%s; retrying in %ld.%ld s", s->error, (long)ms / 1000,
	    (long)ms % 1000 / 100);
	s->retry_at_ms = nap_now_ms() + ms;
	return ERR_AGAIN;
}

int64_t
source_retry_at(const struct source *s)
{
	return s->retry_at_ms;
}

int
source_sign_in(struct source *s)
{
	s->error[0] = '\0';
	return source_fetch(s, NULL, NULL, NULL, NULL);
}

static int
take_json(void *arg, const char *text, size_t len)
{
	cJSON **out = arg;

	*out = cJSON_ParseWithLength(text, len);
	return *out != NULL ? 0 : ERR_PARSE;
}

int
source_fetch_json(
    struct source *s, const char *url, const char *const *headers, cJSON **out)
{
	return source_fetch(s, url, headers, take_json, out);
}

int
source_probe(struct source *s, long *count)
{
	char since[TS_STRLEN];
	const char *base = source_list_url(s);
	char sep = strchr(base, '?') != NULL ? '&' : '?';
	const cJSON *items;
	struct buf url;
	struct ts t;
	cJSON *root = NULL;
	int rc;

	buf_init(&url, 0);
	ts_now(&t);
	ts_add_sec(&t, -86400);
	ts_format7(&t, since);
	if (s->ops->probe_since != NULL)
		rc = buf_printf(&url, "%s%c%s&%s=%s", base, sep,
		    s->ops->probe_query, s->ops->probe_since, since);
	else
		rc = buf_printf(&url, "%s%c%s", base, sep, s->ops->probe_query);
	if (rc != 0)
		goto out;
	s->probe = 1;
	rc = source_fetch_json(s, url.data, NULL, &root);
	s->probe = 0;
	if (rc != 0)
		goto out;
	items = cJSON_IsArray(root)
	    ? root
	    : cJSON_GetObjectItemCaseSensitive(root, "value");
	if (!cJSON_IsArray(items)) {
		snprintf(s->error, sizeof(s->error),
		    "the answer holds no "
		    "list of records");
		rc = ERR_PARSE;
		goto out;
	}
	*count = cJSON_GetArraySize(items);
out:
	cJSON_Delete(root);
	buf_reset(&url);
	return rc;
}
