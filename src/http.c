/* SPDX-License-Identifier: MIT */
/*
 * HTTP client for the token and source modules, on one libcurl easy handle
 * per client so that connections to Entra ID and the Defender APIs are kept
 * alive between requests.  Every response body is capped, every request has
 * a timeout, redirects are never followed, plain http is refused except to
 * loopback, and a stop request aborts a transfer from the progress
 * callback.  Failures are described in the response's error text and
 * returned; nothing is logged here.
 *
 * Each answer's Date header is kept with the local clocks' readings when
 * it arrived, and fed to the tenant's estimate of the API's clock
 * (srvclock.h); a Retry-After date counts from that Date, not from the
 * host's clock.
 */
#include <sys/stat.h>

#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "buf.h"
#include "errcode.h"
#include "http.h"
#include "srvclock.h"
#include "url.h"

#ifndef MDESIEM_VERSION
#define MDESIEM_VERSION "0"
#endif

#define DEFAULT_TIMEOUT 60L
#define MAX_CONNECT_TIMEOUT 30L
#define MAX_RETRY_AFTER 3600L
#define HTTP_RECV_BUFFER (128L * 1024) /* CURLOPT_BUFFERSIZE */

struct http {
	CURL *curl;
	long timeout;
	size_t max_body;
	const volatile sig_atomic_t *stop;
	struct srvclock *clock; /* borrowed, or NULL */
	char *ca_file; /* [source] ca_file, or NULL: libcurl's default */
	char *proxy; /* [source] proxy, or NULL: the environment's */
	char errbuf[CURL_ERROR_SIZE];
};

/* State of one transfer, seen by the callbacks. */
struct xfer {
	struct http *h;
	struct http_resp *resp;
	time_t retry_at; /* Retry-After as an HTTP-date, or -1 */
	int toobig;
	int nomem;
	int stopped;
};

static void set_error(struct http_resp *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Error texts are for humans; a text cut at the size of resp->error still
 * says what happened, so truncation is accepted here.
 */
static void
set_error(struct http_resp *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
}

/*
 * libcurl's and OpenSSL's own memory, wiped before it is given back:
 * libcurl copies the Authorization header and a small POST body (the
 * token request, with the secret or the client assertion) into its
 * request buffer and receives answers (the access token) in its download
 * buffer; OpenSSL holds the same bytes before encryption and after
 * decryption.
 */
static void
wiping_free(void *p)
{
	if (p != NULL) {
		explicit_bzero(p, malloc_usable_size(p));
		free(p);
	}
}

static void *
wiping_realloc(void *p, size_t n)
{
	size_t old;
	void *q;

	if (p == NULL)
		return malloc(n);
	if (n == 0) {
		wiping_free(p);
		return NULL;
	}
	if ((q = malloc(n)) == NULL)
		return NULL;
	old = malloc_usable_size(p);
	memcpy(q, p, old < n ? old : n);
	wiping_free(p);
	return q;
}

static void *
ossl_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return malloc(n);
}

static void *
ossl_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return wiping_realloc(p, n);
}

static void
ossl_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	wiping_free(p);
}

int
http_wipe_openssl(void)
{
	return CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free)
	    ? 0
	    : -1;
}

int
http_global_init(void)
{
	if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, malloc, wiping_free,
	        wiping_realloc, strdup, calloc) != CURLE_OK)
		return ERR_NOMEM;
	return 0;
}

void
http_global_cleanup(void)
{
	curl_global_cleanup();
}

void
http_resp_init(struct http_resp *r, size_t max_body)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->body, max_body);
	r->retry_after = -1;
}

void
http_resp_reset(struct http_resp *r)
{
	/* Bodies may hold access tokens. */
	buf_wipe(&r->body);
	r->status = 0;
	r->retry_after = -1;
	r->date = 0;
	r->error[0] = '\0';
}

static int
set_options(struct http *h, const struct http_opts *opts)
{
	CURL *c = h->curl;
	long ct;
	int rc = 0;

	ct =
	    h->timeout < MAX_CONNECT_TIMEOUT ? h->timeout : MAX_CONNECT_TIMEOUT;
	rc |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	rc |= curl_easy_setopt(c, CURLOPT_TIMEOUT, h->timeout);
	rc |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, ct);
	rc |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	rc |= curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	rc |= curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	rc |= curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	rc |= curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	rc |= curl_easy_setopt(c, CURLOPT_TCP_KEEPIDLE, 60L);
	rc |= curl_easy_setopt(c, CURLOPT_TCP_KEEPINTVL, 30L);
	rc |= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
	rc |= curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	/*
	 * A page of 1,000 alerts is megabytes: a larger receive buffer than
	 * libcurl's 16 KiB reads it in an eighth of the recv() calls and
	 * callbacks.  Only what a transfer fills is touched.
	 */
	rc |= curl_easy_setopt(c, CURLOPT_BUFFERSIZE, HTTP_RECV_BUFFER);
