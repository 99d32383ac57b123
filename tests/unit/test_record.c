/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for record.c: Microsoft's SIEM API examples become records
 * with the right fields, numbers, booleans, times and dedup keys; bad
 * detections are refused with a reason; the name lookup covers every
 * field.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "check.h"
#include "errcode.h"
#include "fixture.h"
#include "record.h"
#include "ts.h"

#define DATA "tests/data/cef/"

static void
test_names(void)
{
	int f;

	for (f = 0; f < RF__COUNT; f++) {
		/* The daemon's own fields (the tenant, the replay marker)
		 * and the incidents' come from no SIEM API. */
		if (f == RF_TENANT_NAME || f == RF_TENANT_ID ||
		    f == RF_INCIDENT_TAGS || f == RF_ALERT_IDS ||
		    f == RF_REPLAY) {
			CHECK(record_field_name(f)[0] == '\0');
			continue;
		}
		CHECK(record_field_by_name(record_field_name(f)) == f);
		CHECK(record_field_json(f)[0] != '\0');
	}
	CHECK(record_field_by_name("IoaDefinitiondId") == RF_IOA_DEFINITION_ID);
	CHECK(record_field_by_name("alerttitle") == -1);
	CHECK(record_field_by_name("") == -1);
	CHECK(record_field_by_name("Zzz") == -1);
	CHECK_STR(record_field_name(RF_ALERT_TITLE), "AlertTitle");
	CHECK_STR(record_field_json(RF_SOURCE), "detection_source");
}

static void
test_fixture(struct record *r)
{
	cJSON *arr = load(DATA "siem-api-detections-example.json");
	const cJSON *obj = cJSON_GetArrayItem(arr, 0);
	const char *why = NULL;
	char t[TS_STRLEN];

	CHECK(obj != NULL);
	CHECK(record_from_siem(r, obj, &why) == 0);
	CHECK(why == NULL);
	CHECK(r->raw == obj);
	CHECK(r->origin == RECORD_SIEM);
	CHECK_STR(fv(r, RF_ALERT_TITLE), "Suspicious File Activity");
	CHECK_STR(fv(r, RF_SEVERITY), "High");
	CHECK_STR(fv(r, RF_ALERT_ID), "da637370718981685665_16349121");
	CHECK_STR(fv(r, RF_FILE_PATH), "C:\\WINDOWS\\SysWOW64\\boo3\\qwerty");
	CHECK_STR(fv(r, RF_IOA_DEFINITION_ID),
	    "b20af1d2-5990-4672-87f1-acc2a8ff7725");
	CHECK_STR(
	    fv(r, RF_DEVICE_ID), "deadbeef000040830ee54503926f556dcaf82bb0");
	CHECK_STR(fv(r, RF_SOURCE), "EDR");
	/* empty strings and nulls are absent */
	CHECK(fv(r, RF_ACTOR) == NULL);
	CHECK(fv(r, RF_IP_ADDRESS) == NULL);
	CHECK(fv(r, RF_REMEDIATION_IS_SUCCESS) == NULL);
	CHECK(record_bool(r, RF_REMEDIATION_IS_SUCCESS) == -1);
	CHECK(record_bool(r, RF_WAS_EXECUTING) == -1);
	/* numbers become decimal text */
	CHECK_STR(fv(r, RF_ALERT_PART), "0");
	CHECK_STR(fv(r, RF_REPORT_ID), "1053729833");
	/* fields the SIEM API does not have */
	CHECK(fv(r, RF_STATUS) == NULL);
	CHECK(fv(r, RF_INCIDENT_ID) == NULL);
	CHECK_STR(sv(&r->dedup_key),
	    "da637370718981685665_16349121:"
	    "R4xEdgAvDb2LQl3BgHoA3NYqKmRSiIAG7dpxAJCYZhY=");
	CHECK(r->dedup_key.p == r->f[RF_FULL_ID].p);
	ts_format7(&r->order_time, t);
	CHECK_STR(t, "2020-09-30T14:11:44.0779765Z");
	CHECK(r->has_alert_time);
	ts_format7(&r->alert_time, t);
	CHECK_STR(t, "2020-09-30T14:09:20.3574300Z");
	record_clear(r);
	CHECK(r->f[RF_ALERT_TITLE].n == 0 && r->dedup_key.n == 0);
	CHECK(r->raw == NULL && !r->has_alert_time);
	cJSON_Delete(arr);
}

