/* SPDX-License-Identifier: MIT */
/*
 * Configuration (include/config.h), the first thing the daemon does and
 * the only place that reads the INI file.  One table below describes every
 * key: section, name, type, where it lands in struct config, default text
 * and limits.  inih reads the file through our line reader, which counts
 * lines, refuses over-long ones and turns off continuation lines; the
 * handler finds each key in the table and converts its value.  A second
 * pass fills the defaults that depend on other keys (URLs per api, region
 * and cloud; port and framing per transport), checks combinations, and
 * reads the client secret file.  Every problem is reported, one line each,
 * before the load fails, so the rest of the daemon only ever sees a
 * complete, checked configuration.
 */
#include <sys/stat.h>

#include <ctype.h>
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
#include "log.h"
#include "ts.h"
#include "url.h"

#define FILE_MAX (256 * 1024) /* a configuration file is a few K */
#define SECRET_MAX 4096
#define SYNTAX_MAX 20 /* past this, it is not an INI file */
#define LINE_MAX_LEN (INI_MAX_LINE - 2) /* inih needs "\n" and NUL */

#define MIN_S 60
#define HOUR_S 3600
#define DAY_S 86400
#define KIB 1024
#define MIB (1024 * 1024)

#define PRIVATE_BITS (S_IRGRP | S_IROTH)

struct loader;

enum ktype {
	K_STR, /* text */
	K_SECRET, /* text that is never echoed */
	K_ENUM, /* one of choices[], stored as int */
	K_DURATION, /* seconds, int64_t */
	K_SIZE, /* bytes, 64 bits */
	K_INT, /* int or int64_t, by field size */
	K_BOOL, /* yes/no, stored as int */
	K_CHAR, /* one character or xHH */
	K_LIST, /* comma-separated, NULL-terminated char ** */
	K_LEVEL, /* log level, by log_level_parse() */
};

struct choice {
	const char *name;
	int value;
};

struct key {
	const char *section;
	const char *name;
	enum ktype type;
	size_t off; /* where the value lands in struct config */
	size_t size; /* sizeof that field */
	const char *def; /* default text; NULL: none, or computed */
	int64_t min, max; /* numbers: range; text: max length (0: any) */
	const struct choice *choices; /* K_ENUM */
	int (*check)(struct loader *, const struct key *, const char *);
};

static int check_tenant(struct loader *, const struct key *, const char *);
static int check_guid(struct loader *, const struct key *, const char *);
static int check_url(struct loader *, const struct key *, const char *);
static int check_proxy(struct loader *, const struct key *, const char *);
static int check_start(struct loader *, const struct key *, const char *);
static int check_word(struct loader *, const struct key *, const char *);

static const struct choice api_choices[] = {
    {"graph", API_GRAPH},
    {"alerts", API_ALERTS},
    {"siem", API_SIEM},
    {NULL, 0},
};

static const struct choice assertion_alg_choices[] = {
    {"ps256", ASSERTION_PS256},
    {"rs256", ASSERTION_RS256},
    {NULL, 0},
};

