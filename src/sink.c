/* SPDX-License-Identifier: MIT */
/*
 * Delivery to the collector (include/sink.h): the connection life cycle
 * around a transport (connect on demand, reconnects with capped
 * exponential backoff and jitter, one log line when the collector goes
 * away and one when it is back), the acknowledged mark, and the pieces
 * that the stream transports (tcp, tls) share: the ring of messages in
 * flight, the acknowledged byte count (bytes written minus SIOCOUTQ) and
 * the free room of the send queue.
 */
#include <errno.h>
#include <linux/sockios.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

#include "config.h"
#include "errcode.h"
#include "nap.h"
#include "log.h"
#include "sink_impl.h"
#include "sink_kafka.h"

#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 60000
#define WAIT_STEP_MS 250 /* stop flag and liveness while connecting */

const struct sink_ops *
sink_ops_for(enum config_transport t)
{
	switch (t) {
	case TRANSPORT_STDOUT:
		return &sink_stdout_ops;
	case TRANSPORT_TCP:
		return &sink_tcp_ops;
	case TRANSPORT_TLS:
		return &sink_tls_ops;
	case TRANSPORT_UDP:
		return &sink_udp_ops;
	case TRANSPORT_LOCAL:
		return &sink_local_ops;
	case TRANSPORT_KAFKA:
		return &sink_kafka_ops;
	default:
		return NULL;
	}
}

/* Copy str into *dst (NULL stays NULL).  Returns 0 or -1. */
static int
copy_opt(char **dst, const char *str)
{
	*dst = NULL;
	if (str != NULL && (*dst = strdup(str)) == NULL)
		return -1;
	return 0;
}

/* The transports' own settings, copied from the configuration. */
static int
copy_transport_opts(struct sink *s, const struct config *c)
{
	const char *name;

	s->max_message =
	    c->max_message_size > 0 ? (size_t)c->max_message_size : 2048;
	s->facility = c->facility;
	if (c->transport == TRANSPORT_LOCAL)
		snprintf(s->where, sizeof(s->where), "local syslog (/dev/log)");
	else if (strchr(s->host, ':') != NULL)
		snprintf(
		    s->where, sizeof(s->where), "[%s]:%d", s->host, s->port);
	else
		snprintf(s->where, sizeof(s->where), "%s:%d", s->host, s->port);
	snprintf(s->ident, sizeof(s->ident), "%s",
	    c->app_name != NULL ? c->app_name : "mdesiemd");
	name = c->tls_server_name != NULL ? c->tls_server_name : c->host;
	if (name != NULL)
		snprintf(s->tls_name, sizeof(s->tls_name), "%s", name);
	s->tls_alert = -1;
	if (copy_opt(&s->tls_ca_file, c->tls_ca_file) != 0 ||
	    copy_opt(&s->tls_cert_file, c->tls_cert_file) != 0 ||
	    copy_opt(&s->tls_key_file, c->tls_key_file) != 0)
		return -1;
	return 0;
}

struct sink *
sink_new(const struct config *c, const volatile sig_atomic_t *stop)
{
	struct sink *s;

	if (sink_ops_for(c->transport) == NULL)
		return NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->ops = sink_ops_for(c->transport);
	if (c->host != NULL)
		snprintf(s->host, sizeof(s->host), "%s", c->host);
	s->port = c->port;
	s->fd = -1;
	s->io_timeout = c->timeout > 0 ? (long)c->timeout : 30;
	s->stop = stop;
	buf_init(&s->out, 0);
	buf_init(&s->line, 0);
	if ((s->ring = calloc(SINK_RING, sizeof(*s->ring))) == NULL ||
	    copy_transport_opts(s, c) != 0 ||
	    (c->transport == TRANSPORT_KAFKA && sink_kafka_attach(s, c) != 0)) {
		sink_free(s);
		return NULL;
	}
	return s;
}

