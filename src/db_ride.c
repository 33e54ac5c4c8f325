/* Ride SQL. Logging a ride is one statement (vehicles.ride_log) whatever the number of parts. */
#include <stdio.h>

#include "cursor.h"
#include "db_json.h"
#include "db_ride.h"

static struct db_stmt st_log = {"ride_log", "SELECT vehicles.ride_log($1, $2, $3::jsonb, $4, $5)", 5, 0};
static struct db_stmt st_update = {"ride_update", "SELECT vehicles.ride_update($1, $2, $3::jsonb)", 3, 0};
static struct db_stmt st_batch = {"ride_batch", "SELECT vehicles.ride_batch($1::jsonb)", 1, 0};
static struct db_stmt st_delete = {"ride_delete", "SELECT vehicles.ride_delete($1, $2)", 2, 0};
/* The history's total: the bike's stored ride count, kept by the ride functions
 * (011_ride_count.sql), so a page costs the same whatever the length of the history. */
static struct db_stmt st_total = {"ride_total",
	"SELECT ride_count FROM vehicles.user_bike WHERE id = $1", 1, 0};
/* Newest first on (logged_at, id), both served by kilometrage_log_bike_idx (bike_id,
 * logged_at DESC, id DESC). Two statements, not one with "$2 IS NULL OR": a prepared
 * statement's generic plan could not use the keyset as an index bound, and a cursor page
 * would read every newer ride. The keyset column is the cursor (include/cursor.h). */
#define DB_RIDE_COLS \
	"SELECT l.id, l.created_at, l.bike_id, l.user_id, l.distance, l.logged_at, l.notes," \
	" l.moving_time_s, l.elevation_gain, l.ride_type, l.source, l.external_id," \
	" (extract(epoch FROM l.logged_at) * 1000000)::bigint AS _cursor" \
	" FROM vehicles.kilometrage_log l WHERE l.bike_id = $1"
#define DB_RIDE_ORDER " ORDER BY l.logged_at DESC, l.id DESC LIMIT "
static struct db_stmt st_page = {"ride_page", DB_RIDE_COLS DB_RIDE_ORDER "$2 OFFSET $3", 3, 0};
/* After the cursor's ride: $2 its microseconds since 1970, $3 its id. */
static struct db_stmt st_after = {"ride_page_after",
	DB_RIDE_COLS " AND (l.logged_at, l.id) <"
	" (timestamptz 'epoch' + $2::bigint * interval '1 microsecond', $3::uuid)"
	DB_RIDE_ORDER "$4", 4, 0};

err_t db_ride_log(struct db_sess *s, const struct db_ride *r, units_unit u, json_object **out,
		  int *replayed, int *status)
{
	char id[37];
	struct db_query q[1] = {{&st_log, {id, r->bike, r->fields, r->key, r->request}}};
	json_object *res = NULL, *body, *flag;
	err_t rc;

	*out = NULL;
	*replayed = 0;
	*status = 201;
	if (db_uuid4(id) != 0)
		return ERR_INTERNAL;
	/* {"replayed": bool, "status": 201|200, "body": {bike, log, affected_parts}}, in km */
	if ((rc = db_doc(s, q, 1, u, &res)) != ERR_OK)
		return rc;
	rc = ERR_INTERNAL;
	if (json_object_object_get_ex(res, "body", &body) && json_object_is_type(body, json_type_object)) {
		*replayed = json_object_object_get_ex(res, "replayed", &flag) && json_object_get_boolean(flag);
		if (json_object_object_get_ex(res, "status", &flag) && json_object_get_int(flag) == 200)
			*status = 200;
		*out = json_object_get(body);
		rc = ERR_OK;
	}
	json_object_put(res);
	return rc;
}

err_t db_ride_update(struct db_sess *s, const char *bike, const char *log_id, const char *fields,
		     units_unit u, json_object **out)
{
	struct db_query q[1] = {{&st_update, {bike, log_id, fields}}};

	*out = NULL;
	return db_doc(s, q, 1, u, out);
}

err_t db_ride_batch(struct db_sess *s, const char *rides, units_unit u, json_object **results)
{
	struct db_query q[1] = {{&st_batch, {rides}}};
	err_t rc;

	*results = NULL;
	if ((rc = db_doc(s, q, 1, u, results)) != ERR_OK)
		return rc;
	if (!json_object_is_type(*results, json_type_array)) {
		json_object_put(*results);
		*results = NULL;
		return ERR_INTERNAL;
	}
	return ERR_OK;
}

err_t db_ride_delete(struct db_sess *s, const char *bike, const char *log_id)
{
	struct db_query q[1] = {{&st_delete, {bike, log_id}}};

	return db_exec(s, q, 1);
}

/* The rows up to limit, without their keyset column. */
static json_object *db_ride_items(const PGresult *res, long limit, units_unit u)
{
	json_object *items = json_object_new_array();
	int n = PQntuples(res);

	for (int i = 0; items && i < n && i < limit; i++) {
		json_object *row = db_json_row(res, i, u);
		json_object_object_del(row, "_cursor");
		json_object_array_add(items, row);
	}
	return items;
}

err_t db_ride_history(struct db_sess *s, const char *bike, units_unit u, struct db_ride_page *p)
{
	struct db_page pg;
	struct db_query q[2] = {{&st_total, {bike}}, {&st_page, {bike, pg.limit, pg.offset}}};
	err_t rc;

	p->items = NULL;
	p->next[0] = '\0';
	/* One row more than asked tells whether there is a next page. */
	if (db_page_init(&pg, p->limit + 1, p->offset) != 0)
		return ERR_INTERNAL;
	if (p->cursor_us) /* (rides_history refuses an offset with a cursor) */
		q[1] = (struct db_query){&st_after, {bike, p->cursor_us, p->cursor_id, pg.limit}};
	if ((rc = db_run(s, q, 2)) != ERR_OK)
		return rc;
	p->total = db_count(q[0].res);
	p->items = db_ride_items(q[1].res, p->limit, u);
	if (p->items == NULL)
		rc = ERR_INTERNAL;
	if (PQntuples(q[1].res) > p->limit && p->limit > 0) {
		int last = (int)p->limit - 1;
		if (cursor_format(p->next, sizeof(p->next), db_text(q[1].res, last, "_cursor"),
				  db_text(q[1].res, last, "id")) != 0)
			p->next[0] = '\0';
	}
	db_queries_clear(q, 2);
	return rc;
}
