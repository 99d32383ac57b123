/* SPDX-License-Identifier: MIT */
/*
 * Text for the project's error codes (include/errcode.h), for log lines.
 */
#include "errcode.h"

const char *
errcode_str(int code)
{
	switch (code) {
	case ERR_OK:
		return "success";
	case ERR_NOMEM:
		return "out of memory";
	case ERR_IO:
		return "local I/O error";
	case ERR_CONFIG:
		return "configuration error";
	case ERR_NET:
		return "network error";
	case ERR_HTTP:
		return "unexpected HTTP status";
	case ERR_AUTH:
		return "access token rejected";
	case ERR_FORBIDDEN:
		return "access forbidden";
	case ERR_THROTTLED:
		return "throttled";
	case ERR_SERVER:
		return "server error";
	case ERR_PARSE:
		return "malformed response";
	case ERR_TOOBIG:
		return "too large";
	case ERR_STOPPED:
		return "stopped";
	case ERR_BADREC:
		return "bad record";
	case ERR_CREDENTIALS:
		return "credentials refused";
	case ERR_SINK:
		return "collector unavailable";
	case ERR_FULL:
		return "spool full";
	case ERR_NOTFOUND:
		return "not found";
	case ERR_AGAIN:
		return "not ready, try again";
	case ERR_END:
		return "no more items";
	case ERR_RETIRED:
		return "API retired";
	default:
		return "unknown error";
	}
}
