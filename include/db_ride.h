/* SQL for rides (the kilometrage log). */
#ifndef VS_DB_RIDE_H
#define VS_DB_RIDE_H

#include <stddef.h>
#include <json-c/json.h>
#include "db.h"
#include "units.h"

struct db_ride {
	const char *bike;
	const char *fields;  /* the ride's fields as stored (ride_fields_check), JSON text */
	const char *key;     /* Idempotency-Key or NULL */
	const char *request; /* canonical request text, hashed to detect key reuse */
};

/* *out: {bike, log, affected_parts} in unit u; *replayed: answered from the Idempotency-Key;
 * *status: 201 for a new ride, 200 for one already logged under its (source, external_id). */
err_t db_ride_log(struct db_sess *s, const struct db_ride *r, units_unit u, json_object **out,
		  int *replayed, int *status) WUR;
/* An edit of ride log_id on bike (fields: only those to change). *out as db_ride_log's. */
err_t db_ride_update(struct db_sess *s, const char *bike, const char *log_id, const char *fields,
		     units_unit u, json_object **out) WUR;
/* rides: [{"index", "bike_id", "ride": fields}, ...]; *results: [{index, status, log?, error?}]. */
err_t db_ride_batch(struct db_sess *s, const char *rides, units_unit u, json_object **results) WUR;
err_t db_ride_delete(struct db_sess *s, const char *bike, const char *log_id) WUR;

/* A page of a bike's rides, newest first. */
struct db_ride_page {
	long limit, offset;
	const char *cursor_us, *cursor_id; /* keyset position, both NULL for offset paging */
	json_object *items;                /* out: the rides */
	long total;                        /* out: all rides of the bike */
	char next[96];                     /* out: the next page's cursor, "" on the last page */
};
err_t db_ride_history(struct db_sess *s, const char *bike, units_unit u, struct db_ride_page *p) WUR;

#endif
