/* SPDX-License-Identifier: MIT */
/*
 * The canonical record: one detection or alert version, whatever API it
 * came from.  Its fields are the documented Detection fields of the SIEM
 * API (reference/mde-api.md section 1.6) plus what only updatable alerts
 * have (status, classification, determination, incident id, creation and
 * last update time, service source, MITRE techniques, ...), and Graph's
 * newer ones (product name, alert policy id, investigation state, and the
 * customDetails and additionalData dictionaries as compact JSON text).
 *
 * Values are borrowed: they point into the parsed JSON of the page (cJSON
 * strings) or into the record's own scratch buffer, so a record is only
 * valid while the page it was made from is alive and until the next
 * record_clear().  Nothing is copied per field.
 */
#ifndef RECORD_H
#define RECORD_H

#include <stddef.h>

#include "buf.h"
#include "ts.h"

struct cJSON;

/*
 * X(ENUM, "SiemName", "json_name")
 * SiemName is the SIEM API key (the normaliser's lookup key for api=siem);
 * json_name is the stable snake_case key of the JSON output.
 */
#define RECORD_FIELDS(X) \
	X(ALERT_TIME, "AlertTime", "alert_time") \
	X(COMPUTER_DNS_NAME, "ComputerDnsName", "computer_dns_name") \
	X(ALERT_TITLE, "AlertTitle", "alert_title") \
	X(CATEGORY, "Category", "category") \
	X(SEVERITY, "Severity", "severity") \
	X(ALERT_ID, "AlertId", "alert_id") \
	X(ACTOR, "Actor", "actor") \
	X(LINK_TO_WDATP, "LinkToWDATP", "link_to_wdatp") \
	X(IOC_NAME, "IocName", "ioc_name") \
	X(IOC_VALUE, "IocValue", "ioc_value") \
	X(CREATOR_IOC_NAME, "CreatorIocName", "creator_ioc_name") \
	X(CREATOR_IOC_VALUE, "CreatorIocValue", "creator_ioc_value") \
	X(SHA1, "Sha1", "sha1") \
	X(FILE_NAME, "FileName", "file_name") \
	X(FILE_PATH, "FilePath", "file_path") \
	X(IP_ADDRESS, "IpAddress", "ip_address") \
	X(URL, "Url", "url") \
	X(IOA_DEFINITION_ID, "IoaDefinitionId", "ioa_definition_id") \
	X(USER_NAME, "UserName", "user_name") \
	X(ALERT_PART, "AlertPart", "alert_part") \
	X(FULL_ID, "FullId", "full_id") \
	X(LAST_PROCESSED_TIME, "LastProcessedTimeUtc", "last_processed_time") \
	X(THREAT_CATEGORY, "ThreatCategory", "threat_category") \
	X(THREAT_FAMILY, "ThreatFamily", "threat_family") \
	X(THREAT_NAME, "ThreatName", "threat_name") \
	X(REMEDIATION_ACTION, "RemediationAction", "remediation_action") \
	X(REMEDIATION_IS_SUCCESS, "RemediationIsSuccess", \
	    "remediation_is_success") \
	X(SOURCE, "Source", "detection_source") \
	X(MD5, "Md5", "md5") \
	X(SHA256, "Sha256", "sha256") \
	X(WAS_EXECUTING, "WasExecutingWhileDetected", \
	    "was_executing_while_detected") \
	X(USER_DOMAIN, "UserDomain", "user_domain") \
	X(LOGON_USERS, "LogOnUsers", "logon_users") \
	X(MACHINE_DOMAIN, "MachineDomain", "machine_domain") \
	X(MACHINE_NAME, "MachineName", "machine_name") \
	X(INTERNAL_IPV4_LIST, "InternalIPv4List", "internal_ipv4_list") \
	X(INTERNAL_IPV6_LIST, "InternalIPv6List", "internal_ipv6_list") \
	X(FILE_HASH, "FileHash", "file_hash") \
	X(DEVICE_ID, "DeviceID", "device_id") \
	X(MACHINE_GROUP, "MachineGroup", "machine_group") \
	X(DESCRIPTION, "Description", "description") \
	X(DEVICE_TAGS, "DeviceCreatedMachineTags", "device_created_tags") \
	X(CLOUD_TAGS, "CloudCreatedMachineTags", "cloud_created_tags") \
	X(COMMAND_LINE, "CommandLine", "command_line") \
	X(INCIDENT_LINK_TO_WDATP, "IncidentLinkToWDATP", \
	    "incident_link_to_wdatp") \
	X(REPORT_ID, "ReportID", "report_id") \
	X(LINK_TO_MTP, "LinkToMTP", "link_to_mtp") \
	X(INCIDENT_LINK_TO_MTP, "IncidentLinkToMTP", "incident_link_to_mtp") \
	X(EXTERNAL_ID, "ExternalId", "external_id") \
	X(IOC_UNIQUE_ID, "IocUniqueId", "ioc_unique_id") \
	X(STATUS, "Status", "status") \
	X(CLASSIFICATION, "Classification", "classification") \
	X(DETERMINATION, "Determination", "determination") \
	X(INCIDENT_ID, "IncidentId", "incident_id") \
	X(CREATED_TIME, "AlertCreationTime", "alert_creation_time") \
	X(LAST_UPDATE_TIME, "LastUpdateTime", "last_update_time") \
	X(SERVICE_SOURCE, "ServiceSource", "service_source") \
	X(MITRE_TECHNIQUES, "MitreTechniques", "mitre_techniques") \
	X(ASSIGNED_TO, "AssignedTo", "assigned_to") \
	X(PRODUCT_NAME, "ProductName", "product_name") \
	X(ALERT_POLICY_ID, "AlertPolicyId", "alert_policy_id") \
	X(INVESTIGATION_STATE, "InvestigationState", "investigation_state") \
	X(CUSTOM_DETAILS, "CustomDetails", "custom_details") \
	X(ADDITIONAL_DATA, "AdditionalData", "additional_data") \
	X(INCIDENT_TAGS, "", "incident_tags") \
	X(ALERT_IDS, "", "alert_ids") \
	X(TENANT_NAME, "", "tenant_name") \
	X(TENANT_ID, "", "tenant_id") \
	X(REPLAY, "", "replay")

