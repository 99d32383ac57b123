/* SPDX-License-Identifier: MIT */
/*
 * Project-wide error codes.  Fallible functions return 0 or one of these
 * negative values; each code tells the caller what to do next (retry later,
 * renew the token, drop the record, give up).  errcode_str() gives a short
 * English text for log lines.
 */
#ifndef ERRCODE_H
#define ERRCODE_H

enum errcode {
	ERR_OK = 0,
	ERR_NOMEM = -1, /* out of memory: give up this cycle */
	ERR_IO = -2, /* local file I/O failed (errno kept) */
	ERR_CONFIG = -3, /* configuration invalid: fix and restart */
	ERR_NET = -4, /* connect, resolve, TLS or timeout: retry */
	ERR_HTTP = -5, /* unexpected HTTP status: retry later */
	ERR_AUTH = -6, /* 401 from the API: renew token, retry once */
	ERR_FORBIDDEN = -7, /* 403: permission missing; retry slowly */
	ERR_THROTTLED = -8, /* 429: wait for Retry-After */
	ERR_SERVER = -9, /* 5xx: retry with backoff */
	ERR_PARSE = -10, /* malformed body: retry with backoff */
	ERR_TOOBIG = -11, /* response or value over its hard cap */
	ERR_STOPPED = -12, /* a stop was requested: unwind quietly */
	ERR_BADREC = -13, /* this record cannot be used: count, skip */
	ERR_CREDENTIALS = -14, /* Entra refused our credentials */
	ERR_SINK = -15, /* collector unreachable or connection lost */
	ERR_FULL = -16, /* spool or disk full: pause fetching */
	ERR_NOTFOUND = -17, /* 404 or missing file */
	ERR_AGAIN = -18, /* no room or nothing ready now: wait, then retry */
	ERR_END = -19, /* an iterator has no more items (not a failure) */
	ERR_RETIRED = -20, /* the API answers as switched off: migrate */
};

/* Returns a static, never-NULL text for code (unknown codes included). */
const char *errcode_str(int code);

#endif
