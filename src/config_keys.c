/* SPDX-License-Identifier: MIT */
/*
 * The table of configuration keys (config_impl.h): section, name, type,
 * where it lands in struct config, default text and limits, and the
 * conversion and check of each value as the INI reader hands it over.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ini.h>

#include "config.h"
#include "config_impl.h"
#include "errcode.h"
#include "kafka_conf.h"
#include "leef.h"
#include "log.h"
#include "ts.h"
#include "source.h"
#include "url.h"

static int check_tenant(struct loader *, const struct key *, const char *);
static int check_guid(struct loader *, const struct key *, const char *);
static int check_url(struct loader *, const struct key *, const char *);
static int check_proxy(struct loader *, const struct key *, const char *);
static int check_start(struct loader *, const struct key *, const char *);
static int check_word(struct loader *, const struct key *, const char *);
static int check_streams(struct loader *, const struct key *, const char *);
static int check_brokers(struct loader *, const struct key *, const char *);
static int check_topic(struct loader *, const struct key *, const char *);

static const struct choice assertion_alg_choices[] = {
    {"ps256", ASSERTION_PS256},
    {"rs256", ASSERTION_RS256},
    {NULL, 0},
};

const struct choice config_keys_cloud_choices[] = {
    {"global", CLOUD_GLOBAL},
    {"gcc", CLOUD_GCC},
    {"gcc-high", CLOUD_GCC_HIGH},
    {"dod", CLOUD_DOD},
    {NULL, 0},
};

static const struct choice format_choices[] = {
    {"cef", FORMAT_CEF},
    {"leef", FORMAT_LEEF},
    {"json", FORMAT_JSON},
    {NULL, 0},
};

static const struct choice leef_version_choices[] = {
    {"1.0", 1},
    {"2.0", 2},
    {NULL, 0},
};

static const struct choice transport_choices[] = {
    {"tcp", TRANSPORT_TCP},
    {"tls", TRANSPORT_TLS},
    {"udp", TRANSPORT_UDP},
    {"local", TRANSPORT_LOCAL},
    {"stdout", TRANSPORT_STDOUT},
    {"kafka", TRANSPORT_KAFKA},
    {NULL, 0},
};

static const struct choice framing_choices[] = {
    {"lf", FRAMING_LF},
    {"octet", FRAMING_OCTET},
    {NULL, 0},
};

static const struct choice header_choices[] = {
    {"rfc5424", HEADER_RFC5424},
    {"rfc3164", HEADER_RFC3164},
    {"none", HEADER_NONE},
    {NULL, 0},
};

/* For printing only: log_level_parse() reads the level. */
const struct choice config_keys_level_choices[] = {
    {"error", LOG_LVL_ERROR},
    {"warning", LOG_LVL_WARNING},
    {"info", LOG_LVL_INFO},
    {"debug", LOG_LVL_DEBUG},
    {NULL, 0},
};

/* RFC 5424 section 6.2.1 numbers. */
static const struct choice facility_choices[] = {
    {"kern", 0},
    {"user", 1},
    {"mail", 2},
    {"daemon", 3},
    {"auth", 4},
    {"syslog", 5},
    {"lpr", 6},
    {"news", 7},
    {"uucp", 8},
    {"cron", 9},
    {"authpriv", 10},
    {"ftp", 11},
    {"local0", 16},
    {"local1", 17},
    {"local2", 18},
    {"local3", 19},
    {"local4", 20},
    {"local5", 21},
    {"local6", 22},
    {"local7", 23},
    {NULL, 0},
};

/*
 * Every key, in the order of ARCHITECTURE section 4 (config_dump() prints
 * them in this order).  Keys whose default depends on other keys have a
 * NULL default here and get it in finish_*().
 */
