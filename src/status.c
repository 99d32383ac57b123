/* SPDX-License-Identifier: MIT */
/*
 * status.json and the Prometheus text file (include/status.h).  The main
 * loop fills a struct status after each cycle and calls the writers;
 * `mdesiemd --status` reads status.json back and judges the daemon's
 * health from it alone, so it works as another user (root) and while the
 * daemon is stopped.  status.json carries times as ISO 8601 UTC text for
 * people who read it directly; the metrics carry Unix seconds.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "errcode.h"
#include "statefile.h"
#include "text.h"
#include "status.h"
#include "ts.h"

#define FORMAT_VERSION 1
#define STATUS_MAX (32 * 1024 * 1024) /* many tenants: about 600 bytes each */
#define STALE_SLACK 300 /* seconds beyond 3 poll intervals */

void
status_init(struct status *st)
{
	memset(st, 0, sizeof(*st));
	st->lag_secs = -1;
}

static int
join(char *out, size_t len, const char *dir, const char *name)
{
	int n = snprintf(out, len, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return ERR_IO;
	}
	return 0;
}

/* "2026-11-26T20:31:02Z"; "" for 0 (never). */
static void
fmt_time(int64_t t, char *out, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		out[0] = '\0';
}

/* Add name: time text, or null for never.  Returns 0 or -1. */
static int
add_time(cJSON *o, const char *name, int64_t t)
{
	char s[32];

	fmt_time(t, s, sizeof(s));
	if (s[0] == '\0')
		return cJSON_AddNullToObject(o, name) != NULL ? 0 : -1;
	return cJSON_AddStringToObject(o, name, s) != NULL ? 0 : -1;
}

static int
add_num(cJSON *o, const char *name, double v)
{
	return cJSON_AddNumberToObject(o, name, v) != NULL ? 0 : -1;
}

static int
add_bool(cJSON *o, const char *name, int v)
{
	return cJSON_AddBoolToObject(o, name, v != 0) != NULL ? 0 : -1;
}

static const struct counter {
	const char *json; /* key in status.json "counters" */
	const char *metric; /* Prometheus name */
	const char *help;
	size_t off;
} counters[] = {
    {"fetched", "mdesiem_records_fetched_total",
        "Records read from the Defender API.",
        offsetof(struct status, fetched)},
    {"delivered", "mdesiem_records_delivered_total",
        "Messages the collector acknowledged (tcp, tls: its kernel "
        "acknowledged the bytes; udp, local, stdout: sent).",
        offsetof(struct status, delivered)},
    {"dropped", "mdesiem_records_dropped_total",
        "Messages the transport lost or refused and that are not sent "
        "again (udp datagrams refused or too large).",
        offsetof(struct status, dropped)},
    {"resent", "mdesiem_records_resent_total",
        "Messages sent again because the collector had not acknowledged "
        "them when the connection broke.",
        offsetof(struct status, resent)},
    {"duplicates_dropped", "mdesiem_duplicates_dropped_total",
        "Records dropped because they were delivered before.",
        offsetof(struct status, duplicates)},
    {"bad_records", "mdesiem_bad_records_total",
        "Records that could not be parsed or normalised.",
        offsetof(struct status, bad_records)},
    {"oversized_keys", "mdesiem_oversized_keys_total",
        "Records skipped because their dedup key is over 64 KiB (a "
        "damaged or hostile value; counted in bad_records too).",
        offsetof(struct status, oversized_keys)},
    {"commit_parts", "mdesiem_commit_parts_total",
        "Extra spool commits written because the dedup keys of a page "
        "passed the 16 MiB one commit holds (nothing skipped).",
        offsetof(struct status, commit_parts)},
    {"state_damage", "mdesiem_state_damage_total",
        "Damage found in the state directory (damaged spool runs, missing "
        "or deleted segments, an unusable read.pos or cursor file).",
        offsetof(struct status, state_damage)},
    {"damaged_bytes", "mdesiem_spool_damaged_bytes_total",
        "Spool bytes skipped because they were no intact entry.",
        offsetof(struct status, damaged_bytes)},
    {"lost_messages", "mdesiem_spool_lost_messages_total",
        "Messages the spool held that were never read: segments deleted, "
        "cut short or set aside as another queue's (counted from the "
        "segments' headers).",
        offsetof(struct status, lost_messages)},
    {"messages_shortened", "mdesiem_messages_shortened_total",
        "Messages packed to fit [output] max_message_size: values "
        "shortened or left out (README \"Fitting max_message_size\").",
        offsetof(struct status, messages_shortened)},
    {"values_shortened", "mdesiem_values_shortened_total",
        "Values cut to fit max_message_size.",
        offsetof(struct status, values_shortened)},
    {"values_dropped", "mdesiem_values_dropped_total",
        "Values left out to fit max_message_size.",
        offsetof(struct status, values_dropped)},
    {"retries", "mdesiem_retries_total",
        "Requests and sends tried again after a failure.",
        offsetof(struct status, retries)},
    {"throttled", "mdesiem_throttled_total",
        "HTTP 429 (throttled) answers from Entra ID or Defender.",
        offsetof(struct status, throttled)},
    {"token_renewals", "mdesiem_token_renewals_total",
        "Access tokens obtained from Entra ID.",
        offsetof(struct status, token_renewals)},
    {"reconnects", "mdesiem_reconnects_total",
        "Connections made to the collector.",
        offsetof(struct status, reconnects)},
};

