/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for json_out.c.  Microsoft's example detections and the
 * Graph and Alert API examples must match the golden files in
 * tests/data/json/ byte for byte; every line must parse back (cJSON
 * here, python3's json module in tests/integration/) to the source
 * values, be valid UTF-8 and hold no raw control character; the key
 * names are pinned here so that they stay stable; evidence arrays are
 * re-serialised faithfully; size limits keep the line valid JSON.
 *
 * The hostile corpus (hostile.h) is written to $BUILD/tests/ with the
 * lines made of it, for tests/integration/test_hostile_formats.py.
 * UPDATE_GOLDEN=1 rewrites the golden files instead of comparing.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "check.h"
#include "errcode.h"
#include "fixture.h"
#include "formats.h"
#include "json_out.h"
#include "record.h"
#include "record_alert.h"
#include "text.h"
#include "ts.h"

#define DATA "tests/data/"
#define R "\xEF\xBF\xBD" /* U+FFFD */

static const struct json_out_opts dflt = {0};

/*
 * The stable keys, in output order.  Changing this list changes what
 * users' searches and dashboards see: add keys at will, but rename or
 * remove one only with a new JSON_OUT_SCHEMA_VERSION.
 */
static const char *const stable_keys[] = {"tenant_name", "tenant_id", "replay",
    "alert_id", "full_id", "alert_time", "last_processed_time",
    "last_update_time", "device_id", "incident_id", "severity", "category",
    "ioa_definition_id", "detection_source", "service_source", "status",
    "classification", "determination", "assigned_to", "alert_creation_time",
    "computer_dns_name", "machine_name", "machine_domain", "ip_address",
    "user_name", "user_domain", "sha1", "sha256", "md5", "file_hash",
    "threat_name", "threat_family", "threat_category", "actor",
    "remediation_action", "remediation_is_success",
    "was_executing_while_detected", "alert_part", "report_id", "machine_group",
    "ioc_unique_id", "external_id", "product_name", "alert_policy_id",
    "investigation_state", "alert_title", "description", "file_name",
    "file_path", "command_line", "url", "ioc_name", "ioc_value",
    "creator_ioc_name", "creator_ioc_value", "logon_users",
    "internal_ipv4_list", "internal_ipv6_list", "device_created_tags",
    "cloud_created_tags", "mitre_techniques", "link_to_wdatp",
    "incident_link_to_wdatp", "link_to_mtp", "incident_link_to_mtp",
    "incident_tags", "alert_ids", "custom_details", "additional_data",
    "evidence"};

/* ---- helpers ---- */

static void
base(struct record *r)
{
	record_clear(r);
	SET(r, RF_FULL_ID, "F");
}

/*
 * The line's own rules, then a parse: valid UTF-8, no byte below 0x20,
 * no DEL, no raw C1 control or U+2028/U+2029, one object.
 */
static cJSON *
parse_line(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	cJSON *j;
	size_t i;

	if (!text_utf8_valid(s, n)) {
		fprintf(stderr, "invalid UTF-8: %.200s\n", s);
		return NULL;
	}
	for (i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] == 0x7f ||
		    (p[i] == 0xc2 && i + 1 < n && p[i + 1] < 0xa0) ||
		    (p[i] == 0xe2 && i + 2 < n && p[i + 1] == 0x80 &&
		        (p[i + 2] == 0xa8 || p[i + 2] == 0xa9))) {
			fprintf(stderr, "raw control at %zu: %.200s\n", i, s);
			return NULL;
		}
	j = cJSON_ParseWithLength(s, n);
	if (!cJSON_IsObject(j)) {
		fprintf(stderr, "not a JSON object: %.300s\n", s);
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

static cJSON *
fmt_parse(
    struct buf *out, const struct record *r, const struct json_out_opts *o)
{
	int rc;

	buf_clear(out);
	if ((rc = json_out_format(out, r, o)) != 0) {
		fprintf(stderr, "json_out_format: %d\n", rc);
		return NULL;
	}
	if (o->max_len > 0 && out->len > o->max_len)
		return NULL;
	return parse_line(out->data, out->len);
}

static const char *
str(const cJSON *j, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int
members(const cJSON *j)
{
	return cJSON_GetArraySize(j);
}

/* ---- the mapping and its keys ---- */

static void
test_mapping(void)
{
	const struct pairs_map *m;
	size_t i, n = json_out_mapping_count();
	const char *k;
	int f, seen;

	CHECK(n == sizeof(stable_keys) / sizeof(stable_keys[0]));
	CHECK(n == (size_t)RF__COUNT + 1);
	CHECK(json_out_mapping_get(n) == NULL);
	for (i = 0; i < n && i < sizeof(stable_keys) / sizeof(stable_keys[0]);
	     i++) {
		m = json_out_mapping_get(i);
		k = json_out_key(m);
		CHECK_STR(k, stable_keys[i]);
		for (; *k != '\0'; k++)
			CHECK(islower((unsigned char)*k) ||
			    isdigit((unsigned char)*k) || *k == '_');
	}
	/* every record field exactly once */
	for (f = 0; f < RF__COUNT; f++) {
		seen = 0;
		for (i = 0; i < n; i++)
			seen += json_out_mapping_get(i)->field ==
			    (enum record_field)f;
		if (seen != 1)
			fprintf(stderr, "field %s mapped %d times\n",
			    record_field_name(f), seen);
		CHECK(seen == 1);
	}
	CHECK_STR(json_out_source_api(RECORD_SIEM), "siem");
	CHECK_STR(json_out_source_api(RECORD_ALERTS), "alerts");
	CHECK_STR(json_out_source_api(RECORD_GRAPH), "graph");
}

/* ---- golden files ---- */

/*
 * Format the fixture's first record, compare with the golden file, and
 * check that every field the record holds comes back: text fields equal,
 * the evidence equal to the source array.
 */
static void
golden(struct buf *out, enum record_origin origin, const char *json,
    const char *path, const char *api)
{
	cJSON *doc = load(json), *p;
	const struct pairs_map *m;
	struct record r;
	const char *v;
	size_t i;

	CHECK(doc != NULL);
	if (doc == NULL)
		return;
	record_init(&r);
	CHECK(normalize(origin, &r, first_item(doc)) == 0);
	p = fmt_parse(out, &r, &dflt);
	CHECK(p != NULL);
	CHECK(compare_golden(path, out));
	CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(p, "schema_version")) ==
	    JSON_OUT_SCHEMA_VERSION);
	CHECK_STR(str(p, "source_api"), api);
	CHECK(cJSON_GetObjectItem(p, "truncated") == NULL);
	for (i = 0; (m = json_out_mapping_get(i)) != NULL; i++) {
		if (m->kind != PAIRS_TEXT || r.f[m->field].n == 0)
			continue;
		v = str(p, json_out_key(m));
		CHECK(v != NULL && strlen(v) == r.f[m->field].n &&
		    memcmp(v, r.f[m->field].p, r.f[m->field].n) == 0);
	}
	if (r.evidence != NULL)
		CHECK(cJSON_Compare(
		    cJSON_GetObjectItem(p, "evidence"), r.evidence, 1));
	else
		CHECK(cJSON_GetObjectItem(p, "evidence") == NULL);
	cJSON_Delete(p);
	record_reset(&r);
	cJSON_Delete(doc);
}

static void
test_golden(struct buf *out)
{
	struct record r;
	cJSON *doc, *p;
	const char *why;

	golden(out, RECORD_SIEM, DATA "cef/siem-api-detections-example.json",
	    DATA "json/siem-example.json", "siem");
	golden(out, RECORD_SIEM,
	    DATA "cef/siem-api-detection-2017-legacy-example.json",
	    DATA "json/siem-2017-example.json", "siem");
	golden(out, RECORD_GRAPH, DATA "alerts/graph-alerts-v2-example.json",
	    DATA "json/graph-example.json", "graph");
	golden(out, RECORD_GRAPH,
	    DATA "alerts/graph-alerts-v2-newer-properties.json",
	    DATA "json/graph-newer-properties.json", "graph");
	golden(out, RECORD_ALERTS,
	    DATA "alerts/alert-api-single-alert-example.json",
	    DATA "json/alerts-example.json", "alerts");

	/* the 2020 example: types of the non-text members */
	doc = load(DATA "cef/siem-api-detections-example.json");
	record_init(&r);
	CHECK(record_from_siem(&r, first_item(doc), &why) == 0);
	p = fmt_parse(out, &r, &dflt);
	CHECK(p != NULL);
	CHECK_STR(str(p, "alert_time"), "2020-09-30T14:09:20.3574300Z");
	CHECK_STR(
	    str(p, "last_processed_time"), "2020-09-30T14:11:44.0779765Z");
	CHECK(cJSON_IsNumber(cJSON_GetObjectItem(p, "alert_part")) &&
	    cJSON_GetObjectItem(p, "alert_part")->valuedouble == 0);
	CHECK(cJSON_IsNumber(cJSON_GetObjectItem(p, "report_id")) &&
	    cJSON_GetObjectItem(p, "report_id")->valuedouble == 1053729833);
	/* null in the source: absent, as are empty strings */
	CHECK(cJSON_GetObjectItem(p, "remediation_is_success") == NULL);
	CHECK(cJSON_GetObjectItem(p, "actor") == NULL);
	CHECK(cJSON_GetObjectItem(p, "evidence") == NULL);
	CHECK(members(p) == 2 + 27);
	cJSON_Delete(p);
	record_reset(&r);
	cJSON_Delete(doc);
}

/* ---- strings, numbers, booleans, times ---- */

static const struct one {
	const char *name;
	enum record_field f;
	const char *in;
	size_t inlen;
	const char *bytes; /* what the line must contain, or NULL */
	const char *want; /* the parsed value (NULL: absent) */
} ones[] = {
#define ONE(name, f, in, bytes, want) \
	{ \
		name, f, in, sizeof(in) - 1, bytes, want \
	}
    ONE("quote", RF_FILE_NAME, "say \"hi\"", "\"say \\\"hi\\\"\"",
        "say \"hi\""),
    ONE("backslash", RF_FILE_PATH, "C:\\dir\\", "\"C:\\\\dir\\\\\"",
        "C:\\dir\\"),
    ONE("lf-cr-tab", RF_DESCRIPTION, "a\nb\rc\td", "\"a\\nb\\rc\\td\"",
        "a\nb\rc\td"),
    ONE("controls", RF_DESCRIPTION, "\x01\x08\x0c\x1f\x7f",
        "\"\\u0001\\u0008\\u000c\\u001f\\u007f\"", "\x01\x08\x0c\x1f\x7f"),
    ONE("nul", RF_DESCRIPTION, "a\0b", "\"a\\u0000b\"", NULL),
    ONE("js-separators", RF_DESCRIPTION,
        "a\xe2\x80\xa8"
        "b\xe2\x80\xa9",
        "\"a\\u2028b\\u2029\"",
        "a\xe2\x80\xa8"
        "b\xe2\x80\xa9"),
    ONE("c1", RF_DESCRIPTION,
        "nel\xc2\x85"
        "x\xc2\x9f"
        "y\xc2\xa0",
        "\"nel\\u0085x\\u009fy\xc2\xa0\"",
        "nel\xc2\x85"
        "x\xc2\x9f"
        "y\xc2\xa0"),
    ONE("spaces-kept", RF_DESCRIPTION, "  padded  ", "\"  padded  \"",
        "  padded  "),
    ONE("invalid-utf8", RF_DESCRIPTION, "bad\xff\xfe", "\"bad" R R "\"",
        "bad" R R),
    ONE("surrogate", RF_DESCRIPTION, "s\xed\xa0\x80", "\"s" R R R "\"",
        "s" R R R),
    ONE("unicode", RF_THREAT_NAME, "\xe4\xbe\xb5 \xf0\x9f\x94\xa5",
        "\"\xe4\xbe\xb5 \xf0\x9f\x94\xa5\"", "\xe4\xbe\xb5 \xf0\x9f\x94\xa5"),
    ONE("json-lookalike", RF_URL, "\"},{\"x\":1", "\"\\\"},{\\\"x\\\":1\"",
        "\"},{\"x\":1"),
    ONE("ip-text", RF_IP_ADDRESS, "fe80::1%eth0", "\"fe80::1%eth0\"",
        "fe80::1%eth0"),
#undef ONE
};

static void
test_ones(struct buf *out)
{
	struct record r;
	const struct one *c;
	cJSON *p;
	size_t i;

	record_init(&r);
	for (i = 0; i < sizeof(ones) / sizeof(ones[0]); i++) {
		c = &ones[i];
		base(&r);
		setn(&r, c->f, c->in, c->inlen);
		p = fmt_parse(out, &r, &dflt);
		CHECK(p != NULL);
		if (c->bytes != NULL &&
		    strstr(buf_str(out), c->bytes) == NULL) {
			CHECK(0);
			fprintf(stderr, "%s: %s lacks %s\n", c->name,
			    buf_str(out), c->bytes);
		}
		if (c->want != NULL)
			CHECK_STR(str(p, record_field_json(c->f)), c->want);
		cJSON_Delete(p);
	}
	/* exact bytes of a small record */
	base(&r);
	r.origin = RECORD_GRAPH;
	SET(&r, RF_ALERT_ID, "a1");
	SET(&r, RF_SEVERITY, "High");
	buf_clear(out);
	CHECK(json_out_format(out, &r, &dflt) == 0);
	CHECK_STR(buf_str(out),
	    "{\"schema_version\":1,\"source_api\":\"graph\",\"alert_id\":"
	    "\"a1\",\"full_id\":\"F\",\"severity\":\"High\"}");
	record_reset(&r);
}

static void
test_types(struct buf *out)
{
	static const struct {
		enum record_field f;
		const char *in;
		const char *json; /* the member as written, NULL: absent */
	} cases[] = {
	    {RF_ALERT_PART, "3", "\"alert_part\":3"},
	    {RF_ALERT_PART, "-12", "\"alert_part\":-12"},
	    {RF_ALERT_PART, "0", "\"alert_part\":0"},
	    {RF_ALERT_PART, "007", NULL},
	    {RF_ALERT_PART, "3.5", NULL},
	    {RF_ALERT_PART, "1e+20", NULL},
	    {RF_REPORT_ID, "1053729833", "\"report_id\":1053729833"},
	    {RF_REPORT_ID, "x", NULL},
	    {RF_REMEDIATION_IS_SUCCESS, "true",
	        "\"remediation_is_success\":true"},
	    {RF_REMEDIATION_IS_SUCCESS, "FALSE",
	        "\"remediation_is_success\":false"},
	    {RF_WAS_EXECUTING, "1", "\"was_executing_while_detected\":true"},
	    {RF_WAS_EXECUTING, "maybe", NULL},
	    {RF_LAST_PROCESSED_TIME, "2020-09-30T14:11:44.0779765Z",
	        "\"last_processed_time\":\"2020-09-30T14:11:44.0779765Z\""},
	    {RF_LAST_UPDATE_TIME, "2020-09-30 16:11:44.5+02:00",
	        "\"last_update_time\":\"2020-09-30T14:11:44.5000000Z\""},
	    {RF_CREATED_TIME, "2021-01-26T20:33:57Z",
	        "\"alert_creation_time\":\"2021-01-26T20:33:57.0000000Z\""},
	    {RF_CREATED_TIME, "soon", NULL},
	};
	struct record r;
	size_t i;
	cJSON *p;

	record_init(&r);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		base(&r);
		setn(&r, cases[i].f, cases[i].in, strlen(cases[i].in));
		p = fmt_parse(out, &r, &dflt);
		CHECK(p != NULL);
		if (cases[i].json != NULL) {
			CHECK(strstr(buf_str(out), cases[i].json) != NULL);
			if (strstr(buf_str(out), cases[i].json) == NULL)
				fprintf(stderr, "%s lacks %s\n", buf_str(out),
				    cases[i].json);
		} else
			CHECK(members(p) == 3);
		cJSON_Delete(p);
	}
	/* alert_time from the parsed time, not the text */
	base(&r);
	SET(&r, RF_ALERT_TIME, "garbage");
	p = fmt_parse(out, &r, &dflt);
	CHECK(p != NULL && cJSON_GetObjectItem(p, "alert_time") == NULL);
	cJSON_Delete(p);
	CHECK(ts_parse("2020-09-30T14:09:20.35743Z", 26, &r.alert_time) == 0);
	r.has_alert_time = 1;
	p = fmt_parse(out, &r, &dflt);
	CHECK_STR(str(p, "alert_time"), "2020-09-30T14:09:20.3574300Z");
	cJSON_Delete(p);
	record_reset(&r);
}

