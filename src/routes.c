/* The route table and the checks every request passes before its handler. */
#include <string.h>
#include <strings.h>

#include "bikes.h"
#include "body.h"
#include "health.h"
#include "installs.h"
#include "maintenance.h"
#include "parts.h"
#include "rides.h"
#include "transfers.h"
#include "routes.h"
#include "valid.h"

#define R_USER ROUTER_AUTH_USER
#define R_NONE ROUTER_AUTH_NONE
#define R_SERVICE ROUTER_AUTH_SERVICE

const struct router_route routes_table[] = {
	{"GET", "/health", health_live, R_NONE, "health.live"},
	{"GET", "/health/ready", health_ready, R_NONE, "health.ready"},

	{"POST", "/api/bikes", bikes_create, R_USER, "bikes.create"},
	{"GET", "/api/bikes", bikes_list, R_USER, "bikes.list"},
	{"GET", "/api/bikes/active", bikes_active, R_USER, "bikes.active"},
	{"GET", "/api/bikes/:id", bikes_get, R_USER, "bikes.get"},
	{"PATCH", "/api/bikes/:id", bikes_update, R_USER, "bikes.update"},
	{"DELETE", "/api/bikes/:id", bikes_delete, R_USER, "bikes.delete"},
	{"POST", "/api/bikes/:id/set-active", bikes_set_active, R_USER, "bikes.set_active"},
	{"POST", "/api/bikes/:id/deactivate", bikes_deactivate, R_USER, "bikes.deactivate"},
	{"GET", "/api/bikes/:id/stats", maintenance_bike_stats, R_USER, "bikes.stats"},

	{"POST", "/api/bikes/:id/kilometrage", rides_log, R_USER, "rides.log"},
	{"GET", "/api/bikes/:id/kilometrage", rides_history, R_USER, "rides.history"},
	{"DELETE", "/api/bikes/:id/kilometrage/:log_id", rides_delete, R_USER, "rides.delete"},
	/* The design's examples say "mileage": the same routes (api-notes, Units). */
	{"POST", "/api/bikes/:id/mileage", rides_log, R_USER, "rides.log"},
	{"GET", "/api/bikes/:id/mileage", rides_history, R_USER, "rides.history"},
	{"DELETE", "/api/bikes/:id/mileage/:log_id", rides_delete, R_USER, "rides.delete"},

	{"POST", "/api/bikes/:id/maintenance", maintenance_bike_create, R_USER, "maintenance.bike_create"},
	{"GET", "/api/bikes/:id/maintenance", maintenance_bike_list, R_USER, "maintenance.bike_list"},
	{"POST", "/api/parts/:id/maintenance", maintenance_part_create, R_USER, "maintenance.part_create"},
	{"GET", "/api/parts/:id/maintenance", maintenance_part_list, R_USER, "maintenance.part_list"},
	{"GET", "/api/parts/:id/stats", maintenance_part_stats, R_USER, "parts.stats"},

	{"POST", "/api/bikes/:id/transfer", transfers_bike, R_USER, "transfers.bike"},
	{"GET", "/api/bikes/:id/history", transfers_bike_history, R_USER, "transfers.bike_history"},
	{"POST", "/api/parts/:id/transfer", transfers_part, R_USER, "transfers.part"},
	{"GET", "/api/parts/:id/history", transfers_part_history, R_USER, "transfers.part_history"},

	{"GET", "/internal/bikes/user/:user_id/summary", transfers_summary, R_SERVICE, "internal.summary"},

	{"GET", "/api/bikes/:bike_id/parts", installs_list, R_USER, "installs.list"},
	{"POST", "/api/bikes/:bike_id/parts/:part_id/install", installs_install, R_USER, "installs.install"},
	{"POST", "/api/bikes/:bike_id/parts/:part_id/remove", installs_remove, R_USER, "installs.remove"},

	{"POST", "/api/parts", parts_create, R_USER, "parts.create"},
	{"GET", "/api/parts", parts_list, R_USER, "parts.list"},
	{"GET", "/api/parts/:id", parts_get, R_USER, "parts.get"},
	{"PATCH", "/api/parts/:id", parts_update, R_USER, "parts.update"},
	{"DELETE", "/api/parts/:id", parts_delete, R_USER, "parts.delete"},
};
const size_t routes_count = sizeof(routes_table) / sizeof(routes_table[0]);

