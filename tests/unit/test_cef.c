/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for cef.c.  Microsoft's example detection must match the
 * golden file byte for byte; every escaping rule, limit, severity, address
 * kind and the size-limit shortening are checked on the exact bytes and by
 * parsing the message back with a strict CEF reader written here.
 *
 * Every message is also written to $BUILD/tests/cef_lines.txt with what a
 * parser must read from it in $BUILD/tests/cef_expected.jsonl, so that
 * tests/integration/test_cef_lognorm.py can check the same corpus with
 * liblognorm, a real third-party CEF parser.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "cef.h"
#include "check.h"
#include "errcode.h"
#include "fixture.h"
#include "formats.h"
#include "record.h"
#include "record_alert.h"
#include "severity.h"
#include "text.h"
#include "ts.h"

#define DATA "tests/data/cef/"
#define R "\xEF\xBF\xBD" /* U+FFFD */
/* "Ünïcødé 日本語 😀" */
#define UNI \
	"\xc3\x9cn\xc3\xaf" \
	"c\xc3\xb8" \
	"d\xc3\xa9 " \
	"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x98\x80"
#define HDR "CEF:0|Microsoft|Microsoft Defender ATP|2.0|sig|T|8|"

static FILE *lines_fp, *exp_fp;
static const struct cef_opts dflt = {.vendor = NULL};
static const char *const dflt_hdr[6] = {
    "Microsoft", "Microsoft Defender ATP", "2.0", "sig", "T", "8"};

/* ---- input helpers ---- */

/* Field f = n copies of unit, stored in b. */
static void
setb(struct record *r, enum record_field f, struct buf *b, const char *unit,
    size_t n)
{
	buf_clear(b);
	while (n-- > 0)
		buf_adds(b, unit);
	setn(r, f, buf_str(b), b->len);
}

/* The record every single-field case starts from: header "sig|T|8". */
static void
base(struct record *r)
{
	record_clear(r);
	SET(r, RF_ALERT_TITLE, "T");
	SET(r, RF_IOA_DEFINITION_ID, "sig");
	SET(r, RF_SEVERITY, "High");
}

/* ---- a strict CEF reader, independent of cef.c ---- */

/*
 * Parse a CEF:0 message the way liblognorm does, but stricter: header
 * escapes only \\ and \|, no control characters, no empty header field;
 * extension keys alphanumeric and unique, values non-empty, escapes only
 * \\ \= \n \r, no raw control characters, valid UTF-8.  Returns
 * {"header":[6 strings], "ext":{key: value}} or NULL.
 */
static cJSON *
parse_cef(const char *s, size_t n)
{
	cJSON *res = cJSON_CreateObject(), *hdr, *ext;
	struct buf v;
	size_t i = 6, j, ks, ke, vs, ve, lastsp;
	int f;
	char key[128];

	buf_init(&v, 0);
	hdr = cJSON_AddArrayToObject(res, "header");
	ext = cJSON_AddObjectToObject(res, "ext");
	if (n < 6 || memcmp(s, "CEF:0|", 6) != 0 || !text_utf8_valid(s, n))
		goto fail;
	for (f = 0; f < 6; f++) {
		buf_clear(&v);
		for (; i < n && s[i] != '|'; i++) {
			if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
				goto fail;
			if (s[i] == '\\') {
				if (i + 1 >= n ||
				    (s[i + 1] != '\\' && s[i + 1] != '|'))
					goto fail;
				i++;
			}
			buf_addc(&v, s[i]);
		}
		if (i >= n || v.len == 0)
			goto fail;
		i++;
		cJSON_AddItemToArray(hdr, cJSON_CreateString(buf_str(&v)));
	}
	while (i < n) {
		for (ks = i; i < n && isalnum((unsigned char)s[i]); i++)
			;
		ke = i;
		if (ke == ks || ke - ks >= sizeof(key) || i >= n || s[i] != '=')
			goto fail;
		memcpy(key, s + ks, ke - ks);
		key[ke - ks] = '\0';
		vs = ++i;
		lastsp = 0;
		for (j = vs; j < n && s[j] != '='; j++) {
			if ((unsigned char)s[j] < 0x20 || s[j] == 0x7f)
				goto fail;
			if (s[j] == '\\') {
				if (j + 1 >= n ||
				    strchr("\\=nr", s[j + 1]) == NULL ||
				    s[j + 1] == '\0')
					goto fail;
				j++;
			} else if (s[j] == ' ')
				lastsp = j;
		}
		if (j < n) {
			if (lastsp == 0)
				goto fail;
			ve = lastsp;
			i = lastsp + 1;
		} else {
			ve = n;
			i = n;
		}
		buf_clear(&v);
		for (j = vs; j < ve; j++) {
			if (s[j] == '\\') {
				j++;
				buf_addc(&v,
				    s[j] == 'n'       ? '\n'
				        : s[j] == 'r' ? '\r'
				                      : s[j]);
			} else
				buf_addc(&v, s[j]);
		}
		if (v.len == 0 ||
		    cJSON_GetObjectItemCaseSensitive(ext, key) != NULL)
			goto fail;
		cJSON_AddStringToObject(ext, key, buf_str(&v));
	}
	buf_reset(&v);
	return res;
fail:
	buf_reset(&v);
	cJSON_Delete(res);
	return NULL;
}

/* ---- expectations, shared with test_cef_lognorm.py ---- */

/*
 * {"name", "header": [6], "exact": {k: v} (must be there, equal),
 * "optional": {k: v} (may be dropped, else equal), "prefix": {k: v} (may be
 * dropped or cut: a non-empty prefix of v), "max_len": n (0: none)}.
 */
static cJSON *
exp_new(const char *name, const char *const hdr[6])
{
	cJSON *e = cJSON_CreateObject(), *h;
	int i;

	cJSON_AddStringToObject(e, "name", name);
	h = cJSON_AddArrayToObject(e, "header");
	for (i = 0; i < 6; i++)
		cJSON_AddItemToArray(
		    h, cJSON_CreateString((hdr ? hdr : dflt_hdr)[i]));
	cJSON_AddObjectToObject(e, "exact");
	cJSON_AddObjectToObject(e, "optional");
	cJSON_AddObjectToObject(e, "prefix");
	cJSON_AddNumberToObject(e, "max_len", 0);
	return e;
}

static void
exp_add(cJSON *e, const char *kind, const char *k, const char *v)
{
	cJSON_AddStringToObject(cJSON_GetObjectItem(e, kind), k, v);
}

static void
exp_max(cJSON *e, size_t max)
{
	cJSON_SetNumberValue(cJSON_GetObjectItem(e, "max_len"), (double)max);
}

static int
needs_label(const char *k)
{
	static const char *const pre[] = {"cs", "cn", "c6a", "cfp",
	    "flexString", "flexDate", "deviceCustomDate"};
	size_t i, l;

	for (i = 0; i < sizeof(pre) / sizeof(pre[0]); i++) {
		l = strlen(pre[i]);
		if (strncmp(k, pre[i], l) == 0 &&
		    isdigit((unsigned char)k[l]) && k[l + 1] == '\0')
			return 1;
	}
	return 0;
}

static const cJSON *
member(const cJSON *obj, const char *kind, const char *key)
{
	return cJSON_GetObjectItem(cJSON_GetObjectItem(obj, kind), key);
}

/* 0 when the parsed pair k=v is what e allows (reasons on stderr). */
static int
pair_ok(const char *name, const cJSON *e, const char *k, const char *v)
{
	const cJSON *w;

	if ((w = member(e, "exact", k)) != NULL ||
	    (w = member(e, "optional", k)) != NULL) {
		if (strcmp(w->valuestring, v) == 0)
			return 1;
		fprintf(stderr, "%s: %s=[%.60s] want [%.60s]\n", name, k, v,
		    w->valuestring);
		return 0;
	}
	if ((w = member(e, "prefix", k)) != NULL) {
		if (strncmp(w->valuestring, v, strlen(v)) == 0)
			return 1;
		fprintf(stderr, "%s: %s not a prefix\n", name, k);
		return 0;
	}
	if (member(e, "raw", k) != NULL)
		return 1; /* checked by test_cef_lognorm.py */
	fprintf(stderr, "%s: unexpected key %s\n", name, k);
	return 0;
}

