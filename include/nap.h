/* SPDX-License-Identifier: MIT */
/*
 * Interruptible waits: every sleep in the daemon goes through here so that
 * a stop request (SIGTERM) is noticed within a fraction of a second.
 */
#ifndef NAP_H
#define NAP_H

#include <signal.h>
#include <stdint.h>
#include <time.h>

/*
 * Sleep ms milliseconds, waking early when *stop becomes nonzero (stop may
 * be NULL).  Returns 0, or ERR_STOPPED when woken by a stop request.
 */
int nap_ms(long ms, const volatile sig_atomic_t *stop);

/*
 * The CLOCK_MONOTONIC time ms milliseconds from now, for nap_ms() and for
 * condition variables that wait on that clock.
 */
void nap_deadline(long ms, struct timespec *until);

/* Milliseconds of CLOCK_MONOTONIC: the clock of every wait and due time. */
int64_t nap_now_ms(void);

/* A pseudo-random number in [0, n) for jitter (n > 0); thread-safe. */
unsigned long nap_jitter(unsigned long n);

#endif
