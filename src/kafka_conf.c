/* SPDX-License-Identifier: MIT */
/*
 * The Kafka transport's configuration (include/kafka_conf.h): the table
 * of defaults this daemon gives the producer, the [kafka] section's
 * pass-through properties, which of them are secret, their check against
 * librdkafka, and the [output] brokers and topic values.  config.c hands
 * the [kafka] section here and reads NAME_file values with the same
 * credential rules as client_secret_file; the producer (sink_kafka.c)
 * and --test-connection build their librdkafka configuration here.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <librdkafka/rdkafka.h>

#include "errcode.h"
#include "kafka_conf.h"

#define FILE_SUFFIX "_file"
#define TENANT_NAME_MAX 64 /* [tenant NAME]: 1 to 64 characters */
#define MAX_MESSAGE_DEFAULT 1000000 /* librdkafka's message.max.bytes */

/*
 * What this daemon sets unless [kafka] says otherwise.  alias: another
 * name librdkafka gives the same property.
 */
static const struct kafka_default {
	const char *name;
	const char *value;
	const char *alias;
} defaults[] = {
    /* No duplicates or reordering within one producer session. */
    {"enable.idempotence", "true", NULL},
    /* Acknowledged only once every in-sync replica holds the record. */
    {"acks", "all", "request.required.acks"},
    /*
     * A broker outage is backpressure: librdkafka keeps retrying (with
     * idempotence, without duplicates) instead of failing the message
     * after five minutes.
     */
    {"message.timeout.ms", "0", "delivery.timeout.ms"},
    /* The bound on messages in flight, so on duplicates after a crash. */
    {"queue.buffering.max.messages", "10000", NULL},
    {"client.id", "mdesiemd", NULL},
};

#define NDEFAULTS (sizeof(defaults) / sizeof(defaults[0]))

/* Properties [kafka] may not set, and why. */
static const struct {
	const char *name;
	const char *why;
} reserved[] = {
    {"bootstrap.servers", "set [output] brokers instead"},
    {"metadata.broker.list", "set [output] brokers instead"},
    {"transactional.id",
        "transactions are not used: the producer is idempotent and the "
        "spool resends what was not acknowledged"},
};

/*
 * Values never printed: what librdkafka marks sensitive (rdkafka_conf.c,
 * _RK_SENSITIVE) and secrets it does not mark.  credential: the value
 * itself is a secret (a configuration file holding it must be private);
 * the others identify or locate one.
 */
static const struct {
	const char *name;
	int credential;
} sensitive[] = {
    {"sasl.username", 0},
    {"sasl.password", 1},
    {"sasl.oauthbearer.config", 1},
    {"sasl.oauthbearer.client.secret", 1},
    {"ssl.key.location", 0},
    {"ssl.key.password", 1},
    {"ssl.key.pem", 1},
    {"ssl.ca.pem", 0},
    {"ssl.keystore.password", 1},
};

void
kafka_conf_init(struct kafka_conf *kc)
{
	memset(kc, 0, sizeof(*kc));
}

static void
wipe_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

void
kafka_conf_reset(struct kafka_conf *kc)
{
	size_t i;

	if (kc == NULL)
		return;
	for (i = 0; i < kc->n; i++) {
		free(kc->props[i].name);
		wipe_free(kc->props[i].value);
		free(kc->props[i].file);
	}
	free(kc->props);
	kafka_conf_init(kc);
}

static char *
dup_opt(const char *s, int *bad)
{
	char *d = NULL;

	if (s != NULL && (d = strdup(s)) == NULL)
		*bad = 1;
	return d;
}

int
kafka_conf_copy(struct kafka_conf *dst, const struct kafka_conf *src)
{
	size_t i;
	int bad = 0;

	if (src == NULL || src->n == 0)
		return 0;
	if ((dst->props = calloc(src->n, sizeof(*dst->props))) == NULL)
		return ERR_NOMEM;
	dst->cap = src->n;
	for (i = 0; i < src->n; i++) {
		dst->props[i].line = src->props[i].line;
		dst->props[i].unchecked = src->props[i].unchecked;
		dst->props[i].name = dup_opt(src->props[i].name, &bad);
		dst->props[i].value = dup_opt(src->props[i].value, &bad);
		dst->props[i].file = dup_opt(src->props[i].file, &bad);
		dst->n++;
	}
	if (bad) {
		kafka_conf_reset(dst);
		return ERR_NOMEM;
	}
	return 0;
}

