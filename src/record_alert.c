/* SPDX-License-Identifier: MIT */
/*
 * Builders of the canonical record for the updatable-alert APIs
 * (include/record_alert.h): Graph security/alerts_v2 and the Defender for
 * Endpoint Alert API.  Alert-level members map through one table per API;
 * strings are borrowed from the cJSON tree; derived values (numbers as
 * text, joined lists, the dedup key) go to the record's reusable scratch
 * buffer and become pointers once it has stopped moving, so a warm record
 * costs no allocation.
 *
 * An alert carries many evidence items; the SIEM-shaped fields take one
 * primary item of each kind, the first in array order that ranks highest:
 * - file (FileName, FilePath, Sha1, Sha256, Md5, FileHash): a file item
 *   whose detectionStatus is detected, blocked or prevented; else such a
 *   process item (its image file); else the first file item; else the
 *   first process item.  File before process follows Microsoft's table
 *   ("fileEvidence/fileDetails ..., or processEvidence/imageFile ...").
 * - process (CommandLine): a process item with such a detectionStatus,
 *   else the first process item.
 * - device (Graph): the first deviceEvidence; the Alert API has the
 *   device on the alert itself (machineId, computerDnsName,
 *   rbacGroupName).
 * - ip, url, user: an item whose verdict is malicious, else suspicious,
 *   else the first (the Alert API has no verdict: the first).  Graph
 *   without userEvidence takes the user context of the primary process;
 *   the Alert API takes relatedUser before User evidence.
 * The JSON output carries every item through r->evidence.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "errcode.h"
#include "record.h"
#include "record_alert.h"
#include "severity.h"
#include "ts.h"

#define DICT_TEXT_MAX 8192 /* bytes of a dictionary's JSON text, at most */

enum ev_kind {
	EV_OTHER = 0,
	EV_DEVICE,
	EV_FILE,
	EV_PROCESS,
	EV_IP,
	EV_URL,
	EV_USER
};

/*
 * Members the rules read whole (arrays, objects), found by walk() in its
 * one pass over the alert: the first of each name, as
 * cJSON_GetObjectItemCaseSensitive() would find it.
 */
enum kept {
	KEPT_EVIDENCE,
	KEPT_MITRE,
	KEPT_CUSTOM_DETAILS,
	KEPT_ADDITIONAL_DATA,
	KEPT_RELATED_USER,
	KEPT_CUSTOM_TAGS,
	KEPT_SYSTEM_TAGS,
	KEPT_ALERTS,
	KEPT__COUNT
};

#define NO_FIELD RF__COUNT
#define NO_KEPT KEPT__COUNT

/*
 * One row per member name an API's alert is read by: the fields its
 * scalar value feeds (NO_FIELD: none), or the kept member it is.  Each
 * table is sorted by strcmp() of the names: walk() searches it by
 * halves, and record_alert_tables_sorted() checks the order.
 */
struct member {
	const char *key;
	enum record_field f[2];
	enum kept kept;
};

/*
 * Graph security alerts_v2.  productName, alertPolicyId and
 * investigationState are newer than Microsoft's SIEM-to-Graph table
 * (beta, 2026).
 */
