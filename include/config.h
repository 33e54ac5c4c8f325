/*
 * The worker's settings from its environment, checked before it serves: in production a
 * real key is required and the public development secret is refused, whoever starts it.
 */
#ifndef VS_CONFIG_H
#define VS_CONFIG_H

#include "err.h"

/* Supabase's local-development JWT secret (supabase start): public, never for production. */
#define CONFIG_DEV_JWT_SECRET "super-secret-jwt-token-with-at-least-32-characters-long"

struct config {
	int production;          /* VEHICLE_ENV=production */
	const char *jwt_secret;  /* SUPABASE_JWT_SECRET, or NULL */
	const char *jwks;        /* SUPABASE_JWKS (path or JSON text), or NULL */
	const char *database_url; /* DATABASE_URL, or NULL (libpq defaults) */
	int workers;             /* WORKERS: the master's pool size, CONFIG_WORKERS_DEFAULT */
};

/* WORKERS: how many workers the prefork master keeps (src/master.c). */
#define CONFIG_WORKERS_DEFAULT 4
#define CONFIG_WORKERS_MAX 256

/* get: getenv, or a stand-in for tests. ERR_VALIDATION with *why (a static text naming the
 * variable) when the settings are unusable: an unknown VEHICLE_ENV, production without a
 * key, production with the development secret, a secret shorter than 32 bytes, a WORKERS
 * that config_parse_workers refuses. */
err_t config_load(struct config *cfg, const char *(*get)(const char *name), const char **why) WUR;

/* A worker count: a whole number in 1..CONFIG_WORKERS_MAX, blanks around it allowed (a file
 * written by `echo 8 >file`). ERR_VALIDATION for anything else (*out untouched). */
err_t config_parse_workers(const char *text, int *out) WUR;

#endif