int
kafka_conf_secret(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(sensitive) / sizeof(sensitive[0]); i++) {
		if (strcasecmp(name, sensitive[i].name) == 0)
			return sensitive[i].credential ? KAFKA_CREDENTIAL
			                               : KAFKA_SENSITIVE;
	}
	if (strcasestr(name, "password") != NULL ||
	    strcasestr(name, "secret") != NULL)
		return KAFKA_CREDENTIAL;
	return 0;
}

static struct kafka_prop *
find_prop(const struct kafka_conf *kc, const char *name)
{
	size_t i;

	for (i = 0; kc != NULL && i < kc->n; i++) {
		if (strcasecmp(kc->props[i].name, name) == 0)
			return &kc->props[i];
	}
	return NULL;
}

static int
grow(struct kafka_conf *kc)
{
	struct kafka_prop *p;
	size_t cap = kc->cap ? kc->cap * 2 : 8;

	if (kc->n < kc->cap)
		return 0;
	if ((p = reallocarray(kc->props, cap, sizeof(*p))) == NULL)
		return ERR_NOMEM;
	kc->props = p;
	kc->cap = cap;
	return 0;
}

/* The property name of key (NAME_file: NAME) in name[].  0 or -1. */
static int
prop_name(const char *key, char *name, size_t len, int *from_file)
{
	size_t n = strlen(key), sl = strlen(FILE_SUFFIX);

	*from_file = n > sl && strcasecmp(key + n - sl, FILE_SUFFIX) == 0;
	if (*from_file)
		n -= sl;
	if (n == 0 || n >= len)
		return -1;
	memcpy(name, key, n);
	name[n] = '\0';
	return 0;
}

int
kafka_conf_add(struct kafka_conf *kc, const char *key, const char *value,
    int line, char *why, size_t whylen)
{
	struct kafka_prop *p;
	char name[256];
	size_t i;
	int from_file;

	if (prop_name(key, name, sizeof(name), &from_file) != 0) {
		snprintf(why, whylen, "not a librdkafka property name");
		return ERR_CONFIG;
	}
	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		if (strcasecmp(name, reserved[i].name) == 0) {
			snprintf(why, whylen, "%s", reserved[i].why);
			return ERR_CONFIG;
		}
	}
	if ((p = find_prop(kc, name)) != NULL) {
		if ((p->file != NULL) == from_file)
			snprintf(why, whylen, "given twice (lines %d and %d)",
			    p->line, line);
		else
			snprintf(why, whylen,
			    "%s%s is given on line %d already", p->name,
			    p->file ? FILE_SUFFIX : "", p->line);
		return ERR_CONFIG;
	}
	if (grow(kc) != 0)
		return ERR_NOMEM;
	p = &kc->props[kc->n];
	memset(p, 0, sizeof(*p));
	p->line = line;
	if ((p->name = strdup(name)) == NULL)
		return ERR_NOMEM;
	if (from_file)
		p->file = strdup(value);
	else
		p->value = strdup(value);
	if (p->file == NULL && p->value == NULL) {
		free(p->name);
		return ERR_NOMEM;
	}
	kc->n++;
	return 0;
}

int
kafka_conf_set_value(struct kafka_prop *p, const char *value)
{
	char *v;

	if ((v = strdup(value)) == NULL)
		return ERR_NOMEM;
	wipe_free(p->value);
	p->value = v;
	return 0;
}

static int
is_default_set(const struct kafka_conf *kc, const struct kafka_default *d)
{
	return find_prop(kc, d->name) != NULL ||
	    (d->alias != NULL && find_prop(kc, d->alias) != NULL);
}

static void
quiet_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	(void)level;
	(void)fac;
	(void)buf;
}

/* A configuration holding only our defaults, its logger quiet. */
static rd_kafka_conf_t *
defaults_conf(char *why, size_t whylen)
{
	rd_kafka_conf_t *conf;
	size_t i;

	if ((conf = rd_kafka_conf_new()) == NULL) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	for (i = 0; i < NDEFAULTS; i++) {
		if (rd_kafka_conf_set(conf, defaults[i].name, defaults[i].value,
		        why, whylen) != RD_KAFKA_CONF_OK) {
			rd_kafka_conf_destroy(conf);
			return NULL;
		}
	}
	return conf;
}

