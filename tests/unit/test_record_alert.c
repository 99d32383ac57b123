/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for record_alert.c: Microsoft's Graph alerts_v2 and Alert API
 * examples become records with every mapped field; the primary evidence
 * item of each kind follows the documented rules; the dedup key is the
 * same for one version however many fraction digits it is written with;
 * unusable alerts are refused with a reason; derived values survive the
 * scratch buffer moving.
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
#include "record_alert.h"
#include "ts.h"

#define DATA "tests/data/alerts/"

static void
test_graph_fixture(struct record *r)
{
	cJSON *root = load(DATA "graph-alerts-v2-example.json");
	const cJSON *obj =
	    cJSON_GetArrayItem(cJSON_GetObjectItem(root, "value"), 0);
	const char *why = NULL;
	char t[TS_STRLEN];

	CHECK(obj != NULL);
	CHECK(record_from_graph(r, obj, &why) == 0);
	CHECK(why == NULL);
	CHECK(r->origin == RECORD_GRAPH);
	CHECK(r->raw == obj);
	CHECK(r->evidence == cJSON_GetObjectItem(obj, "evidence"));
	CHECK(cJSON_GetArraySize(r->evidence) == 4);
	CHECK_STR(fv(r, RF_ALERT_ID), "da637551227677560813_-961444813");
	CHECK_STR(fv(r, RF_ALERT_TITLE), "Suspicious execution of hidden file");
	CHECK_STR(fv(r, RF_SEVERITY), "Low");
	CHECK_STR(fv(r, RF_CATEGORY), "DefenseEvasion");
	CHECK(fv(r, RF_ACTOR) == NULL);
	CHECK_STR(fv(r, RF_LINK_TO_WDATP),
	    "https://security.microsoft.com/alerts/"
	    "da637551227677560813_-961444813"
	    "?tid=b3c1b5fc-828c-45fa-a1e1-10d74f6d6e9c");
	CHECK_STR(fv(r, RF_LINK_TO_MTP),
	    "https://security.microsoft.com/alerts/"
	    "da637551227677560813_-961444813"
	    "?tid=b3c1b5fc-828c-45fa-a1e1-10d74f6d6e9c");
	CHECK_STR(fv(r, RF_INCIDENT_LINK_TO_WDATP),
	    "https://security.microsoft.com/incidents/28282"
	    "?tid=b3c1b5fc-828c-45fa-a1e1-10d74f6d6e9c");
	CHECK_STR(fv(r, RF_INCIDENT_LINK_TO_MTP),
	    "https://security.microsoft.com/incidents/28282"
	    "?tid=b3c1b5fc-828c-45fa-a1e1-10d74f6d6e9c");
	CHECK_STR(fv(r, RF_IOA_DEFINITION_ID),
	    "e0da400f-affd-43ef-b1d5-afc2eb6f2756");
	CHECK(fv(r, RF_THREAT_FAMILY) == NULL);
	CHECK(fv(r, RF_THREAT_NAME) == NULL);
	CHECK(fv(r, RF_THREAT_CATEGORY) == NULL);
	CHECK_STR(fv(r, RF_SOURCE), "antivirus");
	CHECK_STR(fv(r, RF_SERVICE_SOURCE), "microsoftDefenderForEndpoint");
	CHECK(strncmp(fv(r, RF_DESCRIPTION), "A hidden file has been launched.",
	          32) == 0);
	CHECK_STR(fv(r, RF_STATUS), "new");
	CHECK_STR(fv(r, RF_CLASSIFICATION), "unknown");
	CHECK_STR(fv(r, RF_DETERMINATION), "unknown");
	CHECK_STR(fv(r, RF_INCIDENT_ID), "28282");
	CHECK(fv(r, RF_ASSIGNED_TO) == NULL);
	CHECK_STR(fv(r, RF_CREATED_TIME), "2021-04-27T12:19:27.7211305Z");
	CHECK_STR(fv(r, RF_ALERT_TIME), "2021-04-27T12:19:27.7211305Z");
	CHECK_STR(fv(r, RF_LAST_UPDATE_TIME), "2021-05-02T14:19:01.3266667Z");
	CHECK_STR(fv(r, RF_LAST_PROCESSED_TIME), "2021-05-02T07:56:58.222Z");
	CHECK_STR(fv(r, RF_MITRE_TECHNIQUES), "T1564.001");
	/* deviceEvidence */
	CHECK_STR(fv(r, RF_COMPUTER_DNS_NAME), "tempDns");
	CHECK_STR(fv(r, RF_MACHINE_NAME), "tempDns");
	CHECK(fv(r, RF_MACHINE_DOMAIN) == NULL);
	CHECK_STR(
	    fv(r, RF_DEVICE_ID), "73e7e2de709dff64ef64b1d0c30e67fab63279db");
	CHECK_STR(fv(r, RF_MACHINE_GROUP), "UnassignedGroup");
	CHECK(fv(r, RF_LOGON_USERS) == NULL);
	CHECK_STR(fv(r, RF_DEVICE_TAGS), "Test Machine");
	CHECK(fv(r, RF_CLOUD_TAGS) == NULL);
	/* the detected fileEvidence is the primary file */
	CHECK_STR(fv(r, RF_FILE_NAME), "MsSense.exe");
	CHECK_STR(fv(r, RF_FILE_PATH), "C:\\Program Files\\temp");
	CHECK_STR(fv(r, RF_SHA1), "5f1e8acedc065031aad553b710838eb366cfee9a");
	CHECK_STR(fv(r, RF_SHA256),
	    "8963a19fb992ad9a76576c5638fd68292cffb9aaac"
	    "29eb8285f9abf6196a7dec");
	CHECK_STR(
	    fv(r, RF_FILE_HASH), "5f1e8acedc065031aad553b710838eb366cfee9a");
	CHECK(fv(r, RF_MD5) == NULL);
	CHECK(fv(r, RF_REMEDIATION_ACTION) == NULL);
	CHECK(record_bool(r, RF_REMEDIATION_IS_SUCCESS) == -1);
	CHECK(record_bool(r, RF_WAS_EXECUTING) == -1);
	/* processEvidence: command line, and the user context */
	CHECK_STR(fv(r, RF_COMMAND_LINE), "\"MsSense.exe\"");
	CHECK_STR(fv(r, RF_USER_NAME), "SYSTEM");
	CHECK_STR(fv(r, RF_USER_DOMAIN), "NT AUTHORITY");
	CHECK(fv(r, RF_IP_ADDRESS) == NULL);
	CHECK(fv(r, RF_URL) == NULL);
	/* SIEM-only fields stay empty */
	CHECK(fv(r, RF_FULL_ID) == NULL);
	CHECK(fv(r, RF_IOC_NAME) == NULL);
	CHECK(fv(r, RF_ALERT_PART) == NULL);
	CHECK_STR(sv(&r->dedup_key),
	    "da637551227677560813_-961444813:"
	    "2021-05-02T14:19:01.3266667Z");
	ts_format7(&r->order_time, t);
	CHECK_STR(t, "2021-05-02T14:19:01.3266667Z");
	CHECK(r->has_alert_time);
	ts_format7(&r->alert_time, t);
	CHECK_STR(t, "2021-04-27T12:19:27.7211305Z");
	record_clear(r);
	CHECK(r->evidence == NULL && r->raw == NULL && r->dedup_key.n == 0);
	cJSON_Delete(root);
}

