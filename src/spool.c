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
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "errcode.h"
#include "spool.h"
#include "statefile.h"

#define SPOOL_MAGIC 0x5153444dU /* "MDSQ" little endian */
#define HDR_LEN 16
#define MAX_ENTRY (16U * 1024 * 1024)
#define SEG_MAX (64ULL * 1024 * 1024)
#define WRITE_CHUNK (1024 * 1024)
#define READ_CHUNK (256 * 1024)

struct spool {
	char dir[PATH_MAX]; /* .../spool */
	/* writer */
	int wfd;
	uint64_t wseg;
	uint64_t wsize; /* bytes in the segment incl. wbuf */
	uint64_t committed; /* durable size of the write segment */
	struct buf wbuf; /* appended, not yet written */
	/* reader */
	int rfd;
	uint64_t rseg;
	uint64_t roff; /* file offset of the next entry */
	struct buf rbuf; /* bytes read from rfd */
	size_t rpos; /* next entry within rbuf */
	uint64_t rbase; /* file offset of rbuf.data[0] */
	struct spool_pos saved;
	/* accounting */
	uint64_t bytes_before_w; /* committed bytes of older segments */
	uint64_t corrupt;
};

static const uint32_t crc_table[256] = {
    0x00000000U,
    0x77073096U,
    0xee0e612cU,
    0x990951baU,
    0x076dc419U,
    0x706af48fU,
    0xe963a535U,
    0x9e6495a3U,
    0x0edb8832U,
    0x79dcb8a4U,
    0xe0d5e91eU,
    0x97d2d988U,
    0x09b64c2bU,
    0x7eb17cbdU,
    0xe7b82d07U,
    0x90bf1d91U,
    0x1db71064U,
    0x6ab020f2U,
    0xf3b97148U,
    0x84be41deU,
    0x1adad47dU,
    0x6ddde4ebU,
    0xf4d4b551U,
    0x83d385c7U,
    0x136c9856U,
    0x646ba8c0U,
    0xfd62f97aU,
    0x8a65c9ecU,
    0x14015c4fU,
    0x63066cd9U,
    0xfa0f3d63U,
    0x8d080df5U,
    0x3b6e20c8U,
    0x4c69105eU,
    0xd56041e4U,
    0xa2677172U,
    0x3c03e4d1U,
    0x4b04d447U,
    0xd20d85fdU,
    0xa50ab56bU,
    0x35b5a8faU,
    0x42b2986cU,
    0xdbbbc9d6U,
    0xacbcf940U,
    0x32d86ce3U,
    0x45df5c75U,
    0xdcd60dcfU,
    0xabd13d59U,
    0x26d930acU,
    0x51de003aU,
    0xc8d75180U,
    0xbfd06116U,
    0x21b4f4b5U,
    0x56b3c423U,
    0xcfba9599U,
    0xb8bda50fU,
    0x2802b89eU,
    0x5f058808U,
    0xc60cd9b2U,
    0xb10be924U,
    0x2f6f7c87U,
    0x58684c11U,
    0xc1611dabU,
    0xb6662d3dU,
    0x76dc4190U,
    0x01db7106U,
    0x98d220bcU,
    0xefd5102aU,
    0x71b18589U,
    0x06b6b51fU,
    0x9fbfe4a5U,
    0xe8b8d433U,
    0x7807c9a2U,
    0x0f00f934U,
    0x9609a88eU,
    0xe10e9818U,
    0x7f6a0dbbU,
    0x086d3d2dU,
    0x91646c97U,
    0xe6635c01U,
    0x6b6b51f4U,
    0x1c6c6162U,
    0x856530d8U,
    0xf262004eU,
    0x6c0695edU,
    0x1b01a57bU,
    0x8208f4c1U,
    0xf50fc457U,
    0x65b0d9c6U,
    0x12b7e950U,
    0x8bbeb8eaU,
    0xfcb9887cU,
    0x62dd1ddfU,
    0x15da2d49U,
    0x8cd37cf3U,
    0xfbd44c65U,
    0x4db26158U,
    0x3ab551ceU,
    0xa3bc0074U,
    0xd4bb30e2U,
    0x4adfa541U,
    0x3dd895d7U,
    0xa4d1c46dU,
    0xd3d6f4fbU,
    0x4369e96aU,
    0x346ed9fcU,
    0xad678846U,
    0xda60b8d0U,
    0x44042d73U,
    0x33031de5U,
    0xaa0a4c5fU,
    0xdd0d7cc9U,
    0x5005713cU,
    0x270241aaU,
    0xbe0b1010U,
    0xc90c2086U,
    0x5768b525U,
    0x206f85b3U,
    0xb966d409U,
    0xce61e49fU,
    0x5edef90eU,
    0x29d9c998U,
    0xb0d09822U,
    0xc7d7a8b4U,
    0x59b33d17U,
    0x2eb40d81U,
    0xb7bd5c3bU,
    0xc0ba6cadU,
    0xedb88320U,
    0x9abfb3b6U,
    0x03b6e20cU,
    0x74b1d29aU,
    0xead54739U,
    0x9dd277afU,
    0x04db2615U,
    0x73dc1683U,
    0xe3630b12U,
    0x94643b84U,
    0x0d6d6a3eU,
    0x7a6a5aa8U,
    0xe40ecf0bU,
    0x9309ff9dU,
    0x0a00ae27U,
    0x7d079eb1U,
    0xf00f9344U,
    0x8708a3d2U,
    0x1e01f268U,
    0x6906c2feU,
    0xf762575dU,
    0x806567cbU,
    0x196c3671U,
    0x6e6b06e7U,
    0xfed41b76U,
    0x89d32be0U,
    0x10da7a5aU,
    0x67dd4accU,
    0xf9b9df6fU,
    0x8ebeeff9U,
    0x17b7be43U,
    0x60b08ed5U,
    0xd6d6a3e8U,
    0xa1d1937eU,
    0x38d8c2c4U,
    0x4fdff252U,
    0xd1bb67f1U,
    0xa6bc5767U,
    0x3fb506ddU,
    0x48b2364bU,
    0xd80d2bdaU,
    0xaf0a1b4cU,
    0x36034af6U,
    0x41047a60U,
    0xdf60efc3U,
    0xa867df55U,
    0x316e8eefU,
    0x4669be79U,
    0xcb61b38cU,
    0xbc66831aU,
    0x256fd2a0U,
    0x5268e236U,
    0xcc0c7795U,
    0xbb0b4703U,
    0x220216b9U,
    0x5505262fU,
    0xc5ba3bbeU,
    0xb2bd0b28U,
    0x2bb45a92U,
    0x5cb36a04U,
    0xc2d7ffa7U,
    0xb5d0cf31U,
    0x2cd99e8bU,
    0x5bdeae1dU,
    0x9b64c2b0U,
    0xec63f226U,
    0x756aa39cU,
    0x026d930aU,
    0x9c0906a9U,
    0xeb0e363fU,
    0x72076785U,
    0x05005713U,
    0x95bf4a82U,
    0xe2b87a14U,
    0x7bb12baeU,
    0x0cb61b38U,
    0x92d28e9bU,
    0xe5d5be0dU,
    0x7cdcefb7U,
    0x0bdbdf21U,
    0x86d3d2d4U,
    0xf1d4e242U,
    0x68ddb3f8U,
    0x1fda836eU,
    0x81be16cdU,
    0xf6b9265bU,
    0x6fb077e1U,
    0x18b74777U,
    0x88085ae6U,
    0xff0f6a70U,
    0x66063bcaU,
    0x11010b5cU,
    0x8f659effU,
    0xf862ae69U,
    0x616bffd3U,
    0x166ccf45U,
    0xa00ae278U,
    0xd70dd2eeU,
    0x4e048354U,
    0x3903b3c2U,
    0xa7672661U,
    0xd06016f7U,
    0x4969474dU,
    0x3e6e77dbU,
    0xaed16a4aU,
    0xd9d65adcU,
    0x40df0b66U,
    0x37d83bf0U,
    0xa9bcae53U,
    0xdebb9ec5U,
    0x47b2cf7fU,
    0x30b5ffe9U,
    0xbdbdf21cU,
    0xcabac28aU,
    0x53b39330U,
    0x24b4a3a6U,
    0xbad03605U,
    0xcdd70693U,
    0x54de5729U,
    0x23d967bfU,
    0xb3667a2eU,
    0xc4614ab8U,
    0x5d681b02U,
    0x2a6f2b94U,
    0xb40bbe37U,
    0xc30c8ea1U,
    0x5a05df1bU,
    0x2d02ef8dU,
};

