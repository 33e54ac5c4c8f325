/*
 * Statistics, computed in one statement each (api-notes, "Maintenance and statistics"):
 * day counts are whole UTC days elapsed, floored, never negative.
 */
#include "db.h"
#include "db_bike.h"
#include "db_part.h"
#include "db_stats.h"

static struct db_stmt st_bike = {"stats_bike",
	"SELECT b.total_kilometrage,"
	" vehicles.km_since_maintenance(b.id) AS kilometrage_since_last_maintenance,"
	" greatest(0, CASE WHEN b.purchase_date IS NOT NULL"
	"  THEN (now() AT TIME ZONE 'UTC')::date - b.purchase_date"
	"  ELSE floor(extract(epoch FROM now() - b.created_at) / 86400)::integer END) AS days_owned,"
	" CASE WHEN lm.at IS NULL THEN NULL"
	"  ELSE greatest(0, floor(extract(epoch FROM now() - lm.at) / 86400))::integer END"
	"  AS days_since_last_maintenance,"
	" (SELECT count(*) FROM vehicles.part_installation i"
	"   WHERE i.bike_id = b.id AND i.removed_at IS NULL)::integer AS installed_parts_count"
	" FROM vehicles.user_bike b"
	" LEFT JOIN LATERAL (SELECT max(m.performed_at) AS at FROM vehicles.maintenance_record m"
	"   WHERE m.bike_id = b.id) lm ON true"
	" WHERE b.id = $1", 1, 0};

static struct db_stmt st_part = {"stats_part",
	"SELECT p.total_kilometrage,"
	" greatest(0, CASE WHEN p.purchase_date IS NOT NULL"
	"  THEN (now() AT TIME ZONE 'UTC')::date - p.purchase_date"
	"  ELSE floor(extract(epoch FROM now() - p.created_at) / 86400)::integer END) AS days_owned,"
	" CASE WHEN lm.at IS NULL THEN NULL"
	"  ELSE greatest(0, floor(extract(epoch FROM now() - lm.at) / 86400))::integer END"
	"  AS days_since_last_maintenance,"
	" cb.id AS \"current_bike.id\", cb.name AS \"current_bike.name\","
	" (SELECT count(*) FROM vehicles.part_installation i WHERE i.part_id = p.id)::integer"
	"  AS installation_count,"
	" th.km AS replacement_threshold,"
	" CASE WHEN th.km IS NULL THEN NULL ELSE p.total_kilometrage >= th.km END AS needs_replacement"
	" FROM vehicles.user_part p"
	" LEFT JOIN LATERAL (SELECT max(m.performed_at) AS at FROM vehicles.maintenance_record m"
	"   WHERE m.part_id = p.id) lm ON true"
	" LEFT JOIN vehicles.part_installation ci ON ci.part_id = p.id AND ci.removed_at IS NULL"
	" LEFT JOIN vehicles.user_bike cb ON cb.id = ci.bike_id"
	" CROSS JOIN LATERAL (SELECT CASE WHEN jsonb_typeof(p.metadata -> 'replacement_threshold_km')"
	"   = 'number' THEN (p.metadata ->> 'replacement_threshold_km')::numeric END AS km) th"
	" WHERE p.id = $1", 1, 0};

static err_t db_stats_one(struct ctx *c, struct db_stmt *assert, struct db_stmt *st, const char *id,
			  units_unit u, json_object **stats)
{
	struct db_query q[2] = {{assert, {id}}, {st, {id}}};

	return ctx_db_one(c, q, 2, u, stats);
}

err_t db_stats_bike(struct ctx *c, const char *id, units_unit u, json_object **stats)
{
	return db_stats_one(c, &db_bike_st_assert, &st_bike, id, u, stats);
}

err_t db_stats_part(struct ctx *c, const char *id, units_unit u, json_object **stats)
{
	json_object *cb, *cid;
	err_t rc = db_stats_one(c, &db_part_st_assert, &st_part, id, u, stats);

	/* Not on a bike: current_bike is null, not {"id": null, "name": null}. */
	if (rc == ERR_OK && json_object_object_get_ex(*stats, "current_bike", &cb) &&
	    json_object_object_get_ex(cb, "id", &cid) && cid == NULL)
		json_object_object_add(*stats, "current_bike", NULL);
	return rc;
}