static const struct member graph_members[] = {
    {"actorDisplayName", {RF_ACTOR, NO_FIELD}, NO_KEPT},
    {"additionalData", {NO_FIELD, NO_FIELD}, KEPT_ADDITIONAL_DATA},
    {"alertPolicyId", {RF_ALERT_POLICY_ID, NO_FIELD}, NO_KEPT},
    {"alertWebUrl", {RF_LINK_TO_WDATP, RF_LINK_TO_MTP}, NO_KEPT},
    {"assignedTo", {RF_ASSIGNED_TO, NO_FIELD}, NO_KEPT},
    {"category", {RF_CATEGORY, NO_FIELD}, NO_KEPT},
    {"classification", {RF_CLASSIFICATION, NO_FIELD}, NO_KEPT},
    {"createdDateTime", {RF_CREATED_TIME, RF_ALERT_TIME}, NO_KEPT},
    {"customDetails", {NO_FIELD, NO_FIELD}, KEPT_CUSTOM_DETAILS},
    {"description", {RF_DESCRIPTION, NO_FIELD}, NO_KEPT},
    {"detectionSource", {RF_SOURCE, NO_FIELD}, NO_KEPT},
    {"detectorId", {RF_IOA_DEFINITION_ID, NO_FIELD}, NO_KEPT},
    {"determination", {RF_DETERMINATION, NO_FIELD}, NO_KEPT},
    {RECORD_EVIDENCE_KEY, {NO_FIELD, NO_FIELD}, KEPT_EVIDENCE},
    {"id", {RF_ALERT_ID, NO_FIELD}, NO_KEPT},
    {"incidentId", {RF_INCIDENT_ID, NO_FIELD}, NO_KEPT},
    {"incidentWebUrl", {RF_INCIDENT_LINK_TO_WDATP, RF_INCIDENT_LINK_TO_MTP},
        NO_KEPT},
    {"investigationState", {RF_INVESTIGATION_STATE, NO_FIELD}, NO_KEPT},
    {"lastActivityDateTime", {RF_LAST_PROCESSED_TIME, NO_FIELD}, NO_KEPT},
    {"lastUpdateDateTime", {RF_LAST_UPDATE_TIME, NO_FIELD}, NO_KEPT},
    {"mitreTechniques", {NO_FIELD, NO_FIELD}, KEPT_MITRE},
    {"productName", {RF_PRODUCT_NAME, NO_FIELD}, NO_KEPT},
    {"serviceSource", {RF_SERVICE_SOURCE, NO_FIELD}, NO_KEPT},
    {"severity", {RF_SEVERITY, NO_FIELD}, NO_KEPT},
    {"status", {RF_STATUS, NO_FIELD}, NO_KEPT},
    {"threatDisplayName", {RF_THREAT_NAME, NO_FIELD}, NO_KEPT},
    {"threatFamilyName", {RF_THREAT_FAMILY, NO_FIELD}, NO_KEPT},
    {"title", {RF_ALERT_TITLE, NO_FIELD}, NO_KEPT},
};

/* The Defender for Endpoint Alert API. */
static const struct member alerts_members[] = {
    {"alertCreationTime", {RF_CREATED_TIME, RF_ALERT_TIME}, NO_KEPT},
    {"assignedTo", {RF_ASSIGNED_TO, NO_FIELD}, NO_KEPT},
    {"category", {RF_CATEGORY, NO_FIELD}, NO_KEPT},
    {"classification", {RF_CLASSIFICATION, NO_FIELD}, NO_KEPT},
    {"computerDnsName", {RF_COMPUTER_DNS_NAME, NO_FIELD}, NO_KEPT},
    {"description", {RF_DESCRIPTION, NO_FIELD}, NO_KEPT},
    {"detectionSource", {RF_SOURCE, NO_FIELD}, NO_KEPT},
    {"detectorId", {RF_IOA_DEFINITION_ID, NO_FIELD}, NO_KEPT},
    {"determination", {RF_DETERMINATION, NO_FIELD}, NO_KEPT},
    {RECORD_EVIDENCE_KEY, {NO_FIELD, NO_FIELD}, KEPT_EVIDENCE},
    {"id", {RF_ALERT_ID, NO_FIELD}, NO_KEPT},
    {"incidentId", {RF_INCIDENT_ID, NO_FIELD}, NO_KEPT},
    {"investigationState", {RF_INVESTIGATION_STATE, NO_FIELD}, NO_KEPT},
    {"lastEventTime", {RF_LAST_PROCESSED_TIME, NO_FIELD}, NO_KEPT},
    {"lastUpdateTime", {RF_LAST_UPDATE_TIME, NO_FIELD}, NO_KEPT},
    {"machineId", {RF_DEVICE_ID, NO_FIELD}, NO_KEPT},
    {"mitreTechniques", {NO_FIELD, NO_FIELD}, KEPT_MITRE},
    {"rbacGroupName", {RF_MACHINE_GROUP, NO_FIELD}, NO_KEPT},
    {"relatedUser", {NO_FIELD, NO_FIELD}, KEPT_RELATED_USER},
    {"severity", {RF_SEVERITY, NO_FIELD}, NO_KEPT},
    {"status", {RF_STATUS, NO_FIELD}, NO_KEPT},
    {"threatFamilyName", {RF_THREAT_FAMILY, NO_FIELD}, NO_KEPT},
    {"threatName", {RF_THREAT_NAME, NO_FIELD}, NO_KEPT},
    {"title", {RF_ALERT_TITLE, NO_FIELD}, NO_KEPT},
};

