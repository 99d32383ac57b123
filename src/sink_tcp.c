/* SPDX-License-Identifier: MIT */
/*
 * Plain TCP transport to the collector (ArcSight SmartConnector "Syslog
 * Daemon" over TCP, QRadar, rsyslog, syslog-ng), with acknowledgement.
 *
 * Messages taken by send() are kept whole in a buffer of at most
 * SINK_OUT_MAX bytes and written with non-blocking send() calls of whole
 * messages only, and only while the send queue is far from full
 * (sink_stream_room()): a kill -9 then finds no message half in the
 * kernel.  Should the kernel still take part of a message, the rest goes
 * out as soon as it can, before anything else is looked at.  A message is
 * acknowledged once the collector's kernel acknowledged its last byte:
 * bytes written minus SIOCOUTQ.  A clean stop shuts the write side down
 * and waits for the last acknowledgement.
 *
 * sink_tcp_connect() (also used by the TLS and UDP transports) resolves
 * the collector's name without blocking (getaddrinfo_a) and connects
 * without blocking, so that a stop request is noticed at once and the
 * liveness callback keeps running while a connect hangs.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "errcode.h"
#include "nap.h"
#include "sink_impl.h"

#define LOOKUP_STEP_NS 250000000L

/* An asynchronous name lookup; getaddrinfo_a() keeps pointers into it. */
struct lookup {
	struct gaicb cb;
	struct addrinfo hints;
	char name[256];
	char port[16];
};

/* Free a lookup left behind by an earlier stop, once it has finished. */
static void
forget_lookup(struct sink *s)
{
	struct lookup *lk = s->gai;

	if (lk == NULL || gai_error(&lk->cb) == EAI_INPROGRESS)
		return;
	if (lk->cb.ar_result != NULL)
		freeaddrinfo(lk->cb.ar_result);
	free(lk);
	s->gai = NULL;
}

/* The end of a wait of secs seconds, within the sink's own deadline. */
static int64_t
deadline_in(const struct sink *s, long secs)
{
	int64_t end = nap_now_ms() + secs * 1000;

	return s->deadline > 0 && s->deadline < end ? s->deadline : end;
}

/* Wait for lk; 0, ERR_STOPPED, or ERR_AGAIN (timed out). */
static int
wait_lookup(struct sink *s, struct lookup *lk)
{
	const struct gaicb *list[1] = {&lk->cb};
	int64_t end = deadline_in(s, s->io_timeout);
	struct timespec step = {0, LOOKUP_STEP_NS};

	while (gai_error(&lk->cb) == EAI_INPROGRESS) {
		if (s->stop != NULL && *s->stop)
			return ERR_STOPPED;
		if (nap_now_ms() >= end)
			return ERR_AGAIN;
		gai_suspend(list, 1, &step);
		sink_tick(s);
	}
	return 0;
}

/* Look a host name up without blocking the daemon. */
static int
lookup_name(struct sink *s, const struct addrinfo *hints, const char *port,
    struct addrinfo **res, char *why, size_t whylen)
{
	struct gaicb *list[1];
	struct lookup *lk;
	int rc;

	forget_lookup(s);
	if ((lk = calloc(1, sizeof(*lk))) == NULL) {
		snprintf(
		    why, whylen, "cannot resolve %s: out of memory", s->host);
		return ERR_SINK;
	}
	snprintf(lk->name, sizeof(lk->name), "%s", s->host);
	snprintf(lk->port, sizeof(lk->port), "%s", port);
	lk->hints = *hints;
	lk->hints.ai_flags = 0;
	lk->cb.ar_name = lk->name;
	lk->cb.ar_service = lk->port;
	lk->cb.ar_request = &lk->hints;
	list[0] = &lk->cb;
	if ((rc = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL)) != 0) {
		snprintf(why, whylen, "cannot resolve %s: %s", s->host,
		    gai_strerror(rc));
		free(lk);
		return ERR_SINK;
	}
	if ((rc = wait_lookup(s, lk)) != 0) {
		/* A lookup that cannot be cancelled is freed once it ends. */
		if (gai_cancel(&lk->cb) == EAI_NOTCANCELED) {
			s->gai = lk;
		} else {
			if (lk->cb.ar_result != NULL)
				freeaddrinfo(lk->cb.ar_result);
			free(lk);
		}
		if (rc == ERR_AGAIN)
			snprintf(why, whylen, "cannot resolve %s: timed out",
			    s->host);
		return rc == ERR_STOPPED ? rc : ERR_SINK;
	}
	if ((rc = gai_error(&lk->cb)) != 0) {
		snprintf(why, whylen, "cannot resolve %s: %s", s->host,
		    gai_strerror(rc));
		free(lk);
		return ERR_SINK;
	}
	*res = lk->cb.ar_result;
	free(lk);
	return 0;
}

