/* SPDX-License-Identifier: MIT */
/*
 * State shared by sink.c and the transport modules (sink_tcp.c, ...).
 * Not part of the public interface (include/sink.h).
 */
#ifndef SINK_IMPL_H
#define SINK_IMPL_H

#include <signal.h>
#include <time.h>

#include "buf.h"
#include "sink.h"

#define SINK_BATCH_MAX (256 * 1024)

struct sink {
	const struct sink_ops *ops;
	char host[256];
	int port;
	int fd;				/* -1 when closed */
	long io_timeout;		/* seconds for connect and send */
	const volatile sig_atomic_t *stop;
	struct buf batch;		/* framed messages not yet written */
	unsigned long reconnects;
	unsigned long down_since_msgs;
	int down;			/* collector unreachable */
	struct timespec down_since;
	struct timespec next_try;	/* backoff: no attempt before this */
	long backoff_ms;
	unsigned int rnd;
};

#endif
