/* SPDX-License-Identifier: MIT */
/*
 * The poll cycle (include/cycle.h): token -> source pages -> canonical
 * record -> dedup -> format -> frame -> sink -> cursor commit.  Per-record
 * work reuses the same buffers and record, so it allocates nothing once
 * warm; everything that can fail per record is counted, never fatal.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cef.h"
#include "config.h"
#include "cursor.h"
#include "cycle.h"
#include "errcode.h"
#include "frame.h"
#include "http.h"
#include "log.h"
#include "nap.h"
#include "record.h"
#include "sink.h"
#include "source.h"
#include "token.h"

#define SINK_ATTEMPTS_IMPATIENT 3

struct cycle {
	const struct config *cfg;
	const volatile sig_atomic_t *stop;
	struct http *http;
	struct token *token;
	struct source *source;
	struct sink *sink;
	struct cursor *cursor;
	struct record rec;
	struct frame_opts fopts;
	struct cef_opts cef;
	struct buf msg;			/* header + formatted message */
	struct buf framed;		/* the same, framed */
	char state_path[PATH_MAX];
	struct cycle_stats stats;
};

static int
open_cursor(struct cycle *cy)
{
	const char *why = NULL;
	int n, rc;

	n = snprintf(cy->state_path, sizeof(cy->state_path),
	    "%s/cursor-%s.json", cy->cfg->state_dir,
	    config_api_name(cy->cfg->api));
	if (n < 0 || (size_t)n >= sizeof(cy->state_path)) {
		log_error("[state] directory: path too long");
		return ERR_CONFIG;
	}
	if ((cy->cursor = cursor_new()) == NULL)
		return ERR_NOMEM;
	rc = cursor_load(cy->cursor, cy->state_path,
	    config_api_name(cy->cfg->api), cy->cfg->tenant_id, &why);
	if (rc == ERR_NOTFOUND)
		return 0;
	if (rc == ERR_IO)
		log_error("cannot read %s: %s", cy->state_path,
		    strerror(errno));
	else if (rc != 0)
		log_error("%s: %s; move it away to start over from "
		    "[source] start_from", cy->state_path, why);
	return rc;
}

static struct token *
make_token(const struct config *c, struct http *h)
{
	struct token_opts o = {
		.endpoint = c->api == API_SIEM ? TOKEN_V1 : TOKEN_V2,
		.login_url = c->login_url,
		.tenant_id = c->tenant_id,
		.client_id = c->client_id,
		.client_secret = c->client_secret,
		.audience = c->audience,
	};

	return token_new(&o, h);
}

struct cycle *
cycle_new(const struct config *c, const volatile sig_atomic_t *stop)
{
	struct http_opts ho = {
		.timeout = (long)c->timeout,
		.ca_file = c->ca_file,
		.proxy = c->proxy,
		.max_body = 512UL * 1024 * 1024,
		.stop = stop,
		.user_agent = NULL,
	};
	struct cycle *cy;

	if (c->format != FORMAT_CEF) {
		log_error("[output] format: only cef is available in this "
		    "build");
		return NULL;
	}
	if ((cy = calloc(1, sizeof(*cy))) == NULL)
		return NULL;
	cy->cfg = c;
	cy->stop = stop;
	record_init(&cy->rec);
	buf_init(&cy->msg, 0);
	buf_init(&cy->framed, 0);
	frame_opts_init(&cy->fopts, c);
	cy->cef.vendor = c->vendor;
	cy->cef.product = c->product;
	cy->cef.version = c->product_version;
	if ((cy->http = http_new(&ho)) == NULL ||
	    (cy->token = make_token(c, cy->http)) == NULL ||
	    (cy->source = source_new(c, cy->http, cy->token, stop)) == NULL ||
	    (cy->sink = sink_new(c, stop)) == NULL) {
		log_error("cannot set up the %s source and %s output: out of "
		    "memory or unsupported", config_api_name(c->api),
		    config_transport_name(c->transport));
		cycle_free(cy);
		return NULL;
	}
	if (open_cursor(cy) != 0) {
		cycle_free(cy);
		return NULL;
	}
	return cy;
}

void
cycle_free(struct cycle *cy)
{
	if (cy == NULL)
		return;
	sink_free(cy->sink);
	source_free(cy->source);
	token_free(cy->token);
	http_free(cy->http);
	cursor_free(cy->cursor);
	record_reset(&cy->rec);
	buf_reset(&cy->msg);
	buf_reset(&cy->framed);
	free(cy);
}

const struct cycle_stats *
cycle_stats(const struct cycle *cy)
{
	return &cy->stats;
}

/* The window start: cursor - overlap, or start_from on the first run. */
static int
window_start(struct cycle *cy, const struct ts *now, struct ts *since)
{
	const char *sf = cy->cfg->start_from;
	int64_t secs;

	if (cursor_has_position(cy->cursor)) {
		*since = *cursor_position(cy->cursor);
		ts_add_sec(since, -cy->cfg->overlap);
		return 0;
	}
	if (config_parse_duration(sf, &secs) == 0) {
		*since = *now;
		ts_add_sec(since, -secs);
		return 0;
	}
	if (ts_parse(sf, strlen(sf), since) == 0)
		return 0;
	log_error("[source] start_from: \"%s\" is neither a duration nor a "
	    "time", sf);
	return ERR_CONFIG;
}

