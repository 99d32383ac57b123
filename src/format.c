/* SPDX-License-Identifier: MIT */
/*
 * The formatter interface (include/format.h): one ops row per format,
 * like a driver table, so that the pipeline calls prepare once and render
 * per record without naming CEF, LEEF or JSON.
 */
#include <stdlib.h>

#include "cef.h"
#include "config.h"
#include "format.h"
#include "json_out.h"
#include "leef.h"

struct format_ops {
	const char *name;
	int (*prepare)(
	    struct format *f, const struct config *c, const char **why);
	int (*render)(const struct format *f, struct buf *out,
	    const struct record *r, size_t max, struct pairs_result *res);
};

struct format {
	const struct format_ops *ops;
	union {
		struct cef_opts cef;
		struct leef_opts leef;
	} o;
};

static int
cef_prepare(struct format *f, const struct config *c, const char **why)
{
	(void)why;
	f->o.cef.vendor = c->vendor;
	f->o.cef.product = c->product;
	f->o.cef.version = c->product_version;
	cef_opts_prepare(&f->o.cef);
	return 0;
}

static int
cef_do(const struct format *f, struct buf *out, const struct record *r,
    size_t max, struct pairs_result *res)
{
	return cef_render(out, r, &f->o.cef, max, res);
}

static int
leef_prepare(struct format *f, const struct config *c, const char **why)
{
	int rc;

	f->o.leef.vendor = c->vendor;
	f->o.leef.product = c->product;
	f->o.leef.version = c->product_version;
	f->o.leef.leef_version = c->leef_version;
	f->o.leef.delimiter = c->leef_delimiter;
	if ((rc = leef_opts_prepare(&f->o.leef)) != 0)
		*why =
		    "[output] leef_delimiter: the LEEF formatter refused the "
		    "options the configuration accepted";
	return rc;
}

static int
leef_do(const struct format *f, struct buf *out, const struct record *r,
    size_t max, struct pairs_result *res)
{
	return leef_render(out, r, &f->o.leef, max, res);
}

static int
json_prepare(struct format *f, const struct config *c, const char **why)
{
	(void)f;
	(void)c;
	(void)why;
	return 0;
}

static int
json_do(const struct format *f, struct buf *out, const struct record *r,
    size_t max, struct pairs_result *res)
{
	(void)f;
	return json_out_render(out, r, max, res);
}

static const struct format_ops ops[] = {
    [FORMAT_CEF] = {"cef", cef_prepare, cef_do},
    [FORMAT_LEEF] = {"leef", leef_prepare, leef_do},
    [FORMAT_JSON] = {"json", json_prepare, json_do},
};

struct format *
format_new(const struct config *c, const char **why)
{
	const char *dummy;
	struct format *f;

	if (why == NULL)
		why = &dummy;
	*why = "out of memory";
	if ((unsigned)c->format >= sizeof(ops) / sizeof(ops[0])) {
		*why = "[output] format: unknown";
		return NULL;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->ops = &ops[c->format];
	if (f->ops->prepare(f, c, why) != 0) {
		free(f);
		return NULL;
	}
	return f;
}

void
format_free(struct format *f)
{
	free(f);
}

const char *
format_name(const struct format *f)
{
	return f->ops->name;
}

int
format_render(const struct format *f, struct buf *out, const struct record *r,
    size_t max, struct pairs_result *res)
{
	return f->ops->render(f, out, r, max, res);
}
