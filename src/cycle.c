/* SPDX-License-Identifier: MIT */
/*
 * The pipeline (include/cycle.h): token -> source pages -> canonical
 * record -> dedup -> format -> spool (COMMIT, then cursor file) -> sink.
 *
 * Delivery contract, as implemented here:
 * - A page's messages and its COMMIT (keys + cursor position) reach the
 *   disk together (one fdatasync) before the cursor file moves; recovery
 *   reconciles a cursor file that missed the last COMMIT.  A crash loses
 *   nothing and spools nothing twice.
 * - Delivery belongs to the output queue (queue.c): it drains the spool
 *   in order and persists the read position only over messages the
 *   collector acknowledged.
 * Per-record work reuses the same buffers and record: no allocation once
 * warm.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <openssl/evp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "config.h"
#include "cursor.h"
#include "cycle.h"
#include "errcode.h"
#include "format.h"
#include "frame.h"
#include "http.h"
#include "log.h"
#include "nap.h"
#include "queue.h"
#include "record.h"
#include "severity.h"
#include "source.h"
#include "spool.h"
#include "srvclock.h"
#include "status.h"
#include "token.h"

#define CYCLE_CURSOR_LAGS 1 /* page spooled, cursor file not written */
/* What the cursor file was at start (struct cycle whose) */
#define CYCLE_STATE_NONE 0 /* none */
#define CYCLE_STATE_OURS 1 /* this source's */
#define CYCLE_STATE_FRESH 2 /* another's: started afresh */
#define CLOCK_JITTER 2 /* s: Dates of two front ends may differ by that */
#define ID_PREFIX 48 /* bytes of an id shown in a log line, at most */
#define ID_TEXT (ID_PREFIX + 40)
/* "\001oversized:" + the SHA-256 of the key in hex */
#define OVERSIZED_MARK_LEN (11 + 64)
#define DEPRECATION_EVERY_MS (86400LL * 1000) /* the notice, once a day */
#define RETIRED_RETRY_MS (3600LL * 1000) /* a retired API: asked hourly */
#define PAGE_HEAD 19 /* a page message's severity, lengths and version */

struct cycle {
	const struct config *cfg;
	enum config_stream stream; /* what its source reads */
	const char *name; /* "graph", "alerts", "siem"; "graph/incidents" */
	const volatile sig_atomic_t *stop;
	struct http_opts http_opts; /* applied to each step's client */
	struct token *token;
	struct source *source;
	struct cycle_feed feed;
	struct queue *queue; /* the feed's */
	struct spool *spool; /* the queue's */
	int in_window; /* source_begin() done, pages follow */
	struct ts until; /* the open window's end */
	struct ts now; /* the host's time at its start (syslog headers) */
	struct cursor *cursor;
	struct srvclock *clock; /* the API's time, from its answers */
	struct record rec;
	struct frame_opts fopts;
	struct format *format;
	struct buf commit; /* COMMIT payload of the page */
	/*
	 * The page's messages, each PAGE_HEAD bytes (severity, length, key
	 * length, version time) then the message (syslog header and
	 * payload), formatted in place, then its Kafka key.
	 */
	struct buf page;
	size_t page_msgs;
	size_t msg_at; /* where the message being formatted begins */
	char state_path[PATH_MAX];
	struct state_owner owner; /* whose state: tenant, api, url */
	struct buf owner_text; /* as COMMITs name it */
	int whose; /* CYCLE_STATE_* */
	unsigned long cursor_damage; /* damaged cursor files set aside */
	int full_warned;
	int cursor_dirty; /* cursor file behind the spool */
	int disk_full; /* ENOSPC: wait for an empty spool */
	int ahead_warned; /* the cursor is ahead of the API's clock */
	int early_warned; /* the window starts after the API's time */
	int no_date_warned; /* answers without a Date header */
	int drop_logged; /* a record that lost values was named this cycle */
	int parts_logged; /* a page was committed in parts */
	unsigned long part_spooled; /* messages appended, not committed */
	int deprecation_said; /* the API's deprecation notice was logged */
	int64_t deprecation_at_ms; /*   then (nap_now_ms()) */
	int retired; /* the API answered as switched off */
	time_t retired_since;
	int64_t retired_retry_ms; /* when to ask it again (nap_now_ms()) */
	unsigned long part_keys; /* keys of the part without a message */
	struct cycle_stats stats;
	/* for status.json */
	int fetch_ok;
	struct ts window_end; /* end of the last window read whole */
	int has_window;
	time_t last_fetch_ok;
	char last_error[512];
	time_t last_error_at;
};

static const char *
api_name(const struct cycle *cy)
{
	return cy->name;
}

/* Another source's COMMITs may be in the spool: another tenant's, or
 * another stream's of this one. */
static int
queue_shared(const struct cycle *cy)
{
	return cy->cfg->tenant_where != NULL ||
	    cy->cfg->streams != CONFIG_STREAM_BIT(STREAM_ALERTS);
}

static int
save_cursor(struct cycle *cy)
{
	if (cursor_save(cy->cursor, cy->state_path, &cy->owner) != 0) {
		log_error(
		    "cannot write %s: %s", cy->state_path, strerror(errno));
		return ERR_IO;
	}
	return 0;
}

/*
 * The cursor file names another tenant, api or URL: this source starts
 * afresh from start_from, and the file is kept beside, never applied.
 */
static int
foreign_cursor(struct cycle *cy, const char *why)
{
	char kept[PATH_MAX + 16];
	int n = snprintf(kept, sizeof(kept), "%s.previous", cy->state_path);

	if (n < 0 || (size_t)n >= sizeof(kept) ||
	    rename(cy->state_path, kept) != 0) {
		log_error(
		    "cannot move %s away: %s", cy->state_path, strerror(errno));
		return ERR_IO;
	}
	log_warning("%s is not this source's state: %s (tenant_id, api or url "
	            "changed with the same state directory); tenant %s, %s "
	            "API at %s starts afresh from [source] start_from (%s), "
	            "and nothing of the other state is used; that file is "
	            "kept as %s",
	    cy->state_path, why, cy->owner.tenant_id, cy->owner.api,
	    cy->owner.url, cy->cfg->start_from, kept);
	cy->whose = CYCLE_STATE_FRESH;
	return 0;
}

/*
 * The cursor file is damaged (not JSON, fields missing or wrong): it is
 * kept beside for a look, and the source goes on from what the spool's
 * last COMMIT of its own says (the cursor and keys of the last page), or
 * else from start_from.  Records may come twice, none is lost.
 */
