/*
 * Bike handlers. The token, the id's form and the bike's ownership were checked before
 * these run (routes.c); here the query and the body, then one call of db_bike.c.
 */
#include "bikes.h"
#include "db_bike.h"
#include "gear.h"
#include "list_cache.h"
#include "req.h"

err_t bikes_create(struct ctx *c)
{
	return gear_write(c, ENTITY_BIKE, NULL);
}

err_t bikes_update(struct ctx *c)
{
	return gear_write(c, ENTITY_BIKE, req_param(c, "id"));
}

err_t bikes_list(struct ctx *c)
{
	struct list_cache lc;
	struct list_cache_query q = {.kind = LIST_CACHE_BIKES};
	err_t rc;
	long total = 0;
	int include_parts, hit;

	if ((rc = req_query_unit(c, &q.unit)) != ERR_OK ||
	    (rc = req_query_page(c, &q.limit, &q.offset)) != ERR_OK ||
	    (rc = req_query_bool(c, "include_parts", &include_parts)) != ERR_OK)
		return rc;
	q.flag = include_parts == 1;
	if ((rc = list_cache_lookup(c, &lc, &q, &hit)) != ERR_OK || hit)
		return rc;
	rc = db_bike_list(&c->db, q.limit, q.offset, q.flag, q.unit, &c->out, &total);
	if (rc == ERR_OK) {
		c->total_count = total;
		list_cache_store(c, &lc);
	}
	return rc;
}

err_t bikes_active(struct ctx *c)
{
	err_t rc;
	units_unit u;

	if ((rc = req_query_unit(c, &u)) != ERR_OK)
		return rc;
	/* No active bike is 200 with null, not 404: the recorder polls this. */
	return db_bike_active(&c->db, u, &c->out);
}

err_t bikes_get(struct ctx *c)
{
	return gear_read(c, db_bike_get);
}

err_t bikes_delete(struct ctx *c)
{
	return gear_delete(c, ENTITY_BIKE);
}

/* set-active and deactivate: no body or {} (unit may ride along for the answer). */
static err_t bikes_toggle(struct ctx *c, int activate)
{
	static const char *const allowed[] = {"unit", NULL};
	const char *id = req_param(c, "id");
	json_object *body = NULL;
	struct valid v;
	units_unit u;
	err_t rc;

	valid_init(&v);
	if ((rc = req_query_unit(c, &u)) != ERR_OK || (rc = req_body(c, 1, &body)) != ERR_OK)
		goto out;
	if (body) {
		units_unit bu;
		valid_fields(&v, body, allowed, NULL);
		/* The body's unit, when given, wins over ?unit=. */
		if (valid_unit(&v, body, "unit", &bu) == VALID_SET)
			u = bu;
		if (!valid_ok(&v)) {
			rc = req_invalid(c, &v);
			goto out;
		}
	}
	rc = activate ? db_bike_set_active(&c->db, id, u, &c->out)
		      : db_bike_deactivate(&c->db, id, u, &c->out);
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

err_t bikes_stats(struct ctx *c)
{
	return gear_read(c, db_bike_stats);
}