/* Forget the connection: what it held is no longer acknowledged. */
static void
close_conn(struct sink *s)
{
	if (s->connected)
		s->ops->close(s);
	s->connected = 0;
	sink_ring_clear(s);
	buf_clear(&s->out);
	s->out_off = 0;
	s->queued = s->written = s->boundary = 0;
	s->budget = 0;
	s->fin_sent = 0;
	s->nap_us = 0;
}

void
sink_free(struct sink *s)
{
	if (s == NULL)
		return;
	close_conn(s);
	sink_tcp_forget(s);
	sink_kafka_detach(s);
	buf_reset(&s->out);
	buf_reset(&s->line);
	free(s->ring);
	free(s->tls_ca_file);
	free(s->tls_cert_file);
	free(s->tls_key_file);
	free(s);
}

void
sink_set_tick(struct sink *s, void (*fn)(void *), void *arg)
{
	s->tick = fn;
	s->tick_arg = arg;
}

void
sink_set_limits(
    struct sink *s, const volatile sig_atomic_t *stop, int64_t deadline_ms)
{
	s->stop = stop;
	s->deadline = deadline_ms;
}

void
sink_tick(struct sink *s)
{
	if (s->tick != NULL)
		s->tick(s->tick_arg);
}

int
sink_is_down(const struct sink *s)
{
	return s->down || (s->kafka != NULL && sink_kafka_is_down(s->kafka));
}

const char *
sink_down_why(const struct sink *s)
{
	if (s->down)
		return s->down_why;
	if (s->kafka != NULL && sink_kafka_is_down(s->kafka))
		return sink_kafka_down_why(s->kafka);
	return "";
}

int
sink_is_connected(const struct sink *s)
{
	return s->connected;
}

long
sink_retry_in_ms(const struct sink *s)
{
	long ms;

	if (!s->down || s->connected)
		return 0;
	ms = (long)(s->next_try - nap_now_ms());
	return ms > 0 ? ms : 0;
}

unsigned long
sink_reconnects(const struct sink *s)
{
	return s->reconnects;
}

unsigned long
sink_lost(const struct sink *s)
{
	return s->lost;
}

static void
mark_down(struct sink *s, const char *why)
{
	long jitter;

	snprintf(s->down_why, sizeof(s->down_why), "%s", why);
	if (!s->down) {
		s->down = 1;
		s->down_since = nap_now_ms();
		s->backoff_ms = BACKOFF_MIN_MS;
		log_warning("collector %s unavailable: %s; retrying with "
		            "backoff",
		    s->where, why);
	} else {
		s->backoff_ms *= 2;
		if (s->backoff_ms > BACKOFF_MAX_MS)
			s->backoff_ms = BACKOFF_MAX_MS;
		log_debug("collector %s still unavailable: %s", s->where, why);
	}
	/* +-20 % jitter so that many daemons do not reconnect in step. */
	jitter = s->backoff_ms / 5;
	s->next_try = nap_now_ms() + s->backoff_ms - jitter +
	    (int64_t)nap_jitter((unsigned long)(2 * jitter + 1));
}

static void
mark_up(struct sink *s)
{
	if (!s->down)
		return;
	log_info("collector %s is back after %ld s; delivering what waited",
	    s->where, (long)((nap_now_ms() - s->down_since) / 1000));
	s->down = 0;
	s->down_why[0] = '\0';
	s->reconnects++;
}

/* The connection broke: close it, say so, start the backoff. */
static void
broken(struct sink *s, const char *why)
{
	close_conn(s);
	mark_down(s, why[0] != '\0' ? why : "connection lost");
}

static int
ensure_open(struct sink *s)
{
	char why[SINK_WHY_MAX];
	int rc;

	if (s->connected)
		return 0;
	if (s->down && nap_now_ms() < s->next_try)
		return ERR_SINK;
	close_conn(s);
	why[0] = '\0';
	if ((rc = s->ops->open(s, why, sizeof(why))) == ERR_STOPPED)
		return rc;
	if (rc != 0) {
		mark_down(s, why);
		return ERR_SINK;
	}
	s->connected = 1;
	if (!s->ops->up_on_ack)
		mark_up(s);
	return 0;
}

