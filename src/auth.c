/* Token verification (see auth.h).
 *
 * Debian 12's libjwt 1.10.2 takes the algorithm from the token header (matching its name
 * case-insensitively), skips the signature check entirely when given no key (any alg, not
 * only "none"), checks no claim, ignores "crit", decodes ES/RS signatures leniently, and
 * uses whatever key bytes it is handed for whatever algorithm the token names (so an RSA
 * public key's PEM can become an HMAC secret). So this file checks the token's form and
 * reads its header itself, picks the key from the header's alg and kid out of the
 * configured ones only, always hands libjwt a non-empty key, checks that libjwt verified
 * with the algorithm that key is for, and checks every claim itself. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* strncasecmp */
#endif
#include "auth.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <jwt.h>
#include <openssl/crypto.h>

#include "auth_cache.h"
#include "config.h"
#include "jwks.h"
#include "keyshare.h"
#include "shm.h"
#include "valid.h"

#define AUTH_SECRET_MAX 4096

struct auth_keys {
	unsigned char *hs_secret; /* NULL when HS256 is not configured */
	size_t hs_len;
	struct jwks_set jwks;
	struct auth_cache *cache; /* tokens verified with these keys; NULL: none kept */
	struct keyshare_reader *shared; /* the fetched set (SUPABASE_URL), or NULL */
};

void auth_keys_free(struct auth_keys *k)
{
	if (!k)
		return;
	if (k->hs_secret) {
		OPENSSL_cleanse(k->hs_secret, k->hs_len); /* don't leave the secret in freed memory */
		free(k->hs_secret);
	}
	jwks_set_free(&k->jwks);
	auth_cache_free(k->cache);
	keyshare_reader_free(k->shared);
	free(k->shared);
	free(k);
}

/* allow_none: no static key is fine (the fetched set will bring them). */
static err_t auth_keys_make(struct auth_keys **out, const char *hs256_secret, const char *jwks,
			    int allow_none, const char **why)
{
	struct auth_keys *k = NULL;
	size_t len = hs256_secret ? strlen(hs256_secret) : 0;
	err_t rc = ERR_INTERNAL;

	*out = NULL;
	if (len > AUTH_SECRET_MAX) {
		*why = "JWT secret too long";
		goto out;
	}
	k = calloc(1, sizeof *k);
	if (!k || (len && !(k->hs_secret = malloc(len)))) {
		*why = "out of memory";
		goto out;
	}
	if (len)
		memcpy(k->hs_secret, hs256_secret, len);
	k->hs_len = len;
	if (jwks_load(&k->jwks, jwks, why) != ERR_OK)
		goto out; /* *why set by jwks_load */
	if (!allow_none && !k->hs_len && !k->jwks.count) {
		*why = "no token key configured (no JWT secret, no usable ES256/RS256 JWKS key)";
		goto out;
	}
	k->cache = auth_cache_new(); /* none (out of memory) only means every token is checked */
	*out = k;
	k = NULL;
	rc = ERR_OK;
out:
	auth_keys_free(k);
	return rc;
}

err_t auth_keys_load(struct auth_keys **out, const char *hs256_secret, const char *jwks,
		     const char **why)
{
	return auth_keys_make(out, hs256_secret, jwks, 0, why);
}

err_t auth_keys_load_config(struct auth_keys **out, const struct config *cfg, const char **why)
{
	struct shm_region *shm = shm_get();
	err_t rc;

	if (cfg->supabase_url == NULL)
		return auth_keys_make(out, cfg->jwt_secret, cfg->jwks, 0, why);
	rc = auth_keys_make(out, cfg->jwt_secret, cfg->jwks, 1, why);
	if (rc != ERR_OK)
		return rc;
	(*out)->shared = malloc(sizeof(*(*out)->shared));
	if ((*out)->shared == NULL) {
		auth_keys_free(*out);
		*out = NULL;
		*why = "out of memory";
		return ERR_INTERNAL;
	}
	/* Without the master's shared memory (a worker started by hand) nothing is fetched:
	 * the static keys are all there is, and /health/ready says so when there are none. */
	keyshare_reader_init((*out)->shared, shm ? &shm->keys : NULL);
	keyshare_reader_sync((*out)->shared);
	return ERR_OK;
}

/* The fetched set at its latest generation (one atomic load when unchanged); tokens
 * verified with an older set are forgotten, so a removed key's tokens are checked again. */
