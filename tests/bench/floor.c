/* SPDX-License-Identifier: MIT */
/*
 * floor: the least work any design must do with our dependencies to move
 * a backlog from the Defender API to the collector, measured so that the
 * daemon can be compared with it.  It gets one token, fetches the minimal
 * set of pages that covers the backlog over one keep-alive libcurl handle
 * (SIEM: one request per window, the windows chosen by the benchmark so
 * that none needs splitting; Graph: $top pages along @odata.nextLink),
 * parses each page with cJSON, and writes the number of bytes the daemon
 * wrote, one LF-terminated line per record, to the collector in 256 KiB
 * batches.  It formats nothing, remembers nothing and persists nothing.
 *
 * usage: floor --api siem|graph --url URL --token-url URL --windows FILE
 *              --limit N --sink-port PORT --bytes B --count N
 * Prints "records pages bytes" on stdout.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "jsonfix.h"

#define BATCH (256 * 1024)

struct body {
	char *p;
	size_t len, cap;
};

struct out {
	int fd;
	char *batch;
	size_t len;
	unsigned long long bytes_target, bytes_done;
	unsigned long long count, nrec;
	unsigned long long sent;
};

struct opts {
	const char *api, *url, *token_url, *windows;
	long limit;
	int sink_port;
	unsigned long long bytes, count;
};

static void
fail(const char *what)
{
	fprintf(stderr, "floor: %s\n", what);
	exit(1);
}

static size_t
on_data(char *data, size_t size, size_t nmemb, void *arg)
{
	struct body *b = arg;
	size_t n = size * nmemb;

	if (b->len + n + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap : 1 << 20;
		char *np;

		while (ncap < b->len + n + 1)
			ncap *= 2;
		if ((np = realloc(b->p, ncap)) == NULL)
			return 0;
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

static void
setup(CURL *c, struct body *b)
{
	/* The same transfer options as the daemon's HTTP client. */
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
}

static void
perform(CURL *c, const char *url, struct body *b)
{
	long status = 0;

	b->len = 0;
	curl_easy_setopt(c, CURLOPT_URL, url);
	if (curl_easy_perform(c) != CURLE_OK)
		fail("request failed");
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		fprintf(stderr, "floor: HTTP %ld from %s\n", status, url);
		exit(1);
	}
}

static struct curl_slist *
get_token(CURL *c, const char *token_url, int v2, struct body *b)
{
	static char auth[4096];
	const char *form = v2
	    ? "grant_type=client_credentials&client_id=c&"
	      "client_secret=s&scope=https%3A%2F%2Fgraph.microsoft.com%2F."
	      "default"
	    : "grant_type=client_credentials&client_id=c&client_secret=s&"
	      "resource=https%3A%2F%2Fgraph.windows.net";
	cJSON *root;
	const cJSON *tok;

	curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
	perform(c, token_url, b);
	curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	root = cJSON_ParseWithLength(b->p, b->len);
	tok = cJSON_GetObjectItemCaseSensitive(root, "access_token");
	if (!cJSON_IsString(tok))
		fail("no access_token");
	snprintf(
	    auth, sizeof(auth), "Authorization: Bearer %s", tok->valuestring);
	cJSON_Delete(root);
	return curl_slist_append(
	    curl_slist_append(NULL, auth), "Accept: application/json");
}

static void
flush(struct out *o)
{
	size_t off = 0;

	while (off < o->len) {
		ssize_t n =
		    send(o->fd, o->batch + off, o->len - off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			fail("send to the collector failed");
		}
		off += (size_t)n;
	}
	o->sent += o->len;
	o->len = 0;
}

/* This record's share of the daemon's output bytes, as one line. */
static void
emit(struct out *o)
{
	unsigned long long next, n;

	o->nrec++;
	next = o->nrec >= o->count ? o->bytes_target
	                           : o->bytes_target * o->nrec / o->count;
	n = next > o->bytes_done ? next - o->bytes_done : 1;
	o->bytes_done += n;
	while (n > 0) {
		size_t k = n < BATCH - o->len ? (size_t)n : BATCH - o->len;

		memset(o->batch + o->len, 'x', k);
		o->len += k;
		n -= k;
		if (n == 0)
			o->batch[o->len - 1] = '\n';
		if (o->len == BATCH)
			flush(o);
	}
}