#define NCOUNTERS (sizeof(counters) / sizeof(counters[0]))

static uint64_t
counter_get(const struct status *st, const struct counter *c)
{
	uint64_t v;

	memcpy(&v, (const char *)st + c->off, sizeof(v));
	return v;
}

static void
counter_set(struct status *st, const struct counter *c, uint64_t v)
{
	memcpy((char *)st + c->off, &v, sizeof(v));
}

void
status_add_counters(struct status *tot, const struct status *st)
{
	size_t i;

	for (i = 0; i < NCOUNTERS; i++)
		counter_set(tot, &counters[i],
		    counter_get(tot, &counters[i]) +
		        counter_get(st, &counters[i]));
}

static int
add_counters(cJSON *root, const struct status *st)
{
	cJSON *o;
	size_t i;

	if ((o = cJSON_AddObjectToObject(root, "counters")) == NULL)
		return -1;
	for (i = 0; i < NCOUNTERS; i++) {
		if (add_num(o, counters[i].json,
		        (double)counter_get(st, &counters[i])) != 0)
			return -1;
	}
	return 0;
}

static int
add_spool(cJSON *root, const struct status *st)
{
	cJSON *o;

	if ((o = cJSON_AddObjectToObject(root, "spool")) == NULL)
		return -1;
	return add_num(o, "pending_bytes", (double)st->pending_bytes) ||
	        add_num(o, "messages", (double)st->spool_messages) ||
	        add_num(o, "in_flight", (double)st->in_flight) ||
	        add_bool(o, "full", st->spool_full)
	    ? -1
	    : 0;
}

/* "kafka": the producer's counters, only when the output is Kafka. */
static int
add_kafka(cJSON *root, const struct status *st)
{
	cJSON *o;

	if (!st->kafka)
		return 0;
	if ((o = cJSON_AddObjectToObject(root, "kafka")) == NULL)
		return -1;
	return add_num(o, "in_flight", (double)st->kafka_in_flight) ||
	        add_num(o, "acknowledged", (double)st->kafka_acked) ||
	        add_num(o, "retried", (double)st->kafka_retried) ||
	        add_num(o, "failed", (double)st->kafka_failed)
	    ? -1
	    : 0;
}

/* "clock": {"skew_seconds": N or null, "tolerance_seconds", "off"} */
static int
add_clock(cJSON *root, const struct status *st)
{
	cJSON *o;

	if ((o = cJSON_AddObjectToObject(root, "clock")) == NULL)
		return -1;
	return (st->clock_known
	               ? add_num(o, "skew_seconds", (double)st->clock_skew)
	               : cJSON_AddNullToObject(o, "skew_seconds") == NULL) ||
	        add_num(o, "tolerance_seconds", (double)st->clock_tolerance) ||
	        add_bool(o, "off", st->clock_off)
	    ? -1
	    : 0;
}

