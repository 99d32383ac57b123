/* SPDX-License-Identifier: MIT */
/*
 * CEF formatter (include/cef.h): turns a canonical record into one CEF:0
 * message for ArcSight, between normalisation and the spool.
 *
 * Rules (reference/formats.md sections 1 and 4):
 * - header fields escape "\" and "|", and turn every control character
 *   into a space; extension values escape "\", "=", LF, CR as \\ \= \n \r,
 *   turn other controls into spaces, are trimmed, and omitted when empty;
 * - invalid UTF-8 becomes U+FFFD everywhere;
 * - limits are counted in characters of the value, before escaping, and
 *   cut on character boundaries; escapes are never split, so no value
 *   ends in a lone backslash;
 * - every custom key (csN, cnN, c6aN, flexStringN, deviceCustomDateN)
 *   comes with its Label, times are epoch milliseconds.
 *
 * The common case is one pass: each value is escaped straight into the
 * output buffer.  Only a message over max_len is rebuilt once, with caps
 * computed from the lengths the first pass measured.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "cef.h"
#include "errcode.h"
#include "record.h"
#include "text.h"
#include "ts.h"

#define VENDOR_MAX 63
#define PRODUCT_MAX 63
#define VERSION_MAX 31
#define DEFAULT_NAME "Microsoft Defender for Endpoint detection"

/* Shortened values keep at least this many bytes before pairs are dropped. */
#define CUT_MIN 32

#define S 1023 /* most string keys of the CEF dictionary */
#define CS 4000 /* csN and our custom mde* keys */

/*
 * The mapping.  Rows 0-2 are the header; the rest is the extension in
 * output order.  AlertId goes to externalId when it fits its 40
 * characters, else to mdeAlertId (ids are never cut); IpAddress goes to
 * src, c6a2 or mdeIpAddress depending on what it holds.
 */