#if LIBCURL_VERSION_NUM >= 0x075700
	/*
	 * A stop during name resolution: the threaded resolver's thread is
	 * left to finish on its own instead of being waited for, which
	 * takes as long as the resolver's own timeout (tens of seconds).
	 */
	rc |= curl_easy_setopt(c, CURLOPT_QUICK_EXIT, 1L);
#endif
	rc |= curl_easy_setopt(c, CURLOPT_USERAGENT,
	    opts->user_agent != NULL ? opts->user_agent
	                             : "mdesiemd/" MDESIEM_VERSION);
	if (h->max_body > 0)
		rc |= curl_easy_setopt(
		    c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)h->max_body);
	/* libcurl copies string options; without a proxy it reads the
	 * environment (https_proxy, no_proxy). */
	if (opts->ca_file != NULL)
		rc |= curl_easy_setopt(c, CURLOPT_CAINFO, opts->ca_file);
	if (opts->proxy != NULL)
		rc |= curl_easy_setopt(c, CURLOPT_PROXY, opts->proxy);
	return rc == 0 ? 0 : -1;
}

struct http *
http_new(const struct http_opts *opts)
{
	struct http *h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->timeout = opts->timeout > 0 ? opts->timeout : DEFAULT_TIMEOUT;
	h->max_body = opts->max_body;
	h->stop = opts->stop;
	h->clock = opts->clock;
	if ((opts->ca_file != NULL &&
	        (h->ca_file = strdup(opts->ca_file)) == NULL) ||
	    (opts->proxy != NULL && (h->proxy = strdup(opts->proxy)) == NULL) ||
	    (h->curl = curl_easy_init()) == NULL || set_options(h, opts) != 0) {
		http_free(h);
		return NULL;
	}
	return h;
}

static int
same_str(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

int
http_configure(struct http *h, const struct http_opts *opts)
{
	char *ca = NULL, *px = NULL;
	CURL *c;

	h->timeout = opts->timeout > 0 ? opts->timeout : DEFAULT_TIMEOUT;
	h->max_body = opts->max_body;
	h->stop = opts->stop;
	h->clock = opts->clock;
	if (same_str(h->ca_file, opts->ca_file) &&
	    same_str(h->proxy, opts->proxy))
		return set_options(h, opts);
	/*
	 * Another CA bundle or proxy: a fresh handle, so that nothing of the
	 * other settings (nor their connections) carries over.
	 */
	if ((opts->ca_file != NULL && (ca = strdup(opts->ca_file)) == NULL) ||
	    (opts->proxy != NULL && (px = strdup(opts->proxy)) == NULL) ||
	    (c = curl_easy_init()) == NULL) {
		free(ca);
		free(px);
		return -1;
	}
	curl_easy_cleanup(h->curl);
	h->curl = c;
	free(h->ca_file);
	free(h->proxy);
	h->ca_file = ca;
	h->proxy = px;
	return set_options(h, opts);
}

struct srvclock *
http_clock(const struct http *h)
{
	return h->clock;
}

void
http_free(struct http *h)
{
	if (h == NULL)
		return;
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	free(h->ca_file);
	free(h->proxy);
	free(h);
}

static size_t
write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	struct buf *b = &x->resp->body;
	size_t n = size * nmemb;
	int rc;

	if (x->h->max_body > 0 && n > x->h->max_body - b->len) {
		x->toobig = 1;
		return 0;
	}
	if ((rc = buf_add(b, data, n)) != 0) {
		if (rc == ERR_NOMEM)
			x->nomem = 1;
		else
			x->toobig = 1;
		return 0;
	}
	return n;
}

/*
 * Retry-After is delta-seconds or an HTTP-date (RFC 9110 10.2.3).  A date
 * is kept in x->retry_at and counted from the answer's Date once all
 * headers are in (finish_retry_after()).
 */
static void
parse_retry_after(struct xfer *x, const char *v)
{
	char *end;
	long secs;

	x->resp->retry_after = -1;
	x->retry_at = -1;
	if (*v >= '0' && *v <= '9') {
		errno = 0;
		secs = strtol(v, &end, 10);
		if (errno == ERANGE || secs > MAX_RETRY_AFTER)
			secs = MAX_RETRY_AFTER;
		while (*end == ' ' || *end == '\t')
			end++;
		if (*end == '\0')
			x->resp->retry_after = secs;
		return;
	}
	x->retry_at = curl_getdate(v, NULL);
}

