/* SPDX-License-Identifier: MIT */
/*
 * Tests for status.json and the Prometheus text file (src/status.c):
 * what is written reads back the same, the metrics file has the names,
 * types and values node_exporter expects and is readable by it, and
 * `mdesiemd --status` prints what a human needs and says healthy or
 * degraded for each rule.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "check.h"
#include "errcode.h"
#include "statefile.h"
#include "status.h"

#define NOW 1795725062 /* 2026-11-26T20:31:02Z */

static char dir[64];

static void
sample(struct status *st)
{
	status_init(st);
	snprintf(st->api, sizeof(st->api), "siem");
	st->pid = 4242;
	st->running = 1;
	st->started = NOW - 3600;
	st->updated = NOW - 12;
	st->poll_interval = 60;
	st->last_fetch_ok = NOW - 12;
	st->last_delivery_ok = NOW - 12;
	st->last_success = NOW - 12;
	snprintf(
	    st->cursor, sizeof(st->cursor), "2026-11-26T20:30:17.1234567Z");
	st->lag_secs = 45;
	st->pending_bytes = 0;
	st->spool_messages = 0;
	st->fetched = 1234;
	st->delivered = 1200;
	st->duplicates = 30;
	st->bad_records = 4;
	st->retries = 7;
	st->throttled = 2;
	st->token_renewals = 3;
	st->reconnects = 5;
	st->collector_up = 1;
	st->fetch_ok = 1;
	st->last_error_at = 0;
}

/* The text status_print() writes, in a malloc'd string. */
static char *
printed(const struct status *st, time_t now, long lag, int *rc)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	*rc = status_print(st, now, lag, f);
	fclose(f);
	return text;
}

static int
has(const char *text, const char *part)
{
	if (text != NULL && strstr(text, part) != NULL)
		return 1;
	fprintf(stderr, "  missing [%s] in:\n%s\n", part, text);
	return 0;
}

static void
test_roundtrip(void)
{
	struct status st, back;
	char path[128];
	struct stat sb;
	struct buf b;

	sample(&st);
	snprintf(st.last_error, sizeof(st.last_error),
	    "HTTP 500 from \"wdatp\"\n\\ \xc3\xa9");
	st.last_error_at = NOW - 100;
	st.spool_full = 1;
	st.pending_bytes = 5000000000ULL;
	st.spool_messages = 123456;
	CHECK(status_write(dir, &st) == 0);
	snprintf(path, sizeof(path), "%s/status.json", dir);
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);

	buf_init(&b, 0);
	CHECK(statefile_read(path, &b) == 0);
	CHECK(has(buf_str(&b), "\"updated\":\t\"2026-11-26T20:30:50Z\""));
	CHECK(has(buf_str(&b), "\"lag_seconds\":\t45"));
	CHECK(has(buf_str(&b), "\"duplicates_dropped\":\t30"));
	CHECK(b.len > 0 && b.data[b.len - 1] == '\n');
	buf_reset(&b);

	memset(&back, 0x55, sizeof(back));
	CHECK(status_load(dir, &back) == 0);
	CHECK_STR(back.api, "siem");
	CHECK(back.pid == 4242 && back.running == 1);
	CHECK(back.started == NOW - 3600 && back.updated == NOW - 12);
	CHECK(back.poll_interval == 60);
	CHECK(back.last_fetch_ok == NOW - 12);
	CHECK(back.last_delivery_ok == NOW - 12);
	CHECK(back.last_success == NOW - 12);
	CHECK_STR(back.cursor, "2026-11-26T20:30:17.1234567Z");
	CHECK(back.lag_secs == 45);
	CHECK(back.pending_bytes == 5000000000ULL);
	CHECK(back.spool_messages == 123456 && back.spool_full == 1);
	CHECK(back.fetched == 1234 && back.delivered == 1200);
	CHECK(back.duplicates == 30 && back.bad_records == 4);
	CHECK(back.retries == 7 && back.throttled == 2);
	CHECK(back.token_renewals == 3 && back.reconnects == 5);
	CHECK(back.collector_up == 1 && back.fetch_ok == 1);
	CHECK_STR(back.last_error, st.last_error);
	CHECK(back.last_error_at == NOW - 100);

	/* Never and unknown survive as such. */
	status_init(&st);
	CHECK(status_write(dir, &st) == 0);
	CHECK(status_load(dir, &back) == 0);
	CHECK(back.started == 0 && back.last_success == 0);
	CHECK(back.lag_secs == -1);
	CHECK_STR(back.cursor, "");
	CHECK_STR(back.last_error, "");
	CHECK(status_load("/nonexistent", &back) == ERR_NOTFOUND);
}

