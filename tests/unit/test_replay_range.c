/* SPDX-License-Identifier: MIT */
/* The replay range: times, durations, errors naming the option. */
#include <string.h>

#include "check.h"
#include "replay_range.h"
#include "ts.h"

static struct ts now;

static int
bad(const char *from, const char *to, const char *want)
{
	struct replay_range r = {{42, 0}, {42, 0}};
	char err[256] = "";

	if (replay_range_parse(from, to, &now, &r, err, sizeof err) != -1)
		return 0;
	return r.from.sec == 42 && r.to.sec == 42 && strstr(err, want);
}

static void
test_range(void)
{
	struct replay_range r;
	char err[256];
	char out[TS_STRLEN];

	CHECK(ts_parse("2026-12-02T12:00:00.5Z", 22, &now) == 0);
	CHECK(replay_range_parse("2026-12-01T00:00:00Z", NULL, &now, &r, err,
	          sizeof err) == 0);
	ts_format7(&r.from, out);
	CHECK_STR(out, "2026-12-01T00:00:00.0000000Z");
	CHECK(ts_cmp(&r.to, &now) == 0);
	CHECK(replay_range_parse("90m", "30s", &now, &r, err, sizeof err) == 0);
	CHECK(r.from.sec == now.sec - 5400 && r.from.tick == now.tick);
	CHECK(r.to.sec == now.sec - 30);
	CHECK(replay_range_parse("2d", "1h", &now, &r, err, sizeof err) == 0);
	CHECK(r.from.sec == now.sec - 2 * 86400 && r.to.sec == now.sec - 3600);
	/* a one-instant range is not empty */
	CHECK(replay_range_parse("2026-12-01T10:00:00Z", "2026-12-01T10:00:00Z",
	          &now, &r, err, sizeof err) == 0);
	CHECK(ts_cmp(&r.from, &r.to) == 0);
	CHECK(replay_range_parse("0s", NULL, &now, &r, err, sizeof err) == 0);

	CHECK(bad("yesterday", NULL, "--replay: \"yesterday\" is neither"));
	CHECK(bad("", NULL, "--replay"));
	CHECK(bad("2d", "soon", "--until: \"soon\" is neither"));
	CHECK(bad("2026-13-01T00:00:00Z", NULL, "--replay"));
	CHECK(bad("-2d", NULL, "--replay"));
	CHECK(bad("2x", NULL, "--replay"));
	CHECK(bad("2027-01-01T00:00:00Z", NULL, "--replay: \""));
	CHECK(bad("2027-01-01T00:00:00Z", NULL, "is after now"));
	CHECK(bad("1d", "2027-01-01T00:00:00Z", "--until: \"2027"));
	CHECK(bad("1h", "2d", "--until: \"2d\" is before --replay \"1h\""));
}

int
main(void)
{
	test_range();
	return check_done();
}
