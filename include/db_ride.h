/* SQL for rides (the kilometrage log). */
#ifndef VS_DB_RIDE_H
#define VS_DB_RIDE_H

#include <json-c/json.h>
#include "ctx.h"
#include "units.h"

struct db_ride {
	const char *bike;
	const char *distance_km; /* numeric text, 3 decimals */
	const char *logged_at;   /* RFC 3339 or NULL (now) */
	const char *notes;       /* or NULL */
	const char *key;         /* Idempotency-Key or NULL */
	const char *request;     /* canonical request text, hashed to detect key reuse */
};

/* *out: {bike, log, affected_parts, unit}; *replayed: answered from the Idempotency-Key. */
err_t db_ride_log(struct ctx *c, const struct db_ride *r, units_unit u, json_object **out,
		  int *replayed) WUR;
err_t db_ride_delete(struct ctx *c, const char *bike, const char *log_id) WUR;
/* cursor_us/cursor_id: keyset position (both NULL for offset paging). */
err_t db_ride_history(struct ctx *c, const char *bike, long limit, long offset,
		      const char *cursor_us, const char *cursor_id, units_unit u, json_object **items,
		      long *total, char *next_cursor, size_t next_len) WUR;

#endif
