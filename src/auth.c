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
#define _POSIX_C_SOURCE 200809L /* strdup, strncasecmp */
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

#include "jwks.h"

#define AUTH_SECRET_MAX 4096

struct auth_keys {
	unsigned char *hs_secret; /* NULL when HS256 is not configured */
	size_t hs_len;
	struct jwks_set jwks;
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
	free(k);
}

err_t auth_keys_load(struct auth_keys **out, const char *hs256_secret, const char *jwks,
		     const char **why)
{
	struct auth_keys *k;
	size_t len = hs256_secret ? strlen(hs256_secret) : 0;

	*out = NULL;
	if (len > AUTH_SECRET_MAX) {
		*why = "JWT secret too long";
		return ERR_INTERNAL;
	}
	k = calloc(1, sizeof *k);
	if (!k) {
		*why = "out of memory";
		return ERR_INTERNAL;
	}
	if (len) {
		k->hs_secret = malloc(len);
		if (!k->hs_secret) {
			auth_keys_free(k);
			*why = "out of memory";
			return ERR_INTERNAL;
		}
		memcpy(k->hs_secret, hs256_secret, len);
		k->hs_len = len;
	}
	if (jwks_load(&k->jwks, jwks, why) != ERR_OK) {
		auth_keys_free(k); /* *why already set by jwks_load */
		return ERR_INTERNAL;
	}
	if (!k->hs_len && !k->jwks.count) {
		auth_keys_free(k);
		*why = "no token key configured (no JWT secret, no usable ES256/RS256 JWKS key)";
		return ERR_INTERNAL;
	}
	*out = k;
	return ERR_OK;
}

int auth_is_uuid(const char *s)
{
	size_t i;

	if (!s)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i])) {
			return 0; /* also stops at the terminator of a short string */
		}
	}
	return s[36] == '\0';
}

