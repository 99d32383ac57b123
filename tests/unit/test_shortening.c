/* SPDX-License-Identifier: MIT */
/*
 * How CEF, LEEF and JSON messages are fitted into max_message_size
 * (pairs.c's packing, README "Fitting max_message_size"), over the
 * hostile corpus (hostile.h) and over records with 1 to 20 long values
 * (1-10 KB, with escapes and multi-byte characters) in every position of
 * the mapping, under several budgets.  For every message:
 *
 * - it is within the budget and reads back (this test's strict readers;
 *   tests/integration/test_shortening.py parses the same lines with
 *   liblognorm, the LEEF parser and Python's json module);
 * - never-cut values are whole; every other value is whole, a non-empty
 *   prefix of itself (shortened) or absent (dropped);
 * - every dropped value is counted, and so is every shortened one;
 * - no dropped value would still fit in the room the message left, once
 *   the "shortened first" values are counted at their minimum;
 * - the message uses at least 95% of the budget whenever the record's
 *   whole content exceeds it.
 *
 * It prints the mean share of the budget used by the messages that had
 * to be shortened.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "cef.h"
#include "check.h"
#include "errcode.h"
#include "fixture.h"
#include "hostile.h"
#include "json_out.h"
#include "leef.h"
#include "pairs.h"
#include "record.h"

#define DATA "tests/data/cef/"
#define PIECE(lit) \
	{ \
		lit, sizeof(lit) - 1 \
	}
#define SET_SHORT(r, f, lit) setn(r, f, lit, sizeof(lit) - 1)
#define MAXPAIRS 128
#define SLACK 8 /* bytes a cut on a character or escape may leave unused */

/* One pair as read back: key, value text (escaped as written), and the
 * bytes adding it costs (its separator, key, value, label pair). */
struct pair {
	const char *k, *v;
	size_t kn, vn, cost;
};

struct msg {
	struct pair p[MAXPAIRS];
	size_t n;
	size_t head; /* bytes before the first pair */
};

struct fmt {
	const char *name;
	int (*render)(struct buf *out, const struct record *r, size_t max,
	    struct pairs_result *res);
	int (*read)(const char *s, size_t n, struct msg *m);
	const struct pairs_map *(*row)(size_t i);
	size_t tail_cut; /* bytes a shortened message ends with extra */
	size_t closing; /* bytes after the last pair */
};

struct piece {
	const char *s;
	size_t n;
};

static unsigned long long rng_state = 0x9E3779B97F4A7C15ULL;

/* A random number below n (xorshift64: a failure repeats). */
static size_t
rnd(size_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (size_t)(rng_state % n);
}

static void
setn(struct record *r, enum record_field f, const char *s, size_t n)
{
	r->f[f].p = s;
	r->f[f].n = n;
}

/* Where the lines for the integration test go: $BUILD or "build". */
static const char *
build_dir(void)
{
	const char *b = getenv("BUILD");

	return b != NULL && *b != '\0' ? b : "build";
}

static struct cef_opts cef_o;
static FILE *keys_fp[3]; /* the pair count of each line written */
static struct leef_opts leef_o;

static int
cef_do(struct buf *out, const struct record *r, size_t max,
    struct pairs_result *res)
{
	return cef_render(out, r, &cef_o, max, res);
}

static int
leef_do(struct buf *out, const struct record *r, size_t max,
    struct pairs_result *res)
{
	return leef_render(out, r, &leef_o, max, res);
}

static int
add_pair(struct msg *m, const char *k, size_t kn, const char *v, size_t vn,
    size_t cost)
{
	size_t i;

	if (m->n == MAXPAIRS || kn == 0 || vn == 0)
		return -1;
	for (i = 0; i < m->n; i++)
		if (m->p[i].kn == kn && memcmp(m->p[i].k, k, kn) == 0)
			return -1; /* a key twice */
	m->p[m->n].k = k;
	m->p[m->n].kn = kn;
	m->p[m->n].v = v;
	m->p[m->n].vn = vn;
	m->p[m->n].cost = cost;
	m->n++;
	return 0;
}

/* CEF: seven unescaped '|', then key=value pairs split as a CEF reader
 * does (a key is the word before an unescaped '='). */