static int
resolve(struct sink *s, int socktype, struct addrinfo **res, char *why,
    size_t whylen)
{
	struct addrinfo hints;
	char port[16];

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = socktype;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%d", s->port);
	/* An address needs no lookup. */
	if (getaddrinfo(s->host, port, &hints, res) == 0)
		return 0;
	return lookup_name(s, &hints, port, res, why, whylen);
}

static int
connect_one(struct sink *s, const struct addrinfo *ai, int *fdp, char *why,
    size_t whylen)
{
	socklen_t elen = sizeof(int);
	int fd, err = 0, rc;

	fd = socket(ai->ai_family,
	    ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
	if (fd < 0) {
		snprintf(why, whylen, "socket: %s", strerror(errno));
		return ERR_SINK;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		if (errno != EINPROGRESS) {
			snprintf(why, whylen, "%s", strerror(errno));
			close(fd);
			return ERR_SINK;
		}
		rc = sink_wait_fd(
		    s, fd, POLLOUT, deadline_in(s, s->io_timeout), NULL);
		if (rc == 0 &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0)
			err = errno;
		if (rc != 0 || err != 0) {
			snprintf(why, whylen, "%s",
			    strerror(rc == ERR_AGAIN ? ETIMEDOUT : err));
			close(fd);
			return rc == ERR_STOPPED ? rc : ERR_SINK;
		}
	}
	*fdp = fd;
	return 0;
}

int
sink_tcp_connect(
    struct sink *s, int socktype, int *fdp, char *why, size_t whylen)
{
	struct addrinfo *res = NULL, *ai;
	int fd = -1, rc, one = 1;

	if ((rc = resolve(s, socktype, &res, why, whylen)) != 0)
		return rc;
	snprintf(why, whylen, "no usable address for %s", s->host);
	rc = ERR_SINK;
	for (ai = res; ai != NULL && rc != ERR_STOPPED; ai = ai->ai_next) {
		if ((rc = connect_one(s, ai, &fd, why, whylen)) == 0)
			break;
	}
	freeaddrinfo(res);
	if (rc != 0)
		return rc;
	if (socktype == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	*fdp = fd;
	return 0;
}

void
sink_tcp_forget(struct sink *s)
{
	/*
	 * A lookup still running at exit keeps its memory: getaddrinfo_a()
	 * writes into it when it ends.
	 */
	forget_lookup(s);
}

static int
tcp_open(struct sink *s, char *why, size_t whylen)
{
	return sink_tcp_connect(s, SOCK_STREAM, &s->fd, why, whylen);
}

/* The in-flight entry i places after the first one not written whole. */
static const struct sink_inflight *
unsent(const struct sink *s, size_t i)
{
	return &s->ring[(s->ring_head + s->ring_unsent + i) % SINK_RING];
}

/*
 * How many bytes of out to write now: the rest of a message the kernel
 * took only part of, else the whole messages that fit the room (one
 * alone into an empty queue even when it is larger).  0: wait.
 */
static size_t
writable(struct sink *s)
{
	size_t i, n = s->ring_len - s->ring_unsent;
	uint64_t end = s->written;
	int empty = 0;

	if (n == 0)
		return 0;
	if (s->written > s->boundary)
		return (size_t)(unsent(s, 0)->end - s->written);
	if ((long)(unsent(s, 0)->end - s->written) > s->budget) {
		long room = sink_stream_room(s, &empty);

		s->budget = room > 0 ? room : 0;
	}
	for (i = 0;
	     i < n && (long)(unsent(s, i)->end - s->written) <= s->budget; i++)
		end = unsent(s, i)->end;
	if (end == s->written && empty)
		end = unsent(s, 0)->end;
	return (size_t)(end - s->written);
}

/* The messages now wholly written leave the unsent part of the ring. */
static void
advance(struct sink *s)
{
	while (
	    s->ring_unsent < s->ring_len && unsent(s, 0)->end <= s->written) {
		s->boundary = unsent(s, 0)->end;
		s->ring_unsent++;
	}
}

/* Write what may be written now.  0 or ERR_SINK (why filled). */
static int
flush(struct sink *s, char *why, size_t whylen)
{
	while (s->out_off < s->out.len) {
		size_t want = writable(s);
		ssize_t n;

		if (want == 0)
			return 0;
		n = send(s->fd, s->out.data + s->out_off, want,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				s->budget = 0;
				return 0;
			}
			snprintf(
			    why, whylen, "send failed: %s", strerror(errno));
			return ERR_SINK;
		}
		s->written += (uint64_t)n;
		s->out_off += (size_t)n;
		s->budget -= (long)n;
		advance(s);
		if ((size_t)n < want) {
			s->budget = 0;
			return 0;
		}
	}
	buf_clear(&s->out);
	s->out_off = 0;
	return 0;
}

static size_t
held(const struct sink *s)
{
	return s->out.len - s->out_off;
}

static int
tcp_send(struct sink *s, const struct sink_msg *m, char *why, size_t whylen)
{
	if (s->ring_len == SINK_RING)
		return ERR_AGAIN;
	if (held(s) > 0 && held(s) + m->len > SINK_OUT_MAX) {
		if (flush(s, why, whylen) != 0)
			return ERR_SINK;
		if (held(s) > 0 && held(s) + m->len > SINK_OUT_MAX)
			return ERR_AGAIN;
	}
	if (buf_add(&s->out, m->data, m->len) != 0)
		return ERR_AGAIN;
	s->queued += m->len;
	sink_ring_push(s, s->queued, m->mark);
	if (held(s) >= SINK_OUT_MAX / 2 && flush(s, why, whylen) != 0)
		return ERR_SINK;
	return 0;
}

/* Take what the peer acknowledged off the ring. */
static void
take_acks(struct sink *s)
{
	uint64_t b;

	if (sink_stream_acked(s, &b) == 0)
		sink_ring_ack(s, b);
}

/* Sleep until end at most (a partial message waits for POLLOUT). */
static void
nap_fd(struct sink *s, int64_t end)
{
	sink_stream_nap(s, s->written > s->boundary, end);
}

static int
tcp_poll(struct sink *s, long wait_ms, uint64_t *acked)
{
	int64_t end = nap_now_ms() + wait_ms;
	uint64_t before = s->acked;
	size_t was = held(s);

	for (;;) {
		int rc = flush(s, s->why, sizeof(s->why));

		take_acks(s);
		*acked = s->acked;
		if (rc != 0 ||
		    sink_stream_peer_closed(s, s->why, sizeof(s->why)))
			return ERR_SINK;
		if (s->ring_len == 0 || s->acked != before || held(s) < was)
			return 0;
		if (nap_now_ms() >= end)
			return 0;
		nap_fd(s, end);
	}
}

/* Reset or error on a socket whose write side we shut down. */
static int
reset_after_fin(struct sink *s)
{
	struct pollfd pfd = {s->fd, POLLIN, 0};
	socklen_t len = sizeof(int);
	int err = 0;

	if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & POLLERR))
		return 0;
	getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	snprintf(s->why, sizeof(s->why), "connection lost: %s",
	    strerror(err != 0 ? err : ECONNRESET));
	return 1;
}

