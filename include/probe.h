/* SPDX-License-Identifier: MIT */
/*
 * --test-connection: walk the path a detection takes (name resolution,
 * sign-in, one API read, the collector connection) and report each step
 * in words a SIEM engineer can act on, with the likely fix.
 */
#ifndef PROBE_H
#define PROBE_H

#include <stdio.h>

struct config;

/* Run every step, one line each to out.  Returns 0 when all passed. */
int probe_run(const struct config *c, FILE *out);

#endif
