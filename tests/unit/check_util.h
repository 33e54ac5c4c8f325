/* Helpers shared by unit test files that were split out of one file (a file stays under
 * ~800 lines). Define the part a file needs before including this:
 *   CHECK_UTIL_VALID  check_valid*.c: building bodies, reading back valid.c's problems
 *   CHECK_UTIL_AUTH   check_auth.c, check_jwks.c: keys made at run time, and their fixture
 *   CHECK_UTIL_PGRESULT  check_db_json*.c: PGresults built in memory (no server)
 * All static: each test file has its own copy, and its own fixture state. */
#ifndef CHECK_UTIL_H
#define CHECK_UTIL_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

#ifdef CHECK_UTIL_VALID
#include "valid.h"

#define TOL 1e-9

/* ---- helpers ---- */

static inline json_object *J(const char *text)
{
	json_object *o = json_tokener_parse(text);
	ck_assert_msg(o != NULL, "test body does not parse: %s", text);
	return o;
}

/* {"<field>": "<value>"} built without going through a JSON text */
static inline json_object *with_string(const char *field, const char *value)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, field, json_object_new_string(value));
	return o;
}

/* The problem recorded for field, or NULL. */
static inline const char *problem(const struct valid *v, const char *field)
{
	json_object *p;
	if (v->details == NULL || !json_object_object_get_ex(v->details, field, &p))
		return NULL;
	return json_object_get_string(p);
}

static inline int nproblems(const struct valid *v)
{
	return v->details ? json_object_object_length(v->details) : 0;
}

#define ck_problem(v, field, want)                                                           \
	do {                                                                                 \
		const char *got_ = problem((v), (field));                                    \
		ck_assert_msg(got_ != NULL && strcmp(got_, (want)) == 0,                     \
			      "details.%s = %s, want \"%s\"", (field), got_ ? got_ : "(none)", \
			      (want));                                                       \
	} while (0)

/* n copies of s */
static inline char *repeat(const char *s, int n)
{
	size_t l = strlen(s);
	char *b = malloc(l * (size_t)n + 1);
	ck_assert_ptr_nonnull(b);
	for (int i = 0; i < n; i++)
		memcpy(b + l * (size_t)i, s, l);
	b[l * (size_t)n] = '\0';
	return b;
}

#endif /* CHECK_UTIL_VALID */

#ifdef CHECK_UTIL_AUTH
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "auth.h"
#include "jwks.h"

#define SECRET "super-secret-jwt-token-with-at-least-32-characters-long"

static EVP_PKEY *ec_key, *ec_other, *rsa_key;
static char *ec_priv, *ec_other_priv, *rsa_priv, *rsa_pub;
static char *jwks_text;
static char jwks_path[] = "/tmp/check_auth_jwks_XXXXXX";
static struct auth_keys *keys;      /* HS256 secret + JWKS (EC "ec-1", RSA "rsa-1") */
static struct auth_keys *keys_jwks; /* JWKS only */
static struct auth_keys *keys_hs;   /* HS256 only */

static inline char *pem_of(EVP_PKEY *k, int priv)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *d = NULL, *s;
	long n;

	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(priv ? PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL)
			      : PEM_write_bio_PUBKEY(b, k), 1);
	n = BIO_get_mem_data(b, &d);
	s = strndup(d, (size_t)n);
	ck_assert_ptr_nonnull(s);
	BIO_free(b);
	return s;
}

/* base64url of a key parameter, left-padded to pad bytes (0: natural length). */
static inline char *b64_param(EVP_PKEY *k, const char *name, int pad)
{
	BIGNUM *bn = NULL;
	unsigned char buf[1024];
	int n;
	char *s;

	ck_assert_int_eq(EVP_PKEY_get_bn_param(k, name, &bn), 1);
	n = pad ? BN_bn2binpad(bn, buf, pad) : BN_bn2bin(bn, buf);
	ck_assert_int_gt(n, 0);
	s = jwks_b64url_encode(buf, (size_t)n);
	ck_assert_ptr_nonnull(s);
	BN_free(bn);
	return s;
}

static inline const char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static inline const char *fmt(const char *f, ...)
{
	static char b[4][2048]; /* a few live results at once */
	static int i;
	va_list ap;
	int n;

	i = (i + 1) % 4;
	va_start(ap, f);
	n = vsnprintf(b[i], sizeof b[i], f, ap);
	va_end(ap);
	ck_assert(n > 0 && (size_t)n < sizeof b[i]);
	return b[i];
}

/* ---- fixture: keys made once per test case, in the parent process ---- */

