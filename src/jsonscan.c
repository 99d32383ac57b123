/* SPDX-License-Identifier: MIT */
/*
 * Tree-less JSON reader (include/jsonscan.h).  Each rule below follows
 * the matching function of cJSON 1.7's cJSON.c (parse_value,
 * parse_string, utf16_literal_to_utf8, parse_number, parse_array,
 * parse_object, buffer_skip_whitespace) as built in Debian's libcjson1,
 * so that what passes here parses there; tests/unit/test_jsonscan.c
 * holds the two side by side, on the library the daemon links.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "jsonfix.h"
#include "jsonscan.h"

enum { SCAN_FIRST, SCAN_MORE, SCAN_DONE };

const char *
jsonscan_ws(const char *p, const char *end)
{
	while (p < end && (unsigned char)*p <= 0x20)
		p++;
	return p;
}

/* cJSON reads an invalid hex digit as making the whole escape 0. */
static unsigned
hex4(const char *p)
{
	long v = jsonfix_hex4(p);

	return v < 0 ? 0 : (unsigned)v;
}

/* Length of the \u escape (one or a surrogate pair) at in, or 0. */
static size_t
utf16_len(const char *in, const char *q)
{
	unsigned first, second;

	if (q - in < 6)
		return 0;
	first = hex4(in + 2);
	if (first >= 0xDC00 && first <= 0xDFFF)
		return 0;
	if (first < 0xD800 || first > 0xDBFF)
		return 6;
	if (q - (in + 6) < 6 || in[6] != '\\' || in[7] != 'u')
		return 0;
	second = hex4(in + 8);
	return second >= 0xDC00 && second <= 0xDFFF ? 12 : 0;
}

/*
 * Are the escapes of the string body in[0..q) ones cJSON decodes?  Like
 * cJSON, this steps over a \u escape whole, so a backslash it swallows
 * escapes nothing, and one left just before q escapes the closing quote.
 */
static int
escapes_ok(const char *in, const char *q)
{
	size_t n;

	while (in < q && (in = memchr(in, '\\', (size_t)(q - in))) != NULL) {
		switch (in[1]) {
		case 'b':
		case 'f':
		case 'n':
		case 'r':
		case 't':
		case '"':
		case '\\':
		case '/':
			in += 2;
			break;
		case 'u':
			if ((n = utf16_len(in, q)) == 0)
				return 0;
			in += n;
			break;
		default:
			return 0;
		}
	}
	return 1;
}

/* Where the first '"' or '\\' in [s, end) is, or end. */
static const char *
quote_or_backslash(const char *s, const char *end)
{
#if defined(__SSE2__)
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');

	for (; end - s >= 16; s += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(
		    _mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)));

		if (m != 0)
			return s + __builtin_ctz(m);
	}
#endif
	while (s < end && *s != '"' && *s != '\\')
		s++;
	return s;
}

/*
 * Past the closing quote of the string at p, or NULL.  The closing quote
 * is the first '"' not right after a backslash; escapes are then checked
 * on their own, as cJSON does.  One pass looks for both bytes at once, 16
 * at a time: most strings here are short, and two searches of their own
 * cost more than the bytes.
 */
static const char *
string_end(const char *p, const char *end)
{
	const char *s = p + 1;
	int escaped = 0;

	for (;;) {
		s = quote_or_backslash(s, end);
		if (s == end)
			return NULL;
		if (*s == '"')
			break;
		if (end - s < 2)
			return NULL;
		escaped = 1;
		s += 2;
	}
	if (escaped && !escapes_ok(p + 1, s))
		return NULL;
	return s + 1;
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * cJSON hands the run of characters a number may hold to strtod() and
 * ends the number where strtod() stops: the longest prefix that reads as
 * a decimal number, with '.' as its point.
 */
static const char *
number_end(const char *p, const char *end)
{
	const char *e;
	size_t digits = 0;

	if (*p == '-')
		p++;
	for (; p < end && is_digit(*p); p++)
		digits++;
	if (p < end && *p == '.')
		for (p++; p < end && is_digit(*p); p++)
			digits++;
	if (digits == 0)
		return NULL;
	if (p < end && (*p == 'e' || *p == 'E')) {
		e = p + 1;
		if (e < end && (*e == '+' || *e == '-'))
			e++;
		if (e < end && is_digit(*e)) {
			while (e < end && is_digit(*e))
				e++;
			p = e;
		}
	}
	return p;
}

static const char *
literal_end(const char *p, const char *end, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(end - p) < n || memcmp(p, word, n) != 0)
		return NULL;
	return p + n;
}

