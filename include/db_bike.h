/* SQL for bikes. Each function is one transaction in one round trip (see db.h). */
#ifndef VS_DB_BIKE_H
#define VS_DB_BIKE_H

#include <json-c/json.h>
#include <libpq-fe.h>
#include "ctx.h"
#include "db.h"
#include "units.h"

/* patch: validated fields as JSON text (gear_patch_json). *bike: the bike object. */
err_t db_bike_create(struct ctx *c, const char *patch, units_unit u, json_object **bike) WUR;
err_t db_bike_list(struct ctx *c, long limit, long offset, int include_parts, units_unit u,
		   json_object **bikes, long *total) WUR;
/* The bike with parts (installed now) and recent_maintenance (newest 5). */
err_t db_bike_get(struct ctx *c, const char *id, units_unit u, json_object **bike) WUR;
/* The caller's active bike with parts, or *bike = NULL. */
err_t db_bike_active(struct ctx *c, units_unit u, json_object **bike) WUR;
err_t db_bike_update(struct ctx *c, const char *id, const char *patch, units_unit u,
		     json_object **bike) WUR;
err_t db_bike_delete(struct ctx *c, const char *id) WUR;
err_t db_bike_set_active(struct ctx *c, const char *id, units_unit u, json_object **bike) WUR;
err_t db_bike_deactivate(struct ctx *c, const char *id, units_unit u, json_object **bike) WUR;
/* 404/403 only: for requests whose body is wrong, which must still say 404/403 first. */
extern struct db_stmt db_bike_st_assert;
err_t db_bike_assert(struct ctx *c, const char *id) WUR;
/* Attaches the parts rows (grouped by current_bike_id) to each bike of bikes. */
void db_bike_attach_parts(json_object *bikes, const PGresult *parts, units_unit u);

#endif