/* The value of the sample line "name value" in a metrics text. */
static long long
sample_of(const char *text, const char *name)
{
	char key[128];
	const char *p;

	snprintf(key, sizeof(key), "\n%s ", name);
	if ((p = strstr(text, key)) == NULL)
		return -1;
	return strtoll(p + strlen(key), NULL, 10);
}

static void
test_metrics(void)
{
	static const char *const counters[] = {
	    "mdesiem_records_fetched_total",
	    "mdesiem_records_delivered_total",
	    "mdesiem_duplicates_dropped_total",
	    "mdesiem_bad_records_total",
	    "mdesiem_retries_total",
	    "mdesiem_throttled_total",
	    "mdesiem_token_renewals_total",
	    "mdesiem_reconnects_total",
	};
	static const char *const gauges[] = {
	    "mdesiem_last_success_timestamp_seconds",
	    "mdesiem_lag_seconds",
	    "mdesiem_spool_pending_bytes",
	    "mdesiem_collector_up",
	    "mdesiem_fetch_ok",
	};
	struct status st;
	struct buf b;
	char path[128], line[160];
	const char *t, *p;
	struct stat sb;
	size_t i;

	sample(&st);
	buf_init(&b, 0);
	CHECK(status_format_metrics(&st, &b) == 0);
	t = buf_str(&b);
	for (i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		snprintf(line, sizeof(line), "# TYPE %s counter\n%s ",
		    counters[i], counters[i]);
		CHECK(has(t, line));
		snprintf(line, sizeof(line), "# HELP %s ", counters[i]);
		CHECK(has(t, line));
	}
	for (i = 0; i < sizeof(gauges) / sizeof(gauges[0]); i++) {
		snprintf(line, sizeof(line), "# TYPE %s gauge\n%s ", gauges[i],
		    gauges[i]);
		CHECK(has(t, line));
	}
	CHECK(sample_of(t, "mdesiem_records_fetched_total") == 1234);
	CHECK(sample_of(t, "mdesiem_records_delivered_total") == 1200);
	CHECK(sample_of(t, "mdesiem_duplicates_dropped_total") == 30);
	CHECK(sample_of(t, "mdesiem_bad_records_total") == 4);
	CHECK(sample_of(t, "mdesiem_retries_total") == 7);
	CHECK(sample_of(t, "mdesiem_throttled_total") == 2);
	CHECK(sample_of(t, "mdesiem_token_renewals_total") == 3);
	CHECK(sample_of(t, "mdesiem_reconnects_total") == 5);
	CHECK(
	    sample_of(t, "mdesiem_last_success_timestamp_seconds") == NOW - 12);
	CHECK(sample_of(t, "mdesiem_lag_seconds") == 45);
	CHECK(sample_of(t, "mdesiem_spool_pending_bytes") == 0);
	CHECK(sample_of(t, "mdesiem_collector_up") == 1);
	CHECK(sample_of(t, "mdesiem_fetch_ok") == 1);

	/* Every line is a comment or "name value" with a valid name. */
	for (p = t; *p != '\0'; p = strchr(p, '\n') + 1) {
		if (*p == '#')
			continue;
		CHECK(strncmp(p, "mdesiem_", 8) == 0);
		CHECK(strcspn(p, " ") ==
		    strspn(p, "abcdefghijklmnopqrstuvwxyz_"));
	}
	CHECK(b.data[b.len - 1] == '\n');

	/* Unknown lag: no sample; down and failing are 0. */
	st.lag_secs = -1;
	st.collector_up = 0;
	st.fetch_ok = 0;
	buf_clear(&b);
	CHECK(status_format_metrics(&st, &b) == 0);
	CHECK(has(buf_str(&b), "# TYPE mdesiem_lag_seconds gauge\n"));
	CHECK(sample_of(buf_str(&b), "mdesiem_lag_seconds") == -1);
	CHECK(sample_of(buf_str(&b), "mdesiem_collector_up") == 0);
	CHECK(sample_of(buf_str(&b), "mdesiem_fetch_ok") == 0);

	/* The file: readable by node_exporter, whatever the umask. */
	umask(077);
	CHECK(status_write_metrics(dir, &st) == 0);
	snprintf(path, sizeof(path), "%s/mdesiem.prom", dir);
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0644);
	buf_clear(&b);
	CHECK(statefile_read(path, &b) == 0);
	CHECK(sample_of(buf_str(&b), "mdesiem_records_fetched_total") == 1234);
	snprintf(path, sizeof(path), "%s/.mdesiem.prom.tmp", dir);
	CHECK(access(path, F_OK) != 0);
	CHECK(status_write_metrics("/nonexistent", &st) == ERR_IO);
	buf_reset(&b);
}

