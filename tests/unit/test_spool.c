/* SPDX-License-Identifier: MIT */
/*
 * The durable spool (src/spool.c): append/commit/read in order, the saved
 * read position, abort of an uncommitted page, recovery from a torn tail
 * and from corruption, COMMIT payloads, and segment deletion.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "check.h"
#include "errcode.h"
#include "spool.h"

static char dir[64];

static struct spool *
reopen(struct spool *sp, struct spool_recovery *rec, struct buf *last)
{
	char err[256];

	spool_close(sp);
	buf_reset(last); /* callers buf_init() it once */
	rec->last_commit = last;
	sp = spool_open(dir, rec, err, sizeof(err));
	if (sp == NULL)
		fprintf(stderr, "spool_open: %s\n", err);
	return sp;
}

static int
read_all(struct spool *sp, char *seen, size_t cap)
{
	const char *m;
	size_t len, used = 0;
	int sev, n = 0;

	seen[0] = '\0';
	while (spool_next(sp, &sev, &m, &len) == 0) {
		if (used + len + 2 < cap) {
			memcpy(seen + used, m, len);
			used += len;
			seen[used++] = ',';
			seen[used] = '\0';
		}
		n++;
	}
	return n;
}

static char *
seg_file(char *out, size_t n)
{
	snprintf(out, n, "%s/spool/%020d.seg", dir, 1);
	return out;
}

static int
count_keys(void *arg, const char *k, size_t n, const struct ts *t)
{
	(void)k;
	(void)t;
	*(size_t *)arg += n;
	return 0;
}

static void
test_basic(void)
{
	struct spool_recovery rec;
	struct buf last, payload;
	struct spool *sp = NULL;
	char seen[256], path[128];
	struct ts pos = {1700000000, 1234567}, got;
	uint64_t seq;
	int has;
	size_t klen = 0;
	struct stat st;

	buf_init(&last, 0);
	sp = reopen(sp, &rec, &last);
	CHECK(sp != NULL && spool_bytes(sp) == 0);
	buf_init(&payload, 0);
	spool_commit_begin(&payload, 1, 1, &pos);
	spool_commit_key(&payload, "k1", 2, &pos);
	spool_commit_key(&payload, "key2", 4, &pos);
	CHECK(spool_append(sp, 3, "a", 1) == 0);
	CHECK(spool_append(sp, 4, "bb", 2) == 0);
	/* Nothing is readable before the commit. */
	CHECK(read_all(sp, seen, sizeof(seen)) == 0);
	CHECK(spool_commit(sp, payload.data, payload.len) == 0);
	CHECK(spool_bytes(sp) > 0);
	CHECK(read_all(sp, seen, sizeof(seen)) == 2);
	CHECK_STR(seen, "a,bb,");
	/* An aborted page disappears. */
	CHECK(spool_append(sp, 3, "lost", 4) == 0);
	spool_abort(sp);
	CHECK(read_all(sp, seen, sizeof(seen)) == 0);
	/* Reopen: the commit comes back, the reader starts at the saved pos. */
	sp = reopen(sp, &rec, &last);
	CHECK(rec.truncated_bytes == 0 && last.len == payload.len);
	CHECK(spool_commit_decode(last.data, last.len, &seq, &has, &got,
	          count_keys, &klen) == 0);
	CHECK(seq == 1 && has && got.sec == pos.sec && got.tick == pos.tick);
	CHECK(klen == 6);
	CHECK(read_all(sp, seen, sizeof(seen)) == 2);
	CHECK(spool_save(sp, spool_tell(sp)) == 0);
	CHECK(spool_bytes(sp) == 0);
	sp = reopen(sp, &rec, &last);
	CHECK(read_all(sp, seen, sizeof(seen)) == 0);
	/* A page cut short by a crash: data without its COMMIT is dropped. */
	spool_append(sp, 3, "c", 1);
	spool_commit(sp, payload.data, payload.len);
	spool_append(sp, 3, "half", 4);
	spool_commit(sp, payload.data, payload.len);
	stat(seg_file(path, sizeof(path)), &st);
	CHECK(truncate(path, st.st_size - 3) == 0); /* torn COMMIT */
	sp = reopen(sp, &rec, &last);
	CHECK(rec.truncated_bytes > 0);
	CHECK(read_all(sp, seen, sizeof(seen)) == 1);
	CHECK_STR(seen, "c,");
	/* Rewind re-reads from the saved position. */
	CHECK(spool_rewind(sp) == 0);
	CHECK(read_all(sp, seen, sizeof(seen)) == 1);
	spool_close(sp);
	buf_reset(&payload);
	buf_reset(&last);
}