static cJSON *
to_json(const struct status *st)
{
	cJSON *root;
	int bad;

	if ((root = cJSON_CreateObject()) == NULL)
		return NULL;
	bad = add_num(root, "version", FORMAT_VERSION) ||
	    cJSON_AddStringToObject(root, "api", st->api) == NULL ||
	    (st->deprecation[0] != '\0'
	            ? cJSON_AddStringToObject(
	                  root, "deprecation", st->deprecation) == NULL
	            : cJSON_AddNullToObject(root, "deprecation") == NULL) ||
	    add_num(root, "pid", (double)st->pid) ||
	    add_bool(root, "running", st->running) ||
	    add_time(root, "started", st->started) ||
	    add_time(root, "updated", st->updated) ||
	    add_num(root, "poll_interval", (double)st->poll_interval) ||
	    add_time(root, "last_fetch_ok", st->last_fetch_ok) ||
	    add_time(root, "last_delivery_ok", st->last_delivery_ok) ||
	    add_time(root, "last_success", st->last_success) ||
	    (st->cursor[0] != '\0'
	            ? cJSON_AddStringToObject(root, "cursor", st->cursor) ==
	                NULL
	            : cJSON_AddNullToObject(root, "cursor") == NULL) ||
	    (st->lag_secs >= 0
	            ? add_num(root, "lag_seconds", (double)st->lag_secs)
	            : cJSON_AddNullToObject(root, "lag_seconds") == NULL) ||
	    add_spool(root, st) ||
	    add_bool(root, "collector_up", st->collector_up) ||
	    cJSON_AddStringToObject(
	        root, "collector_error", st->collector_error) == NULL ||
	    add_bool(root, "fetch_ok", st->fetch_ok) ||
	    add_bool(root, "retired", st->retired) ||
	    add_time(root, "retired_since", st->retired_since) ||
	    add_clock(root, st) || add_counters(root, st) ||
	    add_kafka(root, st) ||
	    cJSON_AddStringToObject(root, "last_error", st->last_error) ==
	        NULL ||
	    cJSON_AddStringToObject(root, "damage_last", st->damage_last) ==
	        NULL ||
	    add_time(root, "last_error_at", st->last_error_at);
	if (bad) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

/* One tenant's line in "tenant_status". */
static cJSON *
tenant_json(const struct status *st)
{
	cJSON *o;
	int bad;

	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	bad = cJSON_AddStringToObject(o, "name", st->tenant) == NULL ||
	    cJSON_AddStringToObject(o, "api", st->api) == NULL ||
	    cJSON_AddStringToObject(o, "stream",
	        st->stream[0] != '\0' ? st->stream : "alerts") == NULL ||
	    cJSON_AddStringToObject(o, "queue", st->queue) == NULL ||
	    add_bool(o, "fetch_ok", !st->failing) ||
	    add_time(o, "last_fetch_ok", st->last_fetch_ok) ||
	    (st->cursor[0] != '\0'
	            ? cJSON_AddStringToObject(o, "cursor", st->cursor) == NULL
	            : cJSON_AddNullToObject(o, "cursor") == NULL) ||
	    (st->lag_secs >= 0
	            ? add_num(o, "lag_seconds", (double)st->lag_secs)
	            : cJSON_AddNullToObject(o, "lag_seconds") == NULL) ||
	    add_num(o, "fetched", (double)st->fetched) ||
	    add_num(o, "spooled", (double)st->spooled) ||
	    add_num(o, "delivered", (double)st->delivered) ||
	    add_num(o, "duplicates_dropped", (double)st->duplicates) ||
	    add_num(o, "bad_records", (double)st->bad_records) ||
	    add_num(o, "throttled", (double)st->throttled) ||
	    add_num(o, "retries", (double)st->retries) ||
	    add_bool(o, "spool_full", st->spool_full) ||
	    cJSON_AddStringToObject(
	        o, "last_error", st->failing ? st->last_error : "") == NULL ||
	    add_time(o, "last_error_at", st->last_error_at);
	if (bad) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static int
write_json(const char *state_dir, cJSON *root)
{
	char path[PATH_MAX];
	struct buf b;
	char *text;
	int rc;

	if ((rc = join(path, sizeof(path), state_dir, STATUS_FILE)) != 0) {
		cJSON_Delete(root);
		return rc;
	}
	text = cJSON_Print(root);
	cJSON_Delete(root);
	if (text == NULL)
		return ERR_NOMEM;
	buf_init(&b, STATUS_MAX);
	if ((rc = buf_adds(&b, text)) == 0 && (rc = buf_addc(&b, '\n')) == 0)
		rc = statefile_write(path, b.data, b.len);
	free(text);
	buf_reset(&b);
	return rc;
}

int
status_write(const char *state_dir, const struct status *st)
{
	cJSON *root;

	if ((root = to_json(st)) == NULL)
		return ERR_NOMEM;
	return write_json(state_dir, root);
}

int
status_write_all(const char *state_dir, const struct status *tot,
    const struct status *ts, size_t n)
{
	cJSON *root, *arr, *o;
	size_t i;

	if ((root = to_json(tot)) == NULL)
		return ERR_NOMEM;
	if (add_bool(root, "multi", tot->multi) ||
	    add_num(root, "tenants", (double)tot->tenants) ||
	    add_num(root, "failing_tenants", (double)tot->failing_tenants) ||
	    (arr = cJSON_AddArrayToObject(root, "tenant_status")) == NULL) {
		cJSON_Delete(root);
		return ERR_NOMEM;
	}
	for (i = 0; i < n; i++) {
		if ((o = tenant_json(&ts[i])) == NULL) {
			cJSON_Delete(root);
			return ERR_NOMEM;
		}
		cJSON_AddItemToArray(arr, o);
	}
	return write_json(state_dir, root);
}

/* The Prometheus text format, version 0.0.4. */

static int
metric(struct buf *b, const char *name, const char *type, const char *help)
{
	return buf_printf(
	    b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int
kafka_metrics(const struct status *st, struct buf *out)
{
	const struct {
		const char *name;
		const char *type;
		const char *help;
		uint64_t value;
	} m[] = {
	    {"mdesiem_kafka_in_flight_messages", "gauge",
	        "Messages handed to the Kafka producer without a delivery "
	        "report yet.",
	        st->kafka_in_flight},
	    {"mdesiem_kafka_acknowledged_total", "counter",
	        "Messages the Kafka cluster acknowledged (delivery report "
	        "succeeded).",
	        st->kafka_acked},
	    {"mdesiem_kafka_retried_total", "counter",
	        "Messages handed back for a resend after a failed delivery "
	        "report.",
	        st->kafka_retried},
	    {"mdesiem_kafka_failed_total", "counter",
	        "Messages the Kafka topic refused for good (too large), "
	        "skipped.",
	        st->kafka_failed},
	};
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < sizeof(m) / sizeof(m[0]); i++) {
		if ((rc = metric(out, m[i].name, m[i].type, m[i].help)) == 0)
			rc = buf_printf(out, "%s %llu\n", m[i].name,
			    (unsigned long long)m[i].value);
	}
	return rc;
}

int
status_format_metrics(const struct status *st, struct buf *out)
{
	const struct {
		const char *name;
		const char *help;
		long long value; /* < 0: unknown, no sample */
	} gauges[] = {
	    {"mdesiem_last_success_timestamp_seconds",
	        "When a cycle last fetched and delivered everything (Unix "
	        "time; 0: never).",
	        (long long)st->last_success},
	    {"mdesiem_last_fetch_timestamp_seconds",
	        "When a window was last read completely (Unix time; 0: never).",
	        (long long)st->last_fetch_ok},
	    {"mdesiem_last_delivery_timestamp_seconds",
	        "When the spool was last drained to the collector (Unix time; "
	        "0: never).",
	        (long long)st->last_delivery_ok},
	    {"mdesiem_lag_seconds",
	        "How far behind now the detections read so far reach.",
	        st->lag_secs >= 0 ? (long long)st->lag_secs : -1},
	    {"mdesiem_spool_pending_bytes",
	        "Bytes in the spool the collector has not acknowledged yet.",
	        (long long)st->pending_bytes},
	    {"mdesiem_in_flight_messages",
	        "Messages sent to the collector and not acknowledged yet.",
	        (long long)st->in_flight},
	    {"mdesiem_spool_messages",
	        "Messages waiting in the spool for the collector.",
	        (long long)st->spool_messages},
	    {"mdesiem_spool_full",
	        "1 while fetching is paused because the spool is full.",
	        st->spool_full != 0},
	    {"mdesiem_collector_up",
	        "1 when the last send to the collector succeeded.",
	        st->collector_up != 0},
	    {"mdesiem_fetch_ok",
	        "1 when the last fetch from Defender succeeded.",
	        st->fetch_ok != 0},
	    {"mdesiem_source_deprecated",
	        "1 while the configured API is one Microsoft has deprecated "
	        "or announced the end of (see mdesiemd --status).",
	        st->deprecation[0] != '\0'},
	    {"mdesiem_source_retired",
	        "1 while the API answers as switched off (asked again "
	        "hourly).",
	        st->retired != 0},
	    {"mdesiem_clock_off",
	        "1 while the host's clock is off the API's by more than "
	        "[source] clock_tolerance.",
	        st->clock_off != 0},
	};
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < NCOUNTERS; i++) {
		if ((rc = metric(out, counters[i].metric, "counter",
		         counters[i].help)) == 0)
			rc = buf_printf(out, "%s %llu\n", counters[i].metric,
			    (unsigned long long)counter_get(st, &counters[i]));
	}
	/* An unknown value has no sample rather than a made-up one. */
	for (i = 0; rc == 0 && i < sizeof(gauges) / sizeof(gauges[0]); i++) {
		if ((rc = metric(
		         out, gauges[i].name, "gauge", gauges[i].help)) == 0 &&
		    gauges[i].value >= 0)
			rc = buf_printf(
			    out, "%s %lld\n", gauges[i].name, gauges[i].value);
	}
	/* Signed: its own sample, none before the API's first answer. */
	if (rc == 0)
		rc = metric(out, "mdesiem_clock_skew_seconds", "gauge",
		    "Seconds the host's clock is ahead of the API's (negative: "
		    "behind), from the Date of its last answer.");
	if (rc == 0 && st->clock_known)
		rc = buf_printf(out, "mdesiem_clock_skew_seconds %lld\n",
		    (long long)st->clock_skew);
	if (rc == 0 && st->kafka)
		rc = kafka_metrics(st, out);
	return rc;
}

/*
 * The series of each tenant: a fixed set, one sample per tenant each
 * (names are [A-Za-z0-9._-]: no label escaping needed).
 */
/* Where a per-tenant metric's value comes from. */
enum tenant_value { TV_U64, TV_LAG, TV_OK };

int
status_format_tenant_metrics(const struct status *ts, size_t n, struct buf *out)
{
	static const struct {
		const char *name;
		const char *type;
		const char *help;
		enum tenant_value kind;
		size_t off; /* TV_U64: a uint64_t of struct status */
	} m[] = {
	    {"mdesiem_tenant_fetch_ok", "gauge",
	        "1 when the tenant's last window was read without failure.",
	        TV_OK, 0},
	    {"mdesiem_tenant_lag_seconds", "gauge",
	        "How far behind the API's time the tenant's windows read so "
	        "far reach.",
	        TV_LAG, 0},
	    {"mdesiem_tenant_records_fetched_total", "counter",
	        "Records the tenant's API answered.", TV_U64,
	        offsetof(struct status, fetched)},
	    {"mdesiem_tenant_records_spooled_total", "counter",
	        "The tenant's messages made durable in its output queue.",
	        TV_U64, offsetof(struct status, spooled)},
	    {"mdesiem_tenant_delivered_total", "counter",
	        "The tenant's messages the collector acknowledged.", TV_U64,
	        offsetof(struct status, delivered)},
	    {"mdesiem_tenant_duplicates_dropped_total", "counter",
	        "The tenant's records dropped because they were delivered "
	        "before.",
	        TV_U64, offsetof(struct status, duplicates)},
	    {"mdesiem_tenant_bad_records_total", "counter",
	        "The tenant's records that could not be parsed or "
	        "normalised.",
	        TV_U64, offsetof(struct status, bad_records)},
	    {"mdesiem_tenant_throttled_total", "counter",
	        "HTTP 429 answers to the tenant's requests.", TV_U64,
	        offsetof(struct status, throttled)},
	};
	size_t i, k;
	int rc = 0;

	for (k = 0; rc == 0 && k < sizeof(m) / sizeof(m[0]); k++) {
		rc = metric(out, m[k].name, m[k].type, m[k].help);
		for (i = 0; rc == 0 && i < n; i++) {
			const struct status *t = &ts[i];
			long long v;
			uint64_t u;

			if (m[k].kind == TV_OK) {
				v = !t->failing;
			} else if (m[k].kind == TV_LAG) {
				v = t->lag_secs;
			} else {
				memcpy(
				    &u, (const char *)t + m[k].off, sizeof(u));
				v = (long long)u;
			}
			/* An incidents stream is its own series; an alerts
			 * stream keeps the labels it always had. */
			if (v >= 0 && strcmp(t->stream, "incidents") == 0)
				rc = buf_printf(out,
				    "%s{tenant=\"%s\",stream=\"incidents\"} "
				    "%lld\n",
				    m[k].name, t->tenant, v);
			else if (v >= 0)
				rc = buf_printf(out, "%s{tenant=\"%s\"} %lld\n",
				    m[k].name, t->tenant, v);
		}
	}
	return rc;
}

/*
 * Like statefile_write(), but readable by all (0644): node_exporter reads
 * it as its own user.  The temporary name does not end in ".prom", so the
 * collector never reads a half-written file.
 */
static int
replace_public(const char *dir, const char *path, const struct buf *b)
{
	char tmp[PATH_MAX];
	int rc;

	if ((rc = join(tmp, sizeof(tmp), dir, "." STATUS_PROM_FILE ".tmp")) !=
	    0)
		return rc;
	return statefile_replace(path, tmp, b->data, b->len, 0644, 1);
}

int
status_write_metrics(const char *textfile_dir, const struct status *st)
{
	char path[PATH_MAX];
	struct buf b;
	int rc;

	if ((rc = join(path, sizeof(path), textfile_dir, STATUS_PROM_FILE)) !=
	    0)
		return rc;
	buf_init(&b, STATUS_MAX);
	if ((rc = status_format_metrics(st, &b)) == 0)
		rc = replace_public(textfile_dir, path, &b);
	buf_reset(&b);
	return rc;
}

int
status_write_metrics_all(const char *textfile_dir, const struct status *tot,
    const struct status *ts, size_t n)
{
	char path[PATH_MAX];
	struct buf b;
	int rc;

	if ((rc = join(path, sizeof(path), textfile_dir, STATUS_PROM_FILE)) !=
	    0)
		return rc;
	buf_init(&b, STATUS_MAX);
	if ((rc = status_format_metrics(tot, &b)) == 0 &&
	    (rc = status_format_tenant_metrics(ts, n, &b)) == 0)
		rc = replace_public(textfile_dir, path, &b);
	buf_reset(&b);
	return rc;
}

/* Reading status.json back. */

static int64_t
get_time(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	struct ts t;

	if (!cJSON_IsString(v) ||
	    ts_parse(v->valuestring, strlen(v->valuestring), &t) != 0)
		return 0;
	return t.sec;
}

/* A non-negative whole number, or dflt. */
static double
get_num(const cJSON *o, const char *name, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) ||
	    v->valuedouble > 9007199254740992.0)
		return dflt;
	return v->valuedouble;
}

