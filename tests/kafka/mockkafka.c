/* SPDX-License-Identifier: MIT */
/*
 * mockkafka: a Kafka cluster for the tests, made of librdkafka's own mock
 * brokers (rdkafka_mock.h): real Kafka protocol servers on loopback ports.
 * It prints "bootstrap=HOST:PORT,..." on its first line, then reads one
 * command per line on stdin and answers "ok" or "error: why" to each:
 *
 *   create TOPIC PARTITIONS [REPLICATION]   make a topic
 *   down ID | up ID                         take a broker away, bring it
 *                                           back (ID -1: all brokers)
 *   leader TOPIC PARTITION ID               move a partition's leader
 *   errors API ERR [ERR ...]                the next requests of API
 *                                           (produce, metadata, initpid,
 *                                           or a number) fail with ERR
 *                                           (a librdkafka error name
 *                                           such as NOT_LEADER_FOR_PARTITION
 *                                           or MSG_SIZE_TOO_LARGE)
 *   clear API                               forget pushed errors
 *   topic-error TOPIC ERR                   metadata answers ERR for
 *                                           TOPIC (NO_ERROR: stop)
 *   rtt ID MS                               delay a broker's answers
 *
 * It runs until stdin is closed or it gets SIGTERM.
 *
 *   mockkafka [-n BROKERS] [-t TOPIC:PARTITIONS]...
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define MAX_ERRS 64
#define MAX_WORDS (MAX_ERRS + 2)

static int
to_int(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* A librdkafka error by name ("MSG_SIZE_TOO_LARGE", "_TRANSPORT"). */
static int
err_by_name(const char *name, rd_kafka_resp_err_t *out)
{
	const struct rd_kafka_err_desc *d;
	size_t n, i;

	rd_kafka_get_err_descs(&d, &n);
	for (i = 0; i < n; i++) {
		if (d[i].name != NULL && strcasecmp(d[i].name, name) == 0) {
			*out = d[i].code;
			return 0;
		}
	}
	if (strcasecmp(name, "NO_ERROR") == 0) {
		*out = RD_KAFKA_RESP_ERR_NO_ERROR;
		return 0;
	}
	return -1;
}

static int
api_by_name(const char *name, int16_t *out)
{
	static const struct {
		const char *name;
		int16_t key;
	} apis[] = {
	    {"produce", 0},
	    {"fetch", 1},
	    {"metadata", 3},
	    {"initpid", 22},
	};
	size_t i;
	long v;

	for (i = 0; i < sizeof(apis) / sizeof(apis[0]); i++) {
		if (strcasecmp(apis[i].name, name) == 0) {
			*out = apis[i].key;
			return 0;
		}
	}
	if (to_int(name, 0, 100, &v) != 0)
		return -1;
	*out = (int16_t)v;
	return 0;
}

static const char *
cmd_errors(rd_kafka_mock_cluster_t *mc, char **w, int n)
{
	rd_kafka_resp_err_t errs[MAX_ERRS];
	int16_t api;
	int i;

	if (n < 3 || api_by_name(w[1], &api) != 0)
		return "usage: errors API ERR [ERR ...]";
	for (i = 2; i < n; i++) {
		if (err_by_name(w[i], &errs[i - 2]) != 0)
			return "unknown error name";
	}
	rd_kafka_mock_push_request_errors_array(mc, api, (size_t)(n - 2), errs);
	return NULL;
}

static const char *
cmd_broker(rd_kafka_mock_cluster_t *mc, char **w, int n)
{
	rd_kafka_resp_err_t err;
	long id, ms = 0;

	if (n < 2 || to_int(w[1], -1, INT_MAX, &id) != 0)
		return "usage: down|up|rtt ID [MS]";
	if (strcmp(w[0], "down") == 0) {
		err = rd_kafka_mock_broker_set_down(mc, (int32_t)id);
	} else if (strcmp(w[0], "up") == 0) {
		err = rd_kafka_mock_broker_set_up(mc, (int32_t)id);
	} else {
		if (n != 3 || to_int(w[2], 0, 600000, &ms) != 0)
			return "usage: rtt ID MS";
		err = rd_kafka_mock_broker_set_rtt(mc, (int32_t)id, (int)ms);
	}
	return err ? rd_kafka_err2str(err) : NULL;
}

