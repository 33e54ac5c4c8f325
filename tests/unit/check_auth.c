/* Unit tests for auth.c (jwks.c's own tests: check_jwks.c). Keys are generated at run time
 * (check_util.h); tokens are made with libjwt (as an issuer would) or by hand with OpenSSL
 * where libjwt cannot make the malformed or foreign token a test needs. Time is fixed (NOW),
 * never the clock. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jwt.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth.h"
#include "jwks.h"

#define CHECK_UTIL_AUTH /* SECRET, the keys, fmt, b64_param, setup/teardown */
#include "check_util.h"

#define NOW ((time_t)1700000000)
#define LATER ((long long)NOW + 3600)
#define USER "8F14E45F-CEEA-467A-9AF0-1B2C3D4E5F60"
#define USER_LC "8f14e45f-ceea-467a-9af0-1b2c3d4e5f60"
#define B64 "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

/* ---- helpers ---- */

static const char *user_claims(long long exp)
{
	return fmt("{\"role\":\"authenticated\",\"aud\":\"authenticated\",\"sub\":\"%s\","
		   "\"exp\":%lld,\"email\":\"a@b.c\"}", USER, exp);
}

/* A token made by libjwt the way an issuer would. */
static char *lj_token(jwt_alg_t alg, const void *key, size_t key_len, const char *kid,
		      const char *claims)
{
	jwt_t *j = NULL;
	char *t;

	ck_assert_int_eq(jwt_new(&j), 0);
	ck_assert_int_eq(jwt_add_grants_json(j, claims), 0);
	if (kid)
		ck_assert_int_eq(jwt_add_header(j, "kid", kid), 0);
	ck_assert_int_eq(jwt_set_alg(j, alg, key, (int)key_len), 0);
	t = jwt_encode_str(j);
	ck_assert_ptr_nonnull(t);
	jwt_free(j);
	return t;
}

static char *hs_token(const char *claims)
{
	return lj_token(JWT_ALG_HS256, SECRET, strlen(SECRET), NULL, claims);
}

static char *b64s(const char *s)
{
	char *r = jwks_b64url_encode((const unsigned char *)s, strlen(s));
	ck_assert_ptr_nonnull(r);
	return r;
}

/* A token signed by hand: hmac_key for HS256, else pkey (ES256 as JOSE R||S, or RS256).
 * Lets tests set any header, and checks interoperability with non-libjwt issuers. */
static char *hand_token(const char *header, const char *claims, const char *hmac_key,
			EVP_PKEY *pkey)
{
	char *h = b64s(header), *p = b64s(claims), *sig, *out;
	const char *input = fmt("%s.%s", h, p);
	unsigned char mac[EVP_MAX_MD_SIZE], der[1024], raw[64];
	unsigned int mac_len = 0;
	size_t der_len = sizeof der;

	if (hmac_key) {
		ck_assert_ptr_nonnull(HMAC(EVP_sha256(), hmac_key, (int)strlen(hmac_key),
					   (const unsigned char *)input, strlen(input), mac, &mac_len));
		sig = jwks_b64url_encode(mac, mac_len);
	} else {
		EVP_MD_CTX *c = EVP_MD_CTX_new();
		ck_assert_int_eq(EVP_DigestSignInit(c, NULL, EVP_sha256(), NULL, pkey), 1);
		ck_assert_int_eq(EVP_DigestSign(c, der, &der_len, (const unsigned char *)input,
						strlen(input)), 1);
		EVP_MD_CTX_free(c);
		if (EVP_PKEY_is_a(pkey, "EC")) {
			const unsigned char *q = der;
			ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)der_len);
			ck_assert_ptr_nonnull(es);
			ck_assert_int_eq(BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32), 32);
			ck_assert_int_eq(BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 32, 32), 32);
			ECDSA_SIG_free(es);
			sig = jwks_b64url_encode(raw, 64);
		} else {
			sig = jwks_b64url_encode(der, der_len);
		}
	}
	ck_assert_ptr_nonnull(sig);
	out = strdup(fmt("%s.%s.%s", h, p, sig));
	ck_assert_ptr_nonnull(out);
	free(h);
	free(p);
	free(sig);
	return out;
}

