/* SPDX-License-Identifier: MIT */
/*
 * Standard output transport: framed messages written to fd 1, for pipes,
 * files and trying a configuration out.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "errcode.h"
#include "sink_impl.h"

static int
stdout_open(struct sink *s, char *why, size_t whylen)
{
	(void)why;
	(void)whylen;
	s->fd = STDOUT_FILENO;
	return 0;
}

static int
stdout_write(
    struct sink *s, const char *data, size_t len, char *why, size_t whylen)
{
	while (len > 0) {
		ssize_t n = write(s->fd, data, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			snprintf(why, whylen, "write to stdout failed: %s",
			    strerror(errno));
			return ERR_SINK;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
stdout_close(struct sink *s)
{
	s->fd = -1;
}

const struct sink_ops sink_stdout_ops = {
    .name = "stdout",
    .open = stdout_open,
    .write = stdout_write,
    .close = stdout_close,
    .per_message = 0,
};
