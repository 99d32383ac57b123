/* SPDX-License-Identifier: MIT */
/*
 * The files a configuration names (config_impl.h): the client secret
 * file, certificates and keys, TLS and Kafka files, the state directory.
 * Credential files may come from systemd's LoadCredential=
 * ($CREDENTIALS_DIRECTORY); private ones must not be readable, and none
 * writable, by group or others.  Secrets are read into wiped buffers.
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
#include "url.h"

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

char *
config_secret_join_path(
    struct loader *ld, const char *dir, size_t dirlen, const char *name)
{
	size_t len = dirlen + 1 + strlen(name) + 1;
	char *p;

	if ((p = malloc(len)) == NULL) {
		config_report(ld, "%s: out of memory", ld->path);
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
const struct cfile *
config_secret_given_file(const struct loader *ld, const struct key *k)
{
	const struct cfile *f = ld->given_in[k - config_keys];

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
		path = config_sdup(ld, name);
	else if (cd != NULL)
		path = config_secret_join_path(ld, cd, cdlen, name);
	else if ((slash = strrchr(ld->base_path, '/')) == NULL)
		path = config_sdup(ld, name);
	else
		path = config_secret_join_path(
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
		config_problem(ld, k, "%s", text);
	else
		config_problem_at(ld, section, name, "%s", text);
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
 * Open a file the configuration names and check that it is a regular file
 * (or, dir_ok, a directory).  Returns the descriptor, or -1 with the
 * problem in text[len] (left empty for a file left to the start: rel, see
 * left_to_start()).
 */
static int
open_named(struct loader *ld, const char *path, int rel, int dir_ok,
    struct stat *st, char *text, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd == -1 || fstat(fd, st) == -1) {
		if (!left_to_start(ld, errno, rel))
			snprintf(text, len, "cannot read %s: %s", path,
			    strerror(errno));
	} else if (!S_ISREG(st->st_mode) && !(dir_ok && S_ISDIR(st->st_mode))) {
		snprintf(text, len, "%s is not a regular file", path);
	} else {
		return fd;
	}
	if (fd != -1)
		close(fd);
	return -1;
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
	fd = open_named(ld, path, rel, 0, &st, text, sizeof(text));
	if (fd == -1) {
		/* reported in text, or left to the start */
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
			secret = config_sdup(ld, buf);
	}
	if (text[0] != '\0')
		file_problem(ld, k, section, name, text);
	explicit_bzero(buf, sizeof(buf));
	if (fd != -1)
		close(fd);
	return secret;
}

void
config_secret_load(struct loader *ld)
{
	const char *name = ld->c->client_secret_file;
	char *path;
	int in_creds;

	/* Two credentials were reported already: do not read either. */
	if (name == NULL || ld->c->client_secret != NULL)
		return;
	ld->base_path =
	    config_secret_given_file(ld, KEY(client_secret_file))->path;
	if ((path = resolve(ld, name, 1, &in_creds)) == NULL)
		return;
	ld->c->client_secret = read_secret_at(ld, KEY(client_secret_file), NULL,
	    NULL, path, in_creds, cred_name(name, 1));
	free(path);
}

void
config_secret_check_credentials(struct loader *ld)
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
		config_problem(ld, KEY(client_secret),
		    "required (or client_secret_file, or certificate_file and "
		    "private_key_file)");
	for (i = 1; i < n; i++)
		config_problem(ld, kinds[i],
		    "cannot be used together with %s; keep one credential",
		    kinds[0]->name);
	if (GIVEN(ld, certificate_file) && !GIVEN(ld, private_key_file))
		config_problem(ld, KEY(private_key_file),
		    "required with certificate_file");
	if (GIVEN(ld, private_key_file) && !GIVEN(ld, certificate_file))
		config_problem(ld, KEY(certificate_file),
		    "required with private_key_file");
	if (GIVEN(ld, assertion_alg) && !GIVEN(ld, certificate_file))
		config_problem(
		    ld, KEY(assertion_alg), "only with certificate_file");
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
	fd = open_named(ld, path, rel, dir_ok, &st, text, sizeof(text));
	if (fd == -1) {
		/* reported in text, or left to the start */
	} else if ((st.st_mode & WRITE_BITS) != 0 ||
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
		config_report(ld, "%s: out of memory", ld->path);
	free(path);
}

/*
 * [kafka] NAME_file: read each value with the rules of client_secret_file.
 * A secret written into the configuration file itself needs the file's
 * mode to be private, as for client_secret.  Then the files properties
 * name (kafka_file_prop()).
 */
void
config_secret_kafka_files(struct loader *ld, struct kafka_conf *kc)
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
				config_problem_at(ld, "kafka", p->name,
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
			config_report(ld, "%s: out of memory", ld->path);
		if (v != NULL)
			explicit_bzero(v, strlen(v));
		free(v);
		free(path);
	}
}

void
config_secret_check_files(struct loader *ld)
{
	const struct key *k;
	char **slot, *path;
	size_t i;
	int in_creds, rel;

	for (i = 0; i < sizeof(file_keys) / sizeof(file_keys[0]); i++) {
		k = &config_keys[config_keys_index(file_keys[i].off)];
		slot = config_keys_field(ld->c, k);
		if (*slot == NULL)
			continue;
		ld->base_path = config_secret_given_file(ld, k)->path;
		path = resolve(ld, *slot, file_keys[i].cred, &in_creds);
		if (path == NULL)
			continue;
		rel = cred_name(*slot, file_keys[i].cred);
		free(*slot);
		*slot = path;
		if (!file_keys[i].tls ||
		    sink_ops_for(ld->c->transport)->reads_tls)
			check_file(
			    ld, k, path, file_keys[i].private, in_creds, rel);
	}
}

void
config_secret_check_dir(
    struct loader *ld, const struct key *k, const char *dir, int parent_will_do)
{
	struct stat st;
	const char *slash;
	char *parent;

	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			config_problem(ld, k, "%s is not a directory", dir);
		return;
	}
	if (left_to_start(ld, errno, 0))
		return;
	if (errno != ENOENT || !parent_will_do) {
		config_problem(
		    ld, k, "cannot use %s: %s", dir, strerror(errno));
		return;
	}
	/* The daemon creates the directory itself; it needs the parent. */
	slash = strrchr(dir, '/');
	if (slash == NULL)
		return;
	if (slash == dir)
		return;
	if ((parent = strndup(dir, (size_t)(slash - dir))) == NULL) {
		config_report(ld, "%s: out of memory", ld->path);
		return;
	}
	if (stat(parent, &st) == 0 ? !S_ISDIR(st.st_mode)
	                           : !left_to_start(ld, errno, 0))
		config_problem(ld, k,
		    "cannot use %s: its parent directory %s does not exist",
		    dir, parent);
	free(parent);
}
