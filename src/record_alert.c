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

/* Alert member -> field; a member may feed several fields. */
struct keymap {
	const char *key;
	enum record_field f;
};

static const struct keymap graph_keys[] = {
    {"id", RF_ALERT_ID},
    {"title", RF_ALERT_TITLE},
    {"severity", RF_SEVERITY},
    {"category", RF_CATEGORY},
    {"actorDisplayName", RF_ACTOR},
    {"alertWebUrl", RF_LINK_TO_WDATP},
    {"alertWebUrl", RF_LINK_TO_MTP},
    {"incidentWebUrl", RF_INCIDENT_LINK_TO_WDATP},
    {"incidentWebUrl", RF_INCIDENT_LINK_TO_MTP},
    {"detectorId", RF_IOA_DEFINITION_ID},
    {"threatFamilyName", RF_THREAT_FAMILY},
    {"threatDisplayName", RF_THREAT_NAME},
    {"detectionSource", RF_SOURCE},
    {"serviceSource", RF_SERVICE_SOURCE},
    {"description", RF_DESCRIPTION},
    {"status", RF_STATUS},
    {"classification", RF_CLASSIFICATION},
    {"determination", RF_DETERMINATION},
    {"incidentId", RF_INCIDENT_ID},
    {"createdDateTime", RF_CREATED_TIME},
    {"createdDateTime", RF_ALERT_TIME},
    {"lastUpdateDateTime", RF_LAST_UPDATE_TIME},
    {"lastActivityDateTime", RF_LAST_PROCESSED_TIME},
    {"assignedTo", RF_ASSIGNED_TO},
    /* newer than Microsoft's SIEM-to-Graph table (beta, 2026) */
    {"productName", RF_PRODUCT_NAME},
    {"alertPolicyId", RF_ALERT_POLICY_ID},
    {"investigationState", RF_INVESTIGATION_STATE},
};

static const struct keymap alerts_keys[] = {
    {"id", RF_ALERT_ID},
    {"title", RF_ALERT_TITLE},
    {"severity", RF_SEVERITY},
    {"category", RF_CATEGORY},
    {"detectorId", RF_IOA_DEFINITION_ID},
    {"threatFamilyName", RF_THREAT_FAMILY},
    {"threatName", RF_THREAT_NAME},
    {"detectionSource", RF_SOURCE},
    {"description", RF_DESCRIPTION},
    {"status", RF_STATUS},
    {"classification", RF_CLASSIFICATION},
    {"determination", RF_DETERMINATION},
    {"incidentId", RF_INCIDENT_ID},
    {"alertCreationTime", RF_CREATED_TIME},
    {"alertCreationTime", RF_ALERT_TIME},
    {"lastUpdateTime", RF_LAST_UPDATE_TIME},
    {"lastEventTime", RF_LAST_PROCESSED_TIME},
    {"assignedTo", RF_ASSIGNED_TO},
    {"machineId", RF_DEVICE_ID},
    {"computerDnsName", RF_COMPUTER_DNS_NAME},
    {"rbacGroupName", RF_MACHINE_GROUP},
    {"investigationState", RF_INVESTIGATION_STATE},
};

static const struct keymap incident_keys[] = {
    {"id", RF_INCIDENT_ID},
    {"displayName", RF_ALERT_TITLE},
    {"severity", RF_SEVERITY},
    {"status", RF_STATUS},
    {"classification", RF_CLASSIFICATION},
    {"determination", RF_DETERMINATION},
    {"assignedTo", RF_ASSIGNED_TO},
    {"incidentWebUrl", RF_INCIDENT_LINK_TO_MTP},
    {"description", RF_DESCRIPTION},
    {"createdDateTime", RF_CREATED_TIME},
    {"createdDateTime", RF_ALERT_TIME},
    {"lastUpdateDateTime", RF_LAST_UPDATE_TIME},
};

/* The record under construction and where its derived values sit. */
struct build {
	struct record *r;
	size_t soff[RF__COUNT]; /* scratch offset, or SIZE_MAX */
	size_t koff; /* dedup key offset */
};

