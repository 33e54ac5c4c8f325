/* SQL for bike and part statistics. */
#ifndef VS_DB_STATS_H
#define VS_DB_STATS_H

#include <json-c/json.h>
#include "ctx.h"
#include "units.h"

err_t db_stats_bike(struct ctx *c, const char *id, units_unit u, json_object **stats) WUR;
err_t db_stats_part(struct ctx *c, const char *id, units_unit u, json_object **stats) WUR;

#endif
