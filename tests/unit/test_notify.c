/* SPDX-License-Identifier: MIT */
/*
 * Tests for the systemd notifications (src/notify.c) against real Unix
 * datagram sockets made here, one bound to a path and one to an abstract
 * name, as systemd makes them; and the watchdog interval from the
 * environment systemd sets.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "errcode.h"
#include "notify.h"

static int
listen_on(const char *name, int abstract)
{
	struct sockaddr_un sa;
	socklen_t len;
	struct timeval tv = {2, 0};
	int fd;

	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path + abstract, sizeof(sa.sun_path) - 1, "%s", name);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + abstract +
	    strlen(name) + !abstract);
	if (bind(fd, (struct sockaddr *)&sa, len) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The next datagram, as a string ("" on timeout). */
static const char *
next(int fd)
{
	static char msg[1024];
	ssize_t n = recv(fd, msg, sizeof(msg) - 1, 0);

	msg[n > 0 ? n : 0] = '\0';
	return msg;
}

static void
check_messages(int fd)
{
	const char *m;

	CHECK(notify_ready() == 1);
	CHECK_STR(next(fd), "READY=1\nSTATUS=running");
	CHECK(notify_watchdog() == 1);
	CHECK_STR(next(fd), "WATCHDOG=1");
	CHECK(notify_status("%d fetched, %d delivered; last cycle %s", 120, 118,
	          "12:00:01Z") == 1);
	CHECK_STR(next(fd),
	    "STATUS=120 fetched, 118 delivered; last cycle "
	    "12:00:01Z");
	CHECK(notify_stopping() == 1);
	CHECK_STR(next(fd), "STOPPING=1\nSTATUS=stopping");
	CHECK(notify_reloading() == 1);
	m = next(fd);
	CHECK(strncmp(m, "RELOADING=1\nMONOTONIC_USEC=", 27) == 0);
	CHECK(strlen(m) > 27 && strspn(m + 27, "0123456789") == strlen(m + 27));
	CHECK(notify_send("FDSTORE=0") == 1);
	CHECK_STR(next(fd), "FDSTORE=0");
}

static void
test_path_socket(const char *dir)
{
	char path[128], line[600];
	int fd;

	snprintf(path, sizeof(path), "%s/notify", dir);
	fd = listen_on(path, 0);
	CHECK(fd >= 0);
	setenv("NOTIFY_SOCKET", path, 1);
	check_messages(fd);

	/* A status line cannot inject another assignment, nor grow. */
	CHECK(notify_status("a\nREADY=1\rb") == 1);
	CHECK_STR(next(fd), "STATUS=a READY=1 b");
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	CHECK(notify_status("%s", line) == 1);
	CHECK(strlen(next(fd)) == 7 + 400);

	/* Nobody listening any more: an error, not a crash or a signal. */
	close(fd);
	unlink(path);
	CHECK(notify_ready() == ERR_IO);
	unsetenv("NOTIFY_SOCKET");
}

static void
test_abstract_socket(void)
{
	char name[64], env[80];
	int fd;

	snprintf(name, sizeof(name), "mdesiem-test-notify-%ld", (long)getpid());
	fd = listen_on(name, 1);
	CHECK(fd >= 0);
	snprintf(env, sizeof(env), "@%s", name);
	setenv("NOTIFY_SOCKET", env, 1);
	check_messages(fd);
	close(fd);
	unsetenv("NOTIFY_SOCKET");
}

static void
test_no_socket(void)
{
	char longname[200];

	unsetenv("NOTIFY_SOCKET");
	CHECK(notify_ready() == 0);
	CHECK(notify_status("x %d", 1) == 0);
	CHECK(notify_watchdog() == 0);
	setenv("NOTIFY_SOCKET", "", 1);
	CHECK(notify_stopping() == 0);
	setenv("NOTIFY_SOCKET", "relative/socket", 1);
	CHECK(notify_ready() == ERR_CONFIG);
	setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);
	CHECK(notify_ready() == ERR_CONFIG);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[0] = '/';
	longname[sizeof(longname) - 1] = '\0';
	setenv("NOTIFY_SOCKET", longname, 1);
	CHECK(notify_ready() == ERR_CONFIG);
	unsetenv("NOTIFY_SOCKET");
}

static void
test_watchdog_interval(void)
{
	char pid[32];

	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	CHECK(notify_watchdog_interval_ms() == 0);
	setenv("WATCHDOG_USEC", "60000000", 1);
	CHECK(notify_watchdog_interval_ms() == 30000);
	setenv("WATCHDOG_USEC", "1000", 1);
	CHECK(notify_watchdog_interval_ms() == 1);
	setenv("WATCHDOG_USEC", "0", 1);
	CHECK(notify_watchdog_interval_ms() == 0);
	setenv("WATCHDOG_USEC", "-5", 1);
	CHECK(notify_watchdog_interval_ms() == 0);
	setenv("WATCHDOG_USEC", "60s", 1);
	CHECK(notify_watchdog_interval_ms() == 0);
	setenv("WATCHDOG_USEC", "99999999999999999999999", 1);
	CHECK(notify_watchdog_interval_ms() == 0);

	/* Meant for this process only. */
	setenv("WATCHDOG_USEC", "180000000", 1);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	CHECK(notify_watchdog_interval_ms() == 90000);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid() + 1);
	setenv("WATCHDOG_PID", pid, 1);
	CHECK(notify_watchdog_interval_ms() == 0);
	setenv("WATCHDOG_PID", "x", 1);
	CHECK(notify_watchdog_interval_ms() == 0);
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

int
main(void)
{
	char dir[64];

	snprintf(dir, sizeof(dir), "/tmp/test_notify.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	test_no_socket();
	test_path_socket(dir);
	test_abstract_socket();
	test_watchdog_interval();
	rmdir(dir);
	return check_done();
}
