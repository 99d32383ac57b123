/* SPDX-License-Identifier: MIT */
/*
 * Configuration (include/config.h), the first thing the daemon does and
 * the only place that reads the INI file.  A load reads the file (and
 * [daemon] tenants_dir's) through config_ini.c, converting each value by
 * the table of keys in config_keys.c.  A second pass, here, fills the
 * defaults that depend on other keys (URLs per api, region and cloud;
 * port and framing per transport), checks combinations, and has
 * config_secret.c read the secret and key files.  Every problem is
 * reported, one line each, before the load fails, so the rest of the
 * daemon only ever sees a complete, checked configuration.
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
#include "sink.h"
#include "source.h"
#include "url.h"

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

void
config_report(struct loader *ld, const char *fmt, ...)
{
	char text[1536];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	emit(ld, "", text);
}

void
config_problem(struct loader *ld, const struct key *k, const char *fmt, ...)
{
	char prefix[CONFIG_TENANT_NAME_MAX + 64], text[1536];
	size_t i = (size_t)(k - config_keys);
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
void
config_problem_at(struct loader *ld, const char *section, const char *name,
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

char *
config_sdup(struct loader *ld, const char *s)
{
	char *p;

	if ((p = strdup(s)) == NULL)
		config_report(ld, "%s: out of memory", ld->path);
	return p;
}

/* The second pass: defaults, combinations, files. */

static void
fill_defaults(struct loader *ld)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		if (!ld->ok[i] && config_keys[i].def != NULL)
			config_keys_set_value(
			    ld, &config_keys[i], config_keys[i].def);
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
		config_problem(ld, KEY(tenant_id), "required");
	if (!GIVEN(ld, client_id))
		config_problem(ld, KEY(client_id), "required");
	config_secret_check_credentials(ld);
	if (GIVEN(ld, client_secret) &&
	    (config_secret_given_file(ld, KEY(client_secret))->mode &
	        PRIVATE_BITS) != 0) {
		const struct cfile *f =
		    config_secret_given_file(ld, KEY(client_secret));

		config_problem(ld, KEY(client_secret),
		    "%s holds a secret but is readable by group or others "
		    "(mode %04o); run: chmod 600 %s, or move the secret to "
		    "client_secret_file",
		    f->path, (unsigned)(f->mode & 07777), f->path);
	}
	config_secret_load(ld);
	if (c->login_url == NULL && !GIVEN(ld, login_url))
		c->login_url = config_sdup(ld, login[c->cloud]);
	strip_slashes(c->login_url);
}

/*
 * The [source] keys only some APIs read: a key given for an API whose
 * adapter does not list it is a problem naming the APIs that do.
 */
static int
ops_reads(const struct source_ops *ops, const char *name)
{
	const char *const *k;

	for (k = ops->keys; k != NULL && *k != NULL; k++)
		if (strcmp(*k, name) == 0)
			return 1;
	return 0;
}

static int
api_specific(const char *name)
{
	size_t i;

	for (i = 0; source_ops_at(i) != NULL; i++)
		if (ops_reads(source_ops_at(i), name))
			return 1;
	return 0;
}

/* [source] streams: checked by its key; beyond alerts, what the api's
 * adapter says it reads. */
static void
finish_streams(struct loader *ld)
{
	struct config *c = ld->c;
	const struct source_ops *ops = source_ops_for(c->api), *o;
	const char *bad, *names[8];
	unsigned alerts = CONFIG_STREAM_BIT(STREAM_ALERTS);
	char list[96];
	size_t i, n = 0;

	c->streams = alerts;
	if (c->streams_text == NULL || BAD(ld, streams_text) ||
	    config_streams_parse(c->streams_text, &c->streams, &bad) != 0 ||
	    (c->streams & ~(ops->streams | alerts)) == 0)
		return;
	for (i = 0; (o = source_ops_at(i)) != NULL && n < 7; i++)
		if ((c->streams & ~(o->streams | alerts)) == 0)
			names[n++] = o->name;
	names[n] = NULL;
	config_keys_join_names(names, list, sizeof(list));
	config_problem(ld, KEY(streams_text),
	    "\"%s\" only with api = %s (api = %s reads alerts alone)",
	    c->streams_text, list, ops->name);
}

