/* SPDX-License-Identifier: MIT */
/*
 * CRC-32C (Castagnoli), the checksum of spool entries (src/spool.c).
 */
#ifndef CRC32C_H
#define CRC32C_H

#include <stddef.h>
#include <stdint.h>

/*
 * The CRC-32C of n bytes at p, continuing crc: 0 to start, or what an
 * earlier call returned for the bytes before these.  With the CPU's
 * crc32 and carry-less multiply instructions where there are some, else
 * crc32c_soft().
 */
uint32_t crc32c_update(uint32_t crc, const void *p, size_t n);

/* The same, a byte at a time from a table, on any CPU. */
uint32_t crc32c_soft(uint32_t crc, const void *p, size_t n);

#endif
