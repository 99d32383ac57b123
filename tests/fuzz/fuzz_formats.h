/* SPDX-License-Identifier: MIT */
/*
 * The body of the format fuzz targets (fuzz_siem.c, fuzz_graph.c,
 * fuzz_alerts.c): raw bytes -> cJSON -> one normaliser -> CEF, LEEF
 * (2.0 with a delimiter picked from the input, 2.0 with TAB, 1.0) and
 * JSON, without and with a size limit picked from the input.  Whatever
 * the bytes, every output must keep its structure, or the target aborts:
 *
 * - everywhere: valid UTF-8, no CR, LF or NUL, within the size limit;
 * - CEF: "CEF:0|", six header fields ended by unescaped '|' holding only
 *   the escapes \\ and \|; then key=value pairs, alphanumeric keys, each
 *   once, values non-empty and holding only the escapes \\ \= \n \r (so
 *   no raw '=' and no lone trailing backslash); no raw control character;
 * - LEEF: the version, exactly 5 (1.0) or 6 (2.0) header fields, none
 *   empty, the delimiter field naming the delimiter asked for; attributes
 *   split on it into key=value with alphanumeric keys, each once, values
 *   non-empty and free of control characters, no trailing delimiter;
 * - JSON: cJSON parses it back to an object; no raw control character,
 *   DEL, C1 control, U+2028 or U+2029.
 *
 * Nothing may crash, leak or trip a sanitizer (ASan, UBSan).
 */
#ifndef FUZZ_FORMATS_H
#define FUZZ_FORMATS_H

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "cef.h"
#include "errcode.h"
#include "json_out.h"
#include "jsonscan.h"
#include "leef.h"
#include "record.h"
#include "text.h"

#define FUZZ_MAX_ITEMS 16 /* records per input */
#define FUZZ_MAX_KEYS 128

typedef int (*fuzz_normalize_fn)(struct record *, const cJSON *, const char **);

static void
fuzz_fail(const char *what, const char *s, size_t n)
{
	fprintf(stderr, "broken output (%s): %.*s\n", what,
	    (int)(n > 400 ? 400 : n), s);
	abort();
}

static void
fuzz_common(const char *s, size_t n, size_t max, const char *what)
{
	if (!text_utf8_valid(s, n))
		fuzz_fail("invalid UTF-8", s, n);
	if (memchr(s, '\n', n) || memchr(s, '\r', n) || memchr(s, '\0', n))
		fuzz_fail("CR, LF or NUL", s, n);
	if (max > 0 && n > max)
		fuzz_fail(what, s, n);
}

/* Each key at most once (keys are short; a linear scan will do). */
static int
fuzz_key_new(
    const char *keys[], size_t lens[], size_t *nk, const char *k, size_t kn)
{
	size_t i;

	for (i = 0; i < *nk; i++)
		if (lens[i] == kn && memcmp(keys[i], k, kn) == 0)
			return 0;
	if (*nk < FUZZ_MAX_KEYS) {
		keys[*nk] = k;
		lens[(*nk)++] = kn;
	}
	return 1;
}

static void
fuzz_check_cef(const char *s, size_t n, size_t max)
{
	const char *keys[FUZZ_MAX_KEYS];
	size_t lens[FUZZ_MAX_KEYS], nk = 0, i = 6, ks, vs, j, lastsp;
	int f;

	fuzz_common(s, n, max, "CEF over max_len");
	if (n < 6 || memcmp(s, "CEF:0|", 6) != 0)
		fuzz_fail("CEF prefix", s, n);
	for (f = 0; f < 6; f++) {
		j = i;
		for (; i < n && s[i] != '|'; i++) {
			if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
				fuzz_fail("CEF header control", s, n);
			if (s[i] == '\\') {
				if (i + 1 >= n ||
				    (s[i + 1] != '\\' && s[i + 1] != '|'))
					fuzz_fail("CEF header escape", s, n);
				i++;
			}
		}
		if (i >= n || i == j)
			fuzz_fail("CEF header field", s, n);
		i++;
	}
	while (i < n) {
		for (ks = i; i < n && isalnum((unsigned char)s[i]); i++)
			;
		if (i == ks || i >= n || s[i] != '=')
			fuzz_fail("CEF key", s, n);
		if (!fuzz_key_new(keys, lens, &nk, s + ks, i - ks))
			fuzz_fail("CEF key twice", s, n);
		vs = ++i;
		lastsp = 0;
		for (j = vs; j < n && s[j] != '='; j++) {
			if ((unsigned char)s[j] < 0x20 || s[j] == 0x7f)
				fuzz_fail("CEF value control", s, n);
			if (s[j] == '\\') {
				if (j + 1 >= n ||
				    strchr("\\=nr", s[j + 1]) == NULL)
					fuzz_fail("CEF value escape", s, n);
				j++;
			} else if (s[j] == ' ')
				lastsp = j;
		}
		/* the next key starts after the last space before its '=' */
		if (j < n) {
			if (lastsp == 0 || lastsp == vs)
				fuzz_fail("CEF empty value", s, n);
			i = lastsp + 1;
		} else {
			if (j == vs)
				fuzz_fail("CEF empty last value", s, n);
			i = n;
		}
	}
}

