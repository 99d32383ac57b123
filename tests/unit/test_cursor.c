/* SPDX-License-Identifier: MIT */
/*
 * Cursor and dedup set (src/cursor.c): keys, pruning, and the state file
 * round trip, including a corrupt file and one of another tenant.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "buf.h"
#include "cursor.h"
#include "errcode.h"
#include "ts.h"

static struct ts
P(const char *s) {
	struct ts t;

	ts_parse(s, strlen(s), &t);
	return t;
}

static void
test_keys(void)
{
	struct cursor *c = cursor_new();
	struct ts t1 = P("2020-01-01T00:00:00Z"),
	          t2 = P("2020-01-01T01:00:00Z");
	char key[64];
	int i, all = 1;

	CHECK(!cursor_has_position(c));
	cursor_rewind(c, &t1);
	CHECK(!cursor_has_position(c));
	CHECK(!cursor_seen(c, "a", 1));
	CHECK(cursor_add(c, "a", 1, &t1) == 0);
	CHECK(cursor_seen(c, "a", 1));
	CHECK(!cursor_seen(c, "ab", 2));
	CHECK(cursor_add(c, "a", 1, &t1) == 0);
	CHECK(cursor_count(c) == 1);
	/* Many keys: the index grows and every key stays findable. */
	for (i = 0; i < 20000; i++) {
		int n = snprintf(key, sizeof(key), "alert_%d:ioc", i);

		cursor_add(c, key, (size_t)n, i % 2 ? &t2 : &t1);
	}
	for (i = 0; i < 20000; i++) {
		int n = snprintf(key, sizeof(key), "alert_%d:ioc", i);

		all &= cursor_seen(c, key, (size_t)n);
	}
	CHECK(all);
	CHECK(cursor_count(c) == 20001);
	/* Pruning drops keys older than the limit and keeps the rest. */
	cursor_prune(c, &t2);
	CHECK(cursor_count(c) == 10000);
	CHECK(!cursor_seen(c, "alert_0:ioc", 11));
	CHECK(cursor_seen(c, "alert_1:ioc", 11));
	CHECK(!cursor_seen(c, "a", 1));
	/* The position never moves backwards. */
	cursor_advance(c, &t2);
	cursor_advance(c, &t1);
	CHECK(ts_cmp(cursor_position(c), &t2) == 0);
	/* Only a rewind moves it back, and never forward; keys stay. */
	cursor_rewind(c, &t2);
	CHECK(ts_cmp(cursor_position(c), &t2) == 0);
	cursor_rewind(c, &t1);
	CHECK(ts_cmp(cursor_position(c), &t1) == 0);
	cursor_rewind(c, &t2);
	CHECK(ts_cmp(cursor_position(c), &t1) == 0);
	CHECK(cursor_count(c) == 10000);
	cursor_free(c);
	cursor_free(NULL);
}

static void
test_file(void)
{
	char dir[] = "/tmp/mdesiem-cursor-XXXXXX", path[128];
	struct cursor *c = cursor_new(), *d = cursor_new(), *e = cursor_new();
	struct ts t = P("2020-09-30T14:11:44.0779765Z");
	const struct state_owner o = {"T1", "siem", "https://x/api/alerts"};
	const struct state_owner t2 = {"t2", "siem", "https://x/api/alerts"};
	const struct state_owner lower = {"t1", "siem", "https://x/api/alerts"};
	const struct state_owner graph = {
	    "t1", "graph", "https://x/api/alerts"};
	const struct state_owner url = {"t1", "siem", "https://y/api/alerts"};
	const char *why = NULL;
	struct buf b;
	FILE *f;
	struct stat st;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/cursor-siem.json", dir);
	CHECK(cursor_load(c, path, &o, &why) == ERR_NOTFOUND);
	cursor_advance(c, &t);
	cursor_add(c, "k1", 2, &t);
	cursor_add(c, "k\"2\\", 4, &t);
	CHECK(cursor_save(c, path, &o) == 0);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 077) == 0);
	CHECK(cursor_load(d, path, &o, &why) == 0);
	CHECK(cursor_has_position(d) && ts_cmp(cursor_position(d), &t) == 0);
	CHECK(cursor_seen(d, "k1", 2) && cursor_seen(d, "k\"2\\", 4));
	CHECK(cursor_count(d) == 2);
	/* Tenant ids are compared without case. */
	cursor_free(d);
	d = cursor_new();
	CHECK(cursor_load(d, path, &lower, &why) == 0 && cursor_count(d) == 2);
	/* Another tenant's, api's or URL's state is never used. */
	CHECK(cursor_load(e, path, &t2, &why) == CURSOR_FOREIGN);
	CHECK(why != NULL && strstr(why, "tenant") != NULL);
	CHECK(cursor_load(e, path, &graph, &why) == CURSOR_FOREIGN);
	CHECK(why != NULL && strstr(why, "api") != NULL);
	CHECK(cursor_load(e, path, &url, &why) == CURSOR_FOREIGN);
	CHECK(why != NULL && strstr(why, "URL") != NULL);
	CHECK(!cursor_has_position(e) && cursor_count(e) == 0);
	/* The owner as COMMITs name it. */
	buf_init(&b, 0);
	CHECK(cursor_owner_text(&o, &b) == 0);
	CHECK(b.len == strlen("t1\nsiem\nhttps://x/api/alerts") &&
	    memcmp(b.data, "t1\nsiem\nhttps://x/api/alerts", b.len) == 0);
	buf_reset(&b);
	/* A corrupt file is reported. */
	f = fopen(path, "w");
	fputs("{\"version\":1,\"api\":", f);
	fclose(f);
	CHECK(cursor_load(e, path, &o, &why) == ERR_PARSE);
	CHECK(why != NULL && strstr(why, "JSON") != NULL);
	unlink(path);
	rmdir(dir);
	cursor_free(c);
	cursor_free(d);
	cursor_free(e);
}

/*
 * A file written by the version before files named their URL
 * (tests/data/state/legacy, written by that version's daemon) is taken
 * over, keys and all, by the tenant and api it names, whatever the URL.
 */
static void
test_legacy(void)
{
	const char *path = "tests/data/state/legacy/cursor-siem.json";
	const struct state_owner o = {"00000000-0000-0000-0000-000000000001",
	    "siem", "https://elsewhere/api/alerts"};
	const struct state_owner other = {
	    "00000000-0000-0000-0000-000000000002", "siem", o.url};
	struct cursor *c = cursor_new();
	struct ts t = P("2026-12-02T07:39:32.0000281Z");
	const char *why = NULL;

	CHECK(cursor_load(c, path, &o, &why) == CURSOR_UNTAGGED);
	CHECK(cursor_has_position(c) && ts_cmp(cursor_position(c), &t) == 0);
	CHECK(cursor_count(c) == 3 && cursor_seq(c) == 1);
	CHECK(cursor_seen(c,
	    "da637370718981685686_7597980001:"
	    "KWX4SLPQMQITXNcTIouVFbk/G5s8NO6nM6GbaXT0oJ4=",
	    76));
	cursor_free(c);
	c = cursor_new();
	CHECK(cursor_load(c, path, &other, &why) == CURSOR_FOREIGN);
	cursor_free(c);
}

int
main(void)
{
	test_keys();
	test_file();
	test_legacy();
	return check_done();
}
