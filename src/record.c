/* SPDX-License-Identifier: MIT */
/*
 * The canonical record (include/record.h) and its builder for the legacy
 * SIEM API.  A detection object becomes a record in one walk over its
 * members: each key is looked up in a sorted name table (the expected
 * next key first), strings are borrowed from the cJSON tree, and only
 * derived values (numbers written as text, the fallback dedup key) are
 * stored, in the record's reusable scratch buffer.  The formatters read
 * records; they never see the JSON.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "errcode.h"
#include "record.h"
#include "ts.h"

/* Derived values are a few numbers and one key: far below this. */
#define RECORD_SCRATCH_MAX (1024 * 1024)

#define NAME_(e, s, j) s,
#define JSON_(e, s, j) j,
static const char *const siem_names[RF__COUNT] = {RECORD_FIELDS(NAME_)};
static const char *const json_names[RF__COUNT] = {RECORD_FIELDS(JSON_)};
#undef NAME_
#undef JSON_

/*
 * SIEM API keys in strcmp() order, for bsearch().  test_record checks
 * that every RECORD_FIELDS name is found here.
 */
static const struct byname {
	const char *name;
	enum record_field f;
} byname[] = {
    {"Actor", RF_ACTOR},
    {"AdditionalData", RF_ADDITIONAL_DATA},
    {"AlertCreationTime", RF_CREATED_TIME},
    {"AlertId", RF_ALERT_ID},
    {"AlertPart", RF_ALERT_PART},
    {"AlertPolicyId", RF_ALERT_POLICY_ID},
    {"AlertTime", RF_ALERT_TIME},
    {"AlertTitle", RF_ALERT_TITLE},
    {"AssignedTo", RF_ASSIGNED_TO},
    {"Category", RF_CATEGORY},
    {"Classification", RF_CLASSIFICATION},
    {"CloudCreatedMachineTags", RF_CLOUD_TAGS},
    {"CommandLine", RF_COMMAND_LINE},
    {"ComputerDnsName", RF_COMPUTER_DNS_NAME},
    {"CreatorIocName", RF_CREATOR_IOC_NAME},
    {"CreatorIocValue", RF_CREATOR_IOC_VALUE},
    {"CustomDetails", RF_CUSTOM_DETAILS},
    {"Description", RF_DESCRIPTION},
    {"Determination", RF_DETERMINATION},
    {"DeviceCreatedMachineTags", RF_DEVICE_TAGS},
    {"DeviceID", RF_DEVICE_ID},
    {"ExternalId", RF_EXTERNAL_ID},
    {"FileHash", RF_FILE_HASH},
    {"FileName", RF_FILE_NAME},
    {"FilePath", RF_FILE_PATH},
    {"FullId", RF_FULL_ID},
    {"IncidentId", RF_INCIDENT_ID},
    {"IncidentLinkToMTP", RF_INCIDENT_LINK_TO_MTP},
    {"IncidentLinkToWDATP", RF_INCIDENT_LINK_TO_WDATP},
    {"InternalIPv4List", RF_INTERNAL_IPV4_LIST},
    {"InternalIPv6List", RF_INTERNAL_IPV6_LIST},
    {"InvestigationState", RF_INVESTIGATION_STATE},
    {"IoaDefinitionId", RF_IOA_DEFINITION_ID},
    {"IoaDefinitiondId", RF_IOA_DEFINITION_ID}, /* 2017 spelling */
    {"IocName", RF_IOC_NAME},
    {"IocUniqueId", RF_IOC_UNIQUE_ID},
    {"IocValue", RF_IOC_VALUE},
    {"IpAddress", RF_IP_ADDRESS},
    {"LastProcessedTimeUtc", RF_LAST_PROCESSED_TIME},
    {"LastUpdateTime", RF_LAST_UPDATE_TIME},
    {"LinkToMTP", RF_LINK_TO_MTP},
    {"LinkToWDATP", RF_LINK_TO_WDATP},
    {"LogOnUsers", RF_LOGON_USERS},
    {"MachineDomain", RF_MACHINE_DOMAIN},
    {"MachineGroup", RF_MACHINE_GROUP},
    {"MachineName", RF_MACHINE_NAME},
    {"Md5", RF_MD5},
    {"MitreTechniques", RF_MITRE_TECHNIQUES},
    {"ProductName", RF_PRODUCT_NAME},
    {"RemediationAction", RF_REMEDIATION_ACTION},
    {"RemediationIsSuccess", RF_REMEDIATION_IS_SUCCESS},
    {"ReportID", RF_REPORT_ID},
    {"ServiceSource", RF_SERVICE_SOURCE},
    {"Severity", RF_SEVERITY},
    {"Sha1", RF_SHA1},
    {"Sha256", RF_SHA256},
    {"Source", RF_SOURCE},
    {"Status", RF_STATUS},
    {"ThreatCategory", RF_THREAT_CATEGORY},
    {"ThreatFamily", RF_THREAT_FAMILY},
    {"ThreatName", RF_THREAT_NAME},
    {"Url", RF_URL},
    {"UserDomain", RF_USER_DOMAIN},
    {"UserName", RF_USER_NAME},
    {"WasExecutingWhileDetected", RF_WAS_EXECUTING},
};

