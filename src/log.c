/* SPDX-License-Identifier: MIT */
/*
 * Logging to stderr (with a timestamp and level) or to syslog(3), which
 * is the journal under systemd.  The level and target are the only mutable
 * globals of the program besides signal flags.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <syslog.h>
#include <time.h>

#include "log.h"
#include "text.h"

static enum log_target log_target_cur = LOG_TO_STDERR;
static enum log_level log_level_cur = LOG_LVL_INFO;

/*
 * Repeated identical lines (a collector down for hours, a permission that
 * stays missing) are written once, then summarised with a count.
 */
#define LOG_REPEAT_WINDOW 300
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char log_last[2048];
static enum log_level log_last_level;
static unsigned long log_repeats;
static time_t log_last_time;

/* The tenant whose turn this thread runs: its lines name it. */
static _Thread_local const char *log_tenant;

void
log_set_tenant(const char *name)
{
	log_tenant = name;
}

static const char *const level_names[] = {
    "error",
    "warning",
    "info",
    "debug",
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

static void
emit(enum log_level level, const char *line)
{
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

static void
flush_repeats(void)
{
	char line[96];

	if (log_repeats == 0)
		return;
	snprintf(line, sizeof(line),
	    "(the previous message was repeated "
	    "%lu more times)",
	    log_repeats);
	emit(log_last_level, line);
	log_repeats = 0;
}

/*
 * Every line goes through text_log_safe(): lines carry text from the APIs
 * (ids, error messages), and no value may forge a line or an escape.
 */
void
log_msg(enum log_level level, const char *fmt, ...)
{
	char raw[2048], line[2048];
	time_t now = time(NULL);
	va_list ap;

	size_t n = 0;
	int w;

	if (!log_enabled(level))
		return;
	if (log_tenant != NULL &&
	    (w = snprintf(raw, sizeof(raw), "tenant %s: ", log_tenant)) > 0 &&
	    (size_t)w < sizeof(raw))
		n = (size_t)w;
	va_start(ap, fmt);
	vsnprintf(raw + n, sizeof(raw) - n, fmt, ap);
	va_end(ap);
	text_log_safe(line, sizeof(line), raw);
	pthread_mutex_lock(&log_mu);
	if (level <= LOG_LVL_WARNING && level == log_last_level &&
	    strcmp(line, log_last) == 0 &&
	    now - log_last_time < LOG_REPEAT_WINDOW) {
		log_repeats++;
		pthread_mutex_unlock(&log_mu);
		return;
	}
	flush_repeats();
	emit(level, line);
	memcpy(log_last, line, sizeof(log_last));
	log_last_level = level;
	log_last_time = now;
	pthread_mutex_unlock(&log_mu);
}
