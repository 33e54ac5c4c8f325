/* Install, remove, and list what is on a bike. The SQL functions hold the rules and locks;
 * both ids' ownership is declared in the route table. */
#include "db_part.h"
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
