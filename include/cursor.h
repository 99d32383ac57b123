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

struct cursor;

/* A new, empty cursor (no position, no keys), or NULL. */
struct cursor *cursor_new(void);
void cursor_free(struct cursor *c);

/*
 * Load the state file at path.  Returns 0; ERR_NOTFOUND when the file does
 * not exist (c stays empty); ERR_PARSE when it is corrupt, with *why set to
 * a static reason; ERR_IO on read errors.  The file records which api and
 * tenant it belongs to: a mismatch is ERR_PARSE ("state belongs to ...").
 */
int cursor_load(struct cursor *c, const char *path, const char *api,
    const char *tenant, const char **why);

/*
 * Write the state atomically to path.  Returns 0 or ERR_IO (errno kept);
 * on failure the previous file is intact.
 */
int cursor_save(const struct cursor *c, const char *path, const char *api,
    const char *tenant);

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
