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
 * The mapping is one table (cef_mapping_get()), the single source of
 * truth for keys, labels, limits and which values give way first when a
 * message must fit a size limit.
 */
#ifndef CEF_H
#define CEF_H

#include <stddef.h>

#include "record.h"

struct buf;

/* Microsoft's static values for its ArcSight mapping (mde-api.md 2.1). */
#define CEF_DEFAULT_VENDOR "Microsoft"
#define CEF_DEFAULT_PRODUCT "Microsoft Defender ATP"
#define CEF_DEFAULT_VERSION "2.0"

#define CEF_EXTERNALID_MAX 40 /* externalId is 40 characters in CEF */

struct cef_opts {
	const char *vendor; /* NULL or "": CEF_DEFAULT_VENDOR */
	const char *product; /* NULL or "": CEF_DEFAULT_PRODUCT */
	const char *version; /* NULL or "": CEF_DEFAULT_VERSION */
	size_t max_len; /* bytes available for the message, 0: any */
};

/*
 * Append the CEF message for r to out.  When the message would exceed
 * o->max_len bytes, low-priority values are shortened (longest first, on
 * character boundaries, never inside an escape), then low-priority and
 * then high-priority pairs are dropped, until it fits.  Returns 0;
 * ERR_TOOBIG when the header and the essential pairs (ids, times) alone
 * exceed max_len, or out's own cap is reached; ERR_NOMEM.  On error out
 * is restored to its length on entry.  out is the only storage used: once
 * it has grown to its working size, formatting does not allocate.
 */
int cef_format(
    struct buf *out, const struct record *r, const struct cef_opts *o);

/*
 * CEF header severity for a Defender severity text (any case):
 * Informational 1, Low 3, Medium 5, High 8, anything else 0.
 */
int cef_severity(const char *s, size_t n);

/* Where a mapped value goes and how it is written. */
enum cef_kind {
	CEF_HDR_SIGNATURE, /* header Device Event Class ID */
	CEF_HDR_NAME, /* header Name */
	CEF_HDR_SEVERITY, /* header Severity (cef_severity()) */
	CEF_TEXT, /* text, escaped, cut at max_chars */
	CEF_SHORTID, /* text, only when <= max_chars, never cut */
	CEF_LONGID, /* text, only when > CEF_EXTERNALID_MAX */
	CEF_BOOL, /* 1 or 0 (record_bool()) */
	CEF_INT, /* a decimal integer, else omitted */
	CEF_TIME, /* ISO 8601 text as epoch milliseconds */
	CEF_ALERT_TIME, /* the record's alert_time, epoch ms */
	CEF_IPV4, /* only when the value is an IPv4 address */
	CEF_IPV6, /* only when the value is an IPv6 address */
	CEF_NOTIP, /* only when the value is neither */
};

/*
 * How a pair fares when a message must be shortened: KEEP pairs (ids and
 * times) are never shortened or dropped; HIGH pairs are never shortened,
 * dropped only when all LOW pairs are gone; LOW pairs are shortened, then
 * dropped.  Drops go from the end of the table backwards.
 */
enum cef_prio {
	CEF_KEEP,
	CEF_HIGH,
	CEF_LOW,
};

struct cef_mapping {
	enum record_field field;
	const char *key; /* CEF extension key, or header field name */
	const char *label_key; /* e.g. "cs6Label", NULL when none */
	const char *label; /* e.g. "Sha256" */
	unsigned max_chars; /* dictionary length, 0: no limit */
	enum cef_kind kind;
	enum cef_prio prio;
};

/* The mapping table, in output order; read-only, static storage. */
size_t cef_mapping_count(void);
const struct cef_mapping *cef_mapping_get(size_t i); /* NULL past end */

#endif
