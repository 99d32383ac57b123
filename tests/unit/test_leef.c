/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for leef.c.  Microsoft's example detections (and the Graph
 * and Alert API examples) must match the golden files in tests/data/leef/
 * byte for byte in LEEF 2.0 with '^', 2.0 with TAB (x09) and 1.0; every
 * sanitising rule, header field, delimiter, severity, address kind and
 * the size-limit shortening is checked by reading the event back with a
 * strict LEEF reader written here from IBM's rules.
 *
 * The hostile corpus (hostile.h) is written to $BUILD/tests/ with the
 * events made of it, for tests/integration/test_hostile_formats.py.
 * UPDATE_GOLDEN=1 rewrites the golden files instead of comparing.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "cef.h"
#include "check.h"
#include "errcode.h"
#include "fixture.h"
#include "formats.h"
#include "leef.h"
#include "record.h"
#include "record_alert.h"
#include "text.h"
#include "ts.h"

#define DATA "tests/data/"
#define R "\xEF\xBF\xBD" /* U+FFFD */
#define HDR2 "LEEF:2.0|Microsoft|Microsoft Defender ATP|2.0|sig|^|"

/* The three variants every case runs in. */
static const struct leef_opts caret = {.leef_version = 2, .delimiter = '^'};
static const struct leef_opts tab2 = {.leef_version = 2, .delimiter = '\t'};
static const struct leef_opts v1 = {.leef_version = 1, .delimiter = '^'};

/* QRadar's predefined keys (IBM, "Predefined LEEF event attributes"). */
static const char *const predefined[] = {"cat", "devTime", "devTimeFormat",
    "proto", "sev", "src", "dst", "srcPort", "dstPort", "srcPreNAT",
    "dstPreNAT", "srcPostNAT", "dstPostNAT", "usrName", "srcMAC", "dstMAC",
    "srcPreNATPort", "dstPreNATPort", "srcPostNATPort", "dstPostNATPort",
    "identSrc", "identHostName", "identNetBios", "identGrpName", "identMAC",
    "vSrc", "vSrcName", "accountName", "srcBytes", "dstBytes", "srcPackets",
    "dstPackets", "totalPackets", "role", "realm", "policy", "resource", "url",
    "groupID", "domain", "isLoginEvent", "isLogoutEvent", "identSecondlp",
    "calLanguage", "calCountryOrRegion"};

/* ---- input helpers ---- */

static void
base(struct record *r)
{
	record_clear(r);
	SET(r, RF_ALERT_TITLE, "T");
	SET(r, RF_IOA_DEFINITION_ID, "sig");
	SET(r, RF_SEVERITY, "High");
}

/* ---- a strict LEEF reader, independent of leef.c ---- */

static int
bad(const char *why, const char *s)
{
	fprintf(stderr, "unparseable LEEF (%s): %.200s\n", why, s);
	return 0;
}

/* The LEEF 2.0 delimiter field: one character, or x/0x + 1-4 hex. */
static int
delim_field(const char *f, size_t n, char *d)
{
	char tmp[8];
	unsigned long v;
	size_t i = 0;

	if (n == 1) {
		*d = f[0];
		return 1;
	}
	if (n >= 2 && f[0] == '0' && (f[1] == 'x' || f[1] == 'X'))
		i = 2;
	else if (n >= 1 && (f[0] == 'x' || f[0] == 'X'))
		i = 1;
	else
		return 0;
	if (n - i < 1 || n - i > 4)
		return 0;
	memcpy(tmp, f + i, n - i);
	tmp[n - i] = '\0';
	if (strspn(tmp, "0123456789abcdefABCDEF") != n - i)
		return 0;
	v = strtoul(tmp, NULL, 16);
	if (v == 0 || v > 0x7f)
		return 0;
	*d = (char)v;
	return 1;
}

/*
 * Parse one LEEF event by IBM's rules, strictly: "LEEF:1.0|" with exactly
 * 5 header fields (version, vendor, product, version, EventID) or
 * "LEEF:2.0|" with 6 (plus the delimiter field); no header field empty
 * or holding a control character; attributes split on the delimiter (TAB
 * for 1.0), each key=value with an alphanumeric key, a non-empty value
 * without control characters or leading/trailing space, no key twice,
 * no empty attribute (so no trailing delimiter); the event is valid UTF-8
 * and holds no CR or LF.  Returns {"header":[5 or 6], "attrs":{k:v}}.
 */