static int
damaged_cursor(struct cycle *cy, const char *why)
{
	char kept[PATH_MAX + 16];
	int n = snprintf(kept, sizeof(kept), "%s.damaged", cy->state_path);

	cursor_free(cy->cursor);
	if ((cy->cursor = cursor_new()) == NULL)
		return ERR_NOMEM;
	if (n < 0 || (size_t)n >= sizeof(kept) ||
	    rename(cy->state_path, kept) != 0) {
		log_error(
		    "cannot move %s away: %s", cy->state_path, strerror(errno));
		return ERR_IO;
	}
	log_warning("%s is damaged: %s; it is kept as %s, and the source goes "
	            "on from the spool's last commit, or else from [source] "
	            "start_from (%s): records since then may be delivered "
	            "twice, none is lost",
	    cy->state_path, why, kept, cy->cfg->start_from);
	cy->whose = CYCLE_STATE_NONE;
	cy->cursor_damage++;
	return 0;
}

static int
load_cursor(struct cycle *cy, int at_start)
{
	const char *why = NULL;
	int rc;

	cursor_free(cy->cursor);
	if ((cy->cursor = cursor_new()) == NULL)
		return ERR_NOMEM;
	rc = cursor_load(cy->cursor, cy->state_path, &cy->owner, &why);
	if (at_start)
		cy->whose = rc == 0 || rc == CURSOR_UNTAGGED ? CYCLE_STATE_OURS
		                                             : CYCLE_STATE_NONE;
	if (rc == CURSOR_UNTAGGED && at_start)
		log_info("%s names no source URL (written by an earlier "
		         "version): taken over for tenant %s, %s API at %s",
		    cy->state_path, cy->owner.tenant_id, cy->owner.api,
		    cy->owner.url);
	if (rc == ERR_NOTFOUND || rc == CURSOR_UNTAGGED)
		return 0;
	if (rc == CURSOR_FOREIGN) {
		cursor_free(cy->cursor);
		if ((cy->cursor = cursor_new()) == NULL)
			return ERR_NOMEM;
		return foreign_cursor(cy, why);
	}
	if (rc == ERR_PARSE && at_start)
		return damaged_cursor(cy, why);
	if (rc == ERR_IO)
		log_error(
		    "cannot read %s: %s", cy->state_path, strerror(errno));
	else if (rc != 0)
		log_error("%s: %s; move it away to start over from "
		          "[source] start_from",
		    cy->state_path, why);
	return rc;
}

static int
add_key(void *arg, const char *k, size_t n, const struct ts *t)
{
	return cursor_add(arg, k, n, t);
}

static int
skip_key(void *arg, const char *k, size_t n, const struct ts *t)
{
	(void)arg;
	(void)k;
	(void)n;
	(void)t;
	return 0;
}

/*
 * Whether the last COMMIT (sequence seq) may move this source's cursor:
 * one it names as its owner, never another's.  A COMMIT of an earlier
 * version names no owner: it is taken as this source's only when it is
 * exactly the page after the cursor file of this source, or the first
 * page of a source whose cursor file was never written.
 */
static int
commit_is_ours(struct cycle *cy, const struct buf *last, uint64_t seq)
{
	const char *owner;
	size_t n;

	if (spool_commit_owner_of(last->data, last->len, &owner, &n) != 0)
		return 0;
	if (owner != NULL) {
		if (n == cy->owner_text.len &&
		    memcmp(owner, cy->owner_text.data, n) == 0)
			return 1;
		/* Another tenant's or stream's, in a shared queue: no news. */
		if (queue_shared(cy))
			return 0;
		log_info("spool: the last commit is another source's (%.*s); "
		         "it is not applied to the cursor of tenant %s, %s API",
		    (int)(n < 300 ? n : 300), owner, cy->owner.tenant_id,
		    cy->owner.api);
		return 0;
	}
	if (seq == cursor_seq(cy->cursor) + 1 &&
	    (cy->whose == CYCLE_STATE_OURS || (seq == 1 && !queue_shared(cy))))
		return 1;
	log_warning("spool: the last commit (%llu, written by an earlier "
	            "version, which did not name its source) does not follow "
	            "%s (%llu): not applied; its page may be delivered again",
	    (unsigned long long)seq, cy->state_path,
	    (unsigned long long)cursor_seq(cy->cursor));
	return 0;
}

/*
 * A crash between the spool's COMMIT and the cursor file leaves the file
 * one page behind: apply that COMMIT again, when it is this source's.
 */
static int
reconcile(struct cycle *cy, const struct buf *last)
{
	uint64_t seq;
	int has_pos;
	struct ts pos;

	if (last == NULL || last->len == 0 || cy->whose == CYCLE_STATE_FRESH)
		return 0;
	if (spool_commit_decode(last->data, last->len, &seq, &has_pos, &pos,
	        skip_key, NULL) != 0) {
		log_warning("spool: the last commit record is unreadable; "
		            "its page may be delivered again");
		return 0;
	}
	if (seq <= cursor_seq(cy->cursor) || !commit_is_ours(cy, last, seq))
		return 0;
	if (spool_commit_decode(last->data, last->len, &seq, &has_pos, &pos,
	        add_key, cy->cursor) != 0)
		return ERR_NOMEM;
	if (has_pos)
		cursor_advance(cy->cursor, &pos);
	cursor_set_seq(cy->cursor, seq);
	log_info("spool: recovered the cursor of the last committed page "
	         "(commit %llu)",
	    (unsigned long long)seq);
	return save_cursor(cy);
}

static int
open_cursor(struct cycle *cy, const char *dir, const struct buf *last)
{
	int n, rc;

	/* An alerts stream keeps the file name it always had, so that an
	 * upgrade takes its state over; incidents have their own. */
	n = snprintf(cy->state_path, sizeof(cy->state_path),
	    "%s/cursor-%s%s.json", dir, config_api_name(cy->cfg->api),
	    cy->stream == STREAM_INCIDENTS ? "-incidents" : "");
	if (n < 0 || (size_t)n >= sizeof(cy->state_path)) {
		log_error("[state] directory: path too long");
		return ERR_CONFIG;
	}
	if ((rc = load_cursor(cy, 1)) != 0)
		return rc;
	if ((rc = reconcile(cy, last)) != 0)
		return rc;
	/* It answered before: a 404 for every request now means retired. */
	if (cursor_has_position(cy->cursor))
		source_note_answered(cy->source);
	return 0;
}

