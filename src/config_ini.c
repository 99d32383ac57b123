/* SPDX-License-Identifier: MIT */
/*
 * Reading the INI files of a configuration (config_impl.h).  inih reads
 * each file through our line reader, which counts lines, refuses
 * over-long ones and turns off continuation lines; the handler finds each
 * key in the table of keys and converts its value.  A first read of
 * every file finds the [tenant NAME] sections (also in [daemon]
 * tenants_dir), which each tenant's pass then reads with the shared
 * sections.
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
#include "url.h"

static void
unknown_key(struct loader *ld, const char *section, const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		if (strcasecmp(config_keys[i].name, name) == 0) {
			config_report(ld,
			    "[%s] %s: unknown key (it belongs in [%s])",
			    section, name, config_keys[i].section);
			return;
		}
	}
	config_report(ld, "[%s] %s: unknown key", section, name);
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

	if ((k = config_keys_find("azure", name)) != NULL ||
	    (k = config_keys_find("source", name)) != NULL)
		return k;
	if ((k = config_keys_find("output", name)) != NULL &&
	    tenant_output_key(name))
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
		j = config_keys_index(creds[i]);
		if (ld->tgiven[j] || !ld->given[j])
			continue;
		if (config_keys[j].type == K_STR ||
		    config_keys[j].type == K_SECRET) {
			char **slot = config_keys_field(ld->c, &config_keys[j]);

			config_keys_wipe_free(*slot, &config_keys[j]);
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
			if (strcasecmp(config_keys[i].name, name) == 0)
				k = &config_keys[i];
		}
		if (k != NULL)
			config_report(ld,
			    "[tenant %s] %s: not a key a tenant can set; it "
			    "belongs in [%s], shared by every tenant",
			    ld->tenant, name, k->section);
		else
			config_report(ld, "[tenant %s] %s: unknown key",
			    ld->tenant, name);
		return 1;
	}
	i = (size_t)(k - config_keys);
	ld->in_tenant = 1;
	if (ld->tgiven[i]) {
		config_problem(ld, k, "given twice (lines %d and %d)",
		    ld->given[i], ld->lineno);
		ld->in_tenant = 0;
		return 1;
	}
	drop_shared_credential(ld, k);
	ld->tgiven[i] = 1;
	ld->given[i] = ld->lineno;
	ld->given_in[i] = ld->file;
	ld->ok[i] = config_keys_set_value(ld, k, value) == 0;
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
		config_problem_at(ld, "kafka", name, "empty value");
		return;
	}
	if (c->kafka == NULL) {
		if ((c->kafka = malloc(sizeof(*c->kafka))) == NULL) {
			config_report(ld, "%s: out of memory", ld->path);
			return;
		}
		kafka_conf_init(c->kafka);
	}
	rc =
	    kafka_conf_add(c->kafka, name, value, ld->lineno, why, sizeof(why));
	if (rc == ERR_CONFIG)
		config_problem_at(ld, "kafka", name, "%s", why);
	else if (rc != 0)
		config_report(ld, "%s: out of memory", ld->path);
}

int
config_ini_handler(
    void *user, const char *section, const char *name, const char *value)
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
		config_report(ld, "%s:%d: %s: comes before any [section]",
		    ld->path, ld->lineno, name);
		return 1;
	}
	if (strcasecmp(section, "kafka") == 0) {
		kafka_key(ld, name, value);
		return 1;
	}
	if (config_keys_section(section) == NULL) {
		if (strcmp(ld->unknown, section) != 0) {
			config_report(ld, "[%s]: unknown section", section);
			snprintf(
			    ld->unknown, sizeof(ld->unknown), "%s", section);
		}
		return 1;
	}
	if ((k = config_keys_find(section, name)) == NULL) {
		unknown_key(ld, section, name);
		return 1;
	}
	i = (size_t)(k - config_keys);
	if (ld->given[i] != 0) {
		config_problem(ld, k, "given twice (lines %d and %d)",
		    ld->given[i], ld->lineno);
		return 1;
	}
	ld->given[i] = ld->lineno;
	ld->given_in[i] = ld->file;
	if (config_keys_set_value(ld, k, value) == 0)
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
char *
config_ini_reader(char *str, int num, void *stream)
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
		config_report(ld, "%s: out of memory", f->path);
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
			config_report(ld, "%s:%zu: line longer than %d bytes",
			    f->path, f->nlines, LINE_MAX_LEN);
			l->skip = 1;
		} else if (memchr(p, '\0', l->len) != NULL) {
			config_report(
			    ld, "%s:%zu: syntax error", f->path, f->nlines);
			l->skip = 1;
		}
	}
	return 0;
}

int
config_ini_read(struct loader *ld, struct cfile *f)
{
	struct stat st;
	ssize_t n;
	int fd, rc = -1;

	if ((fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1 ||
	    fstat(fd, &st) == -1) {
		config_report(
		    ld, "%s: cannot read: %s", f->path, strerror(errno));
		goto out;
	}
	f->mode = st.st_mode;
	if ((st.st_mode & WRITE_BITS) != 0) {
		config_report(ld,
		    "%s: writable by group or others (mode %04o), who could "
		    "point the sign-in elsewhere and receive the secret; run: "
		    "chmod go-w %s",
		    f->path, (unsigned)(st.st_mode & 07777), f->path);
		goto out;
	}
	if ((f->data = malloc(FILE_MAX + 1)) == NULL) {
		config_report(ld, "%s: out of memory", f->path);
		goto out;
	}
	while (f->size <= FILE_MAX) {
		n = read(fd, f->data + f->size, FILE_MAX + 1 - f->size);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			config_report(ld, "%s: cannot read: %s", f->path,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		f->size += (size_t)n;
	}
	if (f->size > FILE_MAX) {
		config_report(ld,
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
void
config_ini_use_file(struct loader *ld, struct cfile *f)
{
	ld->file = f;
	ld->path = f->path;
	ld->next = 0;
	ld->lineno = 0;
}

void
config_ini_cfile_reset(struct cfile *f)
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
void
config_ini_find_syntax_errors(struct loader *ld)
{
	int rc, count;

	for (count = 0;; count++) {
		ld->next = 0;
		rc =
		    ini_parse_stream(config_ini_reader, ld, noop_handler, NULL);
		if (rc <= 0 || (size_t)rc > ld->file->nlines ||
		    ld->file->lines[rc - 1].skip)
			break;
		if (count == SYNTAX_MAX) {
			config_report(ld,
			    "%s: too many syntax errors; is this the "
			    "configuration file?",
			    ld->path);
			break;
		}
		ld->file->lines[rc - 1].skip = 1;
		config_report(ld, "%s:%d: syntax error", ld->path, rc);
	}
}

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
			config_report(ld,
			    "%s:%d: [%s]: a tenants_dir file holds only "
			    "[tenant NAME] sections",
			    ld->path, line, section);
		}
		return;
	}
	if (!valid_tenant_name(tn)) {
		sl->fatal = 1;
		config_report(ld,
		    "%s:%d: [%s]: a tenant name is 1 to %d of A-Z a-z 0-9 . "
		    "_ -",
		    ld->path, line, section, CONFIG_TENANT_NAME_MAX);
		return;
	}
	if ((d = tdef_find(sl, tn)) != NULL) {
		sl->fatal = 1;
		config_report(ld,
		    "[tenant %s]: defined twice, at %s:%d and %s:%d", tn,
		    d->file->path, d->line, ld->path, line);
		return;
	}
	if (sl->nt == sl->capt) {
		size_t c = sl->capt ? sl->capt * 2 : 16;

		if ((nt = reallocarray(sl->t, c, sizeof(*nt))) == NULL) {
			config_report(ld, "%s: out of memory", ld->path);
			return;
		}
		sl->t = nt;
		sl->capt = c;
	}
	d = &sl->t[sl->nt];
	memset(d, 0, sizeof(*d));
	if ((d->name = strdup(tn)) == NULL) {
		config_report(ld, "%s: out of memory", ld->path);
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
		config_report(ld, "%s: out of memory", ld->path);
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
		config_report(ld, "[daemon] tenants_dir: cannot read %s: %s",
		    dir, strerror(errno));
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
		if ((path = config_secret_join_path(
		         ld, dir, strlen(dir), e->d_name)) == NULL)
			break;
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
			free(path);
			continue;
		}
		if ((nf = reallocarray(
		         sl->files, sl->nfiles + 1, sizeof(*nf))) == NULL) {
			free(path);
			config_report(ld, "%s: out of memory", dir);
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
		config_ini_read(ld, &sl->files[n]);
}

/*
 * Find the [tenant NAME] sections of every file, and the problems no
 * single tenant's pass could see: a name or tenant id defined twice,
 * [azure] tenant_id beside tenant sections, other sections in a
 * tenants_dir file.
 */
