/* SPDX-License-Identifier: MIT */
/*
 * --replay (include/replay.h): the range checked, the replay area
 * STATE/replay prepared and locked, the configuration turned into a
 * replay's.  The run itself is the daemon's --once.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "replay.h"
#include "replay_range.h"
#include "statefile.h"

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2
#define EXIT_CONFIG 78
#define RANGE_FILE "range"

/* Keep only the tenant named, or say there is none such. */
static int
keep_tenant(struct config_set *set, const char *name)
{
	size_t i, keep = set->ntenant;

	for (i = 0; i < set->ntenant; i++)
		if (strcmp(set->tenant[i]->tenant_name, name) == 0)
			keep = i;
	if (keep == set->ntenant) {
		fprintf(
		    stderr, "mdesiemd: --tenant %s: no such tenant\n", name);
		return -1;
	}
	for (i = 0; i < set->ntenant; i++)
		if (i != keep)
			config_free(set->tenant[i]);
	set->tenant[0] = set->tenant[keep];
	set->ntenant = 1;
	return 0;
}

/* dir/name into out[PATH_MAX]: 0, or -1 when too long. */
static int
area_path(char *out, const char *dir, const char *name)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);

	return n >= 0 && n < PATH_MAX ? 0 : -1;
}

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	if (f->level == 0 || strcmp(path + f->base, "lock") == 0)
		return 0;
	if (remove(path) != 0) {
		log_error(
		    "replay: cannot remove %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * What the replay area holds: the range of the command that made it.
 * The same command again resumes it with the times it resolved then (a
 * duration such as 2d means the same range again); any other starts
 * afresh.
 */
static int
same_command(const char *dir, const char *want, struct ts *from, struct ts *to)
{
	char path[PATH_MAX];
	struct buf b;
	const char *times;
	size_t wn = strlen(want);
	int same = 0;

	if (area_path(path, dir, RANGE_FILE) != 0)
		return 0;
	buf_init(&b, 0);
	if (statefile_read(path, &b) == 0 && b.len > wn &&
	    memcmp(b.data, want, wn) == 0) {
		times = b.data + wn;
		if (b.len - wn >= 2 * (TS_STRLEN - 1) + 2 &&
		    ts_parse(times, TS_STRLEN - 1, from) == 0 &&
		    ts_parse(times + TS_STRLEN, TS_STRLEN - 1, to) == 0)
			same = 1;
	}
	buf_reset(&b);
	return same;
}

static int
write_range(const char *dir, const char *want, const struct ts *from,
    const struct ts *to)
{
	char path[PATH_MAX], a[TS_STRLEN], z[TS_STRLEN];
	struct buf b;
	int rc;

	if (area_path(path, dir, RANGE_FILE) != 0)
		return -1;
	ts_format7(from, a);
	ts_format7(to, z);
	buf_init(&b, 0);
	rc = buf_printf(&b, "%s%s\n%s\n", want, a, z);
	if (rc == 0)
		rc = statefile_write(path, b.data, b.len);
	buf_reset(&b);
	if (rc != 0)
		log_error("replay: cannot write %s: %s", path, strerror(errno));
	return rc;
}

static int
lock_area(const char *state, const char *dir)
{
	char path[PATH_MAX];
	int fd;

	if (statefile_mkdir(state) != 0 || statefile_mkdir(dir) != 0) {
		log_error("replay: cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	if (area_path(path, dir, "lock") != 0)
		return -1;
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		log_error("replay: cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		log_error("replay: another replay is running (it holds %s); "
		          "wait for it to end, or stop it",
		    path);
		close(fd);
		return -1;
	}
	return fd;
}

/* Check the range; 0, or an exit status. */
static int
check_range(const char *from_arg, const char *to_arg, const struct ts *now,
    struct ts *from, struct ts *to)
{
	struct replay_range r;
	struct ts oldest = *now;
	char a[TS_STRLEN], err[512];

	if (replay_range_parse(from_arg, to_arg, now, &r, err, sizeof(err)) !=
	    0) {
		fprintf(stderr, "mdesiemd: %s\n", err);
		return EXIT_USAGE;
	}
	*from = r.from;
	*to = r.to;
	ts_add_sec(&oldest, -(int64_t)REPLAY_RETENTION_DAYS * 86400);
	if (ts_cmp(from, &oldest) < 0) {
		ts_format7(from, a);
		fprintf(stderr,
		    "mdesiemd: --replay %s is older than Defender keeps "
		    "alerts (its retention period, %d days at most): nothing "
		    "before then can be read again\n",
		    a, REPLAY_RETENTION_DAYS);
		return EXIT_USAGE;
	}
	return 0;
}

/* The tenant's configuration turned into its replay's. */
static int
make_replay(struct config *c, const char *dir, const struct ts *from,
    const struct ts *to)
{
	char a[TS_STRLEN];
	char *sd, *sf;

	ts_format7(from, a);
	if ((sd = strdup(dir)) == NULL || (sf = strdup(a)) == NULL) {
		free(sd);
		return -1;
	}
	free(c->state_dir);
	c->state_dir = sd;
	free(c->start_from);
	c->start_from = sf;
	c->replay = 1;
	c->has_until_cap = 1;
	c->until_cap = *to;
	return 0;
}

int
replay_prepare(struct config_set *set, const char *from_arg, const char *to_arg,
    const char *tenant, int *lockfd)
{
	char dir[PATH_MAX], a[TS_STRLEN], z[TS_STRLEN];
	struct ts now, from, to;
	struct buf want;
	size_t i;
	int rc, n;

	ts_now(&now);
	if ((rc = check_range(from_arg, to_arg, &now, &from, &to)) != 0)
		return rc;
	if (tenant != NULL && keep_tenant(set, tenant) != 0)
		return EXIT_USAGE;
	n = snprintf(dir, sizeof(dir), "%s/replay", set->tenant[0]->state_dir);
	if (n < 0 || (size_t)n >= sizeof(dir))
		return EXIT_CONFIG;
	if ((*lockfd = lock_area(set->tenant[0]->state_dir, dir)) < 0)
		return EXIT_RUNTIME;
	buf_init(&want, 0);
	if (buf_printf(&want, "--replay %s --until %s --tenant %s\n", from_arg,
	        to_arg != NULL ? to_arg : "now",
	        tenant != NULL ? tenant : "(every tenant)") != 0) {
		buf_reset(&want);
		return EXIT_RUNTIME;
	}
	rc = 0;
	if (same_command(dir, want.data, &from, &to)) {
		log_info("replay: resuming the replay this command started");
	} else {
		if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
			rc = EXIT_RUNTIME;
		else if (write_range(dir, want.data, &from, &to) != 0)
			rc = EXIT_RUNTIME;
		else
			log_info("replay: a new range: %s starts afresh", dir);
	}
	buf_reset(&want);
	for (i = 0; rc == 0 && i < set->ntenant; i++)
		if (make_replay(set->tenant[i], dir, &from, &to) != 0)
			rc = EXIT_RUNTIME;
	if (rc != 0) {
		close(*lockfd);
		*lockfd = -1;
		return rc;
	}
	ts_format7(&from, a);
	ts_format7(&to, z);
	log_info("replay: reading %s to %s for %zu tenant%s; the live state "
	         "is not touched",
	    a, z, set->ntenant, set->ntenant == 1 ? "" : "s");
	return 0;
}