static int
cef_read(const char *s, size_t n, struct msg *m)
{
	size_t i = 0, pipes = 0, ks, vs, j, lastsp;

	m->n = 0;
	if (n < 6 || memcmp(s, "CEF:0|", 6) != 0)
		return -1;
	for (; i < n && pipes < 7; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '|')
			pipes++;
	}
	if (pipes != 7)
		return -1;
	m->head = i;
	while (i < n) {
		for (ks = i; i < n && isalnum((unsigned char)s[i]); i++)
			;
		if (i == ks || i >= n || s[i] != '=')
			return -1;
		vs = ++i;
		lastsp = 0;
		for (j = vs; j < n && s[j] != '='; j++) {
			if ((unsigned char)s[j] < 0x20 || s[j] == 0x7f)
				return -1;
			if (s[j] == '\\') {
				if (j + 1 >= n ||
				    strchr("\\=nr", s[j + 1]) == NULL)
					return -1;
				j++;
			} else if (s[j] == ' ')
				lastsp = j;
		}
		if (j < n && (lastsp == 0 || lastsp == vs))
			return -1;
		j = j < n ? lastsp : n;
		if (add_pair(m, s + ks, vs - 1 - ks, s + vs, j - vs,
		        j - ks + 1) != 0)
			return -1;
		i = j < n ? j + 1 : n;
	}
	return 0;
}

/* LEEF 2.0 with '^': five header fields, then pairs split on '^'. */
static int
leef_read(const char *s, size_t n, struct msg *m)
{
	size_t i = 9, f = 0, ks, eq;

	m->n = 0;
	if (n < 9 || memcmp(s, "LEEF:2.0|", 9) != 0)
		return -1;
	for (; i < n && f < 5; i++) {
		if ((unsigned char)s[i] < 0x20)
			return -1;
		if (s[i] == '|')
			f++;
	}
	if (f != 5)
		return -1;
	m->head = i;
	while (i < n) {
		for (ks = i; i < n && s[i] != '^'; i++)
			if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
				return -1;
		for (eq = ks; eq < i && s[eq] != '='; eq++)
			if (!isalnum((unsigned char)s[eq]))
				return -1;
		if (eq >= i || s[i - 1] == ' ' || s[eq + 1] == ' ')
			return -1;
		if (add_pair(m, s + ks, eq - ks, s + eq + 1, i - eq - 1,
		        i - ks + 1) != 0)
			return -1;
		if (i < n && ++i == n)
			return -1; /* trailing delimiter */
	}
	return 0;
}

/* The end of the JSON string that starts at s[i] == '"'. */
static size_t
jstr_end(const char *s, size_t n, size_t i)
{
	for (i++; i < n && s[i] != '"'; i++)
		if (s[i] == '\\')
			i++;
	return i < n ? i + 1 : 0;
}

/* The end of the JSON value at s[i] (strings, nesting respected). */
static size_t
jval_end(const char *s, size_t n, size_t i)
{
	int depth = 0;

	if (s[i] == '"')
		return jstr_end(s, n, i);
	for (; i < n; i++) {
		if (s[i] == '"') {
			if ((i = jstr_end(s, n, i)) == 0)
				return 0;
			i--;
		} else if (s[i] == '[' || s[i] == '{')
			depth++;
		else if (s[i] == ']' || s[i] == '}') {
			if (depth-- == 0)
				return i;
		} else if (s[i] == ',' && depth == 0)
			return i;
	}
	return 0;
}

/* JSON: cJSON must read it; members scanned for their spans. */
static int
json_read(const char *s, size_t n, struct msg *m)
{
	cJSON *doc = cJSON_ParseWithLength(s, n);
	size_t i = 1, ke, ve, start;
	int ok = cJSON_IsObject(doc);

	cJSON_Delete(doc);
	m->n = 0;
	m->head = 1;
	if (!ok)
		return -1;
	while (i < n && s[i] == '"') {
		start = i;
		if ((ke = jstr_end(s, n, i)) == 0 || s[ke] != ':' ||
		    (ve = jval_end(s, n, ke + 1)) == 0)
			return -1;
		/* a string value without its quotes, others as written */
		if (s[ke + 1] == '"'
		        ? add_pair(m, s + i + 1, ke - i - 2, s + ke + 2,
		              ve - ke - 3, ve - start + 1)
		        : add_pair(m, s + i + 1, ke - i - 2, s + ke + 1,
		              ve - ke - 1, ve - start + 1))
			return -1;
		i = ve < n && s[ve] == ',' ? ve + 1 : ve;
	}
	return i + 1 == n && s[i] == '}' ? 0 : -1;
}