#define RECORD_ENUM_(e, s, j) RF_##e,
enum record_field { RECORD_FIELDS(RECORD_ENUM_) RF__COUNT };
#undef RECORD_ENUM_

/* A borrowed string: p points at n bytes (not necessarily NUL-ended). */
struct strv {
	const char *p;
	size_t n;
};

/* Which API a record came from. */
enum record_origin {
	RECORD_SIEM = 0,
	RECORD_ALERTS,
	RECORD_GRAPH,
	RECORD_GRAPH_INCIDENT, /* a Graph incident, not an alert */
};

/* The member of an alert that holds its evidence array. */
#define RECORD_EVIDENCE_KEY "evidence"

struct record {
	struct strv f[RF__COUNT]; /* n == 0: absent or empty */
	enum record_origin origin;
	struct ts order_time; /* the cursor field's value */
	struct strv order_src; /* the field text it was read from */
	struct ts alert_time; /* AlertTime / createdDateTime */
	int has_alert_time;
	struct strv dedup_key; /* FullId, or id + last update */
	const struct cJSON *raw; /* the source object (JSON output) */
	const struct cJSON *evidence; /* every evidence item (graph,
					   alerts), or NULL */
	/* The same array as the API wrote it, when the record was read from
	 * a page's text (source_normalize()): borrowed from the page, valid
	 * until the next one.  The JSON output copies it when it may go out
	 * unchanged.  Empty otherwise. */
	struct strv evidence_text;
	/* The dictionaries behind CustomDetails and AdditionalData (Graph),
	 * for the JSON output, or NULL. */
	const struct cJSON *custom_details;
	const struct cJSON *additional_data;
	struct buf scratch; /* storage for derived values */
};

/* Initialise an empty record (once); record_reset() frees it. */
void record_init(struct record *r);
void record_reset(struct record *r);

/* Empty every field, keep the scratch storage for the next record. */
void record_clear(struct record *r);

/*
 * The record's stable key: the part of its dedup key that every version
 * of it shares (the FullId for siem, the alert id for alerts and graph,
 * the incident id for a Graph incident),
 * so that all its versions land in one Kafka partition.
 */
struct strv record_key(const struct record *r);

/*
 * Build a record from one SIEM API detection object.  Returns 0, or
 * ERR_BADREC when the object is unusable (not an object, or no FullId and
 * no AlertId+IocUniqueId, or no parseable LastProcessedTimeUtc), in which
 * case *why is set to a static reason.  The record borrows from obj.
 * ERR_NOMEM when the scratch storage cannot grow.  On failure the record
 * is left cleared.
 */
int record_from_siem(
    struct record *r, const struct cJSON *obj, const char **why);

/* SIEM API key for field f ("AlertTitle"), and JSON output key. */
const char *record_field_name(enum record_field f);
const char *record_field_json(enum record_field f);

/*
 * The field whose SIEM API key is name (case-sensitive; the 2017
 * misspelling "IoaDefinitiondId" included), or -1 when none is.
 */
int record_field_by_name(const char *name);

/*
 * The value of a boolean field (RemediationIsSuccess,
 * WasExecutingWhileDetected): 1, 0, or -1 when absent.
 */
int record_bool(const struct record *r, enum record_field f);

#endif
