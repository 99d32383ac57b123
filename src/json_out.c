/* SPDX-License-Identifier: MIT */
/*
 * JSON lines formatter (include/json_out.h): turns a canonical record into
 * one JSON object, between normalisation and the spool.
 *
 * The object is {"schema_version":1,"source_api":"...", members in table
 * order, ["truncated":true]}.  Strings go through text_escape() with the
 * JSON scheme below, so every value is valid UTF-8 and escaped as RFC 8259
 * requires (plus DEL, C1 controls, U+2028 and U+2029); values are not
 * trimmed.  The evidence array of an updatable alert is written from the
 * cJSON tree the record borrows, by the small serialiser here, with the
 * same string escaping (cJSON's own printer would allocate and pass
 * invalid UTF-8 through); or, when the record carries the array's text as
 * the API sent it and that text is printable ASCII JSON as RFC 8259 writes
 * it (raw_ok()), by copying that text.  Size limits work as for CEF and LEEF
 * (include/pairs.h); "truncated" says that a limit shortened the object.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "errcode.h"
#include "jsonfix.h"
#include "json_out.h"
#include "pairs.h"
#include "record.h"
#include "text.h"

#define DEPTH_MAX 1000 /* as CJSON_NESTING_LIMIT: what a parse can give */
#define TRUNCATED ",\"truncated\":true}"

/*
 * The mapping, in output order; key NULL is the field's JSON name.  The
 * custom rows write a tree the record borrows (tree_of()): the evidence
 * row has no field (RF__COUNT) and writes r->evidence; CustomDetails and
 * AdditionalData write their dictionaries as JSON objects.
 */
#define ALWAYS_ROW(f, cef, leef, json) \
	{f, json, NULL, NULL, 0, PAIRS_TEXT, PAIRS_KEEP},
static const struct pairs_map map[] = {
    PAIRS_ALWAYS(ALWAYS_ROW){
        RF_ALERT_ID, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_KEEP},
    {RF_FULL_ID, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_KEEP},
    {RF_ALERT_TIME, NULL, NULL, NULL, 0, PAIRS_ALERT_ISO_TIME, PAIRS_KEEP},
    {RF_LAST_PROCESSED_TIME, NULL, NULL, NULL, 0, PAIRS_ISO_TIME, PAIRS_KEEP},
    {RF_LAST_UPDATE_TIME, NULL, NULL, NULL, 0, PAIRS_ISO_TIME, PAIRS_KEEP},
    {RF_DEVICE_ID, NULL, NULL, NULL, PAIRS_DEVICE_ID_MAX, PAIRS_TEXT,
        PAIRS_KEEP},
    {RF_INCIDENT_ID, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_KEEP},

    {RF_SEVERITY, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_CATEGORY, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_IOA_DEFINITION_ID, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_SOURCE, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_SERVICE_SOURCE, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_STATUS, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_CLASSIFICATION, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_DETERMINATION, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_ASSIGNED_TO, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_CREATED_TIME, NULL, NULL, NULL, 0, PAIRS_ISO_TIME, PAIRS_HIGH},
    {RF_COMPUTER_DNS_NAME, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_MACHINE_NAME, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_MACHINE_DOMAIN, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_IP_ADDRESS, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_USER_NAME, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_USER_DOMAIN, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_SHA1, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_SHA256, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_MD5, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_FILE_HASH, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_THREAT_NAME, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_THREAT_FAMILY, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_THREAT_CATEGORY, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_ACTOR, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_REMEDIATION_ACTION, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_REMEDIATION_IS_SUCCESS, NULL, NULL, NULL, 0, PAIRS_BOOL, PAIRS_HIGH},
    {RF_WAS_EXECUTING, NULL, NULL, NULL, 0, PAIRS_BOOL, PAIRS_HIGH},
    {RF_ALERT_PART, NULL, NULL, NULL, 0, PAIRS_INT, PAIRS_HIGH},
    {RF_REPORT_ID, NULL, NULL, NULL, 0, PAIRS_INT, PAIRS_HIGH},
    {RF_MACHINE_GROUP, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_IOC_UNIQUE_ID, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_EXTERNAL_ID, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_PRODUCT_NAME, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_ALERT_POLICY_ID, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_INVESTIGATION_STATE, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},

    {RF_ALERT_TITLE, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_LOW},
    {RF_DESCRIPTION, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_LOW},
    {RF_FILE_NAME, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_LOW},
    {RF_FILE_PATH, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_LOW},
    {RF_COMMAND_LINE, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_LOW},
    {RF_URL, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_LOW},
    {RF_IOC_NAME, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_LOW},
    {RF_IOC_VALUE, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_LOW},
    {RF_CREATOR_IOC_NAME, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_LOW},
    {RF_CREATOR_IOC_VALUE, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_LOW},
    {RF_LOGON_USERS, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_LOW},
    {RF_INTERNAL_IPV4_LIST, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_LOW},
    {RF_INTERNAL_IPV6_LIST, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_LOW},
    {RF_DEVICE_TAGS, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_LOW},
    {RF_CLOUD_TAGS, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_LOW},
    {RF_MITRE_TECHNIQUES, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_LOW},
    {RF_LINK_TO_WDATP, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_LOW},
    {RF_INCIDENT_LINK_TO_WDATP, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_LOW},
    {RF_LINK_TO_MTP, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_LOW},
    {RF_INCIDENT_LINK_TO_MTP, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_LOW},
    {RF_INCIDENT_TAGS, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_LOW},
    {RF_ALERT_IDS, NULL, NULL, NULL, 0, PAIRS_TEXT, PAIRS_LOW},

    {RF_CUSTOM_DETAILS, NULL, NULL, NULL, 0, PAIRS_CUSTOM, PAIRS_BULK},
    {RF_ADDITIONAL_DATA, NULL, NULL, NULL, 0, PAIRS_CUSTOM, PAIRS_BULK},
    {RF__COUNT, "evidence", NULL, NULL, 0, PAIRS_CUSTOM, PAIRS_BULK},
};