static void
check_api_key(struct loader *ld, const struct key *k)
{
	const struct source_ops *ops = source_ops_for(ld->c->api);
	const char *names[8];
	char list[96];
	size_t i, n = 0;

	if (!ld->given[k - config_keys] || ops_reads(ops, k->name))
		return;
	for (i = 0; source_ops_at(i) != NULL && n < 7; i++)
		if (ops_reads(source_ops_at(i), k->name))
			names[n++] = source_ops_at(i)->name;
	names[n] = NULL;
	config_keys_join_names(names, list, sizeof(list));
	/* "a, b, c" read as "a, b or c" */
	if (n > 1) {
		char *last = strrchr(list, ',');

		memmove(last + 3, last + 1, strlen(last + 1) + 1);
		memcpy(last, " or", 3);
	}
	config_problem(ld, k, "only with api = %s", list);
}

/* Returns 0 when the region is usable for building the default URL. */
static int
check_region(struct loader *ld, const struct source_ops *ops)
{
	struct config *c = ld->c;
	const struct key *k = KEY(region);
	const char *const *list;
	char names[64];
	size_t i;

	if (c->region == NULL || ops->regions == NULL)
		return ops->regions == NULL && GIVEN(ld, region) ? -1 : 0;
	for (i = 0; c->region[i] != '\0'; i++)
		c->region[i] = (char)tolower((unsigned char)c->region[i]);
	for (list = ops->regions; *list != NULL; list++)
		if (strcmp(*list, c->region) == 0)
			break;
	if (*list == NULL) {
		config_problem(ld, k, "\"%s\" is not one of %s (api = %s)",
		    c->region,
		    config_keys_join_names(ops->regions, names, sizeof(names)),
		    ops->name);
		return -1;
	}
	if (c->cloud == CLOUD_GLOBAL)
		return 0;
	for (list = ops->gov_regions; list != NULL && *list != NULL; list++)
		if (strcmp(*list, c->region) == 0)
			return 0;
	config_problem(ld, k, "\"%s\" is not available with cloud = %s",
	    c->region,
	    config_keys_choice_name(config_keys_cloud_choices, c->cloud));
	return -1;
}

/* The source's defaults, all from its adapter (source.h). */
static void
finish_source(struct loader *ld)
{
	struct config *c = ld->c;
	const struct source_ops *ops;
	char url[256];
	size_t i;
	int region_ok;

	if (BAD(ld, api) || BAD(ld, cloud))
		return;
	ops = source_ops_for(c->api);
	region_ok = check_region(ld, ops) == 0;
	for (i = 0; i < NKEYS; i++)
		if (strcmp(config_keys[i].section, "source") == 0 &&
		    api_specific(config_keys[i].name))
			check_api_key(ld, &config_keys[i]);
	if (c->region == NULL && ops->default_region != NULL && region_ok)
		c->region = config_sdup(ld, ops->default_region);
	if (c->url == NULL && !GIVEN(ld, url) && region_ok) {
		if (ops->default_url(c, url, sizeof(url)) == 0)
			c->url = config_sdup(ld, url);
		else
			config_problem(
			    ld, KEY(url), "cannot build the default URL");
	}
	if (c->audience == NULL && !GIVEN(ld, audience))
		c->audience = config_sdup(ld, ops->audience(c));
	strip_slashes(c->audience);
	if (!OK(ld, page_size))
		c->page_size = ops->page_size;
	finish_streams(ld);
}

static void
default_hostname(struct loader *ld)
{
	char name[HOST_NAME_MAX + 1];

	if (gethostname(name, sizeof(name)) != 0) {
		config_problem(ld, KEY(hostname),
		    "cannot get the host name (%s); set hostname",
		    strerror(errno));
		return;
	}
	name[sizeof(name) - 1] = '\0';
	if (!config_keys_is_word(name)) {
		config_problem(ld, KEY(hostname),
		    "the host name \"%s\" is not printable ASCII without "
		    "spaces; set hostname",
		    name);
		return;
	}
	ld->c->hostname = config_sdup(ld, name);
}

