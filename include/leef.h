/* SPDX-License-Identifier: MIT */
/*
 * LEEF formatter for IBM QRadar: one canonical record in, one LEEF 1.0 or
 * 2.0 event out ("LEEF:2.0|...", no syslog header, no newline), between
 * normalisation and the spool.  Microsoft publishes no LEEF mapping; ours
 * puts values on QRadar's predefined keys first (devTime, sev, cat, src,
 * usrName, identSrc, identHostName, domain, url, resource, policy) and
 * the rest on camel-case custom keys (alertId, fullId, sha256, ...).
 *
 * LEEF has no escape mechanism (reference/formats.md section 2), so values
 * are sanitised, not escaped: the delimiter, CR, LF, every other control
 * character and DEL become a space, invalid UTF-8 becomes U+FFFD, values
 * are trimmed and omitted when empty; header fields get the same
 * treatment for '|'.  Backslashes, '=' and everything else stay literal.
 * The mapping is one table (leef_mapping_get()), shortening to a size
 * limit works as for CEF (include/pairs.h).
 */
#ifndef LEEF_H
#define LEEF_H

#include <stddef.h>

#include "pairs.h"
#include "text.h"

struct buf;
struct record;

#define LEEF_EVENTID_MAX 255 /* characters, IBM's limit */

/* "LEEF:2.0|" and three header fields of at most 63, 63 and 31
 * characters, each character at most 4 bytes, each closed by '|'. */
#define LEEF_PREFIX_MAX (9 + (63 + 63 + 31) * 4 + 3)

struct leef_opts {
	const char *vendor; /* NULL or "": CEF_DEFAULT_VENDOR */
	const char *product; /* NULL or "": CEF_DEFAULT_PRODUCT */
	const char *version; /* NULL or "": CEF_DEFAULT_VERSION */
	int leef_version; /* 1 or 2 */
	char delimiter; /* 2.0 only (1.0: TAB); leef_delimiter_ok() */
	size_t max_len; /* bytes available for the event, 0: any */
	/* made by leef_opts_prepare(), the same for every event: the header
	 * up to the EventID and the value scheme with the delimiter;
	 * prefix_len 0: made for each event */
	size_t prefix_len;
	char prefix[LEEF_PREFIX_MAX];
	struct text_esc esc;
};

/*
 * Render o's constant header part and value scheme once, so that
 * leef_format() reuses them.  Call it again after changing any field but
 * max_len.  ERR_CONFIG (nothing prepared) for a version other than 1 or 2
 * or a delimiter leef_delimiter_ok() refuses.
 */
int leef_opts_prepare(struct leef_opts *o);

/*
 * Append the LEEF event for r to out.  When it would exceed o->max_len
 * bytes, it is packed as for CEF (pairs.h, README "Fitting
 * max_message_size").  Returns 0; ERR_CONFIG for a leef_version other than 1 or 2 or
 * a delimiter leef_delimiter_ok() refuses; ERR_TOOBIG when the header and
 * the essential pairs (ids, times) alone exceed max_len, or out's own cap
 * is reached; ERR_NOMEM.  On error out is restored to its length on
 * entry.  Once out has grown to its working size, nothing is allocated.
 */
int leef_format(
    struct buf *out, const struct record *r, const struct leef_opts *o);

/* leef_format() with the limit max instead of o->max_len, and the cost of
 * fitting it in *res (when not NULL). */
int leef_render(struct buf *out, const struct record *r,
    const struct leef_opts *o, size_t max, struct pairs_result *res);

/*
 * 1 when c can delimit LEEF 2.0 attributes: TAB, or an ASCII punctuation
 * character other than '=' and '|' (keys are alphanumeric, so letters,
 * digits and the space cannot tell pairs apart).  Else 0.
 */
int leef_delimiter_ok(char c);

/* The mapping table, in output order; row 0 is the header EventID. */
size_t leef_mapping_count(void);
const struct pairs_map *leef_mapping_get(size_t i); /* NULL past end */

#endif
