/* Part and installation SQL. One transaction, one round trip each (see db.h); ownership of
 * the path's bike and part is checked by the session's pre statements (the route table). */
#ifndef VS_DB_PART_H
#define VS_DB_PART_H

#include <json-c/json.h>
#include "db.h"
#include "units.h"

err_t db_part_create(struct db_sess *s, const char *patch, units_unit u, json_object **part) WUR;
/* installed: -1 any, 0 not installed now, 1 installed now. status: NULL any, else
 * "installed", "stored" or "retired" (part_v.status). Both given: both hold. */
err_t db_part_list(struct db_sess *s, int installed, const char *status, long limit, long offset,
		   units_unit u, json_object **parts, long *total) WUR;
/* The part with installations (newest first) and maintenance (newest first). */
err_t db_part_get(struct db_sess *s, const char *id, units_unit u, json_object **part) WUR;
err_t db_part_update(struct db_sess *s, const char *id, const char *patch, units_unit u,
		     json_object **part) WUR;
err_t db_part_delete(struct db_sess *s, const char *id) WUR;
/* total_kilometrage, total_cost, cost_per_distance (null at 0 km), days_owned,
 * days_since_last_maintenance, current_bike (or null), installation_count,
 * replacement_threshold, needs_replacement. */
err_t db_part_stats(struct db_sess *s, const char *id, units_unit u, json_object **stats) WUR;

/* at: RFC 3339 text or NULL for now. *inst: the installation record. */
err_t db_part_install(struct db_sess *s, const char *bike, const char *part, const char *at,
		      json_object **inst) WUR;
err_t db_part_remove(struct db_sess *s, const char *bike, const char *part, const char *at,
		     json_object **inst) WUR;
/* Parts installed now on the bike, each with "installation": {id, installed_at}. */
err_t db_part_on_bike(struct db_sess *s, const char *bike, long limit, long offset, units_unit u,
		      json_object **parts, long *total) WUR;

#endif
