/* SPDX-License-Identifier: MIT */
/*
 * Tests for the HTTP client against real loopback servers started here:
 * a small python3 HTTP server (and an HTTPS one with a throw-away
 * certificate when openssl is available).  Covers bodies, the body cap,
 * Retry-After, timeouts, refused and truncated connections, stop
 * requests, the plain-http policy, keep-alive, form posts, URL
 * encoding, the Date header fed to the API's clock, and the messages for
 * a certificate that does not verify and for a missing CA bundle.
 */
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "buf.h"
#include "check.h"
#include "errcode.h"
#include "http.h"
#include "srvclock.h"

#define MAX_BODY (64 * 1024)

static char server_py[] =
    "import email.utils, gzip, http.server, json, socketserver, ssl, sys, "
    "time\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    protocol_version = 'HTTP/1.1'\n"
    "    def log_message(self, *a): pass\n"
    "    def send(self, code, body, hdrs=()):\n"
    "        self.send_response(code)\n"
    "        for k, v in hdrs: self.send_header(k, v)\n"
    "        self.send_header('Content-Length', str(len(body)))\n"
    "        self.end_headers()\n"
    "        self.wfile.write(body)\n"
    "    def do_GET(self):\n"
    "        p, _, q = self.path.partition('?')\n"
    "        if p == '/echo':\n"
    "            d = {k.lower(): v for k, v in self.headers.items()}\n"
    "            d['method'] = 'GET'\n"
    "            self.send(200, json.dumps(d).encode())\n"
    "        elif p == '/big':\n"
    "            self.send(200, b'a' * int(q))\n"
    "        elif p == '/stream':\n"
    "            self.send_response(200)\n"
    "            self.send_header('Connection', 'close')\n"
    "            self.end_headers()\n"
    "            for i in range(int(q) // 1000):\n"
    "                self.wfile.write(b'b' * 1000)\n"
    "            self.close_connection = True\n"
    "        elif p == '/status':\n"
    "            c, _, ra = q.partition(',')\n"
    "            h = [('Retry-After', ra)] if ra else []\n"
    "            self.send(int(c), b'{}', h)\n"
    "        elif p == '/date':\n"
    "            d = email.utils.formatdate(time.time() + int(q), "
    "usegmt=True)\n"
    "            self.send(429, b'{}', [('Retry-After', d)])\n"
    "        elif p in ('/skewed', '/nodate'):\n"
    "            t = time.time() + int(q or '0')\n"
    "            f = lambda t: email.utils.formatdate(t, usegmt=True)\n"
    "            self.send_response_only(429 if p == '/skewed' else 200)\n"
    "            if p == '/skewed':\n"
    "                self.send_header('Date', f(t))\n"
    "                self.send_header('Retry-After', f(t + 30))\n"
    "            self.send_header('Content-Length', '2')\n"
    "            self.end_headers()\n"
    "            self.wfile.write(b'{}')\n"
    "        elif p == '/slow':\n"
    "            time.sleep(float(q))\n"
    "            self.send(200, b'late')\n"
    "        elif p == '/trunc':\n"
    "            self.send_response(200)\n"
    "            self.send_header('Content-Length', '100')\n"
    "            self.end_headers()\n"
    "            self.wfile.write(b'0123456789')\n"
    "            self.close_connection = True\n"
    "        elif p == '/gzip':\n"
    "            b = gzip.compress(b'x' * 5000)\n"
    "            self.send(200, b, [('Content-Encoding', 'gzip')])\n"
    "        elif p == '/redirect':\n"
    "            self.send(302, b'', [('Location', '/echo')])\n"
    "        elif p == '/peer':\n"
    "            self.send(200, str(self.client_address[1]).encode())\n"
    "        else:\n"
    "            self.send(404, b'')\n"
    "    def do_POST(self):\n"
    "        n = int(self.headers.get('Content-Length', '0'))\n"
    "        b = self.rfile.read(n).decode()\n"
    "        d = {k.lower(): v for k, v in self.headers.items()}\n"
    "        d['method'] = 'POST'\n"
    "        d['body'] = b\n"
    "        self.send(200, json.dumps(d).encode())\n"
    "class S(socketserver.ThreadingMixIn, http.server.HTTPServer):\n"
    "    daemon_threads = True\n"
    "    def handle_error(self, *a): pass\n"
    "s = S(('127.0.0.1', 0), H)\n"
    "if len(sys.argv) > 2:\n"
    "    c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
    "    c.load_cert_chain(sys.argv[1], sys.argv[2])\n"
    "    s.socket = c.wrap_socket(s.socket, server_side=True)\n"
    "print(s.server_address[1], flush=True)\n"
    "s.serve_forever()\n";

