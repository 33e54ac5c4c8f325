/* Unit tests for the shared key set (keyshare.c) and its use by auth_verify with
 * SUPABASE_URL (auth_keys_load_config): a published set is read whole, a torn one never;
 * the worker's copy follows the generation; a removed key's cached token is refused; no key
 * at all is ERR_UNAVAILABLE (503), not a 401; a kid miss waits at most about a second. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jwt.h>

#define CHECK_UTIL_AUTH
#include "check_util.h"
#include "config.h"
#include "keyshare.h"
#include "shm.h"

#define KUSER "8f14e45f-ceea-467a-9af0-1b2c3d4e5f60"

/* One ES256 key's JWKS text (kid given). */
static char *ks_jwks(EVP_PKEY *k, const char *kid)
{
	char *x = b64_param(k, OSSL_PKEY_PARAM_EC_PUB_X, 32), *y = b64_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
	char *out = malloc(1024);
	int n;

	ck_assert_ptr_nonnull(out);
	n = snprintf(out, 1024, "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"ES256\","
		     "\"kid\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"}]}", kid, x, y);
	ck_assert(n > 0 && n < 1024);
	free(x);
	free(y);
	return out;
}

static char *ks_token(const char *priv, const char *kid)
{
	char claims[256];
	jwt_t *j = NULL;
	char *t;
	int n = snprintf(claims, sizeof claims, "{\"role\":\"authenticated\",\"aud\":\"authenticated\","
			 "\"sub\":\"%s\",\"exp\":%lld}", KUSER, (long long)time(NULL) + 3600);

	ck_assert(n > 0 && (size_t)n < sizeof claims);
	ck_assert_int_eq(jwt_new(&j), 0);
	ck_assert_int_eq(jwt_add_grants_json(j, claims), 0);
	ck_assert_int_eq(jwt_add_header(j, "kid", kid), 0);
	ck_assert_int_eq(jwt_set_alg(j, JWT_ALG_ES256, (const unsigned char *)priv, (int)strlen(priv)), 0);
	t = jwt_encode_str(j);
	ck_assert_ptr_nonnull(t);
	jwt_free(j);
	return t;
}

static err_t ks_verify(const struct auth_keys *k, const char *tok)
{
	char h[4096];
	const char *why = NULL;
	struct auth_identity id;
	err_t rc;

	ck_assert(snprintf(h, sizeof h, "Bearer %s", tok) < (int)sizeof h);
	rc = auth_verify(k, h, time(NULL), &id, &why);
	auth_identity_clear(&id);
	return rc;
}

static struct keyshare_area *ks_area(void)
{
	static struct shm_region *r;
	int fd = -1;

	if (r == NULL)
		ck_assert_int_eq(shm_create(&r, &fd), ERR_OK);
	memset(&r->keys, 0, sizeof(r->keys));
	return &r->keys;
}

START_TEST(test_publish_and_read)
{
	struct keyshare_area *a = ks_area();
	char *text = NULL;
	size_t len = 0;
	uint64_t gen = 0;

	ck_assert_int_eq(keyshare_read(a, &text, &len, &gen), ERR_NOT_FOUND);
	keyshare_publish(a, "{\"keys\":[]}", 11, 0);
	ck_assert_uint_eq(keyshare_gen(a), 1);
	ck_assert_int_eq(keyshare_read(a, &text, &len, &gen), ERR_OK);
	ck_assert_str_eq(text, "{\"keys\":[]}");
	ck_assert_uint_eq(len, 11);
	ck_assert_uint_eq(gen, 1);
	free(text);
	/* A writer killed mid-write leaves seq odd: nothing is read, then the next publish
	 * makes it whole again. */
	a->seq |= 1;
	ck_assert_int_eq(keyshare_read(a, &text, &len, &gen), ERR_NOT_FOUND);
	keyshare_publish(a, "{}", 2, 0);
	ck_assert_int_eq(a->seq & 1, 0);
	ck_assert_int_eq(keyshare_read(a, &text, &len, &gen), ERR_OK);
	ck_assert_str_eq(text, "{}");
	ck_assert_uint_eq(gen, 2);
	free(text);
}
END_TEST

START_TEST(test_reader_follows_generation)
{
	struct keyshare_area *a = ks_area();
	struct keyshare_reader r;
	char *one = ks_jwks(ec_key, "k1");

	keyshare_reader_init(&r, a);
	ck_assert_int_eq(keyshare_reader_sync(&r), 0); /* nothing published */
	keyshare_publish(a, one, strlen(one), 1);
	ck_assert_int_eq(keyshare_reader_sync(&r), 1);
	ck_assert_uint_eq(r.set.count, 1);
	ck_assert_int_eq(keyshare_reader_sync(&r), 0); /* unchanged: one load */
	/* Garbage (a build that parses differently): the worker keeps its keys. */
	keyshare_publish(a, "nonsense", 8, 0);
	ck_assert_int_eq(keyshare_reader_sync(&r), 0);
	ck_assert_uint_eq(r.set.count, 1);
	ck_assert_uint_eq(r.gen, keyshare_gen(a));
	/* Emptied on purpose (SUPABASE_URL changed): the fetched keys go. */
	keyshare_publish(a, "", 0, 0);
	ck_assert_int_eq(keyshare_reader_sync(&r), 1);
	ck_assert_uint_eq(r.set.count, 0);
	ck_assert_uint_eq(r.gen, keyshare_gen(a));
	keyshare_reader_free(&r);
	free(one);
}
END_TEST

