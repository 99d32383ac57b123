/* SPDX-License-Identifier: MIT */
/*
 * The tree-less JSON reader (src/jsonscan.c) against cJSON itself: the
 * OData source relies on jsonscan accepting exactly the pages cJSON
 * parses, and on every value it delimits parsing on its own.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "jsonscan.h"

/* 1 when jsonscan and cJSON agree on text[0..n): same verdict, same end. */
static int
agrees(const char *text, size_t n)
{
	const char *want_end = NULL, *got;
	cJSON *root;

	root = cJSON_ParseWithLengthOpts(text, n, &want_end, 0);
	got = jsonscan_value(jsonscan_ws(text, text + n), text + n, 0);
	cJSON_Delete(root);
	if (root == NULL)
		return got == NULL;
	return got == want_end;
}

static int
agrees_str(const char *text)
{
	return agrees(text, strlen(text));
}

static void
test_table(void)
{
	/* clang-format off */
	static const char *const texts[] = {
	    "null", "true", "false", "nul", "tru", "nullx", "True",
	    "0", "-0", "12", "01", "-", "1.", ".5", "-.5", "+1", "1e5",
	    "1E+5", "1e", "1e+", "1.2.3", "0x10", "1-2", "--1", "1e5e5",
	    "\"\"", "\"a\"", "\"a", "\"\\\"\"", "\"\\\\\"", "\"\\/\"",
	    "\"\\b\\f\\n\\r\\t\"", "\"\\x\"", "\"\\u00e9\"", "\"\\u12\"",
	    "\"\\uZZZZ\"", "\"\\ud83d\\ude00\"", "\"\\ud83d\"",
	    "\"\\ud83dx\\ude00\"", "\"\\ude00\"", "\"\\ud83d\\u0041\"",
	    "\"a\\\"", "\"\\", "\"\x01\x1f\"", "\"\\u00\"",
	    "[]", "[ ]", "[1]", "[1,2]", "[1,]", "[,1]", "[1 2]", "[",
	    "[1", "[1,", "]", "[[[]]]", "[\"a\",{\"b\":[null]}]",
	    "{}", "{ }", "{\"a\":1}", "{\"a\" : 1 , \"b\":[]}",
	    "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "{\"a\":}", "{\"a\"}",
	    "{1:2}", "{\"a\":1", "{\"a\\u0000b\":1}", "{\"\\q\":1}",
	    "[\x01" "1\x02,\x03" "2\x20]", "[1\n,\t2\r]",
	    "[1.5e3,-0.25,1e400,-1e-400]",
	};
	/* clang-format on */
	char big[200];
	size_t i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		int ok = agrees_str(texts[i]);

		CHECK(ok);
		if (!ok)
			fprintf(stderr, "  disagree on [%s]\n", texts[i]);
	}
	/* A NUL byte is whitespace to cJSON. */
	CHECK(agrees("[1,\0 2]", 7));
	CHECK(jsonscan_value("[1,\0 2]", "[1,\0 2]" + 7, 0) != NULL);
	/* Long numbers (cJSON 1.7.15 read only 63 characters of one). */
	memset(big, '1', sizeof(big));
	big[0] = '[';
	big[150] = ']';
	CHECK(agrees(big, 151));
	CHECK(agrees(big + 1, 63) && agrees(big + 1, 64));
}

/* Nesting: cJSON's limit, counted from the top. */
static void
test_depth(void)
{
	size_t n = 2 * CJSON_NESTING_LIMIT + 2, i;
	char *t = malloc(n);

	if (t == NULL) {
		CHECK(0);
		return;
	}
	for (i = 0; i < n / 2; i++) {
		t[i] = '[';
		t[n - 1 - i] = ']';
	}
	CHECK(agrees(t, n));
	CHECK(jsonscan_value(t, t + n, 0) == NULL);
	CHECK(agrees(t + 1, n - 2));
	CHECK(jsonscan_value(t + 1, t + n - 1, 0) == t + n - 1);
	CHECK(jsonscan_value(t + 1, t + n - 1, 1) == NULL);
	free(t);
}

/* Random texts over JSON's punctuation: any disagreement is a bug. */
static void
test_random(void)
{
	static const char alphabet[] = "[]{}\",:\\u0123dDcCeE+-. \x01ntrfals9";
	char t[24];
	unsigned long seed = 12345;
	int i, bad = 0;
	size_t j, n;

	for (i = 0; i < 300000; i++) {
		seed = seed * 6364136223846793005UL + 1442695040888963407UL;
		n = 1 + (seed >> 33) % sizeof(t);
		for (j = 0; j < n; j++) {
			seed = seed * 6364136223846793005UL +
			    1442695040888963407UL;
			t[j] = alphabet[(seed >> 33) % (sizeof(alphabet) - 1)];
		}
		if (!agrees(t, n) && bad++ < 5)
			fprintf(stderr, "  disagree on [%.*s]\n", (int)n, t);
	}
	CHECK(bad == 0);
}