static pid_t children[4];
static int nchildren;
static char tmpdir[64];
static volatile sig_atomic_t stop_flag;

static void
kill_children(void)
{
	int i;

	for (i = 0; i < nchildren; i++) {
		if (children[i] > 0) {
			kill(children[i], SIGTERM);
			waitpid(children[i], NULL, 0);
			children[i] = 0;
		}
	}
}

/* Run argv with stdout on a pipe; returns the number it prints first. */
static int
start_server(char *const argv[])
{
	char line[32];
	ssize_t n;
	size_t got = 0;
	int fds[2];
	pid_t pid;

	if (pipe(fds) != 0 || nchildren == 4)
		return -1;
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	children[nchildren++] = pid;
	close(fds[1]);
	while (got < sizeof(line) - 1 &&
	    (n = read(fds[0], line + got, sizeof(line) - 1 - got)) > 0) {
		got += (size_t)n;
		if (memchr(line, '\n', got) != NULL)
			break;
	}
	close(fds[0]);
	line[got] = '\0';
	return (int)strtol(line, NULL, 10);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct http *
client(long timeout, const char *ca_file)
{
	struct http_opts o;

	memset(&o, 0, sizeof(o));
	o.timeout = timeout;
	o.ca_file = ca_file;
	o.max_body = MAX_BODY;
	o.stop = &stop_flag;
	return http_new(&o);
}

static void
url_of(char *out, size_t len, int port, const char *path)
{
	snprintf(out, len, "http://127.0.0.1:%d%s", port, path);
}

static void
test_get(struct http *h, int port)
{
	const char *const extra[] = {"X-Extra: yes", NULL};
	struct http_resp r;
	char url[128];

	http_resp_init(&r, 0);
	url_of(url, sizeof(url), port, "/echo");
	CHECK(http_get(h, url, "tok-123", extra, &r) == 0);
	CHECK(r.status == 200);
	CHECK(r.retry_after == -1);
	CHECK(strstr(buf_str(&r.body),
	          "\"authorization\": \"Bearer tok-123\"") != NULL);
	CHECK(strstr(buf_str(&r.body), "\"accept\": \"application/json\"") !=
	    NULL);
	CHECK(strstr(buf_str(&r.body), "\"x-extra\": \"yes\"") != NULL);
	CHECK(strstr(buf_str(&r.body), "\"user-agent\": \"mdesiemd/") != NULL);
	CHECK(strstr(buf_str(&r.body), "\"accept-encoding\": ") != NULL);

	/* No bearer: no Authorization header at all. */
	CHECK(http_get(h, url, NULL, NULL, &r) == 0);
	CHECK(strstr(buf_str(&r.body), "authorization") == NULL);

	url_of(url, sizeof(url), port, "/nothing");
	CHECK(http_get(h, url, NULL, NULL, &r) == 0);
	CHECK(r.status == 404);
	CHECK(r.body.len == 0);

	/* Redirects are returned, not followed. */
	url_of(url, sizeof(url), port, "/redirect");
	CHECK(http_get(h, url, NULL, NULL, &r) == 0);
	CHECK(r.status == 302);

	/* gzip is asked for and decoded. */
	url_of(url, sizeof(url), port, "/gzip");
	CHECK(http_get(h, url, NULL, NULL, &r) == 0);
	CHECK(r.status == 200);
	CHECK(r.body.len == 5000 && r.body.data[4999] == 'x');
	http_resp_reset(&r);
}

static void
test_user_agent(int port)
{
	struct http_opts o;
	struct http_resp r;
	struct http *h;
	char url[128];

	memset(&o, 0, sizeof(o));
	o.timeout = 5;
	o.max_body = MAX_BODY;
	o.user_agent = "custom-agent/9";
	h = http_new(&o);
	CHECK(h != NULL);
	http_resp_init(&r, 0);
	url_of(url, sizeof(url), port, "/echo");
	CHECK(http_get(h, url, NULL, NULL, &r) == 0);
	CHECK(strstr(buf_str(&r.body), "\"user-agent\": \"custom-agent/9\"") !=
	    NULL);
	http_resp_reset(&r);
	http_free(h);
}

static void
test_keepalive(struct http *h, int port)
{
	struct http_resp r;
	char url[128], first[32];

	http_resp_init(&r, 0);
	url_of(url, sizeof(url), port, "/peer");
	CHECK(http_get(h, url, NULL, NULL, &r) == 0);
	snprintf(first, sizeof(first), "%s", buf_str(&r.body));
	CHECK(http_get(h, url, NULL, NULL, &r) == 0);
	CHECK(first[0] != '\0');
	CHECK_STR(buf_str(&r.body), first);
	http_resp_reset(&r);
}

static void
test_toobig(struct http *h, int port)
{
	struct http_resp r;
	char url[128];

	http_resp_init(&r, 0);
	/* Exactly at the cap is fine. */
	snprintf(
	    url, sizeof(url), "http://127.0.0.1:%d/big?%d", port, MAX_BODY);
	CHECK(http_get(h, url, NULL, NULL, &r) == 0);
	CHECK(r.status == 200 && r.body.len == MAX_BODY);

	/* Announced by Content-Length. */
	snprintf(
	    url, sizeof(url), "http://127.0.0.1:%d/big?%d", port, MAX_BODY + 1);
	CHECK(http_get(h, url, NULL, NULL, &r) == ERR_TOOBIG);
	CHECK(r.status == 0);
	CHECK(strstr(r.error, "larger than 65536 bytes") != NULL);

	/* Streamed without a length. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/stream?%d", port,
	    4 * MAX_BODY);
	CHECK(http_get(h, url, NULL, NULL, &r) == ERR_TOOBIG);
	CHECK(r.body.len <= MAX_BODY);

	/* The response's own cap applies too. */
	http_resp_reset(&r);
	http_resp_init(&r, 100);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/big?101", port);
	CHECK(http_get(h, url, NULL, NULL, &r) == ERR_TOOBIG);

	/* The handle is still usable afterwards. */
	url_of(url, sizeof(url), port, "/big?100");
	CHECK(http_get(h, url, NULL, NULL, &r) == 0);
	CHECK(r.status == 200 && r.body.len == 100);
	http_resp_reset(&r);
}

static void
test_retry_after(struct http *h, int port)
{
	struct http_resp r;
	char url[128];

	http_resp_init(&r, 0);
	url_of(url, sizeof(url), port, "/status?429,7");
	CHECK(http_get(h, url, NULL, NULL, &r) == 0);
	CHECK(r.status == 429);
	CHECK(r.retry_after == 7);

	url_of(url, sizeof(url), port, "/status?503,0");
	CHECK(http_get(h, url, NULL, NULL, &r) == 0);
	CHECK(r.status == 503 && r.retry_after == 0);

	url_of(url, sizeof(url), port, "/status?429,99999999");
	CHECK(http_get(h, url, NULL, NULL, &r) == 0);
	CHECK(r.retry_after == 3600);

	url_of(url, sizeof(url), port, "/status?429,soon");
	CHECK(http_get(h, url, NULL, NULL, &r) == 0);
	CHECK(r.retry_after == -1);

	url_of(url, sizeof(url), port, "/date?120");
	CHECK(http_get(h, url, NULL, NULL, &r) == 0);
	CHECK(r.status == 429);
	CHECK(r.retry_after >= 117 && r.retry_after <= 120);

	url_of(url, sizeof(url), port, "/date?-100");
	CHECK(http_get(h, url, NULL, NULL, &r) == 0);
	CHECK(r.retry_after == 0);

	/* Not carried over to the next response. */
	url_of(url, sizeof(url), port, "/status?200");
	CHECK(http_get(h, url, NULL, NULL, &r) == 0);
	CHECK(r.status == 200 && r.retry_after == -1);
	http_resp_reset(&r);
}

static void
test_timeout(int port)
{
	struct http_resp r;
	struct http *h;
	char url[128];
	double t0;

	h = client(1, NULL);
	http_resp_init(&r, 0);
	url_of(url, sizeof(url), port, "/slow?3");
	t0 = now();
	CHECK(http_get(h, url, NULL, NULL, &r) == ERR_NET);
	CHECK(now() - t0 < 2.5);
	CHECK(r.status == 0);
	CHECK(strncmp(r.error, "timed out after 1 s", 19) == 0);
	http_resp_reset(&r);
	http_free(h);
}

static void
test_refused(struct http *h)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	struct http_resp r;
	char url[128], want[64];
	int s;

	/* A bound socket that never listens: connects are refused. */
	s = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	CHECK(getsockname(s, (struct sockaddr *)&sa, &len) == 0);
	http_resp_init(&r, 0);
	url_of(url, sizeof(url), ntohs(sa.sin_port), "/x");
	CHECK(http_get(h, url, NULL, NULL, &r) == ERR_NET);
	CHECK(r.status == 0);
	snprintf(want, sizeof(want), "connection refused to 127.0.0.1:%d",
	    ntohs(sa.sin_port));
	CHECK_STR(r.error, want);
	close(s);
	http_resp_reset(&r);
}

