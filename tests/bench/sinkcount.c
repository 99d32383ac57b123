/* SPDX-License-Identifier: MIT */
/*
 * sinkcount: the collector of the benchmarks.  Accepts TCP connections on
 * loopback and counts the bytes and the LF-terminated lines they carry,
 * nothing else, so that it costs far less than the sender it measures.
 * On SIGTERM it takes the connections still waiting in the backlog, reads
 * every open connection to its end (senders have closed them by then) and
 * prints "bytes lines connections" on stdout.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 64
#define RBUF (256 * 1024)
#define DRAIN_SECONDS 30

static volatile sig_atomic_t term;

static void
on_term(int sig)
{
	(void)sig;
	term = 1;
}

static void
die(const char *what)
{
	fprintf(stderr, "sinkcount: %s: %s\n", what, strerror(errno));
	exit(1);
}

static unsigned long long
count_lf(const char *p, size_t n)
{
	const char *end = p + n;
	unsigned long long k = 0;

	while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		k++;
		p++;
	}
	return k;
}

static void
write_port_file(const char *path, int port)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL)
		die(tmp);
	fprintf(f, "%d\n", port);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		die(path);
}

static int
listen_loopback(int *port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int one = 1;

	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)*port);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(fd, 64) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
		die("bind/listen");
	*port = ntohs(sa.sin_port);
	return fd;
}

int
main(int argc, char **argv)
{
	static char buf[RBUF];
	struct pollfd pfd[MAX_CONNS + 1];
	struct sigaction sa;
	unsigned long long bytes = 0, lines = 0, conns = 0;
	int fds[MAX_CONNS], nfds = 0, port = 0, lfd, i;
	time_t drain_until = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: sinkcount PORT-FILE\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	lfd = listen_loopback(&port);
	write_port_file(argv[1], port);
	for (;;) {
		if (term && drain_until == 0) {
			drain_until = time(NULL) + DRAIN_SECONDS;
			/* Take whatever still waits to be accepted. */
			while (nfds < MAX_CONNS &&
			    (fds[nfds] = accept4(
			         lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
				nfds++;
				conns++;
			}
		}
		if (term && (nfds == 0 || time(NULL) > drain_until))
			break;
		pfd[0].fd = lfd;
		pfd[0].events = POLLIN;
		for (i = 0; i < nfds; i++) {
			pfd[i + 1].fd = fds[i];
			pfd[i + 1].events = POLLIN;
		}
		if (poll(pfd, (nfds_t)nfds + 1, term ? 100 : -1) < 0 &&
		    errno != EINTR)
			die("poll");
		for (i = nfds - 1; i >= 0; i--) {
			ssize_t r;

			if (pfd[i + 1].revents == 0)
				continue;
			r = recv(fds[i], buf, sizeof(buf), MSG_DONTWAIT);
			if (r > 0) {
				bytes += (unsigned long long)r;
				lines += count_lf(buf, (size_t)r);
				continue;
			}
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			close(fds[i]);
			fds[i] = fds[--nfds];
		}
		if ((pfd[0].revents & POLLIN) && nfds < MAX_CONNS) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			if (fd >= 0) {
				fds[nfds++] = fd;
				conns++;
			}
		}
	}
	printf("%llu %llu %llu\n", bytes, lines, conns);
	return 0;
}
