/* SPDX-License-Identifier: MIT */
/*
 * Tests for the Entra ID token cache against real loopback servers: the
 * bundled simulator (tests/sim/mdesim.py) for the grant itself, caching,
 * renewal and Entra's refusals, and a small python3 server started here
 * that answers with canned token responses (the documented shapes and
 * broken ones) and echoes requests back.  Certificate sign-in runs
 * against the simulator with a certificate registered there, which
 * checks the assertion's signature, aud, times and thumbprint.
 */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "check.h"
#include "errcode.h"
#include "http.h"
#include "token.h"

#define SIM "tests/sim/mdesim.py"
#define TENANT "00000000-0000-0000-0000-000000000001"
#define CLIENT "11111111-1111-1111-1111-111111111111"
#define SECRET "sim-secret"
#define AUDIENCE "https://graph.windows.net"
/* Characters that change under URL encoding, to test both forms. */
#define BAD_SECRET "Wr0ng+Secret/Value=="

/* Token responses by tenant name; "echo" sends the request back. */
static char canned_py[] =
    "import http.server, json, socketserver, sys, time\n"
    "FIX_ERR = {'error': 'invalid_scope', 'error_description': "
    "'AADSTS70011: The provided value for the input parameter \\'scope\\' "
    "is not valid. The scope https://foo.microsoft.com/.default is not "
    "valid.\\r\\nTrace ID: 255d1aef-8c98-452f-ac51-23d051240864\\r\\n"
    "Correlation ID: fb3d2015-bc17-4bb9-bb85-30c5cf1aaaa7\\r\\nTimestamp: "
    "2016-01-09 02:02:12Z', 'error_codes': [70011], 'timestamp': "
    "'YYYY-MM-DD HH:MM:SSZ', 'trace_id': "
    "'255d1aef-8c98-452f-ac51-23d051240864', 'correlation_id': "
    "'fb3d2015-bc17-4bb9-bb85-30c5cf1aaaa7'}\n"
    "def ok(**kw):\n"
    "    d = {'token_type': 'Bearer', 'access_token': 'tok-' + "
    "str(time.time())}\n"
    "    d.update(kw)\n"
    "    return (200, json.dumps(d))\n"
    "CASES = {\n"
    "  'num': lambda: ok(expires_in=3599, ext_expires_in=0),\n"
    "  'str': lambda: ok(expires_in='3599', expires_on='1388452167', "
    "resource='https://service.contoso.com/'),\n"
    "  'on': lambda: ok(expires_on=int(time.time()) + 1000),\n"
    "  'onstr': lambda: ok(expires_on=str(int(time.time()) + 1000)),\n"
    "  'noexp': lambda: ok(),\n"
    "  'garbage': lambda: ok(expires_in='12abc'),\n"
    "  'zero': lambda: ok(expires_in=0),\n"
    "  'neg': lambda: ok(expires_in='-5'),\n"
    "  'past': lambda: ok(expires_on=int(time.time()) - 10),\n"
    "  'lower': lambda: ok(token_type='bearer', expires_in=60),\n"
    "  'mac': lambda: ok(token_type='mac', expires_in=60),\n"
    "  'space': lambda: ok(access_token='a b', expires_in=60),\n"
    "  'notoken': lambda: (200, json.dumps({'token_type': 'Bearer', "
    "'expires_in': 60})),\n"
    "  'array': lambda: (200, '[1, 2]'),\n"
    "  'notjson': lambda: (200, '<html>hello</html>'),\n"
    "  'html404': lambda: (404, '<html>Not Found</html>'),\n"
    "  'fixture': lambda: (400, json.dumps(FIX_ERR)),\n"
    "  'noerr400': lambda: (400, '{}'),\n"
    "  'ctl': lambda: (401, json.dumps({'error': 'invalid_client', "
    "'error_description': 'AADSTS1: bad\\x1b[31m thing\\nTrace ID: x'})),\n"
    "  'busy': lambda: (503, json.dumps({'error': "
    "'temporarily_unavailable', 'error_description': 'AADSTS50196: "
    "The server terminated an operation.'})),\n"
    "  'bare500': lambda: (500, ''),\n"
    "  'leaky': lambda: (401, json.dumps({'error': 'invalid_client', "
    "'error_description': 'AADSTS9: seen access_token=abc123&"
    "refresh_token=def456 and {\"access_token\": \"ghi789\", "
    "\"id_token\":\"jkl012\"} client_secret=mno345'})),\n"
    "}\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    protocol_version = 'HTTP/1.1'\n"
    "    def log_message(self, *a): pass\n"
    "    def do_POST(self):\n"
    "        n = int(self.headers.get('Content-Length', '0'))\n"
    "        body = self.rfile.read(n).decode()\n"
    "        case = self.path.split('/')[1]\n"
    "        hdrs = []\n"
    "        if case == 'echo':\n"
    "            st, b = 400, json.dumps({'error': 'invalid_request', "
    "'error_description': self.path + ' ' + body})\n"
    "        elif case == 'slow':\n"
    "            time.sleep(3)\n"
    "            st, b = ok(expires_in=60)\n"
    "        elif case == 'throttle0':\n"
    "            st, b = 429, '{}'\n"
    "        elif case == 'throttle':\n"
    "            st, b = 429, '{}'\n"
    "            hdrs = [('Retry-After', '30')]\n"
    "        else:\n"
    "            st, b = CASES[case]()\n"
    "        b = b.encode()\n"
    "        self.send_response(st)\n"
    "        for k, v in hdrs: self.send_header(k, v)\n"
    "        self.send_header('Content-Length', str(len(b)))\n"
    "        self.end_headers()\n"
    "        self.wfile.write(b)\n"
    "class S(socketserver.ThreadingMixIn, http.server.HTTPServer):\n"
    "    daemon_threads = True\n"
    "    def handle_error(self, *a): pass\n"
    "s = S(('127.0.0.1', 0), H)\n"
    "print(s.server_address[1], flush=True)\n"
    "s.serve_forever()\n";

