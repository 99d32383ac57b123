/* SPDX-License-Identifier: MIT */
/*
 * benchsrv: a fast loopback stand-in for Entra ID and the Defender APIs,
 * for the benchmarks only.  It holds a pre-rendered corpus in memory (one
 * JSON object per line, sorted by its ordering field) and answers
 *
 *   POST /{tenant}/oauth2/token, /{tenant}/oauth2/v2.0/token
 *       a static bearer token;
 *   GET  /siem/api/alerts?sinceTimeUtc=..&untilTimeUtc=..[&limit=N]
 *       the SIEM API's window semantics: records with since <= LPT <=
 *       until, the N most recent of them when limit is given;
 *   GET  /graph/security/alerts_v2?$filter=lastUpdateDateTime ge X and
 *       lastUpdateDateTime le Y&$top=N[&$skip=K]
 *       Graph paging over the same kind of window, with @odata.nextLink
 *       while more records remain;
 *   GET  /_bench/stats
 *       this process's own CPU time and counters (requests, TCP
 *       connections accepted), so the benchmark can show that the server
 *       is not the bottleneck.
 *
 * With --tenants N, the corpus is N tenants' (tenant K, K = 1..N, has the
 * id 00000000-0000-0000-0000-00000000000K and the K-th of N consecutive
 * slices of each corpus): its token is "benchsrv-token-K", and an API
 * request is answered from the slice of the tenant whose token it bears.
 *
 * No JSON is encoded per request: the corpus lines are stored back to
 * back with ',' in place of '\n', so any run of consecutive records is one
 * contiguous slice, found by binary search on the pre-parsed ordering
 * times and sent with a single writev() between "[" and "]".  HTTP/1.1
 * keep-alive with Content-Length, one poll() loop, loopback only.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_CLIENTS 512
#define REQ_MAX (64 * 1024)
#define TICKS_PER_SEC 10000000LL
#define GRAPH_TOP_DEFAULT 100
#define GRAPH_TOP_MAX 2000

struct corpus {
	char *data; /* records joined by ',' */
	size_t len;
	size_t n;
	size_t *start; /* offset of record i */
	size_t *end; /* offset just past record i */
	int64_t *t; /* ordering time of record i, in ticks */
};

struct client {
	int fd;
	size_t len;
	char req[REQ_MAX + 1];
};

struct server {
	struct corpus siem;
	struct corpus graph;
	struct corpus *tsiem, *tgraph; /* per tenant: slices of the above */
	int ntenants; /* 0: one corpus, the static token */
	unsigned long requests, token_requests, api_requests, connections;
	unsigned long long records_sent, bytes_sent;
	int port;
};

static volatile sig_atomic_t stop_flag;

static void
on_term(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void
die(const char *what)
{
	fprintf(stderr, "benchsrv: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
digits(const char *s, int n, int *out)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* "YYYY-MM-DDTHH:MM:SS[.f{1,7}][Z]" -> ticks since the epoch. */
static int
parse_time(const char *s, size_t n, int64_t *out)
{
	int y, mo, d, h, mi, sec, frac = 0, nf = 0;
	size_t i;

	if (n < 19 || digits(s, 4, &y) || s[4] != '-' ||
	    digits(s + 5, 2, &mo) || s[7] != '-' || digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != ' ') || digits(s + 11, 2, &h) ||
	    s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
	    digits(s + 17, 2, &sec))
		return -1;
	i = 19;
	if (i < n && s[i] == '.') {
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
			if (nf < 7) {
				frac = frac * 10 + (s[i] - '0');
				nf++;
			}
		}
	}
	for (; nf < 7; nf++)
		frac *= 10;
	if (i < n && s[i] == 'Z')
		i++;
	if (i != n)
		return -1;
	*out = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) *
	           TICKS_PER_SEC) +
	    frac;
	return 0;
}

/* Ordering time of one record: the value of "field":"..." in it. */
static int
record_time(const char *p, size_t n, const char *field, int64_t *out)
{
	char key[128];
	const char *k, *v, *e;
	int kn = snprintf(key, sizeof(key), "\"%s\":\"", field);

	if (kn < 0 || (size_t)kn >= sizeof(key))
		return -1;
	k = memmem(p, n, key, (size_t)kn);
	if (k == NULL)
		return -1;
	v = k + kn;
	e = memchr(v, '"', n - (size_t)(v - p));
	if (e == NULL)
		return -1;
	return parse_time(v, (size_t)(e - v), out);
}