/*
 * Seconds until a Retry-After date, from the server's own Date when it
 * sent one: the host's clock may be off by far more than the wait.
 */
static void
finish_retry_after(struct xfer *x)
{
	time_t base;

	if (x->retry_at == -1)
		return;
	base = x->resp->date > 0 ? (time_t)x->resp->date : time(NULL);
	if (x->retry_at <= base)
		x->resp->retry_after = 0;
	else if (x->retry_at - base > MAX_RETRY_AFTER)
		x->resp->retry_after = MAX_RETRY_AFTER;
	else
		x->resp->retry_after = (long)(x->retry_at - base);
}

/*
 * The Date header: an HTTP-date (IMF-fixdate, or the obsolete forms RFC
 * 9110 5.6.7 lets a recipient accept), with the local clocks read as it
 * arrives.
 */
static void
note_date(struct xfer *x, const char *v)
{
	time_t t = curl_getdate(v, NULL);

	if (t <= 0)
		return;
	x->resp->date = (int64_t)t;
	clock_gettime(CLOCK_MONOTONIC, &x->resp->date_mono);
	clock_gettime(CLOCK_REALTIME, &x->resp->date_real);
}

/*
 * When the header line data[0..n) is "name: value", copy the trimmed
 * value into v (NUL-ended) and return 1; 0 for another header or a value
 * too long for v.
 */
static int
header_value(const char *data, size_t n, const char *name, char *v, size_t vlen)
{
	size_t nl = strlen(name);

	if (n <= nl || strncasecmp(data, name, nl) != 0)
		return 0;
	data += nl;
	n -= nl;
	while (n > 0 && (*data == ' ' || *data == '\t')) {
		data++;
		n--;
	}
	while (n > 0 &&
	    (data[n - 1] == '\r' || data[n - 1] == '\n' || data[n - 1] == ' ' ||
	        data[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= vlen)
		return 0;
	memcpy(v, data, n);
	v[n] = '\0';
	return 1;
}

static size_t
header_cb(char *data, size_t size, size_t nitems, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nitems;
	char v[128];

	/* A new status line (proxy CONNECT, 1xx) starts a new header set. */
	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		x->resp->retry_after = -1;
		x->retry_at = -1;
		x->resp->date = 0;
	} else if (header_value(data, n, "retry-after:", v, sizeof(v))) {
		parse_retry_after(x, v);
	} else if (header_value(data, n, "date:", v, sizeof(v))) {
		note_date(x, v);
	}
	return n;
}

static int
xferinfo_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
    curl_off_t ulnow)
{
	struct xfer *x = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	if (x->h->stop != NULL && *x->h->stop) {
		x->stopped = 1;
		return 1;
	}
	return 0;
}

/*
 * "host:port" (or "host" when with_port is 0) of url for error texts;
 * never user info, path or query.
 */
static void
target_of(const char *url, int with_port, char *out, size_t outlen)
{
	CURLU *u;
	char *host = NULL, *port = NULL;

	(void)snprintf(out, outlen, "the server");
	if ((u = curl_url()) == NULL)
		return;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ==
	        CURLUE_OK)
		(void)snprintf(out, outlen, "%s%s%s", host,
		    with_port ? ":" : "", with_port ? port : "");
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
}

static int
map_connect_error(struct http *h, const char *url, struct http_resp *resp)
{
	char target[128];
	long oserr = 0;

	target_of(url, 1, target, sizeof(target));
	(void)curl_easy_getinfo(h->curl, CURLINFO_OS_ERRNO, &oserr);
	if (oserr == ECONNREFUSED)
		set_error(resp, "connection refused to %s", target);
	else
		set_error(resp, "cannot connect to %s: %s", target, h->errbuf);
	return ERR_NET;
}

/*
 * A proxy's refusal: 407 to a proxied request, or any failed CONNECT.
 * Returns ERR_NET with the text set, or 0 when this was not one.
 */
static int
proxy_refusal(struct http *h, long status, struct http_resp *resp)
{
	long connect = 0;

	(void)curl_easy_getinfo(h->curl, CURLINFO_HTTP_CONNECTCODE, &connect);
	if (status == 407 || connect == 407) {
		set_error(resp,
		    "the proxy refused our credentials (HTTP 407 Proxy "
		    "Authentication Required); check the user and password "
		    "in the proxy URL ([source] proxy, or https_proxy / "
		    "http_proxy)");
		return ERR_NET;
	}
	if (connect >= 300) {
		set_error(resp,
		    "the proxy refused to open a tunnel (CONNECT answered "
		    "HTTP %ld)",
		    connect);
		return ERR_NET;
	}
	return 0;
}