static int
get_bool(const cJSON *o, const char *name)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, name));
}

static void
get_str(const cJSON *o, const char *name, char *out, size_t len)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	(void)snprintf(out, len, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

static void
get_clock(const cJSON *root, struct status *st)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(root, "clock");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "skew_seconds");

	st->clock_known = cJSON_IsNumber(v) && v->valuedouble > -1e12 &&
	    v->valuedouble < 1e12;
	st->clock_skew = st->clock_known ? (int64_t)v->valuedouble : 0;
	st->clock_tolerance = (int64_t)get_num(o, "tolerance_seconds", 0);
	st->clock_off = get_bool(o, "off");
}

static void
from_json(const cJSON *root, struct status *st)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(root, "counters");
	const cJSON *sp = cJSON_GetObjectItemCaseSensitive(root, "spool");
	const cJSON *k;
	size_t i;

	get_str(root, "api", st->api, sizeof(st->api));
	get_str(root, "deprecation", st->deprecation, sizeof(st->deprecation));
	st->pid = (long)get_num(root, "pid", 0);
	st->running = get_bool(root, "running");
	st->started = get_time(root, "started");
	st->updated = get_time(root, "updated");
	st->poll_interval = (int64_t)get_num(root, "poll_interval", 0);
	st->last_fetch_ok = get_time(root, "last_fetch_ok");
	st->last_delivery_ok = get_time(root, "last_delivery_ok");
	st->last_success = get_time(root, "last_success");
	get_str(root, "cursor", st->cursor, sizeof(st->cursor));
	st->lag_secs = (int64_t)get_num(root, "lag_seconds", -1);
	st->pending_bytes = (uint64_t)get_num(sp, "pending_bytes", 0);
	st->spool_messages = (uint64_t)get_num(sp, "messages", 0);
	st->in_flight = (uint64_t)get_num(sp, "in_flight", 0);
	st->spool_full = get_bool(sp, "full");
	for (i = 0; i < NCOUNTERS; i++)
		counter_set(st, &counters[i],
		    (uint64_t)get_num(c, counters[i].json, 0));
	if ((k = cJSON_GetObjectItemCaseSensitive(root, "kafka")) != NULL &&
	    cJSON_IsObject(k)) {
		st->kafka = 1;
		st->kafka_in_flight = (uint64_t)get_num(k, "in_flight", 0);
		st->kafka_acked = (uint64_t)get_num(k, "acknowledged", 0);
		st->kafka_retried = (uint64_t)get_num(k, "retried", 0);
		st->kafka_failed = (uint64_t)get_num(k, "failed", 0);
	}
	st->collector_up = get_bool(root, "collector_up");
	get_str(root, "collector_error", st->collector_error,
	    sizeof(st->collector_error));
	st->fetch_ok = get_bool(root, "fetch_ok");
	st->retired = get_bool(root, "retired");
	st->retired_since = get_time(root, "retired_since");
	get_str(root, "last_error", st->last_error, sizeof(st->last_error));
	get_str(root, "damage_last", st->damage_last, sizeof(st->damage_last));
	st->last_error_at = get_time(root, "last_error_at");
	get_clock(root, st);
}