static int
connect_sink(int port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		fail("cannot connect to the collector");
	return fd;
}

/* Parse one page, emit its records; returns the next link or NULL. */
static char *
page(struct out *o, struct body *b, int graph)
{
	cJSON *root;
	const cJSON *items, *it, *next;
	char *link = NULL;

	if (b->len > 0)
		jsonfix_surrogates(b->p, b->len);
	items = root = cJSON_ParseWithLength(b->p, b->len);
	if (root == NULL)
		fail("malformed JSON page");
	if (graph) {
		items = cJSON_GetObjectItemCaseSensitive(root, "value");
		next =
		    cJSON_GetObjectItemCaseSensitive(root, "@odata.nextLink");
		if (cJSON_IsString(next))
			link = strdup(next->valuestring);
	}
	cJSON_ArrayForEach(it, items) emit(o);
	cJSON_Delete(root);
	return link;
}

static void
parse_args(int argc, char **argv, struct opts *op)
{
	int i;

	memset(op, 0, sizeof(*op));
	for (i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];

		if (strcmp(k, "--api") == 0)
			op->api = v;
		else if (strcmp(k, "--url") == 0)
			op->url = v;
		else if (strcmp(k, "--token-url") == 0)
			op->token_url = v;
		else if (strcmp(k, "--windows") == 0)
			op->windows = v;
		else if (strcmp(k, "--limit") == 0)
			op->limit = strtol(v, NULL, 10);
		else if (strcmp(k, "--sink-port") == 0)
			op->sink_port = (int)strtol(v, NULL, 10);
		else if (strcmp(k, "--bytes") == 0)
			op->bytes = strtoull(v, NULL, 10);
		else if (strcmp(k, "--count") == 0)
			op->count = strtoull(v, NULL, 10);
		else
			break;
	}
	if (i != argc || op->api == NULL || op->url == NULL ||
	    op->token_url == NULL || op->windows == NULL || op->limit <= 0 ||
	    op->sink_port <= 0 || op->count == 0)
		fail("usage: floor --api siem|graph --url URL --token-url URL "
		     "--windows FILE --limit N --sink-port PORT --bytes B "
		     "--count N");
}

int
main(int argc, char **argv)
{
	struct opts op;
	struct out o;
	struct body b = {NULL, 0, 0};
	struct curl_slist *hdrs;
	char since[64], until[64], url[8192];
	unsigned long pages = 0;
	int graph;
	FILE *w;
	CURL *c;

	parse_args(argc, argv, &op);
	graph = strcmp(op.api, "graph") == 0;
	memset(&o, 0, sizeof(o));
	o.bytes_target = op.bytes;
	o.count = op.count;
	if ((o.batch = malloc(BATCH)) == NULL)
		fail("out of memory");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (c = curl_easy_init()) == NULL)
		fail("libcurl init");
	setup(c, &b);
	hdrs = get_token(c, op.token_url, graph, &b);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	o.fd = connect_sink(op.sink_port);
	if ((w = fopen(op.windows, "r")) == NULL)
		fail("cannot open the windows file");
	while (fscanf(w, "%63s %63s", since, until) == 2) {
		char *link;

		if (graph)
			snprintf(url, sizeof(url),
			    "%s?$filter=lastUpdateDateTime"
			    "%%20ge%%20%s%%20and%%20lastUpdateDateTime%%20le%%"
			    "20%s"
			    "&$top=%ld",
			    op.url, since, until, op.limit);
		else
			snprintf(url, sizeof(url),
			    "%s?sinceTimeUtc=%s&"
			    "untilTimeUtc=%s&limit=%ld",
			    op.url, since, until, op.limit);
		perform(c, url, &b);
		pages++;
		while ((link = page(&o, &b, graph)) != NULL) {
			perform(c, link, &b);
			pages++;
			free(link);
		}
	}
	fclose(w);
	flush(&o);
	close(o.fd);
	printf("%llu %lu %llu\n", o.nrec, pages, o.sent);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	curl_global_cleanup();
	free(b.p);
	free(o.batch);
	return 0;
}
