/* The route table and the checks every request passes before its handler. */
#include <string.h>

#include "bikes.h"
#include "export.h"
#include "health.h"
#include "installs.h"
#include "intervals.h"
#include "maintenance.h"
#include "keyshare.h"
#include "parts.h"
#include "ratelimit.h"
#include "req.h"
#include "retire.h"
#include "rides.h"
#include "routes.h"
#include "summary.h"
#include "transfers.h"
#include "valid.h"

#define R_USER ROUTER_AUTH_USER
#define R_NONE ROUTER_AUTH_NONE
#define R_SERVICE ROUTER_AUTH_SERVICE
/* Path parameters the caller must own, checked in the order given. */
#define ROUTES_READ_TIMEOUT_MS 5000
#define ROUTES_WRITE_TIMEOUT_MS 10000
#define OWN_BIKE(p) {{p, ENTITY_BIKE}}
#define OWN_PART(p) {{p, ENTITY_PART}}
#define OWN_BIKE_PART(b, p) {{b, ENTITY_BIKE}, {p, ENTITY_PART}}

const struct router_route routes_table[] = {
	{"GET", "/health", health_live, R_NONE, "health.live"},
	{"GET", "/health/ready", health_ready, R_NONE, "health.ready"},

	{"POST", "/api/bikes", bikes_create, R_USER, "bikes.create"},
	{"GET", "/api/bikes", bikes_list, R_USER, "bikes.list"},
	{"GET", "/api/bikes/active", bikes_active, R_USER, "bikes.active"},
	{"GET", "/api/bikes/:id", bikes_get, R_USER, "bikes.get", OWN_BIKE("id")},
	{"PATCH", "/api/bikes/:id", bikes_update, R_USER, "bikes.update", OWN_BIKE("id")},
	{"DELETE", "/api/bikes/:id", bikes_delete, R_USER, "bikes.delete", OWN_BIKE("id")},
	{"POST", "/api/bikes/:id/set-active", bikes_set_active, R_USER, "bikes.set_active", OWN_BIKE("id")},
	{"POST", "/api/bikes/:id/deactivate", bikes_deactivate, R_USER, "bikes.deactivate", OWN_BIKE("id")},
	{"GET", "/api/bikes/:id/stats", bikes_stats, R_USER, "bikes.stats", OWN_BIKE("id")},

	/* rides_log checks the bike itself (src/rides.c: rides_refuse). */
	{"POST", "/api/bikes/:id/kilometrage", rides_log, R_USER, "rides.log"},
	{"GET", "/api/bikes/:id/kilometrage", rides_history, R_USER, "rides.history", OWN_BIKE("id")},
	{"PATCH", "/api/bikes/:id/kilometrage/:log_id", rides_update, R_USER, "rides.update", OWN_BIKE("id")},
	{"DELETE", "/api/bikes/:id/kilometrage/:log_id", rides_delete, R_USER, "rides.delete", OWN_BIKE("id")},
	/* The design's examples say "mileage": the same routes (api-notes, Units). */
	{"POST", "/api/bikes/:id/mileage", rides_log, R_USER, "rides.log"},
	{"GET", "/api/bikes/:id/mileage", rides_history, R_USER, "rides.history", OWN_BIKE("id")},
	{"PATCH", "/api/bikes/:id/mileage/:log_id", rides_update, R_USER, "rides.update", OWN_BIKE("id")},
	{"DELETE", "/api/bikes/:id/mileage/:log_id", rides_delete, R_USER, "rides.delete", OWN_BIKE("id")},
	/* Up to 200 rides, each credited: a longer bound than one ride's. */
	{"POST", "/api/rides/batch", rides_batch, R_USER, "rides.batch", {{NULL, ENTITY_BIKE}}, 30000},

	{"POST", "/api/bikes/:id/maintenance", maintenance_create, R_USER, "maintenance.bike_create", OWN_BIKE("id")},
	{"GET", "/api/bikes/:id/maintenance", maintenance_list, R_USER, "maintenance.bike_list", OWN_BIKE("id")},
	{"POST", "/api/parts/:id/maintenance", maintenance_create, R_USER, "maintenance.part_create", OWN_PART("id")},
	{"GET", "/api/parts/:id/maintenance", maintenance_list, R_USER, "maintenance.part_list", OWN_PART("id")},
	{"GET", "/api/parts/:id/stats", parts_stats, R_USER, "parts.stats", OWN_PART("id")},
	{"DELETE", "/api/maintenance/:id", maintenance_delete, R_USER, "maintenance.delete"},

	/* Service intervals: PATCH/DELETE check the interval's part or bike in their SQL. */
	{"POST", "/api/bikes/:id/intervals", intervals_create, R_USER, "intervals.bike_create", OWN_BIKE("id")},
	{"GET", "/api/bikes/:id/intervals", intervals_list, R_USER, "intervals.bike_list", OWN_BIKE("id")},
	{"POST", "/api/parts/:id/intervals", intervals_create, R_USER, "intervals.part_create", OWN_PART("id")},
	{"GET", "/api/parts/:id/intervals", intervals_list, R_USER, "intervals.part_list", OWN_PART("id")},
	{"PATCH", "/api/intervals/:id", intervals_update, R_USER, "intervals.update"},
	{"DELETE", "/api/intervals/:id", intervals_delete, R_USER, "intervals.delete"},
	{"GET", "/api/due", intervals_due, R_USER, "intervals.due"},

	{"POST", "/api/bikes/:id/transfer", transfers_run, R_USER, "transfers.bike", OWN_BIKE("id")},
	{"GET", "/api/bikes/:id/history", transfers_history, R_USER, "transfers.bike_history", OWN_BIKE("id")},
	{"POST", "/api/parts/:id/transfer", transfers_run, R_USER, "transfers.part", OWN_PART("id")},
	{"GET", "/api/parts/:id/history", transfers_history, R_USER, "transfers.part_history", OWN_PART("id")},

	/* Streamed, one snapshot, 5 an hour per user (src/export.c); its own statement bound. */
	{"GET", "/api/export", export_run, R_USER, "export.run", {{NULL, ENTITY_BIKE}}, EXPORT_TIMEOUT_MS},

	{"GET", "/internal/bikes/user/:user_id/summary", summary_user, R_SERVICE, "internal.summary"},

	{"GET", "/api/bikes/:bike_id/parts", installs_list, R_USER, "installs.list", OWN_BIKE("bike_id")},
	{"POST", "/api/bikes/:bike_id/parts/:part_id/install", installs_install, R_USER, "installs.install",
	 OWN_BIKE_PART("bike_id", "part_id")},
	{"POST", "/api/bikes/:bike_id/parts/:part_id/remove", installs_remove, R_USER, "installs.remove",
	 OWN_BIKE_PART("bike_id", "part_id")},
	{"POST", "/api/bikes/:bike_id/parts/:part_id/replace", installs_replace, R_USER, "installs.replace",
	 OWN_BIKE_PART("bike_id", "part_id")},
	{"POST", "/api/parts/:id/retire", retire_part, R_USER, "parts.retire", OWN_PART("id")},
	{"POST", "/api/parts/:id/unretire", retire_unretire, R_USER, "parts.unretire", OWN_PART("id")},

	{"POST", "/api/parts", parts_create, R_USER, "parts.create"},
	{"GET", "/api/parts", parts_list, R_USER, "parts.list"},
	{"GET", "/api/parts/:id", parts_get, R_USER, "parts.get", OWN_PART("id")},
	{"PATCH", "/api/parts/:id", parts_update, R_USER, "parts.update", OWN_PART("id")},
	{"DELETE", "/api/parts/:id", parts_delete, R_USER, "parts.delete", OWN_PART("id")},
};
const size_t routes_count = sizeof(routes_table) / sizeof(routes_table[0]);

