/* SPDX-License-Identifier: MIT */
/*
 * The durable spool (include/spool.h): append-only segments of framed
 * entries with a CRC each, COMMIT entries that make a page durable
 * together with its cursor position, crash recovery, and an in-order
 * reader with a persisted position.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "crc32c.h"
#include "errcode.h"
#include "spool.h"
#include "statefile.h"

#define SPOOL_MAGIC 0x5153444dU /* "MDSQ" little endian */
#define HDR_LEN 16
#define MAX_ENTRY SPOOL_ENTRY_MAX
#define SEG_MAX (64ULL * 1024 * 1024)
#define WRITE_CHUNK (1024 * 1024)
#define READ_CHUNK (256 * 1024)
#define KEYED_META 20 /* a KEYED payload's lengths and version time */
#define ID_LEN 16 /* a queue's random id */
#define SEGHDR_LEN (HDR_LEN + ID_LEN + 24) /* a segment's HEADER entry */
#define SEG_MAX_LEAST (64 * 1024)

/* Entries (bytes incl. their headers, and messages) a queue wrote. */
struct seg_count {
	uint64_t bytes;
	uint64_t msgs;
};

/* What a segment's HEADER entry says. */
struct seg_hdr {
	unsigned char id[ID_LEN];
	uint64_t seq;
	struct seg_count before; /* what the queue wrote before it */
};

/* What scanning a whole segment found. */
struct seg_scan {
	uint64_t commit_end; /* end of its last COMMIT (or of its HEADER) */
	uint64_t corrupt; /* bytes that are no valid entry */
	struct seg_count at_commit; /* entries up to that COMMIT */
	struct seg_count all; /* every valid entry */
};

struct spool {
	char dir[PATH_MAX]; /* .../spool */
	/* writer */
	int wfd;
	uint64_t wseg;
	uint64_t wsize; /* bytes in the segment incl. wbuf */
	uint64_t committed; /* durable size of the write segment */
	struct buf wbuf; /* appended, not yet written */
	struct buf kbuf; /* a KEYED payload being put together */
	uint64_t
	    wstart; /* the write segment's HEADER bytes (0 or SEGHDR_LEN) */
	struct seg_count wc; /* written and committed, since the first HEADER */
	struct seg_count wp; /* the same with what is not committed yet */
	uint64_t seg_max;
	/* identity: segments from first_seq on carry a HEADER with qid */
	unsigned char qid[ID_LEN];
	uint64_t first_seq;
	/* reader */
	int rfd;
	uint64_t rseg;
	uint64_t roff; /* file offset of the next entry */
	struct buf rbuf; /* bytes read from rfd */
	size_t rpos; /* next entry within rbuf */
	uint64_t rbase; /* file offset of rbuf.data[0] */
	struct spool_pos saved;
	struct seg_count rc; /* what the queue wrote before the reader's pos */
	int rc_known; /* rc holds (not after an old segment or read.pos) */
	int rskip; /* rseg was set aside as not this queue's */
	int rretry; /* a read failed: open rseg again at roff */
	uint64_t gap_seen; /* newest segment a gap before it was counted */
	uint64_t skip_seen; /* newest segment set aside and counted */
	char rerr[PATH_MAX + 80]; /* the last read error: file and errno */
	char notes[SPOOL_NOTES][200]; /* the newest findings, by number */
	/* accounting */
	uint64_t bytes_before_w; /* committed bytes of older segments */
	struct spool_damage dmg;
	int in_damage; /* the reader is inside a damaged run */
	/* spool_set_commit_hook() */
	void (*commit_fn)(void *arg, const void *payload, size_t len);
	void *commit_arg;
};

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t
get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static uint32_t
entry_crc(const unsigned char *hdr, const void *payload, size_t len)
{
	uint32_t crc = crc32c_update(0, hdr + 4, 4);

	crc = crc32c_update(crc, hdr + 12, 4);
	return crc32c_update(crc, payload, len);
}