/* ---- evidence ---- */

static void
test_evidence(struct buf *out)
{
	static const char ev[] =
	    "[{\"@odata.type\":\"#microsoft.graph.security.fileEvidence\","
	    "\"n\":[0,-0,0.1,1e300,-2.5e-300,9007199254740993,123456789012,"
	    "true,false,null],\"s\":\"a\\u0001\\n\\u2028\\\"\\\\\","
	    "\"bad\":\"x\xff\",\"empty\":{},\"arr\":[],"
	    "\"k\\u0000ey\":1,\"\xe6\x97\xa5\":\"\xf0\x9f\x98\x80\","
	    "\"del\":\"a\x7f\",\"p\":\"C:\\\\W\\/x\"}]";
	struct record r;
	struct buf deep;
	cJSON *e, *p, *item;
	size_t i;

	record_init(&r);
	buf_init(&deep, 0);
	base(&r);
	r.origin = RECORD_ALERTS;
	CHECK((e = cJSON_Parse(ev)) != NULL);
	r.evidence = e;
	p = fmt_parse(out, &r, &dflt);
	CHECK(p != NULL);
	item = cJSON_GetArrayItem(cJSON_GetObjectItem(p, "evidence"), 0);
	CHECK(item != NULL);
	CHECK(cJSON_Compare(cJSON_GetObjectItem(item, "n"),
	    cJSON_GetObjectItem(cJSON_GetArrayItem(e, 0), "n"), 1));
	CHECK_STR(str(item, "s"), "a\x01\n\xe2\x80\xa8\"\\");
	CHECK_STR(str(item, "bad"), "x" R);
	CHECK_STR(str(item, "\xe6\x97\xa5"), "\xf0\x9f\x98\x80");
	/* plain keys and values go out as they are; DEL and \\ escaped */
	CHECK(strstr(buf_str(out),
	          "{\"@odata.type\":\"#microsoft.graph.security.fileEvidence\","
	          "\"n\":[") != NULL);
	CHECK(strstr(buf_str(out),
	          ",\"del\":\"a\\u007f\",\"p\":\"C:\\\\W/x\"}") != NULL);
	CHECK(strstr(buf_str(out),
	          "0.1,1e+300,-2.5e-300,9007199254740992,"
	          "123456789012,true,false,null") != NULL);
	cJSON_Delete(p);
	cJSON_Delete(e);

	/* as deep as cJSON parses, still valid */
	for (i = 0; i < 999; i++)
		buf_addc(&deep, '[');
	for (i = 0; i < 999; i++)
		buf_addc(&deep, ']');
	CHECK((e = cJSON_Parse(deep.data)) != NULL);
	r.evidence = e;
	p = fmt_parse(out, &r, &dflt);
	CHECK(p != NULL);
	cJSON_Delete(p);
	cJSON_Delete(e);
	buf_reset(&deep);
	record_reset(&r);
}

