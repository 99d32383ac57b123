/* SPDX-License-Identifier: MIT */
/*
 * The output queue (src/queue.c) over a real spool in a temporary
 * directory and real loopback collectors opened here: everything
 * delivered in order and the exact position saved by a clean stop (a
 * reopened queue sends nothing again); a collector that resets the
 * connection with bytes unread gets everything it did not acknowledge
 * again on the next connection, and nothing it acknowledged; udp
 * datagrams refused by a port nobody listens on count as dropped, not
 * delivered.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "check.h"
#include "config.h"
#include "errcode.h"
#include "log.h"
#include "queue.h"
#include "spool.h"

#define MSG_LEN 200 /* "NNNNNN xxx...x" and LF on the wire */

static char dir[64];
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
	c.timeout = 10;
	c.max_message_size = 8192;
	c.facility = 20;
	c.app_name = app;
	c.header = HEADER_NONE;
	c.framing = FRAMING_LF;
	return c;
}

static int
listener(int type, int *port, int rcvbuf)
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
	    (type == SOCK_STREAM && listen(fd, 4) != 0) ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
		return -1;
	*port = ntohs(sa.sin_port);
	return fd;
}

/* A fresh state directory for each case. */
static void
new_dir(void)
{
	char cmd[128];

	if (dir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", dir);
	}
	snprintf(dir, sizeof(dir), "/tmp/mdesiem-queue-XXXXXX");
	if (mkdtemp(dir) == NULL)
		dir[0] = '\0';
}

static struct queue *
open_queue(const struct config *c)
{
	struct spool_recovery rec;
	struct buf last;
	struct queue *q;
	char err[256];

	buf_init(&last, 0);
	rec.last_commit = &last;
	q = queue_new(c, dir, NULL, &rec, err, sizeof(err));
	if (q == NULL)
		fprintf(stderr, "queue_new: %s\n", err);
	buf_reset(&last);
	return q;
}

/* Append messages first..first+n-1 as one committed page. */
static int
append(struct queue *q, int first, int n)
{
	struct spool *sp = queue_spool(q);
	char msg[MSG_LEN + 16];
	struct buf commit;
	int i, rc = 0;

	buf_init(&commit, 0);
	for (i = first; rc == 0 && i < first + n; i++) {
		snprintf(msg, sizeof(msg), "%06d %0*d", i, MSG_LEN - 8, 0);
		rc = spool_append(sp, 5, msg, MSG_LEN - 1);
	}
	if (rc == 0 && (rc = spool_commit_begin(&commit, 1, 0, NULL)) == 0)
		rc = spool_commit(sp, commit.data, commit.len);
	buf_reset(&commit);
	return rc;
}

/* Read from fd until ms pass quietly; returns the byte count. */
static size_t
read_quiet(int fd, char *dst, size_t cap, int ms)
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

/* The index of the message at p (its first 6 digits). */
static int
index_at(const char *p)
{
	return (int)strtol(p, NULL, 10);
}

/* n bytes of whole messages numbered from first on?  1 or 0. */
static int
in_order(const char *b, size_t n, int first)
{
	size_t i;

	if (n % MSG_LEN != 0)
		return 0;
	for (i = 0; i < n; i += MSG_LEN) {
		if (index_at(b + i) != first++ || b[i + MSG_LEN - 1] != '\n')
			return 0;
	}
	return 1;
}

static void
test_deliver_and_finish(void)
{
	static char buf[1 << 20];
	int port, lfd = listener(SOCK_STREAM, &port, 0), cfd;
	struct config c = cfg(TRANSPORT_TCP, port);
	struct queue *q = open_queue(&c);
	struct queue_stats st;
	size_t n;

	CHECK(lfd >= 0 && q != NULL);
	if (lfd < 0 || q == NULL)
		return;
	/* Within what the collector's kernel takes before it reads. */
	CHECK(append(q, 0, 200) == 0);
	CHECK(queue_drain(q, 0) != ERR_IO);
	cfd = accept(lfd, NULL, NULL);
	CHECK(queue_drain(q, 5000) == 0);
	CHECK(queue_pending_bytes(q) == 0);
	CHECK(append(q, 200, 10) == 0);
	CHECK(queue_finish(q, 5000) == 0);
	queue_get_stats(q, &st);
	CHECK(st.delivered == 210 && st.dropped == 0 && st.in_flight == 0);
	n = read_quiet(cfd, buf, sizeof(buf), 500);
	CHECK(n == 210 * MSG_LEN && in_order(buf, n, 0));
	/* The clean stop shut the connection down after the last message. */
	CHECK(recv(cfd, buf, sizeof(buf), 0) == 0);
	close(cfd);
	queue_free(q);

	/* Reopened: the exact position was saved, nothing is sent again. */
	q = open_queue(&c);
	CHECK(q != NULL && queue_pending_bytes(q) == 0);
	CHECK(q != NULL && queue_drain(q, 0) == 0);
	queue_free(q);
	close(lfd);
}