static const struct cef_mapping map[] = {
    {RF_IOA_DEFINITION_ID, "signatureId", NULL, NULL, 1023, CEF_HDR_SIGNATURE,
        CEF_KEEP},
    {RF_ALERT_TITLE, "name", NULL, NULL, 512, CEF_HDR_NAME, CEF_KEEP},
    {RF_SEVERITY, "severity", NULL, NULL, 0, CEF_HDR_SEVERITY, CEF_KEEP},

    {RF_ALERT_ID, "externalId", NULL, NULL, CEF_EXTERNALID_MAX, CEF_SHORTID,
        CEF_KEEP},
    {RF_ALERT_ID, "mdeAlertId", NULL, NULL, CS, CEF_LONGID, CEF_KEEP},
    {RF_FULL_ID, "cs3", "cs3Label", "FullId", CS, CEF_TEXT, CEF_KEEP},
    {RF_ALERT_TIME, "rt", NULL, NULL, 0, CEF_ALERT_TIME, CEF_KEEP},
    {RF_LAST_PROCESSED_TIME, "deviceCustomDate1", "deviceCustomDate1Label",
        "LastProcessedTimeUtc", 0, CEF_TIME, CEF_KEEP},
    {RF_DEVICE_ID, "deviceExternalId", NULL, NULL, 255, CEF_TEXT, CEF_KEEP},
    {RF_INCIDENT_ID, "mdeIncidentId", NULL, NULL, CS, CEF_TEXT, CEF_KEEP},

    {RF_MACHINE_NAME, "shost", NULL, NULL, S, CEF_TEXT, CEF_HIGH},
    {RF_MACHINE_DOMAIN, "sourceDnsDomain", NULL, NULL, 255, CEF_TEXT, CEF_HIGH},
    {RF_COMPUTER_DNS_NAME, "mdeComputerDnsName", NULL, NULL, CS, CEF_TEXT,
        CEF_HIGH},
    {RF_IP_ADDRESS, "src", NULL, NULL, 0, CEF_IPV4, CEF_HIGH},
    {RF_IP_ADDRESS, "c6a2", "c6a2Label", "Source IPv6 Address", 0, CEF_IPV6,
        CEF_HIGH},
    {RF_USER_NAME, "suser", NULL, NULL, S, CEF_TEXT, CEF_HIGH},
    {RF_USER_DOMAIN, "sntdom", NULL, NULL, 255, CEF_TEXT, CEF_HIGH},
    {RF_SHA1, "fileHash", NULL, NULL, 255, CEF_TEXT, CEF_HIGH},
    {RF_SHA256, "cs6", "cs6Label", "Sha256", CS, CEF_TEXT, CEF_HIGH},
    {RF_MD5, "cs5", "cs5Label", "Md5", CS, CEF_TEXT, CEF_HIGH},
    {RF_FILE_HASH, "mdeFileHash", NULL, NULL, CS, CEF_TEXT, CEF_HIGH},
    {RF_CATEGORY, "cat", NULL, NULL, S, CEF_TEXT, CEF_HIGH},
    {RF_SOURCE, "sourceServiceName", NULL, NULL, S, CEF_TEXT, CEF_HIGH},
    {RF_THREAT_NAME, "cs1", "cs1Label", "ThreatName", CS, CEF_TEXT, CEF_HIGH},
    {RF_THREAT_FAMILY, "mdeThreatFamily", NULL, NULL, CS, CEF_TEXT, CEF_HIGH},
    {RF_THREAT_CATEGORY, "mdeThreatCategory", NULL, NULL, CS, CEF_TEXT,
        CEF_HIGH},
    {RF_ACTOR, "cs4", "cs4Label", "Actor", CS, CEF_TEXT, CEF_HIGH},
    {RF_REMEDIATION_ACTION, "act", NULL, NULL, 63, CEF_TEXT, CEF_HIGH},
    {RF_REMEDIATION_IS_SUCCESS, "cn2", "cn2Label", "RemediationIsSuccess", 0,
        CEF_BOOL, CEF_HIGH},
    {RF_WAS_EXECUTING, "cn1", "cn1Label", "WasExecutingWhileDetected", 0,
        CEF_BOOL, CEF_HIGH},
    {RF_ALERT_PART, "cn3", "cn3Label", "AlertPart", 0, CEF_INT, CEF_HIGH},
    {RF_MACHINE_GROUP, "cs2", "cs2Label", "MachineGroup", CS, CEF_TEXT,
        CEF_HIGH},
    {RF_REPORT_ID, "mdeReportId", NULL, NULL, CS, CEF_TEXT, CEF_HIGH},
    {RF_IOC_UNIQUE_ID, "mdeIocUniqueId", NULL, NULL, CS, CEF_TEXT, CEF_HIGH},
    {RF_EXTERNAL_ID, "mdeExternalId", NULL, NULL, CS, CEF_TEXT, CEF_HIGH},
    {RF_STATUS, "mdeStatus", NULL, NULL, CS, CEF_TEXT, CEF_HIGH},
    {RF_CLASSIFICATION, "mdeClassification", NULL, NULL, CS, CEF_TEXT,
        CEF_HIGH},
    {RF_DETERMINATION, "mdeDetermination", NULL, NULL, CS, CEF_TEXT, CEF_HIGH},
    {RF_ASSIGNED_TO, "mdeAssignedTo", NULL, NULL, CS, CEF_TEXT, CEF_HIGH},
    {RF_SERVICE_SOURCE, "mdeServiceSource", NULL, NULL, CS, CEF_TEXT, CEF_HIGH},
    {RF_CREATED_TIME, "mdeAlertCreationTime", NULL, NULL, CS, CEF_TEXT,
        CEF_HIGH},
    {RF_LAST_UPDATE_TIME, "mdeLastUpdateTime", NULL, NULL, CS, CEF_TEXT,
        CEF_HIGH},

    {RF_FILE_NAME, "fname", NULL, NULL, S, CEF_TEXT, CEF_LOW},
    {RF_FILE_PATH, "filePath", NULL, NULL, S, CEF_TEXT, CEF_LOW},
    {RF_DESCRIPTION, "msg", NULL, NULL, S, CEF_TEXT, CEF_LOW},
    {RF_COMMAND_LINE, "mdeCommandLine", NULL, NULL, CS, CEF_TEXT, CEF_LOW},
    {RF_URL, "request", NULL, NULL, S, CEF_TEXT, CEF_LOW},
    {RF_IOC_NAME, "mdeIocName", NULL, NULL, CS, CEF_TEXT, CEF_LOW},
    {RF_IOC_VALUE, "mdeIocValue", NULL, NULL, CS, CEF_TEXT, CEF_LOW},
    {RF_CREATOR_IOC_NAME, "mdeCreatorIocName", NULL, NULL, CS, CEF_TEXT,
        CEF_LOW},
    {RF_CREATOR_IOC_VALUE, "mdeCreatorIocValue", NULL, NULL, CS, CEF_TEXT,
        CEF_LOW},
    {RF_LOGON_USERS, "suid", NULL, NULL, S, CEF_TEXT, CEF_LOW},
    {RF_INTERNAL_IPV4_LIST, "mdeInternalIPv4List", NULL, NULL, CS, CEF_TEXT,
        CEF_LOW},
    {RF_INTERNAL_IPV6_LIST, "mdeInternalIPv6List", NULL, NULL, CS, CEF_TEXT,
        CEF_LOW},
    {RF_DEVICE_TAGS, "mdeDeviceCreatedMachineTags", NULL, NULL, CS, CEF_TEXT,
        CEF_LOW},
    {RF_CLOUD_TAGS, "mdeCloudCreatedMachineTags", NULL, NULL, CS, CEF_TEXT,
        CEF_LOW},
    {RF_MITRE_TECHNIQUES, "mdeMitreTechniques", NULL, NULL, CS, CEF_TEXT,
        CEF_LOW},
    {RF_LINK_TO_WDATP, "flexString1", "flexString1Label", "LinkToWDATP", S,
        CEF_TEXT, CEF_LOW},
    {RF_INCIDENT_LINK_TO_WDATP, "flexString2", "flexString2Label",
        "IncidentLinkToWDATP", S, CEF_TEXT, CEF_LOW},
    {RF_LINK_TO_MTP, "mdeLinkToMTP", NULL, NULL, CS, CEF_TEXT, CEF_LOW},
    {RF_INCIDENT_LINK_TO_MTP, "mdeIncidentLinkToMTP", NULL, NULL, CS, CEF_TEXT,
        CEF_LOW},
    {RF_IP_ADDRESS, "mdeIpAddress", NULL, NULL, CS, CEF_NOTIP, CEF_LOW},
};

