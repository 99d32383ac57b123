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
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "cef.h"
#include "errcode.h"
#include "pairs.h"
#include "record.h"
#include "severity.h"
#include "text.h"

#define VENDOR_MAX 63
#define PRODUCT_MAX 63
#define VERSION_MAX 31
#define DEFAULT_NAME "Microsoft Defender for Endpoint detection"

#define S 1023 /* most string keys of the CEF dictionary */
#define CS 4000 /* csN and our custom mde* keys */

/*
 * The mapping.  Rows 0-2 are the header; the rest is the extension in
 * output order.  AlertId goes to externalId when it fits its 40
 * characters, else to mdeAlertId (ids are never cut); IpAddress goes to
 * src, c6a2 or mdeIpAddress depending on what it holds.
 */
#define ALWAYS_ROW(f, cef, leef, json) \
	{f, cef, NULL, NULL, CS, PAIRS_TEXT, PAIRS_KEEP},
static const struct pairs_map map[] = {
    {RF_IOA_DEFINITION_ID, "signatureId", NULL, NULL, 1023, PAIRS_HEADER,
        PAIRS_KEEP},
    {RF_ALERT_TITLE, "name", NULL, NULL, 512, PAIRS_HEADER, PAIRS_KEEP},
    {RF_SEVERITY, "severity", NULL, NULL, 0, PAIRS_HEADER, PAIRS_KEEP},
    PAIRS_ALWAYS(ALWAYS_ROW)

        {RF_ALERT_ID, "externalId", NULL, NULL, CEF_EXTERNALID_MAX,
            PAIRS_SHORTID, PAIRS_KEEP},
    {RF_ALERT_ID, "mdeAlertId", NULL, NULL, CS, PAIRS_LONGID, PAIRS_KEEP},
    {RF_FULL_ID, "cs3", "cs3Label", "FullId", CS, PAIRS_TEXT, PAIRS_KEEP},
    {RF_ALERT_TIME, "rt", NULL, NULL, 0, PAIRS_ALERT_EPOCH_MS, PAIRS_KEEP},
    {RF_LAST_PROCESSED_TIME, "deviceCustomDate1", "deviceCustomDate1Label",
        "LastProcessedTimeUtc", 0, PAIRS_EPOCH_MS, PAIRS_KEEP},
    {RF_DEVICE_ID, "deviceExternalId", NULL, NULL, PAIRS_DEVICE_ID_MAX,
        PAIRS_TEXT, PAIRS_KEEP},
    {RF_INCIDENT_ID, "mdeIncidentId", NULL, NULL, CS, PAIRS_TEXT, PAIRS_KEEP},

    {RF_MACHINE_NAME, "shost", NULL, NULL, S, PAIRS_TEXT, PAIRS_HIGH},
    {RF_MACHINE_DOMAIN, "sourceDnsDomain", NULL, NULL, 255, PAIRS_TEXT,
        PAIRS_HIGH},
    {RF_COMPUTER_DNS_NAME, "mdeComputerDnsName", NULL, NULL, CS, PAIRS_TEXT,
        PAIRS_HIGH},
    {RF_IP_ADDRESS, "src", NULL, NULL, 0, PAIRS_IPV4, PAIRS_HIGH},
    {RF_IP_ADDRESS, "c6a2", "c6a2Label", "Source IPv6 Address", 0, PAIRS_IPV6,
        PAIRS_HIGH},
    {RF_USER_NAME, "suser", NULL, NULL, S, PAIRS_TEXT, PAIRS_HIGH},
    {RF_USER_DOMAIN, "sntdom", NULL, NULL, 255, PAIRS_TEXT, PAIRS_HIGH},
    {RF_SHA1, "fileHash", NULL, NULL, 255, PAIRS_TEXT, PAIRS_HIGH},
    {RF_SHA256, "cs6", "cs6Label", "Sha256", CS, PAIRS_TEXT, PAIRS_HIGH},
    {RF_MD5, "cs5", "cs5Label", "Md5", CS, PAIRS_TEXT, PAIRS_HIGH},
    {RF_FILE_HASH, "mdeFileHash", NULL, NULL, CS, PAIRS_TEXT, PAIRS_HIGH},
    {RF_CATEGORY, "cat", NULL, NULL, S, PAIRS_TEXT, PAIRS_HIGH},
    {RF_SOURCE, "sourceServiceName", NULL, NULL, S, PAIRS_TEXT, PAIRS_HIGH},
    {RF_THREAT_NAME, "cs1", "cs1Label", "ThreatName", CS, PAIRS_TEXT,
        PAIRS_HIGH},
    {RF_THREAT_FAMILY, "mdeThreatFamily", NULL, NULL, CS, PAIRS_TEXT,
        PAIRS_HIGH},
    {RF_THREAT_CATEGORY, "mdeThreatCategory", NULL, NULL, CS, PAIRS_TEXT,
        PAIRS_HIGH},
    {RF_ACTOR, "cs4", "cs4Label", "Actor", CS, PAIRS_TEXT, PAIRS_HIGH},
    {RF_REMEDIATION_ACTION, "act", NULL, NULL, 63, PAIRS_TEXT, PAIRS_HIGH},
    {RF_REMEDIATION_IS_SUCCESS, "cn2", "cn2Label", "RemediationIsSuccess", 0,
        PAIRS_BOOL, PAIRS_HIGH},
    {RF_WAS_EXECUTING, "cn1", "cn1Label", "WasExecutingWhileDetected", 0,
        PAIRS_BOOL, PAIRS_HIGH},
    {RF_ALERT_PART, "cn3", "cn3Label", "AlertPart", 0, PAIRS_INT, PAIRS_HIGH},
    {RF_MACHINE_GROUP, "cs2", "cs2Label", "MachineGroup", CS, PAIRS_TEXT,
        PAIRS_HIGH},
    {RF_REPORT_ID, "mdeReportId", NULL, NULL, CS, PAIRS_TEXT, PAIRS_HIGH},
    {RF_IOC_UNIQUE_ID, "mdeIocUniqueId", NULL, NULL, CS, PAIRS_TEXT,
        PAIRS_HIGH},
    {RF_EXTERNAL_ID, "mdeExternalId", NULL, NULL, CS, PAIRS_TEXT, PAIRS_HIGH},
    {RF_STATUS, "mdeStatus", NULL, NULL, CS, PAIRS_TEXT, PAIRS_HIGH},
    {RF_CLASSIFICATION, "mdeClassification", NULL, NULL, CS, PAIRS_TEXT,
        PAIRS_HIGH},
    {RF_DETERMINATION, "mdeDetermination", NULL, NULL, CS, PAIRS_TEXT,
        PAIRS_HIGH},
    {RF_ASSIGNED_TO, "mdeAssignedTo", NULL, NULL, CS, PAIRS_TEXT, PAIRS_HIGH},
    {RF_SERVICE_SOURCE, "mdeServiceSource", NULL, NULL, CS, PAIRS_TEXT,
        PAIRS_HIGH},
    {RF_CREATED_TIME, "mdeAlertCreationTime", NULL, NULL, CS, PAIRS_TEXT,
        PAIRS_HIGH},
    {RF_PRODUCT_NAME, "mdeProductName", NULL, NULL, CS, PAIRS_TEXT, PAIRS_HIGH},
    {RF_ALERT_POLICY_ID, "mdeAlertPolicyId", NULL, NULL, CS, PAIRS_TEXT,
        PAIRS_HIGH},
    {RF_INVESTIGATION_STATE, "mdeInvestigationState", NULL, NULL, CS,
        PAIRS_TEXT, PAIRS_HIGH},
    {RF_LAST_UPDATE_TIME, "mdeLastUpdateTime", NULL, NULL, CS, PAIRS_TEXT,
        PAIRS_KEEP},

    {RF_FILE_NAME, "fname", NULL, NULL, S, PAIRS_TEXT, PAIRS_LOW},
    {RF_FILE_PATH, "filePath", NULL, NULL, S, PAIRS_TEXT, PAIRS_LOW},
    {RF_DESCRIPTION, "msg", NULL, NULL, S, PAIRS_TEXT, PAIRS_LOW},
    {RF_COMMAND_LINE, "mdeCommandLine", NULL, NULL, CS, PAIRS_TEXT, PAIRS_LOW},
    {RF_URL, "request", NULL, NULL, S, PAIRS_TEXT, PAIRS_LOW},
    {RF_IOC_NAME, "mdeIocName", NULL, NULL, CS, PAIRS_TEXT, PAIRS_LOW},
    {RF_IOC_VALUE, "mdeIocValue", NULL, NULL, CS, PAIRS_TEXT, PAIRS_LOW},
    {RF_CREATOR_IOC_NAME, "mdeCreatorIocName", NULL, NULL, CS, PAIRS_TEXT,
        PAIRS_LOW},
    {RF_CREATOR_IOC_VALUE, "mdeCreatorIocValue", NULL, NULL, CS, PAIRS_TEXT,
        PAIRS_LOW},
    {RF_LOGON_USERS, "suid", NULL, NULL, S, PAIRS_TEXT, PAIRS_LOW},
    {RF_INTERNAL_IPV4_LIST, "mdeInternalIPv4List", NULL, NULL, CS, PAIRS_TEXT,
        PAIRS_LOW},
    {RF_INTERNAL_IPV6_LIST, "mdeInternalIPv6List", NULL, NULL, CS, PAIRS_TEXT,
        PAIRS_LOW},
    {RF_DEVICE_TAGS, "mdeDeviceCreatedMachineTags", NULL, NULL, CS, PAIRS_TEXT,
        PAIRS_LOW},
    {RF_CLOUD_TAGS, "mdeCloudCreatedMachineTags", NULL, NULL, CS, PAIRS_TEXT,
        PAIRS_LOW},
    {RF_MITRE_TECHNIQUES, "mdeMitreTechniques", NULL, NULL, CS, PAIRS_TEXT,
        PAIRS_LOW},
    {RF_LINK_TO_WDATP, "flexString1", "flexString1Label", "LinkToWDATP", S,
        PAIRS_TEXT, PAIRS_LOW},
    {RF_INCIDENT_LINK_TO_WDATP, "flexString2", "flexString2Label",
        "IncidentLinkToWDATP", S, PAIRS_TEXT, PAIRS_LOW},
    {RF_LINK_TO_MTP, "mdeLinkToMTP", NULL, NULL, CS, PAIRS_TEXT, PAIRS_LOW},
    {RF_INCIDENT_LINK_TO_MTP, "mdeIncidentLinkToMTP", NULL, NULL, CS,
        PAIRS_TEXT, PAIRS_LOW},
    {RF_INCIDENT_TAGS, "mdeIncidentTags", NULL, NULL, CS, PAIRS_TEXT,
        PAIRS_LOW},
    {RF_ALERT_IDS, "mdeAlertIds", NULL, NULL, CS, PAIRS_TEXT, PAIRS_LOW},
    {RF_IP_ADDRESS, "mdeIpAddress", NULL, NULL, CS, PAIRS_NOTIP, PAIRS_LOW},
    {RF_CUSTOM_DETAILS, "mdeCustomDetails", NULL, NULL, CS, PAIRS_TEXT,
        PAIRS_LOW},
    {RF_ADDITIONAL_DATA, "mdeAdditionalData", NULL, NULL, CS, PAIRS_TEXT,
        PAIRS_LOW},
};

