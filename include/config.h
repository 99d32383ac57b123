/* SPDX-License-Identifier: MIT */
/*
 * Configuration: one INI file (inih) described by one table of keys
 * (section, name, type, destination, default, limits, secret).  Loading
 * reports every problem as "[section] key: why", not just the first, and
 * a second pass checks combinations.  See ARCHITECTURE section 4 and
 * conf/mdesiem.conf.example.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "log.h"
#include "ts.h"

struct kafka_conf;

#define CONFIG_DEFAULT_PATH "/etc/mdesiem/mdesiem.conf"

enum config_api { API_GRAPH = 0, API_ALERTS, API_SIEM };
enum config_cloud { CLOUD_GLOBAL = 0, CLOUD_GCC, CLOUD_GCC_HIGH, CLOUD_DOD };
enum config_format { FORMAT_CEF = 0, FORMAT_LEEF, FORMAT_JSON };
enum config_transport {
	TRANSPORT_TCP = 0,
	TRANSPORT_TLS,
	TRANSPORT_UDP,
	TRANSPORT_LOCAL,
	TRANSPORT_STDOUT,
	TRANSPORT_KAFKA,
};
enum config_framing { FRAMING_LF = 0, FRAMING_OCTET };
enum config_header { HEADER_RFC5424 = 0, HEADER_RFC3164, HEADER_NONE };
enum config_assertion_alg { ASSERTION_PS256 = 0, ASSERTION_RS256 };
/* What a source reads ([source] streams): Graph alerts_v2, incidents. */
enum config_stream { STREAM_ALERTS = 0, STREAM_INCIDENTS, STREAM__COUNT };
#define CONFIG_STREAM_BIT(s) (1u << (s))

struct config {
	/* The tenant: its name ("default" without [tenant NAME] sections)
	 * and where its section is ("FILE:LINE"), or NULL. */
	char *tenant_name;
	char *tenant_where;

	/* [azure] */
	char *tenant_id;
	char *client_id;
	char *client_secret; /* secret: wiped on free */
	char *client_secret_file; /* as written (for -n -v) */
	char *certificate_file;
	char *private_key_file;
	enum config_assertion_alg assertion_alg; /* with certificate_file */
	char *login_url; /* effective: per cloud when unset */

	/* [source] */
	enum config_api api;
	char *url; /* effective: per api/region/cloud */
	char *region; /* NULL: none */
	enum config_cloud cloud;
	char *audience; /* effective: per api/cloud */
	int64_t poll_interval; /* seconds */
	int64_t page_size; /* effective: per api when unset */
	char *start_from; /* as written: duration or ISO time */
	int64_t overlap; /* seconds */
	int64_t clock_tolerance; /* seconds the host's clock may be off */
	char *filter;
	char *streams_text; /* [source] streams, as written */
	unsigned streams; /* effective: CONFIG_STREAM_BIT()s, alerts alone
			     when unset */
	char **machine_groups; /* NULL-terminated, may be NULL */
	char *proxy;
	char *ca_file;
	int64_t timeout; /* seconds */

	/* [output] */
	enum config_format format;
	int leef_version; /* 1 or 2 */
	char leef_delimiter;
	enum config_transport transport;
	char *host;
	int port; /* effective: 514 / 6514 for tls */
	char *brokers; /* kafka: bootstrap servers, as written */
	char *topic; /* kafka: topic template (%t: tenant name) */
	enum config_framing framing; /* effective: lf, octet for tls */
	enum config_header header;
	int facility; /* numeric syslog facility 0..23 */
	char *hostname; /* effective: gethostname() */
	char *app_name;
	int64_t max_message_size; /* bytes; effective: 2048 for udp */
	char *tls_ca_file;
	char *tls_cert_file;
	char *tls_key_file;
	char *tls_server_name;
	char *vendor; /* CEF/LEEF header: "Microsoft" */
	char *product; /* "Microsoft Defender ATP" */
	char *product_version; /* "2.0" (the mapping version) */

	/* [kafka]: librdkafka properties (kafka_conf.h); NULL: none */
	struct kafka_conf *kafka;

	/* [state] */
	char *state_dir;
	/* --replay (replay.h): its messages carry the marker, its windows
	 * end at until_cap */
	int replay;
	int has_until_cap;
	struct ts until_cap;
	uint64_t spool_max_size; /* bytes */
	int64_t shutdown_grace; /* seconds */

