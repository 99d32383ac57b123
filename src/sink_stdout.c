/* SPDX-License-Identifier: MIT */
/*
 * Standard output transport: framed messages written to fd 1, for pipes,
 * files and trying a configuration out.  Each message is written whole
 * (the write waits for a slow reader) and counts as acknowledged once
 * written.
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
stdout_send(struct sink *s, const struct sink_msg *m, char *why, size_t whylen)
{
	const char *data = m->data;
	size_t len = m->len;

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
    .framing = FRAMING_LF,
    .max_message = 8096, /* as local */
    .per_message = 0,
    .open = stdout_open,
    .send = stdout_send,
    .poll = NULL,
    .drain = NULL,
    .close = stdout_close,
};
