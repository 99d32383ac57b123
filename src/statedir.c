/* SPDX-License-Identifier: MIT */
/*
 * The layout of the state directory (include/statedir.h): the paths of
 * tenants and queues, the one rule that says which tenants share a
 * queue, and the move of a one-tenant state directory into the layout.
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "errcode.h"
#include "kafka_conf.h"
#include "log.h"
#include "statedir.h"
#include "statefile.h"

#define LEGACY_MAX 16 /* cursor files at the top: one per api */

static int
join(char *out, size_t len, const char *a, const char *b, const char *c)
{
	int n = snprintf(out, len, "%s/%s%s%s", a, b, c != NULL ? "/" : "",
	    c != NULL ? c : "");

	return n < 0 || (size_t)n >= len ? ERR_TOOBIG : 0;
}

/* Create dir/sub and dir/sub/name. */
static int
make_dirs(const char *state, const char *sub, const char *name, char *out,
    size_t outlen)
{
	char mid[PATH_MAX];

	if (join(mid, sizeof(mid), state, sub, NULL) != 0 ||
	    join(out, outlen, state, sub, name) != 0)
		return ERR_TOOBIG;
	if (statefile_mkdir(state) != 0 || statefile_mkdir(mid) != 0 ||
	    statefile_mkdir(out) != 0)
		return ERR_IO;
	return 0;
}

int
statedir_tenant(const char *state, const char *name, char *out, size_t outlen)
{
	return make_dirs(state, "tenants", name, out, outlen);
}

/* FNV-1a, 32 bits: a short, stable tag of an output's whole identity. */
static uint32_t
fnv32(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

static const char *
opt(const char *s)
{
	return s != NULL ? s : "";
}

/*
 * A Kafka queue: the brokers, the topic (with this tenant's name for %t:
 * one queue per topic, so a topic that cannot be written pauses only the
 * tenants it serves) and the producer's properties.
 */
static void
kafka_queue_id(const struct config *c, char label[STATEDIR_LABEL_MAX], char *id,
    size_t idlen, char *topic, size_t topiclen)
{
	char props[1024];

	kafka_topic_expand(opt(c->topic), c->tenant_name, topic, topiclen);
	kafka_conf_identity(c->kafka, props, sizeof(props));
	snprintf(
	    label, STATEDIR_LABEL_MAX, "kafka://%s/%s", opt(c->brokers), topic);
	snprintf(id, idlen, "%s|%s", label, props);
}

/* Characters other than [A-Za-z0-9.-] of a directory name become '_'. */
static void
tidy_name(char *name)
{
	size_t i;

	for (i = 0; name[i] != '\0'; i++) {
		char ch = name[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		        (ch >= '0' && ch <= '9') || ch == '.' || ch == '-'))
			name[i] = '_';
	}
}

void
statedir_queue_name(const struct config *c, char label[STATEDIR_LABEL_MAX],
    char name[STATEDIR_NAME_MAX])
{
	const char *t = config_transport_name(c->transport);
	char id[2048], topic[KAFKA_TOPIC_MAX + 1];
	int n;

	if (c->transport == TRANSPORT_KAFKA) {
		kafka_queue_id(c, label, id, sizeof(id), topic, sizeof(topic));
		n = snprintf(name, STATEDIR_NAME_MAX, "kafka-%.80s-%08x", topic,
		    fnv32(id));
		if (n < 0)
			name[0] = '\0';
		tidy_name(name);
		return;
	}
	if (c->host != NULL)
		snprintf(label, STATEDIR_LABEL_MAX, "%s://%s:%d", t, c->host,
		    c->port);
	else
		snprintf(label, STATEDIR_LABEL_MAX, "%s", t);
	/* What the queue applies when it sends; the format is spooled. */
	snprintf(id, sizeof(id), "%s|%d|%s|%s|%s|%s", label, (int)c->framing,
	    opt(c->tls_ca_file), opt(c->tls_cert_file), opt(c->tls_key_file),
	    opt(c->tls_server_name));
	n = snprintf(name, STATEDIR_NAME_MAX, "%s-%s-%d-%08x", t,
	    c->host != NULL ? c->host : "local", c->port, fnv32(id));
	if (n < 0)
		name[0] = '\0';
	tidy_name(name);
}