static void
test_corrupt(void)
{
	struct spool_recovery rec;
	struct buf last, payload;
	struct spool *sp = NULL;
	char seen[256], path[128];
	struct ts pos = {1, 0};
	int fd;

	buf_init(&last, 0);
	sp = reopen(sp, &rec, &last);
	read_all(sp, seen, sizeof(seen));
	spool_save(sp, spool_tell(sp));
	buf_init(&payload, 0);
	spool_commit_begin(&payload, 9, 0, &pos);
	spool_append(sp, 3, "one", 3);
	spool_append(sp, 3, "two", 3);
	spool_append(sp, 3, "three", 5);
	spool_commit(sp, payload.data, payload.len);
	/* Flip a byte inside "two": that entry is skipped, the rest read. */
	seg_file(path, sizeof(path));
	fd = open(path, O_RDWR);
	{
		char b[4096];
		ssize_t n = read(fd, b, sizeof(b));
		char *p = memmem(b, (size_t)n, "two", 3);

		CHECK(p != NULL);
		if (p != NULL) {
			lseek(fd, p - b, SEEK_SET);
			CHECK(write(fd, "tXo", 3) == 3);
		}
	}
	close(fd);
	sp = reopen(sp, &rec, &last);
	CHECK(read_all(sp, seen, sizeof(seen)) == 2);
	CHECK_STR(seen, "one,three,");
	spool_close(sp);
	buf_reset(&payload);
	buf_reset(&last);
}

static void
test_many(void)
{
	struct spool_recovery rec;
	struct buf last, payload;
	struct spool *sp = NULL;
	struct ts pos = {1, 0};
	char msg[2000];
	const char *m;
	size_t len;
	int i, sev, n = 0, order = 1;
	DIR *d;
	struct dirent *de;
	int segs = 0;

	buf_init(&last, 0);
	sp = reopen(sp, &rec, &last);
	while (spool_next(sp, &sev, &m, &len) == 0)
		;
	spool_save(sp, spool_tell(sp));
	buf_init(&payload, 0);
	spool_commit_begin(&payload, 2, 0, &pos);
	memset(msg, 'x', sizeof(msg));
	/* About 80 MB: crosses a segment boundary. */
	for (i = 0; i < 40000; i++) {
		snprintf(msg, 16, "%08d", i);
		spool_append(sp, 5, msg, sizeof(msg));
		if (i % 1000 == 999)
			spool_commit(sp, payload.data, payload.len);
	}
	while (spool_next(sp, &sev, &m, &len) == 0) {
		order &= strtol(m, NULL, 10) == n;
		n++;
	}
	CHECK(n == 40000 && order);
	CHECK(spool_save(sp, spool_tell(sp)) == 0);
	CHECK(spool_bytes(sp) == 0);
	snprintf(msg, sizeof(msg), "%s/spool", dir);
	d = opendir(msg);
	while ((de = readdir(d)) != NULL)
		segs += strstr(de->d_name, ".seg") != NULL;
	closedir(d);
	CHECK(segs == 1); /* read-past segments were deleted */
	spool_close(sp);
	buf_reset(&payload);
	buf_reset(&last);
}