/* The primary evidence item of each kind (NULL: none). */
struct primary {
	const cJSON *device, *file, *process, *ip, *url, *user;
	int file_rank, process_rank, ip_rank, url_rank, user_rank;
};

static const char str_true[] = "true";
static const char str_false[] = "false";

/* A non-empty string member, or NULL. */
static const char *
jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (cJSON_IsString(v) && v->valuestring != NULL &&
	    v->valuestring[0] != '\0')
		return v->valuestring;
	return NULL;
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

/*
 * One pass over the alert's members through the API's table (a key may
 * feed several fields).  The first byte is compared before strcmp():
 * Graph alerts have some 30 members, and calling strcmp() for every
 * table row was the largest cost of normalising one.
 */
static int
walk(struct build *b, const cJSON *obj, const struct keymap *map, size_t n)
{
	const cJSON *c;
	size_t i;
	int rc;

	for (c = obj->child; c != NULL; c = c->next) {
		if (c->string == NULL)
			continue;
		for (i = 0; i < n; i++) {
			if (c->string[0] != map[i].key[0] ||
			    strcmp(c->string, map[i].key) != 0)
				continue;
			if ((rc = set_scalar(b, map[i].f, c)) != 0)
				return rc;
		}
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

static int
detected(const cJSON *ev)
{
	static const char *const states[] = {
	    "detected", "blocked", "prevented", NULL};

	return is_one_of(jstr(ev, "detectionStatus"), states);
}

static int
verdict_rank(const cJSON *ev)
{
	const char *v = jstr(ev, "verdict");

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
choose(struct primary *p, const cJSON *ev, enum ev_kind k)
{
	switch (k) {
	case EV_DEVICE:
		if (p->device == NULL)
			p->device = ev;
		break;
	case EV_FILE:
		consider(&p->file, &p->file_rank, ev, detected(ev) ? 4 : 2);
		break;
	case EV_PROCESS:
		consider(&p->file, &p->file_rank, ev, detected(ev) ? 3 : 1);
		consider(&p->process, &p->process_rank, ev, detected(ev));
		break;
	case EV_IP:
		consider(&p->ip, &p->ip_rank, ev, verdict_rank(ev));
		break;
	case EV_URL:
		consider(&p->url, &p->url_rank, ev, verdict_rank(ev));
		break;
	case EV_USER:
		consider(&p->user, &p->user_rank, ev, verdict_rank(ev));
		break;
	default:
		break;
	}
}

/* "#microsoft.graph.security.fileEvidence" -> EV_FILE */
static enum ev_kind
graph_kind(const cJSON *ev)
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
	const char *t = jstr(ev, "@odata.type"), *dot;
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

/* entityType "File", "Process", "User", "Ip", "Url" (any case). */
static enum ev_kind
alerts_kind(const cJSON *ev)
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
	const char *t = jstr(ev, "entityType");
	size_t i;

	for (i = 0; t != NULL && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcasecmp(t, kinds[i].name) == 0)
			return kinds[i].k;
	return EV_OTHER;
}

static void
find_primary(const cJSON *evidence, int graph, struct primary *p)
{
	const cJSON *ev;

	memset(p, 0, sizeof(*p));
	if (!cJSON_IsArray(evidence))
		return;
	cJSON_ArrayForEach(ev, evidence)
	{
		if (cJSON_IsObject(ev))
			choose(p, ev, graph ? graph_kind(ev) : alerts_kind(ev));
	}
}

/* File name, path and hashes from a file-details object. */
static void
set_file(struct build *b, const cJSON *fd)
{
	const char *sha1 = jstr(fd, "sha1"), *sha256 = jstr(fd, "sha256");

	set_str(b, RF_FILE_NAME, jstr(fd, "fileName"));
	set_str(b, RF_FILE_PATH, jstr(fd, "filePath"));
	set_str(b, RF_SHA1, sha1);
	set_str(b, RF_SHA256, sha256);
	set_str(b, RF_MD5, jstr(fd, "md5"));
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
graph_rules(struct build *b, const cJSON *obj, const cJSON *evidence)
{
	const cJSON *fd, *acct;
	struct primary p;
	int rc;

	find_primary(evidence, 1, &p);
	if (p.device != NULL) {
		set_str(
		    b, RF_COMPUTER_DNS_NAME, jstr(p.device, "deviceDnsName"));
		set_str(b, RF_DEVICE_ID, jstr(p.device, "mdeDeviceId"));
		set_str(b, RF_MACHINE_GROUP, jstr(p.device, "rbacGroupName"));
		if ((rc = join_users(b,
		         cJSON_GetObjectItemCaseSensitive(
		             p.device, "loggedOnUsers"))) != 0 ||
		    (rc = join_strings(b, RF_DEVICE_TAGS,
		         cJSON_GetObjectItemCaseSensitive(p.device, "tags"),
		         ", ")) != 0)
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
	if ((rc = set_dict(b, RF_CUSTOM_DETAILS,
	         cJSON_GetObjectItemCaseSensitive(obj, "customDetails"),
	         &b->r->custom_details)) != 0)
		return rc;
	return set_dict(b, RF_ADDITIONAL_DATA,
	    cJSON_GetObjectItemCaseSensitive(obj, "additionalData"),
	    &b->r->additional_data);
}

/* Alert API: fields from the evidence and relatedUser. */
static int
alerts_rules(struct build *b, const cJSON *obj, const cJSON *evidence)
{
	const cJSON *ru = cJSON_GetObjectItemCaseSensitive(obj, "relatedUser");
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
		set_user(b, jstr(obj, "relatedUser"), NULL);
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
	const struct keymap *keys;
	size_t nkeys;
	int (*rules)(struct build *b, const cJSON *obj, const cJSON *evidence);
	enum record_origin origin;
};

static const struct shape graph_shape = {graph_keys,
    sizeof(graph_keys) / sizeof(graph_keys[0]), graph_rules, RECORD_GRAPH};
static const struct shape alerts_shape = {alerts_keys,
    sizeof(alerts_keys) / sizeof(alerts_keys[0]), alerts_rules, RECORD_ALERTS};

static int
from_alert(struct record *r, const cJSON *obj, const struct shape *sh,
    const char **why)
{
	const cJSON *ev;
	struct build b;
	int rc;

	if ((rc = begin(&b, r, obj, why)) != 0)
		return fail(r, rc, why);
	ev = cJSON_GetObjectItemCaseSensitive(obj, RECORD_EVIDENCE_KEY);
	if ((rc = walk(&b, obj, sh->keys, sh->nkeys)) != 0 ||
	    (rc = join_strings(&b, RF_MITRE_TECHNIQUES,
	         cJSON_GetObjectItemCaseSensitive(obj, "mitreTechniques"),
	         ", ")) != 0 ||
	    (rc = sh->rules(&b, obj, ev)) != 0)
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
incident_tags(struct build *b, const cJSON *obj)
{
	static const char *const keys[] = {"customTags", "systemTags"};
	const cJSON *arr;
	size_t k;
	int first = 1, rc = 0;

	derived_begin(b, RF_INCIDENT_TAGS);
	for (k = 0; k < 2 && rc == 0; k++) {
		arr = cJSON_GetObjectItemCaseSensitive(obj, keys[k]);
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
incident_alert_ids(struct build *b, const cJSON *obj)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, "alerts"), *it;
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
	if ((rc = walk(&b, obj, incident_keys,
	         sizeof(incident_keys) / sizeof(incident_keys[0]))) != 0 ||
	    (rc = incident_tags(&b, obj)) != 0 ||
	    (rc = incident_alert_ids(&b, obj)) != 0)
		return fail(r, rc, why);
	capitalise_severity(&b);
	if ((rc = finish(&b, RF_INCIDENT_ID, why)) != 0)
		return fail(r, rc, why);
	r->raw = obj;
	r->origin = RECORD_GRAPH_INCIDENT;
	return 0;
}