static const struct fmt fmts[] = {
    {"cef", cef_do, cef_read, cef_mapping_get, 0, 0},
    {"leef", leef_do, leef_read, leef_mapping_get, 0, 0},
    {"json", json_out_render, json_read, json_out_mapping_get,
        sizeof(",\"truncated\":true}") - 2, 1},
};

/* The mapping row whose key is k, or NULL (labels, fixed members). */
static const struct pairs_map *
row_of(const struct fmt *f, const char *k, size_t kn)
{
	const struct pairs_map *m;
	const char *key;
	size_t i;

	for (i = 0; (m = f->row(i)) != NULL; i++) {
		if (m->kind == PAIRS_HEADER)
			continue;
		key = f->row == json_out_mapping_get ? json_out_key(m) : m->key;
		if (strlen(key) == kn && memcmp(key, k, kn) == 0)
			return m;
	}
	return NULL;
}

/* The index of m's pair keyed k, or m->n. */
static size_t
find_at(const struct msg *m, const char *k, size_t kn)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->p[i].kn == kn && memcmp(m->p[i].k, k, kn) == 0)
			break;
	return i;
}

static const struct pair *
find(const struct msg *m, const char *k, size_t kn)
{
	size_t i = find_at(m, k, kn);

	return i < m->n ? &m->p[i] : NULL;
}

/* A CEF label pair ("cs1Label") adds its cost to its key's pair. */
static void
fold_labels(const struct fmt *f, struct msg *m)
{
	struct pair *p;
	size_t i;

	if (f->row != cef_mapping_get)
		return;
	for (i = 0; i < m->n; i++) {
		p = &m->p[i];
		if (p->kn > 5 && memcmp(p->k + p->kn - 5, "Label", 5) == 0) {
			size_t o = find_at(m, p->k, p->kn - 5);

			CHECK(o < m->n);
			if (o < m->n)
				m->p[o].cost += p->cost;
			p->cost = 0;
		}
	}
}

struct stats {
	size_t over, messages, toobig, shortened, dropped;
	double used;
};

static size_t
min_cost(const struct pair *p, const struct pairs_map *m)
{
	if (m->prio != PAIRS_LOW || p->vn <= PAIRS_CUT_MIN)
		return p->cost;
	return p->cost - p->vn + PAIRS_CUT_MIN;
}

/* The message with only its never-cut values (and fixed members). */
static size_t
keep_len(const struct fmt *f, const struct msg *full)
{
	const struct pairs_map *m;
	size_t i, len = full->head + f->closing + f->tail_cut;

	for (i = 0; i < full->n; i++) {
		m = row_of(f, full->p[i].k, full->p[i].kn);
		if (m == NULL || m->prio == PAIRS_KEEP)
			len += full->p[i].cost;
	}
	return len - 1; /* the first pair has no separator */
}

