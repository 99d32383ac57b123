/* SPDX-License-Identifier: MIT */
/*
 * Syslog header and transport framing (include/frame.h): RFC 5424
 * "<PRI>1 TIMESTAMP HOST APP PROCID - - MSG", RFC 3164 "<PRI>Mmm dd
 * hh:mm:ss HOST MSG", or the bare message; then RFC 6587 octet counting
 * or an LF trailer around it.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "frame.h"
#include "ts.h"

/* Copy printable ASCII without spaces (RFC 5424 PRINTUSASCII). */
static void
copy_printusascii(char *dst, size_t cap, const char *src)
{
	size_t n = 0;

	for (; src != NULL && *src != '\0' && n + 1 < cap; src++) {
		if (*src > 32 && *src < 127)
			dst[n++] = *src;
	}
	if (n == 0)
		dst[n++] = '-';
	dst[n] = '\0';
}

void
frame_opts_init(struct frame_opts *o, const struct config *c)
{
	memset(o, 0, sizeof(*o));
	/* local: sink_local.c takes the PRI and strips this header. */
	o->header =
	    c->transport == TRANSPORT_LOCAL ? HEADER_RFC3164 : c->header;
	o->framing = c->framing;
	o->use_framing = c->transport == TRANSPORT_TCP ||
	    c->transport == TRANSPORT_TLS || c->transport == TRANSPORT_STDOUT;
	o->facility = c->facility;
	copy_printusascii(o->hostname, sizeof(o->hostname), c->hostname);
	copy_printusascii(o->app_name, sizeof(o->app_name), c->app_name);
	snprintf(o->procid, sizeof(o->procid), "%ld", (long)getpid());
}

/*
 * "<PRI>1 TIMESTAMP HOST APP PROCID - - ", assembled piece by piece: it
 * is written once per message, and vsnprintf() cost more than the rest
 * of the framing.
 */
static int
header_5424(
    struct buf *out, const struct frame_opts *o, int pri, const struct ts *now)
{
	const char *part[4];
	char t[TS_STRLEN];
	size_t i;
	int rc;

	ts_format3(now, t);
	part[0] = t;
	part[1] = o->hostname;
	part[2] = o->app_name;
	part[3] = o->procid;
	if ((rc = buf_addc(out, '<')) != 0 ||
	    (rc = buf_add_i64(out, pri)) != 0 ||
	    (rc = buf_add(out, ">1", 2)) != 0)
		return rc;
	for (i = 0; i < 4; i++) {
		if ((rc = buf_addc(out, ' ')) != 0 ||
		    (rc = buf_adds(out, part[i])) != 0)
			return rc;
	}
	return buf_add(out, " - - ", 5);
}

static int
header_3164(
    struct buf *out, const struct frame_opts *o, int pri, const struct ts *now)
{
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t secs = (time_t)now->sec;
	struct tm tm;

	/* RFC 3164 stamps are local time without a zone or year. */
	if (localtime_r(&secs, &tm) == NULL)
		gmtime_r(&secs, &tm);
	return buf_printf(out, "<%d>%s %2d %02d:%02d:%02d %s ", pri,
	    months[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    o->hostname);
}

int
frame_header(
    struct buf *out, const struct frame_opts *o, int sev, const struct ts *now)
{
	int pri = o->facility * 8 + (sev & 7);

	switch (o->header) {
	case HEADER_RFC5424:
		return header_5424(out, o, pri, now);
	case HEADER_RFC3164:
		return header_3164(out, o, pri, now);
	default:
		return 0;
	}
}

int
frame_wrap(
    struct buf *out, const struct frame_opts *o, const char *msg, size_t len)
{
	int rc;

	if (o->use_framing && o->framing == FRAMING_OCTET) {
		if ((rc = buf_add_i64(out, (long long)len)) != 0 ||
		    (rc = buf_addc(out, ' ')) != 0)
			return rc;
		return buf_add(out, msg, len);
	}
	if ((rc = buf_add(out, msg, len)) != 0)
		return rc;
	return o->use_framing ? buf_addc(out, '\n') : 0;
}
