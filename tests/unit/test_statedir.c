/* SPDX-License-Identifier: MIT */
/*
 * Tests for the state directory layout: tenants and queues get their own
 * directories, outputs that send the same way share a queue name, and a
 * one-tenant state directory moves into the layout (cursor files to the
 * tenant whose tenant id they name, the spool to that tenant's queue),
 * idempotently.
 */
#include <sys/stat.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "log.h"
#include "statedir.h"

static char tmp[64];

static void
put(const char *rel, const char *text)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	if ((f = fopen(p, "w")) == NULL) {
		perror(p);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
	chmod(p, 0600);
}

static int
exists(const char *rel)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	return lstat(p, &st) == 0;
}

static struct config_set *
load(const char *text)
{
	char p[512];
	struct config_set *set;

	put("m.conf", text);
	snprintf(p, sizeof(p), "%s/m.conf", tmp);
	set = config_set_load(p, stderr, 1);
	CHECK(set != NULL);
	return set;
}

#define SHARED \
	"[azure]\nclient_id = 00000000-1111-2222-3333-444444444444\n" \
	"client_secret = s3cret-s3cret\n" \
	"[output]\nhost = siem.example.com\n" \
	"[state]\ndirectory = /tmp\n"
#define T1 "11111111-0000-0000-0000-000000000001"
#define T2 "11111111-0000-0000-0000-000000000002"

static void
test_queue_names(void)
{
	struct config_set *set = load(SHARED
	    "[tenant a]\ntenant_id = " T1 "\nformat = leef\nhostname = a\n"
	    "[tenant b]\ntenant_id = " T2 "\n"
	    "[tenant c]\ntenant_id = 11111111-0000-0000-0000-000000000003\n"
	    "framing = octet\n"
	    "[tenant d]\ntenant_id = 11111111-0000-0000-0000-000000000004\n"
	    "host = qradar.example.com\nport = 1514\n");
	char la[STATEDIR_LABEL_MAX], na[STATEDIR_NAME_MAX];
	char lb[STATEDIR_LABEL_MAX], nb[STATEDIR_NAME_MAX];
	char lc[STATEDIR_LABEL_MAX], nc[STATEDIR_NAME_MAX];
	char ld[STATEDIR_LABEL_MAX], nd[STATEDIR_NAME_MAX];

	if (set == NULL || set->ntenant != 4)
		return;
	statedir_queue_name(set->tenant[0], la, na);
	statedir_queue_name(set->tenant[1], lb, nb);
	statedir_queue_name(set->tenant[2], lc, nc);
	statedir_queue_name(set->tenant[3], ld, nd);
	/* Format and header are spooled: the same queue. */
	CHECK_STR(na, nb);
	CHECK_STR(la, "tcp://siem.example.com:514");
	/* Framing is applied when sending: another queue, same label. */
	CHECK(strcmp(na, nc) != 0);
	CHECK_STR(lc, "tcp://siem.example.com:514");
	CHECK_STR(ld, "tcp://qradar.example.com:1514");
	CHECK(strncmp(nd, "tcp-qradar.example.com-1514-", 28) == 0);
	config_set_free(set);
}

/* Kafka: one queue per topic, so th-%t gives each tenant its own. */
static void
test_kafka_queue_names(void)
{
	struct config_set *set = load(SHARED
	    "[output]\nbrokers = kafka1:9092,kafka2:9092\ntopic = th-%t\n"
	    "[kafka]\nsasl.password = pw1\n"
	    "[tenant a]\ntenant_id = " T1 "\ntransport = kafka\n"
	    "[tenant b]\ntenant_id = " T2 "\ntransport = kafka\n");
	char la[STATEDIR_LABEL_MAX], na[STATEDIR_NAME_MAX];
	char lb[STATEDIR_LABEL_MAX], nb[STATEDIR_NAME_MAX];

	CHECK(set != NULL && set->ntenant == 2);
	if (set == NULL || set->ntenant != 2)
		return;
	statedir_queue_name(set->tenant[0], la, na);
	statedir_queue_name(set->tenant[1], lb, nb);
	CHECK_STR(la, "kafka://kafka1:9092,kafka2:9092/th-a");
	CHECK_STR(lb, "kafka://kafka1:9092,kafka2:9092/th-b");
	CHECK(strncmp(na, "kafka-th-a-", 11) == 0);
	CHECK(strcmp(na, nb) != 0);
	config_set_free(set);
	/* One topic for all: one queue; the password is not part of it. */
	set =
	    load(SHARED "[output]\nbrokers = kafka1:9092\ntopic = th-cef\n"
	                "[tenant a]\ntenant_id = " T1 "\ntransport = kafka\n"
	                "[tenant b]\ntenant_id = " T2 "\ntransport = kafka\n");
	if (set == NULL || set->ntenant != 2) {
		CHECK(!"two tenants");
		return;
	}
	statedir_queue_name(set->tenant[0], la, na);
	statedir_queue_name(set->tenant[1], lb, nb);
	CHECK_STR(na, nb);
	CHECK_STR(la, "kafka://kafka1:9092/th-cef");
	config_set_free(set);
}

static void
test_migrate(void)
{
	char st[256], conf[1024];
	struct config_set *set;
	int rc;

	snprintf(st, sizeof(st), "%s/state", tmp);
	mkdir(st, 0700);
	put("state/cursor-graph.json",
	    "{\"version\":1,\"api\":\"graph\",\"tenant\":\"" T2 "\"}");
	put("state/cursor-siem.json",
	    "{\"version\":1,\"api\":\"siem\",\"tenant\":\"99999999-0000-0000-"
	    "0000-000000000009\"}");
	snprintf(conf, sizeof(conf), "%s/spool", st);
	mkdir(conf, 0700);
	put("state/spool/00000000000000000001.seg", "MDSQ");
	snprintf(conf, sizeof(conf),
	    SHARED "[tenant a]\ntenant_id = " T1 "\n"
	           "[tenant b]\ntenant_id = " T2 "\n");
	if ((set = load(conf)) == NULL)
		return;
	rc = statedir_migrate(st, set);
	CHECK(rc == 0);
	CHECK(exists("state/tenants/b/cursor-graph.json"));
	CHECK(!exists("state/cursor-graph.json"));
	/* A tenant that is not configured: left where it is. */
	CHECK(exists("state/cursor-siem.json"));
	CHECK(!exists("state/spool"));
	{
		char label[STATEDIR_LABEL_MAX], name[STATEDIR_NAME_MAX];
		char rel[512];

		statedir_queue_name(set->tenant[1], label, name);
		snprintf(rel, sizeof(rel),
		    "state/queues/%s/spool/00000000000000000001.seg", name);
		CHECK(exists(rel));
	}
	/* Again: nothing left to move, nothing moved back. */
	CHECK(statedir_migrate(st, set) == 0);
	CHECK(exists("state/tenants/b/cursor-graph.json"));
	config_set_free(set);
}

static int
rm(const char *path, const struct stat *s, int flag, struct FTW *ftw)
{
	(void)s;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int
main(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/test_statedir.XXXXXX");
	if (mkdtemp(tmp) == NULL)
		return 1;
	log_setup(LOG_TO_STDERR, LOG_LVL_ERROR);
	test_queue_names();
	test_kafka_queue_names();
	test_migrate();
	nftw(tmp, rm, 8, FTW_DEPTH | FTW_PHYS);
	return check_done();
}
