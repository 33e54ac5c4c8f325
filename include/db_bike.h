/* Bike SQL. Each function is one transaction in one round trip (see db.h); ownership of a
 * path's bike is checked by the session's pre statements (the route table). */
#ifndef VS_DB_BIKE_H
#define VS_DB_BIKE_H

#include <json-c/json.h>
#include "db.h"
#include "units.h"

/* patch: validated fields as JSON text (gear_patch_json). *bike: the bike object. */
err_t db_bike_create(struct db_sess *s, const char *patch, units_unit u, json_object **bike) WUR;
err_t db_bike_list(struct db_sess *s, long limit, long offset, int include_parts, units_unit u,
		   json_object **bikes, long *total) WUR;
/* The bike with parts (installed now) and recent_maintenance (newest 5). */
err_t db_bike_get(struct db_sess *s, const char *id, units_unit u, json_object **bike) WUR;
/* The caller's active bike with parts, or *bike = NULL. */
err_t db_bike_active(struct db_sess *s, units_unit u, json_object **bike) WUR;
err_t db_bike_update(struct db_sess *s, const char *id, const char *patch, units_unit u,
		     json_object **bike) WUR;
err_t db_bike_delete(struct db_sess *s, const char *id) WUR;
err_t db_bike_set_active(struct db_sess *s, const char *id, units_unit u, json_object **bike) WUR;
err_t db_bike_deactivate(struct db_sess *s, const char *id, units_unit u, json_object **bike) WUR;
/* total_kilometrage, total_cost, cost_per_distance (null at 0 km),
 * kilometrage_since_last_maintenance, days_owned, days_since_last_maintenance,
 * installed_parts_count. */
err_t db_bike_stats(struct db_sess *s, const char *id, units_unit u, json_object **stats) WUR;

#endif