/* Blanks dropped from a brokers list, into out.  0 or -1 (too long). */
static int
squeeze(const char *list, char *out, size_t len)
{
	size_t n = 0;

	for (; *list != '\0'; list++) {
		if (isspace((unsigned char)*list))
			continue;
		if (n + 1 >= len)
			return -1;
		out[n++] = *list;
	}
	out[n] = '\0';
	return 0;
}

rd_kafka_conf_t *
kafka_conf_build(
    const struct kafka_conf *kc, const char *brokers, char *why, size_t whylen)
{
	rd_kafka_conf_t *conf;
	char list[4096], err[512];
	size_t i;

	if ((conf = defaults_conf(why, whylen)) == NULL)
		return NULL;
	for (i = 0; kc != NULL && i < kc->n; i++) {
		const struct kafka_prop *p = &kc->props[i];

		if (p->value == NULL) {
			snprintf(
			    why, whylen, "[kafka] %s_file: not read", p->name);
			goto fail;
		}
		if (rd_kafka_conf_set(conf, p->name, p->value, err,
		        sizeof(err)) != RD_KAFKA_CONF_OK) {
			snprintf(why, whylen, "[kafka] %s: %s", p->name, err);
			goto fail;
		}
	}
	if (brokers != NULL) {
		if (squeeze(brokers, list, sizeof(list)) != 0) {
			snprintf(why, whylen, "[output] brokers: too long");
			goto fail;
		}
		if (rd_kafka_conf_set(conf, "bootstrap.servers", list, err,
		        sizeof(err)) != RD_KAFKA_CONF_OK) {
			snprintf(why, whylen, "[output] brokers: %s", err);
			goto fail;
		}
	}
	return conf;
fail:
	rd_kafka_conf_destroy(conf);
	return NULL;
}

/* Check one property; 0, or 1 with the problem reported. */
static int
check_prop(rd_kafka_conf_t *conf, const struct kafka_prop *p,
    void (*problem)(void *, const char *, const char *), void *arg)
{
	char why[512], key[300];

	snprintf(key, sizeof(key), "%s%s", p->name, p->file ? FILE_SUFFIX : "");
	if (p->value == NULL) {
		/* A file not read (-n): only the name can be checked. */
		if (rd_kafka_conf_set(conf, p->name, "x", why, sizeof(why)) !=
		    RD_KAFKA_CONF_UNKNOWN)
			return 0;
		snprintf(why, sizeof(why),
		    "No such configuration property: \"%s\"", p->name);
		problem(arg, key, why);
		return 1;
	}
	if (rd_kafka_conf_set(conf, p->name, p->value, why, sizeof(why)) ==
	    RD_KAFKA_CONF_OK)
		return 0;
	problem(arg, key, why);
	return 1;
}

/* Properties that name files, and the rules their files follow. */
static const struct {
	const char *name;
	int kind;
} file_props[] = {
    {"ssl.key.location", KAFKA_FILE_CRED | KAFKA_FILE_PRIVATE},
    {"ssl.keystore.location", KAFKA_FILE_CRED | KAFKA_FILE_PRIVATE},
    {"sasl.kerberos.keytab", KAFKA_FILE_CRED | KAFKA_FILE_PRIVATE},
    {"ssl.certificate.location", KAFKA_FILE_CRED},
    {"ssl.ca.location", KAFKA_FILE_DIR},
};

int
kafka_conf_file(const char *name, const char *value)
{
	size_t n = strlen(name), i;

	if (strcasecmp(name, "ssl.ca.location") == 0 && value != NULL &&
	    strcmp(value, "probe") == 0)
		return 0;
	for (i = 0; i < sizeof(file_props) / sizeof(file_props[0]); i++) {
		if (strcasecmp(name, file_props[i].name) == 0)
			return KAFKA_FILE | file_props[i].kind;
	}
	return n > 9 && strcasecmp(name + n - 9, ".location") == 0 ? KAFKA_FILE
	                                                           : 0;
}

/*
 * Start a producer with conf and no brokers (so it connects nowhere):
 * librdkafka checks the combination there.  0, or 1 when it refused.
 */