static err_t verify_hdr(const struct auth_keys *k, const char *header, struct auth_identity *id,
			const char **why)
{
	return auth_verify(k, header, NOW, id, why);
}

static err_t verify(const struct auth_keys *k, const char *tok, struct auth_identity *id)
{
	static char h[AUTH_TOKEN_MAX + 64];
	const char *why = NULL;
	int n = snprintf(h, sizeof h, "Bearer %s", tok);
	err_t e;

	ck_assert(n > 0 && (size_t)n < sizeof h);
	e = verify_hdr(k, h, id, &why);
	ck_assert_ptr_nonnull(why);
	return e;
}

/* The token must be refused, leaving an empty identity; frees tok. */
static void refused(const struct auth_keys *k, char *tok)
{
	struct auth_identity id;

	ck_assert_int_eq(verify(k, tok, &id), ERR_UNAUTHORIZED);
	ck_assert_ptr_null(id.claims_json);
	ck_assert_str_eq(id.role, "");
	ck_assert_str_eq(id.sub, "");
	auth_identity_clear(&id);
	free(tok);
}

/* The token must be accepted with role and sub; frees tok. */
static void accepted(const struct auth_keys *k, char *tok, const char *role, const char *sub)
{
	struct auth_identity id;

	ck_assert_int_eq(verify(k, tok, &id), ERR_OK);
	ck_assert_str_eq(id.role, role);
	ck_assert_str_eq(id.sub, sub);
	ck_assert_ptr_nonnull(id.claims_json);
	auth_identity_clear(&id);
	ck_assert_ptr_null(id.claims_json);
	free(tok);
}

/* ---- HS256 and claims ---- */

START_TEST(test_hs256_valid)
{
	struct auth_identity id;
	char *t = hs_token(user_claims(LATER));

	ck_assert_int_eq(verify(keys, t, &id), ERR_OK);
	ck_assert_str_eq(id.sub, USER_LC); /* lower-cased */
	ck_assert_str_eq(id.role, "authenticated");
	ck_assert_ptr_nonnull(strstr(id.claims_json, "\"email\":\"a@b.c\""));
	ck_assert_ptr_nonnull(strstr(id.claims_json, "\"sub\":\"" USER "\""));
	auth_identity_clear(&id);
	free(t);
	accepted(keys_hs, hs_token(user_claims(LATER)), "authenticated", USER_LC);
}
END_TEST

START_TEST(test_expiry_and_leeway)
{
	refused(keys, hs_token(user_claims((long long)NOW - AUTH_LEEWAY - 1)));
	accepted(keys, hs_token(user_claims((long long)NOW - AUTH_LEEWAY)), "authenticated", USER_LC);
	accepted(keys, hs_token(fmt("{\"role\":\"anon\",\"exp\":%lld,\"nbf\":%lld}", LATER,
				    (long long)NOW + AUTH_LEEWAY)), "anon", "");
	refused(keys, hs_token(fmt("{\"role\":\"anon\",\"exp\":%lld,\"nbf\":%lld}", LATER,
				   (long long)NOW + AUTH_LEEWAY + 1)));
	refused(keys, hs_token("{\"role\":\"anon\"}"));                          /* no exp */
	refused(keys, hs_token("{\"role\":\"anon\",\"exp\":\"9999999999\"}"));   /* string exp */
	refused(keys, hs_token(fmt("{\"role\":\"anon\",\"exp\":%lld,\"nbf\":\"0\"}", LATER)));
	accepted(keys, hs_token("{\"role\":\"anon\",\"exp\":1700000000.5}"), "anon", "");
}
END_TEST