/* Graph security incidents. */
static const struct member incident_members[] = {
    {"alerts", {NO_FIELD, NO_FIELD}, KEPT_ALERTS},
    {"assignedTo", {RF_ASSIGNED_TO, NO_FIELD}, NO_KEPT},
    {"classification", {RF_CLASSIFICATION, NO_FIELD}, NO_KEPT},
    {"createdDateTime", {RF_CREATED_TIME, RF_ALERT_TIME}, NO_KEPT},
    {"customTags", {NO_FIELD, NO_FIELD}, KEPT_CUSTOM_TAGS},
    {"description", {RF_DESCRIPTION, NO_FIELD}, NO_KEPT},
    {"determination", {RF_DETERMINATION, NO_FIELD}, NO_KEPT},
    {"displayName", {RF_ALERT_TITLE, NO_FIELD}, NO_KEPT},
    {"id", {RF_INCIDENT_ID, NO_FIELD}, NO_KEPT},
    {"incidentWebUrl", {RF_INCIDENT_LINK_TO_MTP, NO_FIELD}, NO_KEPT},
    {"lastUpdateDateTime", {RF_LAST_UPDATE_TIME, NO_FIELD}, NO_KEPT},
    {"severity", {RF_SEVERITY, NO_FIELD}, NO_KEPT},
    {"status", {RF_STATUS, NO_FIELD}, NO_KEPT},
    {"systemTags", {NO_FIELD, NO_FIELD}, KEPT_SYSTEM_TAGS},
};

/* The record under construction and where its derived values sit. */
struct build {
	struct record *r;
	size_t soff[RF__COUNT]; /* scratch offset, or SIZE_MAX */
	size_t koff; /* dedup key offset */
	const cJSON *kept[KEPT__COUNT]; /* NULL: no such member */
};

/* The primary evidence item of each kind (NULL: none). */
struct primary {
	const cJSON *device, *file, *process, *ip, *url, *user;
	int file_rank, process_rank, ip_rank, url_rank, user_rank;
};

static const char str_true[] = "true";
static const char str_false[] = "false";

/* v's text when it is a non-empty string, or NULL. */
static const char *
str_of(const cJSON *v)
{
	if (cJSON_IsString(v) && v->valuestring != NULL &&
	    v->valuestring[0] != '\0')
		return v->valuestring;
	return NULL;
}

/* A non-empty string member, or NULL. */
static const char *
jstr(const cJSON *o, const char *key)
{
	return str_of(cJSON_GetObjectItemCaseSensitive(o, key));
}

/*
 * The members of o named names[0..n-1] into out[], in one pass over o
 * (NULL: no such member, or o is not an object); of a repeated name the
 * first, as cJSON_GetObjectItemCaseSensitive() finds it.  For the items
 * that the rules read several members of.
 */
static void
pick(const cJSON *o, const char *const *names, size_t n, const cJSON **out)
{
	const cJSON *c;
	size_t i, left = n;

	for (i = 0; i < n; i++)
		out[i] = NULL;
	if (!cJSON_IsObject(o))
		return;
	for (c = o->child; c != NULL && left > 0; c = c->next) {
		if (c->string == NULL)
			continue;
		for (i = 0; i < n; i++)
			if (out[i] == NULL && c->string[0] == names[i][0] &&
			    strcmp(c->string, names[i]) == 0) {
				out[i] = c;
				left--;
				break;
			}
	}
}

static int
is_one_of(const char *s, const char *const *list)
{
	for (; s != NULL && *list != NULL; list++)
		if (strcasecmp(s, *list) == 0)
			return 1;
	return 0;
}

static void
set_str(struct build *b, enum record_field f, const char *s)
{
	if (s == NULL || s[0] == '\0')
		return;
	b->r->f[f].p = s;
	b->r->f[f].n = strlen(s);
	b->soff[f] = SIZE_MAX;
}

/* Start a derived value of f at the end of scratch. */
static void
derived_begin(struct build *b, enum record_field f)
{
	b->soff[f] = b->r->scratch.len;
	b->r->f[f].p = NULL;
	b->r->f[f].n = 0;
}

/* Close it; an empty one is dropped. */
static void
derived_end(struct build *b, enum record_field f)
{
	size_t n = b->r->scratch.len - b->soff[f];

	b->r->f[f].n = n;
	if (n == 0)
		b->soff[f] = SIZE_MAX;
}

/* A string, or a number written as decimal text. */
static int
set_scalar(struct build *b, enum record_field f, const cJSON *v)
{
	double d;
	int rc;

	if (cJSON_IsString(v)) {
		set_str(b, f, v->valuestring);
		return 0;
	}
	if (!cJSON_IsNumber(v))
		return 0;
	d = v->valuedouble;
	derived_begin(b, f);
	if (d >= -9.2e18 && d <= 9.2e18 && (double)(long long)d == d)
		rc = buf_add_i64(&b->r->scratch, (long long)d);
	else
		rc = buf_printf(&b->r->scratch, "%.17g", d);
	derived_end(b, f);
	return rc;
}