const struct key config_keys[] = {
    {"azure", "tenant_id", K_STR, FIELD(tenant_id), NULL, 0, 253, NULL,
        check_tenant},
    {"azure", "client_id", K_STR, FIELD(client_id), NULL, 0, 0, NULL,
        check_guid},
    {"azure", "client_secret", K_SECRET, FIELD(client_secret), NULL, 0,
        SECRET_MAX, NULL, NULL},
    {"azure", "client_secret_file", K_STR, FIELD(client_secret_file), NULL, 0,
        0, NULL, NULL},
    {"azure", "certificate_file", K_STR, FIELD(certificate_file), NULL, 0, 0,
        NULL, NULL},
    {"azure", "private_key_file", K_STR, FIELD(private_key_file), NULL, 0, 0,
        NULL, NULL},
    {"azure", "assertion_alg", K_ENUM, FIELD(assertion_alg), "ps256", 0, 0,
        assertion_alg_choices, NULL},
    {"azure", "login_url", K_STR, FIELD(login_url), NULL, 0, 0, NULL,
        check_url},

    {"source", "api", K_ENUM, FIELD(api), "graph", 0, 0, NULL, NULL},
    {"source", "url", K_STR, FIELD(url), NULL, 0, 0, NULL, check_url},
    {"source", "region", K_STR, FIELD(region), NULL, 0, 0, NULL, NULL},
    {"source", "cloud", K_ENUM, FIELD(cloud), "global", 0, 0,
        config_keys_cloud_choices, NULL},
    {"source", "audience", K_STR, FIELD(audience), NULL, 0, 0, NULL,
        check_word},
    {"source", "poll_interval", K_DURATION, FIELD(poll_interval), "60s", 1,
        DAY_S, NULL, NULL},
    {"source", "page_size", K_INT, FIELD(page_size), NULL, 1, 10000, NULL,
        NULL},
    {"source", "start_from", K_STR, FIELD(start_from), "24h", 0, 0, NULL,
        check_start},
    {"source", "overlap", K_DURATION, FIELD(overlap), "10m", 0, 7 * DAY_S, NULL,
        NULL},
    {"source", "clock_tolerance", K_DURATION, FIELD(clock_tolerance), "2m", 10,
        DAY_S, NULL, NULL},
    {"source", "filter", K_STR, FIELD(filter), NULL, 0, 0, NULL, NULL},
    {"source", "streams", K_STR, FIELD(streams_text), "alerts", 0, 0, NULL,
        check_streams},
    {"source", "machine_groups", K_LIST, FIELD(machine_groups), NULL, 0, 0,
        NULL, NULL},
    {"source", "proxy", K_STR, FIELD(proxy), NULL, 0, 0, NULL, check_proxy},
    {"source", "ca_file", K_STR, FIELD(ca_file), NULL, 0, 0, NULL, NULL},
    {"source", "timeout", K_DURATION, FIELD(timeout), "60s", 1, HOUR_S, NULL,
        NULL},

    {"output", "format", K_ENUM, FIELD(format), "cef", 0, 0, format_choices,
        NULL},
    {"output", "leef_version", K_ENUM, FIELD(leef_version), "2.0", 0, 0,
        leef_version_choices, NULL},
    {"output", "leef_delimiter", K_CHAR, FIELD(leef_delimiter), "^", 0, 0, NULL,
        NULL},
    {"output", "transport", K_ENUM, FIELD(transport), "tcp", 0, 0,
        transport_choices, NULL},
    {"output", "host", K_STR, FIELD(host), NULL, 0, 255, NULL, check_word},
    {"output", "port", K_INT, FIELD(port), NULL, 1, 65535, NULL, NULL},
    {"output", "brokers", K_STR, FIELD(brokers), NULL, 0, 1024, NULL,
        check_brokers},
    {"output", "topic", K_STR, FIELD(topic), NULL, 0, 0, NULL, check_topic},
    {"output", "framing", K_ENUM, FIELD(framing), NULL, 0, 0, framing_choices,
        NULL},
    {"output", "header", K_ENUM, FIELD(header), "rfc5424", 0, 0, header_choices,
        NULL},
    {"output", "facility", K_ENUM, FIELD(facility), "local4", 0, 0,
        facility_choices, NULL},
    {"output", "hostname", K_STR, FIELD(hostname), NULL, 0, 255, NULL,
        check_word},
    {"output", "app_name", K_STR, FIELD(app_name), "mdesiemd", 0, 48, NULL,
        check_word},
    {"output", "max_message_size", K_SIZE, FIELD(max_message_size), NULL, KIB,
        MIB, NULL, NULL},
    {"output", "tls_ca_file", K_STR, FIELD(tls_ca_file), NULL, 0, 0, NULL,
        NULL},
    {"output", "tls_cert_file", K_STR, FIELD(tls_cert_file), NULL, 0, 0, NULL,
        NULL},
    {"output", "tls_key_file", K_STR, FIELD(tls_key_file), NULL, 0, 0, NULL,
        NULL},
    {"output", "tls_server_name", K_STR, FIELD(tls_server_name), NULL, 0, 255,
        NULL, check_word},
    {"output", "vendor", K_STR, FIELD(vendor), "Microsoft", 0, 0, NULL, NULL},
    {"output", "product", K_STR, FIELD(product), "Microsoft Defender ATP", 0, 0,
        NULL, NULL},
    {"output", "product_version", K_STR, FIELD(product_version), "2.0", 0, 0,
        NULL, NULL},

    {"state", "directory", K_STR, FIELD(state_dir), "/var/lib/mdesiem", 0, 0,
        NULL, NULL},
    {"state", "spool_max_size", K_SIZE, FIELD(spool_max_size), "1G", MIB,
        INT64_MAX, NULL, NULL},
    {"state", "shutdown_grace", K_DURATION, FIELD(shutdown_grace), "10s", 0,
        HOUR_S, NULL, NULL},

    {"metrics", "textfile_dir", K_STR, FIELD(textfile_dir), NULL, 0, 0, NULL,
        NULL},

    {"log", "level", K_LEVEL, FIELD(log_level), "info", 0, 0, NULL, NULL},

    {"daemon", "tenants_dir", K_STR, FIELD(tenants_dir), NULL, 0, 0, NULL,
        NULL},
    {"daemon", "concurrency", K_INT, FIELD(concurrency), "32", 1, 256, NULL,
        NULL},
};