static void
test_legacy(struct record *r)
{
	cJSON *obj = load(DATA "siem-api-detection-2017-legacy-example.json");
	const char *why = NULL;
	char t[TS_STRLEN];

	CHECK(obj != NULL);
	CHECK(record_from_siem(r, obj, &why) == 0);
	/* the 2017 misspelling lands in the right field */
	CHECK_STR(fv(r, RF_IOA_DEFINITION_ID),
	    "7f1c3609-a3ff-40e2-995b-c01770161d68");
	CHECK(fv(r, RF_ACTOR) == NULL);
	CHECK(fv(r, RF_URL) == NULL);
	CHECK(record_bool(r, RF_WAS_EXECUTING) == -1);
	CHECK_STR(fv(r, RF_SOURCE), "Windows Defender ATP");
	CHECK_STR(fv(r, RF_ALERT_PART), "0");
	CHECK(fv(r, RF_DEVICE_ID) == NULL);
	CHECK_STR(fv(r, RF_FILE_PATH),
	    "C:\\Windows\\SysWOW64\\WindowsPowerShell\\v1.0");
	ts_format7(&r->order_time, t);
	CHECK_STR(t, "2017-01-23T11:33:45.0760449Z");
	CHECK(r->dedup_key.n > 0 && r->dedup_key.p == r->f[RF_FULL_ID].p);
	cJSON_Delete(obj);
}

/* Parse a JSON text and build a record; returns the code. */
static int
build(struct record *r, cJSON **hold, const char *json, const char **why)
{
	cJSON_Delete(*hold);
	*hold = cJSON_Parse(json);
	if (*hold == NULL) {
		fprintf(stderr, "bad test JSON: %s\n", json);
		return 999;
	}
	return record_from_siem(r, *hold, why);
}

#define LPT "\"LastProcessedTimeUtc\":\"2024-01-02T03:04:05.1234567Z\""

static void
test_values(struct record *r)
{
	cJSON *j = NULL;
	const char *why = NULL;

	CHECK(build(r, &j,
	          "{" LPT ",\"FullId\":\"a:b\","
	          "\"RemediationIsSuccess\":true,"
	          "\"WasExecutingWhileDetected\":false,\"AlertPart\":12,"
	          "\"ReportID\":-7,\"Unknown\":\"x\",\"AlertTitle\":\"\"}",
	          &why) == 0);
	CHECK(record_bool(r, RF_REMEDIATION_IS_SUCCESS) == 1);
	CHECK(record_bool(r, RF_WAS_EXECUTING) == 0);
	CHECK_STR(fv(r, RF_REMEDIATION_IS_SUCCESS), "true");
	CHECK_STR(fv(r, RF_ALERT_PART), "12");
	CHECK_STR(fv(r, RF_REPORT_ID), "-7");
	CHECK(fv(r, RF_ALERT_TITLE) == NULL);
	CHECK(!r->has_alert_time);

	/* booleans written as text or numbers */
	CHECK(build(r, &j,
	          "{" LPT ",\"FullId\":\"a:b\","
	          "\"RemediationIsSuccess\":\"TRUE\","
	          "\"WasExecutingWhileDetected\":\"False\"}",
	          &why) == 0);
	CHECK(record_bool(r, RF_REMEDIATION_IS_SUCCESS) == 1);
	CHECK(record_bool(r, RF_WAS_EXECUTING) == 0);
	CHECK_STR(fv(r, RF_WAS_EXECUTING), "false");
	CHECK(build(r, &j,
	          "{" LPT ",\"FullId\":\"a:b\","
	          "\"RemediationIsSuccess\":1,\"WasExecutingWhileDetected\":0}",
	          &why) == 0);
	CHECK(record_bool(r, RF_REMEDIATION_IS_SUCCESS) == 1);
	CHECK(record_bool(r, RF_WAS_EXECUTING) == 0);
	CHECK(build(r, &j,
	          "{" LPT ",\"FullId\":\"a:b\","
	          "\"RemediationIsSuccess\":\"maybe\","
	          "\"WasExecutingWhileDetected\":null}",
	          &why) == 0);
	CHECK(record_bool(r, RF_REMEDIATION_IS_SUCCESS) == -1);
	CHECK(record_bool(r, RF_WAS_EXECUTING) == -1);

	/* a fractional number keeps its fraction */
	CHECK(build(r, &j, "{" LPT ",\"FullId\":\"a:b\",\"AlertPart\":1.5}",
	          &why) == 0);
	CHECK_STR(fv(r, RF_ALERT_PART), "1.5");

	/* objects and arrays where text belongs are ignored */
	CHECK(build(r, &j,
	          "{" LPT ",\"FullId\":\"a:b\",\"Url\":[1],"
	          "\"Sha1\":{}}",
	          &why) == 0);
	CHECK(fv(r, RF_URL) == NULL && fv(r, RF_SHA1) == NULL);

	/* AlertTime in another precision, and unparseable */
	CHECK(build(r, &j,
	          "{" LPT ",\"FullId\":\"a:b\","
	          "\"AlertTime\":\"2024-01-02T03:04:05Z\"}",
	          &why) == 0);
	CHECK(r->has_alert_time &&
	    ts_epoch_ms(&r->alert_time) == 1704164645000LL);
	CHECK(build(r, &j,
	          "{" LPT ",\"FullId\":\"a:b\","
	          "\"AlertTime\":\"yesterday\"}",
	          &why) == 0);
	CHECK(!r->has_alert_time);
	CHECK_STR(fv(r, RF_ALERT_TIME), "yesterday");
	cJSON_Delete(j);
}