static void
load_corpus(struct corpus *c, const char *path, const char *field)
{
	struct stat st;
	size_t cap = 1024, pos;
	int fd;

	memset(c, 0, sizeof(*c));
	if (path == NULL)
		return;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0)
		die(path);
	c->len = (size_t)st.st_size;
	if ((c->data = malloc(c->len + 1)) == NULL)
		die("malloc");
	for (pos = 0; pos < c->len;) {
		ssize_t r = read(fd, c->data + pos, c->len - pos);

		if (r <= 0)
			die(path);
		pos += (size_t)r;
	}
	close(fd);
	c->start = malloc(cap * sizeof(size_t));
	c->end = malloc(cap * sizeof(size_t));
	c->t = malloc(cap * sizeof(int64_t));
	for (pos = 0; pos < c->len;) {
		char *nl = memchr(c->data + pos, '\n', c->len - pos);
		size_t e = nl ? (size_t)(nl - c->data) : c->len;

		if (e > pos) {
			if (c->n == cap) {
				cap *= 2;
				c->start =
				    realloc(c->start, cap * sizeof(size_t));
				c->end = realloc(c->end, cap * sizeof(size_t));
				c->t = realloc(c->t, cap * sizeof(int64_t));
			}
			if (c->start == NULL || c->end == NULL || c->t == NULL)
				die("malloc");
			if (record_time(c->data + pos, e - pos, field,
			        &c->t[c->n]) != 0) {
				fprintf(stderr,
				    "benchsrv: %s: record %zu has "
				    "no %s\n",
				    path, c->n + 1, field);
				exit(1);
			}
			if (c->n > 0 && c->t[c->n] < c->t[c->n - 1]) {
				fprintf(stderr,
				    "benchsrv: %s: not sorted by "
				    "%s at record %zu\n",
				    path, field, c->n + 1);
				exit(1);
			}
			c->start[c->n] = pos;
			c->end[c->n] = e;
			c->n++;
		}
		if (nl != NULL)
			*nl = ',';
		pos = e + 1;
	}
}

/* Tenant k's slice of c: records [k n / N, (k + 1) n / N). */
static void
slice_corpus(const struct corpus *c, int k, int ntenants, struct corpus *out)
{
	size_t lo = c->n * (size_t)k / (size_t)ntenants;
	size_t hi = c->n * (size_t)(k + 1) / (size_t)ntenants;

	out->data = c->data;
	out->len = c->len;
	out->n = hi - lo;
	out->start = c->start + lo;
	out->end = c->end + lo;
	out->t = c->t + lo;
}

/* First record with t >= v. */
static size_t
lower_bound(const struct corpus *c, int64_t v)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->t[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Percent-decode (and '+' to space) in place; returns the new length. */
static size_t
urldecode(char *s, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
		    hexval(s[i + 2]) >= 0) {
			s[o++] =
			    (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else if (s[i] == '+') {
			s[o++] = ' ';
		} else {
			s[o++] = s[i];
		}
	}
	s[o] = '\0';
	return o;
}

/*
 * The decoded value of query parameter name (case-insensitive) into out,
 * or -1 when absent.
 */
static int
query_param(const char *query, const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name);
	const char *p = query;

	while (p != NULL && *p != '\0') {
		const char *amp = strchr(p, '&');
		size_t seg = amp ? (size_t)(amp - p) : strlen(p);

		if (seg > nl && p[nl] == '=' && strncasecmp(p, name, nl) == 0) {
			size_t vl = seg - nl - 1;

			if (vl >= outlen)
				vl = outlen - 1;
			memcpy(out, p + nl + 1, vl);
			urldecode(out, vl);
			return 0;
		}
		p = amp ? amp + 1 : NULL;
	}
	return -1;
}

