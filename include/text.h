/* SPDX-License-Identifier: MIT */
/*
 * Text helpers shared by the formatters (CEF, LEEF, JSON): UTF-8
 * validation with U+FFFD replacement, prefixes that never split a
 * character, trimming, and a table-driven escaper that does escaping,
 * replacement, trimming and length limits in one pass over a value,
 * appending straight to the output buffer without intermediate copies.
 *
 * Invalid UTF-8 follows the Unicode "maximal subpart" practice (the one
 * WHATWG and Python use): overlong forms, UTF-16 surrogates encoded in
 * UTF-8 (ED A0..BF ..), code points
 * above U+10FFFF, stray continuation bytes and truncated sequences each
 * become one U+FFFD per maximal ill-formed subsequence.
 */
#ifndef TEXT_H
#define TEXT_H

#include <stddef.h>
#include <stdint.h>

struct buf;

#define TEXT_NOLIMIT SIZE_MAX /* no character or byte limit */
#define TEXT_REPLACEMENT 0xFFFDu /* U+FFFD REPLACEMENT CHARACTER */
#define TEXT_REPLACEMENT_UTF8 "\xEF\xBF\xBD"

/* text_escape() flags */
#define TEXT_TRIM 0x1 /* drop leading and trailing blanks */

/* struct text_esc flags */
#define TEXT_ESC_UNICODE 0x1 /* C1 controls, U+2028, U+2029 as \uXXXX */

#define TEXT_SPECIAL_MAX 4 /* printable bytes a scheme may replace */
#define TEXT_REP_MAX 6 /* longest replacement: "\\u0000" */

/*
 * An escaping scheme: for each ASCII byte, the text that replaces it in
 * the output, or NULL to copy it.  A byte whose replacement is exactly
 * " " is a blank, like the space itself: TEXT_TRIM removes blanks at both
 * ends (so a value " x\t" becomes "x" when TAB is replaced by a space).
 * Other replacement texts must not end in a space, and no replacement
 * is longer than TEXT_REP_MAX bytes.  Bytes >= 0x80 are
 * never looked up: valid UTF-8 is copied, invalid sequences become U+FFFD;
 * with TEXT_ESC_UNICODE (JSON), the C1 controls U+0080..U+009F and the
 * JavaScript line breaks U+2028 and U+2029 are written as \u0085 etc.
 *
 * special lists every printable byte (0x20..0x7E) that rep replaces, at
 * most TEXT_SPECIAL_MAX of them: text_escape() copies the other printable
 * bytes without a table look, many at a time.  text_esc_complete()
 * checks a scheme against this rule.
 */
struct text_esc {
	const char *rep[128];
	unsigned flags;
	char special[TEXT_SPECIAL_MAX + 1];
};

/*
 * The designated initialisers of struct text_esc.rep that turn control
 * characters into spaces, shared by the CEF and LEEF schemes:
 * TEXT_REP_CONTROLS_SPACE for every C0 control and DEL,
 * TEXT_REP_CONTROLS_SPACE_BUT_LF_CR for all of them but LF and CR (which
 * a scheme then escapes itself).
 */
#define TEXT_REP_CONTROLS_SPACE_BUT_LF_CR \
	[0x00] = " ", [0x01] = " ", [0x02] = " ", [0x03] = " ", [0x04] = " ", \
	[0x05] = " ", [0x06] = " ", [0x07] = " ", [0x08] = " ", [0x09] = " ", \
	[0x0b] = " ", [0x0c] = " ", [0x0e] = " ", [0x0f] = " ", [0x10] = " ", \
	[0x11] = " ", [0x12] = " ", [0x13] = " ", [0x14] = " ", [0x15] = " ", \
	[0x16] = " ", [0x17] = " ", [0x18] = " ", [0x19] = " ", [0x1a] = " ", \
	[0x1b] = " ", [0x1c] = " ", [0x1d] = " ", [0x1e] = " ", [0x1f] = " ", \
	[0x7f] = " "