/* state_dir/status.json, parsed: 0 with *root, or an error. */
static int
load_root(const char *state_dir, cJSON **root)
{
	char path[PATH_MAX];
	struct buf b;
	int rc;

	*root = NULL;
	if ((rc = join(path, sizeof(path), state_dir, STATUS_FILE)) != 0)
		return rc;
	buf_init(&b, STATUS_MAX);
	if ((rc = statefile_read(path, &b)) == 0) {
		*root = cJSON_ParseWithLength(buf_str(&b), b.len);
		if (!cJSON_IsObject(*root) ||
		    get_num(*root, "version", 0) != FORMAT_VERSION) {
			cJSON_Delete(*root);
			*root = NULL;
			rc = ERR_PARSE;
		}
	}
	buf_reset(&b);
	return rc;
}

int
status_load(const char *state_dir, struct status *st)
{
	cJSON *root;
	int rc;

	if ((rc = load_root(state_dir, &root)) != 0)
		return rc;
	status_init(st);
	from_json(root, st);
	cJSON_Delete(root);
	return 0;
}

/*
 * One line per tenant: "tenant NAME: ok|FAILING, lag N s, fetched N,
 * spooled N, delivered N, output QUEUE[, last error: TEXT]".
 */
static void
print_tenants(const cJSON *root, FILE *out)
{
	const cJSON *arr =
	                cJSON_GetObjectItemCaseSensitive(root, "tenant_status"),
	            *t;
	char name[72], queue[304], err[512], stream[16];

	cJSON_ArrayForEach(t, arr)
	{
		double lag = get_num(t, "lag_seconds", -1);
		int ok = get_bool(t, "fetch_ok");

		get_str(t, "name", name, sizeof(name));
		get_str(t, "queue", queue, sizeof(queue));
		get_str(t, "last_error", err, sizeof(err));
		get_str(t, "stream", stream, sizeof(stream));
		/* An incidents stream is named; alerts read as before. */
		fprintf(out, "tenant %s%s: %s, lag ", name,
		    strcmp(stream, "incidents") == 0 ? " (incidents)" : "",
		    ok ? "ok" : "FAILING");
		if (lag >= 0)
			fprintf(out, "%.0f s", lag);
		else
			fprintf(out, "unknown");
		fprintf(out,
		    ", fetched %.0f, spooled %.0f, delivered %.0f, output %s",
		    get_num(t, "fetched", 0), get_num(t, "spooled", 0),
		    get_num(t, "delivered", 0), queue);
		if (!ok && err[0] != '\0')
			fprintf(out, ", last error: %s", err);
		fputc('\n', out);
	}
	fprintf(out, "totals: %.0f tenants, %.0f failing\n",
	    get_num(root, "tenants", 0), get_num(root, "failing_tenants", 0));
}