static void
test_alerts_fixture(struct record *r)
{
	cJSON *obj = load(DATA "alert-api-single-alert-example.json");
	const char *why = NULL;
	char t[TS_STRLEN];

	CHECK(obj != NULL);
	CHECK(record_from_alerts(r, obj, &why) == 0);
	CHECK(r->origin == RECORD_ALERTS);
	CHECK(r->raw == obj);
	CHECK(cJSON_GetArraySize(r->evidence) == 3);
	CHECK_STR(fv(r, RF_ALERT_ID), "da637472900382838869_1364969609");
	CHECK_STR(fv(r, RF_INCIDENT_ID), "1126093");
	CHECK(fv(r, RF_ASSIGNED_TO) == NULL);
	CHECK_STR(fv(r, RF_SEVERITY), "Low");
	CHECK_STR(fv(r, RF_STATUS), "New");
	CHECK(fv(r, RF_CLASSIFICATION) == NULL);
	CHECK(fv(r, RF_DETERMINATION) == NULL);
	CHECK_STR(fv(r, RF_SOURCE), "WindowsDefenderAtp");
	CHECK_STR(fv(r, RF_IOA_DEFINITION_ID),
	    "17e10bbc-3a68-474a-8aad-faef14d43952");
	CHECK_STR(fv(r, RF_CATEGORY), "Execution");
	CHECK(fv(r, RF_THREAT_FAMILY) == NULL);
	CHECK(fv(r, RF_THREAT_NAME) == NULL);
	CHECK_STR(fv(r, RF_ALERT_TITLE),
	    "Low-reputation arbitrary code executed by signed executable");
	CHECK(strncmp(fv(r, RF_DESCRIPTION), "Binaries signed by Microsoft",
	          28) == 0);
	CHECK_STR(fv(r, RF_CREATED_TIME), "2021-01-26T20:33:57.7220239Z");
	CHECK_STR(fv(r, RF_ALERT_TIME), "2021-01-26T20:33:57.7220239Z");
	CHECK_STR(
	    fv(r, RF_LAST_PROCESSED_TIME), "2021-01-26T20:31:33.0577322Z");
	CHECK_STR(fv(r, RF_LAST_UPDATE_TIME), "2021-01-26T20:33:59.2Z");
	CHECK_STR(
	    fv(r, RF_DEVICE_ID), "111e6dd8c833c8a052ea231ec1b19adaf497b625");
	CHECK_STR(fv(r, RF_COMPUTER_DNS_NAME),
	    "temp123.middleeast.corp.microsoft.com");
	CHECK_STR(fv(r, RF_MACHINE_NAME), "temp123");
	CHECK_STR(fv(r, RF_MACHINE_DOMAIN), "middleeast.corp.microsoft.com");
	CHECK_STR(fv(r, RF_MACHINE_GROUP), "A");
	CHECK_STR(fv(r, RF_MITRE_TECHNIQUES), "T1064, T1085, T1220");
	/* relatedUser before the User evidence */
	CHECK_STR(fv(r, RF_USER_NAME), "temp123");
	CHECK_STR(fv(r, RF_USER_DOMAIN), "DOMAIN");
	/* the detected File item is the primary file, before the Process */
	CHECK_STR(fv(r, RF_FILE_NAME), "suspicious.dll");
	CHECK_STR(fv(r, RF_FILE_PATH), "c:\\temp");
	CHECK_STR(fv(r, RF_SHA1), "8563f95b2f8a284fc99da44500cd51a77c1ff36c");
	CHECK_STR(fv(r, RF_SHA256),
	    "dc0ade0c95d6db98882bc8fa6707e64353cd6f77"
	    "67ff48d6a81a6c2aef21c608");
	CHECK_STR(
	    fv(r, RF_FILE_HASH), "8563f95b2f8a284fc99da44500cd51a77c1ff36c");
	CHECK_STR(fv(r, RF_COMMAND_LINE),
	    "rundll32.exe  c:\\temp\\suspicious.dll,RepeatAfterMe");
	CHECK(fv(r, RF_IP_ADDRESS) == NULL);
	CHECK(fv(r, RF_URL) == NULL);
	CHECK(fv(r, RF_LINK_TO_WDATP) == NULL);
	CHECK(fv(r, RF_SERVICE_SOURCE) == NULL);
	/* one fraction digit on the wire, seven in the key */
	CHECK_STR(sv(&r->dedup_key),
	    "da637472900382838869_1364969609:"
	    "2021-01-26T20:33:59.2000000Z");
	ts_format7(&r->order_time, t);
	CHECK_STR(t, "2021-01-26T20:33:59.2000000Z");
	cJSON_Delete(obj);
}

