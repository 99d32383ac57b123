/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for text.c: UTF-8 validation and U+FFFD replacement for each
 * class of ill-formed input, prefixes on character boundaries, trimming,
 * and the one-pass escaper the formatters build on.
 */
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "check.h"
#include "errcode.h"
#include "text.h"

#define R "\xEF\xBF\xBD" /* U+FFFD in UTF-8 */

/* A small scheme: '"' escaped, TAB a blank, LF escaped, NUL dropped. */
static const struct text_esc test_esc = {{
                                             ['"'] = "\\\"",
                                             ['\t'] = " ",
                                             ['\n'] = "\\n",
                                             [0x01] = " ",
                                         },
    0, "\""};

static const struct text_esc none_esc = {{NULL}, 0, ""};

/* Escape s (n bytes) with limits; returns the output as a C string. */
static const char *
esc(struct buf *b, const char *s, size_t n, size_t chars, size_t bytes,
    unsigned flags)
{
	size_t added = 12345;

	buf_clear(b);
	if (text_escape(b, s, n, &test_esc, chars, bytes, flags, &added) != 0)
		return "(error)";
	if (added != b->len)
		return "(bad added)";
	return buf_str(b);
}

/* Replacement only: what a value becomes with no escaping at all. */
static const char *
fix(struct buf *b, const char *s, size_t n)
{
	buf_clear(b);
	if (text_escape(
	        b, s, n, &none_esc, TEXT_NOLIMIT, TEXT_NOLIMIT, 0, NULL) != 0)
		return "(error)";
	return buf_str(b);
}

#define FIX(b, lit) fix(b, lit, sizeof(lit) - 1)

static void
test_seq(void)
{
	CHECK(text_utf8_seq("A", 1) == 1);
	CHECK(text_utf8_seq("\xC3\xA9", 2) == 2);
	CHECK(text_utf8_seq("\xE2\x82\xAC", 3) == 3);
	CHECK(text_utf8_seq("\xF0\x9F\x98\x80", 4) == 4);
	CHECK(text_utf8_seq("\xF4\x8F\xBF\xBF", 4) == 4); /* U+10FFFF */
	CHECK(text_utf8_seq("\xED\x9F\xBF", 3) == 3); /* U+D7FF */
	CHECK(text_utf8_seq("\xEE\x80\x80", 3) == 3); /* U+E000 */
	CHECK(text_utf8_seq("\x80", 1) == -1); /* stray continuation */
	CHECK(text_utf8_seq("\xC0\x80", 2) == -1); /* overlong NUL */
	CHECK(text_utf8_seq("\xC1\xBF", 2) == -1); /* overlong */
	CHECK(text_utf8_seq("\xE0\x80\x80", 3) == -1); /* overlong */
	CHECK(text_utf8_seq("\xF0\x80\x80\x80", 4) == -1);
	CHECK(text_utf8_seq("\xED\xA0\x80", 3) == -1); /* surrogate */
	CHECK(text_utf8_seq("\xF4\x90\x80\x80", 4) == -1); /* > U+10FFFF */
	CHECK(text_utf8_seq("\xF5\x80\x80\x80", 4) == -1);
	CHECK(text_utf8_seq("\xFF", 1) == -1);
	CHECK(text_utf8_seq("\xE2\x82", 2) == -2); /* truncated */
	CHECK(text_utf8_seq("\xE2\x82\x41", 3) == -2);
	CHECK(text_utf8_seq("\xF0\x9F\x98", 3) == -3);
	CHECK(text_utf8_seq("\xC3", 1) == -1);
}

/* API text in log lines: controls escaped, UTF-8 kept, never split. */
static void
test_log_safe(void)
{
	char out[64];

	CHECK_STR(
	    text_log_safe(out, sizeof(out), "plain id-42"), "plain id-42");
	CHECK_STR(text_log_safe(out, sizeof(out), "a\nb\r\x1b[31m\x7f\t"),
	    "a\\x0ab\\x0d\\x1b[31m\\x7f\\x09");
	/* UTF-8 kept; C1 controls (a CSI) and ill-formed bytes escaped */
	CHECK_STR(text_log_safe(out, sizeof(out),
	              "caf\xc3\xa9 \xc2\x9b"
	              "2J \xff"),
	    "caf\xc3\xa9 \\u009b2J \\xff");
	/* cut whole: no half escape, no half character */
	CHECK_STR(text_log_safe(out, 7, "ab\ncd"), "ab\\x0a");
	CHECK_STR(text_log_safe(out, 6, "ab\ncd"), "ab");
	CHECK_STR(text_log_safe(out, 4,
	              "a\xc3\xa9"
	              "b"),
	    "a\xc3\xa9");
	CHECK_STR(text_log_safe(out, 3,
	              "a\xc3\xa9"
	              "b"),
	    "a");
	CHECK_STR(text_log_safe(out, 1, "abc"), "");
}