/* ---- the evidence as the API wrote it ---- */

/*
 * Render r with its evidence tree parsed from text and text carried as
 * r->evidence_text; the line must parse and its evidence equal the tree.
 */
static void
render_text(struct buf *out, struct record *r, const char *text)
{
	cJSON *e = cJSON_Parse(text), *p;

	CHECK(e != NULL);
	r->evidence = e;
	r->evidence_text.p = text;
	r->evidence_text.n = strlen(text);
	p = fmt_parse(out, r, &dflt);
	CHECK(p != NULL &&
	    cJSON_Compare(cJSON_GetObjectItem(p, "evidence"), e, 1));
	cJSON_Delete(p);
	cJSON_Delete(e);
	r->evidence = NULL;
	r->evidence_text.p = NULL;
	r->evidence_text.n = 0;
}

/*
 * Text that is printable ASCII JSON as RFC 8259 writes it goes out as it
 * came; any other is written from the tree, byte for byte as without it.
 */
static void
test_evidence_text(struct buf *out)
{
	static const char *const copied[] = {
	    "[]",
	    "[{\"p\":\"C:\\\\Windows\\\\u\\\\\",\"n\":[0,-0,0.5,-1.25e+3,1E-2,"
	    "12345678901234567890,1e300],\"t\":true,\"f\":false,\"z\":null}]",
	    "[{\"q\":\"x\\\"y\\/z\\b\\f\\n\\r\\t\",\"u\":\"\\u00e9\\u0085"
	    "\\u2028\\uFFFF\\u0001\"}]",
	    "[ {\"s\" : \"a, 01, 1., \"} , 1 , [ ] ]",
	    "[{\"\\u0065vidence\":{\"a\":{\"b\":[[],{}]}}}]",
	};
	static const char *const rewritten[] = {
	    "[\"caf\xc3\xa9\"]", /* not ASCII */
	    "[\"a\\u0000b\"]", /* NUL: the tree's string ends */
	    "[\"\\ud83d\\ude00\"]", /* surrogates */
	    "[\"\\uZZZZ\"]", /* cJSON reads it as NUL */
	    "[01]",
	    "[1.]",
	    "[-01.5]",
	    "[1.e5]",
	    "[{\"a\":00}]", /* cJSON's */
	    "[\t1]",
	    "[1\n]",
	    "[\"a\x7f\"]",
	    "[\"a\x01\"]",
	    "[\"a\r\"]",
	};
	struct record r;
	struct buf tree;
	const char *s;
	cJSON *e;
	size_t i;

	record_init(&r);
	buf_init(&tree, 0);
	base(&r);
	r.origin = RECORD_GRAPH;
	for (i = 0; i < sizeof(copied) / sizeof(copied[0]); i++) {
		render_text(out, &r, copied[i]);
		s = strstr(buf_str(out), ",\"evidence\":");
		CHECK(s != NULL &&
		    strncmp(s + 12, copied[i], strlen(copied[i])) == 0);
		if (s == NULL || strncmp(s + 12, copied[i], strlen(copied[i])))
			fprintf(stderr, "not copied: %s\n", copied[i]);
	}
	for (i = 0; i < sizeof(rewritten) / sizeof(rewritten[0]); i++) {
		r.evidence = e = cJSON_Parse(rewritten[i]);
		CHECK(e != NULL);
		buf_clear(&tree);
		CHECK(json_out_format(&tree, &r, &dflt) == 0);
		cJSON_Delete(e);
		render_text(out, &r, rewritten[i]);
		CHECK_STR(buf_str(out), buf_str(&tree));
	}
	buf_reset(&tree);
	record_reset(&r);
}