static cJSON *
parse_leef(const char *s, size_t n)
{
	cJSON *res = cJSON_CreateObject(), *hdr, *attrs;
	const char *p = s, *end = s + n, *bar, *seg, *eq;
	char d = '\t', key[64], *val = NULL;
	int fields, i;
	size_t k;

	hdr = cJSON_AddArrayToObject(res, "header");
	attrs = cJSON_AddObjectToObject(res, "attrs");
	if (!text_utf8_valid(s, n) || memchr(s, '\n', n) ||
	    memchr(s, '\r', n) || memchr(s, '\0', n)) {
		bad("CR, LF, NUL or invalid UTF-8", s);
		goto fail;
	}
	if (n >= 9 && memcmp(s, "LEEF:1.0|", 9) == 0)
		fields = 5;
	else if (n >= 9 && memcmp(s, "LEEF:2.0|", 9) == 0)
		fields = 6;
	else {
		bad("version", s);
		goto fail;
	}
	cJSON_AddItemToArray(
	    hdr, cJSON_CreateString(fields == 5 ? "1.0" : "2.0"));
	p += 9;
	for (i = 1; i < fields; i++) {
		if ((bar = memchr(p, '|', (size_t)(end - p))) == NULL ||
		    bar == p) {
			bad("header field missing or empty", s);
			goto fail;
		}
		for (seg = p; seg < bar; seg++)
			if ((unsigned char)*seg < 0x20 || *seg == 0x7f) {
				bad("control character in header", s);
				goto fail;
			}
		free(val);
		val = strndup(p, (size_t)(bar - p));
		if (i == 5 && !delim_field(p, (size_t)(bar - p), &d)) {
			bad("delimiter field", s);
			goto fail;
		}
		cJSON_AddItemToArray(hdr, cJSON_CreateString(val));
		p = bar + 1;
	}
	while (p < end) {
		for (seg = p; seg < end && *seg != d; seg++)
			;
		eq = memchr(p, '=', (size_t)(seg - p));
		if (eq == NULL || eq == p || (size_t)(eq - p) >= sizeof(key) ||
		    eq + 1 == seg) {
			bad("attribute not key=value", s);
			goto fail;
		}
		for (k = 0; p + k < eq; k++) {
			if (!isalnum((unsigned char)p[k])) {
				bad("key not alphanumeric", s);
				goto fail;
			}
			key[k] = p[k];
		}
		key[k] = '\0';
		free(val);
		val = strndup(eq + 1, (size_t)(seg - eq - 1));
		for (k = 0; val[k] != '\0'; k++)
			if ((unsigned char)val[k] < 0x20 || val[k] == 0x7f) {
				bad("control character in value", s);
				goto fail;
			}
		if (val[0] == ' ' || val[k - 1] == ' ' ||
		    cJSON_GetObjectItemCaseSensitive(attrs, key) != NULL) {
			bad("untrimmed value or duplicate key", s);
			goto fail;
		}
		cJSON_AddStringToObject(attrs, key, val);
		if (seg < end && seg + 1 == end) {
			bad("trailing delimiter", s);
			goto fail;
		}
		p = seg < end ? seg + 1 : end;
	}
	free(val);
	return res;
fail:
	free(val);
	cJSON_Delete(res);
	return NULL;
}

static const char *
attr(const cJSON *p, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItem(p, "attrs"), k);

	return v != NULL ? v->valuestring : NULL;
}

static const char *
hdr_field(const cJSON *p, int i)
{
	const cJSON *v =
	    cJSON_GetArrayItem(cJSON_GetObjectItem(p, "header"), i);

	return v != NULL ? v->valuestring : "";
}

static int
attr_count(const cJSON *p)
{
	return cJSON_GetArraySize(cJSON_GetObjectItem(p, "attrs"));
}

/* Format r with o and parse it back (NULL when it fails either way). */
static cJSON *
fmt_parse(struct buf *out, const struct record *r, const struct leef_opts *o)
{
	int rc;

	buf_clear(out);
	if ((rc = leef_format(out, r, o)) != 0) {
		fprintf(stderr, "leef_format: %d\n", rc);
		return NULL;
	}
	if (o->max_len > 0 && out->len > o->max_len) {
		fprintf(stderr, "%zu bytes over max_len %zu\n", out->len,
		    o->max_len);
		return NULL;
	}
	return parse_leef(out->data, out->len);
}

/* ---- the mapping table ---- */

static int
is_predefined(const char *k)
{
	size_t i;

	for (i = 0; i < sizeof(predefined) / sizeof(predefined[0]); i++)
		if (strcasecmp(k, predefined[i]) == 0)
			return 1;
	return 0;
}

static const char *
key_of(enum record_field f, enum pairs_kind kind)
{
	const struct pairs_map *m;
	size_t i;

	for (i = 0; (m = leef_mapping_get(i)) != NULL; i++)
		if (m->field == f && (kind == PAIRS_CUSTOM || m->kind == kind))
			return m->key;
	return "";
}

static void
test_mapping(void)
{
	const struct pairs_map *m, *m2;
	size_t i, j, n = leef_mapping_count();
	const char *k;
	int f, seen;

	CHECK(n > 40 && n <= PAIRS_MAX);
	CHECK(leef_mapping_get(n) == NULL);
	CHECK(leef_mapping_get(0)->kind == PAIRS_HEADER);
	CHECK(leef_mapping_get(0)->field == RF_IOA_DEFINITION_ID);
	CHECK(leef_mapping_get(0)->max_chars == 255);
	for (i = 1; i < n; i++) {
		m = leef_mapping_get(i);
		CHECK(m->kind != PAIRS_HEADER && m->label_key == NULL);
		for (k = m->key; *k != '\0'; k++)
			CHECK(isalnum((unsigned char)*k));
		for (j = i + 1; j < n; j++) {
			m2 = leef_mapping_get(j);
			CHECK(strcmp(m->key, m2->key) != 0);
		}
		/* custom keys start lower case and are no predefined name */
		CHECK(islower((unsigned char)m->key[0]));
	}
	/* the predefined keys carry what the IBM guide says they are */
	CHECK_STR(key_of(RF_ALERT_TIME, PAIRS_ALERT_EPOCH_MS), "devTime");
	CHECK_STR(key_of(RF_SEVERITY, PAIRS_CUSTOM), "sev");
	CHECK_STR(key_of(RF_CATEGORY, PAIRS_CUSTOM), "cat");
	CHECK_STR(key_of(RF_IP_ADDRESS, PAIRS_IP), "src");
	CHECK_STR(key_of(RF_IP_ADDRESS, PAIRS_NOTIP), "ipAddress");
	CHECK_STR(key_of(RF_USER_NAME, PAIRS_CUSTOM), "usrName");
	CHECK_STR(key_of(RF_INTERNAL_IPV4_LIST, PAIRS_HOST_IP), "identSrc");
	CHECK_STR(key_of(RF_COMPUTER_DNS_NAME, PAIRS_CUSTOM), "identHostName");
	CHECK_STR(key_of(RF_USER_DOMAIN, PAIRS_CUSTOM), "domain");
	CHECK_STR(key_of(RF_URL, PAIRS_CUSTOM), "url");
	CHECK_STR(key_of(RF_MACHINE_NAME, PAIRS_CUSTOM), "resource");
	CHECK_STR(key_of(RF_SOURCE, PAIRS_CUSTOM), "policy");
	for (i = 1; i < n; i++) {
		m = leef_mapping_get(i);
		if (is_predefined(m->key))
			CHECK(strcmp(m->key, "devTime") == 0 ||
			    strcmp(m->key, "sev") == 0 ||
			    strcmp(m->key, "cat") == 0 ||
			    strcmp(m->key, "src") == 0 ||
			    strcmp(m->key, "usrName") == 0 ||
			    strcmp(m->key, "identSrc") == 0 ||
			    strcmp(m->key, "identHostName") == 0 ||
			    strcmp(m->key, "domain") == 0 ||
			    strcmp(m->key, "url") == 0 ||
			    strcmp(m->key, "resource") == 0 ||
			    strcmp(m->key, "policy") == 0);
	}
	/* every record field goes somewhere */
	for (f = 0; f < RF__COUNT; f++) {
		seen = 0;
		for (i = 0; i < n; i++)
			seen |=
			    leef_mapping_get(i)->field == (enum record_field)f;
		if (!seen)
			fprintf(stderr, "unmapped field %s\n",
			    record_field_name(f));
		CHECK(seen);
	}
}