static void
test_dedup(struct record *r)
{
	cJSON *j = NULL;
	const char *why = NULL;
	int i;

	CHECK(build(r, &j,
	          "{" LPT ",\"AlertId\":\"da1_2\","
	          "\"IocUniqueId\":\"XYZ=\",\"FullId\":\"\"}",
	          &why) == 0);
	CHECK_STR(sv(&r->dedup_key), "da1_2:XYZ=");
	/* numbers in scratch and the key built after them stay valid */
	CHECK(build(r, &j,
	          "{" LPT ",\"AlertId\":77,\"ReportID\":5,"
	          "\"IocUniqueId\":\"u\",\"AlertPart\":3}",
	          &why) == 0);
	CHECK_STR(sv(&r->dedup_key), "77:u");
	CHECK_STR(fv(r, RF_ALERT_ID), "77");
	CHECK_STR(fv(r, RF_REPORT_ID), "5");
	CHECK_STR(fv(r, RF_ALERT_PART), "3");
	/* many records in a row reuse the scratch storage */
	for (i = 0; i < 100; i++)
		CHECK(build(r, &j,
		          "{" LPT ",\"AlertId\":\"a\","
		          "\"IocUniqueId\":\"b\",\"AlertPart\":1}",
		          &why) == 0);
	CHECK_STR(sv(&r->dedup_key), "a:b");
	CHECK(r->scratch.len == 4);
	cJSON_Delete(j);
}

static void
test_bad(struct record *r)
{
	cJSON *j = NULL;
	const char *why = NULL;

	CHECK(build(r, &j, "[1,2]", &why) == ERR_BADREC);
	CHECK(why != NULL && strstr(why, "object") != NULL);
	why = NULL;
	CHECK(build(r, &j, "\"x\"", &why) == ERR_BADREC && why != NULL);
	why = NULL;
	CHECK(build(r, &j, "{\"FullId\":\"a:b\"}", &why) == ERR_BADREC);
	CHECK_STR(why, "LastProcessedTimeUtc missing or not a time");
	why = NULL;
	CHECK(build(r, &j,
	          "{\"FullId\":\"a:b\","
	          "\"LastProcessedTimeUtc\":\"not a time\"}",
	          &why) == ERR_BADREC);
	CHECK_STR(why, "LastProcessedTimeUtc missing or not a time");
	CHECK(r->f[RF_FULL_ID].n == 0); /* left cleared */
	why = NULL;
	CHECK(build(r, &j,
	          "{\"FullId\":\"a:b\","
	          "\"LastProcessedTimeUtc\":12}",
	          &why) == ERR_BADREC);
	why = NULL;
	CHECK(build(r, &j, "{" LPT ",\"AlertId\":\"a\"}", &why) == ERR_BADREC);
	CHECK(why != NULL && strstr(why, "FullId") != NULL);
	why = NULL;
	CHECK(build(r, &j, "{" LPT ",\"IocUniqueId\":\"u\",\"FullId\":null}",
	          &why) == ERR_BADREC &&
	    why != NULL);
	why = NULL;
	CHECK(record_from_siem(r, NULL, &why) == ERR_BADREC && why != NULL);
	cJSON_Delete(j);
}

int
main(void)
{
	struct record r;

	record_init(&r);
	test_names();
	test_fixture(&r);
	test_legacy(&r);
	test_values(&r);
	test_dedup(&r);
	test_bad(&r);
	record_reset(&r);
	return check_done();
}