#undef S
#undef CS

#define NMAP (sizeof(map) / sizeof(map[0]))
#define ROW_SIGNATURE 0
#define ROW_NAME 1
#define ROW_EXT 3 /* first extension row */

/* Header fields: \ and | escaped, every control character a space. */
/* clang-format off */
static const struct text_esc hdr_esc = { {
	[0x00] = " ", [0x01] = " ", [0x02] = " ", [0x03] = " ",
	[0x04] = " ", [0x05] = " ", [0x06] = " ", [0x07] = " ",
	[0x08] = " ", [0x09] = " ", [0x0a] = " ", [0x0b] = " ",
	[0x0c] = " ", [0x0d] = " ", [0x0e] = " ", [0x0f] = " ",
	[0x10] = " ", [0x11] = " ", [0x12] = " ", [0x13] = " ",
	[0x14] = " ", [0x15] = " ", [0x16] = " ", [0x17] = " ",
	[0x18] = " ", [0x19] = " ", [0x1a] = " ", [0x1b] = " ",
	[0x1c] = " ", [0x1d] = " ", [0x1e] = " ", [0x1f] = " ",
	['\\'] = "\\\\", ['|'] = "\\|", [0x7f] = " ",
} };

/* Extension values: \ = LF CR escaped, other controls a space. */
static const struct text_esc ext_esc = { {
	[0x00] = " ", [0x01] = " ", [0x02] = " ", [0x03] = " ",
	[0x04] = " ", [0x05] = " ", [0x06] = " ", [0x07] = " ",
	[0x08] = " ", [0x09] = " ", [0x0a] = "\\n", [0x0b] = " ",
	[0x0c] = " ", [0x0d] = "\\r", [0x0e] = " ", [0x0f] = " ",
	[0x10] = " ", [0x11] = " ", [0x12] = " ", [0x13] = " ",
	[0x14] = " ", [0x15] = " ", [0x16] = " ", [0x17] = " ",
	[0x18] = " ", [0x19] = " ", [0x1a] = " ", [0x1b] = " ",
	[0x1c] = " ", [0x1d] = " ", [0x1e] = " ", [0x1f] = " ",
	['\\'] = "\\\\", ['='] = "\\=", [0x7f] = " ",
} };
/* clang-format on */