static void
test_print(void)
{
	struct status st;
	char *t;
	int rc;

	sample(&st);
	t = printed(&st, NOW, 0, &rc);
	CHECK(rc == STATUS_HEALTHY);
	CHECK(has(t,
	    "daemon: running (pid 4242, api siem, started "
	    "2026-11-26T19:31:02Z (60 min ago))\n"));
	CHECK(has(t, "collector: up\n"));
	CHECK(has(t, "fetch: ok\n"));
	CHECK(has(t, "last delivery: 2026-11-26T20:30:50Z (12 s ago)\n"));
	CHECK(has(t, "lag behind Defender: 45 s\n"));
	CHECK(has(t, "cursor: 2026-11-26T20:30:17.1234567Z\n"));
	CHECK(has(t, "spool: 0 messages, 0 bytes\n"));
	CHECK(has(t,
	    "records: 1234 fetched, 1200 delivered, 30 duplicates "
	    "dropped, 4 bad\n"));
	CHECK(has(t,
	    "events: 7 retries, 2 throttled (HTTP 429), 3 token "
	    "renewals, 5 collector connections\n"));
	CHECK(has(t, "last error: none\n"));
	CHECK(has(t, "\nhealthy\n"));
	CHECK(strstr(t, "degraded") == NULL);
	free(t);

	/* Each rule alone. */
	sample(&st);
	st.collector_up = 0;
	snprintf(st.last_error, sizeof(st.last_error),
	    "cannot connect to 127.0.0.1:514: Connection refused");
	st.last_error_at = NOW - 3;
	t = printed(&st, NOW, 0, &rc);
	CHECK(rc == STATUS_DEGRADED);
	CHECK(has(t, "collector: down\n"));
	CHECK(has(t,
	    "last error: cannot connect to 127.0.0.1:514: "
	    "Connection refused (2026-11-26T20:30:59Z (3 s ago))\n"));
	CHECK(has(t, "degraded: the collector is not reachable\n"));
	CHECK(strstr(t, "healthy") == NULL);
	free(t);

	sample(&st);
	st.fetch_ok = 0;
	t = printed(&st, NOW, 0, &rc);
	CHECK(rc == STATUS_DEGRADED);
	CHECK(has(t, "fetch: failing\n"));
	CHECK(has(t, "degraded: fetching from Defender fails\n"));
	free(t);

	sample(&st);
	st.lag_secs = 1000;
	t = printed(&st, NOW, 0, &rc); /* default: 3 x 60 + 300 */
	CHECK(rc == STATUS_DEGRADED);
	CHECK(has(t, "degraded: 1000 s behind Defender (threshold 480 s)\n"));
	free(t);
	t = printed(&st, NOW, 1800, &rc);
	CHECK(rc == STATUS_HEALTHY);
	free(t);

	sample(&st);
	st.spool_full = 1;
	st.spool_messages = 10;
	st.pending_bytes = 4096;
	t = printed(&st, NOW, 0, &rc);
	CHECK(rc == STATUS_DEGRADED);
	CHECK(has(t,
	    "spool: 10 messages, 4096 bytes (full: fetching "
	    "paused)\n"));
	CHECK(has(t, "degraded: the spool is full; fetching is paused\n"));
	free(t);

	sample(&st);
	st.running = 0;
	t = printed(&st, NOW, 0, &rc);
	CHECK(rc == STATUS_DEGRADED);
	CHECK(has(t, "daemon: stopped"));
	CHECK(has(t, "degraded: the daemon is not running\n"));
	free(t);

	/* Not updated for 3 poll intervals + 5 minutes: hung or gone. */
	sample(&st);
	t = printed(&st, NOW + 468, 0, &rc); /* 480 s old */
	CHECK(rc == STATUS_HEALTHY);
	free(t);
	t = printed(&st, NOW + 500, 0, &rc);
	CHECK(rc == STATUS_DEGRADED);
	CHECK(has(t, "degraded: status.json not updated for 512 s"));
	free(t);

	/* Never, unknown, several reasons at once. */
	status_init(&st);
	st.running = 1;
	st.updated = NOW;
	st.poll_interval = 60;
	t = printed(&st, NOW, 0, &rc);
	CHECK(rc == STATUS_DEGRADED);
	CHECK(has(t, "last delivery: never\n"));
	CHECK(has(t, "cursor: none yet\n"));
	CHECK(has(t, "lag behind Defender: unknown\n"));
	CHECK(has(t,
	    "degraded: the collector is not reachable\n"
	    "degraded: fetching from Defender fails\n"));
	free(t);
}