/* 1 when parsed message p meets expectation e (reasons on stderr). */
static int
meets(const cJSON *p, const cJSON *e)
{
	const cJSON *ext = cJSON_GetObjectItem(p, "ext"), *it;
	const cJSON *ph = cJSON_GetObjectItem(p, "header");
	const cJSON *eh = cJSON_GetObjectItem(e, "header");
	const char *name = cJSON_GetObjectItem(e, "name")->valuestring;
	char lk[160];
	int i, ok = 1;

	for (i = 0; i < 6; i++) {
		if (i == 4 && cJSON_GetObjectItem(e, "raw_name") != NULL)
			continue;
		if (strcmp(cJSON_GetArrayItem(ph, i)->valuestring,
		        cJSON_GetArrayItem(eh, i)->valuestring) != 0) {
			fprintf(stderr, "%s: header %d differs\n", name, i);
			ok = 0;
		}
	}
	it = cJSON_GetObjectItem(e, "exact")->child;
	for (; it != NULL; it = it->next)
		if (cJSON_GetObjectItem(ext, it->string) == NULL) {
			fprintf(stderr, "%s: %s missing\n", name, it->string);
			ok = 0;
		}
	for (it = ext->child; it != NULL; it = it->next) {
		ok &= pair_ok(name, e, it->string, it->valuestring);
		snprintf(lk, sizeof(lk), "%sLabel", it->string);
		if (needs_label(it->string) &&
		    cJSON_GetObjectItem(ext, lk) == NULL) {
			fprintf(
			    stderr, "%s: %s without label\n", name, it->string);
			ok = 0;
		}
	}
	return ok;
}

/* Write the line and its expectation for the liblognorm test. */
static void
corpus(const char *line, size_t len, const cJSON *e)
{
	char *j;

	if (lines_fp == NULL || exp_fp == NULL)
		return;
	j = cJSON_PrintUnformatted(e);
	fwrite(line, 1, len, lines_fp);
	fputc('\n', lines_fp);
	fprintf(exp_fp, "%s\n", j);
	free(j);
}

/* Like CHECK_STR, but shows where long texts part. */
static void
check_same(const char *name, const char *got, const char *want)
{
	size_t i;

	for (i = 0; got[i] != '\0' && got[i] == want[i]; i++)
		;
	CHECK(got[i] == want[i]);
	if (got[i] != want[i])
		fprintf(stderr,
		    "%s: differs at byte %zu\n  got:  [%.60s]\n"
		    "  want: [%.60s]\n",
		    name, i, got + (i > 20 ? i - 20 : 0),
		    want + (i > 20 ? i - 20 : 0));
}

/*
 * Format r, compare with want (when not NULL), read it back, check it
 * against e, and add it to the corpus.  Frees e.  Returns the length.
 */
static size_t
run(struct buf *out, const struct record *r, const struct cef_opts *o,
    const char *want, cJSON *e)
{
	cJSON *p;
	int rc;

	buf_clear(out);
	rc = cef_format(out, r, o);
	CHECK(rc == 0);
	if (rc != 0) {
		fprintf(stderr, "%s: cef_format %d\n",
		    cJSON_GetObjectItem(e, "name")->valuestring, rc);
		cJSON_Delete(e);
		return 0;
	}
	if (want != NULL)
		check_same(cJSON_GetObjectItem(e, "name")->valuestring,
		    buf_str(out), want);
	if (o->max_len > 0)
		CHECK(out->len <= o->max_len);
	p = parse_cef(out->data, out->len);
	CHECK(p != NULL);
	if (p == NULL)
		fprintf(stderr, "%s: unparseable: %s\n",
		    cJSON_GetObjectItem(e, "name")->valuestring, out->data);
	else
		CHECK(meets(p, e));
	exp_max(e, o->max_len);
	corpus(out->data, out->len, e);
	cJSON_Delete(p);
	cJSON_Delete(e);
	return out->len;
}

/* ---- the mapping table ---- */

static void
test_mapping(void)
{
	const struct pairs_map *m, *m2;
	size_t i, j, n = cef_mapping_count();
	int f, seen, labeled;
	const char *k;

	CHECK(n > 40);
	CHECK(cef_mapping_get(n) == NULL);
	CHECK(cef_mapping_get(0)->kind == PAIRS_HEADER);
	CHECK(cef_mapping_get(1)->kind == PAIRS_HEADER);
	CHECK(cef_mapping_get(2)->kind == PAIRS_HEADER);
	for (i = 3; i < n; i++) {
		m = cef_mapping_get(i);
		CHECK(m->kind != PAIRS_HEADER);
		for (k = m->key; *k != '\0'; k++)
			CHECK(isalnum((unsigned char)*k));
		/* each key once */
		for (j = i + 1; j < n; j++) {
			m2 = cef_mapping_get(j);
			CHECK(strcmp(m->key, m2->key) != 0);
			if (m->label_key && m2->label_key)
				CHECK(strcmp(m->label_key, m2->label_key) != 0);
		}
		CHECK(strlen(m->key) <= PAIRS_KEY_MAX);
		if (m->label_key != NULL)
			CHECK(strlen(m->label_key) <= PAIRS_KEY_MAX &&
			    strlen(m->label) <= PAIRS_KEY_MAX);
		labeled = needs_label(m->key);
		CHECK(labeled == (m->label_key != NULL));
		if (m->label_key != NULL) {
			CHECK(
			    strncmp(m->label_key, m->key, strlen(m->key)) == 0);
			CHECK_STR(m->label_key + strlen(m->key), "Label");
			CHECK(m->label != NULL && m->label[0] != '\0');
		}
		/* custom keys carry the mde prefix */
		if (m->kind == PAIRS_TEXT && m->max_chars == 4000 &&
		    strncmp(m->key, "cs", 2) != 0)
			CHECK(strncmp(m->key, "mde", 3) == 0);
	}
	/* every record field goes somewhere */
	for (f = 0; f < RF__COUNT; f++) {
		seen = 0;
		for (i = 0; i < n; i++)
			seen |=
			    cef_mapping_get(i)->field == (enum record_field)f;
		if (!seen)
			fprintf(stderr, "unmapped field %s\n",
			    record_field_name(f));
		CHECK(seen);
	}
}

/* ---- Microsoft's examples against the golden files ---- */

static void
golden(struct buf *out, const char *json, const char *cef, cJSON *e)
{
	size_t glen = 0;
	char *gold = slurp(cef, &glen);
	cJSON *doc = load(json);
	struct record r;
	const char *why = NULL;

	CHECK(doc != NULL && gold != NULL);
	if (doc == NULL || gold == NULL) {
		fprintf(stderr, "missing %s or %s\n", json, cef);
		goto out;
	}
	record_init(&r);
	CHECK(record_from_siem(&r, first_item(doc), &why) == 0);
	run(out, &r, &dflt, NULL, e);
	e = NULL;
	/* the golden file holds the message and a newline */
	CHECK(glen == out->len + 1 && memcmp(gold, out->data, out->len) == 0 &&
	    gold[out->len] == '\n');
	if (glen != out->len + 1 || memcmp(gold, out->data, out->len) != 0)
		fprintf(
		    stderr, "golden %s differs; got:\n%s\n", cef, out->data);
	record_reset(&r);
out:
	cJSON_Delete(e);
	cJSON_Delete(doc);
	free(gold);
}

