/* SPDX-License-Identifier: MIT */
/*
 * A pull reader over JSON text that builds no tree.  A Graph page of 1,000
 * alerts is a few MB of text but four times that as a cJSON tree; the
 * OData source (source_odata.c) checks and indexes the page with this
 * reader and parses one record at a time.
 *
 * It accepts exactly what cJSON_ParseWithLength() of cJSON 1.7 accepts,
 * quirks included (any byte up to 0x20 is whitespace, raw control
 * characters in strings, numbers as far as strtod() reads them, at most
 * CJSON_NESTING_LIMIT levels), so a page it accepts is one cJSON would
 * have parsed, and each value in it parses on its own.  Text after the
 * first value is not looked at, as in cJSON.
 */
#ifndef JSONSCAN_H
#define JSONSCAN_H

#include <stddef.h>

/* The elements of one array or object, in order. */
struct jsonscan {
	const char *p; /* next byte to read */
	const char *end; /* end of the text */
	int depth; /* containers around this one */
	int state; /* private */
	char close; /* ']' or '}' */
};

/* The first byte at or after p that is not whitespace to cJSON, or end. */
const char *jsonscan_ws(const char *p, const char *end);

/*
 * The end of the JSON value starting at p (no whitespace before it), at a
 * nesting depth of depth containers; NULL when it is malformed.
 */
const char *jsonscan_value(const char *p, const char *end, int depth);

/*
 * Start reading the array or object at p, nested in depth containers.
 * 0, or -1 when p is not '[' or '{' or the nesting is too deep.
 */
int jsonscan_open(
    struct jsonscan *js, const char *p, const char *end, int depth);

/*
 * Move to the next element.  Returns 1 with js->p at its value (for an
 * object, *key and *keylen give the member's name as it is written,
 * escapes included, without the quotes), 0 once the closing bracket is
 * read (js->p just past it), or -1 when the text is malformed.  After a 1
 * the caller consumes the value: jsonscan_skip(), or jsonscan_open() of a
 * child at js->p with js->depth + 1, read to its end, then js->p set to
 * the child's p.
 */
int jsonscan_next(struct jsonscan *js, const char **key, size_t *keylen);

/* Consume the current element's value.  0, or -1 when malformed. */
int jsonscan_skip(struct jsonscan *js);

/* jsonscan_skip_find()'s failure when memory runs out (-1: malformed). */
#define JSONSCAN_NOMEM (-2)

/*
 * Consume the current element's value as jsonscan_skip() does; when it
 * is an object, also find the value of its first member called name
 * (the one cJSON_GetObjectItemCaseSensitive() finds): *v at its first
 * byte, *vend just past its last, or both NULL when there is none.
 * 0, -1 when the text is malformed, or JSONSCAN_NOMEM.
 */
int jsonscan_skip_find(
    struct jsonscan *js, const char *name, const char **v, const char **vend);

/*
 * Is the member name k[0..n), as jsonscan_next() gave it (between its
 * quotes), name once unescaped?  Compared as cJSON compares keys: as C
 * strings, so an escaped NUL ends the name.  1 or 0; -1 when memory to
 * decode an escaped name runs out.
 */
int jsonscan_key_is(const char *k, size_t n, const char *name);

#endif