/*
 * A child process accepts one connection on lfd and copies what it
 * receives to path until the end of the stream.  Returns its pid.
 */
static pid_t
reader(int lfd, const char *path)
{
	char chunk[65536];
	pid_t pid = fork();
	FILE *f;
	ssize_t n;
	int cfd;

	if (pid != 0)
		return pid;
	cfd = accept(lfd, NULL, NULL);
	if ((f = fopen(path, "wb")) == NULL)
		_exit(1);
	while ((n = recv(cfd, chunk, sizeof(chunk), 0)) > 0)
		fwrite(chunk, 1, (size_t)n, f);
	fclose(f);
	_exit(0);
}

static size_t
slurp(const char *path, char *dst, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL)
		return 0;
	n = fread(dst, 1, cap, f);
	fclose(f);
	return n;
}

/*
 * The collector stops reading with a small receive buffer, then resets:
 * the next connection starts right after what its kernel acknowledged.
 */
static void
test_reset_resends_unacked(void)
{
	static char buf[4 << 20];
	struct linger lin = {1, 0};
	int port, lfd = listener(SOCK_STREAM, &port, 4096), cfd, first;
	struct config c = cfg(TRANSPORT_TCP, port);
	struct queue *q = open_queue(&c);
	struct queue_stats st;
	char path[128];
	size_t held, n;
	pid_t pid;
	int i, status = -1;

	CHECK(lfd >= 0 && q != NULL);
	if (lfd < 0 || q == NULL)
		return;
	CHECK(append(q, 2000, 3000) == 0);
	CHECK(queue_drain(q, 0) != ERR_IO);
	cfd = accept(lfd, NULL, NULL);
	for (i = 0; i < 20; i++)
		CHECK(queue_drain(q, 50) == ERR_AGAIN);
	queue_get_stats(q, &st);
	CHECK(st.in_flight > 0);
	/* What the collector's kernel holds, unread: lost with the reset. */
	held = recv(cfd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT) > 0
	    ? (size_t)recv(cfd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT)
	    : 0;
	CHECK(held > 0 && held < 1000 * MSG_LEN);
	setsockopt(cfd, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
	close(cfd);
	snprintf(path, sizeof(path), "%s/second.bin", dir);
	pid = reader(lfd, path);
	CHECK(queue_finish(q, 20000) == 0);
	waitpid(pid, &status, 0);
	queue_get_stats(q, &st);
	CHECK(st.resent > 0);
	CHECK(st.delivered >= 3000 - held / MSG_LEN);
	n = slurp(path, buf, sizeof(buf));
	first = n > 0 ? index_at(buf) : -1;
	/* Nothing the first connection did not hold is missing... */
	CHECK(first >= 2000 && first <= 2000 + (int)(held / MSG_LEN));
	/* ...and the rest came whole and in order. */
	CHECK(in_order(buf, n, first) && first + (int)(n / MSG_LEN) == 5000);
	queue_free(q);
	close(lfd);
}

static void
test_udp_refused_is_dropped(void)
{
	int port, fd = listener(SOCK_DGRAM, &port, 0);
	struct config c = cfg(TRANSPORT_UDP, port);
	struct queue *q;
	struct queue_stats st;
	int i;

	c.framing = FRAMING_LF;
	close(fd); /* nobody listens there now */
	q = open_queue(&c);
	CHECK(q != NULL);
	if (q == NULL)
		return;
	for (i = 0; i < 20; i++) {
		CHECK(append(q, 6000 + i, 1) == 0);
		CHECK(queue_drain(q, 1000) == 0);
		usleep(20000);
	}
	queue_finish(q, 1000);
	queue_get_stats(q, &st);
	CHECK(st.dropped >= 10);
	CHECK(st.delivered + st.dropped == 20);
	queue_free(q);
}

int
main(void)
{
	struct sigaction sa;
	char cmd[128];
	int rc;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	log_setup(LOG_TO_STDERR, LOG_LVL_ERROR);
	new_dir();
	test_deliver_and_finish();
	new_dir();
	test_reset_resends_unacked();
	new_dir();
	test_udp_refused_is_dropped();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	rc = system(cmd);
	(void)rc;
	return check_done();
}
