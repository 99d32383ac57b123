/* SPDX-License-Identifier: MIT */
/*
 * Growable byte buffer with a hard cap (include/buf.h).  Every buffer fed
 * from the network or from records is a struct buf, so no caller has to
 * do size arithmetic of its own.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "errcode.h"

#define BUF_DEFAULT_MAX (SIZE_MAX / 2)

void
buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max ? max : BUF_DEFAULT_MAX;
	b->secret = 0;
}

void
buf_init_secret(struct buf *b, size_t max)
{
	buf_init(b, max);
	b->secret = 1;
}

void
buf_reset(struct buf *b)
{
	if (b->secret && b->data != NULL)
		explicit_bzero(b->data, b->cap);
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void
buf_wipe(struct buf *b)
{
	if (b->data != NULL)
		explicit_bzero(b->data, b->cap);
	buf_reset(b);
}

void
buf_clear(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

/* realloc() for a secret buffer: the old storage is wiped, not left. */
static char *
move_wiped(struct buf *b, size_t ncap)
{
	char *p;

	if ((p = malloc(ncap)) == NULL)
		return NULL;
	p[b->len] = '\0';
	if (b->data != NULL) {
		memcpy(p, b->data, b->len);
		explicit_bzero(b->data, b->cap);
		free(b->data);
	}
	return p;
}

int
buf_reserve_grow(struct buf *b, size_t n)
{
	size_t need, ncap;
	char *p;

	if (n > b->max || b->len > b->max - n)
		return ERR_TOOBIG;
	need = b->len + n + 1;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	/* never past the cap: buf_add()'s fast path relies on it */
	if (b->max < SIZE_MAX && ncap - 1 > b->max)
		ncap = b->max + 1;
	p = b->secret ? move_wiped(b, ncap) : realloc(b->data, ncap);
	if (p == NULL)
		return ERR_NOMEM;
	b->data = p;
	b->cap = ncap;
	return 0;
}

int
buf_add_grow(struct buf *b, const void *p, size_t n)
{
	int rc;

	if ((rc = buf_reserve_grow(b, n)) != 0)
		return rc;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_addc_grow(struct buf *b, char c)
{
	int rc;

	if ((rc = buf_reserve_grow(b, 1)) != 0)
		return rc;
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n, rc;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return ERR_IO;
	if ((rc = buf_reserve(b, (size_t)n)) != 0)
		return rc;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

/* "00" to "99": two digits a division (epoch milliseconds have 13). */
static const char two_digits[] = "0001020304050607080910111213141516171819"
                                 "2021222324252627282930313233343536373839"
                                 "4041424344454647484950515253545556575859"
                                 "6061626364656667686970717273747576777879"
                                 "8081828384858687888990919293949596979899";

const char *
buf_i64_text(long long v, char tmp[BUF_I64_LEN], size_t *n)
{
	char *p = tmp + BUF_I64_LEN;
	unsigned long long u;
	unsigned d;

	u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	while (u >= 100) {
		d = (unsigned)(u % 100) * 2;
		u /= 100;
		p -= 2;
		p[0] = two_digits[d];
		p[1] = two_digits[d + 1];
	}
	if (u >= 10) {
		d = (unsigned)u * 2;
		p -= 2;
		p[0] = two_digits[d];
		p[1] = two_digits[d + 1];
	} else
		*--p = (char)('0' + u);
	if (v < 0)
		*--p = '-';
	*n = (size_t)(tmp + BUF_I64_LEN - p);
	return p;
}

int
buf_add_i64(struct buf *b, long long v)
{
	char tmp[BUF_I64_LEN];
	const char *p;
	size_t n;

	p = buf_i64_text(v, tmp, &n);
	return buf_add(b, p, n);
}

void
buf_truncate(struct buf *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->data[len] = '\0';
	}
}

const char *
buf_str(const struct buf *b)
{
	return b->data != NULL ? b->data : "";
}
