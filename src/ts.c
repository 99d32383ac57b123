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

static int
digits(const char *s, size_t n, size_t at, size_t count, int *out)
{
	int v = 0;
	size_t i;

	if (at + count > n)
		return -1;
	for (i = at; i < at + count; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
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
	if (digits(s, n, i + 1, 2, &hh) != 0)
		return -1;
	i += 3;
	if (i < n && s[i] == ':')
		i++;
	if (digits(s, n, i, 2, &mm) != 0 || i + 2 != n || hh > 23 || mm > 59)
		return -1;
	*off = (int64_t)(hh * 3600 + mm * 60) * (neg ? -1 : 1);
	return 0;
}

int
ts_parse(const char *s, size_t n, struct ts *out)
{
	int y, mo, d, h, mi, se, frac = 0, nd = 0;
	int64_t off, sec;
	size_t i = 19;

	if (n < 19 || digits(s, n, 0, 4, &y) || s[4] != '-' ||
	    digits(s, n, 5, 2, &mo) || s[7] != '-' || digits(s, n, 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    digits(s, n, 11, 2, &h) || s[13] != ':' ||
	    digits(s, n, 14, 2, &mi) || s[16] != ':' ||
	    digits(s, n, 17, 2, &se))
		return ERR_PARSE;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
	    mi > 59 || se > 60)
		return ERR_PARSE;
	if (i < n && s[i] == '.') {
		i++;
		if (i == n || s[i] < '0' || s[i] > '9')
			return ERR_PARSE;
		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, nd++) {
			if (nd < 7)
				frac = frac * 10 + (s[i] - '0');
		}
		for (; nd < 7; nd++)
			frac *= 10;
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
