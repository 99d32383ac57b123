/* SPDX-License-Identifier: MIT */
/*
 * What the formatters (CEF, LEEF, JSON) share: a mapping table from
 * record fields to keys, the rules that turn a field into the text a key
 * carries (booleans, integers, times, addresses, ids), and the writer
 * that appends a record's pairs in table order and, when the message
 * would exceed its size limit, packs it by priority (enum pairs_prio):
 * ids and times whole, then every value that fits, low-priority values
 * cut before high-priority ones are left out.
 *
 * A format supplies only what is its own: how one pair is written
 * (separator, key, escaping) and its header and tail.  The writer does
 * not allocate; out is the only storage used.
 */
#ifndef PAIRS_H
#define PAIRS_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

struct buf;
struct text_esc;

#define PAIRS_MAX 96 /* rows a mapping table may have */
#define PAIRS_TMP 32 /* scratch a derived value needs */
#define PAIRS_SHORTID_MAX 40 /* PAIRS_SHORTID / PAIRS_LONGID bound */
#define PAIRS_CUT_MIN 32 /* a shortened value keeps this many bytes */
/*
 * A device id in every format: Defender's are 40 hex digits, and CEF's
 * deviceExternalId holds 255 characters.  A longer one (damaged data) is
 * cut there, so that it can never make its record too long to send.
 */
#define PAIRS_DEVICE_ID_MAX 255

/* What a row writes for its field. */
enum pairs_kind {
	PAIRS_HEADER, /* written in the header by the format */
	PAIRS_TEXT, /* the text, escaped, cut at max_chars */
	PAIRS_SHORTID, /* text, only when <= PAIRS_SHORTID_MAX chars */
	PAIRS_LONGID, /* text, only when longer */
	PAIRS_BOOL, /* record_bool(): the format's true/false */
	PAIRS_INT, /* -?(0|[1-9][0-9]*), at most 18 digits */
	PAIRS_EPOCH_MS, /* ISO 8601 text as epoch milliseconds */
	PAIRS_ALERT_EPOCH_MS, /* r->alert_time as epoch milliseconds */
	PAIRS_ISO_TIME, /* ISO 8601 text as YYYY-MM-DDTHH:MM:SS.fffffffZ */
	PAIRS_ALERT_ISO_TIME, /* r->alert_time in the same form */
	PAIRS_IPV4, /* only when the value is an IPv4 address */
	PAIRS_IPV6, /* only when it is an IPv6 address */
	PAIRS_IP, /* only when it is either */
	PAIRS_NOTIP, /* only when it is neither */
	PAIRS_HOST_IP, /* the device's address: see pairs_value() */
	PAIRS_CUSTOM, /* the format's own rule (raw field value) */
};

/*
 * How a pair fares when a message must be shortened (pairs_write()):
 * KEEP pairs (ids, times; README "never cut") always go in whole; HIGH
 * pairs ("kept whole") go in whole, each one that fits, in table order;
 * LOW pairs ("shortened first") are cut, longest first, down to a common
 * length but never below PAIRS_CUT_MIN bytes, before any HIGH pair is
 * left out; a HIGH text value that did not fit whole takes what room is
 * left at the end, cut; BULK pairs (JSON evidence) go in only whole and
 * only when everything else did.  A pair that does not fit is skipped,
 * never the end of the message: later pairs that fit still go in.
 */
enum pairs_prio {
	PAIRS_KEEP,
	PAIRS_HIGH,
	PAIRS_LOW,
	PAIRS_BULK,
};

struct pairs_map {
	enum record_field field; /* RF__COUNT: none (PAIRS_CUSTOM only) */
	const char *key; /* output key, or header field name */
	const char *label_key; /* CEF custom labels ("cs6Label"), or NULL */
	const char *label; /* its value ("Sha256") */
	unsigned max_chars; /* per-key limit in characters, 0: none */
	enum pairs_kind kind;
	enum pairs_prio prio;
};

/* A row's limit as text_escape() takes it: SIZE_MAX (TEXT_NOLIMIT), none. */
static inline size_t
pairs_max_chars(const struct pairs_map *m)
{
	return m->max_chars ? m->max_chars : SIZE_MAX;
}

