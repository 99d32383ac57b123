/* SPDX-License-Identifier: MIT */
/*
 * Delivery of messages to the collector, with acknowledgement.  One
 * interface for every transport (tcp, tls, udp, local, stdout; kafka
 * plugs in the same way): the output queue (queue.c) hands over one whole
 * message at a time without blocking (sink_send()), and learns which of
 * them the peer has acknowledged (sink_poll()), by a mark it gives each
 * message.  Only acknowledged messages count as delivered; after a broken
 * connection the queue sends again everything after the last
 * acknowledged mark.
 *
 * Acknowledged means: tcp, the collector's kernel has acknowledged the
 * bytes (bytes written minus SIOCOUTQ); tls, the same for the raw TLS
 * bytes; udp, local and stdout, at once when sent.  Plain syslog can do
 * no better: what the collector's kernel accepted into its receive buffer
 * is lost if the collector dies before reading it.
 *
 * A message is never left half written when it can be helped: stream
 * transports write whole messages only into a send queue with a wide
 * margin of free space (a quarter of SO_SNDBUF), so that a kill -9 does
 * not cut one in half on the wire, and wait for room between messages.
 *
 * A lost connection is reported (ERR_SINK), logged once, and reopened
 * after a capped, jittered backoff by the next sink_send().  Connecting
 * (name resolution, TCP, the TLS handshake) notices a stop request and
 * calls the liveness callback at least every second.
 */
#ifndef SINK_H
#define SINK_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "ts.h"

struct config;
struct sink;

/* One message, as the queue hands it over. */
struct sink_msg {
	/* framed bytes for syslog transports; for kafka the bare event */
	const char *data;
	size_t len;
	const char *key; /* stable record key (alert id / FullId) or NULL */
	size_t keylen;
	const char *tenant; /* tenant name (NUL-terminated) or NULL */
	struct ts version; /* record version (ordering) time; sec 0: none */
	int sev; /* syslog severity 0..7 */
	uint64_t mark; /* opaque, strictly increasing per sink */
};

/*
 * Operations of one transport (sink_tcp.c, ...).  A transport keeps its
 * connection state in struct sink (src/sink_impl.h); on ERR_SINK from
 * poll() or drain() it writes the reason into s->why.
 */
struct sink_ops {
	const char *name;
	/* What the configuration asks of it, so that config.c knows no
	 * transport by name: host = required; the port and framing when
	 * none is given (port 0: none); the max_message_size when none is
	 * given (0: the configuration computes it, kafka: from the
	 * producer's limit), the largest it can carry; whether the tls_*
	 * keys and files matter. */
	int needs_host;
	int default_port;
	enum config_framing framing;
	int64_t max_message;
	int64_t max_message_limit; /* the most it can carry; 0: no limit */
	int reads_tls;
	/*
	 * Nonzero when each message is its own unit on the wire (a datagram,
	 * a syslog(3) call, a Kafka record): no stream framing around it.
	 * Informational.
	 */
	int per_message;
	/*
	 * Nonzero when opening proves nothing about the peer (kafka: a
	 * producer starts without a broker): the collector counts as back
	 * only once it acknowledges a message.
	 */
	int up_on_ack;
	/* Connect; 0, ERR_STOPPED, or ERR_SINK with why[] filled. */
	int (*open)(struct sink *s, char *why, size_t whylen);
	/*
	 * Hand over one WHOLE message without blocking: 0 = taken whole;
	 * ERR_AGAIN = no room now, nothing taken; ERR_SINK = connection
	 * broken (why filled; the caller closes the transport); ERR_BADREC =
	 * this message is not and will never be delivered on this transport
	 * (longer than a datagram may be, refused by a lossy transport): the
	 * queue counts it as dropped and goes on.
	 */
	int (*send)(
	    struct sink *s, const struct sink_msg *m, char *why, size_t whylen);
	/*
	 * Push out what was taken, wait at most wait_ms for room or for
	 * acknowledgements (0 = just look; return early on progress), and set
	 * *acked to the highest mark such that every message handed over
	 * with a mark <= *acked is acknowledged by the peer.  Returns 0, or
	 * ERR_SINK when the connection broke (*acked still set).  NULL: every
	 * message is acknowledged when send() takes it.
	 */
	int (*poll)(struct sink *s, long wait_ms, uint64_t *acked);
	/*
	 * Clean stop: flush, shut down the write side, wait at most ms until
	 * everything is acknowledged; *acked as for poll.  Returns 0 (all
	 * acknowledged), ERR_AGAIN (not within ms) or ERR_SINK.  NULL: as
	 * for poll.  close() follows.
	 */
	int (*drain)(struct sink *s, long ms, uint64_t *acked);
	void (*close)(struct sink *s);
};

