/* SPDX-License-Identifier: MIT */
/*
 * Delivery to the collector (include/sink.h): a batch queue in front of a
 * transport, reconnects with capped exponential backoff and jitter, and
 * one log line when the collector goes away and one when it is back.
 * Datagram-like transports (udp, local) get their queue one message at a
 * time; the queue then keeps each message's length beside it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "errcode.h"
#include "log.h"
#include "sink_impl.h"

#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 60000

static const struct sink_ops *
ops_for(enum config_transport t)
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

	if (ops_for(c->transport) == NULL)
		return NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->ops = ops_for(c->transport);
	if (c->host != NULL)
		snprintf(s->host, sizeof(s->host), "%s", c->host);
	s->port = c->port;
	s->fd = -1;
	s->io_timeout = c->timeout > 0 ? (long)c->timeout : 30;
	s->stop = stop;
	s->wait = 1;
	s->rnd = (unsigned int)getpid() ^ (unsigned int)time(NULL);
	buf_init(&s->batch, 0);
	buf_init(&s->lens, 0);
	if (copy_transport_opts(s, c) != 0) {
		sink_free(s);
		return NULL;
	}
	return s;
}

void
sink_free(struct sink *s)
{
	if (s == NULL)
		return;
	if (s->connected)
		s->ops->close(s);
	buf_reset(&s->batch);
	buf_reset(&s->lens);
	free(s->tls_ca_file);
	free(s->tls_cert_file);
	free(s->tls_key_file);
	free(s);
}

static long
ms_until(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (t->tv_sec - now.tv_sec) * 1000 +
	    (t->tv_nsec - now.tv_nsec) / 1000000;
}

void
sink_set_wait(struct sink *s, int wait, const volatile sig_atomic_t *stop)
{
	s->wait = wait;
	s->stop = stop;
}

int
sink_is_down(const struct sink *s)
{
	return s->down;
}

long
sink_retry_in_ms(const struct sink *s)
{
	long ms;

	if (!s->down)
		return 0;
	ms = ms_until(&s->next_try);
	return ms > 0 ? ms : 0;
}

unsigned long
sink_reconnects(const struct sink *s)
{
	return s->reconnects;
}

unsigned long
sink_dropped(const struct sink *s)
{
	return s->dropped;
}

void
sink_discard(struct sink *s)
{
	buf_clear(&s->batch);
	buf_clear(&s->lens);
}

/* Sleep until t in short steps, so a stop request is noticed. */
static int
wait_until(struct sink *s, const struct timespec *t)
{
	long ms;

	while ((ms = ms_until(t)) > 0) {
		struct timespec step = {0, 0};

		if (s->stop != NULL && *s->stop)
			return ERR_STOPPED;
		if (ms > 200)
			ms = 200;
		step.tv_nsec = ms * 1000000L;
		nanosleep(&step, NULL);
	}
	return s->stop != NULL && *s->stop ? ERR_STOPPED : 0;
}

static void
mark_down(struct sink *s, const char *why)
{
	long jitter;

	if (!s->down) {
		s->down = 1;
		clock_gettime(CLOCK_MONOTONIC, &s->down_since);
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
	s->rnd = s->rnd * 1103515245u + 12345u;
	clock_gettime(CLOCK_MONOTONIC, &s->next_try);
	s->next_try.tv_nsec +=
	    (s->backoff_ms - jitter +
	        (long)((s->rnd >> 8) % (unsigned)(2 * jitter + 1))) *
	    1000000L;
	s->next_try.tv_sec += s->next_try.tv_nsec / 1000000000L;
	s->next_try.tv_nsec %= 1000000000L;
}

static void
mark_up(struct sink *s, size_t queued)
{
	struct timespec now;

	if (!s->down)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	log_info("collector %s is back after %ld s; delivering %zu bytes "
	         "that waited",
	    s->where, (long)(now.tv_sec - s->down_since.tv_sec), queued);
	s->down = 0;
	s->reconnects++;
}

static int
ensure_open(struct sink *s)
{
	char why[SINK_WHY_MAX];
	int rc;

	if (s->connected)
		return 0;
	if (s->down && !s->wait && ms_until(&s->next_try) > 0)
		return ERR_SINK;
	if (s->down && (rc = wait_until(s, &s->next_try)) != 0)
		return rc;
	why[0] = '\0';
	if (s->ops->open(s, why, sizeof(why)) != 0) {
		mark_down(s, why);
		return ERR_SINK;
	}
	s->connected = 1;
	return 0;
}

/* Remove the first n bytes of b. */
static void
drop_front(struct buf *b, size_t n)
{
	if (n == 0)
		return;
	memmove(b->data, b->data + n, b->len - n);
	buf_truncate(b, b->len - n);
}

/*
 * Write queued messages one by one (per_message transports).  What was
 * written leaves the queue even when a later message fails.
 */
static int
write_each(struct sink *s, char *why, size_t whylen)
{
	size_t i, n = s->lens.len / sizeof(size_t), off = 0, len = 0;
	int rc = 0;

	for (i = 0; i < n; i++) {
		memcpy(&len, s->lens.data + i * sizeof(len), sizeof(len));
		if ((rc = s->ops->write(
		         s, s->batch.data + off, len, why, whylen)) != 0)
			break;
		off += len;
	}
	drop_front(&s->batch, off);
	drop_front(&s->lens, i * sizeof(len));
	return rc;
}

int
sink_flush(struct sink *s)
{
	char why[SINK_WHY_MAX];
	size_t queued = s->batch.len;
	int rc;

	if (s->batch.len == 0)
		return 0;
	if ((rc = ensure_open(s)) != 0)
		return rc;
	why[0] = '\0';
	if (s->ops->per_message)
		rc = write_each(s, why, sizeof(why));
	else
		rc = s->ops->write(
		    s, s->batch.data, s->batch.len, why, sizeof(why));
	if (rc != 0) {
		s->ops->close(s);
		s->connected = 0;
		mark_down(s, why);
		return ERR_SINK;
	}
	mark_up(s, queued);
	buf_clear(&s->batch);
	buf_clear(&s->lens);
	return 0;
}

int
sink_write(struct sink *s, const char *msg, size_t len)
{
	int rc;

	if ((rc = buf_add(&s->batch, msg, len)) != 0)
		return rc;
	if (s->ops->per_message &&
	    (rc = buf_add(&s->lens, &len, sizeof(len))) != 0) {
		buf_truncate(&s->batch, s->batch.len - len);
		return rc;
	}
	/* While the collector is away, sink_flush() alone retries. */
	if (s->down)
		return 0;
	if (s->ops->per_message || s->batch.len >= SINK_BATCH_MAX)
		return sink_flush(s);
	return 0;
}

int
sink_probe(struct sink *s, char *why, size_t whylen)
{
	why[0] = '\0';
	if (!s->connected) {
		if (s->ops->open(s, why, whylen) != 0)
			return ERR_SINK;
		s->connected = 1;
	}
	return 0;
}
