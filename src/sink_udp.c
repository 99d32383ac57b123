/* SPDX-License-Identifier: MIT */
/*
 * Syslog over UDP (RFC 5426): one message per datagram, no framing.  The
 * socket is connect()ed (IPv4 or IPv6, through sink_tcp_connect()) so
 * that ICMP errors reach us.  UDP is lossy by nature: nothing tells us a
 * datagram arrived, and a collector that is not listening ("port
 * unreachable") only shows up on a later send as ECONNREFUSED; those
 * losses are counted (sink_lost(): dropped, not delivered) and delivery
 * goes on.  Messages are shortened to max_message_size by the formatter
 * before they get here; a longer one is dropped with a warning
 * (ERR_BADREC), never cut.  A full socket buffer is backpressure
 * (ERR_AGAIN), not loss.
 */
#include <errno.h>
#include <poll.h>
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

/* The collector refused an earlier datagram: it was lost. */
static void
note_refused(struct sink *s)
{
	s->lost++;
	if (!s->refused)
		log_debug("collector %s refused a UDP datagram (port "
		          "unreachable): it was lost; UDP delivery is not "
		          "acknowledged, so going on (counted as dropped)",
		    s->where);
	s->refused = 1;
}

static int
udp_send(struct sink *s, const struct sink_msg *m, char *why, size_t whylen)
{
	int tries = 0;

	if (m->len > s->max_message) {
		log_warning("dropping a %zu-byte message: longer than "
		            "[output] max_message_size (%zu) for udp",
		    m->len, s->max_message);
		return ERR_BADREC;
	}
	for (;;) {
		if (send(s->fd, m->data, m->len, MSG_NOSIGNAL | MSG_DONTWAIT) >=
		    0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
			return ERR_AGAIN;
		if (errno == ECONNREFUSED) {
			note_refused(s);
			/* This datagram was not sent: try it again. */
			if (++tries <= REFUSED_RETRIES)
				continue;
			return ERR_BADREC;
		}
		if (errno == EMSGSIZE) {
			log_warning("dropping a %zu-byte message: too large "
			            "for a UDP datagram here (lower [output] "
			            "max_message_size)",
			    m->len);
			return ERR_BADREC;
		}
		snprintf(why, whylen, "send failed: %s", strerror(errno));
		return ERR_SINK;
	}
}

/*
 * Every datagram sent counts as acknowledged; a refusal reported since
 * is counted as a loss.  With wait_ms, wait for room in the socket.
 */
static int
udp_poll(struct sink *s, long wait_ms, uint64_t *acked)
{
	struct pollfd pfd = {s->fd, POLLOUT, 0};
	socklen_t len = sizeof(int);
	int err = 0;

	if (wait_ms > 0)
		poll(&pfd, 1, (int)wait_ms);
	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
	    err == ECONNREFUSED)
		note_refused(s);
	*acked = s->sent_mark;
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
    .needs_host = 1,
    .default_port = 514, /* RFC 5426 */
    .framing = FRAMING_LF,
    .max_message = 2048, /* RFC 5426's size every receiver takes */
    .max_message_limit = 65535, /* a datagram */
    .per_message = 1,
    .open = udp_open,
    .send = udp_send,
    .poll = udp_poll,
    .drain = NULL,
    .close = udp_close,
};