const char *
jsonscan_value(const char *p, const char *end, int depth)
{
	struct jsonscan js;
	const char *key;
	size_t keylen;
	int rc;

	if (p >= end)
		return NULL;
	switch (*p) {
	case 'n':
		return literal_end(p, end, "null");
	case 'f':
		return literal_end(p, end, "false");
	case 't':
		return literal_end(p, end, "true");
	case '"':
		return string_end(p, end);
	case '[':
	case '{':
		if (jsonscan_open(&js, p, end, depth) != 0)
			return NULL;
		while ((rc = jsonscan_next(&js, &key, &keylen)) == 1)
			if (jsonscan_skip(&js) != 0)
				return NULL;
		return rc == 0 ? js.p : NULL;
	default:
		if (*p == '-' || is_digit(*p))
			return number_end(p, end);
		return NULL;
	}
}

int
jsonscan_open(struct jsonscan *js, const char *p, const char *end, int depth)
{
	if (p >= end || (*p != '[' && *p != '{') ||
	    depth >= CJSON_NESTING_LIMIT)
		return -1;
	js->p = p + 1;
	js->end = end;
	js->depth = depth;
	js->state = SCAN_FIRST;
	js->close = *p == '[' ? ']' : '}';
	return 0;
}

int
jsonscan_next(struct jsonscan *js, const char **key, size_t *keylen)
{
	const char *p, *k;

	if (js->state == SCAN_DONE)
		return 0;
	p = jsonscan_ws(js->p, js->end);
	if (p < js->end && *p == js->close) {
		js->p = p + 1;
		js->state = SCAN_DONE;
		return 0;
	}
	if (js->state == SCAN_MORE) {
		if (p >= js->end || *p != ',')
			return -1;
		p = jsonscan_ws(p + 1, js->end);
	}
	js->state = SCAN_MORE;
	if (js->close == '}') {
		if (p >= js->end || *p != '"' ||
		    (k = string_end(p, js->end)) == NULL)
			return -1;
		*key = p + 1;
		*keylen = (size_t)(k - p - 2);
		p = jsonscan_ws(k, js->end);
		if (p >= js->end || *p != ':')
			return -1;
		p = jsonscan_ws(p + 1, js->end);
	}
	js->p = p;
	return 1;
}

int
jsonscan_skip(struct jsonscan *js)
{
	const char *e = jsonscan_value(js->p, js->end, js->depth + 1);

	if (e == NULL)
		return -1;
	js->p = e;
	return 0;
}

int
jsonscan_key_is(const char *k, size_t n, const char *name)
{
	cJSON *s;
	int eq;

	if (memchr(k, '\\', n) == NULL && memchr(k, '\0', n) == NULL)
		return strlen(name) == n && memcmp(k, name, n) == 0;
	/* Escapes or a NUL: let cJSON decode the name, quotes included
	 * (it was checked, so only memory can fail). */
	if ((s = cJSON_ParseWithLength(k - 1, n + 2)) == NULL)
		return -1;
	eq = cJSON_IsString(s) && strcmp(s->valuestring, name) == 0;
	cJSON_Delete(s);
	return eq;
}

/*
 * jsonscan_key_is(k, n, name) for a member name being looked for among
 * many: escapes only lengthen a name, and its first byte is name's or
 * begins an escape, so most names are told apart without a call.
 */
static int
key_is_quick(const char *k, size_t n, const char *name, size_t len)
{
	if (n < len || (k[0] != name[0] && k[0] != '\\'))
		return 0;
	if (n == len)
		return memcmp(k, name, len) == 0;
	return jsonscan_key_is(k, n, name);
}

int
jsonscan_skip_find(
    struct jsonscan *js, const char *name, const char **v, const char **vend)
{
	struct jsonscan obj;
	const char *key;
	size_t keylen, len = strlen(name);
	int rc, is;

	*v = *vend = NULL;
	if (js->p >= js->end || *js->p != '{')
		return jsonscan_skip(js);
	/* what jsonscan_value() does for an object, one level down */
	if (jsonscan_open(&obj, js->p, js->end, js->depth + 1) != 0)
		return -1;
	while ((rc = jsonscan_next(&obj, &key, &keylen)) == 1) {
		is = *v == NULL ? key_is_quick(key, keylen, name, len) : 0;
		if (is < 0)
			return JSONSCAN_NOMEM;
		if (is)
			*v = obj.p;
		if (jsonscan_skip(&obj) != 0)
			return -1;
		if (is)
			*vend = obj.p;
	}
	if (rc != 0)
		return -1;
	js->p = obj.p;
	return 0;
}