/* The token's verdict, once per request: the rate limit's bucket and the route's access
 * both come from it. */
static err_t routes_verify(struct ctx *c, const char **why)
{
	if (!c->auth_done) {
		c->auth_rc = auth_verify(c->keys, c->authorization, c->now, &c->id, &c->auth_why);
		c->auth_done = 1;
	}
	*why = c->auth_why;
	return c->auth_rc;
}

static err_t routes_auth(struct ctx *c)
{
	const char *why = NULL;
	const char *want;
	err_t rc;

	rc = routes_verify(c, &why);
	if (rc == ERR_UNAVAILABLE) {
		/* No key yet (SUPABASE_URL not fetched): the token may be fine, so no 401. */
		log_warn(&c->log, "token not checked (%s)", why ? why : "no keys");
		return ctx_fail(c, ERR_UNAVAILABLE, "Token keys not loaded yet; retry shortly", NULL);
	}
	if (rc != ERR_OK) {
		log_warn(&c->log, "security: token rejected (%s)", why ? why : "invalid");
		return ctx_fail(c, ERR_UNAUTHORIZED, NULL, NULL);
	}
	c->log.user_id = c->id.sub[0] ? c->id.sub : NULL;
	want = c->route->auth == ROUTER_AUTH_SERVICE ? "service_role" : "authenticated";
	if (strcmp(c->id.role, want) != 0) {
		log_warn(&c->log, "security: role %s refused on %s route", c->id.role, want);
		return ctx_fail(c, ERR_FORBIDDEN, "This token's role may not use this route", NULL);
	}
	return ERR_OK;
}

