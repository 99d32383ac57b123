/* SPDX-License-Identifier: MIT */
/*
 * Plain TCP transport to the collector (ArcSight SmartConnector "Syslog
 * Daemon" over TCP, QRadar, rsyslog, syslog-ng).  Connects with a timeout,
 * notices a collector that closed the connection before writing into it,
 * and never raises SIGPIPE.  sink_tcp_connect() is shared with the TLS and
 * UDP transports.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "errcode.h"
#include "sink_impl.h"

static int
connect_timeout(int fd, const struct sockaddr *sa, socklen_t len, long secs)
{
	struct pollfd pfd = {fd, POLLOUT, 0};
	int flags = fcntl(fd, F_GETFL), err = 0, rc;
	socklen_t elen = sizeof(err);

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -1;
	if (connect(fd, sa, len) != 0) {
		if (errno != EINPROGRESS)
			return -1;
		do {
			rc = poll(&pfd, 1, (int)(secs * 1000));
		} while (rc < 0 && errno == EINTR);
		if (rc == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (rc < 0 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0)
			return -1;
		if (err != 0) {
			errno = err;
			return -1;
		}
	}
	return fcntl(fd, F_SETFL, flags);
}

int
sink_tcp_connect(
    struct sink *s, int socktype, int *fdp, char *why, size_t whylen)
{
	struct addrinfo hints, *res = NULL, *ai;
	char port[16];
	int fd = -1, rc, one = 1;
	struct timeval tv = {s->io_timeout, 0};

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = socktype;
	snprintf(port, sizeof(port), "%d", s->port);
	if ((rc = getaddrinfo(s->host, port, &hints, &res)) != 0) {
		snprintf(why, whylen, "cannot resolve %s: %s", s->host,
		    gai_strerror(rc));
		return ERR_SINK;
	}
	snprintf(why, whylen, "no usable address for %s", s->host);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect_timeout(
		        fd, ai->ai_addr, ai->ai_addrlen, s->io_timeout) == 0)
			break;
		snprintf(why, whylen, "%s", strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return ERR_SINK;
	if (socktype == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	*fdp = fd;
	return 0;
}

static int
tcp_open(struct sink *s, char *why, size_t whylen)
{
	return sink_tcp_connect(s, SOCK_STREAM, &s->fd, why, whylen);
}

/* Nonzero when the collector has closed its end (EOF or reset pending). */
static int
peer_closed(int fd)
{
	struct pollfd pfd = {fd, POLLIN | POLLRDHUP, 0};
	char c;

	if (poll(&pfd, 1, 0) <= 0)
		return 0;
	if (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR))
		return 1;
	if (pfd.revents & POLLIN)
		return recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
	return 0;
}

static int
tcp_write(
    struct sink *s, const char *data, size_t len, char *why, size_t whylen)
{
	if (peer_closed(s->fd)) {
		snprintf(why, whylen, "connection closed by the collector");
		return ERR_SINK;
	}
	while (len > 0) {
		ssize_t n = send(s->fd, data, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			snprintf(why, whylen, "send failed: %s",
			    errno == EAGAIN ? "timed out" : strerror(errno));
			return ERR_SINK;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
tcp_close(struct sink *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

const struct sink_ops sink_tcp_ops = {
    .name = "tcp",
    .open = tcp_open,
    .write = tcp_write,
    .close = tcp_close,
    .per_message = 0,
};
