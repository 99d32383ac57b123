/* SPDX-License-Identifier: MIT */
/*
 * Small state files in the state directory: read whole, and replace
 * atomically (write temp, fsync, rename, fsync the directory), so a crash
 * at any instruction leaves either the old or the new file.
 */
#ifndef STATEFILE_H
#define STATEFILE_H

#include <stddef.h>

struct buf;

/*
 * Read path into b (appending).  Returns 0, ERR_NOTFOUND when it does not
 * exist, ERR_TOOBIG past b's cap, ERR_IO otherwise (errno kept).
 */
int statefile_read(const char *path, struct buf *b);

/* Replace path with len bytes of data atomically; mode 0600. 0 or ERR_IO. */
int statefile_write(const char *path, const void *data, size_t len);

/*
 * The same without fsync: atomic against a process crash (the old or the
 * new file), not against power loss, where an older version may come
 * back.  For positions where an older value is still correct.
 */
int statefile_write_nosync(const char *path, const void *data, size_t len);

/*
 * What both build on: write through the temporary file tmp (NULL: path
 * with ".tmp" appended; it must be in path's directory), which gets mode
 * exactly; with sync, fsync the file before the rename and the directory
 * after it.  0 or ERR_IO (errno kept); a failed write leaves no
 * temporary file.
 */
int statefile_replace(const char *path, const char *tmp, const void *data,
    size_t len, unsigned mode, int sync);

/*
 * Create directory path (mode 0700) if it does not exist, and fsync its
 * parent so that the new name survives a power loss.  0 or ERR_IO.
 */
int statefile_mkdir(const char *path);

/* fsync directory dir: names created in it are durable.  0 or ERR_IO. */
int statefile_sync_dir(const char *dir);

#endif