/* Printing for a human. */

/* "2026-11-26T20:31:02Z (12 s ago)", or "never". */
static const char *
when(int64_t t, time_t now, char *out, size_t len)
{
	char iso[32];
	long long ago = (long long)now - (long long)t;

	if (t <= 0)
		return "never";
	fmt_time(t, iso, sizeof(iso));
	if (ago < 0)
		(void)snprintf(
		    out, len, "%s (in the future: check the clock)", iso);
	else if (ago < 120)
		(void)snprintf(out, len, "%s (%lld s ago)", iso, ago);
	else if (ago < 2 * 3600)
		(void)snprintf(out, len, "%s (%lld min ago)", iso, ago / 60);
	else if (ago < 2 * 86400)
		(void)snprintf(out, len, "%s (%lld h ago)", iso, ago / 3600);
	else
		(void)snprintf(
		    out, len, "%s (%lld days ago)", iso, ago / 86400);
	return out;
}

static void
print_counters(const struct status *st, FILE *out)
{
	fprintf(out,
	    "records: %llu fetched, %llu delivered, %llu duplicates dropped, "
	    "%llu bad\n",
	    (unsigned long long)st->fetched, (unsigned long long)st->delivered,
	    (unsigned long long)st->duplicates,
	    (unsigned long long)st->bad_records);
	if (st->state_damage > 0)
		fprintf(out,
		    "state damage: %llu found, %llu damaged spool bytes "
		    "skipped, %llu spooled messages lost; last: %s\n",
		    (unsigned long long)st->state_damage,
		    (unsigned long long)st->damaged_bytes,
		    (unsigned long long)st->lost_messages, st->damage_last);
	if (st->oversized_keys > 0 || st->commit_parts > 0)
		fprintf(out,
		    "poison values: %llu records skipped for a dedup key over "
		    "64 KiB (counted as bad), %llu extra commits for pages "
		    "over 16 MiB of keys\n",
		    (unsigned long long)st->oversized_keys,
		    (unsigned long long)st->commit_parts);
	if (st->messages_shortened > 0)
		fprintf(out,
		    "max_message_size: %llu messages packed to fit (%llu "
		    "values shortened, %llu left out)\n",
		    (unsigned long long)st->messages_shortened,
		    (unsigned long long)st->values_shortened,
		    (unsigned long long)st->values_dropped);
	fprintf(out,
	    "events: %llu retries, %llu throttled (HTTP 429), %llu token "
	    "renewals, %llu collector connections\n",
	    (unsigned long long)st->retries, (unsigned long long)st->throttled,
	    (unsigned long long)st->token_renewals,
	    (unsigned long long)st->reconnects);
	fprintf(out,
	    "delivery: %llu in flight (not acknowledged yet), %llu sent "
	    "again after a broken connection, %llu dropped by the "
	    "transport\n",
	    (unsigned long long)st->in_flight, (unsigned long long)st->resent,
	    (unsigned long long)st->dropped);
	if (st->kafka)
		fprintf(out,
		    "kafka: %llu in flight, %llu acknowledged, %llu retried, "
		    "%llu failed (too large for the topic, skipped)\n",
		    (unsigned long long)st->kafka_in_flight,
		    (unsigned long long)st->kafka_acked,
		    (unsigned long long)st->kafka_retried,
		    (unsigned long long)st->kafka_failed);
}

