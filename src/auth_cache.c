/* The verified-token cache (see auth_cache.h). Two-way set associative by an FNV-1a hash of
 * the token: a lookup is one hash and at most two comparisons; an insert goes first in its
 * set and pushes out the set's older entry. (Direct-mapped, two busy tokens sharing a slot
 * missed on every request: with 400 users a sixth of them did.) The comparison is
 * CRYPTO_memcmp, constant time, because the cache holds bearer credentials. */
#include "auth_cache.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth.h"

struct auth_cache_entry {
	char *token; /* NULL: empty slot */
	size_t len;
	double exp, nbf; /* nbf: -INFINITY when the token has none */
	char *claims_json;
	char sub[37];
	char role[64];
};

struct auth_cache {
	struct auth_cache_entry slot[AUTH_CACHE_SLOTS];
	unsigned long hits, misses;
};

struct auth_cache *auth_cache_new(void)
{
	return calloc(1, sizeof(struct auth_cache));
}

static void auth_cache_drop(struct auth_cache_entry *e)
{
	if (e->token) {
		OPENSSL_cleanse(e->token, e->len);
		free(e->token);
	}
	free(e->claims_json);
	memset(e, 0, sizeof(*e));
}

void auth_cache_clear(struct auth_cache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < AUTH_CACHE_SLOTS; i++)
		auth_cache_drop(&c->slot[i]);
}

void auth_cache_free(struct auth_cache *c)
{
	auth_cache_clear(c);
	free(c);
}

/* The token's set: two entries, the one used last first. */
static struct auth_cache_entry *auth_cache_set(struct auth_cache *c, const char *tok, size_t len)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)tok[i]) * 1099511628211ULL;
	return &c->slot[(h % (AUTH_CACHE_SLOTS / 2)) * 2];
}

static int auth_cache_is(const struct auth_cache_entry *e, const char *tok, size_t len)
{
	return e->token != NULL && e->len == len && CRYPTO_memcmp(e->token, tok, len) == 0;
}

err_t auth_cache_get(struct auth_cache *c, const char *tok, size_t len, time_t now,
		     struct auth_cache_hit *hit)
{
	struct auth_cache_entry *set, *e;

	if (c == NULL)
		return ERR_NOT_FOUND;
	set = auth_cache_set(c, tok, len);
	if (auth_cache_is(&set[1], tok, len)) {
		struct auth_cache_entry t = set[0]; /* now the one used last */

		set[0] = set[1];
		set[1] = t;
	}
	e = &set[0];
	if (!auth_cache_is(e, tok, len)) {
		c->misses++;
		return ERR_NOT_FOUND;
	}
	if ((double)now > e->exp + AUTH_LEEWAY || (double)now < e->nbf - AUTH_LEEWAY) {
		/* Expired since (or the clock went back before nbf): verified afresh, it is
		 * refused as it should be. */
		auth_cache_drop(e);
		c->misses++;
		return ERR_NOT_FOUND;
	}
	hit->claims_json = e->claims_json;
	hit->sub = e->sub;
	hit->role = e->role;
	c->hits++;
	return ERR_OK;
}

void auth_cache_put(struct auth_cache *c, const char *tok, size_t len, double exp, double nbf,
		    const char *claims_json, const char *sub, const char *role)
{
	struct auth_cache_entry *e;
	size_t clen = strlen(claims_json), slen = strlen(sub), rlen = strlen(role);

	if (c == NULL || len == 0 || len > AUTH_CACHE_TOKEN_MAX || clen > AUTH_CACHE_CLAIMS_MAX ||
	    slen >= sizeof(e->sub) || rlen >= sizeof(e->role))
		return;
	e = auth_cache_set(c, tok, len);
	if (auth_cache_is(&e[0], tok, len)) {
		auth_cache_drop(&e[0]); /* (kept again: its times may have changed) */
	} else if (e[0].token != NULL) { /* (an empty first entry: an expired one went) */
		auth_cache_drop(&e[1]);
		e[1] = e[0];
		memset(&e[0], 0, sizeof(e[0]));
	}
	e->token = malloc(len);
	e->claims_json = malloc(clen + 1);
	if (e->token == NULL || e->claims_json == NULL) {
		free(e->token);
		free(e->claims_json);
		e->token = e->claims_json = NULL;
		return;
	}
	memcpy(e->token, tok, len);
	memcpy(e->claims_json, claims_json, clen + 1);
	memcpy(e->sub, sub, slen + 1);
	memcpy(e->role, role, rlen + 1);
	e->len = len;
	e->exp = exp;
	e->nbf = nbf;
}

void auth_cache_stats(const struct auth_cache *c, unsigned long *hits, unsigned long *misses)
{
	*hits = c ? c->hits : 0;
	*misses = c ? c->misses : 0;
}