static pid_t children[6];
static int nchildren;
static char tmpdir[64];
static volatile sig_atomic_t stop_flag;
static struct http *ctl; /* talks to the simulator's control API */

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

static pid_t
spawn(char *const argv[], int out_fd)
{
	pid_t pid;

	if (nchildren == 6 || (pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (out_fd < 0)
			out_fd = open("/dev/null", O_WRONLY);
		dup2(out_fd, 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	children[nchildren++] = pid;
	return pid;
}

static int
start_canned(void)
{
	char py[] = "python3", dash_c[] = "-c";
	char *const argv[] = {py, dash_c, canned_py, NULL};
	char line[32];
	size_t got = 0;
	ssize_t n;
	int fds[2];

	if (pipe(fds) != 0)
		return -1;
	if (spawn(argv, fds[1]) == -1)
		return -1;
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

/*
 * Start the simulator with up to two extra option/value pairs (NULL
 * options are left out); returns its port or -1.
 */
static int
start_sim_with(const char *name, const char *opt1, const char *val1,
    const char *opt2, const char *val2)
{
	char py[] = "python3", sim[] = SIM, p0[] = "--port", zero[] = "0",
	     pf[] = "--port-file", quiet[] = "--quiet", path[128],
	     extra[4][256];
	char *argv[12] = {py, sim, p0, zero, pf, path, quiet, NULL};
	const char *opts[4] = {opt1, val1, opt2, val2};
	FILE *f;
	long port = -1;
	int i, n = 7;

	snprintf(path, sizeof(path), "%s/%s.port", tmpdir, name);
	for (i = 0; i < 4; i += 2) {
		if (opts[i] == NULL)
			continue;
		snprintf(extra[i], sizeof(extra[i]), "%s", opts[i]);
		snprintf(extra[i + 1], sizeof(extra[i + 1]), "%s", opts[i + 1]);
		argv[n++] = extra[i];
		argv[n++] = extra[i + 1];
	}
	argv[n] = NULL;
	if (spawn(argv, -1) == -1)
		return -1;
	for (i = 0; i < 200 && port <= 0; i++) {
		if ((f = fopen(path, "r")) != NULL) {
			if (fscanf(f, "%ld", &port) != 1)
				port = -1;
			fclose(f);
		}
		if (port <= 0)
			usleep(50000);
	}
	unlink(path);
	return (int)port;
}

static int
start_sim(const char *name, const char *lifetime)
{
	return start_sim_with(name,
	    lifetime != NULL ? "--token-lifetime" : NULL, lifetime, NULL, NULL);
}

static int
sim_post(int port, const char *path, const char *json)
{
	struct http_resp r;
	char url[128];
	int rc;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	http_resp_init(&r, 0);
	rc = http_post_form(ctl, url, json, strlen(json), &r);
	if (rc == 0 && r.status != 200)
		rc = ERR_HTTP;
	http_resp_reset(&r);
	return rc;
}

static long
sim_stat(int port, const char *key)
{
	struct http_resp r;
	cJSON *root = NULL, *v;
	char url[128];
	long n = -1;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/_sim/stats", port);
	http_resp_init(&r, 0);
	if (http_get(ctl, url, NULL, NULL, &r) == 0 && r.status == 200 &&
	    (root = cJSON_Parse(buf_str(&r.body))) != NULL &&
	    cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(root, key)))
		n = (long)v->valuedouble;
	cJSON_Delete(root);
	http_resp_reset(&r);
	return n;
}

static struct http *
client(long timeout)
{
	struct http_opts o;

	memset(&o, 0, sizeof(o));
	o.timeout = timeout;
	o.max_body = 1024 * 1024;
	o.stop = &stop_flag;
	return http_new(&o);
}

static struct token *
new_token(struct http *h, enum token_endpoint ep, int port, const char *tenant,
    const char *client_id, const char *secret, const char *audience)
{
	struct token_opts o;
	char login[64];

	snprintf(login, sizeof(login), "http://127.0.0.1:%d", port);
	memset(&o, 0, sizeof(o));
	o.endpoint = ep;
	o.login_url = login;
	o.tenant_id = tenant;
	o.client_id = client_id;
	o.client_secret = secret;
	o.audience = audience;
	return token_new(&o, h);
}

/* Neither form of the secret, nor a token, may be in an error text. */
static void
check_clean(const struct token *t, const char *secret, const char *tok)
{
	struct buf enc;

	buf_init(&enc, 0);
	CHECK(http_urlencode(&enc, secret, strlen(secret)) == 0);
	CHECK(strstr(token_error(t), secret) == NULL);
	CHECK(strstr(token_error(t), buf_str(&enc)) == NULL);
	if (tok != NULL)
		CHECK(strstr(token_error(t), tok) == NULL);
	buf_reset(&enc);
}

static int
api_status(struct http *h, int port, const char *bearer)
{
	struct http_resp r;
	char url[128];
	long st = -1;

	snprintf(url, sizeof(url),
	    "http://127.0.0.1:%d/siem/api/alerts"
	    "?sinceTimeUtc=2020-01-01T00:00:00Z&limit=1",
	    port);
	http_resp_init(&r, 0);
	if (http_get(h, url, bearer, NULL, &r) == 0)
		st = r.status;
	http_resp_reset(&r);
	return (int)st;
}

static void
test_sim_success(struct http *h, int port)
{
	struct token *t;
	const char *b1 = NULL, *b2 = NULL;
	char first[8192];
	long issued;

	/* v1: expires_in comes as a string. */
	t = new_token(h, TOKEN_V1, port, TENANT, CLIENT, SECRET, AUDIENCE);
	CHECK(t != NULL);
	CHECK(token_renewals(t) == 0);
	CHECK(token_expires_in(t) == 0);
	issued = sim_stat(port, "tokens_issued");
	CHECK(token_get(t, &b1) == 0);
	CHECK_STR(token_error(t), "");
	CHECK(b1 != NULL && strlen(b1) > 10);
	CHECK(token_renewals(t) == 1);
	CHECK(token_expires_in(t) > 3000 && token_expires_in(t) <= 3600);
	CHECK(sim_stat(port, "tokens_issued") == issued + 1);
	CHECK(api_status(h, port, b1) == 200);
	CHECK(api_status(h, port, "not-a-token") == 401);
	snprintf(first, sizeof(first), "%s", b1);

	/* Cached: no second request. */
	CHECK(token_get(t, &b2) == 0);
	CHECK_STR(b2, first);
	CHECK(token_renewals(t) == 1);
	CHECK(sim_stat(port, "tokens_issued") == issued + 1);

	/* Invalidated: a new one. */
	token_invalidate(t);
	CHECK(token_expires_in(t) == 0);
	CHECK(token_get(t, &b2) == 0);
	CHECK(token_renewals(t) == 2);
	CHECK(sim_stat(port, "tokens_issued") == issued + 2);
	CHECK(api_status(h, port, b2) == 200);
	token_free(t);

	/* v2: scope=<audience>/.default, expires_in a number. */
	t = new_token(h, TOKEN_V2, port, TENANT, CLIENT, SECRET, AUDIENCE);
	CHECK(token_get(t, &b1) == 0);
	CHECK_STR(token_error(t), "");
	CHECK(token_renewals(t) == 1);
	CHECK(token_expires_in(t) > 3000);
	CHECK(api_status(h, port, b1) == 200);
	token_free(t);
	token_free(NULL);
}

static void
test_sim_refusals(struct http *h, int port)
{
	struct token *t;
	const char *b = NULL;

	t = new_token(h, TOKEN_V1, port, TENANT, CLIENT, BAD_SECRET, AUDIENCE);
	CHECK(token_get(t, &b) == ERR_CREDENTIALS);
	CHECK(b == NULL);
	CHECK(strstr(token_error(t), "HTTP 401 invalid_client") != NULL);
	CHECK(strstr(token_error(t), "AADSTS7000215") != NULL);
	CHECK(strchr(token_error(t), '\n') == NULL);
	CHECK(strchr(token_error(t), '\r') == NULL);
	check_clean(t, BAD_SECRET, NULL);
	CHECK(token_renewals(t) == 0);
	token_free(t);

	t = new_token(h, TOKEN_V2, port, "no-such-tenant.example", CLIENT,
	    SECRET, AUDIENCE);
	CHECK(token_get(t, &b) == ERR_CREDENTIALS);
	CHECK(strstr(token_error(t), "HTTP 400") != NULL);
	CHECK(strstr(token_error(t), "AADSTS90002") != NULL);
	check_clean(t, SECRET, NULL);
	token_free(t);

	t = new_token(h, TOKEN_V1, port, TENANT,
	    "22222222-2222-2222-2222-222222222222", SECRET, AUDIENCE);
	CHECK(token_get(t, &b) == ERR_CREDENTIALS);
	CHECK(strstr(token_error(t), "AADSTS700016") != NULL);
	check_clean(t, SECRET, NULL);
	token_free(t);
}

static void
test_sim_faults(struct http *h, int port)
{
	struct token *t;
	struct http *quick;
	const char *b = NULL;
	char tok[8192];

	t = new_token(h, TOKEN_V1, port, TENANT, CLIENT, SECRET, AUDIENCE);
	CHECK(token_get(t, &b) == 0);
	snprintf(tok, sizeof(tok), "%s", b);

	token_invalidate(t);
	CHECK(sim_post(port, "/_sim/fault",
	          "{\"path\":\"token\",\"status\":500,\"count\":1}") == 0);
	CHECK(token_get(t, &b) == ERR_SERVER);
	CHECK(strstr(token_error(t), "HTTP 500") != NULL);
	check_clean(t, SECRET, tok);

	CHECK(sim_post(port, "/_sim/fault",
	          "{\"path\":\"token\","
	          "\"status\":429,\"count\":1,\"retry_after\":2}") == 0);
	CHECK(token_get(t, &b) == ERR_THROTTLED);
	CHECK(token_retry_after(t) == 2);
	CHECK(strstr(token_error(t), "HTTP 429") != NULL);
	check_clean(t, SECRET, tok);

	CHECK(sim_post(port, "/_sim/fault",
	          "{\"path\":\"token\",\"malformed\":true,\"count\":1}") == 0);
	CHECK(token_get(t, &b) == ERR_PARSE);
	CHECK(strstr(token_error(t), "HTTP 200") != NULL ||
	    strstr(token_error(t), "token response") != NULL);
	check_clean(t, SECRET, tok);

	CHECK(sim_post(port, "/_sim/fault",
	          "{\"path\":\"token\",\"truncate\":true,\"count\":1}") == 0);
	CHECK(token_get(t, &b) == ERR_NET);
	CHECK(strncmp(token_error(t), "cannot reach 127.0.0.1: ", 24) == 0);
	check_clean(t, SECRET, tok);

	/* The fault is used up: back to normal. */
	CHECK(token_get(t, &b) == 0);
	CHECK_STR(token_error(t), "");
	CHECK(token_retry_after(t) == -1);
	token_free(t);

	quick = client(1);
	t = new_token(quick, TOKEN_V1, port, TENANT, CLIENT, SECRET, AUDIENCE);
	CHECK(sim_post(port, "/_sim/fault",
	          "{\"path\":\"token\",\"delay\":3,\"count\":1}") == 0);
	CHECK(token_get(t, &b) == ERR_NET);
	CHECK(strncmp(token_error(t), "cannot reach 127.0.0.1: timed out",
	          33) == 0);
	token_free(t);
	http_free(quick);
}

static void
test_sim_renewal(struct http *h, int port)
{
	struct token *t;
	const char *b = NULL;
	char first[8192];
	long issued;

	/* Lifetime 8 s: renewed 5 s before expiry. */
	t = new_token(h, TOKEN_V2, port, TENANT, CLIENT, SECRET, AUDIENCE);
	CHECK(token_get(t, &b) == 0);
	CHECK(token_expires_in(t) <= 8 && token_expires_in(t) >= 6);
	snprintf(first, sizeof(first), "%s", b);
	issued = sim_stat(port, "tokens_issued");
	CHECK(token_get(t, &b) == 0);
	CHECK_STR(b, first);
	CHECK(sim_stat(port, "tokens_issued") == issued);
	usleep(3300000);
	CHECK(token_get(t, &b) == 0);
	CHECK(strcmp(b, first) != 0);
	CHECK(token_renewals(t) == 2);
	CHECK(sim_stat(port, "tokens_issued") == issued + 1);

	/*
	 * A failed early renewal keeps the still-valid token and says why;
	 * the next attempt waits a little.
	 */
	snprintf(first, sizeof(first), "%s", b);
	usleep(3300000);
	CHECK(sim_post(port, "/_sim/fault",
	          "{\"path\":\"token\",\"status\":503,\"count\":1}") == 0);
	CHECK(token_get(t, &b) == 0);
	CHECK_STR(b, first);
	CHECK(strstr(token_error(t), "HTTP 503") != NULL);
	CHECK(token_renewals(t) == 2);
	CHECK(token_get(t, &b) == 0);
	CHECK_STR(b, first);
	usleep(1500000);
	CHECK(token_get(t, &b) == 0);
	CHECK(strcmp(b, first) != 0);
	CHECK_STR(token_error(t), "");
	CHECK(token_renewals(t) == 3);

	/* Without a usable cached token the failure is returned. */
	token_invalidate(t);
	CHECK(sim_post(port, "/_sim/fault",
	          "{\"path\":\"token\",\"status\":503,\"count\":1}") == 0);
	CHECK(token_get(t, &b) == ERR_SERVER);
	token_free(t);
}

static void
check_case(struct http *h, int port, const char *tenant, int want,
    const char *err_part)
{
	struct token *t;
	const char *b = NULL;

	t = new_token(h, TOKEN_V1, port, tenant, "cid", SECRET, AUDIENCE);
	CHECK(token_get(t, &b) == want);
	if (err_part != NULL && strstr(token_error(t), err_part) == NULL) {
		fprintf(stderr, "case %s: [%s] lacks [%s]\n", tenant,
		    token_error(t), err_part);
		CHECK(0);
	}
	if (want == 0)
		CHECK(b != NULL && token_renewals(t) == 1);
	check_clean(t, SECRET, want == 0 ? b : NULL);
	token_free(t);
}

static void
test_canned(struct http *h, int port)
{
	struct token *t;
	const char *b = NULL;
	long left;

	check_case(h, port, "num", 0, NULL);
	check_case(h, port, "str", 0, NULL);
	check_case(h, port, "onstr", 0, NULL);
	check_case(h, port, "lower", 0, NULL);
	check_case(h, port, "noexp", ERR_PARSE,
	    "token response has no usable expires_in");
	check_case(h, port, "garbage", ERR_PARSE, "no usable expires_in");
	check_case(h, port, "zero", ERR_PARSE, "no usable expires_in");
	check_case(h, port, "neg", ERR_PARSE, "no usable expires_in");
	check_case(h, port, "past", ERR_PARSE, "no usable expires_in");
	check_case(h, port, "mac", ERR_PARSE, "not for a Bearer token");
	check_case(h, port, "space", ERR_PARSE, "access_token");
	check_case(h, port, "notoken", ERR_PARSE, "access_token");
	check_case(h, port, "array", ERR_PARSE, "not JSON (HTTP 200)");
	check_case(h, port, "notjson", ERR_PARSE, "not JSON (HTTP 200)");
	check_case(h, port, "html404", ERR_PARSE, "HTTP 404");
	check_case(h, port, "noerr400", ERR_PARSE, "HTTP 400");
	check_case(h, port, "busy", ERR_SERVER,
	    "Entra ID failed the token "
	    "request (HTTP 503 temporarily_unavailable): AADSTS50196: The "
	    "server terminated an operation.");
	check_case(h, port, "bare500", ERR_SERVER,
	    "Entra ID failed the token request (HTTP 500)");
	check_case(h, port, "throttle", ERR_THROTTLED,
	    "Entra ID throttled the token request (HTTP 429, retry after "
	    "30 s)");
	check_case(h, port, "throttle0", ERR_THROTTLED,
	    "Entra ID throttled the token request (HTTP 429)");

	/* The documented error: first line only. */
	t = new_token(h, TOKEN_V2, port, "fixture", "cid", SECRET, AUDIENCE);
	CHECK(token_get(t, &b) == ERR_CREDENTIALS);
	CHECK_STR(token_error(t),
	    "Entra ID refused the token request "
	    "(HTTP 400 invalid_scope): AADSTS70011: The provided value for "
	    "the input parameter 'scope' is not valid. The scope "
	    "https://foo.microsoft.com/.default is not valid.");
	token_free(t);

	/* Control bytes from the server do not reach the log line. */
	t = new_token(h, TOKEN_V1, port, "ctl", "cid", SECRET, AUDIENCE);
	CHECK(token_get(t, &b) == ERR_CREDENTIALS);
	CHECK_STR(token_error(t),
	    "Entra ID refused the token request "
	    "(HTTP 401 invalid_client): AADSTS1: bad?[31m thing");
	token_free(t);

	/* expires_on alone gives the lifetime. */
	t = new_token(h, TOKEN_V1, port, "on", "cid", SECRET, AUDIENCE);
	CHECK(token_get(t, &b) == 0);
	left = token_expires_in(t);
	CHECK(left >= 990 && left <= 1000);
	token_free(t);
}

/*
 * The echoed body is cut at 320 bytes of description: a client id of 236
 * characters puts the cut inside the secret.  It is redacted before the
 * cut, so no prefix of it survives; other credential-bearing parameters
 * are redacted by name.
 */
static void
test_cut_secret(struct http *h, int port)
{
	static const char secret[] = "TopSecretValue1234567890";
	char id[237], prefix[12];
	struct token *t;
	const char *b = NULL, *e;

	memset(id, 'c', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	t = new_token(
	    h, TOKEN_V1, port, "echo", id, secret, "https://graph.windows.net");
	CHECK(token_get(t, &b) == ERR_CREDENTIALS);
	e = token_error(t);
	memcpy(prefix, secret, sizeof(prefix) - 1);
	prefix[sizeof(prefix) - 1] = '\0';
	CHECK(strstr(e, "&client_secret=***") != NULL);
	CHECK(strstr(e, prefix) == NULL);
	CHECK(strstr(e, "TopSecret") == NULL);
	token_free(t);

	t = new_token(
	    h, TOKEN_V1, port, "leaky", "c", "pw", "https://graph.windows.net");
	CHECK(token_get(t, &b) == ERR_CREDENTIALS);
	CHECK_STR(token_error(t),
	    "Entra ID refused the token request (HTTP 401 invalid_client): "
	    "AADSTS9: seen access_token=******&refresh_token=****** and "
	    "{\"access_token\": \"******\", \"id_token\":\"******\"} "
	    "client_secret=******");
	token_free(t);
}

/* The request as sent, seen through the echo case; secrets redacted. */
static void
test_request_form(struct http *h, int port)
{
	struct token *t;
	const char *b = NULL;

	t = new_token(h, TOKEN_V1, port, "echo", "my client", "s3cr&t=+/",
	    "https://graph.windows.net");
	CHECK(token_get(t, &b) == ERR_CREDENTIALS);
	CHECK_STR(token_error(t),
	    "Entra ID refused the token request "
	    "(HTTP 400 invalid_request): /echo/oauth2/token "
	    "grant_type=client_credentials&client_id=my%20client"
	    "&client_secret=*****************"
	    "&resource=https%3A%2F%2Fgraph.windows.net");
	check_clean(t, "s3cr&t=+/", NULL);
	token_free(t);

	t = new_token(h, TOKEN_V2, port, "echo", "c", "pw",
	    "https://api.securitycenter.microsoft.com");
	CHECK(token_get(t, &b) == ERR_CREDENTIALS);
	CHECK(strstr(token_error(t), "/echo/oauth2/v2.0/token ") != NULL);
	CHECK(strstr(token_error(t),
	          "&client_secret=**&scope=https%3A%2F%2F"
	          "api.securitycenter.microsoft.com%2F.default") != NULL);
	token_free(t);

	/* An audience that already names .default is not extended. */
	t = new_token(h, TOKEN_V2, port, "echo", "c", "pw",
	    "https://graph.microsoft.com/.default");
	CHECK(token_get(t, &b) == ERR_CREDENTIALS);
	CHECK(strstr(token_error(t),
	          "&scope=https%3A%2F%2F"
	          "graph.microsoft.com%2F.default") != NULL);
	CHECK(strstr(token_error(t), ".default%2F.default") == NULL);
	token_free(t);
	test_cut_secret(h, port);
}

/* Certificate sign-in: files made with the openssl command. */
static char crt_a[128], key_a[128], crt_b[128], key_b[128];

static int
make_cert(const char *name, char *crt, char *key, size_t len)
{
	char cmd[512];

	snprintf(crt, len, "%s/%s.crt", tmpdir, name);
	snprintf(key, len, "%s/%s.key", tmpdir, name);
	snprintf(cmd, sizeof(cmd),
	    "openssl req -x509 -newkey rsa:2048 -nodes -keyout %s -out %s "
	    "-subj /CN=mdesiem-%s -days 2 >/dev/null 2>&1",
	    key, crt, name);
	return system(cmd) == 0 ? 0 : -1;
}

static struct token *
cert_token(struct http *h, enum token_endpoint ep, int port, const char *tenant,
    const char *crt, const char *key, int rs256)
{
	struct token_opts o;
	char login[64];

	snprintf(login, sizeof(login), "http://127.0.0.1:%d", port);
	memset(&o, 0, sizeof(o));
	o.endpoint = ep;
	o.login_url = login;
	o.tenant_id = tenant;
	o.client_id = CLIENT;
	o.audience = AUDIENCE;
	o.certificate_file = crt;
	o.private_key_file = key;
	o.assertion_rs256 = rs256;
	return token_new(&o, h);
}

/* A field of the last assertion the simulator accepted, as text. */
static const char *
last_assertion(int port, const char *name)
{
	static char out[256];
	struct http_resp r;
	cJSON *root = NULL, *list, *v;
	char url[128];

	out[0] = '\0';
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/_sim/stats", port);
	http_resp_init(&r, 0);
	if (http_get(ctl, url, NULL, NULL, &r) == 0 && r.status == 200 &&
	    (root = cJSON_Parse(buf_str(&r.body))) != NULL &&
	    cJSON_IsArray(list = cJSON_GetObjectItem(root, "assertions")) &&
	    cJSON_GetArraySize(list) > 0) {
		v = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetArrayItem(list, cJSON_GetArraySize(list) - 1),
		    name);
		if (cJSON_IsString(v))
			snprintf(out, sizeof(out), "%s", v->valuestring);
		else if (cJSON_IsNumber(v))
			snprintf(out, sizeof(out), "%.0f", v->valuedouble);
	}
	cJSON_Delete(root);
	http_resp_reset(&r);
	return out;
}

static void
check_cert_refused(struct token *t, int want, const char *part)
{
	const char *b = NULL;

	CHECK(t != NULL);
	if (t == NULL)
		return;
	CHECK(token_get(t, &b) == want);
	CHECK(b == NULL);
	if (strstr(token_error(t), part) == NULL) {
		fprintf(stderr, "  [%s] lacks [%s]\n", token_error(t), part);
		CHECK(0);
	}
	/* No assertion (its header starts "eyJ") in the text. */
	CHECK(strstr(token_error(t), "eyJ") == NULL);
	CHECK(strchr(token_error(t), '\n') == NULL);
	CHECK(token_renewals(t) == 0);
	token_free(t);
}

static void
test_sim_certificate(struct http *h, int port, int skewed)
{
	struct token *t;
	const char *b = NULL;
	char aud[160];

	/* v2, PS256 with x5t#S256: the default. */
	t = cert_token(h, TOKEN_V2, port, TENANT, crt_a, key_a, 0);
	CHECK(t != NULL);
	CHECK(token_get(t, &b) == 0);
	CHECK_STR(token_error(t), "");
	CHECK(token_renewals(t) == 1);
	CHECK(api_status(h, port, b) == 200);
	CHECK_STR(last_assertion(port, "alg"), "PS256");
	CHECK_STR(last_assertion(port, "thumbprint"), "x5t#S256");
	CHECK_STR(last_assertion(port, "lifetime"), "300");
	CHECK_STR(last_assertion(port, "iss"), CLIENT);
	snprintf(aud, sizeof(aud),
	    "http://127.0.0.1:%d/" TENANT "/oauth2/v2.0/token", port);
	CHECK_STR(last_assertion(port, "aud"), aud);

	/* A renewal signs a new assertion (fresh jti). */
	token_invalidate(t);
	CHECK(token_get(t, &b) == 0);
	CHECK(token_renewals(t) == 2);
	CHECK(sim_stat(port, "assertion_jti_reuse") == 0);
	token_free(t);

	/* v1, RS256 with x5t. */
	t = cert_token(h, TOKEN_V1, port, TENANT, crt_a, key_a, 1);
	CHECK(token_get(t, &b) == 0);
	CHECK_STR(token_error(t), "");
	CHECK(api_status(h, port, b) == 200);
	CHECK_STR(last_assertion(port, "alg"), "RS256");
	CHECK_STR(last_assertion(port, "thumbprint"), "x5t");
	snprintf(aud, sizeof(aud),
	    "http://127.0.0.1:%d/" TENANT "/oauth2/token", port);
	CHECK_STR(last_assertion(port, "aud"), aud);
	token_free(t);

	/* A certificate the app does not know: Entra's words. */
	check_cert_refused(
	    cert_token(h, TOKEN_V2, port, TENANT, crt_b, key_b, 0),
	    ERR_CREDENTIALS,
	    "Entra ID refused the token request (HTTP 401 invalid_client): "
	    "AADSTS700027: Client assertion contains an invalid signature. "
	    "[Reason - The key was not found., Thumbprint of key used by "
	    "client: '");
	check_cert_refused(
	    cert_token(h, TOKEN_V1, port, TENANT, crt_b, key_b, 1),
	    ERR_CREDENTIALS, "AADSTS700027");

	/* A clock 15 minutes off. */
	check_cert_refused(
	    cert_token(h, TOKEN_V2, skewed, TENANT, crt_a, key_a, 0),
	    ERR_CREDENTIALS,
	    "AADSTS700024: Client assertion is not within its valid time "
	    "range. Current time: ");

	/* Local problems never reach Entra. */
	check_cert_refused(
	    cert_token(h, TOKEN_V2, port, TENANT, crt_a, key_b, 0), ERR_CONFIG,
	    "cannot use the sign-in certificate: ");
	check_cert_refused(
	    cert_token(h, TOKEN_V2, port, TENANT, crt_a, key_b, 0), ERR_CONFIG,
	    "does not belong to the certificate in");
	check_cert_refused(cert_token(h, TOKEN_V2, port, TENANT, crt_a,
	                       "/nonexistent/key.pem", 0),
	    ERR_CONFIG,
	    "cannot read /nonexistent/key.pem: No such file or directory");
}

static void
test_cert_opts(struct http *h, int canned_port)
{
	struct token_opts o;
	struct token *t;

	/* One credential, complete. */
	memset(&o, 0, sizeof(o));
	o.login_url = "https://login.microsoftonline.com";
	o.tenant_id = TENANT;
	o.client_id = CLIENT;
	o.audience = AUDIENCE;
	CHECK(token_new(&o, h) == NULL);
	o.certificate_file = crt_a;
	CHECK(token_new(&o, h) == NULL);
	o.private_key_file = "";
	CHECK(token_new(&o, h) == NULL);
	o.private_key_file = key_a;
	t = token_new(&o, h);
	CHECK(t != NULL);
	token_free(t);
	o.client_secret = SECRET;
	CHECK(token_new(&o, h) == NULL);
	o.client_secret = "";
	CHECK(token_new(&o, h) == NULL);

	/* The request as sent: the assertion parameters, never the JWT. */
	check_cert_refused(
	    cert_token(h, TOKEN_V2, canned_port, "echo", crt_a, key_a, 0),
	    ERR_CREDENTIALS,
	    "/echo/oauth2/v2.0/token grant_type=client_credentials"
	    "&client_id=" CLIENT "&client_assertion_type=urn%3Aietf%3Aparams"
	    "%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
	    "&client_assertion=****");
}

static void
test_transport(struct http *h, int canned_port)
{
	struct token_opts o;
	struct token *t;
	const char *b = NULL;
	struct timespec t0, t1;

	memset(&o, 0, sizeof(o));
	o.login_url = "http://login.example.com/";
	o.tenant_id = TENANT;
	o.client_id = CLIENT;
	o.client_secret = SECRET;
	o.audience = AUDIENCE;
	t = token_new(&o, h);
	CHECK(token_get(t, &b) == ERR_NET);
	CHECK_STR(token_error(t),
	    "cannot reach login.example.com: refusing "
	    "plain http to a non-loopback host");
	token_free(t);

	/* Missing settings: no cache. */
	o.client_secret = NULL;
	CHECK(token_new(&o, h) == NULL);
	o.client_secret = SECRET;
	o.tenant_id = "";
	CHECK(token_new(&o, h) == NULL);

	/* A stop request interrupts a slow token request. */
	t = new_token(h, TOKEN_V1, canned_port, "slow", "c", SECRET, AUDIENCE);
	stop_flag = 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(token_get(t, &b) == ERR_STOPPED);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(t1.tv_sec - t0.tv_sec < 2);
	CHECK_STR(token_error(t), "stopped");
	stop_flag = 0;
	token_free(t);
}

int
main(void)
{
	struct sigaction sa;
	struct http *h;
	int canned, sim, sim_short, sim_cert, sim_skew;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_token.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	atexit(kill_children);
	CHECK(http_global_init() == 0);
	h = client(10);
	ctl = client(10);
	CHECK(h != NULL && ctl != NULL);

	canned = start_canned();
	CHECK(canned > 0);
	test_canned(h, canned);
	test_request_form(h, canned);
	test_transport(h, canned);
	CHECK(make_cert("a", crt_a, key_a, sizeof(crt_a)) == 0);
	CHECK(make_cert("b", crt_b, key_b, sizeof(crt_b)) == 0);
	test_cert_opts(h, canned);

	sim = start_sim("sim", NULL);
	sim_short = start_sim("short", "8");
	sim_cert = start_sim_with("cert", "--client-cert", crt_a, NULL, NULL);
	sim_skew = start_sim_with(
	    "skew", "--client-cert", crt_a, "--assertion-skew", "900");
	CHECK(sim_cert > 0 && sim_skew > 0);
	if (sim_cert > 0 && sim_skew > 0)
		test_sim_certificate(h, sim_cert, sim_skew);
	CHECK(sim > 0 && sim_short > 0);
	if (sim > 0 && sim_short > 0) {
		test_sim_success(h, sim);
		test_sim_refusals(h, sim);
		test_sim_faults(h, sim);
		test_sim_renewal(h, sim_short);
	}

	http_free(ctl);
	http_free(h);
	http_global_cleanup();
	kill_children();
	unlink(crt_a);
	unlink(key_a);
	unlink(crt_b);
	unlink(key_b);
	rmdir(tmpdir);
	return check_done();
}