static const struct choice cloud_choices[] = {
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
static const struct choice level_choices[] = {
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

#define OFF(f) offsetof(struct config, f)
#define FIELD(f) OFF(f), sizeof(((struct config *)0)->f)

/*
 * Every key, in the order of ARCHITECTURE section 4 (config_dump() prints
 * them in this order).  Keys whose default depends on other keys have a
 * NULL default here and get it in finish_*().
 */
static const struct key keys[] = {
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

    {"source", "api", K_ENUM, FIELD(api), "graph", 0, 0, api_choices, NULL},
    {"source", "url", K_STR, FIELD(url), NULL, 0, 0, NULL, check_url},
    {"source", "region", K_STR, FIELD(region), NULL, 0, 0, NULL, NULL},
    {"source", "cloud", K_ENUM, FIELD(cloud), "global", 0, 0, cloud_choices,
        NULL},
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
    {"source", "filter", K_STR, FIELD(filter), NULL, 0, 0, NULL, NULL},
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
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

_Static_assert(sizeof(enum config_api) == sizeof(int) &&
        sizeof(enum config_transport) == sizeof(int) &&
        sizeof(enum config_assertion_alg) == sizeof(int) &&
        sizeof(enum log_level) == sizeof(int),
    "enum fields are stored as int");

/*
 * Files named by the configuration.  Credential files may come from
 * systemd's LoadCredential= ($CREDENTIALS_DIRECTORY); private ones must not
 * be readable by group or others; tls_* ones matter only with tls.
 */
static const struct {
	size_t off;
	int cred;
	int private;
	int tls;
} file_keys[] = {
    {OFF(certificate_file), 1, 0, 0},
    {OFF(private_key_file), 1, 1, 0},
    {OFF(ca_file), 0, 0, 0},
    {OFF(tls_ca_file), 0, 0, 1},
    {OFF(tls_cert_file), 1, 0, 1},
    {OFF(tls_key_file), 1, 1, 1},
};

/* One line of the configuration file, as the reader serves it. */
struct line {
	const char *text;
	size_t len;
	int skip; /* reported already: served as blank */
};

/* Loading state: the file, the reader's position, what was set where. */
struct loader {
	const char *path;
	FILE *err;
	int check_only;
	int nerr;
	struct config *c;
	mode_t mode; /* of the configuration file */
	char *data; /* its contents, wiped on the way out */
	size_t size;
	struct line *lines;
	size_t nlines;
	size_t next; /* next line the reader serves */
	int lineno; /* line the handler is looking at */
	int given[NKEYS]; /* line a key was set on, 0: not given */
	unsigned char ok[NKEYS]; /* the value was accepted */
	char unknown[64]; /* last unknown section reported */
};

static void report(struct loader *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
static void problem(struct loader *, const struct key *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
report(struct loader *ld, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(ld->err, fmt, ap);
	va_end(ap);
	fputc('\n', ld->err);
	ld->nerr++;
}

static void
problem(struct loader *ld, const struct key *k, const char *fmt, ...)
{
	va_list ap;

	fprintf(ld->err, "[%s] %s: ", k->section, k->name);
	va_start(ap, fmt);
	vfprintf(ld->err, fmt, ap);
	va_end(ap);
	fputc('\n', ld->err);
	ld->nerr++;
}

static char *
sdup(struct loader *ld, const char *s)
{
	char *p;

	if ((p = strdup(s)) == NULL)
		report(ld, "%s: out of memory", ld->path);
	return p;
}

static void *
field(struct config *c, const struct key *k)
{
	return (char *)c + k->off;
}

static const void *
cfield(const struct config *c, const struct key *k)
{
	return (const char *)c + k->off;
}

static size_t
key_index(size_t off)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		if (keys[i].off == off)
			return i;
	}
	return 0; /* not reached: callers pass OFF() of a table key */
}

#define KEY(f) (&keys[key_index(OFF(f))])
#define GIVEN(ld, f) ((ld)->given[key_index(OFF(f))] != 0)
#define OK(ld, f) ((ld)->ok[key_index(OFF(f))] != 0)
/* Given with a bad value (reported): checks that depend on it are skipped. */
#define BAD(ld, f) (GIVEN(ld, f) && !OK(ld, f))

static const char *
choice_name(const struct choice *ch, int64_t v)
{
	for (; ch->name != NULL; ch++) {
		if (ch->value == v)
			return ch->name;
	}
	return NULL;
}

/* "a, b, c" into buf; the lists are short and buf is sized for them. */
static const char *
join_names(const char *const *names, char *buf, size_t len)
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
	return join_names(names, buf, len);
}

static void
store_int(struct config *c, const struct key *k, int64_t v)
{
	int i = (int)v;

	if (k->size == sizeof(int))
		memcpy(field(c, k), &i, sizeof(i));
	else
		memcpy(field(c, k), &v, sizeof(v));
}

static int64_t
load_int(const struct config *c, const struct key *k)
{
	int64_t v;
	int i;

	if (k->size == sizeof(int)) {
		memcpy(&i, cfield(c, k), sizeof(i));
		return i;
	}
	memcpy(&v, cfield(c, k), sizeof(v));
	return v;
}

static void
fmt_duration(int64_t v, char *buf, size_t len)
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

static void
fmt_size(uint64_t v, char *buf, size_t len)
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
	const char *s = choice_name(api_choices, api);

	return s != NULL ? s : "unknown";
}

const char *
config_transport_name(enum config_transport t)
{
	const char *s = choice_name(transport_choices, t);

	return s != NULL ? s : "unknown";
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

static int
is_word(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if (*s <= ' ' || *s > '~')
			return 0;
	}
	return 1;
}

static int
check_tenant(struct loader *ld, const struct key *k, const char *v)
{
	const char *p;

	if (is_guid(v))
		return 0;
	for (p = v; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
			break;
	}
	if (*p == '\0' && v[0] != '.' && v[0] != '-')
		return 0;
	problem(ld, k,
	    "\"%s\" is not a tenant id (a GUID, or a domain like "
	    "contoso.onmicrosoft.com)",
	    v);
	return -1;
}

static int
check_guid(struct loader *ld, const struct key *k, const char *v)
{
	if (is_guid(v))
		return 0;
	problem(ld, k,
	    "\"%s\" is not a GUID (8-4-4-4-12 hex digits, like "
	    "00000000-0000-0000-0000-000000000000)",
	    v);
	return -1;
}

static int
check_url(struct loader *ld, const struct key *k, const char *v)
{
	if (url_is_allowed(v))
		return 0;
	if (strncasecmp(v, "http://", 7) == 0)
		problem(ld, k,
		    "plain http is allowed only to loopback addresses; use "
		    "https");
	else
		problem(ld, k, "\"%s\" is not an https URL", v);
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
	problem(ld, k,
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
	problem(ld, k,
	    "\"%s\" is neither a duration (24h, 7d) nor a UTC time "
	    "(2024-01-31T00:00:00Z)",
	    v);
	return -1;
}

static int
check_word(struct loader *ld, const struct key *k, const char *v)
{
	if (is_word(v))
		return 0;
	problem(ld, k, "\"%s\" must be printable ASCII without spaces", v);
	return -1;
}

/* Value setters, one per type.  They report and return -1 on a bad value. */

static void
free_list(char **list)
{
	char **p;

	if (list == NULL)
		return;
	for (p = list; *p != NULL; p++)
		free(*p);
	free(list);
}

static int
set_string(struct loader *ld, const struct key *k, const char *v)
{
	char **slot = field(ld->c, k);
	char *s;

	if (k->max > 0 && strlen(v) > (size_t)k->max) {
		problem(
		    ld, k, "longer than %lld characters", (long long)k->max);
		return -1;
	}
	if (k->check != NULL && k->check(ld, k, v) != 0)
		return -1;
	if ((s = sdup(ld, v)) == NULL)
		return -1;
	free(*slot);
	*slot = s;
	return 0;
}

static int
set_enum(struct loader *ld, const struct key *k, const char *v)
{
	const struct choice *ch;
	char names[256];

	for (ch = k->choices; ch->name != NULL; ch++) {
		if (strcasecmp(ch->name, v) == 0) {
			store_int(ld->c, k, ch->value);
			return 0;
		}
	}
	problem(ld, k, "\"%s\" is not one of %s", v,
	    join_choices(k->choices, names, sizeof(names)));
	return -1;
}

static int
set_level(struct loader *ld, const struct key *k, const char *v)
{
	enum log_level level;

	if (log_level_parse(v, &level) != 0) {
		problem(ld, k,
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
		problem(
		    ld, k, "\"%s\" is not a duration (use 30s, 5m, 2h, 7d)", v);
		return -1;
	}
	if (d < k->min) {
		fmt_duration(k->min, lim, sizeof(lim));
		problem(ld, k, "\"%s\" is too short (at least %s)", v, lim);
		return -1;
	}
	if (d > k->max) {
		fmt_duration(k->max, lim, sizeof(lim));
		problem(ld, k, "\"%s\" is too long (at most %s)", v, lim);
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
		problem(ld, k, "\"%s\" is not a size (use 512K, 64M, 1G)", v);
		return -1;
	}
	if (n < (uint64_t)k->min) {
		fmt_size((uint64_t)k->min, lim, sizeof(lim));
		problem(ld, k, "\"%s\" is too small (at least %s)", v, lim);
		return -1;
	}
	if (n > (uint64_t)k->max) {
		fmt_size((uint64_t)k->max, lim, sizeof(lim));
		problem(ld, k, "\"%s\" is too large (at most %s)", v, lim);
		return -1;
	}
	memcpy(field(ld->c, k), &n, sizeof(n));
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
		problem(ld, k, "\"%s\" is not a number from %lld to %lld", v,
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
	problem(ld, k, "\"%s\" is not yes or no", v);
	return -1;
}

/* One printable character, or its code as xHH / 0xHH (x09 is TAB). */
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
		if (n > 0x7e)
			return -1;
		ch = (int)n;
	}
	if (ch != '\t' && (ch <= ' ' || ch > '~' || ch == '=' || ch == '|'))
		return -1;
	*out = (char)ch;
	return 0;
}

static int
set_char(struct loader *ld, const struct key *k, const char *v)
{
	char ch;

	if (parse_delimiter(v, &ch) != 0) {
		problem(ld, k,
		    "\"%s\" is not one printable character or a hex code like "
		    "x09 (space, '=' and '|' cannot be used)",
		    v);
		return -1;
	}
	memcpy(field(ld->c, k), &ch, 1);
	return 0;
}

static int
set_list(struct loader *ld, const struct key *k, const char *v)
{
	char ***slot = field(ld->c, k);
	char **list;
	const char *p, *end;
	size_t n = 1, i = 0;

	for (p = v; *p != '\0'; p++)
		n += *p == ',';
	if ((list = calloc(n + 1, sizeof(*list))) == NULL) {
		report(ld, "%s: out of memory", ld->path);
		return -1;
	}
	for (p = v; i < n; p = end + 1) {
		end = p + strcspn(p, ",");
		while (p < end && isspace((unsigned char)*p))
			p++;
		while (end > p && isspace((unsigned char)end[-1]))
			end--;
		if (end == p) {
			problem(ld, k, "empty item in \"%s\"", v);
			goto fail;
		}
		if ((list[i++] = strndup(p, (size_t)(end - p))) == NULL) {
			report(ld, "%s: out of memory", ld->path);
			goto fail;
		}
		end += strcspn(end, ",");
	}
	free_list(*slot);
	*slot = list;
	return 0;
fail:
	free_list(list);
	return -1;
}

static int
set_value(struct loader *ld, const struct key *k, const char *v)
{
	if (*v == '\0') {
		problem(ld, k, "empty value");
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

static const struct key *
key_find(const char *section, const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		if (strcasecmp(keys[i].section, section) == 0 &&
		    strcasecmp(keys[i].name, name) == 0)
			return &keys[i];
	}
	return NULL;
}

static const char *
section_find(const char *section)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		if (strcasecmp(keys[i].section, section) == 0)
			return keys[i].section;
	}
	return NULL;
}

static void
unknown_key(struct loader *ld, const char *section, const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		if (strcasecmp(keys[i].name, name) == 0) {
			report(ld, "[%s] %s: unknown key (it belongs in [%s])",
			    section, name, keys[i].section);
			return;
		}
	}
	report(ld, "[%s] %s: unknown key", section, name);
}