	/* [metrics] */
	char *textfile_dir;

	/* [log] */
	enum log_level log_level;

	/* [daemon] */
	char *tenants_dir; /* more [tenant NAME] sections: DIR/\*.conf */
	int concurrency; /* requests in flight at once, all tenants */
};

/* Longest tenant name: [A-Za-z0-9._-], 1 to this many characters. */
#define CONFIG_TENANT_NAME_MAX 64

/* The name of the one tenant of a configuration without [tenant] sections. */
#define CONFIG_TENANT_DEFAULT "default"

/*
 * Every tenant of a configuration, each a complete, checked struct config
 * (the shared [azure], [source], [output], [state] ... sections with the
 * tenant's own keys applied over them).  Without [tenant NAME] sections
 * there is one tenant, named CONFIG_TENANT_DEFAULT, as [azure] tenant_id
 * says.  Tenants are in the order of their sections: the configuration
 * file first, then [daemon] tenants_dir's files in name order.
 */
struct config_set {
	struct config **tenant;
	size_t ntenant;
	int multi; /* configured with [tenant NAME] sections */
};

/*
 * Load path and, with [daemon] tenants_dir, every DIR/\*.conf, and check
 * every tenant (check_only as for config_load_opts()).  Every problem is
 * written to err, one line each: "[section] key: why" for a shared key,
 * "[tenant NAME] key: why" for a tenant's own key or a problem of one
 * tenant's combination; a problem that many tenants share is written once
 * per tenant up to a limit, then counted.  Returns NULL when there was
 * any problem, else a new set the caller frees with config_set_free().
 */
struct config_set *config_set_load(const char *path, FILE *err, int check_only);
void config_set_free(struct config_set *set);

/* The tenant named name, or NULL. */
const struct config *config_set_find(
    const struct config_set *set, const char *name);

/*
 * Nonzero when a and b are the same configuration, secrets included (a
 * reload restarts a tenant whose configuration changed).
 */
int config_equal(const struct config *a, const struct config *b);

/*
 * Load and check path.  Every problem is written to err (one line each,
 * "[section] key: why") and counted; the return value is NULL when there
 * was any, else a new config the caller frees with config_free().
 * Relative client_secret_file names (and [kafka] NAME_file names) resolve
 * against $CREDENTIALS_DIRECTORY when it is set.  A file holding
 * client_secret that group or others can read is refused, and so is such
 * a [kafka] NAME_file.  A [kafka] property librdkafka rejects is a
 * problem named "[kafka] NAME: librdkafka's words".
 */
struct config *config_load(const char *path, FILE *err);

/*
 * config_load() with a choice: check_only nonzero (mdesiemd -n) makes the
 * same checks, so that -n refuses what a start would, except for what
 * depends on where and as whom the daemon runs: a file or directory this
 * user may not open or look into, and a credential file given by a
 * relative name while $CREDENTIALS_DIRECTORY is unset (systemd's
 * LoadCredential= provides it at start), are not reported.
 * config_load(path, err) is config_load_opts(path, err, 0).
 */
struct config *config_load_opts(const char *path, FILE *err, int check_only);

/* Free c and wipe its secrets.  config_free(NULL) is a no-op. */
void config_free(struct config *c);

/*
 * Print the effective configuration as INI to out, every secret replaced
 * by "(redacted)".
 */
void config_dump(const struct config *c, FILE *out);

/* Parse "30s", "5m", "2h", "7d" or plain seconds.  Returns 0 or -1. */
int config_parse_duration(const char *s, int64_t *out);

/* Parse "512", "512K", "64M", "1G" (powers of 1024).  Returns 0 or -1. */
int config_parse_size(const char *s, uint64_t *out);

/* Names for enums, for logs and -n -v. */
const char *config_api_name(enum config_api api);
const char *config_transport_name(enum config_transport t);
const char *config_stream_name(enum config_stream s);

/*
 * Parse a streams list ("alerts, incidents") into CONFIG_STREAM_BIT()s.
 * 0, or -1 with *bad (static text) saying what is wrong.
 */
int config_streams_parse(const char *text, unsigned *out, const char **bad);

/* Where the output goes, for log lines: host, kafka brokers, or "-". */
const char *config_destination(const struct config *c);

#endif
