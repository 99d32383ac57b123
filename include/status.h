/* SPDX-License-Identifier: MIT */
/*
 * Health and metrics.  After every cycle the daemon writes status.json in
 * the state directory (replaced atomically) and, when [metrics]
 * textfile_dir is set, mdesiem.prom there for node_exporter's textfile
 * collector.  `mdesiemd --status` reads status.json back and prints it
 * for a human, with an exit status for monitoring scripts.
 */
#ifndef STATUS_H
#define STATUS_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

struct buf;

#define STATUS_FILE "status.json"
#define STATUS_PROM_FILE "mdesiem.prom"

/* Exit statuses of `mdesiemd --status`. */
#define STATUS_HEALTHY 0
#define STATUS_DEGRADED 1

/*
 * What the daemon knows about itself.  Times are Unix seconds, 0 for
 * "never"; counters are totals since the daemon started.
 */
struct status {
	char api[16]; /* "siem", "alerts", "graph" */
	char deprecation[320]; /* the API's deprecation notice, or "" */
	char tenant[72]; /* the tenant's name ("default" for one) */
	char stream[16]; /* what it reads: "alerts" or "incidents" */
	char queue[304]; /* a tenant's output queue ("tcp://host:port") */
	int multi; /* configured with [tenant NAME] sections */
	size_t tenants; /* totals: how many tenants run */
	size_t failing_tenants; /* totals: how many fail now */
	int failing; /* a tenant: its last window failed */
	uint64_t spooled; /* messages made durable in the output queue */
	long pid;
	int running; /* 0 in the last write before exit */
	int64_t started;
	int64_t updated; /* when this was written */
	int64_t poll_interval; /* seconds, to judge staleness */

	int64_t last_fetch_ok; /* last window read completely */
	int64_t last_delivery_ok; /* last spool drained to collector */
	int64_t last_success; /* last cycle with both */
	char cursor[40]; /* cursor position as text, or "" */
	int64_t lag_secs; /* the API's time now - end of the last
			     window read completely; -1 unknown */

	uint64_t pending_bytes; /* not acknowledged by the collector yet */
	uint64_t spool_messages;
	uint64_t in_flight; /* sent, not acknowledged yet */
	int spool_full; /* fetching paused: spool at limit */

	uint64_t fetched; /* records read from the API */
	uint64_t delivered; /* messages the collector acknowledged */
	uint64_t dropped; /* lost by the transport, never sent again */
	uint64_t resent; /* sent again after a broken connection */
	uint64_t duplicates; /* dropped by the dedup set */
	uint64_t bad_records; /* could not be parsed or normalised */
	uint64_t oversized_keys; /* of those: dedup key over 64 KiB */
	uint64_t commit_parts; /* extra COMMITs of pages over 16 MiB of keys */
	uint64_t state_damage; /* damage found in the state directory */
	uint64_t damaged_bytes; /* spool bytes skipped as damaged */
	uint64_t lost_messages; /* spooled, never read (spool gaps) */
	char damage_last[200]; /* the newest damage found, or "" */
	uint64_t messages_shortened; /* packed to fit max_message_size */
	uint64_t values_shortened; /* values cut to fit */
	uint64_t values_dropped; /* values left out to fit */
	uint64_t retries; /* requests or sends tried again */
	uint64_t throttled; /* HTTP 429 answers */
	uint64_t token_renewals; /* access tokens obtained */
	uint64_t reconnects; /* connections to the collector */

	/* The output is Kafka (transport = kafka): */
	int kafka;
	uint64_t kafka_in_flight; /* handed to the producer, not yet retired */
	uint64_t kafka_acked; /* successful delivery reports */
	uint64_t kafka_retried; /* handed back for a resend */
	uint64_t kafka_failed; /* refused for good (too large): skipped */

	int collector_up; /* the last send succeeded */
	char collector_error[512]; /* why the collector is down, or "" */
	int fetch_ok; /* the last fetch succeeded */
	int retired; /* the API answers as switched off (ERR_RETIRED) */
	int64_t retired_since; /*   since then */
	char last_error[512]; /* "" when none; never a secret */
	int64_t last_error_at;

	int clock_known; /* an answer of the API gave its time */
	int64_t clock_skew; /* s the host's clock is ahead (< 0: behind) */
	int clock_off; /* |clock_skew| passed clock_tolerance */
	int64_t clock_tolerance; /* [source] clock_tolerance, s */
};

/* Add every counter of st (fetched, delivered, ...) to tot's. */
void status_add_counters(struct status *tot, const struct status *st);

/* Zero st and set lag_secs to -1 (unknown). */
void status_init(struct status *st);

/*
 * Write st as state_dir/status.json, replaced atomically (temp, fsync,
 * rename, fsync of the directory), mode 0600.  Returns 0, ERR_NOMEM, or
 * ERR_IO with errno kept.
 */
int status_write(const char *state_dir, const struct status *st);

/*
 * Write st in the Prometheus text format as textfile_dir/mdesiem.prom,
 * replaced atomically, mode 0644 (node_exporter runs as another user).
 * Returns 0, ERR_NOMEM, or ERR_IO with errno kept.
 */
int status_write_metrics(const char *textfile_dir, const struct status *st);

/*
 * The daemon's status: the totals tot as status_write() writes them, plus
 * a "tenant_status" array with one object per tenant of ts[0..n).  And
 * the metrics: tot's, plus mdesiem_tenant_* series labelled
 * tenant="NAME" (a fixed set per tenant: the size is bounded by the
 * number of tenants).
 */
int status_write_all(const char *state_dir, const struct status *tot,
    const struct status *ts, size_t n);
int status_write_metrics_all(const char *textfile_dir, const struct status *tot,
    const struct status *ts, size_t n);
int status_format_tenant_metrics(
    const struct status *ts, size_t n, struct buf *out);

/* Append st in the Prometheus text format to out.  0 or a buf error. */
int status_format_metrics(const struct status *st, struct buf *out);

/*
 * Read state_dir/status.json into *st.  Returns 0, ERR_NOTFOUND when
 * there is none, ERR_IO (errno kept), ERR_PARSE when it is not a status
 * file, ERR_NOMEM.
 */
int status_load(const char *state_dir, struct status *st);

/*
 * Print st for a human to out, one line per item, ages relative to now,
 * and return STATUS_HEALTHY, or STATUS_DEGRADED when the daemon is
 * stopped, the file is stale (not updated for 3 poll intervals plus 5
 * minutes), the collector is down, fetching fails, the spool is full,
 * the lag passes lag_threshold seconds (<= 0: 3 poll intervals plus 5
 * minutes), or the host's clock is off the API's by more than the
 * tolerance.  Each reason is printed on a "degraded: ..." line.
 */
int status_print(
    const struct status *st, time_t now, long lag_threshold, FILE *out);

/*
 * `mdesiemd --status`: status_load() and status_print() at the current
 * time.  Without a readable status file, says why on out and returns
 * STATUS_DEGRADED.
 */
int status_read_print(const char *state_dir, FILE *out, long lag_threshold);

#endif
