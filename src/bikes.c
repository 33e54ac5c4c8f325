/*
 * Bike handlers. Order of checks (api-notes): token (done by routes_dispatch), the id's form,
 * existence and ownership, the body, then the state (raised by the SQL functions).
 */
#include <string.h>

#include "bikes.h"
#include "db_bike.h"
#include "gear.h"
#include "routes.h"

const char *const bikes_types[] = {"road", "mountain", "hybrid", "gravel", "ebike", "other", NULL};

static err_t bikes_own(struct ctx *c)
{
	return db_bike_assert(c, router_param(&c->params, "id"));
}

err_t bikes_create(struct ctx *c)
{
	err_t rc;
	json_object *body = NULL, *patch = NULL;
	struct valid v;
	struct gear_input in;

	valid_init(&v);
	rc = routes_body(c, 0, &body);
	if (rc != ERR_OK)
		goto out;
	gear_validate(&v, body, bikes_types, 0, &in);
	if (!valid_ok(&v)) {
		rc = routes_invalid(c, NULL, &v);
		goto out;
	}
	rc = ERR_INTERNAL;
	patch = gear_patch_json(&in);
	if (patch == NULL)
		goto out;
	rc = db_bike_create(c, json_object_to_json_string_ext(patch, JSON_C_TO_STRING_PLAIN), in.unit,
			    &c->out);
	if (rc == ERR_OK)
		c->status = 201;
out:
	json_object_put(patch);
	json_object_put(body);
	valid_free(&v);
	return rc;
}

err_t bikes_list(struct ctx *c)
{
	err_t rc;
	units_unit u;
	long limit, offset, total = 0;
	int include_parts;

	if ((rc = routes_query_unit(c, &u)) != ERR_OK || (rc = routes_query_page(c, &limit, &offset)) != ERR_OK ||
	    (rc = routes_query_bool(c, "include_parts", &include_parts)) != ERR_OK)
		return rc;
	rc = db_bike_list(c, limit, offset, include_parts == 1, u, &c->out, &total);
	if (rc == ERR_OK)
		c->total_count = total;
	return rc;
}

err_t bikes_active(struct ctx *c)
{
	err_t rc;
	units_unit u;

	if ((rc = routes_query_unit(c, &u)) != ERR_OK)
		return rc;
	/* No active bike is 200 with null, not 404: the recorder polls this. */
	return db_bike_active(c, u, &c->out);
}

err_t bikes_get(struct ctx *c)
{
	err_t rc;
	const char *id;
	units_unit u;

	if ((rc = routes_path_uuid(c, "id", &id)) != ERR_OK || (rc = routes_query_unit(c, &u)) != ERR_OK)
		return rc;
	return db_bike_get(c, id, u, &c->out);
}

err_t bikes_update(struct ctx *c)
{
	err_t rc;
	const char *id;
	json_object *body = NULL, *patch = NULL;
	struct valid v;
	struct gear_input in;

	valid_init(&v);
	if ((rc = routes_path_uuid(c, "id", &id)) != ERR_OK)
		goto out;
	if ((rc = routes_body_owned(c, bikes_own, 0, &body)) != ERR_OK)
		goto out;
	gear_validate(&v, body, bikes_types, 1, &in);
	if (!valid_ok(&v)) {
		rc = routes_invalid(c, bikes_own, &v);
		goto out;
	}
	rc = ERR_INTERNAL;
	patch = gear_patch_json(&in);
	if (patch == NULL)
		goto out;
	rc = db_bike_update(c, id, json_object_to_json_string_ext(patch, JSON_C_TO_STRING_PLAIN), in.unit,
			    &c->out);
out:
	json_object_put(patch);
	json_object_put(body);
	valid_free(&v);
	return rc;
}

err_t bikes_delete(struct ctx *c)
{
	err_t rc;
	const char *id;

	if ((rc = routes_path_uuid(c, "id", &id)) != ERR_OK)
		return rc;
	if ((rc = db_bike_delete(c, id)) != ERR_OK)
		return rc;
	return routes_deleted(c, id);
}

/* set-active and deactivate: no body or {} (unit may ride along for the answer). */
static err_t bikes_toggle(struct ctx *c, int activate)
{
	static const char *const allowed[] = {"unit", NULL};
	err_t rc;
	const char *id;
	json_object *body = NULL;
	struct valid v;
	units_unit u;

	valid_init(&v);
	if ((rc = routes_path_uuid(c, "id", &id)) != ERR_OK || (rc = routes_query_unit(c, &u)) != ERR_OK)
		goto out;
	if ((rc = routes_body_owned(c, bikes_own, 1, &body)) != ERR_OK)
		goto out;
	if (body) {
		units_unit bu;
		valid_fields(&v, body, allowed, NULL);
		/* The body's unit, when given, wins over ?unit=. */
		if (valid_unit(&v, body, "unit", &bu) == VALID_SET)
			u = bu;
		if (!valid_ok(&v)) {
			rc = routes_invalid(c, bikes_own, &v);
			goto out;
		}
	}
	rc = activate ? db_bike_set_active(c, id, u, &c->out) : db_bike_deactivate(c, id, u, &c->out);
out:
	json_object_put(body);
	valid_free(&v);
	return rc;
}

err_t bikes_set_active(struct ctx *c)
{
	return bikes_toggle(c, 1);
}

err_t bikes_deactivate(struct ctx *c)
{
	return bikes_toggle(c, 0);
}
