/* SPDX-License-Identifier: MIT */
/*
 * CRC-32C (src/crc32c.c): the known check values, the fast path against
 * the table at every length and alignment around its block sizes, and
 * the multipliers it joins its streams with, derived again here.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "crc32c.h"

#define POLY 0x82F63B78U

/* x^n mod P, reflected (bit 31 is x^0). */
static uint32_t
x_pow(unsigned n)
{
	uint32_t k = 0x80000000U;

	while (n-- > 0)
		k = (k >> 1) ^ ((k & 1) ? POLY : 0);
	return k;
}

static void
test_known(void)
{
	static const unsigned char zeros[32],
	    ones[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	        0xff, 0xff, 0xff};
	unsigned char inc[32];
	int i;

	/* The check value of the CRC catalogue, and RFC 3720 B.4's. */
	CHECK(crc32c_update(0, "123456789", 9) == 0xE3069283U);
	CHECK(crc32c_soft(0, "123456789", 9) == 0xE3069283U);
	CHECK(crc32c_update(0, zeros, 32) == 0x8A9136AAU);
	CHECK(crc32c_update(0, ones, 32) == 0x62A8AB43U);
	for (i = 0; i < 32; i++)
		inc[i] = (unsigned char)i;
	CHECK(crc32c_update(0, inc, 32) == 0x46DD794EU);
	CHECK(crc32c_update(0, "", 0) == 0);
	CHECK(crc32c_update(0x12345678U, "", 0) == 0x12345678U);
}

/* The constants src/crc32c.c carries: x^(8n-33) for n = 1 and 2 blocks. */
static void
test_multipliers(void)
{
	CHECK(x_pow(8 * 512 - 33) == 0xdd7e3b0cU);
	CHECK(x_pow(16 * 512 - 33) == 0x170076faU);
	CHECK(x_pow(8 * 128 - 33) == 0x0d3b6092U);
	CHECK(x_pow(16 * 128 - 33) == 0xb9e02b86U);
}

/*
 * Every length up to a few runs of the long blocks, from every start
 * within a word, continuing a checksum or not, and split at any point:
 * the same as the table's.
 */
static void
test_against_table(void)
{
	enum { MAX = 3 * 3 * 512 + 3 * 128 + 40 };
	unsigned char *buf = malloc(MAX + 8);
	unsigned int seed = 7;
	size_t len, off, cut;
	int bad = 0, bad_split = 0;

	CHECK(buf != NULL);
	if (buf == NULL)
		return;
	for (len = 0; len < MAX + 8; len++)
		buf[len] = (unsigned char)rand_r(&seed);
	for (len = 0; len <= MAX; len++)
		for (off = 0; off < 8; off++) {
			uint32_t want =
			    crc32c_soft(0xDEADBEEFU, buf + off, len);

			if (crc32c_update(0xDEADBEEFU, buf + off, len) != want)
				bad++;
		}
	CHECK(bad == 0);
	for (cut = 0; cut <= 4800; cut += 37) {
		uint32_t a = crc32c_update(0, buf, cut);

		if (crc32c_update(a, buf + cut, 4800 - cut) !=
		    crc32c_soft(0, buf, 4800))
			bad_split++;
	}
	CHECK(bad_split == 0);
	free(buf);
}

int
main(void)
{
	test_known();
	test_multipliers();
	test_against_table();
	return check_done();
}