/*
 * Values every message carries whole, in every format, right after its
 * header: X(field, CEF key, LEEF key, JSON key).  Adding one (a tenant's
 * name, say) is one line here, its field in RECORD_FIELDS and its rows in
 * README's mapping tables; each format's table takes the rows from here.
 * Example: X(RF_TENANT_NAME, "mdeTenantName", "tenantName", "tenant_name")
 */
#define PAIRS_ALWAYS(X) \
	X(RF_TENANT_NAME, "mdeTenantName", "tenantName", "tenant_name") \
	X(RF_TENANT_ID, "mdeTenantId", "tenantId", "tenant_id") \
	X(RF_REPLAY, "mdeReplay", "replay", "replay")

#define PAIRS_KEY_MAX 31 /* longest key, label key or label (kv style) */

/*
 * One format's way of writing pairs.
 *
 * The key=value style (CEF, LEEF), when esc is set: pairs.c writes each
 * pair itself as [sep]key=value, the value trimmed, escaped by esc and
 * cut at the row's max_chars, followed by sep label_key=label for rows
 * that have a label.  A PAIRS_CUSTOM row's value text comes from
 * custom(), which writes it into tmp (or returns 0 for none).
 *
 * Otherwise add() appends row m's pair for value p[0..n) (the raw field
 * for PAIRS_CUSTOM, which may be empty): the separator unless first is
 * set, the key, the value with at most cap bytes of it written
 * (TEXT_NOLIMIT: no cut).  It sets *vlen to the bytes the value took, or
 * appends nothing and sets *vlen = 0 when the value comes out empty.
 * Returns 0 or a buf error (out restored).
 */
struct pairs_ops {
	const struct pairs_map *map;
	size_t nmap; /* <= PAIRS_MAX */
	/* blanks trimmed before classifying ids and addresses; NULL: spaces */
	const struct text_esc *blanks;
	const char *btrue, *bfalse; /* PAIRS_BOOL texts */
	int lead_sep; /* the first pair has a separator too */
	const struct text_esc *esc; /* key=value style: value scheme */
	char sep; /* key=value style: between pairs */
	int (*custom)(const struct record *r, const struct pairs_map *m,
	    const char *p, size_t n, char tmp[PAIRS_TMP], const char **vp,
	    size_t *vn);
	int (*add)(struct buf *out, const struct record *r,
	    const struct pairs_map *m, const char *p, size_t n, size_t cap,
	    int first, size_t *vlen, const void *ctx);
	const void *ctx;
};

/*
 * The text row m of ops gives record r, in (*p, *n), or 0 when the row
 * writes nothing for this record (absent, empty, or not of the row's
 * kind).  Derived values (numbers, times) are written into tmp.  Header
 * and custom rows give the raw field (possibly empty).  PAIRS_HOST_IP
 * gives the first address of InternalIPv4List (else InternalIPv6List)
 * that is not loopback, link-local or unspecified.
 */
int pairs_value(const struct record *r, const struct pairs_map *m,
    const struct pairs_ops *ops, char tmp[PAIRS_TMP], const char **p,
    size_t *n);

/* What fitting a message into its size limit cost. */
struct pairs_result {
	unsigned shortened; /* values written shortened */
	unsigned dropped; /* values left out */
};

/*
 * Append r's pairs per ops after a message that began at out->len ==
 * start (its header already written).  max (0: no limit) bounds the
 * whole message from start, including tail bytes the caller appends
 * afterwards: tail when the message was not shortened, tail_cut when it
 * was (a format may mark a shortened message).  res (when not NULL) says
 * how many values were shortened and dropped; both are 0 when the
 * message fits as it is.  Returns 0; ERR_TOOBIG when the header and the
 * KEEP pairs alone do not fit, or out's own cap is reached; ERR_NOMEM.
 * On error the pairs are removed again (out is as on entry).
 */
int pairs_write(struct buf *out, size_t start, const struct record *r,
    const struct pairs_ops *ops, size_t max, size_t tail, size_t tail_cut,
    struct pairs_result *res);

/*
 * AF_INET or AF_INET6 when p[0..n) is an IPv4 or IPv6 address in the
 * notation inet_pton(3) accepts (no zone, no prefix length), else 0.
 */
int pairs_ip_family(const char *p, size_t n);

#endif