/* Returns the number of reasons printed. */
static int
print_reasons(
    const struct status *st, time_t now, long lag_threshold, FILE *out)
{
	long long limit = 3LL * st->poll_interval + STALE_SLACK;
	int n = 0;

	if (lag_threshold <= 0)
		lag_threshold = (long)limit;
	if (!st->running) {
		fprintf(out, "degraded: the daemon is not running\n");
		n++;
	} else if ((long long)now - st->updated > limit) {
		fprintf(out,
		    "degraded: %s not updated for %lld s (the daemon may be "
		    "hung or gone)\n",
		    STATUS_FILE, (long long)now - st->updated);
		n++;
	}
	if (!st->collector_up) {
		fprintf(out, "degraded: the collector is not reachable\n");
		n++;
	}
	if (st->retired) {
		fprintf(out,
		    "degraded: the %s API answers as retired: Microsoft has "
		    "switched it off (see \"last error\"; README, \"Migrating "
		    "to Graph\")\n",
		    st->api[0] != '\0' ? st->api : "configured");
		n++;
	} else if (!st->fetch_ok) {
		fprintf(out, "degraded: fetching from Defender fails\n");
		n++;
	}
	if (st->spool_full) {
		fprintf(
		    out, "degraded: the spool is full; fetching is paused\n");
		n++;
	}
	if (st->lag_secs > lag_threshold) {
		fprintf(out,
		    "degraded: %lld s behind Defender (threshold %ld s)\n",
		    (long long)st->lag_secs, lag_threshold);
		n++;
	}
	if (st->clock_off) {
		fprintf(out,
		    "degraded: the host's clock is %lld s %s Defender's "
		    "(more than [source] clock_tolerance, %lld s): fix its "
		    "time (NTP)\n",
		    (long long)llabs(st->clock_skew),
		    st->clock_skew < 0 ? "behind" : "ahead of",
		    (long long)st->clock_tolerance);
		n++;
	}
	return n;
}