#undef S
#undef CS
#undef ALWAYS_ROW

#define NMAP (sizeof(map) / sizeof(map[0]))
#define ROW_SIGNATURE 0
#define ROW_NAME 1

_Static_assert(NMAP <= PAIRS_MAX, "CEF mapping too long for pairs.c");
_Static_assert(CEF_EXTERNALID_MAX == PAIRS_SHORTID_MAX,
    "externalId bound differs from PAIRS_SHORTID_MAX");

/* Header fields: \ and | escaped, every control character a space. */
static const struct text_esc hdr_esc = {
    {TEXT_REP_CONTROLS_SPACE, ['\\'] = "\\\\", ['|'] = "\\|"}, 0, "\\|"};

/* Extension values: \ = LF CR escaped, other controls a space. */
static const struct text_esc ext_esc = {
    {TEXT_REP_CONTROLS_SPACE_BUT_LF_CR, [0x0a] = "\\n", [0x0d] = "\\r",
        ['\\'] = "\\\\", ['='] = "\\="},
    0, "\\="};

size_t
cef_mapping_count(void)
{
	return NMAP;
}

const struct pairs_map *
cef_mapping_get(size_t i)
{
	return i < NMAP ? &map[i] : NULL;
}

static const struct pairs_ops ops = {
    .map = map,
    .nmap = NMAP,
    .blanks = &ext_esc,
    .btrue = "1",
    .bfalse = "0",
    .lead_sep = 0,
    .esc = &ext_esc,
    .sep = ' ',
    .custom = NULL,
    .add = NULL,
    .ctx = NULL,
};

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

