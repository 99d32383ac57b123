/* SPDX-License-Identifier: MIT */
/*
 * The test data in tests/data/, as the record tests (test_record,
 * test_record_alert) and the format tests (test_cef, test_leef,
 * test_json_out) use it: a file read whole or parsed as JSON, the first
 * record of a fixture, that record normalised by its API's normaliser,
 * output compared with a golden file (UPDATE_GOLDEN=1 rewrites the file
 * instead), and a record's values read back as C strings.
 *
 * The functions are static inline, like check_done(): each test uses only
 * some of them and gets no unused-function warning for the others.
 */
#ifndef FIXTURE_H
#define FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "record.h"
#include "record_alert.h"

/*
 * The bytes of the file at path, NUL-terminated, with their count in
 * *len; the caller frees them.  NULL when the file cannot be opened.
 */
static inline char *
slurp(const char *path, size_t *len)
{
	char chunk[4096];
	struct buf b;
	FILE *fp;
	size_t n;

	buf_init(&b, 0);
	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_add(&b, chunk, n);
	fclose(fp);
	*len = b.len;
	if (b.data == NULL)
		return calloc(1, 1);
	return b.data;
}

/*
 * The file at path parsed as JSON; the caller deletes it.  NULL, with the
 * reason on stderr, when it cannot be read or is not JSON.
 */
static inline cJSON *
load(const char *path)
{
	size_t len = 0;
	char *text = slurp(path, &len);
	cJSON *doc;

	if (text == NULL) {
		fprintf(stderr, "cannot open %s\n", path);
		return NULL;
	}
	doc = cJSON_ParseWithLength(text, len);
	if (doc == NULL)
		fprintf(stderr, "%s is not JSON\n", path);
	free(text);
	return doc;
}

/* The first record of a fixture: a bare object, an array or "value". */
static inline const cJSON *
first_item(const cJSON *doc)
{
	const cJSON *v = cJSON_GetObjectItem(doc, "value");

	if (cJSON_IsArray(v))
		return cJSON_GetArrayItem(v, 0);
	return cJSON_IsArray(doc) ? cJSON_GetArrayItem(doc, 0) : doc;
}

/* r from obj by the normaliser of the API it came from; its code. */
static inline int
normalize(enum record_origin origin, struct record *r, const cJSON *obj)
{
	const char *why = NULL;

	switch (origin) {
	case RECORD_GRAPH:
		return record_from_graph(r, obj, &why);
	case RECORD_ALERTS:
		return record_from_alerts(r, obj, &why);
	default:
		return record_from_siem(r, obj, &why);
	}
}

/*
 * 1 when the golden file at path holds out and a newline; else 0, with
 * what out holds on stderr.  With UPDATE_GOLDEN=1 in the environment the
 * file is rewritten from out instead: 1 when it could be opened.
 */
static inline int
compare_golden(const char *path, const struct buf *out)
{
	size_t glen = 0;
	char *gold;
	FILE *fp;
	const char *upd = getenv("UPDATE_GOLDEN");
	int same;

	if (upd != NULL && *upd == '1') {
		if ((fp = fopen(path, "wb")) == NULL)
			return 0;
		fwrite(out->data, 1, out->len, fp);
		fputc('\n', fp);
		fclose(fp);
		return 1;
	}
	gold = slurp(path, &glen);
	same = gold != NULL && glen == out->len + 1 &&
	    memcmp(gold, out->data, out->len) == 0 && gold[out->len] == '\n';
	if (gold == NULL || glen != out->len + 1 ||
	    memcmp(gold, out->data, out->len) != 0)
		fprintf(stderr, "golden %s differs; got:\n%s\n", path,
		    buf_str(out));
	free(gold);
	return same;
}

/* Field f of r as a C string (in a static buffer), or NULL when empty. */
static inline const char *
fv(const struct record *r, enum record_field f)
{
	static char tmp[8192];

	if (r->f[f].n == 0)
		return NULL;
	if (r->f[f].n >= sizeof(tmp))
		return "(too long)";
	memcpy(tmp, r->f[f].p, r->f[f].n);
	tmp[r->f[f].n] = '\0';
	return tmp;
}

/* v as a C string (in a static buffer); "" when empty. */
static inline const char *
sv(const struct strv *v)
{
	static char tmp[4096];

	if (v->n >= sizeof(tmp))
		return "(too long)";
	memcpy(tmp, v->p != NULL ? v->p : "", v->n);
	tmp[v->n] = '\0';
	return tmp;
}

#endif