static void
test_golden(struct buf *out)
{
	static const char *const h20[6] = {"Microsoft",
	    "Microsoft Defender ATP", "2.0",
	    "b20af1d2-5990-4672-87f1-acc2a8ff7725", "Suspicious File Activity",
	    "8"};
	static const char *const h17[6] = {"Microsoft",
	    "Microsoft Defender ATP", "2.0",
	    "7f1c3609-a3ff-40e2-995b-c01770161d68",
	    "Suspicious PowerShell commandline", "5"};
	cJSON *e;

	e = exp_new("fixture-2020", h20);
	exp_add(e, "exact", "externalId", "da637370718981685665_16349121");
	exp_add(e, "exact", "cs3",
	    "da637370718981685665_16349121:"
	    "R4xEdgAvDb2LQl3BgHoA3NYqKmRSiIAG7dpxAJCYZhY=");
	exp_add(e, "exact", "cs3Label", "FullId");
	exp_add(e, "exact", "rt", "1601474960357");
	exp_add(e, "exact", "deviceCustomDate1", "1601475104077");
	exp_add(e, "exact", "deviceCustomDate1Label", "LastProcessedTimeUtc");
	exp_add(e, "exact", "deviceExternalId",
	    "deadbeef000040830ee54503926f556dcaf82bb0");
	exp_add(e, "exact", "shost", "mymachine1");
	exp_add(e, "exact", "sourceDnsDomain", "domain.com");
	exp_add(e, "exact", "mdeComputerDnsName", "mymachine1.domain.com");
	exp_add(
	    e, "exact", "fileHash", "aabbccddee1122334455aabbccddee1122334455");
	exp_add(e, "exact", "cs5", "854b85cbff2752fcb88606bca76f83c6");
	exp_add(e, "exact", "cs5Label", "Md5");
	exp_add(e, "exact", "mdeFileHash",
	    "aabbccddee1122334455aabbccddee1122334455");
	exp_add(e, "exact", "cat", "Malware");
	exp_add(e, "exact", "sourceServiceName", "EDR");
	exp_add(e, "exact", "cn3", "0");
	exp_add(e, "exact", "cn3Label", "AlertPart");
	exp_add(e, "exact", "mdeReportId", "1053729833");
	exp_add(e, "exact", "mdeIocUniqueId",
	    "R4xEdgAvDb2LQl3BgHoA3NYqKmRSiIAG7dpxAJCYZhY=");
	exp_add(e, "exact", "mdeExternalId",
	    "31DD0A845DDA4059FDEDE031014645350AECABD3");
	exp_add(e, "exact", "fname", "cmdParent.exe");
	exp_add(e, "exact", "filePath", "C:\\WINDOWS\\SysWOW64\\boo3\\qwerty");
	exp_add(e, "exact", "msg", "Test Alert");
	exp_add(e, "exact", "flexString1",
	    "https://securitycenter.windows.com"
	    "/alert/da637370718981685665_16349121");
	exp_add(e, "exact", "flexString1Label", "LinkToWDATP");
	exp_add(e, "exact", "flexString2",
	    "https://securitycenter.windows.com"
	    "/incidents/byalert?alertId=da637370718981685665_16349121"
	    "&source=SIEM");
	exp_add(e, "exact", "flexString2Label", "IncidentLinkToWDATP");
	exp_add(e, "exact", "mdeLinkToMTP",
	    "https://security.microsoft.com"
	    "/alert/da637370718981685665_16349121");
	exp_add(e, "exact", "mdeIncidentLinkToMTP",
	    "https://security.microsoft.com/incidents/byalert?alertId="
	    "da637370718981685665_16349121&source=SIEM");
	golden(out, DATA "siem-api-detections-example.json",
	    DATA "siem-example.cef", e);

	e = exp_new("fixture-2017", h17);
	exp_add(e, "exact", "externalId", "636207535742330111_-1114309685");
	exp_add(e, "exact", "cs3",
	    "636207535742330111_-1114309685:"
	    "9DE735BA9FF87725E392C6DFBEB2AF279035CDE229FCC00D28C0F3242C5A50AF");
	exp_add(e, "exact", "cs3Label", "FullId");
	exp_add(e, "exact", "rt", "1485156774186");
	exp_add(e, "exact", "deviceCustomDate1", "1485171225076");
	exp_add(e, "exact", "deviceCustomDate1Label", "LastProcessedTimeUtc");
	exp_add(e, "exact", "mdeComputerDnsName", "desktop-bvccckk");
	exp_add(
	    e, "exact", "fileHash", "69484ca722b4285a234896a2e31707cbedc59ef9");
	exp_add(e, "exact", "mdeFileHash",
	    "69484ca722b4285a234896a2e31707cbedc59ef9");
	exp_add(e, "exact", "cat", "SuspiciousActivity");
	exp_add(e, "exact", "sourceServiceName", "Windows Defender ATP");
	exp_add(e, "exact", "cn3", "0");
	exp_add(e, "exact", "cn3Label", "AlertPart");
	exp_add(e, "exact", "mdeIocUniqueId",
	    "9DE735BA9FF87725E392C6DFBEB2AF279035CDE229FCC00D28C0F3242C5A50AF");
	exp_add(e, "exact", "fname", "powershell.exe");
	exp_add(e, "exact", "filePath",
	    "C:\\Windows\\SysWOW64\\WindowsPowerShell\\v1.0");
	exp_add(e, "exact", "flexString1",
	    "https://securitycenter.windows.com"
	    "/alert/636207535742330111_-1114309685");
	exp_add(e, "exact", "flexString1Label", "LinkToWDATP");
	golden(out, DATA "siem-api-detection-2017-legacy-example.json",
	    DATA "siem-2017-example.cef", e);
}

/* ---- one field at a time: escaping, labels, kinds ---- */

