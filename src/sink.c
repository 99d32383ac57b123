/* SPDX-License-Identifier: MIT */
/*
 * Delivery to the collector (include/sink.h): a batch queue in front of a
 * transport, reconnects with capped exponential backoff and jitter, and
 * one log line when the collector goes away and one when it is back.
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
	default:
		return NULL;
	}
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
	s->rnd = (unsigned int)getpid() ^ (unsigned int)time(NULL);
	buf_init(&s->batch, 0);
	return s;
}

void
sink_free(struct sink *s)
{
	if (s == NULL)
		return;
	if (s->fd >= 0)
		s->ops->close(s);
	buf_reset(&s->batch);
	free(s);
}

unsigned long
sink_reconnects(const struct sink *s)
{
	return s->reconnects;
}

void
sink_discard(struct sink *s)
{
	buf_clear(&s->batch);
}

static long
ms_until(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (t->tv_sec - now.tv_sec) * 1000 +
	    (t->tv_nsec - now.tv_nsec) / 1000000;
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
		log_warning("collector %s:%d unavailable: %s; retrying with "
		    "backoff", s->host, s->port, why);
	} else {
		s->backoff_ms *= 2;
		if (s->backoff_ms > BACKOFF_MAX_MS)
			s->backoff_ms = BACKOFF_MAX_MS;
		log_debug("collector %s:%d still unavailable: %s", s->host,
		    s->port, why);
	}
	/* +-20 % jitter so that many daemons do not reconnect in step. */
	jitter = s->backoff_ms / 5;
	s->rnd = s->rnd * 1103515245u + 12345u;
	clock_gettime(CLOCK_MONOTONIC, &s->next_try);
	s->next_try.tv_nsec += (s->backoff_ms - jitter +
	    (long)((s->rnd >> 8) % (unsigned)(2 * jitter + 1))) * 1000000L;
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
	log_info("collector %s:%d is back after %ld s; delivering %zu bytes "
	    "that waited", s->host, s->port,
	    (long)(now.tv_sec - s->down_since.tv_sec), queued);
	s->down = 0;
	s->reconnects++;
}

static int
ensure_open(struct sink *s)
{
	char why[256];
	int rc;

	if (s->fd >= 0)
		return 0;
	if (s->down && (rc = wait_until(s, &s->next_try)) != 0)
		return rc;
	why[0] = '\0';
	if (s->ops->open(s, why, sizeof(why)) != 0) {
		mark_down(s, why);
		return ERR_SINK;
	}
	return 0;
}

int
sink_flush(struct sink *s)
{
	char why[256];
	int rc;

	if (s->batch.len == 0)
		return 0;
	if ((rc = ensure_open(s)) != 0)
		return rc;
	why[0] = '\0';
	if (s->ops->write(s, s->batch.data, s->batch.len, why,
	    sizeof(why)) != 0) {
		s->ops->close(s);
		mark_down(s, why);
		return ERR_SINK;
	}
	mark_up(s, s->batch.len);
	buf_clear(&s->batch);
	return 0;
}

int
sink_write(struct sink *s, const char *msg, size_t len)
{
	int rc;

	if ((rc = buf_add(&s->batch, msg, len)) != 0)
		return rc;
	/* While the collector is away, sink_flush() alone retries. */
	if (s->ops->per_message || (s->batch.len >= SINK_BATCH_MAX && !s->down))
		return sink_flush(s);
	return 0;
}
