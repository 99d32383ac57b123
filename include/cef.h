/* SPDX-License-Identifier: MIT */
/*
 * CEF formatter for ArcSight: one canonical record in, one CEF message
 * out ("CEF:0|...", no syslog header, no newline).  The header follows
 * Microsoft's ArcSight mapping for Defender detections; the extension is
 * that mapping plus the fields it leaves out, under dictionary keys or
 * custom "mde..." keys.  Escaping and limits follow reference/formats.md
 * sections 1 and 4, so that no value can change the structure of the
 * message and liblognorm's CEF parser reads back every value.
 *
 * The mapping is one table (cef_mapping_get(); rows 0-2 are the header),
 * the single source of truth for keys, labels, limits and which values
 * give way first when a message must fit a size limit (include/pairs.h).
 */
#ifndef CEF_H
#define CEF_H

#include <stddef.h>

#include "pairs.h"
#include "record.h"

struct buf;

/* Microsoft's static values for its ArcSight mapping (mde-api.md 2.1). */
#define CEF_DEFAULT_VENDOR "Microsoft"
#define CEF_DEFAULT_PRODUCT "Microsoft Defender ATP"
#define CEF_DEFAULT_VERSION "2.0"

#define CEF_EXTERNALID_MAX 40 /* externalId is 40 characters in CEF */

/* "CEF:0|" and three header fields of at most 63, 63 and 31 characters,
 * each character at most 4 bytes, each field closed by '|'. */
#define CEF_PREFIX_MAX (6 + (63 + 63 + 31) * 4 + 3)

struct cef_opts {
	const char *vendor; /* NULL or "": CEF_DEFAULT_VENDOR */
	const char *product; /* NULL or "": CEF_DEFAULT_PRODUCT */
	const char *version; /* NULL or "": CEF_DEFAULT_VERSION */
	size_t max_len; /* bytes available for the message, 0: any */
	/* "CEF:0|vendor|product|version|" made by cef_opts_prepare(), the
	 * same for every message; prefix_len 0: made for each message */
	size_t prefix_len;
	char prefix[CEF_PREFIX_MAX];
};

/*
 * Render o's constant header part once, so that cef_format() copies it.
 * Call it again after changing vendor, product or version.
 */
void cef_opts_prepare(struct cef_opts *o);

/*
 * Append the CEF message for r to out.  When the message would exceed
 * o->max_len bytes, it is packed as pairs.h describes (README "Fitting
 * max_message_size"): ids and times whole, every other value that fits,
 * "shortened first" values cut before "kept whole" ones are left out,
 * cuts on character boundaries and never inside an escape.  Returns 0;
 * ERR_TOOBIG when the header and the essential pairs (ids, times) alone
 * exceed max_len, or out's own cap is reached; ERR_NOMEM.  On error out
 * is restored to its length on entry.  out is the only storage used: once
 * it has grown to its working size, formatting does not allocate.
 */
int cef_format(
    struct buf *out, const struct record *r, const struct cef_opts *o);

/* cef_format() with the limit max instead of o->max_len, and the cost of
 * fitting it in *res (when not NULL): the formatter's entry for format.c */
int cef_render(struct buf *out, const struct record *r,
    const struct cef_opts *o, size_t max, struct pairs_result *res);

/*
 * The Device Event Class ID of r: its IoaDefinitionId without leading and
 * trailing blanks (spaces, control characters), or, when that leaves
 * nothing, "mde-" and the FNV-1a 64-bit hash of the AlertTitle bytes as
 * received (empty when absent) in 16 lowercase hex digits, written into
 * tmp.  The same title always gives the same id, so a SIEM can still
 * group events by type.  Sets (*p, *n), borrowed from r or tmp; the text
 * is not escaped (LEEF uses the same id as its EventID).
 */
#define CEF_SIG_FALLBACK_LEN 20
void cef_signature(const struct record *r, char tmp[CEF_SIG_FALLBACK_LEN],
    const char **p, size_t *n);

/* The fallback id alone ("mde-" and the title hash), in tmp. */
void cef_signature_fallback(
    const struct record *r, char tmp[CEF_SIG_FALLBACK_LEN]);

/* The mapping table, in output order; read-only, static storage. */
size_t cef_mapping_count(void);
const struct pairs_map *cef_mapping_get(size_t i); /* NULL past end */

#endif