static int
tcp_drain(struct sink *s, long ms, uint64_t *acked)
{
	int64_t end = nap_now_ms() + ms;
	int rc = 0;

	while (rc == 0 && held(s) > 0) {
		if ((rc = flush(s, s->why, sizeof(s->why))) != 0 ||
		    sink_stream_peer_closed(s, s->why, sizeof(s->why)))
			rc = ERR_SINK;
		else if (held(s) > 0 && nap_now_ms() >= end)
			rc = ERR_AGAIN;
		else if (held(s) > 0)
			nap_fd(s, end);
	}
	if (rc == 0 && !s->fin_sent) {
		shutdown(s->fd, SHUT_WR);
		s->fin_sent = 1;
	}
	for (;;) {
		take_acks(s);
		*acked = s->acked;
		if (rc != 0 || s->ring_len == 0)
			return rc;
		if (reset_after_fin(s))
			return ERR_SINK;
		if (nap_now_ms() >= end)
			return ERR_AGAIN;
		nap_fd(s, end);
	}
}

static void
tcp_close(struct sink *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

const struct sink_ops sink_tcp_ops = {
    .name = "tcp",
    .needs_host = 1,
    .default_port = 514, /* RFC 6587 practice */
    .framing = FRAMING_LF,
    /* QRadar's TCP syslog payload limit (README "Message size and
     * receivers") */
    .max_message = 4096,
    .per_message = 0,
    .open = tcp_open,
    .send = tcp_send,
    .poll = tcp_poll,
    .drain = tcp_drain,
    .close = tcp_close,
};