/*
 * The CA bundle the handle verifies with: [source] ca_file, else the one
 * libcurl was built to use (Debian: ca-certificates' file).  NULL when
 * libcurl cannot tell.
 */
static const char *
ca_bundle(struct http *h)
{
	char *path = NULL;

	if (h->ca_file != NULL)
		return h->ca_file;
#if LIBCURL_VERSION_NUM >= 0x075400 /* CURLINFO_CAINFO: 7.84.0 */
	if (curl_easy_getinfo(h->curl, CURLINFO_CAINFO, &path) != CURLE_OK)
		path = NULL;
#endif
	return path;
}

/*
 * A verification that failed for want of a CA bundle (a machine without
 * ca-certificates, or a ca_file that is not there) is told apart from a
 * certificate that did not verify: the fix is different.
 */
static void
ca_error(struct http *h, CURLcode cc, struct http_resp *resp)
{
	const char *path = ca_bundle(h);
	struct stat st;

	if (path != NULL && stat(path, &st) != 0 && errno == ENOENT)
		set_error(resp,
		    "no CA bundle at %s: install ca-certificates or set "
		    "[source] ca_file",
		    path);
	else if (cc == CURLE_SSL_CACERT_BADFILE)
		set_error(resp, "cannot use the CA file: %s", h->errbuf);
	else
		set_error(
		    resp, "TLS certificate verification failed: %s", h->errbuf);
}

static int
map_error(struct http *h, CURLcode cc, const struct xfer *x, const char *url,
    struct http_resp *resp)
{
	curl_off_t us = 0;
	char host[128];

	if (x->stopped) {
		set_error(resp, "stopped");
		return ERR_STOPPED;
	}
	if (x->nomem || cc == CURLE_OUT_OF_MEMORY) {
		set_error(resp, "out of memory");
		return ERR_NOMEM;
	}
	if (x->toobig || cc == CURLE_FILESIZE_EXCEEDED) {
		set_error(resp, "response body larger than %zu bytes",
		    h->max_body > 0 && h->max_body < resp->body.max
		        ? h->max_body
		        : resp->body.max);
		return ERR_TOOBIG;
	}
	if (proxy_refusal(h, 0, resp) != 0)
		return ERR_NET;
	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
		(void)curl_easy_getinfo(h->curl, CURLINFO_TOTAL_TIME_T, &us);
		set_error(resp, "timed out after %ld s (%s)",
		    (long)((us + 500000) / 1000000), h->errbuf);
		break;
	case CURLE_COULDNT_CONNECT:
		return map_connect_error(h, url, resp);
	case CURLE_COULDNT_RESOLVE_HOST:
		target_of(url, 0, host, sizeof(host));
		set_error(resp, "cannot resolve host %s", host);
		break;
	case CURLE_COULDNT_RESOLVE_PROXY:
		set_error(resp, "cannot resolve proxy: %s", h->errbuf);
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
		ca_error(h, cc, resp);
		break;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_USE_SSL_FAILED:
		set_error(resp, "TLS handshake failed: %s", h->errbuf);
		break;
	case CURLE_PARTIAL_FILE:
		set_error(resp, "truncated response: %s", h->errbuf);
		break;
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
		set_error(resp, "connection lost: %s", h->errbuf);
		break;
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_BAD_CONTENT_ENCODING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		set_error(resp, "invalid HTTP response: %s", h->errbuf);
		break;
	default:
		set_error(resp, "request failed: %s", h->errbuf);
		break;
	}
	return ERR_NET;
}

/* Run the transfer configured on h->curl and fill resp. */
static int
perform(struct http *h, const char *url, struct curl_slist *hdrs,
    struct http_resp *resp)
{
	struct xfer x;
	CURLcode cc;
	int rc = 0;