static int
member_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct member *)elem)->key);
}

/*
 * One pass over the alert's members, each looked up in the API's table:
 * its fields set from a scalar value, or noted as a kept member.  Graph
 * alerts have some 30 members and the table as many rows: searched by
 * halves, a member costs five strcmp() calls, not one per row.
 */
static int
walk(struct build *b, const cJSON *obj, const struct member *tab, size_t n)
{
	const struct member *m;
	const cJSON *c;
	int i, rc;

	for (c = obj->child; c != NULL; c = c->next) {
		if (c->string == NULL ||
		    (m = bsearch(
		         c->string, tab, n, sizeof(*tab), member_cmp)) == NULL)
			continue;
		if (m->kept != NO_KEPT) {
			if (b->kept[m->kept] == NULL)
				b->kept[m->kept] = c;
			continue;
		}
		for (i = 0; i < 2 && m->f[i] != NO_FIELD; i++)
			if ((rc = set_scalar(b, m->f[i], c)) != 0)
				return rc;
	}
	return 0;
}

/*
 * A dictionary member (customDetails, additionalData: any keys, any
 * values) as field f: compact JSON text for CEF and LEEF, cut on a
 * character boundary at DICT_TEXT_MAX so that a huge one cannot make the
 * record too large (the formatters' limits are lower anyway); a string or
 * number as it is.  *tree is v when something is carried, for the JSON
 * output, which writes the whole tree itself.  0 or ERR_NOMEM.
 */
static int
set_dict(
    struct build *b, enum record_field f, const cJSON *v, const cJSON **tree)
{
	char *text;
	size_t n;
	int rc;

	*tree = NULL;
	if (cJSON_IsString(v) || cJSON_IsNumber(v)) {
		*tree = v;
		return set_scalar(b, f, v);
	}
	if (!(cJSON_IsObject(v) || cJSON_IsArray(v)) || v->child == NULL)
		return 0;
	if ((text = cJSON_PrintUnformatted(v)) == NULL)
		return ERR_NOMEM;
	n = strlen(text);
	if (n > DICT_TEXT_MAX) {
		n = DICT_TEXT_MAX;
		while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
			n--;
	}
	derived_begin(b, f);
	rc = buf_add(&b->r->scratch, text, n);
	derived_end(b, f);
	cJSON_free(text);
	if (rc == 0)
		*tree = v;
	return rc;
}

/* Append the string items of arr to scratch, sep between; *first: none
 * written yet. */
static int
append_strings(struct build *b, const cJSON *arr, const char *sep, int *first)
{
	const cJSON *it;
	int rc = 0;

	cJSON_ArrayForEach(it, arr)
	{
		if (!cJSON_IsString(it) || it->valuestring[0] == '\0')
			continue;
		if (!*first && (rc = buf_adds(&b->r->scratch, sep)) != 0)
			break;
		if ((rc = buf_adds(&b->r->scratch, it->valuestring)) != 0)
			break;
		*first = 0;
	}
	return rc;
}

/* The string items of arr joined with sep, as field f. */
static int
join_strings(
    struct build *b, enum record_field f, const cJSON *arr, const char *sep)
{
	int first = 1, rc;

	if (cJSON_IsString(arr)) {
		set_str(b, f, arr->valuestring);
		return 0;
	}
	if (!cJSON_IsArray(arr))
		return 0;
	derived_begin(b, f);
	rc = append_strings(b, arr, sep, &first);
	derived_end(b, f);
	return rc;
}

/* loggedOnUsers [{accountName, domainName}] as "DOMAIN\user; ...". */
static int
join_users(struct build *b, const cJSON *arr)
{
	struct buf *s = &b->r->scratch;
	const cJSON *it;
	int first = 1, rc = 0;

	if (!cJSON_IsArray(arr))
		return 0;
	derived_begin(b, RF_LOGON_USERS);
	cJSON_ArrayForEach(it, arr)
	{
		const char *user = jstr(it, "accountName");
		const char *dom = jstr(it, "domainName");

		if (user == NULL)
			continue;
		if (!first)
			rc = buf_adds(s, "; ");
		if (rc == 0 && dom != NULL)
			rc = buf_printf(s, "%s\\", dom);
		if (rc == 0)
			rc = buf_adds(s, user);
		if (rc != 0)
			break;
		first = 0;
	}
	derived_end(b, RF_LOGON_USERS);
	return rc;
}