/* ---- golden files ---- */

static const struct variant {
	const char *ext;
	const struct leef_opts *o;
} variants[] = {
    {"leef2", &caret},
    {"leef2tab", &tab2},
    {"leef1", &v1},
};

static void
golden(struct buf *out, enum record_origin origin, const char *json,
    const char *stem, const char *want_eventid, const char *want_key,
    const char *want_val)
{
	cJSON *doc = load(json), *p;
	struct record r;
	char path[256];
	size_t i;

	CHECK(doc != NULL);
	if (doc == NULL)
		return;
	record_init(&r);
	CHECK(normalize(origin, &r, first_item(doc)) == 0);
	for (i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		p = fmt_parse(out, &r, variants[i].o);
		CHECK(p != NULL);
		CHECK_STR(hdr_field(p, 4), want_eventid);
		CHECK_STR(attr(p, want_key), want_val);
		cJSON_Delete(p);
		snprintf(path, sizeof(path), DATA "leef/%s.%s", stem,
		    variants[i].ext);
		CHECK(compare_golden(path, out));
	}
	record_reset(&r);
	cJSON_Delete(doc);
}

static void
test_golden(struct buf *out)
{
	struct record r;
	cJSON *p;

	golden(out, RECORD_SIEM, DATA "cef/siem-api-detections-example.json",
	    "siem-example", "b20af1d2-5990-4672-87f1-acc2a8ff7725", "fullId",
	    "da637370718981685665_16349121:"
	    "R4xEdgAvDb2LQl3BgHoA3NYqKmRSiIAG7dpxAJCYZhY=");
	golden(out, RECORD_SIEM,
	    DATA "cef/siem-api-detection-2017-legacy-example.json",
	    "siem-2017-example", "7f1c3609-a3ff-40e2-995b-c01770161d68",
	    "identHostName", "desktop-bvccckk");
	golden(out, RECORD_GRAPH, DATA "alerts/graph-alerts-v2-example.json",
	    "graph-example", "e0da400f-affd-43ef-b1d5-afc2eb6f2756", "alertId",
	    "da637551227677560813_-961444813");
	golden(out, RECORD_GRAPH,
	    DATA "alerts/graph-alerts-v2-newer-properties.json",
	    "graph-newer-properties", "e0da400f-affd-43ef-b1d5-afc2eb6f2756",
	    "investigationState", "successfullyRemediated");
	golden(out, RECORD_ALERTS,
	    DATA "alerts/alert-api-single-alert-example.json", "alerts-example",
	    "17e10bbc-3a68-474a-8aad-faef14d43952", "alertId",
	    "da637472900382838869_1364969609");

	/* the 2020 example, key by key */
	record_init(&r);
	{
		cJSON *doc = load(DATA "cef/siem-api-detections-example.json");
		const char *why;

		CHECK(record_from_siem(&r, first_item(doc), &why) == 0);
		p = fmt_parse(out, &r, &caret);
		CHECK(p != NULL);
		CHECK_STR(hdr_field(p, 0), "2.0");
		CHECK_STR(hdr_field(p, 1), "Microsoft");
		CHECK_STR(hdr_field(p, 2), "Microsoft Defender ATP");
		CHECK_STR(hdr_field(p, 3), "2.0");
		CHECK_STR(hdr_field(p, 5), "^");
		CHECK_STR(attr(p, "devTime"), "1601474960357");
		CHECK_STR(attr(p, "sev"), "8");
		CHECK_STR(attr(p, "cat"), "Malware");
		CHECK_STR(attr(p, "alertId"), "da637370718981685665_16349121");
		CHECK_STR(attr(p, "lastProcessedTime"),
		    "2020-09-30T14:11:44.0779765Z");
		CHECK_STR(attr(p, "deviceId"),
		    "deadbeef000040830ee54503926f556dcaf82bb0");
		CHECK_STR(attr(p, "identHostName"), "mymachine1.domain.com");
		CHECK(attr(p, "identSrc") == NULL); /* no address known */
		CHECK_STR(attr(p, "resource"), "mymachine1");
		CHECK_STR(attr(p, "policy"), "EDR");
		CHECK_STR(attr(p, "machineDomain"), "domain.com");
		CHECK_STR(attr(p, "sha1"),
		    "aabbccddee1122334455aabbccddee1122334455");
		CHECK_STR(attr(p, "md5"), "854b85cbff2752fcb88606bca76f83c6");
		CHECK_STR(attr(p, "alertPart"), "0");
		CHECK_STR(attr(p, "reportId"), "1053729833");
		CHECK_STR(attr(p, "fileName"), "cmdParent.exe");
		CHECK_STR(
		    attr(p, "filePath"), "C:\\WINDOWS\\SysWOW64\\boo3\\qwerty");
		CHECK_STR(attr(p, "description"), "Test Alert");
		CHECK_STR(attr(p, "alertTitle"), "Suspicious File Activity");
		CHECK_STR(attr(p, "alertUrl"),
		    "https://security.microsoft.com/alert/"
		    "da637370718981685665_16349121");
		CHECK_STR(attr(p, "incidentLinkToWDATP"),
		    "https://securitycenter.windows.com/incidents/byalert?"
		    "alertId=da637370718981685665_16349121&source=SIEM");
		/* empty source values are omitted */
		CHECK(attr(p, "usrName") == NULL && attr(p, "src") == NULL &&
		    attr(p, "actor") == NULL && attr(p, "sha256") == NULL);
		CHECK(attr(p, "remediationIsSuccess") == NULL);
		CHECK(attr_count(p) == 26);
		cJSON_Delete(p);
		cJSON_Delete(doc);
	}
	record_reset(&r);
}

