/* A worker's cache of tokens it has verified, as PostgREST keeps one: an app sends the same
 * access token with every request for up to an hour, and checking its signature and parsing
 * its payload again each time is most of what authentication costs. An entry is the exact
 * token bytes and what verifying them gave; a hit still checks exp against the clock. It
 * belongs to one key set (struct auth_keys holds it), so keys that change start it empty. */
#ifndef VS_AUTH_CACHE_H
#define VS_AUTH_CACHE_H

#include <stddef.h>
#include <time.h>

#include "err.h"

#define AUTH_CACHE_SLOTS 2048     /* in sets of two: a third token of a set replaces the older */
#define AUTH_CACHE_TOKEN_MAX 2048 /* longer tokens (Supabase's are under 1 KiB) are not kept */
#define AUTH_CACHE_CLAIMS_MAX 2048

struct auth_cache;

struct auth_cache *auth_cache_new(void);
void auth_cache_free(struct auth_cache *c);

/* What verifying a token gave, kept with it. */
struct auth_cache_hit {
	/* All three valid until the next call into the cache (a get may reorder a set): copy. */
	const char *claims_json;
	const char *sub;
	const char *role;
};

/* ERR_OK and *hit when tok[0..len) was verified before and, at now, its exp has not passed
 * and its nbf has (each with AUTH_LEEWAY), as verifying it again would find; an entry that
 * fails that is dropped. ERR_NOT_FOUND otherwise. */
err_t auth_cache_get(struct auth_cache *c, const char *tok, size_t len, time_t now,
		     struct auth_cache_hit *hit) WUR;
/* Keeps a token that verified, with its exp and nbf claims (nbf -INFINITY when absent);
 * silently keeps nothing when it is too long or memory is short (only ever a shortcut). */
void auth_cache_put(struct auth_cache *c, const char *tok, size_t len, double exp, double nbf,
		    const char *claims_json, const char *sub, const char *role);
/* Forgets every token (the key set changed: a removed key's tokens must be checked again). */
void auth_cache_clear(struct auth_cache *c);
/* Hits and misses so far (tests, logs). */
void auth_cache_stats(const struct auth_cache *c, unsigned long *hits, unsigned long *misses);

#endif
