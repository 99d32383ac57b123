/* SPDX-License-Identifier: MIT */
/*
 * Delivery of framed messages to the collector.  One interface for every
 * transport (tcp, stdout now; tls, udp, local next): sink_write() queues
 * one framed message, sink_flush() pushes everything queued to the kernel.
 * A lost connection is reported (ERR_SINK) and reopened on the next call,
 * after a capped, jittered backoff; the caller decides what to resend.
 */
#ifndef SINK_H
#define SINK_H

#include <signal.h>
#include <stddef.h>

struct config;
struct sink;

/* Operations of one transport (sink_tcp.c, ...). */
struct sink_ops {
	const char *name;
	/* Connect; 0 or ERR_SINK with why[] filled. */
	int (*open)(struct sink *s, char *why, size_t whylen);
	/* Write all of data; 0 or ERR_SINK (connection then closed). */
	int (*write)(struct sink *s, const char *data, size_t len, char *why,
	    size_t whylen);
	void (*close)(struct sink *s);
	/* Nonzero: one write per message (datagrams), no batching. */
	int per_message;
};

/*
 * A sink for the configured transport, not yet connected.  stop, when not
 * NULL, interrupts backoff waits.  Returns NULL on allocation failure.
 */
struct sink *sink_new(const struct config *c,
    const volatile sig_atomic_t *stop);
void sink_free(struct sink *s);

/*
 * Queue one framed message.  When the queue passes its batch size it is
 * flushed first.  Returns 0, or what sink_flush() returns.
 */
int sink_write(struct sink *s, const char *msg, size_t len);

/*
 * Push all queued messages to the kernel, connecting first if needed
 * (waiting out the reconnect backoff, interruptibly).  Returns 0 (queue
 * empty), ERR_SINK when the collector is unreachable or the connection
 * broke (the queue is kept whole: call again to retry, which resends it
 * from its first message), or ERR_STOPPED.
 */
int sink_flush(struct sink *s);

/* Drop queued messages without sending them. */
void sink_discard(struct sink *s);

/* Counters for status and logs. */
unsigned long sink_reconnects(const struct sink *s);

extern const struct sink_ops sink_tcp_ops;
extern const struct sink_ops sink_stdout_ops;

#endif