static int
parse_count(const char *s, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
write_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t w = writev(fd, iov, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/* Send the status line, headers and body parts (up to 7) at once. */
static int
respond(struct server *s, int fd, int status, struct iovec *body, int nbody)
{
	struct iovec iov[8];
	char hdr[256];
	size_t total = 0;
	int i, n;

	for (i = 0; i < nbody; i++)
		total += body[i].iov_len;
	n = snprintf(hdr, sizeof(hdr),
	    "HTTP/1.1 %d %s\r\n"
	    "Content-Type: application/json; charset=utf-8\r\n"
	    "Content-Length: %zu\r\n\r\n",
	    status,
	    status == 200       ? "OK"
	        : status == 404 ? "Not Found"
	                        : "Bad Request",
	    total);
	iov[0].iov_base = hdr;
	iov[0].iov_len = (size_t)n;
	for (i = 0; i < nbody; i++)
		iov[i + 1] = body[i];
	s->bytes_sent += total + (size_t)n;
	return write_all(fd, iov, nbody + 1);
}

static int
respond_text(struct server *s, int fd, int status, const char *text)
{
	struct iovec b = {(void *)(uintptr_t)text, strlen(text)};

	return respond(s, fd, status, &b, 1);
}

static int
bad_request(struct server *s, int fd, const char *why)
{
	char body[300];

	snprintf(body, sizeof(body),
	    "{\"error\":{\"code\":\"BadRequest\","
	    "\"message\":\"%s\"}}",
	    why);
	return respond_text(s, fd, 400, body);
}

/* The slice of records [lo, hi) as one iovec (no trailing comma). */
static struct iovec
slice(const struct corpus *c, size_t lo, size_t hi)
{
	struct iovec v = {NULL, 0};

	if (hi > lo) {
		v.iov_base = c->data + c->start[lo];
		v.iov_len = c->end[hi - 1] - c->start[lo];
	}
	return v;
}

static int
serve_siem(struct server *s, int fd, const struct corpus *c, const char *query)
{
	char since_s[64], until_s[64], limit_s[32];
	int64_t since, until = INT64_MAX;
	long limit = -1;
	size_t lo, hi;
	struct iovec b[3];

	if (query_param(query, "sinceTimeUtc", since_s, sizeof(since_s)) != 0 ||
	    parse_time(since_s, strlen(since_s), &since) != 0)
		return bad_request(s, fd, "sinceTimeUtc missing or malformed");
	if (query_param(query, "untilTimeUtc", until_s, sizeof(until_s)) == 0 &&
	    parse_time(until_s, strlen(until_s), &until) != 0)
		return bad_request(s, fd, "untilTimeUtc malformed");
	if (query_param(query, "limit", limit_s, sizeof(limit_s)) == 0 &&
	    parse_count(limit_s, 1000000000L, &limit) != 0)
		return bad_request(s, fd, "limit malformed");
	lo = lower_bound(c, since);
	hi = until == INT64_MAX ? c->n : lower_bound(c, until + 1);
	if (hi < lo)
		hi = lo;
	if (limit >= 0 && hi - lo > (size_t)limit)
		lo = hi - (size_t)limit;
	s->records_sent += hi - lo;
	b[0].iov_base = (void *)(uintptr_t) "[";
	b[0].iov_len = 1;
	b[1] = slice(c, lo, hi);
	b[2].iov_base = (void *)(uintptr_t) "]";
	b[2].iov_len = 1;
	return respond(s, fd, 200, b, 3);
}

/*
 * Bounds from "$filter=lastUpdateDateTime ge X and lastUpdateDateTime le
 * Y" (gt/lt too; other clauses are ignored).
 */
static int
graph_filter(const char *filter, int64_t *lo_t, int64_t *hi_t)
{
	static const char field[] = "lastUpdateDateTime ";
	const char *p = filter;

	*lo_t = INT64_MIN;
	*hi_t = INT64_MAX;
	while ((p = strstr(p, field)) != NULL) {
		char op[3] = {0, 0, 0};
		const char *v = p + sizeof(field) - 1, *e;
		int64_t t;

		if (strlen(v) < 4 || v[2] != ' ')
			return -1;
		memcpy(op, v, 2);
		v += 3;
		for (e = v; *e != '\0' && *e != ' ' && *e != ')'; e++)
			;
		if (parse_time(v, (size_t)(e - v), &t) != 0)
			return -1;
		if (strcmp(op, "ge") == 0)
			*lo_t = t;
		else if (strcmp(op, "gt") == 0)
			*lo_t = t + 1;
		else if (strcmp(op, "le") == 0)
			*hi_t = t;
		else if (strcmp(op, "lt") == 0)
			*hi_t = t - 1;
		else
			return -1;
		p = e;
	}
	return 0;
}

/* The query with $skip replaced by skip: the @odata.nextLink. */
static void
next_link(struct server *s, const char *path, const char *query, long skip,
    char *out, size_t outlen)
{
	size_t o;
	const char *p = query;
	int n = snprintf(out, outlen,
	    ",\"@odata.nextLink\":\"http://127.0.0.1:"
	    "%d%s?",
	    s->port, path);

	o = (size_t)n;
	while (p != NULL && *p != '\0') {
		const char *amp = strchr(p, '&');
		size_t seg = amp ? (size_t)(amp - p) : strlen(p);

		if (!(seg >= 6 &&
		        (strncasecmp(p, "$skip=", 6) == 0 ||
		            strncasecmp(p, "%24skip=", 8) == 0)) &&
		    o + seg + 2 < outlen) {
			memcpy(out + o, p, seg);
			o += seg;
			out[o++] = '&';
		}
		p = amp ? amp + 1 : NULL;
	}
	snprintf(out + o, outlen - o, "$skip=%ld\"", skip);
}

static int
serve_graph(struct server *s, int fd, const struct corpus *c, const char *path,
    const char *query)
{
	static const char head[] =
	    "{\"@odata.context\":\"https://graph."
	    "microsoft.com/v1.0/$metadata#security/alerts_v2\",\"value\":[";
	char filter[1024], num[32], link[4096] = "";
	int64_t lo_t, hi_t;
	long top = GRAPH_TOP_DEFAULT, skip = 0;
	size_t lo, hi;
	struct iovec b[5];

	if (query_param(query, "$filter", filter, sizeof(filter)) != 0)
		filter[0] = '\0';
	if (graph_filter(filter, &lo_t, &hi_t) != 0)
		return bad_request(s, fd, "$filter not understood");
	if (query_param(query, "$top", num, sizeof(num)) == 0 &&
	    parse_count(num, GRAPH_TOP_MAX, &top) != 0)
		return bad_request(s, fd, "$top malformed");
	if (query_param(query, "$skip", num, sizeof(num)) == 0 &&
	    parse_count(num, 1000000000L, &skip) != 0)
		return bad_request(s, fd, "$skip malformed");
	lo = lo_t == INT64_MIN ? 0 : lower_bound(c, lo_t);
	hi = hi_t == INT64_MAX ? c->n : lower_bound(c, hi_t + 1);
	if (hi < lo)
		hi = lo;
	lo = (size_t)skip < hi - lo ? lo + (size_t)skip : hi;
	if (hi - lo > (size_t)top) {
		hi = lo + (size_t)top;
		next_link(s, path, query, skip + top, link, sizeof(link));
	}
	s->records_sent += hi - lo;
	b[0].iov_base = (void *)(uintptr_t)head;
	b[0].iov_len = sizeof(head) - 1;
	b[1] = slice(c, lo, hi);
	b[2].iov_base = (void *)(uintptr_t) "]";
	b[2].iov_len = 1;
	b[3].iov_base = link;
	b[3].iov_len = strlen(link);
	b[4].iov_base = (void *)(uintptr_t) "}";
	b[4].iov_len = 1;
	return respond(s, fd, 200, b, 5);
}

static int
serve_stats(struct server *s, int fd)
{
	struct rusage ru;
	char body[512];

	getrusage(RUSAGE_SELF, &ru);
	snprintf(body, sizeof(body),
	    "{\"utime_us\":%lld,\"stime_us\":%lld,"
	    "\"requests\":%lu,\"token_requests\":%lu,\"api_requests\":%lu,"
	    "\"connections\":%lu,"
	    "\"records_sent\":%llu,\"bytes_sent\":%llu,\"maxrss_kb\":%ld}",
	    (long long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec,
	    (long long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec,
	    s->requests, s->token_requests, s->api_requests, s->connections,
	    s->records_sent, s->bytes_sent, ru.ru_maxrss);
	return respond_text(s, fd, 200, body);
}

/* The tenant number K of "/00000000-0000-0000-0000-00000000000K/...". */
static long
path_tenant(const char *path)
{
	static const char pre[] = "/00000000-0000-0000-0000-";
	char *end;
	long k;

	if (strncmp(path, pre, sizeof(pre) - 1) != 0)
		return -1;
	k = strtol(path + sizeof(pre) - 1, &end, 10);
	return *end == '/' ? k : -1;
}

static int
serve_token(struct server *s, int fd, const char *path, int v2)
{
	char tok[64], body[512];
	long k = path_tenant(path);

	s->token_requests++;
	if (s->ntenants == 0)
		snprintf(tok, sizeof(tok), "benchsrv-static-token");
	else if (k >= 1 && k <= s->ntenants)
		snprintf(tok, sizeof(tok), "benchsrv-token-%ld", k);
	else
		return respond_text(s, fd, 400,
		    "{\"error\":\"invalid_request\","
		    "\"error_description\":\"AADSTS90002: Tenant not "
		    "found.\"}");
	if (v2)
		snprintf(body, sizeof(body),
		    "{\"token_type\":\"Bearer\",\"expires_in\":3599,"
		    "\"ext_expires_in\":3599,\"access_token\":\"%s\"}",
		    tok);
	else
		snprintf(body, sizeof(body),
		    "{\"token_type\":\"Bearer\",\"expires_in\":\"3599\","
		    "\"ext_expires_in\":\"3599\",\"expires_on\":"
		    "\"4102444800\",\"not_before\":\"1700000000\","
		    "\"resource\":\"https://graph.windows.net\","
		    "\"access_token\":\"%s\"}",
		    tok);
	return respond_text(s, fd, 200, body);
}

/* The tenant of a request's bearer token (0-based), or -1. */
static int
request_tenant(const struct server *s, const char *auth)
{
	static const char pre[] = "Bearer benchsrv-token-";
	long k;

	if (s->ntenants == 0)
		return 0;
	if (auth == NULL || strncmp(auth, pre, sizeof(pre) - 1) != 0)
		return -1;
	k = strtol(auth + sizeof(pre) - 1, NULL, 10);
	return k >= 1 && k <= s->ntenants ? (int)k - 1 : -1;
}

static const char *header_value(const char *hdrs, const char *name);

/* Route one complete request.  Returns -1 to close the connection. */
static int
dispatch(struct server *s, int fd, char *line, const char *hdrs)
{
	char *sp1 = strchr(line, ' '), *sp2, *path, *query;
	int is_post, t;

	if (sp1 == NULL || (sp2 = strchr(sp1 + 1, ' ')) == NULL)
		return -1;
	*sp1 = '\0';
	*sp2 = '\0';
	is_post = strcmp(line, "POST") == 0;
	path = sp1 + 1;
	if ((query = strchr(path, '?')) != NULL)
		*query++ = '\0';
	else
		query = path + strlen(path);
	s->requests++;
	if (is_post && strstr(path, "/oauth2/") != NULL)
		return serve_token(s, fd, path, strstr(path, "/v2.0/") != NULL);
	if (strcmp(path, "/_bench/stats") == 0)
		return serve_stats(s, fd);
	if ((t = request_tenant(s, header_value(hdrs, "Authorization"))) < 0)
		return respond_text(s, fd, 401,
		    "{\"error\":{\"code\":\"Unauthorized\","
		    "\"message\":\"unknown token\"}}");
	if (strncmp(path, "/siem/api/alerts", 16) == 0) {
		s->api_requests++;
		return serve_siem(
		    s, fd, s->ntenants ? &s->tsiem[t] : &s->siem, query);
	}
	if (strncmp(path, "/graph/", 7) == 0) {
		s->api_requests++;
		return serve_graph(s, fd,
		    s->ntenants ? &s->tgraph[t] : &s->graph, path, query);
	}
	return respond_text(s, fd, 404,
	    "{\"error\":{\"code\":\"NotFound\","
	    "\"message\":\"no such endpoint\"}}");
}

/* Value of header name in the header block hdrs, or NULL. */
static const char *
header_value(const char *hdrs, const char *name)
{
	size_t nl = strlen(name);
	const char *p = hdrs;

	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			p += nl + 1;
			while (*p == ' ')
				p++;
			return p;
		}
	}
	return NULL;
}

/* Serve every complete request buffered on c.  -1: close it. */
static int
serve_buffered(struct server *s, struct client *c)
{
	for (;;) {
		char *eoh, *cl, *conn;
		size_t hlen, blen = 0, total;
		int close_after, rc;

		c->req[c->len] = '\0';
		if ((eoh = strstr(c->req, "\r\n\r\n")) == NULL)
			return c->len >= REQ_MAX ? -1 : 0;
		hlen = (size_t)(eoh - c->req) + 4;
		*eoh = '\0';
		if ((cl = (char *)(uintptr_t)header_value(
		         c->req, "Content-Length")) != NULL)
			blen = strtoul(cl, NULL, 10);
		if (blen > REQ_MAX || hlen + blen > REQ_MAX)
			return -1;
		total = hlen + blen;
		if (c->len < total) {
			*eoh = '\r';
			return 0;
		}
		conn = (char *)(uintptr_t)header_value(c->req, "Connection");
		close_after =
		    conn != NULL && strncasecmp(conn, "close", 5) == 0;
		{
			char *eol = strstr(c->req, "\r\n");

			*eol = '\0';
			rc = dispatch(s, c->fd, c->req, eol + 1);
		}
		memmove(c->req, c->req + total, c->len - total);
		c->len -= total;
		if (rc != 0 || close_after)
			return -1;
	}
}

static int
listen_loopback(int port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(fd, 512) != 0)
		die("bind/listen");
	return fd;
}

static void
write_port_file(const char *path, int port)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL)
		die(tmp);
	fprintf(f, "%d\n", port);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		die(path);
}

