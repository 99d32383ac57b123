/* SPDX-License-Identifier: MIT */
/*
 * Delivery of framed messages to the collector.  One interface for every
 * transport (tcp, tls, udp, local, stdout): sink_write() queues one framed
 * message, sink_flush() pushes everything queued to the kernel.  A lost
 * connection is reported (ERR_SINK) and reopened on the next call, after
 * a capped, jittered backoff; the caller decides what to resend.
 *
 * What a "framed message" is depends on the transport (frame.c): for tcp,
 * tls and stdout the syslog header, message and framing; for udp the
 * header and message (one datagram each, at most max_message_size bytes);
 * for local an RFC 3164 header (frame.c forces it) whose PRI carries the
 * severity, which the local transport strips before calling syslog(3).
 */
#ifndef SINK_H
#define SINK_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct sink;

/* One message, as the queue hands it over. */
struct sink_msg {
	/* framed bytes for syslog transports; for kafka the bare event */
	const char *data;
	size_t len;
	const char *key; /* stable record key (alert id / FullId) or NULL */
	size_t keylen;
	const char *tenant; /* tenant name or NULL */
	int64_t version_sec; /* record version (ordering) time, or 0 */
	int sev; /* syslog severity 0..7 */
	uint64_t mark; /* opaque, strictly increasing per sink */
};

/* Operations of one transport (sink_tcp.c, ...). */
struct sink_ops {
	const char *name;
	/* Connect; 0 or ERR_SINK with why[] filled. */
	int (*open)(struct sink *s, char *why, size_t whylen);
	/* Write all of data; 0 or ERR_SINK (connection then closed). */
	int (*write)(struct sink *s, const char *data, size_t len, char *why,
	    size_t whylen);
	void (*close)(struct sink *s);
	/*
	 * Nonzero: write() gets exactly one message at a time (datagrams,
	 * syslog(3)); the queue keeps message boundaries.
	 */
	int per_message;
};

/*
 * A sink for the configured transport, not yet connected.  stop, when not
 * NULL, interrupts backoff waits.  Returns NULL on allocation failure.
 */
struct sink *sink_new(
    const struct config *c, const volatile sig_atomic_t *stop);
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
 * from its first message; per_message transports (udp, local) remove
 * each message from the queue once written, so a retry resends only the
 * messages not yet written), or ERR_STOPPED.
 */
int sink_flush(struct sink *s);

/*
 * wait = 1: sink_flush() waits out the reconnect backoff (interruptible by
 * *stop, which may be NULL); wait = 0: it returns ERR_SINK at once while
 * the backoff runs, so the caller can go on fetching into the spool.
 */
void sink_set_wait(struct sink *s, int wait, const volatile sig_atomic_t *stop);

/* Nonzero while the collector is unreachable. */
int sink_is_down(const struct sink *s);

/* Milliseconds until the next reconnect attempt is due (0: now). */
long sink_retry_in_ms(const struct sink *s);

/*
 * --test-connection: connect now (TCP connect, TLS handshake and
 * verification, local socket), without backoff.  Returns 0, or ERR_SINK
 * with why filled.
 */
int sink_probe(struct sink *s, char *why, size_t whylen);

/* Drop queued messages without sending them. */
void sink_discard(struct sink *s);

/* Counters for status and logs. */
unsigned long sink_reconnects(const struct sink *s);

/*
 * Messages the transport accepted from the queue but did not deliver, by
 * its nature: udp datagrams the collector refused (ICMP port unreachable;
 * a lower bound, since the kernel reports such errors one at a time) or
 * longer than max_message_size.  Always 0 for tcp and tls.
 */
unsigned long sink_dropped(const struct sink *s);

extern const struct sink_ops sink_tcp_ops;
extern const struct sink_ops sink_tls_ops;
extern const struct sink_ops sink_udp_ops;
extern const struct sink_ops sink_local_ops;
extern const struct sink_ops sink_stdout_ops;

#endif
