/* SPDX-License-Identifier: MIT */
/*
 * Text helpers for the formatters (include/text.h).  Every value that
 * leaves the daemon goes through text_escape(): it is the one place that
 * guarantees well-formed UTF-8, applies a format's escaping table, trims
 * and enforces length limits, all in a single pass that appends directly
 * to the message being built.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "text.h"

/* Values up to this size take the one-pass path of text_escape(). */
#define TEXT_FAST_MAX (64 * 1024)

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

char *
text_log_safe(char *out, size_t outlen, const char *in)
{
	size_t i = 0, o = 0, n = strlen(in), len;
	const char *p;
	unsigned char c;
	char esc[8];
	int k;

	if (outlen == 0)
		return out;
	while (i < n) {
		c = (unsigned char)in[i];
		k = c >= 0x80 ? text_utf8_seq(in + i, n - i) : 1;
		p = esc;
		if (k < 0 || c < 0x20 || c == 0x7f) {
			len = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", c);
			k = 1;
		} else if (c == 0xc2 && (unsigned char)in[i + 1] < 0xa0) {
			len = (size_t)snprintf(esc, sizeof(esc), "\\u00%02x",
			    (unsigned char)in[i + 1]);
		} else {
			p = in + i;
			len = (size_t)k;
		}
		if (o + len + 1 > outlen)
			break;
		memcpy(out + o, p, len);
		o += len;
		i += (size_t)k;
	}
	out[o] = '\0';
	return out;
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

int
text_esc_complete(const struct text_esc *e)
{
	size_t ns = strnlen(e->special, sizeof(e->special));
	unsigned c;

	if (ns > TEXT_SPECIAL_MAX)
		return 0;
	for (c = 0; c < 0x80; c++)
		if (e->rep[c] != NULL && strlen(e->rep[c]) > TEXT_REP_MAX)
			return 0;
	for (c = 0x20; c < 0x7f; c++)
		if ((e->rep[c] != NULL) !=
		    (memchr(e->special, (int)c, ns) != NULL))
			return 0;
	return 1;
}

int
text_esc_set(struct text_esc *e, unsigned char c, const char *rep)
{
	size_t ns = strnlen(e->special, sizeof(e->special));

	if (c >= 0x80 || (rep != NULL && strlen(rep) > TEXT_REP_MAX))
		return -1;
	if (c >= 0x20 && c < 0x7f && memchr(e->special, c, ns) == NULL) {
		if (ns >= TEXT_SPECIAL_MAX)
			return -1;
		e->special[ns] = (char)c;
		e->special[ns + 1] = '\0';
	}
	e->rep[c] = rep;
	return 0;
}

/* Copy n < 16 bytes with fixed-size moves (no call for a few bytes). */
static inline void
copy_short(char *d, const unsigned char *p, size_t n)
{
	uint64_t a, b;
	uint32_t c, e;

	if (n >= 8) {
		memcpy(&a, p, 8);
		memcpy(&b, p + n - 8, 8);
		memcpy(d, &a, 8);
		memcpy(d + n - 8, &b, 8);
	} else if (n >= 4) {
		memcpy(&c, p, 4);
		memcpy(&e, p + n - 4, 4);
		memcpy(d, &c, 4);
		memcpy(d + n - 4, &e, 4);
	} else {
		while (n-- > 0)
			*d++ = (char)*p++;
	}
}

/*
 * Formatting is mostly copying plain bytes: printable ASCII that is not
 * one of the scheme's special bytes.  plain_run() finds where such a run
 * ends; text_escape() copies the run in one piece and looks only at the
 * byte after it.
 */
#if defined(__SSE2__) && defined(__x86_64__)
#include <emmintrin.h>

/*
 * 16 bytes at a time, and short values with two overlapping loads that
 * stay inside p[0..n).  Each load's bytes are tested at once: one
 * range test catches controls, DEL and every byte >= 0x80, then come
 * the special bytes (an unused slot is NUL, a control anyway).
 */
struct plain {
	__m128i one, lo, s0, s1, s2, s3;
};

static inline void
plain_init(struct plain *l, const struct text_esc *e)
{
	uint32_t sp;
	__m128i x;

	/* special[0..3] each spread over all 16 lanes of its own vector */
	memcpy(&sp, e->special, 4);
	x = _mm_cvtsi32_si128((int)sp);
	x = _mm_unpacklo_epi8(x, x);
	x = _mm_unpacklo_epi16(x, x);
	l->one = _mm_set1_epi8(1);
	l->lo = _mm_set1_epi8(0x21);
	l->s0 = _mm_shuffle_epi32(x, 0x00);
	l->s1 = _mm_shuffle_epi32(x, 0x55);
	l->s2 = _mm_shuffle_epi32(x, 0xaa);
	l->s3 = _mm_shuffle_epi32(x, 0xff);
}

static inline unsigned
look(__m128i x, const struct plain *l)
{
	/* x + 1 is in 0x21..0x7F (signed > 0x20) exactly for 0x20..0x7E */
	__m128i c = _mm_cmplt_epi8(_mm_add_epi8(x, l->one), l->lo);

	c = _mm_or_si128(c, _mm_cmpeq_epi8(x, l->s0));
	c = _mm_or_si128(c, _mm_cmpeq_epi8(x, l->s1));
	c = _mm_or_si128(c, _mm_cmpeq_epi8(x, l->s2));
	c = _mm_or_si128(c, _mm_cmpeq_epi8(x, l->s3));
	return (unsigned)_mm_movemask_epi8(c);
}

static inline __m128i
load64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return _mm_cvtsi64_si128((long long)v);
}

