/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: raw bytes as a Microsoft Graph security/incidents
 * response (one incident, an array, or a page with "value"),
 * through record_from_incident() and every output format
 * (tests/fuzz/fuzz_formats.h says what must hold).
 */
#include "fuzz_formats.h"
#include "record_alert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_run(data, size, record_from_incident);
}
