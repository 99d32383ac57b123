/* SPDX-License-Identifier: MIT */
/*
 * What the format tests (test_cef, test_leef, test_json_out) share: a
 * record filled field by field from literals and repeated units; random
 * text made of a test's own pieces, from a fixed seed so that a failure
 * repeats; and the runs of the hostile corpus (hostile.h) through a
 * formatter, whose output tests/integration/test_hostile_formats.py reads
 * from $BUILD/tests/.  The record each test starts from (its base()), the
 * pieces and the strict reader stay in the test: they differ by format.
 */
#ifndef FORMATS_H
#define FORMATS_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "check.h"
#include "errcode.h"
#include "hostile.h"
#include "record.h"

/* Field f of r = s[0..n), borrowed. */
static void
setn(struct record *r, enum record_field f, const char *s, size_t n)
{
	r->f[f].p = s;
	r->f[f].n = n;
}

#define SET(r, f, lit) setn(r, f, lit, sizeof(lit) - 1)

/* n copies of unit into b (cleared first); returns the text. */
static const char *
rep(struct buf *b, const char *unit, size_t n)
{
	buf_clear(b);
	while (n-- > 0)
		buf_adds(b, unit);
	return buf_str(b);
}

/* xorshift64; a test may seed it with a sequence of its own. */
static unsigned long long rng_state = 0x9E3779B97F4A7C15ULL;

/* A random number below n. */
static size_t
rnd(size_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (size_t)(rng_state % n);
}

/* A piece of random text: bytes that may hold NUL, and their count. */
struct piece {
	const char *s;
	size_t n;
};

#define PIECE(lit) \
	{ \
		lit, sizeof(lit) - 1 \
	}

/*
 * Random pieces from set[0..nset) into b (cleared first): up to 100 bytes,
 * one time in 8 up to 5,000.
 */
static void
rnd_text(struct buf *b, const struct piece *set, size_t nset)
{
	size_t len = rnd(8) == 0 ? rnd(5000) : rnd(100), i;

	buf_clear(b);
	while (b->len < len) {
		i = rnd(nset);
		buf_add(b, set[i].s, set[i].n);
	}
}

/* Where a test writes what the integration tests read: $BUILD or "build". */
static const char *
build_dir(void)
{
	const char *b = getenv("BUILD");

	return b != NULL && *b != '\0' ? b : "build";
}

/* One run of the hostile corpus through a formatter. */
struct hostile_run {
	const char *name; /* output: $BUILD/tests/hostile.<name>.txt */
	const void *opts; /* the formatter's options, passed to format() */
	size_t max_len; /* the size limit, 0: none */
};

/* The formatter under test and the test's own reader for its output. */
struct hostile_fmt {
	/* Format r into out with opts and max_len; the formatter's code. */
	int (*format)(struct buf *out, const struct record *r, const void *opts,
	    size_t max_len);
	/* The line read back strictly, or NULL when it breaks the format. */
	cJSON *(*parse)(const char *s, size_t n);
	/* r's length with only the never-dropped pairs; NULL: not checked. */
	size_t (*keep_len)(
	    struct buf *out, const struct record *r, const void *opts);
};

/*
 * Every record of doc through f as run says, one line each, or "#TOOBIG"
 * where the formatter refused the record under a size limit (which only
 * the never-dropped pairs may cause).  Each line must fit the limit and
 * read back; nearly all records must make a line.
 */
static void
hostile_pass(struct buf *out, struct record *r, const cJSON *doc,
    const char *build, const struct hostile_fmt *f,
    const struct hostile_run *run)
{
	const cJSON *it;
	const char *why;
	char path[512];
	FILE *fp;
	cJSON *p;
	size_t n = 0;
	int rc;

	snprintf(
	    path, sizeof(path), "%s/tests/hostile.%s.txt", build, run->name);
	CHECK((fp = fopen(path, "wb")) != NULL);
	if (fp == NULL)
		return;
	cJSON_ArrayForEach(it, doc)
	{
		CHECK(record_from_siem(r, it, &why) == 0);
		buf_clear(out);
		rc = f->format(out, r, run->opts, run->max_len);
		CHECK(rc == 0 || (rc == ERR_TOOBIG && run->max_len > 0));
		if (rc != 0) {
			if (f->keep_len != NULL)
				CHECK(f->keep_len(out, r, run->opts) >
				    run->max_len);
			fputs("#TOOBIG\n", fp);
			continue;
		}
		CHECK(run->max_len == 0 || out->len <= run->max_len);
		p = f->parse(out->data, out->len);
		CHECK(p != NULL);
		n += p != NULL;
		cJSON_Delete(p);
		fwrite(out->data, 1, out->len, fp);
		fputc('\n', fp);
	}
	CHECK(n >= (run->max_len == 0 ? hostile_count() : 100));
	CHECK(fclose(fp) == 0);
}

/*
 * Write the hostile corpus to $BUILD/tests/hostile.json and make each of
 * runs[0..nruns) with f (see hostile_pass()).
 */
static void
hostile_runs(struct buf *out, const char *build, const struct hostile_fmt *f,
    const struct hostile_run *runs, size_t nruns)
{
	struct buf text;
	struct record r;
	cJSON *doc;
	size_t i;

	buf_init(&text, 0);
	CHECK(hostile_corpus(&text, build) == 0);
	doc = cJSON_ParseWithLength(text.data, text.len);
	CHECK(doc != NULL && cJSON_GetArraySize(doc) >= 200);
	record_init(&r);
	for (i = 0; i < nruns; i++)
		hostile_pass(out, &r, doc, build, f, &runs[i]);
	record_reset(&r);
	cJSON_Delete(doc);
	buf_reset(&text);
}

#endif
