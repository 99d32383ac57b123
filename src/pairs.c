/* SPDX-License-Identifier: MIT */
/*
 * The pair writer shared by the formatters (include/pairs.h).  A format's
 * mapping table says which field goes under which key, of which kind and
 * priority; this file turns fields into values and writes the pairs
 * through the format's add() in one pass.  Only a message over its size
 * limit takes a second pass, with per-row caps planned from the lengths
 * the first pass measured (plan()), so the common case costs one walk
 * over the table, and no case allocates or copies a value.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "errcode.h"
#include "pairs.h"
#include "record.h"
#include "text.h"
#include "ts.h"

_Static_assert(PAIRS_TMP >= TS_STRLEN, "PAIRS_TMP too small for a time");
_Static_assert(PAIRS_TMP >= BUF_I64_LEN, "PAIRS_TMP too small for an int64");

/* A JSON-shaped integer: -?(0|[1-9][0-9]*), at most 18 digits. */
static int
is_int(const char *p, size_t n)
{
	size_t i = 0;

	if (n > 0 && p[0] == '-')
		i++;
	if (i == n || n - i > 18 || (p[i] == '0' && n - i > 1))
		return 0;
	for (; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return 1;
}

static int
ip_parse(const char *p, size_t n, unsigned char addr[16])
{
	char tmp[64];

	if (n == 0 || n >= sizeof(tmp) || memchr(p, '\0', n) != NULL)
		return 0;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	if (inet_pton(AF_INET, tmp, addr) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, tmp, addr) == 1)
		return AF_INET6;
	return 0;
}

int
pairs_ip_family(const char *p, size_t n)
{
	unsigned char addr[16];

	return ip_parse(p, n, addr);
}

/* Loopback, link-local or unspecified: says nothing about the device. */
static int
ip_local(int fam, const unsigned char *a)
{
	static const unsigned char zero[16];

	if (fam == AF_INET)
		return a[0] == 127 || a[0] == 0 || (a[0] == 169 && a[1] == 254);
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return 1;
	return memcmp(a, zero, 15) == 0 && (a[15] == 0 || a[15] == 1);
}

static int
is_sep(char c)
{
	return c == ',' || c == ';' || c == ' ' || c == '\t' || c == '\r' ||
	    c == '\n';
}

/* First usable address of family fam in a list like "a, b; c d". */
static int
first_ip(const struct strv *v, int fam, const char **p, size_t *n)
{
	unsigned char addr[16];
	size_t i = 0, j;

	while (i < v->n) {
		while (i < v->n && is_sep(v->p[i]))
			i++;
		for (j = i; j < v->n && !is_sep(v->p[j]); j++)
			;
		if (j > i && ip_parse(v->p + i, j - i, addr) == fam &&
		    !ip_local(fam, addr)) {
			*p = v->p + i;
			*n = j - i;
			return 1;
		}
		i = j;
	}
	return 0;
}

static void
trim(const struct pairs_ops *ops, const char **p, size_t *n)
{
	if (ops->blanks != NULL)
		text_trim_esc(p, n, ops->blanks);
	else
		text_trim(p, n);
}

/*
 * The address family of the last text classified: one field feeds
 * several address rows (src, c6a2, mdeIpAddress), and inet_pton() is the
 * dearest step of a row.
 */
struct ipmemo {
	const char *p;
	size_t n;
	int fam;
};

