/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: raw bytes through the tree-less JSON reader
 * (src/jsonscan.c) and cJSON side by side.  Both must accept the same
 * texts and end the first value at the same byte, since the OData source
 * checks a page with the one and parses its records with the other; the
 * sanitizers catch any read outside the text.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *t = (const char *)data, *want = NULL, *got, *p = t;
	cJSON *root = cJSON_ParseWithLengthOpts(t, size, &want, 0);

	/* cJSON skips a UTF-8 byte order mark first (source_odata.c too). */
	if (size > 4 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	got = jsonscan_value(jsonscan_ws(p, t + size), t + size, 0);
	if (root == NULL ? got != NULL : got != want)
		abort();
	cJSON_Delete(root);
	return 0;
}
