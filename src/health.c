/* Health checks: liveness never touches the database; readiness asks it at most once per
 * HEALTH_READY_INTERVAL_MS per worker. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#endif
#include "health.h"

#include <time.h>

/* The column name makes the statement easy to find in pg_stat_statements (the tests count
 * its calls there). */
static struct db_stmt health_st_ping = {"health_ping", "SELECT 1 AS vehicle_health_ready", 0, 0};

/* This worker's last answer from the database. nginx does not rate-limit /health/ready (a
 * platform health check must never see 429), so anyone may ask for it as often as they like:
 * between checks the answer comes from here and costs the database nothing. */
static struct {
	int checked;
	int ok;
	struct timespec at; /* CLOCK_MONOTONIC */
} health_last;

static err_t health_ok(struct ctx *c, int with_db)
{
	c->out = json_object_new_object();
	if (c->out == NULL)
		return ERR_INTERNAL;
	json_object_object_add(c->out, "status", json_object_new_string("ok"));
	if (with_db)
		json_object_object_add(c->out, "database", json_object_new_string("ok"));
	return ERR_OK;
}

err_t health_live(struct ctx *c)
{
	return health_ok(c, 0);
}

static int health_due(const struct timespec *now)
{
	long long ms;

	if (!health_last.checked)
		return 1;
	ms = (long long)(now->tv_sec - health_last.at.tv_sec) * 1000 +
	     (now->tv_nsec - health_last.at.tv_nsec) / 1000000;
	return ms < 0 || ms >= HEALTH_READY_INTERVAL_MS;
}

/* No key to verify a token with (SUPABASE_URL alone, not fetched yet): not ready, and why. */
static err_t health_no_keys(struct ctx *c, const char *why)
{
	json_object *d = json_object_new_object();

	if (d)
		json_object_object_add(d, "token_keys", json_object_new_string(why));
	return ctx_fail(c, ERR_UNAVAILABLE, "token keys not loaded yet", d);
}

err_t health_ready(struct ctx *c)
{
	struct db_query q[1] = {{.stmt = &health_st_ping}};
	struct timespec now;
	int clock_ok = clock_gettime(CLOCK_MONOTONIC, &now) == 0;
	const char *why = NULL;

	if (c->keys && !auth_keys_ready(c->keys, &why))
		return health_no_keys(c, why);

	if (!clock_ok || health_due(&now)) {
		health_last.ok = db_exec(&c->db, q, 1) == ERR_OK;
		health_last.at = now;
		health_last.checked = clock_ok; /* without a clock, every request checks */
	} else if (health_last.ok && db_connect_now(c->conn, &c->log) != 0) {
		/* The server closed our connection since the check (a poll notices it, no round
		 * trip) and a new one failed: an outage shows at once, not a second later. */
		health_last.ok = 0;
	}
	if (!health_last.ok)
		return ctx_fail(c, ERR_UNAVAILABLE, "database unavailable", NULL);
	return health_ok(c, 1);
}
