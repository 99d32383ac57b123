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
#include <time.h>

#include "buf.h"
#include "sink.h"

#define SINK_BATCH_MAX (256 * 1024)
#define SINK_WHY_MAX 512	/* the reason in "collector ... unavailable" */

struct ssl_ctx_st;
struct ssl_st;

struct sink {
	const struct sink_ops *ops;
	char host[256];
	int port;
	char where[272];		/* "host:port" for log lines */
	int fd;				/* -1 when closed */
	int connected;			/* open() succeeded, close() not yet */
	long io_timeout;		/* seconds for connect and send */
	const volatile sig_atomic_t *stop;
	struct buf batch;		/* framed messages not yet written */
	struct buf lens;		/* per_message: size_t length of each */
	unsigned long reconnects;
	unsigned long dropped;		/* discarded by the transport */
	unsigned long down_since_msgs;
	int down;			/* collector unreachable */
	int wait;			/* wait out the backoff in flush */
	struct timespec down_since;
	struct timespec next_try;	/* backoff: no attempt before this */
	long backoff_ms;
	unsigned int rnd;

	/* udp */
	size_t max_message;		/* longest datagram sent */
	int refused;			/* a refusal was logged */

	/* local */
	int facility;			/* 0..23 */
	char ident[49];			/* openlog() keeps this pointer */
	int log_opened;

	/* tls: copies of the configuration, and one connection */
	char *tls_ca_file;		/* NULL: the system store */
	char *tls_cert_file;		/* NULL: no client certificate */
	char *tls_key_file;
	char tls_name[256];		/* name or address to verify */
	struct ssl_ctx_st *tls_ctx;
	struct ssl_st *tls;
	int tls_broken;			/* fatal error: no close_notify */
	int tls_cert_requested;		/* the collector asked for ours */
	int tls_ticket;			/* a TLS 1.3 session ticket came */
	int tls_alert;			/* last alert received, -1: none */
};

/*
 * Resolve s->host (IPv4 or IPv6) and connect a socket of type socktype
 * (SOCK_STREAM or SOCK_DGRAM) to s->port, trying every address, each
 * within s->io_timeout seconds.  The socket is blocking, close-on-exec,
 * with SO_SNDTIMEO set to s->io_timeout (and SO_KEEPALIVE for streams).
 * Returns 0 with *fdp set (the caller owns it), or ERR_SINK with why[]
 * filled.
 */
int sink_tcp_connect(struct sink *s, int socktype, int *fdp, char *why,
    size_t whylen);

#endif
