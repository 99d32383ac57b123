/* SPDX-License-Identifier: MIT */
/*
 * The formatter interface: what the pipeline holds between the canonical
 * record and the spool.  A format is prepared once from the configuration
 * (CEF, LEEF or JSON, with its header fields and options) and renders one
 * record at a time into a buffer within a size limit; the caller never
 * knows which of the three it holds.  Each formatter's own rules are in
 * cef.h, leef.h and json_out.h; how a message is fitted into its limit is
 * in pairs.h, shared by all three.
 */
#ifndef FORMAT_H
#define FORMAT_H

#include <stddef.h>

#include "pairs.h"

struct buf;
struct config;
struct record;
struct format;

/*
 * The format c asks for, prepared (its constant header part rendered
 * once).  Returns NULL when out of memory or when the formatter refuses
 * options the configuration accepted (*why, when not NULL, is then set to
 * a static reason naming the key).  The format does not keep c.
 */
struct format *format_new(const struct config *c, const char **why);
void format_free(struct format *f);

/* "cef", "leef" or "json". */
const char *format_name(const struct format *f);

/*
 * Append the message for r to out, within max bytes (0: no limit).  res
 * (when not NULL) says how many values were shortened and dropped to fit.
 * Returns 0; ERR_TOOBIG when r's never-cut values alone exceed max (or
 * out's cap is reached); ERR_NOMEM.  On error out is as on entry.  Once
 * out has grown to its working size, rendering does not allocate.
 */
int format_render(const struct format *f, struct buf *out,
    const struct record *r, size_t max, struct pairs_result *res);

#endif