_Static_assert(sizeof(config_keys) / sizeof(config_keys[0]) == NKEYS,
    "NKEYS in config_impl.h counts the keys");

_Static_assert(sizeof(enum config_api) == sizeof(int) &&
        sizeof(enum config_transport) == sizeof(int) &&
        sizeof(enum config_assertion_alg) == sizeof(int) &&
        sizeof(enum log_level) == sizeof(int),
    "enum fields are stored as int");

void *
config_keys_field(struct config *c, const struct key *k)
{
	return (char *)c + k->off;
}

const void *
config_keys_cfield(const struct config *c, const struct key *k)
{
	return (const char *)c + k->off;
}

size_t
config_keys_index(size_t off)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		if (config_keys[i].off == off)
			return i;
	}
	return 0; /* not reached: callers pass OFF() of a table key */
}

const char *
config_keys_choice_name(const struct choice *ch, int64_t v)
{
	for (; ch->name != NULL; ch++) {
		if (ch->value == v)
			return ch->name;
	}
	return NULL;
}

/* "a, b, c" into buf; the lists are short and buf is sized for them. */
const char *
config_keys_join_names(const char *const *names, char *buf, size_t len)
{
	size_t used = 0;
	int n;

	buf[0] = '\0';
	for (; *names != NULL; names++) {
		n = snprintf(
		    buf + used, len - used, "%s%s", used ? ", " : "", *names);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
	return buf;
}

static const char *
join_choices(const struct choice *ch, char *buf, size_t len)
{
	const char *names[32];
	size_t n = 0;

	for (; ch->name != NULL && n < 31; ch++)
		names[n++] = ch->name;
	names[n] = NULL;
	return config_keys_join_names(names, buf, len);
}

static void
store_int(struct config *c, const struct key *k, int64_t v)
{
	int i = (int)v;

	if (k->size == sizeof(int))
		memcpy(config_keys_field(c, k), &i, sizeof(i));
	else
		memcpy(config_keys_field(c, k), &v, sizeof(v));
}

int64_t
config_keys_load_int(const struct config *c, const struct key *k)
{
	int64_t v;
	int i;

	if (k->size == sizeof(int)) {
		memcpy(&i, config_keys_cfield(c, k), sizeof(i));
		return i;
	}
	memcpy(&v, config_keys_cfield(c, k), sizeof(v));
	return v;
}

void
config_keys_fmt_duration(int64_t v, char *buf, size_t len)
{
	if (v != 0 && v % DAY_S == 0)
		snprintf(buf, len, "%lldd", (long long)(v / DAY_S));
	else if (v != 0 && v % HOUR_S == 0)
		snprintf(buf, len, "%lldh", (long long)(v / HOUR_S));
	else if (v != 0 && v % MIN_S == 0)
		snprintf(buf, len, "%lldm", (long long)(v / MIN_S));
	else
		snprintf(buf, len, "%llds", (long long)v);
}

void
config_keys_fmt_size(uint64_t v, char *buf, size_t len)
{
	if (v != 0 && v % (1024ULL * MIB) == 0)
		snprintf(buf, len, "%lluG", (unsigned long long)(v >> 30));
	else if (v != 0 && v % MIB == 0)
		snprintf(buf, len, "%lluM", (unsigned long long)(v >> 20));
	else
		snprintf(buf, len, "%llu", (unsigned long long)v);
}

int
config_parse_duration(const char *s, int64_t *out)
{
	long long v;
	int64_t mult = 1;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0)
		return -1;
	switch (*end) {
	case '\0':
		break;
	case 's':
		end++;
		break;
	case 'm':
		mult = MIN_S;
		end++;
		break;
	case 'h':
		mult = HOUR_S;
		end++;
		break;
	case 'd':
		mult = DAY_S;
		end++;
		break;
	default:
		return -1;
	}
	if (*end != '\0' || v > INT64_MAX / mult)
		return -1;
	*out = (int64_t)v * mult;
	return 0;
}