/* "host.example.com": MachineName "host", MachineDomain the rest. */
static void
split_dns_name(struct build *b)
{
	const struct strv *dns = &b->r->f[RF_COMPUTER_DNS_NAME];
	const char *dot;

	if (dns->n == 0 || b->soff[RF_COMPUTER_DNS_NAME] != SIZE_MAX)
		return;
	dot = memchr(dns->p, '.', dns->n);
	b->r->f[RF_MACHINE_NAME].p = dns->p;
	b->r->f[RF_MACHINE_NAME].n = dot ? (size_t)(dot - dns->p) : dns->n;
	if (dot != NULL && (size_t)(dot - dns->p) + 1 < dns->n) {
		b->r->f[RF_MACHINE_DOMAIN].p = dot + 1;
		b->r->f[RF_MACHINE_DOMAIN].n =
		    dns->n - (size_t)(dot - dns->p) - 1;
	}
}

/* An evidence item's members that choose() reads. */
struct item {
	const char *status; /* detectionStatus */
	const char *verdict;
};

static int
detected(const struct item *it)
{
	static const char *const states[] = {
	    "detected", "blocked", "prevented", NULL};

	return is_one_of(it->status, states);
}

static int
verdict_rank(const struct item *it)
{
	const char *v = it->verdict;

	if (v != NULL && strcasecmp(v, "malicious") == 0)
		return 2;
	if (v != NULL && strcasecmp(v, "suspicious") == 0)
		return 1;
	return 0;
}

/* Keep ev as *slot when it ranks above the one kept (first wins ties). */
static void
consider(const cJSON **slot, int *best, const cJSON *ev, int rank)
{
	if (*slot == NULL || rank > *best) {
		*slot = ev;
		*best = rank;
	}
}

static void
choose(
    struct primary *p, const cJSON *ev, enum ev_kind k, const struct item *it)
{
	switch (k) {
	case EV_DEVICE:
		if (p->device == NULL)
			p->device = ev;
		break;
	case EV_FILE:
		consider(&p->file, &p->file_rank, ev, detected(it) ? 4 : 2);
		break;
	case EV_PROCESS:
		consider(&p->file, &p->file_rank, ev, detected(it) ? 3 : 1);
		consider(&p->process, &p->process_rank, ev, detected(it));
		break;
	case EV_IP:
		consider(&p->ip, &p->ip_rank, ev, verdict_rank(it));
		break;
	case EV_URL:
		consider(&p->url, &p->url_rank, ev, verdict_rank(it));
		break;
	case EV_USER:
		consider(&p->user, &p->user_rank, ev, verdict_rank(it));
		break;
	default:
		break;
	}
}

/* "#microsoft.graph.security.fileEvidence" -> EV_FILE */
static enum ev_kind
graph_type_kind(const char *t)
{
	static const struct {
		const char *name;
		enum ev_kind k;
	} kinds[] = {
	    {"deviceEvidence", EV_DEVICE},
	    {"fileEvidence", EV_FILE},
	    {"processEvidence", EV_PROCESS},
	    {"ipEvidence", EV_IP},
	    {"urlEvidence", EV_URL},
	    {"userEvidence", EV_USER},
	};
	const char *dot;
	size_t i;

	if (t == NULL)
		return EV_OTHER;
	if ((dot = strrchr(t, '.')) != NULL)
		t = dot + 1;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(t, kinds[i].name) == 0)
			return kinds[i].k;
	return EV_OTHER;
}

static enum ev_kind
graph_kind(const cJSON *ev)
{
	return graph_type_kind(jstr(ev, "@odata.type"));
}

/* entityType "File", "Process", "User", "Ip", "Url" (any case). */
static enum ev_kind
alerts_type_kind(const char *t)
{
	static const struct {
		const char *name;
		enum ev_kind k;
	} kinds[] = {
	    {"File", EV_FILE},
	    {"Process", EV_PROCESS},
	    {"Ip", EV_IP},
	    {"Url", EV_URL},
	    {"User", EV_USER},
	};
	size_t i;

	for (i = 0; t != NULL && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcasecmp(t, kinds[i].name) == 0)
			return kinds[i].k;
	return EV_OTHER;
}