/* ---- fitting max_len ---- */

static void
test_max_len(struct buf *out)
{
	struct record r;
	struct buf cmd, desc, evtext;
	struct json_out_opts o = dflt;
	cJSON *ev, *p;
	size_t full, noev, max, min;
	const char *v;
	int ok;

	record_init(&r);
	buf_init(&cmd, 0);
	buf_init(&desc, 0);
	buf_init(&evtext, 0);
	base(&r);
	r.origin = RECORD_GRAPH;
	SET(&r, RF_ALERT_ID, "da637551227677560813_-961444813");
	SET(&r, RF_LAST_UPDATE_TIME, "2021-05-02T14:19:01.3266667Z");
	SET(&r, RF_SEVERITY, "Low");
	SET(&r, RF_FILE_NAME, "MsSense.exe");
	rep(&cmd, "\"\\\n\x01\xe2\x80\xa8x", 500);
	setn(&r, RF_COMMAND_LINE, cmd.data, cmd.len);
	rep(&desc, "\xe6\x97\xa5 ", 700);
	setn(&r, RF_DESCRIPTION, desc.data, desc.len);
	buf_adds(&evtext, "[{\"v\":\"");
	rep(&cmd, "abcdefghij", 300);
	buf_adds(&evtext, cmd.data);
	buf_adds(&evtext, "\"}]");
	ev = cJSON_Parse(evtext.data);
	r.evidence = ev;
	p = fmt_parse(out, &r, &o);
	CHECK(p != NULL);
	cJSON_Delete(p);
	full = out->len;

	/* just too big: the evidence goes first, nothing else changes */
	o.max_len = full - 1;
	p = fmt_parse(out, &r, &o);
	CHECK(p != NULL && cJSON_GetObjectItem(p, "evidence") == NULL);
	CHECK(cJSON_IsTrue(cJSON_GetObjectItem(p, "truncated")));
	CHECK(str(p, "description") != NULL &&
	    strlen(str(p, "description")) == desc.len);
	noev = out->len;
	cJSON_Delete(p);

	/* then the longest text is cut, on whole escapes and characters */
	r.evidence = NULL;
	setn(&r, RF_COMMAND_LINE, NULL, 0);
	rep(&cmd, "\"\\\n\x01\xe2\x80\xa8x", 500);
	setn(&r, RF_COMMAND_LINE, cmd.data, cmd.len);
	r.evidence = ev;
	o.max_len = noev - 200;
	p = fmt_parse(out, &r, &o);
	CHECK(p != NULL);
	v = str(p, "command_line");
	CHECK(v != NULL && strlen(v) < cmd.len &&
	    strncmp(v, cmd.data, strlen(v)) == 0);
	CHECK(strlen(str(p, "description")) == desc.len);
	cJSON_Delete(p);

	/* every size from the KEEP-only line up: valid JSON, ids kept */
	o.max_len = 0;
	{
		struct record keep;

		record_init(&keep);
		keep.origin = RECORD_GRAPH;
		keep.f[RF_ALERT_ID] = r.f[RF_ALERT_ID];
		keep.f[RF_FULL_ID] = r.f[RF_FULL_ID];
		keep.f[RF_LAST_UPDATE_TIME] = r.f[RF_LAST_UPDATE_TIME];
		buf_clear(out);
		CHECK(json_out_format(out, &keep, &o) == 0);
		min = out->len + sizeof(",\"truncated\":true") - 1;
		record_reset(&keep);
	}
	for (max = min; max <= full + 1; max += 3) {
		o.max_len = max;
		p = fmt_parse(out, &r, &o);
		ok = p != NULL && str(p, "alert_id") != NULL &&
		    str(p, "full_id") != NULL &&
		    str(p, "last_update_time") != NULL;
		if (ok && (v = str(p, "command_line")) != NULL)
			ok = *v != '\0' && strncmp(v, cmd.data, strlen(v)) == 0;
		if (ok && (v = str(p, "description")) != NULL)
			ok =
			    *v != '\0' && strncmp(v, desc.data, strlen(v)) == 0;
		ok = ok &&
		    (max > full ||
		        cJSON_IsTrue(cJSON_GetObjectItem(p, "truncated")));
		cJSON_Delete(p);
		if (!ok) {
			CHECK(0);
			fprintf(stderr, "max_len %zu: bad line %s\n", max,
			    buf_str(out));
			break;
		}
	}
	CHECK(max > full);
	o.max_len = min - 1;
	buf_clear(out);
	buf_adds(out, "<14>1 - ");
	CHECK(json_out_format(out, &r, &o) == ERR_TOOBIG);
	CHECK_STR(buf_str(out), "<14>1 - ");
	cJSON_Delete(ev);
	buf_reset(&cmd);
	buf_reset(&desc);
	buf_reset(&evtext);
	record_reset(&r);
}