static const struct one {
	const char *name;
	enum record_field f;
	const char *in;
	size_t inlen;
	const char *ext; /* the extension cef_format must write */
	const char *k, *v, *lk, *lv; /* what a parser reads back */
} ones[] = {
#define ONE(name, f, in, ext, k, v, lk, lv) \
	{ \
		name, f, in, sizeof(in) - 1, ext, k, v, lk, lv \
	}
    ONE("equals", RF_DESCRIPTION, "a=b", "msg=a\\=b", "msg", "a=b", NULL, NULL),
    ONE("backslash-end", RF_FILE_PATH, "C:\\dir\\", "filePath=C:\\\\dir\\\\",
        "filePath", "C:\\dir\\", NULL, NULL),
    ONE("lf", RF_DESCRIPTION, "l1\nl2", "msg=l1\\nl2", "msg", "l1\nl2", NULL,
        NULL),
    ONE("crlf", RF_DESCRIPTION, "l1\r\nl2", "msg=l1\\r\\nl2", "msg", "l1\r\nl2",
        NULL, NULL),
    ONE("lf-edges", RF_DESCRIPTION, "\nx\n", "msg=\\nx\\n", "msg", "\nx\n",
        NULL, NULL),
    ONE("tab", RF_DESCRIPTION, "a\tb", "msg=a b", "msg", "a b", NULL, NULL),
    ONE("controls", RF_DESCRIPTION,
        "a\x01\x1b\x7f"
        "b",
        "msg=a   b", "msg", "a   b", NULL, NULL),
    ONE("nul", RF_DESCRIPTION, "a\0b", "msg=a b", "msg", "a b", NULL, NULL),
    ONE("trim", RF_DESCRIPTION, "  padded  ", "msg=padded", "msg", "padded",
        NULL, NULL),
    ONE("trim-controls", RF_DESCRIPTION, " x\t", "msg=x", "msg", "x", NULL,
        NULL),
    ONE("inner-spaces", RF_DESCRIPTION, "a   b", "msg=a   b", "msg", "a   b",
        NULL, NULL),
    ONE("blank-omitted", RF_DESCRIPTION, " \t\x01 \x7f", "", NULL, NULL, NULL,
        NULL),
    ONE("forge-key", RF_DESCRIPTION, "x=1 cs1=evil", "msg=x\\=1 cs1\\=evil",
        "msg", "x=1 cs1=evil", NULL, NULL),
    ONE("forge-key-end", RF_DESCRIPTION, "ok cs1=", "msg=ok cs1\\=", "msg",
        "ok cs1=", NULL, NULL),
    ONE("cef-in-value", RF_DESCRIPTION, "|CEF:0|a|b|c|d|e|f|",
        "msg=|CEF:0|a|b|c|d|e|f|", "msg", "|CEF:0|a|b|c|d|e|f|", NULL, NULL),
    ONE("pipe-backslash", RF_DESCRIPTION, "\\|", "msg=\\\\|", "msg", "\\|",
        NULL, NULL),
    ONE("escape-lookalike", RF_DESCRIPTION, "\\n\\=", "msg=\\\\n\\\\\\=", "msg",
        "\\n\\=", NULL, NULL),
    ONE("only-backslash", RF_DESCRIPTION, "\\", "msg=\\\\", "msg", "\\", NULL,
        NULL),
    ONE("only-equals", RF_DESCRIPTION, "=", "msg=\\=", "msg", "=", NULL, NULL),
    ONE("invalid-utf8", RF_DESCRIPTION, "bad\xff\xfe", "msg=bad" R R, "msg",
        "bad" R R, NULL, NULL),
    ONE("surrogate", RF_DESCRIPTION, "s\xed\xa0\x80", "msg=s" R R R, "msg",
        "s" R R R, NULL, NULL),
    ONE("overlong", RF_DESCRIPTION, "\xc0\xaf", "msg=" R R, "msg", R R, NULL,
        NULL),
    ONE("truncated-utf8", RF_DESCRIPTION, "end\xe2\x82", "msg=end" R, "msg",
        "end" R, NULL, NULL),
    ONE("unicode", RF_DESCRIPTION, UNI, "msg=" UNI, "msg", UNI, NULL, NULL),
    ONE("cs-label", RF_THREAT_NAME, "HackTool:Win32/Mikatz!dha",
        "cs1=HackTool:Win32/Mikatz!dha cs1Label=ThreatName", "cs1",
        "HackTool:Win32/Mikatz!dha", "cs1Label", "ThreatName"),
    ONE("cs-label-blank", RF_SHA256, " \t ", "", NULL, NULL, NULL, NULL),
    ONE("flex-label", RF_INCIDENT_LINK_TO_WDATP, "https://x/?a=b&c=d",
        "flexString2=https://x/?a\\=b&c\\=d "
        "flexString2Label=IncidentLinkToWDATP",
        "flexString2", "https://x/?a=b&c=d", "flexString2Label",
        "IncidentLinkToWDATP"),
    ONE("ipv4", RF_IP_ADDRESS, "10.1.2.3", "src=10.1.2.3", "src", "10.1.2.3",
        NULL, NULL),
    ONE("ipv4-spaces", RF_IP_ADDRESS, " 218.90.204.141 ", "src=218.90.204.141",
        "src", "218.90.204.141", NULL, NULL),
    ONE("ipv6", RF_IP_ADDRESS, "fe80::1",
        "c6a2=fe80::1 c6a2Label=Source IPv6 Address", "c6a2", "fe80::1",
        "c6a2Label", "Source IPv6 Address"),
    ONE("ipv6-full", RF_IP_ADDRESS, "FE80:CD00:0000:0CDE:1257:0000:211E:729C",
        "c6a2=FE80:CD00:0000:0CDE:1257:0000:211E:729C "
        "c6a2Label=Source IPv6 Address",
        "c6a2", "FE80:CD00:0000:0CDE:1257:0000:211E:729C", "c6a2Label",
        "Source IPv6 Address"),
    ONE("ipv4-mapped", RF_IP_ADDRESS, "::ffff:10.0.0.1",
        "c6a2=::ffff:10.0.0.1 c6a2Label=Source IPv6 Address", "c6a2",
        "::ffff:10.0.0.1", "c6a2Label", "Source IPv6 Address"),
    ONE("ip-hostname", RF_IP_ADDRESS, "down.esales360.cn",
        "mdeIpAddress=down.esales360.cn", "mdeIpAddress", "down.esales360.cn",
        NULL, NULL),
    ONE("ip-bad-octet", RF_IP_ADDRESS, "999.1.1.1", "mdeIpAddress=999.1.1.1",
        "mdeIpAddress", "999.1.1.1", NULL, NULL),
    ONE("ip-five-parts", RF_IP_ADDRESS, "1.2.3.4.5", "mdeIpAddress=1.2.3.4.5",
        "mdeIpAddress", "1.2.3.4.5", NULL, NULL),
    ONE("ip-list", RF_IP_ADDRESS, "1.2.3.4, 5.6.7.8",
        "mdeIpAddress=1.2.3.4, 5.6.7.8", "mdeIpAddress", "1.2.3.4, 5.6.7.8",
        NULL, NULL),
    ONE("ip-zone", RF_IP_ADDRESS, "fe80::1%eth0", "mdeIpAddress=fe80::1%eth0",
        "mdeIpAddress", "fe80::1%eth0", NULL, NULL),
    ONE("ip-escape", RF_IP_ADDRESS, "a=b\n", "mdeIpAddress=a\\=b\\n",
        "mdeIpAddress", "a=b\n", NULL, NULL),
    ONE("id-40", RF_ALERT_ID, "0123456789012345678901234567890123456789",
        "externalId=0123456789012345678901234567890123456789", "externalId",
        "0123456789012345678901234567890123456789", NULL, NULL),
    ONE("id-41", RF_ALERT_ID, "01234567890123456789012345678901234567890",
        "mdeAlertId=01234567890123456789012345678901234567890", "mdeAlertId",
        "01234567890123456789012345678901234567890", NULL, NULL),
    ONE("id-40-chars-multibyte", RF_ALERT_ID,
        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
        "\xc3\xa9\xc3\xa9"
        "012345678901234567890123456789",
        "externalId=\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
        "\xc3\xa9\xc3\xa9\xc3\xa9"
        "012345678901234567890123456789",
        "externalId",
        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
        "012345678901234567890123456789",
        NULL, NULL),
    ONE("bool-true", RF_REMEDIATION_IS_SUCCESS, "true",
        "cn2=1 cn2Label=RemediationIsSuccess", "cn2", "1", "cn2Label",
        "RemediationIsSuccess"),
    ONE("bool-false", RF_WAS_EXECUTING, "FALSE",
        "cn1=0 cn1Label=WasExecutingWhileDetected", "cn1", "0", "cn1Label",
        "WasExecutingWhileDetected"),
    ONE("bool-garbage", RF_WAS_EXECUTING, "maybe", "", NULL, NULL, NULL, NULL),
    ONE("int", RF_ALERT_PART, "3", "cn3=3 cn3Label=AlertPart", "cn3", "3",
        "cn3Label", "AlertPart"),
    ONE("int-garbage", RF_ALERT_PART, "3a", "", NULL, NULL, NULL, NULL),
    ONE("time-lpt", RF_LAST_PROCESSED_TIME, "2020-09-30T14:11:44.0779765Z",
        "deviceCustomDate1=1601475104077 "
        "deviceCustomDate1Label=LastProcessedTimeUtc",
        "deviceCustomDate1", "1601475104077", "deviceCustomDate1Label",
        "LastProcessedTimeUtc"),
    ONE("time-lpt-garbage", RF_LAST_PROCESSED_TIME, "soon", "", NULL, NULL,
        NULL, NULL),
    ONE("time-as-text", RF_CREATED_TIME, "2020-09-30T14:11:44.0779765Z",
        "mdeAlertCreationTime=2020-09-30T14:11:44.0779765Z",
        "mdeAlertCreationTime", "2020-09-30T14:11:44.0779765Z", NULL, NULL),
    ONE("act", RF_REMEDIATION_ACTION, "quarantine", "act=quarantine", "act",
        "quarantine", NULL, NULL),
    ONE("header-only-field", RF_SEVERITY, "High", "", NULL, NULL, NULL, NULL),
#undef ONE
};

static void
test_ones(struct buf *out, struct buf *want)
{
	struct record r;
	const struct one *c;
	size_t i;
	cJSON *e;

	record_init(&r);
	for (i = 0; i < sizeof(ones) / sizeof(ones[0]); i++) {
		c = &ones[i];
		base(&r);
		setn(&r, c->f, c->in, c->inlen);
		buf_clear(want);
		buf_adds(want, HDR);
		buf_adds(want, c->ext);
		e = exp_new(c->name, NULL);
		if (c->k != NULL)
			exp_add(e, "exact", c->k, c->v);
		if (c->lk != NULL)
			exp_add(e, "exact", c->lk, c->lv);
		run(out, &r, &dflt, buf_str(want), e);
	}

	/* rt comes from the record's parsed alert time */
	base(&r);
	SET(&r, RF_ALERT_TIME, "2020-09-30T14:09:20.35743Z");
	CHECK(ts_parse(r.f[RF_ALERT_TIME].p, r.f[RF_ALERT_TIME].n,
	          &r.alert_time) == 0);
	r.has_alert_time = 1;
	e = exp_new("rt", NULL);
	exp_add(e, "exact", "rt", "1601474960357");
	run(out, &r, &dflt, HDR "rt=1601474960357", e);
	r.has_alert_time = 0;
	e = exp_new("rt-unparsed", NULL);
	run(out, &r, &dflt, HDR, e);

	/* pairs are joined by exactly one space, in table order */
	base(&r);
	SET(&r, RF_DESCRIPTION, " d ");
	SET(&r, RF_MACHINE_NAME, "h");
	SET(&r, RF_ALERT_ID, "id");
	e = exp_new("order", NULL);
	exp_add(e, "exact", "msg", "d");
	exp_add(e, "exact", "shost", "h");
	exp_add(e, "exact", "externalId", "id");
	run(out, &r, &dflt, HDR "externalId=id shost=h msg=d", e);
	record_reset(&r);
}

/* ---- the header ---- */

static void
hdr_case(struct buf *out, const char *name, const struct record *r,
    const struct cef_opts *o, const char *want, const char *const h[6])
{
	run(out, r, o, want, exp_new(name, h));
}