int
config_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	uint64_t mult = 1;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	switch (*end) {
	case 'k':
	case 'K':
		mult = KIB;
		end++;
		break;
	case 'm':
	case 'M':
		mult = MIB;
		end++;
		break;
	case 'g':
	case 'G':
		mult = 1024ULL * MIB;
		end++;
		break;
	default:
		break;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0' || v > UINT64_MAX / mult)
		return -1;
	*out = (uint64_t)v * mult;
	return 0;
}

const char *
config_api_name(enum config_api api)
{
	const struct source_ops *ops = source_ops_for(api);

	return ops != NULL ? ops->name : "unknown";
}

const char *
config_transport_name(enum config_transport t)
{
	const char *s = config_keys_choice_name(transport_choices, t);

	return s != NULL ? s : "unknown";
}

const char *
config_destination(const struct config *c)
{
	const char *d = c->transport == TRANSPORT_KAFKA ? c->brokers : c->host;

	return d != NULL ? d : "-";
}

/* Value checks, called before a text value is stored. */

static int
is_guid(const char *s)
{
	size_t i;

	if (strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i])) {
			return 0;
		}
	}
	return 1;
}

int
config_keys_is_word(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if (*s <= ' ' || *s > '~')
			return 0;
	}
	return 1;
}

/*
 * An id that fails its check may be a secret pasted into the wrong key, so
 * it is never echoed: the hint gives its length and the first character
 * no id has, shown only when it is not a letter or digit (those are what
 * a secret is made of).  Entra secrets carry a '~', which ids never do.
 */
