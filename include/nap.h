/* SPDX-License-Identifier: MIT */
/*
 * Interruptible waits: every sleep in the daemon goes through here so that
 * a stop request (SIGTERM) is noticed within a fraction of a second.
 */
#ifndef NAP_H
#define NAP_H

#include <signal.h>

/*
 * Sleep ms milliseconds, waking early when *stop becomes nonzero (stop may
 * be NULL).  Returns 0, or ERR_STOPPED when woken by a stop request.
 */
int nap_ms(long ms, const volatile sig_atomic_t *stop);

/* A pseudo-random number in [0, n) for jitter (n > 0). */
unsigned long nap_jitter(unsigned long n);

#endif
