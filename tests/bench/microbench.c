/* SPDX-License-Identifier: MIT */
/*
 * microbench: the per-record cost of normalize + format alone, over a
 * corpus of SIEM API detections (one JSON object per line).  The corpus
 * is parsed once, outside the measurement; then each iteration turns
 * every detection into a canonical record (record_from_siem()) and
 * formats it (cef_format(), ...) into a reused buffer, as the poll cycle
 * does.
 *
 *   microbench --corpus FILE [--format cef|leef|json]
 *              (--iterations K | --seconds S)
 *
 * Formats: cef; leef (2.0, '^') and json when this build has them.
 * Prints {"records":..,"iterations":..,"ns_per_record":..,
 * "bytes_per_record":..} on stdout.  With --iterations 0 it only loads
 * the corpus: run under callgrind with K and with 0 iterations, the
 * difference of the instruction counts divided by K times the records is
 * the cost per record.  Exits 3 for a format this build does not have.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "jsonfix.h"

#include "buf.h"
#include "cef.h"
#include "record.h"

/*
 * The other formatters are measured when this build has them: their
 * headers are looked for at compile time and their functions are weak
 * references, resolved when the library holds them (the bench links the
 * whole archive).
 */
#if defined(__has_include)
#if __has_include("leef.h")
#include "leef.h"
#define HAVE_LEEF_H 1
int leef_format(struct buf *, const struct record *, const struct leef_opts *)
    __attribute__((weak));
#endif
#if __has_include("json_out.h")
#include "json_out.h"
#define HAVE_JSON_OUT_H 1
int json_out_format(struct buf *, const struct record *,
    const struct json_out_opts *) __attribute__((weak));
#endif
#endif

struct corpus {
	cJSON **items;
	size_t n;
};

static void
fail(const char *what)
{
	fprintf(stderr, "microbench: %s\n", what);
	exit(1);
}

static void
load(struct corpus *c, const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, alloc = 0;
	ssize_t len;

	if (f == NULL)
		fail("cannot open the corpus");
	memset(c, 0, sizeof(*c));
	while ((len = getline(&line, &cap, f)) > 0) {
		cJSON *item;

		jsonfix_surrogates(line, (size_t)len);
		if ((item = cJSON_ParseWithLength(line, (size_t)len)) == NULL)
			fail("a corpus line is not JSON");
		if (c->n == alloc) {
			alloc = alloc ? alloc * 2 : 1024;
			c->items = realloc(c->items, alloc * sizeof(*c->items));
			if (c->items == NULL)
				fail("out of memory");
		}
		c->items[c->n++] = item;
	}
	free(line);
	fclose(f);
	if (c->n == 0)
		fail("empty corpus");
}

enum fmt {
	FMT_CEF,
	FMT_LEEF,
	FMT_JSON,
};

struct fmt_opts {
	enum fmt fmt;
	struct cef_opts cef;
#ifdef HAVE_LEEF_H
	struct leef_opts leef;
#endif
#ifdef HAVE_JSON_OUT_H
	struct json_out_opts json;
#endif
};

static int
format(struct buf *out, const struct record *r, const struct fmt_opts *o)
{
	switch (o->fmt) {
	case FMT_CEF:
		return cef_format(out, r, &o->cef);
	case FMT_LEEF:
#ifdef HAVE_LEEF_H
		return leef_format(out, r, &o->leef);
#endif
	case FMT_JSON:
#ifdef HAVE_JSON_OUT_H
		return json_out_format(out, r, &o->json);
#endif
	default:
		return -1;
	}
}

/* 0, or -1 when this build has no such formatter. */
static int
fmt_setup(const char *name, struct fmt_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->cef.max_len = 8192;
	cef_opts_prepare(&o->cef); /* as the daemon does, once */
	if (strcmp(name, "cef") == 0) {
		o->fmt = FMT_CEF;
		return 0;
	}
#ifdef HAVE_LEEF_H
	if (strcmp(name, "leef") == 0 && leef_format != NULL) {
		o->fmt = FMT_LEEF;
		o->leef.leef_version = 2;
		o->leef.delimiter = '^';
		o->leef.max_len = 8192;
		leef_opts_prepare(&o->leef); /* as the daemon does, once */
		return 0;
	}
#endif
#ifdef HAVE_JSON_OUT_H
	if (strcmp(name, "json") == 0 && json_out_format != NULL) {
		o->fmt = FMT_JSON;
		o->json.max_len = 8192;
		return 0;
	}
#endif
	return -1;
}

/* One pass over the corpus; returns the bytes formatted. */
static unsigned long long
pass(const struct corpus *c, struct record *r, struct buf *out,
    const struct fmt_opts *o)
{
	unsigned long long bytes = 0;
	const char *why;
	size_t i;

	for (i = 0; i < c->n; i++) {
		if (record_from_siem(r, c->items[i], &why) != 0)
			continue;
		buf_clear(out);
		if (format(out, r, o) == 0)
			bytes += out->len;
	}
	return bytes;
}

static double
now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

int
main(int argc, char **argv)
{
	const char *path = NULL, *fmt = "cef";
	long iterations = -1;
	double seconds = 1.0, t0, elapsed;
	unsigned long long bytes = 0;
	struct fmt_opts o;
	struct corpus c;
	struct record r;
	struct buf out;
	long k;
	int i;

	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--corpus") == 0)
			path = argv[i + 1];
		else if (strcmp(argv[i], "--format") == 0)
			fmt = argv[i + 1];
		else if (strcmp(argv[i], "--iterations") == 0)
			iterations = strtol(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--seconds") == 0)
			seconds = strtod(argv[i + 1], NULL);
		else
			break;
	}
	if (i != argc || path == NULL)
		fail("usage: microbench --corpus FILE [--format cef|leef|json] "
		     "[--iterations K | --seconds S]");
	if (fmt_setup(fmt, &o) != 0) {
		fprintf(stderr, "%s formatter not in this build\n", fmt);
		return 3;
	}
	load(&c, path);
	record_init(&r);
	buf_init(&out, 0);
	/*
	 * A timed run starts warm (buffers at their working size); a counted
	 * run does not, so that its difference to a run of 0 iterations is
	 * exactly its passes.
	 */
	if (iterations < 0)
		pass(&c, &r, &out, &o);
	t0 = now_ns();
	for (k = 0;
	     iterations < 0 ? (now_ns() - t0) < seconds * 1e9 : k < iterations;
	     k++)
		bytes += pass(&c, &r, &out, &o);
	elapsed = now_ns() - t0;
	printf("{\"records\":%zu,\"iterations\":%ld,\"ns_per_record\":%.1f,"
	       "\"bytes_per_record\":%.1f}\n",
	    c.n, k, k > 0 ? elapsed / ((double)k * (double)c.n) : 0.0,
	    k > 0 ? (double)bytes / ((double)k * (double)c.n) : 0.0);
	record_reset(&r);
	buf_reset(&out);
	for (size_t j = 0; j < c.n; j++)
		cJSON_Delete(c.items[j]);
	free(c.items);
	return 0;
}
