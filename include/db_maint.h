/* SQL for maintenance records. */
#ifndef VS_DB_MAINT_H
#define VS_DB_MAINT_H

#include <json-c/json.h>
#include "db.h"
#include "entity.h"

/* bike or part may be NULL (not both); fields: validated JSON text. */
err_t db_maint_create(struct db_sess *s, const char *bike, const char *part, const char *fields,
		      json_object **rec) WUR;
/* The records of a bike (bike_id = it, with or without a part) or of a part, newest first. */
err_t db_maint_list(struct db_sess *s, enum entity of, const char *id, long limit, long offset,
		    json_object **recs, long *total) WUR;
/* Deletes a record whose bike or part is the caller's (404, 403 otherwise). */
err_t db_maint_delete(struct db_sess *s, const char *id) WUR;

#endif
