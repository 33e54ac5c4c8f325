/*
 * The instance's JWKS fetcher (OWNER: the JWKS helper): a child of the master, forked (not
 * exec'd), that fetches $SUPABASE_URL/auth/v1/.well-known/jwks.json with libcurl into the
 * shared key set (include/keyshare.h).
 */
#ifndef VS_JWKS_FETCH_H
#define VS_JWKS_FETCH_H

#include <sys/types.h>

struct config;
struct shm_region;

/* The master, at start and whenever the last fetcher ended: forks the fetcher when
 * cfg->supabase_url is set. Returns its pid, 0 when none is configured, -1 when fork failed.
 * The child closes listen_fd (the FastCGI socket) and never returns. */
pid_t jwks_fetch_spawn(const struct config *cfg, struct shm_region *shm, int listen_fd);

#endif