#undef ALWAYS_ROW
#define NMAP (sizeof(map) / sizeof(map[0]))

_Static_assert(NMAP <= PAIRS_MAX, "JSON mapping too long for pairs.c");

/* RFC 8259 string escaping, plus DEL; C1, U+2028, U+2029 by the flag. */
/* clang-format off */
static const struct text_esc json_esc = { {
	[0x00] = "\\u0000", [0x01] = "\\u0001", [0x02] = "\\u0002",
	[0x03] = "\\u0003", [0x04] = "\\u0004", [0x05] = "\\u0005",
	[0x06] = "\\u0006", [0x07] = "\\u0007", [0x08] = "\\u0008",
	[0x09] = "\\t", [0x0a] = "\\n", [0x0b] = "\\u000b",
	[0x0c] = "\\u000c", [0x0d] = "\\r", [0x0e] = "\\u000e",
	[0x0f] = "\\u000f", [0x10] = "\\u0010", [0x11] = "\\u0011",
	[0x12] = "\\u0012", [0x13] = "\\u0013", [0x14] = "\\u0014",
	[0x15] = "\\u0015", [0x16] = "\\u0016", [0x17] = "\\u0017",
	[0x18] = "\\u0018", [0x19] = "\\u0019", [0x1a] = "\\u001a",
	[0x1b] = "\\u001b", [0x1c] = "\\u001c", [0x1d] = "\\u001d",
	[0x1e] = "\\u001e", [0x1f] = "\\u001f",
	['"'] = "\\\"", ['\\'] = "\\\\", [0x7f] = "\\u007f",
}, TEXT_ESC_UNICODE, "\"\\" };
/* clang-format on */

size_t
json_out_mapping_count(void)
{
	return NMAP;
}

const struct pairs_map *
json_out_mapping_get(size_t i)
{
	return i < NMAP ? &map[i] : NULL;
}

const char *
json_out_key(const struct pairs_map *m)
{
	return m->key != NULL ? m->key : record_field_json(m->field);
}

const char *
json_out_source_api(enum record_origin origin)
{
	switch (origin) {
	case RECORD_ALERTS:
		return "alerts";
	case RECORD_GRAPH:
		return "graph";
	case RECORD_GRAPH_INCIDENT:
		return "graph_incidents";
	default:
		return "siem";
	}
}

/*
 * A JSON string: quoted, escaped, at most cap bytes inside the quotes and
 * at most chars characters of s (TEXT_NOLIMIT: all).
 */
static int
put_string(struct buf *out, const char *s, size_t n, size_t chars, size_t cap,
    size_t *added)
{
	size_t start = out->len, a;
	int rc;

	if ((rc = buf_addc(out, '"')) != 0 ||
	    (rc = text_escape(out, s, n, &json_esc, chars, cap, 0, &a)) != 0 ||
	    (rc = buf_addc(out, '"')) != 0) {
		buf_truncate(out, start);
		return rc;
	}
	if (added != NULL)
		*added = a;
	return 0;
}

