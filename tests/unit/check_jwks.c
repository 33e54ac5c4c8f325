/* Unit tests for jwks.c: which JWKs are kept, skipped or refused, base64url, the strict JSON
 * parser, the RSA limits, loading from a file. The keys (and the JWKS made of them) are
 * generated at run time by the fixture shared with check_auth.c (check_util.h). */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "auth.h"
#include "jwks.h"

#define CHECK_UTIL_AUTH /* the keys, jwks_text/jwks_path, fmt, b64_param, setup/teardown */
#include "check_util.h"

/* ---- JWKS ---- */

START_TEST(test_jwks_details)
{
	struct jwks_set s;
	const char *why = NULL;
	/* a point off the curve: x = y = 1 */
	const char *off = "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"a\","
			  "\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE\","
			  "\"y\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE\"}]}";

	ck_assert_int_eq(jwks_parse(&s, off, strlen(off), &why), ERR_VALIDATION);
	ck_assert_uint_eq(s.count, 0);

	ck_assert_int_eq(jwks_parse(&s, jwks_text, strlen(jwks_text), &why), ERR_OK);
	ck_assert_uint_eq(s.count, 2); /* oct and ES384 skipped */
	ck_assert_ptr_nonnull(jwks_find(&s, JWKS_ES256, "ec-1"));
	ck_assert_ptr_null(jwks_find(&s, JWKS_ES256, "rsa-1"));
	ck_assert_ptr_nonnull(jwks_find(&s, JWKS_RS256, NULL));
	ck_assert_uint_eq(jwks_find(&s, JWKS_ES256, NULL)->sig_len, 64);
	ck_assert(strncmp(jwks_find(&s, JWKS_ES256, NULL)->pem, "-----BEGIN PUBLIC KEY-----", 26) == 0);
	jwks_set_free(&s);

	/* the same key twice: a duplicate kid is a configuration error */
	{
		const char *a = strstr(jwks_text, "{\"kty\":\"EC\"");
		const char *b = strstr(jwks_text, "},{\"kty\":\"RSA\"");
		int n = (int)(b - a) + 1;
		const char *twice = fmt("{\"keys\":[%.*s,%.*s]}", n, a, n, a);

		ck_assert_int_eq(jwks_parse(&s, twice, strlen(twice), &why), ERR_VALIDATION);
	}

	/* base64url */
	ck_assert(jwks_b64url_valid("AQAB", 4));
	ck_assert(jwks_b64url_valid("", 0));
	ck_assert(!jwks_b64url_valid("AQA=", 4));
	ck_assert(!jwks_b64url_valid("A", 1));
	ck_assert(!jwks_b64url_valid("AB", 2)); /* spare bits set: not canonical */
	ck_assert(jwks_b64url_valid("AQ", 2));
	ck_assert(!jwks_b64url_valid("a+b/", 4));
	{
		unsigned char *o = NULL;
		size_t ol = 0;
		char *enc;

		ck_assert_int_eq(jwks_b64url_decode("_-8", 3, &o, &ol), ERR_OK);
		ck_assert_uint_eq(ol, 2);
		ck_assert_uint_eq(o[0], 0xff);
		ck_assert_uint_eq(o[1], 0xef);
		enc = jwks_b64url_encode(o, ol);
		ck_assert_str_eq(enc, "_-8");
		free(enc);
		free(o);
	}
}
END_TEST

