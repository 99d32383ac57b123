/* SPDX-License-Identifier: MIT */
/*
 * Logging to stderr (with a timestamp and level) or to syslog(3), which
 * is the journal under systemd.  The level and target are the only mutable
 * globals of the program besides signal flags.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static enum log_target log_target_cur = LOG_TO_STDERR;
static enum log_level log_level_cur = LOG_LVL_INFO;

static const char *const level_names[] = {
	"error", "warning", "info", "debug",
};

void
log_setup(enum log_target target, enum log_level level)
{
	log_target_cur = target;
	log_level_cur = level;
	if (target == LOG_TO_SYSLOG)
		openlog("mdesiemd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_level(enum log_level level)
{
	log_level_cur = level;
}

int
log_enabled(enum log_level level)
{
	return level <= log_level_cur;
}

int
log_level_parse(const char *s, enum log_level *out)
{
	size_t i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

static int
syslog_priority(enum log_level level)
{
	switch (level) {
	case LOG_LVL_ERROR:
		return LOG_ERR;
	case LOG_LVL_WARNING:
		return LOG_WARNING;
	case LOG_LVL_INFO:
		return LOG_INFO;
	default:
		return LOG_DEBUG;
	}
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_target_cur == LOG_TO_SYSLOG) {
		syslog(syslog_priority(level), "%s", line);
	} else {
		struct timespec now;
		struct tm tm;
		char stamp[32];

		clock_gettime(CLOCK_REALTIME, &now);
		gmtime_r(&now.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ldZ mdesiemd[%s]: %s\n", stamp,
		    now.tv_nsec / 1000000, level_names[level], line);
	}
}
