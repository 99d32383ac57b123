/* SPDX-License-Identifier: MIT */
/*
 * A detection's severity, decided once: the normalisers give every record
 * Defender's text ("Informational", "Low", "Medium", "High" in any case),
 * and this table is the one place that says what each text is in the
 * numbers of CEF, LEEF and syslog.  A text the table does not know (an
 * empty one, Graph's "unknown" or a future value) is the lowest step of
 * every scale: CEF 0, LEEF 1, syslog informational (6).
 */
#ifndef SEVERITY_H
#define SEVERITY_H

#include <stddef.h>

struct severity {
	const char *name; /* "High", or "Unknown" for the fallback */
	int cef; /* CEF header Severity, 0-10 */
	int leef; /* LEEF sev, 1-10 */
	int syslog; /* syslog severity, 0-7 */
};

/*
 * The row for severity text s[0..n) (case-insensitive, no trimming); for
 * a text the table does not know, the fallback row.  Static storage,
 * never NULL.
 */
const struct severity *severity_of(const char *s, size_t n);

/* 1 when s[0..n) names a known severity, else 0. */
int severity_known(const char *s, size_t n);

#endif