/* Each item read in one pass: its kind, detectionStatus and verdict. */
static void
find_primary(const cJSON *evidence, int graph, struct primary *p)
{
	static const char *const graph_names[] = {
	    "@odata.type", "detectionStatus", "verdict"};
	static const char *const alerts_names[] = {
	    "entityType", "detectionStatus", "verdict"};
	const cJSON *ev, *m[3];
	struct item it;
	enum ev_kind k;

	memset(p, 0, sizeof(*p));
	if (!cJSON_IsArray(evidence))
		return;
	cJSON_ArrayForEach(ev, evidence)
	{
		if (!cJSON_IsObject(ev))
			continue;
		pick(ev, graph ? graph_names : alerts_names, 3, m);
		k = graph ? graph_type_kind(str_of(m[0]))
		          : alerts_type_kind(str_of(m[0]));
		it.status = str_of(m[1]);
		it.verdict = str_of(m[2]);
		choose(p, ev, k, &it);
	}
}

/* File name, path and hashes from a file-details object. */
static void
set_file(struct build *b, const cJSON *fd)
{
	static const char *const names[] = {
	    "fileName", "filePath", "sha1", "sha256", "md5"};
	const cJSON *m[5];
	const char *sha1, *sha256;

	pick(fd, names, 5, m);
	sha1 = str_of(m[2]);
	sha256 = str_of(m[3]);
	set_str(b, RF_FILE_NAME, str_of(m[0]));
	set_str(b, RF_FILE_PATH, str_of(m[1]));
	set_str(b, RF_SHA1, sha1);
	set_str(b, RF_SHA256, sha256);
	set_str(b, RF_MD5, str_of(m[4]));
	set_str(b, RF_FILE_HASH, sha1 != NULL ? sha1 : sha256);
}

/*
 * remediationStatus of the primary file item: RemediationAction, and
 * RemediationIsSuccess where the status says so (the table's "implied").
 */
static void
set_remediation(struct build *b, const cJSON *ev)
{
	static const char *const ok[] = {
	    "remediated", "prevented", "blocked", NULL};
	static const char *const failed[] = {"unremediated", NULL};
	const char *st = jstr(ev, "remediationStatus");
	struct strv *v = &b->r->f[RF_REMEDIATION_IS_SUCCESS];

	if (st == NULL || strcasecmp(st, "none") == 0)
		return;
	set_str(b, RF_REMEDIATION_ACTION, st);
	if (is_one_of(st, ok)) {
		v->p = str_true;
		v->n = sizeof(str_true) - 1;
	} else if (is_one_of(st, failed)) {
		v->p = str_false;
		v->n = sizeof(str_false) - 1;
	}
}

static void
set_user(struct build *b, const char *name, const char *domain)
{
	if (name == NULL)
		return;
	set_str(b, RF_USER_NAME, name);
	set_str(b, RF_USER_DOMAIN, domain);
}

static void capitalise_severity(struct build *b);

/* Graph: fields from the evidence, and the severity's case. */
static int
graph_rules(struct build *b, const cJSON *evidence)
{
	const cJSON *fd, *acct;
	struct primary p;
	int rc;

	find_primary(evidence, 1, &p);
	if (p.device != NULL) {
		static const char *const names[] = {"deviceDnsName",
		    "mdeDeviceId", "rbacGroupName", "loggedOnUsers", "tags"};
		const cJSON *m[5];

		pick(p.device, names, 5, m);
		set_str(b, RF_COMPUTER_DNS_NAME, str_of(m[0]));
		set_str(b, RF_DEVICE_ID, str_of(m[1]));
		set_str(b, RF_MACHINE_GROUP, str_of(m[2]));
		if ((rc = join_users(b, m[3])) != 0 ||
		    (rc = join_strings(b, RF_DEVICE_TAGS, m[4], ", ")) != 0)
			return rc;
	}
	if (p.file != NULL) {
		fd = cJSON_GetObjectItemCaseSensitive(p.file,
		    graph_kind(p.file) == EV_FILE ? "fileDetails"
		                                  : "imageFile");
		set_file(b, fd);
		set_remediation(b, p.file);
	}
	if (p.process != NULL)
		set_str(
		    b, RF_COMMAND_LINE, jstr(p.process, "processCommandLine"));
	if (p.ip != NULL)
		set_str(b, RF_IP_ADDRESS, jstr(p.ip, "ipAddress"));
	if (p.url != NULL)
		set_str(b, RF_URL, jstr(p.url, "url"));
	acct = cJSON_GetObjectItemCaseSensitive(
	    p.user != NULL ? p.user : p.process, "userAccount");
	set_user(b, jstr(acct, "accountName"), jstr(acct, "domainName"));
	capitalise_severity(b);
	if ((rc = set_dict(b, RF_CUSTOM_DETAILS, b->kept[KEPT_CUSTOM_DETAILS],
	         &b->r->custom_details)) != 0)
		return rc;
	return set_dict(b, RF_ADDITIONAL_DATA, b->kept[KEPT_ADDITIONAL_DATA],
	    &b->r->additional_data);
}