static void
test_header(struct buf *out, struct buf *tmp)
{
	struct record r;
	struct cef_opts o = {.vendor = "Ven|dor\\",
	    .product = "Pro\r\nduct",
	    .version = "1=2\t"};
	const char *h[6];
	struct buf want, in, val;

	record_init(&r);
	buf_init(&want, 0);
	buf_init(&in, 0);
	buf_init(&val, 0);

	base(&r);
	SET(&r, RF_ALERT_TITLE, "a|b\\c=d");
	h[0] = "Microsoft";
	h[1] = "Microsoft Defender ATP";
	h[2] = "2.0";
	h[3] = "sig";
	h[4] = "a|b\\c=d";
	h[5] = "8";
	hdr_case(out, "hdr-pipe-backslash", &r, &dflt,
	    "CEF:0|Microsoft|Microsoft Defender ATP|2.0|sig|a\\|b\\\\c=d|8|",
	    h);

	SET(&r, RF_ALERT_TITLE, "x\r\ny\tz\x7f\x01");
	h[4] = "x  y z  ";
	hdr_case(out, "hdr-controls", &r, &dflt,
	    "CEF:0|Microsoft|Microsoft Defender ATP|2.0|sig|x  y z  |8|", h);

	SET(&r, RF_ALERT_TITLE, "t\xff\xed\xa0\x80");
	h[4] = "t" R R R R;
	hdr_case(out, "hdr-invalid-utf8", &r, &dflt,
	    "CEF:0|Microsoft|Microsoft Defender ATP|2.0|sig|t" R R R R "|8|",
	    h);

	SET(&r, RF_ALERT_TITLE, "x=1 cs1=evil");
	h[4] = "x=1 cs1=evil";
	hdr_case(out, "hdr-equals-stays", &r, &dflt,
	    "CEF:0|Microsoft|Microsoft Defender ATP|2.0|sig|x=1 cs1=evil|8|",
	    h);

	SET(&r, RF_ALERT_TITLE, "T");
	SET(&r, RF_IOA_DEFINITION_ID, "s|g\\");
	h[3] = "s|g\\";
	h[4] = "T";
	h[0] = "Ven|dor\\";
	h[1] = "Pro  duct";
	h[2] = "1=2 ";
	hdr_case(out, "hdr-options", &r, &o,
	    "CEF:0|Ven\\|dor\\\\|Pro  duct|1=2 |s\\|g\\\\|T|8|", h);

	/* no title, no IOA: the default name and a stable fallback id */
	record_clear(&r);
	h[0] = "Microsoft";
	h[1] = "Microsoft Defender ATP";
	h[2] = "2.0";
	h[3] = "mde-cbf29ce484222325";
	h[4] = "Microsoft Defender for Endpoint detection";
	h[5] = "0";
	hdr_case(out, "hdr-defaults", &r, &dflt,
	    "CEF:0|Microsoft|Microsoft Defender ATP|2.0|mde-cbf29ce484222325|"
	    "Microsoft Defender for Endpoint detection|0|",
	    h);
	SET(&r, RF_ALERT_TITLE, "Suspicious File Activity");
	SET(&r, RF_SEVERITY, "Low");
	h[3] = "mde-1c8d9dc96208cfbd";
	h[4] = "Suspicious File Activity";
	h[5] = "3";
	hdr_case(out, "hdr-fallback-sig", &r, &dflt,
	    "CEF:0|Microsoft|Microsoft Defender ATP|2.0|mde-1c8d9dc96208cfbd|"
	    "Suspicious File Activity|3|",
	    h);
	/* same title, same id; another title, another id */
	SET(&r, RF_DESCRIPTION, "other text");
	buf_clear(out);
	CHECK(cef_format(out, &r, &dflt) == 0);
	CHECK(strstr(buf_str(out), "|mde-1c8d9dc96208cfbd|") != NULL);
	SET(&r, RF_ALERT_TITLE, "Suspicious File Activity!");
	buf_clear(out);
	CHECK(cef_format(out, &r, &dflt) == 0);
	CHECK(strstr(buf_str(out), "|mde-1c8d9dc96208cfbd|") == NULL);
	CHECK(strstr(buf_str(out), "|mde-") != NULL);

	/* header limits: characters, before escaping */
	base(&r);
	setb(&r, RF_ALERT_TITLE, &in, "\xc3\xa9", 600);
	h[3] = "sig";
	h[4] = rep(&val, "\xc3\xa9", 512);
	h[5] = "8";
	buf_clear(&want);
	buf_adds(&want, "CEF:0|Microsoft|Microsoft Defender ATP|2.0|sig|");
	buf_adds(&want, val.data);
	buf_adds(&want, "|8|");
	hdr_case(out, "hdr-name-512", &r, &dflt, buf_str(&want), h);
	setb(&r, RF_ALERT_TITLE, &in, "|", 600);
	h[4] = rep(&val, "|", 512);
	buf_clear(&want);
	buf_adds(&want, "CEF:0|Microsoft|Microsoft Defender ATP|2.0|sig|");
	buf_adds(&want, rep(tmp, "\\|", 512));
	buf_adds(&want, "|8|");
	hdr_case(out, "hdr-name-512-escaped", &r, &dflt, buf_str(&want), h);
	base(&r);
	setb(&r, RF_IOA_DEFINITION_ID, tmp, "x", 1100);
	buf_clear(out);
	CHECK(cef_format(out, &r, &dflt) == 0);
	CHECK(strstr(buf_str(out), rep(tmp, "x", 1023)) != NULL);
	CHECK(strstr(buf_str(out), rep(tmp, "x", 1024)) == NULL);
	o.vendor = rep(tmp, "v", 70);
	o.product = "";
	o.version = "0123456789012345678901234567890123456789";
	base(&r);
	buf_clear(out);
	CHECK(cef_format(out, &r, &o) == 0);
	buf_clear(&want);
	buf_adds(&want, "CEF:0|");
	buf_adds(&want, rep(tmp, "v", 63));
	buf_adds(&want,
	    "|Microsoft Defender ATP|"
	    "0123456789012345678901234567890|sig|T|8|");
	CHECK_STR(buf_str(out), buf_str(&want));
	buf_reset(&want);
	buf_reset(&in);
	buf_reset(&val);
	record_reset(&r);
}

static void
test_severity(struct buf *out)
{
	static const struct {
		const char *in;
		int sev;
	} cases[] = {
	    {"Informational", 1},
	    {"informational", 1},
	    {"Low", 3},
	    {"LOW", 3},
	    {"Medium", 5},
	    {"mEdIuM", 5},
	    {"High", 8},
	    {"high", 8},
	    {"UnSpecified", 0},
	    {"", 0},
	    {"High ", 0},
	    {"Hig", 0},
	    {"Critical", 0},
	    {"8", 0},
	};
	struct record r;
	char want[128];
	size_t i;

	record_init(&r);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK(severity_of(cases[i].in, strlen(cases[i].in))->cef ==
		    cases[i].sev);
		base(&r);
		setn(&r, RF_SEVERITY, cases[i].in, strlen(cases[i].in));
		buf_clear(out);
		CHECK(cef_format(out, &r, &dflt) == 0);
		snprintf(want, sizeof(want),
		    "CEF:0|Microsoft|"
		    "Microsoft Defender ATP|2.0|sig|T|%d|",
		    cases[i].sev);
		CHECK_STR(buf_str(out), want);
	}
	CHECK(severity_of(NULL, 0)->cef == 0);
	record_reset(&r);
}

/* ---- per-key limits, in characters, on multi-byte text ---- */

static void
limit_case(struct buf *out, const char *name, enum record_field f,
    const char *unit, size_t n_in, size_t n_out, const char *key,
    const char *esc_unit, const char *val_unit, const char *lk, const char *lv)
{
	struct record r;
	struct buf in, val, esc, want;
	cJSON *e;

	record_init(&r);
	buf_init(&in, 0);
	buf_init(&val, 0);
	buf_init(&esc, 0);
	buf_init(&want, 0);
	base(&r);
	setb(&r, f, &in, unit, n_in);
	rep(&val, val_unit, n_out);
	buf_adds(&want, HDR);
	buf_adds(&want, key);
	buf_addc(&want, '=');
	buf_adds(&want, rep(&esc, esc_unit, n_out));
	e = exp_new(name, NULL);
	exp_add(e, "exact", key, buf_str(&val));
	if (lk != NULL) {
		buf_printf(&want, " %s=%s", lk, lv);
		exp_add(e, "exact", lk, lv);
	}
	run(out, &r, &dflt, buf_str(&want), e);
	buf_reset(&in);
	buf_reset(&val);
	buf_reset(&esc);
	buf_reset(&want);
	record_reset(&r);
}

