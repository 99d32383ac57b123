/* SPDX-License-Identifier: MIT */
/*
 * The hostile corpus shared by the format tests (test_cef, test_leef,
 * test_json_out): SIEM API detections, as JSON text, whose every string
 * field carries hostile bytes.  Record i gives string field j the class
 * (i + 5 * j) mod K, so over any K consecutive records every field
 * carries every class (separators of each format, CR, LF, TAB, other
 * controls, NUL, blanks, CJK, emoji, invalid UTF-8, a lone surrogate in
 * the CESU-8 form cJSON makes of one, values over 4,000 characters,
 * forged keys and headers, look-alike escapes, addresses).  Times,
 * numbers and booleans get their own valid and broken values.
 *
 * Each test writes the corpus to $BUILD/tests/hostile.json and its output
 * next to it; tests/integration/test_hostile_formats.py then parses the
 * output with real parsers and compares every value with the source.
 */
#ifndef HOSTILE_H
#define HOSTILE_H

#include <stdio.h>
#include <string.h>

#include "buf.h"

#define HOSTILE_ROUNDS 6 /* records = HOSTILE_ROUNDS * classes */

struct hostile_class {
	const char *name;
	const char *s;
	size_t n;
};

#define HC(name, lit) \
	{ \
		name, lit, sizeof(lit) - 1 \
	}
static const struct hostile_class hostile_classes[] = {
    HC("pipe", "a|b|c"),
    HC("backslash", "C:\\Temp\\evil\\x.exe"),
    HC("equals", "key=value=more"),
    HC("cr", "line1\rline2"),
    HC("lf", "line1\nline2"),
    HC("crlf", "line1\r\nline2\r\n"),
    HC("tab", "col1\tcol2\t"),
    HC("controls",
        "soh\x01"
        "esc\x1b[31m\x7f"
        "del\x08"
        "bs\x0c"
        "ff\x0b"
        "vt\x1f"
        "us"),
    HC("nul", "before\0after"),
    HC("spaces", "  padded value  "),
    HC("blanks_only", " \t \x01 \x7f "),
    HC("cjk",
        "\xe4\xbe\xb5\xe5\x85\xa5\xe6\xa4\x9c\xe7\x9f\xa5 "
        "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"),
    HC("emoji", "fire \xf0\x9f\x94\xa5 emoji \xf0\x9f\x98\x80"),
    HC("invalid_bytes", "bad\xff\xfe end"),
    HC("truncated_utf8", "end\xe2\x82"),
    HC("overlong", "\xc0\xaf slash"),
    HC("lone_surrogate", "lone\xed\xa0\x80surrogate"),
    HC("above_max",
        "big\xf4\x90\x80\x80"
        "cp"),
    HC("long", ""), /* generated: 4,100 characters */
    HC("long_escapes", ""), /* generated: "x=1|y\z ^<TAB>" to 4,200 */
    HC("long_multibyte", ""), /* generated: 1,500 x U+65E5 */
    HC("cef_extension", "x=1 cs1=evil"),
    HC("cef_header", "|CEF:0|forged|"),
    HC("leef_header", "LEEF:2.0|forged|product|1.0|id|^\tsev=10"),
    HC("caret", "a^b^^c^"),
    HC("syslog_header",
        "<13>1 2020-01-01T00:00:00Z forged-host app - - - "
        "msg"),
    HC("unicode_separators",
        "nel\xc2\x85ls\xe2\x80\xa8ps\xe2\x80\xa9"
        "bom\xef\xbb\xbf"
        "end"),
    HC("trailing_backslash", "ends with a backslash\\"),
    HC("escape_lookalikes", "\\n\\r\\=\\\\ \\|"),
    HC("quotes", "say \"hi\" and 'bye'"),
    HC("json_lookalike", "\"}, {\"evil\": 1, \"x\": \"\\u0000"),
    HC("mixed", " |=\\\r\n\t\xe4\xbe\xb5\xf0\x9f\x94\xa5\xff x=1 ^\\"),
    HC("ipv4", "10.1.2.3"),
    HC("ipv6", "2001:db8::1"),
    HC("ip_list", "127.0.0.1, 10.9.8.7;fe80::1 2001:db8::2"),
    HC("ip_zone", "fe80::1%eth0"),
    HC("single_equals", "="),
    HC("single_backslash", "\\"),
};
#undef HC