void
cef_signature_fallback(const struct record *r, char tmp[CEF_SIG_FALLBACK_LEN])
{
	const struct strv *title = &r->f[RF_ALERT_TITLE];
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < title->n; i++) {
		h ^= (unsigned char)title->p[i];
		h *= 0x100000001b3ULL;
	}
	memcpy(tmp, "mde-", 4);
	for (i = 0; i < 16; i++)
		tmp[4 + i] = text_hex((unsigned)(h >> (60 - 4 * i)));
}

void
cef_signature(const struct record *r, char tmp[CEF_SIG_FALLBACK_LEN],
    const char **p, size_t *n)
{
	*p = r->f[RF_IOA_DEFINITION_ID].p;
	*n = r->f[RF_IOA_DEFINITION_ID].n;
	if (*n > 0)
		text_trim_esc(p, n, &hdr_esc);
	if (*n > 0)
		return;
	cef_signature_fallback(r, tmp);
	*p = tmp;
	*n = CEF_SIG_FALLBACK_LEN;
}

/* "CEF:0|vendor|product|version|" */
static int
add_prefix(struct buf *out, const struct cef_opts *o)
{
	int rc;

	rc = buf_add(out, "CEF:0|", 6);
	if (rc == 0)
		rc = add_opt(out, o->vendor, CEF_DEFAULT_VENDOR, VENDOR_MAX);
	if (rc == 0)
		rc = add_opt(out, o->product, CEF_DEFAULT_PRODUCT, PRODUCT_MAX);
	if (rc == 0)
		rc = add_opt(out, o->version, CEF_DEFAULT_VERSION, VERSION_MAX);
	return rc;
}