static void
test_members(void)
{
	const char *t = "{\"a\":1, \"value\" :[{\"id\":\"x\"}, 2] ,"
	                "\"valu\\u0065\":null}trailing";
	const char *end = t + strlen(t), *key, *v;
	struct jsonscan js, arr;
	size_t keylen;

	CHECK(jsonscan_open(&js, t, end, 0) == 0);
	CHECK(jsonscan_next(&js, &key, &keylen) == 1);
	CHECK(keylen == 1 && key[0] == 'a' && *js.p == '1');
	CHECK(jsonscan_skip(&js) == 0);
	CHECK(jsonscan_next(&js, &key, &keylen) == 1);
	CHECK(jsonscan_key_is(key, keylen, "value"));
	CHECK(!jsonscan_key_is(key, keylen, "valu"));
	CHECK(jsonscan_open(&arr, js.p, end, js.depth + 1) == 0);
	CHECK(jsonscan_next(&arr, &key, &keylen) == 1);
	v = arr.p;
	CHECK(jsonscan_skip(&arr) == 0);
	CHECK(arr.p - v == 10 && strncmp(v, "{\"id\":\"x\"}", 10) == 0);
	CHECK(jsonscan_next(&arr, &key, &keylen) == 1 && *arr.p == '2');
	CHECK(jsonscan_skip(&arr) == 0);
	CHECK(jsonscan_next(&arr, &key, &keylen) == 0);
	js.p = arr.p;
	CHECK(jsonscan_next(&js, &key, &keylen) == 1);
	CHECK(jsonscan_key_is(key, keylen, "value"));
	CHECK(jsonscan_skip(&js) == 0);
	CHECK(jsonscan_next(&js, &key, &keylen) == 0);
	CHECK(strcmp(js.p, "trailing") == 0);
	CHECK(jsonscan_next(&js, &key, &keylen) == 0);

	/* An escaped NUL ends a name, as in cJSON's key lookups. */
	t = "{\"id\\u0000x\":1}";
	CHECK(jsonscan_open(&js, t, t + strlen(t), 0) == 0);
	CHECK(jsonscan_next(&js, &key, &keylen) == 1);
	CHECK(jsonscan_key_is(key, keylen, "id"));

	t = "{\"a\":1 \"b\":2}";
	CHECK(jsonscan_open(&js, t, t + strlen(t), 0) == 0);
	CHECK(jsonscan_next(&js, &key, &keylen) == 1);
	CHECK(jsonscan_skip(&js) == 0);
	CHECK(jsonscan_next(&js, &key, &keylen) == -1);
	CHECK(jsonscan_open(&js, "1", "1" + 1, 0) == -1);
}

/*
 * Long strings full of escapes, as a file path of a hostile alert can be:
 * the same verdict as cJSON (and, since each byte is looked at a bounded
 * number of times, no slower than cJSON by more than a constant).
 */
static void
test_long_strings(void)
{
	static const char *const units[] = {
	    "\\\\", "C:\\\\Windows\\\\", "\\\"", "\\u00e9", "a"};
	size_t n = 1 << 20, i, u, k;
	char *t;

	if ((t = malloc(n + 16)) == NULL) {
		CHECK(0);
		return;
	}
	for (u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		k = strlen(units[u]);
		t[0] = '"';
		for (i = 1; i + k < n; i += k)
			memcpy(t + i, units[u], k);
		t[i++] = '"';
		CHECK(agrees(t, i));
		CHECK(jsonscan_value(t, t + i, 0) == t + i);
		/* without the closing quote: malformed for both */
		CHECK(agrees(t, i - 1));
	}
	free(t);
}

/*
 * Strings of every length up to past a few 16-byte steps, with an escape
 * (\\", \\\\, \\n, a lone trailing backslash) at every place, and the text
 * cut short at every length: the search for the closing quote, 16 bytes
 * at a time, agrees with cJSON wherever the bytes fall.
 */
