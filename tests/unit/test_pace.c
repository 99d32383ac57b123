/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for pace.c: with the Alert API's limits (paced at 95 per
 * minute and 1,425 per hour) no sliding window of either length ever
 * holds more finished requests than allowed, a backlog is not slowed more
 * than the limits demand, and scaling shortens the windows.
 */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "pace.h"

static const struct pace_limit alerts[] = {
    {60 * 1000, 95},
    {3600 * 1000, 1425},
};

/* Largest number of times in any window of w ms (times ascending). */
static unsigned
max_in_window(const int64_t *t, size_t n, int64_t w)
{
	size_t i, j = 0;
	unsigned best = 0;

	for (i = 0; i < n; i++) {
		while (t[i] - t[j] >= w)
			j++;
		if (i - j + 1 > best)
			best = (unsigned)(i - j + 1);
	}
	return best;
}

static void
test_backlog(double scale)
{
	struct pace *p = pace_new(alerts, 2, scale);
	size_t n = 3000, i, which = 99;
	int64_t *t = calloc(n, sizeof(*t)), now = 1000000, minute, hour;

	CHECK(p != NULL && t != NULL);
	if (p == NULL || t == NULL)
		return;
	minute = pace_limit_get(p, 0)->window_ms;
	hour = pace_limit_get(p, 1)->window_ms;
	CHECK(minute == (int64_t)(60000 * scale));
	CHECK(hour == (int64_t)(3600000 * scale));
	CHECK(pace_limit_get(p, 2) == NULL);
	/* each request takes 7 ms; waits are taken as told */
	for (i = 0; i < n; i++) {
		int64_t d = pace_delay(p, now, &which);

		CHECK(d >= 0);
		now += d + 7;
		t[i] = now;
		pace_note(p, now);
	}
	CHECK(max_in_window(t, n, minute + 1) <= 95);
	CHECK(max_in_window(t, n, hour + 1) <= 1425);
	/* the first 95 go at once; the hour limit binds after 1,425 */
	CHECK(t[94] - t[0] == 94 * 7);
	CHECK(t[95] - t[0] > minute);
	CHECK(t[1425] - t[0] > hour && t[1424] - t[0] < hour);
	CHECK(which == 0 || which == 1);
	/* and no more than that: 3,000 requests in a little over 2 hours */
	CHECK(t[n - 1] - t[0] < 2 * hour + 2 * minute);
	pace_free(p);
	free(t);
}

static void
test_idle(void)
{
	struct pace *p = pace_new(NULL, 0, 1.0);
	struct pace_limit zero = {1000, 0};
	int i;

	CHECK(p != NULL);
	for (i = 0; i < 1000; i++)
		pace_note(p, 5);
	CHECK(pace_delay(p, 5, NULL) == 0);
	pace_free(p);
	CHECK(pace_new(&zero, 1, 1.0) == NULL);
	pace_free(NULL);
}

/* Shared by concurrent requests: those in flight hold their slot. */
static void
test_inflight(void)
{
	struct pace_limit lim = {1000, 3};
	struct pace *p = pace_new(&lim, 1, 1.0);

	CHECK(p != NULL);
	if (p == NULL)
		return;
	pace_start(p);
	pace_start(p);
	CHECK(pace_delay(p, 0, NULL) == 0);
	pace_start(p);
	/* three in flight: none finished, so ask again soon */
	CHECK(pace_delay(p, 0, NULL) > 0 && pace_delay(p, 0, NULL) < 1000);
	pace_note(p, 10);
	/* one finished at 10, two in flight: wait until 10 leaves */
	CHECK(pace_delay(p, 10, NULL) == 1001);
	pace_note(p, 20);
	pace_note(p, 30);
	CHECK(pace_delay(p, 30, NULL) == 981);
	pace_start(p);
	/* the oldest gone at 1011; the one in flight still counts */
	CHECK(pace_delay(p, 1011, NULL) == 1021 - 1011);
	pace_free(p);
}

int
main(void)
{
	test_inflight();
	test_backlog(1.0);
	test_backlog(0.1);
	test_idle();
	return check_done();
}
