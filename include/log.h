/* SPDX-License-Identifier: MIT */
/*
 * Logging: one line per event worth a human's attention, to stderr or to
 * syslog(3) (the journal under systemd).  Never pass a secret or a whole
 * record to these functions.
 */
#ifndef LOG_H
#define LOG_H

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARNING,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

enum log_target {
	LOG_TO_STDERR = 0,
	LOG_TO_SYSLOG,
};

/* Select where lines go and the most verbose level written. */
void log_setup(enum log_target target, enum log_level level);

/* Change only the level (configuration reload). */
void log_set_level(enum log_level level);

/* Returns nonzero when lines of this level are written. */
int log_enabled(enum log_level level);

/* Parse "error", "warning", "info", "debug"; returns 0 or -1. */
int log_level_parse(const char *s, enum log_level *out);

/* Write one line (a trailing newline is added). */
/*
 * Lines this thread logs from now on begin "tenant NAME: " (NULL: none).
 * name is borrowed: it must stay valid until the next call.
 */
void log_set_tenant(const char *name);

void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LVL_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