static const char str_true[] = "true";
static const char str_false[] = "false";

void
record_init(struct record *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->scratch, RECORD_SCRATCH_MAX);
	record_clear(r);
}

void
record_reset(struct record *r)
{
	buf_reset(&r->scratch);
	record_clear(r);
}

struct strv
record_key(const struct record *r)
{
	if (r->origin == RECORD_GRAPH_INCIDENT)
		return r->f[RF_INCIDENT_ID];
	return r->origin == RECORD_SIEM ? r->dedup_key : r->f[RF_ALERT_ID];
}

void
record_clear(struct record *r)
{
	memset(r->f, 0, sizeof(r->f));
	r->origin = RECORD_SIEM;
	r->order_time.sec = 0;
	r->order_time.tick = 0;
	r->order_src.p = NULL;
	r->order_src.n = 0;
	r->alert_time = r->order_time;
	r->has_alert_time = 0;
	r->dedup_key.p = NULL;
	r->dedup_key.n = 0;
	r->raw = NULL;
	r->evidence = NULL;
	r->evidence_text.p = NULL;
	r->evidence_text.n = 0;
	r->custom_details = NULL;
	r->additional_data = NULL;
	buf_clear(&r->scratch);
}

const char *
record_field_name(enum record_field f)
{
	return (unsigned)f < RF__COUNT ? siem_names[f] : "";
}

const char *
record_field_json(enum record_field f)
{
	return (unsigned)f < RF__COUNT ? json_names[f] : "";
}

static int
byname_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct byname *)elem)->name);
}

int
record_field_by_name(const char *name)
{
	const struct byname *b;

	b = bsearch(name, byname, sizeof(byname) / sizeof(byname[0]),
	    sizeof(byname[0]), byname_cmp);
	return b != NULL ? (int)b->f : -1;
}

/* 1, 0, or -1 for text that is no boolean. */
static int
parse_bool(const char *p, size_t n)
{
	if (n == 4 && strncasecmp(p, "true", 4) == 0)
		return 1;
	if (n == 5 && strncasecmp(p, "false", 5) == 0)
		return 0;
	if (n == 1 && (p[0] == '1' || p[0] == '0'))
		return p[0] == '1';
	return -1;
}

int
record_bool(const struct record *r, enum record_field f)
{
	if ((unsigned)f >= RF__COUNT || r->f[f].n == 0)
		return -1;
	return parse_bool(r->f[f].p, r->f[f].n);
}

static int
is_bool_field(enum record_field f)
{
	return f == RF_REMEDIATION_IS_SUCCESS || f == RF_WAS_EXECUTING;
}

static void
set_bool(struct strv *v, int b)
{
	v->p = b ? str_true : str_false;
	v->n = b ? sizeof(str_true) - 1 : sizeof(str_false) - 1;
}

/* Append a JSON number as decimal text; integers without a fraction. */
static int
add_number(struct buf *b, double v)
{
	if (v >= -9.2e18 && v <= 9.2e18 && (double)(long long)v == v)
		return buf_add_i64(b, (long long)v);
	return buf_printf(b, "%.17g", v);
}

/*
 * Store member c as field f.  Numbers go to scratch; their offset is kept
 * in soff[f] and turned into a pointer once scratch stops moving.
 */
static int
set_value(struct record *r, enum record_field f, const cJSON *c, size_t soff[])
{
	struct strv *v = &r->f[f];
	size_t off;
	int b, rc;

	v->p = NULL;
	v->n = 0;
	soff[f] = SIZE_MAX;
	/* the type tests of cJSON_IsString() and friends, without a call */
	if ((c->type & 0xff) == cJSON_String && c->valuestring != NULL) {
		v->p = c->valuestring;
		v->n = strlen(c->valuestring);
		if (is_bool_field(f) && (b = parse_bool(v->p, v->n)) >= 0)
			set_bool(v, b);
	} else if ((c->type & (cJSON_True | cJSON_False)) != 0) {
		set_bool(v, (c->type & cJSON_True) != 0);
	} else if ((c->type & 0xff) == cJSON_Number) {
		if (is_bool_field(f) &&
		    (c->valuedouble == 0 || c->valuedouble == 1)) {
			set_bool(v, c->valuedouble == 1);
			return 0;
		}
		off = r->scratch.len;
		if ((rc = add_number(&r->scratch, c->valuedouble)) != 0)
			return rc;
		soff[f] = off;
		v->n = r->scratch.len - off;
	}
	return 0;
}