/* jwks_json_parse: one strict JSON value of exactly len bytes. */
START_TEST(test_jwks_json_parse)
{
	static const char *const good[] = {"{}", "{\"a\":[1,2,{\"b\":null}]}", "[true,1]", "\"s\"",
					   " {} \t\r\n", "{\"e\":\"\\u00e9\"}"};
	/* (json-c's strict mode still takes single quotes, NaN and "1."; see jwks.c) */
	static const char *const bad[] = {"", " ", "null", "{", "{}x", "{} {}", "{}{}", "[1,]",
					  "[1 2]", "{\"a\":1,}", "\"\xff\"", "{\"a\":01}",
					  "/* c */ {}", "{\"a\":-}"};
	struct json_object *o;

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		o = NULL;
		ck_assert_msg(jwks_json_parse(good[i], strlen(good[i]), &o) == ERR_OK, "[%s] refused",
			      good[i]);
		ck_assert_ptr_nonnull(o);
		json_object_put(o);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		o = (struct json_object *)&o; /* not NULL: must be cleared */
		ck_assert_msg(jwks_json_parse(bad[i], strlen(bad[i]), &o) == ERR_VALIDATION,
			      "[%s] accepted", bad[i]);
		ck_assert_ptr_null(o);
	}
	/* exactly len bytes: a NUL inside them is not a blank, bytes after them are not read */
	ck_assert_int_eq(jwks_json_parse("{}\0", 3, &o), ERR_VALIDATION);
	ck_assert_ptr_null(o);
	ck_assert_int_eq(jwks_json_parse("{}xyz", 2, &o), ERR_OK);
	ck_assert(json_object_is_type(o, json_type_object));
	json_object_put(o);
	ck_assert_int_eq(jwks_json_parse(NULL, 0, &o), ERR_VALIDATION);
	ck_assert_ptr_null(o);
}
END_TEST

/* jwks_rsa_pem refuses moduli and exponents outside what we verify with. */
START_TEST(test_jwks_rsa_pem_refused)
{
	unsigned char n[JWKS_RSA_MAX_BITS / 8 + 1], e[9], *rn = NULL, *re = NULL;
	size_t rn_len = 0, re_len = 0, sig_len = 7;
	char *b64n = b64_param(rsa_key, OSSL_PKEY_PARAM_RSA_N, 0);
	char *b64e = b64_param(rsa_key, OSSL_PKEY_PARAM_RSA_E, 0);
	char *pem = (char *)&pem;
	const char *why = NULL;
	const char *modulus = "JWKS: RSA modulus must be odd and 2048-8192 bits";
	const char *exponent = "JWKS: RSA exponent must be odd, 3 .. 2^64";

	ck_assert_int_eq(jwks_b64url_decode(b64n, strlen(b64n), &rn, &rn_len), ERR_OK);
	ck_assert_int_eq(jwks_b64url_decode(b64e, strlen(b64e), &re, &re_len), ERR_OK);
	ck_assert_uint_eq(rn_len, 256);
	memcpy(n, rn, rn_len);

	/* the real key, then the same modulus made even */
	ck_assert_int_eq(jwks_rsa_pem(n, 256, re, re_len, &pem, &sig_len, &why), ERR_OK);
	ck_assert_str_eq(pem, rsa_pub);
	ck_assert_uint_eq(sig_len, 256);
	free(pem);
	n[255] &= 0xfe;
	ck_assert_int_eq(jwks_rsa_pem(n, 256, re, re_len, &pem, &sig_len, &why), ERR_VALIDATION);
	ck_assert_str_eq(why, modulus);
	ck_assert_ptr_null(pem);
	ck_assert_uint_eq(sig_len, 0);
	/* one bit short of JWKS_RSA_MIN_BITS, one past JWKS_RSA_MAX_BITS; odd */
	n[0] = 0x7f;
	n[255] |= 1;
	ck_assert_int_eq(jwks_rsa_pem(n, JWKS_RSA_MIN_BITS / 8, re, re_len, &pem, &sig_len, &why),
			 ERR_VALIDATION);
	ck_assert_str_eq(why, modulus);
	memset(n, 0xff, sizeof n);
	n[0] = 0x01;
	ck_assert_int_eq(jwks_rsa_pem(n, JWKS_RSA_MAX_BITS / 8 + 1, re, re_len, &pem, &sig_len, &why),
			 ERR_VALIDATION);
	ck_assert_str_eq(why, modulus);
	ck_assert_ptr_null(pem);

	/* exponents: even, 1, and past 64 bits */
	memcpy(n, rn, rn_len);
	e[0] = 2;
	ck_assert_int_eq(jwks_rsa_pem(n, 256, e, 1, &pem, &sig_len, &why), ERR_VALIDATION);
	ck_assert_str_eq(why, exponent);
	e[0] = 1;
	ck_assert_int_eq(jwks_rsa_pem(n, 256, e, 1, &pem, &sig_len, &why), ERR_VALIDATION);
	ck_assert_str_eq(why, exponent);
	memset(e, 0x01, sizeof e);
	ck_assert_int_eq(jwks_rsa_pem(n, 256, e, sizeof e, &pem, &sig_len, &why), ERR_VALIDATION);
	ck_assert_str_eq(why, exponent);
	ck_assert_ptr_null(pem);
	ck_assert_uint_eq(sig_len, 0);
	free(rn);
	free(re);
	free(b64n);
	free(b64e);
}
END_TEST