/* Alert API: fields from the evidence and relatedUser. */
static int
alerts_rules(struct build *b, const cJSON *evidence)
{
	const cJSON *ru = b->kept[KEPT_RELATED_USER];
	struct primary p;

	find_primary(evidence, 0, &p);
	if (p.file != NULL)
		set_file(b, p.file);
	if (p.process != NULL)
		set_str(
		    b, RF_COMMAND_LINE, jstr(p.process, "processCommandLine"));
	if (p.ip != NULL)
		set_str(b, RF_IP_ADDRESS, jstr(p.ip, "ipAddress"));
	if (p.url != NULL)
		set_str(b, RF_URL, jstr(p.url, "url"));
	if (cJSON_IsString(ru))
		set_user(b, str_of(ru), NULL);
	else if (jstr(ru, "userName") != NULL)
		set_user(b, jstr(ru, "userName"), jstr(ru, "domainName"));
	else if (p.user != NULL)
		set_user(
		    b, jstr(p.user, "accountName"), jstr(p.user, "domainName"));
	return 0;
}

/* Graph's "low" -> "Low", so severities read as the SIEM API's. */
static void
capitalise_severity(struct build *b)
{
	struct strv *v = &b->r->f[RF_SEVERITY];

	if (b->soff[RF_SEVERITY] == SIZE_MAX && severity_known(v->p, v->n))
		v->p = severity_of(v->p, v->n)->name;
}

/*
 * Times, the dedup key, then every scratch offset turned into a pointer.
 * The key uses the 7-digit form of the last update time, so the same
 * version written "...:59.2Z" once and "...:59.2000000Z" later is one key.
 */
static int
finish(struct build *b, enum record_field idf, const char **why)
{
	struct record *r = b->r;
	const struct strv *lu = &r->f[RF_LAST_UPDATE_TIME];
	const struct strv *at = &r->f[RF_ALERT_TIME];
	const struct strv *id = &r->f[idf];
	char t7[TS_STRLEN];
	int i, rc;

	if (id->n == 0 || b->soff[idf] != SIZE_MAX) {
		*why = "id missing or not a string";
		return ERR_BADREC;
	}
	if (lu->n == 0 || b->soff[RF_LAST_UPDATE_TIME] != SIZE_MAX ||
	    ts_parse(lu->p, lu->n, &r->order_time) != 0) {
		*why = "last update time missing or not a time";
		return ERR_BADREC;
	}
	r->order_src = *lu;
	ts_format7(&r->order_time, t7);
	b->koff = r->scratch.len;
	if ((rc = buf_add(&r->scratch, id->p, id->n)) != 0 ||
	    (rc = buf_addc(&r->scratch, ':')) != 0 ||
	    (rc = buf_adds(&r->scratch, t7)) != 0)
		return rc;
	for (i = 0; i < RF__COUNT; i++)
		if (b->soff[i] != SIZE_MAX)
			r->f[i].p = r->scratch.data + b->soff[i];
	r->dedup_key.p = r->scratch.data + b->koff;
	r->dedup_key.n = r->scratch.len - b->koff;
	r->has_alert_time =
	    at->n > 0 && ts_parse(at->p, at->n, &r->alert_time) == 0;
	return 0;
}

static int
begin(struct build *b, struct record *r, const cJSON *obj, const char **why)
{
	int i;

	record_clear(r);
	b->r = r;
	b->koff = SIZE_MAX;
	for (i = 0; i < RF__COUNT; i++)
		b->soff[i] = SIZE_MAX;
	for (i = 0; i < KEPT__COUNT; i++)
		b->kept[i] = NULL;
	if (!cJSON_IsObject(obj)) {
		*why = "alert is not a JSON object";
		return ERR_BADREC;
	}
	return 0;
}

static int
fail(struct record *r, int rc, const char **why)
{
	if (rc == ERR_TOOBIG) {
		*why = "derived values too large";
		rc = ERR_BADREC;
	}
	record_clear(r);
	return rc;
}

/* What differs between the two APIs' alerts. */
struct shape {
	const struct member *members;
	size_t nmembers;
	int (*rules)(struct build *b, const cJSON *evidence);
	enum record_origin origin;
};

#define NMEMBERS(tab) (sizeof(tab) / sizeof((tab)[0]))

