/* SPDX-License-Identifier: MIT */
/*
 * JSON lines output: one canonical record in, one JSON object out (no
 * newline: the framing adds it), for Splunk, Elastic and QRadar's JSON
 * DSMs.  Keys are the stable snake_case names of RECORD_FIELDS plus
 * "schema_version", "source_api", "evidence" (the alert's whole evidence
 * array, alerts and graph only) and "truncated"; times are ISO 8601 UTC
 * with 7 fractional digits, booleans true/false, alert_part and report_id
 * numbers.  Absent and empty values are omitted.
 *
 * The text is written straight into the output buffer, never through a
 * cJSON tree.  It is always valid UTF-8 (invalid bytes become U+FFFD) and
 * holds no raw control character: strings escape '"', '\', C0 controls
 * (\n, \r, \t, else \u00XX), DEL, the C1 controls and U+2028/U+2029
 * (\u2028, \u2029) so that JavaScript consumers read it too.
 */
#ifndef JSON_OUT_H
#define JSON_OUT_H

#include <stddef.h>

#include "pairs.h"

struct buf;
struct record;

/* Raised when a key changes meaning or goes away; new keys keep it. */
#define JSON_OUT_SCHEMA_VERSION 1

struct json_out_opts {
	size_t max_len; /* bytes available for the line, 0: any */
};

/*
 * Append the JSON object for r to out.  When it would exceed o->max_len
 * bytes, it is packed as for CEF (pairs.h, README "Fitting
 * max_message_size"; the evidence array goes in only whole, after every
 * other value) and "truncated": true is added; the object stays valid
 * JSON.  Returns 0; ERR_TOOBIG when the essential members (ids, times) alone exceed
 * max_len, or out's own cap is reached; ERR_NOMEM.  On error out is
 * restored to its length on entry.  Once out has grown to its working
 * size, nothing is allocated.
 */
int json_out_format(
    struct buf *out, const struct record *r, const struct json_out_opts *o);

/* json_out_format() with the limit max, and the cost of fitting it in
 * *res (when not NULL). */
int json_out_render(struct buf *out, const struct record *r, size_t max,
    struct pairs_result *res);

/*
 * The mapping table, in output order (after "schema_version" and
 * "source_api"); read-only, static storage.  A row's key is NULL when it
 * is the field's record_field_json() name; json_out_key() resolves it.
 */
size_t json_out_mapping_count(void);
const struct pairs_map *json_out_mapping_get(size_t i); /* NULL past end */
const char *json_out_key(const struct pairs_map *m);

/* "siem", "alerts" or "graph": the value of "source_api" for origin o. */
const char *json_out_source_api(enum record_origin origin);

#endif