static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct loader *ld = user;
	const struct key *k;
	size_t i;

	if (*section == '\0') {
		report(ld, "%s:%d: %s: comes before any [section]", ld->path,
		    ld->lineno, name);
		return 1;
	}
	if (section_find(section) == NULL) {
		if (strcmp(ld->unknown, section) != 0) {
			report(ld, "[%s]: unknown section", section);
			snprintf(
			    ld->unknown, sizeof(ld->unknown), "%s", section);
		}
		return 1;
	}
	if ((k = key_find(section, name)) == NULL) {
		unknown_key(ld, section, name);
		return 1;
	}
	i = (size_t)(k - keys);
	if (ld->given[i] != 0) {
		problem(ld, k, "given twice (lines %d and %d)", ld->given[i],
		    ld->lineno);
		return 1;
	}
	ld->given[i] = ld->lineno;
	if (set_value(ld, k, value) == 0)
		ld->ok[i] = 1;
	return 1;
}

static int
noop_handler(
    void *user, const char *section, const char *name, const char *value)
{
	(void)user;
	(void)section;
	(void)name;
	(void)value;
	return 1;
}

/*
 * Serve one physical line per call, so inih's line numbers are ours.
 * Leading blanks are dropped: inih would take an indented line for the
 * continuation of the previous value, which is never what was meant here.
 */
