/* SPDX-License-Identifier: MIT */
/*
 * URL policy shared by configuration checks and the HTTP client: secrets
 * never travel unencrypted, so plain http:// is allowed only to loopback
 * addresses (the bundled simulator and tests).
 */
#ifndef URL_H
#define URL_H

/*
 * Returns 1 when url is https://..., or http:// to 127.0.0.0/8, [::1] or
 * localhost; 0 otherwise (including malformed URLs).
 */
int url_is_allowed(const char *url);

/*
 * Copy the host part of url (without port or brackets) into out.
 * Returns 0, or -1 when url has no host or out is too small.
 */
int url_host(const char *url, char *out, unsigned long outlen);

#endif
