/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for pairs.c, the machinery the CEF, LEEF and JSON formatters
 * share: what each value kind makes of a field (integers, booleans,
 * times, addresses, ids, the device address for LEEF's identSrc), and
 * how a message is shortened to its size limit (bulky pairs dropped
 * first, low-priority values levelled, then pairs dropped from the end,
 * ids never touched), checked with a small format of its own.
 */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "check.h"
#include "errcode.h"
#include "pairs.h"

#define CUT(r) ((r).shortened + (r).dropped > 0)
#include "record.h"
#include "text.h"
#include "ts.h"

static void
setn(struct record *r, enum record_field f, const char *s)
{
	r->f[f].p = s;
	r->f[f].n = strlen(s);
}

/* ---- value kinds ---- */

static const struct pairs_ops kinds_ops = {
    .map = NULL,
    .nmap = 0,
    .blanks = NULL,
    .btrue = "T",
    .bfalse = "F",
    .lead_sep = 0,
    .esc = NULL,
    .add = NULL,
    .ctx = NULL,
};

/* The value row (f, kind) gives r, or "(none)". */
static const char *
value(const struct record *r, enum record_field f, enum pairs_kind kind,
    char out[64])
{
	struct pairs_map m = {f, "k", NULL, NULL, 0, kind, PAIRS_HIGH};
	char tmp[PAIRS_TMP];
	const char *p;
	size_t n;

	if (!pairs_value(r, &m, &kinds_ops, tmp, &p, &n))
		return "(none)";
	snprintf(out, 64, "%.*s", (int)n, p);
	return out;
}

static void
test_kinds(void)
{
	static const struct {
		enum record_field f;
		enum pairs_kind kind;
		const char *in, *want;
	} cases[] = {
	    {RF_ALERT_PART, PAIRS_INT, "0", "0"},
	    {RF_ALERT_PART, PAIRS_INT, "-12", "-12"},
	    {RF_ALERT_PART, PAIRS_INT, "123456789012345678",
	        "123456789012345678"},
	    {RF_ALERT_PART, PAIRS_INT, "1234567890123456789", "(none)"},
	    {RF_ALERT_PART, PAIRS_INT, "007", "(none)"},
	    {RF_ALERT_PART, PAIRS_INT, "-", "(none)"},
	    {RF_ALERT_PART, PAIRS_INT, "1e5", "(none)"},
	    {RF_ALERT_PART, PAIRS_INT, " 1", "(none)"},
	    {RF_WAS_EXECUTING, PAIRS_BOOL, "true", "T"},
	    {RF_WAS_EXECUTING, PAIRS_BOOL, "FALSE", "F"},
	    {RF_WAS_EXECUTING, PAIRS_BOOL, "1", "T"},
	    {RF_WAS_EXECUTING, PAIRS_BOOL, "yes", "(none)"},
	    {RF_LAST_PROCESSED_TIME, PAIRS_EPOCH_MS,
	        "2020-09-30T14:11:44.0779765Z", "1601475104077"},
	    {RF_LAST_PROCESSED_TIME, PAIRS_EPOCH_MS,
	        "1969-12-31T23:59:59.9999Z", "-1"},
	    {RF_LAST_PROCESSED_TIME, PAIRS_ISO_TIME,
	        "2020-09-30 16:11:44+02:00", "2020-09-30T14:11:44.0000000Z"},
	    {RF_LAST_PROCESSED_TIME, PAIRS_ISO_TIME, "yesterday", "(none)"},
	    {RF_IP_ADDRESS, PAIRS_IPV4, " 10.1.2.3 ", "10.1.2.3"},
	    {RF_IP_ADDRESS, PAIRS_IPV4, "fe80::1", "(none)"},
	    {RF_IP_ADDRESS, PAIRS_IPV6, "fe80::1", "fe80::1"},
	    {RF_IP_ADDRESS, PAIRS_IP, "::ffff:10.0.0.1", "::ffff:10.0.0.1"},
	    {RF_IP_ADDRESS, PAIRS_IP, "010.1.2.3", "(none)"},
	    {RF_IP_ADDRESS, PAIRS_IP, "fe80::1%eth0", "(none)"},
	    {RF_IP_ADDRESS, PAIRS_NOTIP, "fe80::1%eth0", "fe80::1%eth0"},
	    {RF_IP_ADDRESS, PAIRS_NOTIP, "10.1.2.3", "(none)"},
	    {RF_IP_ADDRESS, PAIRS_NOTIP, "   ", "(none)"},
	    {RF_ALERT_ID, PAIRS_SHORTID,
	        "0123456789012345678901234567890123456789",
	        "0123456789012345678901234567890123456789"},
	    {RF_ALERT_ID, PAIRS_LONGID,
	        "0123456789012345678901234567890123456789", "(none)"},
	    {RF_ALERT_ID, PAIRS_LONGID,
	        "01234567890123456789012345678901234567890",
	        "01234567890123456789012345678901234567890"},
	    {RF_ALERT_ID, PAIRS_SHORTID, " x ", "x"},
	    {RF_DESCRIPTION, PAIRS_TEXT, " as is ", " as is "},
	    {RF_DESCRIPTION, PAIRS_CUSTOM, "", ""},
	};
	struct record r;
	char out[64];
	size_t i;

	record_init(&r);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		record_clear(&r);
		setn(&r, cases[i].f, cases[i].in);
		CHECK_STR(
		    value(&r, cases[i].f, cases[i].kind, out), cases[i].want);
	}
	/* the alert time kinds read the parsed time */
	record_clear(&r);
	CHECK_STR(
	    value(&r, RF_ALERT_TIME, PAIRS_ALERT_EPOCH_MS, out), "(none)");
	CHECK(ts_parse("2020-09-30T14:09:20.35743Z", 26, &r.alert_time) == 0);
	r.has_alert_time = 1;
	CHECK_STR(value(&r, RF_ALERT_TIME, PAIRS_ALERT_EPOCH_MS, out),
	    "1601474960357");
	CHECK_STR(value(&r, RF_ALERT_TIME, PAIRS_ALERT_ISO_TIME, out),
	    "2020-09-30T14:09:20.3574300Z");
	CHECK(pairs_ip_family("1.2.3.4", 7) != 0);
	CHECK(pairs_ip_family("1.2.3.4\0", 8) == 0);
	CHECK(pairs_ip_family("", 0) == 0);
	record_reset(&r);
}

