/* SPDX-License-Identifier: MIT */
/*
 * Signed JWT client assertions for certificate sign-in to Entra ID
 * (reference/mde-api.md section 7.3): an RSA key and its X.509
 * certificate loaded from PEM files, and compact JWS tokens with the
 * claims Entra expects (aud = the token endpoint, iss = sub = the client
 * id, a fresh jti, nbf = iat = now, exp = now + 5 minutes), signed PS256
 * (header x5t#S256) or RS256 (header x5t).  Used by the token module in
 * place of a client secret.
 */
#ifndef JWT_H
#define JWT_H

#include <stddef.h>
#include <time.h>

struct buf;

enum jwt_alg { JWT_PS256 = 0, JWT_RS256 };

/* Seconds an assertion stays valid after its nbf. */
#define JWT_LIFETIME 300

struct jwt_key;

/*
 * Load the certificate (the first one in cert_file) and the private key
 * (key_file, unencrypted PEM) and check that they belong together and
 * that the key is RSA of at least 2048 bits.  Returns a new key, or NULL
 * with a one-line reason in err (naming the file, never key material).
 * The key is wiped when freed.
 */
struct jwt_key *jwt_key_load(
    const char *cert_file, const char *key_file, char *err, size_t errlen);
void jwt_key_free(struct jwt_key *k);

/*
 * Append to out the compact JWT "header.claims.signature" for alg, with
 * aud, iss = sub = client_id, a random jti, nbf = iat = now and exp =
 * now + JWT_LIFETIME.  The result is a credential for its lifetime:
 * callers wipe it.  Returns 0; ERR_NOMEM / ERR_TOOBIG from out; ERR_CONFIG
 * when OpenSSL cannot sign with the key (err says why).  On failure out
 * may hold part of a token: wipe it.
 */
int jwt_assertion(const struct jwt_key *k, enum jwt_alg alg, const char *aud,
    const char *client_id, time_t now, struct buf *out, char *err,
    size_t errlen);

/* Append base64url (RFC 4648 section 5, no padding) of n bytes of p. */
int jwt_b64url(struct buf *out, const void *p, size_t n);

/* "PS256" or "RS256". */
const char *jwt_alg_name(enum jwt_alg alg);

#endif