static void
test_limits(struct buf *out)
{
	struct record r;
	struct buf v;
	size_t i;
	const char *s;
	cJSON *p;

	limit_case(out, "limit-act-63", RF_REMEDIATION_ACTION, "\xc3\xa9", 70,
	    63, "act", "\xc3\xa9", "\xc3\xa9", NULL, NULL);
	limit_case(out, "limit-sntdom-255", RF_USER_DOMAIN, "\xe6\x97\xa5", 300,
	    255, "sntdom", "\xe6\x97\xa5", "\xe6\x97\xa5", NULL, NULL);
	limit_case(out, "limit-msg-1023", RF_DESCRIPTION, "\xf0\x9f\x98\x80",
	    1100, 1023, "msg", "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80", NULL,
	    NULL);
	limit_case(out, "limit-msg-exact", RF_DESCRIPTION, "\xf0\x9f\x98\x80",
	    1023, 1023, "msg", "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80", NULL,
	    NULL);
	limit_case(out, "limit-msg-invalid", RF_DESCRIPTION, "\xff", 1100, 1023,
	    "msg", R, R, NULL, NULL);
	limit_case(out, "limit-filehash-255", RF_SHA1, "a", 256, 255,
	    "fileHash", "a", "a", NULL, NULL);
	limit_case(out, "limit-deviceexternalid-255", RF_DEVICE_ID, "d", 300,
	    255, "deviceExternalId", "d", "d", NULL, NULL);
	limit_case(out, "limit-custom-4000", RF_COMMAND_LINE, "=", 4100, 4000,
	    "mdeCommandLine", "\\=", "=", NULL, NULL);
	limit_case(out, "limit-custom-backslash", RF_LINK_TO_MTP, "\\", 1030,
	    1030, "mdeLinkToMTP", "\\\\", "\\", NULL, NULL);
	limit_case(out, "limit-flexstring-1023", RF_LINK_TO_WDATP,
	    "\xc3\xa9=\xc3\xa9", 400, 341, "flexString1", "\xc3\xa9\\=\xc3\xa9",
	    "\xc3\xa9=\xc3\xa9", "flexString1Label", "LinkToWDATP");
	limit_case(out, "limit-cs-4000", RF_SHA256, "\xe6\x97\xa5", 4001, 4000,
	    "cs6", "\xe6\x97\xa5", "\xe6\x97\xa5", "cs6Label", "Sha256");

	/* a cut right after a backslash keeps the whole escape */
	record_init(&r);
	buf_init(&v, 0);
	base(&r);
	rep(&v, "a", 1022);
	buf_adds(&v, "\\bcd");
	setn(&r, RF_DESCRIPTION, v.data, v.len);
	buf_clear(out);
	CHECK(cef_format(out, &r, &dflt) == 0);
	s = buf_str(out);
	CHECK(out->len > 3 && strcmp(s + out->len - 3, "a\\\\") == 0);
	CHECK((p = parse_cef(out->data, out->len)) != NULL);
	cJSON_Delete(p);
	/* and a cut inside blanks leaves no trailing space */
	rep(&v, "a", 1020);
	buf_adds(&v, "  \t  b");
	setn(&r, RF_DESCRIPTION, v.data, v.len);
	buf_clear(out);
	CHECK(cef_format(out, &r, &dflt) == 0);
	CHECK(out->data[out->len - 1] == 'a');
	for (i = 0, s = buf_str(out); *s != '\0'; s++)
		i += *s == 'a';
	CHECK(i == 1020);
	buf_reset(&v);
	record_reset(&r);
}

/* ---- fitting max_len ---- */

struct big {
	struct buf desc, cmd, url, path, ioc;
};

static void
big_init(struct big *b, struct record *r)
{
	buf_init(&b->desc, 0);
	buf_init(&b->cmd, 0);
	buf_init(&b->url, 0);
	buf_init(&b->path, 0);
	buf_init(&b->ioc, 0);
	rep(&b->desc, "Line \xc3\xa9 = \\ x\n", 60);
	buf_adds(&b->cmd, "powershell.exe -enc ");
	while (b->cmd.len < 2820)
		buf_adds(&b->cmd, "QUJD");
	buf_adds(&b->url, "https://evil.example/?");
	while (b->url.len < 821)
		buf_adds(&b->url, "a=b&");
	buf_adds(&b->path, "C:\\Users\\");
	while (b->path.len < 300)
		buf_adds(&b->path, "dir\\");
	rep(&b->ioc, "\xf0\x9f\x98\x80", 100);

	record_clear(r);
	SET(r, RF_ALERT_TITLE, "Big alert");
	SET(r, RF_IOA_DEFINITION_ID, "b20af1d2-5990-4672-87f1-acc2a8ff7725");
	SET(r, RF_SEVERITY, "Medium");
	SET(r, RF_ALERT_ID, "da637370718981685665_16349121");
	SET(r, RF_FULL_ID,
	    "da637370718981685665_16349121:"
	    "R4xEdgAvDb2LQl3BgHoA3NYqKmRSiIAG7dpxAJCYZhY=");
	SET(r, RF_LAST_PROCESSED_TIME, "2020-09-30T14:11:44.0779765Z");
	SET(r, RF_DEVICE_ID, "deadbeef000040830ee54503926f556dcaf82bb0");
	CHECK(ts_parse("2020-09-30T14:09:20.35743Z", 26, &r->alert_time) == 0);
	r->has_alert_time = 1;
	SET(r, RF_MACHINE_NAME, "mymachine1");
	SET(r, RF_SHA1, "aabbccddee1122334455aabbccddee1122334455");
	SET(r, RF_CATEGORY, "Malware");
	SET(r, RF_THREAT_NAME, "HackTool:Win32/Mikatz!dha");
	setn(r, RF_DESCRIPTION, b->desc.data, b->desc.len);
	setn(r, RF_COMMAND_LINE, b->cmd.data, b->cmd.len);
	setn(r, RF_URL, b->url.data, b->url.len);
	setn(r, RF_FILE_PATH, b->path.data, b->path.len);
	setn(r, RF_IOC_VALUE, b->ioc.data, b->ioc.len);
	SET(r, RF_LINK_TO_WDATP,
	    "https://securitycenter.windows.com/alert/"
	    "da637370718981685665_16349121");
}

static void
big_reset(struct big *b)
{
	buf_reset(&b->desc);
	buf_reset(&b->cmd);
	buf_reset(&b->url);
	buf_reset(&b->path);
	buf_reset(&b->ioc);
}

/* What must survive any max_len, what may go, and what may be cut. */
static cJSON *
big_exp(const char *name, const struct big *b)
{
	static const char *const h[6] = {"Microsoft", "Microsoft Defender ATP",
	    "2.0", "b20af1d2-5990-4672-87f1-acc2a8ff7725", "Big alert", "5"};
	cJSON *e = exp_new(name, h);

	exp_add(e, "exact", "externalId", "da637370718981685665_16349121");
	exp_add(e, "exact", "cs3",
	    "da637370718981685665_16349121:"
	    "R4xEdgAvDb2LQl3BgHoA3NYqKmRSiIAG7dpxAJCYZhY=");
	exp_add(e, "exact", "cs3Label", "FullId");
	exp_add(e, "exact", "rt", "1601474960357");
	exp_add(e, "exact", "deviceCustomDate1", "1601475104077");
	exp_add(e, "exact", "deviceCustomDate1Label", "LastProcessedTimeUtc");
	exp_add(e, "exact", "deviceExternalId",
	    "deadbeef000040830ee54503926f556dcaf82bb0");
	exp_add(e, "optional", "shost", "mymachine1");
	exp_add(e, "optional", "fileHash",
	    "aabbccddee1122334455aabbccddee1122334455");
	exp_add(e, "optional", "cat", "Malware");
	exp_add(e, "optional", "cs1", "HackTool:Win32/Mikatz!dha");
	exp_add(e, "optional", "cs1Label", "ThreatName");
	exp_add(e, "optional", "flexString1Label", "LinkToWDATP");
	exp_add(e, "prefix", "msg", b->desc.data);
	exp_add(e, "prefix", "mdeCommandLine", b->cmd.data);
	exp_add(e, "prefix", "request", b->url.data);
	exp_add(e, "prefix", "filePath", b->path.data);
	exp_add(e, "prefix", "mdeIocValue", b->ioc.data);
	exp_add(e, "prefix", "flexString1",
	    "https://securitycenter.windows."
	    "com/alert/da637370718981685665_16349121");
	return e;
}