static const char *
cmd_topic(rd_kafka_mock_cluster_t *mc, char **w, int n)
{
	rd_kafka_resp_err_t err;
	long parts, rf = 3, id;

	if (strcmp(w[0], "create") == 0) {
		if (n < 3 || to_int(w[2], 1, 10000, &parts) != 0 ||
		    (n == 4 && to_int(w[3], 1, 100, &rf) != 0) || n > 4)
			return "usage: create TOPIC PARTITIONS [REPLICATION]";
		err = rd_kafka_mock_topic_create(mc, w[1], (int)parts, (int)rf);
		return err ? rd_kafka_err2str(err) : NULL;
	}
	if (strcmp(w[0], "leader") == 0) {
		if (n != 4 || to_int(w[2], 0, 10000, &parts) != 0 ||
		    to_int(w[3], -1, INT_MAX, &id) != 0)
			return "usage: leader TOPIC PARTITION ID";
		err = rd_kafka_mock_partition_set_leader(
		    mc, w[1], (int32_t)parts, (int32_t)id);
		return err ? rd_kafka_err2str(err) : NULL;
	}
	if (n != 3 || err_by_name(w[2], &err) != 0)
		return "usage: topic-error TOPIC ERR";
	rd_kafka_mock_topic_set_error(mc, w[1], err);
	return NULL;
}

static const char *
run_command(rd_kafka_mock_cluster_t *mc, char *line)
{
	char *w[MAX_WORDS], *p = line;
	int16_t api;
	int n = 0;

	while (n < MAX_WORDS) {
		p += strspn(p, " \t\r\n");
		if (*p == '\0')
			break;
		w[n++] = p;
		p += strcspn(p, " \t\r\n");
		if (*p != '\0')
			*p++ = '\0';
	}
	if (n == 0)
		return "empty command";
	if (strcmp(w[0], "errors") == 0)
		return cmd_errors(mc, w, n);
	if (strcmp(w[0], "clear") == 0) {
		if (n != 2 || api_by_name(w[1], &api) != 0)
			return "usage: clear API";
		rd_kafka_mock_clear_request_errors(mc, api);
		return NULL;
	}
	if (strcmp(w[0], "down") == 0 || strcmp(w[0], "up") == 0 ||
	    strcmp(w[0], "rtt") == 0)
		return cmd_broker(mc, w, n);
	if (strcmp(w[0], "create") == 0 || strcmp(w[0], "leader") == 0 ||
	    strcmp(w[0], "topic-error") == 0)
		return cmd_topic(mc, w, n);
	return "unknown command";
}

static int
create_topics(rd_kafka_mock_cluster_t *mc, int argc, char **argv, int nb)
{
	char *colon;
	long parts;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-t") != 0 || i + 1 >= argc)
			continue;
		colon = strrchr(argv[++i], ':');
		if (colon == NULL || to_int(colon + 1, 1, 10000, &parts) != 0) {
			fprintf(stderr, "mockkafka: -t TOPIC:PARTITIONS\n");
			return -1;
		}
		*colon = '\0';
		if (rd_kafka_mock_topic_create(
		        mc, argv[i], (int)parts, nb < 3 ? nb : 3) != 0) {
			fprintf(
			    stderr, "mockkafka: cannot create %s\n", argv[i]);
			return -1;
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	rd_kafka_mock_cluster_t *mc;
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	const char *why;
	char errstr[512], line[1024];
	rd_kafka_t *rk;
	long nb = 3;
	int i;

	for (i = 1; i + 1 < argc; i++) {
		if (strcmp(argv[i], "-n") == 0 &&
		    to_int(argv[i + 1], 1, 64, &nb) != 0) {
			fprintf(stderr, "mockkafka: -n BROKERS (1 to 64)\n");
			return 2;
		}
	}
	rd_kafka_conf_set(conf, "log_level", "3", NULL, 0);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (rk == NULL) {
		fprintf(stderr, "mockkafka: %s\n", errstr);
		return 1;
	}
	if ((mc = rd_kafka_mock_cluster_new(rk, (int)nb)) == NULL) {
		fprintf(stderr, "mockkafka: cannot start the mock cluster\n");
		rd_kafka_destroy(rk);
		return 1;
	}
	if (create_topics(mc, argc, argv, (int)nb) != 0)
		return 2;
	printf("bootstrap=%s\n", rd_kafka_mock_cluster_bootstraps(mc));
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		why = run_command(mc, line);
		if (why == NULL)
			printf("ok\n");
		else
			printf("error: %s\n", why);
		fflush(stdout);
	}
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return 0;
}