struct token *
cycle_token_new(const struct config *c, struct http *h)
{
	struct token_opts o = {
	    .endpoint = source_ops_for(c->api)->token_v1 ? TOKEN_V1 : TOKEN_V2,
	    .login_url = c->login_url,
	    .tenant_id = c->tenant_id,
	    .client_id = c->client_id,
	    .client_secret = c->client_secret,
	    .audience = c->audience,
	    .certificate_file = c->certificate_file,
	    .private_key_file = c->private_key_file,
	    .assertion_rs256 = c->assertion_alg == ASSERTION_RS256,
	};

	return token_new(&o, h);
}

void
cycle_http_opts(const struct config *c, const volatile sig_atomic_t *stop,
    struct http_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->timeout = (long)c->timeout;
	o->ca_file = c->ca_file;
	o->proxy = c->proxy;
	o->max_body = 512UL * 1024 * 1024;
	o->stop = stop;
}

struct cycle *
cycle_new(const struct config *c, const char *cursor_dir,
    const struct cycle_feed *feed, const struct buf *last_commit,
    const volatile sig_atomic_t *stop)
{
	return cycle_new_stream(
	    c, STREAM_ALERTS, cursor_dir, feed, last_commit, stop);
}

struct cycle *
cycle_new_stream(const struct config *c, enum config_stream stream,
    const char *cursor_dir, const struct cycle_feed *feed,
    const struct buf *last_commit, const volatile sig_atomic_t *stop)
{
	struct cycle *cy;
	const char *why;

	if ((cy = calloc(1, sizeof(*cy))) == NULL)
		return NULL;
	cy->cfg = c;
	cy->stream = stream;
	/* The owner's api names the stream: the cursors and COMMITs of
	 * alerts and incidents never mix. */
	cy->name = stream == STREAM_INCIDENTS ? "graph/incidents"
	                                      : config_api_name(c->api);
	cy->stop = stop;
	cy->feed = *feed;
	cy->queue = feed->queue;
	cy->spool = queue_spool(feed->queue);
	cy->owner.tenant_id = c->tenant_id;
	cy->owner.api = cy->name;
	cy->owner.url = c->url != NULL ? c->url : "";
	buf_init(&cy->owner_text, 0);
	if (cursor_owner_text(&cy->owner, &cy->owner_text) != 0 ||
	    cy->owner_text.len > SPOOL_OWNER_MAX) {
		log_error("[source] url: too long to name the state it owns");
		buf_reset(&cy->owner_text);
		free(cy);
		return NULL;
	}
	if ((cy->clock = srvclock_new()) == NULL) {
		buf_reset(&cy->owner_text);
		free(cy);
		return NULL;
	}
	cycle_http_opts(c, stop, &cy->http_opts);
	cy->http_opts.clock = cy->clock;
	record_init(&cy->rec);
	buf_init(&cy->commit, 0);
	buf_init(&cy->page, 0);
	frame_opts_init(&cy->fopts, c);
	/* The configuration checked the format's options (config_load()). */
	if ((cy->format = format_new(c, &why)) == NULL) {
		log_error("cannot set up the output format: %s", why);
		cycle_free(cy);
		return NULL;
	}
	if ((cy->token = cycle_token_new(c, NULL)) == NULL ||
	    (cy->source = source_new_stream(
	         c, NULL, cy->token, stop, stream)) == NULL) {
		log_error("cannot set up the %s source: out of memory or "
		          "unsupported",
		    config_api_name(c->api));
		cycle_free(cy);
		return NULL;
	}
	if (open_cursor(cy, cursor_dir, last_commit) != 0) {
		cycle_free(cy);
		return NULL;
	}
	return cy;
}

const char *
cycle_owner(const struct cycle *cy)
{
	return cy->owner_text.data;
}

const char *
cycle_error(const struct cycle *cy)
{
	return cy->fetch_ok ? "" : cy->last_error;
}

int64_t
cycle_retry_at(const struct cycle *cy, int *logged)
{
	*logged = cy->retired;
	return cy->retired ? cy->retired_retry_ms : 0;
}

int
cycle_disk_full(const struct cycle *cy)
{
	return cy->disk_full;
}

int
cycle_busy(const struct cycle *cy)
{
	return cy->in_window;
}

void
cycle_free(struct cycle *cy)
{
	if (cy == NULL)
		return;
	source_free(cy->source);
	token_free(cy->token);
	srvclock_free(cy->clock);
	cursor_free(cy->cursor);
	format_free(cy->format);
	record_reset(&cy->rec);
	buf_reset(&cy->commit);
	buf_reset(&cy->page);
	buf_reset(&cy->owner_text);
	free(cy);
}

const struct cycle_stats *
cycle_stats(const struct cycle *cy)
{
	return &cy->stats;
}

/* --- fetching: source -> spool --- */

/*
 * Say once when the host's clock and the API's disagree by more than
 * [source] clock_tolerance, and once when they agree again.
 */
static void
clock_check(struct cycle *cy)
{
	enum srvclock_change v;
	int64_t skew = 0;

	v = srvclock_check(cy->clock, cy->cfg->clock_tolerance);
	if (v == SRVCLOCK_SAME || srvclock_skew(cy->clock, &skew) != 0)
		return;
	if (v == SRVCLOCK_OFF)
		log_warning("the host's clock is %lld s %s the %s API's, more "
		            "than [source] clock_tolerance (%lld s): windows "
		            "and the cursor follow the API's clock, so nothing "
		            "is skipped, but syslog headers carry the host's "
		            "time: fix it (NTP)",
		    (long long)(skew < 0 ? -skew : skew),
		    skew < 0 ? "behind" : "ahead of", api_name(cy),
		    (long long)cy->cfg->clock_tolerance);
	else
		log_info("the host's clock agrees with the %s API's again "
		         "(%lld s apart)",
		    api_name(cy), (long long)(skew < 0 ? -skew : skew));
}

/*
 * An API Microsoft has announced the end of: say so at the first fetch
 * and once a day after that (on the monotonic clock, so that setting the
 * host's time does not repeat or hold it back), in the log that an
 * operator reads; status.json carries it all the time.
 */
static void
deprecation_check(struct cycle *cy)
{
	const char *notice = source_deprecation(cy->source);
	int64_t now = nap_now_ms();

	if (notice == NULL ||
	    (cy->deprecation_said &&
	        now - cy->deprecation_at_ms < DEPRECATION_EVERY_MS))
		return;
	cy->deprecation_said = 1;
	cy->deprecation_at_ms = now;
	log_warning("%s", notice);
}

