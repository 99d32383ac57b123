/* SPDX-License-Identifier: MIT */
/*
 * The durable spool: an append-only queue of formatted messages in the
 * state directory, between fetching and delivery (ARCHITECTURE section 2).
 *
 * On disk: segment files spool/NNNNNNNNNNNNNNNNNNNN.seg of entries
 *   magic "MDSQ" | u32 length | u32 crc32 | u8 type | u8 severity | u16 0 |
 *   payload
 * (little endian; the CRC-32C covers type, severity, length and payload).
 * A page of records is appended as DATA (or KEYED) entries followed by one COMMIT
 * entry that carries the page's dedup keys and cursor position; the
 * segment is fdatasync'd after the COMMIT, and only then is the cursor
 * state file replaced.  Recovery truncates whatever follows the last
 * COMMIT (a page cut short by a crash is fetched again) and hands the
 * last COMMIT back, so a cursor file that missed it can be reconciled.
 *
 * A KEYED entry is a DATA entry with what a Kafka record carries beside
 * the message (struct spool_msg): its payload is
 *   u16 key length | u8 tenant length | u8 0 | i64 version seconds |
 *   u32 version ticks | u32 0 | key | tenant | message
 * (little endian).  Outputs that carry no key get plain DATA entries.
 *
 * Each segment starts with a HEADER entry, whose payload is
 *   queue id (16 random bytes, spool/queue.id) | u64 segment number |
 *   u64 bytes | u64 messages
 * the last two counting what the queue wrote before the segment (entries
 * with their headers; DATA and KEYED entries).  The reader sets aside a
 * segment whose HEADER names another queue or another segment, and counts
 * what a gap between two segments lost.  Segments numbered below the one
 * spool/queue.id names were written without a HEADER (before there were
 * any) and are read unchecked.
 *
 * The reader drains DATA and KEYED entries in order from a persisted read
 * position (spool/read.pos); segments are deleted once read past.
 */
#ifndef SPOOL_H
#define SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "ts.h"

struct buf;
struct spool;

enum spool_entry_type {
	SPOOL_DATA = 1,
	SPOOL_COMMIT = 2,
	SPOOL_KEYED = 3,
	SPOOL_HEADER = 4
};

/* Longest tenant name a KEYED entry holds (its key: SPOOL_KEY_MAX). */
#define SPOOL_TENANT_MAX 255

/*
 * One message with what travels beside it (a KEYED entry); for a DATA
 * entry key, tenant and version are empty.
 */
struct spool_msg {
	int sev; /* syslog severity 0..7 */
	const char *data; /* the message, framed for the spool */
	size_t len;
	const char *key; /* the record's stable key (alert id, FullId) */
	size_t keylen; /* 0: none */
	const char *tenant; /* the tenant's name, not NUL-terminated */
	size_t tenantlen; /* 0: none */
	struct ts version; /* the record's version time; sec 0: none */
};

/*
 * Call fn(arg, payload, len) for every COMMIT entry the reader passes
 * (spool_next(), spool_next_msg()), in order, from inside that call: the
 * queue learns from the COMMIT's owner whose the messages before it were.
 * A COMMIT passed again after spool_rewind() is reported again.  fn may
 * be NULL (the default): nothing is reported.
 */
void spool_set_commit_hook(struct spool *sp,
    void (*fn)(void *arg, const void *payload, size_t len), void *arg);

/*
 * A read position: segment number and byte offset in it; with counted,
 * the bytes and messages the queue wrote before it (from the segments'
 * HEADERs), which tell how much a gap lost.
 */
struct spool_pos {
	uint64_t seg;
	uint64_t off;
	uint64_t bytes;
	uint64_t msgs;
	int counted;
};

/* What recovery found and did, for the caller's log lines. */
struct spool_recovery {
	uint64_t truncated_bytes; /* uncommitted or torn tail dropped */
	uint64_t corrupt_bytes; /* damaged bytes inside segments */
	uint64_t damaged_segments; /* segments with damage, newest aside */
	char readpos[200]; /* why read.pos was not used as it is, or "" */
	struct buf *last_commit; /* payload of the last COMMIT, or empty */
};

/* Damage the spool found (recovery and reader), totals since open. */
struct spool_damage {
	uint64_t events; /* each finding below once */
	uint64_t bytes; /* bytes the reader skipped as no valid entry */
	uint64_t regions; /* damaged runs those bytes were in */
	uint64_t missing_segments; /* segments gone before they were read */
	uint64_t deleted_segments; /* the segment written, deleted under it */
	uint64_t foreign_segments; /* not this queue's, or renamed: set aside */
	uint64_t lost_bytes; /* written, then never found by the reader */
	uint64_t lost_messages; /* the messages in lost_bytes */
	uint64_t readpos_resets; /* read.pos unreadable or out of range */
	char last[200]; /* the newest finding, for a log line */
};

/*
 * The text of finding number k (1 .. events), while it is among the
 * SPOOL_NOTES newest; else NULL.  Valid until the next spool_* call.
 */
#define SPOOL_NOTES 8
const char *spool_damage_note(const struct spool *sp, uint64_t k);

/* Copy the totals into *d. */
void spool_get_damage(const struct spool *sp, struct spool_damage *d);

