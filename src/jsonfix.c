/* SPDX-License-Identifier: MIT */
/*
 * Repairs of API responses before parsing (include/jsonfix.h).
 */
#include <string.h>

#include "jsonfix.h"

long
jsonfix_hex4(const char *p)
{
	long v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

void
jsonfix_surrogates(char *p, size_t n)
{
	char *end = p + n;

	while ((p = memchr(p, '\\', (size_t)(end - p))) != NULL) {
		long u, lo;

		if (end - p < 6 || p[1] != 'u') {
			p += 2;
			if (p >= end)
				break;
			continue;
		}
		u = jsonfix_hex4(p + 2);
		if (u < 0xD800 || u > 0xDFFF) {
			p += 6;
			continue;
		}
		if (u <= 0xDBFF && end - p >= 12 && p[6] == '\\' &&
		    p[7] == 'u' && (lo = jsonfix_hex4(p + 8)) >= 0xDC00 &&
		    lo <= 0xDFFF) {
			p += 12;
			continue;
		}
		memcpy(p + 2, "fffd", 4);
		p += 6;
	}
}
