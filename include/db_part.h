/* SQL for parts and installations. One transaction, one round trip each (see db.h). */
#ifndef VS_DB_PART_H
#define VS_DB_PART_H

#include <json-c/json.h>
#include "ctx.h"
#include "db.h"
#include "units.h"

err_t db_part_create(struct ctx *c, const char *patch, units_unit u, json_object **part) WUR;
/* installed: -1 any, 0 not installed now, 1 installed now. */
err_t db_part_list(struct ctx *c, int installed, long limit, long offset, units_unit u,
		   json_object **parts, long *total) WUR;
/* The part with installations (newest first) and maintenance (newest first). */
err_t db_part_get(struct ctx *c, const char *id, units_unit u, json_object **part) WUR;
err_t db_part_update(struct ctx *c, const char *id, const char *patch, units_unit u,
		     json_object **part) WUR;
err_t db_part_delete(struct ctx *c, const char *id) WUR;
extern struct db_stmt db_part_st_assert;
err_t db_part_assert(struct ctx *c, const char *id) WUR;

/* at: RFC 3339 text or NULL for now. *inst: the installation record. */
err_t db_part_install(struct ctx *c, const char *bike, const char *part, const char *at,
		      json_object **inst) WUR;
err_t db_part_remove(struct ctx *c, const char *bike, const char *part, const char *at,
		     json_object **inst) WUR;
/* 404/403 for a bike and a part, bike first. */
err_t db_part_assert_pair(struct ctx *c, const char *bike, const char *part) WUR;
/* Parts installed now on the bike, each with "installation": {id, installed_at}. */
err_t db_part_on_bike(struct ctx *c, const char *bike, long limit, long offset, units_unit u,
		      json_object **parts, long *total) WUR;

#endif
