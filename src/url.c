/* SPDX-License-Identifier: MIT */
/*
 * URL policy (include/url.h): https everywhere, plain http only to the
 * loopback addresses the simulator and tests use.
 */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "url.h"

int
url_host(const char *url, char *out, unsigned long outlen)
{
	const char *p, *end;
	size_t n;

	if ((p = strstr(url, "://")) == NULL)
		return -1;
	p += 3;
	end = p + strcspn(p, "/?#");
	/* Drop user info: never used, but do not take it for the host. */
	for (const char *at = p; at < end; at++) {
		if (*at == '@')
			p = at + 1;
	}
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(end - p));

		if (rb == NULL)
			return -1;
		p++;
		end = rb;
	} else {
		const char *colon = memchr(p, ':', (size_t)(end - p));

		if (colon != NULL)
			end = colon;
	}
	n = (size_t)(end - p);
	if (n == 0 || n >= outlen)
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

static int
host_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

int
url_is_allowed(const char *url)
{
	char host[256];

	if (url_host(url, host, sizeof(host)) != 0)
		return 0;
	if (strncasecmp(url, "https://", 8) == 0)
		return 1;
	if (strncasecmp(url, "http://", 7) == 0)
		return host_is_loopback(host);
	return 0;
}