static void
test_decode(void)
{
	uint32_t cp = 0;

	CHECK(text_utf8_decode("A", 1, &cp) == 1 && cp == 'A');
	CHECK(text_utf8_decode("\xC3\xA9", 2, &cp) == 2 && cp == 0xE9);
	CHECK(text_utf8_decode("\xE2\x82\xAC", 3, &cp) == 3 && cp == 0x20AC);
	CHECK(
	    text_utf8_decode("\xF0\x9F\x98\x80", 4, &cp) == 4 && cp == 0x1F600);
	CHECK(text_utf8_decode("\xED\xA0\x80", 3, &cp) == 1 &&
	    cp == TEXT_REPLACEMENT);
	CHECK(text_utf8_decode("\xE2\x82", 2, &cp) == 2 &&
	    cp == TEXT_REPLACEMENT);
	CHECK(text_utf8_valid("h\xC3\xA9llo \xF0\x9F\x98\x80", 11));
	CHECK(text_utf8_valid("", 0));
	CHECK(!text_utf8_valid("a\xED\xA0\x80", 4));
	CHECK(!text_utf8_valid("a\xC3", 2));
}

static void
test_replace(struct buf *b)
{
	/* each maximal ill-formed subsequence is one U+FFFD */
	CHECK_STR(FIX(b, "ok \xC3\xA9\xE2\x82\xAC"), "ok \xC3\xA9\xE2\x82\xAC");
	CHECK_STR(FIX(b, "a\x80z"), "a" R "z");
	CHECK_STR(FIX(b, "a\xC0\x80z"), "a" R R "z");
	CHECK_STR(FIX(b, "a\xE0\x80\xAFz"), "a" R R R "z");
	CHECK_STR(FIX(b, "a\xF0\x80\x80\x80z"), "a" R R R R "z");
	CHECK_STR(FIX(b, "a\xED\xA0\x80z"), "a" R R R "z");
	CHECK_STR(FIX(b, "\xED\xB0\x80"), R R R);
	CHECK_STR(FIX(b, "a\xF4\x90\x80\x80z"), "a" R R R R "z");
	CHECK_STR(FIX(b, "a\xF8\x88\x80\x80\x80z"), "a" R R R R R "z");
	CHECK_STR(FIX(b, "a\xFE\xFFz"), "a" R R "z");
	CHECK_STR(FIX(b, "a\xE2\x82"), "a" R);
	CHECK_STR(FIX(b, "a\xE2\x82z"), "a" R "z");
	CHECK_STR(FIX(b, "a\xF0\x9F\x98"), "a" R);
	CHECK_STR(FIX(b, "\xC3"), R);
	CHECK_STR(FIX(b, "\xEF\xBF\xBD"), R); /* a real U+FFFD stays */
	CHECK(text_utf8_valid(buf_str(b), b->len));
}

static void
test_prefix(void)
{
	const char *s = "h\xC3\xA9\xF0\x9F\x98\x80!"; /* h é 😀 ! */
	size_t n = strlen(s);

	CHECK(text_chars(s, n) == 4);
	CHECK(text_chars("a\xED\xA0\x80", 4) == 4);
	CHECK(text_chars("a\xE2\x82", 3) == 2);
	CHECK(text_prefix_chars(s, n, 0) == 0);
	CHECK(text_prefix_chars(s, n, 1) == 1);
	CHECK(text_prefix_chars(s, n, 2) == 3);
	CHECK(text_prefix_chars(s, n, 3) == 7);
	CHECK(text_prefix_chars(s, n, 4) == 8);
	CHECK(text_prefix_chars(s, n, 100) == 8);
	CHECK(text_prefix_chars(s, n, TEXT_NOLIMIT) == 8);
	CHECK(text_prefix_bytes(s, n, 0) == 0);
	CHECK(text_prefix_bytes(s, n, 2) == 1);
	CHECK(text_prefix_bytes(s, n, 3) == 3);
	CHECK(text_prefix_bytes(s, n, 6) == 3);
	CHECK(text_prefix_bytes(s, n, 7) == 7);
	CHECK(text_prefix_bytes(s, n, 8) == 8);
	CHECK(text_prefix_bytes(s, n, 99) == 8);
	/* a truncated sequence is one unit and never split */
	CHECK(text_prefix_bytes("a\xE2\x82", 3, 2) == 1);
	CHECK(text_prefix_bytes("a\xE2\x82", 3, 3) == 3);
}

