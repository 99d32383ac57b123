/* SPDX-License-Identifier: MIT */
/* Timestamp parsing, exact comparison and formatting (src/ts.c). */
#include <string.h>

#include "check.h"
#include "errcode.h"
#include "ts.h"

static struct ts
P(const char *s) {
	struct ts t = {-1, -1};

	CHECK(ts_parse(s, strlen(s), &t) == 0);
	return t;
}

static int
bad(const char *s)
{
	struct ts t = {42, 42};

	return ts_parse(s, strlen(s), &t) == ERR_PARSE && t.sec == 42;
}

static void
test_parse(void)
{
	struct ts t = P("2020-09-30T14:11:44.0779765Z");
	char out[TS_STRLEN];

	CHECK(t.sec == 1601475104 && t.tick == 779765);
	ts_format7(&t, out);
	CHECK_STR(out, "2020-09-30T14:11:44.0779765Z");
	ts_format3(&t, out);
	CHECK_STR(out, "2020-09-30T14:11:44.077Z");
	CHECK(ts_epoch_ms(&t) == 1601475104077LL);
	/* 0 to 7 fractional digits, extra digits truncated. */
	CHECK(P("2020-09-30T14:09:20.35743Z").tick == 3574300);
	CHECK(P("2020-09-30T14:09:20Z").tick == 0);
	CHECK(P("2020-09-30T14:09:20.1").tick == 1000000);
	CHECK(P("2020-09-30T14:09:20.123456789Z").tick == 1234567);
	/* No zone means UTC; offsets are applied. */
	CHECK(P("2020-09-30T14:09:20").sec == P("2020-09-30T14:09:20Z").sec);
	CHECK(P("2020-09-30T16:09:20+02:00").sec ==
	    P("2020-09-30T14:09:20Z").sec);
	CHECK(
	    P("2020-09-30T12:09:20-0200").sec == P("2020-09-30T14:09:20Z").sec);
	CHECK(P("2020-09-30 14:09:20Z").sec == P("2020-09-30T14:09:20Z").sec);
	CHECK(P("1970-01-01T00:00:00Z").sec == 0);
	CHECK(P("2024-02-29T00:00:00Z").sec == 1709164800);
	CHECK(bad("2023-02-29T00:00:00Z"));
	CHECK(bad("2020-13-01T00:00:00Z"));
	CHECK(bad("2020-09-30T24:00:00Z"));
	CHECK(bad("2020-09-30T14:09:20.Z"));
	CHECK(bad("2020-09-30T14:09:20Zjunk"));
	CHECK(bad("2020-09-30"));
	CHECK(bad(""));
	CHECK(bad("2020-09-30T14:09:20+25:00"));
}

static void
test_compare(void)
{
	struct ts a = P("2020-09-30T14:11:44.0779765Z");
	struct ts b = P("2020-09-30T14:11:44.0779766Z");
	struct ts c = P("2020-09-30T14:11:44.077976500Z");

	CHECK(ts_cmp(&a, &b) < 0);
	CHECK(ts_cmp(&b, &a) > 0);
	CHECK(ts_cmp(&a, &c) == 0);
	CHECK(ts_diff_ticks(&b, &a) == 1);
}

static void
test_arith(void)
{
	struct ts t = P("2020-01-01T00:00:00.0000001Z");
	char out[TS_STRLEN];

	ts_add_ticks(&t, -2);
	ts_format7(&t, out);
	CHECK_STR(out, "2019-12-31T23:59:59.9999999Z");
	ts_add_ticks(&t, 10000001);
	ts_format7(&t, out);
	CHECK_STR(out, "2020-01-01T00:00:01.0000000Z");
	ts_add_sec(&t, -86400 * 365);
	ts_format7(&t, out);
	CHECK_STR(out, "2019-01-01T00:00:01.0000000Z");
	t.sec = -1;
	t.tick = 5;
	ts_format7(&t, out);
	CHECK_STR(out, "1969-12-31T23:59:59.0000005Z");
}

/*
 * Every byte value at every place of a timestamp: a digit place takes
 * only digits (and gives the value the digit says), a separator only its
 * own byte, and the fraction any number of digits, of which the first
 * seven count.
 */
static void
test_each_byte(void)
{
	static const char base[] = "2020-09-30T14:09:20.1234567Z";
	static const char seps[] = "----T::.";
	/* ticks a fraction digit at place 20 + k is worth */
	static const int weight[7] = {1000000, 100000, 10000, 1000, 100, 10, 1};
	char t[sizeof(base)];
	struct ts want = P(base), got;
	size_t i, n = sizeof(base) - 1, bad_n = 0;
	int c, ok, digitp;

	for (i = 0; i < n - 1; i++) {
		digitp = base[i] >= '0' && base[i] <= '9';
		for (c = 1; c < 256; c++) {
			memcpy(t, base, sizeof(base));
			t[i] = (char)c;
			ok = ts_parse(t, n, &got) == 0;
			if (digitp && i > 19) {
				/* a fraction digit: any digit, or the end of
				 * the fraction (then the zone must follow) */
				if (ok != (c >= '0' && c <= '9'))
					bad_n++;
				else if (ok &&
				    got.tick !=
				        want.tick +
				            (c - base[i]) * weight[i - 20])
					bad_n++;
			} else if (digitp && (i == 12 || i == 15 || i == 18)) {
				/* the units of the hour, minute and second:
				 * every digit is valid, and counts */
				if (ok != (c >= '0' && c <= '9') ||
				    (ok &&
				        got.sec !=
				            want.sec +
				                (c - base[i]) *
				                    (i == 12          ? 3600
				                            : i == 15 ? 60
				                                      : 1)))
					bad_n++;
			} else if (digitp) {
				/* another date or time digit: only digits, and
				 * then only where the date stays valid */
				if (ok && !(c >= '0' && c <= '9'))
					bad_n++;
			} else if (i < 20 && strchr(seps, base[i]) != NULL) {
				if (ok !=
				    (c == base[i] ||
				        (i == 10 && (c == 't' || c == ' '))))
					bad_n++;
			}
		}
	}
	CHECK(bad_n == 0);
	/* more than seven fraction digits: the rest is dropped */
	CHECK(P("2020-09-30T14:09:20.12345678999Z").tick == 1234567);
	CHECK(P("2020-09-30T14:09:20.9999999999Z").tick == 9999999);
	CHECK(bad("2020-09-30T14:09:20.12345678x"));
	CHECK(P("2020-09-30T14:09:20.05Z").tick == 500000);
}

int
main(void)
{
	test_parse();
	test_compare();
	test_arith();
	test_each_byte();
	return check_done();
}
