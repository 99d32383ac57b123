/* SPDX-License-Identifier: MIT */
/*
 * LEEF formatter (include/leef.h): turns a canonical record into one LEEF
 * 1.0 or 2.0 event for QRadar, between normalisation and the spool.
 *
 * Rules (reference/formats.md sections 2 and 4):
 * - header: "LEEF:2.0|Vendor|Product|Version|EventID|Delimiter|" (the
 *   delimiter itself, or xHH for TAB) or "LEEF:1.0|...|EventID|"; in
 *   header fields '|', CR, LF, every other control character and DEL
 *   become a space, fields are trimmed; EventID is the CEF signature id,
 *   at most 255 characters;
 * - attributes "key=value" joined by the delimiter (TAB for 1.0), no
 *   trailing delimiter; keys are alphanumeric, each at most once, custom
 *   keys never reuse a predefined name;
 * - values: the delimiter, CR, LF, every other control character and DEL
 *   become a space (LEEF has no escaping), invalid UTF-8 becomes U+FFFD,
 *   blanks are trimmed, empty values omitted; '\', '=', '|' stay as they
 *   are;
 * - devTime is epoch milliseconds (no devTimeFormat needed), sev is 1-10.
 */
#include <string.h>

#include "buf.h"
#include "cef.h"
#include "errcode.h"
#include "leef.h"
#include "pairs.h"
#include "record.h"
#include "severity.h"
#include "text.h"

#define VENDOR_MAX 63 /* as for CEF: IBM gives no limit */
#define PRODUCT_MAX 63
#define VERSION_MAX 31
#define USR_MAX 255 /* usrName, identHostName: IBM's limit */

/*
 * The mapping.  Row 0 is the header's EventID; the rest are attributes in
 * output order: QRadar's predefined keys first, then custom keys.
 * IpAddress goes to src when it is an address, else to ipAddress;
 * identSrc is the device's first address from its internal address lists
 * (IBM: identHostName is usable only together with identSrc).
 */
#define ALWAYS_ROW(f, cef, leef, json) \
	{f, leef, NULL, NULL, 0, PAIRS_TEXT, PAIRS_KEEP},