/* librdkafka's verdict on a [kafka] property, as a problem line. */
static void
kafka_problem(void *arg, const char *key, const char *why)
{
	struct loader *ld = arg;

	if (key[0] == '\0')
		config_report(ld, "[kafka]: %s", why);
	else
		config_problem_at(ld, "kafka", key, "%s", why);
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
		k = config_keys_index(kafka_unused[i]);
		if (misplaced(ld, k))
			config_problem(ld, &config_keys[k],
			    "not used with transport = kafka (brokers, topic "
			    "and the [kafka] section set the producer)");
	}
	if (!GIVEN(ld, brokers))
		config_problem(ld, KEY(brokers),
		    "required with transport = kafka (host:port, ...)");
	if (!GIVEN(ld, topic))
		config_problem(ld, KEY(topic),
		    "required with transport = kafka (%%t is replaced by the "
		    "tenant name)");
	if (!GIVEN(ld, header))
		c->header = HEADER_NONE;
	if (c->kafka != NULL)
		config_secret_kafka_files(ld, c->kafka);
	kafka_conf_check(c->kafka, kafka_problem, ld);
}

/* brokers, topic and [kafka] belong to transport = kafka. */
static void
finish_not_kafka(struct loader *ld)
{
	if (misplaced(ld, config_keys_index(OFF(brokers))))
		config_problem(ld, KEY(brokers), "only with transport = kafka");
	if (misplaced(ld, config_keys_index(OFF(topic))))
		config_problem(ld, KEY(topic), "only with transport = kafka");
	if (ld->tenant == NULL && ld->c->kafka != NULL && ld->c->kafka->n > 0)
		config_report(
		    ld, "[kafka]: only with [output] transport = kafka");
}

/* The longest message for kafka: what the producer takes, within reason. */
static void
kafka_max_message(struct config *c)
{
	uint64_t v = kafka_conf_max_value(c->kafka);

	c->max_message_size = (int64_t)(v < MIB ? v : MIB);
	if (c->max_message_size < KIB)
		c->max_message_size = KIB; /* librdkafka reports it */
}

static void
finish_output(struct loader *ld)
{
	struct config *c = ld->c;
	const struct sink_ops *ops = sink_ops_for(c->transport);
	int tls;

	if (ops == NULL)
		return; /* reported */
	tls = ops->reads_tls;
	if (ops->needs_host && !GIVEN(ld, host) && !BAD(ld, transport))
		config_problem(ld, KEY(host), "required with transport = %s",
		    config_transport_name(c->transport));
	if (c->transport == TRANSPORT_KAFKA)
		finish_kafka(ld);
	else if (!BAD(ld, transport))
		finish_not_kafka(ld);
	if (!OK(ld, port))
		c->port = ops->default_port;
	if (!OK(ld, framing))
		c->framing = ops->framing;
	if (c->hostname == NULL && !GIVEN(ld, hostname))
		default_hostname(ld);
	if (!OK(ld, max_message_size) && ops->max_message == 0)
		kafka_max_message(c);
	else if (!OK(ld, max_message_size))
		c->max_message_size = ops->max_message;
	else if (c->transport == TRANSPORT_KAFKA &&
	    (uint64_t)c->max_message_size > kafka_conf_max_value(c->kafka))
		config_problem(ld, KEY(max_message_size),
		    "%lld is more than the producer takes ([kafka] "
		    "message.max.bytes %llu less %d bytes for key and headers)",
		    (long long)c->max_message_size,
		    (unsigned long long)(kafka_conf_max_value(c->kafka) +
		        KAFKA_MSG_OVERHEAD),
		    KAFKA_MSG_OVERHEAD);
	else if (ops->max_message_limit != 0 &&
	    c->max_message_size > ops->max_message_limit)
		config_problem(ld, KEY(max_message_size),
		    "%lld is too large for transport = %s (at most %lld)",
		    (long long)c->max_message_size, ops->name,
		    (long long)ops->max_message_limit);
	if (tls && GIVEN(ld, tls_cert_file) && !GIVEN(ld, tls_key_file))
		config_problem(
		    ld, KEY(tls_key_file), "required with tls_cert_file");
	if (tls && GIVEN(ld, tls_key_file) && !GIVEN(ld, tls_cert_file))
		config_problem(
		    ld, KEY(tls_cert_file), "required with tls_key_file");
	if (c->tls_server_name == NULL && !GIVEN(ld, tls_server_name) &&
	    c->host != NULL)
		c->tls_server_name = config_sdup(ld, c->host);
}

