/* SQL for maintenance records. */
#ifndef VS_DB_MAINT_H
#define VS_DB_MAINT_H

#include <json-c/json.h>
#include "ctx.h"
#include "units.h"

/* bike or part may be NULL (not both); fields: validated JSON text. */
err_t db_maint_create(struct ctx *c, const char *bike, const char *part, const char *fields,
		      json_object **rec) WUR;
/* of: "bike" or "part". */
err_t db_maint_list(struct ctx *c, const char *of, const char *id, long limit, long offset,
		    json_object **recs, long *total) WUR;

#endif
