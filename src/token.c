/* SPDX-License-Identifier: MIT */
/*
 * Access tokens for the Defender APIs: the OAuth 2.0 client-credentials
 * grant against Microsoft Entra ID (v1 endpoint with resource=, v2 with
 * scope=<audience>/.default), cached until shortly before expiry.  The
 * source modules call token_get() before each request and
 * token_invalidate() after a 401.  Entra's refusals are turned into one
 * line a human can act on ("AADSTS7000215: Invalid client secret ...");
 * the secret, the request body and tokens are wiped after use and never
 * appear in error texts.  With a certificate, each request carries a
 * freshly signed client assertion (jwt.c) instead of the secret.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "errcode.h"
#include "http.h"
#include "jwt.h"
#include "srvclock.h"
#include "token.h"
#include "ts.h"
#include "url.h"

#define BODY_MAX (64 * 1024)
#define RESP_MAX (256 * 1024)
#define MAX_LIFETIME (366L * 24 * 3600)
#define MARGIN_MAX 300 /* renew this many seconds before expiry */
#define MARGIN_MIN 5
#define HOLD_MAX_MS 30000 /* retry pace while a cached token is valid */
#define DESC_MAX 320

struct token {
	struct http *http;
	enum token_endpoint endpoint;
	char *url; /* the token endpoint */
	char *client_id;
	char *secret; /* wiped on free; NULL with a certificate */
	char *cert_file;
	char *key_file;
	enum jwt_alg alg;
	char *assertion; /* during a request only, for redaction; wiped */
	char *audience;
	char host[256]; /* sign-in host, for error texts */
	char *access; /* cached token or NULL; wiped on drop */
	int64_t expiry_ms; /* monotonic */
	int64_t hold_ms; /* no renewal attempt before this */
	long lifetime; /* seconds the cached token was issued for */
	unsigned long renewals;
	long retry_after;
	char error[512];
};