static char *
reader(char *str, int num, void *stream)
{
	struct loader *ld = stream;
	const struct line *l;

	if (ld->next >= ld->nlines || num < 2)
		return NULL;
	l = &ld->lines[ld->next++];
	ld->lineno = (int)ld->next;
	if (l->skip || l->len + 2 > (size_t)num) {
		memcpy(str, "\n", 2);
		return str;
	}
	memcpy(str, l->text, l->len);
	str[l->len] = '\n';
	str[l->len + 1] = '\0';
	return str;
}

static int
split_lines(struct loader *ld)
{
	char *p = ld->data, *end = ld->data + ld->size, *nl;
	struct line *l;
	size_t n = 0;

	for (nl = p; nl < end; nl++)
		n += *nl == '\n';
	if (ld->size > 0 && end[-1] != '\n')
		n++;
	if (n == 0)
		return 0;
	if ((ld->lines = calloc(n, sizeof(*ld->lines))) == NULL) {
		report(ld, "%s: out of memory", ld->path);
		return -1;
	}
	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		l = &ld->lines[ld->nlines++];
		if (ld->nlines == 1 && nl - p >= 3 &&
		    memcmp(p, "\xef\xbb\xbf", 3) == 0)
			p += 3;
		while (p < nl && (*p == ' ' || *p == '\t'))
			p++;
		l->text = p;
		l->len = (size_t)(nl - p);
		if (l->len > 0 && p[l->len - 1] == '\r')
			l->len--;
		if (l->len > LINE_MAX_LEN) {
			report(ld, "%s:%zu: line longer than %d bytes",
			    ld->path, ld->nlines, LINE_MAX_LEN);
			l->skip = 1;
		} else if (memchr(p, '\0', l->len) != NULL) {
			report(
			    ld, "%s:%zu: syntax error", ld->path, ld->nlines);
			l->skip = 1;
		}
	}
	return 0;
}

