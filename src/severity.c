/* SPDX-License-Identifier: MIT */
/*
 * Severity (include/severity.h): one table from Defender's severity texts
 * to the CEF, LEEF and syslog numbers, used by the normalisers (to write
 * Graph's lowercase texts as the SIEM API does), the formatters and the
 * syslog header.
 */
#include <string.h>
#include <strings.h>

#include "severity.h"

static const struct severity rows[] = {
    {"Informational", 1, 1, 6},
    {"Low", 3, 3, 5},
    {"Medium", 5, 5, 4},
    {"High", 8, 8, 3},
};

static const struct severity fallback = {"Unknown", 0, 1, 6};

static const struct severity *
lookup(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (s != NULL && n == strlen(rows[i].name) &&
		    strncasecmp(s, rows[i].name, n) == 0)
			return &rows[i];
	return NULL;
}

const struct severity *
severity_of(const char *s, size_t n)
{
	const struct severity *v = lookup(s, n);

	return v != NULL ? v : &fallback;
}

int
severity_known(const char *s, size_t n)
{
	return lookup(s, n) != NULL;
}