static void
test_string_positions(void)
{
	static const char *const esc[] = {"\\\"", "\\\\", "\\n", "\\"};
	char t[80];
	size_t len, at, e, cut, k;
	int bad = 0;

	for (len = 0; len <= 70; len++)
		for (e = 0; e < 4; e++)
			for (at = 0; at <= len; at++) {
				k = strlen(esc[e]);
				if (1 + len + k + 1 > sizeof(t))
					continue;
				t[0] = '"';
				memset(t + 1, 'x', len);
				memcpy(t + 1 + at, esc[e], k);
				memset(t + 1 + at + k, 'y', len - at);
				t[1 + len + k] = '"';
				for (cut = 1; cut <= 1 + len + k + 1; cut++)
					if (!agrees(t, cut) && bad++ < 5)
						fprintf(stderr,
						    "  disagree on [%.*s]\n",
						    (int)cut, t);
			}
	CHECK(bad == 0);
}

/*
 * jsonscan_skip_find() on element text[0..n) of an array: the span it
 * gives parses to what cJSON_GetObjectItemCaseSensitive() finds (both
 * none, or equal), and it ends where jsonscan_skip() ends.
 */
static int
finds_as_cjson(const char *text, const char *name)
{
	const char *end = text + strlen(text), *v, *vend, *key;
	struct jsonscan a, b;
	cJSON *root, *want, *got;
	size_t keylen;
	int ok;

	if ((root = cJSON_Parse(text)) == NULL)
		return 0;
	want =
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(root, 0), name);
	if (jsonscan_open(&a, text, end, 0) != 0 ||
	    jsonscan_next(&a, &key, &keylen) != 1 ||
	    jsonscan_open(&b, text, end, 0) != 0 ||
	    jsonscan_next(&b, &key, &keylen) != 1 ||
	    jsonscan_skip_find(&a, name, &v, &vend) != 0 ||
	    jsonscan_skip(&b) != 0 || a.p != b.p) {
		cJSON_Delete(root);
		return 0;
	}
	if (want == NULL || v == NULL)
		ok = want == NULL && v == NULL && vend == NULL;
	else {
		got = cJSON_ParseWithLength(v, (size_t)(vend - v));
		ok = got != NULL && cJSON_Compare(got, want, 1) &&
		    vend <= end && jsonscan_value(v, end, 2) == vend;
		cJSON_Delete(got);
	}
	cJSON_Delete(root);
	return ok;
}

static void
test_skip_find(void)
{
	static const char *const texts[] = {
	    "[{\"evidence\":[1]}]",
	    "[{\"id\":\"x\",\"evidence\":[{\"a\":\"b\"},2] , \"z\":0}]",
	    "[ { \"evidence\" : [ ] } ]",
	    "[{\"evid\\u0065nce\":[3],\"evidence\":[4]}]", /* escaped: first */
	    "[{\"\\u0065vidence\":[5]}]",
	    "[{\"evidence\\u0000x\":[6]}]", /* a NUL ends the name */
	    "[{\"evidence\":[7],\"evidence\":[8]}]", /* the first of two */
	    "[{\"evidencex\":[9],\"Evidence\":[10],\"eviden\":[11]}]",
	    "[{\"a\":{\"evidence\":[12]},\"b\":[{\"evidence\":[13]}]}]",
	    "[{\"evidence\":{\"o\":1}}]",
	    "[{\"evidence\":\"s\"}]",
	    "[{\"evidence\":null}]",
	    "[{}]",
	    "[[{\"evidence\":[1]}]]",
	    "[\"evidence\"]",
	    "[1]",
	};
	static const char *const bad[] = {
	    "[{\"evidence\":[1}]",
	    "[{\"evidence\"[1]}]",
	    "[{\"evidence\":[1],}]",
	    "[{\"evidence\":[1]",
	    "[{\"a\":1 \"evidence\":[1]}]",
	    "[{",
	};
	const char *v, *vend, *key;
	struct jsonscan js;
	size_t i, keylen;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		CHECK(finds_as_cjson(texts[i], "evidence"));
		if (!finds_as_cjson(texts[i], "evidence"))
			fprintf(stderr, "skip_find: %s\n", texts[i]);
	}
	CHECK(finds_as_cjson(texts[1], "id") && finds_as_cjson(texts[1], "z"));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(jsonscan_open(&js, bad[i], bad[i] + strlen(bad[i]), 0) ==
		    0);
		CHECK(jsonscan_next(&js, &key, &keylen) == 1);
		CHECK(jsonscan_skip_find(&js, "evidence", &v, &vend) == -1);
	}
}

int
main(void)
{
	test_table();
	test_depth();
	test_random();
	test_members();
	test_long_strings();
	test_string_positions();
	test_skip_find();
	return check_done();
}