/* The kinds that classify the (trimmed) text itself. */
static int
classify(const struct pairs_map *m, const struct pairs_ops *ops, const char **p,
    size_t *n, struct ipmemo *memo)
{
	int fam;

	trim(ops, p, n);
	if (*n == 0)
		return 0;
	switch (m->kind) {
	case PAIRS_SHORTID: /* n bytes are at most n characters */
		return *n <= PAIRS_SHORTID_MAX ||
		    text_prefix_chars(*p, *n, PAIRS_SHORTID_MAX) == *n;
	case PAIRS_LONGID:
		return *n > PAIRS_SHORTID_MAX &&
		    text_prefix_chars(*p, *n, PAIRS_SHORTID_MAX) < *n;
	default:
		break;
	}
	if (memo->p == *p && memo->n == *n)
		fam = memo->fam;
	else {
		fam = pairs_ip_family(*p, *n);
		memo->p = *p;
		memo->n = *n;
		memo->fam = fam;
	}
	switch (m->kind) {
	case PAIRS_IPV4:
		return fam == AF_INET;
	case PAIRS_IPV6:
		return fam == AF_INET6;
	case PAIRS_IP:
		return fam != 0;
	default:
		return fam == 0;
	}
}

static int
time_value(const struct record *r, const struct pairs_map *m,
    char tmp[PAIRS_TMP], const char **p, size_t *n)
{
	struct ts t;

	if (m->kind == PAIRS_ALERT_EPOCH_MS ||
	    m->kind == PAIRS_ALERT_ISO_TIME) {
		if (!r->has_alert_time)
			return 0;
		t = r->alert_time;
	} else if (*n > 0 && *p == r->order_src.p && *n == r->order_src.n)
		t = r->order_time; /* the normaliser read this text already */
	else if (*n == 0 || ts_parse(*p, *n, &t) != 0)
		return 0;
	if (m->kind == PAIRS_EPOCH_MS || m->kind == PAIRS_ALERT_EPOCH_MS) {
		*p = buf_i64_text(ts_epoch_ms(&t), tmp, n);
		return 1;
	}
	ts_format7(&t, tmp);
	*p = tmp;
	*n = TS_STRLEN - 1;
	return 1;
}

static int
value_of(const struct record *r, const struct pairs_map *m,
    const struct pairs_ops *ops, char tmp[PAIRS_TMP], const char **p, size_t *n,
    struct ipmemo *memo)
{
	int b;

	*p = "";
	*n = 0;
	if ((unsigned)m->field < RF__COUNT && r->f[m->field].n > 0) {
		*p = r->f[m->field].p;
		*n = r->f[m->field].n;
	}
	switch (m->kind) {
	case PAIRS_HEADER:
	case PAIRS_CUSTOM:
		return 1;
	case PAIRS_TEXT:
		return *n > 0;
	case PAIRS_BOOL:
		if ((b = record_bool(r, m->field)) < 0)
			return 0;
		*p = b ? ops->btrue : ops->bfalse;
		*n = strlen(*p);
		return 1;
	case PAIRS_INT:
		return is_int(*p, *n);
	case PAIRS_EPOCH_MS:
	case PAIRS_ALERT_EPOCH_MS:
	case PAIRS_ISO_TIME:
	case PAIRS_ALERT_ISO_TIME:
		return time_value(r, m, tmp, p, n);
	case PAIRS_HOST_IP:
		return first_ip(&r->f[RF_INTERNAL_IPV4_LIST], AF_INET, p, n) ||
		    first_ip(&r->f[RF_INTERNAL_IPV6_LIST], AF_INET6, p, n);
	default:
		return classify(m, ops, p, n, memo);
	}
}

int
pairs_value(const struct record *r, const struct pairs_map *m,
    const struct pairs_ops *ops, char tmp[PAIRS_TMP], const char **p, size_t *n)
{
	struct ipmemo memo = {NULL, 0, 0};

	return value_of(r, m, ops, tmp, p, n, &memo);
}

/*
 * [sep]key=value[sep label_key=label] for row m (the key=value style of
 * struct pairs_ops), at most cap bytes of value; *vlen as add() sets it.
 */