static inline void setup(void)
{
	char *ex = NULL, *ey = NULL, *rn = NULL, *re = NULL;
	const char *why = NULL;
	FILE *f;
	int fd, n;

	ec_key = EVP_EC_gen("P-256");
	ec_other = EVP_EC_gen("P-256");
	rsa_key = EVP_RSA_gen(2048);
	ck_assert(ec_key && ec_other && rsa_key);
	ec_priv = pem_of(ec_key, 1);
	ec_other_priv = pem_of(ec_other, 1);
	rsa_priv = pem_of(rsa_key, 1);
	rsa_pub = pem_of(rsa_key, 0);
	ex = b64_param(ec_key, OSSL_PKEY_PARAM_EC_PUB_X, 32);
	ey = b64_param(ec_key, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
	rn = b64_param(rsa_key, OSSL_PKEY_PARAM_RSA_N, 0);
	re = b64_param(rsa_key, OSSL_PKEY_PARAM_RSA_E, 0);
	jwks_text = malloc(4096);
	ck_assert_ptr_nonnull(jwks_text);
	/* Also an HS key and an ES384 key, which must be skipped, as Supabase may list them. */
	n = snprintf(jwks_text, 4096,
		     "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"ES256\",\"use\":\"sig\","
		     "\"kid\":\"ec-1\",\"x\":\"%s\",\"y\":\"%s\"},"
		     "{\"kty\":\"RSA\",\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"n\":\"%s\",\"e\":\"%s\"},"
		     "{\"kty\":\"oct\",\"k\":\"c2VjcmV0\",\"alg\":\"HS256\"},"
		     "{\"kty\":\"EC\",\"crv\":\"P-384\",\"alg\":\"ES384\",\"kid\":\"ec-384\","
		     "\"x\":\"AA\",\"y\":\"AA\"}]}",
		     ex, ey, rn, re);
	ck_assert(n > 0 && n < 4096);
	free(ex);
	free(ey);
	free(rn);
	free(re);
	fd = mkstemp(jwks_path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(jwks_text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);

	ck_assert_int_eq(auth_keys_load(&keys, SECRET, jwks_text, &why), ERR_OK);
	ck_assert_int_eq(auth_keys_load(&keys_jwks, NULL, jwks_path, &why), ERR_OK);
	ck_assert_int_eq(auth_keys_load(&keys_hs, SECRET, "", &why), ERR_OK);
}

static inline void teardown(void)
{
	auth_keys_free(keys);
	auth_keys_free(keys_jwks);
	auth_keys_free(keys_hs);
	keys = keys_jwks = keys_hs = NULL;
	unlink(jwks_path);
	memcpy(jwks_path + sizeof jwks_path - 7, "XXXXXX", 6); /* reusable by the next case */
	free(jwks_text);
	free(ec_priv);
	free(ec_other_priv);
	free(rsa_priv);
	free(rsa_pub);
	EVP_PKEY_free(ec_key);
	EVP_PKEY_free(ec_other);
	EVP_PKEY_free(rsa_key);
}

#endif /* CHECK_UTIL_AUTH */

#ifdef CHECK_UTIL_PGRESULT
#include <libpq-fe.h>

#define CHECK_MAXCOLS 24

/* PostgreSQL type OIDs (pg_type.dat) */
#define T_BOOL 16
#define T_INT8 20
#define T_INT2 21
#define T_INT4 23
#define T_TEXT 25
#define T_JSON 114
#define T_FLOAT8 701
#define T_TIMESTAMPTZ 1184
#define T_NUMERIC 1700
#define T_UUID 2950
#define T_JSONB 3802

struct col {
	const char *name;
	unsigned int typid;
};

/* A TUPLES_OK result with ncols columns and nrows rows of text values (row-major; NULL is SQL NULL). */
static inline PGresult *make(const struct col *cols, int ncols, const char *const *vals, int nrows)
{
	PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	PGresAttDesc att[CHECK_MAXCOLS];

	ck_assert_ptr_nonnull(res);
	ck_assert_int_le(ncols, CHECK_MAXCOLS);
	memset(att, 0, sizeof(att));
	for (int i = 0; i < ncols; i++) {
		/* libpq copies the names; it only lacks const in its prototype */
		att[i].name = (char *)cols[i].name;
		att[i].typid = cols[i].typid;
		att[i].typlen = -1;
		att[i].atttypmod = -1;
	}
	ck_assert_int_eq(PQsetResultAttrs(res, ncols, att), 1);
	for (int r = 0; r < nrows; r++)
		for (int f = 0; f < ncols; f++) {
			const char *v = vals[r * ncols + f];
			ck_assert_int_eq(PQsetvalue(res, r, f, (char *)v, v ? (int)strlen(v) : -1), 1);
		}
	ck_assert_int_eq(PQntuples(res), nrows);
	return res;
}

#endif /* CHECK_UTIL_PGRESULT */

#endif /* CHECK_UTIL_H */