static const struct pairs_map map[] = {
    {RF_IOA_DEFINITION_ID, "EventID", NULL, NULL, LEEF_EVENTID_MAX,
        PAIRS_HEADER, PAIRS_KEEP},
    PAIRS_ALWAYS(ALWAYS_ROW)

        {RF_ALERT_TIME, "devTime", NULL, NULL, 0, PAIRS_ALERT_EPOCH_MS,
            PAIRS_KEEP},
    {RF_SEVERITY, "sev", NULL, NULL, 0, PAIRS_CUSTOM, PAIRS_KEEP},
    {RF_ALERT_ID, "alertId", NULL, NULL, 0, PAIRS_TEXT, PAIRS_KEEP},
    {RF_FULL_ID, "fullId", NULL, NULL, 0, PAIRS_TEXT, PAIRS_KEEP},
    {RF_LAST_PROCESSED_TIME, "lastProcessedTime", NULL, NULL, 0, PAIRS_TEXT,
        PAIRS_KEEP},
    {RF_DEVICE_ID, "deviceId", NULL, NULL, PAIRS_DEVICE_ID_MAX, PAIRS_TEXT,
        PAIRS_KEEP},
    {RF_INCIDENT_ID, "incidentId", NULL, NULL, 0, PAIRS_TEXT, PAIRS_KEEP},
    {RF_LAST_UPDATE_TIME, "lastUpdateTime", NULL, NULL, 0, PAIRS_TEXT,
        PAIRS_KEEP},

    {RF_CATEGORY, "cat", NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_INTERNAL_IPV4_LIST, "identSrc", NULL, NULL, 0, PAIRS_HOST_IP,
        PAIRS_HIGH},
    {RF_COMPUTER_DNS_NAME, "identHostName", NULL, NULL, USR_MAX, PAIRS_TEXT,
        PAIRS_HIGH},
    {RF_MACHINE_NAME, "resource", NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_IP_ADDRESS, "src", NULL, NULL, 0, PAIRS_IP, PAIRS_HIGH},
    {RF_USER_NAME, "usrName", NULL, NULL, USR_MAX, PAIRS_TEXT, PAIRS_HIGH},
    {RF_USER_DOMAIN, "domain", NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_SOURCE, "policy", NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_MACHINE_DOMAIN, "machineDomain", NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_SHA1, "sha1", NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_SHA256, "sha256", NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_MD5, "md5", NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_FILE_HASH, "fileHash", NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_THREAT_NAME, "threatName", NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_THREAT_FAMILY, "threatFamily", NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_THREAT_CATEGORY, "threatCategory", NULL, NULL, 0, PAIRS_TEXT,
        PAIRS_HIGH},
    {RF_ACTOR, "actor", NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_REMEDIATION_ACTION, "remediationAction", NULL, NULL, 0, PAIRS_TEXT,
        PAIRS_HIGH},
    {RF_REMEDIATION_IS_SUCCESS, "remediationIsSuccess", NULL, NULL, 0,
        PAIRS_BOOL, PAIRS_HIGH},
    {RF_WAS_EXECUTING, "wasExecutingWhileDetected", NULL, NULL, 0, PAIRS_BOOL,
        PAIRS_HIGH},
    {RF_ALERT_PART, "alertPart", NULL, NULL, 0, PAIRS_INT, PAIRS_HIGH},
    {RF_MACHINE_GROUP, "machineGroup", NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_REPORT_ID, "reportId", NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_IOC_UNIQUE_ID, "iocUniqueId", NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_EXTERNAL_ID, "externalId", NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_STATUS, "status", NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_CLASSIFICATION, "classification", NULL, NULL, 0, PAIRS_TEXT,
        PAIRS_HIGH},
    {RF_DETERMINATION, "determination", NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_ASSIGNED_TO, "assignedTo", NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_SERVICE_SOURCE, "serviceSource", NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_CREATED_TIME, "alertCreationTime", NULL, NULL, 0, PAIRS_TEXT,
        PAIRS_HIGH},
    {RF_PRODUCT_NAME, "productName", NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_ALERT_POLICY_ID, "alertPolicyId", NULL, NULL, 0, PAIRS_TEXT,
        PAIRS_HIGH},
    {RF_INVESTIGATION_STATE, "investigationState", NULL, NULL, 0, PAIRS_TEXT,
        PAIRS_HIGH},

    {RF_ALERT_TITLE, "alertTitle", NULL, NULL, 0, PAIRS_TEXT, PAIRS_LOW},
    {RF_FILE_NAME, "fileName", NULL, NULL, 0, PAIRS_TEXT, PAIRS_LOW},
    {RF_FILE_PATH, "filePath", NULL, NULL, 0, PAIRS_TEXT, PAIRS_LOW},
    {RF_DESCRIPTION, "description", NULL, NULL, 0, PAIRS_TEXT, PAIRS_LOW},
    {RF_COMMAND_LINE, "commandLine", NULL, NULL, 0, PAIRS_TEXT, PAIRS_LOW},
    {RF_URL, "url", NULL, NULL, 0, PAIRS_TEXT, PAIRS_LOW},
    {RF_IOC_NAME, "iocName", NULL, NULL, 0, PAIRS_TEXT, PAIRS_LOW},
    {RF_IOC_VALUE, "iocValue", NULL, NULL, 0, PAIRS_TEXT, PAIRS_LOW},
    {RF_CREATOR_IOC_NAME, "creatorIocName", NULL, NULL, 0, PAIRS_TEXT,
        PAIRS_LOW},
    {RF_CREATOR_IOC_VALUE, "creatorIocValue", NULL, NULL, 0, PAIRS_TEXT,
        PAIRS_LOW},
    {RF_LOGON_USERS, "logOnUsers", NULL, NULL, 0, PAIRS_TEXT, PAIRS_LOW},
    {RF_INTERNAL_IPV4_LIST, "internalIPv4List", NULL, NULL, 0, PAIRS_TEXT,
        PAIRS_LOW},
    {RF_INTERNAL_IPV6_LIST, "internalIPv6List", NULL, NULL, 0, PAIRS_TEXT,
        PAIRS_LOW},
    {RF_DEVICE_TAGS, "deviceCreatedMachineTags", NULL, NULL, 0, PAIRS_TEXT,
        PAIRS_LOW},
    {RF_CLOUD_TAGS, "cloudCreatedMachineTags", NULL, NULL, 0, PAIRS_TEXT,
        PAIRS_LOW},
    {RF_MITRE_TECHNIQUES, "mitreTechniques", NULL, NULL, 0, PAIRS_TEXT,
        PAIRS_LOW},
    {RF_LINK_TO_MTP, "alertUrl", NULL, NULL, 0, PAIRS_TEXT, PAIRS_LOW},
    {RF_INCIDENT_LINK_TO_MTP, "incidentUrl", NULL, NULL, 0, PAIRS_TEXT,
        PAIRS_LOW},
    {RF_INCIDENT_TAGS, "incidentTags", NULL, NULL, 0, PAIRS_TEXT, PAIRS_LOW},
    {RF_ALERT_IDS, "alertIds", NULL, NULL, 0, PAIRS_TEXT, PAIRS_LOW},
    {RF_LINK_TO_WDATP, "linkToWDATP", NULL, NULL, 0, PAIRS_TEXT, PAIRS_LOW},
    {RF_INCIDENT_LINK_TO_WDATP, "incidentLinkToWDATP", NULL, NULL, 0,
        PAIRS_TEXT, PAIRS_LOW},
    {RF_IP_ADDRESS, "ipAddress", NULL, NULL, 0, PAIRS_NOTIP, PAIRS_LOW},
    {RF_CUSTOM_DETAILS, "customDetails", NULL, NULL, 0, PAIRS_TEXT, PAIRS_LOW},
    {RF_ADDITIONAL_DATA, "additionalData", NULL, NULL, 0, PAIRS_TEXT,
        PAIRS_LOW},
};