static void
finish(struct loader *ld)
{
	ld->finishing = 1;
	fill_defaults(ld);
	finish_azure(ld);
	finish_source(ld);
	finish_output(ld);
	config_secret_check_files(ld);
	strip_slashes(ld->c->state_dir);
	if (ld->c->state_dir != NULL)
		config_secret_check_dir(
		    ld, KEY(state_dir), ld->c->state_dir, 1);
	if (ld->c->textfile_dir != NULL)
		config_secret_check_dir(
		    ld, KEY(textfile_dir), ld->c->textfile_dir, 0);
}

/* --- many tenants: [tenant NAME] sections, [daemon] tenants_dir --- */

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
	config_ini_use_file(ld, &sl->files[0]);
	ini_parse_stream(config_ini_reader, ld, config_ini_handler, ld);
	if (d != NULL && d->file != &sl->files[0]) {
		config_ini_use_file(ld, d->file);
		ini_parse_stream(config_ini_reader, ld, config_ini_handler, ld);
	}
	ld->path = sl->files[0].path;
	finish(ld);
	ld->c->tenant_name =
	    config_sdup(ld, d != NULL ? d->name : CONFIG_TENANT_DEFAULT);
	if (d != NULL) {
		snprintf(where, sizeof(where), "%s:%d", d->file->path, d->line);
		ld->c->tenant_where = config_sdup(ld, where);
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
		config_ini_cfile_reset(&sl->files[i]);
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
	if (config_ini_read(ld, &sl->files[0]) != 0) {
		sl->nerr += ld->nerr;
		loader_free(ld);
		return -1;
	}
	config_ini_use_file(ld, &sl->files[0]);
	config_ini_find_syntax_errors(ld);
	config_ini_discover(ld, sl);
	config_ini_use_file(ld, &sl->files[0]);
	ini_parse_stream(
	    config_ini_reader, ld, config_ini_azure_tid_handler, &azure_tid);
	if (azure_tid && sl->nt > 0) {
		sl->fatal = 1;
		config_report(ld,
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
		const struct key *k = &config_keys[i];
		char *const *la, *const *lb;

		switch (k->type) {
		case K_STR:
		case K_SECRET:
			if (!str_eq(*(char *const *)config_keys_cfield(a, k),
			        *(char *const *)config_keys_cfield(b, k)))
				return 0;
			break;
		case K_LIST:
			la = *(char **const *)config_keys_cfield(a, k);
			lb = *(char **const *)config_keys_cfield(b, k);
			for (; la != NULL && lb != NULL && *la != NULL &&
			     *lb != NULL && strcmp(*la, *lb) == 0;
			     la++, lb++)
				continue;
			if ((la == NULL) != (lb == NULL) ||
			    (la != NULL && (*la != NULL || *lb != NULL)))
				return 0;
			break;
		default:
			if (memcmp(config_keys_cfield(a, k),
			        config_keys_cfield(b, k), k->size) != 0)
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
		k = &config_keys[i];
		if (k->type == K_LIST) {
			config_keys_free_list(
			    *(char ***)config_keys_field(c, k));
			continue;
		}
		if (k->type != K_STR && k->type != K_SECRET)
			continue;
		config_keys_wipe_free(*(char **)config_keys_field(c, k), k);
	}
	free(c);
}