void
config_ini_discover(struct loader *ld, struct setload *sl)
{
	char *dir = NULL, *full = NULL;
	size_t i, j;

	config_ini_use_file(ld, &sl->files[0]);
	ini_parse_stream(config_ini_reader, ld, dir_handler, &dir);
	if (dir != NULL && dir[0] != '/' && strchr(sl->files[0].path, '/')) {
		const char *p = sl->files[0].path;

		full = config_secret_join_path(
		    ld, p, (size_t)(strrchr(p, '/') - p), dir);
		free(dir);
		dir = full;
	}
	if (dir != NULL)
		read_tenants_dir(ld, sl, dir);
	free(dir);
	for (i = 0; i < sl->nfiles; i++) {
		config_ini_use_file(ld, &sl->files[i]);
		if (i > 0)
			config_ini_find_syntax_errors(ld);
		sl->open = NULL;
		each_section(ld, &sl->files[i], found_section, sl);
		sl->open = NULL;
		ld->next = 0;
		ini_parse_stream(config_ini_reader, ld, discover_handler, ld);
	}
	for (i = 0; i < sl->nt; i++) {
		struct tdef *a = &sl->t[i];

		if (a->tenant_id == NULL) {
			sl->fatal = 1;
			config_report(ld,
			    "[tenant %s] tenant_id: required (%s:%d)", a->name,
			    a->file->path, a->line);
			continue;
		}
		for (j = 0; j < i; j++) {
			struct tdef *b = &sl->t[j];

			if (b->tenant_id != NULL &&
			    strcasecmp(a->tenant_id, b->tenant_id) == 0) {
				sl->fatal = 1;
				config_report(ld,
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
int
config_ini_azure_tid_handler(
    void *user, const char *section, const char *name, const char *value)
{
	int *line = user;

	(void)value;
	if (strcasecmp(section, "azure") == 0 &&
	    strcasecmp(name, "tenant_id") == 0 && *line == 0)
		*line = 1;
	return 1;
}