static void auth_keys_refresh(const struct auth_keys *k)
{
	if (k->shared && keyshare_reader_sync(k->shared))
		auth_cache_clear(k->cache);
}

static int auth_keys_any(const struct auth_keys *k)
{
	return k->hs_len || k->jwks.count || (k->shared && k->shared->set.count);
}

int auth_keys_ready(const struct auth_keys *k, const char **why)
{
	const struct keyshare_area *a;

	if (!k) {
		*why = "no token keys loaded";
		return 0;
	}
	auth_keys_refresh(k);
	if (auth_keys_any(k))
		return 1;
	a = k->shared ? k->shared->area : NULL;
	*why = a ? keyshare_status_text(__atomic_load_n(&a->status, __ATOMIC_ACQUIRE))
		 : "no key fetcher (not started by the master)";
	return 0;
}

void auth_identity_clear(struct auth_identity *id)
{
	if (!id)
		return;
	free(id->claims_json);
	memset(id, 0, sizeof *id);
}

/* RFC 9110 11.2 token68: ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/", then "="s. */
static int auth_is_token68(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

/* The one rule for an Authorization header, for access and the rate-limit bucket alike: the
 * scheme "Bearer" in any case, exactly one space, a token68, nothing around them (nginx has
 * already dropped the optional whitespace around the field value). */
err_t auth_bearer_parse(const char *h, const char **tok, size_t *tok_len, const char **why)
{
	size_t n = 0, eq = 0;

	if (!h) {
		*why = "no Authorization header";
		return ERR_UNAUTHORIZED;
	}
	if (strncasecmp(h, "Bearer", 6) != 0 || h[6] != ' ') {
		*why = "Authorization is not \"Bearer\", one space and the token";
		return ERR_UNAUTHORIZED;
	}
	h += 7;
	while (h[n] && auth_is_token68((unsigned char)h[n]))
		n++;
	while (h[n + eq] == '=')
		eq++;
	if (n == 0 || h[n + eq] != '\0') {
		*why = "malformed Bearer credentials";
		return ERR_UNAUTHORIZED;
	}
	if (n + eq > AUTH_TOKEN_MAX) {
		*why = "token too long";
		return ERR_UNAUTHORIZED;
	}
	*tok = h;
	*tok_len = n + eq;
	return ERR_OK;
}

struct auth_parts {
	const char *seg[3];
	size_t len[3];
};

/* Splits into exactly three canonical base64url segments. An empty signature (alg none)
 * is refused here already. */
static err_t auth_split_token(const char *t, size_t len, struct auth_parts *tp, const char **why)
{
	size_t i, s = 0, start = 0;
	err_t rc = ERR_UNAUTHORIZED;

	for (i = 0; i <= len; i++) {
		if (i < len && t[i] != '.')
			continue;
		if (s == 3 || i == start || !jwks_b64url_valid(t + start, i - start))
			goto out;
		tp->seg[s] = t + start;
		tp->len[s++] = i - start;
		start = i + 1;
	}
	if (s == 3)
		rc = ERR_OK;
out:
	if (rc != ERR_OK)
		*why = "token is not three base64url segments";
	return rc;
}

/* What the token header asks for. alg and kid point into hdr, which the caller puts. */
struct auth_header {
	struct json_object *hdr;
	const char *alg;
	const char *kid;
};

static err_t auth_parse_header(const struct auth_parts *tp, struct auth_header *th,
			       const char **why)
{
	unsigned char *raw = NULL;
	size_t raw_len = 0;
	struct json_object *v;
	err_t rc = ERR_UNAUTHORIZED;

	memset(th, 0, sizeof *th);
	if (jwks_b64url_decode(tp->seg[0], tp->len[0], &raw, &raw_len) != ERR_OK) {
		*why = "token header is not base64url";
		goto out;
	}
	if (jwks_json_parse((const char *)raw, raw_len, &th->hdr) != ERR_OK ||
	    !json_object_is_type(th->hdr, json_type_object)) {
		*why = "token header is not a JSON object";
		goto out;
	}
	if (!json_object_object_get_ex(th->hdr, "alg", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		*why = "token header has no alg";
		goto out;
	}
	th->alg = json_object_get_string(v);
	if (json_object_object_get_ex(th->hdr, "kid", &v)) {
		if (!json_object_is_type(v, json_type_string)) {
			*why = "token header kid is not a string";
			goto out;
		}
		th->kid = json_object_get_string(v);
	}
	/* RFC 7515 4.1.11: extensions we do not understand must make the token invalid. */
	if (json_object_object_get_ex(th->hdr, "crit", &v)) {
		*why = "token header has crit";
		goto out;
	}
	rc = ERR_OK;
out:
	free(raw);
	return rc;
}

/* The key for the header's alg/kid. Only exact, case-sensitive names are accepted (libjwt
 * matches them case-insensitively; "hs256" is not a JWS algorithm). */
struct auth_key {
	const unsigned char *key;
	size_t key_len;
	jwt_alg_t alg;
	size_t sig_len;
};

static size_t auth_count_alg(const struct jwks_set *set, enum jwks_alg alg)
{
	size_t n = 0;

	for (size_t i = 0; set && i < set->count; i++)
		n += set->keys[i].alg == alg;
	return n;
}

/* The configured key first, then the fetched one; without a kid only the one key of alg
 * over both sets will do. */
static const struct jwks_key *auth_find_jwk(const struct auth_keys *k, enum jwks_alg ja,
					    const char *kid)
{
	const struct jwks_set *fetched = k->shared ? &k->shared->set : NULL;
	const struct jwks_key *jk;

	if (!kid && auth_count_alg(&k->jwks, ja) + auth_count_alg(fetched, ja) != 1)
		return NULL;
	jk = jwks_find(&k->jwks, ja, kid);
	return jk ? jk : jwks_find(fetched, ja, kid);
}

static err_t auth_choose_key(const struct auth_keys *k, const struct auth_header *th,
			     struct auth_key *ck, const char **why)
{
	const struct jwks_key *jk;
	enum jwks_alg ja;

	if (strcmp(th->alg, "HS256") == 0) {
		if (!k->hs_len) {
			*why = "HS256 tokens not accepted (no JWT secret configured)";
			return ERR_UNAUTHORIZED;
		}
		*ck = (struct auth_key){k->hs_secret, k->hs_len, JWT_ALG_HS256, 32};
		return ERR_OK;
	}
	if (strcmp(th->alg, "ES256") == 0) {
		ja = JWKS_ES256;
		ck->alg = JWT_ALG_ES256;
	} else if (strcmp(th->alg, "RS256") == 0) {
		ja = JWKS_RS256;
		ck->alg = JWT_ALG_RS256;
	} else {
		*why = "token algorithm not accepted";
		return ERR_UNAUTHORIZED;
	}
	jk = auth_find_jwk(k, ja, th->kid);
	/* A kid we do not know may be a key Supabase has just added: ask the fetcher (at most
	 * one refetch per 30 s per instance, a wait of at most a second), then look again. */
	if (!jk && th->kid && k->shared && keyshare_reader_miss(k->shared)) {
		auth_keys_refresh(k);
		jk = auth_find_jwk(k, ja, th->kid);
	}
	if (!jk) {
		*why = th->kid ? "no key for the token's alg and kid" : "no unique key for the token's alg";
		return ERR_UNAUTHORIZED;
	}
	ck->key = (const unsigned char *)jk->pem;
	ck->key_len = jk->pem_len;
	ck->sig_len = jk->sig_len;
	return ERR_OK;
}

/* libjwt's jwt_decode, with the guards the top of this file explains: the header picks one
 * of our keys, the signature has that key's size, and libjwt used that key's algorithm. */
static err_t auth_decode(const struct auth_keys *k, const char *tok, size_t tok_len, jwt_t **jwt,
			 const char **why)
{
	char buf[AUTH_TOKEN_MAX + 1];
	struct auth_parts tp;
	struct auth_header th = {0};
	struct auth_key ck = {0};
	err_t rc = ERR_UNAUTHORIZED;

	*jwt = NULL;
	if (auth_split_token(tok, tok_len, &tp, why) != ERR_OK ||
	    auth_parse_header(&tp, &th, why) != ERR_OK || auth_choose_key(k, &th, &ck, why) != ERR_OK)
		goto out;
	/* A signature of the wrong size is refused before libjwt sees it (its base64 decoder
	 * is lenient). Canonical unpadded base64url of n bytes is n*4/3 rounded up. */
	if (tp.len[2] != (ck.sig_len * 4 + 2) / 3) {
		*why = "token signature has the wrong size";
		goto out;
	}
	if (ck.key_len == 0 || ck.key_len > INT_MAX) {
		*why = "unusable key"; /* never hand libjwt an empty key: it would skip verifying */
		goto out;
	}
	memcpy(buf, tok, tok_len); /* libjwt wants a C string; tok is part of the header */
	buf[tok_len] = '\0';
	if (jwt_decode(jwt, buf, ck.key, (int)ck.key_len) != 0 || !*jwt) {
		*why = "token signature invalid";
		goto out;
	}
	/* libjwt verified with the header's alg; it must be the one the chosen key is for. */
	if (jwt_get_alg(*jwt) != ck.alg) {
		*why = "token algorithm does not match its key";
		goto out;
	}
	rc = ERR_OK;
out:
	if (rc != ERR_OK) {
		jwt_free(*jwt);
		*jwt = NULL;
	}
	OPENSSL_cleanse(buf, sizeof buf); /* the token is a bearer credential */
	json_object_put(th.hdr);
	return rc;
}

/* A numeric claim as a double. *present says whether the claim is there; ERR_UNAUTHORIZED
 * when it is but is not a finite number. */
static err_t auth_num_claim(struct json_object *claims, const char *name, int *present,
			    double *out)
{
	struct json_object *v;

	*present = json_object_object_get_ex(claims, name, &v);
	if (!*present)
		return ERR_OK;
	if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
		return ERR_UNAUTHORIZED;
	*out = json_object_get_double(v);
	return isfinite(*out) ? ERR_OK : ERR_UNAUTHORIZED;
}

/* exp is required, nbf optional; both allow AUTH_LEEWAY seconds of clock skew. */
static err_t auth_check_times(struct json_object *claims, time_t now, const char **why)
{
	double t = 0;
	int present;

	if (auth_num_claim(claims, "exp", &present, &t) != ERR_OK || !present) {
		*why = present ? "token exp is not a number" : "token has no exp";
		return ERR_UNAUTHORIZED;
	}
	if ((double)now > t + AUTH_LEEWAY) {
		*why = "token expired";
		return ERR_UNAUTHORIZED;
	}
	if (auth_num_claim(claims, "nbf", &present, &t) != ERR_OK) {
		*why = "token nbf is not a number";
		return ERR_UNAUTHORIZED;
	}
	if (present && (double)now < t - AUTH_LEEWAY) {
		*why = "token not yet valid (nbf)";
		return ERR_UNAUTHORIZED;
	}
	return ERR_OK;
}

static int auth_aud_has(struct json_object *claims, const char *want)
{
	struct json_object *aud;
	size_t i, n;

	if (!json_object_object_get_ex(claims, "aud", &aud))
		return 0;
	if (json_object_is_type(aud, json_type_string))
		return strcmp(json_object_get_string(aud), want) == 0;
	if (!json_object_is_type(aud, json_type_array))
		return 0;
	n = json_object_array_length(aud);
	for (i = 0; i < n; i++) {
		struct json_object *a = json_object_array_get_idx(aud, i);
		if (json_object_is_type(a, json_type_string) &&
		    strcmp(json_object_get_string(a), want) == 0)
			return 1;
	}
	return 0;
}

/* role becomes a Postgres role name downstream: keep it to plain identifier characters. */
static int auth_role_ok(const char *r, size_t len)
{
	size_t i;

	if (len == 0 || len >= sizeof ((struct auth_identity *)0)->role)
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)r[i]) && r[i] != '_')
			return 0;
	return 1;
}