/* What nginx passes through `location /`: everything but the health checks and /internal/
 * (which nginx keeps to the private network and limits per address only). */
static int routes_limited(const char *path)
{
	return strcmp(path, "/health") != 0 && strcmp(path, "/health/ready") != 0 &&
	       strncmp(path, "/internal/", 10) != 0;
}

/* nginx's $rl_is_write: these methods spend the write budget, every other one the read. */
static int routes_is_write(const char *m)
{
	return strcmp(m, "POST") == 0 || strcmp(m, "PATCH") == 0 || strcmp(m, "PUT") == 0 ||
	       strcmp(m, "DELETE") == 0;
}

/*
 * The request's rate limit (include/ratelimit.h), before the route is even looked up, as
 * nginx's limit_req was: a verified user's token (role authenticated, a sub) in its user's
 * bucket, a verified service_role token in its own, in the write or read zone; everything
 * else per address: a forged or expired token, and tokens of other roles (the platform's
 * public anon key is one token shared by every app: one bucket for it would let any client
 * exhaust it for all).
 */
static err_t routes_limit(struct ctx *c)
{
	static const char *const zones[] = {"write", "read", "anon"};
	enum ratelimit_zone zone = RATELIMIT_ANON;
	char name[128];
	const char *why, *sig;
	long retry = 0;
	int verified, n;

	if (!routes_limited(c->path))
		return ERR_OK;
	verified = routes_verify(c, &why) == ERR_OK;
	if (verified && c->id.sub[0] && strcmp(c->id.role, "authenticated") == 0) {
		c->log.user_id = c->id.sub;
		n = snprintf(name, sizeof(name), "u:%s", c->id.sub);
	} else if (verified && strcmp(c->id.role, "service_role") == 0) {
		sig = strrchr(c->authorization, '.'); /* verified: a JWS, so there is one */
		n = snprintf(name, sizeof(name), "t:%.100s", sig ? sig + 1 : "");
	} else {
		verified = 0;
		n = snprintf(name, sizeof(name), "a:%s", c->remote_addr ? c->remote_addr : "");
	}
	if (verified)
		zone = routes_is_write(c->method) ? RATELIMIT_WRITE : RATELIMIT_READ;
	if (n < 0 || ratelimit_take(zone, name, keyshare_now_ms(), &retry) == ERR_OK)
		return ERR_OK;
	log_warn(&c->log, "rate limited (%s zone)", zones[zone]);
	c->retry_after = retry;
	return ctx_fail(c, ERR_RATE_LIMITED, NULL, NULL);
}

/* Every path parameter is a UUID; each malformed one is named in details. */
static err_t routes_path_ids(struct ctx *c)
{
	struct valid v;
	err_t rc = ERR_OK;

	valid_init(&v);
	for (int i = 0; i < c->params.n; i++)
		if (!valid_is_uuid(c->params.p[i].value))
			valid_add(&v, c->params.p[i].name, "must be a UUID");
	if (!valid_ok(&v))
		rc = req_invalid(c, &v);
	valid_free(&v);
	if (rc == ERR_OK && c->params.n > 0)
		c->log.resource_id = c->params.p[0].value;
	return rc;
}