START_TEST(test_wrong_secret)
{
	const char *other = "another-secret-another-secret-another-secret";

	refused(keys, lj_token(JWT_ALG_HS256, other, strlen(other), NULL, user_claims(LATER)));
	refused(keys_jwks, hs_token(user_claims(LATER))); /* no secret configured */
}
END_TEST

START_TEST(test_alg_none)
{
	char *p = b64s(fmt("{\"role\":\"service_role\",\"exp\":%lld}", LATER));

	refused(keys, strdup(fmt("eyJhbGciOiJub25lIn0.%s.", p)));
	refused(keys, strdup(fmt("eyJhbGciOiJub25lIn0.%s.AAAA", p)));
	refused(keys_jwks, strdup(fmt("eyJhbGciOiJub25lIn0.%s.", p)));
	refused(keys, strdup(fmt("eyJhbGciOiJub25lIn0.%s", p)));
	free(p);
	refused(keys, hand_token("{\"alg\":\"none\",\"typ\":\"JWT\"}", user_claims(LATER), SECRET, NULL));
}
END_TEST

START_TEST(test_other_hmac_algs)
{
	refused(keys, lj_token(JWT_ALG_HS512, SECRET, strlen(SECRET), NULL, user_claims(LATER)));
	refused(keys, lj_token(JWT_ALG_HS384, SECRET, strlen(SECRET), NULL, user_claims(LATER)));
	/* libjwt matches alg names case-insensitively; JWS does not. */
	refused(keys, hand_token("{\"alg\":\"hs256\",\"typ\":\"JWT\"}", user_claims(LATER), SECRET, NULL));
	/* the same hand-made token with a proper alg passes, so the above fails for the alg */
	accepted(keys, hand_token("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", user_claims(LATER), SECRET, NULL),
		 "authenticated", USER_LC);
}
END_TEST

START_TEST(test_rs_hs_confusion)
{
	/* HMAC keyed with the RSA public key PEM, exactly as the server holds it. */
	const char *why = NULL;
	size_t sig_len = 0;
	char *pem, *t;
	unsigned char *n = NULL, *e = NULL;
	size_t n_len, e_len;
	char *rn = b64_param(rsa_key, OSSL_PKEY_PARAM_RSA_N, 0);
	char *re = b64_param(rsa_key, OSSL_PKEY_PARAM_RSA_E, 0);

	ck_assert_int_eq(jwks_b64url_decode(rn, strlen(rn), &n, &n_len), ERR_OK);
	ck_assert_int_eq(jwks_b64url_decode(re, strlen(re), &e, &e_len), ERR_OK);
	ck_assert_int_eq(jwks_rsa_pem(n, n_len, e, e_len, &pem, &sig_len, &why), ERR_OK);
	ck_assert_ptr_nonnull(pem);
	ck_assert_str_eq(pem, rsa_pub);
	ck_assert_uint_eq(sig_len, 256);

	refused(keys, lj_token(JWT_ALG_HS256, pem, strlen(pem), NULL, user_claims(LATER)));
	refused(keys, lj_token(JWT_ALG_HS256, pem, strlen(pem), "rsa-1", user_claims(LATER)));
	refused(keys_jwks, lj_token(JWT_ALG_HS256, pem, strlen(pem), "rsa-1", user_claims(LATER)));
	/* and an RS256 header over an HMAC signature made with the PEM */
	t = hand_token("{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"rsa-1\"}", user_claims(LATER), pem, NULL);
	refused(keys, t);
	free(pem);
	free(n);
	free(e);
	free(rn);
	free(re);
}
END_TEST