/* Parse a JSON text and build a record; returns the code. */
static int
build(struct record *r, cJSON **hold, const char *json, int graph,
    const char **why)
{
	cJSON_Delete(*hold);
	*hold = cJSON_Parse(json);
	if (*hold == NULL) {
		fprintf(stderr, "bad test JSON: %s\n", json);
		return 999;
	}
	return graph ? record_from_graph(r, *hold, why)
	             : record_from_alerts(r, *hold, why);
}

#define GLU "\"lastUpdateDateTime\":\"2024-01-02T03:04:05.5Z\""
#define ALU "\"lastUpdateTime\":\"2024-01-02T03:04:05.5Z\""
#define EV(t) "{\"@odata.type\":\"#microsoft.graph.security." t "\""

static void
test_bad(struct record *r)
{
	cJSON *j = NULL;
	const char *why = NULL;

	CHECK(build(r, &j, "[1]", 1, &why) == ERR_BADREC);
	CHECK_STR(why, "alert is not a JSON object");
	why = NULL;
	CHECK(build(r, &j, "{" GLU ",\"title\":\"x\"}", 1, &why) == ERR_BADREC);
	CHECK_STR(why, "id missing or not a string");
	CHECK(r->f[RF_ALERT_TITLE].n == 0 && r->dedup_key.n == 0);
	CHECK(build(r, &j, "{" GLU ",\"id\":\"\"}", 1, &why) == ERR_BADREC);
	CHECK(build(r, &j, "{" ALU ",\"id\":7}", 0, &why) == ERR_BADREC);
	why = NULL;
	CHECK(build(r, &j, "{\"id\":\"a\"}", 1, &why) == ERR_BADREC);
	CHECK_STR(why, "last update time missing or not a time");
	CHECK(build(r, &j,
	          "{\"id\":\"a\",\"lastUpdateDateTime\":"
	          "\"yesterday\"}",
	          1, &why) == ERR_BADREC);
	/* the other API's time field does not count */
	CHECK(build(r, &j, "{\"id\":\"a\"," ALU "}", 1, &why) == ERR_BADREC);
	CHECK(build(r, &j, "{\"id\":\"a\"," GLU "}", 0, &why) == ERR_BADREC);
	CHECK(build(r, &j, "{\"id\":\"a\",\"lastUpdateTime\":null}", 0, &why) ==
	    ERR_BADREC);
	CHECK(build(r, &j, "{\"id\":\"a\"," GLU ",\"evidence\":{}}", 1, &why) ==
	    0);
	CHECK(r->evidence == NULL);
	cJSON_Delete(j);
}