/* The request's database session, with the route's ownership checks queued first. */
static err_t routes_session(struct ctx *c)
{
	const struct router_own *own = c->route->own;

	c->db.conn = c->conn;
	c->db.log = &c->log;
	c->db.role = c->id.role[0] ? c->id.role : NULL;
	c->db.claims = c->id.claims_json;
	c->db.sub = c->id.sub[0] ? c->id.sub : NULL;
	c->db.snapshot = strcmp(c->method, "GET") == 0 || strcmp(c->method, "HEAD") == 0;
	/* A read that has waited this long will not be waited for; a write may hold locks and
	 * credit many parts. Routes that need longer (batches, exports) say so in the table. */
	c->db.timeout_ms = c->route->timeout_ms ? c->route->timeout_ms
			   : c->db.snapshot ? ROUTES_READ_TIMEOUT_MS : ROUTES_WRITE_TIMEOUT_MS;
	for (int i = 0; i < ROUTER_MAX_OWN && own[i].param; i++) {
		err_t rc = req_own(c, own[i].kind, req_param(c, own[i].param), NULL);
		if (rc != ERR_OK)
			return rc;
	}
	return ERR_OK;
}

/* An error our SQL raised becomes the answer's message or details. */
static err_t routes_db_error(struct ctx *c, err_t rc)
{
	const char *msg = db_last_message(c->conn), *detail = db_last_detail(c->conn);
	long f = c->db.failed;

	if (rc != c->db.last || c->err_msg || c->err_details || msg[0] == '\0')
		return rc;
	if (rc == ERR_FORBIDDEN)
		log_warn(&c->log, "security: forbidden (resource of another user)");
	if (rc == ERR_VALIDATION)
		return ctx_fail_field(c, msg, detail);
	if ((rc == ERR_NOT_FOUND || rc == ERR_FORBIDDEN) && f >= 0 && f < (long)c->db.npre &&
	    c->own_field[f]) {
		json_object *d = json_object_new_object();
		json_object_object_add(d, c->own_field[f], json_object_new_string(
			rc == ERR_NOT_FOUND ? "not found" : "belongs to another user"));
		return ctx_fail(c, rc, msg, d);
	}
	return ctx_fail(c, rc, msg, NULL);
}

/* A handler refused the body or the query before reaching the database: existence and
 * ownership still answer first (api-notes' order), so run those checks alone. */
static err_t routes_owner_first(struct ctx *c, err_t rc)
{
	const char *msg = c->err_msg;
	json_object *details = c->err_details;
	err_t owned;

	c->err_msg = NULL;
	c->err_details = NULL;
	owned = db_run(&c->db, NULL, 0);
	if (owned != ERR_OK) {
		json_object_put(details);
		return routes_db_error(c, owned);
	}
	c->err_msg = msg;
	c->err_details = details;
	return rc;
}

err_t routes_dispatch(struct ctx *c)
{
	err_t rc;

	if ((rc = routes_limit(c)) != ERR_OK)
		return rc;
	switch (router_lookup(routes_table, routes_count, c->method, c->path, &c->route, &c->params,
			      c->allow, sizeof(c->allow))) {
	case ROUTER_NOT_FOUND:
		return ctx_fail(c, ERR_NOT_FOUND, "No such route", NULL);
	case ROUTER_NOT_ALLOWED:
		return ERR_METHOD;
	case ROUTER_FOUND:
		break;
	}
	c->log.op = c->route->op;
	if (c->route->auth == ROUTER_AUTH_NONE)
		auth_identity_clear(&c->id); /* no caller role reaches the health checks' SQL */
	else if ((rc = routes_auth(c)) != ERR_OK)
		return rc;
	if (c->query_overflow)
		return ctx_fail_field(c, "query", "too many query parameters");
	if ((rc = routes_path_ids(c)) != ERR_OK || (rc = routes_session(c)) != ERR_OK)
		return rc;
	rc = c->route->handler(c);
	if ((rc == ERR_VALIDATION || rc == ERR_MEDIA_TYPE || rc == ERR_TOO_LARGE) &&
	    c->db.npre > 0 && !c->db.pre_passed)
		return routes_owner_first(c, rc);
	return rc == ERR_OK ? rc : routes_db_error(c, rc);
}
