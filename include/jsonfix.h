/* SPDX-License-Identifier: MIT */
/*
 * Repairs applied to an API response before it is parsed.  cJSON rejects
 * a whole document for one unpaired UTF-16 surrogate escape ("\ud800"),
 * which Defender can send for a broken file name; one such value must not
 * cost the page (and stall the cursor).
 */
#ifndef JSONFIX_H
#define JSONFIX_H

#include <stddef.h>

/*
 * Rewrite every unpaired surrogate escape in the JSON text p[0..n) to
 * "\ufffd", in place (same length).  Outside strings valid JSON has no
 * backslash, so walking escape by escape is exact.
 */
void jsonfix_surrogates(char *p, size_t n);

/* The value of the four hex digits at p, or -1 when one is not a digit. */
long jsonfix_hex4(const char *p);

#endif