static void
test_truncated(struct http *h, int port)
{
	struct http_resp r;
	char url[128];

	http_resp_init(&r, 0);
	url_of(url, sizeof(url), port, "/trunc");
	CHECK(http_get(h, url, NULL, NULL, &r) == ERR_NET);
	CHECK(r.status == 0);
	CHECK(strncmp(r.error, "truncated response", 18) == 0);
	http_resp_reset(&r);
}

/*
 * The Date of every answer, with the local clocks when it came, feeds the
 * clock given in the options; a Retry-After date counts from that Date,
 * not from the host's clock.
 */
static void
test_date(int port)
{
	struct srvclock *clk = srvclock_new();
	struct http_opts o;
	struct http_resp r;
	struct http *h;
	char url[128];
	int64_t skew = 0;
	time_t now;

	memset(&o, 0, sizeof(o));
	o.timeout = 5;
	o.max_body = MAX_BODY;
	o.clock = clk;
	CHECK(clk != NULL && (h = http_new(&o)) != NULL);
	http_resp_init(&r, 0);

	/* Python's server sends Date by itself. */
	url_of(url, sizeof(url), port, "/echo");
	CHECK(http_get(h, url, NULL, NULL, &r) == 0);
	now = time(NULL);
	CHECK(r.date >= now - 2 && r.date <= now + 1);
	CHECK(r.date_mono.tv_sec > 0 && r.date_real.tv_sec >= now - 2);
	CHECK(srvclock_known(clk));
	CHECK(srvclock_skew(clk, &skew) == 0 && skew >= -2 && skew <= 2);

	/* A server 20 minutes behind the host: Retry-After is 30 s all
	 * the same. */
	url_of(url, sizeof(url), port, "/skewed?-1200");
	CHECK(http_get(h, url, NULL, NULL, &r) == 0);
	now = time(NULL);
	CHECK(r.status == 429);
	CHECK(r.date >= now - 1202 && r.date <= now - 1199);
	CHECK(r.retry_after == 30);
	CHECK(srvclock_skew(clk, &skew) == 0 && skew >= 1198 && skew <= 1202);

	/* An hour ahead. */
	url_of(url, sizeof(url), port, "/skewed?3600");
	CHECK(http_get(h, url, NULL, NULL, &r) == 0);
	CHECK(r.retry_after == 30);
	CHECK(srvclock_skew(clk, &skew) == 0 && skew >= -3602 && skew <= -3598);

	/* No Date: nothing carried over, the clock keeps the last one. */
	url_of(url, sizeof(url), port, "/nodate");
	CHECK(http_get(h, url, NULL, NULL, &r) == 0);
	CHECK(r.status == 200 && r.date == 0);
	CHECK(srvclock_skew(clk, &skew) == 0 && skew <= -3598);
	http_resp_reset(&r);
	http_free(h);
	srvclock_free(clk);
}