/* A COMMIT names its owner; older COMMITs without one still decode. */
static void
test_owner(void)
{
	struct buf b;
	struct ts pos = {1700000000, 5}, got;
	const char *o;
	size_t n, klen = 0;
	uint64_t seq;
	int has;

	buf_init(&b, 0);
	CHECK(spool_commit_begin(&b, 7, 1, &pos) == 0);
	CHECK(spool_commit_owner_of(b.data, b.len, &o, &n) == 0);
	CHECK(o == NULL && n == 0);
	CHECK(spool_commit_owner(&b, "tid graph https://x", 19) == 0);
	CHECK(spool_commit_owner(&b, "again", 5) == ERR_PARSE);
	CHECK(spool_commit_key(&b, "k1", 2, &pos) == 0);
	CHECK(spool_commit_owner_of(b.data, b.len, &o, &n) == 0);
	CHECK(n == 19 && memcmp(o, "tid graph https://x", 19) == 0);
	CHECK(spool_commit_decode(
	          b.data, b.len, &seq, &has, &got, count_keys, &klen) == 0);
	CHECK(seq == 7 && has && got.sec == pos.sec && klen == 2);
	/* Cut inside the owner: refused, never read past the end. */
	CHECK(spool_commit_owner_of(b.data, 30, &o, &n) == ERR_PARSE);
	CHECK(spool_commit_decode(b.data, 30, &seq, &has, &got, count_keys,
	          &klen) == ERR_PARSE);
	buf_clear(&b);
	CHECK(spool_commit_begin(&b, 1, 0, NULL) == 0);
	CHECK(spool_commit_owner(&b, "x", SPOOL_OWNER_MAX + 1) == ERR_TOOBIG);
	buf_reset(&b);
}

/* KEYED entries beside DATA ones: key, tenant and version come back. */
static void
test_keyed(void)
{
	struct spool_recovery rec;
	struct buf last, big;
	struct spool *sp = NULL;
	struct spool_msg m, got;
	char cmd[128];
	const char *data;
	size_t len;
	int sev;

	snprintf(cmd, sizeof(cmd), "rm -rf '%s/spool'", dir);
	CHECK(system(cmd) == 0);
	buf_init(&last, 0);
	sp = reopen(sp, &rec, &last);
	CHECK(sp != NULL);
	if (sp == NULL)
		return;
	memset(&m, 0, sizeof(m));
	m.sev = 2;
	m.data = "CEF:0|one";
	m.len = 9;
	m.key = "da637"; /* an alert id */
	m.keylen = 5;
	m.tenant = "contoso";
	m.tenantlen = 7;
	m.version.sec = 1700000000;
	m.version.tick = 1234567;
	CHECK(spool_append_msg(sp, &m) == 0);
	CHECK(spool_append(sp, 4, "plain", 5) == 0);
	m.key = NULL;
	m.keylen = 0;
	m.tenant = NULL;
	m.tenantlen = 0;
	m.data = "";
	m.len = 0;
	CHECK(spool_append_msg(sp, &m) == 0);
	CHECK(spool_commit(sp, "c", 1) == 0);
	sp = reopen(sp, &rec, &last);
	CHECK(sp != NULL && rec.corrupt_bytes == 0);
	if (sp == NULL)
		return;
	CHECK(spool_next_msg(sp, &got) == 0);
	CHECK(got.sev == 2 && got.len == 9 &&
	    memcmp(got.data, "CEF:0|one", 9) == 0);
	CHECK(got.keylen == 5 && memcmp(got.key, "da637", 5) == 0);
	CHECK(got.tenantlen == 7 && memcmp(got.tenant, "contoso", 7) == 0);
	CHECK(got.version.sec == 1700000000 && got.version.tick == 1234567);
	CHECK(spool_next_msg(sp, &got) == 0);
	CHECK(got.sev == 4 && got.len == 5 && got.keylen == 0 &&
	    got.tenantlen == 0 && got.version.sec == 0);
	/* spool_next() reads a KEYED entry's message alone. */
	CHECK(spool_next(sp, &sev, &data, &len) == 0);
	CHECK(sev == 2 && len == 0);
	CHECK(spool_next_msg(sp, &got) == ERR_END);
	/* Too long a key or tenant is refused, not cut. */
	buf_init(&big, 0);
	CHECK(buf_reserve(&big, SPOOL_KEY_MAX + 2) == 0);
	memset(big.data, 'k', SPOOL_KEY_MAX + 1);
	m.key = big.data;
	m.keylen = SPOOL_KEY_MAX + 1;
	CHECK(spool_append_msg(sp, &m) == ERR_TOOBIG);
	m.keylen = 0;
	m.tenant = big.data;
	m.tenantlen = SPOOL_TENANT_MAX + 1;
	CHECK(spool_append_msg(sp, &m) == ERR_TOOBIG);
	buf_reset(&big);
	spool_close(sp);
	buf_reset(&last);
}