static void
test_host_ip(void)
{
	static const struct {
		const char *v4, *v6, *want;
	} cases[] = {
	    {"10.1.2.3", "", "10.1.2.3"},
	    {" , 10.1.2.3;", "", "10.1.2.3"},
	    {"127.0.0.1, 169.254.0.1 0.1.2.3\t172.16.1.1", "", "172.16.1.1"},
	    {"fd00::1", "fd00::2", "fd00::2"}, /* v4 list: v4 only */
	    {"", "::1,fe80::9, fd00::3", "fd00::3"},
	    {"", "::, ::ffff:10.0.0.1", "::ffff:10.0.0.1"},
	    {"host", "", "(none)"},
	    {"", "", "(none)"},
	};
	struct record r;
	char out[64];
	size_t i;

	record_init(&r);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		record_clear(&r);
		setn(&r, RF_INTERNAL_IPV4_LIST, cases[i].v4);
		setn(&r, RF_INTERNAL_IPV6_LIST, cases[i].v6);
		CHECK_STR(value(&r, RF_INTERNAL_IPV4_LIST, PAIRS_HOST_IP, out),
		    cases[i].want);
	}
	record_reset(&r);
}

/* ---- the writer, with a toy format: key=value, ',' between ---- */

static const struct text_esc plain = {{NULL}, 0, ""};

static int
toy_add(struct buf *out, const struct record *r, const struct pairs_map *m,
    const char *p, size_t n, size_t cap, int first, size_t *vlen,
    const void *ctx)
{
	size_t start = out->len, added;
	int rc;

	(void)r;
	(void)ctx;
	*vlen = 0;
	if ((!first && (rc = buf_addc(out, ',')) != 0) ||
	    (rc = buf_adds(out, m->key)) != 0 ||
	    (rc = buf_addc(out, '=')) != 0 ||
	    (rc = text_escape(
	         out, p, n, &plain, TEXT_NOLIMIT, cap, 0, &added)) != 0) {
		buf_truncate(out, start);
		return rc;
	}
	if (added == 0)
		buf_truncate(out, start);
	*vlen = added;
	return 0;
}

static const struct pairs_map toy_map[] = {
    {RF_ALERT_ID, "id", NULL, NULL, 0, PAIRS_TEXT, PAIRS_KEEP},
    {RF_CATEGORY, "cat", NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_SEVERITY, "sev", NULL, NULL, 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_DESCRIPTION, "d", NULL, NULL, 0, PAIRS_TEXT, PAIRS_LOW},
    {RF_COMMAND_LINE, "c", NULL, NULL, 0, PAIRS_TEXT, PAIRS_LOW},
    {RF_URL, "u", NULL, NULL, 0, PAIRS_TEXT, PAIRS_LOW},
    {RF_FILE_PATH, "blob", NULL, NULL, 0, PAIRS_TEXT, PAIRS_BULK},
};