static void
test_versions(struct record *r)
{
	cJSON *j = NULL;
	const char *why = NULL;
	char k1[128], k2[128];

	CHECK(build(r, &j,
	          "{\"id\":\"x1\",\"lastUpdateTime\":"
	          "\"2021-01-26T20:33:59.2Z\"}",
	          0, &why) == 0);
	snprintf(k1, sizeof(k1), "%s", sv(&r->dedup_key));
	CHECK(build(r, &j,
	          "{\"id\":\"x1\",\"lastUpdateTime\":"
	          "\"2021-01-26T20:33:59.2000000Z\"}",
	          0, &why) == 0);
	snprintf(k2, sizeof(k2), "%s", sv(&r->dedup_key));
	CHECK_STR(k1, k2);
	CHECK(build(r, &j,
	          "{\"id\":\"x1\",\"lastUpdateTime\":"
	          "\"2021-01-26T20:33:59.2000001Z\"}",
	          0, &why) == 0);
	CHECK(strcmp(k1, sv(&r->dedup_key)) != 0);
	CHECK(build(r, &j,
	          "{\"id\":\"x1\",\"lastUpdateDateTime\":"
	          "\"2021-01-26T20:33:59Z\"}",
	          1, &why) == 0);
	CHECK_STR(sv(&r->dedup_key), "x1:2021-01-26T20:33:59.0000000Z");
	cJSON_Delete(j);
}