static const struct shape graph_shape = {
    graph_members, NMEMBERS(graph_members), graph_rules, RECORD_GRAPH};
static const struct shape alerts_shape = {
    alerts_members, NMEMBERS(alerts_members), alerts_rules, RECORD_ALERTS};

static int
from_alert(struct record *r, const cJSON *obj, const struct shape *sh,
    const char **why)
{
	const cJSON *ev;
	struct build b;
	int rc;

	if ((rc = begin(&b, r, obj, why)) != 0 ||
	    (rc = walk(&b, obj, sh->members, sh->nmembers)) != 0)
		return fail(r, rc, why);
	ev = b.kept[KEPT_EVIDENCE];
	if ((rc = join_strings(
	         &b, RF_MITRE_TECHNIQUES, b.kept[KEPT_MITRE], ", ")) != 0 ||
	    (rc = sh->rules(&b, ev)) != 0)
		return fail(r, rc, why);
	split_dns_name(&b);
	if ((rc = finish(&b, RF_ALERT_ID, why)) != 0)
		return fail(r, rc, why);
	r->raw = obj;
	r->evidence = cJSON_IsArray(ev) ? ev : NULL;
	r->origin = sh->origin;
	return 0;
}

int
record_from_graph(struct record *r, const cJSON *obj, const char **why)
{
	return from_alert(r, obj, &graph_shape, why);
}

int
record_from_alerts(struct record *r, const cJSON *obj, const char **why)
{
	return from_alert(r, obj, &alerts_shape, why);
}

/* customTags and systemTags, joined with ", ". */
static int
incident_tags(struct build *b)
{
	static const enum kept keys[] = {KEPT_CUSTOM_TAGS, KEPT_SYSTEM_TAGS};
	const cJSON *arr;
	size_t k;
	int first = 1, rc = 0;

	derived_begin(b, RF_INCIDENT_TAGS);
	for (k = 0; k < 2 && rc == 0; k++) {
		arr = b->kept[keys[k]];
		if (cJSON_IsArray(arr))
			rc = append_strings(b, arr, ", ", &first);
	}
	derived_end(b, RF_INCIDENT_TAGS);
	return rc;
}

/*
 * The ids of alerts[] ($expand=alerts), at most RECORD_ALERT_IDS_MAX of
 * them, then ",+N" for the N more: an incident of thousands of alerts
 * stays one message.
 */
static int
incident_alert_ids(struct build *b)
{
	const cJSON *arr = b->kept[KEPT_ALERTS], *it;
	const char *id;
	size_t taken = 0, more = 0;
	int rc = 0;

	if (!cJSON_IsArray(arr))
		return 0;
	derived_begin(b, RF_ALERT_IDS);
	cJSON_ArrayForEach(it, arr)
	{
		if ((id = jstr(it, "id")) == NULL)
			continue;
		if (taken == RECORD_ALERT_IDS_MAX) {
			more++;
			continue;
		}
		if (taken > 0 && (rc = buf_addc(&b->r->scratch, ',')) != 0)
			break;
		if ((rc = buf_adds(&b->r->scratch, id)) != 0)
			break;
		taken++;
	}
	if (rc == 0 && more > 0)
		rc = buf_printf(&b->r->scratch, ",+%zu", more);
	derived_end(b, RF_ALERT_IDS);
	return rc;
}

int
record_from_incident(struct record *r, const cJSON *obj, const char **why)
{
	struct build b;
	int rc;

	if ((rc = begin(&b, r, obj, why)) != 0)
		return fail(r, rc, why);
	if ((rc = walk(
	         &b, obj, incident_members, NMEMBERS(incident_members))) != 0 ||
	    (rc = incident_tags(&b)) != 0 || (rc = incident_alert_ids(&b)) != 0)
		return fail(r, rc, why);
	capitalise_severity(&b);
	if ((rc = finish(&b, RF_INCIDENT_ID, why)) != 0)
		return fail(r, rc, why);
	r->raw = obj;
	r->origin = RECORD_GRAPH_INCIDENT;
	return 0;
}

static int
sorted(const struct member *tab, size_t n)
{
	size_t i;

	for (i = 1; i < n; i++)
		if (strcmp(tab[i - 1].key, tab[i].key) >= 0)
			return 0;
	return 1;
}

int
record_alert_tables_sorted(void)
{
	return sorted(graph_members, NMEMBERS(graph_members)) &&
	    sorted(alerts_members, NMEMBERS(alerts_members)) &&
	    sorted(incident_members, NMEMBERS(incident_members));
}