_Static_assert(
    CEF_PREFIX_MAX >= 6 + (VENDOR_MAX + PRODUCT_MAX + VERSION_MAX) * 4 + 3,
    "CEF_PREFIX_MAX too small for the header limits");

void
cef_opts_prepare(struct cef_opts *o)
{
	struct buf b;

	o->prefix_len = 0;
	buf_init(&b, sizeof(o->prefix)); /* the NUL is not copied */
	if (add_prefix(&b, o) == 0) {
		memcpy(o->prefix, b.data, b.len);
		o->prefix_len = b.len;
	}
	buf_reset(&b);
}

static int
add_header(struct buf *out, const struct record *r, const struct cef_opts *o)
{
	const struct strv *name = &r->f[RF_ALERT_TITLE];
	const struct strv *sev = &r->f[RF_SEVERITY];
	char tmp[CEF_SIG_FALLBACK_LEN];
	const char *sig;
	size_t n;
	int rc;

	if (o->prefix_len > 0)
		rc = buf_add(out, o->prefix, o->prefix_len);
	else
		rc = add_prefix(out, o);
	if (rc != 0)
		return rc;
	cef_signature(r, tmp, &sig, &n);
	if ((rc = add_hdr(out, sig, n, map[ROW_SIGNATURE].max_chars)) != 0)
		return rc;
	if (name->n > 0)
		rc = add_hdr(out, name->p, name->n, map[ROW_NAME].max_chars);
	else
		rc = add_hdr(
		    out, DEFAULT_NAME, sizeof(DEFAULT_NAME) - 1, TEXT_NOLIMIT);
	if (rc != 0 ||
	    (rc = buf_add_i64(out, severity_of(sev->p, sev->n)->cef)) != 0)
		return rc;
	return buf_addc(out, '|');
}

int
cef_render(struct buf *out, const struct record *r, const struct cef_opts *o,
    size_t max, struct pairs_result *res)
{
	size_t start = out->len;
	int rc;

	if ((rc = add_header(out, r, o)) == 0 &&
	    (rc = pairs_write(out, start, r, &ops, max, 0, 0, res)) == 0)
		return 0;
	buf_truncate(out, start);
	return rc;
}

int
cef_format(struct buf *out, const struct record *r, const struct cef_opts *o)
{
	return cef_render(out, r, o, o->max_len, NULL);
}