static void
fuzz_check_leef(const char *s, size_t n, size_t max, int version, char d)
{
	const char *keys[FUZZ_MAX_KEYS], *p = s + 9, *end = s + n, *bar;
	const char *seg, *eq, *k;
	size_t lens[FUZZ_MAX_KEYS], nk = 0;
	char want[4];
	int i, fields = version == 1 ? 4 : 5;

	fuzz_common(s, n, max, "LEEF over max_len");
	if (n < 9 || memcmp(s, version == 1 ? "LEEF:1.0|" : "LEEF:2.0|", 9))
		fuzz_fail("LEEF prefix", s, n);
	for (i = 0; i < fields; i++) {
		bar = memchr(p, '|', (size_t)(end - p));
		if (bar == NULL || bar == p)
			fuzz_fail("LEEF header field", s, n);
		for (k = p; k < bar; k++)
			if ((unsigned char)*k < 0x20 || *k == 0x7f)
				fuzz_fail("LEEF header control", s, n);
		if (i == 4) {
			if (d == '\t')
				memcpy(want, "x09", 4);
			else {
				want[0] = d;
				want[1] = '\0';
			}
			if ((size_t)(bar - p) != strlen(want) ||
			    memcmp(p, want, strlen(want)) != 0)
				fuzz_fail("LEEF delimiter field", s, n);
		}
		p = bar + 1;
	}
	while (p < end) {
		for (seg = p; seg < end && *seg != d; seg++)
			if ((unsigned char)*seg < 0x20 || *seg == 0x7f)
				fuzz_fail("LEEF value control", s, n);
		if ((eq = memchr(p, '=', (size_t)(seg - p))) == NULL ||
		    eq == p || eq + 1 == seg)
			fuzz_fail("LEEF key=value", s, n);
		for (k = p; k < eq; k++)
			if (!isalnum((unsigned char)*k))
				fuzz_fail("LEEF key", s, n);
		if (!fuzz_key_new(keys, lens, &nk, p, (size_t)(eq - p)))
			fuzz_fail("LEEF key twice", s, n);
		if (seg < end && seg + 1 == end)
			fuzz_fail("LEEF trailing delimiter", s, n);
		p = seg < end ? seg + 1 : end;
	}
}

static void
fuzz_check_json(const char *s, size_t n, size_t max)
{
	const unsigned char *u = (const unsigned char *)s;
	cJSON *j;
	size_t i;

	fuzz_common(s, n, max, "JSON over max_len");
	for (i = 0; i < n; i++)
		if (u[i] < 0x20 || u[i] == 0x7f ||
		    (u[i] == 0xc2 && i + 1 < n && u[i + 1] < 0xa0) ||
		    (u[i] == 0xe2 && i + 2 < n && u[i + 1] == 0x80 &&
		        (u[i + 2] == 0xa8 || u[i + 2] == 0xa9)))
			fuzz_fail("JSON raw control", s, n);
	j = cJSON_ParseWithLength(s, n);
	if (!cJSON_IsObject(j))
		fuzz_fail("JSON does not parse", s, n);
	cJSON_Delete(j);
}

/* A format result: 0, or ERR_TOOBIG only under a limit. */
static void
fuzz_rc(int rc, size_t max, const char *what)
{
	if (rc != 0 && !(rc == ERR_TOOBIG && max > 0)) {
		fprintf(stderr, "%s: error %d\n", what, rc);
		abort();
	}
}

