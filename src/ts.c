/* SPDX-License-Identifier: MIT */
/*
 * ISO 8601 UTC timestamps with up to 7 fractional digits, as Defender
 * writes them, held as seconds + 100 ns ticks so that cursor comparisons
 * are exact (include/ts.h).  Calendar arithmetic is done here, not with
 * timegm(), so it is independent of the process time zone.
 */
#include <stdint.h>
#include <time.h>

#include "errcode.h"
#include "ts.h"

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* The value of the digit c, or a value above 9 for any other byte. */
static inline unsigned
digit(char c)
{
	return (unsigned)((unsigned char)c - '0');
}

/* The two digits at s as a number, or -1. */
static inline int
two(const char *s)
{
	unsigned a = digit(s[0]), b = digit(s[1]);

	return a <= 9 && b <= 9 ? (int)(a * 10 + b) : -1;
}

static int
days_in_month(int y, int m)
{
	static const int dm[] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 ? 28 + leap : dm[m - 1];
}

/* Parse an optional zone at s[i..n); sets *off in seconds east of UTC. */
static int
parse_zone(const char *s, size_t n, size_t i, int64_t *off)
{
	int hh, mm, neg;

	*off = 0;
	if (i == n)
		return 0;
	if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == n)
		return 0;
	if (s[i] != '+' && s[i] != '-')
		return -1;
	neg = s[i] == '-';
	if (n - i < 3 || (hh = two(s + i + 1)) < 0)
		return -1;
	i += 3;
	if (i < n && s[i] == ':')
		i++;
	if (i + 2 != n || (mm = two(s + i)) < 0 || hh > 23 || mm > 59)
		return -1;
	*off = (int64_t)(hh * 3600 + mm * 60) * (neg ? -1 : 1);
	return 0;
}

int
ts_parse(const char *s, size_t n, struct ts *out)
{
	/* ticks per unit of the last of nd fraction digits */
	static const int scale[8] = {
	    10000000, 1000000, 100000, 10000, 1000, 100, 10, 1};
	int yh, yl, y, mo, d, h, mi, se, frac = 0, nd = 0;
	int64_t off, sec;
	size_t i = 19;

	/* Every timestamp of every record is read here: the fixed part is
	 * taken two digits at a time, without a loop. */
	if (n < 19 || (yh = two(s)) < 0 || (yl = two(s + 2)) < 0 ||
	    s[4] != '-' || (mo = two(s + 5)) < 0 || s[7] != '-' ||
	    (d = two(s + 8)) < 0 ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    (h = two(s + 11)) < 0 || s[13] != ':' || (mi = two(s + 14)) < 0 ||
	    s[16] != ':' || (se = two(s + 17)) < 0)
		return ERR_PARSE;
	y = yh * 100 + yl;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
	    mi > 59 || se > 60)
		return ERR_PARSE;
	if (i < n && s[i] == '.') {
		i++;
		if (i == n || digit(s[i]) > 9)
			return ERR_PARSE;
		for (; i < n && nd < 7 && digit(s[i]) <= 9; i++, nd++)
			frac = frac * 10 + (int)digit(s[i]);
		while (i < n && digit(s[i]) <= 9)
			i++; /* digits past the seventh are dropped */
		frac *= scale[nd];
	}
	if (parse_zone(s, n, i, &off) != 0)
		return ERR_PARSE;
	if (se == 60)
		se = 59; /* a leap second is read as the second before it */
	sec = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
	out->sec = sec - off;
	out->tick = frac;
	return 0;
}

int
ts_cmp(const struct ts *a, const struct ts *b)
{
	if (a->sec != b->sec)
		return a->sec < b->sec ? -1 : 1;
	if (a->tick != b->tick)
		return a->tick < b->tick ? -1 : 1;
	return 0;
}

static void
put(char *p, int64_t v, int width)
{
	while (width-- > 0) {
		p[width] = (char)('0' + v % 10);
		v /= 10;
	}
}

static void
format_n(const struct ts *t, char out[TS_STRLEN], int nfrac)
{
	int64_t days = t->sec >= 0 ? t->sec / 86400 : (t->sec - 86399) / 86400;
	int64_t rem = t->sec - days * 86400, y;
	int m, d, f = t->tick;

	civil_from_days(days, &y, &m, &d);
	if (y < 0)
		y = 0;
	if (y > 9999)
		y = 9999;
	put(out, y, 4);
	out[4] = '-';
	put(out + 5, m, 2);
	out[7] = '-';
	put(out + 8, d, 2);
	out[10] = 'T';
	put(out + 11, rem / 3600, 2);
	out[13] = ':';
	put(out + 14, rem / 60 % 60, 2);
	out[16] = ':';
	put(out + 17, rem % 60, 2);
	out[19] = '.';
	if (nfrac == 3)
		f /= 10000;
	put(out + 20, f, nfrac);
	out[20 + nfrac] = 'Z';
	out[21 + nfrac] = '\0';
}

void
ts_format7(const struct ts *t, char out[TS_STRLEN])
{
	format_n(t, out, 7);
}

void
ts_format3(const struct ts *t, char out[TS_STRLEN])
{
	format_n(t, out, 3);
}

int64_t
ts_epoch_ms(const struct ts *t)
{
	return t->sec * 1000 + t->tick / 10000;
}

void
ts_now(struct ts *out)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	out->sec = now.tv_sec;
	out->tick = (int32_t)(now.tv_nsec / 100);
}

void
ts_add_ticks(struct ts *t, int64_t ticks)
{
	int64_t tk = t->tick + ticks % TS_TICKS_PER_SEC;

	t->sec += ticks / TS_TICKS_PER_SEC;
	if (tk < 0) {
		tk += TS_TICKS_PER_SEC;
		t->sec--;
	} else if (tk >= TS_TICKS_PER_SEC) {
		tk -= TS_TICKS_PER_SEC;
		t->sec++;
	}
	t->tick = (int32_t)tk;
}

void
ts_add_sec(struct ts *t, int64_t seconds)
{
	t->sec += seconds;
}

int64_t
ts_diff_ticks(const struct ts *a, const struct ts *b)
{
	int64_t ds = a->sec - b->sec;

	if (ds > INT64_MAX / TS_TICKS_PER_SEC - 1)
		return INT64_MAX;
	if (ds < INT64_MIN / TS_TICKS_PER_SEC + 1)
		return INT64_MIN;
	return ds * TS_TICKS_PER_SEC + (a->tick - b->tick);
}