size_t
cef_mapping_count(void)
{
	return NMAP;
}

const struct cef_mapping *
cef_mapping_get(size_t i)
{
	return i < NMAP ? &map[i] : NULL;
}

int
cef_severity(const char *s, size_t n)
{
	static const struct {
		const char *name;
		size_t len;
		int sev;
	} sev[] = {
	    {"Informational", 13, 1},
	    {"Low", 3, 3},
	    {"Medium", 6, 5},
	    {"High", 4, 8},
	};
	size_t i;

	for (i = 0; i < sizeof(sev) / sizeof(sev[0]); i++)
		if (n == sev[i].len && strncasecmp(s, sev[i].name, n) == 0)
			return sev[i].sev;
	return 0;
}

/* Decimal text of v into tmp (at least 21 bytes); returns its start. */
static const char *
i64_text(int64_t v, char *tmp, size_t size, size_t *n)
{
	char *p = tmp + size;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	*n = (size_t)(tmp + size - p);
	return p;
}

static int
is_int(const struct strv *v)
{
	size_t i = 0;

	if (v->n > 0 && v->p[0] == '-')
		i++;
	if (i == v->n || v->n - i > 18)
		return 0;
	for (; i < v->n; i++)
		if (v->p[i] < '0' || v->p[i] > '9')
			return 0;
	return 1;
}