/* ---- random bytes ---- */

static const struct piece pieces[] = {
    PIECE("a"),
    PIECE(" "),
    PIECE("\""),
    PIECE("\\"),
    PIECE("\\u0000"),
    PIECE("\n"),
    PIECE("\r"),
    PIECE("\t"),
    PIECE("\x01"),
    PIECE("\x7f"),
    PIECE("\0"),
    PIECE("\xc2\x85"),
    PIECE("\xc3\xa9"),
    PIECE("\xe2\x80\xa8"),
    PIECE("\xe2\x80\xa9"),
    PIECE("\xf0\x9f\x98\x80"),
    PIECE("\xed\xa0\x80"),
    PIECE("\xc0\xaf"),
    PIECE("\xff"),
    PIECE("\xe2\x82"),
    PIECE("\x80"),
    PIECE("\"}],{"),
    PIECE("</script>"),
};
static const size_t npieces = sizeof(pieces) / sizeof(pieces[0]);

static void
test_random(struct buf *out)
{
	struct record r;
	struct buf v[8];
	struct json_out_opts o;
	const struct pairs_map *m;
	size_t i, j, nmap = json_out_mapping_count();
	cJSON *p;
	int rc;

	record_init(&r);
	for (j = 0; j < 8; j++)
		buf_init(&v[j], 0);
	for (i = 0; i < 600; i++) {
		base(&r);
		for (j = 0; j < 8; j++) {
			m = json_out_mapping_get(rnd(nmap));
			if (m->field == RF__COUNT || m->field == RF_FULL_ID ||
			    r.f[m->field].n > 0)
				continue;
			rnd_text(&v[j], pieces, npieces);
			setn(&r, m->field, buf_str(&v[j]), v[j].len);
		}
		o.max_len = rnd(2) == 0 ? 0 : 80 + rnd(3000);
		buf_clear(out);
		rc = json_out_format(out, &r, &o);
		if (rc == ERR_TOOBIG) {
			CHECK(o.max_len > 0);
			continue;
		}
		CHECK(rc == 0);
		p = parse_line(out->data, out->len);
		CHECK(p != NULL);
		CHECK(o.max_len == 0 || out->len <= o.max_len);
		cJSON_Delete(p);
	}
	for (j = 0; j < 8; j++)
		buf_reset(&v[j]);
	record_reset(&r);
}