static void
test_graph_rules(struct record *r)
{
	cJSON *j = NULL;
	const char *why = NULL;

	/* a detected file beats an earlier undetected one */
	CHECK(
	    build(r, &j,
	        "{\"id\":\"g\"," GLU ",\"severity\":\"high\","
	        "\"evidence\":[" EV(
	            "fileEvidence") ",\"fileDetails\":{\"fileName\":\"a."
	                            "txt\","
	                            "\"sha1\":null,\"sha256\":\"s256a\"}}"
	                            "," EV(
	                                "processEvidence") ",\"processComm"
	                                                   "andLine\":"
	                                                   "\"p1.exe -x\","
	                                                   "\"imageFile\":"
	                                                   "{\"fileName\":"
	                                                   "\"p1.exe\"},"
	                                                   "\"userAccount"
	                                                   "\":"
	                                                   "{\"accountName"
	                                                   "\":\"svc\","
	                                                   "\"domainName\""
	                                                   ":\"NT\"}}," EV(
	                                                       "fileEviden"
	                                                       "ce") ",\"d"
	                                                             "etec"
	                                                             "tion"
	                                                             "Stat"
	                                                             "us\""
	                                                             ":\"b"
	                                                             "lock"
	                                                             "ed\""
	                                                             ","
	                                                             "\"re"
	                                                             "medi"
	                                                             "atio"
	                                                             "nSta"
	                                                             "tus"
	                                                             "\":"
	                                                             "\"re"
	                                                             "medi"
	                                                             "ated"
	                                                             "\","
	                                                             "\"fi"
	                                                             "leDe"
	                                                             "tail"
	                                                             "s\":"
	                                                             "{\"f"
	                                                             "ileN"
	                                                             "ame"
	                                                             "\":"
	                                                             "\"b."
	                                                             "exe"
	                                                             "\","
	                                                             "\"fi"
	                                                             "lePa"
	                                                             "th\""
	                                                             ":\"C"
	                                                             ":\\"
	                                                             "\\b"
	                                                             "\","
	                                                             "\"sh"
	                                                             "a1\""
	                                                             ":\"s"
	                                                             "1b\""
	                                                             ",\"m"
	                                                             "d5\""
	                                                             ":\"m"
	                                                             "5b\""
	                                                             "}}"
	                                                             "," EV(
	                                                                 "ip"
	                                                                 "Ev"
	                                                                 "id"
	                                                                 "en"
	                                                                 "c"
	                                                                 "e") ",\"ipAddress\":\"10.0.0.1\"}," EV("ipEvi"
	                                                                                                         "denc"
	                                                                                                         "e") ",\"verdict\":\"suspicious\",\"ipAddress\":"
	                                                                                                              "\"10.0.0.2\"}," EV(
	                                                                                                                  "ipEvidence") ",\"verdict\":\"malicious\",\"ipAddress\":"
	                                                                                                                                "\"2001:db8::3\"}," EV("urlEvidence") ",\"url\":\"http://u1.example\"}," EV(
	                                                                                                                                    "userEvidence") ",\"userAccount\":{\"accountName\":\"alice\","
	                                                                                                                                                    "\"domainName\":\"CONTOSO\"}}," EV(
	                                                                                                                                                        "deviceEvidence") ",\"deviceDnsName\":\"ws1.corp.contoso.com\","
	                                                                                                                                                                          "\"loggedOnUsers\":[{\"accountName\":\"alice\",\"domainName\":"
	                                                                                                                                                                          "\"CONTOSO\"},{\"accountName\":\"bob\"},{\"domainName\":\"X\"}],"
	                                                                                                                                                                          "\"tags\":[\"VIP\",\"\",\"Tier0\"]}," EV(
	                                                                                                                                                                              "deviceEvidence") ",\"deviceDnsName\":\"second\"},"
	                                                                                                                                                                                                "{\"@odata.type\":\"#microsoft.graph.security.mailboxEvidence\"},"
	                                                                                                                                                                                                "7]}",
	        1, &why) == 0);
	CHECK_STR(fv(r, RF_SEVERITY), "High");
	CHECK_STR(fv(r, RF_FILE_NAME), "b.exe");
	CHECK_STR(fv(r, RF_FILE_PATH), "C:\\b");
	CHECK_STR(fv(r, RF_SHA1), "s1b");
	CHECK(fv(r, RF_SHA256) == NULL);
	CHECK_STR(fv(r, RF_MD5), "m5b");
	CHECK_STR(fv(r, RF_FILE_HASH), "s1b");
	CHECK_STR(fv(r, RF_REMEDIATION_ACTION), "remediated");
	CHECK(record_bool(r, RF_REMEDIATION_IS_SUCCESS) == 1);
	CHECK_STR(fv(r, RF_COMMAND_LINE), "p1.exe -x");
	CHECK_STR(fv(r, RF_IP_ADDRESS), "2001:db8::3");
	CHECK_STR(fv(r, RF_URL), "http://u1.example");
	/* userEvidence before the process's user context */
	CHECK_STR(fv(r, RF_USER_NAME), "alice");
	CHECK_STR(fv(r, RF_USER_DOMAIN), "CONTOSO");
	CHECK_STR(fv(r, RF_COMPUTER_DNS_NAME), "ws1.corp.contoso.com");
	CHECK_STR(fv(r, RF_MACHINE_NAME), "ws1");
	CHECK_STR(fv(r, RF_MACHINE_DOMAIN), "corp.contoso.com");
	CHECK_STR(fv(r, RF_LOGON_USERS), "CONTOSO\\alice; bob");
	CHECK_STR(fv(r, RF_DEVICE_TAGS), "VIP, Tier0");
	CHECK(cJSON_GetArraySize(r->evidence) == 12);

	/* a detected process beats an undetected file; no sha1: sha256 */
	CHECK(
	    build(r, &j,
	        "{\"id\":\"g\"," GLU ",\"severity\":\"unknown\","
	        "\"evidence\":[" EV(
	            "fileEvidence") ",\"fileDetails\":{"
	                            "\"fileName\":\"a.txt\"}}"
	                            "," EV("processEvidence") ",\"processComman"
	                                                      "dLine\":\"one\"}"
	                                                      "," EV(
	                                                          "processEvide"
	                                                          "nce") ",\""
	                                                                 "det"
	                                                                 "ect"
	                                                                 "ion"
	                                                                 "Sta"
	                                                                 "tus"
	                                                                 "\":"
	                                                                 "\"D"
	                                                                 "ete"
	                                                                 "cte"
	                                                                 "d\""
	                                                                 ","
	                                                                 "\"r"
	                                                                 "eme"
	                                                                 "dia"
	                                                                 "tio"
	                                                                 "nSt"
	                                                                 "atu"
	                                                                 "s\""
	                                                                 ":\""
	                                                                 "unr"
	                                                                 "eme"
	                                                                 "dia"
	                                                                 "ted"
	                                                                 "\","
	                                                                 "\"p"
	                                                                 "roc"
	                                                                 "ess"
	                                                                 "Com"
	                                                                 "man"
	                                                                 "dLi"
	                                                                 "ne"
	                                                                 "\":"
	                                                                 "\"t"
	                                                                 "wo"
	                                                                 "\","
	                                                                 "\"i"
	                                                                 "mag"
	                                                                 "eFi"
	                                                                 "le"
	                                                                 "\":"
	                                                                 "{\""
	                                                                 "fil"
	                                                                 "eNa"
	                                                                 "me"
	                                                                 "\":"
	                                                                 "\"t"
	                                                                 "wo."
	                                                                 "exe"
	                                                                 "\","
	                                                                 "\"s"
	                                                                 "ha2"
	                                                                 "56"
	                                                                 "\":"
	                                                                 "\"s"
	                                                                 "256"
	                                                                 "\"}"
	                                                                 ",\""
	                                                                 "use"
	                                                                 "rAc"
	                                                                 "cou"
	                                                                 "nt"
	                                                                 "\":"
	                                                                 "{\""
	                                                                 "acc"
	                                                                 "oun"
	                                                                 "tNa"
	                                                                 "me"
	                                                                 "\":"
	                                                                 "\"s"
	                                                                 "vc"
	                                                                 "\"}"
	                                                                 "}]"
	                                                                 "}",
	        1, &why) == 0);
	CHECK_STR(fv(r, RF_SEVERITY), "unknown");
	CHECK_STR(fv(r, RF_FILE_NAME), "two.exe");
	CHECK_STR(fv(r, RF_FILE_HASH), "s256");
	CHECK_STR(fv(r, RF_COMMAND_LINE), "two");
	CHECK(record_bool(r, RF_REMEDIATION_IS_SUCCESS) == 0);
	CHECK_STR(fv(r, RF_USER_NAME), "svc");
	CHECK(fv(r, RF_USER_DOMAIN) == NULL);
	CHECK(fv(r, RF_COMPUTER_DNS_NAME) == NULL);
	CHECK(fv(r, RF_MACHINE_NAME) == NULL);

	/* nothing detected: the first file, then the first process */
	CHECK(
	    build(r, &j,
	        "{\"id\":\"g\"," GLU ",\"evidence\":[" EV(
	            "processEvidence") ",\"processCommandLine\":\"one\","
	                               "\"imageFile\":{\"fileName\":\"one."
	                               "exe\"}}," EV(
	                                   "fileEvidence") ",\"fileDetails\":{"
	                                                   "\"fileName\":\"f."
	                                                   "dll\"}}," EV(
	                                                       "fileE"
	                                                       "viden"
	                                                       "ce") ",\"fileDe"
	                                                             "tails\":{"
	                                                             "\"fileNam"
	                                                             "e\":\"g."
	                                                             "dll\"}}"
	                                                             "]}",
	        1, &why) == 0);
	CHECK_STR(fv(r, RF_FILE_NAME), "f.dll");
	CHECK_STR(fv(r, RF_COMMAND_LINE), "one");
	cJSON_Delete(j);
}

