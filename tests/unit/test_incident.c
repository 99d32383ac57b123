/* SPDX-License-Identifier: MIT */
/*
 * The Graph incident mapping (record_from_incident()) and its messages:
 * every documented member lands in its field, the dedup key is id +
 * lastUpdateDateTime in the 7-digit form, the tags are joined, the alert
 * ids are a list bounded at RECORD_ALERT_IDS_MAX with the count of the
 * rest, unusable incidents are refused with a reason, and the CEF, LEEF
 * 2.0 and JSON messages of the fixture equal their golden files
 * (tests/data/incidents/; regenerate with MDESIEM_GOLDEN_WRITE=1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "check.h"
#include "config.h"
#include "errcode.h"
#include "fixture.h"
#include "format.h"
#include "record.h"
#include "record_alert.h"

#define DATA "tests/data/incidents/"

static void
test_fixture(struct record *r)
{
	cJSON *obj = load(DATA "graph-incident.json");
	const char *why = NULL;
	struct strv k;

	CHECK(record_from_incident(r, obj, &why) == 0);
	CHECK(r->origin == RECORD_GRAPH_INCIDENT);
	CHECK_STR(fv(r, RF_INCIDENT_ID), "2972395");
	CHECK(fv(r, RF_ALERT_ID) == NULL);
	CHECK_STR(fv(r, RF_ALERT_TITLE),
	    "Multi-stage incident involving Initial access & Command and "
	    "control on multiple endpoints reported by multiple sources");
	CHECK_STR(fv(r, RF_SEVERITY), "Medium");
	CHECK_STR(fv(r, RF_STATUS), "active");
	CHECK_STR(fv(r, RF_CLASSIFICATION), "truePositive");
	CHECK_STR(fv(r, RF_DETERMINATION), "multiStagedAttack");
	CHECK_STR(fv(r, RF_ASSIGNED_TO), "KaiC@contoso.onmicrosoft.com");
	CHECK_STR(fv(r, RF_INCIDENT_LINK_TO_MTP),
	    "https://security.microsoft.com/incidents/2972395?tid="
	    "12f988bf-16f1-11af-11ab-1d7cd011db47");
	CHECK_STR(fv(r, RF_INCIDENT_TAGS), "Demo, Defender Experts");
	CHECK_STR(fv(r, RF_ALERT_IDS),
	    "da637551227677560813_-961444813,da637551227677560813_-961444814");
	CHECK_STR(fv(r, RF_CREATED_TIME), "2021-08-13T08:43:35.5533333Z");
	CHECK_STR(fv(r, RF_LAST_UPDATE_TIME), "2021-09-30T09:35:45.1133333Z");
	CHECK(strncmp(r->dedup_key.p, "2972395:2021-09-30T09:35:45.1133333Z",
	          r->dedup_key.n) == 0 &&
	    r->dedup_key.n == 36);
	k = record_key(r);
	CHECK(k.n == 7 && memcmp(k.p, "2972395", 7) == 0);
	CHECK(r->has_alert_time);
	cJSON_Delete(obj);
}

/* 60 alerts: the first 50 ids, then ",+10"; a short lastUpdateDateTime
 * is keyed in its 7-digit form. */
static void
test_bounds(struct record *r)
{
	cJSON *o = cJSON_CreateObject(), *arr, *a;
	const char *why = NULL, *ids;
	char id[32];
	int i;

	cJSON_AddStringToObject(o, "id", "7");
	cJSON_AddStringToObject(
	    o, "lastUpdateDateTime", "2026-01-02T03:04:05Z");
	arr = cJSON_AddArrayToObject(o, "alerts");
	for (i = 0; i < 60; i++) {
		a = cJSON_CreateObject();
		snprintf(id, sizeof(id), "a%02d", i);
		cJSON_AddStringToObject(a, "id", id);
		cJSON_AddItemToArray(arr, a);
	}
	cJSON_AddItemToArray(arr, cJSON_CreateObject()); /* no id: skipped */
	CHECK(record_from_incident(r, o, &why) == 0);
	ids = fv(r, RF_ALERT_IDS);
	CHECK(ids != NULL && strncmp(ids, "a00,a01,", 8) == 0);
	CHECK(ids != NULL && strstr(ids, ",a49,+10") != NULL &&
	    strstr(ids, "a50") == NULL);
	CHECK(fv(r, RF_INCIDENT_TAGS) == NULL);
	CHECK(r->dedup_key.n == 30 &&
	    memcmp(r->dedup_key.p, "7:2026-01-02T03:04:05.0000000Z", 30) == 0);
	cJSON_Delete(o);
}

static void
test_bad(struct record *r)
{
	const char *why = NULL;
	cJSON *o =
	    cJSON_Parse("{\"lastUpdateDateTime\":\"2026-01-02T03:04:05Z\"}");

	CHECK(record_from_incident(r, o, &why) == ERR_BADREC && why != NULL);
	cJSON_Delete(o);
	o = cJSON_Parse("{\"id\":\"1\",\"lastUpdateDateTime\":\"yesterday\"}");
	why = NULL;
	CHECK(record_from_incident(r, o, &why) == ERR_BADREC && why != NULL);
	cJSON_Delete(o);
	o = cJSON_Parse("[1]");
	why = NULL;
	CHECK(record_from_incident(r, o, &why) == ERR_BADREC && why != NULL);
	CHECK(r->f[RF_INCIDENT_ID].n == 0);
	cJSON_Delete(o);
}

static void
golden(const struct record *r, enum config_format fmt, const char *path)
{
	static char vendor[] = "Microsoft",
	            product[] = "Microsoft Defender ATP", version[] = "2.0";
	struct config c;
	struct format *f;
	const char *why;
	struct buf out;
	char *want;
	size_t n = 0;
	FILE *fp;

	memset(&c, 0, sizeof(c));
	c.format = fmt;
	c.leef_version = 2;
	c.leef_delimiter = '^';
	c.max_message_size = 8192;
	c.vendor = vendor;
	c.product = product;
	c.product_version = version;
	buf_init(&out, 0);
	CHECK((f = format_new(&c, &why)) != NULL);
	if (f == NULL)
		return;
	CHECK(format_render(f, &out, r, 8192, NULL) == 0);
	buf_addc(&out, '\n');
	if (getenv("MDESIEM_GOLDEN_WRITE") != NULL &&
	    (fp = fopen(path, "w")) != NULL) {
		fwrite(out.data, 1, out.len, fp);
		fclose(fp);
	}
	want = slurp(path, &n);
	CHECK(want != NULL && n == out.len && memcmp(want, out.data, n) == 0);
	if (want == NULL || n != out.len || memcmp(want, out.data, n) != 0)
		fprintf(
		    stderr, "  %s: got [%.*s]\n", path, (int)out.len, out.data);
	free(want);
	format_free(f);
	buf_reset(&out);
}

static void
test_goldens(struct record *r)
{
	cJSON *obj = load(DATA "graph-incident.json");
	const char *why = NULL;

	CHECK(record_from_incident(r, obj, &why) == 0);
	golden(r, FORMAT_CEF, DATA "graph-incident.cef");
	golden(r, FORMAT_LEEF, DATA "graph-incident.leef");
	golden(r, FORMAT_JSON, DATA "graph-incident.jsonl");
	cJSON_Delete(obj);
}

int
main(void)
{
	struct record r;

	record_init(&r);
	test_fixture(&r);
	test_bounds(&r);
	test_bad(&r);
	test_goldens(&r);
	record_reset(&r);
	return check_done();
}
