/*
 * The worker's settings from its environment, checked before it serves: in production a
 * real key is required and the public development secret is refused, whoever starts it.
 */
#ifndef VS_CONFIG_H
#define VS_CONFIG_H

#include "err.h"
#include "ratelimit.h"

/* Supabase's local-development JWT secret (supabase start): public, never for production. */
#define CONFIG_DEV_JWT_SECRET "super-secret-jwt-token-with-at-least-32-characters-long"

struct config {
	int production;          /* VEHICLE_ENV=production */
	const char *jwt_secret;  /* SUPABASE_JWT_SECRET, or NULL */
	const char *jwks;        /* SUPABASE_JWKS (path or JSON text), or NULL */
	const char *database_url; /* DATABASE_URL, or NULL (libpq defaults) */
	int workers;             /* WORKERS: the master's pool size, CONFIG_WORKERS_DEFAULT */
	const char *redis_url;   /* REDIS_URL (include/cache.h's forms), or NULL: no list cache */
	int list_cache;          /* LIST_CACHE on/off; with REDIS_URL, CONFIG_LIST_CACHE_DEFAULT */
	unsigned redis_timeout_ms; /* REDIS_TIMEOUT_MS: connect and each command */
	int pool_transaction;    /* DATABASE_POOL_MODE=transaction (default session) */
	const char *supabase_url; /* SUPABASE_URL: fetch $SUPABASE_URL/auth/v1/.well-known/jwks.json */
	int jwks_refresh_s;      /* JWKS_REFRESH_S, CONFIG_JWKS_REFRESH_DEFAULT */
	const char *metrics_socket; /* METRICS_SOCKET: the master's metrics socket path, or NULL */
	/* RATE_WRITE/READ/ANON and RATE_BURST_*: the worker's per-user limits (include/ratelimit.h),
	 * nginx's forms and scripts/lib/common.sh's defaults */
	struct ratelimit_rule rates[RATELIMIT_ZONES];
};

/* The defaults of RATE_* (as scripts/lib/common.sh has them for nginx). */
#define CONFIG_RATE_WRITE "100r/m"
#define CONFIG_RATE_BURST_WRITE 20
#define CONFIG_RATE_READ "300r/m"
#define CONFIG_RATE_BURST_READ 50
#define CONFIG_RATE_ANON "60r/m"
#define CONFIG_RATE_BURST_ANON 20
#define CONFIG_RATE_BURST_MAX 1000000

/* JWKS_REFRESH_S: how often the fetcher asks SUPABASE_URL for the key set. */
#define CONFIG_JWKS_REFRESH_DEFAULT 600
#define CONFIG_JWKS_REFRESH_MAX 86400
/* SUPABASE_URL's longest form: the fetcher adds its path within a 2 KiB buffer. */
#define CONFIG_SUPABASE_URL_MAX 1024

/* The list cache with REDIS_URL set and LIST_CACHE unset (README, "The list cache"). */
#define CONFIG_LIST_CACHE_DEFAULT 1

/* WORKERS: how many workers the prefork master keeps (src/master.c). */
#define CONFIG_WORKERS_DEFAULT 4
#define CONFIG_WORKERS_MAX 256

/* get: getenv, or a stand-in for tests. ERR_VALIDATION with *why (a static text naming the
 * variable) when the settings are unusable: an unknown VEHICLE_ENV, production without a
 * key, production with the development secret, a secret shorter than 32 bytes, a WORKERS
 * that config_parse_workers refuses, a REDIS_URL cache_url_parse refuses, LIST_CACHE other than
 * on or off (or on without REDIS_URL), REDIS_TIMEOUT_MS outside 1..1000, DATABASE_POOL_MODE
 * other than session or transaction, a SUPABASE_URL that is not http(s)://, JWKS_REFRESH_S
 * outside 1..CONFIG_JWKS_REFRESH_MAX, a METRICS_SOCKET that is not an absolute path, a RATE_WRITE,
 * RATE_READ or RATE_ANON not of nginx's form "Nr/s" or "Nr/m" (N 1..1000000), a RATE_BURST_*
 * outside 0..CONFIG_RATE_BURST_MAX. With
 * SUPABASE_URL set, production needs no other key: the fetched set is the key. */
err_t config_load(struct config *cfg, const char *(*get)(const char *name), const char **why) WUR;

/* A worker count: a whole number in 1..CONFIG_WORKERS_MAX, blanks around it allowed (a file
 * written by `echo 8 >file`). ERR_VALIDATION for anything else (*out untouched). */
err_t config_parse_workers(const char *text, int *out) WUR;

#endif
