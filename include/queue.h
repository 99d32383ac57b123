/* SPDX-License-Identifier: MIT */
/*
 * The output queue: one durable spool (spool.c), one sink (sink.c) to one
 * collector, the framing of the messages for that transport (frame.c), and
 * the spool's read position.  Fetching appends to the spool and commits
 * (through queue_spool()); the queue delivers in order.
 *
 * Delivery is acknowledged: each message handed to the sink gets a mark;
 * the queue keeps the spool position of every message in flight, and the
 * persisted read position moves only over messages the sink reports as
 * acknowledged (tcp/tls: the collector's kernel acknowledged the bytes).
 * When the connection breaks, the reader goes back to the last
 * acknowledged message and everything after it is sent again.  So after a
 * broken connection a message is sent again only when it was not
 * acknowledged; after a crash, at most QUEUE_INFLIGHT_MAX messages in
 * flight (QUEUE_KAFKA_INFLIGHT_MAX for Kafka) plus QUEUE_SAVE_EVERY
 * acknowledged since the last save.  A clean
 * stop (queue_finish()) shuts the connection down, waits for the last
 * acknowledgement and saves the exact position.
 *
 * All state lives in struct queue: tenants that share an output share one
 * queue (a lock around these calls is all that sharing across threads
 * needs).
 */
#ifndef QUEUE_H
#define QUEUE_H

#include <signal.h>
#include <stdint.h>
#include <time.h>

#include "spool.h"

struct config;
struct queue;
struct spool;
struct spool_recovery;

/* Messages in flight (handed to the sink, not acknowledged), at most. */
#define QUEUE_INFLIGHT_MAX 256
/* Their spool bytes, at most. */
#define QUEUE_INFLIGHT_BYTES (256U * 1024)
/*
 * The same for Kafka, whose acknowledgements come a batch at a time (a
 * linger, a produce round trip): a window of 256 messages leaves the
 * producer idle between batches, one of 1024 keeps the next batch filling
 * while the last is in flight.
 */
#define QUEUE_KAFKA_INFLIGHT_MAX 1024
#define QUEUE_KAFKA_INFLIGHT_BYTES (2048U * 1024)
/* The read position is saved at least every this many acknowledged. */
#define QUEUE_SAVE_EVERY 128

/* Totals since queue_new(), and the state now. */
struct queue_stats {
	uint64_t delivered; /* acknowledged by the collector */
	uint64_t dropped; /* not delivered and never sent again */
	uint64_t resent; /* sent again: not acknowledged when it broke */
	uint64_t in_flight; /* sent, not acknowledged yet */
	uint64_t pending_bytes; /* spool bytes not acknowledged yet */
	unsigned long reconnects; /* times the collector came back */
	int collector_up;
	char collector_error[512]; /* why it is down (sink_down_why()) */
	time_t last_delivery_ok; /* when everything was last delivered */
	/* Kafka: the producer's delivery reports (sink_kafka.h) */
	int kafka; /* the output is Kafka */
	uint64_t kafka_acked; /* successful delivery reports */
	uint64_t kafka_failed; /* refused by a broker for good: skipped */
	struct spool_damage damage; /* what the spool found damaged */
};

/*
 * The queue of configuration c (borrowed for this call only) on the spool
 * in dir/spool, opened and recovered (rec as for spool_open()).  stop, when
 * not NULL, interrupts waits and connecting.  Returns NULL with err filled.
 */
struct queue *queue_new(const struct config *c, const char *dir,
    const volatile sig_atomic_t *stop, struct spool_recovery *rec, char *err,
    size_t errlen);

/* Close the connection (without waiting) and the spool. */
void queue_free(struct queue *q);

/*
 * The spool, for appending and committing (spool_append(), spool_commit(),
 * spool_abort()) and for its size; the queue alone reads it.
 */
struct spool *queue_spool(struct queue *q);

/*
 * Hold the spool while appending and committing from another thread than
 * the queue's (tenants that share the queue): the queue's own use of the
 * spool waits meanwhile.  Not recursive: no queue_* call while held.
 */
void queue_lock(struct queue *q);

/*
 * How the queue waits when it has nothing to send, or for a reconnect:
 * by default nap_ms(), which a signal ends early; a queue driven by a
 * thread of its own is woken by whoever gives it work, through fn(arg,
 * ms), which returns after ms or sooner.
 */
void queue_set_waiter(
    struct queue *q, void (*fn)(void *arg, long ms), void *arg);
void queue_unlock(struct queue *q);

/*
 * Call fn(arg) at least every every_ms (at most 1000) while waiting or
 * connecting: the systemd watchdog ping.
 */
void queue_set_tick(
    struct queue *q, void (*fn)(void *), void *arg, long every_ms);

/*
 * Deliver.  wait_ms <= 0: send what can be sent now and collect
 * acknowledgements, without waiting for room, acknowledgements or the
 * reconnect backoff (connecting when due still takes up to [source]
 * timeout, noticing a stop).  wait_ms > 0: keep going, waiting as needed,
 * for at most wait_ms.  Returns 0 when everything committed is delivered
 * and acknowledged, ERR_AGAIN when messages still wait for room or
 * acknowledgement, ERR_SINK while the collector is unreachable,
 * ERR_STOPPED on a stop request, ERR_IO (logged) on spool errors.
 */
int queue_drain(struct queue *q, long wait_ms);

/*
 * Spend ms delivering whenever possible and sleeping otherwise.  Returns
 * 0, or ERR_STOPPED early when *wake becomes nonzero (wake may be NULL).
 */
int queue_idle(struct queue *q, long ms, const volatile sig_atomic_t *wake);

/*
 * Clean stop, within grace_ms (a stop request does not cut it short):
 * deliver what the spool holds, shut the connection's write side down,
 * wait until the collector acknowledged everything sent, and save the
 * exact read position.  What was not acknowledged is sent again at the
 * next start.  Returns queue_drain()'s codes (0: nothing left).  The queue
 * stays usable (it reconnects on demand).
 */
int queue_finish(struct queue *q, long grace_ms);

/*
 * Stop handing messages over: shut the connection's write side down, wait
 * at most ms until what is in flight is acknowledged, close, and save the
 * exact read position (what was not acknowledged is read again).  For a
 * reload: nothing new is sent, and nothing acknowledged is sent twice.
 * Returns 0 (all acknowledged), ERR_AGAIN, ERR_SINK or ERR_IO.
 */
int queue_settle(struct queue *q, long ms);

/*
 * With everything delivered and acknowledged, move the spool to a fresh
 * segment so that a full disk gets its space back (spool_compact()).
 * Returns 0 (also when not everything is delivered yet) or ERR_IO.
 */
int queue_compact(struct queue *q);

/* Spool bytes not acknowledged by the collector yet (in flight too). */
uint64_t queue_pending_bytes(struct queue *q);

/*
 * Messages of tenant tenant_id (compared without case) the collector
 * acknowledged since queue_new(): counted when the acknowledged position
 * passes them, attributed by the COMMIT after them (its owner).  Not
 * persisted: after a restart the count begins at 0, and messages sent
 * again after a crash (see above) count again.  Messages of COMMITs
 * written before owners were named count for no tenant; for UDP, a
 * message counts when handed to the kernel.
 */
uint64_t queue_tenant_delivered(struct queue *q, const char *tenant_id);

/* Fill *st. */
void queue_get_stats(struct queue *q, struct queue_stats *st);

#endif