int
sink_send(struct sink *s, const struct sink_msg *m)
{
	char why[SINK_WHY_MAX];
	int rc;

	if ((rc = ensure_open(s)) != 0)
		return rc;
	why[0] = '\0';
	rc = s->ops->send(s, m, why, sizeof(why));
	if (rc == 0)
		s->sent_mark = m->mark;
	else if (rc == ERR_SINK)
		broken(s, why);
	return rc;
}

int
sink_poll(struct sink *s, long wait_ms, uint64_t *acked)
{
	uint64_t a = s->acked;
	int rc = 0;

	if (s->connected) {
		s->why[0] = '\0';
		if (s->ops->poll == NULL)
			a = s->sent_mark;
		else
			rc = s->ops->poll(s, wait_ms, &a);
		if (a > s->acked) {
			s->acked = a;
			if (s->ops->up_on_ack)
				mark_up(s);
		}
		if (rc == ERR_SINK)
			broken(s, s->why);
	}
	*acked = s->acked;
	return rc == ERR_SINK ? ERR_SINK : 0;
}

int
sink_drain(struct sink *s, long ms, uint64_t *acked)
{
	uint64_t a = s->acked;
	int rc = 0;

	if (s->connected) {
		s->why[0] = '\0';
		if (s->ops->drain != NULL)
			rc = s->ops->drain(s, ms, &a);
		else if (s->ops->poll != NULL)
			rc = s->ops->poll(s, 0, &a);
		else
			a = s->sent_mark;
		if (a > s->acked)
			s->acked = a;
		if (rc == ERR_SINK)
			log_warning("collector %s: %s while finishing",
			    s->where,
			    s->why[0] != '\0' ? s->why : "connection lost");
		close_conn(s);
	}
	*acked = s->acked;
	return rc;
}

int
sink_probe(struct sink *s, char *why, size_t whylen)
{
	int rc;

	why[0] = '\0';
	if (!s->connected) {
		close_conn(s);
		if ((rc = s->ops->open(s, why, whylen)) != 0) {
			if (rc == ERR_STOPPED)
				snprintf(why, whylen, "interrupted");
			return ERR_SINK;
		}
		s->connected = 1;
	}
	return 0;
}

int
sink_wait_fd(
    struct sink *s, int fd, short events, int64_t deadline, short *revents)
{
	struct pollfd pfd;
	int64_t now, end;
	int rc, ms;

	for (;;) {
		if (s->stop != NULL && *s->stop)
			return ERR_STOPPED;
		now = nap_now_ms();
		end = deadline;
		if (s->deadline > 0 && (end <= 0 || s->deadline < end))
			end = s->deadline;
		/* At the deadline, one last look: ready is not timed out. */
		ms = end > 0 && end - now < WAIT_STEP_MS
		    ? (int)(end > now ? end - now : 0)
		    : WAIT_STEP_MS;
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		rc = poll(&pfd, 1, ms);
		sink_tick(s);
		if (rc > 0 || (rc < 0 && errno != EINTR)) {
			if (revents != NULL)
				*revents = rc > 0 ? pfd.revents : POLLERR;
			return 0;
		}
		if (end > 0 && nap_now_ms() >= end)
			return ERR_AGAIN;
	}
}

/* --- stream helpers (tcp, tls) --- */

int
sink_ring_push(struct sink *s, uint64_t end, uint64_t mark)
{
	struct sink_inflight *e;

	if (s->ring_len == SINK_RING)
		return ERR_AGAIN;
	e = &s->ring[(s->ring_head + s->ring_len) % SINK_RING];
	e->end = end;
	e->mark = mark;
	s->ring_len++;
	return 0;
}

void
sink_ring_ack(struct sink *s, uint64_t acked_bytes)
{
	while (s->ring_len > 0) {
		const struct sink_inflight *e = &s->ring[s->ring_head];

		if (e->end > acked_bytes)
			break;
		if (e->mark > s->acked)
			s->acked = e->mark;
		s->ring_head = (s->ring_head + 1) % SINK_RING;
		s->ring_len--;
		if (s->ring_unsent > 0)
			s->ring_unsent--;
	}
	/* Nothing in flight: everything taken is acknowledged. */
	if (s->ring_len == 0 && s->out.len == s->out_off &&
	    s->sent_mark > s->acked)
		s->acked = s->sent_mark;
}

