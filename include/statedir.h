/* SPDX-License-Identifier: MIT */
/*
 * Where state lives in [state] directory (ARCHITECTURE section 8):
 *
 *   lock, status.json                   the daemon's
 *   tenants/NAME/cursor-API.json        a tenant's cursors and dedup sets
 *   queues/QUEUE/spool/                 an output queue's segments and
 *                                       read position
 *
 * Tenants whose outputs are the same (what the queue applies when it
 * sends: transport, host, port, framing, TLS settings; for kafka the
 * brokers, the topic with the tenant's name for %t, and the producer's
 * properties) share one queue; QUEUE names that output.  A state directory written by a daemon of one
 * tenant (cursor-API.json and spool/ at its top) is moved into this layout
 * at start, without re-delivering anything.
 */
#ifndef STATEDIR_H
#define STATEDIR_H

#include <stddef.h>

struct config;
struct config_set;

/* statedir_queue()'s names: a label for humans and a directory name. */
#define STATEDIR_LABEL_MAX 300
#define STATEDIR_NAME_MAX 128

/*
 * The directory of tenant name into out (created, mode 0700, with its
 * parents).  Returns 0, ERR_TOOBIG (path too long) or ERR_IO (errno).
 */
int statedir_tenant(
    const char *state, const char *name, char *out, size_t outlen);

/*
 * The queue c's output feeds: label ("tcp://siem.example.net:514") and
 * directory name, both NUL-terminated; two configurations get the same
 * name exactly when their outputs are the same.
 */
void statedir_queue_name(const struct config *c, char label[STATEDIR_LABEL_MAX],
    char name[STATEDIR_NAME_MAX]);

/*
 * The queue's directory into out (created).  0, ERR_TOOBIG or ERR_IO.
 */
int statedir_queue(
    const char *state, const struct config *c, char *out, size_t outlen);

/*
 * Move a one-tenant state directory into the layout above: the spool to
 * the queue of the tenant its cursor files name (by tenant id; or the
 * only tenant), then each cursor file into its tenant's directory.  What
 * it moves or leaves is logged.  Idempotent, and safe to interrupt at any
 * point (each step is one rename).  Returns 0 or ERR_IO.
 */
int statedir_migrate(const char *state, const struct config_set *set);

#endif