static void
test_alerts_rules(struct record *r)
{
	cJSON *j = NULL;
	const char *why = NULL;

	CHECK(build(r, &j,
	          "{\"id\":\"a\"," ALU ",\"incidentId\":12345678901,"
	          "\"relatedUser\":null,\"mitreTechniques\":\"T1\","
	          "\"computerDnsName\":\"host.\",\"evidence\":["
	          "{\"entityType\":\"Ip\",\"ipAddress\":\"1.2.3.4\"},"
	          "{\"entityType\":\"url\",\"url\":\"x.example\"},"
	          "{\"entityType\":\"User\",\"accountName\":\"eve\","
	          "\"domainName\":\"D\"},"
	          "{\"entityType\":\"Process\",\"fileName\":\"p.exe\","
	          "\"processCommandLine\":\"p.exe /q\"},"
	          "{\"entityType\":\"Registry\",\"registryKey\":\"k\"}]}",
	          0, &why) == 0);
	CHECK_STR(fv(r, RF_INCIDENT_ID), "12345678901");
	CHECK_STR(fv(r, RF_MITRE_TECHNIQUES), "T1");
	CHECK_STR(fv(r, RF_IP_ADDRESS), "1.2.3.4");
	CHECK_STR(fv(r, RF_URL), "x.example");
	CHECK_STR(fv(r, RF_USER_NAME), "eve");
	CHECK_STR(fv(r, RF_USER_DOMAIN), "D");
	CHECK_STR(fv(r, RF_FILE_NAME), "p.exe");
	CHECK_STR(fv(r, RF_COMMAND_LINE), "p.exe /q");
	CHECK_STR(fv(r, RF_MACHINE_NAME), "host");
	CHECK(fv(r, RF_MACHINE_DOMAIN) == NULL);
	cJSON_Delete(j);
}

/*
 * A number goes to scratch first, a long list after it makes scratch
 * move: both must still read right.
 */
