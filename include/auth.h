/* Bearer token verification for Supabase Auth access tokens: HS256 with the project's JWT
 * secret, ES256/RS256 with keys from a JWKS. Role policy (which role may call which route)
 * is the caller's job; this module only says who the token is and that it is genuine. */
#ifndef VS_AUTH_H
#define VS_AUTH_H

#include <time.h>

#include "err.h"

#define AUTH_TOKEN_MAX 8192 /* longest token accepted, in bytes */
#define AUTH_LEEWAY 30      /* seconds of clock skew allowed on exp and nbf */

struct auth_keys; /* opaque */

/* hs256_secret may be NULL/empty; jwks is NULL/empty, or a file path, or JSON text
 * ({"keys":[...]}, starting with '{'). At least one key must result, else ERR_INTERNAL
 * with *why set. */
err_t auth_keys_load(struct auth_keys **out, const char *hs256_secret, const char *jwks,
		     const char **why) WUR;
void auth_keys_free(struct auth_keys *k);

struct config;
/* The keys of a configuration: SUPABASE_JWT_SECRET and SUPABASE_JWKS as auth_keys_load
 * takes them, plus, with SUPABASE_URL, the set the instance's fetcher shares
 * (include/keyshare.h), which adds to them. With SUPABASE_URL no static key is needed:
 * until the first set arrives auth_verify answers ERR_UNAVAILABLE and auth_keys_ready 0. */
err_t auth_keys_load_config(struct auth_keys **out, const struct config *cfg,
			    const char **why) WUR;
/* 1 when at least one key is there to verify with; 0 and *why (static text) otherwise. */
int auth_keys_ready(const struct auth_keys *k, const char **why);

struct auth_identity {
	char sub[37];      /* lower-case UUID text, "" when the token has none */
	char role[64];     /* the token's "role" claim */
	char *claims_json; /* malloc'd JSON text of the whole payload (for Postgres request.jwt.claims) */
};

/* authorization: the raw HTTP Authorization header value (may be NULL). now: current unix time.
 * ERR_OK: signature verified and claims valid; *id filled (caller calls auth_identity_clear).
 * ERR_UNAUTHORIZED: anything wrong; *why gets a short static reason for the log (never token
 * text). ERR_UNAVAILABLE: a Bearer token, but no key at all yet (SUPABASE_URL not fetched). *id is always initialised, so auth_identity_clear is safe after either result. */
err_t auth_verify(const struct auth_keys *k, const char *authorization, time_t now,
		  struct auth_identity *id, const char **why) WUR;
void auth_identity_clear(struct auth_identity *id);
/* How often auth_verify found a token in its cache of verified tokens (auth_cache.h). */
void auth_keys_cache_counts(const struct auth_keys *k, unsigned long *hits, unsigned long *misses);

/* The token of an Authorization header value: "Bearer" (any case: RFC 9110 11.1), exactly
 * one space (RFC 9110 11.4 allows 1*SP; one is what clients send), a token68 (RFC 9110 11.2)
 * and nothing else: no tab, no second space, no whitespace around it. The rate limit's bucket
 * (src/routes.c, src/ratelimit.c) comes from the same verdict, so no request the worker takes
 * for a user's is counted as anonymous, nor the other way round.
 * ERR_OK: *tok points into h, *tok_len bytes (at most AUTH_TOKEN_MAX).
 * ERR_UNAUTHORIZED: *why says what is wrong (never token text). */
err_t auth_bearer_parse(const char *h, const char **tok, size_t *tok_len, const char **why) WUR;

#endif