static void
id_hint(const char *v, const char *ok, char *out, size_t len)
{
	size_t n = strlen(v), at = 0;
	unsigned char c;
	char what[64] = "";

	while (v[at] != '\0' &&
	    (isalnum((unsigned char)v[at]) || strchr(ok, v[at]) != NULL))
		at++;
	c = (unsigned char)v[at];
	if (c == ' ' || c == '\t')
		snprintf(
		    what, sizeof(what), ", a blank at position %zu", at + 1);
	else if (c != '\0' && (c < 0x20 || c >= 0x7f))
		snprintf(what, sizeof(what),
		    ", a control or non-ASCII byte at position %zu", at + 1);
	else if (c != '\0')
		snprintf(
		    what, sizeof(what), ", a '%c' at position %zu", c, at + 1);
	snprintf(out, len,
	    "the value (%zu characters%s) is not shown, as it may be a "
	    "secret%s",
	    n, what,
	    strchr(v, '~') != NULL ? "; it looks like a client secret, which "
	                             "belongs in client_secret_file"
	                           : "");
}

#define HEX_DASH "0123456789abcdefABCDEF-"
#define DOMAIN_CHARS \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-"

static int
check_tenant(struct loader *ld, const struct key *k, const char *v)
{
	char hint[256];

	if (is_guid(v))
		return 0;
	if (strspn(v, DOMAIN_CHARS) == strlen(v) && v[0] != '.' && v[0] != '-')
		return 0;
	id_hint(v, DOMAIN_CHARS, hint, sizeof(hint));
	config_problem(ld, k,
	    "not a tenant id (a GUID, or a domain like "
	    "contoso.onmicrosoft.com); %s",
	    hint);
	return -1;
}

static int
check_guid(struct loader *ld, const struct key *k, const char *v)
{
	char hint[256];

	if (is_guid(v))
		return 0;
	id_hint(v, HEX_DASH, hint, sizeof(hint));
	config_problem(ld, k,
	    "not a GUID (8-4-4-4-12 hex digits, like "
	    "00000000-0000-0000-0000-000000000000); %s",
	    hint);
	return -1;
}

static int
check_url(struct loader *ld, const struct key *k, const char *v)
{
	if (url_is_allowed(v))
		return 0;
	if (strncasecmp(v, "http://", 7) == 0)
		config_problem(ld, k,
		    "plain http is allowed only to loopback addresses; use "
		    "https");
	else
		config_problem(ld, k, "\"%s\" is not an https URL", v);
	return -1;
}

/* The URL is not echoed: a proxy URL may carry a password. */
static int
check_proxy(struct loader *ld, const struct key *k, const char *v)
{
	static const char *const schemes[] = {
	    "http://",
	    "https://",
	    "socks4://",
	    "socks4a://",
	    "socks5://",
	    "socks5h://",
	    NULL,
	};
	const char *const *s;
	char host[256];

	for (s = schemes; *s != NULL; s++) {
		if (strncasecmp(v, *s, strlen(*s)) == 0 &&
		    url_host(v, host, sizeof(host)) == 0)
			return 0;
	}
	config_problem(ld, k,
	    "not a proxy URL (like http://proxy.example.com:3128; https://, "
	    "socks5:// and socks5h:// work too)");
	return -1;
}

static int
check_start(struct loader *ld, const struct key *k, const char *v)
{
	int64_t d;
	struct ts t;

	if (config_parse_duration(v, &d) == 0 ||
	    ts_parse(v, strlen(v), &t) == 0)
		return 0;
	config_problem(ld, k,
	    "\"%s\" is neither a duration (24h, 7d) nor a UTC time "
	    "(2024-01-31T00:00:00Z)",
	    v);
	return -1;
}

