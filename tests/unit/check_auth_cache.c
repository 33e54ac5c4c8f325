/* Unit tests for the verified-token cache (auth_cache.c) and its use by auth_verify: a hit
 * gives what verifying gave, and never accepts what verifying again would refuse (expired,
 * before nbf, a token that differs by one byte, other keys). Time is fixed, never the clock. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jwt.h>

#include "auth.h"
#include "auth_cache.h"

#define CSECRET "cache-test-secret-cache-test-secret-0123456789"
#define CNOW ((time_t)1700000000)
#define CUSER "8f14e45f-ceea-467a-9af0-1b2c3d4e5f60"

static char *cache_token(long long exp, const char *extra)
{
	char claims[512];
	jwt_t *j = NULL;
	char *t;
	int n = snprintf(claims, sizeof claims,
			 "{\"role\":\"authenticated\",\"aud\":\"authenticated\",\"sub\":\"%s\","
			 "\"exp\":%lld%s}", CUSER, exp, extra ? extra : "");

	ck_assert(n > 0 && (size_t)n < sizeof claims);
	ck_assert_int_eq(jwt_new(&j), 0);
	ck_assert_int_eq(jwt_add_grants_json(j, claims), 0);
	ck_assert_int_eq(jwt_set_alg(j, JWT_ALG_HS256, (const unsigned char *)CSECRET,
				     (int)strlen(CSECRET)), 0);
	t = jwt_encode_str(j);
	ck_assert_ptr_nonnull(t);
	jwt_free(j);
	return t;
}

static err_t cache_verify(const struct auth_keys *k, const char *tok, time_t now,
			  struct auth_identity *id)
{
	char h[4096];
	const char *why = NULL;
	int n = snprintf(h, sizeof h, "Bearer %s", tok);

	ck_assert(n > 0 && (size_t)n < sizeof h);
	return auth_verify(k, h, now, id, &why);
}

static struct auth_keys *cache_keys(void)
{
	struct auth_keys *k = NULL;
	const char *why = NULL;

	ck_assert_int_eq(auth_keys_load(&k, CSECRET, NULL, &why), ERR_OK);
	return k;
}

static void cache_counts(const struct auth_keys *k, unsigned long hits, unsigned long misses)
{
	unsigned long h, m;

	auth_keys_cache_counts(k, &h, &m);
	ck_assert_uint_eq(h, hits);
	ck_assert_uint_eq(m, misses);
}

START_TEST(test_hit_is_what_verifying_gave)
{
	struct auth_keys *k = cache_keys();
	char *t = cache_token((long long)CNOW + 3600, ",\"email\":\"a@b.c\"");
	struct auth_identity a, b;

	ck_assert_int_eq(cache_verify(k, t, CNOW, &a), ERR_OK);
	cache_counts(k, 0, 1);
	ck_assert_int_eq(cache_verify(k, t, CNOW + 10, &b), ERR_OK);
	cache_counts(k, 1, 1);
	ck_assert_str_eq(b.sub, a.sub);
	ck_assert_str_eq(b.role, a.role);
	ck_assert_str_eq(b.claims_json, a.claims_json);
	ck_assert_ptr_ne(b.claims_json, a.claims_json); /* each identity owns its text */
	auth_identity_clear(&a);
	auth_identity_clear(&b);
	free(t);
	auth_keys_free(k);
}
END_TEST

START_TEST(test_expired_since_is_refused)
{
	struct auth_keys *k = cache_keys();
	long long exp = (long long)CNOW + 60;
	char *t = cache_token(exp, NULL);
	struct auth_identity id;

	ck_assert_int_eq(cache_verify(k, t, CNOW, &id), ERR_OK);
	auth_identity_clear(&id);
	/* The last second the leeway allows, from the cache; one later, refused. */
	ck_assert_int_eq(cache_verify(k, t, (time_t)(exp + AUTH_LEEWAY), &id), ERR_OK);
	cache_counts(k, 1, 1);
	auth_identity_clear(&id);
	ck_assert_int_eq(cache_verify(k, t, (time_t)(exp + AUTH_LEEWAY + 1), &id), ERR_UNAUTHORIZED);
	ck_assert_ptr_null(id.claims_json);
	/* ...and the entry is gone: the clock going back verifies afresh. */
	ck_assert_int_eq(cache_verify(k, t, CNOW, &id), ERR_OK);
	cache_counts(k, 1, 3);
	auth_identity_clear(&id);
	free(t);
	auth_keys_free(k);
}
END_TEST