/* AF_INET, AF_INET6, or 0 for anything else. */
static int
ip_family(const char *p, size_t n)
{
	char tmp[64];
	unsigned char addr[16];

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

/*
 * The text row m writes for r, in (*p, *n) (tmp holds generated digits), or
 * 0 when the row writes nothing for this record.
 */
static int
row_value(const struct record *r, const struct cef_mapping *m, char *tmp,
    size_t tsize, const char **p, size_t *n)
{
	const struct strv *v = &r->f[m->field];
	struct ts t;
	int b, fam;

	*p = v->p;
	*n = v->n;
	switch (m->kind) {
	case CEF_BOOL:
		if ((b = record_bool(r, m->field)) < 0)
			return 0;
		*p = b ? "1" : "0";
		*n = 1;
		return 1;
	case CEF_INT:
		return is_int(v);
	case CEF_TIME:
		if (v->n == 0 || ts_parse(v->p, v->n, &t) != 0)
			return 0;
		*p = i64_text(ts_epoch_ms(&t), tmp, tsize, n);
		return 1;
	case CEF_ALERT_TIME:
		if (!r->has_alert_time)
			return 0;
		*p = i64_text(ts_epoch_ms(&r->alert_time), tmp, tsize, n);
		return 1;
	case CEF_IPV4:
	case CEF_IPV6:
	case CEF_NOTIP:
		text_trim_esc(p, n, &ext_esc);
		fam = ip_family(*p, *n);
		return *n > 0 &&
		    ((m->kind == CEF_IPV4 && fam == AF_INET) ||
		        (m->kind == CEF_IPV6 && fam == AF_INET6) ||
		        (m->kind == CEF_NOTIP && fam == 0));
	case CEF_SHORTID:
	case CEF_LONGID:
		text_trim_esc(p, n, &ext_esc);
		b = text_prefix_chars(*p, *n, CEF_EXTERNALID_MAX) == *n;
		return *n > 0 && b == (m->kind == CEF_SHORTID);
	default:
		return *n > 0;
	}
}

/*
 * Append row m's pair (with its label) for r, the value cut to cap bytes
 * after escaping.  *vlen and *plen get the escaped value's length and the
 * pair's length counting one separating space; both 0 when nothing was
 * written.
 */
static int
add_pair(struct buf *out, size_t ext, const struct record *r,
    const struct cef_mapping *m, size_t cap, size_t *vlen, size_t *plen)
{
	char tmp[24];
	const char *p;
	size_t n, start = out->len, added;
	size_t lim = m->max_chars ? m->max_chars : TEXT_NOLIMIT;
	int rc;

	*vlen = *plen = 0;
	if (cap == 0 || !row_value(r, m, tmp, sizeof(tmp), &p, &n))
		return 0;
	if ((start > ext && (rc = buf_addc(out, ' ')) != 0) ||
	    (rc = buf_adds(out, m->key)) != 0 ||
	    (rc = buf_addc(out, '=')) != 0 ||
	    (rc = text_escape(
	         out, p, n, &ext_esc, lim, cap, TEXT_TRIM, &added)) != 0)
		goto fail;
	if (added == 0) {
		buf_truncate(out, start);
		return 0;
	}
	if (m->label_key != NULL &&
	    ((rc = buf_addc(out, ' ')) != 0 ||
	        (rc = buf_adds(out, m->label_key)) != 0 ||
	        (rc = buf_addc(out, '=')) != 0 ||
	        (rc = buf_adds(out, m->label)) != 0))
		goto fail;
	*vlen = added;
	*plen = out->len - start + (start > ext ? 0 : 1);
	return 0;
fail:
	buf_truncate(out, start);
	return rc;
}

static int
add_ext(struct buf *out, const struct record *r, const size_t cap[],
    size_t vlen[], size_t plen[])
{
	size_t ext = out->len, i;
	int rc;

	for (i = ROW_EXT; i < NMAP; i++)
		if ((rc = add_pair(out, ext, r, &map[i], cap[i], &vlen[i],
		         &plen[i])) != 0)
			return rc;
	return 0;
}

/* Header field text, escaped and limited, then its closing '|'. */
static int
add_hdr(struct buf *out, const char *s, size_t n, size_t max_chars)
{
	int rc;

	if ((rc = text_escape(
	         out, s, n, &hdr_esc, max_chars, TEXT_NOLIMIT, 0, NULL)) != 0)
		return rc;
	return buf_addc(out, '|');
}

static int
add_opt(struct buf *out, const char *s, const char *dflt, size_t max)
{
	if (s == NULL || *s == '\0')
		s = dflt;
	return add_hdr(out, s, strlen(s), max);
}

/*
 * Signature without an IoaDefinitionId: "mde-" and the FNV-1a 64-bit hash
 * of the AlertTitle bytes as received (empty when absent) in 16 lowercase
 * hex digits.  The same title always gives the same id, so ArcSight can
 * still group events by type.
 */
static int
add_fallback_sig(struct buf *out, const struct strv *title)
{
	static const char hex[] = "0123456789abcdef";
	char sig[21];
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < title->n; i++) {
		h ^= (unsigned char)title->p[i];
		h *= 0x100000001b3ULL;
	}
	memcpy(sig, "mde-", 4);
	for (i = 0; i < 16; i++)
		sig[4 + i] = hex[(h >> (60 - 4 * i)) & 0xf];
	sig[20] = '|';
	return buf_add(out, sig, sizeof(sig));
}

static int
add_header(struct buf *out, const struct record *r, const struct cef_opts *o)
{
	const struct strv *sig = &r->f[RF_IOA_DEFINITION_ID];
	const struct strv *name = &r->f[RF_ALERT_TITLE];
	const struct strv *sev = &r->f[RF_SEVERITY];
	int rc;

	rc = buf_add(out, "CEF:0|", 6);
	if (rc == 0)
		rc = add_opt(out, o->vendor, CEF_DEFAULT_VENDOR, VENDOR_MAX);
	if (rc == 0)
		rc = add_opt(out, o->product, CEF_DEFAULT_PRODUCT, PRODUCT_MAX);
	if (rc == 0)
		rc = add_opt(out, o->version, CEF_DEFAULT_VERSION, VERSION_MAX);
	if (rc != 0)
		return rc;
	if (sig->n > 0)
		rc = add_hdr(out, sig->p, sig->n, map[ROW_SIGNATURE].max_chars);
	else
		rc = add_fallback_sig(out, name);
	if (rc != 0)
		return rc;
	if (name->n > 0)
		rc = add_hdr(out, name->p, name->n, map[ROW_NAME].max_chars);
	else
		rc = add_hdr(
		    out, DEFAULT_NAME, sizeof(DEFAULT_NAME) - 1, TEXT_NOLIMIT);
	if (rc != 0 ||
	    (rc = buf_add_i64(out, cef_severity(sev->p, sev->n))) != 0)
		return rc;
	return buf_addc(out, '|');
}