/* The Kafka counters: in status.json, the metrics and --status. */
static void
test_kafka(void)
{
	struct status st, back;
	struct buf b;
	char *text;
	int rc;

	sample(&st);
	CHECK(status_write(dir, &st) == 0);
	CHECK(status_load(dir, &back) == 0 && back.kafka == 0);
	buf_init(&b, 0);
	CHECK(status_format_metrics(&st, &b) == 0);
	CHECK(strstr(buf_str(&b), "mdesiem_kafka_") == NULL);
	buf_reset(&b);

	st.kafka = 1;
	st.kafka_in_flight = 250;
	st.kafka_acked = 19750;
	st.kafka_retried = 12;
	st.kafka_failed = 1;
	CHECK(status_write(dir, &st) == 0);
	CHECK(status_load(dir, &back) == 0);
	CHECK(back.kafka == 1 && back.kafka_in_flight == 250);
	CHECK(back.kafka_acked == 19750 && back.kafka_retried == 12);
	CHECK(back.kafka_failed == 1);
	buf_init(&b, 0);
	CHECK(status_format_metrics(&st, &b) == 0);
	CHECK(
	    sample_of(buf_str(&b), "mdesiem_kafka_in_flight_messages") == 250);
	CHECK(sample_of(buf_str(&b), "mdesiem_kafka_acknowledged_total") ==
	    19750);
	CHECK(sample_of(buf_str(&b), "mdesiem_kafka_retried_total") == 12);
	CHECK(sample_of(buf_str(&b), "mdesiem_kafka_failed_total") == 1);
	CHECK(strstr(buf_str(&b),
	          "# TYPE mdesiem_kafka_acknowledged_total counter\n") != NULL);
	buf_reset(&b);
	text = printed(&st, NOW, 0, &rc);
	CHECK(strstr(text,
	          "\nkafka: 250 in flight, 19750 acknowledged, 12 retried, 1 "
	          "failed (too large for the topic, skipped)\n") != NULL);
	free(text);

	/* Why the output is down: in status.json and --status. */
	st.collector_up = 0;
	snprintf(st.collector_error, sizeof(st.collector_error),
	    "topic th-cef: Broker: Unknown topic or partition "
	    "(UNKNOWN_TOPIC_OR_PART)");
	CHECK(status_write(dir, &st) == 0);
	CHECK(status_load(dir, &back) == 0);
	CHECK_STR(back.collector_error, st.collector_error);
	text = printed(&st, NOW, 0, &rc);
	CHECK(strstr(text,
	          "\ncollector: down: topic th-cef: Broker: Unknown topic or "
	          "partition (UNKNOWN_TOPIC_OR_PART)\n") != NULL);
	free(text);
}