static void
test_trim(void)
{
	const char *s = "  a b  ";
	size_t n = strlen(s);

	text_trim(&s, &n);
	CHECK(n == 3 && memcmp(s, "a b", 3) == 0);
	s = "\t x\t";
	n = strlen(s);
	text_trim(&s, &n);
	CHECK(n == 4); /* plain trim removes spaces only */
	text_trim_esc(&s, &n, &test_esc);
	CHECK(n == 1 && s[0] == 'x');
	s = "   ";
	n = 3;
	text_trim(&s, &n);
	CHECK(n == 0);
	s = "\n x \n";
	n = strlen(s);
	text_trim_esc(&s, &n, &test_esc);
	CHECK(n == 5); /* LF is escaped, not a blank */
}

static void
test_escape(struct buf *b)
{
	const char *emoji = "\xF0\x9F\x98\x80";

	CHECK_STR(esc(b, "say \"hi\"\n", 9, TEXT_NOLIMIT, TEXT_NOLIMIT, 0),
	    "say \\\"hi\\\"\\n");
	CHECK_STR(esc(b, "a\tb\x01", 4, TEXT_NOLIMIT, TEXT_NOLIMIT, 0), "a b ");
	CHECK_STR(
	    esc(b, " \t x\t ", 6, TEXT_NOLIMIT, TEXT_NOLIMIT, TEXT_TRIM), "x");
	CHECK_STR(
	    esc(b, " \t\x01 ", 4, TEXT_NOLIMIT, TEXT_NOLIMIT, TEXT_TRIM), "");
	CHECK_STR(esc(b, "", 0, TEXT_NOLIMIT, TEXT_NOLIMIT, TEXT_TRIM), "");
	/* character limits count characters of the trimmed input */
	CHECK_STR(esc(b, "  h\xC3\xA9llo", 8, 2, TEXT_NOLIMIT, TEXT_TRIM),
	    "h\xC3\xA9");
	CHECK_STR(
	    esc(b, "\xF0\x9F\x98\x80\xF0\x9F\x98\x81x", 9, 1, TEXT_NOLIMIT, 0),
	    emoji);
	CHECK_STR(esc(b, "\"\"\"", 3, 2, TEXT_NOLIMIT, 0), "\\\"\\\"");
	CHECK_STR(esc(b, "a\xED\xA0\x80z", 5, 3, TEXT_NOLIMIT, 0), "a" R R);
	/* byte limits never split a character or an escape */
	CHECK_STR(esc(b, "a\xF0\x9F\x98\x80", 5, TEXT_NOLIMIT, 4, 0), "a");
	CHECK_STR(esc(b, "a\xF0\x9F\x98\x80", 5, TEXT_NOLIMIT, 5, 0),
	    "a\xF0\x9F\x98\x80");
	CHECK_STR(esc(b, "ab\"", 3, TEXT_NOLIMIT, 3, 0), "ab");
	CHECK_STR(esc(b, "ab\"", 3, TEXT_NOLIMIT, 4, 0), "ab\\\"");
	CHECK_STR(esc(b, "a\x80", 2, TEXT_NOLIMIT, 3, 0), "a");
	CHECK_STR(esc(b, "a\x80", 2, TEXT_NOLIMIT, 4, 0), "a" R);
	CHECK_STR(esc(b, "abc", 3, TEXT_NOLIMIT, 0, 0), "");
	/* blanks where a limit cuts are trimmed too */
	CHECK_STR(esc(b, "ab \t cd", 7, 4, TEXT_NOLIMIT, TEXT_TRIM), "ab");
	CHECK_STR(esc(b, "ab \t cd", 7, TEXT_NOLIMIT, 4, TEXT_TRIM), "ab");
	CHECK_STR(esc(b, "ab \t cd", 7, 4, TEXT_NOLIMIT, 0), "ab  ");
	/* appending keeps what is already in the buffer */
	buf_clear(b);
	CHECK(buf_adds(b, "k=") == 0);
	CHECK(text_escape(b, "v\n", 2, &test_esc, TEXT_NOLIMIT, TEXT_NOLIMIT, 0,
	          NULL) == 0);
	CHECK_STR(buf_str(b), "k=v\\n");
}

/* TEXT_ESC_UNICODE: C1 controls and U+2028/U+2029 as \uXXXX, whole. */
static const struct text_esc uni_esc = {
    {['"'] = "\\\""}, TEXT_ESC_UNICODE, "\""};

