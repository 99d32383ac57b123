/* SPDX-License-Identifier: MIT */
/*
 * Growable byte buffer with a hard size cap, used everywhere bytes are
 * assembled: HTTP bodies, formatted messages, framed batches.  Storage is
 * kept across buf_clear() so per-record code does not allocate once the
 * buffer has grown to its working size.
 */
#ifndef BUF_H
#define BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

struct buf {
	char *data; /* NUL-terminated when non-NULL (len excludes NUL) */
	size_t len;
	size_t cap;
	size_t max; /* hard cap on len; 0 means SIZE_MAX/2 */
	int secret; /* wipe storage before it is given back (buf_init_secret) */
};

/* Initialise an empty buffer that will refuse to grow past max bytes. */
void buf_init(struct buf *b, size_t max);

/*
 * Like buf_init(), for bytes that are secret (a client secret, an access
 * token, a request or answer that carries one): storage is wiped before
 * it is freed or left behind by growing, and by buf_reset().
 */
void buf_init_secret(struct buf *b, size_t max);

/* Free the storage; the buffer is empty and reusable afterwards. */
void buf_reset(struct buf *b);

/* Like buf_reset(), but wipes the bytes first (secrets). */
void buf_wipe(struct buf *b);

/* Forget the contents, keep the storage. */
void buf_clear(struct buf *b);

/*
 * Make room for n more bytes (plus the terminating NUL).  Returns 0,
 * ERR_TOOBIG past the cap, or ERR_NOMEM.  On failure b is unchanged.
 */
static inline int buf_reserve(struct buf *b, size_t n);
int buf_reserve_grow(struct buf *b, size_t n);

/* Append n bytes / one byte / a C string.  Same returns as buf_reserve(). */
static inline int buf_add(struct buf *b, const void *p, size_t n);
static inline int buf_addc(struct buf *b, char c);
int buf_adds(struct buf *b, const char *s);

/* The growing paths of buf_add() and buf_addc(). */
int buf_add_grow(struct buf *b, const void *p, size_t n);
int buf_addc_grow(struct buf *b, char c);

/* Append a formatted string.  Same returns as buf_reserve(). */
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Append a decimal integer without printf. */
int buf_add_i64(struct buf *b, long long v);

/*
 * The decimal text of v, written at the end of tmp (no NUL): returns its
 * start and sets *n to its length.  buf_add_i64() and the formatters'
 * numbers share it.
 */
#define BUF_I64_LEN 24
const char *buf_i64_text(long long v, char tmp[BUF_I64_LEN], size_t *n);

/* Shorten to len bytes (len <= b->len). */
void buf_truncate(struct buf *b, size_t len);

/* The contents as a C string; "" for an empty, never-grown buffer. */
const char *buf_str(const struct buf *b);

/*
 * The formatters append a few bytes at a time, millions of times: the
 * case where the storage already has room is inline.  cap never exceeds
 * max + 1 (buf_reserve()), so room in the storage is room under the cap.
 */
static inline int
buf_reserve(struct buf *b, size_t n)
{
	return n < b->cap - b->len ? 0 : buf_reserve_grow(b, n);
}

static inline int
buf_add(struct buf *b, const void *p, size_t n)
{
	if (n < b->cap - b->len) {
		if (n > 0)
			memcpy(b->data + b->len, p, n);
		b->len += n;
		b->data[b->len] = '\0';
		return 0;
	}
	return buf_add_grow(b, p, n);
}

static inline int
buf_addc(struct buf *b, char c)
{
	if (b->cap - b->len > 1) {
		b->data[b->len++] = c;
		b->data[b->len] = '\0';
		return 0;
	}
	return buf_addc_grow(b, c);
}

#endif