START_TEST(test_auth_with_fetched_keys)
{
	struct keyshare_area *a = ks_area();
	struct config cfg = {.supabase_url = "http://127.0.0.1:9"};
	struct auth_keys *k = NULL;
	const char *why = NULL;
	char *one = ks_jwks(ec_key, "k1"), *other = ks_jwks(ec_other, "k2");
	char *tok = ks_token(ec_priv, "k1");

	/* No kid-miss refetch now (no fetcher here to answer one). */
	a->miss_next_ms = keyshare_now_ms() + 600000;
	ck_assert_int_eq(auth_keys_load_config(&k, &cfg, &why), ERR_OK);
	ck_assert_int_eq(auth_keys_ready(k, &why), 0);
	ck_assert_str_eq(why, keyshare_status_text(KEYSHARE_NONE));
	ck_assert_int_eq(ks_verify(k, tok), ERR_UNAVAILABLE); /* not the token's fault */
	keyshare_publish(a, one, strlen(one), 1);
	ck_assert_int_eq(auth_keys_ready(k, &why), 1);
	ck_assert_int_eq(ks_verify(k, tok), ERR_OK);
	ck_assert_int_eq(ks_verify(k, tok), ERR_OK); /* now from the cache */
	/* k1 removed: the cached token is refused too. */
	keyshare_publish(a, other, strlen(other), 1);
	ck_assert_int_eq(ks_verify(k, tok), ERR_UNAUTHORIZED);
	auth_keys_free(k);
	/* Without SUPABASE_URL a configuration still needs a key. */
	cfg.supabase_url = NULL;
	ck_assert_int_eq(auth_keys_load_config(&k, &cfg, &why), ERR_INTERNAL);
	free(one);
	free(other);
	free(tok);
}
END_TEST

START_TEST(test_static_keys_with_fetched)
{
	struct keyshare_area *a = ks_area();
	struct config cfg = {.supabase_url = "http://127.0.0.1:9", .jwks = NULL};
	struct auth_keys *k = NULL;
	const char *why = NULL;
	char *other = ks_jwks(ec_other, "k2");
	char *tok_static = ks_token(ec_priv, "ec-1"), *tok_fetched = ks_token(ec_other_priv, "k2");

	a->miss_next_ms = keyshare_now_ms() + 600000;
	cfg.jwks = jwks_text; /* ec-1 and rsa-1 */
	ck_assert_int_eq(auth_keys_load_config(&k, &cfg, &why), ERR_OK);
	ck_assert_int_eq(auth_keys_ready(k, &why), 1);
	ck_assert_int_eq(ks_verify(k, tok_static), ERR_OK);
	ck_assert_int_eq(ks_verify(k, tok_fetched), ERR_UNAUTHORIZED);
	keyshare_publish(a, other, strlen(other), 1);
	ck_assert_int_eq(ks_verify(k, tok_fetched), ERR_OK);
	ck_assert_int_eq(ks_verify(k, tok_static), ERR_OK);
	auth_keys_free(k);
	free(other);
	free(tok_static);
	free(tok_fetched);
}
END_TEST

START_TEST(test_kid_miss_wait_is_bounded)
{
	struct keyshare_area *a = ks_area();
	struct keyshare_reader r;
	int64_t t0;

	keyshare_reader_init(&r, a);
	a->miss_next_ms = keyshare_now_ms() + 600000;
	t0 = keyshare_now_ms();
	ck_assert_int_eq(keyshare_reader_miss(&r), 0); /* refused at once */
	ck_assert_int_lt(keyshare_now_ms() - t0, 50);
	ck_assert_uint_eq(a->miss_req, 0);
	a->miss_next_ms = 0;
	t0 = keyshare_now_ms();
	ck_assert_int_eq(keyshare_reader_miss(&r), 0); /* no fetcher answers */
	ck_assert_int_ge(keyshare_now_ms() - t0, KEYSHARE_MISS_WAIT_MS - 20);
	ck_assert_int_lt(keyshare_now_ms() - t0, KEYSHARE_MISS_WAIT_MS + 500);
	ck_assert_uint_eq(a->miss_req, 1);
	/* That ask claimed the window, whatever the fetcher does: the next one within
	 * KEYSHARE_MISS_INTERVAL_MS is refused at once and asks nothing. */
	t0 = keyshare_now_ms();
	ck_assert_int_eq(keyshare_reader_miss(&r), 0);
	ck_assert_int_lt(keyshare_now_ms() - t0, 50);
	ck_assert_uint_eq(a->miss_req, 1);
	ck_assert_int_ge(a->miss_next_ms, t0 + KEYSHARE_MISS_INTERVAL_MS - 2000);
	/* A fetcher's answer ends the wait. */
	a->miss_next_ms = 0;
	keyshare_miss_answer(a, 2);
	ck_assert_int_eq(keyshare_reader_miss(&r), 1);
	keyshare_reader_free(&r);
}
END_TEST

Suite *keyshare_suite(void)
{
	Suite *s = suite_create("keyshare");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_publish_and_read);
	tcase_add_test(tc, test_reader_follows_generation);
	tcase_add_test(tc, test_auth_with_fetched_keys);
	tcase_add_test(tc, test_static_keys_with_fetched);
	tcase_add_test(tc, test_kid_miss_wait_is_bounded);
	suite_add_tcase(s, tc);
	return s;
}