static uint32_t
crc32_update(uint32_t crc, const void *p, size_t n)
{
	const unsigned char *b = p;

	crc = ~crc;
	while (n-- > 0)
		crc = crc_table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

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
	uint32_t crc = crc32_update(0, hdr + 4, 4);

	crc = crc32_update(crc, hdr + 12, 4);
	return crc32_update(crc, payload, len);
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
	if (len > MAX_ENTRY || (p[12] != SPOOL_DATA && p[12] != SPOOL_COMMIT))
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

/*
 * Scan a whole segment: the end of its last valid COMMIT, that COMMIT's
 * payload (copied into commit when not NULL) and the corrupt bytes
 * skipped on the way.
 */
static int
scan_segment(const char *path, uint64_t *commit_end, struct buf *commit,
    uint64_t *corrupt)
{
	struct buf b;
	size_t pos = 0;
	int rc;

	buf_init(&b, 0);
	*commit_end = 0;
	if ((rc = read_file(path, &b)) != 0)
		goto out;
	while (pos < b.len) {
		const unsigned char *p = (const unsigned char *)b.data + pos;
		long n = entry_check(p, b.len - pos);

		if (n <= 0) {
			/* Torn tail or damage: look for the next entry. */
			pos++;
			if (n < 0)
				(*corrupt)++;
			continue;
		}
		if (p[12] == SPOOL_COMMIT) {
			*commit_end = pos + (size_t)n;
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

static int
open_writer(struct spool *sp, uint64_t seg)
{
	char path[PATH_MAX];
	struct stat st;

	if (seg_path(sp, seg, path, sizeof(path)) != 0)
		return ERR_IO;
	sp->wfd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (sp->wfd < 0 || fstat(sp->wfd, &st) != 0)
		return ERR_IO;
	sp->wseg = seg;
	sp->wsize = sp->committed = (uint64_t)st.st_size;
	if (lseek(sp->wfd, 0, SEEK_END) < 0)
		return ERR_IO;
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

static int
load_saved(struct spool *sp, uint64_t first)
{
	char path[PATH_MAX];
	struct buf b;
	unsigned long long seg, off;
	int n;

	sp->saved.seg = first;
	sp->saved.off = 0;
	n = snprintf(path, sizeof(path), "%s/read.pos", sp->dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return ERR_IO;
	buf_init(&b, 4096);
	if (statefile_read(path, &b) == 0 &&
	    sscanf(buf_str(&b), "%llu %llu", &seg, &off) == 2 && seg >= first) {
		sp->saved.seg = seg;
		sp->saved.off = off;
	}
	buf_reset(&b);
	return 0;
}

/* Truncate the newest segment after its last COMMIT (see header). */
static int
recover_tail(struct spool *sp, uint64_t last, struct spool_recovery *rec)
{
	char path[PATH_MAX];
	uint64_t end = 0, size = file_size(sp, last), corrupt = 0;
	int rc;

	if (seg_path(sp, last, path, sizeof(path)) != 0)
		return ERR_IO;
	if ((rc = scan_segment(path, &end, rec->last_commit, &corrupt)) != 0)
		return rc;
	if (end < size) {
		if (truncate(path, (off_t)end) != 0)
			return ERR_IO;
		rec->truncated_bytes += size - end;
	}
	rec->corrupt_bytes += corrupt > size - end ? corrupt - (size - end) : 0;
	/* The newest COMMIT may sit in the segment before an empty one. */
	if (end == 0 && last > 1 && rec->last_commit->len == 0) {
		uint64_t prev_end;

		if (seg_path(sp, last - 1, path, sizeof(path)) == 0 &&
		    access(path, F_OK) == 0)
			scan_segment(
			    path, &prev_end, rec->last_commit, &corrupt);
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
	buf_init(&sp->rbuf, 0);
	rec->truncated_bytes = rec->corrupt_bytes = 0;
	buf_clear(rec->last_commit);
	n = snprintf(sp->dir, sizeof(sp->dir), "%s/spool", dir);
	if (n < 0 || (size_t)n >= sizeof(sp->dir) ||
	    statefile_mkdir(sp->dir) != 0 ||
	    list_segments(sp, &first, &last) != 0)
		goto fail;
	if (last == 0)
		first = last = 1;
	else if (recover_tail(sp, last, rec) != 0)
		goto fail;
	if (open_writer(sp, last) != 0 || load_saved(sp, first) != 0)
		goto fail;
	account(sp, first);
	if (spool_rewind(sp) != 0)
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

static int
append_entry(
    struct spool *sp, int type, int sev, const void *payload, size_t len)
{
	unsigned char hdr[HDR_LEN];
	int rc;

	if (len > MAX_ENTRY)
		return ERR_TOOBIG;
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
	if (sp->wbuf.len >= WRITE_CHUNK)
		return write_out(sp);
	return 0;
}

int
spool_append(struct spool *sp, int sev, const char *msg, size_t len)
{
	return append_entry(sp, SPOOL_DATA, sev, msg, len);
}

/* Start a new segment once the current one is large (at commits only). */
static int
rotate(struct spool *sp)
{
	char path[PATH_MAX];
	int rc;

	if (sp->committed < SEG_MAX)
		return 0;
	sp->bytes_before_w += sp->committed;
	close(sp->wfd);
	sp->wfd = -1;
	if ((rc = open_writer(sp, sp->wseg + 1)) != 0)
		return rc;
	/* Make the new segment's name durable. */
	if (seg_path(sp, sp->wseg, path, sizeof(path)) != 0)
		return ERR_IO;
	return statefile_mkdir(sp->dir);
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
	return rotate(sp);
}

void
spool_abort(struct spool *sp)
{
	buf_clear(&sp->wbuf);
	if (sp->wsize != sp->committed) {
		if (ftruncate(sp->wfd, (off_t)sp->committed) == 0)
			sp->wsize = sp->committed;
		lseek(sp->wfd, 0, SEEK_END);
	}
}

uint64_t
spool_bytes(const struct spool *sp)
{
	uint64_t total = sp->bytes_before_w + sp->committed;

	return total > sp->saved.off ? total - sp->saved.off : 0;
}

/* --- reader --- */

static int
open_reader(struct spool *sp, uint64_t seg, uint64_t off)
{
	char path[PATH_MAX];

	if (sp->rfd >= 0)
		close(sp->rfd);
	sp->rfd = -1;
	buf_clear(&sp->rbuf);
	sp->rpos = 0;
	sp->rseg = seg;
	sp->roff = sp->rbase = off;
	if (seg_path(sp, seg, path, sizeof(path)) != 0)
		return ERR_IO;
	sp->rfd = open(path, O_RDONLY | O_CLOEXEC);
	if (sp->rfd < 0)
		return errno == ENOENT ? 0 : ERR_IO;
	return lseek(sp->rfd, (off_t)off, SEEK_SET) < 0 ? ERR_IO : 0;
}

int
spool_rewind(struct spool *sp)
{
	return open_reader(sp, sp->saved.seg, sp->saved.off);
}

struct spool_pos
spool_tell(const struct spool *sp)
{
	struct spool_pos p = {sp->rseg, sp->roff};

	return p;
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
	if (n < 0)
		return -1;
	sp->rbuf.len += (size_t)n;
	return (long)n;
}

int
spool_next(struct spool *sp, int *sev, const char **msg, size_t *len)
{
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
			if (sp->rseg >= sp->wseg)
				return 1;
			/* Older segment exhausted: move to the next one. */
			if (open_reader(sp, sp->rseg + 1, 0) != 0)
				return ERR_IO;
			continue;
		}
		if (n < 0) {
			sp->rpos++;
			sp->roff++;
			sp->corrupt++;
			continue;
		}
		sp->rpos += (size_t)n;
		sp->roff += (uint64_t)n;
		if (p[12] != SPOOL_DATA)
			continue;
		*sev = p[13];
		*msg = (const char *)p + HDR_LEN;
		*len = (size_t)n - HDR_LEN;
		return 0;
	}
}

/*
 * Segments wholly before pos are deleted BEFORE pos is written: that frees
 * space on a full disk, and a crash in between is harmless, since a read
 * position in a deleted segment resumes at the start of the first one
 * left, which is exactly where pos is or before it.
 */
int
spool_save(struct spool *sp, struct spool_pos pos)
{
	char path[PATH_MAX], text[64];
	uint64_t s;
	int n;

	for (s = sp->saved.seg; s < pos.seg; s++) {
		char seg[PATH_MAX];
		uint64_t size = file_size(sp, s);

		sp->bytes_before_w -=
		    size <= sp->bytes_before_w ? size : sp->bytes_before_w;
		if (seg_path(sp, s, seg, sizeof(seg)) == 0)
			unlink(seg);
	}
	if (pos.seg > sp->saved.seg) {
		sp->saved.seg = pos.seg;
		sp->saved.off = 0;
	}
	n = snprintf(path, sizeof(path), "%s/read.pos", sp->dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return ERR_IO;
	n = snprintf(
	    text, sizeof(text), "%" PRIu64 " %" PRIu64 "\n", pos.seg, pos.off);
	if (statefile_write(path, text, (size_t)n) != 0)
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
	    sp->wsize != sp->committed || sp->committed == 0)
		return 0;
	/* Everything written was read: start an empty segment. */
	close(sp->wfd);
	sp->wfd = -1;
	sp->bytes_before_w += sp->committed;
	if ((rc = open_writer(sp, sp->wseg + 1)) != 0)
		return rc;
	next.seg = sp->wseg;
	next.off = 0;
	if ((rc = open_reader(sp, next.seg, 0)) != 0)
		return rc;
	return spool_save(sp, next);
}

/* --- COMMIT payloads --- */

int
spool_commit_begin(
    struct buf *b, uint64_t seq, int has_pos, const struct ts *pos)
{
	unsigned char p[21];

	put64(p, seq);
	p[8] = has_pos ? 1 : 0;
	put64(p + 9, has_pos ? (uint64_t)pos->sec : 0);
	put32(p + 17, has_pos ? (uint32_t)pos->tick : 0);
	buf_clear(b);
	return buf_add(b, p, sizeof(p));
}

int
spool_commit_key(struct buf *b, const char *key, size_t n, const struct ts *t)
{
	unsigned char p[14];
	int rc;

	if (n > 65535)
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

	if (len < 21)
		return ERR_PARSE;
	*seq = get64(p);
	*has_pos = p[8] != 0;
	pos->sec = (int64_t)get64(p + 9);
	pos->tick = (int32_t)get32(p + 17);
	for (p += 21; p < end;) {
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