static int
add_kv(struct buf *out, const struct pairs_map *m, const char *p, size_t n,
    size_t cap, int first, const struct pairs_ops *ops, size_t *vlen)
{
	size_t start = out->len, added;
	char *d;
	int rc;

	*vlen = 0;
	/* [sep]key= ; the value reserves its own room */
	if ((rc = buf_reserve(out, PAIRS_KEY_MAX + 2)) != 0)
		return rc;
	d = out->data + out->len;
	if (!first)
		*d++ = ops->sep;
	d = stpcpy(d, m->key);
	*d++ = '=';
	out->len = (size_t)(d - out->data);
	if ((rc = text_escape(out, p, n, ops->esc, pairs_max_chars(m), cap,
	         TEXT_TRIM, &added)) != 0) {
		buf_truncate(out, start);
		return rc;
	}
	if (added == 0) {
		buf_truncate(out, start);
		return 0;
	}
	if (m->label_key != NULL) {
		/* sep label_key=label */
		if ((rc = buf_reserve(out, 2 * PAIRS_KEY_MAX + 2)) != 0) {
			buf_truncate(out, start);
			return rc;
		}
		d = out->data + out->len;
		*d++ = ops->sep;
		d = stpcpy(d, m->label_key);
		*d++ = '=';
		out->len = (size_t)(stpcpy(d, m->label) - out->data);
	}
	*vlen = added;
	return 0;
}

/*
 * Bytes past the limit at which the first pass stops writing a value
 * longer than the whole limit: enough for the plan to see that it cannot
 * go in whole (it never levels a value past the room a message has), and
 * a hostile megabyte value is not escaped (nor the buffer grown) whole.
 */
#define PAIRS_OVER 64

/*
 * Append every pair with its cap (cap NULL: each whole); record lengths per
 * row.  big (the first pass's limit, 0: none) bounds what a value longer
 * than it may write: big + PAIRS_OVER bytes.
 */
static int
add_all(struct buf *out, const struct record *r, const struct pairs_ops *ops,
    const size_t cap[], size_t vlen[], size_t plen[], size_t big)
{
	const struct pairs_map *m;
	struct ipmemo memo = {NULL, 0, 0};
	char tmp[PAIRS_TMP];
	const char *p;
	size_t body = out->len, before, n, i, c, carry = 0;
	int first, rc;

	/* Most rows write nothing: their lengths are zero from here. */
	memset(vlen, 0, ops->nmap * sizeof(vlen[0]));
	memset(plen, 0, ops->nmap * sizeof(plen[0]));
	for (i = 0; i < ops->nmap; i++) {
		m = &ops->map[i];
		/* most rows are text, and many fields are empty */
		if (m->kind == PAIRS_TEXT) {
			if ((n = r->f[m->field].n) == 0 ||
			    (cap != NULL && cap[i] == 0))
				continue;
			p = r->f[m->field].p;
		} else if (m->kind == PAIRS_HEADER ||
		    (cap != NULL && cap[i] == 0) ||
		    !value_of(r, m, ops, tmp, &p, &n, &memo))
			continue;
		first = !ops->lead_sep && out->len == body;
		before = out->len;
		/* a cut value gets what earlier cut values left unused (they
		 * stop on whole characters and escapes) */
		c = cap == NULL || cap[i] == TEXT_NOLIMIT ? TEXT_NOLIMIT
		                                          : cap[i] + carry;
		if (big > 0 && n > big)
			c = big + PAIRS_OVER;
		if (ops->esc == NULL)
			rc = ops->add(
			    out, r, m, p, n, c, first, &vlen[i], ops->ctx);
		else if (m->kind == PAIRS_CUSTOM &&
		    (ops->custom == NULL ||
		        !ops->custom(r, m, p, n, tmp, &p, &n)))
			continue;
		else
			rc = add_kv(out, m, p, n, c, first, ops, &vlen[i]);
		if (rc != 0)
			return rc;
		if (cap != NULL && cap[i] != TEXT_NOLIMIT)
			carry = c - vlen[i];
		if (vlen[i] == 0) {
			buf_truncate(out, before);
			continue;
		}
		/* every pair counts one separator, the first one too */
		plen[i] = out->len - before + (first ? 1 : 0);
	}
	return 0;
}