/*
 * The end of the next window: the API's time now (srvclock.h), never the
 * host's.  Before the first answer of a run there is none yet: sign in
 * first, and the Date of Entra ID's answer bounds the first window; each
 * later answer refreshes the estimate.  Answers without a Date (a proxy
 * that strips it) leave only the host's clock.
 */
static int
window_now(struct cycle *cy, struct ts *until)
{
	int rc;

	if (!srvclock_known(cy->clock) &&
	    (rc = source_sign_in(cy->source)) != 0)
		return rc; /* ERR_AGAIN: again at source_retry_at() */
	clock_check(cy);
	if (srvclock_now(cy->clock, until) == 0)
		return 0;
	if (!cy->no_date_warned)
		log_warning("the answers of Entra ID and the %s API carry no "
		            "Date header (a proxy removes it?): windows follow "
		            "the host's clock, which must then be right",
		    api_name(cy));
	cy->no_date_warned = 1;
	ts_now(until);
	return 0;
}

/* The end of the next window: the API's time now, or a replay's end. */
static int
window_end(struct cycle *cy, struct ts *until)
{
	int rc;

	if ((rc = window_now(cy, until)) != 0)
		return rc;
	/* a replay reads up to its end and no further */
	if (cy->cfg->has_until_cap && ts_cmp(until, &cy->cfg->until_cap) > 0)
		*until = cy->cfg->until_cap;
	return 0;
}

/*
 * A cursor after the API's time was saved while the host's clock ran
 * ahead (by a version that followed the host's clock, or before the clock
 * was stepped back).  Within overlap, each window still starts before the
 * last one ended: say so, once.  Further ahead, cursor - overlap is after
 * the API's time, and whatever the API stamps before it would be skipped:
 * move the cursor back to the API's time.  The dedup keys were pruned
 * against the later position, so records of the re-read span may be
 * delivered twice; that is said too.  A second or two ahead is the Date of
 * another front end (Entra ID's, the API's), not worth a word.
 */
static void
cursor_ahead(struct cycle *cy, const struct ts *until)
{
	const struct ts *pos = cursor_position(cy->cursor);
	int64_t ahead = ts_diff_ticks(pos, until) / TS_TICKS_PER_SEC;
	char a[TS_STRLEN], b[TS_STRLEN];

	if (ahead <= CLOCK_JITTER)
		return;
	ts_format7(pos, a);
	ts_format7(until, b);
	if (ahead <= cy->cfg->overlap) {
		if (!cy->ahead_warned)
			log_warning(
			    "the cursor %s is %lld s ahead of the %s "
			    "API's clock (%s), within [source] overlap: "
			    "windows still join up",
			    a, (long long)ahead, api_name(cy), b);
		cy->ahead_warned = 1;
		return;
	}
	log_warning("the cursor %s is %lld s ahead of the %s API's clock "
	            "(%s), more than [source] overlap: it was saved while the "
	            "host's clock ran ahead; reading again from %lld s before "
	            "the API's time (records of that span may be delivered "
	            "twice)",
	    a, (long long)ahead, api_name(cy), b, (long long)cy->cfg->overlap);
	cursor_rewind(cy->cursor, until);
}

/*
 * The window start: cursor - overlap, or start_from on the first run;
 * until is the API's time now.
 */
static int
window_start(struct cycle *cy, const struct ts *until, struct ts *since)
{
	const char *sf = cy->cfg->start_from;
	int64_t secs;

	if (cursor_has_position(cy->cursor)) {
		struct ts from;

		cursor_ahead(cy, until);
		*since = *cursor_position(cy->cursor);
		ts_add_sec(since, -cy->cfg->overlap);
		/* a resumed replay never reads before its start */
		if (cy->cfg->replay && ts_parse(sf, strlen(sf), &from) == 0 &&
		    ts_cmp(since, &from) < 0)
			*since = from;
		return 0;
	}
	if (config_parse_duration(sf, &secs) == 0) {
		*since = *until;
		ts_add_sec(since, -secs);
		return 0;
	}
	if (ts_parse(sf, strlen(sf), since) == 0)
		return 0;
	log_error("[source] start_from: \"%s\" is neither a duration nor a "
	          "time",
	    sf);
	return ERR_CONFIG;
}

/*
 * A window that would start after the API's time now (start_from in the
 * future): nothing is read, and that is said once, never skipped in
 * silence.  Returns 1 for such a window, else 0.
 */
static int
window_early(struct cycle *cy, const struct ts *since, const struct ts *until)
{
	char a[TS_STRLEN], b[TS_STRLEN];

	if (ts_cmp(since, until) <= 0) {
		cy->early_warned = 0;
		return 0;
	}
	ts_format7(since, a);
	ts_format7(until, b);
	if (!cy->early_warned)
		log_warning("the window would start at %s, after the %s API's "
		            "time %s ([source] start_from in the future?): "
		            "nothing to read until then",
		    a, api_name(cy), b);
	cy->early_warned = 1;
	return 1;
}

/* An identifier of a raw record for log lines (never its content). */
static const char *
raw_id(const cJSON *item)
{
	static const char *const keys[] = {"FullId", "AlertId", "id"};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const cJSON *v =
		    cJSON_GetObjectItemCaseSensitive(item, keys[i]);

		if (cJSON_IsString(v) && strlen(v->valuestring) < 200)
			return v->valuestring;
	}
	return "(no id)";
}

/*
 * A printable prefix of id (n bytes) for a log line: at most ID_PREFIX
 * bytes, every byte outside printable ASCII as '?', and the full length
 * when it is cut.  Returns out (ID_TEXT bytes).
 */