static void
test_read_print(void)
{
	char *text = NULL, path[128];
	size_t len = 0;
	struct status st;
	FILE *f;
	int rc;

	f = open_memstream(&text, &len);
	rc = status_read_print("/nonexistent", f, 0);
	fclose(f);
	CHECK(rc == STATUS_DEGRADED);
	CHECK(has(text, "no status.json in /nonexistent"));
	free(text);

	snprintf(path, sizeof(path), "%s/status.json", dir);
	CHECK(statefile_write(path, "{\"hello\":1}\n", 12) == 0);
	text = NULL;
	f = open_memstream(&text, &len);
	rc = status_read_print(dir, f, 0);
	fclose(f);
	CHECK(rc == STATUS_DEGRADED);
	CHECK(has(text, "is not a status file written by mdesiemd"));
	free(text);

	/* Written now: healthy. */
	sample(&st);
	st.updated = (int64_t)time(NULL);
	CHECK(status_write(dir, &st) == 0);
	text = NULL;
	f = open_memstream(&text, &len);
	rc = status_read_print(dir, f, 0);
	fclose(f);
	CHECK(has(text, "\nhealthy\n"));
	CHECK(rc == STATUS_HEALTHY);
	free(text);
}

/* The host's clock against the API's: status.json, --status, metrics. */
static void
test_clock(void)
{
	struct status st, back;
	struct buf b;
	char path[128], *t;
	int rc;

	sample(&st);
	st.clock_known = 1;
	st.clock_skew = 1200;
	st.clock_off = 1;
	st.clock_tolerance = 120;
	CHECK(status_write(dir, &st) == 0);
	snprintf(path, sizeof(path), "%s/status.json", dir);
	buf_init(&b, 0);
	CHECK(statefile_read(path, &b) == 0);
	CHECK(has(buf_str(&b), "\"skew_seconds\":\t1200,"));
	CHECK(has(buf_str(&b), "\"tolerance_seconds\":\t120,"));
	CHECK(has(buf_str(&b), "\"off\":\ttrue"));
	memset(&back, 0x55, sizeof(back));
	CHECK(status_load(dir, &back) == 0);
	CHECK(back.clock_known == 1 && back.clock_skew == 1200);
	CHECK(back.clock_off == 1 && back.clock_tolerance == 120);
	t = printed(&back, NOW, 0, &rc);
	CHECK(rc == STATUS_DEGRADED);
	CHECK(has(t, "clock: the host's is 1200 s ahead of Defender's\n"));
	CHECK(has(t,
	    "degraded: the host's clock is 1200 s ahead of Defender's "
	    "(more than [source] clock_tolerance, 120 s): fix its time "
	    "(NTP)\n"));
	free(t);
	buf_clear(&b);
	CHECK(status_format_metrics(&st, &b) == 0);
	CHECK(sample_of(buf_str(&b), "mdesiem_clock_skew_seconds") == 1200);
	CHECK(sample_of(buf_str(&b), "mdesiem_clock_off") == 1);

	/* Behind, within the tolerance: said, and healthy. */
	st.clock_skew = -30;
	st.clock_off = 0;
	CHECK(status_write(dir, &st) == 0);
	CHECK(status_load(dir, &back) == 0);
	CHECK(back.clock_known == 1 && back.clock_skew == -30);
	CHECK(back.clock_off == 0);
	t = printed(&back, NOW, 0, &rc);
	CHECK(rc == STATUS_HEALTHY);
	CHECK(has(t, "clock: the host's is 30 s behind Defender's\n"));
	free(t);
	buf_clear(&b);
	CHECK(status_format_metrics(&st, &b) == 0);
	CHECK(sample_of(buf_str(&b), "mdesiem_clock_skew_seconds") == -30);
	CHECK(sample_of(buf_str(&b), "mdesiem_clock_off") == 0);

	/* No answer yet: null, no sample, and said so. */
	st.clock_known = 0;
	st.clock_skew = 0;
	CHECK(status_write(dir, &st) == 0);
	buf_clear(&b);
	CHECK(statefile_read(path, &b) == 0);
	CHECK(has(buf_str(&b), "\"skew_seconds\":\tnull"));
	CHECK(status_load(dir, &back) == 0);
	CHECK(back.clock_known == 0);
	t = printed(&back, NOW, 0, &rc);
	CHECK(rc == STATUS_HEALTHY);
	CHECK(has(t, "clock: not compared yet (no answer from the API)\n"));
	free(t);
	buf_clear(&b);
	CHECK(status_format_metrics(&st, &b) == 0);
	CHECK(has(buf_str(&b), "# TYPE mdesiem_clock_skew_seconds gauge\n"));
	CHECK(strstr(buf_str(&b), "\nmdesiem_clock_skew_seconds ") == NULL);
	buf_reset(&b);
}

