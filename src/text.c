/* SPDX-License-Identifier: MIT */
/*
 * Text helpers for the formatters (include/text.h).  Every value that
 * leaves the daemon goes through text_escape(): it is the one place that
 * guarantees well-formed UTF-8, applies a format's escaping table, trims
 * and enforces length limits, all in a single pass that appends directly
 * to the message being built.
 */
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "text.h"

int
text_utf8_seq(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char c = p[0], lo = 0x80, hi = 0xBF;
	int need, i;

	if (c < 0x80)
		return 1;
	if (c < 0xC2)
		return -1; /* continuation byte or overlong C0/C1 lead */
	if (c < 0xE0)
		need = 1;
	else if (c < 0xF0) {
		need = 2;
		if (c == 0xE0)
			lo = 0xA0; /* overlong */
		else if (c == 0xED)
			hi = 0x9F; /* UTF-16 surrogates */
	} else if (c < 0xF5) {
		need = 3;
		if (c == 0xF0)
			lo = 0x90; /* overlong */
		else if (c == 0xF4)
			hi = 0x8F; /* above U+10FFFF */
	} else
		return -1;
	for (i = 1; i <= need; i++) {
		if ((size_t)i >= n || p[i] < lo || p[i] > hi)
			return -i;
		lo = 0x80;
		hi = 0xBF;
	}
	return need + 1;
}

