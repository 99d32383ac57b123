/* SPDX-License-Identifier: MIT */
/*
 * The records of a page read one by one (source_page_next()): each tree
 * is parsed into the page's block, a tree larger than the block takes the
 * rest from malloc and the block grows, a record that does not parse is
 * ERR_PARSE and the next one still reads.  Under AddressSanitizer this
 * also proves that nothing spilled is leaked or freed twice.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check.h"
#include "errcode.h"
#include "source.h"

#define NREC 6

/* A record with its own id and, for the big ones, n empty arrays: a
 * tree of about 64 bytes a node from 3 bytes of text a node. */
static void
add_record(struct buf *text, struct source_span *sp, int id, size_t n)
{
	size_t i;
	char head[64];
	int rc;

	sp->off = text->len;
	snprintf(head, sizeof(head), "{\"id\":\"rec-%d\",\"deep\":[", id);
	rc = buf_adds(text, head);
	for (i = 0; i < n && rc == 0; i++)
		rc = buf_adds(text, i == 0 ? "[]" : ",[]");
	CHECK(rc == 0 && buf_adds(text, "],\"title\":\"x\\u00e9y\"}") == 0);
	sp->len = text->len - sp->off;
}

static void
test_records(void)
{
	/* small, spilled (20,000 nodes), small, bad, spilled again, small */
	static const size_t deep[NREC] = {2, 20000, 3, 0, 40000, 1};
	struct source_span spans[NREC];
	struct source_page page;
	struct buf text;
	const cJSON *item, *v;
	char want[32];
	size_t size_before = 0;
	int i, rc;

	buf_init(&text, 0);
	for (i = 0; i < NREC; i++) {
		if (i == 3) {
			spans[i].off = text.len;
			CHECK(buf_adds(&text, "{\"id\":\"bad\",") == 0);
			spans[i].len = text.len - spans[i].off;
			continue;
		}
		add_record(&text, &spans[i], i, deep[i]);
	}
	memset(&page, 0, sizeof(page));
	page.text = text.data;
	page.spans = spans;
	page.nspans = NREC;
	for (i = 0; i < NREC; i++) {
		rc = source_page_next(&page, &item);
		if (i == 3) {
			CHECK(rc == ERR_PARSE);
			continue;
		}
		CHECK(rc == 0);
		if (rc != 0)
			continue;
		snprintf(want, sizeof(want), "rec-%d", i);
		v = cJSON_GetObjectItemCaseSensitive(item, "id");
		CHECK(cJSON_IsString(v) && strcmp(v->valuestring, want) == 0);
		v = cJSON_GetObjectItemCaseSensitive(item, "deep");
		CHECK(cJSON_GetArraySize(v) == (int)deep[i]);
		v = cJSON_GetObjectItemCaseSensitive(item, "title");
		CHECK(cJSON_IsString(v) &&
		    strcmp(v->valuestring, "x\xc3\xa9y") == 0);
		/* a tree that spilled makes the block grow for the next one */
		if (i == 2)
			CHECK(page.arena.size > size_before);
		if (i == 1)
			CHECK(page.arena.spilled);
		if (i == 0) {
			CHECK(!page.arena.spilled);
			size_before = page.arena.size;
		}
	}
	CHECK(source_page_next(&page, &item) == ERR_END);
	source_page_reset(&page);
	CHECK(page.arena.base == NULL && page.item == NULL);
	buf_reset(&text);
}

/* Trees made elsewhere (configuration, status) are malloc's as ever. */
static void
test_other_trees(void)
{
	cJSON *o = cJSON_Parse("{\"a\":[1,2,{\"b\":\"c\"}]}");
	char *s;

	CHECK(o != NULL);
	s = cJSON_PrintUnformatted(o);
	CHECK(s != NULL && strcmp(s, "{\"a\":[1,2,{\"b\":\"c\"}]}") == 0);
	cJSON_free(s);
	cJSON_Delete(o);
}

int
main(void)
{
	test_records();
	test_other_trees();
	return check_done();
}