START_TEST(test_aud)
{
	const char *c;

	c = fmt("{\"role\":\"authenticated\",\"aud\":\"other\",\"sub\":\"%s\",\"exp\":%lld}", USER, LATER);
	refused(keys, hs_token(c));
	c = fmt("{\"role\":\"authenticated\",\"sub\":\"%s\",\"exp\":%lld}", USER, LATER);
	refused(keys, hs_token(c));
	c = fmt("{\"role\":\"authenticated\",\"aud\":[\"x\",\"authenticated\"],\"sub\":\"%s\",\"exp\":%lld}",
		USER, LATER);
	accepted(keys, hs_token(c), "authenticated", USER_LC);
	c = fmt("{\"role\":\"authenticated\",\"aud\":[\"x\"],\"sub\":\"%s\",\"exp\":%lld}", USER, LATER);
	refused(keys, hs_token(c));
	c = fmt("{\"role\":\"authenticated\",\"aud\":7,\"sub\":\"%s\",\"exp\":%lld}", USER, LATER);
	refused(keys, hs_token(c));
}
END_TEST

START_TEST(test_roles)
{
	const char *c;

	/* anon: accepted here; whether a route takes it is the caller's policy */
	c = fmt("{\"role\":\"anon\",\"iss\":\"supabase\",\"exp\":%lld}", LATER);
	accepted(keys, hs_token(c), "anon", "");
	/* Supabase's service_role key: no sub, no aud */
	c = fmt("{\"role\":\"service_role\",\"iss\":\"supabase\",\"iat\":1,\"exp\":%lld}", LATER);
	accepted(keys, hs_token(c), "service_role", "");
	/* service_role with a UUID sub passes it on; a non-UUID sub is ignored */
	c = fmt("{\"role\":\"service_role\",\"sub\":\"%s\",\"exp\":%lld}", USER, LATER);
	accepted(keys, hs_token(c), "service_role", USER_LC);
	c = fmt("{\"role\":\"service_role\",\"sub\":\"cron\",\"exp\":%lld}", LATER);
	accepted(keys, hs_token(c), "service_role", "");
	/* role missing, not a string, or not an identifier */
	refused(keys, hs_token(fmt("{\"exp\":%lld}", LATER)));
	refused(keys, hs_token(fmt("{\"role\":1,\"exp\":%lld}", LATER)));
	refused(keys, hs_token(fmt("{\"role\":\"\",\"exp\":%lld}", LATER)));
	refused(keys, hs_token(fmt("{\"role\":\"a; drop role x\",\"exp\":%lld}", LATER)));
}
END_TEST

START_TEST(test_sub)
{
	const char *c;

	c = fmt("{\"role\":\"authenticated\",\"aud\":\"authenticated\",\"sub\":\"not-a-uuid\",\"exp\":%lld}",
		LATER);
	refused(keys, hs_token(c));
	c = fmt("{\"role\":\"authenticated\",\"aud\":\"authenticated\",\"exp\":%lld}", LATER);
	refused(keys, hs_token(c));
	c = fmt("{\"role\":\"authenticated\",\"aud\":\"authenticated\",\"sub\":\"%s0\",\"exp\":%lld}",
		USER, LATER);
	refused(keys, hs_token(c));
}
END_TEST

/* ---- JWKS keys ---- */

START_TEST(test_es256)
{
	accepted(keys, lj_token(JWT_ALG_ES256, ec_priv, strlen(ec_priv), "ec-1", user_claims(LATER)),
		 "authenticated", USER_LC);
	accepted(keys_jwks, lj_token(JWT_ALG_ES256, ec_priv, strlen(ec_priv), "ec-1", user_claims(LATER)),
		 "authenticated", USER_LC);
	/* no kid, one ES256 key: that key */
	accepted(keys, lj_token(JWT_ALG_ES256, ec_priv, strlen(ec_priv), NULL, user_claims(LATER)),
		 "authenticated", USER_LC);
	/* signed outside libjwt (JOSE R||S), as Supabase Auth does */
	accepted(keys, hand_token("{\"alg\":\"ES256\",\"kid\":\"ec-1\",\"typ\":\"JWT\"}",
				  user_claims(LATER), NULL, ec_key), "authenticated", USER_LC);
	/* expiry still applies to asymmetric tokens */
	refused(keys, lj_token(JWT_ALG_ES256, ec_priv, strlen(ec_priv), "ec-1", user_claims(NOW - 100)));
}
END_TEST