static int
check_instance(rd_kafka_conf_t *conf,
    void (*problem)(void *, const char *, const char *), void *arg)
{
	char why[512], text[600];
	rd_kafka_t *rk;

	rd_kafka_conf_set_log_cb(conf, quiet_log);
	/* GSSAPI would run kinit at start otherwise. */
	rd_kafka_conf_set(
	    conf, "sasl.kerberos.min.time.before.relogin", "0", NULL, 0);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
	if (rk == NULL) {
		rd_kafka_conf_destroy(conf);
		snprintf(text, sizeof(text),
		    "librdkafka refuses this configuration: %s", why);
		problem(arg, "", text);
		return 1;
	}
	rd_kafka_destroy(rk);
	return 0;
}

int
kafka_conf_check(const struct kafka_conf *kc,
    void (*problem)(void *, const char *, const char *), void *arg)
{
	rd_kafka_conf_t *conf, *whole = NULL;
	char why[512];
	size_t i;
	int bad = 0;

	if ((conf = defaults_conf(why, sizeof(why))) == NULL ||
	    (whole = defaults_conf(why, sizeof(why))) == NULL) {
		if (conf != NULL)
			rd_kafka_conf_destroy(conf);
		problem(arg, "", why);
		return 1;
	}
	for (i = 0; kc != NULL && i < kc->n; i++) {
		const struct kafka_prop *p = &kc->props[i];

		bad += check_prop(conf, p, problem, arg);
		if (p->unchecked)
			continue;
		/* An unread secret: any text will do for the check. */
		rd_kafka_conf_set(
		    whole, p->name, p->value != NULL ? p->value : "x", NULL, 0);
	}
	rd_kafka_conf_destroy(conf);
	if (bad == 0)
		return check_instance(whole, problem, arg);
	rd_kafka_conf_destroy(whole);
	return bad;
}

void
kafka_conf_identity(const struct kafka_conf *kc, char *out, size_t len)
{
	const struct kafka_prop *p;
	size_t used = 0, i;
	int n;

	if (len == 0)
		return;
	out[0] = '\0';
	for (i = 0; kc != NULL && i < kc->n; i++) {
		p = &kc->props[i];
		if (p->file != NULL)
			n = snprintf(out + used, len - used, "%s%s=%s\n",
			    p->name, FILE_SUFFIX, p->file);
		else if (kafka_conf_secret(p->name) == KAFKA_CREDENTIAL)
			continue;
		else
			n = snprintf(out + used, len - used, "%s=%s\n", p->name,
			    p->value);
		if (n < 0 || (size_t)n >= len - used)
			return; /* cut: the rest is left out */
		used += (size_t)n;
	}
}

static int
same_text(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

int
kafka_conf_equal(const struct kafka_conf *a, const struct kafka_conf *b)
{
	size_t na = a != NULL ? a->n : 0, nb = b != NULL ? b->n : 0, i;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++) {
		if (strcmp(a->props[i].name, b->props[i].name) != 0 ||
		    !same_text(a->props[i].value, b->props[i].value) ||
		    !same_text(a->props[i].file, b->props[i].file))
			return 0;
	}
	return 1;
}

void
kafka_conf_dump(const struct kafka_conf *kc, FILE *out)
{
	const struct kafka_prop *p;
	size_t i;

	fprintf(out, "[kafka]\n");
	for (i = 0; i < NDEFAULTS; i++) {
		if (!is_default_set(kc, &defaults[i]))
			fprintf(out, "%s = %s\n", defaults[i].name,
			    defaults[i].value);
	}
	for (i = 0; kc != NULL && i < kc->n; i++) {
		p = &kc->props[i];
		if (p->file != NULL)
			fprintf(
			    out, "%s%s = %s\n", p->name, FILE_SUFFIX, p->file);
		else if (kafka_conf_secret(p->name))
			fprintf(out, "%s = (redacted)\n", p->name);
		else
			fprintf(out, "%s = %s\n", p->name, p->value);
	}
}

uint64_t
kafka_conf_max_value(const struct kafka_conf *kc)
{
	const struct kafka_prop *p = find_prop(kc, "message.max.bytes");
	unsigned long long v = MAX_MESSAGE_DEFAULT;
	char *end;

	if (p != NULL && p->value != NULL) {
		errno = 0;
		v = strtoull(p->value, &end, 10);
		if (errno != 0 || end == p->value || *end != '\0')
			return 0;
	}
	return v > KAFKA_MSG_OVERHEAD ? v - KAFKA_MSG_OVERHEAD : 0;
}

