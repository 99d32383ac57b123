/* SPDX-License-Identifier: MIT */
/*
 * Local syslog transport: each message goes to the local syslog daemon's
 * socket /dev/log (rsyslog, syslog-ng, journald), which relays it.  The
 * message reaching this module carries an RFC 3164 header (frame.c
 * forces one for local) only for its PRI: the severity is taken from it
 * and the header is replaced by the one syslog(3) would write, "<PRI>Mmm
 * dd hh:mm:ss app_name[pid]: ", with the configured facility.
 *
 * The datagrams are sent here rather than through syslog(3), which
 * reports no errors and drops a message silently when the syslog daemon
 * is away: a full socket is backpressure (ERR_AGAIN), a syslog daemon
 * that went away is an unreachable collector (ERR_SINK: nothing is taken,
 * everything is sent once it is back), and a message too large for the
 * socket is dropped and counted (ERR_BADREC).  The daemon's own log lines
 * keep their own ident (log.c).
 */
#include <errno.h>
#include <limits.h>
#include <paths.h>
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "errcode.h"
#include "log.h"
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
	struct sockaddr_un sa;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", _PATH_LOG);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(why, whylen, "socket: %s", strerror(errno));
		return ERR_SINK;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		snprintf(why, whylen, "no local syslog daemon: %s: %s",
		    _PATH_LOG,
		    errno == EPROTOTYPE ? "not a datagram socket"
		                        : strerror(errno));
		close(fd);
		return ERR_SINK;
	}
	s->fd = fd;
	return 0;
}

/* "<PRI>Mmm dd hh:mm:ss ident[pid]: " then the message, as syslog(3). */
static int
make_line(struct sink *s, int sev, const char *msg, size_t len)
{
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t now = time(NULL);
	struct tm tm;

	if (localtime_r(&now, &tm) == NULL)
		gmtime_r(&now, &tm);
	buf_clear(&s->line);
	if (buf_printf(&s->line, "<%d>%s %2d %02d:%02d:%02d %s[%ld]: ",
	        LOG_MAKEPRI(s->facility << 3, sev), months[tm.tm_mon],
	        tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, s->ident,
	        (long)getpid()) != 0)
		return ERR_NOMEM;
	return buf_add(&s->line, msg, len);
}

static int
local_send(struct sink *s, const struct sink_msg *m, char *why, size_t whylen)
{
	const char *data = m->data;
	size_t len = m->len, used, h;
	int pri, sev = LOG_NOTICE;

	if (parse_pri(data, len, &pri, &used) == 0) {
		sev = LOG_PRI(pri);
		data += used;
		len -= used;
		if ((h = header_len(data, len)) != 0) {
			data += h;
			len -= h;
		}
	}
	if (make_line(s, sev, data, len) != 0)
		return ERR_AGAIN;
	for (;;) {
		if (send(s->fd, s->line.data, s->line.len,
		        MSG_NOSIGNAL | MSG_DONTWAIT) >= 0)
			return 0;
		if (errno == EINTR)
			continue;
		/* The syslog daemon is behind: wait, never drop. */
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
			return ERR_AGAIN;
		if (errno == EMSGSIZE) {
			log_warning("dropping a %zu-byte message: too large "
			            "for the local syslog socket (lower "
			            "[output] max_message_size)",
			    s->line.len);
			return ERR_BADREC;
		}
		snprintf(why, whylen, "local syslog daemon gone: %s: %s",
		    _PATH_LOG, strerror(errno));
		return ERR_SINK;
	}
}

/* Sent is acknowledged; with wait_ms, wait for room in the socket. */
static int
local_poll(struct sink *s, long wait_ms, uint64_t *acked)
{
	struct pollfd pfd = {s->fd, POLLOUT, 0};

	if (wait_ms > 0)
		poll(&pfd, 1, (int)wait_ms);
	*acked = s->sent_mark;
	if (pfd.revents & (POLLERR | POLLHUP)) {
		snprintf(s->why, sizeof(s->why), "local syslog daemon gone: %s",
		    _PATH_LOG);
		return ERR_SINK;
	}
	return 0;
}

static void
local_close(struct sink *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

const struct sink_ops sink_local_ops = {
    .name = "local",
    .framing = FRAMING_LF,
    .max_message = 8096, /* rsyslog's default, for the relay */
    .per_message = 1,
    .open = local_open,
    .send = local_send,
    .poll = local_poll,
    .drain = NULL,
    .close = local_close,
};
