/* SPDX-License-Identifier: MIT */
/*
 * Syslog framing of formatted messages: an RFC 5424 or RFC 3164 header (or
 * none) in front of the CEF/LEEF/JSON text, and the transport framing
 * around the whole: LF-terminated or RFC 6587 octet counting
 * (reference/formats.md section 3).
 */
#ifndef FRAME_H
#define FRAME_H

#include <stddef.h>

#include "config.h"

struct buf;
struct ts;

struct frame_opts {
	enum config_header header;
	enum config_framing framing;
	int use_framing; /* 0 for datagram/local transports */
	int facility; /* 0..23 */
	char hostname[256]; /* sanitised copies */
	char app_name[49];
	char procid[16];
};

/* Fill o from the configuration (sanitising host and app names). */
void frame_opts_init(struct frame_opts *o, const struct config *c);

/*
 * Append the syslog header for one message with syslog severity sev
 * (0..7) stamped with time now.  Returns 0 or a buf error.
 */
int frame_header(
    struct buf *out, const struct frame_opts *o, int sev, const struct ts *now);

/*
 * Append msg (header + payload, len bytes) to out with the transport
 * framing: "LEN SP msg" for octet counting, "msg LF" for LF framing (msg
 * must hold no LF: the formatters guarantee it), msg alone otherwise.
 * Returns 0 or a buf error.
 */
int frame_wrap(
    struct buf *out, const struct frame_opts *o, const char *msg, size_t len);

#endif