int
statedir_queue(
    const char *state, const struct config *c, char *out, size_t outlen)
{
	char label[STATEDIR_LABEL_MAX], name[STATEDIR_NAME_MAX];

	statedir_queue_name(c, label, name);
	return make_dirs(state, "queues", name, out, outlen);
}

/* --- the move of a one-tenant state directory --- */

struct legacy {
	char file[NAME_MAX + 1]; /* cursor-API.json */
	char tenant_id[256];
};

/* The tenant id a legacy cursor file names, or "" when unreadable. */
static void
legacy_tenant(const char *path, char *out, size_t len)
{
	struct buf b;
	cJSON *root, *t;

	out[0] = '\0';
	buf_init(&b, 256UL * 1024 * 1024);
	if (statefile_read(path, &b) == 0 &&
	    (root = cJSON_ParseWithLength(buf_str(&b), b.len)) != NULL) {
		t = cJSON_GetObjectItemCaseSensitive(root, "tenant");
		if (cJSON_IsString(t))
			snprintf(out, len, "%s", t->valuestring);
		cJSON_Delete(root);
	}
	buf_reset(&b);
}

static size_t
find_legacy(const char *state, struct legacy *out, size_t max)
{
	char path[PATH_MAX];
	struct dirent *e;
	size_t n = 0, len;
	DIR *d;

	if ((d = opendir(state)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL && n < max) {
		len = strlen(e->d_name);
		if (strncmp(e->d_name, "cursor-", 7) != 0 || len < 13 ||
		    strcmp(e->d_name + len - 5, ".json") != 0)
			continue;
		snprintf(out[n].file, sizeof(out[n].file), "%s", e->d_name);
		if (join(path, sizeof(path), state, e->d_name, NULL) != 0)
			continue;
		legacy_tenant(path, out[n].tenant_id, sizeof(out[n].tenant_id));
		n++;
	}
	closedir(d);
	return n;
}

/* The tenant a legacy file belongs to: by tenant id, or the only one. */
static const struct config *
owner(const struct config_set *set, const char *tenant_id)
{
	size_t i;

	for (i = 0; i < set->ntenant; i++) {
		if (strcasecmp(set->tenant[i]->tenant_id, tenant_id) == 0)
			return set->tenant[i];
	}
	return set->ntenant == 1 ? set->tenant[0] : NULL;
}

static int
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* rename(from, to) unless to exists; both directories synced. */
static int
move(const char *from, const char *to, const char *todir, const char *state)
{
	struct stat st;

	if (lstat(to, &st) == 0) {
		log_warning(
		    "state: %s stays where it is: %s exists already", from, to);
		return 0;
	}
	if (rename(from, to) != 0 || fsync_dir(todir) != 0 ||
	    fsync_dir(state) != 0) {
		log_error("state: cannot move %s to %s: %s", from, to,
		    strerror(errno));
		return ERR_IO;
	}
	log_info("state: moved %s to %s", from, to);
	return 0;
}

static int
migrate_spool(const char *state, const struct config *to)
{
	char from[PATH_MAX], qdir[PATH_MAX], dest[PATH_MAX];
	struct stat st;
	int rc;

	if (join(from, sizeof(from), state, "spool", NULL) != 0 ||
	    lstat(from, &st) != 0 || !S_ISDIR(st.st_mode))
		return 0;
	if (to == NULL) {
		log_warning("state: %s is not moved to a queue: no configured "
		            "tenant has the tenant id of its cursor files",
		    from);
		return 0;
	}
	if ((rc = statedir_queue(state, to, qdir, sizeof(qdir))) != 0 ||
	    join(dest, sizeof(dest), qdir, "spool", NULL) != 0)
		return rc != 0 ? rc : ERR_TOOBIG;
	return move(from, dest, qdir, state);
}

/* The tenant id the first cursor file of directory dir names, or "". */
static void
dir_tenant_id(const char *dir, char *out, size_t len)
{
	struct legacy lg[1];

	out[0] = '\0';
	if (find_legacy(dir, lg, 1) == 1)
		snprintf(out, len, "%s", lg[0].tenant_id);
}

/*
 * A tenant renamed in the configuration (say the one tenant "default"
 * rewritten as [tenant contoso], same tenant id): the directory of the
 * old name, which no tenant is configured with any more, becomes the new
 * name's, so that its cursor is kept and nothing is delivered again.
 */
static int
adopt_renamed(const char *state, const struct config_set *set)
{
	char tdir[PATH_MAX], from[PATH_MAX], to[PATH_MAX], id[256];
	struct dirent *e;
	struct stat st;
	size_t i;
	DIR *d;
	int rc = 0;

	if (join(tdir, sizeof(tdir), state, "tenants", NULL) != 0 ||
	    (d = opendir(tdir)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' ||
		    config_set_find(set, e->d_name) != NULL ||
		    join(from, sizeof(from), tdir, e->d_name, NULL) != 0)
			continue;
		dir_tenant_id(from, id, sizeof(id));
		for (i = 0; id[0] != '\0' && i < set->ntenant; i++) {
			const struct config *t = set->tenant[i];

			if (strcasecmp(t->tenant_id, id) != 0 ||
			    join(to, sizeof(to), tdir, t->tenant_name, NULL) !=
			        0)
				continue;
			if (lstat(to, &st) == 0) {
				char have[256];

				/* Its own state already: keep both. */
				dir_tenant_id(to, have, sizeof(have));
				if (have[0] != '\0')
					break;
				if (rmdir(to) != 0)
					break;
			}
			log_info("state: tenant %s has the tenant id of the "
			         "state of %s, which is no longer configured: "
			         "it takes that state over",
			    t->tenant_name, e->d_name);
			if (move(from, to, tdir, state) != 0)
				rc = ERR_IO;
			break;
		}
	}
	closedir(d);
	return rc;
}

/*
 * Make way for a queue directory to be moved to qdir: an empty one (its
 * spool holds no segment, only perhaps a read position and its id) is
 * removed.
 * 0, or -1 when something else is there.
 */
static int
rmdir_spool(const char *qdir)
{
	char sp[PATH_MAX], f[PATH_MAX];
	struct stat st;

	if (lstat(qdir, &st) != 0)
		return 0;
	if (join(sp, sizeof(sp), qdir, "spool", NULL) != 0)
		return -1;
	if (join(f, sizeof(f), sp, "read.pos", NULL) == 0)
		(void)unlink(f);
	if (join(f, sizeof(f), sp, "queue.id", NULL) == 0)
		(void)unlink(f);
	(void)rmdir(sp);
	return rmdir(qdir) == 0 ? 0 : -1;
}

/* Whether a queue directory's spool holds segments. */
static int
has_segments(const char *qdir)
{
	char sp[PATH_MAX];
	struct dirent *e;
	size_t len;
	int found = 0;
	DIR *d;

	if (join(sp, sizeof(sp), qdir, "spool", NULL) != 0 ||
	    (d = opendir(sp)) == NULL)
		return 0;
	while (!found && (e = readdir(d)) != NULL) {
		len = strlen(e->d_name);
		found = len > 4 && strcmp(e->d_name + len - 4, ".seg") == 0;
	}
	closedir(d);
	return found;
}

/*
 * The output changed (a new collector host, say), and every tenant now
 * feeds one output: the queue of the old one, which no tenant uses any
 * more, becomes the new one's, so that what it holds is delivered there,
 * as a spool did before outputs had queues of their own.  With several
 * outputs, which one should take it is not known: it stays, and is
 * named in the log.
 */
static int
adopt_orphan_queue(const char *state, const struct config_set *set)
{
	char qroot[PATH_MAX], from[PATH_MAX], to[PATH_MAX];
	char label[STATEDIR_LABEL_MAX], name[STATEDIR_NAME_MAX];
	char first[STATEDIR_NAME_MAX], orphan[NAME_MAX + 1] = "";
	struct dirent *e;
	size_t i, orphans = 0;
	int single = 1;
	DIR *d;

	statedir_queue_name(set->tenant[0], label, first);
	for (i = 1; i < set->ntenant && single; i++) {
		statedir_queue_name(set->tenant[i], label, name);
		single = strcmp(name, first) == 0;
	}
	if (join(qroot, sizeof(qroot), state, "queues", NULL) != 0 ||
	    (d = opendir(qroot)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		int used = 0;

		if (e->d_name[0] == '.')
			continue;
		for (i = 0; i < set->ntenant && !used; i++) {
			statedir_queue_name(set->tenant[i], label, name);
			used = strcmp(name, e->d_name) == 0;
		}
		if (used ||
		    join(from, sizeof(from), qroot, e->d_name, NULL) != 0 ||
		    !has_segments(from))
			continue;
		orphans++;
		snprintf(orphan, sizeof(orphan), "%s", e->d_name);
		if (!single)
			log_warning(
			    "state: %s is the spool of an output no "
			    "tenant uses any more; whatever it has not "
			    "delivered stays there until a tenant feeds "
			    "that output again",
			    from);
	}
	closedir(d);
	if (!single || orphans != 1 ||
	    join(from, sizeof(from), qroot, orphan, NULL) != 0 ||
	    join(to, sizeof(to), qroot, first, NULL) != 0)
		return 0;
	if (has_segments(to)) {
		log_warning("state: %s is the spool of an output no tenant "
		            "uses any more, and %s has one of its own: both "
		            "stay",
		    from, to);
		return 0;
	}
	if (rmdir_spool(to) != 0)
		return 0;
	log_info("state: the output changed: what the queue of the old one "
	         "holds (%s) goes to the new one",
	    orphan);
	return move(from, to, qroot, state);
}

int
statedir_migrate(const char *state, const struct config_set *set)
{
	struct legacy lg[LEGACY_MAX];
	const struct config *spool_owner = NULL;
	char from[PATH_MAX], tdir[PATH_MAX], dest[PATH_MAX];
	size_t n = find_legacy(state, lg, LEGACY_MAX), i;
	int rc = 0;

	for (i = 0; i < n && spool_owner == NULL; i++)
		spool_owner = owner(set, lg[i].tenant_id);
	if (n == 0 && set->ntenant == 1)
		spool_owner = set->tenant[0];
	/* The spool first: its commits are newer than the cursor files. */
	if (migrate_spool(state, spool_owner) != 0)
		rc = ERR_IO;
	for (i = 0; i < n; i++) {
		const struct config *t = owner(set, lg[i].tenant_id);

		if (join(from, sizeof(from), state, lg[i].file, NULL) != 0)
			continue;
		if (t == NULL) {
			log_warning("state: %s names tenant %s, which is not "
			            "configured; it is left where it is",
			    from, lg[i].tenant_id);
			continue;
		}
		if (statedir_tenant(
		        state, t->tenant_name, tdir, sizeof(tdir)) != 0 ||
		    join(dest, sizeof(dest), tdir, lg[i].file, NULL) != 0 ||
		    move(from, dest, tdir, state) != 0)
			rc = ERR_IO;
	}
	if (adopt_renamed(state, set) != 0 ||
	    adopt_orphan_queue(state, set) != 0)
		rc = ERR_IO;
	return rc;
}