START_TEST(test_es256_bad_key)
{
	refused(keys, lj_token(JWT_ALG_ES256, ec_priv, strlen(ec_priv), "ec-2", user_claims(LATER)));
	refused(keys, lj_token(JWT_ALG_ES256, ec_other_priv, strlen(ec_other_priv), "ec-1",
			       user_claims(LATER)));
	/* kid of the RSA key: no ES256 key by that kid */
	refused(keys, lj_token(JWT_ALG_ES256, ec_priv, strlen(ec_priv), "rsa-1", user_claims(LATER)));
	refused(keys_hs, lj_token(JWT_ALG_ES256, ec_priv, strlen(ec_priv), "ec-1", user_claims(LATER)));
	/* ES384 is not accepted even when listed */
	refused(keys, hand_token("{\"alg\":\"ES384\",\"kid\":\"ec-384\"}", user_claims(LATER), NULL, ec_key));
}
END_TEST

START_TEST(test_rs256)
{
	accepted(keys, lj_token(JWT_ALG_RS256, rsa_priv, strlen(rsa_priv), "rsa-1", user_claims(LATER)),
		 "authenticated", USER_LC);
	accepted(keys_jwks, hand_token("{\"alg\":\"RS256\",\"kid\":\"rsa-1\"}", user_claims(LATER), NULL,
				       rsa_key), "authenticated", USER_LC);
	refused(keys, lj_token(JWT_ALG_RS512, rsa_priv, strlen(rsa_priv), "rsa-1", user_claims(LATER)));
	refused(keys, lj_token(JWT_ALG_RS256, rsa_priv, strlen(rsa_priv), "ec-1", user_claims(LATER)));
}
END_TEST

START_TEST(test_tampered)
{
	const char *forged = fmt("{\"role\":\"service_role\",\"exp\":%lld}", LATER);
	char *fp = b64s(forged);
	char *toks[3];
	int i;

	toks[0] = hs_token(user_claims(LATER));
	toks[1] = lj_token(JWT_ALG_ES256, ec_priv, strlen(ec_priv), "ec-1", user_claims(LATER));
	toks[2] = lj_token(JWT_ALG_RS256, rsa_priv, strlen(rsa_priv), "rsa-1", user_claims(LATER));
	for (i = 0; i < 3; i++) {
		char *d1 = strchr(toks[i], '.'), *d2 = strrchr(toks[i], '.');
		char *last;

		refused(keys, strdup(fmt("%.*s.%s%s", (int)(d1 - toks[i]), toks[i], fp, d2)));
		/* Flip the lowest bit of the signature's last character: a spare bit for
		 * these sizes (32, 64, 256 bytes), so only a canonical-form check catches it. */
		last = toks[i] + strlen(toks[i]) - 1;
		*last = B64[(strchr(B64, *last) - B64) ^ 1];
		refused(keys, toks[i]);
	}
	free(fp);
}
END_TEST