static inline __m128i
load32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return _mm_cvtsi32_si128((int)v);
}

static inline __m128i
load128(const unsigned char *p)
{
	return _mm_loadu_si128((const __m128i *)(const void *)p);
}

static inline void
store128(char *d, __m128i x)
{
	_mm_storeu_si128((__m128i *)(void *)d, x);
}

/* Number of plain bytes at the start of p[0..n). */
static inline size_t
plain_run(const unsigned char *p, size_t n, const struct plain *l)
{
	size_t i, k;
	unsigned m;

	if (n < 4) {
		for (i = 0; i < n; i++)
			if (look(_mm_cvtsi32_si128(p[i]), l) & 1)
				break;
		return i;
	}
	if (n < 16) {
		/* bytes 0..k-1 in lanes 0..k-1, bytes n-k..n-1 in k..2k-1 */
		k = n < 8 ? 4 : 8;
		m = look(k == 4
		        ? _mm_unpacklo_epi32(load32(p), load32(p + n - 4))
		        : _mm_unpacklo_epi64(load64(p), load64(p + n - 8)),
		    l);
		if ((m & ((1u << k) - 1)) != 0)
			return (size_t)__builtin_ctz(m);
		m >>= k;
		return m != 0 ? n - k + (size_t)__builtin_ctz(m) : n;
	}
	for (i = 0; i + 16 <= n; i += 16)
		if ((m = look(load128(p + i), l)) != 0)
			return i + (size_t)__builtin_ctz(m);
	if (i == n)
		return n;
	/* the last 16 bytes; those before i are known to be plain */
	m = look(load128(p + n - 16), l);
	return m != 0 ? n - 16 + (size_t)__builtin_ctz(m) : n;
}

/*
 * Copy the plain run at p (n bytes available) to d, which has 16 bytes
 * of room past what is copied; returns the run's length.  Long runs are
 * copied by the same loads that test them.
 */
static inline size_t
plain_copy(char *d, const unsigned char *p, size_t n, const struct plain *l)
{
	size_t i = 0, k;
	unsigned m;
	__m128i x;

	for (; n - i >= 16; i += 16) {
		x = load128(p + i);
		store128(d + i, x);
		if ((m = look(x, l)) != 0)
			return i + (size_t)__builtin_ctz(m);
	}
	k = plain_run(p + i, n - i, l);
	copy_short(d + i, p + i, k);
	return i + k;
}
#else
struct plain {
	const char *special;
};

static inline void
plain_init(struct plain *l, const struct text_esc *e)
{
	l->special = e->special;
}

static inline size_t
plain_run(const unsigned char *p, size_t n, const struct plain *l)
{
	const unsigned char *sp = (const unsigned char *)l->special;
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] >= 0x7f || p[i] == sp[0] ||
		    p[i] == sp[1] || p[i] == sp[2] || p[i] == sp[3])
			break;
	return i;
}

static inline size_t
plain_copy(char *d, const unsigned char *p, size_t n, const struct plain *l)
{
	size_t k = plain_run(p, n, l);

	memcpy(d, p, k);
	return k;
}
#endif

size_t
text_plain_len(const char *s, size_t n, const struct text_esc *e)
{
	struct plain l;

	plain_init(&l, e);
	return plain_run((const unsigned char *)s, n, &l);
}

/* Write \\uXXXX for code point cp (below U+10000) to d[0..6). */
static inline void
put_u(char *d, unsigned cp)
{
	d[0] = '\\';
	d[1] = 'u';
	d[2] = text_hex(cp >> 12);
	d[3] = text_hex(cp >> 8);
	d[4] = text_hex(cp >> 4);
	d[5] = text_hex(cp);
}