/* ---- one field at a time ---- */

static const struct one {
	const char *name;
	enum record_field f;
	const char *in;
	size_t inlen;
	const char *key;
	const char *want; /* TAB delimiter; NULL: key absent */
	const char *want_caret; /* '^' delimiter, when different */
} ones[] = {
#define ONE(name, f, in, key, want, wc) \
	{ \
		name, f, in, sizeof(in) - 1, key, want, wc \
	}
    ONE("pipe", RF_FILE_NAME, "a|b|c", "fileName", "a|b|c", NULL),
    ONE("backslash", RF_FILE_PATH, "C:\\dir\\", "filePath", "C:\\dir\\", NULL),
    ONE("equals", RF_URL, "https://x/?a=b&c=d", "url", "https://x/?a=b&c=d",
        NULL),
    ONE("lf", RF_DESCRIPTION, "l1\nl2", "description", "l1 l2", NULL),
    ONE("crlf", RF_DESCRIPTION, "l1\r\nl2", "description", "l1  l2", NULL),
    ONE("tab", RF_COMMAND_LINE, "a\tb", "commandLine", "a b", NULL),
    ONE("caret", RF_COMMAND_LINE, "a^b^^c", "commandLine", "a^b^^c", "a b  c"),
    ONE("caret-edges", RF_COMMAND_LINE, "^x^", "commandLine", "^x^", "x"),
    ONE("controls", RF_DESCRIPTION,
        "a\x01\x1b\x7f"
        "b",
        "description", "a   b", NULL),
    ONE("nul", RF_DESCRIPTION, "a\0b", "description", "a b", NULL),
    ONE("trim", RF_DESCRIPTION, "  padded  ", "description", "padded", NULL),
    ONE("blank-omitted", RF_DESCRIPTION, " \t\x01 \x7f", "description", NULL,
        NULL),
    ONE("forge-key", RF_DESCRIPTION, "x=1\tsev=10", "description", "x=1 sev=10",
        NULL),
    ONE("forge-caret", RF_DESCRIPTION, "x^sev=10", "description", "x^sev=10",
        "x sev=10"),
    ONE("leef-in-value", RF_DESCRIPTION, "LEEF:2.0|a|b|c|d|^|", "description",
        "LEEF:2.0|a|b|c|d|^|", "LEEF:2.0|a|b|c|d| |"),
    ONE("cef-escapes-literal", RF_DESCRIPTION, "\\n\\=\\|", "description",
        "\\n\\=\\|", NULL),
    ONE("invalid-utf8", RF_DESCRIPTION, "bad\xff\xfe", "description", "bad" R R,
        NULL),
    ONE("surrogate", RF_DESCRIPTION, "s\xed\xa0\x80", "description", "s" R R R,
        NULL),
    ONE("unicode", RF_THREAT_NAME, "\xe4\xbe\xb5\xe5\x85\xa5 \xf0\x9f\x94\xa5",
        "threatName", "\xe4\xbe\xb5\xe5\x85\xa5 \xf0\x9f\x94\xa5", NULL),
    ONE("ipv4", RF_IP_ADDRESS, " 10.1.2.3 ", "src", "10.1.2.3", NULL),
    ONE("ipv6", RF_IP_ADDRESS, "fe80::1", "src", "fe80::1", NULL),
    ONE("ip-hostname", RF_IP_ADDRESS, "down.esales360.cn", "ipAddress",
        "down.esales360.cn", NULL),
    ONE("ip-zone", RF_IP_ADDRESS, "fe80::1%eth0", "ipAddress", "fe80::1%eth0",
        NULL),
    ONE("ip-list", RF_IP_ADDRESS, "1.2.3.4, 5.6.7.8", "ipAddress",
        "1.2.3.4, 5.6.7.8", NULL),
    ONE("bool-true", RF_REMEDIATION_IS_SUCCESS, "TRUE", "remediationIsSuccess",
        "true", NULL),
    ONE("bool-false", RF_WAS_EXECUTING, "0", "wasExecutingWhileDetected",
        "false", NULL),
    ONE("bool-garbage", RF_WAS_EXECUTING, "maybe", "wasExecutingWhileDetected",
        NULL, NULL),
    ONE("int", RF_ALERT_PART, "3", "alertPart", "3", NULL),
    ONE("int-garbage", RF_ALERT_PART, "3a", "alertPart", NULL, NULL),
    ONE("int-leading-zero", RF_ALERT_PART, "007", "alertPart", NULL, NULL),
    ONE("time-text", RF_LAST_UPDATE_TIME, "2021-01-01T00:00:00Z",
        "lastUpdateTime", "2021-01-01T00:00:00Z", NULL),
#undef ONE
};

