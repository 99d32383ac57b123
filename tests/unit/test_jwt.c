/* SPDX-License-Identifier: MIT */
/*
 * Tests for client assertions (src/jwt.c): base64url, loading keys and
 * certificates made here with the openssl command (and the refusals a
 * user meets: missing file, wrong key, EC key, short key, passphrase),
 * the JWT header and claims Entra ID expects, and signatures checked
 * with the certificate's public key through OpenSSL.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "buf.h"
#include "check.h"
#include "errcode.h"
#include "jwt.h"

#define AUD \
	"https://login.microsoftonline.com/contoso.onmicrosoft.com" \
	"/oauth2/v2.0/token"
#define CLIENT "11111111-1111-1111-1111-111111111111"

static char dir[64];

static const char *
path(const char *name)
{
	static char p[8][128];
	static int i;

	i = (i + 1) % 8;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
run(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* A self-signed certificate and its key, made by the openssl command. */
static int
make_pair(const char *name, const char *newkey)
{
	return run("cd %s && openssl req -x509 -newkey %s -nodes -keyout "
	           "%s.key -out %s.crt -subj /CN=mdesiem-test-%s -days 2 "
	           ">/dev/null 2>&1",
	    dir, newkey, name, name, name);
}

static int
b64url_decode(const char *s, size_t n, struct buf *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                          "abcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned long acc = 0;
	int bits = 0;
	size_t i;
	const char *p;

	for (i = 0; i < n; i++) {
		if ((p = strchr(tab, s[i])) == NULL || s[i] == '\0')
			return -1;
		acc = acc << 6 | (unsigned long)(p - tab);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (buf_addc(out, (char)(acc >> bits & 0xff)) != 0)
				return -1;
		}
	}
	return 0;
}

static void
test_b64url(void)
{
	static const struct {
		const char *in;
		const char *out;
	} v[] = {
	    {"", ""},
	    {"f", "Zg"},
	    {"fo", "Zm8"},
	    {"foo", "Zm9v"},
	    {"foob", "Zm9vYg"},
	    {"fooba", "Zm9vYmE"},
	    {"foobar", "Zm9vYmFy"},
	    {"\xfb\xff", "-_8"},
	    {"\xfb\xef\xbe", "----"},
	    {"\xff\xff\xff", "____"},
	};
	/* The documented example: SHA-1 84E05C1D... is hOBcHZi8... */
	static const unsigned char sha1[] = {0x84, 0xE0, 0x5C, 0x1D, 0x98, 0xBC,
	    0xE3, 0xA5, 0x42, 0x1D, 0x22, 0x5B, 0x14, 0x0B, 0x36, 0xE8, 0x6A,
	    0x3D, 0x55, 0x34};
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		buf_clear(&b);
		CHECK(jwt_b64url(&b, v[i].in, strlen(v[i].in)) == 0);
		CHECK_STR(buf_str(&b), v[i].out);
	}
	buf_clear(&b);
	CHECK(jwt_b64url(&b, sha1, sizeof(sha1)) == 0);
	CHECK_STR(buf_str(&b), "hOBcHZi846VCHSJbFAs26Go9VTQ");

	/* Appends; the cap holds. */
	buf_reset(&b);
	buf_init(&b, 6);
	CHECK(buf_adds(&b, "x.") == 0);
	CHECK(jwt_b64url(&b, "foo", 3) == 0);
	CHECK_STR(buf_str(&b), "x.Zm9v");
	CHECK(jwt_b64url(&b, "foo", 3) == ERR_TOOBIG);
	buf_reset(&b);
	CHECK_STR(jwt_alg_name(JWT_PS256), "PS256");
	CHECK_STR(jwt_alg_name(JWT_RS256), "RS256");
}

static void
expect_load_error(const char *cert, const char *key, const char *part)
{
	char err[400] = "";
	struct jwt_key *k;

	k = jwt_key_load(cert, key, err, sizeof(err));
	CHECK(k == NULL);
	if (strstr(err, part) == NULL) {
		fprintf(stderr, "  load error [%s] lacks [%s]\n", err, part);
		CHECK(0);
	}
	CHECK(strstr(err, "PRIVATE KEY") == NULL);
	jwt_key_free(k);
}

static void
test_load(void)
{
	char err[400] = "x";
	struct jwt_key *k;
	FILE *f;

	k = jwt_key_load(path("a.crt"), path("a.key"), err, sizeof(err));
	CHECK(k != NULL);
	jwt_key_free(k);
	jwt_key_free(NULL);

	/* Certificate and key in one file. */
	CHECK(run("cat %s %s > %s", path("a.key"), path("a.crt"),
	          path("both.pem")) == 0);
	k = jwt_key_load(path("both.pem"), path("both.pem"), err, sizeof(err));
	CHECK(k != NULL);
	jwt_key_free(k);

	expect_load_error(path("nope.crt"), path("a.key"), "cannot read ");
	expect_load_error(
	    path("nope.crt"), path("a.key"), "No such file or directory");
	expect_load_error(path("a.crt"), path("nope.key"), "nope.key");
	expect_load_error(path("a.crt"), path("b.key"),
	    "does not belong to the certificate in");
	expect_load_error(path("ec.crt"), path("ec.key"), "not an RSA key");
	expect_load_error(path("small.crt"), path("small.key"),
	    "RSA key of 1024 bits; Entra ID needs at least 2048");
	expect_load_error(
	    path("a.crt"), path("enc.key"), "protected by a passphrase");
	expect_load_error(
	    path("a.key"), path("a.key"), "no PEM certificate found");
	expect_load_error(
	    path("a.crt"), path("a.crt"), "no PEM private key found");
	if ((f = fopen(path("junk"), "w")) != NULL) {
		fputs("hello\n", f);
		fclose(f);
	}
	expect_load_error(
	    path("junk"), path("a.key"), "no PEM certificate found");
	expect_load_error(
	    path("a.crt"), path("junk"), "no PEM private key found");
}

