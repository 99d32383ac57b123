/* SPDX-License-Identifier: MIT */
/*
 * Delivery cursor and dedup set (include/cursor.h).  Keys live in one
 * string pool with an open-addressing index over it, so remembering a key
 * costs no allocation of its own; pruning compacts the pool.  The state
 * file is JSON, replaced atomically.
 */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cursor.h"
#include "errcode.h"
#include "statefile.h"

#define CURSOR_STATE_VERSION 1
#define CURSOR_MAX_FILE (256UL * 1024 * 1024)

struct kent {
	uint64_t hash;
	struct ts t;
	size_t off;
	size_t len;
};

struct cursor {
	uint64_t seq;
	int has_pos;
	struct ts pos;
	struct kent *ents;
	size_t nents, capents;
	size_t *index; /* entry number + 1; 0 = empty slot */
	size_t nindex; /* power of two */
	struct buf pool;
};

static uint64_t
hash_key(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n-- > 0) {
		h ^= (unsigned char)*p++;
		h *= 0x100000001b3ULL;
	}
	return h ^ (h >> 29);
}

struct cursor *
cursor_new(void)
{
	struct cursor *c = calloc(1, sizeof(*c));

	if (c != NULL)
		buf_init(&c->pool, 0);
	return c;
}

void
cursor_free(struct cursor *c)
{
	if (c == NULL)
		return;
	free(c->ents);
	free(c->index);
	buf_reset(&c->pool);
	free(c);
}

int
cursor_has_position(const struct cursor *c)
{
	return c->has_pos;
}

const struct ts *
cursor_position(const struct cursor *c)
{
	return &c->pos;
}

void
cursor_advance(struct cursor *c, const struct ts *t)
{
	if (!c->has_pos || ts_cmp(t, &c->pos) > 0) {
		c->pos = *t;
		c->has_pos = 1;
	}
}

void
cursor_rewind(struct cursor *c, const struct ts *t)
{
	if (c->has_pos && ts_cmp(t, &c->pos) < 0)
		c->pos = *t;
}

uint64_t
cursor_seq(const struct cursor *c)
{
	return c->seq;
}

void
cursor_set_seq(struct cursor *c, uint64_t seq)
{
	c->seq = seq;
}

size_t
cursor_count(const struct cursor *c)
{
	return c->nents;
}

/* Slot of key in the index, or of the empty slot where it would go. */
static size_t
find_slot(const struct cursor *c, const char *key, size_t n, uint64_t h)
{
	size_t mask = c->nindex - 1, i = (size_t)h & mask;

	for (;;) {
		size_t e = c->index[i];
		const struct kent *k;

		if (e == 0)
			return i;
		k = &c->ents[e - 1];
		if (k->hash == h && k->len == n &&
		    memcmp(c->pool.data + k->off, key, n) == 0)
			return i;
		i = (i + 1) & mask;
	}
}

static int
rebuild_index(struct cursor *c, size_t nindex)
{
	size_t *idx = calloc(nindex, sizeof(*idx)), i;

	if (idx == NULL)
		return ERR_NOMEM;
	free(c->index);
	c->index = idx;
	c->nindex = nindex;
	for (i = 0; i < c->nents; i++) {
		const struct kent *k = &c->ents[i];
		size_t mask = nindex - 1, s = (size_t)k->hash & mask;

		while (idx[s] != 0)
			s = (s + 1) & mask;
		idx[s] = i + 1;
	}
	return 0;
}

int
cursor_seen(const struct cursor *c, const char *key, size_t n)
{
	if (c->nindex == 0)
		return 0;
	return c->index[find_slot(c, key, n, hash_key(key, n))] != 0;
}

int
cursor_add(struct cursor *c, const char *key, size_t n, const struct ts *t)
{
	uint64_t h = hash_key(key, n);
	size_t slot, off;
	int rc;

	if ((c->nents + 1) * 2 > c->nindex &&
	    (rc = rebuild_index(c, c->nindex ? c->nindex * 2 : 16)) != 0)
		return rc;
	slot = find_slot(c, key, n, h);
	if (c->index[slot] != 0) {
		struct kent *k = &c->ents[c->index[slot] - 1];

		if (ts_cmp(t, &k->t) > 0)
			k->t = *t;
		return 0;
	}
	if (c->nents == c->capents) {
		/* Small at first: most tenants hold a few keys at a time. */
		size_t ncap = c->capents ? c->capents * 2 : 8;
		struct kent *ne = realloc(c->ents, ncap * sizeof(*ne));

		if (ne == NULL)
			return ERR_NOMEM;
		c->ents = ne;
		c->capents = ncap;
	}
	off = c->pool.len;
	if ((rc = buf_add(&c->pool, key, n)) != 0)
		return rc;
	c->ents[c->nents] = (struct kent){h, *t, off, n};
	c->index[slot] = ++c->nents;
	return 0;
}