static void
test_ones(struct buf *out)
{
	const struct leef_opts *os[] = {&caret, &tab2, &v1};
	struct record r;
	const struct one *c;
	const char *want;
	size_t i, j;
	cJSON *p;

	record_init(&r);
	for (i = 0; i < sizeof(ones) / sizeof(ones[0]); i++) {
		c = &ones[i];
		for (j = 0; j < 3; j++) {
			base(&r);
			setn(&r, c->f, c->in, c->inlen);
			want = c->want;
			if (os[j] == &caret && c->want_caret != NULL)
				want = c->want_caret;
			p = fmt_parse(out, &r, os[j]);
			CHECK(p != NULL);
			if (p == NULL) {
				fprintf(stderr, "case %s\n", c->name);
				continue;
			}
			if (want == NULL)
				CHECK(attr(p, c->key) == NULL);
			else
				CHECK_STR(attr(p, c->key), want);
			/* nothing else moved: sev, alertTitle and the key */
			CHECK_STR(attr(p, "sev"), "8");
			CHECK_STR(attr(p, "alertTitle"), "T");
			CHECK(attr_count(p) == 2 + (want != NULL));
			cJSON_Delete(p);
		}
	}
	/* exact bytes of one event in each variant */
	base(&r);
	SET(&r, RF_DESCRIPTION, "a^b\tc\nd");
	buf_clear(out);
	CHECK(leef_format(out, &r, &caret) == 0);
	CHECK_STR(buf_str(out), HDR2 "sev=8^alertTitle=T^description=a b c d");
	buf_clear(out);
	CHECK(leef_format(out, &r, &tab2) == 0);
	CHECK_STR(buf_str(out),
	    "LEEF:2.0|Microsoft|Microsoft Defender ATP|2.0|sig|x09|"
	    "sev=8\talertTitle=T\tdescription=a^b c d");
	buf_clear(out);
	CHECK(leef_format(out, &r, &v1) == 0);
	CHECK_STR(buf_str(out),
	    "LEEF:1.0|Microsoft|Microsoft Defender ATP|2.0|sig|"
	    "sev=8\talertTitle=T\tdescription=a^b c d");
	record_reset(&r);
}

/* ---- header, delimiter, severity, addresses, times ---- */

static void
test_header(struct buf *out)
{
	struct leef_opts o = caret;
	struct record r;
	struct buf v;
	cJSON *p;
	char fb[CEF_SIG_FALLBACK_LEN + 1];

	record_init(&r);
	buf_init(&v, 0);
	base(&r);
	o.vendor = " Con|toso\r\n ";
	o.product = "\x01";
	o.version = "1|2";
	p = fmt_parse(out, &r, &o);
	CHECK(p != NULL);
	CHECK_STR(hdr_field(p, 1), "Con toso");
	CHECK_STR(hdr_field(p, 2), "Microsoft Defender ATP"); /* blank: dflt */
	CHECK_STR(hdr_field(p, 3), "1 2");
	cJSON_Delete(p);

	/* EventID: sanitised, trimmed, 255 characters at most */
	SET(&r, RF_IOA_DEFINITION_ID, " a|b\nc ");
	p = fmt_parse(out, &r, &caret);
	CHECK(p != NULL && strcmp(hdr_field(p, 4), "a b c") == 0);
	cJSON_Delete(p);
	rep(&v, "\xe6\x97\xa5", 300);
	setn(&r, RF_IOA_DEFINITION_ID, v.data, v.len);
	p = fmt_parse(out, &r, &caret);
	CHECK(p != NULL &&
	    text_chars(hdr_field(p, 4), strlen(hdr_field(p, 4))) == 255);
	cJSON_Delete(p);
	/* no usable id: the CEF fallback, the same for '|' only */
	cef_signature_fallback(&r, fb);
	fb[CEF_SIG_FALLBACK_LEN] = '\0';
	CHECK(strncmp(fb, "mde-", 4) == 0);
	SET(&r, RF_IOA_DEFINITION_ID, "");
	p = fmt_parse(out, &r, &caret);
	CHECK(p != NULL && strcmp(hdr_field(p, 4), fb) == 0);
	cJSON_Delete(p);
	SET(&r, RF_IOA_DEFINITION_ID, " | |\t");
	p = fmt_parse(out, &r, &v1);
	CHECK(p != NULL && strcmp(hdr_field(p, 4), fb) == 0);
	cJSON_Delete(p);

	/* usrName and identHostName: 255 characters (IBM), cut cleanly */
	base(&r);
	rep(&v, "\xc3\xa9", 300);
	setn(&r, RF_USER_NAME, v.data, v.len);
	setn(&r, RF_COMPUTER_DNS_NAME, v.data, v.len);
	p = fmt_parse(out, &r, &caret);
	CHECK(p != NULL && strlen(attr(p, "usrName")) == 510 &&
	    strlen(attr(p, "identHostName")) == 510);
	cJSON_Delete(p);

	/* delimiter fields */
	base(&r);
	o = caret;
	o.delimiter = ';';
	p = fmt_parse(out, &r, &o);
	CHECK(p != NULL && strcmp(hdr_field(p, 5), ";") == 0);
	cJSON_Delete(p);
	o.delimiter = '\\';
	SET(&r, RF_FILE_PATH, "C:\\x\\y");
	p = fmt_parse(out, &r, &o);
	CHECK(p != NULL && strcmp(hdr_field(p, 5), "\\") == 0);
	CHECK_STR(attr(p, "filePath"), "C: x y");
	cJSON_Delete(p);
	p = fmt_parse(out, &r, &tab2);
	CHECK(p != NULL && strcmp(hdr_field(p, 5), "x09") == 0);
	cJSON_Delete(p);
	p = fmt_parse(out, &r, &v1);
	CHECK(p != NULL &&
	    cJSON_GetArraySize(cJSON_GetObjectItem(p, "header")) == 5);
	cJSON_Delete(p);
	buf_reset(&v);
	record_reset(&r);
}

static void
test_delimiters(struct buf *out)
{
	struct leef_opts o = caret;
	struct record r;
	int c, ok;

	record_init(&r);
	base(&r);
	for (c = 0; c < 256; c++) {
		ok = leef_delimiter_ok((char)c);
		CHECK(ok ==
		    (c == '\t' ||
		        (c > ' ' && c < 0x7f && c != '=' && c != '|' &&
		            !isalnum(c))));
		o.delimiter = (char)c;
		buf_clear(out);
		buf_adds(out, "keep");
		if (ok) {
			cJSON *p;

			buf_clear(out);
			p = fmt_parse(out, &r, &o);
			CHECK(p != NULL);
			cJSON_Delete(p);
		} else {
			CHECK(leef_format(out, &r, &o) == ERR_CONFIG);
			CHECK_STR(buf_str(out), "keep");
		}
	}
	/* 1.0 ignores the delimiter option: always TAB */
	o = v1;
	o.delimiter = 'a';
	buf_clear(out);
	CHECK(leef_format(out, &r, &o) == 0);
	o.leef_version = 3;
	CHECK(leef_format(out, &r, &o) == ERR_CONFIG);
	record_reset(&r);
}