/* Which JWKs jwks_parse keeps, skips or refuses. */
static err_t parse_keys(const char *jwks, size_t *count, const char **why)
{
	struct jwks_set s;
	const char *text = fmt("{\"keys\":[%s]}", jwks);
	err_t e = jwks_parse(&s, text, strlen(text), why);

	*count = s.count;
	if (e != ERR_OK)
		ck_assert_uint_eq(s.count, 0);
	jwks_set_free(&s);
	return e;
}

START_TEST(test_jwks_keys)
{
	char *ex = b64_param(ec_key, OSSL_PKEY_PARAM_EC_PUB_X, 32);
	char *ey = b64_param(ec_key, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
	char *ec = strdup(fmt("\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"", ex, ey));
	char kid[JWKS_MAX_KID + 2];
	const char *why = NULL;
	size_t n = 99;

	ck_assert_ptr_nonnull(ec);
	ck_assert_int_eq(parse_keys(fmt("{%s}", ec), &n, &why), ERR_OK);
	ck_assert_uint_eq(n, 1);
	/* skipped: other uses, other algorithms, key_ops without verify */
	ck_assert_int_eq(parse_keys(fmt("{%s,\"use\":\"enc\"}", ec), &n, &why), ERR_OK);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(parse_keys(fmt("{%s,\"alg\":\"RS256\"}", ec), &n, &why), ERR_OK);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(parse_keys(fmt("{%s,\"key_ops\":[\"sign\"]}", ec), &n, &why), ERR_OK);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(parse_keys(fmt("{%s,\"key_ops\":\"verify\"}", ec), &n, &why), ERR_OK);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(parse_keys(fmt("{%s,\"key_ops\":[\"sign\",\"verify\"]}", ec), &n, &why),
			 ERR_OK);
	ck_assert_uint_eq(n, 1);
	/* kid: at most JWKS_MAX_KID bytes, not empty, unique per algorithm (no kid counts as one) */
	memset(kid, 'k', sizeof kid);
	kid[JWKS_MAX_KID] = '\0';
	ck_assert_int_eq(parse_keys(fmt("{%s,\"kid\":\"%s\"}", ec, kid), &n, &why), ERR_OK);
	ck_assert_uint_eq(n, 1);
	kid[JWKS_MAX_KID] = 'k';
	kid[JWKS_MAX_KID + 1] = '\0';
	ck_assert_int_eq(parse_keys(fmt("{%s,\"kid\":\"%s\"}", ec, kid), &n, &why), ERR_VALIDATION);
	ck_assert_str_eq(why, "JWKS: a key has an empty or overlong kid");
	ck_assert_int_eq(parse_keys(fmt("{%s,\"kid\":\"\"}", ec), &n, &why), ERR_VALIDATION);
	ck_assert_int_eq(parse_keys(fmt("{%s},{%s}", ec, ec), &n, &why), ERR_VALIDATION);
	ck_assert_str_eq(why, "JWKS: two keys of one algorithm share a kid");
	ck_assert_int_eq(parse_keys(fmt("{%s,\"kid\":\"a\"},{%s,\"kid\":\"b\"}", ec, ec), &n, &why),
			 ERR_OK);
	ck_assert_uint_eq(n, 2);
	/* malformed members of a key we would use */
	ck_assert_int_eq(parse_keys(fmt("{%s,\"alg\":5}", ec), &n, &why), ERR_VALIDATION);
	ck_assert_int_eq(parse_keys("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\"}", &n, &why),
			 ERR_VALIDATION);
	ck_assert_str_eq(why, "JWKS: EC key without valid base64url x/y");
	memset(kid, 'A', 42); /* 31 zero bytes */
	kid[42] = '\0';
	ck_assert_int_eq(parse_keys(fmt("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}",
					kid, ey), &n, &why), ERR_VALIDATION);
	ck_assert_str_eq(why, "JWKS: EC key x and y must be 32 bytes");
	ck_assert_int_eq(parse_keys("{\"kty\":\"RSA\",\"n\":\"AQAB\"}", &n, &why), ERR_VALIDATION);
	ck_assert_str_eq(why, "JWKS: RSA key without valid base64url n/e");
	free(ec);
	free(ex);
	free(ey);
}
END_TEST

START_TEST(test_jwks_key_count)
{
	static const char oct[] = ",{\"kty\":\"oct\",\"k\":\"AA\"}";
	const size_t len = sizeof oct - 1;
	char *many = malloc((JWKS_MAX_KEYS + 1) * len + 1);
	const char *why = NULL;
	size_t n = 99, used = 0;

	ck_assert_ptr_nonnull(many);
	for (int i = 0; i <= JWKS_MAX_KEYS; i++) {
		memcpy(many + used, oct, len);
		used += len;
	}
	many[used] = '\0';
	/* JWKS_MAX_KEYS keys (skipped ones count), then one more */
	many[used - len] = '\0';
	ck_assert_int_eq(parse_keys(many + 1, &n, &why), ERR_OK);
	ck_assert_uint_eq(n, 0);
	many[used - len] = ',';
	ck_assert_int_eq(parse_keys(many + 1, &n, &why), ERR_VALIDATION);
	ck_assert_str_eq(why, "JWKS: too many keys");
	free(many);
}
END_TEST

/* A file of n bytes: jwks_text, then blanks. */
static void write_padded(const char *path, size_t n)
{
	FILE *f = fopen(path, "w");
	size_t len = strlen(jwks_text);

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_le(len, n);
	ck_assert_uint_eq(fwrite(jwks_text, 1, len, f), len);
	for (size_t i = len; i < n; i++)
		ck_assert_int_ne(fputc(' ', f), EOF);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_jwks_load)
{
	struct jwks_set s;
	const char *why = NULL;
	char path[] = "/tmp/check_auth_big_XXXXXX";
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(close(fd), 0);
	/* nothing configured is not an error here; auth_keys_load decides */
	ck_assert_int_eq(jwks_load(&s, NULL, &why), ERR_OK);
	ck_assert_uint_eq(s.count, 0);
	ck_assert_int_eq(jwks_load(&s, " \t\n", &why), ERR_OK);
	ck_assert_uint_eq(s.count, 0);
	ck_assert_int_eq(jwks_load(&s, jwks_path, &why), ERR_OK);
	ck_assert_uint_eq(s.count, 2);
	jwks_set_free(&s);

	ck_assert_int_eq(jwks_load(&s, "/nonexistent/jwks.json", &why), ERR_VALIDATION);
	ck_assert_str_eq(why, "JWKS: cannot open file");
	ck_assert_int_eq(jwks_load(&s, "/tmp", &why), ERR_VALIDATION); /* a directory */
	ck_assert_str_eq(why, "JWKS: cannot read file");
	ck_assert_uint_eq(s.count, 0);

	write_padded(path, JWKS_MAX_BYTES);
	ck_assert_int_eq(jwks_load(&s, path, &why), ERR_OK);
	ck_assert_uint_eq(s.count, 2);
	jwks_set_free(&s);
	write_padded(path, JWKS_MAX_BYTES + 1);
	ck_assert_int_eq(jwks_load(&s, path, &why), ERR_VALIDATION);
	ck_assert_str_eq(why, "JWKS: file too large");
	ck_assert_uint_eq(s.count, 0);
	unlink(path);
	jwks_set_free(NULL);
	auth_identity_clear(NULL);
}
END_TEST

Suite *jwks_suite(void); /* run by the unit test driver */

Suite *jwks_suite(void)
{
	Suite *s = suite_create("jwks");
	TCase *tc = tcase_create("jwks");

	/* Unchecked: key generation (RSA especially) runs once, not per forked test. */
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60); /* valgrind is slow with RSA */
	tcase_add_test(tc, test_jwks_details);
	tcase_add_test(tc, test_jwks_json_parse);
	tcase_add_test(tc, test_jwks_rsa_pem_refused);
	tcase_add_test(tc, test_jwks_keys);
	tcase_add_test(tc, test_jwks_key_count);
	tcase_add_test(tc, test_jwks_load);
	suite_add_tcase(s, tc);
	return s;
}