static const char *
ext_value(const cJSON *p, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(p, "ext"), k);

	return v != NULL ? v->valuestring : NULL;
}

static void
test_max_len(struct buf *out)
{
	struct record r, keep;
	struct big b;
	struct cef_opts o = dflt;
	size_t full, min, max, lens[16], i, n = 0;
	char name[64];
	cJSON *p, *e;
	const char *v;
	int ok;

	record_init(&r);
	big_init(&b, &r);
	full = run(out, &r, &o, NULL, big_exp("big-full", &b));
	CHECK(full > 5000);

	/* the smallest message: header and KEEP pairs only */
	keep = r;
	for (i = 0; i < cef_mapping_count(); i++)
		if (cef_mapping_get(i)->prio != PAIRS_KEEP)
			keep.f[cef_mapping_get(i)->field].n = 0;
	buf_clear(out);
	CHECK(cef_format(out, &keep, &o) == 0);
	min = out->len;
	CHECK(min > 200 && min < 400);

	/* longest first: only the command line gives way */
	o.max_len = full - 500;
	buf_clear(out);
	CHECK(cef_format(out, &r, &o) == 0);
	CHECK(out->len <= o.max_len && out->len > o.max_len - 40);
	p = parse_cef(out->data, out->len);
	CHECK(p != NULL);
	v = ext_value(p, "mdeCommandLine");
	CHECK(v != NULL && strlen(v) < b.cmd.len - 400);
	v = ext_value(p, "request");
	CHECK(v != NULL && strcmp(v, b.url.data) == 0);
	v = ext_value(p, "filePath");
	CHECK(v != NULL && strcmp(v, b.path.data) == 0);
	CHECK(ext_value(p, "mdeIocValue") != NULL);
	cJSON_Delete(p);

	lens[n++] = full;
	lens[n++] = full - 1;
	lens[n++] = full - 500;
	lens[n++] = 4096;
	lens[n++] = 2048;
	lens[n++] = 1200;
	lens[n++] = 900;
	lens[n++] = 600;
	lens[n++] = min + 100;
	lens[n++] = min + 20;
	lens[n++] = min + 1;
	lens[n++] = min;
	for (i = 0; i < n; i++) {
		o.max_len = lens[i];
		snprintf(name, sizeof(name), "big-max-%zu", lens[i]);
		run(out, &r, &o, NULL, big_exp(name, &b));
	}
	/* levelled values use the room: the message ends up nearly full */
	o.max_len = 2048;
	buf_clear(out);
	CHECK(cef_format(out, &r, &o) == 0);
	CHECK(out->len <= 2048 && out->len > 2048 - 64);
	/* at the minimum, exactly the KEEP-only message */
	o.max_len = min;
	buf_clear(out);
	CHECK(cef_format(out, &r, &o) == 0);
	CHECK(out->len == min);
	/* below it, ERR_TOOBIG, and what was in out stays as it was */
	o.max_len = min - 1;
	buf_clear(out);
	buf_adds(out, "<14>1 - ");
	CHECK(cef_format(out, &r, &o) == ERR_TOOBIG);
	CHECK_STR(buf_str(out), "<14>1 - ");
	/* max_len counts the CEF message only, not what precedes it */
	o.max_len = 1000;
	CHECK(cef_format(out, &r, &o) == 0);
	CHECK(out->len <= 1000 + 8 && out->len > 900);
	/* every size between the minimum and the full message fits and parses */
	for (max = min; max <= full + 1; max += 7) {
		o.max_len = max;
		buf_clear(out);
		if (cef_format(out, &r, &o) != 0 || out->len > max) {
			CHECK(0);
			fprintf(stderr, "max_len %zu failed\n", max);
			break;
		}
		p = parse_cef(out->data, out->len);
		e = big_exp("sweep", &b);
		ok = p != NULL && meets(p, e);
		cJSON_Delete(e);
		cJSON_Delete(p);
		if (!ok) {
			CHECK(0);
			fprintf(stderr, "max_len %zu: bad message\n", max);
			break;
		}
		if (max % 91 == 0) {
			snprintf(name, sizeof(name), "big-sweep-%zu", max);
			run(out, &r, &o, NULL, big_exp(name, &b));
		}
	}
	CHECK(max > full);
	big_reset(&b);
	record_reset(&r);
}

/* ---- random bytes: any value in, a parseable message out ---- */

static const struct piece pieces[] = {
    PIECE("a"),
    PIECE("Zz"),
    PIECE("0"),
    PIECE(" "),
    PIECE("  "),
    PIECE("="),
    PIECE("\\"),
    PIECE("|"),
    PIECE("\n"),
    PIECE("\r"),
    PIECE("\t"),
    PIECE("\x01"),
    PIECE("\x1f"),
    PIECE("\x7f"),
    PIECE("\0"),
    PIECE("\xc3\xa9"),
    PIECE("\xe6\x97\xa5"),
    PIECE("\xf0\x9f\x98\x80"),
    PIECE("\xed\xa0\x80"),
    PIECE("\xc0\xaf"),
    PIECE("\xff"),
    PIECE("\xe2\x82"),
    PIECE("\xf4\x90\x80\x80"),
    PIECE("\x80"),
    PIECE("cs1="),
    PIECE(" x="),
    PIECE("CEF:0|"),
    PIECE("\\n"),
    PIECE("\\="),
    PIECE("word "),
};
static const size_t npieces = sizeof(pieces) / sizeof(pieces[0]);

static void
add_hex(cJSON *obj, const char *k, const struct buf *b)
{
	static const char hex[] = "0123456789abcdef";
	struct buf h;
	size_t i;

	buf_init(&h, 0);
	for (i = 0; i < b->len; i++) {
		buf_addc(&h, hex[(unsigned char)b->data[i] >> 4]);
		buf_addc(&h, hex[(unsigned char)b->data[i] & 0xf]);
	}
	cJSON_AddStringToObject(obj, k, buf_str(&h));
	buf_reset(&h);
}

/* Length of r's message with only the pairs that are never dropped. */
static size_t
keep_len(struct buf *out, const struct record *r)
{
	struct record keep = *r;
	const struct pairs_map *m;
	size_t i;

	for (i = 0; i < cef_mapping_count(); i++) {
		m = cef_mapping_get(i);
		if (m->prio != PAIRS_KEEP)
			keep.f[m->field].n = 0;
	}
	buf_clear(out);
	if (cef_format(out, &keep, &dflt) != 0)
		return 0;
	return out->len;
}

/*
 * Random bytes in random text fields (and sometimes the title), with and
 * without max_len.  Here: the message parses and fits.  The expectation
 * carries the raw bytes ("raw": {key: {"hex", "limit"}}, "raw_name") so
 * that test_cef_lognorm.py can work out the values on its own.
 */
static void
test_random(struct buf *out)
{
	struct record r;
	struct buf v[7], title;
	const struct pairs_map *m;
	cJSON *e, *raw, *one;
	char name[32];
	size_t i, j, k, nmap = cef_mapping_count();
	int rc;

	record_init(&r);
	buf_init(&title, 0);
	for (j = 0; j < 7; j++)
		buf_init(&v[j], 0);
	for (i = 0; i < 400; i++) {
		snprintf(name, sizeof(name), "random-%zu", i);
		e = exp_new(name, NULL);
		raw = cJSON_AddObjectToObject(e, "raw");
		base(&r);
		if (rnd(4) == 0) {
			rnd_text(&title, pieces, npieces);
			setn(&r, RF_ALERT_TITLE, title.data, title.len);
			add_hex(e, "raw_name", &title);
		}
		for (j = 0; j < 7; j++) {
			m = cef_mapping_get(rnd(nmap));
			if (m->kind != PAIRS_TEXT || r.f[m->field].n > 0 ||
			    m->field == RF_SEVERITY)
				continue;
			rnd_text(&v[j], pieces, npieces);
			setn(&r, m->field, buf_str(&v[j]), v[j].len);
			one = cJSON_AddObjectToObject(raw, m->key);
			add_hex(one, "hex", &v[j]);
			cJSON_AddNumberToObject(one, "limit", m->max_chars);
			if (m->label_key != NULL)
				exp_add(e, "optional", m->label_key, m->label);
		}
		k = rnd(2) == 0 ? 0 : 120 + rnd(3000);
		{
			struct cef_opts o = {.max_len = k};
			cJSON *p;

			buf_clear(out);
			rc = cef_format(out, &r, &o);
			if (rc == ERR_TOOBIG) {
				/* only when header and KEEP pairs are */
				CHECK(keep_len(out, &r) > k);
				cJSON_Delete(e);
				continue;
			}
			CHECK(rc == 0);
			if (rc != 0) {
				cJSON_Delete(e);
				continue;
			}
			CHECK(k == 0 || out->len <= k);
			CHECK(text_utf8_valid(out->data, out->len));
			p = parse_cef(out->data, out->len);
			CHECK(p != NULL && meets(p, e));
			if (p == NULL)
				fprintf(stderr, "%s: unparseable\n", name);
			cJSON_Delete(p);
			exp_max(e, k);
			corpus(out->data, out->len, e);
			cJSON_Delete(e);
		}
	}
	for (j = 0; j < 7; j++)
		buf_reset(&v[j]);
	buf_reset(&title);
	record_reset(&r);
}