void auth_identity_clear(struct auth_identity *id)
{
	if (!id)
		return;
	free(id->claims_json);
	memset(id, 0, sizeof *id);
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Finds the token in "Bearer <token>" (scheme case-insensitive, RFC 7235). */
static int bearer_token(const char *h, const char **tok, size_t *tok_len, const char **why)
{
	const char *p, *end;

	if (!h) {
		*why = "no Authorization header";
		return 0;
	}
	while (is_blank(*h))
		h++;
	if (strncasecmp(h, "Bearer", 6) != 0 || !is_blank(h[6])) {
		*why = "Authorization scheme is not Bearer";
		return 0;
	}
	p = h + 6;
	while (is_blank(*p))
		p++;
	end = p;
	while (*end && !is_blank(*end))
		end++;
	*tok = p;
	*tok_len = (size_t)(end - p);
	while (is_blank(*end))
		end++;
	if (*end != '\0' || *tok_len == 0) {
		*why = "malformed Bearer credentials";
		return 0;
	}
	if (*tok_len > AUTH_TOKEN_MAX) {
		*why = "token too long";
		return 0;
	}
	return 1;
}

struct token_parts {
	const char *seg[3];
	size_t len[3];
};

/* Splits into exactly three canonical base64url segments. An empty signature (alg none)
 * is refused here already. */
static int split_token(const char *t, size_t len, struct token_parts *tp)
{
	size_t i, s = 0, start = 0;

	for (i = 0; i <= len; i++) {
		if (i < len && t[i] != '.')
			continue;
		if (s == 3)
			return 0;
		tp->seg[s] = t + start;
		tp->len[s] = i - start;
		if (tp->len[s] == 0 || !jwks_b64url_valid(tp->seg[s], tp->len[s]))
			return 0;
		s++;
		start = i + 1;
	}
	return s == 3;
}

/* What the token header asks for. kid points into hdr, which the caller frees. */
struct token_header {
	struct json_object *hdr;
	const char *alg;
	const char *kid;
};

static int parse_header(const struct token_parts *tp, struct token_header *th, const char **why)
{
	unsigned char *raw = NULL;
	size_t raw_len = 0;
	struct json_object *v;

	memset(th, 0, sizeof *th);
	if (jwks_b64url_decode(tp->seg[0], tp->len[0], &raw, &raw_len) != ERR_OK) {
		*why = "token header is not base64url";
		return 0;
	}
	th->hdr = jwks_json_parse((const char *)raw, raw_len);
	free(raw);
	if (!th->hdr || !json_object_is_type(th->hdr, json_type_object)) {
		*why = "token header is not a JSON object";
		return 0;
	}
	if (!json_object_object_get_ex(th->hdr, "alg", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		*why = "token header has no alg";
		return 0;
	}
	th->alg = json_object_get_string(v);
	if (json_object_object_get_ex(th->hdr, "kid", &v)) {
		if (!json_object_is_type(v, json_type_string)) {
			*why = "token header kid is not a string";
			return 0;
		}
		th->kid = json_object_get_string(v);
	}
	/* RFC 7515 4.1.11: extensions we do not understand must make the token invalid. */
	if (json_object_object_get_ex(th->hdr, "crit", &v)) {
		*why = "token header has crit";
		return 0;
	}
	return 1;
}

/* The key for the header's alg/kid. Only exact, case-sensitive names are accepted (libjwt
 * matches them case-insensitively; "hs256" is not a JWS algorithm). */
struct chosen_key {
	const unsigned char *key;
	size_t key_len;
	jwt_alg_t alg;
	size_t sig_len;
};

static int choose_key(const struct auth_keys *k, const struct token_header *th,
		      struct chosen_key *ck, const char **why)
{
	const struct jwks_key *jk;
	enum jwks_alg ja;

	if (strcmp(th->alg, "HS256") == 0) {
		if (!k->hs_len) {
			*why = "HS256 tokens not accepted (no JWT secret configured)";
			return 0;
		}
		ck->key = k->hs_secret;
		ck->key_len = k->hs_len;
		ck->alg = JWT_ALG_HS256;
		ck->sig_len = 32;
		return 1;
	}
	if (strcmp(th->alg, "ES256") == 0) {
		ja = JWKS_ES256;
		ck->alg = JWT_ALG_ES256;
	} else if (strcmp(th->alg, "RS256") == 0) {
		ja = JWKS_RS256;
		ck->alg = JWT_ALG_RS256;
	} else {
		*why = "token algorithm not accepted";
		return 0;
	}
	jk = jwks_find(&k->jwks, ja, th->kid);
	if (!jk) {
		*why = th->kid ? "no key for the token's alg and kid" : "no unique key for the token's alg";
		return 0;
	}
	ck->key = (const unsigned char *)jk->pem;
	ck->key_len = jk->pem_len;
	ck->sig_len = jk->sig_len;
	return 1;
}

/* A numeric claim as a double; 0 when absent, -1 when present but not a finite number. */
static int num_claim(struct json_object *claims, const char *name, double *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(claims, name, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
		return -1;
	*out = json_object_get_double(v);
	return isfinite(*out) ? 1 : -1;
}

static int aud_has(struct json_object *claims, const char *want)
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
static int role_ok(const char *r, size_t len)
{
	size_t i;

	if (len == 0 || len >= sizeof ((struct auth_identity *)0)->role)
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)r[i]) && r[i] != '_')
			return 0;
	return 1;
}