void
sink_ring_clear(struct sink *s)
{
	s->ring_head = s->ring_len = s->ring_unsent = 0;
}

int
sink_stream_acked(const struct sink *s, uint64_t *acked)
{
	uint64_t total = s->written + (s->fin_sent ? 1 : 0);
	int outq = 0;

	if (ioctl(s->fd, SIOCOUTQ, &outq) != 0 || outq < 0)
		return -1;
	*acked = (uint64_t)outq >= total ? 0 : total - (uint64_t)outq;
	if (*acked > s->written)
		*acked = s->written;
	return 0;
}

void
sink_stream_nap(struct sink *s, int partial, int64_t end)
{
	/* After our FIN the peer's may keep POLLIN ready: then just sleep. */
	short events = s->fin_sent
	    ? 0
	    : (short)(POLLIN | POLLRDHUP | (partial ? POLLOUT : 0));
	struct pollfd pfd = {s->fd, events, 0};
	struct timespec step;
	int64_t left = end - nap_now_ms();
	int before = 0, after = 0, rc;
	long us;

	if (s->nap_us <= 0)
		s->nap_us = SINK_NAP_FIRST_US;
	us = s->nap_us;
	if (left * 1000 < us)
		us = left > 0 ? (long)left * 1000 : 0;
	step.tv_sec = us / 1000000;
	step.tv_nsec = (us % 1000000) * 1000;
	if (ioctl(s->fd, SIOCOUTQ, &before) != 0)
		before = 0;
	rc = ppoll(events != 0 ? &pfd : NULL, events != 0 ? 1 : 0, &step, NULL);
	/* Only a nap that ran its course says how long the drain takes. */
	if (rc == 0 && us == s->nap_us && before > 0 &&
	    ioctl(s->fd, SIOCOUTQ, &after) == 0) {
		if (after == 0)
			s->nap_us = s->nap_us / 2 > SINK_NAP_MIN_US
			    ? s->nap_us / 2
			    : SINK_NAP_MIN_US;
		else if (after > before / 2)
			s->nap_us = s->nap_us * 2 < SINK_STEP_MS * 1000L
			    ? s->nap_us * 2
			    : SINK_STEP_MS * 1000L;
	}
	sink_tick(s);
}

long
sink_stream_room(const struct sink *s, int *empty)
{
	int outq = 0, sndbuf = 0;
	socklen_t len = sizeof(sndbuf);

	if (ioctl(s->fd, SIOCOUTQ, &outq) != 0 ||
	    getsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &len) != 0)
		return -1;
	*empty = outq == 0;
	/*
	 * SO_SNDBUF counts the kernel's overhead and is autotuned: a wide
	 * margin keeps a non-blocking send() from taking part of a message.
	 */
	if (outq == 0)
		return sndbuf / 2;
	return (long)sndbuf / 4 - outq;
}

int
sink_stream_peer_closed(struct sink *s, char *why, size_t whylen)
{
	struct pollfd pfd = {s->fd, POLLIN | POLLRDHUP, 0};
	char scratch[4096];
	socklen_t len = sizeof(int);
	int err = 0;
	ssize_t n;

	if (poll(&pfd, 1, 0) <= 0)
		return 0;
	if (pfd.revents & POLLERR) {
		getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		snprintf(why, whylen, "connection lost: %s",
		    strerror(err != 0 ? err : ECONNRESET));
		return 1;
	}
	if (pfd.revents & (POLLHUP | POLLRDHUP)) {
		snprintf(why, whylen, "connection closed by the collector");
		return 1;
	}
	/* A syslog collector sends nothing we need: read and drop it. */
	while ((n = recv(s->fd, scratch, sizeof(scratch), MSG_DONTWAIT)) > 0)
		;
	if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		snprintf(why, whylen, "connection closed by the collector");
		return 1;
	}
	return 0;
}