static void
accept_client(struct server *s, int lfd, struct client **cl, int *ncl)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), one = 1;

	if (fd < 0)
		return;
	if (*ncl >= MAX_CLIENTS ||
	    (cl[*ncl] = calloc(1, sizeof(struct client))) == NULL) {
		close(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	s->connections++;
	cl[*ncl]->fd = fd;
	(*ncl)++;
}

static void
run(struct server *s, int lfd)
{
	struct client *cl[MAX_CLIENTS];
	struct pollfd pfd[MAX_CLIENTS + 1];
	int ncl = 0, i;

	while (!stop_flag) {
		pfd[0].fd = lfd;
		pfd[0].events = POLLIN;
		for (i = 0; i < ncl; i++) {
			pfd[i + 1].fd = cl[i]->fd;
			pfd[i + 1].events = POLLIN;
		}
		if (poll(pfd, (nfds_t)ncl + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		for (i = ncl - 1; i >= 0; i--) {
			struct client *c = cl[i];
			ssize_t r;

			if (pfd[i + 1].revents == 0)
				continue;
			r = recv(c->fd, c->req + c->len, REQ_MAX - c->len,
			    MSG_DONTWAIT);
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (r > 0) {
				c->len += (size_t)r;
				if (serve_buffered(s, c) == 0)
					continue;
			}
			close(c->fd);
			free(c);
			cl[i] = cl[--ncl];
		}
		if (pfd[0].revents & POLLIN)
			accept_client(s, lfd, cl, &ncl);
	}
}

int
main(int argc, char **argv)
{
	struct server s;
	struct sigaction sa;
	struct sockaddr_in bound;
	socklen_t blen = sizeof(bound);
	const char *siem = NULL, *graph = NULL, *port_file = NULL;
	int i, port = 0, lfd, ntenants = 0;

	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--siem") == 0)
			siem = argv[i + 1];
		else if (strcmp(argv[i], "--graph") == 0)
			graph = argv[i + 1];
		else if (strcmp(argv[i], "--port-file") == 0)
			port_file = argv[i + 1];
		else if (strcmp(argv[i], "--port") == 0)
			port = (int)strtol(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--tenants") == 0)
			ntenants = (int)strtol(argv[i + 1], NULL, 10);
		else
			break;
	}
	if (i != argc) {
		fprintf(stderr,
		    "usage: benchsrv [--siem FILE] [--graph FILE] "
		    "[--port N] [--port-file PATH] [--tenants N]\n");
		return 2;
	}
	memset(&s, 0, sizeof(s));
	load_corpus(&s.siem, siem, "LastProcessedTimeUtc");
	load_corpus(&s.graph, graph, "lastUpdateDateTime");
	if (ntenants < 0 || ntenants > 100000) {
		fprintf(stderr, "benchsrv: --tenants: 0 to 100000\n");
		return 2;
	}
	s.ntenants = ntenants;
	if (ntenants > 0) {
		s.tsiem = calloc((size_t)ntenants, sizeof(*s.tsiem));
		s.tgraph = calloc((size_t)ntenants, sizeof(*s.tgraph));
		if (s.tsiem == NULL || s.tgraph == NULL)
			die("calloc");
		for (i = 0; i < ntenants; i++) {
			slice_corpus(&s.siem, i, ntenants, &s.tsiem[i]);
			slice_corpus(&s.graph, i, ntenants, &s.tgraph[i]);
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	lfd = listen_loopback(port);
	if (getsockname(lfd, (struct sockaddr *)&bound, &blen) != 0)
		die("getsockname");
	s.port = ntohs(bound.sin_port);
	if (port_file != NULL)
		write_port_file(port_file, s.port);
	fprintf(stderr,
	    "benchsrv: 127.0.0.1:%d, %zu siem and %zu graph "
	    "records\n",
	    s.port, s.siem.n, s.graph.n);
	run(&s, lfd);
	return 0;
}