START_TEST(test_before_nbf_is_refused)
{
	struct auth_keys *k = cache_keys();
	char extra[64];
	char *t;
	struct auth_identity id;

	ck_assert(snprintf(extra, sizeof extra, ",\"nbf\":%lld", (long long)CNOW) > 0);
	t = cache_token((long long)CNOW + 3600, extra);
	ck_assert_int_eq(cache_verify(k, t, CNOW, &id), ERR_OK);
	auth_identity_clear(&id);
	/* A clock that went back before nbf (beyond the leeway) is refused, cached or not. */
	ck_assert_int_eq(cache_verify(k, t, CNOW - AUTH_LEEWAY - 1, &id), ERR_UNAUTHORIZED);
	ck_assert_int_eq(cache_verify(k, t, CNOW - AUTH_LEEWAY - 1, &id), ERR_UNAUTHORIZED);
	free(t);
	auth_keys_free(k);
}
END_TEST

START_TEST(test_one_byte_off_is_verified)
{
	struct auth_keys *k = cache_keys();
	char *t = cache_token((long long)CNOW + 3600, NULL);
	char *bad = strdup(t);
	size_t n = strlen(bad);
	struct auth_identity id;

	ck_assert_ptr_nonnull(bad);
	bad[n - 2] = bad[n - 2] == 'A' ? 'B' : 'A'; /* the signature's second-to-last char */
	ck_assert_int_eq(cache_verify(k, t, CNOW, &id), ERR_OK);
	auth_identity_clear(&id);
	ck_assert_int_eq(cache_verify(k, bad, CNOW, &id), ERR_UNAUTHORIZED);
	ck_assert_int_eq(cache_verify(k, t, CNOW, &id), ERR_OK); /* still cached */
	cache_counts(k, 1, 2);
	auth_identity_clear(&id);
	free(bad);
	free(t);
	auth_keys_free(k);
}
END_TEST

START_TEST(test_other_keys_start_empty)
{
	struct auth_keys *k = cache_keys(), *other = NULL;
	const char *why = NULL;
	char *t = cache_token((long long)CNOW + 3600, NULL);
	struct auth_identity id;

	ck_assert_int_eq(cache_verify(k, t, CNOW, &id), ERR_OK);
	auth_identity_clear(&id);
	ck_assert_int_eq(auth_keys_load(&other, "some-other-secret-some-other-secret-42", NULL, &why),
			 ERR_OK);
	ck_assert_int_eq(cache_verify(other, t, CNOW, &id), ERR_UNAUTHORIZED);
	cache_counts(other, 0, 1);
	free(t);
	auth_keys_free(other);
	auth_keys_free(k);
}
END_TEST

START_TEST(test_cache_bounds)
{
	struct auth_cache *c = auth_cache_new();
	struct auth_cache_hit hit;
	char big[AUTH_CACHE_TOKEN_MAX + 1];

	ck_assert_ptr_nonnull(c);
	memset(big, 'a', sizeof big);
	/* At the bound it is kept; one byte past, not. */
	auth_cache_put(c, big, AUTH_CACHE_TOKEN_MAX, 2e9, -INFINITY, "{}", "", "anon");
	ck_assert_int_eq(auth_cache_get(c, big, AUTH_CACHE_TOKEN_MAX, CNOW, &hit), ERR_OK);
	ck_assert_str_eq(hit.role, "anon");
	auth_cache_put(c, big, sizeof big, 2e9, -INFINITY, "{}", "", "anon");
	ck_assert_int_eq(auth_cache_get(c, big, sizeof big, CNOW, &hit), ERR_NOT_FOUND);
	/* The same bytes with another length are another token. */
	ck_assert_int_eq(auth_cache_get(c, big, 10, CNOW, &hit), ERR_NOT_FOUND);
	ck_assert_int_eq(auth_cache_get(NULL, big, 10, CNOW, &hit), ERR_NOT_FOUND);
	auth_cache_free(c);
	auth_cache_free(NULL);
}
END_TEST