START_TEST(test_header_forms)
{
	struct auth_identity id;
	const char *why = NULL;
	char *t = hs_token(user_claims(LATER));
	char *big;
	size_t i;
	const char *bad[] = {NULL, "", "Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "garbage",
			     "Bearer a.b.c", "Bearer a.b", "Bearer ...", "Bearer a b",
			     "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x=", "Token abc"};

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why = NULL;
		ck_assert_int_eq(verify_hdr(keys, bad[i], &id, &why), ERR_UNAUTHORIZED);
		ck_assert_ptr_nonnull(why);
		ck_assert_ptr_null(id.claims_json);
	}
	/* The scheme in any case, one space: the same rule as nginx's (test_bearer_rule). */
	ck_assert_int_eq(verify_hdr(keys, fmt("bearer %s", t), &id, &why), ERR_OK);
	auth_identity_clear(&id);
	ck_assert_int_eq(verify_hdr(keys, fmt("BEARER %s", t), &id, &why), ERR_OK);
	auth_identity_clear(&id);
	ck_assert_int_eq(verify_hdr(keys, fmt("  BEARER   %s  ", t), &id, &why), ERR_UNAUTHORIZED);
	ck_assert_int_eq(verify_hdr(keys, fmt("Bearer\t%s", t), &id, &why), ERR_UNAUTHORIZED);
	ck_assert_int_eq(verify_hdr(keys, fmt("Bearer %s x", t), &id, &why), ERR_UNAUTHORIZED);
	ck_assert_int_eq(verify_hdr(NULL, fmt("Bearer %s", t), &id, &why), ERR_UNAUTHORIZED);
	free(t);

	/* a token over the length cap, valid otherwise */
	big = malloc(AUTH_TOKEN_MAX + 64);
	ck_assert_ptr_nonnull(big);
	memset(big, 'a', AUTH_TOKEN_MAX);
	big[AUTH_TOKEN_MAX] = '\0';
	t = hs_token(fmt("{\"role\":\"anon\",\"exp\":%lld,\"pad\":\"%.1900s\"}", LATER, big));
	ck_assert_uint_lt(strlen(t), AUTH_TOKEN_MAX);
	accepted(keys, t, "anon", "");
	memset(big, 'a', AUTH_TOKEN_MAX + 1);
	big[AUTH_TOKEN_MAX + 1] = '\0';
	memcpy(big, "Bearer ", 7);
	ck_assert_int_eq(verify_hdr(keys, big, &id, &why), ERR_UNAUTHORIZED);
	free(big);

	/* header oddities: crit, non-string kid, not JSON */
	refused(keys, hand_token("{\"alg\":\"HS256\",\"crit\":[\"exp\"],\"exp\":1}", user_claims(LATER),
				 SECRET, NULL));
	refused(keys, hand_token("{\"alg\":\"HS256\",\"kid\":5}", user_claims(LATER), SECRET, NULL));
	refused(keys, hand_token("not json", user_claims(LATER), SECRET, NULL));
	refused(keys, hand_token("{\"alg\":\"HS256\"}", "[1,2]", SECRET, NULL));
}
END_TEST

/* RFC 9110: auth-scheme (case-insensitive) 1*SP token68; we allow exactly one SP
 * (tests/http/test_limits.py sends these same forms through nginx and the rate limit). */
START_TEST(test_bearer_rule)
{
	static const struct {
		const char *h;
		const char *tok; /* NULL: refused */
	} cases[] = {
		{"Bearer abc", "abc"},
		{"bearer abc", "abc"},
		{"BEARER abc", "abc"},
		{"bEaReR a.b.c", "a.b.c"},
		{"Bearer aZ09-._~+/", "aZ09-._~+/"},
		{"Bearer abc==", "abc=="},
		{"Bearer  abc", NULL},
		{"Bearer\tabc", NULL},
		{"Bearer \tabc", NULL},
		{" Bearer abc", NULL},
		{"Bearer abc ", NULL},
		{"Bearer abc\t", NULL},
		{"Bearer a bc", NULL},
		{"Bearer a=b", NULL},
		{"Bearer =", NULL},
		{"Bearer ", NULL},
		{"Bearer", NULL},
		{"Bearerabc", NULL},
		{"Bearer: abc", NULL},
		{"Basic abc", NULL},
		{"Bearer a,b", NULL},
		{"Bearer a\"b", NULL},
		{"", NULL},
		{NULL, NULL},
	};
	size_t i, len;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *tok = NULL, *why = NULL;
		err_t e = auth_bearer_parse(cases[i].h, &tok, &len, &why);

		if (cases[i].tok) {
			ck_assert_msg(e == ERR_OK, "refused: '%s'", cases[i].h);
			ck_assert_uint_eq(len, strlen(cases[i].tok));
			ck_assert(strncmp(tok, cases[i].tok, len) == 0);
		} else {
			ck_assert_msg(e == ERR_UNAUTHORIZED, "accepted: '%s'",
				      cases[i].h ? cases[i].h : "(none)");
			ck_assert_ptr_nonnull(why);
		}
	}
}
END_TEST