/* Partial commits keep the owner when the position is set last. */
static void
test_set_pos(void)
{
	struct buf b;
	struct ts pos = {1700000000, 5}, got;
	const char *o;
	size_t n, klen = 0;
	uint64_t seq;
	int has;

	buf_init(&b, 0);
	CHECK(spool_commit_begin(&b, 3, 0, NULL) == 0);
	CHECK(spool_commit_owner(&b, "me", 2) == 0);
	CHECK(spool_commit_key(&b, "k", 1, &pos) == 0);
	spool_commit_set_pos(&b, 1, &pos);
	CHECK(spool_commit_owner_of(b.data, b.len, &o, &n) == 0 && n == 2);
	CHECK(spool_commit_decode(
	          b.data, b.len, &seq, &has, &got, count_keys, &klen) == 0);
	CHECK(seq == 3 && has && got.sec == pos.sec && got.tick == 5);
	spool_commit_set_pos(&b, 0, NULL);
	CHECK(spool_commit_decode(
	          b.data, b.len, &seq, &has, &got, count_keys, &klen) == 0);
	CHECK(!has && spool_commit_owner_of(b.data, b.len, &o, &n) == 0 &&
	    n == 2);
	CHECK(spool_commit_key(&b, "x", SPOOL_KEY_MAX + 1, &pos) == ERR_TOOBIG);
	buf_reset(&b);
}

/* Copy the file from into dir/to. */
static int
copy_in(const char *from, const char *to)
{
	char path[256], chunk[4096];
	FILE *in, *out;
	size_t n;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, to);
	if ((in = fopen(from, "rb")) == NULL)
		return -1;
	if ((out = fopen(path, "wb")) == NULL) {
		fclose(in);
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0)
		rc |= fwrite(chunk, 1, n, out) != n;
	rc |= fclose(out) != 0;
	fclose(in);
	return rc ? -1 : 0;
}

/*
 * A spool written by the version before COMMITs named their owner
 * (tests/data/state/legacy, written by that version's daemon: three
 * messages, one COMMIT, all delivered): opened as it is, its COMMIT
 * decodes without owner, nothing is left to deliver.
 */
static void
test_legacy(void)
{
	const char *src = "tests/data/state/legacy/spool/";
	struct spool_recovery rec;
	struct spool *sp;
	struct buf last;
	struct ts got;
	char path[256];
	const char *o = "x", *m;
	size_t n = 1, klen = 0, len;
	uint64_t seq;
	int has, sev;

	snprintf(path, sizeof(path), "rm -rf '%s/spool'", dir);
	CHECK(system(path) == 0);
	snprintf(path, sizeof(path), "%s/spool", dir);
	CHECK(mkdir(path, 0700) == 0);
	snprintf(path, sizeof(path), "%s00000000000000000001.seg", src);
	CHECK(copy_in(path, "spool/00000000000000000001.seg") == 0);
	snprintf(path, sizeof(path), "%sread.pos", src);
	CHECK(copy_in(path, "spool/read.pos") == 0);
	buf_init(&last, 0);
	sp = reopen(NULL, &rec, &last);
	CHECK(sp != NULL);
	CHECK(rec.truncated_bytes == 0 && rec.corrupt_bytes == 0);
	CHECK(spool_commit_owner_of(last.data, last.len, &o, &n) == 0);
	CHECK(o == NULL && n == 0);
	CHECK(spool_commit_decode(last.data, last.len, &seq, &has, &got,
	          count_keys, &klen) == 0);
	CHECK(seq == 1 && has && klen == 3 * 76);
	CHECK(spool_pending(sp) == 0 &&
	    spool_next(sp, &sev, &m, &len) == ERR_END);
	CHECK(spool_rewind(sp) == 0);
	spool_close(sp);
	buf_reset(&last);
}

