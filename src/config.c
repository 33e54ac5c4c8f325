/*
 * The worker's settings (include/config.h). The production rules live here, not in the
 * scripts, so that every way of starting a worker (scripts/run, the container, by hand)
 * gets them; the scripts run `vehicle-worker --check-config` to fail before spawning.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cache.h"
#include "config.h"
#include "valid.h"

/* Supabase's own minimum for a JWT secret; shorter ones are guessable offline. */
#define CONFIG_MIN_SECRET_BYTES 32

/* name's value, or NULL when unset or empty: `VAR=` in a unit file or a secret store
 * means "not given", never "an empty key". */
static const char *config_get(const char *(*get)(const char *name), const char *name)
{
	const char *v = get(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

static err_t config_fail(const char **why, const char *text)
{
	if (why != NULL)
		*why = text;
	return ERR_VALIDATION;
}

/* Key material in production: a real key, never the public one. */
/* http:// to this machine only (a local stand-in): anything else would fetch the keys that
 * decide who anyone is in plain text, for whoever is on the path to rewrite. */
static int config_url_loopback(const char *url)
{
	static const char *const hosts[] = {"http://127.0.0.1", "http://localhost", "http://[::1]"};

	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		size_t n = strlen(hosts[i]);

		if (strncmp(url, hosts[i], n) == 0 && (url[n] == '\0' || url[n] == ':' || url[n] == '/'))
			return 1;
	}
	return 0;
}

static err_t config_check_production(const struct config *cfg, const char **why)
{
	if (cfg->supabase_url != NULL && strncmp(cfg->supabase_url, "https://", 8) != 0 &&
	    !config_url_loopback(cfg->supabase_url))
		return config_fail(why, "VEHICLE_ENV=production needs an https:// SUPABASE_URL (http:// "
					"only to 127.0.0.1, localhost or [::1])");
	if (cfg->jwt_secret == NULL && cfg->jwks == NULL && cfg->supabase_url == NULL)
		return config_fail(why, "VEHICLE_ENV=production needs SUPABASE_URL, SUPABASE_JWT_SECRET "
					"or SUPABASE_JWKS");
	if (cfg->jwt_secret == NULL)
		return ERR_OK;
	if (strcmp(cfg->jwt_secret, CONFIG_DEV_JWT_SECRET) == 0)
		return config_fail(why, "VEHICLE_ENV=production refuses the public development "
					"SUPABASE_JWT_SECRET");
	if (strlen(cfg->jwt_secret) < CONFIG_MIN_SECRET_BYTES)
		return config_fail(why, "SUPABASE_JWT_SECRET is shorter than 32 bytes "
					"(refused with VEHICLE_ENV=production)");
	return ERR_OK;
}

err_t config_parse_workers(const char *text, int *out)
{
	const unsigned char *s = (const unsigned char *)text;
	long n = 0;
	int digits = 0;

	if (s == NULL)
		return ERR_VALIDATION;
	while (isspace(*s))
		s++;
	/* Digit by digit with a bound: no sign, no hex, no overflow (strtol takes all three). */
	for (; *s >= '0' && *s <= '9'; s++, digits++) {
		n = n * 10 + (*s - '0');
		if (n > CONFIG_WORKERS_MAX)
			return ERR_VALIDATION;
	}
	while (isspace(*s))
		s++;
	if (digits == 0 || *s != '\0' || n < 1)
		return ERR_VALIDATION;
	*out = (int)n;
	return ERR_OK;
}

/* REDIS_URL, LIST_CACHE, REDIS_TIMEOUT_MS: the list cache (include/list_cache.h). */
static err_t config_cache(struct config *c, const char *(*get)(const char *name), const char **why)
{
	const char *mode = config_get(get, "LIST_CACHE"), *tmo = config_get(get, "REDIS_TIMEOUT_MS");
	const char *url_why = NULL;
	struct cache_url url;
	long ms = CACHE_TIMEOUT_MS_DEFAULT;

	c->redis_url = config_get(get, "REDIS_URL");
	if (c->redis_url != NULL && cache_url_parse(c->redis_url, &url, &url_why) != 0)
		return config_fail(why, url_why);
	if (mode != NULL && strcmp(mode, "on") != 0 && strcmp(mode, "off") != 0)
		return config_fail(why, "LIST_CACHE must be 'on' or 'off'");
	if (mode != NULL && strcmp(mode, "on") == 0 && c->redis_url == NULL)
		return config_fail(why, "LIST_CACHE=on needs REDIS_URL");
	c->list_cache = c->redis_url != NULL && (mode ? strcmp(mode, "on") == 0 : CONFIG_LIST_CACHE_DEFAULT);
	if (tmo != NULL && valid_parse_int(tmo, 1, CACHE_TIMEOUT_MS_MAX, &ms) != 0)
		return config_fail(why, "REDIS_TIMEOUT_MS must be a whole number of milliseconds from 1 to 1000");
	c->redis_timeout_ms = (unsigned)ms;
	return ERR_OK;
}

/* DATABASE_POOL_MODE, SUPABASE_URL, JWKS_REFRESH_S, METRICS_SOCKET: a fleet's settings. */
static err_t config_fleet(struct config *c, const char *(*get)(const char *name), const char **why)
{
	const char *mode = config_get(get, "DATABASE_POOL_MODE");
	const char *refresh = config_get(get, "JWKS_REFRESH_S");
	long s = CONFIG_JWKS_REFRESH_DEFAULT;

	if (mode != NULL && strcmp(mode, "session") != 0 && strcmp(mode, "transaction") != 0)
		return config_fail(why, "DATABASE_POOL_MODE must be 'session' or 'transaction'");
	c->pool_transaction = mode != NULL && strcmp(mode, "transaction") == 0;
	c->supabase_url = config_get(get, "SUPABASE_URL");
	if (c->supabase_url != NULL && strncmp(c->supabase_url, "https://", 8) != 0 &&
	    strncmp(c->supabase_url, "http://", 7) != 0)
		return config_fail(why, "SUPABASE_URL must start with https:// (or http://)");
	if (c->supabase_url != NULL && strlen(c->supabase_url) > CONFIG_SUPABASE_URL_MAX)
		return config_fail(why, "SUPABASE_URL is longer than 1024 bytes");
	if (refresh != NULL && valid_parse_int(refresh, 1, CONFIG_JWKS_REFRESH_MAX, &s) != 0)
		return config_fail(why, "JWKS_REFRESH_S must be a whole number of seconds from 1 to 86400");
	c->jwks_refresh_s = (int)s;
	c->metrics_socket = config_get(get, "METRICS_SOCKET");
	if (c->metrics_socket != NULL && c->metrics_socket[0] != '/')
		return config_fail(why, "METRICS_SOCKET must be an absolute path");
	return ERR_OK;
}

/* RATE_<zone> and RATE_BURST_<zone>, for the worker's rate limits. */
static err_t config_rate(struct ratelimit_rule *r, const char *(*get)(const char *name),
			 const char *zone, const char *rate_default, long burst_default,
			 const char **why)
{
	char name[32];
	const char *rate, *burst;
	long b = burst_default;

	if (snprintf(name, sizeof(name), "RATE_%s", zone) >= (int)sizeof(name))
		return config_fail(why, "RATE_* name too long");
	rate = config_get(get, name);
	if (ratelimit_parse_rate(rate ? rate : rate_default, r) != ERR_OK)
		return config_fail(why, "RATE_WRITE, RATE_READ and RATE_ANON must be nginx rates: Nr/s or Nr/m, N from 1 to 1000000");
	if (snprintf(name, sizeof(name), "RATE_BURST_%s", zone) >= (int)sizeof(name))
		return config_fail(why, "RATE_* name too long");
	burst = config_get(get, name);
	if (burst != NULL && valid_parse_int(burst, 0, CONFIG_RATE_BURST_MAX, &b) != 0)
		return config_fail(why, "RATE_BURST_* must be a whole number from 0 to 1000000");
	r->burst = (uint32_t)b;
	return ERR_OK;
}

static err_t config_rates(struct config *c, const char *(*get)(const char *name), const char **why)
{
	err_t rc;

	if ((rc = config_rate(&c->rates[RATELIMIT_WRITE], get, "WRITE", CONFIG_RATE_WRITE,
			      CONFIG_RATE_BURST_WRITE, why)) != ERR_OK ||
	    (rc = config_rate(&c->rates[RATELIMIT_READ], get, "READ", CONFIG_RATE_READ,
			      CONFIG_RATE_BURST_READ, why)) != ERR_OK)
		return rc;
	return config_rate(&c->rates[RATELIMIT_ANON], get, "ANON", CONFIG_RATE_ANON,
			   CONFIG_RATE_BURST_ANON, why);
}

err_t config_load(struct config *cfg, const char *(*get)(const char *name), const char **why)
{
	const char *workers;
	struct config c = {0};
	const char *env = config_get(get, "VEHICLE_ENV");
	err_t rc;

	memset(cfg, 0, sizeof(*cfg));
	if (why != NULL)
		*why = NULL;
	if (env == NULL || strcmp(env, "development") == 0)
		c.production = 0;
	else if (strcmp(env, "production") == 0)
		c.production = 1;
	else
		return config_fail(why, "VEHICLE_ENV must be 'production' or 'development'");

	c.jwt_secret = config_get(get, "SUPABASE_JWT_SECRET");
	c.jwks = config_get(get, "SUPABASE_JWKS");
	c.database_url = config_get(get, "DATABASE_URL");
	c.workers = CONFIG_WORKERS_DEFAULT;
	workers = config_get(get, "WORKERS");
	if (workers != NULL && config_parse_workers(workers, &c.workers) != ERR_OK)
		return config_fail(why, "WORKERS must be a whole number from 1 to 256");
	if ((rc = config_cache(&c, get, why)) != ERR_OK)
		return rc;
	if ((rc = config_fleet(&c, get, why)) != ERR_OK || (rc = config_rates(&c, get, why)) != ERR_OK)
		return rc;

	if (c.production) {
		rc = config_check_production(&c, why);
		if (rc != ERR_OK)
			return rc;
	} else if (c.jwt_secret == NULL && c.jwks == NULL && c.supabase_url == NULL) {
		/* The local default (supabase start's secret), so a bare checkout runs. */
		c.jwt_secret = CONFIG_DEV_JWT_SECRET;
	}
	*cfg = c;
	return ERR_OK;
}