static void
on_alarm(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void
test_stop(struct http *h, int port)
{
	struct itimerval it;
	struct sigaction sa;
	struct http_resp r;
	char url[128];
	double t0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_usec = 300000;
	http_resp_init(&r, 0);
	url_of(url, sizeof(url), port, "/slow?10");
	t0 = now();
	setitimer(ITIMER_REAL, &it, NULL);
	CHECK(http_get(h, url, NULL, NULL, &r) == ERR_STOPPED);
	CHECK(now() - t0 < 2.5);
	CHECK(stop_flag == 1);
	CHECK(r.status == 0);

	/* Already stopped: no request is made. */
	url_of(url, sizeof(url), port, "/echo");
	t0 = now();
	CHECK(http_get(h, url, NULL, NULL, &r) == ERR_STOPPED);
	CHECK(http_post_form(h, url, "a=b", 3, &r) == ERR_STOPPED);
	CHECK(now() - t0 < 0.1);
	stop_flag = 0;
	CHECK(http_get(h, url, NULL, NULL, &r) == 0);
	CHECK(r.status == 200);
	http_resp_reset(&r);
}

static void
test_policy(struct http *h)
{
	struct http_resp r;
	double t0;

	http_resp_init(&r, 0);
	t0 = now();
	/* 192.0.2.0/24 is TEST-NET-1: a connect would hang until timeout. */
	CHECK(http_get(h, "http://192.0.2.1/api/alerts", "t", NULL, &r) ==
	    ERR_NET);
	CHECK_STR(r.error, "refusing plain http to a non-loopback host");
	CHECK(http_post_form(h, "http://login.example.com/t/oauth2/token",
	          "client_secret=x", 15, &r) == ERR_NET);
	CHECK_STR(r.error, "refusing plain http to a non-loopback host");
	CHECK(http_get(h, "ftp://127.0.0.1/x", NULL, NULL, &r) == ERR_NET);
	CHECK_STR(r.error, "refusing a URL that is not https");
	CHECK(now() - t0 < 0.1);
	http_resp_reset(&r);
}

static void
test_post(struct http *h, int port)
{
	struct http_resp r;
	char url[128], body[3000];

	http_resp_init(&r, 0);
	url_of(url, sizeof(url), port, "/form");
	CHECK(http_post_form(h, url, "a=1&b=%20", 9, &r) == 0);
	CHECK(r.status == 200);
	CHECK(strstr(buf_str(&r.body), "\"method\": \"POST\"") != NULL);
	CHECK(strstr(buf_str(&r.body), "\"body\": \"a=1&b=%20\"") != NULL);
	CHECK(strstr(buf_str(&r.body),
	          "\"content-type\": "
	          "\"application/x-www-form-urlencoded\"") != NULL);

	/* Only len bytes are sent. */
	CHECK(http_post_form(h, url, "x=1&y=2", 3, &r) == 0);
	CHECK(strstr(buf_str(&r.body), "\"body\": \"x=1\"") != NULL);

	/* A large body goes without waiting for 100-continue. */
	memset(body, 'z', sizeof(body));
	CHECK(http_post_form(h, url, body, sizeof(body), &r) == 0);
	CHECK(r.status == 200);
	CHECK(strstr(buf_str(&r.body), "\"expect\"") == NULL);

	/* The next request on the handle is a GET again. */
	url_of(url, sizeof(url), port, "/echo");
	CHECK(http_get(h, url, NULL, NULL, &r) == 0);
	CHECK(strstr(buf_str(&r.body), "\"method\": \"GET\"") != NULL);
	http_resp_reset(&r);
}

static void
check_enc(const char *in, size_t n, const char *want)
{
	struct buf b;

	buf_init(&b, 0);
	CHECK(buf_adds(&b, "<") == 0);
	CHECK(http_urlencode(&b, in, n) == 0);
	CHECK_STR(buf_str(&b), want);
	buf_reset(&b);
}

static void
test_urlencode(void)
{
	struct buf b;

	check_enc("AZaz09-._~", 10, "<AZaz09-._~");
	check_enc("", 0, "<");
	check_enc("a b+c&d=e/f?g#h%", 16, "<a%20b%2Bc%26d%3De%2Ff%3Fg%23h%25");
	check_enc("IKXc6PxB2eoFNJ/IT+l2JZZD9d9032VXz6Ul3D2WyUQ=", 44,
	    "<IKXc6PxB2eoFNJ%2FIT%2Bl2JZZD9d9032VXz6Ul3D2WyUQ%3D");
	check_enc("https://graph.windows.net", 25,
	    "<https%3A%2F%2Fgraph.windows.net");
	check_enc("\xc3\xa9\xff", 3, "<%C3%A9%FF");
	check_enc("a\0b", 3, "<a%00b");
	check_enc("abcdef", 3, "<abc");

	/* Past the cap: an error and the buffer as it was. */
	buf_init(&b, 8);
	CHECK(buf_adds(&b, "k=") == 0);
	CHECK(http_urlencode(&b, "a b c", 5) == ERR_TOOBIG);
	CHECK_STR(buf_str(&b), "k=");
	buf_reset(&b);
}

static int
make_cert(char *crt, char *key, size_t len)
{
	char cmd[512];

	snprintf(crt, len, "%s/c.pem", tmpdir);
	snprintf(key, len, "%s/k.pem", tmpdir);
	snprintf(cmd, sizeof(cmd),
	    "openssl req -x509 -newkey rsa:2048 "
	    "-nodes -days 1 -subj /CN=localhost -addext "
	    "subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout %s -out %s "
	    ">/dev/null 2>&1",
	    key, crt);
	return system(cmd) == 0 ? 0 : -1;
}

/*
 * A machine without ca-certificates: in a mount namespace of its own, an
 * empty tmpfs hides the directory of libcurl's default CA bundle, and a
 * request without [source] ca_file names the missing file and the fix.
 * Needs root (and a root that is a mount point); else skipped.  Returns
 * 0 when the error was right, 1 when not, 2 when it could not be tried.
 */
static int
no_bundle_child(const char *url, char *why, size_t len)
{
	struct http_resp r;
	struct http *h;
	char dir[256], want[512], *bundle = NULL, *slash;
	CURL *c;
	int rc;

	if ((c = curl_easy_init()) == NULL ||
	    curl_easy_getinfo(c, CURLINFO_CAINFO, &bundle) != CURLE_OK ||
	    bundle == NULL || bundle[0] != '/') {
		snprintf(why, len, "libcurl names no default CA bundle");
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s", bundle);
	snprintf(want, sizeof(want),
	    "no CA bundle at %s: install ca-certificates or set [source] "
	    "ca_file",
	    bundle);
	curl_easy_cleanup(c);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return 2;
	*slash = '\0';
	/* private first: nothing mounted here may reach the machine's view */
	if (unshare(CLONE_NEWNS) != 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
	    mount("none", dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k") !=
	        0) {
		snprintf(why, len, "no private mount namespace (%s)",
		    strerror(errno));
		return 2;
	}
	http_resp_init(&r, 0);
	h = client(5, NULL);
	rc = http_get(h, url, NULL, NULL, &r) == ERR_NET &&
	        strcmp(r.error, want) == 0
	    ? 0
	    : 1;
	if (rc != 0)
		snprintf(why, len, "got [%s], want [%s]", r.error, want);
	http_free(h);
	http_resp_reset(&r);
	return rc;
}

static void
test_no_ca_bundle(const char *url)
{
	char why[1024] = "";
	int fds[2], status = 0;
	ssize_t n;
	pid_t pid;

	if (geteuid() != 0) {
		printf(
		    "skip test_http: no CA bundle on the machine (needs root "
		    "for a mount namespace)\n");
		return;
	}
	if (pipe(fds) != 0 || (pid = fork()) < 0) {
		CHECK(!"pipe and fork");
		return;
	}
	if (pid == 0) {
		close(fds[0]);
		status = no_bundle_child(url, why, sizeof(why));
		n = write(fds[1], why, strlen(why));
		(void)n;
		_exit(status);
	}
	close(fds[1]);
	n = read(fds[0], why, sizeof(why) - 1);
	why[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	waitpid(pid, &status, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 2) {
		printf(
		    "skip test_http: no CA bundle on the machine: %s\n", why);
		return;
	}
	if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		fprintf(stderr, "no CA bundle: %s\n", why);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void
test_tls(void)
{
	char crt[128], key[128], url[128], missing[128], want[256];
	char py[] = "python3", dash_c[] = "-c";
	struct http_resp r;
	struct http *h;
	int port;

	if (make_cert(crt, key, sizeof(crt)) != 0) {
		fprintf(stderr, "skip TLS tests: openssl failed\n");
		return;
	}
	{
		char *const argv[] = {py, dash_c, server_py, crt, key, NULL};

		port = start_server(argv);
	}
	CHECK(port > 0);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/echo", port);
	http_resp_init(&r, 0);

	h = client(5, NULL);
	CHECK(http_get(h, url, NULL, NULL, &r) == ERR_NET);
	CHECK(
	    strncmp(r.error, "TLS certificate verification failed: ", 37) == 0);
	http_free(h);

	h = client(5, crt);
	CHECK(http_get(h, url, NULL, NULL, &r) == 0);
	CHECK(r.status == 200);
	http_free(h);
	http_resp_reset(&r);

	/* No CA bundle where one is expected: said so, with the fix. */
	snprintf(missing, sizeof(missing), "%s/no-such-ca.pem", tmpdir);
	snprintf(want, sizeof(want),
	    "no CA bundle at %s: install ca-certificates or set [source] "
	    "ca_file",
	    missing);
	h = client(5, missing);
	CHECK(http_get(h, url, NULL, NULL, &r) == ERR_NET);
	CHECK_STR(r.error, want);
	http_free(h);
	http_resp_reset(&r);
	test_no_ca_bundle(url);
}

static void
remove_tmpdir(void)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/c.pem", tmpdir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/k.pem", tmpdir);
	unlink(p);
	rmdir(tmpdir);
}

int
main(void)
{
	char py[] = "python3", dash_c[] = "-c";
	char *const argv[] = {py, dash_c, server_py, NULL};
	struct http *h;
	int port;

	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_http.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	atexit(kill_children);
	CHECK(http_global_init() == 0);
	port = start_server(argv);
	CHECK(port > 0);
	h = client(5, NULL);
	CHECK(h != NULL);

	test_urlencode();
	test_policy(h);
	test_get(h, port);
	test_user_agent(port);
	test_keepalive(h, port);
	test_toobig(h, port);
	test_retry_after(h, port);
	test_date(port);
	test_post(h, port);
	test_truncated(h, port);
	test_refused(h);
	test_timeout(port);
	test_stop(h, port);
	test_tls();

	http_free(h);
	http_global_cleanup();
	kill_children();
	remove_tmpdir();
	return check_done();
}