static void
fuzz_formats(const struct record *r, struct buf *out, uint32_t h)
{
	static const char delims[] = "^\t#;~|!\\";
	struct cef_opts co = {.vendor = NULL};
	struct leef_opts lo = {.leef_version = 2, .delimiter = '^'};
	struct json_out_opts jo = {0};
	size_t max, k;
	int pass, rc;

	for (pass = 0; pass < 2; pass++) {
		max = pass == 0 ? 0 : 64 + h % 4096;
		co.max_len = lo.max_len = jo.max_len = max;
		if (pass == 1)
			cef_opts_prepare(&co); /* the daemon's way */
		buf_clear(out);
		rc = cef_format(out, r, &co);
		fuzz_rc(rc, max, "cef_format");
		if (rc == 0)
			fuzz_check_cef(out->data, out->len, max);
		for (k = 0; k < 3; k++) {
			lo.leef_version = k == 2 ? 1 : 2;
			lo.delimiter = k == 0 ? delims[(h >> 12) % 8] : '\t';
			lo.prefix_len = 0;
			if (pass == 1)
				leef_opts_prepare(&lo); /* the daemon's way */
			buf_clear(out);
			rc = leef_format(out, r, &lo);
			if (!leef_delimiter_ok(lo.delimiter) && k == 0) {
				if (rc != ERR_CONFIG)
					abort();
				continue;
			}
			fuzz_rc(rc, max, "leef_format");
			if (rc == 0)
				fuzz_check_leef(out->data, out->len, max,
				    lo.leef_version,
				    lo.leef_version == 1 ? '\t' : lo.delimiter);
		}
		buf_clear(out);
		rc = json_out_format(out, r, &jo);
		fuzz_rc(rc, max, "json_out_format");
		if (rc == 0)
			fuzz_check_json(out->data, out->len, max);
	}
}

static uint32_t
fuzz_hash(const uint8_t *d, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ d[i]) * 16777619u;
	return h;
}

/*
 * Parse data, hand each record (the value itself, the elements of an
 * array, or of a "value" array) to normalize, format what it accepts.
 */
/*
 * Where the evidence of each record of the input lies, found as the
 * OData source finds it (jsonscan_skip_find() over the first "value"
 * array, or over a top-level array): ev[i] for record i, p NULL when
 * none.  The JSON output copies such text when it may, so each record
 * is also formatted with it.  Returns how many records were scanned.
 */
static size_t
fuzz_evidence_texts(const char *p, size_t n, struct strv *ev, size_t max)
{
	struct jsonscan top, arr;
	const char *end = p + n, *key, *v, *vend;
	size_t keylen, i = 0;
	int rc, found = 0;

	p = jsonscan_ws(p, end);
	if (jsonscan_open(&top, p, end, 0) != 0)
		return 0;
	if (top.close == ']')
		arr = top;
	else {
		while ((rc = jsonscan_next(&top, &key, &keylen)) == 1) {
			if (jsonscan_key_is(key, keylen, "value") == 1) {
				found = 1;
				break;
			}
			if (jsonscan_skip(&top) != 0)
				return 0;
		}
		if (!found || jsonscan_open(&arr, top.p, end, 1) != 0)
			return 0;
	}
	while (i < max && jsonscan_next(&arr, &key, &keylen) == 1) {
		if (jsonscan_skip_find(&arr, RECORD_EVIDENCE_KEY, &v, &vend) != 0)
			return 0;
		ev[i].p = v;
		ev[i++].n = v != NULL ? (size_t)(vend - v) : 0;
	}
	return i;
}

static int
fuzz_run(const uint8_t *data, size_t size, fuzz_normalize_fn normalize)
{
	struct record r;
	struct buf out;
	const cJSON *items, *it;
	const char *why;
	cJSON *doc;
	struct strv ev[FUZZ_MAX_ITEMS];
	uint32_t h = fuzz_hash(data, size);
	size_t nev = 0;
	int n = 0;

	doc = cJSON_ParseWithLength((const char *)data, size);
	if (doc == NULL)
		return 0;
	items = cJSON_GetObjectItemCaseSensitive(doc, "value");
	if (!cJSON_IsArray(items))
		items = doc;
	record_init(&r);
	buf_init(&out, 0);
	if (cJSON_IsArray(items)) {
		nev = fuzz_evidence_texts(
		    (const char *)data, size, ev, FUZZ_MAX_ITEMS);
		cJSON_ArrayForEach(it, items)
		{
			if (n++ == FUZZ_MAX_ITEMS)
				break;
			if (normalize(&r, it, &why) != 0)
				continue;
			fuzz_formats(&r, &out, h + (uint32_t)n);
			if (r.evidence != NULL && (size_t)n <= nev &&
			    ev[n - 1].p != NULL && ev[n - 1].p[0] == '[') {
				r.evidence_text = ev[n - 1];
				fuzz_formats(&r, &out, h + (uint32_t)n);
			}
		}
	} else if (normalize(&r, items, &why) == 0)
		fuzz_formats(&r, &out, h);
	buf_reset(&out);
	record_reset(&r);
	cJSON_Delete(doc);
	return 0;
}

#endif
