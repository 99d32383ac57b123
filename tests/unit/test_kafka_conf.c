/* SPDX-License-Identifier: MIT */
/*
 * Tests for the Kafka transport's configuration (kafka_conf.c): the
 * topic template and its %t substitution, the brokers list, which
 * properties are secret, the producer configuration built from our
 * defaults and the [kafka] section (read back from librdkafka), and the
 * -n -v dump.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "check.h"
#include "errcode.h"
#include "kafka_conf.h"

static void
test_expand(void)
{
	char out[KAFKA_TOPIC_MAX + 1], small[8];

	CHECK(kafka_topic_expand("th-cef", "contoso", out, sizeof(out)) == 0);
	CHECK_STR(out, "th-cef");
	CHECK(kafka_topic_expand("th-%t", "contoso", out, sizeof(out)) == 0);
	CHECK_STR(out, "th-contoso");
	CHECK(kafka_topic_expand("%t.%t", "a_b", out, sizeof(out)) == 0);
	CHECK_STR(out, "a_b.a_b");
	/* One tenant, no [tenant] section: the name "default". */
	CHECK(kafka_topic_expand("th-%t", NULL, out, sizeof(out)) == 0);
	CHECK_STR(out, "th-default");
	CHECK(kafka_topic_expand("th-%t", "", out, sizeof(out)) == 0);
	CHECK_STR(out, "th-default");
	CHECK(kafka_topic_expand("th-%t", "fabrikam", small, sizeof(small)) ==
	    ERR_TOOBIG);
	CHECK_STR(small, "");
	CHECK(kafka_topic_expand("1234567", NULL, small, sizeof(small)) == 0);
	CHECK(kafka_topic_expand("12345678", NULL, small, sizeof(small)) ==
	    ERR_TOOBIG);
	CHECK(kafka_topic_expand("x", NULL, small, 0) == ERR_TOOBIG);
}

static void
test_topic_check(void)
{
	char why[256], longest[300];

	CHECK(kafka_topic_check("th-cef", why, sizeof(why)) == 0);
	CHECK(kafka_topic_check("mssp.%t_alerts-v1", why, sizeof(why)) == 0);
	CHECK(kafka_topic_check("th cef", why, sizeof(why)) == -1);
	CHECK(kafka_topic_check("..", why, sizeof(why)) == -1);
	CHECK_STR(why, "\"..\" is not a Kafka topic name");
	CHECK(kafka_topic_check("a%", why, sizeof(why)) == -1);
	CHECK(kafka_topic_check("a%d", why, sizeof(why)) == -1);
	CHECK_STR(why,
	    "\"%d\" is not known: %t (the tenant name) is the only "
	    "substitution");
	/* 185 characters and %t (64 at most) fit in 249. */
	memset(longest, 'a', 185);
	memcpy(longest + 185, "%t", 3);
	CHECK(kafka_topic_check(longest, why, sizeof(why)) == 0);
	memset(longest, 'a', 186);
	memcpy(longest + 186, "%t", 3);
	CHECK(kafka_topic_check(longest, why, sizeof(why)) == -1);
	CHECK_STR(why,
	    "longer than 249 characters (%t counts as 64, the longest tenant "
	    "name)");
}

static void
test_brokers(void)
{
	static const char *const good[] = {
	    "kafka1:9092",
	    "kafka1:9092,kafka2:9092",
	    " kafka1:9092 , kafka2 ",
	    "ns.servicebus.windows.net:9093",
	    "[::1]:9092",
	    "[fe80::1]",
	    "SSL://kafka1:9093",
	    NULL,
	};
	static const char *const bad[] = {
	    "",
	    "kafka1:",
	    ":9092",
	    "kafka1:0",
	    "kafka1:65536",
	    "kafka1:90x2",
	    "a:1,,b:2",
	    "a:1,",
	    "::1:9092",
	    "[::1]9092",
	    "kafka one:9092",
	    NULL,
	};
	char why[256];
	size_t i;

	for (i = 0; good[i] != NULL; i++) {
		if (kafka_brokers_check(good[i], why, sizeof(why)) != 0) {
			CHECK_STR(good[i], "(accepted)");
			CHECK_STR(why, "");
		} else {
			CHECK(1);
		}
	}
	for (i = 0; bad[i] != NULL; i++) {
		if (kafka_brokers_check(bad[i], why, sizeof(why)) == 0)
			CHECK_STR(bad[i], "(refused)");
		else
			CHECK(1);
	}
	kafka_brokers_check("kafka1:90x2", why, sizeof(why));
	CHECK_STR(why,
	    "\"kafka1:90x2\" is not a broker (host:port, like kafka1:9092)");
}

