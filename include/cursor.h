/* SPDX-License-Identifier: MIT */
/*
 * The delivery cursor of one (tenant, source): a timestamp on the source's
 * ordering field and the dedup keys already taken at or after
 * cursor - overlap (ARCHITECTURE section 2).  A cycle reads the window
 * [cursor - overlap, now]; keys seen again in the overlap are dropped.
 * The state file is replaced atomically (temp, fsync, rename, fsync dir).
 */
#ifndef CURSOR_H
#define CURSOR_H

#include <stddef.h>
#include <stdint.h>

#include "ts.h"

struct buf;
struct cursor;

/*
 * Whose state it is: the cursor file and the spool COMMITs of a source are
 * tagged with its tenant id, api and source URL, and never applied to
 * another (a changed tenant_id, api or url in the same state directory
 * starts that source afresh).  Borrowed strings.
 */
struct state_owner {
	const char *tenant_id;
	const char *api;
	const char *url;
};

/* cursor_load(): the file belongs to another owner (c stays empty). */
#define CURSOR_FOREIGN 1
/* cursor_load(): loaded; the file names no URL (an earlier version's). */
#define CURSOR_UNTAGGED 2

/*
 * The owner as the spool COMMITs name it (spool_commit_owner()):
 * "tenant\napi\nurl", the tenant id in lower case; replaced in out.
 * 0 or ERR_NOMEM.
 */
int cursor_owner_text(const struct state_owner *o, struct buf *out);

/* A new, empty cursor (no position, no keys), or NULL. */
struct cursor *cursor_new(void);
void cursor_free(struct cursor *c);

/*
 * Load the state file at path.  Returns 0; CURSOR_UNTAGGED (loaded, but
 * the file names no URL: written by an earlier version, taken over);
 * CURSOR_FOREIGN when it names another tenant (ids compared without case),
 * api or URL, with *why saying which (c stays empty); ERR_NOTFOUND when
 * the file does not exist (c stays empty); ERR_PARSE when it is corrupt,
 * with *why set to a static reason; ERR_IO on read errors.
 */
int cursor_load(struct cursor *c, const char *path, const struct state_owner *o,
    const char **why);

/*
 * Write the state, tagged with its owner, atomically to path.  Returns 0
 * or ERR_IO (errno kept); on failure the previous file is intact.
 */
int cursor_save(
    const struct cursor *c, const char *path, const struct state_owner *o);

/* Nonzero when a position has been set (loaded or committed). */
int cursor_has_position(const struct cursor *c);

/* The position (valid only when cursor_has_position()). */
const struct ts *cursor_position(const struct cursor *c);

/* Set the position; it never moves backwards (an older t is ignored). */
void cursor_advance(struct cursor *c, const struct ts *t);

/*
 * Move a position that is after t back to t (nothing otherwise): for a
 * position found ahead of the API's own clock, saved while the host's
 * clock ran ahead.  The keys are kept.
 */
void cursor_rewind(struct cursor *c, const struct ts *t);

/* Nonzero when key (n bytes) was already taken. */
int cursor_seen(const struct cursor *c, const char *key, size_t n);

/*
 * Remember key with the record's ordering time t.  Returns 0 or
 * ERR_NOMEM.  Adding a key twice keeps one entry.
 */
int cursor_add(struct cursor *c, const char *key, size_t n, const struct ts *t);

/* Forget keys whose time is before t (t = position - overlap). */
void cursor_prune(struct cursor *c, const struct ts *t);

/*
 * Sequence number of the last spool COMMIT reflected in this cursor (0
 * before the first), persisted with it; recovery compares it with the
 * spool's last COMMIT.
 */
uint64_t cursor_seq(const struct cursor *c);
void cursor_set_seq(struct cursor *c, uint64_t seq);

/* Number of keys held. */
size_t cursor_count(const struct cursor *c);

#endif
