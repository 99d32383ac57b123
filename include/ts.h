/* SPDX-License-Identifier: MIT */
/*
 * Timestamps as Defender writes them: ISO 8601 UTC with 0 to 7 fractional
 * digits ("2020-09-30T14:11:44.0779765Z").  They are kept as whole seconds
 * plus 100 ns ticks and compared exactly, never as floating point.
 */
#ifndef TS_H
#define TS_H

#include <stddef.h>
#include <stdint.h>

#define TS_TICKS_PER_SEC 10000000L
#define TS_STRLEN 29 /* "YYYY-MM-DDTHH:MM:SS.fffffffZ" + NUL */

struct ts {
	int64_t sec; /* seconds since 1970-01-01T00:00:00Z */
	int32_t tick; /* 0 .. 9999999, units of 100 ns */
};

/*
 * Parse "YYYY-MM-DDTHH:MM:SS[.f{1,7}][Z|+00:00|-hh:mm|+hh:mm]" (a missing
 * zone means UTC; a space is accepted for 'T'; more than 7 fractional
 * digits are truncated).  n is the length of s.  Returns 0, or ERR_PARSE
 * with *out untouched.
 */
int ts_parse(const char *s, size_t n, struct ts *out);

/* <0, 0, >0 like strcmp. */
int ts_cmp(const struct ts *a, const struct ts *b);

/* Write "YYYY-MM-DDTHH:MM:SS.fffffffZ" (7 digits) into out[TS_STRLEN]. */
void ts_format7(const struct ts *t, char out[TS_STRLEN]);

/* Write "YYYY-MM-DDTHH:MM:SS.fffZ" (3 digits, truncated) into out. */
void ts_format3(const struct ts *t, char out[TS_STRLEN]);

/* Milliseconds since the epoch (truncated toward minus infinity). */
int64_t ts_epoch_ms(const struct ts *t);

/* The current UTC time. */
void ts_now(struct ts *out);

/* t += seconds (may be negative). */
void ts_add_sec(struct ts *t, int64_t seconds);

/* t += ticks (may be negative), normalised. */
void ts_add_ticks(struct ts *t, int64_t ticks);

/* Difference a - b in ticks, saturated to INT64 range. */
int64_t ts_diff_ticks(const struct ts *a, const struct ts *b);

#endif
