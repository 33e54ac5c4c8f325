/* Install, remove, and list what is on a bike. The SQL functions hold the rules and locks;
 * both ids' ownership is declared in the route table. */
#include <stdint.h>
#include <stdio.h>
#include <strings.h>

#include "db_part.h"
#include "db_retire.h"
#include "installs.h"
#include "req.h"

/* Body {installed_at?} or {removed_at?}, or none. */
static err_t installs_change(struct ctx *c, int install)
{
	const char *field = install ? "installed_at" : "removed_at";
	const char *const allowed[] = {field, NULL};
	const char *bike = req_param(c, "bike_id"), *part = req_param(c, "part_id"), *at = NULL;
	json_object *body = NULL;
	struct valid v;
	double epoch;
	err_t rc;

	valid_init(&v);
	if ((rc = req_body(c, 1, &body)) != ERR_OK)
		goto out;
	if (body) {
		valid_fields(&v, body, allowed, NULL);
		(void)valid_timestamp(&v, body, field, c->now, VALID_NULLABLE, &at, &epoch);
		if (!valid_ok(&v)) {
			rc = req_invalid(c, &v);
			goto out;
		}
	}
	if (install) {
		rc = db_part_install(&c->db, bike, part, at, &c->out);
		if (rc == ERR_OK)
			c->status = 201;
	} else {
		rc = db_part_remove(&c->db, bike, part, at, &c->out);
	}
out:
	json_object_put(body);
	valid_free(&v);
	return rc;
}

err_t installs_install(struct ctx *c)
{
	return installs_change(c, 1);
}

err_t installs_remove(struct ctx *c)
{
	return installs_change(c, 0);
}

/* "at" only for its form here: whether it is in the future is judged by the SQL, after the
 * new part's 404/403 (the API's order), so the check gets a "now" no timestamp is after. */
#define INSTALLS_NO_FUTURE_CHECK ((time_t)INT32_MAX * 64)

/* new_part_id: a UUID other than the old part's (any case). */
static const char *installs_new_part(struct valid *v, json_object *body, const char *old)
{
	json_object *val;
	const char *id;

	if (!json_object_object_get_ex(body, "new_part_id", &val) || val == NULL) {
		valid_add(v, "new_part_id", "is required");
		return NULL;
	}
	id = json_object_is_type(val, json_type_string) ? json_object_get_string(val) : NULL;
	if (!valid_is_uuid(id)) {
		valid_add(v, "new_part_id", "must be a UUID");
		return NULL;
	}
	if (strcasecmp(id, old) == 0) {
		valid_add(v, "new_part_id", "must be the id of another part");
		return NULL;
	}
	return id;
}

/* {"new_part_id", "at"?, "retire_old"?}. The new part's existence and owner are checked
 * (404/403 with details.new_part_id) once the body is known good. */
err_t installs_replace(struct ctx *c)
{
	const char *const allowed[] = {"new_part_id", "at", "retire_old", NULL};
	const char *part = req_param(c, "part_id"), *at = NULL, *new_part = NULL;
	char new_id[37]; /* the pre statement keeps it until the request ends; the body goes */
	json_object *body = NULL, *ro;
	int retire_old = 1;
	struct valid v;
	double epoch;
	err_t rc;

	valid_init(&v);
	if ((rc = req_body(c, 0, &body)) != ERR_OK)
		goto out;
	valid_fields(&v, body, allowed, NULL);
	new_part = installs_new_part(&v, body, part);
	(void)valid_timestamp(&v, body, "at", INSTALLS_NO_FUTURE_CHECK, VALID_NULLABLE, &at, &epoch);
	if (json_object_object_get_ex(body, "retire_old", &ro) && ro != NULL) {
		if (json_object_is_type(ro, json_type_boolean))
			retire_old = json_object_get_boolean(ro);
		else
			valid_add(&v, "retire_old", "must be a boolean");
	}
	if (!valid_ok(&v)) {
		rc = req_invalid(c, &v);
		goto out;
	}
	if (snprintf(new_id, sizeof(new_id), "%s", new_part) != 36) {
		rc = ERR_INTERNAL;
		goto out;
	}
	if ((rc = req_own(c, ENTITY_PART, new_id, "new_part_id")) != ERR_OK)
		goto out;
	rc = db_retire_replace(&c->db, req_param(c, "bike_id"), part, new_id, at,
			       retire_old ? "true" : "false", &c->out);
	if (rc == ERR_OK)
		c->status = 201;
out:
	json_object_put(body);
	valid_free(&v);
	return rc;
}

err_t installs_list(struct ctx *c)
{
	err_t rc;
	units_unit u;
	long limit, offset, total = 0;

	if ((rc = req_query_unit(c, &u)) != ERR_OK || (rc = req_query_page(c, &limit, &offset)) != ERR_OK)
		return rc;
	rc = db_part_on_bike(&c->db, req_param(c, "bike_id"), limit, offset, u, &c->out, &total);
	if (rc == ERR_OK)
		c->total_count = total;
	return rc;
}