static void
test_scratch_moves(struct record *r)
{
	struct buf js;
	cJSON *j = NULL;
	const char *why = NULL;
	int i, ok = 1;

	buf_init(&js, 0);
	buf_adds(&js,
	    "{\"id\":\"a\"," ALU ",\"incidentId\":42,"
	    "\"mitreTechniques\":[");
	for (i = 0; i < 2000; i++)
		buf_printf(&js, "%s\"T%04d\"", i ? "," : "", i);
	buf_adds(&js, "]}");
	record_clear(r);
	buf_reset(&r->scratch);
	CHECK(build(r, &j, js.data, 0, &why) == 0);
	CHECK_STR(fv(r, RF_INCIDENT_ID), "42");
	CHECK(r->f[RF_MITRE_TECHNIQUES].n == 2000 * 5 + 1999 * 2);
	for (i = 0; i < 2000 && ok; i++) {
		char want[16];

		snprintf(want, sizeof(want), "T%04d", i);
		ok = memcmp(r->f[RF_MITRE_TECHNIQUES].p + (size_t)i * 7, want,
		         5) == 0;
	}
	CHECK(ok);
	CHECK_STR(sv(&r->dedup_key), "a:2024-01-02T03:04:05.5000000Z");
	buf_reset(&js);
	cJSON_Delete(j);
}

/*
 * Graph's properties newer than Microsoft's SIEM-to-Graph table: carried
 * when present (Microsoft's example with them added), the dictionaries as
 * compact JSON text with their trees kept for the JSON output; absent,
 * empty or null ones leave nothing; a huge one is cut, not refused.  The
 * Alert API's investigationState too.
 */
static void
test_graph_newer(struct record *r)
{
	cJSON *root = load(DATA "graph-alerts-v2-newer-properties.json");
	cJSON *obj = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "value"), 0);
	cJSON *big;
	const char *why = NULL;
	struct buf pad;
	size_t i;
	int ok;

	CHECK(record_from_graph(r, obj, &why) == 0);
	CHECK_STR(fv(r, RF_PRODUCT_NAME), "Microsoft Defender for Endpoint");
	CHECK_STR(
	    fv(r, RF_ALERT_POLICY_ID), "5c4c6e6c-0c3b-4a0e-9d5b-1f7a9d2e8c41");
	CHECK_STR(fv(r, RF_INVESTIGATION_STATE), "successfullyRemediated");
	CHECK_STR(fv(r, RF_CUSTOM_DETAILS),
	    "{\"Country\":\"US\",\"FailedSignIns\":12,\"Accounts\":"
	    "[\"jdoe\",\"asmith\"]}");
	CHECK_STR(fv(r, RF_ADDITIONAL_DATA),
	    "{\"AlertRuleName\":\"Hidden file launched\",\"Note\":"
	    "\"a=b; c\\\\d\"}");
	CHECK(r->custom_details == cJSON_GetObjectItem(obj, "customDetails"));
	CHECK(r->additional_data == cJSON_GetObjectItem(obj, "additionalData"));

	/* {} and null carry nothing; a string is carried as it is */
	cJSON_ReplaceItemInObject(obj, "customDetails", cJSON_CreateObject());
	cJSON_ReplaceItemInObject(obj, "additionalData", cJSON_CreateNull());
	cJSON_ReplaceItemInObject(
	    obj, "investigationState", cJSON_CreateString("pendingApproval"));
	CHECK(record_from_graph(r, obj, &why) == 0);
	CHECK(fv(r, RF_CUSTOM_DETAILS) == NULL && r->custom_details == NULL);
	CHECK(fv(r, RF_ADDITIONAL_DATA) == NULL && r->additional_data == NULL);
	CHECK_STR(fv(r, RF_INVESTIGATION_STATE), "pendingApproval");
	cJSON_ReplaceItemInObject(
	    obj, "customDetails", cJSON_CreateString("free text"));
	CHECK(record_from_graph(r, obj, &why) == 0);
	CHECK_STR(fv(r, RF_CUSTOM_DETAILS), "free text");

	/* 100 KB of additionalData: cut to 8 KiB on a character, kept whole
	 * for JSON, the record still made */
	buf_init(&pad, 0);
	for (i = 0, ok = 1; i < 50000; i++)
		ok &= buf_adds(&pad, "\xc3\xa9") == 0;
	CHECK(ok);
	big = cJSON_CreateObject();
	cJSON_AddStringToObject(big, "x", buf_str(&pad));
	cJSON_ReplaceItemInObject(obj, "additionalData", big);
	CHECK(record_from_graph(r, obj, &why) == 0);
	CHECK(r->f[RF_ADDITIONAL_DATA].n <= 8192 &&
	    r->f[RF_ADDITIONAL_DATA].n > 8000);
	CHECK(((unsigned char)r->f[RF_ADDITIONAL_DATA]
	              .p[r->f[RF_ADDITIONAL_DATA].n - 1] &
	          0xc0) != 0xc0);
	CHECK(r->additional_data == big);
	buf_reset(&pad);

	/* neither API's alert without them has them */
	cJSON_Delete(root);
	root = load(DATA "graph-alerts-v2-example.json");
	CHECK(record_from_graph(r,
	          cJSON_GetArrayItem(cJSON_GetObjectItem(root, "value"), 0),
	          &why) == 0);
	for (i = RF_PRODUCT_NAME; i <= RF_ADDITIONAL_DATA; i++)
		CHECK(r->f[i].n == 0);
	CHECK(r->custom_details == NULL && r->additional_data == NULL);
	cJSON_Delete(root);
	root = load(DATA "alert-api-single-alert-example.json");
	CHECK(record_from_alerts(r, root, &why) == 0);
	CHECK_STR(fv(r, RF_INVESTIGATION_STATE), "Queued");
	CHECK(fv(r, RF_PRODUCT_NAME) == NULL);
	cJSON_Delete(root);
}