/*
 * Packing a message over its limit (README "Fitting max_message_size"):
 * the first pass measured every pair at full length (plen: the pair with
 * its separator and label, vlen: the value's bytes); the plan gives each
 * row a cap, and the second pass writes with those caps.
 *
 * 1. KEEP pairs go in whole; when they alone do not fit: ERR_TOOBIG.
 * 2. HIGH pairs, in table order, each whole when it fits in the room
 *    left; one that does not fit is skipped, the next ones still tried.
 * 3. LOW pairs, in table order, each at its minimum (the value's first
 *    PAIRS_CUT_MIN bytes, or all of a shorter one) when that fits.
 * 4. The room left lengthens the LOW values taken, shortest needs first:
 *    the longest are cut down to one common length (the water level).
 * 5. Room still left goes to the HIGH text values skipped in 2, in table
 *    order, cut to it (at least PAIRS_CUT_MIN bytes).
 * 6. BULK pairs (JSON evidence) whole, when they still fit.
 * A row's cap is TEXT_NOLIMIT (whole), 0 (dropped) or the bytes its value
 * may take.
 */
struct room {
	size_t left;
};

static int
take(struct room *rm, size_t n)
{
	if (n > rm->left)
		return 0;
	rm->left -= n;
	return 1;
}

static size_t
min_of(size_t a, size_t b)
{
	return a < b ? a : b;
}

/*
 * Step 4: the highest level L (>= PAIRS_CUT_MIN) such that lengthening
 * every taken LOW value to min(vlen, L) costs at most extra bytes; the
 * bytes below the next level are handed out one by one in table order.
 */
static void
level_low(const struct pairs_ops *ops, const size_t vlen[], size_t cap[],
    struct room *rm)
{
	size_t i, lo = PAIRS_CUT_MIN, hi = PAIRS_CUT_MIN, mid, need, more;

	for (i = 0; i < ops->nmap; i++)
		if (ops->map[i].prio == PAIRS_LOW && cap[i] != 0 &&
		    vlen[i] > hi)
			hi = vlen[i];
	/* largest level whose cost fits: binary search over lengths */
	while (lo < hi) {
		mid = lo + (hi - lo + 1) / 2;
		need = 0;
		for (i = 0; i < ops->nmap; i++)
			if (ops->map[i].prio == PAIRS_LOW && cap[i] != 0 &&
			    vlen[i] > PAIRS_CUT_MIN)
				need += min_of(vlen[i], mid) - PAIRS_CUT_MIN;
		if (need <= rm->left)
			lo = mid;
		else
			hi = mid - 1;
	}
	for (i = 0; i < ops->nmap; i++) {
		if (ops->map[i].prio != PAIRS_LOW || cap[i] == 0 ||
		    vlen[i] <= PAIRS_CUT_MIN)
			continue;
		rm->left -= min_of(vlen[i], lo) - PAIRS_CUT_MIN;
		cap[i] = vlen[i] <= lo ? TEXT_NOLIMIT : lo;
	}
	/* the remainder: one more byte for each value still cut */
	for (i = 0; i < ops->nmap && rm->left > 0; i++) {
		if (ops->map[i].prio != PAIRS_LOW || cap[i] == 0 ||
		    cap[i] == TEXT_NOLIMIT)
			continue;
		more = min_of(rm->left, vlen[i] - cap[i]);
		cap[i] += more;
		rm->left -= more;
		if (cap[i] == vlen[i])
			cap[i] = TEXT_NOLIMIT;
	}
}