	memset(&x, 0, sizeof(x));
	x.h = h;
	x.resp = resp;
	x.retry_at = -1;
	h->errbuf[0] = '\0';
	if (curl_easy_setopt(h->curl, CURLOPT_URL, url) != CURLE_OK) {
		set_error(resp, "out of memory");
		return ERR_NOMEM;
	}
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(h->curl, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(h->curl, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
	curl_easy_setopt(h->curl, CURLOPT_XFERINFODATA, &x);
	cc = curl_easy_perform(h->curl);
	if (h->errbuf[0] == '\0')
		(void)snprintf(
		    h->errbuf, sizeof(h->errbuf), "%s", curl_easy_strerror(cc));
	if (cc != CURLE_OK)
		rc = map_error(h, cc, &x, url, resp);
	else if (curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE,
	             &resp->status) == CURLE_OK &&
	    resp->status == 407)
		rc = proxy_refusal(h, resp->status, resp);
	finish_retry_after(&x);
	if (rc != 0)
		resp->status = 0;
	else if (h->clock != NULL && resp->date > 0)
		srvclock_note(
		    h->clock, resp->date, &resp->date_mono, &resp->date_real);
	/* Nothing on the handle may point at this call's memory. */
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, NULL);
	curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, NULL);
	curl_easy_setopt(h->curl, CURLOPT_XFERINFODATA, NULL);
	return rc;
}

/* Common checks before a request; resets resp. */
static int
start(struct http *h, const char *url, struct http_resp *resp)
{
	buf_clear(&resp->body);
	resp->status = 0;
	resp->retry_after = -1;
	resp->date = 0;
	resp->error[0] = '\0';
	if (h->stop != NULL && *h->stop) {
		set_error(resp, "stopped");
		return ERR_STOPPED;
	}
	if (!url_is_allowed(url)) {
		if (strncasecmp(url, "http://", 7) == 0)
			set_error(
			    resp, "refusing plain http to a non-loopback host");
		else
			set_error(resp, "refusing a URL that is not https");
		return ERR_NET;
	}
	return 0;
}

/* Wipe header values (a bearer token) before libcurl frees them. */
static void
free_headers(struct curl_slist *l)
{
	struct curl_slist *p;

	for (p = l; p != NULL; p = p->next)
		explicit_bzero(p->data, strlen(p->data));
	curl_slist_free_all(l);
}

static int
add_header(struct curl_slist **l, const char *h)
{
	struct curl_slist *n;

	if ((n = curl_slist_append(*l, h)) == NULL)
		return ERR_NOMEM;
	*l = n;
	return 0;
}

int
http_get(struct http *h, const char *url, const char *bearer,
    const char *const *headers, struct http_resp *resp)
{
	struct curl_slist *hdrs = NULL;
	struct buf auth;
	size_t i;
	int rc;

	buf_init_secret(&auth, 0);
	if ((rc = start(h, url, resp)) != 0)
		goto out;
	if (bearer != NULL) {
		if ((rc = buf_printf(
		         &auth, "Authorization: Bearer %s", bearer)) != 0 ||
		    (rc = add_header(&hdrs, buf_str(&auth))) != 0)
			goto out;
	}
	if ((rc = add_header(&hdrs, "Accept: application/json")) != 0)
		goto out;
	for (i = 0; headers != NULL && headers[i] != NULL; i++)
		if ((rc = add_header(&hdrs, headers[i])) != 0)
			goto out;
	curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L);
	rc = perform(h, url, hdrs, resp);
out:
	if (rc == ERR_NOMEM && resp->error[0] == '\0')
		set_error(resp, "out of memory");
	free_headers(hdrs);
	buf_wipe(&auth);
	return rc;
}

int
http_post_form(struct http *h, const char *url, const char *body, size_t len,
    struct http_resp *resp)
{
	struct curl_slist *hdrs = NULL;
	int rc;

	if ((rc = start(h, url, resp)) != 0)
		goto out;
	/* "Expect:" stops libcurl from waiting for 100-continue. */
	if ((rc = add_header(&hdrs,
	         "Content-Type: "
	         "application/x-www-form-urlencoded")) != 0 ||
	    (rc = add_header(&hdrs, "Accept: application/json")) != 0 ||
	    (rc = add_header(&hdrs, "Expect:")) != 0)
		goto out;
	/* POSTFIELDS points at the caller's body: libcurl does not copy it. */
	curl_easy_setopt(h->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
	rc = perform(h, url, hdrs, resp);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, NULL);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)-1);
	curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L);
out:
	if (rc == ERR_NOMEM && resp->error[0] == '\0')
		set_error(resp, "out of memory");
	free_headers(hdrs);
	return rc;
}

int
http_urlencode(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c;
	char esc[3];
	size_t i, mark = b->len;
	int rc;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			rc = buf_addc(b, (char)c);
		} else {
			esc[0] = '%';
			esc[1] = hex[c >> 4];
			esc[2] = hex[c & 0x0f];
			rc = buf_add(b, esc, sizeof(esc));
		}
		if (rc != 0) {
			buf_truncate(b, mark);
			return rc;
		}
	}
	return 0;
}