/* --- segment identity, gaps, read errors (many small segments) --- */

#define PAGES 30
#define PER_PAGE 10

static char spooldir[128];

static void
seg_name(char *out, size_t n, const char *d, int seg)
{
	snprintf(out, n, "%s/spool/%020d.seg", d, seg);
}

/* A fresh spool in dir with PAGES pages of PER_PAGE messages numbered. */
static void
fill_small(void)
{
	struct spool_recovery rec;
	struct buf last, payload;
	struct spool *sp;
	struct ts pos = {1, 0};
	char msg[1000], cmd[200];
	int i;

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", spooldir);
	CHECK(system(cmd) == 0);
	buf_init(&last, 0);
	buf_init(&payload, 0);
	sp = reopen(NULL, &rec, &last);
	spool_commit_begin(&payload, 2, 0, &pos);
	memset(msg, 'y', sizeof(msg));
	for (i = 0; i < PAGES * PER_PAGE; i++) {
		snprintf(msg, 16, "%08d", i);
		CHECK(spool_append(sp, 5, msg, sizeof(msg)) == 0);
		if (i % PER_PAGE == PER_PAGE - 1)
			CHECK(spool_commit(sp, payload.data, payload.len) == 0);
	}
	spool_close(sp);
	buf_reset(&last);
	buf_reset(&payload);
}

/* Read everything: how many, and whether in order with none twice. */
static int
read_ordered(struct spool *sp, int *in_order, int *lowest)
{
	const char *m;
	size_t len;
	int sev, n = 0, prev = -1, v;

	*in_order = 1;
	*lowest = -1;
	while (spool_next(sp, &sev, &m, &len) == 0) {
		v = (int)strtol(m, NULL, 10);
		*in_order &= v > prev;
		if (*lowest < 0)
			*lowest = v;
		prev = v;
		n++;
	}
	return n;
}

static void
test_swapped(void)
{
	struct spool_recovery rec;
	struct spool_damage d;
	struct buf last;
	struct spool *sp;
	char a[256], b[256], t[300];
	int n, ok, low;

	fill_small();
	seg_name(a, sizeof(a), dir, 2);
	seg_name(b, sizeof(b), dir, 3);
	snprintf(t, sizeof(t), "%s.tmp", a);
	CHECK(rename(a, t) == 0 && rename(b, a) == 0 && rename(t, b) == 0);
	buf_init(&last, 0);
	sp = reopen(NULL, &rec, &last);
	CHECK(sp != NULL);
	n = read_ordered(sp, &ok, &low);
	spool_get_damage(sp, &d);
	/* Neither swapped segment is read; what they held is counted. */
	CHECK(ok && n > 0 && n < PAGES * PER_PAGE);
	CHECK(d.foreign_segments == 2);
	CHECK((uint64_t)n + d.lost_messages == PAGES * PER_PAGE);
	CHECK(strstr(d.last, "never read") != NULL);
	spool_close(sp);
	buf_reset(&last);
}

static void
test_foreign(void)
{
	struct spool_recovery rec;
	struct spool_damage d;
	struct buf last;
	struct spool *sp;
	char a[256], cmd[600], other[128];
	int n, ok, low;

	/* Another queue's segment 2, restored over this one's. */
	fill_small();
	snprintf(other, sizeof(other), "%s-other", dir);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && cp -a '%s' '%s'", other, dir,
	    other);
	CHECK(system(cmd) == 0);
	fill_small();
	seg_name(a, sizeof(a), other, 2);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s/spool/'", a, dir);
	CHECK(system(cmd) == 0);
	buf_init(&last, 0);
	sp = reopen(NULL, &rec, &last);
	CHECK(sp != NULL);
	n = read_ordered(sp, &ok, &low);
	spool_get_damage(sp, &d);
	CHECK(ok && d.foreign_segments == 1);
	CHECK(strstr(d.last, "never read") != NULL || d.lost_messages > 0);
	CHECK((uint64_t)n + d.lost_messages == PAGES * PER_PAGE);
	spool_close(sp);
	buf_reset(&last);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", other);
	CHECK(system(cmd) == 0);
}

