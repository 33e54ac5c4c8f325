/* SQL for ownership transfers and ownership history. */
#ifndef VS_DB_TRANSFER_H
#define VS_DB_TRANSFER_H

#include <json-c/json.h>
#include "db.h"
#include "entity.h"

/* *out: the transfer confirmation our SQL builds. */
err_t db_transfer_run(struct db_sess *s, enum entity of, const char *id, const char *email,
		      const char *notes, json_object **out) WUR;
/* *owner: {created_at, user_id} of the item now; *transfers: its ownership_history rows,
 * oldest first, each with from_you/to_you for the caller. */
err_t db_transfer_history(struct db_sess *s, enum entity of, const char *id, json_object **owner,
			  json_object **transfers) WUR;

#endif