static void set_error(struct token *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int64_t
now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
free_secret(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* Overwrite every occurrence of what in s with '*'. */
static void
redact(char *s, const char *what)
{
	size_t n;
	char *p;

	if (what == NULL || (n = strlen(what)) == 0)
		return;
	while ((p = strstr(s, what)) != NULL)
		memset(p, '*', n);
}

/*
 * Overwrite the value of name wherever it occurs: up to '&', a blank or
 * the end after "name=" (an echoed request body, even where it was cut),
 * or the JSON string after "\"name\":".
 */
static void
redact_param(char *s, const char *name)
{
	size_t n = strlen(name);
	char *p, *v;

	for (p = strstr(s, name); p != NULL; p = strstr(p, name)) {
		v = p + n;
		if (*v == '=') {
			v++;
			p = v + strcspn(v, "& \t\r\n\"");
		} else if (p > s && p[-1] == '"' && *v == '"') {
			v += 1 + strspn(v + 1, " \t");
			if (*v++ != ':')
				continue;
			v += strspn(v, " \t");
			if (*v++ != '"')
				continue;
			p = v + strcspn(v, "\"");
		} else {
			p = v;
			continue;
		}
		memset(v, '*', (size_t)(p - v));
	}
}

/* Parameters that carry a credential or a token, by name. */
static const char *const secret_params[] = {"client_secret", "client_assertion",
    "access_token", "refresh_token", "id_token", "assertion", "password", NULL};

/*
 * Whatever the server sent, the secret (plain or URL-encoded), the
 * assertion, the cached token and the values of secret_params[] never
 * survive into s.  Called on whole texts, before any cut: a cut secret
 * would no longer be found.
 */
static void
redact_all(const struct token *t, char *s)
{
	struct buf enc;
	size_t i;

	redact(s, t->access);
	redact(s, t->assertion);
	for (i = 0; secret_params[i] != NULL; i++)
		redact_param(s, secret_params[i]);
	if (t->secret == NULL)
		return;
	redact(s, t->secret);
	buf_init_secret(&enc, BODY_MAX);
	if (http_urlencode(&enc, t->secret, strlen(t->secret)) == 0)
		redact(s, buf_str(&enc));
	buf_wipe(&enc);
}

/*
 * Error texts are for humans and cut at sizeof(t->error) if need be;
 * what goes in was redacted whole (redact_all()) and is redacted again.
 */
static void
set_error(struct token *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(t->error, sizeof(t->error), fmt, ap);
	va_end(ap);
	redact_all(t, t->error);
}

static void
drop_access(struct token *t)
{
	free_secret(t->access);
	t->access = NULL;
	t->expiry_ms = 0;
	t->hold_ms = 0;
	t->lifetime = 0;
}

static int
build_url(struct token *t, const char *login_url, const char *tenant)
{
	struct buf u;
	size_t n = strlen(login_url);
	int rc;

	while (n > 0 && login_url[n - 1] == '/')
		n--;
	buf_init(&u, 4096);
	if ((rc = buf_add(&u, login_url, n)) != 0 ||
	    (rc = buf_addc(&u, '/')) != 0 ||
	    (rc = http_urlencode(&u, tenant, strlen(tenant))) != 0 ||
	    (rc = buf_adds(&u,
	         t->endpoint == TOKEN_V2 ? "/oauth2/v2.0/token"
	                                 : "/oauth2/token")) != 0)
		goto out;
	if ((t->url = strdup(buf_str(&u))) == NULL)
		rc = ERR_NOMEM;
out:
	buf_reset(&u);
	return rc;
}

static int
given(const char *s)
{
	return s != NULL && *s != '\0';
}

/* A non-empty secret, or both certificate files; not both kinds. */
static int
one_credential(const struct token_opts *o)
{
	int cert = given(o->certificate_file) && given(o->private_key_file);

	if ((o->client_secret != NULL && !given(o->client_secret)) ||
	    ((o->certificate_file != NULL || o->private_key_file != NULL) &&
	        !cert))
		return 0;
	return given(o->client_secret) != cert;
}

static int
copy_credential(struct token *t, const struct token_opts *o)
{
	if (o->client_secret != NULL)
		return (t->secret = strdup(o->client_secret)) != NULL ? 0 : -1;
	t->alg = o->assertion_rs256 ? JWT_RS256 : JWT_PS256;
	if ((t->cert_file = strdup(o->certificate_file)) == NULL ||
	    (t->key_file = strdup(o->private_key_file)) == NULL)
		return -1;
	return 0;
}

struct token *
token_new(const struct token_opts *opts, struct http *h)
{
	struct token *t;

	if (opts == NULL || opts->login_url == NULL ||
	    opts->tenant_id == NULL || opts->client_id == NULL ||
	    opts->audience == NULL || *opts->tenant_id == '\0' ||
	    !one_credential(opts))
		return NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->http = h;
	t->endpoint = opts->endpoint;
	t->retry_after = -1;
	if (url_host(opts->login_url, t->host, sizeof(t->host)) != 0)
		(void)snprintf(t->host, sizeof(t->host), "Entra ID");
	if (build_url(t, opts->login_url, opts->tenant_id) != 0 ||
	    (t->client_id = strdup(opts->client_id)) == NULL ||
	    copy_credential(t, opts) != 0 ||
	    (t->audience = strdup(opts->audience)) == NULL) {
		token_free(t);
		return NULL;
	}
	return t;
}

void
token_set_http(struct token *t, struct http *h)
{
	t->http = h;
}

void
token_free(struct token *t)
{
	if (t == NULL)
		return;
	drop_access(t);
	free_secret(t->secret);
	free_secret(t->assertion);
	free(t->cert_file);
	free(t->key_file);
	free(t->url);
	free(t->client_id);
	free(t->audience);
	explicit_bzero(t, sizeof(*t));
	free(t);
}

/*
 * Entra ID checks an assertion's nbf and exp against its own clock: use
 * the API's time once an answer gave it (srvclock.h), so that a host
 * clock off by more than Entra's leeway costs one refused sign-in, not
 * every one.
 */
static time_t
assertion_time(const struct token *t)
{
	const struct srvclock *c = http_clock(t->http);
	struct ts now;

	if (c != NULL && srvclock_now(c, &now) == 0)
		return (time_t)now.sec;
	return time(NULL);
}

/*
 * A fresh client assertion for this request, aud = the token endpoint.
 * t->assertion keeps a copy until the answer is handled, for redaction.
 */
static int
add_assertion(struct token *t, struct buf *b)
{
	struct jwt_key *k;
	struct buf a;
	char why[400];
	int rc;

	if ((k = jwt_key_load(t->cert_file, t->key_file, why, sizeof(why))) ==
	    NULL) {
		set_error(t, "cannot use the sign-in certificate: %s", why);
		return ERR_CONFIG;
	}
	buf_init_secret(&a, BODY_MAX);
	rc = jwt_assertion(k, t->alg, t->url, t->client_id, assertion_time(t),
	    &a, why, sizeof(why));
	jwt_key_free(k);
	if (rc != 0) {
		set_error(t, "%s", why);
		goto out;
	}
	free_secret(t->assertion);
	if ((t->assertion = strdup(buf_str(&a))) == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	if ((rc = buf_adds(b,
	         "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3A"
	         "client-assertion-type%3Ajwt-bearer&client_assertion=")) == 0)
		rc = http_urlencode(b, a.data, a.len);
out:
	buf_wipe(&a);
	return rc;
}

static int
build_body(struct token *t, struct buf *b)
{
	static const char dflt[] = "/.default";
	size_t alen = strlen(t->audience), dlen = sizeof(dflt) - 1;
	int rc;

	if ((rc = buf_adds(b, "grant_type=client_credentials&client_id=")) ||
	    (rc = http_urlencode(b, t->client_id, strlen(t->client_id))))
		return rc;
	if (t->secret == NULL)
		rc = add_assertion(t, b);
	else if ((rc = buf_adds(b, "&client_secret=")) == 0)
		rc = http_urlencode(b, t->secret, strlen(t->secret));
	if (rc != 0)
		return rc;
	if (t->endpoint == TOKEN_V1) {
		if ((rc = buf_adds(b, "&resource=")) ||
		    (rc = http_urlencode(b, t->audience, alen)))
			return rc;
		return 0;
	}
	if ((rc = buf_adds(b, "&scope=")) ||
	    (rc = http_urlencode(b, t->audience, alen)))
		return rc;
	if (alen >= dlen && strcmp(t->audience + alen - dlen, dflt) == 0)
		return 0;
	return http_urlencode(b, dflt, dlen);
}

/* A JSON number or a decimal string within [lo, hi]; -1 otherwise. */
static long long
json_integer(const cJSON *v, long long lo, long long hi)
{
	long long n;
	char *end;

	if (cJSON_IsNumber(v)) {
		if (!(v->valuedouble >= (double)lo &&
		        v->valuedouble <= (double)hi))
			return -1;
		return (long long)v->valuedouble;
	}
	if (!cJSON_IsString(v) || v->valuestring[0] < '0' ||
	    v->valuestring[0] > '9')
		return -1;
	errno = 0;
	n = strtoll(v->valuestring, &end, 10);
	if (errno != 0 || *end != '\0' || n < lo || n > hi)
		return -1;
	return n;
}

/* Seconds the token is valid for, from expires_in or expires_on. */
static long
lifetime_of(const cJSON *root)
{
	long long n, on;

	n = json_integer(cJSON_GetObjectItemCaseSensitive(root, "expires_in"),
	    1, MAX_LIFETIME);
	if (n > 0)
		return (long)n;
	on = json_integer(cJSON_GetObjectItemCaseSensitive(root, "expires_on"),
	    1, LLONG_MAX / 2);
	if (on <= 0)
		return -1;
	n = on - (long long)time(NULL);
	return n >= 1 && n <= MAX_LIFETIME ? (long)n : -1;
}

/* A token goes into a header line: visible ASCII only. */
static int
token_chars_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x21 || *s > 0x7e)
			return 0;
	return 1;
}

static void
wipe_tree(cJSON *j)
{
	for (; j != NULL; j = j->next) {
		if (j->valuestring != NULL)
			explicit_bzero(j->valuestring, strlen(j->valuestring));
		wipe_tree(j->child);
	}
}

static int
parse_success(struct token *t, const struct http_resp *resp, int64_t sent)
{
	cJSON *root, *at, *tt;
	char *copy;
	long life;
	int rc = ERR_PARSE;

	root = cJSON_ParseWithLength(resp->body.data, resp->body.len);
	at = cJSON_GetObjectItemCaseSensitive(root, "access_token");
	tt = cJSON_GetObjectItemCaseSensitive(root, "token_type");
	if (!cJSON_IsObject(root)) {
		set_error(t, "token response from %s is not JSON (HTTP 200)",
		    t->host);
	} else if (!cJSON_IsString(at) || at->valuestring[0] == '\0' ||
	    !token_chars_ok(at->valuestring)) {
		set_error(t, "token response has no usable access_token");
	} else if (tt != NULL &&
	    (!cJSON_IsString(tt) ||
	        strcasecmp(tt->valuestring, "Bearer") != 0)) {
		set_error(t, "token response is not for a Bearer token");
	} else if ((life = lifetime_of(root)) <= 0) {
		set_error(t, "token response has no usable expires_in");
	} else if ((copy = strdup(at->valuestring)) == NULL) {
		set_error(t, "out of memory");
		rc = ERR_NOMEM;
	} else {
		drop_access(t);
		t->access = copy;
		t->lifetime = life;
		t->expiry_ms = sent + (int64_t)life * 1000;
		t->renewals++;
		t->error[0] = '\0';
		rc = 0;
	}
	wipe_tree(root);
	cJSON_Delete(root);
	return rc;
}

/* First line of an Entra error_description, control bytes replaced. */
static void
first_line(const char *s, char *out, size_t outlen)
{
	size_t i;

	for (i = 0;
	     i + 1 < outlen && s[i] != '\0' && s[i] != '\r' && s[i] != '\n';
	     i++)
		out[i] =
		    ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	out[i] = '\0';
	while (i > 0 && out[i - 1] == ' ')
		out[--i] = '\0';
}

static int
parse_failure(struct token *t, const struct http_resp *resp)
{
	cJSON *root, *err, *desc;
	char code[64] = "", text[DESC_MAX + 4] = "", ra[48] = "";
	long st = resp->status;
	int rc;

	root = cJSON_ParseWithLength(resp->body.data, resp->body.len);
	err = cJSON_GetObjectItemCaseSensitive(root, "error");
	desc = cJSON_GetObjectItemCaseSensitive(root, "error_description");
	/* Redacted whole, then cut: a cut secret would not be found. */
	if (cJSON_IsString(err)) {
		redact_all(t, err->valuestring);
		code[0] = ' ';
		first_line(err->valuestring, code + 1, sizeof(code) - 1);
	}
	if (cJSON_IsString(desc)) {
		redact_all(t, desc->valuestring);
		text[0] = ':';
		text[1] = ' ';
		first_line(desc->valuestring, text + 2, sizeof(text) - 2);
	}
	if (st == 429) {
		t->retry_after = resp->retry_after;
		if (resp->retry_after >= 0)
			(void)snprintf(ra, sizeof(ra), ", retry after %ld s",
			    resp->retry_after);
		set_error(t,
		    "Entra ID throttled the token request "
		    "(HTTP 429%s%s)%s",
		    code, ra, text);
		rc = ERR_THROTTLED;
	} else if (st >= 500 && st <= 599) {
		set_error(t, "Entra ID failed the token request (HTTP %ld%s)%s",
		    st, code, text);
		rc = ERR_SERVER;
	} else if (st >= 400 && st <= 499 && code[0] != '\0') {
		set_error(t,
		    "Entra ID refused the token request (HTTP %ld%s)%s", st,
		    code, text);
		rc = ERR_CREDENTIALS;
	} else {
		set_error(t,
		    "unexpected answer from %s to the token request "
		    "(HTTP %ld, not an Entra ID error)",
		    t->host, st);
		rc = ERR_PARSE;
	}
	wipe_tree(root);
	cJSON_Delete(root);
	return rc;
}

static void
transport_error(struct token *t, int rc, const struct http_resp *resp)
{
	switch (rc) {
	case ERR_STOPPED:
		set_error(t, "stopped");
		break;
	case ERR_NOMEM:
		set_error(t, "out of memory");
		break;
	case ERR_TOOBIG:
		set_error(
		    t, "token response from %s: %s", t->host, resp->error);
		break;
	default:
		set_error(t, "cannot reach %s: %s", t->host, resp->error);
		break;
	}
}

/* One token request; the cached token is replaced only on success. */
static int
fetch(struct token *t)
{
	struct buf body;
	struct http_resp resp;
	int64_t sent;
	int rc;

	buf_init_secret(&body, BODY_MAX);
	/* The answer carries the access token. */
	http_resp_init(&resp, RESP_MAX);
	buf_init_secret(&resp.body, RESP_MAX);
	t->retry_after = -1;
	if ((rc = build_body(t, &body)) != 0) {
		if (rc != ERR_CONFIG)
			set_error(t, "cannot build the token request: %s",
			    errcode_str(rc));
		goto out;
	}
	sent = now_ms();
	rc = http_post_form(t->http, t->url, buf_str(&body), body.len, &resp);
	buf_wipe(&body);
	if (rc != 0)
		transport_error(t, rc, &resp);
	else if (resp.status == 200)
		rc = parse_success(t, &resp, sent);
	else
		rc = parse_failure(t, &resp);
out:
	buf_wipe(&body);
	http_resp_reset(&resp);
	free_secret(t->assertion);
	t->assertion = NULL;
	return rc;
}

static int64_t
margin_ms(long lifetime)
{
	long m = lifetime / 10;

	if (m < MARGIN_MIN)
		m = MARGIN_MIN;
	if (m > MARGIN_MAX)
		m = MARGIN_MAX;
	return (int64_t)m * 1000;
}

int
token_get(struct token *t, const char **bearer)
{
	int64_t now = now_ms(), margin = margin_ms(t->lifetime), hold;
	int rc;

	if (t->access != NULL &&
	    (now < t->expiry_ms - margin ||
	        (now < t->hold_ms && now < t->expiry_ms)))
		goto ok;
	if ((rc = fetch(t)) == 0)
		goto ok;
	/*
	 * Renewal starts early, so a failed renewal (Entra unreachable for a
	 * moment) still leaves a usable token: keep using it, retry at a
	 * slower pace, and report the failure only once it is nearly gone.
	 */
	now = now_ms();
	if (rc == ERR_STOPPED || t->access == NULL ||
	    t->expiry_ms - now <= margin / 2)
		return rc;
	hold = margin / 4 < HOLD_MAX_MS ? margin / 4 : HOLD_MAX_MS;
	if (t->retry_after > 0 && t->retry_after * 1000 > hold)
		hold = t->retry_after * 1000;
	t->hold_ms = now + hold;
ok:
	*bearer = t->access;
	return 0;
}

void
token_invalidate(struct token *t)
{
	drop_access(t);
}

unsigned long
token_renewals(const struct token *t)
{
	return t->renewals;
}

const char *
token_error(const struct token *t)
{
	return t->error;
}

long
token_retry_after(const struct token *t)
{
	return t->retry_after;
}

long
token_expires_in(const struct token *t)
{
	int64_t left;

	if (t->access == NULL)
		return 0;
	left = (t->expiry_ms - now_ms()) / 1000;
	return left > 0 ? (long)left : 0;
}
