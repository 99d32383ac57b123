/* SPDX-License-Identifier: MIT */
/*
 * Syslog over UDP (RFC 5426): one message per datagram, no framing.  The
 * socket is connect()ed (IPv4 or IPv6, through sink_tcp_connect()) so
 * that ICMP errors reach us.  UDP is lossy by nature: nothing tells us a
 * datagram arrived, and a collector that is not listening ("port
 * unreachable") only shows up on a later send as ECONNREFUSED; those
 * losses are counted (sink_dropped()) and delivery goes on.  Messages
 * are shortened to max_message_size by the formatter before they get
 * here; a longer one is dropped with a warning, never cut.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "errcode.h"
#include "log.h"
#include "sink_impl.h"

/* A refusal reports an earlier datagram: resend this one a few times. */
#define REFUSED_RETRIES 3

static int
udp_open(struct sink *s, char *why, size_t whylen)
{
	s->refused = 0;
	return sink_tcp_connect(s, SOCK_DGRAM, &s->fd, why, whylen);
}

static void
note_refused(struct sink *s)
{
	s->dropped++;
	if (!s->refused)
		log_debug("collector %s refused a UDP datagram (port "
		          "unreachable): it was lost; UDP delivery is not "
		          "acknowledged, so going on",
		    s->where);
	s->refused = 1;
}

static int
udp_write(
    struct sink *s, const char *data, size_t len, char *why, size_t whylen)
{
	int tries = 0;
	ssize_t n;

	if (len > s->max_message) {
		s->dropped++;
		log_warning("dropping a %zu-byte message: longer than "
		            "[output] max_message_size (%zu) for udp",
		    len, s->max_message);
		return 0;
	}
	for (;;) {
		n = send(s->fd, data, len, MSG_NOSIGNAL);
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == ECONNREFUSED) {
			note_refused(s);
			/* This datagram was not sent: try it again. */
			if (++tries <= REFUSED_RETRIES)
				continue;
			s->dropped++;
			return 0;
		}
		if (errno == EMSGSIZE) {
			s->dropped++;
			log_warning("dropping a %zu-byte message: too large "
			            "for a UDP datagram here (lower [output] "
			            "max_message_size)",
			    len);
			return 0;
		}
		snprintf(why, whylen, "send failed: %s",
		    errno == EAGAIN ? "timed out" : strerror(errno));
		return ERR_SINK;
	}
	return 0;
}

static void
udp_close(struct sink *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

const struct sink_ops sink_udp_ops = {
    .name = "udp",
    .open = udp_open,
    .write = udp_write,
    .close = udp_close,
    .per_message = 1,
};