static int
check_port(const char *p, const char *end)
{
	long port = 0;

	if (p == end)
		return -1;
	for (; p < end; p++) {
		if (!isdigit((unsigned char)*p) || port > 65535)
			return -1;
		port = port * 10 + (*p - '0');
	}
	return port >= 1 && port <= 65535 ? 0 : -1;
}

/* One broker: "host", "host:port", "[v6]:port", "proto://host:port". */
static int
check_broker(const char *b, size_t n, char *why, size_t whylen)
{
	const char *end = b + n, *host = b, *p, *colon;

	if ((p = memchr(b, ':', n)) != NULL && end - p > 3 && p[1] == '/' &&
	    p[2] == '/')
		host = p + 3;
	for (p = host; p < end; p++) {
		if (*p <= ' ' || *p > '~' || *p == '/')
			goto bad;
	}
	if (host < end && *host == '[') {
		if ((p = memchr(host, ']', (size_t)(end - host))) == NULL ||
		    p == host + 1 ||
		    (p + 1 < end && (p[1] != ':' || check_port(p + 2, end))))
			goto bad;
		return 0;
	}
	colon = memchr(host, ':', (size_t)(end - host));
	if (host == end || colon == host ||
	    (colon != NULL &&
	        (memchr(colon + 1, ':', (size_t)(end - colon - 1)) != NULL ||
	            check_port(colon + 1, end) != 0)))
		goto bad;
	return 0;
bad:
	snprintf(why, whylen,
	    "\"%.*s\" is not a broker (host:port, like kafka1:9092)",
	    (int)(n > 200 ? 200 : n), b);
	return -1;
}

int
kafka_brokers_check(const char *list, char *why, size_t whylen)
{
	const char *p = list, *end;
	const char *b;
	size_t n;

	for (;;) {
		end = p + strcspn(p, ",");
		b = p;
		while (b < end && isspace((unsigned char)*b))
			b++;
		n = (size_t)(end - b);
		while (n > 0 && isspace((unsigned char)b[n - 1]))
			n--;
		if (n == 0) {
			snprintf(why, whylen,
			    "empty item in \"%s\" (write host:port, "
			    "host:port, ...)",
			    list);
			return -1;
		}
		if (check_broker(b, n, why, whylen) != 0)
			return -1;
		if (*end == '\0')
			return 0;
		p = end + 1;
	}
}

int
kafka_topic_check(const char *pattern, char *why, size_t whylen)
{
	const char *p;
	size_t len = 0;

	for (p = pattern; *p != '\0'; p++) {
		if (*p == '%' && p[1] == 't') {
			len += TENANT_NAME_MAX;
			p++;
			continue;
		}
		if (*p == '%') {
			snprintf(why, whylen,
			    "\"%%%c\" is not known: %%t (the tenant name) is "
			    "the only substitution",
			    p[1] != '\0' ? p[1] : ' ');
			return -1;
		}
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' &&
		    *p != '-') {
			snprintf(why, whylen,
			    "\"%s\" is not a Kafka topic name (letters, "
			    "digits, '.', '_' and '-', and %%t)",
			    pattern);
			return -1;
		}
		len++;
	}
	if (strcmp(pattern, ".") == 0 || strcmp(pattern, "..") == 0) {
		snprintf(
		    why, whylen, "\"%s\" is not a Kafka topic name", pattern);
		return -1;
	}
	if (len > KAFKA_TOPIC_MAX) {
		snprintf(why, whylen,
		    "longer than %d characters (%%t counts as %d, the longest "
		    "tenant name)",
		    KAFKA_TOPIC_MAX, TENANT_NAME_MAX);
		return -1;
	}
	return 0;
}

int
kafka_topic_expand(
    const char *pattern, const char *tenant, char *out, size_t outlen)
{
	size_t n = 0, tl;
	const char *p;

	if (outlen == 0)
		return ERR_TOOBIG;
	if (tenant == NULL || tenant[0] == '\0')
		tenant = KAFKA_DEFAULT_TENANT;
	tl = strlen(tenant);
	for (p = pattern; *p != '\0'; p++) {
		if (p[0] == '%' && p[1] == 't') {
			if (n + tl >= outlen)
				goto toobig;
			memcpy(out + n, tenant, tl);
			n += tl;
			p++;
			continue;
		}
		if (n + 1 >= outlen)
			goto toobig;
		out[n++] = *p;
	}
	out[n] = '\0';
	return 0;
toobig:
	out[0] = '\0';
	return ERR_TOOBIG;
}
