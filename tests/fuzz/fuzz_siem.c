/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: raw bytes as a legacy SIEM API response (one
 * detection, or an array of them),
 * through record_from_siem() and every output format
 * (tests/fuzz/fuzz_formats.h says what must hold).
 */
#include "fuzz_formats.h"
#include "record_alert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_run(data, size, record_from_siem);
}