/*
 * A deprecated API: the notice goes to status.json, --status prints it
 * without calling the daemon degraded (the source still works), and the
 * metrics say 1; without one, null and 0.
 */
static void
test_deprecation(void)
{
	struct status st, back;
	struct buf b;
	char path[128], *t;
	int rc;

	sample(&st);
	snprintf(st.deprecation, sizeof(st.deprecation),
	    "api = siem: deprecated; move to api = graph");
	CHECK(status_write(dir, &st) == 0);
	snprintf(path, sizeof(path), "%s/status.json", dir);
	buf_init(&b, 0);
	CHECK(statefile_read(path, &b) == 0);
	CHECK(has(buf_str(&b),
	    "\"deprecation\":\t\"api = siem: deprecated; move to api = "
	    "graph\""));
	memset(&back, 0x55, sizeof(back));
	CHECK(status_load(dir, &back) == 0);
	CHECK_STR(back.deprecation, st.deprecation);
	t = printed(&back, NOW, 0, &rc);
	CHECK(rc == STATUS_HEALTHY);
	CHECK(has(t,
	    "deprecated: api = siem: deprecated; move to api = "
	    "graph\n"));
	free(t);
	buf_clear(&b);
	CHECK(status_format_metrics(&st, &b) == 0);
	CHECK(has(buf_str(&b), "# TYPE mdesiem_source_deprecated gauge\n"));
	CHECK(sample_of(buf_str(&b), "mdesiem_source_deprecated") == 1);

	st.deprecation[0] = '\0';
	CHECK(status_write(dir, &st) == 0);
	buf_clear(&b);
	CHECK(statefile_read(path, &b) == 0);
	CHECK(has(buf_str(&b), "\"deprecation\":\tnull"));
	CHECK(status_load(dir, &back) == 0);
	CHECK(back.deprecation[0] == '\0');
	t = printed(&back, NOW, 0, &rc);
	CHECK(t != NULL && strstr(t, "deprecated:") == NULL);
	free(t);
	buf_clear(&b);
	CHECK(status_format_metrics(&st, &b) == 0);
	CHECK(sample_of(buf_str(&b), "mdesiem_source_deprecated") == 0);
	buf_reset(&b);
}

/*
 * An API that answers as retired: status.json says since when, --status
 * is degraded with that reason (not the generic fetch failure), the
 * metric is 1.
 */