#undef ALWAYS_ROW
#define NMAP (sizeof(map) / sizeof(map[0]))
#define ROW_EVENTID 0

_Static_assert(NMAP <= PAIRS_MAX, "LEEF mapping too long for pairs.c");

/* Header fields: '|' and every control character a space. */
static const struct text_esc hdr_esc = {
    {TEXT_REP_CONTROLS_SPACE, ['|'] = " "}, 0, "|"};

/* Values: every control character a space; the delimiter is added. */
static const struct text_esc val_esc = {{TEXT_REP_CONTROLS_SPACE}, 0, ""};

size_t
leef_mapping_count(void)
{
	return NMAP;
}

const struct pairs_map *
leef_mapping_get(size_t i)
{
	return i < NMAP ? &map[i] : NULL;
}

int
leef_delimiter_ok(char c)
{
	if (c == '\t')
		return 1;
	return strchr("!\"#$%&'()*+,-./:;<>?@[\\]^_`{}~", c) != NULL &&
	    c != '\0';
}

/* sev: 1-10 (include/severity.h) */
static int
sev_value(const struct record *r, const struct pairs_map *m, const char *p,
    size_t n, char tmp[PAIRS_TMP], const char **vp, size_t *vn)
{
	(void)r;
	(void)m;
	*vp = buf_i64_text(severity_of(p, n)->leef, tmp, vn);
	return 1;
}

/* A header field, sanitised, trimmed, limited; dflt when nothing is left. */
static int
add_hdr(struct buf *out, const char *s, const char *dflt, size_t max)
{
	size_t added;
	int rc;

	if (s == NULL)
		s = "";
	if ((rc = text_escape(out, s, strlen(s), &hdr_esc, max, TEXT_NOLIMIT,
	         TEXT_TRIM, &added)) != 0)
		return rc;
	if (added == 0 && (rc = buf_adds(out, dflt)) != 0)
		return rc;
	return buf_addc(out, '|');
}

static int
add_eventid(struct buf *out, const struct record *r)
{
	char tmp[CEF_SIG_FALLBACK_LEN];
	const char *p;
	size_t n, added;
	int rc;

	cef_signature(r, tmp, &p, &n);
	if ((rc = text_escape(out, p, n, &hdr_esc, LEEF_EVENTID_MAX,
	         TEXT_NOLIMIT, TEXT_TRIM, &added)) != 0)
		return rc;
	if (added == 0) {
		/* only '|' and blanks: the id a title-only record gets */
		cef_signature_fallback(r, tmp);
		if ((rc = buf_add(out, tmp, CEF_SIG_FALLBACK_LEN)) != 0)
			return rc;
	}
	return buf_addc(out, '|');
}