const char *
config_stream_name(enum config_stream s)
{
	switch (s) {
	case STREAM_ALERTS:
		return "alerts";
	case STREAM_INCIDENTS:
		return "incidents";
	default:
		return "unknown";
	}
}

int
config_streams_parse(const char *text, unsigned *out, const char **bad)
{
	const char *p = text, *e;
	unsigned mask = 0, bit;
	size_t n;
	int s;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		e = p + strcspn(p, ",");
		n = (size_t)(e - p);
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		for (s = 0; s < STREAM__COUNT; s++)
			if (strlen(config_stream_name(s)) == n &&
			    strncmp(p, config_stream_name(s), n) == 0)
				break;
		if (n == 0) {
			*bad = "an empty name in the list";
			return -1;
		}
		if (s == STREAM__COUNT) {
			*bad = "not a stream (alerts, incidents)";
			return -1;
		}
		bit = CONFIG_STREAM_BIT(s);
		if (mask & bit) {
			*bad = "a stream named twice";
			return -1;
		}
		mask |= bit;
		if (*e == '\0')
			break;
		p = e + 1;
	}
	*out = mask;
	return 0;
}

static int
check_streams(struct loader *ld, const struct key *k, const char *v)
{
	const char *bad;
	unsigned m;

	if (config_streams_parse(v, &m, &bad) == 0)
		return 0;
	config_problem(ld, k,
	    "\"%s\": %s; write alerts, incidents or both, comma separated", v,
	    bad);
	return -1;
}

static int
check_word(struct loader *ld, const struct key *k, const char *v)
{
	if (config_keys_is_word(v))
		return 0;
	config_problem(
	    ld, k, "\"%s\" must be printable ASCII without spaces", v);
	return -1;
}

static int
check_brokers(struct loader *ld, const struct key *k, const char *v)
{
	char why[512];

	if (kafka_brokers_check(v, why, sizeof(why)) == 0)
		return 0;
	config_problem(ld, k, "%s", why);
	return -1;
}

static int
check_topic(struct loader *ld, const struct key *k, const char *v)
{
	char why[512];

	if (kafka_topic_check(v, why, sizeof(why)) == 0)
		return 0;
	config_problem(ld, k, "%s", why);
	return -1;
}

/* Value setters, one per type.  They report and return -1 on a bad value. */

void
config_keys_free_list(char **list)
{
	char **p;

	if (list == NULL)
		return;
	for (p = list; *p != NULL; p++)
		free(*p);
	free(list);
}

/*
 * Free a text value; a secret, or a proxy URL (it may carry a password),
 * is wiped first.
 */
void
config_keys_wipe_free(char *v, const struct key *k)
{
	if (v != NULL && (k->type == K_SECRET || k->off == OFF(proxy)))
		explicit_bzero(v, strlen(v));
	free(v);
}

static int
set_string(struct loader *ld, const struct key *k, const char *v)
{
	char **slot = config_keys_field(ld->c, k);
	char *s;

	if (k->max > 0 && strlen(v) > (size_t)k->max) {
		config_problem(
		    ld, k, "longer than %lld characters", (long long)k->max);
		return -1;
	}
	if (k->check != NULL && k->check(ld, k, v) != 0)
		return -1;
	if ((s = config_sdup(ld, v)) == NULL)
		return -1;
	config_keys_wipe_free(*slot, k);
	*slot = s;
	return 0;
}

const struct choice *
config_keys_choices(const struct key *k)
{
	/* api = NAME: the adapters' names, in their enum's order. */
	static struct choice apis[16];
	size_t i;

	if (k->choices != NULL)
		return k->choices;
	if (apis[0].name == NULL)
		for (i = 0; i + 1 < 16 && source_ops_at(i) != NULL; i++) {
			apis[i].name = source_ops_at(i)->name;
			apis[i].value = (int)i;
		}
	return apis;
}