/* The operations of transport t, or NULL. */
const struct sink_ops *sink_ops_for(enum config_transport t);

/*
 * A sink for the configured transport, not yet connected.  stop, when not
 * NULL, interrupts connecting and waits (ERR_STOPPED).  Returns NULL on
 * allocation failure or an unknown transport.
 */
struct sink *sink_new(
    const struct config *c, const volatile sig_atomic_t *stop);
void sink_free(struct sink *s);

/*
 * Call fn(arg) at least every second while connecting or waiting (the
 * systemd watchdog ping).  fn may be NULL.
 */
void sink_set_tick(struct sink *s, void (*fn)(void *), void *arg);

/*
 * What ends a wait inside the sink: *stop becoming nonzero (stop may be
 * NULL), and deadline_ms, a nap_now_ms() time (0: none).  A clean stop
 * delivers within shutdown_grace after the stop request: it passes NULL
 * and its deadline.
 */
void sink_set_limits(
    struct sink *s, const volatile sig_atomic_t *stop, int64_t deadline_ms);

/*
 * Hand over one whole message (ops->send), connecting first if needed and
 * the reconnect backoff allows.  Returns 0 (taken), ERR_AGAIN (no room:
 * wait with sink_poll() and call again), ERR_BADREC (dropped: see
 * sink_ops), ERR_SINK (the collector is unreachable, or the connection
 * broke: nothing more is acknowledged on it; retry after
 * sink_retry_in_ms()), or ERR_STOPPED (a stop interrupted connecting).
 */
int sink_send(struct sink *s, const struct sink_msg *m);

/*
 * Push out, wait at most wait_ms for room or acknowledgements, and set
 * *acked (see sink_ops.poll; it never goes down).  Returns 0, or ERR_SINK
 * when the connection broke (it is closed; *acked is final for it).
 * Without a connection: 0 at once.
 */
int sink_poll(struct sink *s, long wait_ms, uint64_t *acked);

/*
 * Clean stop of the connection (see sink_ops.drain), then close it.
 * Returns 0 when everything handed over was acknowledged, ERR_AGAIN when
 * not within ms, ERR_SINK when the connection broke.  Without a
 * connection: 0 at once.
 */
int sink_drain(struct sink *s, long ms, uint64_t *acked);

/* Nonzero while the collector is unreachable. */
int sink_is_down(const struct sink *s);

/*
 * Why the collector is unreachable (the reason the log gave when it went
 * down, the latest when it changed since), or "" while it is up.
 */
const char *sink_down_why(const struct sink *s);

/* Nonzero while a connection is open. */
int sink_is_connected(const struct sink *s);

/* Milliseconds until the next reconnect attempt is due (0: now). */
long sink_retry_in_ms(const struct sink *s);

/*
 * --test-connection: connect now (TCP connect, TLS handshake and
 * verification, local socket), without backoff.  Returns 0, or ERR_SINK
 * with why filled.
 */
int sink_probe(struct sink *s, char *why, size_t whylen);

/* Times the collector came back after being unreachable. */
unsigned long sink_reconnects(const struct sink *s);

/*
 * Messages that were sent and acknowledged by the transport's own rule,
 * but that the transport learned later were lost: udp datagrams the
 * collector refused (ICMP port unreachable; a lower bound, since the
 * kernel reports such errors one at a time).  0 for the others.
 */
unsigned long sink_lost(const struct sink *s);

extern const struct sink_ops sink_tcp_ops;
extern const struct sink_ops sink_tls_ops;
extern const struct sink_ops sink_udp_ops;
extern const struct sink_ops sink_local_ops;
extern const struct sink_ops sink_stdout_ops;
extern const struct sink_ops sink_kafka_ops;

#endif