/*
 * Open (creating if needed) the spool under dir/spool and recover it.
 * rec->last_commit must be an initialised buf; it receives the payload of
 * the newest COMMIT entry.  Returns NULL with err filled on failure.
 */
struct spool *spool_open(
    const char *dir, struct spool_recovery *rec, char *err, size_t errlen);
void spool_close(struct spool *sp);

/*
 * Append one DATA entry (buffered; nothing is durable before
 * spool_commit()).  Returns 0, ERR_NOMEM, ERR_FULL on ENOSPC/EDQUOT, or
 * ERR_IO; on error the caller calls spool_abort().
 */
int spool_append(struct spool *sp, int sev, const char *msg, size_t len);

/*
 * Append m as one KEYED entry (as spool_append()).  A key longer than
 * SPOOL_KEY_MAX or a tenant longer than SPOOL_TENANT_MAX is ERR_TOOBIG.
 */
int spool_append_msg(struct spool *sp, const struct spool_msg *m);

/*
 * Append a COMMIT entry with payload, write everything out and fdatasync.
 * Returns 0, ERR_FULL (disk full: call spool_abort()) or ERR_IO.
 */
int spool_commit(struct spool *sp, const void *payload, size_t len);

/* Drop every entry appended since the last commit. */
void spool_abort(struct spool *sp);

/* Committed bytes not yet consumed by the reader's saved position. */
uint64_t spool_bytes(const struct spool *sp);

/*
 * Committed bytes the reader has not read yet (what still waits for the
 * collector), as opposed to spool_bytes(), which also counts what was
 * sent but is kept for a re-send.
 */
uint64_t spool_pending(const struct spool *sp);

/*
 * Next committed DATA entry at the reader position.  Returns 0 with
 * msg and len (valid until the next spool_* call) and *sev; ERR_END when
 * the reader has caught up; ERR_IO on read errors.
 */
int spool_next(struct spool *sp, int *sev, const char **msg, size_t *len);

/*
 * The same, with the key, tenant and version time of a KEYED entry (empty
 * for a DATA entry); the pointers are valid until the next spool_* call.
 */
int spool_next_msg(struct spool *sp, struct spool_msg *m);

/*
 * The last read error, "file: reason", after spool_next*() returned
 * ERR_IO; the next call retries the read.
 */
const char *spool_read_error(const struct spool *sp);

/* The reader's current position (after the last entry returned). */
struct spool_pos spool_tell(const struct spool *sp);

/*
 * Persist pos as the read position (atomically) and delete segments
 * entirely before it.  Returns 0 or ERR_IO.
 */
int spool_save(struct spool *sp, struct spool_pos pos);

/*
 * When the reader has read everything committed, move writing to a fresh
 * segment and delete the drained one (frees disk space at once, e.g.
 * after the disk filled up).  Returns 0 or ERR_IO.
 */
int spool_compact(struct spool *sp);

/* Move the reader back to the last saved position. */
int spool_rewind(struct spool *sp);

/*
 * The limits of one entry and of one key in a COMMIT.  A page whose keys
 * would make a COMMIT larger than SPOOL_ENTRY_MAX is committed in parts
 * (each part: its DATA entries, then a COMMIT of their keys, no position;
 * the last part carries the position), and a key longer than SPOOL_KEY_MAX
 * cannot be committed at all.
 */
#define SPOOL_ENTRY_MAX (16U * 1024 * 1024)
#define SPOOL_KEY_MAX 65535U

/* Bytes a key of n bytes adds to a COMMIT payload. */
#define SPOOL_COMMIT_KEY_SIZE(n) (14 + (size_t)(n))

/* Encode / walk a COMMIT payload: sequence, cursor position, keys. */
int spool_commit_begin(
    struct buf *b, uint64_t seq, int has_pos, const struct ts *pos);
/*
 * Name the COMMIT's owner (the tenant and source whose cursor it moves;
 * at most SPOOL_OWNER_MAX bytes), right after spool_commit_begin().  Many
 * tenants share one queue's spool: recovery applies a COMMIT only to the
 * cursor of its owner.  Returns 0, ERR_TOOBIG or ERR_NOMEM.
 */
#define SPOOL_OWNER_MAX 1024
int spool_commit_owner(struct buf *b, const char *owner, size_t n);
/*
 * The owner of a COMMIT payload: *owner and *n, or NULL and 0 for a
 * COMMIT without one (written before owners were named).  ERR_PARSE for a
 * payload too short.
 */
int spool_commit_owner_of(
    const void *payload, size_t len, const char **owner, size_t *n);
/* Set the position of a payload begun with spool_commit_begin(). */
void spool_commit_set_pos(struct buf *b, int has_pos, const struct ts *pos);
/* Add a key: 0, ERR_TOOBIG (n > SPOOL_KEY_MAX) or ERR_NOMEM. */
int spool_commit_key(
    struct buf *b, const char *key, size_t n, const struct ts *t);
/*
 * Decode payload into seq, has_pos and pos; calls key(arg, ...) for every key.
 * Returns 0 or ERR_PARSE.
 */
int spool_commit_decode(const void *payload, size_t len, uint64_t *seq,
    int *has_pos, struct ts *pos,
    int (*key)(void *arg, const char *k, size_t n, const struct ts *t),
    void *arg);

#endif