static int
seg_path(const struct spool *sp, uint64_t seg, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s/%020" PRIu64 ".seg", sp->dir, seg);

	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/*
 * Validate the entry at p (avail bytes).  Returns its total size, 0 when
 * more bytes are needed, or -1 when it is not a valid entry.
 */
static long
entry_check(const unsigned char *p, size_t avail)
{
	uint32_t len;

	if (avail < HDR_LEN)
		return 0;
	if (get32(p) != SPOOL_MAGIC)
		return -1;
	len = get32(p + 4);
	if (len > MAX_ENTRY ||
	    (p[12] != SPOOL_DATA && p[12] != SPOOL_COMMIT &&
	        p[12] != SPOOL_KEYED && p[12] != SPOOL_HEADER))
		return -1;
	if (avail < HDR_LEN + (size_t)len)
		return 0;
	if (entry_crc(p, p + HDR_LEN, len) != get32(p + 8))
		return -1;
	return (long)(HDR_LEN + len);
}

/* --- segment listing and recovery --- */

static int
list_segments(const struct spool *sp, uint64_t *first, uint64_t *last)
{
	DIR *d = opendir(sp->dir);
	struct dirent *de;
	int found = 0;

	if (d == NULL)
		return ERR_IO;
	*first = UINT64_MAX;
	*last = 0;
	while ((de = readdir(d)) != NULL) {
		char *end;
		unsigned long long v;

		if (strlen(de->d_name) != 24 ||
		    strcmp(de->d_name + 20, ".seg") != 0)
			continue;
		errno = 0;
		v = strtoull(de->d_name, &end, 10);
		if (errno != 0 || end != de->d_name + 20 || v == 0)
			continue;
		found = 1;
		if (v < *first)
			*first = v;
		if (v > *last)
			*last = v;
	}
	closedir(d);
	if (!found)
		*first = *last = 0;
	return 0;
}

static int
read_file(const char *path, struct buf *b)
{
	buf_clear(b);
	return statefile_read(path, b);
}

/* Count an entry of type t and n bytes (a HEADER is not counted). */
static void
count_entry(struct seg_count *c, int t, uint64_t n)
{
	if (t == SPOOL_HEADER)
		return;
	c->bytes += n;
	if (t == SPOOL_DATA || t == SPOOL_KEYED)
		c->msgs++;
}

/*
 * Scan a whole segment (see struct seg_scan); the payload of its last
 * valid COMMIT is copied into commit when not NULL.
 */
static int
scan_segment(const char *path, struct buf *commit, struct seg_scan *sc)
{
	struct buf b;
	size_t pos = 0;
	int rc;

	buf_init(&b, 0);
	memset(sc, 0, sizeof(*sc));
	if ((rc = read_file(path, &b)) != 0)
		goto out;
	while (pos < b.len) {
		const unsigned char *p = (const unsigned char *)b.data + pos;
		long n = entry_check(p, b.len - pos);

		if (n <= 0) {
			/* Torn tail or damage: look for the next entry. */
			pos++;
			if (n < 0)
				sc->corrupt++;
			continue;
		}
		count_entry(&sc->all, p[12], (uint64_t)n);
		if (p[12] == SPOOL_HEADER && pos == 0)
			sc->commit_end = (uint64_t)n;
		if (p[12] == SPOOL_COMMIT) {
			sc->commit_end = pos + (size_t)n;
			sc->at_commit = sc->all;
			if (commit != NULL) {
				buf_clear(commit);
				if ((rc = buf_add(commit, p + HDR_LEN,
				         (size_t)n - HDR_LEN)) != 0)
					goto out;
			}
		}
		pos += (size_t)n;
	}
out:
	buf_reset(&b);
	return rc;
}

/* Note a finding for the log line (its counters are the caller's). */
static void __attribute__((format(printf, 2, 3)))
finding(struct spool *sp, const char *fmt, ...)
{
	va_list ap;

	sp->dmg.events++;
	va_start(ap, fmt);
	vsnprintf(sp->dmg.last, sizeof(sp->dmg.last), fmt, ap);
	va_end(ap);
	memcpy(sp->notes[sp->dmg.events % SPOOL_NOTES], sp->dmg.last,
	    sizeof(sp->dmg.last));
}

/* --- segment identity --- */

static void
hdr_encode(const struct spool *sp, uint64_t seq, unsigned char *p)
{
	unsigned char *q = p + HDR_LEN;

	memcpy(q, sp->qid, ID_LEN);
	put64(q + ID_LEN, seq);
	put64(q + ID_LEN + 8, sp->wc.bytes);
	put64(q + ID_LEN + 16, sp->wc.msgs);
	put32(p, SPOOL_MAGIC);
	put32(p + 4, SEGHDR_LEN - HDR_LEN);
	p[12] = SPOOL_HEADER;
	p[13] = p[14] = p[15] = 0;
	put32(p + 8, entry_crc(p, q, SEGHDR_LEN - HDR_LEN));
}

/*
 * The HEADER at the start of the segment open on fd: 1 with *h, 0 when
 * it starts with none, -1 on a read error (errno set).
 */
static int
hdr_read(int fd, struct seg_hdr *h)
{
	unsigned char p[SEGHDR_LEN];
	const unsigned char *q = p + HDR_LEN;
	ssize_t n;

	do {
		n = pread(fd, p, sizeof(p), 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof(p) || p[12] != SPOOL_HEADER ||
	    entry_check(p, sizeof(p)) != (long)SEGHDR_LEN)
		return 0;
	memcpy(h->id, q, ID_LEN);
	h->seq = get64(q + ID_LEN);
	h->before.bytes = get64(q + ID_LEN + 8);
	h->before.msgs = get64(q + ID_LEN + 16);
	return 1;
}

/* Why segment seg with header h (NULL: none) is not ours, or NULL. */
static const char *
hdr_mismatch(const struct spool *sp, uint64_t seg, const struct seg_hdr *h)
{
	if (h == NULL)
		return "has no identity header (written by something else?)";
	if (memcmp(h->id, sp->qid, ID_LEN) != 0)
		return "belongs to another queue (restored from another state "
		       "directory?)";
	if (h->seq != seg)
		return "is another segment of this queue under this name "
		       "(segments renamed or swapped?)";
	return NULL;
}

/* Segment seg's HEADER: as hdr_read(), -1 also when it cannot be opened. */
static int
seg_header(const struct spool *sp, uint64_t seg, struct seg_hdr *h)
{
	char path[PATH_MAX];
	int fd, r;

	if (seg_path(sp, seg, path, sizeof(path)) != 0 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	r = hdr_read(fd, h);
	close(fd);
	return r;
}

static void
hex_of(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
id_parse(struct spool *sp, const char *text)
{
	char hex[2 * ID_LEN + 2];
	unsigned long long first;
	size_t i;

	if (sscanf(text, "%33s %llu", hex, &first) != 2 ||
	    strlen(hex) != 2 * ID_LEN || first == 0)
		return -1;
	for (i = 0; i < ID_LEN; i++) {
		unsigned int v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		sp->qid[i] = (unsigned char)v;
	}
	sp->first_seq = first;
	return 0;
}

/*
 * Load the queue's identity (spool/queue.id: its random id and the
 * first segment that carries it), or make one.  Segments before that
 * one were written before segments had headers and are read unchecked.
 */
static int
id_load(struct spool *sp, uint64_t last)
{
	char path[PATH_MAX], text[2 * ID_LEN + 32];
	struct seg_hdr h;
	struct buf b;
	int n, had;

	n = snprintf(path, sizeof(path), "%s/queue.id", sp->dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return ERR_IO;
	buf_init(&b, 128);
	n = statefile_read(path, &b);
	had = n == 0 ? 0 : -1;
	if (n == 0 && id_parse(sp, buf_str(&b)) == 0) {
		buf_reset(&b);
		return 0;
	}
	buf_reset(&b);
	if (had == 0 || n != ERR_NOTFOUND)
		finding(sp,
		    "spool/queue.id is damaged: a new one is made; "
		    "the segments there are read without their "
		    "identity checked");
	else if (last > 0 && seg_header(sp, last, &h) == 1)
		finding(sp,
		    "spool/queue.id is missing: a new one is made; "
		    "the segments there are read without their "
		    "identity checked");
	if (getrandom(sp->qid, ID_LEN, 0) != ID_LEN)
		return ERR_IO;
	sp->first_seq = last + 1;
	hex_of(sp->qid, ID_LEN, text);
	n = (int)strlen(text);
	n += snprintf(text + n, sizeof(text) - (size_t)n, " %llu\n",
	    (unsigned long long)sp->first_seq);
	return statefile_write(path, text, (size_t)n) != 0 ? ERR_IO : 0;
}

static int write_out(struct spool *sp);

/*
 * Start the empty write segment with its HEADER (what the queue wrote
 * before it included).  It becomes durable with the segment's first
 * COMMIT; recovery keeps it (see scan_segment()).
 */
static int
put_header(struct spool *sp)
{
	unsigned char h[SEGHDR_LEN];
	int rc;

	hdr_encode(sp, sp->wseg, h);
	if ((rc = buf_add(&sp->wbuf, h, sizeof(h))) != 0)
		return rc;
	if ((rc = write_out(sp)) != 0) {
		buf_clear(&sp->wbuf);
		if (ftruncate(sp->wfd, 0) != 0 ||
		    lseek(sp->wfd, 0, SEEK_SET) < 0)
			return ERR_IO;
		return rc;
	}
	sp->wstart = sp->wsize = sp->committed = SEGHDR_LEN;
	return 0;
}

static int
open_writer(struct spool *sp, uint64_t seg)
{
	char path[PATH_MAX];
	struct stat st;

	if (seg_path(sp, seg, path, sizeof(path)) != 0)
		return ERR_IO;
	sp->wfd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	/* A new segment's name must be durable before what it holds is. */
	if (sp->wfd >= 0 && statefile_sync_dir(sp->dir) != 0)
		return ERR_IO;
	if (sp->wfd < 0 && errno == EEXIST)
		sp->wfd = open(path, O_WRONLY | O_CLOEXEC);
	if (sp->wfd < 0 || fstat(sp->wfd, &st) != 0)
		return ERR_IO;
	sp->wseg = seg;
	sp->wsize = sp->committed = (uint64_t)st.st_size;
	sp->wstart = seg >= sp->first_seq ? SEGHDR_LEN : 0;
	if (lseek(sp->wfd, 0, SEEK_END) < 0)
		return ERR_IO;
	if (st.st_size == 0 && seg >= sp->first_seq)
		return put_header(sp);
	return 0;
}

static uint64_t
file_size(const struct spool *sp, uint64_t seg)
{
	char path[PATH_MAX];
	struct stat st;

	if (seg_path(sp, seg, path, sizeof(path)) != 0 || stat(path, &st) != 0)
		return 0;
	return (uint64_t)st.st_size;
}

static void
readpos_damage(struct spool *sp, struct spool_recovery *rec, const char *why)
{
	sp->dmg.readpos_resets++;
	finding(sp, "%s", why);
	snprintf(rec->readpos, sizeof(rec->readpos), "%s", why);
}

/* Delete segments first..seg-1, wholly before the read position. */
static void
drop_before(struct spool *sp, uint64_t first, uint64_t seg)
{
	char path[PATH_MAX];

	for (; first < seg; first++)
		if (seg_path(sp, first, path, sizeof(path)) == 0)
			unlink(path);
}

/* read.pos: "seg off", or "seg off bytes messages" (see spool_save()). */
static void
use_saved(struct spool *sp, struct spool_recovery *rec, uint64_t first,
    uint64_t last, const unsigned long long *v, int n)
{
	if (v[0] >= first && v[0] <= last) {
		uint64_t size = file_size(sp, v[0]);

		drop_before(sp, first, v[0]); /* a crash in spool_save() */
		sp->saved.seg = v[0];
		sp->saved.off = v[1] <= size ? v[1] : size;
		if (v[1] > size)
			readpos_damage(sp, rec,
			    "spool/read.pos is past the "
			    "end of its segment (the "
			    "segment was cut short?): "
			    "reading on from its end");
	} else if (v[0] > last) {
		readpos_damage(sp, rec,
		    "spool/read.pos names a segment "
		    "after the last one (segments "
		    "deleted, or restored from a "
		    "backup?): reading from the first "
		    "segment; messages may be "
		    "delivered twice");
		return;
	} else if (n == 4) {
		/* spool_save() writes read.pos before it deletes. */
		sp->dmg.missing_segments += first - v[0];
		finding(sp,
		    "segments %llu to %llu are missing (deleted?); what they "
		    "held is lost",
		    (unsigned long long)v[0], (unsigned long long)first - 1);
	}
	if (n == 4 && v[0] <= last) {
		sp->saved.counted = 1;
		sp->saved.bytes = v[2];
		sp->saved.msgs = v[3];
	}
}

static int
load_saved(
    struct spool *sp, uint64_t first, uint64_t last, struct spool_recovery *rec)
{
	char path[PATH_MAX];
	struct buf b;
	unsigned long long v[4];
	int n, got = 0;

	memset(&sp->saved, 0, sizeof(sp->saved));
	sp->saved.seg = first;
	n = snprintf(path, sizeof(path), "%s/read.pos", sp->dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return ERR_IO;
	buf_init(&b, 4096);
	n = statefile_read(path, &b);
	if (n == 0)
		got = sscanf(buf_str(&b), "%llu %llu %llu %llu", &v[0], &v[1],
		    &v[2], &v[3]);
	if (n == 0 && (got == 2 || got == 4))
		use_saved(sp, rec, first, last, v, got);
	else if (n == ERR_NOTFOUND && first >= sp->first_seq) {
		/* Nothing read yet: the reader starts at the queue's start. */
		sp->saved.counted = 1;
		if (first > sp->first_seq) {
			sp->dmg.missing_segments += first - sp->first_seq;
			finding(sp,
			    "segments %llu to %llu are missing (deleted?); "
			    "what they held is lost",
			    (unsigned long long)sp->first_seq,
			    (unsigned long long)first - 1);
		}
	} else if (n != ERR_NOTFOUND)
		readpos_damage(sp, rec,
		    "spool/read.pos is unreadable: reading "
		    "from the first segment; messages may "
		    "be delivered twice");
	buf_reset(&b);
	return 0;
}

/*
 * Truncate the newest segment after its last COMMIT (see header); *cnt
 * receives the entries it keeps.
 */
static int
recover_tail(struct spool *sp, uint64_t last, struct spool_recovery *rec,
    struct seg_count *cnt)
{
	char path[PATH_MAX];
	struct seg_scan sc, prev;
	uint64_t size = file_size(sp, last);
	int rc;

	if (seg_path(sp, last, path, sizeof(path)) != 0)
		return ERR_IO;
	if ((rc = scan_segment(path, rec->last_commit, &sc)) != 0)
		return rc;
	if (sc.commit_end < size) {
		if (truncate(path, (off_t)sc.commit_end) != 0)
			return ERR_IO;
		rec->truncated_bytes += size - sc.commit_end;
	}
	*cnt = sc.at_commit;
	rec->corrupt_bytes += sc.corrupt > size - sc.commit_end
	    ? sc.corrupt - (size - sc.commit_end)
	    : 0;
	/* The newest COMMIT may sit in the segment before an empty one. */
	if (last > 1 && rec->last_commit->len == 0) {
		if (seg_path(sp, last - 1, path, sizeof(path)) == 0 &&
		    access(path, F_OK) == 0)
			scan_segment(path, rec->last_commit, &prev);
	}
	return 0;
}

/*
 * Check every segment the reader has still to read, not only the newest:
 * what is damaged in them is found (and logged by the caller) at start,
 * not when the reader gets there.
 */
static int
check_older(struct spool *sp, uint64_t last, struct spool_recovery *rec)
{
	char path[PATH_MAX];
	struct seg_scan sc;
	uint64_t s;

	for (s = sp->saved.seg; s < last; s++) {
		if (seg_path(sp, s, path, sizeof(path)) != 0)
			return ERR_IO;
		if (access(path, F_OK) != 0)
			continue;
		/* One that cannot be read is the reader's to report. */
		if (scan_segment(path, NULL, &sc) != 0)
			continue;
		if (sc.corrupt > 0) {
			rec->corrupt_bytes += sc.corrupt;
			rec->damaged_segments++;
		}
	}
	return 0;
}

static void
account(struct spool *sp, uint64_t first)
{
	uint64_t s;

	sp->bytes_before_w = 0;
	for (s = first; s < sp->wseg; s++)
		sp->bytes_before_w += file_size(sp, s);
}

/*
 * Writing goes on in the newest segment, unless it is not this queue's:
 * then it is left as it is, for the reader to set aside, and writing
 * goes on in a new one.
 */
static int
resume_writer(struct spool *sp, uint64_t last, struct spool_recovery *rec)
{
	struct seg_hdr h;
	struct seg_count cnt;
	int r = 0, torn = file_size(sp, last) < SEGHDR_LEN;

	if (last >= sp->first_seq && !torn) {
		r = seg_header(sp, last, &h);
		if (r < 0)
			return ERR_IO;
		if (r == 0 || hdr_mismatch(sp, last, &h) != NULL)
			return open_writer(sp, last + 1);
	}
	if (recover_tail(sp, last, rec, &cnt) != 0)
		return ERR_IO;
	if (r == 1) {
		sp->wc.bytes = h.before.bytes + cnt.bytes;
		sp->wc.msgs = h.before.msgs + cnt.msgs;
	}
	sp->wp = sp->wc;
	return open_writer(sp, last);
}

/*
 * A test hook, not a setting: MDESIEM_SPOOL_SEGMENT_MAX=65536 starts a
 * new segment after 64 KiB instead of 64 MiB, so that tests of many
 * segments need few messages.  Values outside [64 KiB, 64 MiB] are
 * ignored.
 */
static uint64_t
seg_max(void)
{
	const char *v = getenv("MDESIEM_SPOOL_SEGMENT_MAX");
	unsigned long long n;
	char *end;

	if (v == NULL || *v == '\0')
		return SEG_MAX;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < SEG_MAX_LEAST || n > SEG_MAX)
		return SEG_MAX;
	return n;
}

struct spool *
spool_open(
    const char *dir, struct spool_recovery *rec, char *err, size_t errlen)
{
	struct spool *sp = calloc(1, sizeof(*sp));
	uint64_t first, last;
	int n;

	if (sp == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	sp->wfd = sp->rfd = -1;
	buf_init(&sp->wbuf, 0);
	buf_init(&sp->kbuf, 0);
	buf_init(&sp->rbuf, 0);
	rec->truncated_bytes = rec->corrupt_bytes = 0;
	rec->damaged_segments = 0;
	rec->readpos[0] = '\0';
	buf_clear(rec->last_commit);
	n = snprintf(sp->dir, sizeof(sp->dir), "%s/spool", dir);
	if (n < 0 || (size_t)n >= sizeof(sp->dir) ||
	    statefile_mkdir(sp->dir) != 0 ||
	    list_segments(sp, &first, &last) != 0)
		goto fail;
	sp->seg_max = seg_max();
	if (id_load(sp, last) != 0)
		goto fail;
	if (last == 0)
		first = 1;
	if ((last == 0 ? open_writer(sp, 1) : resume_writer(sp, last, rec)) !=
	        0 ||
	    load_saved(sp, first, sp->wseg, rec) != 0 ||
	    check_older(sp, sp->wseg, rec) != 0)
		goto fail;
	account(sp, first);
	/* A read error is the reader's to retry and report. */
	if (spool_rewind(sp) != 0 && !sp->rretry)
		goto fail;
	return sp;
fail:
	snprintf(err, errlen, "spool %s: %s", sp->dir, strerror(errno));
	spool_close(sp);
	return NULL;
}

void
spool_close(struct spool *sp)
{
	if (sp == NULL)
		return;
	if (sp->wfd >= 0)
		close(sp->wfd);
	if (sp->rfd >= 0)
		close(sp->rfd);
	buf_reset(&sp->wbuf);
	buf_reset(&sp->kbuf);
	buf_reset(&sp->rbuf);
	free(sp);
}

/* --- writer --- */

static int
write_out(struct spool *sp)
{
	const char *p = sp->wbuf.data;
	size_t left = sp->wbuf.len;

	while (left > 0) {
		ssize_t n = write(sp->wfd, p, left);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == ENOSPC || errno == EDQUOT ? ERR_FULL
			                                          : ERR_IO;
		}
		p += n;
		left -= (size_t)n;
	}
	buf_clear(&sp->wbuf);
	return 0;
}

static int rotate(struct spool *sp);

static int
append_entry(
    struct spool *sp, int type, int sev, const void *payload, size_t len)
{
	unsigned char hdr[HDR_LEN];
	int rc;

	if (len > MAX_ENTRY)
		return ERR_TOOBIG;
	/* A page starts: not in a segment whose name was deleted. */
	if (sp->wsize == sp->committed && sp->wbuf.len == 0 &&
	    (rc = rotate(sp)) != 0)
		return rc;
	put32(hdr, SPOOL_MAGIC);
	put32(hdr + 4, (uint32_t)len);
	hdr[12] = (unsigned char)type;
	hdr[13] = (unsigned char)sev;
	hdr[14] = hdr[15] = 0;
	put32(hdr + 8, entry_crc(hdr, payload, len));
	if ((rc = buf_add(&sp->wbuf, hdr, HDR_LEN)) != 0 ||
	    (rc = buf_add(&sp->wbuf, payload, len)) != 0)
		return rc;
	sp->wsize += HDR_LEN + len;
	count_entry(&sp->wp, type, HDR_LEN + len);
	if (sp->wbuf.len >= WRITE_CHUNK)
		return write_out(sp);
	return 0;
}

int
spool_append(struct spool *sp, int sev, const char *msg, size_t len)
{
	return append_entry(sp, SPOOL_DATA, sev, msg, len);
}

int
spool_append_msg(struct spool *sp, const struct spool_msg *m)
{
	unsigned char meta[KEYED_META];
	struct buf *b = &sp->kbuf;
	int rc;

	if (m->keylen > SPOOL_KEY_MAX || m->tenantlen > SPOOL_TENANT_MAX)
		return ERR_TOOBIG;
	meta[0] = (unsigned char)m->keylen;
	meta[1] = (unsigned char)(m->keylen >> 8);
	meta[2] = (unsigned char)m->tenantlen;
	meta[3] = 0;
	put64(meta + 4, (uint64_t)m->version.sec);
	put32(meta + 12, (uint32_t)m->version.tick);
	put32(meta + 16, 0);
	buf_clear(b);
	if ((rc = buf_add(b, meta, KEYED_META)) != 0 ||
	    (m->keylen > 0 && (rc = buf_add(b, m->key, m->keylen)) != 0) ||
	    (m->tenantlen > 0 &&
	        (rc = buf_add(b, m->tenant, m->tenantlen)) != 0) ||
	    (rc = buf_add(b, m->data, m->len)) != 0)
		return rc;
	return append_entry(sp, SPOOL_KEYED, m->sev, b->data, b->len);
}

/* Start a new segment once the current one is large (at commits only). */
static int
rotate(struct spool *sp)
{
	struct stat st;

	/* put_header() failed (disk full): the segment is still empty. */
	if (sp->committed == 0 && sp->wseg >= sp->first_seq)
		return put_header(sp);
	if (sp->committed < sp->seg_max) {
		/* Its name deleted while written (an operator "clearing"
		 * the spool): what follows goes to a segment one can see. */
		if (fstat(sp->wfd, &st) != 0 || st.st_nlink > 0)
			return 0;
		sp->dmg.deleted_segments++;
		finding(sp,
		    "segment %llu was deleted while in use; what the reader "
		    "had not opened of it is lost",
		    (unsigned long long)sp->wseg);
	}
	sp->bytes_before_w += sp->committed;
	close(sp->wfd);
	sp->wfd = -1;
	/* open_writer() makes the new segment's name durable. */
	return open_writer(sp, sp->wseg + 1);
}

int
spool_commit(struct spool *sp, const void *payload, size_t len)
{
	int rc;

	if ((rc = append_entry(sp, SPOOL_COMMIT, 0, payload, len)) != 0 ||
	    (rc = write_out(sp)) != 0)
		return rc;
	if (fdatasync(sp->wfd) != 0)
		return errno == ENOSPC || errno == EDQUOT ? ERR_FULL : ERR_IO;
	sp->committed = sp->wsize;
	sp->wc = sp->wp;
	return rotate(sp);
}

void
spool_abort(struct spool *sp)
{
	buf_clear(&sp->wbuf);
	sp->wp = sp->wc;
	if (sp->wsize != sp->committed) {
		if (ftruncate(sp->wfd, (off_t)sp->committed) == 0)
			sp->wsize = sp->committed;
		lseek(sp->wfd, 0, SEEK_END);
	}
}

uint64_t
spool_bytes(const struct spool *sp)
{
	uint64_t total = sp->bytes_before_w + sp->committed,
	         off = sp->saved.off;

	/* An empty segment's HEADER is not a backlog. */
	if (sp->saved.seg == sp->wseg && off < sp->wstart)
		off = sp->wstart;
	return total > off ? total - off : 0;
}

uint64_t
spool_pending(const struct spool *sp)
{
	uint64_t total, s;

	if (sp->rseg >= sp->wseg)
		return sp->committed > sp->roff ? sp->committed - sp->roff : 0;
	total = file_size(sp, sp->rseg);
	total = total > sp->roff ? total - sp->roff : 0;
	for (s = sp->rseg + 1; s < sp->wseg; s++)
		total += file_size(sp, s);
	return total + sp->committed;
}

/* --- reader --- */

/* n bytes at the reader's position are not a valid entry. */
static void
damaged(struct spool *sp, uint64_t n)
{
	if (!sp->in_damage) {
		sp->dmg.regions++;
		finding(sp,
		    "segment %llu at offset %llu is damaged; the reader skips "
		    "to the next intact message",
		    (unsigned long long)sp->rseg, (unsigned long long)sp->roff);
	}
	sp->in_damage = 1;
	sp->dmg.bytes += n;
}

/* Segment seg, which the reader should read, does not exist. */
static void
missing(struct spool *sp, uint64_t seg)
{
	sp->dmg.missing_segments++;
	finding(sp, "segment %llu is missing (deleted?); what it held is lost",
	    (unsigned long long)seg);
}

const char *
spool_damage_note(const struct spool *sp, uint64_t k)
{
	if (k == 0 || k > sp->dmg.events || sp->dmg.events - k >= SPOOL_NOTES)
		return NULL;
	return sp->notes[k % SPOOL_NOTES];
}

void
spool_get_damage(const struct spool *sp, struct spool_damage *d)
{
	*d = sp->dmg;
}

/* A read failed (errno): said once by the caller; retried at roff. */
static int
read_failed(struct spool *sp, uint64_t seg)
{
	char path[PATH_MAX];
	int e = errno;

	if (seg_path(sp, seg, path, sizeof(path)) != 0)
		path[0] = '\0';
	snprintf(sp->rerr, sizeof(sp->rerr), "%s: %s", path, strerror(e));
	if (sp->rfd >= 0)
		close(sp->rfd);
	sp->rfd = -1;
	sp->rretry = 1;
	errno = e;
	return ERR_IO;
}

/*
 * What the queue wrote before segment seg (its HEADER says) and what the
 * reader read: more written than read was lost on the way (segments
 * deleted, cut short or set aside).
 */
static void
gap_check(struct spool *sp, uint64_t seg, const struct seg_count *before)
{
	uint64_t bytes, msgs;

	if (sp->rc_known && before->bytes > sp->rc.bytes &&
	    seg > sp->gap_seen) {
		bytes = before->bytes - sp->rc.bytes;
		msgs =
		    before->msgs > sp->rc.msgs ? before->msgs - sp->rc.msgs : 0;
		sp->gap_seen = seg;
		sp->dmg.lost_bytes += bytes;
		sp->dmg.lost_messages += msgs;
		finding(sp,
		    "%llu messages (%llu bytes) written before segment %llu "
		    "were never read (segments deleted or cut short)",
		    (unsigned long long)msgs, (unsigned long long)bytes,
		    (unsigned long long)seg);
	}
	sp->rc = *before;
	sp->rc_known = 1;
}

/* Segment seg is not this queue's (why): read none of it. */
static void
set_aside(struct spool *sp, uint64_t seg, uint64_t off, const char *why)
{
	char path[PATH_MAX];
	struct seg_scan sc;
	uint64_t size = file_size(sp, seg);

	close(sp->rfd);
	sp->rfd = -1;
	sp->rskip = 1;
	if (seg <= sp->skip_seen)
		return;
	sp->skip_seen = seg;
	memset(&sc, 0, sizeof(sc));
	if (seg_path(sp, seg, path, sizeof(path)) == 0)
		scan_segment(path, NULL, &sc);
	sp->dmg.foreign_segments++;
	sp->dmg.bytes += size > off ? size - off : 0;
	finding(sp,
	    "segment %llu %s: its %llu messages (%llu bytes) are set aside, "
	    "not delivered",
	    (unsigned long long)seg, why, (unsigned long long)sc.all.msgs,
	    (unsigned long long)(size > off ? size - off : 0));
}

/* Check segment seg's identity; move *off past its HEADER. */
static int
check_identity(struct spool *sp, uint64_t seg, uint64_t *off)
{
	struct seg_hdr h;
	const char *why;
	int r = hdr_read(sp->rfd, &h);

	if (r < 0)
		return read_failed(sp, seg);
	why = hdr_mismatch(sp, seg, r == 1 ? &h : NULL);
	/* The write segment's HEADER may not be written yet (disk full). */
	if (why != NULL && seg == sp->wseg && sp->committed < SEGHDR_LEN)
		return 0;
	if (why != NULL) {
		set_aside(sp, seg, *off, why);
		return 0;
	}
	if (*off < SEGHDR_LEN) {
		*off = SEGHDR_LEN;
		gap_check(sp, seg, &h.before);
	}
	return 0;
}

static int
open_reader(struct spool *sp, uint64_t seg, uint64_t off)
{
	char path[PATH_MAX];

	if (sp->rfd >= 0)
		close(sp->rfd);
	sp->rfd = -1;
	sp->rskip = sp->rretry = 0;
	buf_clear(&sp->rbuf);
	sp->rpos = 0;
	sp->rseg = seg;
	sp->roff = sp->rbase = off;
	if (seg_path(sp, seg, path, sizeof(path)) != 0)
		return ERR_IO;
	sp->rfd = open(path, O_RDONLY | O_CLOEXEC);
	if (sp->rfd < 0)
		return errno == ENOENT ? 0 : read_failed(sp, seg);
	if (seg < sp->first_seq && off == 0)
		sp->rc_known = 0; /* written before segments had headers */
	if (seg >= sp->first_seq && check_identity(sp, seg, &off) != 0)
		return ERR_IO;
	if (sp->rfd < 0)
		return 0;
	sp->roff = sp->rbase = off;
	if (lseek(sp->rfd, (off_t)off, SEEK_SET) < 0)
		return read_failed(sp, seg);
	return 0;
}

int
spool_rewind(struct spool *sp)
{
	sp->rc.bytes = sp->saved.bytes;
	sp->rc.msgs = sp->saved.msgs;
	sp->rc_known = sp->saved.counted;
	return open_reader(sp, sp->saved.seg, sp->saved.off);
}

struct spool_pos
spool_tell(const struct spool *sp)
{
	struct spool_pos p = {
	    sp->rseg, sp->roff, sp->rc.bytes, sp->rc.msgs, sp->rc_known};

	return p;
}

const char *
spool_read_error(const struct spool *sp)
{
	return sp->rerr;
}

/* Read more committed bytes into rbuf.  Returns bytes read, 0, or -1. */
static long
fill(struct spool *sp)
{
	uint64_t limit = sp->rseg == sp->wseg ? sp->committed : UINT64_MAX;
	uint64_t have = sp->rbase + sp->rbuf.len;
	size_t want = READ_CHUNK;
	ssize_t n;

	if (sp->rfd < 0 || have >= limit)
		return 0;
	if (limit - have < want)
		want = (size_t)(limit - have);
	/* Drop what was consumed before growing the buffer. */
	if (sp->rpos > 0) {
		memmove(sp->rbuf.data, sp->rbuf.data + sp->rpos,
		    sp->rbuf.len - sp->rpos);
		sp->rbuf.len -= sp->rpos;
		sp->rbase += sp->rpos;
		sp->rpos = 0;
	}
	if (buf_reserve(&sp->rbuf, want) != 0)
		return -1;
	do {
		n = read(sp->rfd, sp->rbuf.data + sp->rbuf.len, want);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		read_failed(sp, sp->rseg);
		return -1;
	}
	sp->rbuf.len += (size_t)n;
	return (long)n;
}

/*
 * A KEYED payload (n bytes at p) into m.  Returns 0, or -1 when its
 * lengths do not fit it.
 */
static int
keyed_decode(const unsigned char *p, size_t n, struct spool_msg *m)
{
	size_t keylen, tenantlen;

	if (n < KEYED_META)
		return -1;
	keylen = (size_t)p[0] | (size_t)p[1] << 8;
	tenantlen = p[2];
	if (KEYED_META + keylen + tenantlen > n)
		return -1;
	m->version.sec = (int64_t)get64(p + 4);
	m->version.tick = (int32_t)get32(p + 12);
	m->key = (const char *)p + KEYED_META;
	m->keylen = keylen;
	m->tenant = m->key + keylen;
	m->tenantlen = tenantlen;
	m->data = m->tenant + tenantlen;
	m->len = n - KEYED_META - keylen - tenantlen;
	return 0;
}

int
spool_next_msg(struct spool *sp, struct spool_msg *m)
{
	if (sp->rretry && open_reader(sp, sp->rseg, sp->roff) != 0)
		return ERR_IO;
	for (;;) {
		const unsigned char *p;
		size_t avail = sp->rbuf.len - sp->rpos;
		long n;

		p = (const unsigned char *)sp->rbuf.data + sp->rpos;
		n = avail > 0 ? entry_check(p, avail) : 0;
		if (n == 0) {
			long got = fill(sp);

			if (got < 0)
				return ERR_IO;
			if (got > 0)
				continue;
			/*
			 * Bytes left that no more bytes complete: a damaged
			 * length near the end.  Resynchronise past them.
			 */
			if (avail > 0 &&
			    (sp->rseg < sp->wseg || sp->rfd >= 0)) {
				n = -1;
			} else {
				if (sp->rseg >= sp->wseg)
					return ERR_END;
				if (sp->rfd < 0 && !sp->rskip)
					missing(sp, sp->rseg);
				/* Segment exhausted: on to the next one. */
				if (open_reader(sp, sp->rseg + 1, 0) != 0)
					return ERR_IO;
				sp->in_damage = 0;
				continue;
			}
		}
		if (n < 0) {
			damaged(sp, 1);
			sp->rpos++;
			sp->roff++;
			/* Bytes of entries, as far as one knows. */
			sp->rc.bytes++;
			continue;
		}
		sp->in_damage = 0;
		sp->rpos += (size_t)n;
		sp->roff += (uint64_t)n;
		count_entry(&sp->rc, p[12], (uint64_t)n);
		memset(m, 0, sizeof(*m));
		m->sev = p[13];
		if (p[12] == SPOOL_DATA) {
			m->data = (const char *)p + HDR_LEN;
			m->len = (size_t)n - HDR_LEN;
			return 0;
		}
		if (p[12] == SPOOL_COMMIT && sp->commit_fn != NULL)
			sp->commit_fn(
			    sp->commit_arg, p + HDR_LEN, (size_t)n - HDR_LEN);
		if (p[12] != SPOOL_KEYED)
			continue;
		if (keyed_decode(p + HDR_LEN, (size_t)n - HDR_LEN, m) == 0)
			return 0;
		/* Its CRC held, its lengths do not: not ours to guess. */
		damaged(sp, (uint64_t)n);
		sp->in_damage = 0;
	}
}

void
spool_set_commit_hook(struct spool *sp,
    void (*fn)(void *arg, const void *payload, size_t len), void *arg)
{
	sp->commit_fn = fn;
	sp->commit_arg = arg;
}

int
spool_next(struct spool *sp, int *sev, const char **msg, size_t *len)
{
	struct spool_msg m;
	int rc = spool_next_msg(sp, &m);

	if (rc == 0) {
		*sev = m.sev;
		*msg = m.data;
		*len = m.len;
	}
	return rc;
}

static void
drop_read(struct spool *sp, uint64_t upto)
{
	uint64_t s;

	for (s = sp->saved.seg; s < upto; s++) {
		uint64_t size = file_size(sp, s);

		sp->bytes_before_w -=
		    size <= sp->bytes_before_w ? size : sp->bytes_before_w;
	}
	drop_before(sp, sp->saved.seg, upto);
	if (upto > sp->saved.seg) {
		sp->saved.seg = upto;
		sp->saved.off = 0;
	}
}

/*
 * Segments wholly before pos are deleted AFTER pos is written (and made
 * durable): a read position that names a segment no longer there then
 * means segments deleted by someone else, and what they held is counted
 * as lost.  A crash in between leaves segments before the read position,
 * which spool_open() deletes.  When the disk is too full to write pos,
 * they are deleted first, to make room.
 */
int
spool_save(struct spool *sp, struct spool_pos pos)
{
	char path[PATH_MAX], text[96];
	int n, rc;

	n = snprintf(path, sizeof(path), "%s/read.pos", sp->dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return ERR_IO;
	if (pos.counted)
		n = snprintf(text, sizeof(text),
		    "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
		    pos.seg, pos.off, pos.bytes, pos.msgs);
	else
		n = snprintf(text, sizeof(text), "%" PRIu64 " %" PRIu64 "\n",
		    pos.seg, pos.off);
	if (pos.seg > sp->saved.seg) {
		/* Once a segment: durable before the deletion. */
		rc = statefile_write(path, text, (size_t)n);
		drop_read(sp, pos.seg);
		if (rc == 0) {
			sp->saved = pos;
			return 0;
		}
	}
	/*
	 * No fsync: after a power loss an older read position only means a
	 * few more re-sends, never a loss; this runs once per batch.
	 */
	if (statefile_write_nosync(path, text, (size_t)n) != 0)
		return ERR_IO;
	sp->saved = pos;
	return 0;
}

int
spool_compact(struct spool *sp)
{
	struct spool_pos next;
	int rc;

	if (sp->rseg != sp->wseg || sp->roff != sp->committed ||
	    sp->wsize != sp->committed || sp->committed <= sp->wstart)
		return 0;
	/* Everything written was read: start an empty segment. */
	close(sp->wfd);
	sp->wfd = -1;
	sp->bytes_before_w += sp->committed;
	if ((rc = open_writer(sp, sp->wseg + 1)) != 0)
		return rc;
	if ((rc = open_reader(sp, sp->wseg, 0)) != 0)
		return rc;
	next = spool_tell(sp);
	return spool_save(sp, next);
}

/* --- COMMIT payloads --- */

/*
 * A COMMIT payload: seq (8), flags (1), position sec (8) and tick (4);
 * with COMMIT_HAS_OWNER, the owner's length (2) and bytes; then the keys,
 * each length (2), time sec (8) and tick (4), bytes.
 */
#define COMMIT_HEAD 21
#define COMMIT_HAS_POS 1
#define COMMIT_HAS_OWNER 2

int
spool_commit_begin(
    struct buf *b, uint64_t seq, int has_pos, const struct ts *pos)
{
	unsigned char p[21];

	put64(p, seq);
	p[8] = has_pos ? COMMIT_HAS_POS : 0;
	put64(p + 9, has_pos ? (uint64_t)pos->sec : 0);
	put32(p + 17, has_pos ? (uint32_t)pos->tick : 0);
	buf_clear(b);
	return buf_add(b, p, sizeof(p));
}

void
spool_commit_set_pos(struct buf *b, int has_pos, const struct ts *pos)
{
	unsigned char *p = (unsigned char *)b->data;

	if (b->len < COMMIT_HEAD)
		return;
	p[8] = (unsigned char)((p[8] & ~COMMIT_HAS_POS) |
	    (has_pos ? COMMIT_HAS_POS : 0));
	put64(p + 9, has_pos ? (uint64_t)pos->sec : 0);
	put32(p + 17, has_pos ? (uint32_t)pos->tick : 0);
}

int
spool_commit_owner(struct buf *b, const char *owner, size_t n)
{
	unsigned char p[2];

	if (n > SPOOL_OWNER_MAX)
		return ERR_TOOBIG;
	if (b->len != COMMIT_HEAD || (b->data[8] & COMMIT_HAS_OWNER))
		return ERR_PARSE;
	b->data[8] |= COMMIT_HAS_OWNER;
	p[0] = (unsigned char)n;
	p[1] = (unsigned char)(n >> 8);
	if (buf_add(b, p, sizeof(p)) != 0)
		return ERR_NOMEM;
	return buf_add(b, owner, n);
}

/* Where the keys start: after the head and the owner, if any. */
static int
commit_owner_span(const unsigned char *p, size_t len, const char **owner,
    size_t *n, size_t *keys_at)
{
	if (len < COMMIT_HEAD)
		return ERR_PARSE;
	*owner = NULL;
	*n = 0;
	*keys_at = COMMIT_HEAD;
	if (!(p[8] & COMMIT_HAS_OWNER))
		return 0;
	if (len < COMMIT_HEAD + 2)
		return ERR_PARSE;
	*n = (size_t)p[COMMIT_HEAD] | (size_t)p[COMMIT_HEAD + 1] << 8;
	if (*n > SPOOL_OWNER_MAX || len - COMMIT_HEAD - 2 < *n)
		return ERR_PARSE;
	*owner = (const char *)p + COMMIT_HEAD + 2;
	*keys_at = COMMIT_HEAD + 2 + *n;
	return 0;
}

int
spool_commit_owner_of(
    const void *payload, size_t len, const char **owner, size_t *n)
{
	size_t at;

	return commit_owner_span(payload, len, owner, n, &at);
}

int
spool_commit_key(struct buf *b, const char *key, size_t n, const struct ts *t)
{
	unsigned char p[14];
	int rc;

	if (n > SPOOL_KEY_MAX)
		return ERR_TOOBIG;
	p[0] = (unsigned char)n;
	p[1] = (unsigned char)(n >> 8);
	put64(p + 2, (uint64_t)t->sec);
	put32(p + 10, (uint32_t)t->tick);
	if ((rc = buf_add(b, p, sizeof(p))) != 0)
		return rc;
	return buf_add(b, key, n);
}

int
spool_commit_decode(const void *payload, size_t len, uint64_t *seq,
    int *has_pos, struct ts *pos,
    int (*key)(void *arg, const char *k, size_t n, const struct ts *t),
    void *arg)
{
	const unsigned char *p = payload, *end = p + len;
	const char *owner;
	size_t on, at;

	if (commit_owner_span(p, len, &owner, &on, &at) != 0)
		return ERR_PARSE;
	*seq = get64(p);
	*has_pos = (p[8] & COMMIT_HAS_POS) != 0;
	pos->sec = (int64_t)get64(p + 9);
	pos->tick = (int32_t)get32(p + 17);
	for (p += at; p < end;) {
		struct ts t;
		size_t n;

		if (end - p < 14)
			return ERR_PARSE;
		n = (size_t)p[0] | (size_t)p[1] << 8;
		t.sec = (int64_t)get64(p + 2);
		t.tick = (int32_t)get32(p + 10);
		p += 14;
		if ((size_t)(end - p) < n)
			return ERR_PARSE;
		if (key(arg, (const char *)p, n, &t) != 0)
			return ERR_NOMEM;
		p += n;
	}
	return 0;
}