static void
test_unicode(struct buf *b)
{
	static const char in[] = "a\xc2\x80"
	                         "b\xc2\x9f"
	                         "c\xc2\xa0"
	                         "d\xe2\x80\xa8"
	                         "e\xe2\x80\xa9"
	                         "f\xe2\x80\xaa"
	                         "\"";
	size_t added;

	buf_clear(b);
	CHECK(text_escape(b, in, sizeof(in) - 1, &uni_esc, TEXT_NOLIMIT,
	          TEXT_NOLIMIT, 0, &added) == 0);
	CHECK_STR(buf_str(b),
	    "a\\u0080b\\u009fc\xc2\xa0"
	    "d\\u2028e\\u2029f\xe2\x80\xaa\\\"");
	/* without the flag they are copied */
	CHECK_STR(FIX(b, "\xc2\x85\xe2\x80\xa8"), "\xc2\x85\xe2\x80\xa8");
	/* a byte limit never splits \u2028 */
	buf_clear(b);
	CHECK(text_escape(b, "x\xe2\x80\xa8", 4, &uni_esc, TEXT_NOLIMIT, 6, 0,
	          &added) == 0);
	CHECK_STR(buf_str(b), "x");
	buf_clear(b);
	CHECK(text_escape(b, "x\xe2\x80\xa8", 4, &uni_esc, TEXT_NOLIMIT, 7, 0,
	          &added) == 0);
	CHECK_STR(buf_str(b), "x\\u2028");
	/* and a character limit counts it as one character */
	buf_clear(b);
	CHECK(text_escape(b, "\xe2\x80\xa9yz", 5, &uni_esc, 2, TEXT_NOLIMIT, 0,
	          &added) == 0);
	CHECK_STR(buf_str(b), "\\u2029y");
}

static void
test_cap(void)
{
	struct buf b;

	/* a buffer cap error leaves the buffer as it was */
	buf_init(&b, 8);
	CHECK(buf_adds(&b, "abc") == 0);
	CHECK(text_escape(&b, "0123456789", 10, &test_esc, TEXT_NOLIMIT,
	          TEXT_NOLIMIT, 0, NULL) == ERR_TOOBIG);
	CHECK(b.len == 3);
	CHECK_STR(buf_str(&b), "abc");
	buf_reset(&b);
}

/*
 * The escaper's rules written out one character at a time, with no fast
 * path: the oracle text_escape() is compared with.
 */
static void
ref_escape(struct buf *b, const char *s, size_t n, const struct text_esc *e,
    size_t max_chars, size_t max_bytes, unsigned flags)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p;
	const char *piece;
	size_t i = 0, chars = 0, room = max_bytes, start = b->len, k, adv;
	uint32_t cp;
	char u[7];
	int seq;

	if (flags & TEXT_TRIM)
		text_trim_esc(&s, &n, e);
	p = (const unsigned char *)s;
	while (i < n && chars < max_chars) {
		seq = text_utf8_seq(s + i, n - i);
		text_utf8_decode(s + i, n - i, &cp);
		if (seq < 0) {
			piece = R;
			k = 3;
			adv = (size_t)-seq;
		} else if (seq == 1 && e->rep[p[i]] != NULL) {
			piece = e->rep[p[i]];
			k = strlen(piece);
			adv = 1;
		} else if ((e->flags & TEXT_ESC_UNICODE) &&
		    ((cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 ||
		        cp == 0x2029)) {
			u[0] = '\\';
			u[1] = 'u';
			u[2] = hex[(cp >> 12) & 0xf];
			u[3] = hex[(cp >> 8) & 0xf];
			u[4] = hex[(cp >> 4) & 0xf];
			u[5] = hex[cp & 0xf];
			piece = u;
			k = 6;
			adv = (size_t)seq;
		} else {
			piece = s + i;
			k = adv = (size_t)seq;
		}
		if (k > room)
			break;
		buf_add(b, piece, k);
		room -= k;
		chars++;
		i += adv;
	}
	if (i < n && (flags & TEXT_TRIM)) {
		k = b->len;
		while (k > start && b->data[k - 1] == ' ')
			k--;
		buf_truncate(b, k);
	}
}

static uint32_t
rnd(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x;
}

/* Four special bytes, a blank, DEL kept as it is. */
static const struct text_esc four_esc = {{
                                             ['\\'] = "\\\\",
                                             ['='] = "\\=",
                                             ['|'] = "\\|",
                                             ['^'] = " ",
                                             ['\n'] = "\\n",
                                             ['\t'] = " ",
                                         },
    0, "\\=|^"};

/*
 * Random values built from pieces that exercise every path (plain runs
 * longer and shorter than 16 bytes, specials, controls, UTF-8 of each
 * length, C1 and U+2028, every kind of ill-formed sequence), escaped with
 * random limits: the output must be the oracle's, byte for byte.
 */