static void
test_secret(void)
{
	CHECK(kafka_conf_secret("sasl.password") == KAFKA_CREDENTIAL);
	CHECK(kafka_conf_secret("SASL.PASSWORD") == KAFKA_CREDENTIAL);
	CHECK(kafka_conf_secret("ssl.key.password") == KAFKA_CREDENTIAL);
	CHECK(kafka_conf_secret("ssl.key.pem") == KAFKA_CREDENTIAL);
	CHECK(kafka_conf_secret("sasl.oauthbearer.client.secret") ==
	    KAFKA_CREDENTIAL);
	CHECK(kafka_conf_secret("some.future.password") == KAFKA_CREDENTIAL);
	CHECK(kafka_conf_secret("sasl.username") == KAFKA_SENSITIVE);
	CHECK(kafka_conf_secret("ssl.key.location") == KAFKA_SENSITIVE);
	CHECK(kafka_conf_secret("linger.ms") == 0);
	CHECK(kafka_conf_secret("security.protocol") == 0);
}

static char *
get(rd_kafka_conf_t *conf, const char *name)
{
	static char v[512];
	size_t n = sizeof(v);

	if (rd_kafka_conf_get(conf, name, v, &n) != RD_KAFKA_CONF_OK)
		return NULL;
	return v;
}

static void
test_build(void)
{
	struct kafka_conf kc;
	rd_kafka_conf_t *conf;
	char why[256];

	kafka_conf_init(&kc);
	conf = kafka_conf_build(&kc, " k1:9092 , k2:9092", why, sizeof(why));
	CHECK(conf != NULL);
	if (conf != NULL) {
		CHECK_STR(get(conf, "enable.idempotence"), "true");
		CHECK_STR(get(conf, "acks"), "-1"); /* all */
		CHECK_STR(get(conf, "message.timeout.ms"), "0");
		CHECK_STR(get(conf, "queue.buffering.max.messages"), "10000");
		CHECK_STR(get(conf, "client.id"), "mdesiemd");
		CHECK_STR(get(conf, "bootstrap.servers"), "k1:9092,k2:9092");
		rd_kafka_conf_destroy(conf);
	}
	CHECK(kafka_conf_add(&kc, "acks", "1", 3, why, sizeof(why)) == 0);
	CHECK(kafka_conf_add(&kc, "enable.idempotence", "false", 4, why,
	          sizeof(why)) == 0);
	CHECK(kafka_conf_add(&kc, "sasl.password_file", "/run/pw", 5, why,
	          sizeof(why)) == 0);
	/* A file not read yet cannot make a producer. */
	conf = kafka_conf_build(&kc, "k1:9092", why, sizeof(why));
	CHECK(conf == NULL);
	CHECK_STR(why, "[kafka] sasl.password_file: not read");
	CHECK(kafka_conf_set_value(&kc.props[2], "pw-value") == 0);
	conf = kafka_conf_build(&kc, "k1:9092", why, sizeof(why));
	CHECK(conf != NULL);
	if (conf != NULL) {
		CHECK_STR(get(conf, "acks"), "1");
		CHECK_STR(get(conf, "enable.idempotence"), "false");
		CHECK_STR(get(conf, "sasl.password"), "pw-value");
		rd_kafka_conf_destroy(conf);
	}
	CHECK(kafka_conf_add(&kc, "sasl.password", "x", 6, why, sizeof(why)) ==
	    ERR_CONFIG);
	CHECK_STR(why, "sasl.password_file is given on line 5 already");
	CHECK(kafka_conf_add(&kc, "metadata.broker.list", "x", 7, why,
	          sizeof(why)) == ERR_CONFIG);
	CHECK_STR(why, "set [output] brokers instead");
	kafka_conf_reset(&kc);
	CHECK(kc.n == 0 && kc.props == NULL);
}

