/* Ride SQL. Logging a ride is one statement (vehicles.log_ride) whatever the number of parts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db_bike.h"
#include "db_part.h"
#include "db_ride.h"

static struct db_stmt st_log = {"ride_log",
	"SELECT vehicles.log_ride($1, $2, $3::numeric, $4::timestamptz, $5, $6, $7)", 7, 0};
static struct db_stmt st_delete = {"ride_delete", "SELECT vehicles.ride_delete($1, $2)", 2, 0};
static struct db_stmt st_count = {"ride_count",
	"SELECT count(*) FROM vehicles.kilometrage_log WHERE bike_id = $1", 1, 0};
/* Newest first on (logged_at, id), served by kilometrage_log_bike_idx; $2/$3 the keyset. */
static struct db_stmt st_page = {"ride_page",
	"SELECT l.id, l.created_at, l.bike_id, l.user_id, l.distance, l.logged_at, l.notes,"
	" (extract(epoch FROM l.logged_at) * 1000000)::bigint AS _cursor"
	" FROM vehicles.kilometrage_log l WHERE l.bike_id = $1"
	" AND ($2::bigint IS NULL OR (l.logged_at, l.id) <"
	" (timestamptz 'epoch' + $2::bigint * interval '1 microsecond', $3::uuid))"
	" ORDER BY l.logged_at DESC, l.id DESC LIMIT $4 OFFSET $5", 5, 0};

err_t db_ride_log(struct ctx *c, const struct db_ride *r, units_unit u, json_object **out,
		  int *replayed)
{
	char id[37];
	struct db_query q[1] = {{&st_log, {id, r->bike, r->distance_km, r->logged_at, r->notes,
					   r->key, r->request}}};
	json_object *res = NULL, *body, *flag;
	err_t rc = ERR_INTERNAL;

	*out = NULL;
	*replayed = 0;
	if (db_uuid4(id) != 0)
		return rc;
	if ((rc = ctx_db_run(c, q, 1)) != ERR_OK)
		goto out;
	rc = ERR_INTERNAL;
	res = db_json_parse(PQgetvalue(q[0].res, 0, 0));
	if (!json_object_object_get_ex(res, "body", &body) || !json_object_is_type(body, json_type_object))
		goto out;
	*replayed = json_object_object_get_ex(res, "replayed", &flag) && json_object_get_boolean(flag);
	*out = json_object_get(body);
	db_json_api(*out, u);
	json_object_object_add(*out, "unit", json_object_new_string(units_name(u)));
	rc = ERR_OK;
out:
	json_object_put(res);
	db_queries_clear(q, 1);
	return rc;
}

err_t db_ride_delete(struct ctx *c, const char *bike, const char *log_id)
{
	struct db_query q[1] = {{&st_delete, {bike, log_id}}};
	err_t rc = ctx_db_run(c, q, 1);

	db_queries_clear(q, 1);
	return rc;
}

err_t db_ride_history(struct ctx *c, const char *bike, long limit, long offset,
		      const char *cursor_us, const char *cursor_id, units_unit u, json_object **items,
		      long *total, char *next_cursor, size_t next_len)
{
	struct db_page pg;
	struct db_query q[3] = {{&db_bike_st_assert, {bike}}, {&st_count, {bike}},
				{&st_page, {bike, cursor_us, cursor_id, pg.limit, pg.offset}}};
	err_t rc = ERR_INTERNAL;
	int n;

	*items = NULL;
	next_cursor[0] = '\0';
	/* One row more than asked tells whether there is a next page. */
	if (db_page_init(&pg, limit + 1, offset) != 0)
		return rc;
	if ((rc = ctx_db_run(c, q, 3)) != ERR_OK)
		goto out;
	*total = strtol(PQgetvalue(q[1].res, 0, 0), NULL, 10);
	n = PQntuples(q[2].res);
	*items = json_object_new_array();
	for (int i = 0; i < n && i < limit; i++) {
		json_object *row = db_row_json(q[2].res, i, u);
		json_object_object_del(row, "_cursor");
		json_object_array_add(*items, row);
	}
	if (n > limit && limit > 0 &&
	    snprintf(next_cursor, next_len, "%s.%s", db_text(q[2].res, (int)limit - 1, "_cursor"),
		     db_text(q[2].res, (int)limit - 1, "id")) >= (int)next_len)
		next_cursor[0] = '\0';
out:
	db_queries_clear(q, 3);
	return rc;
}