/* A JWT split in its parts, decoded. */
struct parts {
	cJSON *header;
	cJSON *claims;
	struct buf sig;
	size_t signed_len; /* "header.claims" */
};

static int
split(const char *jwt, struct parts *p)
{
	const char *d1, *d2;
	struct buf h, c;
	int rc = -1;

	memset(p, 0, sizeof(*p));
	buf_init(&p->sig, 0);
	buf_init(&h, 0);
	buf_init(&c, 0);
	if ((d1 = strchr(jwt, '.')) == NULL ||
	    (d2 = strchr(d1 + 1, '.')) == NULL || strchr(d2 + 1, '.') != NULL)
		goto out;
	if (b64url_decode(jwt, (size_t)(d1 - jwt), &h) != 0 ||
	    b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), &c) != 0 ||
	    b64url_decode(d2 + 1, strlen(d2 + 1), &p->sig) != 0)
		goto out;
	p->header = cJSON_Parse(buf_str(&h));
	p->claims = cJSON_Parse(buf_str(&c));
	p->signed_len = (size_t)(d2 - jwt);
	rc = p->header != NULL && p->claims != NULL ? 0 : -1;
out:
	buf_reset(&h);
	buf_reset(&c);
	return rc;
}

static void
parts_free(struct parts *p)
{
	cJSON_Delete(p->header);
	cJSON_Delete(p->claims);
	buf_reset(&p->sig);
}

static const char *
str_of(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double
num_of(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static X509 *
read_cert(const char *file)
{
	X509 *x = NULL;
	FILE *f;

	if ((f = fopen(file, "r")) != NULL) {
		x = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
	}
	return x;
}

/* The certificate's thumbprint, base64url, as the header must carry it. */
static void
thumbprint(const char *file, const EVP_MD *md, struct buf *out)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	X509 *x = read_cert(file);

	if (x != NULL && X509_digest(x, md, d, &n) == 1)
		(void)jwt_b64url(out, d, n);
	X509_free(x);
}

/* Verify with the certificate's public key, as Entra ID does. */
static int
verify(const char *certfile, enum jwt_alg alg, const char *data, size_t n,
    const struct buf *sig)
{
	X509 *x = read_cert(certfile);
	EVP_PKEY *pub = x != NULL ? X509_get0_pubkey(x) : NULL;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int ok = 0;

	if (pub != NULL && ctx != NULL &&
	    EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL, pub) == 1 &&
	    (alg == JWT_RS256 ||
	        (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) ==
	                1 &&
	            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) == 1)))
		ok = EVP_DigestVerify(ctx, (const unsigned char *)sig->data,
		         sig->len, (const unsigned char *)data, n) == 1;
	EVP_MD_CTX_free(ctx);
	X509_free(x);
	return ok;
}

static int
is_guid4(const char *s)
{
	size_t i;

	if (s == NULL || strlen(s) != 36 || s[14] != '4' ||
	    strchr("89ab", s[19]) == NULL)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (strchr("0123456789abcdef", s[i]) == NULL) {
			return 0;
		}
	}
	return 1;
}