static int
set_enum(struct loader *ld, const struct key *k, const char *v)
{
	const struct choice *ch;
	char names[256];

	for (ch = config_keys_choices(k); ch->name != NULL; ch++) {
		if (strcasecmp(ch->name, v) == 0) {
			store_int(ld->c, k, ch->value);
			return 0;
		}
	}
	config_problem(ld, k, "\"%s\" is not one of %s", v,
	    join_choices(config_keys_choices(k), names, sizeof(names)));
	return -1;
}

static int
set_level(struct loader *ld, const struct key *k, const char *v)
{
	enum log_level level;

	if (log_level_parse(v, &level) != 0) {
		config_problem(ld, k,
		    "\"%s\" is not one of error, warning, info, debug", v);
		return -1;
	}
	store_int(ld->c, k, level);
	return 0;
}

static int
set_duration(struct loader *ld, const struct key *k, const char *v)
{
	char lim[32];
	int64_t d;

	if (config_parse_duration(v, &d) != 0) {
		config_problem(
		    ld, k, "\"%s\" is not a duration (use 30s, 5m, 2h, 7d)", v);
		return -1;
	}
	if (d < k->min) {
		config_keys_fmt_duration(k->min, lim, sizeof(lim));
		config_problem(
		    ld, k, "\"%s\" is too short (at least %s)", v, lim);
		return -1;
	}
	if (d > k->max) {
		config_keys_fmt_duration(k->max, lim, sizeof(lim));
		config_problem(
		    ld, k, "\"%s\" is too long (at most %s)", v, lim);
		return -1;
	}
	store_int(ld->c, k, d);
	return 0;
}

static int
set_size(struct loader *ld, const struct key *k, const char *v)
{
	char lim[32];
	uint64_t n;

	if (config_parse_size(v, &n) != 0) {
		config_problem(
		    ld, k, "\"%s\" is not a size (use 512K, 64M, 1G)", v);
		return -1;
	}
	if (n < (uint64_t)k->min) {
		config_keys_fmt_size((uint64_t)k->min, lim, sizeof(lim));
		config_problem(
		    ld, k, "\"%s\" is too small (at least %s)", v, lim);
		return -1;
	}
	if (n > (uint64_t)k->max) {
		config_keys_fmt_size((uint64_t)k->max, lim, sizeof(lim));
		config_problem(
		    ld, k, "\"%s\" is too large (at most %s)", v, lim);
		return -1;
	}
	memcpy(config_keys_field(ld->c, k), &n, sizeof(n));
	return 0;
}

static int
set_int(struct loader *ld, const struct key *k, const char *v)
{
	long long n = 0;
	char *end = NULL;

	if (isdigit((unsigned char)v[0])) {
		errno = 0;
		n = strtoll(v, &end, 10);
	}
	if (end == NULL || *end != '\0' || errno != 0 || n < k->min ||
	    n > k->max) {
		config_problem(ld, k,
		    "\"%s\" is not a number from %lld to %lld", v,
		    (long long)k->min, (long long)k->max);
		return -1;
	}
	store_int(ld->c, k, n);
	return 0;
}

static int
set_bool(struct loader *ld, const struct key *k, const char *v)
{
	static const char *const yes[] = {"yes", "true", "on", "1", NULL};
	static const char *const no[] = {"no", "false", "off", "0", NULL};
	size_t i;

	for (i = 0; yes[i] != NULL; i++) {
		if (strcasecmp(v, yes[i]) == 0 || strcasecmp(v, no[i]) == 0) {
			store_int(ld->c, k, strcasecmp(v, yes[i]) == 0);
			return 0;
		}
	}
	config_problem(ld, k, "\"%s\" is not yes or no", v);
	return -1;
}

/*
 * One character, or its ASCII code as xHH / 0xHH (x09 is TAB).  Which
 * characters can delimit is leef_delimiter_ok()'s rule, not this one's.
 */
