/* SPDX-License-Identifier: MIT */
/*
 * Tests for the sink and its transports against real loopback sockets
 * opened here: tcp batches and reconnects after the collector closed the
 * connection, udp datagrams (one per message, the max_message_size guard,
 * a port nobody listens on), and tls refusing a listener that does not
 * speak TLS without sending anything but its ClientHello.  TLS against a
 * real TLS collector is in tests/integration/test_transports.py.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "errcode.h"
#include "log.h"
#include "sink.h"

static char loopback[] = "127.0.0.1";
static char app[] = "mdesiemd";

static struct config
cfg(enum config_transport t, int port)
{
	struct config c;

	memset(&c, 0, sizeof(c));
	c.transport = t;
	c.host = loopback;
	c.port = port;
	c.timeout = 2;
	c.max_message_size = 100;
	c.facility = 20;
	c.app_name = app;
	return c;
}

/* A socket bound to 127.0.0.1 on a free port; *port set. */
static int
listener(int type, int *port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, type, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    (type == SOCK_STREAM && listen(fd, 4) != 0) ||
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

static void
test_udp(void)
{
	char big[101], buf[256];
	int port, fd = listener(SOCK_DGRAM, &port);
	struct config c = cfg(TRANSPORT_UDP, port);
	struct sink *s = sink_new(&c, NULL);
	ssize_t n;

	CHECK(fd >= 0 && s != NULL);
	if (fd < 0 || s == NULL)
		return;
	CHECK(sink_write(s, "<165>1 a", 8) == 0);
	CHECK(sink_write(s, "<165>1 bb", 9) == 0);
	CHECK(sink_flush(s) == 0);
	n = recv(fd, buf, sizeof(buf), 0);
	CHECK(n == 8 && memcmp(buf, "<165>1 a", 8) == 0);
	n = recv(fd, buf, sizeof(buf), 0);
	CHECK(n == 9 && memcmp(buf, "<165>1 bb", 9) == 0);

	/* Longer than max_message_size: dropped and counted, never cut. */
	memset(big, 'x', sizeof(big));
	CHECK(sink_write(s, big, sizeof(big)) == 0);
	CHECK(sink_dropped(s) == 1);
	CHECK(
	    recv(fd, buf, sizeof(buf), MSG_DONTWAIT) == -1 && errno == EAGAIN);
	CHECK(sink_write(s, big, 100) == 0);
	CHECK(recv(fd, buf, sizeof(buf), 0) == 100);

	/* Nobody listening: lossy by nature, counted, not an error. */
	close(fd);
	CHECK(sink_write(s, "one", 3) == 0);
	usleep(50000);
	CHECK(sink_write(s, "two", 3) == 0);
	usleep(50000);
	CHECK(sink_write(s, "three", 5) == 0);
	CHECK(sink_dropped(s) >= 2);
	CHECK(sink_reconnects(s) == 0);
	sink_free(s);
}

static void
test_tcp(void)
{
	char buf[256];
	int port, lfd = listener(SOCK_STREAM, &port), cfd;
	struct config c = cfg(TRANSPORT_TCP, port);
	struct sink *s = sink_new(&c, NULL);
	size_t n;

	CHECK(lfd >= 0 && s != NULL);
	if (lfd < 0 || s == NULL)
		return;
	CHECK(sink_write(s, "m1\n", 3) == 0);
	CHECK(sink_write(s, "m2\n", 3) == 0);
	CHECK(sink_flush(s) == 0);
	cfd = accept(lfd, NULL, NULL);
	n = read_for(cfd, buf, sizeof(buf), 500);
	CHECK(n == 6 && memcmp(buf, "m1\nm2\n", 6) == 0);

	/* The collector closes: noticed before writing, then reconnected. */
	close(cfd);
	usleep(50000);
	CHECK(sink_write(s, "m3\n", 3) == 0);
	CHECK(sink_flush(s) == ERR_SINK);
	CHECK(sink_flush(s) == 0);
	CHECK(sink_reconnects(s) == 1);
	cfd = accept(lfd, NULL, NULL);
	n = read_for(cfd, buf, sizeof(buf), 500);
	CHECK(n == 3 && memcmp(buf, "m3\n", 3) == 0);
	close(cfd);
	close(lfd);
	sink_free(s);
}

static void
test_tls_not_tls(void)
{
	char buf[4096];
	int port, lfd = listener(SOCK_STREAM, &port), cfd;
	struct config c = cfg(TRANSPORT_TLS, port);
	struct sink *s = sink_new(&c, NULL);
	size_t n;

	CHECK(lfd >= 0 && s != NULL);
	if (lfd < 0 || s == NULL)
		return;
	CHECK(sink_write(s, "5 CEF:0", 7) == 0);
	/* The listener answers in clear text and closes. */
	if (fork() == 0) {
		cfd = accept(lfd, NULL, NULL);
		n = read_for(cfd, buf, sizeof(buf), 300);
		buf[0] = n > 0 ? buf[0] : 0;
		(void)!write(cfd, "HELLO\n", 6);
		_exit(buf[0] == 0x16 && memmem(buf, n, "CEF:", 4) == NULL ? 0
		                                                          : 1);
	}
	CHECK(sink_flush(s) == ERR_SINK);
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
	log_setup(LOG_TO_STDERR, LOG_LVL_WARNING);
	test_udp();
	test_tcp();
	test_tls_not_tls();
	return check_done();
}
