/* SPDX-License-Identifier: MIT */
/*
 * Client assertions for certificate sign-in (include/jwt.h).  The token
 * module loads the key when it needs a new access token, signs one
 * assertion and frees the key again, so a renewed certificate on disk is
 * picked up at the next renewal and the key stays in memory only for a
 * moment.  Files are read with read(2) into a buffer that is wiped, not
 * through stdio, whose buffers are freed without being cleared.  The
 * OpenSSL error queue is emptied before returning, so that a stale entry
 * never shows up in libcurl's TLS error texts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "buf.h"
#include "errcode.h"
#include "jwt.h"

#define PEM_MAX (256 * 1024) /* a certificate chain or key is a few K */
#define JSON_MAX 8192
#define MIN_BITS 2048
#define SHA1_LEN 20
#define SHA256_LEN 32

struct jwt_key {
	EVP_PKEY *pkey;
	unsigned char x5t[SHA1_LEN]; /* SHA-1 of the certificate DER */
	unsigned char x5t_s256[SHA256_LEN]; /* SHA-256 of the same */
};

static void say(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Error texts are one line for a log; a cut text still says enough. */
static void
say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* The reason of OpenSSL's last error, or fallback. */
static const char *
ssl_reason(const char *fallback)
{
	const char *r = ERR_reason_error_string(ERR_peek_last_error());

	return r != NULL ? r : fallback;
}

/* Read a whole PEM file into b (wiped by the caller). 0 or -1, errno. */
static int
read_pem(const char *path, struct buf *b)
{
	ssize_t n;
	int fd, rc = -1, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return -1;
	for (;;) {
		if (buf_reserve(b, 4096) != 0) {
			errno = EFBIG;
			goto out;
		}
		b->data[b->len] = '\0';
		n = read(fd, b->data + b->len, b->cap - b->len - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto out;
		if (n == 0)
			break;
		b->len += (size_t)n;
		b->data[b->len] = '\0';
	}
	rc = 0;
out:
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

/* Never prompt on a terminal: an encrypted key is refused instead. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static X509 *
load_cert(const char *path, char *err, size_t errlen)
{
	struct buf pem;
	BIO *bio = NULL;
	X509 *x = NULL;

	buf_init(&pem, PEM_MAX);
	if (read_pem(path, &pem) != 0) {
		say(err, errlen, "cannot read %s: %s", path,
		    errno == EFBIG ? "larger than 256K" : strerror(errno));
		goto out;
	}
	if ((bio = BIO_new_mem_buf(pem.data, (int)pem.len)) == NULL ||
	    (x = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL)) == NULL)
		say(err, errlen,
		    "%s: no PEM certificate found (-----BEGIN "
		    "CERTIFICATE-----)",
		    path);
out:
	BIO_free(bio);
	buf_reset(&pem);
	return x;
}

static EVP_PKEY *
load_pkey(const char *path, char *err, size_t errlen)
{
	struct buf pem;
	BIO *bio = NULL;
	EVP_PKEY *k = NULL;

	buf_init_secret(&pem, PEM_MAX);
	if (read_pem(path, &pem) != 0) {
		say(err, errlen, "cannot read %s: %s", path,
		    errno == EFBIG ? "larger than 256K" : strerror(errno));
		goto out;
	}
	if ((bio = BIO_new_mem_buf(pem.data, (int)pem.len)) != NULL)
		k = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	if (k != NULL)
		goto out;
	if (pem.len > 0 && strstr(pem.data, "ENCRYPTED") != NULL)
		say(err, errlen,
		    "%s: the private key is protected by a passphrase; store "
		    "it without one (openssl pkey -in KEY -out NEWKEY) in a "
		    "file only the daemon can read",
		    path);
	else
		say(err, errlen, "%s: no PEM private key found (%s)", path,
		    ssl_reason("unreadable"));
out:
	BIO_free(bio);
	buf_wipe(&pem);
	return k;
}

static int
check_pair(X509 *x, EVP_PKEY *k, const char *cert_file, const char *key_file,
    char *err, size_t errlen)
{
	if (!EVP_PKEY_is_a(k, "RSA")) {
		say(err, errlen,
		    "%s: not an RSA key (certificate sign-in to Entra ID needs "
		    "RSA, PS256 or RS256)",
		    key_file);
		return -1;
	}
	if (EVP_PKEY_get_bits(k) < MIN_BITS) {
		say(err, errlen,
		    "%s: RSA key of %d bits; Entra ID needs at least %d",
		    key_file, EVP_PKEY_get_bits(k), MIN_BITS);
		return -1;
	}
	if (X509_check_private_key(x, k) != 1) {
		say(err, errlen, "%s does not belong to the certificate in %s",
		    key_file, cert_file);
		return -1;
	}
	return 0;
}

struct jwt_key *
jwt_key_load(
    const char *cert_file, const char *key_file, char *err, size_t errlen)
{
	struct jwt_key *k = NULL;
	unsigned int n1 = 0, n256 = 0;
	X509 *x = NULL;

	if ((k = calloc(1, sizeof(*k))) == NULL) {
		say(err, errlen, "out of memory");
		goto out;
	}
	if ((x = load_cert(cert_file, err, errlen)) == NULL ||
	    (k->pkey = load_pkey(key_file, err, errlen)) == NULL ||
	    check_pair(x, k->pkey, cert_file, key_file, err, errlen) != 0)
		goto fail;
	if (X509_digest(x, EVP_sha1(), k->x5t, &n1) != 1 || n1 != SHA1_LEN ||
	    X509_digest(x, EVP_sha256(), k->x5t_s256, &n256) != 1 ||
	    n256 != SHA256_LEN) {
		say(err, errlen, "%s: cannot compute the thumbprint (%s)",
		    cert_file, ssl_reason("digest failed"));
		goto fail;
	}
	goto out;
fail:
	jwt_key_free(k);
	k = NULL;
out:
	X509_free(x);
	ERR_clear_error();
	return k;
}

void
jwt_key_free(struct jwt_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	OPENSSL_cleanse(k, sizeof(*k));
	free(k);
}

int
jwt_b64url(struct buf *out, const void *p, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                          "abcdefghijklmnopqrstuvwxyz0123456789-_";
	const unsigned char *s = p;
	char q[4];
	size_t i;
	uint32_t v;
	int rc;

	/* All or nothing under the cap; a fresh buffer stays a C string. */
	if (n == 0)
		return 0;
	if ((rc = buf_reserve(out, (n + 2) / 3 * 4)) != 0)
		return rc;
	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		q[0] = tab[v >> 18];
		q[1] = tab[(v >> 12) & 63];
		q[2] = tab[(v >> 6) & 63];
		q[3] = tab[v & 63];
		(void)buf_add(out, q, 4);
	}
	if (n - i == 1) {
		v = (uint32_t)s[i] << 16;
		q[0] = tab[v >> 18];
		q[1] = tab[(v >> 12) & 63];
		(void)buf_add(out, q, 2);
	} else if (n - i == 2) {
		v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
		q[0] = tab[v >> 18];
		q[1] = tab[(v >> 12) & 63];
		q[2] = tab[(v >> 6) & 63];
		(void)buf_add(out, q, 3);
	}
	return 0;
}

const char *
jwt_alg_name(enum jwt_alg alg)
{
	return alg == JWT_RS256 ? "RS256" : "PS256";
}

/* A JSON string: quotes, backslashes and control bytes escaped. */
static int
add_json_str(struct buf *b, const char *s)
{
	int rc = buf_addc(b, '"');

	for (; rc == 0 && *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			rc = buf_printf(b, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			rc = buf_printf(b, "\\u%04x", (unsigned)*s);
		else
			rc = buf_addc(b, *s);
	}
	return rc != 0 ? rc : buf_addc(b, '"');
}

/* A version 4 GUID from 16 random bytes (RFC 9562 section 5.4). */
static int
make_jti(char *out, size_t len)
{
	unsigned char r[16];
	int n;

	if (RAND_bytes(r, sizeof(r)) != 1)
		return -1;
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	n = snprintf(out, len,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x",
	    r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10],
	    r[11], r[12], r[13], r[14], r[15]);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

static int
header_json(const struct jwt_key *k, enum jwt_alg alg, struct buf *j)
{
	int rc;

	if ((rc = buf_printf(j, "{\"alg\":\"%s\",\"typ\":\"JWT\",",
	         jwt_alg_name(alg))) != 0)
		return rc;
	if (alg == JWT_RS256)
		rc = buf_adds(j, "\"x5t\":\"");
	else
		rc = buf_adds(j, "\"x5t#S256\":\"");
	if (rc == 0)
		rc = alg == JWT_RS256
		    ? jwt_b64url(j, k->x5t, sizeof(k->x5t))
		    : jwt_b64url(j, k->x5t_s256, sizeof(k->x5t_s256));
	return rc != 0 ? rc : buf_adds(j, "\"}");
}

static int
claims_json(const char *aud, const char *client_id, const char *jti, time_t now,
    struct buf *j)
{
	long long t = (long long)now;
	int rc;

	if ((rc = buf_adds(j, "{\"aud\":")) || (rc = add_json_str(j, aud)) ||
	    (rc = buf_adds(j, ",\"iss\":")) ||
	    (rc = add_json_str(j, client_id)) ||
	    (rc = buf_adds(j, ",\"sub\":")) ||
	    (rc = add_json_str(j, client_id)))
		return rc;
	return buf_printf(j,
	    ",\"jti\":\"%s\",\"nbf\":%lld,\"iat\":%lld,\"exp\":%lld}", jti, t,
	    t, t + JWT_LIFETIME);
}

/* Sign out's contents from start on and append ".<signature>". */
static int
sign(const struct jwt_key *k, enum jwt_alg alg, struct buf *out, size_t start,
    char *err, size_t errlen)
{
	const unsigned char *tbs = (const unsigned char *)out->data + start;
	size_t tbslen = out->len - start;
	EVP_MD_CTX *ctx;
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	int rc = ERR_CONFIG;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return ERR_NOMEM;
	if (EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), NULL, k->pkey) != 1 ||
	    (alg == JWT_PS256 &&
	        (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) !=
	                1 ||
	            EVP_PKEY_CTX_set_rsa_pss_saltlen(
	                pctx, RSA_PSS_SALTLEN_DIGEST) != 1)) ||
	    EVP_DigestSign(ctx, NULL, &siglen, tbs, tbslen) != 1) {
		say(err, errlen, "cannot sign the client assertion: %s",
		    ssl_reason("OpenSSL refused the key"));
		goto out;
	}
	if ((sig = malloc(siglen)) == NULL) {
		rc = ERR_NOMEM;
		goto out;
	}
	if (EVP_DigestSign(ctx, sig, &siglen, tbs, tbslen) != 1) {
		say(err, errlen, "cannot sign the client assertion: %s",
		    ssl_reason("signing failed"));
		goto out;
	}
	if ((rc = buf_addc(out, '.')) == 0)
		rc = jwt_b64url(out, sig, siglen);
out:
	free(sig);
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

int
jwt_assertion(const struct jwt_key *k, enum jwt_alg alg, const char *aud,
    const char *client_id, time_t now, struct buf *out, char *err,
    size_t errlen)
{
	struct buf j;
	char jti[40];
	size_t start = out->len;
	int rc;

	if (make_jti(jti, sizeof(jti)) != 0) {
		say(err, errlen, "no random numbers for the assertion id");
		ERR_clear_error();
		return ERR_CONFIG;
	}
	buf_init(&j, JSON_MAX);
	if ((rc = header_json(k, alg, &j)) != 0 ||
	    (rc = jwt_b64url(out, j.data, j.len)) != 0 ||
	    (rc = buf_addc(out, '.')) != 0)
		goto out;
	buf_clear(&j);
	if ((rc = claims_json(aud, client_id, jti, now, &j)) != 0 ||
	    (rc = jwt_b64url(out, j.data, j.len)) != 0)
		goto out;
	rc = sign(k, alg, out, start, err, errlen);
out:
	if (rc != 0 && rc != ERR_CONFIG)
		say(err, errlen, "cannot build the client assertion: %s",
		    errcode_str(rc));
	buf_reset(&j);
	return rc;
}