/*
 * Every printable ASCII byte in the event id and in a value, with every
 * delimiter: only '|' (header) and the delimiter (values) are replaced.
 * The escaper copies other bytes without a table look, so a byte missing
 * from a scheme's list of special bytes would come through raw.
 */
static void
test_every_byte(struct buf *out)
{
	struct leef_opts o = caret;
	struct record r;
	char sig[4], name[4], want_h[16], want_v[32];
	unsigned c, d, bad;

	record_init(&r);
	for (d = 0; d < 0x7f; d++) {
		if (!leef_delimiter_ok((char)d))
			continue;
		o.delimiter = (char)d;
		bad = 0;
		for (c = 0x20; c < 0x7f; c++) {
			base(&r);
			snprintf(sig, sizeof(sig), "s%cs", (char)c);
			snprintf(name, sizeof(name), "a%ca", (char)c);
			setn(&r, RF_IOA_DEFINITION_ID, sig, 3);
			setn(&r, RF_FILE_NAME, name, 3);
			snprintf(want_h, sizeof(want_h), "|s%cs|",
			    c == '|' ? ' ' : (char)c);
			snprintf(want_v, sizeof(want_v), "%cfileName=a%ca",
			    (char)d, c == d ? ' ' : (char)c);
			buf_clear(out);
			if (leef_format(out, &r, &o) != 0 ||
			    strstr(buf_str(out), want_h) == NULL ||
			    strstr(buf_str(out), want_v) == NULL) {
				if (bad++ == 0)
					fprintf(stderr,
					    "delimiter 0x%02x byte 0x%02x: "
					    "%s\n",
					    d, c, buf_str(out));
			}
		}
		CHECK(bad == 0);
	}
	record_reset(&r);
}

static void
test_severity(struct buf *out)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"Informational", "1"},
	    {"Low", "3"},
	    {"medium", "5"},
	    {"HIGH", "8"},
	    {"UnSpecified", "1"},
	    {"", "1"},
	    {"High\n", "1"},
	};
	struct record r;
	size_t i;
	cJSON *p;

	record_init(&r);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		base(&r);
		setn(&r, RF_SEVERITY, cases[i].in, strlen(cases[i].in));
		p = fmt_parse(out, &r, &caret);
		CHECK(p != NULL && strcmp(attr(p, "sev"), cases[i].want) == 0);
		cJSON_Delete(p);
	}
	record_reset(&r);
}

static void
test_addresses(struct buf *out)
{
	static const struct {
		const char *v4, *v6, *want;
	} cases[] = {
	    {"10.1.2.3", "", "10.1.2.3"},
	    {"10.1.2.3, 172.16.0.9", "fd00::1", "10.1.2.3"},
	    {"127.0.0.1, 169.254.1.1;0.0.0.0 192.168.7.7", "", "192.168.7.7"},
	    {"", "fe80::1, ::1, fd30:8428::34a1", "fd30:8428::34a1"},
	    {"not-an-ip", "also not", NULL},
	    {"127.0.0.1", "::1", NULL},
	    {"10.0.0.1.5", "", NULL},
	};
	struct record r;
	size_t i;
	cJSON *p;

	record_init(&r);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		base(&r);
		setn(&r, RF_INTERNAL_IPV4_LIST, cases[i].v4,
		    strlen(cases[i].v4));
		setn(&r, RF_INTERNAL_IPV6_LIST, cases[i].v6,
		    strlen(cases[i].v6));
		SET(&r, RF_COMPUTER_DNS_NAME, "host.contoso.com");
		p = fmt_parse(out, &r, &tab2);
		CHECK(p != NULL);
		if (cases[i].want == NULL)
			CHECK(attr(p, "identSrc") == NULL);
		else
			CHECK_STR(attr(p, "identSrc"), cases[i].want);
		CHECK_STR(attr(p, "identHostName"), "host.contoso.com");
		cJSON_Delete(p);
	}
	/* devTime: epoch milliseconds of the parsed alert time */
	base(&r);
	CHECK(ts_parse("2020-09-30T14:09:20.35743Z", 26, &r.alert_time) == 0);
	r.has_alert_time = 1;
	p = fmt_parse(out, &r, &caret);
	CHECK(p != NULL && strcmp(attr(p, "devTime"), "1601474960357") == 0);
	cJSON_Delete(p);
	record_reset(&r);
}

/* ---- fitting max_len ---- */

struct big {
	struct buf desc, cmd, url, path;
};

static void
big_init(struct big *b, struct record *r)
{
	buf_init(&b->desc, 0);
	buf_init(&b->cmd, 0);
	buf_init(&b->url, 0);
	buf_init(&b->path, 0);
	rep(&b->desc, "Line \xc3\xa9 = \\ x^\t", 60);
	buf_adds(&b->cmd, "powershell.exe -enc ");
	while (b->cmd.len < 2820)
		buf_adds(&b->cmd, "QUJD");
	buf_adds(&b->url, "https://evil.example/?");
	while (b->url.len < 821)
		buf_adds(&b->url, "a=b&");
	buf_adds(&b->path, "C:\\Users\\");
	while (b->path.len < 300)
		buf_adds(&b->path, "dir\\");
	record_clear(r);
	SET(r, RF_ALERT_TITLE, "Big alert");
	SET(r, RF_IOA_DEFINITION_ID, "b20af1d2-5990-4672-87f1-acc2a8ff7725");
	SET(r, RF_SEVERITY, "Medium");
	SET(r, RF_ALERT_ID, "da637370718981685665_16349121");
	SET(r, RF_FULL_ID, "da637370718981685665_16349121:R4xEdgAvDb2LQl3=");
	SET(r, RF_LAST_PROCESSED_TIME, "2020-09-30T14:11:44.0779765Z");
	SET(r, RF_DEVICE_ID, "deadbeef000040830ee54503926f556dcaf82bb0");
	CHECK(ts_parse("2020-09-30T14:09:20.35743Z", 26, &r->alert_time) == 0);
	r->has_alert_time = 1;
	SET(r, RF_MACHINE_NAME, "mymachine1");
	SET(r, RF_SHA1, "aabbccddee1122334455aabbccddee1122334455");
	SET(r, RF_CATEGORY, "Malware");
	setn(r, RF_DESCRIPTION, b->desc.data, b->desc.len);
	setn(r, RF_COMMAND_LINE, b->cmd.data, b->cmd.len);
	setn(r, RF_URL, b->url.data, b->url.len);
	setn(r, RF_FILE_PATH, b->path.data, b->path.len);
}

