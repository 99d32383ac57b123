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
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	return check_done();
}
