/* SPDX-License-Identifier: MIT */
/* The time range of a replay: UTC times or durations back from now. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "replay_range.h"
#include "ts.h"

int
replay_bound_parse(const char *s, const struct ts *now, struct ts *out)
{
	int64_t d;
	struct ts t;

	if (s == NULL || s[0] == '\0')
		return -1;
	/* A time starts with four digits and a '-'; a duration never does. */
	if (strlen(s) > 4 && s[4] == '-') {
		if (ts_parse(s, strlen(s), &t) != 0)
			return -1;
		*out = t;
		return 0;
	}
	if (config_parse_duration(s, &d) != 0 || d < 0)
		return -1;
	t = *now;
	ts_add_sec(&t, -d);
	*out = t;
	return 0;
}

static int
bound(const char *opt, const char *s, const struct ts *now, struct ts *out,
    char *err, size_t errlen)
{
	char n[TS_STRLEN];

	if (replay_bound_parse(s, now, out) != 0) {
		snprintf(err, errlen,
		    "%s: \"%s\" is neither a UTC time "
		    "(2026-01-31T00:00:00Z) nor a duration back from now "
		    "(90m, 2d)",
		    opt, s);
		return -1;
	}
	if (ts_cmp(out, now) > 0) {
		ts_format7(now, n);
		snprintf(
		    err, errlen, "%s: \"%s\" is after now (%s)", opt, s, n);
		return -1;
	}
	return 0;
}

int
replay_range_parse(const char *from, const char *to, const struct ts *now,
    struct replay_range *r, char *err, size_t errlen)
{
	struct replay_range v;

	if (bound("--replay", from, now, &v.from, err, errlen) != 0)
		return -1;
	if (to == NULL)
		v.to = *now;
	else if (bound("--until", to, now, &v.to, err, errlen) != 0)
		return -1;
	if (ts_cmp(&v.from, &v.to) > 0) {
		snprintf(err, errlen,
		    "--until: \"%s\" is before --replay \"%s\": the range "
		    "is empty",
		    to, from);
		return -1;
	}
	*r = v;
	return 0;
}