static void
test_retired(void)
{
	struct status st, back;
	struct buf b;
	char *t;
	int rc;

	sample(&st);
	st.fetch_ok = 0;
	st.retired = 1;
	st.retired_since = NOW - 600;
	CHECK(status_write(dir, &st) == 0);
	memset(&back, 0x55, sizeof(back));
	CHECK(status_load(dir, &back) == 0);
	CHECK(back.retired == 1 && back.retired_since == NOW - 600);
	t = printed(&back, NOW, 0, &rc);
	CHECK(rc == STATUS_DEGRADED);
	CHECK(has(t,
	    "fetch: the API answers as retired since "
	    "2026-11-26T20:21:02Z (10 min ago); asked again hourly\n"));
	CHECK(has(t,
	    "degraded: the siem API answers as retired: Microsoft "
	    "has switched it off"));
	CHECK(t != NULL && strstr(t, "fetching from Defender fails") == NULL);
	free(t);
	buf_init(&b, 0);
	CHECK(status_format_metrics(&st, &b) == 0);
	CHECK(sample_of(buf_str(&b), "mdesiem_source_retired") == 1);
	st.retired = 0;
	st.retired_since = 0;
	buf_clear(&b);
	CHECK(status_format_metrics(&st, &b) == 0);
	CHECK(sample_of(buf_str(&b), "mdesiem_source_retired") == 0);
	CHECK(status_write(dir, &st) == 0);
	CHECK(status_load(dir, &back) == 0);
	CHECK(back.retired == 0 && back.retired_since == 0);
	buf_reset(&b);
}

/* Each tenant's metrics: every series, with its tenant's own values. */
static void
test_tenant_metrics(void)
{
	struct status ts[2];
	struct buf b;
	const char *t;

	memset(ts, 0, sizeof(ts));
	snprintf(ts[0].tenant, sizeof(ts[0].tenant), "contoso");
	snprintf(ts[0].stream, sizeof(ts[0].stream), "alerts");
	ts[0].lag_secs = 12;
	ts[0].fetched = 101;
	ts[0].spooled = 102;
	ts[0].delivered = 103;
	ts[0].duplicates = 104;
	ts[0].bad_records = 105;
	ts[0].throttled = 106;
	ts[1] = ts[0];
	snprintf(ts[1].stream, sizeof(ts[1].stream), "incidents");
	ts[1].failing = 1;
	ts[1].lag_secs = -1; /* none yet: no sample */
	ts[1].fetched = 7;
	buf_init(&b, 0);
	CHECK(status_format_tenant_metrics(ts, 2, &b) == 0);
	t = buf_str(&b);
	CHECK(has(t, "# TYPE mdesiem_tenant_fetch_ok gauge\n"));
	CHECK(has(t, "mdesiem_tenant_fetch_ok{tenant=\"contoso\"} 1\n"));
	CHECK(has(t,
	    "mdesiem_tenant_fetch_ok{tenant=\"contoso\",stream="
	    "\"incidents\"} 0\n"));
	CHECK(has(t, "mdesiem_tenant_lag_seconds{tenant=\"contoso\"} 12\n"));
	CHECK(strstr(t, "lag_seconds{tenant=\"contoso\",stream") == NULL);
	CHECK(has(t, "# TYPE mdesiem_tenant_records_fetched_total counter\n"));
	CHECK(has(t,
	    "mdesiem_tenant_records_fetched_total{tenant=\"contoso\"} 101\n"));
	CHECK(has(t,
	    "mdesiem_tenant_records_fetched_total{tenant=\"contoso\","
	    "stream=\"incidents\"} 7\n"));
	CHECK(has(t,
	    "mdesiem_tenant_records_spooled_total{tenant=\"contoso\"} 102\n"));
	CHECK(
	    has(t, "mdesiem_tenant_delivered_total{tenant=\"contoso\"} 103\n"));
	CHECK(has(t,
	    "mdesiem_tenant_duplicates_dropped_total{tenant="
	    "\"contoso\"} 104\n"));
	CHECK(has(
	    t, "mdesiem_tenant_bad_records_total{tenant=\"contoso\"} 105\n"));
	CHECK(
	    has(t, "mdesiem_tenant_throttled_total{tenant=\"contoso\"} 106\n"));
	buf_reset(&b);
}

int
main(void)
{
	char cmd[128];

	snprintf(dir, sizeof(dir), "/tmp/test_status.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	test_roundtrip();
	test_metrics();
	test_print();
	test_kafka();
	test_read_print();
	test_clock();
	test_deprecation();
	test_retired();
	test_tenant_metrics();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		CHECK(0);
	return check_done();
}