/* ---- the hostile corpus, for test_hostile_formats.py ---- */

/* json_out_format with a size limit (its only option). */
static int
hostile_format(
    struct buf *out, const struct record *r, const void *opts, size_t max_len)
{
	struct json_out_opts o = {.max_len = max_len};

	(void)opts;
	return json_out_format(out, r, &o);
}

static void
test_hostile(struct buf *out, const char *build)
{
	static const struct hostile_fmt f = {hostile_format, parse_line, NULL};
	static const struct hostile_run runs[] = {
	    {"json", NULL, 0},
	    {"json.2048", NULL, 2048},
	};

	hostile_runs(out, build, &f, runs, sizeof(runs) / sizeof(runs[0]));
}

/*
 * Every printable ASCII byte in a string: only '"' and '\' are escaped.
 * The escaper copies other bytes without a table look, so a byte missing
 * from the scheme's list of special bytes would come through raw.
 */
static void
test_every_byte(struct buf *out)
{
	struct record r;
	char name[4], want[32];
	unsigned c, bad = 0;

	record_init(&r);
	for (c = 0x20; c < 0x7f; c++) {
		base(&r);
		snprintf(name, sizeof(name), "a%ca", (char)c);
		setn(&r, RF_FILE_NAME, name, 3);
		snprintf(want, sizeof(want), "\"file_name\":\"a%s%ca\"",
		    c == '"' || c == '\\' ? "\\" : "", (char)c);
		buf_clear(out);
		if (json_out_format(out, &r, &dflt) != 0 ||
		    strstr(buf_str(out), want) == NULL) {
			if (bad++ == 0)
				fprintf(stderr, "byte 0x%02x: %s\n", c,
				    buf_str(out));
		}
	}
	CHECK(bad == 0);
	record_reset(&r);
}

int
main(void)
{
	struct buf out;

	buf_init(&out, 0);
	test_mapping();
	test_golden(&out);
	test_ones(&out);
	test_types(&out);
	test_evidence(&out);
	test_evidence_text(&out);
	test_max_len(&out);
	test_random(&out);
	test_hostile(&out, build_dir());
	test_every_byte(&out);
	buf_reset(&out);
	return check_done();
}