static void
print_clock(const struct status *st, FILE *out)
{
	if (!st->clock_known)
		fprintf(out,
		    "clock: not compared yet (no answer from the "
		    "API)\n");
	else if (st->clock_skew == 0)
		fprintf(out, "clock: the host's agrees with Defender's\n");
	else
		fprintf(out, "clock: the host's is %lld s %s Defender's\n",
		    (long long)llabs(st->clock_skew),
		    st->clock_skew < 0 ? "behind" : "ahead of");
}

int
status_print(const struct status *st, time_t now, long lag_threshold, FILE *out)
{
	char w[96], safe[1024];

	fprintf(out, "daemon: %s (pid %ld, api %s, started %s)\n",
	    st->running ? "running" : "stopped", st->pid,
	    st->api[0] != '\0' ? st->api : "?",
	    when(st->started, now, w, sizeof(w)));
	fprintf(
	    out, "status written: %s\n", when(st->updated, now, w, sizeof(w)));
	if (st->collector_up || st->collector_error[0] == '\0')
		fprintf(
		    out, "collector: %s\n", st->collector_up ? "up" : "down");
	else
		fprintf(out, "collector: down: %s\n", st->collector_error);
	if (st->retired)
		fprintf(out,
		    "fetch: the API answers as retired since %s; asked "
		    "again hourly\n",
		    when(st->retired_since, now, w, sizeof(w)));
	else
		fprintf(out, "fetch: %s\n", st->fetch_ok ? "ok" : "failing");
	fprintf(out, "last fetch: %s\n",
	    when(st->last_fetch_ok, now, w, sizeof(w)));
	fprintf(out, "last delivery: %s\n",
	    when(st->last_delivery_ok, now, w, sizeof(w)));
	fprintf(out, "cursor: %s\n",
	    st->cursor[0] != '\0' ? st->cursor : "none yet");
	if (st->lag_secs >= 0)
		fprintf(out, "lag behind Defender: %lld s\n",
		    (long long)st->lag_secs);
	else
		fprintf(out, "lag behind Defender: unknown\n");
	print_clock(st, out);
	fprintf(out, "spool: %llu messages, %llu bytes%s\n",
	    (unsigned long long)st->spool_messages,
	    (unsigned long long)st->pending_bytes,
	    st->spool_full ? " (full: fetching paused)" : "");
	print_counters(st, out);
	if (st->deprecation[0] != '\0')
		fprintf(out, "deprecated: %s\n", st->deprecation);
	if (st->last_error[0] != '\0')
		fprintf(out, "last error: %s (%s)\n",
		    text_log_safe(safe, sizeof(safe), st->last_error),
		    when(st->last_error_at, now, w, sizeof(w)));
	else
		fprintf(out, "last error: none\n");
	if (print_reasons(st, now, lag_threshold, out) > 0)
		return STATUS_DEGRADED;
	fprintf(out, "healthy\n");
	return STATUS_HEALTHY;
}

int
status_read_print(const char *state_dir, FILE *out, long lag_threshold)
{
	struct status st;
	cJSON *root;
	int rc;

	if ((rc = load_root(state_dir, &root)) == 0) {
		status_init(&st);
		from_json(root, &st);
		if (get_bool(root, "multi") ||
		    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
		        root, "tenant_status")) > 1)
			print_tenants(root, out);
		cJSON_Delete(root);
		return status_print(&st, time(NULL), lag_threshold, out);
	}
	if (rc == ERR_NOTFOUND)
		fprintf(out,
		    "no %s in %s: the daemon has not completed a cycle "
		    "there yet\n",
		    STATUS_FILE, state_dir);
	else if (rc == ERR_PARSE)
		fprintf(out, "%s/%s is not a status file written by mdesiemd\n",
		    state_dir, STATUS_FILE);
	else
		fprintf(out, "cannot read %s/%s: %s\n", state_dir, STATUS_FILE,
		    rc == ERR_IO ? strerror(errno) : errcode_str(rc));
	fprintf(out, "degraded: no status\n");
	return STATUS_DEGRADED;
}