void
cursor_prune(struct cursor *c, const struct ts *t)
{
	struct buf np;
	size_t i, kept = 0, off = 0;

	/*
	 * Most calls prune nothing (a window the cursor has not moved past
	 * yet): find that out before copying the pool.
	 */
	for (i = 0; i < c->nents; i++) {
		if (ts_cmp(&c->ents[i].t, t) < 0)
			break;
	}
	if (i == c->nents)
		return;
	buf_init(&np, 0);
	for (i = 0; i < c->nents; i++) {
		const struct kent *k = &c->ents[i];

		if (ts_cmp(&k->t, t) >= 0 &&
		    buf_add(&np, c->pool.data + k->off, k->len) != 0) {
			buf_reset(&np);
			return; /* keep everything: pruning is optional */
		}
	}
	/* The copy is complete: only now move the entries over to it. */
	for (i = 0; i < c->nents; i++) {
		struct kent k = c->ents[i];

		if (ts_cmp(&k.t, t) < 0)
			continue;
		k.off = off;
		off += k.len;
		c->ents[kept++] = k;
	}
	buf_reset(&c->pool);
	c->pool = np;
	c->nents = kept;
	if (rebuild_index(c, c->nindex) != 0) {
		/* Index lost: fall back to an empty index of minimal size. */
		c->nents = 0;
	}
}

static int
load_keys(struct cursor *c, const cJSON *keys, const char **why)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, keys)
	{
		const cJSON *k = cJSON_GetArrayItem(it, 0);
		const cJSON *t = cJSON_GetArrayItem(it, 1);
		struct ts ts;

		if (!cJSON_IsString(k) || !cJSON_IsString(t) ||
		    ts_parse(t->valuestring, strlen(t->valuestring), &ts)) {
			*why = "a dedup key entry is malformed";
			return ERR_PARSE;
		}
		if (cursor_add(c, k->valuestring, strlen(k->valuestring), &ts))
			return ERR_NOMEM;
	}
	return 0;
}

int
cursor_owner_text(const struct state_owner *o, struct buf *out)
{
	size_t i, n = strlen(o->tenant_id);
	int rc;

	buf_clear(out);
	for (i = 0; i < n; i++) {
		if ((rc = buf_addc(out,
		         (char)tolower((unsigned char)o->tenant_id[i]))) != 0)
			return rc;
	}
	return buf_printf(
	    out, "\n%s\n%s", o->api, o->url != NULL ? o->url : "");
}

/*
 * Whose file it is: CURSOR_FOREIGN (another tenant, api or URL),
 * CURSOR_UNTAGGED (no URL: an earlier version's) or 0 (this owner's).
 */
static int
owner_check(const cJSON *root, const struct state_owner *o, const char **why)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "api");
	const cJSON *tn = cJSON_GetObjectItemCaseSensitive(root, "tenant");
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(root, "url");

	if (!cJSON_IsString(a) || !cJSON_IsString(tn)) {
		*why = "the file does not say whose it is (no api or tenant)";
		return ERR_PARSE;
	}
	if (strcasecmp(tn->valuestring, o->tenant_id) != 0)
		*why = "it names another tenant id";
	else if (strcmp(a->valuestring, o->api) != 0)
		*why = "it names another api";
	else if (cJSON_IsString(u) &&
	    strcmp(u->valuestring, o->url != NULL ? o->url : "") != 0)
		*why = "it names another source URL";
	else if (u != NULL && !cJSON_IsString(u)) {
		*why = "url is not a string";
		return ERR_PARSE;
	} else
		return u == NULL ? CURSOR_UNTAGGED : 0;
	return CURSOR_FOREIGN;
}

static int
load_json(struct cursor *c, const cJSON *root, const struct state_owner *o,
    const char **why)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "version");
	const cJSON *pos = cJSON_GetObjectItemCaseSensitive(root, "position");
	const cJSON *keys = cJSON_GetObjectItemCaseSensitive(root, "keys");
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(root, "spool_seq");
	int rc, whose;

	if (!cJSON_IsNumber(v) || v->valueint != CURSOR_STATE_VERSION) {
		*why = "unknown state file version";
		return ERR_PARSE;
	}
	if ((whose = owner_check(root, o, why)) < 0 || whose == CURSOR_FOREIGN)
		return whose;
	if (cJSON_IsString(pos)) {
		if (ts_parse(pos->valuestring, strlen(pos->valuestring),
		        &c->pos) != 0) {
			*why = "position is not a time";
			return ERR_PARSE;
		}
		c->has_pos = 1;
	} else if (!cJSON_IsNull(pos)) {
		*why = "position missing";
		return ERR_PARSE;
	}
	if (!cJSON_IsArray(keys)) {
		*why = "keys missing";
		return ERR_PARSE;
	}
	if (cJSON_IsString(seq)) {
		char *end;

		errno = 0;
		c->seq = strtoull(seq->valuestring, &end, 10);
		if (errno != 0 || *end != '\0') {
			*why = "spool_seq is not a number";
			return ERR_PARSE;
		}
	}
	if ((rc = load_keys(c, keys, why)) != 0)
		return rc;
	return whose;
}

