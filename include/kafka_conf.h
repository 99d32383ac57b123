/* SPDX-License-Identifier: MIT */
/*
 * What the Kafka transport knows about its configuration, so that
 * config.c does not have to: the [kafka] section (any librdkafka property,
 * passed to the producer as is; NAME_file reads NAME's value from a file),
 * the defaults this daemon sets (enable.idempotence=true, acks=all, ...),
 * which properties are secret, the check of every property against
 * librdkafka itself, the [output] brokers list and the topic template
 * (%t = tenant name).  The producer (sink_kafka.c) and --test-connection
 * build their librdkafka configuration here.
 */
#ifndef KAFKA_CONF_H
#define KAFKA_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The tenant name %t stands for when a message names no tenant. */
#define KAFKA_DEFAULT_TENANT "default"
/* Kafka's longest topic name. */
#define KAFKA_TOPIC_MAX 249
/* Kafka header names carrying the tenant and the record's version time. */
#define KAFKA_HEADER_TENANT "mdesiem-tenant"
#define KAFKA_HEADER_VERSION "mdesiem-version"
/*
 * Room a message needs beside its value within librdkafka's
 * message.max.bytes: key, headers and record framing.
 */
#define KAFKA_MSG_OVERHEAD 2048

struct rd_kafka_conf_s;

/* One [kafka] property as the configuration gave it. */
struct kafka_prop {
	char *name; /* librdkafka property name (NAME of NAME_file) */
	char *value; /* NULL while a NAME_file has not been read */
	char *file; /* NAME_file: the file's path, else NULL */
	int line; /* line of the configuration file */
	/*
	 * A file property whose file could not be opened (reported, or
	 * left to the start under -n): kafka_conf_check() leaves it out of
	 * the producer it starts.
	 */
	int unchecked;
};

/* The [kafka] section. */
struct kafka_conf {
	struct kafka_prop *props;
	size_t n, cap;
};

/* Empty section. */
void kafka_conf_init(struct kafka_conf *kc);

/* Free every property, values wiped first.  kc may be NULL. */
void kafka_conf_reset(struct kafka_conf *kc);

/*
 * dst (initialised, empty) becomes a copy of src (NULL: empty).  0, or
 * ERR_NOMEM with dst emptied.
 */
int kafka_conf_copy(struct kafka_conf *dst, const struct kafka_conf *src);

/*
 * Add key = value from line of the configuration.  A key ending in
 * "_file" names the property before that suffix and value is its file
 * (kafka_conf_set_value() fills the value later).  Returns 0, ERR_NOMEM,
 * or ERR_CONFIG with why filled (given twice, or a property this daemon
 * sets itself, such as bootstrap.servers).
 */
int kafka_conf_add(struct kafka_conf *kc, const char *key, const char *value,
    int line, char *why, size_t whylen);

/* The value read from p->file; the previous one is wiped.  0 or ERR_NOMEM. */
int kafka_conf_set_value(struct kafka_prop *p, const char *value);

/*
 * Check every property with librdkafka (rd_kafka_conf_set on a fresh
 * producer configuration holding our defaults first), then the whole
 * set as a producer would start with it (idempotence needs acks=all, for
 * instance), without connecting anywhere.  A NAME_file whose value was
 * not read (mdesiemd -n) is checked for its name only, and a property
 * marked unchecked (its file could not be opened) is left out of the
 * whole set, so that -n and a start judge the same.  Each problem is passed to problem(arg, key, why):
 * the key as written ("" for the whole section) and librdkafka's words.
 * Returns the number of problems.
 */
int kafka_conf_check(const struct kafka_conf *kc,
    void (*problem)(void *, const char *, const char *), void *arg);

/* What kafka_conf_file() says of a property (bits). */
#define KAFKA_FILE 1 /* its value names a file (*.location, a keytab) */
#define KAFKA_FILE_CRED 2 /* a credential: may be in $CREDENTIALS_DIRECTORY */
#define KAFKA_FILE_PRIVATE 4 /* a key: not readable by group or others */
#define KAFKA_FILE_DIR 8 /* a directory will do (ssl.ca.location) */

/*
 * Whether property name with value names a file, and which rules the
 * file follows (those of the [source] and [output] tls_* files): 0 for
 * other properties and for ssl.ca.location = probe.
 */
int kafka_conf_file(const char *name, const char *value);

/*
 * What makes two producers write to the same place, as text for a
 * queue's identity: every property and value, credentials left out (a
 * NAME_file counts by its path).  Writes at most len bytes (NUL
 * included) to out.
 */
void kafka_conf_identity(const struct kafka_conf *kc, char *out, size_t len);

/* Nonzero when a and b hold the same properties and values (or files). */
int kafka_conf_equal(const struct kafka_conf *a, const struct kafka_conf *b);

/*
 * A librdkafka producer configuration: our defaults, then every property
 * of kc (NULL: none), then bootstrap.servers = brokers (blanks removed).
 * The caller owns it (rd_kafka_conf_destroy, or rd_kafka_new takes it).
 * Returns NULL with why filled.
 */
struct rd_kafka_conf_s *kafka_conf_build(
    const struct kafka_conf *kc, const char *brokers, char *why, size_t whylen);

/*
 * Print the section as INI for mdesiemd -n -v: our defaults that kc does
 * not override, then kc's properties.  Secret values print as
 * "(redacted)", a NAME_file as its path, never its contents.
 */
void kafka_conf_dump(const struct kafka_conf *kc, FILE *out);

/* What kafka_conf_secret() says of a property. */
#define KAFKA_SENSITIVE 1 /* never printed (sasl.username, ...) */
#define KAFKA_CREDENTIAL 2 /* never printed, and a secret itself */

/*
 * Whether the value of property name may be printed: 0, or
 * KAFKA_SENSITIVE for what librdkafka marks sensitive (sasl.username,
 * ssl.key.location, ...), or KAFKA_CREDENTIAL for a secret
 * (sasl.password, ssl.key.password, any name with "password" or "secret"
 * in it): a configuration file holding one must not be readable by
 * group or others.
 */
int kafka_conf_secret(const char *name);

/*
 * The longest message value the producer accepts: message.max.bytes as
 * kc sets it (librdkafka's default 1000000 otherwise) less
 * KAFKA_MSG_OVERHEAD.  0 when kc's value is not a number.
 */
uint64_t kafka_conf_max_value(const struct kafka_conf *kc);

/*
 * Check an [output] brokers list: host[:port] items separated by commas
 * (blanks around them are allowed).  Returns 0, or -1 with why filled.
 */
int kafka_brokers_check(const char *list, char *why, size_t whylen);

/*
 * Check an [output] topic template: Kafka topic characters
 * [A-Za-z0-9._-] and %t, at most KAFKA_TOPIC_MAX characters once %t is
 * replaced by the longest tenant name.  Returns 0, or -1 with why filled.
 */
int kafka_topic_check(const char *pattern, char *why, size_t whylen);

/*
 * Write pattern with every %t replaced by tenant (NULL or "":
 * KAFKA_DEFAULT_TENANT) to out.  Returns 0, or ERR_TOOBIG when it does
 * not fit outlen (out then holds "").
 */
int kafka_topic_expand(
    const char *pattern, const char *tenant, char *out, size_t outlen);

#endif
