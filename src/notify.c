/* SPDX-License-Identifier: MIT */
/*
 * sd_notify(3) in a few lines (include/notify.h): the protocol is one
 * datagram of "KEY=VALUE" lines to $NOTIFY_SOCKET.  A socket is opened
 * per message; messages are rare (start, stop, reload, a status line per
 * cycle, a watchdog ping every half interval), so nothing is kept open
 * and no state lives between calls.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "errcode.h"
#include "notify.h"

#define STATUS_MAX 400

/* Fill sa from $NOTIFY_SOCKET.  1, 0 when unset, ERR_CONFIG. */
static int
socket_address(struct sockaddr_un *sa, socklen_t *len)
{
	const char *e = getenv("NOTIFY_SOCKET");
	size_t n;

	if (e == NULL || *e == '\0')
		return 0;
	n = strlen(e);
	if ((e[0] != '/' && e[0] != '@') || n < 2 || n >= sizeof(sa->sun_path))
		return ERR_CONFIG;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, e, n);
	if (e[0] == '@')
		sa->sun_path[0] = '\0'; /* abstract: no terminating NUL */
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
	    (e[0] == '/'));
	return 1;
}

int
notify_send(const char *state)
{
	struct sockaddr_un sa;
	socklen_t salen = 0;
	ssize_t n;
	int fd, rc, saved;

	if ((rc = socket_address(&sa, &salen)) <= 0)
		return rc;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return ERR_IO;
	do {
		n = sendto(fd, state, strlen(state), MSG_NOSIGNAL,
		    (struct sockaddr *)&sa, salen);
	} while (n == -1 && errno == EINTR);
	saved = errno;
	close(fd);
	errno = saved;
	return n == (ssize_t)strlen(state) ? 1 : ERR_IO;
}

int
notify_ready(void)
{
	return notify_send("READY=1\nSTATUS=running");
}

int
notify_reloading(void)
{
	struct timespec ts;
	char msg[64];

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	(void)snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	        (unsigned long long)ts.tv_nsec / 1000ULL);
	return notify_send(msg);
}

int
notify_stopping(void)
{
	return notify_send("STOPPING=1\nSTATUS=stopping");
}

int
notify_watchdog(void)
{
	return notify_send("WATCHDOG=1");
}

int
notify_status(const char *fmt, ...)
{
	char msg[sizeof("STATUS=") + STATUS_MAX];
	va_list ap;
	char *p;

	if (getenv("NOTIFY_SOCKET") == NULL)
		return 0;
	memcpy(msg, "STATUS=", 7);
	va_start(ap, fmt);
	/* A status line cut short still tells the state. */
	(void)vsnprintf(msg + 7, sizeof(msg) - 7, fmt, ap);
	va_end(ap);
	for (p = msg + 7; *p != '\0'; p++) {
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	}
	return notify_send(msg);
}

long
notify_watchdog_interval_ms(void)
{
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	unsigned long long u, p;
	char *end;

	if (usec == NULL || *usec < '0' || *usec > '9')
		return 0;
	errno = 0;
	u = strtoull(usec, &end, 10);
	if (errno != 0 || *end != '\0' || u == 0 || u > 86400ULL * 1000000)
		return 0;
	if (pid != NULL) {
		errno = 0;
		p = strtoull(pid, &end, 10);
		if (*pid < '0' || *pid > '9' || errno != 0 || *end != '\0' ||
		    p != (unsigned long long)getpid())
			return 0;
	}
	return u >= 2000 ? (long)(u / 2000) : 1;
}