/* Message length with the pairs in plen (pairs count one space each). */
static size_t
msg_len(size_t hdr, const size_t plen[])
{
	size_t i, sum = 0;
	int any = 0;

	for (i = ROW_EXT; i < NMAP; i++) {
		sum += plen[i];
		any |= plen[i] > 0;
	}
	return hdr + sum - (any ? 1 : 0);
}

/*
 * Largest cap >= CUT_MIN such that cutting every LOW value longer than cap
 * down to cap saves at least excess bytes ("longest first": the values end
 * up levelled), or 0 when even CUT_MIN does not save enough.
 */
static size_t
water_level(const size_t vlen[], const size_t plen[], size_t excess)
{
	size_t l[NMAP] = {0}, k = 0, i, j, sum = 0, next, t;

	for (i = ROW_EXT; i < NMAP; i++) {
		if (map[i].prio != CEF_LOW || plen[i] == 0 ||
		    vlen[i] <= CUT_MIN)
			continue;
		for (j = k++; j > 0 && l[j - 1] < vlen[i]; j--)
			l[j] = l[j - 1];
		l[j] = vlen[i];
	}
	for (j = 0; j < k; j++) {
		sum += l[j];
		next = j + 1 < k ? l[j + 1] : CUT_MIN;
		t = (j + 1) * next;
		if (sum >= t && sum - t >= excess)
			return (sum - excess) / (j + 1);
	}
	return 0;
}

/*
 * Caps that make the message fit max bytes, from the first pass's
 * lengths: level the LOW values; if that is not enough, drop pairs from
 * the end of the table (LOW, then HIGH) and level the rest again.
 * ERR_TOOBIG when only KEEP pairs are left and it still does not fit.
 */
static int
plan(size_t hdr, size_t max, const size_t vlen[], size_t plen[], size_t cap[])
{
	size_t len, c, i;
	enum cef_prio prio = CEF_LOW;

	for (;;) {
		if ((len = msg_len(hdr, plen)) <= max)
			return 0;
		if ((c = water_level(vlen, plen, len - max)) > 0) {
			for (i = ROW_EXT; i < NMAP; i++)
				if (map[i].prio == CEF_LOW && plen[i] > 0 &&
				    vlen[i] > c)
					cap[i] = c;
			return 0;
		}
		for (i = NMAP; i-- > ROW_EXT;)
			if (map[i].prio == prio && plen[i] > 0)
				break;
		if (i < ROW_EXT) {
			if (prio == CEF_HIGH)
				return ERR_TOOBIG;
			prio = CEF_HIGH;
			continue;
		}
		cap[i] = 0;
		plen[i] = 0;
	}
}

int
cef_format(struct buf *out, const struct record *r, const struct cef_opts *o)
{
	size_t start = out->len, hdr, i;
	size_t cap[NMAP], vlen[NMAP], plen[NMAP];
	int rc;

	for (i = 0; i < NMAP; i++)
		cap[i] = TEXT_NOLIMIT;
	if ((rc = add_header(out, r, o)) != 0)
		goto fail;
	hdr = out->len - start;
	if ((rc = add_ext(out, r, cap, vlen, plen)) != 0)
		goto fail;
	if (o->max_len == 0 || out->len - start <= o->max_len)
		return 0;

	/* Rare: rebuild the extension with caps that make it fit. */
	if ((rc = plan(hdr, o->max_len, vlen, plen, cap)) != 0)
		goto fail;
	buf_truncate(out, start + hdr);
	if ((rc = add_ext(out, r, cap, vlen, plen)) != 0)
		goto fail;
	if (out->len - start > o->max_len) {
		rc = ERR_TOOBIG;
		goto fail;
	}
	return 0;
fail:
	buf_truncate(out, start);
	return rc;
}