#define HOSTILE_K (sizeof(hostile_classes) / sizeof(hostile_classes[0]))

/* Every string field of the canonical record, by SIEM API name. */
static const char *const hostile_strings[] = {
    "ComputerDnsName",
    "AlertTitle",
    "Category",
    "Severity",
    "AlertId",
    "Actor",
    "LinkToWDATP",
    "IocName",
    "IocValue",
    "CreatorIocName",
    "CreatorIocValue",
    "Sha1",
    "FileName",
    "FilePath",
    "IpAddress",
    "Url",
    "IoaDefinitionId",
    "UserName",
    "FullId",
    "ThreatCategory",
    "ThreatFamily",
    "ThreatName",
    "RemediationAction",
    "Source",
    "Md5",
    "Sha256",
    "UserDomain",
    "LogOnUsers",
    "MachineDomain",
    "MachineName",
    "InternalIPv4List",
    "InternalIPv6List",
    "FileHash",
    "DeviceID",
    "MachineGroup",
    "Description",
    "DeviceCreatedMachineTags",
    "CloudCreatedMachineTags",
    "CommandLine",
    "IncidentLinkToWDATP",
    "LinkToMTP",
    "IncidentLinkToMTP",
    "ExternalId",
    "IocUniqueId",
    "Status",
    "Classification",
    "Determination",
    "IncidentId",
    "ServiceSource",
    "MitreTechniques",
    "AssignedTo",
};

/* JSON texts of the non-string members. */
static const char *const hostile_times[] = {
    "\"2020-09-30T14:09:20.35743Z\"",
    "\"2020-09-30T14:09:20Z\"",
    "\"2020-09-30T14:09:20.1234567Z\"",
    "\"2020-09-30T14:09:20.123456789Z\"",
    "\"2020-09-30 14:09:20.5\"",
    "\"2020-09-30T16:09:20.25+02:00\"",
    "\"1969-12-31T23:59:59.9999999Z\"",
    "\"2020-02-29T00:00:00-0130\"",
    /* broken: */
    "\"\"",
    "\"soon\"",
    "\"2020-13-01T00:00:00Z\"",
    "\"2020-09-30T14:09\"",
    "null",
};
#define HOSTILE_GOOD_TIMES 8
static const char *const hostile_numbers[] = {"0", "3", "-1", "3.5", "\"3a\"",
    "\"007\"", "1e20", "true", "null", "\"12\"", "9007199254740991", "\"-0\"",
    "1053729833", "-0"};
static const char *const hostile_bools[] = {"true", "false", "null", "\"TRUE\"",
    "\"false\"", "\"maybe\"", "1", "0", "2", "\"1\"", "\"\""};
static const char *const hostile_sevs[] = {"Informational", "Low", "Medium",
    "High", "UnSpecified", "high", "HIGH", ""};

#define HOSTILE_N(a) (sizeof(a) / sizeof(a[0]))

/* The bytes of class c (long ones built in tmp). */
static void
hostile_value(size_t c, struct buf *tmp, const char **s, size_t *n)
{
	const char *name = hostile_classes[c].name;

	*s = hostile_classes[c].s;
	*n = hostile_classes[c].n;
	if (*n > 0)
		return;
	buf_clear(tmp);
	if (strcmp(name, "long") == 0) {
		buf_adds(tmp, "long-value-");
		while (tmp->len < 4100)
			buf_adds(tmp, "0123456789abcdef");
		buf_truncate(tmp, 4100);
	} else if (strcmp(name, "long_escapes") == 0) {
		while (tmp->len < 4200)
			buf_adds(tmp, "x=1|y\\z ^\t");
		buf_truncate(tmp, 4200);
	} else {
		while (tmp->len < 4500)
			buf_adds(tmp, "\xe6\x97\xa5");
	}
	*s = buf_str(tmp);
	*n = tmp->len;
}

