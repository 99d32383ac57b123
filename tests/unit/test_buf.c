/* SPDX-License-Identifier: MIT */
/* Capped buffers and the URL policy (src/buf.c, src/url.c). */
#include <string.h>

#include "buf.h"
#include "check.h"
#include "errcode.h"
#include "url.h"

int
main(void)
{
	struct buf b;
	char host[64];
	int i, ok = 1;

	buf_init(&b, 16);
	CHECK_STR(buf_str(&b), "");
	CHECK(buf_adds(&b, "0123456789") == 0);
	CHECK(buf_add(&b, "abcdefg", 7) == ERR_TOOBIG);
	CHECK(b.len == 10);
	CHECK(buf_printf(&b, "%d", 123456) == 0);
	CHECK(buf_addc(&b, 'x') == ERR_TOOBIG);
	CHECK_STR(buf_str(&b), "0123456789123456");
	buf_truncate(&b, 3);
	CHECK_STR(buf_str(&b), "012");
	buf_clear(&b);
	CHECK(b.len == 0 && b.cap > 0);
	buf_wipe(&b);
	CHECK(b.data == NULL);
	buf_init(&b, 0);
	for (i = 0; i < 100000; i++)
		ok &= buf_add_i64(&b, -i) == 0;
	CHECK(ok);
	buf_clear(&b);
	buf_add_i64(&b, -9223372036854775807LL - 1);
	CHECK_STR(buf_str(&b), "-9223372036854775808");
	buf_reset(&b);
	/* Every digit count, each side of every power of ten, as printf. */
	{
		long long v = 1, w;
		char want[32];
		int k, d;

		for (k = 0; k < 19; k++) {
			for (d = -1; d <= 1; d++)
				for (w = v + d; w != 0; w = w > 0 ? -w : 0) {
					buf_clear(&b);
					buf_add_i64(&b, w);
					snprintf(want, sizeof(want), "%lld", w);
					ok &= strcmp(buf_str(&b), want) == 0;
				}
			if (k < 18)
				v *= 10;
		}
		buf_clear(&b);
		buf_add_i64(&b, 9223372036854775807LL);
		CHECK_STR(buf_str(&b), "9223372036854775807");
		buf_clear(&b);
		buf_add_i64(&b, 0);
		CHECK_STR(buf_str(&b), "0");
		buf_clear(&b);
		buf_add_i64(&b, 1733097600123LL);
		CHECK_STR(buf_str(&b), "1733097600123");
		CHECK(ok);
	}
	buf_reset(&b);

	/* A secret buffer grows by copying (its old storage is wiped). */
	buf_init_secret(&b, 1 << 20);
	for (i = 0; i < 5000; i++)
		ok &= buf_adds(&b, "s3cr3t") == 0;
	CHECK(ok && b.len == 30000 && b.secret);
	CHECK(strncmp(b.data + 29994, "s3cr3t", 6) == 0 && b.data[30000] == 0);
	buf_reset(&b);
	CHECK(b.data == NULL && b.secret);
	CHECK(buf_adds(&b, "again") == 0);
	CHECK_STR(buf_str(&b), "again");
	buf_wipe(&b);

	CHECK(url_is_allowed("https://api.security.microsoft.com/api/alerts"));
	CHECK(url_is_allowed("http://127.0.0.1:8080/x"));
	CHECK(url_is_allowed("http://127.9.9.9/x"));
	CHECK(url_is_allowed("http://[::1]:80/x"));
	CHECK(url_is_allowed("http://localhost/x"));
	CHECK(!url_is_allowed("http://10.0.0.1/x"));
	CHECK(!url_is_allowed("http://example.com/x"));
	CHECK(!url_is_allowed("http://127.0.0.1.evil.com/x"));
	CHECK(!url_is_allowed("http://user@evil.com/x"));
	CHECK(!url_is_allowed("ftp://127.0.0.1/x"));
	CHECK(!url_is_allowed("nonsense"));
	CHECK(url_host("https://u:p@h.example:8443/p?q", host, sizeof(host)) ==
	    0);
	CHECK_STR(host, "h.example");
	CHECK(url_host("http://[::1]:80/", host, sizeof(host)) == 0);
	CHECK_STR(host, "::1");
	return check_done();
}
