/* SPDX-License-Identifier: MIT */
/*
 * Local syslog transport: each message goes through syslog(3) to the
 * local syslog daemon (/dev/log: rsyslog, syslog-ng, journald), which
 * relays it.  syslog(3) writes its own header, so the message reaching
 * this module carries an RFC 3164 header (frame.c forces one for local)
 * only for its PRI: the severity is taken from it and the header is
 * stripped.  The configured facility goes in each call's priority
 * (LOG_MAKEPRI), so the daemon's own log lines (log.c) keep theirs.
 *
 * A process has one syslog(3) identity: openlog() here sets the ident to
 * [output] app_name with LOG_PID for the detections and, when the daemon
 * logs to syslog too, for its own lines as well (default "mdesiemd" in
 * both).  syslog(3) reports no errors: this module can only check that
 * a local syslog daemon listens on /dev/log when it starts.
 */
#include <errno.h>
#include <limits.h>
#include <paths.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include "errcode.h"
#include "sink_impl.h"

/* Parse "<PRI>" at p; 0 with *pri and *used set, or -1. */
static int
parse_pri(const char *p, size_t len, int *pri, size_t *used)
{
	size_t i;
	int v = 0;

	if (len < 3 || p[0] != '<')
		return -1;
	for (i = 1; i < len && i <= 3 && p[i] >= '0' && p[i] <= '9'; i++)
		v = v * 10 + (p[i] - '0');
	if (i == 1 || i >= len || p[i] != '>' || v > 191)
		return -1;
	*pri = v;
	*used = i + 1;
	return 0;
}

/*
 * Length of the header after the PRI at p: RFC 5424 "1 TIMESTAMP HOST
 * APP PROCID MSGID SD " or RFC 3164 "Mmm dd hh:mm:ss HOST ", as frame.c
 * writes them (fields without spaces, SD "-").  0 when neither.
 */
static size_t
header_len(const char *p, size_t len)
{
	size_t i, spaces = 0;

	if (len >= 2 && p[0] == '1' && p[1] == ' ') {
		for (i = 0; i < len; i++) {
			if (p[i] == ' ' && ++spaces == 7)
				return i + 1;
		}
		return 0;
	}
	if (len < 17 || p[3] != ' ' || p[6] != ' ' || p[9] != ':' ||
	    p[12] != ':' || p[15] != ' ')
		return 0;
	for (i = 16; i < len; i++) {
		if (p[i] == ' ')
			return i + 1;
	}
	return 0;
}

static int
local_open(struct sink *s, char *why, size_t whylen)
{
	struct stat st;

	if (stat(_PATH_LOG, &st) != 0) {
		snprintf(why, whylen, "no local syslog daemon: %s: %s",
		    _PATH_LOG, strerror(errno));
		return ERR_SINK;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(why, whylen,
		    "no local syslog daemon: %s is not a "
		    "socket",
		    _PATH_LOG);
		return ERR_SINK;
	}
	openlog(s->ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	s->log_opened = 1;
	return 0;
}

static int
local_write(
    struct sink *s, const char *data, size_t len, char *why, size_t whylen)
{
	int pri, sev = LOG_NOTICE;
	size_t used, h;

	(void)why;
	(void)whylen;
	if (parse_pri(data, len, &pri, &used) == 0) {
		sev = LOG_PRI(pri);
		data += used;
		len -= used;
		if ((h = header_len(data, len)) != 0) {
			data += h;
			len -= h;
		}
	}
	if (len > INT_MAX)
		len = INT_MAX;
	syslog(LOG_MAKEPRI(s->facility << 3, sev), "%.*s", (int)len, data);
	return 0;
}

static void
local_close(struct sink *s)
{
	/* openlog() keeps a pointer to s->ident, which is about to go. */
	if (s->log_opened)
		closelog();
	s->log_opened = 0;
}

const struct sink_ops sink_local_ops = {
    .name = "local",
    .open = local_open,
    .write = local_write,
    .close = local_close,
    .per_message = 1,
};
