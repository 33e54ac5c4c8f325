/* Install, remove, and list what is on a bike. The SQL functions hold the rules and locks. */
#include "db_part.h"
#include "installs.h"
#include "routes.h"
#include "valid.h"

static err_t installs_own(struct ctx *c)
{
	return db_part_assert_pair(c, router_param(&c->params, "bike_id"),
				   router_param(&c->params, "part_id"));
}

/* Body {installed_at?} or {removed_at?}, or none. */
static err_t installs_change(struct ctx *c, int install)
{
	const char *field = install ? "installed_at" : "removed_at";
	const char *const allowed[] = {field, NULL};
	const char *bike, *part, *at = NULL;
	json_object *body = NULL;
	struct valid v;
	double epoch;
	err_t rc;

	valid_init(&v);
	if ((rc = routes_path_uuid(c, "bike_id", &bike)) != ERR_OK ||
	    (rc = routes_path_uuid(c, "part_id", &part)) != ERR_OK ||
	    (rc = routes_body_owned(c, installs_own, 1, &body)) != ERR_OK)
		goto out;
	if (body) {
		valid_fields(&v, body, allowed, NULL);
		(void)valid_timestamp(&v, body, field, c->now, VALID_NULLABLE, &at, &epoch);
		if (!valid_ok(&v)) {
			rc = routes_invalid(c, installs_own, &v);
			goto out;
		}
	}
	if (install) {
		rc = db_part_install(c, bike, part, at, &c->out);
		if (rc == ERR_OK)
			c->status = 201;
	} else {
		rc = db_part_remove(c, bike, part, at, &c->out);
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

err_t installs_list(struct ctx *c)
{
	err_t rc;
	const char *bike;
	units_unit u;
	long limit, offset, total = 0;

	if ((rc = routes_path_uuid(c, "bike_id", &bike)) != ERR_OK ||
	    (rc = routes_query_unit(c, &u)) != ERR_OK ||
	    (rc = routes_query_page(c, &limit, &offset)) != ERR_OK)
		return rc;
	rc = db_part_on_bike(c, bike, limit, offset, u, &c->out, &total);
	if (rc == ERR_OK)
		c->total_count = total;
	return rc;
}