static void
big_reset(struct big *b)
{
	buf_reset(&b->desc);
	buf_reset(&b->cmd);
	buf_reset(&b->url);
	buf_reset(&b->path);
}

/* The value v of a shortened event: absent, or a non-empty prefix. */
static int
prefix_ok(const char *got, const char *full)
{
	return got == NULL ||
	    (*got != '\0' && strncmp(got, full, strlen(got)) == 0);
}

/* 1 when p meets the rules for the big record cut to any size. */
static int
big_ok(const cJSON *p, const struct big *b, struct buf *tmp)
{
	const char *d;
	size_t i;
	int ok = 1;

	ok &= attr(p, "alertId") != NULL &&
	    strcmp(attr(p, "alertId"), "da637370718981685665_16349121") == 0;
	ok &= attr(p, "fullId") != NULL && attr(p, "devTime") != NULL &&
	    attr(p, "sev") != NULL && attr(p, "lastProcessedTime") != NULL &&
	    attr(p, "deviceId") != NULL;
	ok &= attr(p, "cat") == NULL || strcmp(attr(p, "cat"), "Malware") == 0;
	ok &= attr(p, "resource") == NULL ||
	    strcmp(attr(p, "resource"), "mymachine1") == 0;
	/* the description as the TAB variant writes it (the test's own
	   rule: TAB and the delimiter become spaces) */
	buf_clear(tmp);
	buf_add(tmp, b->desc.data, b->desc.len);
	for (i = 0; i < tmp->len; i++)
		if (tmp->data[i] == '\t')
			tmp->data[i] = ' ';
	d = buf_str(tmp);
	ok &= prefix_ok(attr(p, "description"), d);
	ok &= prefix_ok(attr(p, "commandLine"), b->cmd.data);
	ok &= prefix_ok(attr(p, "url"), b->url.data);
	ok &= prefix_ok(attr(p, "filePath"), b->path.data);
	ok &= prefix_ok(attr(p, "alertTitle"), "Big alert");
	return ok;
}

static void
test_max_len(struct buf *out)
{
	struct record r, keep;
	struct leef_opts o = tab2;
	struct big b;
	struct buf tmp;
	size_t full, min, max, i;
	cJSON *p;
	int ok;

	record_init(&r);
	buf_init(&tmp, 0);
	big_init(&b, &r);
	p = fmt_parse(out, &r, &o);
	CHECK(p != NULL && big_ok(p, &b, &tmp));
	CHECK(strcmp(attr(p, "commandLine"), b.cmd.data) == 0);
	cJSON_Delete(p);
	full = out->len;
	CHECK(full > 4000);

	keep = r;
	for (i = 0; i < leef_mapping_count(); i++)
		if (leef_mapping_get(i)->prio != PAIRS_KEEP)
			keep.f[leef_mapping_get(i)->field].n = 0;
	buf_clear(out);
	CHECK(leef_format(out, &keep, &o) == 0);
	min = out->len;
	CHECK(min > 200 && min < 400);

	/* longest first: only the command line gives way */
	o.max_len = full - 500;
	p = fmt_parse(out, &r, &o);
	CHECK(p != NULL && big_ok(p, &b, &tmp));
	CHECK(out->len <= o.max_len && out->len > o.max_len - 40);
	CHECK(strlen(attr(p, "commandLine")) < b.cmd.len - 400);
	CHECK_STR(attr(p, "url"), b.url.data);
	CHECK_STR(attr(p, "filePath"), b.path.data);
	cJSON_Delete(p);

	/* every size from the minimum up fits, parses, keeps the ids */
	for (max = min; max <= full + 1; max += 5) {
		o.max_len = max;
		p = fmt_parse(out, &r, &o);
		ok = p != NULL && big_ok(p, &b, &tmp);
		cJSON_Delete(p);
		if (!ok) {
			CHECK(0);
			fprintf(stderr, "max_len %zu: bad event\n", max);
			break;
		}
	}
	CHECK(max > full);
	o.max_len = min;
	buf_clear(out);
	CHECK(leef_format(out, &r, &o) == 0 && out->len == min);
	o.max_len = min - 1;
	buf_clear(out);
	buf_adds(out, "<14>1 - ");
	CHECK(leef_format(out, &r, &o) == ERR_TOOBIG);
	CHECK_STR(buf_str(out), "<14>1 - ");
	big_reset(&b);
	buf_reset(&tmp);
	record_reset(&r);
}

/* ---- random bytes ---- */

static const struct piece pieces[] = {
    PIECE("a"),
    PIECE("Zz"),
    PIECE("0"),
    PIECE(" "),
    PIECE("  "),
    PIECE("="),
    PIECE("\\"),
    PIECE("|"),
    PIECE("^"),
    PIECE(";"),
    PIECE("\n"),
    PIECE("\r"),
    PIECE("\t"),
    PIECE("\x01"),
    PIECE("\x7f"),
    PIECE("\0"),
    PIECE("\xc3\xa9"),
    PIECE("\xe6\x97\xa5"),
    PIECE("\xf0\x9f\x98\x80"),
    PIECE("\xed\xa0\x80"),
    PIECE("\xc0\xaf"),
    PIECE("\xff"),
    PIECE("\xe2\x82"),
    PIECE("\x80"),
    PIECE("sev=10"),
    PIECE("\tx="),
    PIECE("^cat="),
    PIECE("LEEF:2.0|"),
    PIECE("\xe2\x80\xa8"),
};
static const size_t npieces = sizeof(pieces) / sizeof(pieces[0]);