/*
 * A string of a cJSON tree (a key or a value of the evidence or a
 * dictionary), quoted and escaped.  Most are printable ASCII that the
 * scheme keeps as it is: one pass finds the end and checks every byte
 * against json_esc, and those are copied whole, without text_escape()'s
 * fixed cost; any other goes through text_escape().
 */
static int
put_tree_string(struct buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;
	char *d;
	int rc;

	while (*p >= 0x20 && *p < 0x7f && json_esc.rep[*p] == NULL)
		p++;
	n = (size_t)(p - (const unsigned char *)s);
	if (*p != '\0')
		return put_string(out, s, n + strlen((const char *)p),
		    TEXT_NOLIMIT, TEXT_NOLIMIT, NULL);
	if ((rc = buf_reserve(out, n + 2)) != 0)
		return rc;
	d = out->data + out->len;
	d[0] = '"';
	memcpy(d + 1, s, n);
	d[n + 1] = '"';
	out->len += n + 2;
	out->data[out->len] = '\0';
	return 0;
}

/* The shortest of %.15g and %.17g that reads back as v. */
static int
put_number(struct buf *out, double v)
{
	char tmp[32];

	if (!isfinite(v))
		return buf_adds(out, "null");
	if (v >= -9007199254740992.0 && v <= 9007199254740992.0 &&
	    (double)(long long)v == v)
		return buf_add_i64(out, (long long)v);
	snprintf(tmp, sizeof(tmp), "%.15g", v);
	if (strtod(tmp, NULL) != v)
		snprintf(tmp, sizeof(tmp), "%.17g", v);
	return buf_adds(out, tmp);
}

static int put_value(struct buf *out, const cJSON *v, int depth);

/* The members or elements of container v between open and close. */
static int
put_children(struct buf *out, const cJSON *v, int depth, char open, char close)
{
	const cJSON *c;
	const char *k;
	int rc;

	if ((rc = buf_addc(out, open)) != 0)
		return rc;
	for (c = v->child; c != NULL; c = c->next) {
		if (c != v->child && (rc = buf_addc(out, ',')) != 0)
			return rc;
		if (open == '{') {
			k = c->string != NULL ? c->string : "";
			if ((rc = put_tree_string(out, k)) != 0 ||
			    (rc = buf_addc(out, ':')) != 0)
				return rc;
		}
		if ((rc = put_value(out, c, depth + 1)) != 0)
			return rc;
	}
	return buf_addc(out, close);
}

