/* SQL for ownership transfers, ownership history and the internal summary. */
#ifndef VS_DB_TRANSFER_H
#define VS_DB_TRANSFER_H

#include <json-c/json.h>
#include "ctx.h"

/* of: "bike" or "part". *out: the transfer confirmation. */
err_t db_transfer_run(struct ctx *c, const char *of, const char *id, const char *email,
		      const char *notes, json_object **out) WUR;
/* {owners: [{user_id, is_you, from, to}], transfers: [...]}, oldest first. */
err_t db_transfer_history(struct ctx *c, const char *of, const char *id, json_object **out) WUR;
/* Runs as service_role: {total_bikes, total_parts, total_kilometrage_km, bikes_needing_maintenance}. */
err_t db_transfer_summary(struct ctx *c, const char *user_id, json_object **out) WUR;

#endif