size_t
text_utf8_decode(const char *s, size_t n, uint32_t *cp)
{
	const unsigned char *p = (const unsigned char *)s;
	int k = text_utf8_seq(s, n);

	switch (k) {
	case 1:
		*cp = p[0];
		break;
	case 2:
		*cp = (uint32_t)(p[0] & 0x1F) << 6 | (p[1] & 0x3F);
		break;
	case 3:
		*cp = (uint32_t)(p[0] & 0x0F) << 12 |
		    (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
		break;
	case 4:
		*cp = (uint32_t)(p[0] & 0x07) << 18 |
		    (uint32_t)(p[1] & 0x3F) << 12 |
		    (uint32_t)(p[2] & 0x3F) << 6 | (p[3] & 0x3F);
		break;
	default:
		*cp = TEXT_REPLACEMENT;
		return (size_t)-k;
	}
	return (size_t)k;
}

int
text_utf8_valid(const char *s, size_t n)
{
	size_t i = 0;
	int k;

	while (i < n) {
		if ((unsigned char)s[i] < 0x80) {
			i++;
			continue;
		}
		if ((k = text_utf8_seq(s + i, n - i)) < 0)
			return 0;
		i += (size_t)k;
	}
	return 1;
}

/* Bytes of the character at s (n >= 1), invalid subsequences included. */
static size_t
charlen(const char *s, size_t n)
{
	int k;

	if ((unsigned char)s[0] < 0x80)
		return 1;
	k = text_utf8_seq(s, n);
	return (size_t)(k < 0 ? -k : k);
}

size_t
text_chars(const char *s, size_t n)
{
	size_t i = 0, c = 0;

	while (i < n) {
		i += charlen(s + i, n - i);
		c++;
	}
	return c;
}

size_t
text_prefix_chars(const char *s, size_t n, size_t max_chars)
{
	size_t i = 0, c = 0;

	while (i < n && c < max_chars) {
		i += charlen(s + i, n - i);
		c++;
	}
	return i;
}

size_t
text_prefix_bytes(const char *s, size_t n, size_t max_bytes)
{
	size_t i = 0, k;

	if (n <= max_bytes)
		return n;
	while (i < n) {
		k = charlen(s + i, n - i);
		if (k > max_bytes - i)
			break;
		i += k;
	}
	return i;
}

void
text_trim(const char **s, size_t *n)
{
	const char *p = *s;
	size_t len = *n;

	while (len > 0 && p[0] == ' ') {
		p++;
		len--;
	}
	while (len > 0 && p[len - 1] == ' ')
		len--;
	*s = p;
	*n = len;
}

static int
blank(const struct text_esc *e, unsigned char c)
{
	const char *r;

	if (c >= 0x80)
		return 0;
	if ((r = e->rep[c]) == NULL)
		return c == ' ';
	return r[0] == ' ' && r[1] == '\0';
}

void
text_trim_esc(const char **s, size_t *n, const struct text_esc *e)
{
	const char *p = *s;
	size_t len = *n;

	while (len > 0 && blank(e, (unsigned char)p[0])) {
		p++;
		len--;
	}
	while (len > 0 && blank(e, (unsigned char)p[len - 1]))
		len--;
	*s = p;
	*n = len;
}

/*
 * The code point of the well-formed k-byte character at p when scheme e
 * writes it as \uXXXX, else 0.
 */
static unsigned
uescape(const struct text_esc *e, const unsigned char *p, int k)
{
	if (!(e->flags & TEXT_ESC_UNICODE))
		return 0;
	if (k == 2 && p[0] == 0xC2 && p[1] <= 0x9F)
		return p[1]; /* U+0080..U+009F */
	if (k == 3 && p[0] == 0xE2 && p[1] == 0x80 &&
	    (p[2] == 0xA8 || p[2] == 0xA9))
		return 0x2000u | 0x28u | (p[2] & 1u); /* U+2028, U+2029 */
	return 0;
}

/*
 * Length in bytes of the run at p (n bytes) of characters copied as they
 * are: ASCII the scheme leaves alone and well-formed UTF-8.  The run stops
 * before max_chars characters or max_bytes bytes are exceeded; *nchars
 * gets its number of characters.
 */
static size_t
verbatim_run(const unsigned char *p, size_t n, const struct text_esc *e,
    size_t max_chars, size_t max_bytes, size_t *nchars)
{
	size_t i = 0, c = 0, lim = n < max_bytes ? n : max_bytes;
	int k;

	while (i < lim && c < max_chars) {
		if (p[i] < 0x80) {
			if (e->rep[p[i]] != NULL)
				break;
			i++;
		} else {
			k = text_utf8_seq((const char *)p + i, n - i);
			if (k < 0 || (size_t)k > lim - i ||
			    uescape(e, p + i, k) != 0)
				break;
			i += (size_t)k;
		}
		c++;
	}
	*nchars = c;
	return i;
}

int
text_escape(struct buf *out, const char *s, size_t n, const struct text_esc *e,
    size_t max_chars, size_t max_bytes, unsigned flags, size_t *added)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p, *end;
	const char *piece;
	char u[7];
	size_t start = out->len, chars = 0, room = max_bytes, k, c, adv;
	unsigned cp;
	int rc = 0, seq;

	if (flags & TEXT_TRIM)
		text_trim_esc(&s, &n, e);
	p = (const unsigned char *)s;
	end = p + n;
	while (p < end && chars < max_chars && room > 0) {
		k = verbatim_run(
		    p, (size_t)(end - p), e, max_chars - chars, room, &c);
		if (k > 0) {
			if ((rc = buf_add(out, p, k)) != 0)
				goto fail;
			p += k;
			chars += c;
			room -= k;
			continue;
		}
		if (*p < 0x80) {
			piece = e->rep[*p];
			k = strlen(piece);
			adv = 1;
		} else if ((seq = text_utf8_seq(
		                (const char *)p, (size_t)(end - p))) < 0) {
			piece = TEXT_REPLACEMENT_UTF8;
			k = 3;
			adv = (size_t)-seq;
		} else if ((cp = uescape(e, p, seq)) != 0) {
			memcpy(u, "\\u", 2);
			u[2] = hex[(cp >> 12) & 0xf];
			u[3] = hex[(cp >> 8) & 0xf];
			u[4] = hex[(cp >> 4) & 0xf];
			u[5] = hex[cp & 0xf];
			piece = u;
			k = 6;
			adv = (size_t)seq;
		} else
			break; /* a character that does not fit */
		if (k > room)
			break;
		if ((rc = buf_add(out, piece, k)) != 0)
			goto fail;
		p += adv;
		chars++;
		room -= k;
	}
	/* A cut may leave blanks at the end: escapes and UTF-8 never end
	 * in a space, so any trailing space in the output is a blank. */
	if (p < end && (flags & TEXT_TRIM)) {
		k = out->len;
		while (k > start && out->data[k - 1] == ' ')
			k--;
		buf_truncate(out, k);
	}
	if (added != NULL)
		*added = out->len - start;
	return 0;
fail:
	buf_truncate(out, start);
	return rc;
}