int
cursor_load(struct cursor *c, const char *path, const struct state_owner *o,
    const char **why)
{
	struct buf b;
	cJSON *root = NULL;
	int rc;

	*why = NULL;
	buf_init(&b, CURSOR_MAX_FILE);
	if ((rc = statefile_read(path, &b)) != 0) {
		if (rc == ERR_TOOBIG)
			*why = "state file too large";
		goto out;
	}
	root = cJSON_ParseWithLength(b.data, b.len);
	if (root == NULL) {
		*why = "state file is not valid JSON";
		rc = ERR_PARSE;
		goto out;
	}
	rc = load_json(c, root, o, why);
out:
	cJSON_Delete(root);
	buf_reset(&b);
	return rc;
}

/*
 * Append s (n bytes) as a JSON string, escaped as cJSON prints it: the
 * state file is rewritten after every page and holds every key of the
 * overlap (of a whole window for the OData sources), so it is printed
 * straight into one buffer rather than built as a cJSON tree of two
 * strings and an array per key.
 */
static int
add_json_string(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;
	int rc;

	if ((rc = buf_addc(b, '"')) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		char esc[6];
		size_t elen = 2;

		if (ch >= 0x20 && ch != '"' && ch != '\\')
			continue;
		if ((rc = buf_add(b, s + run, i - run)) != 0)
			return rc;
		run = i + 1;
		memcpy(esc, "\\u00", 4);
		switch (ch) {
		case '"':
		case '\\':
			esc[1] = (char)ch;
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			esc[4] = hex[ch >> 4];
			esc[5] = hex[ch & 0x0f];
			elen = 6;
			break;
		}
		if ((rc = buf_add(b, esc, elen)) != 0)
			return rc;
	}
	if ((rc = buf_add(b, s + run, n - run)) != 0)
		return rc;
	return buf_addc(b, '"');
}

/* The state file's JSON text, in the layout cursor_load() reads. */
static int
to_json(const struct cursor *c, const struct state_owner *o, struct buf *b)
{
	const char *url = o->url != NULL ? o->url : "";
	char t[TS_STRLEN];
	size_t i;
	int rc;

	snprintf(t, sizeof(t), "%llu", (unsigned long long)c->seq);
	if ((rc = buf_printf(
	         b, "{\"version\":%d,\"api\":", CURSOR_STATE_VERSION)) != 0 ||
	    (rc = add_json_string(b, o->api, strlen(o->api))) != 0 ||
	    (rc = buf_adds(b, ",\"tenant\":")) != 0 ||
	    (rc = add_json_string(b, o->tenant_id, strlen(o->tenant_id))) !=
	        0 ||
	    (rc = buf_adds(b, ",\"url\":")) != 0 ||
	    (rc = add_json_string(b, url, strlen(url))) != 0 ||
	    (rc = buf_printf(b, ",\"spool_seq\":\"%s\",\"position\":", t)) != 0)
		return rc;
	if (c->has_pos) {
		ts_format7(&c->pos, t);
		rc = add_json_string(b, t, strlen(t));
	} else {
		rc = buf_adds(b, "null");
	}
	if (rc != 0 || (rc = buf_adds(b, ",\"keys\":[")) != 0)
		return rc;
	for (i = 0; i < c->nents; i++) {
		const struct kent *k = &c->ents[i];

		ts_format7(&k->t, t);
		if ((i > 0 && (rc = buf_addc(b, ',')) != 0) ||
		    (rc = buf_addc(b, '[')) != 0 ||
		    (rc = add_json_string(b, c->pool.data + k->off, k->len)) !=
		        0 ||
		    (rc = buf_addc(b, ',')) != 0 ||
		    (rc = add_json_string(b, t, strlen(t))) != 0 ||
		    (rc = buf_addc(b, ']')) != 0)
			return rc;
	}
	return buf_adds(b, "]}");
}

int
cursor_save(
    const struct cursor *c, const char *path, const struct state_owner *o)
{
	struct buf b;
	int rc;

	buf_init(&b, 0);
	/* Room for the usual size at once: one allocation, no copies. */
	if ((rc = buf_reserve(
	         &b, 256 + c->pool.len + c->nents * (TS_STRLEN + 8))) == 0 &&
	    (rc = to_json(c, o, &b)) == 0)
		rc = statefile_write(path, b.data, b.len);
	buf_reset(&b);
	return rc;
}