/* What every value of full became in got; returns 0 when all is right. */
static int
compare(const struct fmt *f, const struct msg *full, const struct msg *got,
    size_t len, size_t max, const struct pairs_result *res)
{
	const struct pairs_map *m;
	const struct pair *p, *q;
	size_t i, slack = max - len, drop = 0, cut = 0, worst = 0;
	int bad = 0;

	for (i = 0; i < got->n; i++) {
		q = &got->p[i];
		if ((m = row_of(f, q->k, q->kn)) == NULL || q->cost == 0)
			continue;
		p = find(full, q->k, q->kn);
		if (p == NULL || q->vn > p->vn || memcmp(p->v, q->v, q->vn))
			bad |= 1; /* not the value, nor a prefix of it */
		else if (q->vn < p->vn) {
			cut++;
			if (m->prio == PAIRS_KEEP || m->prio == PAIRS_BULK)
				bad |= 2; /* never-cut value cut */
			if (m->prio == PAIRS_LOW && q->vn > PAIRS_CUT_MIN)
				slack += q->vn - PAIRS_CUT_MIN;
		} else if (m->prio == PAIRS_LOW && q->vn > PAIRS_CUT_MIN)
			slack += q->vn - PAIRS_CUT_MIN;
	}
	for (i = 0; i < full->n; i++) {
		p = &full->p[i];
		if ((m = row_of(f, p->k, p->kn)) == NULL || p->cost == 0 ||
		    find(got, p->k, p->kn) != NULL)
			continue;
		drop++;
		if (m->prio == PAIRS_KEEP)
			bad |= 4; /* never-cut value dropped */
		else if (m->prio != PAIRS_BULK &&
		    min_cost(p, m) + SLACK <= slack) {
			bad |= 8; /* a dropped value would still fit */
			worst = min_cost(p, m);
		}
	}
	if (drop != res->dropped || cut != res->shortened)
		bad |= 16;
	if (bad)
		fprintf(stderr,
		    "%s max %zu len %zu: bad %d (dropped %zu/%u cut %zu/%u "
		    "slack %zu fits %zu)\n",
		    f->name, max, len, bad, drop, res->dropped, cut,
		    res->shortened, slack, worst);
	return bad;
}

static void
one(const struct fmt *f, const struct record *r, size_t max, struct buf *out,
    struct buf *whole, struct stats *st, FILE *lines)
{
	static struct msg full, got;
	struct pairs_result res;
	int rc;

	buf_clear(whole);
	CHECK(f->render(whole, r, 0, NULL) == 0);
	CHECK(f->read(whole->data, whole->len, &full) == 0);
	fold_labels(f, &full);
	buf_clear(out);
	rc = f->render(out, r, max, &res);
	CHECK(rc == 0 || rc == ERR_TOOBIG);
	if (rc == ERR_TOOBIG) {
		st->toobig++;
		CHECK(keep_len(f, &full) > max);
		return;
	}
	st->messages++;
	CHECK(out->len <= max);
	CHECK(f->read(out->data, out->len, &got) == 0);
	fold_labels(f, &got);
	if (whole->len <= max) {
		CHECK(out->len == whole->len && res.dropped == 0 &&
		    res.shortened == 0);
		return;
	}
	st->over++;
	st->used += (double)out->len / (double)max;
	st->shortened += res.shortened;
	st->dropped += res.dropped;
	CHECK(compare(f, &full, &got, out->len, max, &res) == 0);
	CHECK(out->len * 100 >= max * 95);
	if (out->len * 100 < max * 95)
		fprintf(stderr, "%s max %zu: %zu bytes only\n", f->name, max,
		    out->len);
	if (lines != NULL && keys_fp[f - fmts] != NULL) {
		fwrite(out->data, 1, out->len, lines);
		fputc('\n', lines);
		fprintf(keys_fp[f - fmts], "%zu\n", got.n);
	}
}

/* Long text: pieces with escapes, separators and multi-byte characters. */
static void
long_text(struct buf *b, size_t len)
{
	static const struct piece set[] = {
	    PIECE("abcdefgh"),
	    PIECE("0123"),
	    PIECE(" "),
	    PIECE("\\"),
	    PIECE("="),
	    PIECE("|"),
	    PIECE("^"),
	    PIECE("\""),
	    PIECE("\n"),
	    PIECE("\t"),
	    PIECE("\xe6\x97\xa5"),
	    PIECE("\xf0\x9f\x94\xa5"),
	    PIECE("\xff"),
	    PIECE("C:\\Windows\\System32\\"),
	};

	buf_clear(b);
	buf_adds(b, "v");
	while (b->len < len) {
		size_t k = rnd(14); /* one piece: its text and its length */

		buf_add(b, set[k].s, set[k].n);
	}
}

static void
run_records(struct record *base, const size_t *budgets, size_t nb,
    struct stats st[3], FILE *lines[3])
{
	static struct buf text[20];
	struct record r;
	struct buf out, whole;
	size_t pos, k, j, b, f, nfields = HOSTILE_N(hostile_strings);
	int fld;