#define TEXT_REP_CONTROLS_SPACE \
	TEXT_REP_CONTROLS_SPACE_BUT_LF_CR, [0x0a] = " ", [0x0d] = " "

/* The lowercase hex digit of v's low four bits: every hex text of the
 * formatters (\u escapes, the CEF fallback id, LEEF's xHH). */
static inline char
text_hex(unsigned v)
{
	return "0123456789abcdef"[v & 0xf];
}

/*
 * 1 when e->special names exactly the printable bytes e->rep replaces
 * and no replacement is longer than TEXT_REP_MAX, else 0.
 */
int text_esc_complete(const struct text_esc *e);

/*
 * Add printable byte c to scheme e with replacement rep (a scheme built
 * at run time, like LEEF's with its delimiter).  Returns 0, or -1 when
 * special is full.
 */
int text_esc_set(struct text_esc *e, unsigned char c, const char *rep);

/*
 * Length of the UTF-8 sequence at s (n >= 1 bytes available): k > 0 when
 * the first k bytes are one well-formed character, -k when the first k
 * bytes are an ill-formed subsequence to be replaced by one U+FFFD.
 */
int text_utf8_seq(const char *s, size_t n);

/*
 * Decode one character at s (n >= 1): sets *cp (TEXT_REPLACEMENT for an
 * ill-formed subsequence) and returns the number of bytes consumed (>= 1).
 */
size_t text_utf8_decode(const char *s, size_t n, uint32_t *cp);

/* 1 when s[0..n) is well-formed UTF-8, else 0. */
int text_utf8_valid(const char *s, size_t n);

/*
 * Number of characters in s[0..n), counting each ill-formed subsequence
 * as the one U+FFFD it becomes.
 */
size_t text_chars(const char *s, size_t n);

/*
 * Byte length of the longest prefix of s[0..n) holding at most max_chars
 * characters / at most max_bytes bytes, never splitting a character (an
 * ill-formed subsequence counts as one character and is never split).
 */
size_t text_prefix_chars(const char *s, size_t n, size_t max_chars);
size_t text_prefix_bytes(const char *s, size_t n, size_t max_bytes);

/*
 * Text from outside (an API's ids, error messages, a host name) made safe
 * for one log line: C0 controls and DEL become \xHH, C1 controls
 * (U+0080..U+009F) \u00HH, and ill-formed UTF-8 bytes \xHH, so that no
 * value can start a new line or a terminal escape.  Writes at most outlen
 * bytes with the NUL, never splitting an escape; returns out.
 */
char *text_log_safe(char *out, size_t outlen, const char *in);

/* Narrow (*s, *n) to drop leading and trailing ASCII spaces. */
void text_trim(const char **s, size_t *n);

/* Same, dropping every blank of scheme e (see struct text_esc). */
void text_trim_esc(const char **s, size_t *n, const struct text_esc *e);

/*
 * Number of bytes at the start of s[0..n) that scheme e copies as they
 * are: printable ASCII (0x20..0x7E) other than e's special bytes.
 */
size_t text_plain_len(const char *s, size_t n, const struct text_esc *e);

/*
 * Append s[0..n) to out, escaped by scheme e, with invalid UTF-8 replaced
 * by U+FFFD, in one pass.  At most max_chars characters of the (trimmed)
 * input are written, and at most max_bytes output bytes; both limits cut
 * on whole characters and whole escapes only (TEXT_NOLIMIT for none).
 * With TEXT_TRIM, blanks are dropped at both ends, also where a limit cut
 * the value.  Sets *added (when not NULL) to the number of bytes appended,
 * which may be 0.  Returns 0, or the buf error (ERR_TOOBIG, ERR_NOMEM)
 * with out restored to its length on entry.
 */
int text_escape(struct buf *out, const char *s, size_t n,
    const struct text_esc *e, size_t max_chars, size_t max_bytes,
    unsigned flags, size_t *added);

#endif
