/* SPDX-License-Identifier: MIT */
/*
 * Interruptible sleeps and jitter (include/nap.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "errcode.h"
#include "nap.h"

void
nap_deadline(long ms, struct timespec *until)
{
	clock_gettime(CLOCK_MONOTONIC, until);
	until->tv_sec += ms / 1000;
	until->tv_nsec += (ms % 1000) * 1000000L;
	if (until->tv_nsec >= 1000000000L) {
		until->tv_sec++;
		until->tv_nsec -= 1000000000L;
	}
}

int
nap_ms(long ms, const volatile sig_atomic_t *stop)
{
	struct timespec end, now;

	nap_deadline(ms, &end);
	for (;;) {
		long left;
		struct timespec step = {0, 0};

		if (stop != NULL && *stop)
			return ERR_STOPPED;
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = (end.tv_sec - now.tv_sec) * 1000000000L +
		    (end.tv_nsec - now.tv_nsec);
		if (left <= 0)
			return 0;
		/* A signal ends nanosleep early, so a stop is seen at once. */
		if (left > 1000000000L)
			left = 1000000000L;
		step.tv_sec = left / 1000000000L;
		step.tv_nsec = left % 1000000000L;
		nanosleep(&step, NULL);
	}
}

int64_t
nap_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

unsigned long
nap_jitter(unsigned long n)
{
	static _Thread_local unsigned int seed;

	if (seed == 0)
		seed = (unsigned int)getpid() ^ (unsigned int)time(NULL) ^
		    (unsigned int)(uintptr_t)&seed ^ 1u;
	return n ? (unsigned long)rand_r(&seed) % n : 0;
}