static int check_claims(struct json_object *claims, time_t now, struct auth_identity *id,
			const char **why)
{
	struct json_object *v;
	const char *role, *sub = NULL;
	double t;
	int r, authenticated;
	size_t i;

	if (!json_object_is_type(claims, json_type_object)) {
		*why = "token payload is not a JSON object";
		return 0;
	}
	r = num_claim(claims, "exp", &t);
	if (r <= 0) {
		*why = r ? "token exp is not a number" : "token has no exp";
		return 0;
	}
	if ((double)now > t + AUTH_LEEWAY) {
		*why = "token expired";
		return 0;
	}
	r = num_claim(claims, "nbf", &t);
	if (r < 0) {
		*why = "token nbf is not a number";
		return 0;
	}
	if (r > 0 && (double)now < t - AUTH_LEEWAY) {
		*why = "token not yet valid (nbf)";
		return 0;
	}
	if (!json_object_object_get_ex(claims, "role", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    !role_ok(json_object_get_string(v), (size_t)json_object_get_string_len(v))) {
		*why = "token has no valid role";
		return 0;
	}
	role = json_object_get_string(v);
	if (json_object_object_get_ex(claims, "sub", &v) && json_object_is_type(v, json_type_string))
		sub = json_object_get_string(v);

	authenticated = strcmp(role, "authenticated") == 0;
	if (authenticated) {
		if (!aud_has(claims, "authenticated")) {
			*why = "token aud is not authenticated";
			return 0;
		}
		if (!auth_is_uuid(sub)) {
			*why = "token sub is not a UUID";
			return 0;
		}
	}
	/* Other roles (service_role, anon) carry no user; a UUID sub is still passed on. */
	if (auth_is_uuid(sub)) {
		for (i = 0; i < 36; i++)
			id->sub[i] = (char)tolower((unsigned char)sub[i]);
		id->sub[36] = '\0';
	}
	memcpy(id->role, role, strlen(role) + 1); /* length checked by role_ok */
	return 1;
}

err_t auth_verify(const struct auth_keys *k, const char *authorization, time_t now,
		  struct auth_identity *id, const char **why)
{
	char buf[AUTH_TOKEN_MAX + 1];
	const char *tok = NULL;
	size_t tok_len = 0;
	struct token_parts tp;
	struct token_header th = {0};
	struct chosen_key ck = {0};
	struct json_object *claims = NULL;
	jwt_t *jwt = NULL;
	char *grants = NULL;
	err_t e = ERR_UNAUTHORIZED;

	memset(id, 0, sizeof *id);
	*why = "unauthorized";
	if (!k) {
		*why = "no token keys loaded";
		return ERR_UNAUTHORIZED;
	}
	if (!bearer_token(authorization, &tok, &tok_len, why))
		return ERR_UNAUTHORIZED;
	if (!split_token(tok, tok_len, &tp)) {
		*why = "token is not three base64url segments";
		return ERR_UNAUTHORIZED;
	}
	if (!parse_header(&tp, &th, why) || !choose_key(k, &th, &ck, why))
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
	memcpy(buf, tok, tok_len);
	buf[tok_len] = '\0';
	if (jwt_decode(&jwt, buf, ck.key, (int)ck.key_len) != 0 || !jwt) {
		*why = "token signature invalid";
		goto out;
	}
	/* libjwt verified with the header's alg; it must be the one the chosen key is for. */
	if (jwt_get_alg(jwt) != ck.alg) {
		*why = "token algorithm does not match its key";
		goto out;
	}
	/* Checking the text that goes to Postgres keeps what we check and what RLS sees the same. */
	grants = jwt_get_grants_json(jwt, NULL);
	if (!grants) {
		*why = "token payload unreadable";
		goto out;
	}
	claims = jwks_json_parse(grants, strlen(grants));
	if (!claims) {
		*why = "token payload is not JSON";
		goto out;
	}
	if (!check_claims(claims, now, id, why))
		goto out;
	id->claims_json = grants;
	grants = NULL;
	*why = "ok";
	e = ERR_OK;
out:
	if (e != ERR_OK)
		memset(id, 0, sizeof *id);
	OPENSSL_cleanse(buf, sizeof buf); /* the token is a bearer credential */
	free(grants);
	json_object_put(claims);
	json_object_put(th.hdr);
	jwt_free(jwt);
	return e;
}