static err_t routes_auth(struct ctx *c)
{
	const char *why = NULL;
	const char *want;
	err_t rc;

	rc = auth_verify(c->keys, c->authorization, c->now, &c->id, &why);
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

err_t routes_dispatch(struct ctx *c)
{
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
	if (c->route->auth != ROUTER_AUTH_NONE) {
		err_t rc = routes_auth(c);
		if (rc != ERR_OK)
			return rc;
	}
	if (c->query_overflow)
		return ctx_fail_field(c, "query", "too many query parameters");
	return c->route->handler(c);
}

err_t routes_path_uuid(struct ctx *c, const char *name, const char **out)
{
	const char *v = router_param(&c->params, name);

	*out = NULL;
	if (v == NULL || !valid_is_uuid(v))
		return ctx_fail_field(c, name, "must be a UUID");
	*out = v;
	if (c->log.resource_id == NULL)
		c->log.resource_id = v;
	return ERR_OK;
}

err_t routes_query_unit(struct ctx *c, units_unit *out)
{
	if (units_parse(ctx_query(c, "unit"), out) != 0)
		return ctx_fail_field(c, "unit", "must be km or mi");
	return ERR_OK;
}

err_t routes_query_page(struct ctx *c, long *limit, long *offset)
{
	struct valid v;
	const char *l = ctx_query(c, "limit"), *o = ctx_query(c, "offset");

	valid_init(&v);
	*limit = 50;
	*offset = 0;
	if (l && valid_parse_int(l, 1, 200, limit) != 0)
		valid_add(&v, "limit", "must be an integer from 1 to 200");
	if (o && valid_parse_int(o, 0, 100000000, offset) != 0)
		valid_add(&v, "offset", "must be a non-negative integer");
	if (!valid_ok(&v)) {
		json_object *d = valid_take(&v);
		valid_free(&v);
		return ctx_fail(c, ERR_VALIDATION, NULL, d);
	}
	valid_free(&v);
	return ERR_OK;
}

err_t routes_query_bool(struct ctx *c, const char *name, int *out)
{
	const char *v = ctx_query(c, name);

	*out = -1;
	if (v == NULL)
		return ERR_OK;
	if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0) {
		*out = v[0] == 't';
		return ERR_OK;
	}
	return ctx_fail_field(c, name, "must be true or false");
}

err_t routes_body(struct ctx *c, int allow_empty, json_object **out)
{
	const char *why = NULL;
	err_t rc;

	*out = NULL;
	if (c->body_len > 0 && !body_is_json_type(c->content_type)) {
		/* An empty-looking body with no type is "no body", not a media-type error. */
		size_t i = 0;
		while (i < c->body_len && strchr(" \t\r\n", c->body[i]))
			i++;
		if (i < c->body_len)
			return ctx_fail(c, ERR_MEDIA_TYPE, NULL, NULL);
	}
	rc = body_parse(c->body ? c->body : "", c->body_len, allow_empty, out, &why);
	if (rc == ERR_VALIDATION)
		return ctx_fail(c, ERR_VALIDATION, why, NULL);
	return rc;
}

err_t routes_body_owned(struct ctx *c, routes_owner_fn own, int allow_empty, json_object **out)
{
	err_t rc = routes_body(c, allow_empty, out);

	if ((rc == ERR_VALIDATION || rc == ERR_MEDIA_TYPE || rc == ERR_TOO_LARGE) && own) {
		const char *why = c->err_msg;
		err_t owned;

		c->err_msg = NULL; /* the body's reason must not label the ownership answer */
		owned = own(c);
		if (owned != ERR_OK)
			return owned;
		c->err_msg = why;
	}
	return rc;
}

err_t routes_invalid(struct ctx *c, routes_owner_fn own, struct valid *v)
{
	err_t rc = own ? own(c) : ERR_OK;

	if (rc != ERR_OK)
		return rc;
	return ctx_fail(c, ERR_VALIDATION, NULL, valid_take(v));
}

err_t routes_deleted(struct ctx *c, const char *id)
{
	c->out = json_object_new_object();
	json_object_object_add(c->out, "success", json_object_new_boolean(1));
	json_object_object_add(c->out, "id", json_object_new_string(id));
	return ERR_OK;
}
