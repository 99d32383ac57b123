/* SPDX-License-Identifier: MIT */
/*
 * The time range of a replay (--replay FROM [--until TO]): each bound is
 * an ISO 8601 UTC time ("2026-01-31T00:00:00Z") or a duration back from
 * now ("90m", "2d", "30s", "6h").  TO defaults to now.
 */
#ifndef REPLAY_RANGE_H
#define REPLAY_RANGE_H

#include <stddef.h>

#include "ts.h"

struct replay_range {
	struct ts from; /* inclusive */
	struct ts to; /* inclusive */
};

/*
 * Parse one bound.  now is the time durations count back from.  Returns
 * 0, or -1 with *out untouched.
 */
int replay_bound_parse(const char *s, const struct ts *now, struct ts *out);

/*
 * Parse FROM and TO (to may be NULL: now) into *r.  On a bad value writes
 * a message naming the option ("--replay" or "--until") and the value
 * into err[errlen] and returns -1 with *r untouched: a value that is
 * neither form, a bound after now, or FROM after TO.
 */
int replay_range_parse(const char *from, const char *to, const struct ts *now,
    struct replay_range *r, char *err, size_t errlen);

#endif
