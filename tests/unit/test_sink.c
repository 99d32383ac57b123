/* SPDX-License-Identifier: MIT */
/*
 * Tests for the sink and its transports against real loopback sockets
 * opened here: udp datagrams (one per message, the max_message_size
 * guard, a port nobody listens on counted as lost); tcp acknowledgement
 * (a message counts only once the peer's kernel acknowledged it; a peer
 * that does not read holds the rest back), whole messages only on the
 * wire when the sink is closed abruptly under backpressure, the clean
 * drain, a collector that closes the connection, and a stop request
 * during a connect that hangs; tls refusing a listener that does not
 * speak TLS without sending anything but its ClientHello.  TLS against a
 * real TLS collector is in tests/integration/test_transports.py.  The
 * nap of a wait for acknowledgements is looked at from the inside
 * (sink_impl.h): it follows how fast the peer's kernel takes the bytes.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "errcode.h"
#include "nap.h"
#include "log.h"
#include "sink.h"
#include "../../src/sink_impl.h"

/* A check that prints both values when they differ. */
#define CHECK_INT_EQ(got, want) \
	do { \
		long long g_ = (got), w_ = (want); \
		CHECK(g_ == w_); \
		if (g_ != w_) \
			fprintf(stderr, "  %s: got %lld, want %lld\n", #got, \
			    g_, w_); \
	} while (0)

static char loopback[] = "127.0.0.1";
static char app[] = "mdesiemd";
static uint64_t next_mark = 1;
static volatile sig_atomic_t stop_flag;

static struct config
cfg(enum config_transport t, int port)
{
	struct config c;

	memset(&c, 0, sizeof(c));
	c.transport = t;
	c.host = loopback;
	c.port = port;
	c.timeout = 30;
	c.max_message_size = 100;
	c.facility = 20;
	c.app_name = app;
	return c;
}

/* A socket bound to 127.0.0.1 on a free port; *port set. */
static int
listener(int type, int *port, int rcvbuf, int backlog)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, type, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    (type == SOCK_STREAM && listen(fd, backlog) != 0) ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
		return -1;
	*port = ntohs(sa.sin_port);
	return fd;
}