static int
parse_delimiter(const char *v, char *out)
{
	const char *hex = NULL;
	unsigned long n;
	size_t len;
	int ch = 0;

	if (v[0] != '\0' && v[1] == '\0')
		ch = (unsigned char)v[0];
	else if (v[0] == '0' && (v[1] == 'x' || v[1] == 'X'))
		hex = v + 2;
	else if (v[0] == 'x' || v[0] == 'X')
		hex = v + 1;
	else
		return -1;
	if (hex != NULL) {
		len = strspn(hex, "0123456789abcdefABCDEF");
		if (len == 0 || len > 4 || hex[len] != '\0')
			return -1;
		n = strtoul(hex, NULL, 16);
		if (n == 0 || n > 0x7f)
			return -1;
		ch = (int)n;
	}
	*out = (char)ch;
	return 0;
}

static int
set_char(struct loader *ld, const struct key *k, const char *v)
{
	char ch;

	if (parse_delimiter(v, &ch) != 0) {
		config_problem(ld, k,
		    "\"%s\" is not one character or an ASCII code like x09", v);
		return -1;
	}
	/* The formatter's own rule, so that -n refuses what a start would. */
	if (!leef_delimiter_ok(ch)) {
		config_problem(ld, k,
		    "\"%s\" cannot delimit LEEF attributes: use TAB (x09) or "
		    "an ASCII punctuation character other than '=' and '|'",
		    v);
		return -1;
	}
	memcpy(config_keys_field(ld->c, k), &ch, 1);
	return 0;
}

static int
set_list(struct loader *ld, const struct key *k, const char *v)
{
	char ***slot = config_keys_field(ld->c, k);
	char **list;
	const char *p, *end;
	size_t n = 1, i = 0;

	for (p = v; *p != '\0'; p++)
		n += *p == ',';
	if ((list = calloc(n + 1, sizeof(*list))) == NULL) {
		config_report(ld, "%s: out of memory", ld->path);
		return -1;
	}
	for (p = v; i < n; p = end + 1) {
		end = p + strcspn(p, ",");
		while (p < end && isspace((unsigned char)*p))
			p++;
		while (end > p && isspace((unsigned char)end[-1]))
			end--;
		if (end == p) {
			config_problem(ld, k, "empty item in \"%s\"", v);
			goto fail;
		}
		if ((list[i++] = strndup(p, (size_t)(end - p))) == NULL) {
			config_report(ld, "%s: out of memory", ld->path);
			goto fail;
		}
		end += strcspn(end, ",");
	}
	config_keys_free_list(*slot);
	*slot = list;
	return 0;
fail:
	config_keys_free_list(list);
	return -1;
}

int
config_keys_set_value(struct loader *ld, const struct key *k, const char *v)
{
	if (*v == '\0') {
		config_problem(ld, k, "empty value");
		return -1;
	}
	switch (k->type) {
	case K_STR:
	case K_SECRET:
		return set_string(ld, k, v);
	case K_ENUM:
		return set_enum(ld, k, v);
	case K_DURATION:
		return set_duration(ld, k, v);
	case K_SIZE:
		return set_size(ld, k, v);
	case K_INT:
		return set_int(ld, k, v);
	case K_BOOL:
		return set_bool(ld, k, v);
	case K_CHAR:
		return set_char(ld, k, v);
	case K_LIST:
		return set_list(ld, k, v);
	case K_LEVEL:
		return set_level(ld, k, v);
	}
	return -1;
}

/* The first pass: inih, our line reader, and the key handler. */

const struct key *
config_keys_find(const char *section, const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		if (strcasecmp(config_keys[i].section, section) == 0 &&
		    strcasecmp(config_keys[i].name, name) == 0)
			return &config_keys[i];
	}
	return NULL;
}

const char *
config_keys_section(const char *section)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		if (strcasecmp(config_keys[i].section, section) == 0)
			return config_keys[i].section;
	}
	return NULL;
}