static const char *
id_prefix(const char *id, size_t n, char out[ID_TEXT])
{
	size_t i, k = n < ID_PREFIX ? n : ID_PREFIX;

	for (i = 0; i < k; i++) {
		unsigned char ch = (unsigned char)id[i];

		out[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	out[k] = '\0';
	if (k < n)
		snprintf(out + k, ID_TEXT - k, "... (%zu bytes)", n);
	return out;
}

/*
 * What the dedup set and the COMMIT hold for a record whose key is too
 * long for a COMMIT: a short stand-in (its SHA-256), so that the record
 * is skipped and counted once, not at every re-read of the overlap.
 */
static int
oversized_mark(const char *key, size_t n, char out[OVERSIZED_MARK_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	if (EVP_Digest(key, n, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32)
		return ERR_NOMEM;
	memcpy(out, "\001oversized:", 11);
	for (i = 0; i < mdlen; i++) {
		out[11 + 2 * i] = hex[md[i] >> 4];
		out[12 + 2 * i] = hex[md[i] & 0x0f];
	}
	out[OVERSIZED_MARK_LEN] = '\0';
	return 0;
}

/*
 * Format the current record (header + payload) at the end of the page,
 * after room for its PAGE_HEAD bytes (page_add() fills them in); on
 * failure the page is as it was.
 */
static int
format_record(
    struct cycle *cy, const struct ts *now, int *sev, struct pairs_result *res)
{
	static const unsigned char room[PAGE_HEAD];
	const struct strv *sv = &cy->rec.f[RF_SEVERITY];
	size_t max = (size_t)cy->cfg->max_message_size, head;
	int rc;

	*sev = severity_of(sv->p, sv->n)->syslog;
	cy->msg_at = cy->page.len;
	if ((rc = buf_add(&cy->page, room, PAGE_HEAD)) != 0 ||
	    (rc = frame_header(&cy->page, &cy->fopts, *sev, now)) != 0)
		goto out;
	head = cy->page.len - cy->msg_at - PAGE_HEAD;
	max = max > head ? max - head : 1;
	rc = format_render(cy->format, &cy->page, &cy->rec, max, res);
out:
	if (rc != 0)
		buf_truncate(&cy->page, cy->msg_at);
	return rc;
}

/* Count a message packed to fit; name its record once a cycle. */
static void
count_packed(struct cycle *cy, const struct pairs_result *res)
{
	const struct strv *id = &cy->rec.f[RF_ALERT_ID];
	char text[ID_TEXT];

	if (res->shortened + res->dropped == 0)
		return;
	cy->stats.messages_shortened++;
	cy->stats.values_shortened += res->shortened;
	cy->stats.values_dropped += res->dropped;
	if (res->dropped == 0 || cy->drop_logged)
		return;
	cy->drop_logged = 1;
	log_info("record %s: %u values left out and %u shortened to fit "
	         "[output] max_message_size = %lld (the first this cycle; "
	         "--status counts them all)",
	    id_prefix(id->p, id->n, text), res->dropped, res->shortened,
	    (long long)cy->cfg->max_message_size);
}

static int save_cursor(struct cycle *cy);
static void warn_full(struct cycle *cy, int rc);
static int page_append(struct cycle *cy);

/*
 * Make the page so far durable: its messages and the spool COMMIT, then
 * the cursor file, all under the spool's lock, so that only the spool's
 * last COMMIT can be ahead of its owner's cursor file after a crash
 * (recovery applies it: reconcile()).  A part that adds no message and
 * no key moves only the cursor file.  last: the page's last part (the
 * cursor was advanced to its position by the caller).
 */
static int
commit_part(struct cycle *cy, int last)
{
	struct ts keep;
	int rc = 0, spooled = cy->page_msgs > 0 || cy->part_keys > 0;

	if (spooled) {
		queue_lock(cy->queue);
		if ((rc = page_append(cy)) == 0)
			rc = spool_commit(
			    cy->spool, cy->commit.data, cy->commit.len);
		if (rc != 0) {
			spool_abort(cy->spool);
			queue_unlock(cy->queue);
			return rc;
		}
		cursor_set_seq(cy->cursor, cursor_seq(cy->cursor) + 1);
	}
	cy->stats.spooled += cy->part_spooled;
	cy->part_spooled = 0;
	cy->part_keys = 0;
	buf_clear(&cy->page);
	cy->page_msgs = 0;
	if (last && cursor_has_position(cy->cursor)) {
		keep = *cursor_position(cy->cursor);
		ts_add_sec(&keep, -cy->cfg->overlap);
		cursor_prune(cy->cursor, &keep);
	}
	rc = save_cursor(cy);
	if (spooled) {
		queue_unlock(cy->queue);
		if (cy->feed.appended != NULL)
			cy->feed.appended(cy->feed.arg);
	}
	if (rc != 0) {
		/*
		 * The page is durable in the spool; only the cursor file
		 * lags.  Keep the cursor in memory (it is ahead and right),
		 * pause fetching until the file can be written again.
		 */
		cy->cursor_dirty = 1;
		warn_full(cy, ERR_FULL);
		return CYCLE_CURSOR_LAGS;
	}
	return 0;
}

/* Begin the COMMIT of the next page or part, named for its owner. */
static int
begin_commit(struct cycle *cy)
{
	int rc = spool_commit_begin(
	    &cy->commit, cursor_seq(cy->cursor) + 1, 0, NULL);

	return rc != 0 ? rc
	               : spool_commit_owner(&cy->commit, cy->owner_text.data,
	                     cy->owner_text.len);
}

/*
 * A COMMIT holds at most SPOOL_ENTRY_MAX bytes: before a key of n bytes
 * would pass that, the page so far becomes a part of its own, made
 * durable like a page (its DATA entries and a COMMIT of their keys
 * without a position, then the cursor file), and the page goes on in a
 * new part.  Only the last part moves the position, so a crash between
 * parts re-reads the page, and the keys of the parts already committed
 * drop what they hold.
 */
static int
make_room(struct cycle *cy, size_t n)
{
	int rc;

	if (cy->commit.len + SPOOL_COMMIT_KEY_SIZE(n) <= SPOOL_ENTRY_MAX)
		return 0;
	if ((rc = commit_part(cy, 0)) != 0)
		return rc;
	cy->stats.commit_parts++;
	if (!cy->parts_logged)
		log_info("spool: the dedup keys of a page pass the %u MiB one "
		         "commit holds: it is committed in parts (nothing is "
		         "skipped or sent twice)",
		    SPOOL_ENTRY_MAX >> 20);
	cy->parts_logged = 1;
	return begin_commit(cy);
}

/*
 * A dedup key over SPOOL_KEY_MAX bytes (no Defender id comes near it: a
 * damaged or hostile value) cannot be committed: the record is skipped,
 * logged by a prefix of its id and counted, once (its stand-in key is
 * committed in its place), and the stream goes on.
 */
static int
skip_oversized(struct cycle *cy)
{
	char mark[OVERSIZED_MARK_LEN + 1], id[ID_TEXT];
	struct strv k = cy->rec.dedup_key;
	int rc;

	if ((rc = oversized_mark(k.p, k.n, mark)) != 0)
		return rc;
	if (cursor_seen(cy->cursor, mark, OVERSIZED_MARK_LEN))
		return 0; /* skipped and counted before */
	cy->stats.bad_records++;
	cy->stats.oversized_keys++;
	log_warning("skipping record %s: its dedup key is %zu bytes, more "
	            "than the %u a commit can hold (a damaged or hostile "
	            "value); the stream goes on",
	    id_prefix(k.p, k.n, id), k.n, SPOOL_KEY_MAX);
	if ((rc = make_room(cy, OVERSIZED_MARK_LEN)) != 0 ||
	    (rc = spool_commit_key(&cy->commit, mark, OVERSIZED_MARK_LEN,
	         &cy->rec.order_time)) != 0)
		return rc;
	cy->part_keys++;
	return cursor_add(
	    cy->cursor, mark, OVERSIZED_MARK_LEN, &cy->rec.order_time);
}

/*
 * Keep the message just formatted for the page's commit (the spool is
 * shared, so its lock is held only to append the whole page): severity,
 * length; for Kafka also the record's key and version time (its Kafka
 * key and headers, with the tenant's name).
 */
static int
page_add(struct cycle *cy, int sev)
{
	unsigned char *h = (unsigned char *)cy->page.data + cy->msg_at;
	uint32_t n = (uint32_t)(cy->page.len - cy->msg_at - PAGE_HEAD);
	uint16_t kn = 0;
	struct strv key = {NULL, 0};

	if (cy->cfg->transport == TRANSPORT_KAFKA) {
		key = record_key(&cy->rec);
		if (key.n > SPOOL_KEY_MAX)
			key.n = 0;
		kn = (uint16_t)key.n;
	}
	h[0] = (unsigned char)sev;
	memcpy(h + 1, &n, sizeof(n));
	memcpy(h + 5, &kn, sizeof(kn));
	memcpy(h + 7, &cy->rec.order_time.sec, 8);
	memcpy(h + 15, &cy->rec.order_time.tick, 4);
	if (kn > 0 && buf_add(&cy->page, key.p, kn) != 0) {
		buf_truncate(&cy->page, cy->msg_at);
		return ERR_NOMEM;
	}
	cy->page_msgs++;
	return 0;
}

/* Append the page's messages to the spool (its lock held). */
static int
page_append(struct cycle *cy)
{
	const unsigned char *p = (const unsigned char *)cy->page.data;
	const unsigned char *end = p + cy->page.len;
	const char *tenant = cy->cfg->tenant_name;
	int kafka = cy->cfg->transport == TRANSPORT_KAFKA;
	struct spool_msg m;
	uint32_t n;
	uint16_t kn;
	int rc;

	while (p < end) {
		memcpy(&n, p + 1, sizeof(n));
		memcpy(&kn, p + 5, sizeof(kn));
		if (!kafka) {
			rc = spool_append(
			    cy->spool, p[0], (const char *)p + PAGE_HEAD, n);
		} else {
			memset(&m, 0, sizeof(m));
			m.sev = p[0];
			m.data = (const char *)p + PAGE_HEAD;
			m.len = n;
			m.key = kn > 0 ? (const char *)p + PAGE_HEAD + n : NULL;
			m.keylen = kn;
			m.tenant = tenant;
			m.tenantlen = tenant != NULL ? strlen(tenant) : 0;
			memcpy(&m.version.sec, p + 7, 8);
			memcpy(&m.version.tick, p + 15, 4);
			rc = spool_append_msg(cy->spool, &m);
		}
		if (rc != 0)
			return rc;
		p += PAGE_HEAD + n + kn;
	}
	return 0;
}

static int
process_item(struct cycle *cy, const struct source_page *page,
    const cJSON *item, const struct ts *now)
{
	const char *why = "unknown";
	struct pairs_result res;
	int rc, sev;

	cy->stats.fetched++;
	record_clear(&cy->rec);
	if (source_normalize(cy->source, page, item, &cy->rec, &why) != 0) {
		cy->stats.bad_records++;
		log_warning("skipping bad record %s: %s", raw_id(item), why);
		return 0;
	}
	/* With [tenant] sections every message names its tenant. */
	if (cy->cfg->tenant_where != NULL) {
		cy->rec.f[RF_TENANT_NAME].p = cy->cfg->tenant_name;
		cy->rec.f[RF_TENANT_NAME].n = strlen(cy->cfg->tenant_name);
		cy->rec.f[RF_TENANT_ID].p = cy->cfg->tenant_id;
		cy->rec.f[RF_TENANT_ID].n = strlen(cy->cfg->tenant_id);
	}
	/* A replayed message says so (--replay), for SIEM content. */
	if (cy->cfg->replay) {
		cy->rec.f[RF_REPLAY].p = "1";
		cy->rec.f[RF_REPLAY].n = 1;
	}
	if (cy->rec.dedup_key.n > SPOOL_KEY_MAX)
		return skip_oversized(cy);
	if (cursor_seen(cy->cursor, cy->rec.dedup_key.p, cy->rec.dedup_key.n)) {
		cy->stats.duplicates++;
		return 0;
	}
	/* A part committed here takes the page so far, before this one. */
	if ((rc = make_room(cy, cy->rec.dedup_key.n)) != 0)
		return rc;
	rc = format_record(cy, now, &sev, &res);
	if (rc == ERR_TOOBIG) {
		cy->stats.bad_records++;
		log_warning("skipping record %s: it does not fit "
		            "[output] max_message_size",
		    raw_id(item));
		return 0;
	}
	if (rc != 0 || (rc = page_add(cy, sev)) != 0)
		return rc;
	count_packed(cy, &res);
	if ((rc = spool_commit_key(&cy->commit, cy->rec.dedup_key.p,
	         cy->rec.dedup_key.n, &cy->rec.order_time)) != 0)
		return rc;
	cy->part_spooled++;
	return cursor_add(cy->cursor, cy->rec.dedup_key.p, cy->rec.dedup_key.n,
	    &cy->rec.order_time);
}

static void
warn_full(struct cycle *cy, int rc)
{
	if (rc == ERR_FULL)
		cy->disk_full = 1;
	if (cy->full_warned)
		return;
	cy->full_warned = 1;
	if (rc == ERR_FULL)
		log_warning("spool: the disk is full; fetching is paused "
		            "until delivery frees space (nothing is dropped)");
	else
		log_warning("spool: %llu bytes reached [state] spool_max_size; "
		            "fetching is paused until the collector drains it "
		            "(nothing is dropped)",
		    (unsigned long long)queue_pending_bytes(cy->queue));
}

/*
 * Make the page durable: its messages and the spool COMMIT, then the
 * cursor file, all under the spool's lock, so that only the spool's last
 * COMMIT can be ahead of its owner's cursor file after a crash (recovery
 * applies it: reconcile()).  A page that adds no message moves only the
 * cursor file.
 */
static int
commit_page(struct cycle *cy, const struct source_page *page)
{
	spool_commit_set_pos(&cy->commit, page->has_commit, &page->commit_to);
	if (page->has_commit)
		cursor_advance(cy->cursor, &page->commit_to);
	return commit_part(cy, 1);
}

static int
run_page(struct cycle *cy, struct source_page *page, const struct ts *now)
{
	const cJSON *item;
	int rc;

	cy->stats.pages++;
	buf_clear(&cy->page);
	cy->page_msgs = 0;
	cy->part_spooled = 0;
	rc = begin_commit(cy);
	while (rc == 0 && (rc = source_page_next(page, &item)) == 0)
		rc = process_item(cy, page, item, now);
	if (rc == ERR_END)
		rc = 0;
	if (rc == 0)
		rc = commit_page(cy, page);
	if (rc == CYCLE_CURSOR_LAGS)
		return ERR_FULL;
	if (rc == 0 && cy->full_warned) {
		log_info("spool: room again; fetching resumes");
		cy->full_warned = 0;
		cy->disk_full = 0;
	}
	if (rc != 0) {
		/* Nothing of this page stays: it is fetched again. */
		if (load_cursor(cy, 0) != 0)
			return ERR_IO;
		if (rc == ERR_FULL)
			warn_full(cy, rc);
		else if (rc == ERR_PARSE)
			log_error(
			    "a record of the page could not be parsed on "
			    "its own (out of memory?); nothing of the page "
			    "is kept, it is fetched again");
		else
			log_error("spool: cannot append: %s",
			    rc == ERR_IO ? strerror(errno) : errcode_str(rc));
	}
	return rc;
}

/*
 * The API answered as switched off: say it with what to do, and ask again
 * only hourly (cycle_fetch()), not at every poll: it will not come back
 * in a minute, and each answer would be one more log line.
 */
static int
retired_done(struct cycle *cy)
{
	int first = !cy->retired;

	cy->fetch_ok = 0;
	cy->retired = 1;
	cy->retired_retry_ms = nap_now_ms() + RETIRED_RETRY_MS;
	if (first)
		cy->retired_since = time(NULL);
	snprintf(cy->last_error, sizeof(cy->last_error), "%s",
	    source_error(cy->source));
	cy->last_error_at = time(NULL);
	if (first)
		log_error("%s; asking again every hour", cy->last_error);
	else
		log_warning("the %s API still answers as retired; asking "
		            "again in an hour",
		    api_name(cy));
	return ERR_RETIRED;
}

static int
fetch_done(struct cycle *cy, const struct ts *until, int rc)
{
	clock_check(cy); /* the answers of this fetch measured it again */
	if (rc == ERR_RETIRED)
		return retired_done(cy);
	if (rc == 0 && cy->retired) {
		cy->retired = 0;
		log_info(
		    "the %s API answers again; fetching resumes", api_name(cy));
	}
	if (rc == 0) {
		cy->fetch_ok = 1;
		cy->last_fetch_ok = time(NULL);
		cy->window_end = *until;
		cy->has_window = 1;
		return 0;
	}
	if (rc == ERR_FULL)
		return 0;
	cy->fetch_ok = 0;
	if (rc != ERR_STOPPED && rc != ERR_IO) {
		snprintf(cy->last_error, sizeof(cy->last_error),
		    "fetching from "
		    "the %s API failed: %s",
		    api_name(cy),
		    source_error(cy->source)[0] ? source_error(cy->source)
		                                : errcode_str(rc));
		cy->last_error_at = time(NULL);
	} else if (rc == ERR_IO) {
		snprintf(cy->last_error, sizeof(cy->last_error),
		    "the spool or the cursor file cannot be written");
		cy->last_error_at = time(NULL);
	}
	/* The daemon logs a failure once per change (daemon.c). */
	return rc;
}

/* The spool's size, read under its lock. */
static uint64_t
spooled_bytes(struct cycle *cy)
{
	uint64_t n;

	queue_lock(cy->queue);
	n = spool_bytes(cy->spool);
	queue_unlock(cy->queue);
	return n;
}

/* Whether the spool has room for another page (else warn once). */
static int
room(struct cycle *cy)
{
	/*
	 * After a full disk, wait until the collector has acknowledged
	 * everything: then the queue compacts the spool and space is back.
	 */
	if (cy->disk_full && queue_pending_bytes(cy->queue) > 0)
		return 0;
	if (spooled_bytes(cy) >= cy->cfg->spool_max_size) {
		warn_full(cy, 0);
		return 0;
	}
	return 1;
}

/*
 * A replay reads its range in REPLAY_STEPS windows or fewer, each at least
 * a minute and overlap past where the last one ended, so that its
 * progress shows and an interruption loses little.
 */
#define REPLAY_STEPS 20
static void
replay_step(struct cycle *cy, const struct ts *since, struct ts *until)
{
	struct ts from, end;
	int64_t step;
	const char *sf = cy->cfg->start_from;

	if (!cy->cfg->replay || ts_parse(sf, strlen(sf), &from) != 0)
		return;
	step = ts_diff_ticks(&cy->cfg->until_cap, &from) / REPLAY_STEPS;
	if (step < 60 * TS_TICKS_PER_SEC)
		step = 60 * TS_TICKS_PER_SEC;
	/* each window reads overlap again: make that at most half of it */
	if (step < cy->cfg->overlap * TS_TICKS_PER_SEC)
		step = cy->cfg->overlap * TS_TICKS_PER_SEC;
	end = cursor_has_position(cy->cursor) ? *cursor_position(cy->cursor)
	                                      : *since;
	ts_add_ticks(&end, step);
	if (ts_cmp(&end, until) < 0)
		*until = end;
}

int
cycle_replay_left(const struct cycle *cy, struct ts *pos)
{
	if (!cy->cfg->replay)
		return 0;
	if (!cy->has_window) {
		const char *sf = cy->cfg->start_from;

		if (cursor_has_position(cy->cursor))
			*pos = *cursor_position(cy->cursor);
		else if (ts_parse(sf, strlen(sf), pos) != 0)
			return 0;
	} else {
		*pos = cy->window_end;
	}
	return ts_cmp(pos, &cy->cfg->until_cap) < 0;
}

/* Open the window [cursor - overlap, the API's time now]. */
static int
open_window(struct cycle *cy)
{
	struct ts since;
	int rc;

	if ((rc = window_end(cy, &cy->until)) != 0)
		return rc;
	if ((rc = window_start(cy, &cy->until, &since)) != 0)
		return rc;
	replay_step(cy, &since, &cy->until);
	if (window_early(cy, &since, &cy->until))
		return 1;
	if ((rc = source_begin(cy->source, &since, &cy->until)) != 0)
		return rc;
	ts_now(&cy->now);
	cy->in_window = 1;
	cy->drop_logged = 0; /* said once a window */
	return 0;
}

/*
 * Between windows a tenant holds no working buffers: with many tenants
 * most of them are between windows at any time.
 */
static void
idle_trim(struct cycle *cy)
{
	buf_reset(&cy->page);
	buf_reset(&cy->commit);
	record_reset(&cy->rec);
	record_init(&cy->rec);
	source_idle(cy->source);
}

static enum cycle_step
step_failed(struct cycle *cy, int rc, int64_t *due_ms)
{
	cy->in_window = 0;
	if (rc == ERR_AGAIN) {
		*due_ms = source_retry_at(cy->source);
		return CYCLE_WAIT;
	}
	if (rc == ERR_FULL)
		return CYCLE_PAUSED;
	fetch_done(cy, &cy->until, rc);
	return CYCLE_FAILED;
}

enum cycle_step
cycle_step(struct cycle *cy, struct http *h, int64_t *due_ms)
{
	struct source_page page;
	int rc, last;

	*due_ms = 0;
	if (http_configure(h, &cy->http_opts) != 0)
		return step_failed(cy, ERR_NOMEM, due_ms);
	source_set_http(cy->source, h);
	deprecation_check(cy);
	if (cy->cursor_dirty) {
		if (save_cursor(cy) != 0)
			return CYCLE_PAUSED; /* still no room */
		cy->cursor_dirty = 0;
	}
	if (!cy->in_window) {
		if (!room(cy))
			return CYCLE_PAUSED;
		rc = open_window(cy);
		if (rc == 1) {
			cy->fetch_ok = 1;
			return CYCLE_DONE;
		}
		if (rc != 0)
			return step_failed(cy, rc, due_ms);
	}
	rc = source_next(cy->source, &page);
	if (rc == ERR_AGAIN) {
		*due_ms = source_retry_at(cy->source);
		return CYCLE_WAIT;
	}
	if (rc == ERR_END) {
		cy->in_window = 0;
		fetch_done(cy, &cy->until, 0);
		idle_trim(cy);
		return CYCLE_DONE;
	}
	if (rc != 0)
		return step_failed(cy, rc, due_ms);
	last = page.last;
	rc = run_page(cy, &page, &cy->now);
	source_page_reset(&page);
	if (rc != 0)
		return step_failed(cy, rc, due_ms);
	if (!room(cy)) {
		/* The rest of the window waits for room; read again then. */
		cy->in_window = 0;
		return CYCLE_PAUSED;
	}
	/*
	 * The window's last page is in: its buffers go now, not a turn
	 * later, so that the tenants waiting for that turn (most of them in
	 * a full pass) hold none.
	 */
	if (last)
		idle_trim(cy);
	return CYCLE_MORE;
}

const char *
cycle_paused(const struct cycle *cy)
{
	if (cy->disk_full || cy->cursor_dirty)
		return "the disk of the state directory is full";
	if (cy->full_warned)
		return "the spool reached [state] spool_max_size";
	return NULL;
}

void
cycle_status(const struct cycle *cy, struct status *st)
{
	const struct source_stats *ss = source_stats(cy->source);
	struct ts now;

	/* The output's counters are its queue's (daemon.c adds them). */
	snprintf(st->api, sizeof(st->api), "%s", config_api_name(cy->cfg->api));
	snprintf(st->stream, sizeof(st->stream), "%s",
	    config_stream_name(cy->stream));
	snprintf(st->deprecation, sizeof(st->deprecation), "%s",
	    source_deprecation(cy->source) != NULL
	        ? source_deprecation(cy->source)
	        : "");
	snprintf(st->tenant, sizeof(st->tenant), "%s", cy->cfg->tenant_name);
	st->fetched = cy->stats.fetched;
	st->spooled = cy->stats.spooled;
	st->duplicates = cy->stats.duplicates;
	st->bad_records = cy->stats.bad_records;
	st->oversized_keys = cy->stats.oversized_keys;
	st->commit_parts = cy->stats.commit_parts;
	/* The queue's damage findings are added by daemon.c. */
	st->state_damage = cy->cursor_damage;
	if (cy->cursor_damage > 0)
		snprintf(st->damage_last, sizeof(st->damage_last),
		    "the cursor file of tenant %s, %s API was damaged and set "
		    "aside",
		    cy->owner.tenant_id, cy->owner.api);
	st->messages_shortened = cy->stats.messages_shortened;
	st->values_shortened = cy->stats.values_shortened;
	st->values_dropped = cy->stats.values_dropped;
	st->retries = ss->retries;
	st->throttled = ss->throttled;
	st->token_renewals = token_renewals(cy->token);
	st->spool_full = cy->full_warned;
	st->fetch_ok = cy->fetch_ok;
	st->last_fetch_ok = cy->last_fetch_ok;
	st->cursor[0] = '\0';
	if (cursor_has_position(cy->cursor))
		ts_format7(cursor_position(cy->cursor), st->cursor);
	/* Lag, like the windows, is measured on the API's clock. */
	st->lag_secs = -1;
	if (cy->has_window) {
		if (srvclock_now(cy->clock, &now) != 0)
			ts_now(&now);
		st->lag_secs = now.sec > cy->window_end.sec
		    ? now.sec - cy->window_end.sec
		    : 0;
	}
	st->clock_known = srvclock_skew(cy->clock, &st->clock_skew) == 0;
	st->clock_off = srvclock_off(cy->clock);
	st->clock_tolerance = cy->cfg->clock_tolerance;
	st->retired = cy->retired;
	st->retired_since = cy->retired ? cy->retired_since : 0;
	snprintf(st->last_error, sizeof(st->last_error), "%s", cy->last_error);
	st->last_error_at = cy->last_error_at;
}
