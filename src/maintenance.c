/*
 * Maintenance records and statistics. A bike's record may name one of the caller's parts
 * (part_id) and a part's record one of their bikes (bike_id): "chain replaced on bike X".
 */
#include <string.h>

#include "db_bike.h"
#include "db_maint.h"
#include "db_part.h"
#include "db_stats.h"
#include "maintenance.h"
#include "routes.h"
#include "valid.h"

const char *const maintenance_types[] = {"repair", "replacement", "adjustment", "cleaning",
	"inspection", "other", NULL};

static err_t maintenance_bike_own(struct ctx *c)
{
	return db_bike_assert(c, router_param(&c->params, "id"));
}

static err_t maintenance_part_own(struct ctx *c)
{
	return db_part_assert(c, router_param(&c->params, "id"));
}

static err_t maintenance_create(struct ctx *c, int of_bike)
{
	const char *other = of_bike ? "part_id" : "bike_id";
	const char *const allowed[] = {"maintenance_type", "description", "performed_at", "cost",
				       "metadata", other, NULL};
	static const char *const readonly[] = {"id", "user_id", "created_at", "updated_at", NULL};
	routes_owner_fn own = of_bike ? maintenance_bike_own : maintenance_part_own;
	const char *id, *type, *desc, *at = NULL, *other_id = NULL;
	json_object *body = NULL, *fields = NULL, *meta = NULL;
	struct valid v;
	double cost = 0, epoch;
	enum valid_result r_cost;
	err_t rc;

	valid_init(&v);
	if ((rc = routes_path_uuid(c, "id", &id)) != ERR_OK ||
	    (rc = routes_body_owned(c, own, 0, &body)) != ERR_OK)
		goto out;
	valid_fields(&v, body, allowed, readonly);
	(void)valid_enum(&v, body, "maintenance_type", maintenance_types, VALID_REQUIRED, &type);
	(void)valid_string(&v, body, "description", 1, 2000, VALID_REQUIRED, &desc);
	(void)valid_timestamp(&v, body, "performed_at", c->now, VALID_NULLABLE, &at, &epoch);
	r_cost = valid_number(&v, body, "cost", 0, 1e9, 0, VALID_NULLABLE, &cost);
	(void)valid_object(&v, body, "metadata", 16384, 0, &meta);
	if (valid_string(&v, body, other, 0, 100, VALID_NULLABLE, &other_id) == VALID_SET &&
	    !valid_is_uuid(other_id))
		valid_add(&v, other, "must be a UUID");
	if (!valid_ok(&v)) {
		rc = routes_invalid(c, own, &v);
		goto out;
	}
	rc = ERR_INTERNAL;
	if ((fields = json_object_new_object()) == NULL)
		goto out;
	json_object_object_add(fields, "maintenance_type", json_object_new_string(type));
	json_object_object_add(fields, "description", json_object_new_string(desc));
	if (at)
		json_object_object_add(fields, "performed_at", json_object_new_string(at));
	if (r_cost == VALID_SET)
		json_object_object_add(fields, "cost", json_object_new_double(cost));
	if (meta)
		json_object_object_add(fields, "metadata", json_object_get(meta));
	rc = db_maint_create(c, of_bike ? id : other_id, of_bike ? other_id : id,
			     json_object_to_json_string_ext(fields, JSON_C_TO_STRING_PLAIN), &c->out);
	if (rc == ERR_OK)
		c->status = 201;
out:
	json_object_put(fields);
	json_object_put(body);
	valid_free(&v);
	return rc;
}

err_t maintenance_bike_create(struct ctx *c)
{
	return maintenance_create(c, 1);
}

err_t maintenance_part_create(struct ctx *c)
{
	return maintenance_create(c, 0);
}

static err_t maintenance_list(struct ctx *c, const char *of)
{
	err_t rc;
	const char *id;
	long limit, offset, total = 0;

	if ((rc = routes_path_uuid(c, "id", &id)) != ERR_OK ||
	    (rc = routes_query_page(c, &limit, &offset)) != ERR_OK)
		return rc;
	rc = db_maint_list(c, of, id, limit, offset, &c->out, &total);
	if (rc == ERR_OK)
		c->total_count = total;
	return rc;
}

err_t maintenance_bike_list(struct ctx *c)
{
	return maintenance_list(c, "bike");
}

err_t maintenance_part_list(struct ctx *c)
{
	return maintenance_list(c, "part");
}

static err_t maintenance_stats(struct ctx *c, int of_bike)
{
	err_t rc;
	const char *id;
	units_unit u;

	if ((rc = routes_path_uuid(c, "id", &id)) != ERR_OK || (rc = routes_query_unit(c, &u)) != ERR_OK)
		return rc;
	return of_bike ? db_stats_bike(c, id, u, &c->out) : db_stats_part(c, id, u, &c->out);
}

err_t maintenance_bike_stats(struct ctx *c)
{
	return maintenance_stats(c, 1);
}

err_t maintenance_part_stats(struct ctx *c)
{
	return maintenance_stats(c, 0);
}
