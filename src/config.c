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
#include "errcode.h"
#include "kafka_conf.h"
#include "leef.h"
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
/* Whoever can change these files can send the secret elsewhere. */
#define WRITE_BITS (S_IWGRP | S_IWOTH)

struct loader;

enum ktype {
	K_STR, /* text */
	K_SECRET, /* text that is never echoed */
	K_ENUM, /* one of choices[], stored as int */
	K_DURATION, /* seconds, int64_t */
	K_SIZE, /* bytes, 64 bits */
	K_INT, /* int or int64_t, by field size */
	K_BOOL, /* yes/no, stored as int */
	K_CHAR, /* a LEEF delimiter: one character or xHH */
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
static int check_brokers(struct loader *, const struct key *, const char *);
static int check_topic(struct loader *, const struct key *, const char *);

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
    {"source", "clock_tolerance", K_DURATION, FIELD(clock_tolerance), "2m", 10,
        DAY_S, NULL, NULL},
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

/* One file read: the configuration, or one of [daemon] tenants_dir's. */
struct cfile {
	char *path;
	mode_t mode;
	char *data; /* its contents, wiped on the way out */
	size_t size;
	struct line *lines;
	size_t nlines;
	int in_dir; /* one of tenants_dir's: [tenant NAME] sections only */
};

/* A [tenant NAME] section found by discover(). */
struct tdef {
	char *name;
	struct cfile *file;
	int line; /* of its [tenant NAME] line */
	int end; /* of the next section's line, 0: the end of the file */
	char *tenant_id; /* its tenant_id, or NULL */
	int id_line;
};

/* Problems written so far, shared by the passes of every tenant. */
struct emitted {
	char **line; /* whole lines written */
	size_t nline, capline;
	struct same *same; /* "key: why" of tenants' problems */
	size_t nsame, capsame;
};

/* A problem several tenants have: written for SAME_MAX, then counted. */
#define SAME_MAX 5
struct same {
	char *what;
	unsigned long count;
};

/* Loading state: the file, the reader's position, what was set where. */
struct loader {
	const char *path; /* of the file being read */
	FILE *err;
	int check_only;
	int nerr;
	struct config *c;
	struct cfile *file; /* being read */
	size_t next; /* next line the reader serves */
	int lineno; /* line the handler is looking at */
	int given[NKEYS]; /* line a key was set on, 0: not given */
	const struct cfile *given_in[NKEYS]; /* ... in this file */
	unsigned char ok[NKEYS]; /* the value was accepted */
	unsigned char tgiven[NKEYS]; /* given in the tenant's own section */
	char unknown[64]; /* last unknown section reported */
	const char *tenant; /* the [tenant NAME] this pass reads, or NULL */
	int in_tenant; /* handling a key of that section */
	int finishing; /* checking combinations */
	struct emitted *emitted; /* or NULL: write every problem */
	const struct cfile *main; /* the configuration file */
	const char *base_path; /* relative names resolve beside it */
	struct setload *sl; /* discover(): what it found so far */
	const struct tdef *tdef; /* the section of ld->tenant */
};

static void report(struct loader *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
static void problem(struct loader *, const struct key *, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static void problem_at(struct loader *, const char *, const char *,
    const char *, ...) __attribute__((format(printf, 4, 5)));

static int
remember(char ***v, size_t *n, size_t *cap, const char *s)
{
	char **nv, *d;

	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;

		if ((nv = reallocarray(*v, c, sizeof(*nv))) == NULL)
			return -1;
		*v = nv;
		*cap = c;
	}
	if ((d = strdup(s)) == NULL)
		return -1;
	(*v)[(*n)++] = d;
	return 0;
}

/*
 * Is a tenant's problem "what" (without its "[tenant NAME] " prefix) one
 * that SAME_MAX tenants had already?  Counts it.
 */
static int
same_again(struct emitted *em, const char *what)
{
	struct same *ns;
	size_t i;

	for (i = 0; i < em->nsame; i++) {
		if (strcmp(em->same[i].what, what) == 0)
			return ++em->same[i].count > SAME_MAX;
	}
	if (em->nsame == em->capsame) {
		size_t c = em->capsame ? em->capsame * 2 : 16;

		if ((ns = reallocarray(em->same, c, sizeof(*ns))) == NULL)
			return 0;
		em->same = ns;
		em->capsame = c;
	}
	if ((em->same[em->nsame].what = strdup(what)) == NULL)
		return 0;
	em->same[em->nsame++].count = 1;
	return 0;
}

/*
 * Write one problem line.  With many tenants, a line written already
 * (a shared key's problem, met again in the next tenant's pass) is not
 * written again, and a problem of more than SAME_MAX tenants is counted.
 */
static void
emit(struct loader *ld, const char *prefix, const char *text)
{
	struct emitted *em = ld->emitted;
	char line[2048];
	size_t i;

	ld->nerr++;
	snprintf(line, sizeof(line), "%s%s", prefix, text);
	if (em != NULL) {
		for (i = 0; i < em->nline; i++) {
			if (strcmp(em->line[i], line) == 0)
				return;
		}
		if (ld->tenant != NULL && strncmp(prefix, "[tenant ", 8) == 0) {
			char what[2048];

			snprintf(what, sizeof(what), "%s%s",
			    strstr(prefix, "] ") + 2, text);
			if (same_again(em, what))
				return;
		}
		remember(&em->line, &em->nline, &em->capline, line);
	}
	fprintf(ld->err, "%s\n", line);
}

static void
report(struct loader *ld, const char *fmt, ...)
{
	char text[1536];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	emit(ld, "", text);
}

static void
problem(struct loader *ld, const struct key *k, const char *fmt, ...)
{
	char prefix[CONFIG_TENANT_NAME_MAX + 64], text[1536];
	size_t i = (size_t)(k - keys);
	va_list ap;

	if (ld->tenant != NULL &&
	    (ld->finishing || ld->in_tenant || ld->tgiven[i]))
		snprintf(prefix, sizeof(prefix), "[tenant %s] %s: ", ld->tenant,
		    k->name);
	else
		snprintf(
		    prefix, sizeof(prefix), "[%s] %s: ", k->section, k->name);
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	emit(ld, prefix, text);
}

/* A problem with a key outside the table ([kafka] NAME_file). */
static void
problem_at(struct loader *ld, const char *section, const char *name,
    const char *fmt, ...)
{
	char prefix[600], text[1536];
	va_list ap;

	snprintf(prefix, sizeof(prefix), "[%s] %s: ", section, name);
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	emit(ld, prefix, text);
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
	problem(ld, k,
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
	problem(ld, k,
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

static int
check_brokers(struct loader *ld, const struct key *k, const char *v)
{
	char why[512];

	if (kafka_brokers_check(v, why, sizeof(why)) == 0)
		return 0;
	problem(ld, k, "%s", why);
	return -1;
}

static int
check_topic(struct loader *ld, const struct key *k, const char *v)
{
	char why[512];

	if (kafka_topic_check(v, why, sizeof(why)) == 0)
		return 0;
	problem(ld, k, "%s", why);
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

/*
 * Free a text value; a secret, or a proxy URL (it may carry a password),
 * is wiped first.
 */
static void
wipe_free(char *v, const struct key *k)
{
	if (v != NULL && (k->type == K_SECRET || k->off == OFF(proxy)))
		explicit_bzero(v, strlen(v));
	free(v);
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
	wipe_free(*slot, k);
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
		problem(ld, k,
		    "\"%s\" is not one character or an ASCII code like x09", v);
		return -1;
	}
	/* The formatter's own rule, so that -n refuses what a start would. */
	if (!leef_delimiter_ok(ch)) {
		problem(ld, k,
		    "\"%s\" cannot delimit LEEF attributes: use TAB (x09) or "
		    "an ASCII punctuation character other than '=' and '|'",
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

/* "tenant NAME" -> "NAME", or NULL for other sections. */
static const char *
tenant_section(const char *section)
{
	if (strncasecmp(section, "tenant", 6) != 0 ||
	    (section[6] != ' ' && section[6] != '\t'))
		return NULL;
	section += 6;
	while (*section == ' ' || *section == '\t')
		section++;
	return section;
}

static int
valid_tenant_name(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > CONFIG_TENANT_NAME_MAX)
		return 0;
	return strspn(name,
	           "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	           "0123456789._-") == n;
}

/* The output keys a tenant may set for itself (issue contract). */
static int
tenant_output_key(const char *name)
{
	static const char *const allowed[] = {"host", "port", "transport",
	    "format", "framing", "header", "hostname", "app_name", NULL};
	size_t i;

	if (strncasecmp(name, "tls_", 4) == 0)
		return 1;
	for (i = 0; allowed[i] != NULL; i++) {
		if (strcasecmp(allowed[i], name) == 0)
			return 1;
	}
	return 0;
}

/* The key a [tenant NAME] section may hold under that name, or NULL. */
static const struct key *
tenant_key_find(const char *name)
{
	const struct key *k;

	if ((k = key_find("azure", name)) != NULL ||
	    (k = key_find("source", name)) != NULL)
		return k;
	if ((k = key_find("output", name)) != NULL && tenant_output_key(name))
		return k;
	return NULL;
}

/*
 * A tenant that gives its own credential replaces the shared one: the
 * shared credential keys are forgotten.
 */
static void
drop_shared_credential(struct loader *ld, const struct key *k)
{
	static const size_t creds[] = {OFF(client_secret),
	    OFF(client_secret_file), OFF(certificate_file),
	    OFF(private_key_file), OFF(assertion_alg)};
	size_t i, j;
	int is_cred = 0;

	for (i = 0; i < sizeof(creds) / sizeof(creds[0]); i++)
		is_cred |= k->off == creds[i];
	if (!is_cred)
		return;
	for (i = 0; i < sizeof(creds) / sizeof(creds[0]); i++) {
		j = key_index(creds[i]);
		if (ld->tgiven[j] || !ld->given[j])
			continue;
		if (keys[j].type == K_STR || keys[j].type == K_SECRET) {
			char **slot = field(ld->c, &keys[j]);

			wipe_free(*slot, &keys[j]);
			*slot = NULL;
		}
		ld->given[j] = 0;
		ld->ok[j] = 0;
		ld->given_in[j] = NULL;
	}
}

/* A key of the tenant's own section: it overrides the shared one. */
static int
tenant_key(struct loader *ld, const char *name, const char *value)
{
	const struct key *k = tenant_key_find(name);
	size_t i;

	if (k == NULL) {
		k = NULL;
		for (i = 0; i < NKEYS && k == NULL; i++) {
			if (strcasecmp(keys[i].name, name) == 0)
				k = &keys[i];
		}
		if (k != NULL)
			report(ld,
			    "[tenant %s] %s: not a key a tenant can set; it "
			    "belongs in [%s], shared by every tenant",
			    ld->tenant, name, k->section);
		else
			report(ld, "[tenant %s] %s: unknown key", ld->tenant,
			    name);
		return 1;
	}
	i = (size_t)(k - keys);
	ld->in_tenant = 1;
	if (ld->tgiven[i]) {
		problem(ld, k, "given twice (lines %d and %d)", ld->given[i],
		    ld->lineno);
		ld->in_tenant = 0;
		return 1;
	}
	drop_shared_credential(ld, k);
	ld->tgiven[i] = 1;
	ld->given[i] = ld->lineno;
	ld->given_in[i] = ld->file;
	ld->ok[i] = set_value(ld, k, value) == 0;
	ld->in_tenant = 0;
	return 1;
}

/* A [kafka] key: a librdkafka property, kept by kafka_conf. */
static void
kafka_key(struct loader *ld, const char *name, const char *value)
{
	struct config *c = ld->c;
	char why[512];
	int rc;

	if (*value == '\0') {
		problem_at(ld, "kafka", name, "empty value");
		return;
	}
	if (c->kafka == NULL) {
		if ((c->kafka = malloc(sizeof(*c->kafka))) == NULL) {
			report(ld, "%s: out of memory", ld->path);
			return;
		}
		kafka_conf_init(c->kafka);
	}
	rc =
	    kafka_conf_add(c->kafka, name, value, ld->lineno, why, sizeof(why));
	if (rc == ERR_CONFIG)
		problem_at(ld, "kafka", name, "%s", why);
	else if (rc != 0)
		report(ld, "%s: out of memory", ld->path);
}

static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct loader *ld = user;
	const struct key *k;
	const char *tn;
	size_t i;

	if ((tn = tenant_section(section)) != NULL) {
		/* Each tenant's pass reads its own section (discover()). */
		if (ld->tenant != NULL && strcmp(tn, ld->tenant) == 0 &&
		    ld->file == ld->tdef->file && ld->lineno > ld->tdef->line &&
		    (ld->tdef->end == 0 || ld->lineno < ld->tdef->end))
			return tenant_key(ld, name, value);
		return 1;
	}
	if (ld->file != NULL && ld->file->in_dir)
		return 1; /* reported by discover() */
	if (*section == '\0') {
		report(ld, "%s:%d: %s: comes before any [section]", ld->path,
		    ld->lineno, name);
		return 1;
	}
	if (strcasecmp(section, "kafka") == 0) {
		kafka_key(ld, name, value);
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
	ld->given_in[i] = ld->file;
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

	if (ld->next >= ld->file->nlines || num < 2)
		return NULL;
	l = &ld->file->lines[ld->next++];
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
split_lines(struct loader *ld, struct cfile *f)
{
	char *p = f->data, *end = f->data + f->size, *nl;
	struct line *l;
	size_t n = 0;

	for (nl = p; nl < end; nl++)
		n += *nl == '\n';
	if (f->size > 0 && end[-1] != '\n')
		n++;
	if (n == 0)
		return 0;
	if ((f->lines = calloc(n, sizeof(*f->lines))) == NULL) {
		report(ld, "%s: out of memory", f->path);
		return -1;
	}
	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		l = &f->lines[f->nlines++];
		if (f->nlines == 1 && nl - p >= 3 &&
		    memcmp(p, "\xef\xbb\xbf", 3) == 0)
			p += 3;
		while (p < nl && (*p == ' ' || *p == '\t'))
			p++;
		l->text = p;
		l->len = (size_t)(nl - p);
		if (l->len > 0 && p[l->len - 1] == '\r')
			l->len--;
		if (l->len > LINE_MAX_LEN) {
			report(ld, "%s:%zu: line longer than %d bytes", f->path,
			    f->nlines, LINE_MAX_LEN);
			l->skip = 1;
		} else if (memchr(p, '\0', l->len) != NULL) {
			report(ld, "%s:%zu: syntax error", f->path, f->nlines);
			l->skip = 1;
		}
	}
	return 0;
}

static int
read_config(struct loader *ld, struct cfile *f)
{
	struct stat st;
	ssize_t n;
	int fd, rc = -1;

	if ((fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1 ||
	    fstat(fd, &st) == -1) {
		report(ld, "%s: cannot read: %s", f->path, strerror(errno));
		goto out;
	}
	f->mode = st.st_mode;
	if ((st.st_mode & WRITE_BITS) != 0) {
		report(ld,
		    "%s: writable by group or others (mode %04o), who could "
		    "point the sign-in elsewhere and receive the secret; run: "
		    "chmod go-w %s",
		    f->path, (unsigned)(st.st_mode & 07777), f->path);
		goto out;
	}
	if ((f->data = malloc(FILE_MAX + 1)) == NULL) {
		report(ld, "%s: out of memory", f->path);
		goto out;
	}
	while (f->size <= FILE_MAX) {
		n = read(fd, f->data + f->size, FILE_MAX + 1 - f->size);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			report(ld, "%s: cannot read: %s", f->path,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		f->size += (size_t)n;
	}
	if (f->size > FILE_MAX) {
		report(ld,
		    "%s: larger than %dK; is this the configuration file?",
		    f->path, FILE_MAX / KIB);
		goto out;
	}
	rc = split_lines(ld, f);
out:
	if (fd != -1)
		close(fd);
	return rc;
}

/* Read f for ld: its lines, and the syntax errors of each line once. */
static void find_syntax_errors(struct loader *ld);

static void
use_file(struct loader *ld, struct cfile *f)
{
	ld->file = f;
	ld->path = f->path;
	ld->next = 0;
	ld->lineno = 0;
}

static void
cfile_reset(struct cfile *f)
{
	if (f->data != NULL)
		explicit_bzero(f->data, f->size);
	free(f->data);
	free(f->lines);
	free(f->path);
	memset(f, 0, sizeof(*f));
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
		if (rc <= 0 || (size_t)rc > ld->file->nlines ||
		    ld->file->lines[rc - 1].skip)
			break;
		if (count == SYNTAX_MAX) {
			report(ld,
			    "%s: too many syntax errors; is this the "
			    "configuration file?",
			    ld->path);
			break;
		}
		ld->file->lines[rc - 1].skip = 1;
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

/* The file that gave key k (the configuration file when none did). */
static const struct cfile *
given_file(const struct loader *ld, const struct key *k)
{
	const struct cfile *f = ld->given_in[k - keys];

	return f != NULL ? f : ld->main;
}

/*
 * Is path inside dir, once both are resolved?  A string prefix is not
 * enough: "$CREDENTIALS_DIRECTORY/../x" or a symbolic link leads out.
 */
static int
path_within(const char *path, const char *dir)
{
	char rp[PATH_MAX], rd[PATH_MAX];
	size_t n;

	if (realpath(path, rp) == NULL || realpath(dir, rd) == NULL)
		return 0;
	n = strlen(rd);
	if (n == 1)
		return 1;
	return strncmp(rp, rd, n) == 0 && rp[n] == '/';
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
	char *path;

	if (cred)
		cd = creds_dir(&cdlen);
	*in_creds = 0;
	if (name[0] == '/')
		path = sdup(ld, name);
	else if (cd != NULL)
		path = join_path(ld, cd, cdlen, name);
	else if ((slash = strrchr(ld->base_path, '/')) == NULL)
		path = sdup(ld, name);
	else
		path = join_path(
		    ld, ld->base_path, (size_t)(slash - ld->base_path), name);
	if (path != NULL && cd != NULL)
		*in_creds = path_within(path, cd);
	return path;
}

/* A secret file's problem: as k when k is not NULL, else [section] name. */
static void
file_problem(struct loader *ld, const struct key *k, const char *section,
    const char *name, const char *text)
{
	if (k != NULL)
		problem(ld, k, "%s", text);
	else
		problem_at(ld, section, name, "%s", text);
}

static void
mode_problem(struct loader *ld, const struct key *k, const char *section,
    const char *name, const char *path, mode_t mode, int private)
{
	char text[PATH_MAX * 2 + 200];

	if ((mode & WRITE_BITS) != 0 && !private)
		snprintf(text, sizeof(text),
		    "%s is writable by group or others (mode %04o); run: "
		    "chmod go-w %s",
		    path, (unsigned)(mode & 07777), path);
	else
		snprintf(text, sizeof(text),
		    "%s is %s by group or others (mode %04o); run: chmod 600 "
		    "%s",
		    path, (mode & WRITE_BITS) != 0 ? "writable" : "readable",
		    (unsigned)(mode & 07777), path);
	file_problem(ld, k, section, name, text);
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

/*
 * mdesiemd -n checks every file as a start would, but it may run where
 * and as whom the daemon does not: a file this user may not open (the
 * daemon may run as another user), or a credential file given by a
 * relative name while $CREDENTIALS_DIRECTORY is unset (systemd's
 * LoadCredential= puts it there for the start), is left to the start.
 * Returns 1 for such a failure (errno err) under -n.
 */
static int
left_to_start(const struct loader *ld, int err, int rel)
{
	if (!ld->check_only)
		return 0;
	return err == EACCES || err == EPERM || (err == ENOENT && rel);
}

/* A credential file given by a relative name, $CREDENTIALS_DIRECTORY unset. */
static int
cred_name(const char *name, int cred)
{
	size_t n;

	return cred && name[0] != '/' && creds_dir(&n) == NULL;
}

/*
 * Read a secret file, trailing CR, LF and blanks dropped.  Returns the
 * secret (the caller wipes and frees it), or NULL with the problem
 * reported for k, or for [section] name when k is NULL; under -n, NULL
 * without a problem for a file left to the start (rel: a relative
 * credential name, left_to_start()).
 */
static char *
read_secret_at(struct loader *ld, const struct key *k, const char *section,
    const char *name, const char *path, int in_creds, int rel)
{
	char buf[SECRET_MAX + 1], text[PATH_MAX + 200], *secret = NULL;
	struct stat st;
	size_t len = 0;
	int fd;

	text[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1 ||
	    fstat(fd, &st) == -1) {
		if (!left_to_start(ld, errno, rel))
			snprintf(text, sizeof(text), "cannot read %s: %s", path,
			    strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		snprintf(text, sizeof(text), "%s is not a regular file", path);
	} else if ((st.st_mode & WRITE_BITS) != 0 ||
	    (!in_creds && (st.st_mode & PRIVATE_BITS) != 0)) {
		snprintf(text, sizeof(text),
		    "%s is %s by group or others (mode %04o); run: chmod 600 "
		    "%s",
		    path,
		    (st.st_mode & WRITE_BITS) != 0 ? "writable" : "readable",
		    (unsigned)(st.st_mode & 07777), path);
	} else if (read_capped(fd, buf, sizeof(buf), &len) != 0) {
		snprintf(text, sizeof(text), "cannot read %s: %s", path,
		    strerror(errno));
	} else if (len == sizeof(buf)) {
		snprintf(text, sizeof(text), "%s is larger than %d bytes", path,
		    SECRET_MAX);
	} else {
		while (len > 0 && strchr("\r\n \t", buf[len - 1]) != NULL)
			len--;
		buf[len] = '\0';
		if (len == 0)
			snprintf(text, sizeof(text), "%s is empty", path);
		else if (strlen(buf) != len || strpbrk(buf, "\r\n") != NULL)
			snprintf(text, sizeof(text),
			    "%s must hold the secret on one line", path);
		else
			secret = sdup(ld, buf);
	}
	if (text[0] != '\0')
		file_problem(ld, k, section, name, text);
	explicit_bzero(buf, sizeof(buf));
	if (fd != -1)
		close(fd);
	return secret;
}

static void
load_secret_file(struct loader *ld)
{
	const char *name = ld->c->client_secret_file;
	char *path;
	int in_creds;

	/* Two credentials were reported already: do not read either. */
	if (name == NULL || ld->c->client_secret != NULL)
		return;
	ld->base_path = given_file(ld, KEY(client_secret_file))->path;
	if ((path = resolve(ld, name, 1, &in_creds)) == NULL)
		return;
	ld->c->client_secret = read_secret_at(ld, KEY(client_secret_file), NULL,
	    NULL, path, in_creds, cred_name(name, 1));
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
	if (GIVEN(ld, client_secret) &&
	    (given_file(ld, KEY(client_secret))->mode & PRIVATE_BITS) != 0) {
		const struct cfile *f = given_file(ld, KEY(client_secret));

		problem(ld, KEY(client_secret),
		    "%s holds a secret but is readable by group or others "
		    "(mode %04o); run: chmod 600 %s, or move the secret to "
		    "client_secret_file",
		    f->path, (unsigned)(f->mode & 07777), f->path);
	}
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
	/* The Alert API's hosts {region}.api.security.microsoft.com
	 * (reference/landscape-2026.md 1.3: ina is India). */
	static const char *const alerts[] = {
	    "us", "eu", "uk", "au", "swa", "ina", NULL};
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

/*
 * A key file protected by a passphrase would make OpenSSL ask for it on a
 * terminal the daemon does not have: PKCS#8 "BEGIN ENCRYPTED PRIVATE KEY"
 * or a traditional key's "Proc-Type: 4,ENCRYPTED" header.  The bytes read
 * are wiped.  1 when encrypted.
 */
static int
key_encrypted(int fd)
{
	char *data;
	size_t len = 0;
	int enc = 0;

	if ((data = malloc(FILE_MAX + 1)) == NULL)
		return 0;
	if (read_capped(fd, data, FILE_MAX, &len) == 0) {
		data[len] = '\0';
		enc = memmem(data, len, "-----BEGIN ENCRYPTED PRIVATE KEY-----",
		          37) != NULL ||
		    memmem(data, len, "Proc-Type: 4,ENCRYPTED", 22) != NULL;
	}
	explicit_bzero(data, FILE_MAX + 1);
	free(data);
	return enc;
}

/*
 * Check a file the configuration names: problems go to k, or to [section]
 * name when k is NULL.  dir_ok: a directory will do.  Returns 0 when the
 * file can be used, 1 when not (reported, or left to the start).
 */
static int
check_file_at(struct loader *ld, const struct key *k, const char *section,
    const char *name, const char *path, int private, int dir_ok, int in_creds,
    int rel)
{
	char text[PATH_MAX + 200];
	struct stat st;
	int fd, bad = 1;

	text[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1 ||
	    fstat(fd, &st) == -1) {
		if (!left_to_start(ld, errno, rel))
			snprintf(text, sizeof(text), "cannot read %s: %s", path,
			    strerror(errno));
	} else if (!S_ISREG(st.st_mode) && !(dir_ok && S_ISDIR(st.st_mode)))
		snprintf(text, sizeof(text), "%s is not a regular file", path);
	else if ((st.st_mode & WRITE_BITS) != 0 ||
	    (private && !in_creds && (st.st_mode & PRIVATE_BITS) != 0))
		mode_problem(ld, k, section, name, path, st.st_mode, private);
	else if (k != NULL && private && key_encrypted(fd))
		snprintf(text, sizeof(text),
		    "%s is protected by a passphrase, which the daemon has no "
		    "terminal to ask for; store the key without one: openssl "
		    "pkey -in %s -out NEW.key, then chmod 600 NEW.key",
		    path, path);
	else
		bad = 0;
	if (text[0] != '\0')
		file_problem(ld, k, section, name, text);
	if (fd != -1)
		close(fd);
	return bad;
}

static void
check_file(struct loader *ld, const struct key *k, const char *path,
    int private, int in_creds, int rel)
{
	check_file_at(ld, k, NULL, NULL, path, private, 0, in_creds, rel);
}

/*
 * A [kafka] property that names a file (ssl.ca.location, ...): the file is
 * checked as [output] tls_ca_file or tls_key_file are, in -n and at a
 * start alike, and a relative name resolves as theirs do.  A file that
 * cannot be opened is reported here, or left to the start under -n
 * (left_to_start()); either way librdkafka's check of the whole section
 * leaves the property out, so that both name the same problems.
 */
static void
kafka_file_prop(struct loader *ld, struct kafka_prop *p)
{
	int kind = kafka_conf_file(p->name, p->value), cred, in_creds;
	char *path;

	if (kind == 0 || p->value == NULL)
		return;
	cred = (kind & KAFKA_FILE_CRED) != 0;
	if ((path = resolve(ld, p->value, cred, &in_creds)) == NULL)
		return;
	p->unchecked = check_file_at(ld, NULL, "kafka", p->name, path,
	    (kind & KAFKA_FILE_PRIVATE) != 0, (kind & KAFKA_FILE_DIR) != 0,
	    in_creds, cred_name(p->value, cred));
	if (kafka_conf_set_value(p, path) != 0)
		report(ld, "%s: out of memory", ld->path);
	free(path);
}

/*
 * [kafka] NAME_file: read each value with the rules of client_secret_file.
 * A secret written into the configuration file itself needs the file's
 * mode to be private, as for client_secret.  Then the files properties
 * name (kafka_file_prop()).
 */
static void
kafka_files(struct loader *ld, struct kafka_conf *kc)
{
	char name[300], *path, *v;
	size_t i;
	int in_creds;

	ld->base_path = ld->main->path; /* [kafka] is in the main file */
	for (i = 0; i < kc->n; i++) {
		struct kafka_prop *p = &kc->props[i];

		if (p->file == NULL) {
			kafka_file_prop(ld, p);
			if (kafka_conf_secret(p->name) == KAFKA_CREDENTIAL &&
			    (ld->main->mode & PRIVATE_BITS) != 0)
				problem_at(ld, "kafka", p->name,
				    "%s holds a secret but is readable by "
				    "group or others (mode %04o); run: chmod "
				    "600 %s, or move the secret to %s_file",
				    ld->main->path,
				    (unsigned)(ld->main->mode & 07777),
				    ld->main->path, p->name);
			continue;
		}
		snprintf(name, sizeof(name), "%s_file", p->name);
		if ((path = resolve(ld, p->file, 1, &in_creds)) == NULL)
			continue;
		v = read_secret_at(ld, NULL, "kafka", name, path, in_creds,
		    cred_name(p->file, 1));
		if (v != NULL && kafka_conf_set_value(p, v) != 0)
			report(ld, "%s: out of memory", ld->path);
		if (v != NULL)
			explicit_bzero(v, strlen(v));
		free(v);
		free(path);
	}
}

/* librdkafka's verdict on a [kafka] property, as a problem line. */
static void
kafka_problem(void *arg, const char *key, const char *why)
{
	struct loader *ld = arg;

	if (key[0] == '\0')
		report(ld, "[kafka]: %s", why);
	else
		problem_at(ld, "kafka", key, "%s", why);
}

/* Keys of the syslog transports that kafka does not use. */
static const size_t kafka_unused[] = {
    OFF(host),
    OFF(port),
    OFF(framing),
    OFF(tls_ca_file),
    OFF(tls_cert_file),
    OFF(tls_key_file),
    OFF(tls_server_name),
};

/*
 * With tenants, the shared sections serve tenants of every transport: a
 * key that does not apply to this tenant's transport is a mistake only
 * when this tenant gave it, or when there is one tenant.
 */
static int
misplaced(const struct loader *ld, size_t i)
{
	return ld->given[i] && (ld->tenant == NULL || ld->tgiven[i]);
}

static void
finish_kafka(struct loader *ld)
{
	struct config *c = ld->c;
	size_t i, k;

	for (i = 0; i < sizeof(kafka_unused) / sizeof(kafka_unused[0]); i++) {
		k = key_index(kafka_unused[i]);
		if (misplaced(ld, k))
			problem(ld, &keys[k],
			    "not used with transport = kafka (brokers, topic "
			    "and the [kafka] section set the producer)");
	}
	if (!GIVEN(ld, brokers))
		problem(ld, KEY(brokers),
		    "required with transport = kafka (host:port, ...)");
	if (!GIVEN(ld, topic))
		problem(ld, KEY(topic),
		    "required with transport = kafka (%%t is replaced by the "
		    "tenant name)");
	if (!GIVEN(ld, header))
		c->header = HEADER_NONE;
	if (c->kafka != NULL)
		kafka_files(ld, c->kafka);
	kafka_conf_check(c->kafka, kafka_problem, ld);
}

/* brokers, topic and [kafka] belong to transport = kafka. */
static void
finish_not_kafka(struct loader *ld)
{
	if (misplaced(ld, key_index(OFF(brokers))))
		problem(ld, KEY(brokers), "only with transport = kafka");
	if (misplaced(ld, key_index(OFF(topic))))
		problem(ld, KEY(topic), "only with transport = kafka");
	if (ld->tenant == NULL && ld->c->kafka != NULL && ld->c->kafka->n > 0)
		report(ld, "[kafka]: only with [output] transport = kafka");
}

/* The longest message: what the transport can carry. */
static void
default_max_message(struct loader *ld)
{
	struct config *c = ld->c;
	uint64_t v;

	/*
	 * What a receiver left at its own defaults takes whole (README
	 * "Message size and receivers"): QRadar's TCP syslog payload limit
	 * (4096) for tcp and tls, RFC 5426's 2048 for udp, rsyslog's 8096
	 * for local (the relay) and stdout.
	 */
	switch (c->transport) {
	case TRANSPORT_KAFKA:
		break;
	case TRANSPORT_UDP:
		c->max_message_size = 2048;
		return;
	case TRANSPORT_TCP:
	case TRANSPORT_TLS:
		c->max_message_size = 4096;
		return;
	default:
		c->max_message_size = 8096;
		return;
	}
	v = kafka_conf_max_value(c->kafka);
	c->max_message_size = (int64_t)(v < MIB ? v : MIB);
	if (c->max_message_size < KIB)
		c->max_message_size = KIB; /* librdkafka reports it */
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
	if (c->transport == TRANSPORT_KAFKA)
		finish_kafka(ld);
	else if (!BAD(ld, transport))
		finish_not_kafka(ld);
	if (!OK(ld, port))
		c->port = tls ? 6514 : 514;
	if (!OK(ld, framing))
		c->framing = tls ? FRAMING_OCTET : FRAMING_LF;
	if (c->hostname == NULL && !GIVEN(ld, hostname))
		default_hostname(ld);
	if (!OK(ld, max_message_size))
		default_max_message(ld);
	else if (c->transport == TRANSPORT_KAFKA &&
	    (uint64_t)c->max_message_size > kafka_conf_max_value(c->kafka))
		problem(ld, KEY(max_message_size),
		    "%lld is more than the producer takes ([kafka] "
		    "message.max.bytes %llu less %d bytes for key and headers)",
		    (long long)c->max_message_size,
		    (unsigned long long)(kafka_conf_max_value(c->kafka) +
		        KAFKA_MSG_OVERHEAD),
		    KAFKA_MSG_OVERHEAD);
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
finish_files(struct loader *ld)
{
	const struct key *k;
	char **slot, *path;
	size_t i;
	int in_creds, rel;

	for (i = 0; i < sizeof(file_keys) / sizeof(file_keys[0]); i++) {
		k = &keys[key_index(file_keys[i].off)];
		slot = field(ld->c, k);
		if (*slot == NULL)
			continue;
		ld->base_path = given_file(ld, k)->path;
		path = resolve(ld, *slot, file_keys[i].cred, &in_creds);
		if (path == NULL)
			continue;
		rel = cred_name(*slot, file_keys[i].cred);
		free(*slot);
		*slot = path;
		if (!file_keys[i].tls || ld->c->transport == TRANSPORT_TLS)
			check_file(
			    ld, k, path, file_keys[i].private, in_creds, rel);
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
	if (left_to_start(ld, errno, 0))
		return;
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
	if (stat(parent, &st) == 0 ? !S_ISDIR(st.st_mode)
	                           : !left_to_start(ld, errno, 0))
		problem(ld, k,
		    "cannot use %s: its parent directory %s does not exist",
		    dir, parent);
	free(parent);
}

static void
finish(struct loader *ld)
{
	ld->finishing = 1;
	fill_defaults(ld);
	finish_azure(ld);
	finish_source(ld);
	finish_output(ld);
	finish_files(ld);
	strip_slashes(ld->c->state_dir);
	if (ld->c->state_dir != NULL)
		check_dir(ld, KEY(state_dir), ld->c->state_dir, 1);
	if (ld->c->textfile_dir != NULL)
		check_dir(ld, KEY(textfile_dir), ld->c->textfile_dir, 0);
}

/* --- many tenants: [tenant NAME] sections, [daemon] tenants_dir --- */

/* What every pass shares: the files read and the tenants found. */
struct setload {
	FILE *err;
	int check_only;
	int fatal; /* tenants defined twice, unnamed ...: no pass can go on */
	struct tdef *open; /* the last section found is this tenant's */
	size_t open_i;
	struct cfile *files; /* [0]: the configuration file */
	size_t nfiles;
	struct tdef *t;
	size_t nt, capt;
	struct emitted emitted;
	int nerr;
};

/* "[...]" header lines of f: calls fn for each with its line number. */
static void
each_section(struct loader *ld, struct cfile *f,
    void (*fn)(struct loader *, struct setload *, const char *, int),
    struct setload *sl)
{
	char name[256];
	size_t i, n;
	const char *e;

	for (i = 0; i < f->nlines; i++) {
		const struct line *l = &f->lines[i];

		if (l->skip || l->len < 2 || l->text[0] != '[')
			continue;
		if ((e = memchr(l->text, ']', l->len)) == NULL)
			continue;
		n = (size_t)(e - l->text - 1);
		if (n >= sizeof(name))
			n = sizeof(name) - 1;
		memcpy(name, l->text + 1, n);
		name[n] = '\0';
		fn(ld, sl, name, (int)i + 1);
	}
}

static struct tdef *
tdef_find(struct setload *sl, const char *name)
{
	size_t i;

	for (i = 0; i < sl->nt; i++) {
		if (strcmp(sl->t[i].name, name) == 0)
			return &sl->t[i];
	}
	return NULL;
}

static void
found_section(
    struct loader *ld, struct setload *sl, const char *section, int line)
{
	const char *tn = tenant_section(section);
	struct tdef *d, *nt;

	if (sl->open != NULL)
		sl->t[sl->open_i].end = line;
	sl->open = NULL;
	if (tn == NULL) {
		if (ld->file->in_dir) {
			sl->fatal = 1;
			report(ld,
			    "%s:%d: [%s]: a tenants_dir file holds only "
			    "[tenant NAME] sections",
			    ld->path, line, section);
		}
		return;
	}
	if (!valid_tenant_name(tn)) {
		sl->fatal = 1;
		report(ld,
		    "%s:%d: [%s]: a tenant name is 1 to %d of A-Z a-z 0-9 . "
		    "_ -",
		    ld->path, line, section, CONFIG_TENANT_NAME_MAX);
		return;
	}
	if ((d = tdef_find(sl, tn)) != NULL) {
		sl->fatal = 1;
		report(ld, "[tenant %s]: defined twice, at %s:%d and %s:%d", tn,
		    d->file->path, d->line, ld->path, line);
		return;
	}
	if (sl->nt == sl->capt) {
		size_t c = sl->capt ? sl->capt * 2 : 16;

		if ((nt = reallocarray(sl->t, c, sizeof(*nt))) == NULL) {
			report(ld, "%s: out of memory", ld->path);
			return;
		}
		sl->t = nt;
		sl->capt = c;
	}
	d = &sl->t[sl->nt];
	memset(d, 0, sizeof(*d));
	if ((d->name = strdup(tn)) == NULL) {
		report(ld, "%s: out of memory", ld->path);
		return;
	}
	d->file = ld->file;
	d->line = line;
	sl->open = d;
	sl->open_i = sl->nt;
	sl->nt++;
}

/* inih handler of discover(): each tenant's tenant_id. */
static int
discover_handler(
    void *user, const char *section, const char *name, const char *value)
{
	struct loader *ld = user;
	struct setload *sl = ld->sl;
	const char *tn = tenant_section(section);
	struct tdef *d;

	if (tn == NULL || strcasecmp(name, "tenant_id") != 0 ||
	    (d = tdef_find(sl, tn)) == NULL || d->tenant_id != NULL ||
	    d->file != ld->file)
		return 1;
	if ((d->tenant_id = strdup(value)) == NULL)
		report(ld, "%s: out of memory", ld->path);
	d->id_line = ld->lineno;
	return 1;
}

static int
cfile_name_cmp(const void *a, const void *b)
{
	return strcmp(
	    ((const struct cfile *)a)->path, ((const struct cfile *)b)->path);
}

/* The value of [daemon] tenants_dir in the configuration file, or NULL. */
static int
dir_handler(
    void *user, const char *section, const char *name, const char *value)
{
	char **out = user;

	if (strcasecmp(section, "daemon") == 0 &&
	    strcasecmp(name, "tenants_dir") == 0 && *out == NULL)
		*out = strdup(value);
	return 1;
}

/* Read every regular DIR/\*.conf of tenants_dir, in name order. */
static void
read_tenants_dir(struct loader *ld, struct setload *sl, const char *dir)
{
	struct cfile *nf;
	struct dirent *e;
	size_t n, base;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		report(ld, "[daemon] tenants_dir: cannot read %s: %s", dir,
		    strerror(errno));
		return;
	}
	base = sl->nfiles;
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		char *path;

		n = strlen(e->d_name);
		if (e->d_name[0] == '.' || n < 6 ||
		    strcmp(e->d_name + n - 5, ".conf") != 0)
			continue;
		if ((path = join_path(ld, dir, strlen(dir), e->d_name)) == NULL)
			break;
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
			free(path);
			continue;
		}
		if ((nf = reallocarray(
		         sl->files, sl->nfiles + 1, sizeof(*nf))) == NULL) {
			free(path);
			report(ld, "%s: out of memory", dir);
			break;
		}
		sl->files = nf;
		memset(&sl->files[sl->nfiles], 0, sizeof(*nf));
		sl->files[sl->nfiles].path = path;
		sl->files[sl->nfiles].in_dir = 1;
		sl->nfiles++;
	}
	closedir(d);
	qsort(sl->files + base, sl->nfiles - base, sizeof(*sl->files),
	    cfile_name_cmp);
	for (n = base; n < sl->nfiles; n++)
		read_config(ld, &sl->files[n]);
}

/*
 * Find the [tenant NAME] sections of every file, and the problems no
 * single tenant's pass could see: a name or tenant id defined twice,
 * [azure] tenant_id beside tenant sections, other sections in a
 * tenants_dir file.
 */
static void
discover(struct loader *ld, struct setload *sl)
{
	char *dir = NULL, *full = NULL;
	size_t i, j;

	use_file(ld, &sl->files[0]);
	ini_parse_stream(reader, ld, dir_handler, &dir);
	if (dir != NULL && dir[0] != '/' && strchr(sl->files[0].path, '/')) {
		const char *p = sl->files[0].path;

		full = join_path(ld, p, (size_t)(strrchr(p, '/') - p), dir);
		free(dir);
		dir = full;
	}
	if (dir != NULL)
		read_tenants_dir(ld, sl, dir);
	free(dir);
	for (i = 0; i < sl->nfiles; i++) {
		use_file(ld, &sl->files[i]);
		if (i > 0)
			find_syntax_errors(ld);
		sl->open = NULL;
		each_section(ld, &sl->files[i], found_section, sl);
		sl->open = NULL;
		ld->next = 0;
		ini_parse_stream(reader, ld, discover_handler, ld);
	}
	for (i = 0; i < sl->nt; i++) {
		struct tdef *a = &sl->t[i];

		if (a->tenant_id == NULL) {
			sl->fatal = 1;
			report(ld, "[tenant %s] tenant_id: required (%s:%d)",
			    a->name, a->file->path, a->line);
			continue;
		}
		for (j = 0; j < i; j++) {
			struct tdef *b = &sl->t[j];

			if (b->tenant_id != NULL &&
			    strcasecmp(a->tenant_id, b->tenant_id) == 0) {
				sl->fatal = 1;
				report(ld,
				    "[tenant %s] tenant_id: the same as "
				    "[tenant "
				    "%s]'s (%s:%d and %s:%d)",
				    a->name, b->name, b->file->path, b->id_line,
				    a->file->path, a->id_line);
			}
		}
	}
}

/* inih handler: is [azure] tenant_id given in the configuration file? */
static int
azure_tid_handler(
    void *user, const char *section, const char *name, const char *value)
{
	int *line = user;

	(void)value;
	if (strcasecmp(section, "azure") == 0 &&
	    strcasecmp(name, "tenant_id") == 0 && *line == 0)
		*line = 1;
	return 1;
}

static struct loader *
loader_new(struct setload *sl, const char *tenant)
{
	struct loader *ld;

	if ((ld = calloc(1, sizeof(*ld))) == NULL)
		return NULL;
	ld->err = sl->err;
	ld->check_only = sl->check_only;
	ld->main = &sl->files[0];
	ld->base_path = sl->files[0].path;
	ld->tenant = tenant;
	ld->sl = sl;
	ld->emitted = tenant != NULL ? &sl->emitted : NULL;
	if ((ld->c = calloc(1, sizeof(*ld->c))) == NULL) {
		free(ld);
		return NULL;
	}
	return ld;
}

static void
loader_free(struct loader *ld)
{
	if (ld == NULL)
		return;
	config_free(ld->c);
	free(ld);
}

/* One tenant's pass (d), or the only one (d == NULL): a whole config. */
static struct config *
load_one(struct setload *sl, const struct tdef *d)
{
	struct loader *ld = loader_new(sl, d != NULL ? d->name : NULL);
	struct config *c = NULL;
	char where[PATH_MAX + 16];

	if (ld == NULL) {
		fprintf(sl->err, "%s: out of memory\n", sl->files[0].path);
		sl->nerr++;
		return NULL;
	}
	ld->tdef = d;
	use_file(ld, &sl->files[0]);
	ini_parse_stream(reader, ld, handler, ld);
	if (d != NULL && d->file != &sl->files[0]) {
		use_file(ld, d->file);
		ini_parse_stream(reader, ld, handler, ld);
	}
	ld->path = sl->files[0].path;
	finish(ld);
	ld->c->tenant_name =
	    sdup(ld, d != NULL ? d->name : CONFIG_TENANT_DEFAULT);
	if (d != NULL) {
		snprintf(where, sizeof(where), "%s:%d", d->file->path, d->line);
		ld->c->tenant_where = sdup(ld, where);
	}
	sl->nerr += ld->nerr;
	if (ld->nerr == 0) {
		c = ld->c;
		ld->c = NULL;
	}
	loader_free(ld);
	return c;
}

static void
setload_reset(struct setload *sl)
{
	size_t i;

	for (i = 0; i < sl->nfiles; i++)
		cfile_reset(&sl->files[i]);
	free(sl->files);
	for (i = 0; i < sl->nt; i++) {
		free(sl->t[i].name);
		free(sl->t[i].tenant_id);
	}
	free(sl->t);
	for (i = 0; i < sl->emitted.nline; i++)
		free(sl->emitted.line[i]);
	free(sl->emitted.line);
	for (i = 0; i < sl->emitted.nsame; i++)
		free(sl->emitted.same[i].what);
	free(sl->emitted.same);
}

/* The counts of problems that more than SAME_MAX tenants share. */
static void
report_same(struct setload *sl)
{
	size_t i;

	for (i = 0; i < sl->emitted.nsame; i++) {
		const struct same *sm = &sl->emitted.same[i];

		if (sm->count > SAME_MAX)
			fprintf(sl->err, "... %lu more tenants: %s\n",
			    sm->count - SAME_MAX, sm->what);
	}
}

/* Read the files and find the tenants; 0, or -1 when nothing can go on. */
static int
setload_read(struct setload *sl, const char *path)
{
	struct loader *ld;
	int azure_tid = 0;

	if ((sl->files = calloc(1, sizeof(*sl->files))) == NULL ||
	    (sl->files[0].path = strdup(path)) == NULL ||
	    (sl->nfiles = 1, ld = loader_new(sl, NULL)) == NULL) {
		fprintf(sl->err, "%s: out of memory\n", path);
		sl->nerr++;
		return -1;
	}
	if (read_config(ld, &sl->files[0]) != 0) {
		sl->nerr += ld->nerr;
		loader_free(ld);
		return -1;
	}
	use_file(ld, &sl->files[0]);
	find_syntax_errors(ld);
	discover(ld, sl);
	use_file(ld, &sl->files[0]);
	ini_parse_stream(reader, ld, azure_tid_handler, &azure_tid);
	if (azure_tid && sl->nt > 0) {
		sl->fatal = 1;
		report(ld,
		    "[azure] tenant_id: cannot be used together with [tenant "
		    "NAME] sections; give each tenant its own tenant_id");
	}
	sl->nerr += ld->nerr;
	loader_free(ld);
	return 0;
}

struct config_set *
config_set_load(const char *path, FILE *err, int check_only)
{
	struct setload sl;
	struct config_set *set = NULL;
	size_t i, n;

	memset(&sl, 0, sizeof(sl));
	sl.err = err;
	sl.check_only = check_only;
	/* Tenants defined twice or unnamed: fix those first. */
	if (setload_read(&sl, path) != 0 || sl.fatal)
		goto out;
	n = sl.nt > 0 ? sl.nt : 1;
	if ((set = calloc(1, sizeof(*set))) == NULL ||
	    (set->tenant = calloc(n, sizeof(*set->tenant))) == NULL) {
		fprintf(err, "%s: out of memory\n", path);
		sl.nerr++;
		goto out;
	}
	set->multi = sl.nt > 0;
	for (i = 0; i < n; i++) {
		set->tenant[i] = load_one(&sl, sl.nt > 0 ? &sl.t[i] : NULL);
		if (set->tenant[i] != NULL)
			set->ntenant++;
	}
	report_same(&sl);
out:
	if (sl.nerr > 0 || (set != NULL && set->ntenant != n)) {
		if (set != NULL)
			set->ntenant = n;
		config_set_free(set);
		set = NULL;
	}
	setload_reset(&sl);
	return set;
}

void
config_set_free(struct config_set *set)
{
	size_t i;

	if (set == NULL)
		return;
	for (i = 0; i < set->ntenant; i++)
		config_free(set->tenant[i]);
	free(set->tenant);
	free(set);
}

const struct config *
config_set_find(const struct config_set *set, const char *name)
{
	size_t i;

	for (i = 0; i < set->ntenant; i++) {
		if (strcmp(set->tenant[i]->tenant_name, name) == 0)
			return set->tenant[i];
	}
	return NULL;
}

/* One configuration: the first tenant of the set. */
struct config *
config_load_opts(const char *path, FILE *err, int check_only)
{
	struct config_set *set = config_set_load(path, err, check_only);
	struct config *c;

	if (set == NULL)
		return NULL;
	c = set->tenant[0];
	set->tenant[0] = NULL;
	config_set_free(set);
	return c;
}

struct config *
config_load(const char *path, FILE *err)
{
	return config_load_opts(path, err, 0);
}

static int
str_eq(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

int
config_equal(const struct config *a, const struct config *b)
{
	size_t i;

	if (!str_eq(a->tenant_name, b->tenant_name) ||
	    !kafka_conf_equal(a->kafka, b->kafka))
		return 0;
	for (i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];
		char *const *la, *const *lb;

		switch (k->type) {
		case K_STR:
		case K_SECRET:
			if (!str_eq(*(char *const *)cfield(a, k),
			        *(char *const *)cfield(b, k)))
				return 0;
			break;
		case K_LIST:
			la = *(char **const *)cfield(a, k);
			lb = *(char **const *)cfield(b, k);
			for (; la != NULL && lb != NULL && *la != NULL &&
			     *lb != NULL && strcmp(*la, *lb) == 0;
			     la++, lb++)
				continue;
			if ((la == NULL) != (lb == NULL) ||
			    (la != NULL && (*la != NULL || *lb != NULL)))
				return 0;
			break;
		default:
			if (memcmp(cfield(a, k), cfield(b, k), k->size) != 0)
				return 0;
			break;
		}
	}
	return 1;
}

void
config_free(struct config *c)
{
	const struct key *k;
	size_t i;

	if (c == NULL)
		return;
	free(c->tenant_name);
	free(c->tenant_where);
	kafka_conf_reset(c->kafka);
	free(c->kafka);
	for (i = 0; i < NKEYS; i++) {
		k = &keys[i];
		if (k->type == K_LIST) {
			free_list(*(char ***)field(c, k));
			continue;
		}
		if (k->type != K_STR && k->type != K_SECRET)
			continue;
		wipe_free(*(char **)field(c, k), k);
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
	if (c->transport == TRANSPORT_KAFKA) {
		fputc('\n', out);
		kafka_conf_dump(c->kafka, out);
	}
}