/* ---- the hostile corpus, for test_hostile_formats.py ---- */

/* cef_format with dflt and a size limit. */
static int
hostile_format(
    struct buf *out, const struct record *r, const void *opts, size_t max_len)
{
	struct cef_opts o = *(const struct cef_opts *)opts;

	o.max_len = max_len;
	return cef_format(out, r, &o);
}

static size_t
hostile_keep_len(struct buf *out, const struct record *r, const void *opts)
{
	(void)opts;
	return keep_len(out, r);
}

static void
test_hostile(struct buf *out, const char *build)
{
	static const struct hostile_fmt f = {
	    hostile_format, parse_cef, hostile_keep_len};
	static const struct hostile_run runs[] = {
	    {"cef", &dflt, 0},
	    {"cef.2048", &dflt, 2048},
	};

	hostile_runs(out, build, &f, runs, sizeof(runs) / sizeof(runs[0]));
}

/* ---- errors ---- */

static void
test_errors(void)
{
	struct record r;
	struct buf small;

	record_init(&r);
	base(&r);
	SET(&r, RF_DESCRIPTION, "a fairly long description");
	buf_init(&small, 40);
	buf_adds(&small, "keep");
	CHECK(cef_format(&small, &r, &dflt) == ERR_TOOBIG);
	CHECK_STR(buf_str(&small), "keep");
	buf_reset(&small);
	record_reset(&r);
}

static FILE *
open_out(const char *dir, const char *file)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/tests/%s", dir, file);
	if ((fp = fopen(path, "w")) == NULL)
		fprintf(stderr, "cannot write %s\n", path);
	return fp;
}

/*
 * Every printable ASCII byte inside a header field and an extension
 * value: only the bytes CEF escapes are changed (the escaper copies the
 * others without looking them up, so a byte missing from its list of
 * special bytes would come through raw).
 */
static void
test_every_byte(struct buf *out)
{
	struct record r;
	char title[4], name[4], want[256];
	const char *he, *ve;
	unsigned c;

	record_init(&r);
	for (c = 0x20; c < 0x7f; c++) {
		base(&r);
		snprintf(title, sizeof(title), "T%cT", (char)c);
		snprintf(name, sizeof(name), "a%ca", (char)c);
		setn(&r, RF_ALERT_TITLE, title, 3);
		setn(&r, RF_FILE_NAME, name, 3);
		he = c == '\\' ? "\\\\" : c == '|' ? "\\|" : NULL;
		ve = c == '\\' ? "\\\\" : c == '=' ? "\\=" : NULL;
		snprintf(want, sizeof(want),
		    "CEF:0|Microsoft|Microsoft Defender ATP|2.0|sig|T%s%sT|8|"
		    "fname=a%s%sa",
		    he ? he : "", he ? "" : (char[]){(char)c, 0}, ve ? ve : "",
		    ve ? "" : (char[]){(char)c, 0});
		buf_clear(out);
		CHECK(cef_format(out, &r, &dflt) == 0);
		check_same("every byte", buf_str(out), want);
	}
	record_reset(&r);
}

/* A prepared header part gives the same messages as one made each time. */
static void
test_prepared(struct buf *out, struct buf *tmp)
{
	static const struct {
		const char *v, *p, *ver;
	} cases[] = {
	    {NULL, NULL, NULL},
	    {"", "", ""},
	    {"Ven|dor\\", "Pro\r\nduct", "1=2\t"},
	    {"\xff\xfe", " \xe6\x97\xa5 ", "\\\\\\\\"},
	};
	struct cef_opts o;
	struct record r;
	size_t i;

	record_init(&r);
	base(&r);
	SET(&r, RF_FILE_NAME, "f");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&o, 0, sizeof(o));
		o.vendor = cases[i].v;
		o.product = cases[i].p;
		o.version = cases[i].ver;
		buf_clear(tmp);
		CHECK(cef_format(tmp, &r, &o) == 0);
		cef_opts_prepare(&o);
		CHECK(o.prefix_len > 0);
		buf_clear(out);
		CHECK(cef_format(out, &r, &o) == 0);
		check_same("prepared", buf_str(out), buf_str(tmp));
	}
	/* the longest fields (all three at their limit in 4-byte
	 * characters) fit the prepared part exactly */
	memset(&o, 0, sizeof(o));
	o.vendor = o.product = o.version = rep(tmp, "\xf0\x9f\x98\x80", 100);
	cef_opts_prepare(&o);
	CHECK(o.prefix_len == sizeof(o.prefix));
	record_reset(&r);
}

/*
 * Graph's properties newer than Microsoft's table, in their mde* keys:
 * the dictionaries as JSON text, '=' and '\\' escaped like any value.
 */
static void
test_graph_newer(struct buf *out)
{
	static const char *const hdr[6] = {"Microsoft",
	    "Microsoft Defender ATP", "2.0",
	    "e0da400f-affd-43ef-b1d5-afc2eb6f2756",
	    "Suspicious execution of hidden file", "3"};
	cJSON *doc =
	    load("tests/data/alerts/graph-alerts-v2-newer-properties.json");
	struct record r;
	const char *why = NULL;
	const cJSON *c;
	cJSON *e, *p;

	record_init(&r);
	CHECK(record_from_graph(&r,
	          cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "value"), 0),
	          &why) == 0);
	e = exp_new("graph-newer-properties", hdr);
	exp_add(
	    e, "exact", "mdeProductName", "Microsoft Defender for Endpoint");
	exp_add(e, "exact", "mdeAlertPolicyId",
	    "5c4c6e6c-0c3b-4a0e-9d5b-1f7a9d2e8c41");
	exp_add(e, "exact", "mdeInvestigationState", "successfullyRemediated");
	exp_add(e, "exact", "mdeCustomDetails",
	    "{\"Country\":\"US\",\"FailedSignIns\":12,\"Accounts\":"
	    "[\"jdoe\",\"asmith\"]}");
	exp_add(e, "exact", "mdeAdditionalData",
	    "{\"AlertRuleName\":\"Hidden file launched\",\"Note\":"
	    "\"a=b; c\\\\d\"}");
	/* the other keys as the mapping above has them */
	buf_clear(out);
	CHECK(cef_format(out, &r, &dflt) == 0);
	p = parse_cef(out->data, out->len);
	for (c = cJSON_GetObjectItem(p, "ext")
	         ? cJSON_GetObjectItem(p, "ext")->child
	         : NULL;
	     c != NULL; c = c->next)
		if (member(e, "exact", c->string) == NULL)
			exp_add(e, "optional", c->string, c->valuestring);
	cJSON_Delete(p);
	run(out, &r, &dflt, NULL, e);
	CHECK(strstr(buf_str(out), "\"Note\":\"a\\=b; c\\\\\\\\d\"") != NULL);
	record_reset(&r);
	cJSON_Delete(doc);
}

int
main(void)
{
	const char *build = build_dir();
	struct buf out, tmp;

	lines_fp = open_out(build, "cef_lines.txt");
	exp_fp = open_out(build, "cef_expected.jsonl");
	CHECK(lines_fp != NULL && exp_fp != NULL);
	buf_init(&out, 0);
	buf_init(&tmp, 0);
	test_mapping();
	test_golden(&out);
	test_graph_newer(&out);
	test_ones(&out, &tmp);
	test_header(&out, &tmp);
	test_severity(&out);
	test_limits(&out);
	test_max_len(&out);
	test_random(&out);
	test_hostile(&out, build);
	test_errors();
	test_every_byte(&out);
	test_prepared(&out, &tmp);
	buf_reset(&out);
	buf_reset(&tmp);
	if (lines_fp != NULL)
		CHECK(fclose(lines_fp) == 0);
	if (exp_fp != NULL)
		CHECK(fclose(exp_fp) == 0);
	return check_done();
}
