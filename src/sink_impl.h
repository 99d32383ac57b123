/* SPDX-License-Identifier: MIT */
/*
 * State shared by sink.c and the transport modules (sink_tcp.c,
 * sink_tls.c, sink_udp.c, sink_local.c, sink_stdout.c).  Not part of the
 * public interface (include/sink.h).
 */
#ifndef SINK_IMPL_H
#define SINK_IMPL_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "sink.h"

#define SINK_WHY_MAX 512 /* the reason in "collector ... unavailable" */
#define SINK_RING 4096 /* messages in flight on one stream connection */
/*
 * Whole messages taken, not yet written, at most; written once half of
 * it is held: 128 KiB send() calls, each one wake-up of the collector.
 */
#define SINK_OUT_MAX (256 * 1024)
#define SINK_STEP_MS 10 /* longest nap of a wait for acknowledgements */
#define SINK_NAP_FIRST_US 1000 /* a connection's first such nap */
#define SINK_NAP_MIN_US 100 /* its shortest */

struct sink_kafka;
struct ssl_ctx_st;
struct ssl_st;
struct bio_method_st;

/* A message on a stream connection: where it ends, and its mark. */
struct sink_inflight {
	uint64_t end; /* stream offset after its last byte */
	uint64_t mark;
};

struct sink {
	const struct sink_ops *ops;
	char host[256];
	int port;
	char where[272]; /* "host:port" for log lines */
	int fd; /* -1 when closed */
	int connected; /* open() succeeded, close() not yet */
	long io_timeout; /* seconds for resolving, connecting, handshake */
	const volatile sig_atomic_t *stop;
	int64_t deadline; /* nap_now_ms() that ends waits; 0: none */
	void (*tick)(void *); /* liveness callback, or NULL */
	void *tick_arg;
	char why[SINK_WHY_MAX]; /* poll/drain: why ERR_SINK */

	/* acknowledgement */
	uint64_t sent_mark; /* mark of the last message taken */
	uint64_t acked; /* reported to the caller; never goes down */

	/*
	 * Stream transports (tcp, tls).  ring[] holds the messages written
	 * or taken on this connection and not yet acknowledged, oldest
	 * first; their ends are offsets in the stream (tcp: message bytes;
	 * tls: raw TLS bytes).  out holds whole messages taken but not yet
	 * written (tcp), or the one message a TLS write must finish.
	 */
	struct sink_inflight *ring;
	size_t ring_head, ring_len;
	size_t ring_unsent; /* tcp: entries (from head) fully written */
	struct buf out;
	size_t out_off; /* bytes of out already written */
	uint64_t queued; /* tcp: stream bytes taken on this connection */
	uint64_t written; /* stream bytes written to the kernel */
	uint64_t boundary; /* tcp: end of the last message written whole */
	long budget; /* bytes that may still be written without looking */
	int fin_sent; /* the write side is shut down */
	long nap_us; /* sink_stream_nap()'s step; 0: not yet chosen */

	unsigned long reconnects;
	unsigned long lost; /* see sink_lost() */
	int down; /* collector unreachable */
	int64_t down_since; /* nap_now_ms() */
	char down_why[SINK_WHY_MAX]; /* why it went down, "" while up */
	int64_t next_try; /* backoff: no attempt before this */
	long backoff_ms;
	void *gai; /* a name lookup that may still run (sink_tcp.c) */

	/* udp */
	size_t max_message; /* longest datagram sent */
	int refused; /* a refusal was logged */

	/* local */
	int facility; /* 0..23 */
	char ident[49];
	struct buf line; /* the datagram for /dev/log */

