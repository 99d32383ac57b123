/* SPDX-License-Identifier: MIT */
/*
 * Syslog headers and framing (src/frame.c): RFC 5424 and RFC 3164 headers,
 * no header, octet counting and LF framing, severity mapping.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check.h"
#include "config.h"
#include "frame.h"
#include "ts.h"

static void
opts(struct frame_opts *o, enum config_header h, enum config_framing f,
    enum config_transport t)
{
	static char host[] = "host name\x01", app[] = "mdesiemd";
	struct config c;

	memset(&c, 0, sizeof(c));
	c.header = h;
	c.framing = f;
	c.transport = t;
	c.facility = 20;
	c.hostname = host;
	c.app_name = app;
	frame_opts_init(o, &c);
	strcpy(o->procid, "42"); /* fixed for the golden strings */
}

int
main(void)
{
	struct frame_opts o;
	struct buf b, f;
	struct ts t;
	const char *s = "2020-09-30T14:11:44.0779765Z";

	setenv("TZ", "UTC", 1);
	ts_parse(s, strlen(s), &t);
	buf_init(&b, 0);
	buf_init(&f, 0);
	opts(&o, HEADER_RFC5424, FRAMING_LF, TRANSPORT_TCP);
	CHECK(frame_header(&b, &o, 3, &t) == 0);
	/* local4 (20) * 8 + err (3) = 163; host name sanitised. */
	CHECK_STR(buf_str(&b),
	    "<163>1 2020-09-30T14:11:44.077Z hostname mdesiemd 42 - - ");
	buf_add(&b, "CEF:0|x", 7);
	CHECK(frame_wrap(&f, &o, b.data, b.len) == 0);
	CHECK(f.len == b.len + 1 && f.data[f.len - 1] == '\n');

	opts(&o, HEADER_RFC3164, FRAMING_OCTET, TRANSPORT_TCP);
	buf_clear(&b);
	buf_clear(&f);
	CHECK(frame_header(&b, &o, 6, &t) == 0);
	CHECK_STR(buf_str(&b), "<166>Sep 30 14:11:44 hostname ");
	CHECK(frame_wrap(&f, &o, "abc\ndef", 7) == 0);
	CHECK_STR(buf_str(&f), "7 abc\ndef");

	opts(&o, HEADER_NONE, FRAMING_OCTET, TRANSPORT_UDP);
	buf_clear(&b);
	buf_clear(&f);
	CHECK(frame_header(&b, &o, 6, &t) == 0 && b.len == 0);
	CHECK(frame_wrap(&f, &o, "abc", 3) == 0);
	CHECK_STR(buf_str(&f), "abc");

	buf_reset(&b);
	buf_reset(&f);
	return check_done();
}