static void
test_gap(void)
{
	struct spool_recovery rec;
	struct spool_damage d;
	struct buf last;
	struct spool *sp;
	char a[256];
	const char *m;
	size_t len;
	int i, n, ok, low, sev;

	/* Read 1 page and a half, save, stop; segments 2 and 3 deleted. */
	fill_small();
	buf_init(&last, 0);
	sp = reopen(NULL, &rec, &last);
	for (i = 0; i < 95; i++)
		CHECK(spool_next(sp, &sev, &m, &len) == 0);
	CHECK(spool_save(sp, spool_tell(sp)) == 0);
	CHECK(spool_tell(sp).seg == 2);
	spool_close(sp);
	seg_name(a, sizeof(a), dir, 2);
	CHECK(unlink(a) == 0);
	seg_name(a, sizeof(a), dir, 3);
	CHECK(unlink(a) == 0);
	sp = reopen(NULL, &rec, &last);
	CHECK(sp != NULL);
	n = read_ordered(sp, &ok, &low);
	spool_get_damage(sp, &d);
	CHECK(ok && d.missing_segments == 2 && d.foreign_segments == 0);
	CHECK(95 + (uint64_t)n + d.lost_messages == PAGES * PER_PAGE);
	CHECK(d.lost_messages > 0 && d.lost_bytes > d.lost_messages * 1000);
	spool_close(sp);
	/* A hole after the read position: counted the same way. */
	fill_small();
	seg_name(a, sizeof(a), dir, 3);
	CHECK(unlink(a) == 0);
	sp = reopen(NULL, &rec, &last);
	n = read_ordered(sp, &ok, &low);
	spool_get_damage(sp, &d);
	CHECK(ok && d.missing_segments == 1 && low == 0);
	CHECK((uint64_t)n + d.lost_messages == PAGES * PER_PAGE);
	spool_close(sp);
	buf_reset(&last);
}

static void
test_read_error(void)
{
	struct spool_recovery rec;
	struct spool_damage d;
	struct buf last;
	struct spool *sp;
	char a[256], t[300];
	const char *m;
	size_t len;
	int i, n = 0, ok, low, sev, rc;

	/* Segment 2 becomes a directory while the reader is in segment 1. */
	fill_small();
	buf_init(&last, 0);
	sp = reopen(NULL, &rec, &last);
	for (i = 0; i < 5; i++)
		n += spool_next(sp, &sev, &m, &len) == 0;
	seg_name(a, sizeof(a), dir, 2);
	snprintf(t, sizeof(t), "%s.away", a);
	CHECK(rename(a, t) == 0 && mkdir(a, 0700) == 0);
	while ((rc = spool_next(sp, &sev, &m, &len)) == 0)
		n++;
	CHECK(rc == ERR_IO);
	CHECK(strstr(spool_read_error(sp),
	          "00000000000000000002.seg: Is a "
	          "directory") != NULL);
	CHECK(spool_next(sp, &sev, &m, &len) == ERR_IO);
	/* The fault goes away: the reader goes on where it stopped. */
	CHECK(rmdir(a) == 0 && rename(t, a) == 0);
	n += read_ordered(sp, &ok, &low);
	spool_get_damage(sp, &d);
	CHECK(ok && n == PAGES * PER_PAGE && d.events == 0);
	spool_close(sp);
	buf_reset(&last);
}

int
main(void)
{
	char cmd[128];

	snprintf(dir, sizeof(dir), "/tmp/mdesiem-spool-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	test_basic();
	test_owner();
	test_set_pos();
	test_corrupt();
	test_many();
	test_keyed();
	test_legacy();
	snprintf(spooldir, sizeof(spooldir), "%s/spool", dir);
	setenv("MDESIEM_SPOOL_SEGMENT_MAX", "65536", 1);
	test_swapped();
	test_foreign();
	test_gap();
	test_read_error();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	return check_done();
}
