/* SQL for service intervals (sql/functions/62_intervals.sql) and the due list. */
#ifndef VS_DB_INTERVAL_H
#define VS_DB_INTERVAL_H

#include <json-c/json.h>
#include "db.h"
#include "entity.h"

/* Queues the interval's 404/403 check at the head of the request's pipelines (as req_own
 * does for a bike or part), so it answers before the body's 400. */
err_t db_interval_own(struct db_sess *s, const char *id) WUR;
/* fields: validated JSON text (every_distance in km). *out: the interval in unit u. */
err_t db_interval_create(struct db_sess *s, enum entity of, const char *of_id, const char *fields,
			 units_unit u, json_object **out) WUR;
err_t db_interval_update(struct db_sess *s, const char *id, const char *fields, units_unit u,
			 json_object **out) WUR;
err_t db_interval_delete(struct db_sess *s, const char *id) WUR;
/* The intervals of a bike or part, newest first (created_at DESC, id DESC). */
err_t db_interval_list(struct db_sess *s, enum entity of, const char *of_id, long limit,
		       long offset, units_unit u, json_object **out, long *total) WUR;
/* The caller's due list; states: a comma list of ok, due_soon, overdue (already checked). */
err_t db_interval_due(struct db_sess *s, const char *states, units_unit u, json_object **out) WUR;

#endif