static int
put_value(struct buf *out, const cJSON *v, int depth)
{
	if (depth > DEPTH_MAX)
		return buf_adds(out, "null");
	switch (v->type & 0xff) {
	case cJSON_False:
		return buf_adds(out, "false");
	case cJSON_True:
		return buf_adds(out, "true");
	case cJSON_Number:
		return put_number(out, v->valuedouble);
	case cJSON_String:
		if (v->valuestring == NULL)
			return buf_adds(out, "null");
		return put_tree_string(out, v->valuestring);
	case cJSON_Array:
		return put_children(out, v, depth, '[', ']');
	case cJSON_Object:
		return put_children(out, v, depth, '{', '}');
	default:
		return buf_adds(out, "null"); /* cJSON_NULL, Raw, Invalid */
	}
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Past the number at p when it is written as RFC 8259 writes one. */
static const char *
rfc_number_end(const char *p, const char *end)
{
	if (p < end && *p == '-')
		p++;
	if (p >= end || !is_digit(*p))
		return NULL;
	if (*p++ != '0')
		while (p < end && is_digit(*p))
			p++;
	if (p < end && *p == '.') {
		if (++p >= end || !is_digit(*p))
			return NULL;
		while (p < end && is_digit(*p))
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		if (++p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || !is_digit(*p))
			return NULL;
		while (p < end && is_digit(*p))
			p++;
	}
	/* cJSON reads "01" too: a digit after the number's end */
	return p < end && is_digit(*p) ? NULL : p;
}

/*
 * Can the evidence text t[0..n), an array as the API wrote it, go out as
 * it is?  jsonscan.c found it to be JSON as cJSON reads JSON when the
 * page was read.  When it is also printable ASCII, its numbers are
 * written as RFC 8259 writes them (cJSON also reads "01" and "1.") and
 * its \u escapes name neither NUL (a tree's string ends there) nor a
 * surrogate, it is valid JSON that says what the parsed tree says, and
 * copying it spares writing the tree again.
 */
static int
raw_ok(const char *t, size_t n)
{
	const char *p = t, *end = t + n;
	long cp;

	while (p < end) {
		if (*p == '"') {
			for (p++;; p += 2) {
				p += text_plain_len(
				    p, (size_t)(end - p), &json_esc);
				if (p >= end)
					return 0;
				if (*p == '"')
					break;
				if (*p != '\\' || end - p < 2)
					return 0; /* not printable ASCII */
				if (p[1] != 'u')
					continue; /* an escape jsonscan.c checked */
				if (end - p < 6 ||
				    (cp = jsonfix_hex4(p + 2)) <= 0 ||
				    (cp >= 0xD800 && cp <= 0xDFFF))
					return 0;
				p += 4;
			}
			p++;
		} else if (*p == '-' || is_digit(*p)) {
			if ((p = rfc_number_end(p, end)) == NULL)
				return 0;
		} else if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			return 0;
		else
			p++; /* punctuation, a space, true, false or null */
	}
	return 1;
}

/* The tree a custom row writes, or NULL for none. */
static const cJSON *
tree_of(const struct record *r, enum record_field f)
{
	switch (f) {
	case RF_CUSTOM_DETAILS:
		return r->custom_details;
	case RF_ADDITIONAL_DATA:
		return r->additional_data;
	default:
		return r->evidence;
	}
}

/* Append row m's member; text values cut to cap bytes inside the quotes. */
static int
add_pair(struct buf *out, const struct record *r, const struct pairs_map *m,
    const char *p, size_t n, size_t cap, int first, size_t *vlen,
    const void *ctx)
{
	size_t start = out->len, v;
	const char *k = json_out_key(m);
	int rc;

	(void)ctx;
	*vlen = 0;
	if ((!first && (rc = buf_addc(out, ',')) != 0) ||
	    (rc = buf_addc(out, '"')) != 0 || (rc = buf_adds(out, k)) != 0 ||
	    (rc = buf_add(out, "\":", 2)) != 0)
		goto fail;
	v = out->len;
	switch (m->kind) {
	case PAIRS_BOOL:
	case PAIRS_INT:
		rc = buf_add(out, p, n);
		break;
	case PAIRS_CUSTOM:
		if (tree_of(r, m->field) == NULL) {
			buf_truncate(out, start);
			return 0;
		}
		if (m->field == RF__COUNT && r->evidence_text.n > 0 &&
		    raw_ok(r->evidence_text.p, r->evidence_text.n))
			rc = buf_add(
			    out, r->evidence_text.p, r->evidence_text.n);
		else
			rc = put_value(out, tree_of(r, m->field), 0);
		break;
	default:
		if ((rc = put_string(out, p, n, pairs_max_chars(m), cap, &v)) !=
		    0)
			goto fail;
		if (v == 0) {
			buf_truncate(out, start);
			return 0;
		}
		*vlen = v;
		return 0;
	}
	if (rc != 0)
		goto fail;
	*vlen = out->len - v;
	return 0;
fail:
	buf_truncate(out, start);
	return rc;
}

static const struct pairs_ops ops = {
    .map = map,
    .nmap = NMAP,
    .blanks = NULL,
    .btrue = "true",
    .bfalse = "false",
    .lead_sep = 1,
    .esc = NULL, /* JSON writes its own pairs */
    .add = add_pair,
    .ctx = NULL,
};

int
json_out_render(struct buf *out, const struct record *r, size_t max,
    struct pairs_result *res)
{
	struct pairs_result own;
	size_t start = out->len;
	int rc;

	if (res == NULL)
		res = &own;
	if ((rc = buf_adds(out, "{\"schema_version\":")) != 0 ||
	    (rc = buf_add_i64(out, JSON_OUT_SCHEMA_VERSION)) != 0 ||
	    (rc = buf_adds(out, ",\"source_api\":\"")) != 0 ||
	    (rc = buf_adds(out, json_out_source_api(r->origin))) != 0 ||
	    (rc = buf_addc(out, '"')) != 0 ||
	    (rc = pairs_write(out, start, r, &ops, max, 1,
	         sizeof(TRUNCATED) - 1, res)) != 0 ||
	    (rc = res->shortened + res->dropped > 0
	            ? buf_adds(out, TRUNCATED)
	            : buf_addc(out, '}')) != 0) {
		buf_truncate(out, start);
		return rc;
	}
	return 0;
}

int
json_out_format(
    struct buf *out, const struct record *r, const struct json_out_opts *o)
{
	return json_out_render(out, r, o->max_len, NULL);
}