/* ---- loading ---- */

START_TEST(test_keys_load)
{
	struct auth_keys *k = NULL;
	const char *why = NULL;
	const char *one = fmt("  %s", jwks_text); /* leading blanks still mean inline JSON */

	ck_assert_int_eq(auth_keys_load(&k, NULL, jwks_path, &why), ERR_OK);
	accepted(k, lj_token(JWT_ALG_RS256, rsa_priv, strlen(rsa_priv), "rsa-1", user_claims(LATER)),
		 "authenticated", USER_LC);
	auth_keys_free(k);
	ck_assert_int_eq(auth_keys_load(&k, "", one, &why), ERR_OK);
	accepted(k, lj_token(JWT_ALG_ES256, ec_priv, strlen(ec_priv), "ec-1", user_claims(LATER)),
		 "authenticated", USER_LC);
	auth_keys_free(k);

	/* nothing usable -> ERR_INTERNAL with a reason, *out NULL */
	const char *fail[] = {
		NULL, "", "   ", "/nonexistent/jwks.json", "{", "{\"keys\":{}}", "{\"nokeys\":[]}",
		"{\"keys\":[]}",
		"{\"keys\":[{\"kty\":\"oct\",\"k\":\"AA\"}]}",                        /* skipped only */
		"{\"keys\":[{\"crv\":\"P-256\"}]}",                                   /* no kty */
		"{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\"}]}", /* short */
		"{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}",        /* tiny modulus */
		"{\"keys\":[1]}",
	};
	for (size_t i = 0; i < sizeof fail / sizeof fail[0]; i++) {
		why = NULL;
		k = (struct auth_keys *)1;
		ck_assert_int_eq(auth_keys_load(&k, NULL, fail[i], &why), ERR_INTERNAL);
		ck_assert_ptr_null(k);
		ck_assert_ptr_nonnull(why);
	}
	/* an HS secret alone is enough, and a bad JWKS is an error even with a secret */
	ck_assert_int_eq(auth_keys_load(&k, SECRET, NULL, &why), ERR_OK);
	auth_keys_free(k);
	ck_assert_int_eq(auth_keys_load(&k, SECRET, "{\"keys\":[1]}", &why), ERR_INTERNAL);
	auth_keys_free(NULL);
}
END_TEST

Suite *auth_suite(void); /* run by the unit test driver */

Suite *auth_suite(void)
{
	Suite *s = suite_create("auth");
	TCase *tc = tcase_create("auth");

	/* Unchecked: key generation (RSA especially) runs once, not per forked test. */
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60); /* valgrind is slow with RSA */
	tcase_add_test(tc, test_hs256_valid);
	tcase_add_test(tc, test_expiry_and_leeway);
	tcase_add_test(tc, test_wrong_secret);
	tcase_add_test(tc, test_alg_none);
	tcase_add_test(tc, test_other_hmac_algs);
	tcase_add_test(tc, test_rs_hs_confusion);
	tcase_add_test(tc, test_aud);
	tcase_add_test(tc, test_roles);
	tcase_add_test(tc, test_sub);
	tcase_add_test(tc, test_es256);
	tcase_add_test(tc, test_es256_bad_key);
	tcase_add_test(tc, test_rs256);
	tcase_add_test(tc, test_tampered);
	tcase_add_test(tc, test_header_forms);
	tcase_add_test(tc, test_bearer_rule);
	tcase_add_test(tc, test_keys_load);
	suite_add_tcase(s, tc);
	return s;
}
