/* Retirement and replacement SQL (sql/functions/40_parts.sql: part_retire, part_unretire,
 * part_replace). One transaction, one round trip each (see db.h); the route table checks the
 * path's bike and part first. */
#ifndef VS_DB_RETIRE_H
#define VS_DB_RETIRE_H

#include <json-c/json.h>
#include "db.h"
#include "units.h"

/* at: RFC 3339 text or NULL for now; reason: trimmed text or NULL. *part: the part object. */
err_t db_retire_part(struct db_sess *s, const char *part, const char *at, const char *reason,
		     units_unit u, json_object **part_out) WUR;
err_t db_retire_unretire(struct db_sess *s, const char *part, units_unit u,
			 json_object **part_out) WUR;
/* retire_old: "true" or "false". *out: {"removed": installation, "installed": installation}. */
err_t db_retire_replace(struct db_sess *s, const char *bike, const char *old_part,
			const char *new_part, const char *at, const char *retire_old,
			json_object **out) WUR;

#endif