/* Fills id->role and id->sub from claims that passed the time checks. */
static err_t auth_check_identity(struct json_object *claims, struct auth_identity *id,
				 const char **why)
{
	struct json_object *v;
	const char *role, *sub = NULL;
	int uuid;
	size_t i;

	if (!json_object_object_get_ex(claims, "role", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    !auth_role_ok(json_object_get_string(v), (size_t)json_object_get_string_len(v))) {
		*why = "token has no valid role";
		return ERR_UNAUTHORIZED;
	}
	role = json_object_get_string(v);
	if (json_object_object_get_ex(claims, "sub", &v) && json_object_is_type(v, json_type_string))
		sub = json_object_get_string(v);
	uuid = valid_is_uuid(sub);
	/* A signed-in user must be that user, for this audience. */
	if (strcmp(role, "authenticated") == 0) {
		if (!auth_aud_has(claims, "authenticated")) {
			*why = "token aud is not authenticated";
			return ERR_UNAUTHORIZED;
		}
		if (!uuid) {
			*why = "token sub is not a UUID";
			return ERR_UNAUTHORIZED;
		}
	}
	/* Other roles (service_role, anon) carry no user; a UUID sub is still passed on. */
	if (uuid) {
		for (i = 0; i < 36; i++)
			id->sub[i] = (char)tolower((unsigned char)sub[i]);
		id->sub[36] = '\0';
	}
	memcpy(id->role, role, strlen(role) + 1); /* length checked by auth_role_ok */
	return ERR_OK;
}

/* Checks the payload text libjwt verified; *claims is the parsed payload for the caller to put. */
static err_t auth_check_claims(const char *grants, time_t now, struct json_object **claims,
			       struct auth_identity *id, const char **why)
{
	if (jwks_json_parse(grants, strlen(grants), claims) != ERR_OK) {
		*why = "token payload is not JSON";
		return ERR_UNAUTHORIZED;
	}
	if (!json_object_is_type(*claims, json_type_object)) {
		*why = "token payload is not a JSON object";
		return ERR_UNAUTHORIZED;
	}
	if (auth_check_times(*claims, now, why) != ERR_OK)
		return ERR_UNAUTHORIZED;
	return auth_check_identity(*claims, id, why);
}

/* A token verified before with these keys: *id from the cache. */
static err_t auth_from_cache(const struct auth_keys *k, const char *tok, size_t tok_len,
			     time_t now, struct auth_identity *id)
{
	struct auth_cache_hit hit;

	if (auth_cache_get(k->cache, tok, tok_len, now, &hit) != ERR_OK ||
	    (id->claims_json = strdup(hit.claims_json)) == NULL)
		return ERR_NOT_FOUND;
	memcpy(id->sub, hit.sub, strlen(hit.sub) + 1);     /* lengths checked when kept */
	memcpy(id->role, hit.role, strlen(hit.role) + 1);
	return ERR_OK;
}

/* Keeps a token that just verified, with the times a cache hit must check again. */
static void auth_to_cache(const struct auth_keys *k, const char *tok, size_t tok_len,
			  struct json_object *claims, const struct auth_identity *id)
{
	double exp = 0, nbf = -INFINITY;
	int present;

	if (auth_num_claim(claims, "exp", &present, &exp) != ERR_OK || !present ||
	    auth_num_claim(claims, "nbf", &present, &nbf) != ERR_OK)
		return;
	if (!present)
		nbf = -INFINITY;
	auth_cache_put(k->cache, tok, tok_len, exp, nbf, id->claims_json, id->sub, id->role);
}

err_t auth_verify(const struct auth_keys *k, const char *authorization, time_t now,
		  struct auth_identity *id, const char **why)
{
	const char *tok = NULL;
	size_t tok_len = 0;
	struct json_object *claims = NULL;
	jwt_t *jwt = NULL;
	char *grants = NULL;
	err_t rc = ERR_UNAUTHORIZED;

	memset(id, 0, sizeof *id);
	*why = "unauthorized";
	if (!k) {
		*why = "no token keys loaded";
		goto out;
	}
	if (auth_bearer_parse(authorization, &tok, &tok_len, why) != ERR_OK)
		goto out;
	auth_keys_refresh(k);
	if (!auth_keys_any(k)) {
		/* Not the token's fault: the keys have not been fetched yet. */
		*why = "no token keys yet (the key set has not been fetched)";
		rc = ERR_UNAVAILABLE;
		goto out;
	}
	if (auth_from_cache(k, tok, tok_len, now, id) == ERR_OK) {
		*why = "ok";
		return ERR_OK;
	}
	if (auth_decode(k, tok, tok_len, &jwt, why) != ERR_OK)
		goto out;
	/* Checking the text that goes to Postgres keeps what we check and what RLS sees the same. */
	grants = jwt_get_grants_json(jwt, NULL);
	if (!grants) {
		*why = "token payload unreadable";
		goto out;
	}
	if (auth_check_claims(grants, now, &claims, id, why) != ERR_OK)
		goto out;
	id->claims_json = grants;
	grants = NULL;
	auth_to_cache(k, tok, tok_len, claims, id);
	*why = "ok";
	rc = ERR_OK;
out:
	if (rc != ERR_OK)
		memset(id, 0, sizeof *id);
	free(grants);
	json_object_put(claims);
	jwt_free(jwt);
	return rc;
}

void auth_keys_cache_counts(const struct auth_keys *k, unsigned long *hits, unsigned long *misses)
{
	auth_cache_stats(k ? k->cache : NULL, hits, misses);
}
