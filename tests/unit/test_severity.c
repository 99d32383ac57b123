/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for severity.c: every Defender severity text, in any case,
 * gives the same CEF, LEEF and syslog numbers everywhere, and every other
 * text gets the one fallback (the lowest step of each scale).
 */
#include <string.h>
#include <strings.h>

#include "check.h"
#include "severity.h"

int
main(void)
{
	static const struct {
		const char *in;
		int known, cef, leef, syslog;
	} cases[] = {
	    {"Informational", 1, 1, 1, 6},
	    {"informational", 1, 1, 1, 6},
	    {"Low", 1, 3, 3, 5},
	    {"LOW", 1, 3, 3, 5},
	    {"Medium", 1, 5, 5, 4},
	    {"mEdIuM", 1, 5, 5, 4},
	    {"High", 1, 8, 8, 3},
	    {"high", 1, 8, 8, 3},
	    {"", 0, 0, 1, 6},
	    {"unknown", 0, 0, 1, 6},
	    {"unknownFutureValue", 0, 0, 1, 6},
	    {"High ", 0, 0, 1, 6},
	    {"Hig", 0, 0, 1, 6},
	    {"Critical", 0, 0, 1, 6},
	    {"8", 0, 0, 1, 6},
	};
	const struct severity *s;
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = strlen(cases[i].in);
		s = severity_of(cases[i].in, n);
		CHECK(severity_known(cases[i].in, n) == cases[i].known);
		CHECK(s->cef == cases[i].cef);
		CHECK(s->leef == cases[i].leef);
		CHECK(s->syslog == cases[i].syslog);
		if (cases[i].known) {
			CHECK(strlen(s->name) == n);
			CHECK(strncasecmp(s->name, cases[i].in, n) == 0);
		}
	}
	s = severity_of(NULL, 0);
	CHECK(s != NULL && s->cef == 0 && s->leef == 1 && s->syslog == 6);
	CHECK_STR(s->name, "Unknown");
	return check_done();
}