static void
test_copy(void)
{
	struct kafka_conf a, b;
	char why[256];

	kafka_conf_init(&a);
	kafka_conf_init(&b);
	CHECK(kafka_conf_copy(&b, NULL) == 0 && b.n == 0);
	kafka_conf_add(&a, "linger.ms", "20", 1, why, sizeof(why));
	kafka_conf_add(&a, "sasl.password_file", "pw", 2, why, sizeof(why));
	kafka_conf_set_value(&a.props[1], "secret-value");
	CHECK(kafka_conf_copy(&b, &a) == 0);
	CHECK(kafka_conf_equal(&a, &b));
	kafka_conf_reset(&a);
	CHECK(b.n == 2);
	CHECK_STR(b.props[0].name, "linger.ms");
	CHECK_STR(b.props[0].value, "20");
	CHECK_STR(b.props[1].file, "pw");
	CHECK_STR(b.props[1].value, "secret-value");
	CHECK(!kafka_conf_equal(&a, &b));
	CHECK(kafka_conf_equal(NULL, &a));
	kafka_conf_reset(&b);
}

static void
test_max_value(void)
{
	struct kafka_conf kc;
	char why[256];

	kafka_conf_init(&kc);
	CHECK(kafka_conf_max_value(NULL) == 1000000 - KAFKA_MSG_OVERHEAD);
	CHECK(kafka_conf_max_value(&kc) == 1000000 - KAFKA_MSG_OVERHEAD);
	kafka_conf_add(&kc, "message.max.bytes", "65536", 1, why, sizeof(why));
	CHECK(kafka_conf_max_value(&kc) == 65536 - KAFKA_MSG_OVERHEAD);
	kafka_conf_reset(&kc);
	kafka_conf_add(&kc, "message.max.bytes", "lots", 1, why, sizeof(why));
	CHECK(kafka_conf_max_value(&kc) == 0);
	kafka_conf_reset(&kc);
}

static void
test_dump(void)
{
	struct kafka_conf kc;
	char why[256], *out = NULL;
	size_t len = 0;
	FILE *f;

	kafka_conf_init(&kc);
	kafka_conf_add(&kc, "request.required.acks", "1", 1, why, sizeof(why));
	kafka_conf_add(
	    &kc, "sasl.username", "$ConnectionString", 2, why, sizeof(why));
	kafka_conf_add(&kc, "sasl.password", "hunter2", 3, why, sizeof(why));
	kafka_conf_add(
	    &kc, "ssl.key.password_file", "keypw", 4, why, sizeof(why));
	kafka_conf_set_value(&kc.props[3], "keysecret");
	kafka_conf_add(&kc, "linger.ms", "20", 5, why, sizeof(why));
	f = open_memstream(&out, &len);
	kafka_conf_dump(&kc, f);
	fclose(f);
	CHECK_STR(out,
	    "[kafka]\n"
	    "enable.idempotence = true\n"
	    "message.timeout.ms = 0\n"
	    "queue.buffering.max.messages = 10000\n"
	    "client.id = mdesiemd\n"
	    "request.required.acks = 1\n"
	    "sasl.username = (redacted)\n"
	    "sasl.password = (redacted)\n"
	    "ssl.key.password_file = keypw\n"
	    "linger.ms = 20\n");
	free(out);
	kafka_conf_reset(&kc);
}

int
main(void)
{
	test_expand();
	test_topic_check();
	test_brokers();
	test_secret();
	test_build();
	test_copy();
	test_max_value();
	test_dump();
	return check_done();
}