/* s[0..n) as a JSON string: '"' '\' and controls escaped, bytes raw. */
static void
hostile_jstr(struct buf *out, const char *s, size_t n)
{
	size_t i;

	buf_addc(out, '"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			buf_addc(out, '\\');
			buf_addc(out, (char)c);
		} else if (c < 0x20)
			buf_printf(out, "\\u%04x", c);
		else
			buf_addc(out, (char)c);
	}
	buf_addc(out, '"');
}

static size_t
hostile_count(void)
{
	return HOSTILE_ROUNDS * HOSTILE_K;
}

/* Append record i as one JSON object. */
static void
hostile_record(struct buf *out, size_t i, struct buf *tmp)
{
	const char *s;
	size_t j, n, nt = HOSTILE_N(hostile_times);

	buf_addc(out, '{');
	for (j = 0; j < HOSTILE_N(hostile_strings); j++) {
		buf_printf(out, "\"%s\":", hostile_strings[j]);
		if (strcmp(hostile_strings[j], "Severity") == 0 && i % 5 == 0) {
			s = hostile_sevs[(i / 5) % HOSTILE_N(hostile_sevs)];
			n = strlen(s);
		} else
			hostile_value((i + 5 * j) % HOSTILE_K, tmp, &s, &n);
		if (strcmp(hostile_strings[j], "FullId") == 0 && i % 4 == 1) {
			buf_printf(out, "\"fullid-%zu\",", i);
			continue;
		}
		hostile_jstr(out, s, n);
		buf_addc(out, ',');
	}
	buf_printf(
	    out, "\"AlertCreationTime\":%s,", hostile_times[(i * 3) % nt]);
	buf_printf(
	    out, "\"LastUpdateTime\":%s,", hostile_times[(i * 5 + 1) % nt]);
	buf_printf(out, "\"AlertTime\":%s,", hostile_times[i % nt]);
	/* the cursor field must be a time, else the record is refused */
	buf_printf(out, "\"LastProcessedTimeUtc\":%s,",
	    hostile_times[i % HOSTILE_GOOD_TIMES]);
	buf_printf(out, "\"AlertPart\":%s,",
	    hostile_numbers[i % HOSTILE_N(hostile_numbers)]);
	buf_printf(out, "\"ReportID\":%s,",
	    hostile_numbers[(i * 7 + 3) % HOSTILE_N(hostile_numbers)]);
	buf_printf(out, "\"RemediationIsSuccess\":%s,",
	    hostile_bools[i % HOSTILE_N(hostile_bools)]);
	buf_printf(out, "\"WasExecutingWhileDetected\":%s}",
	    hostile_bools[(i * 3 + 1) % HOSTILE_N(hostile_bools)]);
}

/*
 * The whole corpus as a JSON array in out, one record per line; also
 * written to $BUILD/tests/hostile.json.  Returns 0, or -1 when the file
 * cannot be written.
 */
static int
hostile_corpus(struct buf *out, const char *build)
{
	struct buf tmp;
	char path[512];
	FILE *fp;
	size_t i;
	int rc = 0;

	buf_init(&tmp, 0);
	buf_clear(out);
	buf_adds(out, "[\n");
	for (i = 0; i < hostile_count(); i++) {
		if (i > 0)
			buf_adds(out, ",\n");
		hostile_record(out, i, &tmp);
	}
	buf_adds(out, "\n]\n");
	buf_reset(&tmp);
	snprintf(path, sizeof(path), "%s/tests/hostile.json", build);
	if ((fp = fopen(path, "wb")) == NULL)
		return -1;
	if (fwrite(out->data, 1, out->len, fp) != out->len)
		rc = -1;
	if (fclose(fp) != 0)
		rc = -1;
	return rc;
}

#endif