static void
check_assertion(enum jwt_alg alg)
{
	struct jwt_key *k;
	struct buf out, want;
	struct parts p, p2;
	char err[400] = "", jti[64] = "";
	const char *jwt;
	time_t now = time(NULL);

	k = jwt_key_load(path("a.crt"), path("a.key"), err, sizeof(err));
	CHECK(k != NULL);
	if (k == NULL)
		return;
	buf_init(&out, 0);
	buf_init(&want, 0);
	CHECK(jwt_assertion(k, alg, AUD, CLIENT, now, &out, err, sizeof(err)) ==
	    0);
	jwt = buf_str(&out);
	CHECK(strspn(jwt,
	          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	          "0123456789-_.") == out.len);
	CHECK(split(jwt, &p) == 0);
	if (p.header == NULL || p.claims == NULL)
		goto out;

	/* Header: exactly alg, typ and the thumbprint for alg. */
	CHECK(cJSON_GetArraySize(p.header) == 3);
	CHECK_STR(str_of(p.header, "alg"), jwt_alg_name(alg));
	CHECK_STR(str_of(p.header, "typ"), "JWT");
	if (alg == JWT_PS256) {
		thumbprint(path("a.crt"), EVP_sha256(), &want);
		CHECK(want.len == 43);
		CHECK_STR(str_of(p.header, "x5t#S256"), buf_str(&want));
		CHECK(str_of(p.header, "x5t") == NULL);
	} else {
		thumbprint(path("a.crt"), EVP_sha1(), &want);
		CHECK(want.len == 27);
		CHECK_STR(str_of(p.header, "x5t"), buf_str(&want));
		CHECK(str_of(p.header, "x5t#S256") == NULL);
	}

	/* Claims. */
	CHECK(cJSON_GetArraySize(p.claims) == 7);
	CHECK_STR(str_of(p.claims, "aud"), AUD);
	CHECK_STR(str_of(p.claims, "iss"), CLIENT);
	CHECK_STR(str_of(p.claims, "sub"), CLIENT);
	CHECK(is_guid4(str_of(p.claims, "jti")));
	CHECK(num_of(p.claims, "nbf") == (double)now);
	CHECK(num_of(p.claims, "iat") == (double)now);
	CHECK(num_of(p.claims, "exp") == (double)(now + 300));
	snprintf(jti, sizeof(jti), "%s", str_of(p.claims, "jti"));

	/* The signature verifies with the certificate, not once tampered. */
	CHECK(p.sig.len == 256);
	CHECK(verify(path("a.crt"), alg, jwt, p.signed_len, &p.sig));
	CHECK(!verify(path("b.crt"), alg, jwt, p.signed_len, &p.sig));
	CHECK(!verify(path("a.crt"), alg == JWT_PS256 ? JWT_RS256 : JWT_PS256,
	    jwt, p.signed_len, &p.sig));
	p.sig.data[10] ^= 1;
	CHECK(!verify(path("a.crt"), alg, jwt, p.signed_len, &p.sig));

	/* Appended after existing text: only the JWT is signed; new jti. */
	buf_clear(&out);
	CHECK(buf_adds(&out, "client_assertion=") == 0);
	CHECK(jwt_assertion(k, alg, AUD, CLIENT, now, &out, err, sizeof(err)) ==
	    0);
	jwt = buf_str(&out) + 17;
	CHECK(split(jwt, &p2) == 0);
	if (p2.claims != NULL) {
		CHECK(is_guid4(str_of(p2.claims, "jti")));
		CHECK(strcmp(str_of(p2.claims, "jti"), jti) != 0);
		CHECK(verify(path("a.crt"), alg, jwt, p2.signed_len, &p2.sig));
	}
	parts_free(&p2);
out:
	parts_free(&p);
	buf_wipe(&out);
	buf_reset(&want);
	jwt_key_free(k);
}

/* Strings land in JSON escaped; a PSS signature differs every time. */
static void
test_escaping_and_salt(void)
{
	struct jwt_key *k;
	struct buf a, b;
	struct parts p;
	char err[400];
	const char *d1, *d2;

	k = jwt_key_load(path("b.crt"), path("b.key"), err, sizeof(err));
	CHECK(k != NULL);
	if (k == NULL)
		return;
	buf_init(&a, 0);
	buf_init(&b, 0);
	CHECK(jwt_assertion(k, JWT_PS256, "https://x/\"q\"\\\n", "c\x01", 1000,
	          &a, err, sizeof(err)) == 0);
	CHECK(split(buf_str(&a), &p) == 0);
	if (p.claims != NULL) {
		CHECK_STR(str_of(p.claims, "aud"), "https://x/\"q\"\\\n");
		CHECK_STR(str_of(p.claims, "iss"), "c\x01");
		CHECK(num_of(p.claims, "exp") == 1300);
	}
	parts_free(&p);

	/* Same claims except jti; PSS salts make every signature new. */
	CHECK(jwt_assertion(
	          k, JWT_PS256, AUD, CLIENT, 1000, &b, err, sizeof(err)) == 0);
	d1 = strrchr(buf_str(&a), '.');
	d2 = strrchr(buf_str(&b), '.');
	CHECK(d1 != NULL && d2 != NULL && strcmp(d1, d2) != 0);

	/* A cap too small for the token: an error, not a cut token. */
	buf_reset(&b);
	buf_init(&b, 100);
	CHECK(jwt_assertion(k, JWT_RS256, AUD, CLIENT, 1000, &b, err,
	          sizeof(err)) == ERR_TOOBIG);
	CHECK(strstr(err, "cannot build the client assertion") != NULL);
	buf_wipe(&a);
	buf_wipe(&b);
	jwt_key_free(k);
}

int
main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_jwt.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	test_b64url();
	CHECK(make_pair("a", "rsa:2048") == 0);
	CHECK(make_pair("b", "rsa:2048") == 0);
	CHECK(make_pair("small", "rsa:1024") == 0);
	CHECK(make_pair("ec", "ec -pkeyopt ec_paramgen_curve:P-256") == 0);
	CHECK(run("openssl pkey -in %s -aes256 -passout pass:pw -out %s",
	          path("a.key"), path("enc.key")) == 0);
	test_load();
	check_assertion(JWT_PS256);
	check_assertion(JWT_RS256);
	test_escaping_and_salt();
	run("rm -rf %s", dir);
	return check_done();
}