	buf_init(&out, 0);
	buf_init(&whole, 0);
	for (j = 0; j < 20; j++)
		buf_init(&text[j], 0);
	for (pos = 0; pos < nfields; pos++) {
		for (k = 1; k <= 20; k += k < 4 ? 1 : 8) {
			r = *base;
			for (j = 0; j < k; j++) {
				fld = record_field_by_name(
				    hostile_strings[(pos + j * 3) % nfields]);
				long_text(&text[j], 1000 + rnd(9000));
				if (fld >= 0)
					setn(&r, (enum record_field)fld,
					    text[j].data, text[j].len);
			}
			for (b = 0; b < nb; b++)
				for (f = 0; f < 3; f++)
					one(&fmts[f], &r, budgets[b], &out,
					    &whole, &st[f], lines[f]);
		}
	}
	for (j = 0; j < 20; j++)
		buf_reset(&text[j]);
	buf_reset(&out);
	buf_reset(&whole);
}

static void
run_hostile(
    const size_t *budgets, size_t nb, struct stats st[3], FILE *lines[3])
{
	struct buf text, out, whole;
	const cJSON *it;
	const char *why;
	struct record r;
	cJSON *doc;
	size_t b, f;

	buf_init(&text, 0);
	buf_init(&out, 0);
	buf_init(&whole, 0);
	CHECK(hostile_corpus(&text, build_dir()) == 0);
	doc = cJSON_ParseWithLength(text.data, text.len);
	CHECK(doc != NULL);
	record_init(&r);
	cJSON_ArrayForEach(it, doc)
	{
		if (record_from_siem(&r, it, &why) != 0)
			continue;
		for (b = 0; b < nb; b++)
			for (f = 0; f < 3; f++)
				one(&fmts[f], &r, budgets[b], &out, &whole,
				    &st[f], lines[f]);
	}
	record_reset(&r);
	cJSON_Delete(doc);
	buf_reset(&text);
	buf_reset(&out);
	buf_reset(&whole);
}

/*
 * The case that was reported: ten 6,000-character values, CEF at 8192
 * bytes.  Every short value after the long ones must still be there, and
 * every "shortened first" value at least in part.
 */
static void
test_reported(const struct record *base)
{
	static const char *const longs[] = {"ThreatName", "ThreatFamily",
	    "Description", "CommandLine", "FilePath", "FileName", "Url",
	    "IocValue", "CreatorIocValue", "MitreTechniques"};
	static const char *const keys[] = {"cs4=", "act=", "cn1=", "cn2=",
	    "cn3=", "cs2=", "mdeReportId=", "mdeIocUniqueId=", "mdeExternalId=",
	    "flexString1=", "cs1=", "fname=", "filePath=", "msg=", "request=",
	    "mdeCommandLine=", "mdeIocValue="};
	struct buf text[10], out;
	struct pairs_result res;
	struct record r = *base;
	size_t i;
	int f;

	buf_init(&out, 0);
	for (i = 0; i < 10; i++) {
		buf_init(&text[i], 0);
		while (text[i].len < 6000)
			buf_adds(&text[i], "C:\\Users\\x\\AppData\\tmp=1 ");
		buf_truncate(&text[i], 6000);
		f = record_field_by_name(longs[i]);
		CHECK(f >= 0);
		if (f >= 0)
			setn(&r, (enum record_field)f, text[i].data,
			    text[i].len);
	}
	SET_SHORT(&r, RF_ACTOR, "APT-X");
	SET_SHORT(&r, RF_REMEDIATION_ACTION, "quarantine");
	SET_SHORT(&r, RF_MACHINE_GROUP, "servers");
	SET_SHORT(&r, RF_EXTERNAL_ID, "ext-1");
	SET_SHORT(&r, RF_IOC_UNIQUE_ID, "ioc-1");
	SET_SHORT(&r, RF_REMEDIATION_IS_SUCCESS, "true");
	SET_SHORT(&r, RF_WAS_EXECUTING, "false");
	CHECK(cef_render(&out, &r, &cef_o, 8192, &res) == 0);
	CHECK(out.len <= 8192 && out.len >= 8192 * 95 / 100);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		CHECK(strstr(buf_str(&out), keys[i]) != NULL);
		if (strstr(buf_str(&out), keys[i]) == NULL)
			fprintf(stderr, "reported case: %s missing\n", keys[i]);
	}
	for (i = 0; i < 10; i++)
		buf_reset(&text[i]);
	buf_reset(&out);
}