/*
 * Members read in one pass: of a repeated member the first counts, as a
 * lookup by name would find it (evidence, mitreTechniques, an evidence
 * item's detectionStatus, a file's fileName); names that differ only in
 * case are other members; each table is in the order its search needs.
 */
static void
test_member_lookup(struct record *r)
{
	static const char repeated[] =
	    "{\"id\":\"m\",\"lastUpdateDateTime\":\"2024-01-02T03:04:05.5Z\","
	    "\"Evidence\":[{\"@odata.type\":\"#microsoft.graph.security."
	    "fileEvidence\","
	    "\"fileDetails\":{\"fileName\":\"upper.txt\"}}],"
	    "\"mitreTechniques\":[\"T1\"],"
	    "\"evidence\":[{\"@odata.type\":\"#microsoft.graph.security."
	    "fileEvidence\","
	    "\"fileDetails\":{\"fileName\":\"first.txt\","
	    "\"fileName\":\"second.txt\"}}],"
	    "\"evidence\":[{\"@odata.type\":\"#microsoft.graph.security."
	    "fileEvidence\","
	    "\"fileDetails\":{\"fileName\":\"later.txt\"}}],"
	    "\"mitreTechniques\":[\"T2\"]}";
	static const char status_twice[] =
	    "{\"id\":\"m\",\"lastUpdateDateTime\":\"2024-01-02T03:04:05.5Z\","
	    "\"evidence\":[{\"@odata.type\":\"#microsoft.graph.security."
	    "fileEvidence\","
	    "\"fileDetails\":{\"fileName\":\"a.txt\"}},"
	    "{\"@odata.type\":\"#microsoft.graph.security.fileEvidence\","
	    "\"detectionStatus\":\"none\",\"detectionStatus\":\"detected\","
	    "\"fileDetails\":{\"fileName\":\"b.txt\"}}]}";
	cJSON *j = NULL;
	const char *why = NULL;

	CHECK(record_alert_tables_sorted());
	CHECK(build(r, &j, repeated, 1, &why) == 0);
	CHECK_STR(sv(&r->f[RF_FILE_NAME]), "first.txt");
	CHECK_STR(sv(&r->f[RF_MITRE_TECHNIQUES]), "T1");
	CHECK(r->evidence != NULL && cJSON_GetArraySize(r->evidence) == 1);
	/* the first detectionStatus of an item decides, as a lookup would */
	CHECK(build(r, &j, status_twice, 1, &why) == 0);
	CHECK_STR(sv(&r->f[RF_FILE_NAME]), "a.txt");
	/* a repeated scalar: the last one read, as before */
	CHECK(build(r, &j,
	          "{\"id\":\"m\"," GLU ",\"title\":\"one\","
	          "\"title\":\"two\",\"Title\":\"three\"}",
	          1, &why) == 0);
	CHECK_STR(sv(&r->f[RF_ALERT_TITLE]), "two");
	/* relatedUser "" is a string: user evidence is not taken instead */
	CHECK(build(r, &j,
	          "{\"id\":\"m\"," ALU ",\"relatedUser\":\"\","
	          "\"evidence\":[{\"entityType\":\"User\","
	          "\"accountName\":\"u\"}]}",
	          0, &why) == 0);
	CHECK(r->f[RF_USER_NAME].n == 0);
	cJSON_Delete(j);
}

int
main(void)
{
	struct record r;

	record_init(&r);
	test_graph_fixture(&r);
	test_alerts_fixture(&r);
	test_bad(&r);
	test_versions(&r);
	test_graph_rules(&r);
	test_member_lookup(&r);
	test_alerts_rules(&r);
	test_scratch_moves(&r);
	test_graph_newer(&r);
	record_reset(&r);
	return check_done();
}