static struct pairs_ops toy = {
    .map = toy_map,
    .nmap = sizeof(toy_map) / sizeof(toy_map[0]),
    .blanks = NULL,
    .btrue = "1",
    .bfalse = "0",
    .lead_sep = 0,
    .esc = NULL,
    .add = toy_add,
    .ctx = NULL,
};

/* Header "H|", pairs, tail "" : the message for max (0: none). */
static int
toy_write(struct buf *out, const struct record *r, size_t max,
    struct pairs_result *cut)
{
	buf_clear(out);
	buf_adds(out, "H|");
	return pairs_write(out, 0, r, &toy, max, 0, 0, cut);
}

static void
test_writer(void)
{
	struct record r;
	struct buf out, d, c, u, blob;
	size_t full, max;
	struct pairs_result cut;

	record_init(&r);
	buf_init(&out, 0);
	buf_init(&d, 0);
	buf_init(&c, 0);
	buf_init(&u, 0);
	buf_init(&blob, 0);
	while (d.len < 100)
		buf_adds(&d, "dddddddddd");
	while (c.len < 300)
		buf_adds(&c, "cccccccccc");
	while (u.len < 60)
		buf_adds(&u, "uuuuuuuuuu");
	while (blob.len < 500)
		buf_adds(&blob, "bbbbbbbbbb");
	setn(&r, RF_ALERT_ID, "ID");
	setn(&r, RF_CATEGORY, "Malware");
	setn(&r, RF_SEVERITY, "High");
	setn(&r, RF_DESCRIPTION, d.data);
	setn(&r, RF_COMMAND_LINE, c.data);
	setn(&r, RF_URL, u.data);
	setn(&r, RF_FILE_PATH, blob.data);

	CHECK(toy_write(&out, &r, 0, &cut) == 0 && !CUT(cut));
	full = out.len;
	CHECK(full == 2 + 5 + 12 + 9 + 103 + 303 + 63 + 506);
	CHECK(toy_write(&out, &r, full, &cut) == 0 && !CUT(cut));

	/* one byte less: the bulky pair goes, nothing else changes */
	CHECK(toy_write(&out, &r, full - 1, &cut) == 0 && CUT(cut));
	CHECK(out.len == full - 506 && strstr(out.data, "blob=") == NULL);

	/* then the longest LOW value is cut first */
	CHECK(toy_write(&out, &r, full - 506 - 100, &cut) == 0);
	CHECK(out.len == full - 506 - 100);
	CHECK(strstr(out.data, d.data) != NULL && strstr(out.data, u.data));

	/* levelled: c and d meet at one length (80), u (60) stays whole */
	CHECK(
	    toy_write(&out, &r, 2 + 5 + 12 + 9 + 63 + 2 * (3 + 80), &cut) == 0);
	CHECK(strstr(out.data,
	          ",d="
	          "dddddddddddddddddddddddddddddddddddddddd"
	          "dddddddddddddddddddddddddddddddddddddddd"
	          ",c="
	          "cccccccccccccccccccccccccccccccccccccccc"
	          "cccccccccccccccccccccccccccccccccccccccc"
	          ",u=") != NULL);
	CHECK(strstr(out.data, u.data) != NULL);

	/* every size down to the KEEP pairs: within max, ids kept */
	for (max = full; max >= 7; max--) {
		if (toy_write(&out, &r, max, &cut) != 0 || out.len > max ||
		    strncmp(out.data, "H|id=ID", 7) != 0) {
			CHECK(0);
			fprintf(stderr, "max %zu: %s\n", max, buf_str(&out));
			break;
		}
	}
	CHECK(max == 6);
	/* LOW pairs go from the end of the table, before HIGH ones */
	CHECK(toy_write(&out, &r, 7 + 12 + 9 + 3 + 32, &cut) == 0);
	CHECK(strstr(out.data, ",cat=Malware,sev=High,d=") != NULL);
	CHECK(toy_write(&out, &r, 7 + 12 + 9, &cut) == 0);
	CHECK_STR(buf_str(&out), "H|id=ID,cat=Malware,sev=High");
	CHECK(toy_write(&out, &r, 7 + 12, &cut) == 0);
	CHECK_STR(buf_str(&out), "H|id=ID,cat=Malware");
	buf_clear(&out);
	buf_adds(&out, "H|");
	CHECK(pairs_write(&out, 0, &r, &toy, 6, 0, 0, &cut) == ERR_TOOBIG);
	CHECK_STR(buf_str(&out), "H|");

	/* a tail counts, the cut tail when shortened */
	buf_clear(&out);
	buf_adds(&out, "H|");
	CHECK(pairs_write(&out, 0, &r, &toy, full + 1, 1, 5, &cut) == 0 &&
	    !CUT(cut));
	buf_clear(&out);
	buf_adds(&out, "H|");
	CHECK(pairs_write(&out, 0, &r, &toy, full, 1, 5, &cut) == 0 &&
	    CUT(cut) && out.len + 5 <= full);

	/* lead_sep: every pair has its separator; still exact */
	toy.lead_sep = 1;
	buf_clear(&out);
	buf_adds(&out, "{x");
	CHECK(pairs_write(&out, 0, &r, &toy, 0, 0, 0, &cut) == 0);
	CHECK(strncmp(out.data, "{x,id=ID,", 9) == 0 && out.len == full + 1);
	for (max = full + 1; max >= 8; max--) {
		buf_clear(&out);
		buf_adds(&out, "{x");
		if (pairs_write(&out, 0, &r, &toy, max, 0, 0, &cut) != 0 ||
		    out.len > max) {
			CHECK(0);
			break;
		}
	}
	CHECK(max == 7);
	toy.lead_sep = 0;

	/* out's own cap: ERR_TOOBIG, out as on entry */
	{
		struct buf small;

		buf_init(&small, 40);
		buf_adds(&small, "H|");
		CHECK(pairs_write(&small, 0, &r, &toy, 0, 0, 0, &cut) ==
		    ERR_TOOBIG);
		CHECK_STR(buf_str(&small), "H|");
		buf_reset(&small);
	}
	buf_reset(&out);
	buf_reset(&d);
	buf_reset(&c);
	buf_reset(&u);
	buf_reset(&blob);
	record_reset(&r);
}