static int
read_config(struct loader *ld)
{
	struct stat st;
	ssize_t n;
	int fd, rc = -1;

	if ((fd = open(ld->path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1 ||
	    fstat(fd, &st) == -1) {
		report(ld, "%s: cannot read: %s", ld->path, strerror(errno));
		goto out;
	}
	ld->mode = st.st_mode;
	if ((ld->data = malloc(FILE_MAX + 1)) == NULL) {
		report(ld, "%s: out of memory", ld->path);
		goto out;
	}
	while (ld->size <= FILE_MAX) {
		n = read(fd, ld->data + ld->size, FILE_MAX + 1 - ld->size);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			report(ld, "%s: cannot read: %s", ld->path,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		ld->size += (size_t)n;
	}
	if (ld->size > FILE_MAX) {
		report(ld,
		    "%s: larger than %dK; is this the configuration file?",
		    ld->path, FILE_MAX / KIB);
		goto out;
	}
	rc = split_lines(ld);
out:
	if (fd != -1)
		close(fd);
	return rc;
}

/*
 * inih returns only the first bad line, so parse again with each bad line
 * blanked until none is left; each pass finds a new one.
 */
static void
find_syntax_errors(struct loader *ld)
{
	int rc, count;

	for (count = 0;; count++) {
		ld->next = 0;
		rc = ini_parse_stream(reader, ld, noop_handler, NULL);
		if (rc <= 0 || (size_t)rc > ld->nlines ||
		    ld->lines[rc - 1].skip)
			break;
		if (count == SYNTAX_MAX) {
			report(ld,
			    "%s: too many syntax errors; is this the "
			    "configuration file?",
			    ld->path);
			break;
		}
		ld->lines[rc - 1].skip = 1;
		report(ld, "%s:%d: syntax error", ld->path, rc);
	}
}

/* The second pass: defaults, combinations, files. */

static void
fill_defaults(struct loader *ld)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		if (!ld->ok[i] && keys[i].def != NULL)
			set_value(ld, &keys[i], keys[i].def);
	}
}

static void
strip_slashes(char *s)
{
	size_t n;

	if (s == NULL)
		return;
	n = strlen(s);
	while (n > 1 && s[n - 1] == '/')
		s[--n] = '\0';
}

static char *
join_path(struct loader *ld, const char *dir, size_t dirlen, const char *name)
{
	size_t len = dirlen + 1 + strlen(name) + 1;
	char *p;

	if ((p = malloc(len)) == NULL) {
		report(ld, "%s: out of memory", ld->path);
		return NULL;
	}
	snprintf(p, len, "%.*s/%s", (int)dirlen, dir, name);
	return p;
}

/* $CREDENTIALS_DIRECTORY without trailing slashes, or NULL. */
static const char *
creds_dir(size_t *len)
{
	const char *d = getenv("CREDENTIALS_DIRECTORY");
	size_t n;

	if (d == NULL || d[0] == '\0')
		return NULL;
	n = strlen(d);
	while (n > 1 && d[n - 1] == '/')
		n--;
	*len = n;
	return d;
}

/*
 * Where a file named in the configuration is: credential files relative
 * to $CREDENTIALS_DIRECTORY when it is set, other relative names relative
 * to the configuration file's directory.  *in_creds tells whether the
 * file is in $CREDENTIALS_DIRECTORY, whose modes systemd controls.
 */
static char *
resolve(struct loader *ld, const char *name, int cred, int *in_creds)
{
	const char *cd = NULL, *slash;
	size_t cdlen = 0;

	if (cred)
		cd = creds_dir(&cdlen);
	*in_creds = 0;
	if (name[0] == '/') {
		*in_creds = cd != NULL && strncmp(name, cd, cdlen) == 0 &&
		    (name[cdlen] == '/' || (cdlen == 1 && cd[0] == '/'));
		return sdup(ld, name);
	}
	if (cd != NULL) {
		*in_creds = 1;
		return join_path(ld, cd, cdlen, name);
	}
	if ((slash = strrchr(ld->path, '/')) == NULL)
		return sdup(ld, name);
	return join_path(ld, ld->path, (size_t)(slash - ld->path), name);
}

static void
mode_problem(
    struct loader *ld, const struct key *k, const char *path, mode_t mode)
{
	problem(ld, k,
	    "%s is readable by group or others (mode %04o); run: chmod 600 %s",
	    path, (unsigned)(mode & 07777), path);
}

/* Read up to cap bytes of fd into buf.  Returns 0, or -1 with errno. */
static int
read_capped(int fd, char *buf, size_t cap, size_t *len)
{
	ssize_t n;

	*len = 0;
	while (*len < cap) {
		n = read(fd, buf + *len, cap - *len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0)
			break;
		*len += (size_t)n;
	}
	return 0;
}

/* Read the client secret, trailing CR, LF and blanks dropped. */
static void
read_secret(struct loader *ld, const char *path, int in_creds)
{
	const struct key *k = KEY(client_secret_file);
	char buf[SECRET_MAX + 1];
	struct stat st;
	size_t len = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1 ||
	    fstat(fd, &st) == -1) {
		problem(ld, k, "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		problem(ld, k, "%s is not a regular file", path);
		goto out;
	}
	if (!in_creds && (st.st_mode & PRIVATE_BITS) != 0) {
		mode_problem(ld, k, path, st.st_mode);
		goto out;
	}
	if (read_capped(fd, buf, sizeof(buf), &len) != 0) {
		problem(ld, k, "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	if (len == sizeof(buf)) {
		problem(ld, k, "%s is larger than %d bytes", path, SECRET_MAX);
		goto out;
	}
	while (len > 0 && strchr("\r\n \t", buf[len - 1]) != NULL)
		len--;
	buf[len] = '\0';
	if (len == 0)
		problem(ld, k, "%s is empty", path);
	else if (strlen(buf) != len || strpbrk(buf, "\r\n") != NULL)
		problem(ld, k, "%s must hold the secret on one line", path);
	else
		ld->c->client_secret = sdup(ld, buf);
out:
	explicit_bzero(buf, sizeof(buf));
	if (fd != -1)
		close(fd);
}

static void
load_secret_file(struct loader *ld)
{
	const char *name = ld->c->client_secret_file;
	struct stat st;
	char *path;
	int in_creds;

	/* Two credentials were reported already: do not read either. */
	if (name == NULL || ld->c->client_secret != NULL)
		return;
	if ((path = resolve(ld, name, 1, &in_creds)) == NULL)
		return;
	if (!ld->check_only)
		read_secret(ld, path, in_creds);
	else if (!in_creds && stat(path, &st) == 0 &&
	    (st.st_mode & PRIVATE_BITS) != 0)
		mode_problem(ld, KEY(client_secret_file), path, st.st_mode);
	free(path);
}

static void
check_credentials(struct loader *ld)
{
	const struct key *kinds[3];
	size_t n = 0, i;

	if (GIVEN(ld, client_secret))
		kinds[n++] = KEY(client_secret);
	if (GIVEN(ld, client_secret_file))
		kinds[n++] = KEY(client_secret_file);
	if (GIVEN(ld, certificate_file))
		kinds[n++] = KEY(certificate_file);
	else if (GIVEN(ld, private_key_file))
		kinds[n++] = KEY(private_key_file);
	if (n == 0)
		problem(ld, KEY(client_secret),
		    "required (or client_secret_file, or certificate_file and "
		    "private_key_file)");
	for (i = 1; i < n; i++)
		problem(ld, kinds[i],
		    "cannot be used together with %s; keep one credential",
		    kinds[0]->name);
	if (GIVEN(ld, certificate_file) && !GIVEN(ld, private_key_file))
		problem(ld, KEY(private_key_file),
		    "required with certificate_file");
	if (GIVEN(ld, private_key_file) && !GIVEN(ld, certificate_file))
		problem(ld, KEY(certificate_file),
		    "required with private_key_file");
	if (GIVEN(ld, assertion_alg) && !GIVEN(ld, certificate_file))
		problem(ld, KEY(assertion_alg), "only with certificate_file");
}

static void
finish_azure(struct loader *ld)
{
	static const char *const login[] = {
	    [CLOUD_GLOBAL] = "https://login.microsoftonline.com",
	    [CLOUD_GCC] = "https://login.microsoftonline.com",
	    [CLOUD_GCC_HIGH] = "https://login.microsoftonline.us",
	    [CLOUD_DOD] = "https://login.microsoftonline.us",
	};
	struct config *c = ld->c;

	if (!GIVEN(ld, tenant_id))
		problem(ld, KEY(tenant_id), "required");
	if (!GIVEN(ld, client_id))
		problem(ld, KEY(client_id), "required");
	check_credentials(ld);
	if (GIVEN(ld, client_secret) && (ld->mode & PRIVATE_BITS) != 0)
		problem(ld, KEY(client_secret),
		    "%s holds a secret but is readable by group or others "
		    "(mode %04o); run: chmod 600 %s, or move the secret to "
		    "client_secret_file",
		    ld->path, (unsigned)(ld->mode & 07777), ld->path);
	load_secret_file(ld);
	if (c->login_url == NULL && !GIVEN(ld, login_url))
		c->login_url = sdup(ld, login[c->cloud]);
	strip_slashes(c->login_url);
}

/* Per cloud: Graph hosts (also its audiences), Alert API audiences. */
static const char *const graph_hosts[] = {
    [CLOUD_GLOBAL] = "https://graph.microsoft.com",
    [CLOUD_GCC] = "https://graph.microsoft.com",
    [CLOUD_GCC_HIGH] = "https://graph.microsoft.us",
    [CLOUD_DOD] = "https://dod-graph.microsoft.us",
};

static const char *const alerts_audiences[] = {
    [CLOUD_GLOBAL] = "https://api.securitycenter.microsoft.com",
    [CLOUD_GCC] = "https://api-gcc.securitycenter.microsoft.us",
    [CLOUD_GCC_HIGH] = "https://api-gov.securitycenter.microsoft.us",
    [CLOUD_DOD] = "https://api-gov.securitycenter.microsoft.us",
};

static char *
default_url(struct loader *ld)
{
	const struct config *c = ld->c;
	const char *region = c->region != NULL ? c->region : "us";
	const char *gov = c->cloud == CLOUD_GCC ? ".gcc" : "";
	char url[160];

	if (c->api == API_GRAPH)
		snprintf(url, sizeof(url), "%s/v1.0/security/alerts_v2",
		    graph_hosts[c->cloud]);
	else if (c->api == API_SIEM && c->cloud == CLOUD_GLOBAL)
		snprintf(url, sizeof(url),
		    "https://wdatp-alertexporter-%s.windows.com/api/alerts",
		    region);
	else if (c->api == API_SIEM)
		snprintf(url, sizeof(url),
		    "https://wdatp-alertexporter-us%s"
		    ".securitycenter.windows.us/api/alerts",
		    gov);
	else if (c->cloud != CLOUD_GLOBAL)
		/* The government Alert API hosts are their audiences. */
		snprintf(url, sizeof(url), "%s/api/alerts",
		    alerts_audiences[c->cloud]);
	else if (c->region != NULL)
		snprintf(url, sizeof(url),
		    "https://%s.api.security.microsoft.com/api/alerts", region);
	else
		snprintf(url, sizeof(url),
		    "https://api.security.microsoft.com/api/alerts");
	return sdup(ld, url);
}

static const char *
default_audience(const struct config *c)
{
	if (c->api == API_SIEM)
		return "https://graph.windows.net";
	if (c->api == API_ALERTS)
		return alerts_audiences[c->cloud];
	return graph_hosts[c->cloud];
}

/* Returns 0 when the region is usable for building the default URL. */
static int
check_region(struct loader *ld)
{
	static const char *const siem[] = {"us", "eu", "uk", NULL};
	static const char *const alerts[] = {
	    "us", "eu", "uk", "au", "swa", NULL};
	struct config *c = ld->c;
	const struct key *k = KEY(region);
	const char *const *list = c->api == API_SIEM ? siem : alerts;
	char names[64];
	size_t i;

	if (c->region == NULL)
		return 0;
	if (c->api == API_GRAPH) {
		problem(ld, k,
		    "not used with api = graph (only siem and alerts have "
		    "regions)");
		return -1;
	}
	for (i = 0; c->region[i] != '\0'; i++)
		c->region[i] = (char)tolower((unsigned char)c->region[i]);
	for (i = 0; list[i] != NULL && strcmp(list[i], c->region) != 0; i++)
		continue;
	if (list[i] == NULL) {
		problem(ld, k, "\"%s\" is not one of %s (api = %s)", c->region,
		    join_names(list, names, sizeof(names)),
		    config_api_name(c->api));
		return -1;
	}
	if (c->cloud != CLOUD_GLOBAL &&
	    (c->api != API_SIEM || strcmp(c->region, "us") != 0)) {
		problem(ld, k, "\"%s\" is not available with cloud = %s",
		    c->region, choice_name(cloud_choices, c->cloud));
		return -1;
	}
	return 0;
}

static void
finish_source(struct loader *ld)
{
	struct config *c = ld->c;
	int region_ok;

	if (BAD(ld, api) || BAD(ld, cloud))
		return;
	region_ok = check_region(ld) == 0;
	if (c->api == API_SIEM && c->region == NULL && region_ok)
		c->region = sdup(ld, "us");
	if (c->url == NULL && !GIVEN(ld, url) && region_ok)
		c->url = default_url(ld);
	if (c->audience == NULL && !GIVEN(ld, audience))
		c->audience = sdup(ld, default_audience(c));
	strip_slashes(c->audience);
	if (!OK(ld, page_size))
		c->page_size = c->api == API_GRAPH ? 500 : 1000;
	if (c->filter != NULL && c->api == API_SIEM)
		problem(ld, KEY(filter), "only with api = graph or alerts");
	if (c->machine_groups != NULL && c->api != API_SIEM)
		problem(ld, KEY(machine_groups), "only with api = siem");
}

static void
default_hostname(struct loader *ld)
{
	char name[HOST_NAME_MAX + 1];

	if (gethostname(name, sizeof(name)) != 0) {
		problem(ld, KEY(hostname),
		    "cannot get the host name (%s); set hostname",
		    strerror(errno));
		return;
	}
	name[sizeof(name) - 1] = '\0';
	if (!is_word(name)) {
		problem(ld, KEY(hostname),
		    "the host name \"%s\" is not printable ASCII without "
		    "spaces; set hostname",
		    name);
		return;
	}
	ld->c->hostname = sdup(ld, name);
}

static void
finish_output(struct loader *ld)
{
	struct config *c = ld->c;
	int tls = c->transport == TRANSPORT_TLS;
	int net = tls || c->transport == TRANSPORT_TCP ||
	    c->transport == TRANSPORT_UDP;

	if (net && !GIVEN(ld, host) && !BAD(ld, transport))
		problem(ld, KEY(host), "required with transport = %s",
		    config_transport_name(c->transport));
	if (!OK(ld, port))
		c->port = tls ? 6514 : 514;
	if (!OK(ld, framing))
		c->framing = tls ? FRAMING_OCTET : FRAMING_LF;
	if (c->hostname == NULL && !GIVEN(ld, hostname))
		default_hostname(ld);
	if (!OK(ld, max_message_size))
		c->max_message_size =
		    c->transport == TRANSPORT_UDP ? 2048 : 8192;
	else if (c->transport == TRANSPORT_UDP && c->max_message_size > 65535)
		problem(ld, KEY(max_message_size),
		    "%lld is too large for transport = udp (at most 65535)",
		    (long long)c->max_message_size);
	if (tls && GIVEN(ld, tls_cert_file) && !GIVEN(ld, tls_key_file))
		problem(ld, KEY(tls_key_file), "required with tls_cert_file");
	if (tls && GIVEN(ld, tls_key_file) && !GIVEN(ld, tls_cert_file))
		problem(ld, KEY(tls_cert_file), "required with tls_key_file");
	if (c->tls_server_name == NULL && !GIVEN(ld, tls_server_name) &&
	    c->host != NULL)
		c->tls_server_name = sdup(ld, c->host);
}

static void
check_file(struct loader *ld, const struct key *k, const char *path,
    int private, int in_creds)
{
	struct stat st;
	int fd;

	if (ld->check_only) {
		if (private && !in_creds && stat(path, &st) == 0 &&
		    (st.st_mode & PRIVATE_BITS) != 0)
			mode_problem(ld, k, path, st.st_mode);
		return;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1 ||
	    fstat(fd, &st) == -1)
		problem(ld, k, "cannot read %s: %s", path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		problem(ld, k, "%s is not a regular file", path);
	else if (private && !in_creds && (st.st_mode & PRIVATE_BITS) != 0)
		mode_problem(ld, k, path, st.st_mode);
	if (fd != -1)
		close(fd);
}

static void
finish_files(struct loader *ld)
{
	const struct key *k;
	char **slot, *path;
	size_t i;
	int in_creds;

	for (i = 0; i < sizeof(file_keys) / sizeof(file_keys[0]); i++) {
		k = &keys[key_index(file_keys[i].off)];
		slot = field(ld->c, k);
		if (*slot == NULL)
			continue;
		path = resolve(ld, *slot, file_keys[i].cred, &in_creds);
		if (path == NULL)
			continue;
		free(*slot);
		*slot = path;
		if (!file_keys[i].tls || ld->c->transport == TRANSPORT_TLS)
			check_file(ld, k, path, file_keys[i].private, in_creds);
	}
}

static void
check_dir(
    struct loader *ld, const struct key *k, const char *dir, int parent_will_do)
{
	struct stat st;
	const char *slash;
	char *parent;

	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			problem(ld, k, "%s is not a directory", dir);
		return;
	}
	if (errno != ENOENT || !parent_will_do) {
		problem(ld, k, "cannot use %s: %s", dir, strerror(errno));
		return;
	}
	/* The daemon creates the directory itself; it needs the parent. */
	slash = strrchr(dir, '/');
	if (slash == NULL)
		return;
	if (slash == dir)
		return;
	if ((parent = strndup(dir, (size_t)(slash - dir))) == NULL) {
		report(ld, "%s: out of memory", ld->path);
		return;
	}
	if (stat(parent, &st) != 0 || !S_ISDIR(st.st_mode))
		problem(ld, k,
		    "cannot use %s: its parent directory %s does not exist",
		    dir, parent);
	free(parent);
}

static void
finish(struct loader *ld)
{
	fill_defaults(ld);
	finish_azure(ld);
	finish_source(ld);
	finish_output(ld);
	finish_files(ld);
	strip_slashes(ld->c->state_dir);
	if (!ld->check_only && ld->c->state_dir != NULL)
		check_dir(ld, KEY(state_dir), ld->c->state_dir, 1);
	if (!ld->check_only && ld->c->textfile_dir != NULL)
		check_dir(ld, KEY(textfile_dir), ld->c->textfile_dir, 0);
}

struct config *
config_load_opts(const char *path, FILE *err, int check_only)
{
	struct loader *ld;
	struct config *c = NULL;

	if ((ld = calloc(1, sizeof(*ld))) == NULL) {
		fprintf(err, "%s: out of memory\n", path);
		return NULL;
	}
	ld->path = path;
	ld->err = err;
	ld->check_only = check_only;
	if ((ld->c = calloc(1, sizeof(*ld->c))) == NULL) {
		report(ld, "%s: out of memory", path);
		goto out;
	}
	if (read_config(ld) != 0)
		goto out;
	find_syntax_errors(ld);
	ld->next = 0;
	ini_parse_stream(reader, ld, handler, ld);
	finish(ld);
	if (ld->nerr == 0) {
		c = ld->c;
		ld->c = NULL;
	}
out:
	config_free(ld->c);
	if (ld->data != NULL)
		explicit_bzero(ld->data, ld->size);
	free(ld->data);
	free(ld->lines);
	free(ld);
	return c;
}

struct config *
config_load(const char *path, FILE *err)
{
	return config_load_opts(path, err, 0);
}

void
config_free(struct config *c)
{
	const struct key *k;
	char **slot;
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < NKEYS; i++) {
		k = &keys[i];
		if (k->type == K_LIST) {
			free_list(*(char ***)field(c, k));
			continue;
		}
		if (k->type != K_STR && k->type != K_SECRET)
			continue;
		slot = field(c, k);
		if (*slot != NULL && k->type == K_SECRET)
			explicit_bzero(*slot, strlen(*slot));
		free(*slot);
	}
	free(c);
}

/* A proxy URL may carry a password: print user info as (redacted). */
static void
dump_proxy(const char *v, FILE *out)
{
	const char *host = strstr(v, "://"), *at, *end;

	if (host == NULL) {
		fprintf(out, "proxy = %s\n", v);
		return;
	}
	host += 3;
	end = host + strcspn(host, "/?#");
	for (at = end; at > host && at[-1] != '@'; at--)
		continue;
	if (at == host)
		fprintf(out, "proxy = %s\n", v);
	else
		fprintf(
		    out, "proxy = %.*s(redacted)@%s\n", (int)(host - v), v, at);
}

static void
dump_list(char *const *list, const char *name, FILE *out)
{
	fprintf(out, "%s = ", name);
	for (; *list != NULL; list++)
		fprintf(out, "%s%s", *list, list[1] != NULL ? ", " : "\n");
}

static void
dump_key(const struct config *c, const struct key *k, FILE *out)
{
	const char *v = NULL;
	char buf[32];
	uint64_t u;

	switch (k->type) {
	case K_STR:
		v = *(char *const *)cfield(c, k);
		if (v != NULL && k->off == OFF(proxy)) {
			dump_proxy(v, out);
			return;
		}
		break;
	case K_SECRET:
		if (*(char *const *)cfield(c, k) == NULL)
			break;
		if (c->client_secret_file != NULL) {
			fprintf(
			    out, "; %s = (from client_secret_file)\n", k->name);
			return;
		}
		v = "(redacted)";
		break;
	case K_ENUM:
		v = choice_name(k->choices, load_int(c, k));
		break;
	case K_LEVEL:
		v = choice_name(level_choices, load_int(c, k));
		break;
	case K_DURATION:
		fmt_duration(load_int(c, k), buf, sizeof(buf));
		v = buf;
		break;
	case K_SIZE:
		memcpy(&u, cfield(c, k), sizeof(u));
		fmt_size(u, buf, sizeof(buf));
		v = buf;
		break;
	case K_INT:
		snprintf(buf, sizeof(buf), "%lld", (long long)load_int(c, k));
		v = buf;
		break;
	case K_BOOL:
		v = load_int(c, k) ? "yes" : "no";
		break;
	case K_CHAR:
		memcpy(buf, cfield(c, k), 1);
		if (buf[0] > ' ' && buf[0] <= '~')
			buf[1] = '\0';
		else
			snprintf(buf, sizeof(buf), "x%02X",
			    (unsigned)(unsigned char)buf[0]);
		v = buf;
		break;
	case K_LIST:
		if (*(char **const *)cfield(c, k) != NULL) {
			dump_list(*(char **const *)cfield(c, k), k->name, out);
			return;
		}
		break;
	}
	if (v == NULL)
		fprintf(out, "; %s = (not set)\n", k->name);
	else
		fprintf(out, "%s = %s\n", k->name, v);
}

void
config_dump(const struct config *c, FILE *out)
{
	const char *section = NULL;
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		if (section == NULL || strcmp(section, keys[i].section) != 0) {
			fprintf(out, "%s[%s]\n", section != NULL ? "\n" : "",
			    keys[i].section);
			section = keys[i].section;
		}
		dump_key(c, &keys[i], out);
	}
}
