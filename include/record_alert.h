/* SPDX-License-Identifier: MIT */
/*
 * Canonical records (include/record.h) from the two updatable-alert APIs:
 * Microsoft Graph security/alerts_v2 and the Defender for Endpoint Alert
 * API (/api/alerts with $expand=evidence).  Alert fields map as in
 * Microsoft's SIEM-to-Graph table (reference/mde-api.md 2.4); the device,
 * file, process, ip, url and user fields come from one primary evidence
 * item of each kind, chosen by the rules in record_alert.c, while
 * r->evidence keeps the whole evidence array for the JSON output.
 */
#ifndef RECORD_ALERT_H
#define RECORD_ALERT_H

struct cJSON;
struct record;

/*
 * Build a record from one alerts_v2 object.  Returns 0; ERR_BADREC with
 * *why set to a static reason when obj is not an object, has no id, or
 * no parseable lastUpdateDateTime; ERR_NOMEM when the scratch storage
 * cannot grow.  The record borrows from obj (see record.h); its dedup key
 * is "<id>:<lastUpdateDateTime in 7-digit form>" and its order_time the
 * lastUpdateDateTime.  On failure the record is left cleared.
 */
int record_from_graph(
    struct record *r, const struct cJSON *obj, const char **why);

/* The same for one Alert API object (lastUpdateTime). */
int record_from_alerts(
    struct record *r, const struct cJSON *obj, const char **why);

/*
 * The same for one Graph incident (security/incidents, with
 * $expand=alerts): displayName as the title, severity, status,
 * classification, determination, assignedTo, incidentWebUrl, its custom
 * and system tags, and the ids of its alerts as a list bounded at
 * RECORD_ALERT_IDS_MAX ids ("id1,id2,...", then ",+N" for the N left
 * out).  Its id is RF_INCIDENT_ID; the dedup key
 * "<id>:<lastUpdateDateTime in 7-digit form>"; origin
 * RECORD_GRAPH_INCIDENT.
 */
#define RECORD_ALERT_IDS_MAX 50
int record_from_incident(
    struct record *r, const struct cJSON *obj, const char **why);

/*
 * 1 when each API's member table is sorted by strcmp() of its names,
 * without a name twice, as the search of it needs; else 0 (for tests).
 */
int record_alert_tables_sorted(void);

#endif