static void
test_differential(void)
{
	static const char *const pieces[] = {
	    "a",
	    "b",
	    "0123456789abcdef",
	    "Zz",
	    " ",
	    "  ",
	    "\"",
	    "\\",
	    "=",
	    "|",
	    "^",
	    "\t",
	    "\n",
	    "\x01",
	    "\x02",
	    "\x1f",
	    "\x7f",
	    "\xc3\xa9",
	    "\xc2\x85",
	    "\xe2\x80\xa8",
	    "\xe2\x80\xa9",
	    "\xe6\x97\xa5",
	    "\xf0\x9f\x98\x80",
	    "\xff",
	    "\xc3",
	    "\xed\xa0\x80",
	    "\xe2\x80",
	    "\xf4\x90\x80\x80",
	    "\xc0\xaf",
	    "\x80",
	    "C:\\Users\\alice\\Downloads",
	    "https://x.example/a=b?c|d",
	};
	static const struct text_esc *const schemes[] = {
	    &test_esc, &uni_esc, &none_esc, &four_esc};
	struct buf in, got, want;
	uint32_t st = 0x9e3779b9u;
	size_t si, iter, np, j, mc, mb, bad;
	unsigned flags;
	int rc;

	buf_init(&in, 0);
	buf_init(&got, 0);
	buf_init(&want, 0);
	for (si = 0; si < sizeof(schemes) / sizeof(schemes[0]); si++) {
		CHECK(text_esc_complete(schemes[si]));
		bad = 0;
		for (iter = 0; iter < 20000; iter++) {
			buf_clear(&in);
			np = rnd(&st) % 24;
			for (j = 0; j < np; j++)
				buf_adds(&in,
				    pieces[rnd(&st) %
				        (sizeof(pieces) / sizeof(pieces[0]))]);
			mc = rnd(&st) % 3 == 0 ? rnd(&st) % 40 : TEXT_NOLIMIT;
			mb = rnd(&st) % 3 == 0 ? rnd(&st) % 90 : TEXT_NOLIMIT;
			flags = rnd(&st) % 2 ? TEXT_TRIM : 0;
			buf_clear(&got);
			buf_clear(&want);
			rc = text_escape(&got, in.data, in.len, schemes[si], mc,
			    mb, flags, NULL);
			ref_escape(
			    &want, in.data, in.len, schemes[si], mc, mb, flags);
			if (rc != 0 || got.len != want.len ||
			    memcmp(got.data, want.data, got.len) != 0) {
				if (bad++ == 0)
					fprintf(stderr,
					    "scheme %zu, in [%s] chars %zu "
					    "bytes %zu flags %u:\n  got  [%s]\n"
					    "  want [%s]\n",
					    si, in.data, mc, mb, flags,
					    buf_str(&got), buf_str(&want));
			}
		}
		CHECK(bad == 0);
	}
	buf_reset(&in);
	buf_reset(&got);
	buf_reset(&want);
}

/* A scheme missing a special byte is caught; text_esc_set() adds one. */
static void
test_special(struct buf *b)
{
	struct text_esc e = test_esc;
	size_t i;

	e.special[0] = '\0';
	CHECK(!text_esc_complete(&e));
	e = none_esc;
	CHECK(text_esc_set(&e, '^', " ") == 0);
	CHECK(text_esc_set(&e, '^', " ") == 0); /* listed once */
	CHECK_STR(e.special, "^");
	CHECK(text_esc_set(&e, '\t', " ") == 0); /* a control: no entry */
	CHECK_STR(e.special, "^");
	CHECK(text_esc_complete(&e));
	buf_clear(b);
	CHECK(text_escape(b, "a^b\tc", 5, &e, TEXT_NOLIMIT, TEXT_NOLIMIT, 0,
	          NULL) == 0);
	CHECK_STR(buf_str(b), "a b c");
	for (i = 0; i < 3; i++)
		CHECK(text_esc_set(&e, (unsigned char)("!#$"[i]), "x") == 0);
	CHECK(text_esc_set(&e, '%', "x") == -1); /* five: full */
	CHECK(text_esc_set(&e, 0x80, "x") == -1);
	CHECK(text_esc_complete(&e));
}

int
main(void)
{
	struct buf b;

	buf_init(&b, 0);
	test_seq();
	test_log_safe();
	test_decode();
	test_replace(&b);
	test_prefix();
	test_trim();
	test_escape(&b);
	test_unicode(&b);
	test_cap();
	test_differential();
	test_special(&b);
	buf_reset(&b);
	return check_done();
}