static void
test_random(struct buf *out)
{
	static const char delims[] = "^\t;#~\\!";
	struct record r;
	struct buf v[8];
	struct leef_opts o;
	size_t i, j, nmap = leef_mapping_count();
	const struct pairs_map *m;
	cJSON *p;
	int rc;

	rng_state = 0x2545F4914F6CDD1DULL; /* this suite's own sequence */
	record_init(&r);
	for (j = 0; j < 8; j++)
		buf_init(&v[j], 0);
	for (i = 0; i < 600; i++) {
		base(&r);
		for (j = 0; j < 8; j++) {
			m = leef_mapping_get(rnd(nmap));
			if (m->field == RF_SEVERITY || r.f[m->field].n > 0)
				continue;
			rnd_text(&v[j], pieces, npieces);
			setn(&r, m->field, buf_str(&v[j]), v[j].len);
		}
		o = caret;
		o.leef_version = rnd(3) == 0 ? 1 : 2;
		o.delimiter = delims[rnd(sizeof(delims) - 1)];
		o.max_len = rnd(2) == 0 ? 0 : 150 + rnd(3000);
		buf_clear(out);
		rc = leef_format(out, &r, &o);
		if (rc == ERR_TOOBIG) {
			CHECK(o.max_len > 0);
			continue;
		}
		CHECK(rc == 0);
		p = parse_leef(out->data, out->len);
		CHECK(p != NULL);
		CHECK(o.max_len == 0 || out->len <= o.max_len);
		CHECK(p == NULL || attr(p, "sev") != NULL);
		cJSON_Delete(p);
	}
	for (j = 0; j < 8; j++)
		buf_reset(&v[j]);
	record_reset(&r);
}

/* ---- the hostile corpus, for test_hostile_formats.py ---- */

/* Length of r's event with only the pairs that are never dropped. */
static size_t
keep_len(struct buf *out, const struct record *r, const void *opts)
{
	struct record keep = *r;
	struct leef_opts all = *(const struct leef_opts *)opts;
	const struct pairs_map *m;
	size_t i;

	for (i = 0; (m = leef_mapping_get(i)) != NULL; i++)
		if (m->prio != PAIRS_KEEP)
			keep.f[m->field].n = 0;
	all.max_len = 0;
	buf_clear(out);
	if (leef_format(out, &keep, &all) != 0)
		return 0;
	return out->len;
}

/* leef_format with opts and a size limit. */
static int
hostile_format(
    struct buf *out, const struct record *r, const void *opts, size_t max_len)
{
	struct leef_opts o = *(const struct leef_opts *)opts;

	o.max_len = max_len;
	return leef_format(out, r, &o);
}

static void
test_hostile(struct buf *out, const char *build)
{
	static const struct hostile_fmt f = {
	    hostile_format, parse_leef, keep_len};
	static const struct hostile_run runs[] = {
	    {"leef2", &caret, 0},
	    {"leef2tab", &tab2, 0},
	    {"leef1", &v1, 0},
	    {"leef2.2048", &caret, 2048},
	    {"leef2tab.1024", &tab2, 1024},
	};

	hostile_runs(out, build, &f, runs, sizeof(runs) / sizeof(runs[0]));
}

/*
 * A prepared header part and value scheme give the same events as ones
 * made for each event, for hostile header values and every version and
 * delimiter kind; preparing refuses what formatting refuses.
 */
static void
test_prepared(struct buf *out)
{
	static const struct {
		const char *v, *p, *ver;
	} hdrs[] = {
	    {NULL, NULL, NULL},
	    {"", " ", "\t"},
	    {"Ven|dor\\", "Pro\r\nduct", "1=2^"},
	    {"\xff\xfe", " \xe6\x97\xa5 ", "a|b"},
	};
	static const struct {
		int version;
		char delim;
	} kinds[] = {{2, '^'}, {2, '\t'}, {2, '|'}, {1, '^'}, {3, '^'}};
	struct leef_opts o;
	struct buf want;
	struct record r;
	size_t i, k;
	int rc_raw, rc_prep;

	record_init(&r);
	buf_init(&want, 0);
	base(&r);
	SET(&r, RF_FILE_NAME, "a^b\tc|d");
	for (i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++)
		for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
			memset(&o, 0, sizeof(o));
			o.vendor = hdrs[i].v;
			o.product = hdrs[i].p;
			o.version = hdrs[i].ver;
			o.leef_version = kinds[k].version;
			o.delimiter = kinds[k].delim;
			buf_clear(&want);
			rc_raw = leef_format(&want, &r, &o);
			rc_prep = leef_opts_prepare(&o);
			CHECK(rc_prep == (rc_raw == 0 ? 0 : ERR_CONFIG));
			CHECK((o.prefix_len > 0) == (rc_prep == 0));
			buf_clear(out);
			CHECK(leef_format(out, &r, &o) == rc_raw);
			CHECK_STR(buf_str(out), buf_str(&want));
		}
	/* the longest header fields fit the prepared part exactly */
	memset(&o, 0, sizeof(o));
	o.vendor = o.product = o.version = rep(&want, "\xf0\x9f\x98\x80", 100);
	o.leef_version = 2;
	o.delimiter = '^';
	CHECK(leef_opts_prepare(&o) == 0 && o.prefix_len == sizeof(o.prefix));
	buf_reset(&want);
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
	test_header(&out);
	test_delimiters(&out);
	test_severity(&out);
	test_addresses(&out);
	test_max_len(&out);
	test_random(&out);
	test_hostile(&out, build_dir());
	test_every_byte(&out);
	test_prepared(&out);
	buf_reset(&out);
	return check_done();
}
