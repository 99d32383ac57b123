/* SPDX-License-Identifier: MIT */
/*
 * OAuth 2.0 client-credentials tokens from Microsoft Entra ID.  v1
 * endpoint {login_url}/{tenant}/oauth2/token with resource=<audience>
 * (the SIEM API), v2 {login_url}/{tenant}/oauth2/v2.0/token with
 * scope=<audience>/.default (Graph, Alert API).  The token is cached until
 * shortly before it expires; token_invalidate() drops it after a 401.
 * The client proves itself with a secret or, with a certificate, with a
 * signed JWT client assertion (include/jwt.h).
 */
#ifndef TOKEN_H
#define TOKEN_H

struct http;

enum token_endpoint { TOKEN_V1 = 0, TOKEN_V2 };

struct token_opts {
	enum token_endpoint endpoint;
	const char *login_url; /* "https://login.microsoftonline.com" */
	const char *tenant_id;
	const char *client_id;
	const char *client_secret; /* secret, or NULL with a certificate */
	const char *audience; /* resource (v1) / scope base (v2) */
	const char *certificate_file; /* PEM certificate, or NULL */
	const char *private_key_file; /* its PEM RSA key, or NULL */
	int assertion_rs256; /* RS256 + x5t, else PS256 + x5t#S256 */
};

struct token;

/*
 * A new token cache; strings are copied (the secret is wiped on free).
 * Exactly one credential: client_secret, or certificate_file together
 * with private_key_file; NULL otherwise.  The key files are read at each
 * token request (a renewed certificate is picked up without a restart);
 * a key that cannot be used makes token_get() return ERR_CONFIG with the
 * reason in token_error().
 */
struct token *token_new(const struct token_opts *opts, struct http *h);
void token_free(struct token *t);

/* The HTTP client of the next sign-in (NULL: none yet). */
void token_set_http(struct token *t, struct http *h);

/*
 * Return a valid access token in *bearer (owned by t, valid until the
 * next token_* call).  Fetches a new one when none is cached or the
 * cached one expires within 5 minutes.  Returns 0; ERR_CREDENTIALS when
 * Entra refused the request (token_error() has "AADSTS...: description");
 * ERR_CONFIG when the certificate or key cannot be used; ERR_NET /
 * ERR_SERVER / ERR_THROTTLED / ERR_PARSE / ERR_STOPPED otherwise
 * (token_error() says what happened).
 */
int token_get(struct token *t, const char **bearer);

/* Drop the cached token (after a 401 from the API). */
void token_invalidate(struct token *t);

/* Number of tokens obtained so far (for status and tests). */
unsigned long token_renewals(const struct token *t);

/*
 * Text of the last failed token request, never containing the secret or
 * a token; "" after a successful one.  token_get() may return 0 with a
 * text here: an early renewal failed and the cached token, still valid,
 * was returned (worth a warning, not an error).
 */
const char *token_error(const struct token *t);

/* Seconds from Retry-After of the last ERR_THROTTLED answer, or -1. */
long token_retry_after(const struct token *t);

/* Seconds the cached token stays valid, 0 when none is cached. */
long token_expires_in(const struct token *t);

#endif