/*
 * A damaged device id (thousands of characters, every one escaped) is cut
 * at PAIRS_DEVICE_ID_MAX characters in every format, so that its record
 * is still sent within the budget instead of skipped as too long.
 */
static void
test_long_device_id(const struct record *base)
{
	static const char *const keys[] = {
	    "deviceExternalId", "deviceId", "device_id"};
	struct buf id, out;
	struct record r = *base;
	struct msg m;
	const struct pair *p;
	size_t f, i, chars;

	buf_init(&id, 0);
	buf_init(&out, 0);
	while (id.len < 4200)
		buf_adds(&id, "x=1|y\\z ");
	setn(&r, RF_DEVICE_ID, id.data, id.len);
	for (f = 0; f < 3; f++) {
		buf_clear(&out);
		CHECK(fmts[f].render(&out, &r, 4096 - 60, NULL) == 0);
		CHECK(out.len > 0 && out.len <= 4096 - 60);
		CHECK(fmts[f].read(out.data, out.len, &m) == 0);
		p = find(&m, keys[f], strlen(keys[f]));
		CHECK(p != NULL);
		if (p == NULL)
			continue;
		/* its characters, CEF's and JSON's escapes undone (LEEF
		 * writes a backslash as it is) */
		for (i = chars = 0; i < p->vn; i++, chars++)
			if (p->v[i] == '\\' &&
			    strcmp(fmts[f].name, "leef") != 0)
				i++;
		CHECK(chars == PAIRS_DEVICE_ID_MAX);
		if (chars != PAIRS_DEVICE_ID_MAX)
			fprintf(stderr, "%s: device id of %zu characters\n",
			    fmts[f].name, chars);
	}
	buf_reset(&id);
	buf_reset(&out);
}

int
main(void)
{
	static const size_t budgets[] = {1024, 2048, 4096, 8192, 8096};
	struct stats st[3];
	FILE *lines[3];
	char path[512];
	struct record base;
	const char *why;
	cJSON *doc;
	size_t f;

	memset(st, 0, sizeof(st));
	cef_opts_prepare(&cef_o);
	leef_o.leef_version = 2;
	leef_o.delimiter = '^';
	CHECK(leef_opts_prepare(&leef_o) == 0);
	for (f = 0; f < 3; f++) {
		snprintf(path, sizeof(path), "%s/tests/shortening.%s.txt",
		    build_dir(), fmts[f].name);
		CHECK((lines[f] = fopen(path, "wb")) != NULL);
		snprintf(path, sizeof(path), "%s/tests/shortening.%s.keys",
		    build_dir(), fmts[f].name);
		CHECK((keys_fp[f] = fopen(path, "wb")) != NULL);
	}
	doc = load(DATA "siem-api-detections-example.json");
	CHECK(doc != NULL);
	record_init(&base);
	CHECK(record_from_siem(&base, first_item(doc), &why) == 0);
	run_records(
	    &base, budgets, sizeof(budgets) / sizeof(budgets[0]), st, lines);
	run_hostile(budgets, sizeof(budgets) / sizeof(budgets[0]), st, lines);
	test_reported(&base);
	test_long_device_id(&base);
	for (f = 0; f < 3; f++) {
		printf("%s: %zu messages, %zu over their budget: mean budget "
		       "used %.1f%%, %zu values shortened, %zu dropped; %zu "
		       "records whose never-cut values alone do not fit\n",
		    fmts[f].name, st[f].messages, st[f].over,
		    st[f].over ? 100.0 * st[f].used / (double)st[f].over : 0.0,
		    st[f].shortened, st[f].dropped, st[f].toobig);
		CHECK(st[f].over > 500);
		if (lines[f] != NULL)
			CHECK(fclose(lines[f]) == 0);
		if (keys_fp[f] != NULL)
			CHECK(fclose(keys_fp[f]) == 0);
	}
	record_reset(&base);
	cJSON_Delete(doc);
	return check_done();
}
