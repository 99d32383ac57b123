/* SPDX-License-Identifier: MIT */
/*
 * The running daemon (ARCHITECTURE section 8): every tenant of the
 * configuration polled concurrently by the scheduler's workers, each
 * with its own pipeline (cycle.h), feeding the output queue of its output
 * (tenants with the same output share one queue, one spool and one
 * connection); one delivery thread per queue; the main thread handles
 * signals, reloads, the status files and the systemd watchdog.
 */
#ifndef DAEMON_H
#define DAEMON_H

#include <signal.h>

struct config_set;

/* The signal flags main.c's handlers set. */
struct daemon_flags {
	volatile sig_atomic_t *stop;
	volatile sig_atomic_t *reload;
	volatile sig_atomic_t *counters;
	volatile sig_atomic_t
	    *wake; /* any of them: the main thread's nap ends */
};

/*
 * Run until stopped (or, with once, until every tenant has read one
 * whole window and what was spooled is delivered or shutdown_grace has
 * passed).  *set is replaced on reload (path is read again); the caller
 * frees the last one.  Returns the exit status: 0, or 1 when the daemon
 * could not start, or with once when a tenant failed or messages stay in
 * a spool (each named in the log).
 */
int daemon_run(struct config_set **set, const char *path, int once,
    const struct daemon_flags *flags);

#endif