/*
 * Without FullId, the key is AlertId:IocUniqueId, built in scratch.  Either
 * part may itself live in scratch (a number), so room is made first and
 * the parts are located after any move.
 */
static const char *
part(const struct record *r, enum record_field f, const size_t soff[])
{
	return soff[f] != SIZE_MAX ? r->scratch.data + soff[f] : r->f[f].p;
}

static int
add_dedup(struct record *r, const size_t soff[], size_t *off)
{
	size_t na = r->f[RF_ALERT_ID].n, nu = r->f[RF_IOC_UNIQUE_ID].n;
	struct buf *b = &r->scratch;
	int rc;

	if ((rc = buf_reserve(b, na + 1 + nu)) != 0)
		return rc;
	*off = b->len;
	memcpy(b->data + b->len, part(r, RF_ALERT_ID, soff), na);
	b->data[b->len + na] = ':';
	memcpy(b->data + b->len + na + 1, part(r, RF_IOC_UNIQUE_ID, soff), nu);
	b->len += na + 1 + nu;
	b->data[b->len] = '\0';
	return 0;
}

/*
 * The field named key.  The API sends its keys in its documented order,
 * which is the order of RECORD_FIELDS, so the field after the previous
 * match (*next) is tried first: one strcmp() per key instead of a binary
 * search, which took two thirds of the time of normalising a detection.
 */
static int
field_of(const char *key, int *next)
{
	int f = *next;

	if (f >= RF__COUNT || strcmp(key, siem_names[f]) != 0)
		f = record_field_by_name(key);
	if (f >= 0)
		*next = f + 1;
	return f;
}

static int
walk(struct record *r, const cJSON *obj, size_t soff[])
{
	const cJSON *c;
	int f, next = 0, rc;

	for (c = obj->child; c != NULL; c = c->next) {
		if (c->string == NULL || (f = field_of(c->string, &next)) < 0)
			continue;
		if ((rc = set_value(r, (enum record_field)f, c, soff)) != 0)
			return rc;
	}
	return 0;
}

int
record_from_siem(struct record *r, const cJSON *obj, const char **why)
{
	size_t soff[RF__COUNT], doff = SIZE_MAX;
	const struct strv *lpt, *at;
	int i, rc;

	record_clear(r);
	if (!cJSON_IsObject(obj)) {
		*why = "detection is not a JSON object";
		return ERR_BADREC;
	}
	for (i = 0; i < RF__COUNT; i++)
		soff[i] = SIZE_MAX;
	if ((rc = walk(r, obj, soff)) != 0)
		goto fail;
	if (r->f[RF_FULL_ID].n == 0) {
		if (r->f[RF_ALERT_ID].n == 0 || r->f[RF_IOC_UNIQUE_ID].n == 0) {
			*why = "no FullId and no AlertId with IocUniqueId";
			rc = ERR_BADREC;
			goto fail;
		}
		if ((rc = add_dedup(r, soff, &doff)) != 0)
			goto fail;
	}
	/* scratch is final: turn offsets into pointers */
	for (i = 0; i < RF__COUNT; i++)
		if (soff[i] != SIZE_MAX)
			r->f[i].p = r->scratch.data + soff[i];
	if (doff != SIZE_MAX) {
		r->dedup_key.p = r->scratch.data + doff;
		r->dedup_key.n = r->scratch.len - doff;
	} else
		r->dedup_key = r->f[RF_FULL_ID];

	lpt = &r->f[RF_LAST_PROCESSED_TIME];
	if (lpt->n == 0 || ts_parse(lpt->p, lpt->n, &r->order_time) != 0) {
		*why = "LastProcessedTimeUtc missing or not a time";
		rc = ERR_BADREC;
		goto fail;
	}
	r->order_src = *lpt;
	at = &r->f[RF_ALERT_TIME];
	r->has_alert_time =
	    at->n > 0 && ts_parse(at->p, at->n, &r->alert_time) == 0;
	r->raw = obj;
	r->origin = RECORD_SIEM;
	return 0;
fail:
	if (rc == ERR_TOOBIG) {
		*why = "derived values too large";
		rc = ERR_BADREC;
	}
	record_clear(r);
	return rc;
}