/* ---- the key=value style that pairs.c writes itself ---- */

static int
toy_custom(const struct record *r, const struct pairs_map *m, const char *p,
    size_t n, char tmp[PAIRS_TMP], const char **vp, size_t *vn)
{
	(void)r;
	(void)m;
	if (n == 0)
		return 0;
	tmp[0] = '#';
	tmp[1] = p[0];
	*vp = tmp;
	*vn = 2;
	return 1;
}

static const struct text_esc kv_esc = {{['|'] = "\\|", ['\n'] = " "}, 0, "|"};

static const struct pairs_map kv_map[] = {
    {RF_ALERT_ID, "id", NULL, NULL, 0, PAIRS_TEXT, PAIRS_KEEP},
    {RF_SHA256, "cs6", "cs6Label", "Sha256", 0, PAIRS_TEXT, PAIRS_HIGH},
    {RF_SEVERITY, "sev", NULL, NULL, 0, PAIRS_CUSTOM, PAIRS_HIGH},
    {RF_DESCRIPTION, "d", NULL, NULL, 4, PAIRS_TEXT, PAIRS_LOW},
};

static void
test_kv(void)
{
	struct pairs_ops ops = {
	    .map = kv_map,
	    .nmap = sizeof(kv_map) / sizeof(kv_map[0]),
	    .blanks = &kv_esc,
	    .btrue = "1",
	    .bfalse = "0",
	    .lead_sep = 0,
	    .esc = &kv_esc,
	    .sep = '^',
	    .custom = toy_custom,
	    .add = NULL,
	    .ctx = NULL,
	};
	struct record r;
	struct buf b;
	struct pairs_result cut;

	record_init(&r);
	buf_init(&b, 0);
	setn(&r, RF_ALERT_ID, "a|1");
	setn(&r, RF_SHA256, " h\n");
	setn(&r, RF_SEVERITY, "High");
	setn(&r, RF_DESCRIPTION, "abcdefgh");
	CHECK(pairs_write(&b, 0, &r, &ops, 0, 0, 0, &cut) == 0);
	CHECK_STR(buf_str(&b), "id=a\\|1^cs6=h^cs6Label=Sha256^sev=#H^d=abcd");
	CHECK(!CUT(cut));
	/* an empty value writes neither its pair nor its label */
	buf_clear(&b);
	setn(&r, RF_SHA256, "\n \n");
	setn(&r, RF_SEVERITY, "");
	CHECK(pairs_write(&b, 0, &r, &ops, 0, 0, 0, &cut) == 0);
	CHECK_STR(buf_str(&b), "id=a\\|1^d=abcd");
	/* over a limit, the low pair goes first (too short to be cut) */
	buf_clear(&b);
	CHECK(pairs_write(&b, 0, &r, &ops, 10, 0, 0, &cut) == 0);
	CHECK_STR(buf_str(&b), "id=a\\|1");
	CHECK(CUT(cut));
	buf_reset(&b);
	record_reset(&r);
}

int
main(void)
{
	test_kinds();
	test_host_ip();
	test_writer();
	test_kv();
	return check_done();
}