/* An identifier of a raw record for log lines (never its content). */
static const char *
raw_id(const cJSON *item)
{
	static const char *const keys[] = {"FullId", "AlertId", "id"};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(item,
		    keys[i]);

		if (cJSON_IsString(v) && strlen(v->valuestring) < 200)
			return v->valuestring;
	}
	return "(no id)";
}

/* Format one record into cy->framed and queue it on the sink. */
static int
emit(struct cycle *cy, const struct ts *now)
{
	const struct strv *sev = &cy->rec.f[RF_SEVERITY];
	size_t max = (size_t)cy->cfg->max_message_size;
	int rc;

	buf_clear(&cy->msg);
	buf_clear(&cy->framed);
	if ((rc = frame_header(&cy->msg, &cy->fopts,
	    frame_severity(sev->p ? sev->p : "", sev->n), now)) != 0)
		return rc;
	cy->cef.max_len = max > cy->msg.len ? max - cy->msg.len : 1;
	if ((rc = cef_format(&cy->msg, &cy->rec, &cy->cef)) != 0)
		return rc;
	if ((rc = frame_wrap(&cy->framed, &cy->fopts, cy->msg.data,
	    cy->msg.len)) != 0)
		return rc;
	return sink_write(cy->sink, cy->framed.data, cy->framed.len);
}

static int
process_item(struct cycle *cy, const cJSON *item, const struct ts *now)
{
	const char *why = "unknown";
	int rc;

	cy->stats.fetched++;
	record_clear(&cy->rec);
	if (source_normalize(cy->source, item, &cy->rec, &why) != 0) {
		cy->stats.bad_records++;
		log_warning("skipping bad record %s: %s", raw_id(item), why);
		return 0;
	}
	if (cursor_seen(cy->cursor, cy->rec.dedup_key.p,
	    cy->rec.dedup_key.n)) {
		cy->stats.duplicates++;
		return 0;
	}
	rc = emit(cy, now);
	if (rc == ERR_TOOBIG) {
		cy->stats.bad_records++;
		log_warning("skipping record %s: it does not fit "
		    "[output] max_message_size", raw_id(item));
		return 0;
	}
	if (rc != 0 && rc != ERR_SINK)
		return rc;
	/*
	 * The key is taken now; it is persisted only after the page has
	 * been flushed to the collector, so a failed page is read again.
	 */
	if (cursor_add(cy->cursor, cy->rec.dedup_key.p, cy->rec.dedup_key.n,
	    &cy->rec.order_time) != 0)
		return ERR_NOMEM;
	cy->stats.delivered++;
	return 0; /* ERR_SINK: the message stays queued for deliver() */
}

/* Flush the page to the collector, retrying as patience allows. */
static int
deliver(struct cycle *cy, int patient)
{
	int attempts = 0, rc;

	while ((rc = sink_flush(cy->sink)) == ERR_SINK) {
		if (!patient && ++attempts >= SINK_ATTEMPTS_IMPATIENT)
			break;
	}
	return rc;
}

static int
commit(struct cycle *cy, const struct source_page *page)
{
	struct ts keep;

	if (page->has_commit)
		cursor_advance(cy->cursor, &page->commit_to);
	if (cursor_has_position(cy->cursor)) {
		keep = *cursor_position(cy->cursor);
		ts_add_sec(&keep, -cy->cfg->overlap);
		cursor_prune(cy->cursor, &keep);
	}
	if (cursor_save(cy->cursor, cy->state_path,
	    config_api_name(cy->cfg->api), cy->cfg->tenant_id) != 0) {
		log_error("cannot write %s: %s", cy->state_path,
		    strerror(errno));
		return ERR_IO;
	}
	return 0;
}

static int
run_page(struct cycle *cy, struct source_page *page, const struct ts *now,
    int patient)
{
	const cJSON *item;
	unsigned long before = cy->stats.delivered;
	int rc;

	cy->stats.pages++;
	cJSON_ArrayForEach(item, page->items)
	{
		if ((rc = process_item(cy, item, now)) != 0)
			return rc;
	}
	if ((rc = deliver(cy, patient)) != 0) {
		/* Not delivered: forget this page's keys by reloading. */
		cy->stats.delivered = before;
		return rc;
	}
	return commit(cy, page);
}

static int
reload_cursor(struct cycle *cy)
{
	cursor_free(cy->cursor);
	cy->cursor = NULL;
	return open_cursor(cy);
}

int
cycle_run(struct cycle *cy, int patient)
{
	struct source_page page;
	struct ts now, since;
	int rc;

	ts_now(&now);
	if ((rc = window_start(cy, &now, &since)) != 0)
		return rc;
	if ((rc = source_begin(cy->source, &since, &now)) != 0)
		return rc;
	while ((rc = source_next(cy->source, &page)) == 0) {
		rc = run_page(cy, &page, &now, patient);
		source_page_reset(&page);
		if (rc != 0)
			break;
	}
	if (rc == 1)
		return 0;
	if (rc != ERR_STOPPED && rc != ERR_SINK)
		log_error("fetching from the %s API failed: %s",
		    config_api_name(cy->cfg->api),
		    source_error(cy->source)[0] ? source_error(cy->source) :
		    errcode_str(rc));
	sink_discard(cy->sink);
	if (reload_cursor(cy) != 0)
		return ERR_IO;
	return rc;
}