/*
 * Escape p[0..n) to d, which has room for the worst case (every byte
 * TEXT_REP_MAX bytes, plus 16); no limit can apply.  Returns the bytes
 * written.
 */
static inline size_t
escape_unlimited(char *d, const unsigned char *p, size_t n,
    const struct text_esc *e, const struct plain *l)
{
	const unsigned char *end = p + n;
	const char *r, *d0 = d;
	size_t k;
	unsigned cp;
	int seq;

	while (p < end) {
		k = plain_copy(d, p, (size_t)(end - p), l);
		p += k;
		d += k;
		if (p == end)
			break;
		if (*p < 0x80) {
			if ((r = e->rep[*p]) == NULL)
				*d++ =
				    (char)*p; /* a control the scheme keeps */
			else
				while (*r != '\0')
					*d++ = *r++;
			p++;
		} else if ((seq = text_utf8_seq(
		                (const char *)p, (size_t)(end - p))) < 0) {
			memcpy(d, TEXT_REPLACEMENT_UTF8, 3);
			d += 3;
			p += -seq;
		} else if ((cp = uescape(e, p, seq)) != 0) {
			put_u(d, cp);
			d += 6;
			p += seq;
		} else {
			copy_short(d, p, (size_t)seq); /* well-formed UTF-8 */
			d += seq;
			p += seq;
		}
	}
	return (size_t)(d - d0);
}

/* Could c be a blank of e (see text_trim_esc())? */
static inline int
edge(unsigned char c, const struct text_esc *e)
{
	return c <= 0x20 || (c < 0x80 && e->rep[c] != NULL);
}

/*
 * The general case of text_escape(), for values a limit may cut or that
 * are too large for the one-pass path: every character is counted.
 */
static __attribute__((noinline)) int
escape_limited(struct buf *out, const unsigned char *p, size_t n,
    const struct text_esc *e, size_t max_chars, size_t max_bytes,
    unsigned flags, size_t *added)
{
	const unsigned char *end = p + n;
	const char *piece;
	struct plain l;
	char u[6];
	size_t start = out->len, chars = 0, room = max_bytes, k, adv;
	unsigned cp;
	int rc = 0, seq;

	plain_init(&l, e);
	while (p < end && chars < max_chars && room > 0) {
		/* a run of plain bytes: one byte, one character */
		k = (size_t)(end - p);
		if (k > max_chars - chars)
			k = max_chars - chars;
		if (k > room)
			k = room;
		if ((k = plain_run(p, k, &l)) > 0) {
			if ((rc = buf_add(out, p, k)) != 0)
				goto fail;
			p += k;
			chars += k;
			room -= k;
			if (p == end || chars == max_chars || room == 0)
				break;
		}
		/* then one character that needed a look */
		if (*p < 0x80) {
			if ((piece = e->rep[*p]) == NULL) {
				piece = (const char *)p; /* kept as it is */
				k = 1;
			} else
				k = strlen(piece);
			adv = 1;
		} else if ((seq = text_utf8_seq(
		                (const char *)p, (size_t)(end - p))) < 0) {
			piece = TEXT_REPLACEMENT_UTF8;
			k = 3;
			adv = (size_t)-seq;
		} else if ((cp = uescape(e, p, seq)) != 0) {
			put_u(u, cp);
			piece = u;
			k = 6;
			adv = (size_t)seq;
		} else {
			piece = (const char *)p; /* well-formed UTF-8 */
			k = adv = (size_t)seq;
		}
		if (k > room)
			break; /* a character that does not fit */
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

int
text_escape(struct buf *out, const char *s, size_t n, const struct text_esc *e,
    size_t max_chars, size_t max_bytes, unsigned flags, size_t *added)
{
	const unsigned char *p;
	struct plain l;
	size_t k;

	if ((flags & TEXT_TRIM) && n > 0 &&
	    (edge((unsigned char)s[0], e) || edge((unsigned char)s[n - 1], e)))
		text_trim_esc(&s, &n, e);
	p = (const unsigned char *)s;
	/* The common case: no limit can cut the value, and the buffer has
	 * room for the worst case.  Then no byte needs counting. */
	if (n > max_chars || n > TEXT_FAST_MAX ||
	    n * TEXT_REP_MAX + 16 > max_bytes ||
	    buf_reserve(out, n * TEXT_REP_MAX + 16) != 0)
		return escape_limited(
		    out, p, n, e, max_chars, max_bytes, flags, added);
	plain_init(&l, e);
	k = escape_unlimited(out->data + out->len, p, n, e, &l);
	out->len += k;
	out->data[out->len] = '\0';
	if (added != NULL)
		*added = k;
	return 0;
}