/* "LEEF:x|vendor|product|version|" */
static int
add_prefix(struct buf *out, const struct leef_opts *o)
{
	int rc;

	if ((rc = buf_adds(
	         out, o->leef_version == 1 ? "LEEF:1.0|" : "LEEF:2.0|")) != 0 ||
	    (rc = add_hdr(out, o->vendor, CEF_DEFAULT_VENDOR, VENDOR_MAX)) !=
	        0 ||
	    (rc = add_hdr(out, o->product, CEF_DEFAULT_PRODUCT, PRODUCT_MAX)) !=
	        0)
		return rc;
	return add_hdr(out, o->version, CEF_DEFAULT_VERSION, VERSION_MAX);
}

_Static_assert(
    LEEF_PREFIX_MAX >= 9 + (VENDOR_MAX + PRODUCT_MAX + VERSION_MAX) * 4 + 3,
    "LEEF_PREFIX_MAX too small for the header limits");

/* The delimiter of o's events and its value scheme; ERR_CONFIG. */
static int
make_esc(const struct leef_opts *o, struct text_esc *esc, char *delim)
{
	if (o->leef_version != 1 && o->leef_version != 2)
		return ERR_CONFIG;
	*delim = o->leef_version == 1 ? '\t' : o->delimiter;
	if (!leef_delimiter_ok(*delim))
		return ERR_CONFIG;
	*esc = val_esc;
	return text_esc_set(esc, (unsigned char)*delim, " ") != 0 ? ERR_CONFIG
	                                                          : 0;
}

int
leef_opts_prepare(struct leef_opts *o)
{
	struct buf b;
	char delim;
	int rc;

	o->prefix_len = 0;
	if ((rc = make_esc(o, &o->esc, &delim)) != 0)
		return rc;
	buf_init(&b, sizeof(o->prefix)); /* the NUL is not copied */
	if ((rc = add_prefix(&b, o)) == 0) {
		memcpy(o->prefix, b.data, b.len);
		o->prefix_len = b.len;
	}
	buf_reset(&b);
	return rc;
}

static int
add_header(struct buf *out, const struct record *r, const struct leef_opts *o)
{
	char d[3];
	int rc;

	if (o->prefix_len > 0)
		rc = buf_add(out, o->prefix, o->prefix_len);
	else
		rc = add_prefix(out, o);
	if (rc != 0 || (rc = add_eventid(out, r)) != 0 || o->leef_version == 1)
		return rc;
	/* LEEF 2.0: the delimiter itself when printable, else xHH */
	if (o->delimiter > ' ' && o->delimiter < 0x7f) {
		d[0] = o->delimiter;
		rc = buf_add(out, d, 1);
	} else {
		d[0] = 'x';
		d[1] = text_hex((unsigned char)o->delimiter >> 4);
		d[2] = text_hex((unsigned char)o->delimiter);
		rc = buf_add(out, d, 3);
	}
	return rc != 0 ? rc : buf_addc(out, '|');
}

int
leef_render(struct buf *out, const struct record *r, const struct leef_opts *o,
    size_t max, struct pairs_result *res)
{
	struct text_esc own;
	struct pairs_ops ops = {
	    .map = map,
	    .nmap = NMAP,
	    .blanks = NULL,
	    .btrue = "true",
	    .bfalse = "false",
	    .lead_sep = 0,
	    .esc = NULL,
	    .sep = 0,
	    .custom = sev_value,
	    .add = NULL,
	    .ctx = NULL,
	};
	size_t start = out->len;
	int rc;

	if (o->prefix_len > 0) {
		/* prepared: the scheme is made, the options were checked */
		ops.esc = &o->esc;
		ops.sep = o->leef_version == 1 ? '\t' : o->delimiter;
	} else {
		if ((rc = make_esc(o, &own, &ops.sep)) != 0)
			return rc;
		ops.esc = &own;
	}
	ops.blanks = ops.esc;
	if ((rc = add_header(out, r, o)) == 0 &&
	    (rc = pairs_write(out, start, r, &ops, max, 0, 0, res)) == 0)
		return 0;
	buf_truncate(out, start);
	return rc;
}

int
leef_format(struct buf *out, const struct record *r, const struct leef_opts *o)
{
	return leef_render(out, r, o, o->max_len, NULL);
}