/* The cache's set of a token, as auth_cache.c hashes it (FNV-1a), to find tokens that share. */
static size_t cache_set_of(const char *t)
{
	uint64_t h = 1469598103934665603ULL;

	for (const char *p = t; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return (size_t)(h % (AUTH_CACHE_SLOTS / 2));
}

START_TEST(test_two_tokens_of_one_set_both_hit)
{
	/* Two busy tokens that hash to one set are both kept (direct-mapped, each pushed the
	 * other out on every request); a third pushes out the one used longer ago. */
	struct auth_cache *c = auth_cache_new();
	struct auth_cache_hit hit;
	char t[3][32];
	int n = 0;

	ck_assert_ptr_nonnull(c);
	snprintf(t[0], sizeof t[0], "tok-0");
	for (int i = 1; n < 2 && i < 10000000; i++) {
		snprintf(t[n + 1], sizeof t[n + 1], "tok-%d", i);
		if (cache_set_of(t[n + 1]) == cache_set_of(t[0]))
			n++;
	}
	ck_assert_int_eq(n, 2);
	for (int i = 0; i < 2; i++)
		auth_cache_put(c, t[i], strlen(t[i]), 2e9, -INFINITY, "{}", "", "authenticated");
	for (int round = 0; round < 3; round++)
		for (int i = 0; i < 2; i++)
			ck_assert_int_eq(auth_cache_get(c, t[i], strlen(t[i]), CNOW, &hit), ERR_OK);
	/* t[1] was used last; t[0] goes when t[2] comes. */
	auth_cache_put(c, t[2], strlen(t[2]), 2e9, -INFINITY, "{}", "", "authenticated");
	ck_assert_int_eq(auth_cache_get(c, t[1], strlen(t[1]), CNOW, &hit), ERR_OK);
	ck_assert_int_eq(auth_cache_get(c, t[2], strlen(t[2]), CNOW, &hit), ERR_OK);
	ck_assert_int_eq(auth_cache_get(c, t[0], strlen(t[0]), CNOW, &hit), ERR_NOT_FOUND);
	auth_cache_free(c);

	/* An expired entry that went leaves its place free: the next token takes that place,
	 * not the live token's. */
	c = auth_cache_new();
	ck_assert_ptr_nonnull(c);
	auth_cache_put(c, t[2], strlen(t[2]), 2e9, -INFINITY, "{}", "", "authenticated");
	auth_cache_put(c, t[1], strlen(t[1]), (double)CNOW - 1000, -INFINITY, "{}", "", "authenticated");
	ck_assert_int_eq(auth_cache_get(c, t[1], strlen(t[1]), CNOW, &hit), ERR_NOT_FOUND);
	auth_cache_put(c, t[0], strlen(t[0]), 2e9, -INFINITY, "{}", "", "authenticated");
	ck_assert_int_eq(auth_cache_get(c, t[2], strlen(t[2]), CNOW, &hit), ERR_OK);
	ck_assert_int_eq(auth_cache_get(c, t[0], strlen(t[0]), CNOW, &hit), ERR_OK);
	auth_cache_free(c);
}
END_TEST

Suite *auth_cache_suite(void); /* run by the unit test driver */

Suite *auth_cache_suite(void)
{
	Suite *s = suite_create("auth_cache");
	TCase *tc = tcase_create("auth_cache");

	tcase_add_test(tc, test_hit_is_what_verifying_gave);
	tcase_add_test(tc, test_expired_since_is_refused);
	tcase_add_test(tc, test_before_nbf_is_refused);
	tcase_add_test(tc, test_one_byte_off_is_verified);
	tcase_add_test(tc, test_other_keys_start_empty);
	tcase_add_test(tc, test_cache_bounds);
	tcase_add_test(tc, test_two_tokens_of_one_set_both_hit);
	suite_add_tcase(s, tc);
	return s;
}