/* Read what arrives on fd within ms; returns the byte count. */
static size_t
read_for(int fd, char *dst, size_t cap, int ms)
{
	struct pollfd pfd = {fd, POLLIN, 0};
	size_t got = 0;
	ssize_t n;

	while (got < cap && poll(&pfd, 1, ms) == 1) {
		if ((n = recv(fd, dst + got, cap - got, 0)) <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

static int
send_str(struct sink *s, const char *str, uint64_t *mark)
{
	struct sink_msg m;

	memset(&m, 0, sizeof(m));
	m.data = str;
	m.len = strlen(str);
	m.sev = 5;
	m.mark = next_mark;
	*mark = next_mark++;
	return sink_send(s, &m);
}

/* Poll until everything up to want is acknowledged or ms pass. */
static uint64_t
acked_within(struct sink *s, uint64_t want, int ms)
{
	long long end = nap_now_ms() + ms;
	uint64_t acked = 0;

	while (
	    sink_poll(s, 50, &acked) == 0 && acked < want && nap_now_ms() < end)
		;
	return acked;
}

static void
test_udp(void)
{
	char big[101], buf[256];
	int port, fd = listener(SOCK_DGRAM, &port, 0, 0);
	struct config c = cfg(TRANSPORT_UDP, port);
	struct sink *s = sink_new(&c, NULL);
	uint64_t m1, m2, acked;
	ssize_t n;

	CHECK(fd >= 0 && s != NULL);
	if (fd < 0 || s == NULL)
		return;
	CHECK(send_str(s, "<165>1 a", &m1) == 0);
	CHECK(send_str(s, "<165>1 bb", &m2) == 0);
	CHECK(sink_poll(s, 0, &acked) == 0);
	CHECK_INT_EQ(acked, m2);
	n = recv(fd, buf, sizeof(buf), 0);
	CHECK(n == 8 && memcmp(buf, "<165>1 a", 8) == 0);
	n = recv(fd, buf, sizeof(buf), 0);
	CHECK(n == 9 && memcmp(buf, "<165>1 bb", 9) == 0);

	/* Longer than max_message_size: dropped (ERR_BADREC), never cut. */
	memset(big, 'x', sizeof(big) - 1);
	big[100] = '\0';
	CHECK(send_str(s, big, &m1) == 0);
	CHECK(recv(fd, buf, sizeof(buf), 0) == 100);
	big[99] = 'y';
	{
		char more[102];

		snprintf(more, sizeof(more), "%sz", big);
		CHECK(send_str(s, more, &m1) == ERR_BADREC);
	}
	CHECK(
	    recv(fd, buf, sizeof(buf), MSG_DONTWAIT) == -1 && errno == EAGAIN);

	/* Nobody listening: lossy by nature, counted as lost. */
	close(fd);
	CHECK(send_str(s, "one", &m1) == 0);
	usleep(50000);
	CHECK(send_str(s, "two", &m1) == 0);
	usleep(50000);
	CHECK(send_str(s, "three", &m1) == 0);
	usleep(50000);
	CHECK(sink_poll(s, 0, &acked) == 0);
	CHECK(sink_lost(s) >= 2);
	CHECK(sink_reconnects(s) == 0);
	sink_free(s);
}

static void
test_tcp_acked(void)
{
	char buf[4096];
	int port, lfd = listener(SOCK_STREAM, &port, 0, 4), cfd;
	struct config c = cfg(TRANSPORT_TCP, port);
	struct sink *s = sink_new(&c, NULL);
	uint64_t m1, m2, m3, acked;
	size_t n;

	CHECK(lfd >= 0 && s != NULL);
	if (lfd < 0 || s == NULL)
		return;
	CHECK(send_str(s, "m1\n", &m1) == 0);
	CHECK(send_str(s, "m2\n", &m2) == 0);
	cfd = accept(lfd, NULL, NULL);
	CHECK_INT_EQ(acked_within(s, m2, 5000), m2);
	n = read_for(cfd, buf, sizeof(buf), 500);
	CHECK(n == 6 && memcmp(buf, "m1\nm2\n", 6) == 0);

	/* The collector closes: the sink says so, then reconnects. */
	close(cfd);
	{
		long long end = nap_now_ms() + 5000;
		int rc;

		while (
		    (rc = sink_poll(s, 50, &acked)) == 0 && nap_now_ms() < end)
			;
		CHECK(rc == ERR_SINK);
	}
	CHECK(sink_is_down(s));
	CHECK(sink_retry_in_ms(s) > 0);
	CHECK(send_str(s, "m3\n", &m3) == ERR_SINK);
	usleep((useconds_t)(sink_retry_in_ms(s) + 20) * 1000);
	CHECK(send_str(s, "m3\n", &m3) == 0);
	CHECK(sink_reconnects(s) == 1);
	cfd = accept(lfd, NULL, NULL);
	CHECK_INT_EQ(acked_within(s, m3, 5000), m3);
	n = read_for(cfd, buf, sizeof(buf), 500);
	CHECK(n == 3 && memcmp(buf, "m3\n", 3) == 0);

	/* A clean drain: everything acknowledged, then end of stream. */
	CHECK(send_str(s, "m4\n", &m1) == 0);
	CHECK(send_str(s, "m5\n", &m2) == 0);
	CHECK(sink_drain(s, 5000, &acked) == 0);
	CHECK_INT_EQ(acked, m2);
	n = read_for(cfd, buf, sizeof(buf), 500);
	CHECK(n == 6 && memcmp(buf, "m4\nm5\n", 6) == 0);
	CHECK(recv(cfd, buf, sizeof(buf), 0) == 0);
	close(cfd);
	close(lfd);
	sink_free(s);
}

/*
 * A peer with a small receive buffer that does not read: what it has not
 * acknowledged is not reported, the sink says "no room" instead of
 * blocking, and closing the sink then (as a kill would) puts only whole
 * messages on the wire.
 */
static void
test_tcp_backpressure(void)
{
	static char buf[8 << 20];
	char msg[300];
	int port, lfd = listener(SOCK_STREAM, &port, 4096, 4), cfd, rc = 0;
	struct config c = cfg(TRANSPORT_TCP, port);
	struct sink *s = sink_new(&c, NULL);
	uint64_t mark = 0, acked = 0, taken = 0;
	size_t n, i, lines = 0, count = 0;
	int whole = 1, tries;

	CHECK(lfd >= 0 && s != NULL);
	if (lfd < 0 || s == NULL)
		return;
	for (i = 0; i < 100000 && rc == 0; i++) {
		snprintf(msg, sizeof(msg), "%06zu %0*d\n", i, 250, 0);
		/* Room may come as the kernel moves data on: look again. */
		for (tries = 0; tries < 3; tries++) {
			if ((rc = send_str(s, msg, &mark)) != ERR_AGAIN)
				break;
			next_mark--; /* not taken: the mark is free again */
			sink_poll(s, 100, &acked);
		}
		if (rc == 0) {
			taken = mark;
			count++;
		}
	}
	CHECK_INT_EQ(rc, ERR_AGAIN);
	cfd = accept(lfd, NULL, NULL);
	CHECK(sink_poll(s, 200, &acked) == 0);
	CHECK(acked < taken);
	sink_free(s);
	n = read_for(cfd, buf, sizeof(buf), 1000);
	for (i = 0; i < n; i += 258) {
		if (n - i < 258 || buf[i + 257] != '\n' || buf[i + 6] != ' ')
			whole = 0;
		lines++;
	}
	CHECK(n > 0 && whole);
	CHECK(lines <= count);
	close(cfd);
	close(lfd);
}

/* Read fd until the peer closes it. */
static void *
drain_peer(void *arg)
{
	static char scratch[1 << 16];
	int fd = *(int *)arg;

	while (recv(fd, scratch, sizeof(scratch), 0) > 0)
		;
	return NULL;
}

/* Queue bytes on fd until the kernel takes no more (or max). */
static void
fill(int fd, size_t max)
{
	static char chunk[4096];
	size_t sent = 0;
	ssize_t n;

	memset(chunk, 'x', sizeof(chunk));
	while (sent < max &&
	    (n = send(fd, chunk, sizeof(chunk), MSG_DONTWAIT | MSG_NOSIGNAL)) >
	        0)
		sent += (size_t)n;
}

/*
 * While a peer that does not read holds the send queue still, the nap
 * grows to SINK_STEP_MS and no further; once the peer reads and the
 * queue empties within a nap, it shrinks, never below SINK_NAP_MIN_US.
 * A fixed step would cap delivery at one queue's room per step.
 */
static void
test_stream_nap(void)
{
	int port, lfd = listener(SOCK_STREAM, &port, 4096, 4), cfd = -1, i;
	struct config c = cfg(TRANSPORT_TCP, port);
	struct sink *s = sink_new(&c, NULL);
	pthread_t reader;
	uint64_t mark;
	long grown;
	int reading;

	CHECK(lfd >= 0 && s != NULL);
	if (lfd < 0 || s == NULL)
		return;
	CHECK(send_str(s, "m\n", &mark) == 0);
	fill(s->fd, (size_t)64 << 20);
	CHECK_INT_EQ(s->nap_us, 0);
	for (i = 0; i < 8; i++)
		sink_stream_nap(s, 0, nap_now_ms() + SINK_STEP_MS);
	CHECK_INT_EQ(s->nap_us, SINK_STEP_MS * 1000L);
	grown = s->nap_us;
	/* A deadline closer than the step shortens the nap, not the step. */
	sink_stream_nap(s, 0, nap_now_ms() + 1);
	CHECK_INT_EQ(s->nap_us, grown);

	cfd = accept(lfd, NULL, NULL);
	reading =
	    cfd >= 0 && pthread_create(&reader, NULL, drain_peer, &cfd) == 0;
	CHECK(reading);
	for (i = 0; reading && i < 500 && s->nap_us >= grown; i++) {
		fill(s->fd, 32 << 10);
		sink_stream_nap(s, 0, nap_now_ms() + SINK_STEP_MS);
	}
	CHECK(s->nap_us < grown);
	/* However fast the peer, never below the shortest nap. */
	for (i = 0; reading && i < 50; i++) {
		fill(s->fd, 4 << 10);
		sink_stream_nap(s, 0, nap_now_ms() + SINK_STEP_MS);
		CHECK(s->nap_us >= SINK_NAP_MIN_US);
	}
	sink_free(s);
	if (reading)
		pthread_join(reader, NULL);
	if (cfd >= 0)
		close(cfd);
	close(lfd);
}

static void
on_alarm(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* A connect that hangs (the listener's queue is full) ends at a stop. */
static void
test_stop_during_connect(void)
{
	struct itimerval it = {{0, 0}, {0, 300000}};
	struct sigaction sa;
	struct sockaddr_in sin;
	int port, lfd = listener(SOCK_STREAM, &port, 0, 0), filler;
	struct config c = cfg(TRANSPORT_TCP, port);
	struct sink *s = sink_new(&c, &stop_flag);
	uint64_t mark;
	long long t0;
	int rc;

	CHECK(lfd >= 0 && s != NULL);
	if (lfd < 0 || s == NULL)
		return;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	filler = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(connect(filler, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	stop_flag = 0;
	setitimer(ITIMER_REAL, &it, NULL);
	t0 = nap_now_ms();
	rc = send_str(s, "m\n", &mark);
	CHECK_INT_EQ(rc, ERR_STOPPED);
	/* [source] timeout is 30 s: the stop ended the wait, not it. */
	CHECK(nap_now_ms() - t0 < 10000);
	CHECK(!sink_is_down(s));
	sink_free(s);
	close(filler);
	close(lfd);
}

static void
test_tls_not_tls(void)
{
	char buf[4096];
	int port, lfd = listener(SOCK_STREAM, &port, 0, 4), cfd;
	struct config c = cfg(TRANSPORT_TLS, port);
	struct sink *s;
	uint64_t mark;
	size_t n;

	c.timeout = 2;
	s = sink_new(&c, NULL);
	CHECK(lfd >= 0 && s != NULL);
	if (lfd < 0 || s == NULL)
		return;
	/* The listener answers in clear text and closes. */
	if (fork() == 0) {
		cfd = accept(lfd, NULL, NULL);
		n = read_for(cfd, buf, sizeof(buf), 300);
		buf[0] = n > 0 ? buf[0] : 0;
		(void)!write(cfd, "HELLO\n", 6);
		_exit(buf[0] == 0x16 && memmem(buf, n, "CEF:", 4) == NULL ? 0
		                                                          : 1);
	}
	CHECK(send_str(s, "5 CEF:0", &mark) == ERR_SINK);
	{
		int status = -1;

		wait(&status);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	close(lfd);
	sink_free(s);
}

int
main(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	log_setup(LOG_TO_STDERR, LOG_LVL_ERROR);
	test_udp();
	test_tcp_acked();
	test_tcp_backpressure();
	test_stream_nap();
	test_stop_during_connect();
	test_tls_not_tls();
	return check_done();
}