	/* tls: copies of the configuration, and one connection */
	char *tls_ca_file; /* NULL: the system store */
	char *tls_cert_file; /* NULL: no client certificate */
	char *tls_key_file;
	char tls_name[256]; /* name or address to verify */
	struct ssl_ctx_st *tls_ctx;
	struct ssl_st *tls;
	struct bio_method_st *tls_bio; /* our socket BIO (MSG_NOSIGNAL) */
	uint64_t tls_retry_mark; /* mark of the message in out */
	int tls_broken; /* fatal error: no close_notify */
	int tls_shut; /* close_notify sent */
	int tls_cert_requested; /* the collector asked for ours */
	int tls_ticket; /* a TLS 1.3 session ticket came */
	int tls_alert; /* last alert received, -1: none */

	/* kafka: the producer (sink_kafka.c) */
	struct sink_kafka *kafka;
};

/*
 * Resolve s->host (IPv4 or IPv6) and connect a non-blocking, close-on-exec
 * socket of type socktype (SOCK_STREAM or SOCK_DGRAM) to s->port, trying
 * every address, each within s->io_timeout seconds (and the sink's
 * deadline).  Streams get SO_KEEPALIVE.  Waits notice a stop request and
 * tick.  Returns 0 with *fdp set (the caller owns it), ERR_STOPPED, or
 * ERR_SINK with why[] filled.
 */
int sink_tcp_connect(
    struct sink *s, int socktype, int *fdp, char *why, size_t whylen);

/* Free what a finished name lookup left (sink_free()). */
void sink_tcp_forget(struct sink *s);

/*
 * Wait until fd is ready for events, at most until deadline (nap_now_ms()
 * time; also bounded by the sink's own deadline), waking at least every
 * 250 ms to look at the stop flag and tick.  Returns 0 (ready; *revents
 * set when not NULL), ERR_AGAIN (deadline passed) or ERR_STOPPED.
 */
int sink_wait_fd(
    struct sink *s, int fd, short events, int64_t deadline, short *revents);

/*
 * Stream helpers (tcp, tls).  sink_ring_push() records a message ending
 * at stream offset end (0, or ERR_AGAIN when SINK_RING are in flight).
 * sink_ring_ack() takes the messages whose end is at most acked_bytes off
 * the ring and raises s->acked to the last one's mark; with the ring
 * empty, s->acked is the last mark taken.
 */
int sink_ring_push(struct sink *s, uint64_t end, uint64_t mark);
void sink_ring_ack(struct sink *s, uint64_t acked_bytes);
void sink_ring_clear(struct sink *s);

/*
 * Bytes the peer has acknowledged on a stream socket: written minus what
 * the kernel still holds (SIOCOUTQ; a FIN sent counts one).  Returns 0
 * with *acked set, or -1 (errno kept).
 */
int sink_stream_acked(const struct sink *s, uint64_t *acked);

/*
 * Free space of the send queue that a write may use without risking a
 * short write: a quarter of SO_SNDBUF minus what is queued, or half of
 * SO_SNDBUF when the queue is empty.  *empty is set when nothing is
 * queued.  Returns the room in bytes (<= 0: none), or -1 on error.
 */
long sink_stream_room(const struct sink *s, int *empty);

/*
 * Nonzero when the peer of a stream socket closed its end or reset the
 * connection (why filled); bytes it sent are read and discarded.
 */
int sink_stream_peer_closed(struct sink *s, char *why, size_t whylen);

/*
 * Sleep while a stream socket's send queue drains: at most until end
 * (nap_now_ms() time), and less when the collector takes bytes fast.  The kernel has no
 * event for "the send queue shrank", so the wait looks again after a
 * step that follows the drain: halved when the queue was found empty
 * (the nap outlasted the drain and the connection stood idle), doubled
 * when less than half of it went (a slow collector is not woken for
 * every few bytes), between SINK_NAP_MIN_US and SINK_STEP_MS.  A fixed
 * step would cap delivery at one send queue's room per step.  Bytes
 * from the peer end the nap early (its close or reset), and so does room
 * for the rest of a partly written message when partial is set; after
 * our FIN nothing does.  The liveness callback runs after it.
 */
void sink_stream_nap(struct sink *s, int partial, int64_t end);

/* Call the liveness callback. */
void sink_tick(struct sink *s);

#endif