static int
plan(const struct pairs_ops *ops, size_t fixed, size_t max, const size_t vlen[],
    const size_t plen[], size_t cap[])
{
	const struct pairs_map *m;
	struct room rm;
	size_t i, keep = 0, over;

	/* every pair counts one separator: the first one has none */
	rm.left = max + (ops->lead_sep ? 0 : 1);
	for (i = 0; i < ops->nmap; i++)
		if (ops->map[i].prio == PAIRS_KEEP)
			keep += plen[i];
	if (fixed > max || fixed + keep > rm.left)
		return ERR_TOOBIG;
	rm.left -= fixed + keep;
	for (i = 0; i < ops->nmap; i++) {
		m = &ops->map[i];
		cap[i] =
		    plen[i] == 0 || m->prio == PAIRS_KEEP ? TEXT_NOLIMIT : 0;
		if (m->prio == PAIRS_HIGH && plen[i] > 0 && take(&rm, plen[i]))
			cap[i] = TEXT_NOLIMIT;
	}
	for (i = 0; i < ops->nmap; i++)
		if (ops->map[i].prio == PAIRS_LOW && plen[i] > 0 &&
		    take(&rm,
		        plen[i] - vlen[i] + min_of(vlen[i], PAIRS_CUT_MIN)))
			cap[i] = vlen[i] <= PAIRS_CUT_MIN ? TEXT_NOLIMIT
			                                  : PAIRS_CUT_MIN;
	level_low(ops, vlen, cap, &rm);
	for (i = 0; i < ops->nmap; i++) {
		m = &ops->map[i];
		over = plen[i] - vlen[i];
		if (m->prio != PAIRS_HIGH || m->kind != PAIRS_TEXT ||
		    plen[i] == 0 || cap[i] != 0 ||
		    rm.left < over + PAIRS_CUT_MIN)
			continue;
		cap[i] = rm.left - over; /* < vlen: the whole did not fit */
		rm.left = 0;
	}
	for (i = 0; i < ops->nmap; i++)
		if (ops->map[i].prio == PAIRS_BULK && plen[i] > 0 &&
		    take(&rm, plen[i]))
			cap[i] = TEXT_NOLIMIT;
	return 0;
}

/* What the second pass changed: values dropped, values shortened. */
static void
count_changes(const struct pairs_ops *ops, const size_t full[],
    const size_t vlen[], struct pairs_result *res)
{
	size_t i;

	for (i = 0; i < ops->nmap; i++) {
		if (full[i] == 0)
			continue;
		if (vlen[i] == 0)
			res->dropped++;
		else if (vlen[i] < full[i])
			res->shortened++;
	}
}

int
pairs_write(struct buf *out, size_t start, const struct record *r,
    const struct pairs_ops *ops, size_t max, size_t tail, size_t tail_cut,
    struct pairs_result *res)
{
	size_t cap[PAIRS_MAX], vlen[PAIRS_MAX], plen[PAIRS_MAX];
	size_t full[PAIRS_MAX];
	size_t body = out->len;
	struct pairs_result own;
	int rc;

	if (res == NULL)
		res = &own;
	res->shortened = res->dropped = 0;
	if (ops->nmap > PAIRS_MAX)
		return ERR_CONFIG;
	if ((rc = add_all(out, r, ops, NULL, vlen, plen, max)) != 0)
		goto fail;
	if (max == 0 || out->len - start + tail <= max)
		return 0;

	/* Rare: rebuild the pairs with caps that make the message fit. */
	if ((rc = plan(ops, body - start + tail_cut, max, vlen, plen, cap)) !=
	    0)
		goto fail;
	memcpy(full, vlen, ops->nmap * sizeof(full[0]));
	buf_truncate(out, body);
	if ((rc = add_all(out, r, ops, cap, vlen, plen, 0)) != 0)
		goto fail;
	if (out->len - start + tail_cut > max) {
		rc =
		    ERR_TOOBIG; /* cannot happen: the plan counted every byte */
		goto fail;
	}
	count_changes(ops, full, vlen, res);
	return 0;
fail:
	buf_truncate(out, body);
	return rc;
}
