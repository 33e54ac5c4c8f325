/* Bike SQL. Writes go through the functions of sql/functions/30_bikes.sql; reads use the
 * view vehicles.bike_v (is_active included). */
#include <string.h>

#include "db_bike.h"
#include "db_json.h"
#include "db_sql.h"

static struct db_stmt st_insert = {"bike_create", "SELECT vehicles.gear_create('bike', $1, $2::jsonb)", 2, 0};

static struct db_stmt st_one = {"bike_one",
	"SELECT " DB_BIKE_COLS " FROM vehicles.bike_v b WHERE b.id = $1", 1, 0};

static struct db_stmt st_parts = {"bike_parts", DB_PARTS_INSTALLED("i.bike_id = $1"), 1, 0};

static struct db_stmt st_recent_maint = {"bike_recent_maint",
	"SELECT " DB_MAINT_COLS " FROM vehicles.maintenance_record m WHERE m.bike_id = $1"
	" ORDER BY m.performed_at DESC, m.id DESC LIMIT 5", 1, 0};

static struct db_stmt st_count = {"bike_count",
	"SELECT count(*) AS total FROM vehicles.user_bike WHERE user_id = auth.uid()", 0, 0};

static struct db_stmt st_page = {"bike_page",
	"SELECT " DB_BIKE_COLS " FROM vehicles.bike_v b WHERE b.user_id = auth.uid()"
	" ORDER BY b.created_at DESC, b.id DESC LIMIT $1 OFFSET $2", 2, 0};

/* The page with its total, in one statement (db_list_counted). */
static struct db_stmt st_page_counted = {"bike_page_counted",
	"SELECT " DB_BIKE_COLS ", (SELECT count(*) FROM vehicles.user_bike"
	" WHERE user_id = auth.uid()) AS _total FROM vehicles.bike_v b WHERE b.user_id = auth.uid()"
	" ORDER BY b.created_at DESC, b.id DESC LIMIT $1 OFFSET $2", 2, 0};

static struct db_stmt st_page_parts = {"bike_page_parts",
	DB_PARTS_INSTALLED("i.bike_id IN (SELECT id FROM vehicles.user_bike WHERE user_id = auth.uid()"
			   " ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2)"), 2, 0};

/* The active bike comes from public.user_settings, the platform's table, through a
 * security-definer function: the service needs no grant on it. */
static struct db_stmt st_active = {"bike_active",
	"SELECT " DB_BIKE_COLS " FROM vehicles.bike_v b"
	" WHERE b.id = (SELECT vehicles.bike_active_id())", 0, 0};

static struct db_stmt st_active_parts = {"bike_active_parts",
	DB_PARTS_INSTALLED("i.bike_id = (SELECT vehicles.bike_active_id())"), 0, 0};

static struct db_stmt st_update = {"bike_update", "SELECT vehicles.gear_update('bike', $1, $2::jsonb)", 2, 0};
static struct db_stmt st_delete = {"bike_delete", "SELECT vehicles.bike_delete($1)", 1, 0};
static struct db_stmt st_set_active = {"bike_set_active", "SELECT vehicles.bike_set_active($1)", 1, 0};
static struct db_stmt st_deactivate = {"bike_deactivate", "SELECT vehicles.bike_deactivate($1)", 1, 0};

/* Day counts are whole UTC days elapsed, floored, never negative (api-notes). total_cost:
 * the bike's price, its maintenance, and the price of each part ever installed on it that
 * the bike's owner still owns (each once, however often installed; removed ones too).
 * cost_per_distance per km, unrounded (db_json rounds it in the unit shown). */
static struct db_stmt st_stats = {"bike_stats",
	"SELECT b.total_kilometrage,"
	" round(tc.total, 2) AS total_cost,"
	" tc.total / nullif(b.total_kilometrage, 0) AS cost_per_distance,"
	" vehicles.maintenance_km_since(b.id) AS kilometrage_since_last_maintenance,"
	" " DB_DAYS_OWNED("b") " AS days_owned,"
	" " DB_DAYS_SINCE("lm.at") " AS days_since_last_maintenance,"
	" (SELECT count(*) FROM vehicles.part_installation i"
	"   WHERE i.bike_id = b.id AND i.removed_at IS NULL)::integer AS installed_parts_count"
	" FROM vehicles.user_bike b"
	" LEFT JOIN LATERAL (SELECT max(m.performed_at) AS at, sum(m.cost) AS cost"
	"   FROM vehicles.maintenance_record m WHERE m.bike_id = b.id) lm ON true"
	" CROSS JOIN LATERAL (SELECT sum(p.purchase_price) AS price FROM vehicles.user_part p"
	"   WHERE p.user_id = b.user_id AND p.id IN (SELECT i.part_id"
	"   FROM vehicles.part_installation i WHERE i.bike_id = b.id)) pp"
	" CROSS JOIN LATERAL (SELECT coalesce(b.purchase_price, 0) + coalesce(lm.cost, 0)"
	"   + coalesce(pp.price, 0) AS total) tc"
	" WHERE b.id = $1", 1, 0};

/* Adds "parts": the rows of parts (installed parts, any bikes) that are on this bike. */
static void db_bike_add_parts(json_object *bike, const PGresult *parts, units_unit u)
{
	json_object *id, *arr = json_object_new_array();
	const char *bike_id = json_object_object_get_ex(bike, "id", &id) ? json_object_get_string(id) : "";

	for (int r = 0; parts && r < PQntuples(parts); r++) {
		const char *on = db_text(parts, r, "current_bike_id");
		if (on && strcmp(on, bike_id) == 0)
			json_object_array_add(arr, db_json_row(parts, r, u));
	}
	json_object_object_add(bike, "parts", arr);
}

/* First row of bike as the bike, with its parts; NULL when there is no row. */
static json_object *db_bike_with_parts(const PGresult *bike, const PGresult *parts, units_unit u)
{
	json_object *one;

	if (PQntuples(bike) == 0)
		return NULL;
	one = db_json_row(bike, 0, u);
	if (one)
		db_bike_add_parts(one, parts, u);
	return one;
}

/* Members a bike's answer adds to its row: db_json_text_ok refuses a column of these names. */
static const char *const db_bike_members[] = {"parts", "recent_maintenance", NULL};

/* Bike row r of bikes with "parts": the rows of parts on it (their column on, current_bike_id),
 * as db_bike_add_parts puts them; left open for the caller's members. */
static void db_bike_row_text(struct jtext *t, const PGresult *bikes, int r, int id,
			     const PGresult *parts, int on, units_unit u)
{
	const char *bike_id = PQgetvalue(bikes, r, id);
	int n = 0;

	jtext_key(t, "parts", !db_json_row_text(t, bikes, r, u, 0));
	jtext_char(t, '[');
	for (int p = 0; p < PQntuples(parts); p++) {
		if (PQgetisnull(parts, p, on) || strcmp(PQgetvalue(parts, p, on), bike_id) != 0)
			continue;
		if (n++ > 0)
			jtext_char(t, ',');
		db_json_row_text(t, parts, p, u, 1);
	}
	jtext_char(t, ']');
}

/* Bike rows [0, nbikes) with their parts, as one bike (array 0: db_bike_get, with maint's
 * "recent_maintenance") or an array (db_bike_list's include_parts page, maint NULL). NULL when
 * the columns are not ones the text says (db_json_text_ok), or out of memory. */
static json_object *db_bike_text(const PGresult *bikes, int nbikes, const PGresult *parts,
				 const PGresult *maint, int array, units_unit u)
{
	int id = PQfnumber(bikes, "id"), on = PQfnumber(parts, "current_bike_id");
	struct jtext t;

	if (id < 0 || on < 0 || !db_json_text_ok(bikes, db_bike_members) ||
	    !db_json_text_ok(parts, NULL) || (maint && !db_json_text_ok(maint, NULL)))
		return NULL;
	jtext_init(&t);
	if (array)
		jtext_char(&t, '[');
	for (int r = 0; r < nbikes; r++) {
		if (r > 0)
			jtext_char(&t, ',');
		db_bike_row_text(&t, bikes, r, id, parts, on, u);
		if (maint) {
			jtext_key(&t, "recent_maintenance", 0);
			db_json_rows_text(&t, maint, u);
		}
		jtext_char(&t, '}');
	}
	if (array)
		jtext_char(&t, ']');
	return jtext_json(&t);
}

/* Runs q[0..n) and answers the bike of q[bike_i] with the parts of q[parts_i] (-1: none). */
static err_t db_bike_read(struct db_sess *s, struct db_query *q, size_t n, size_t bike_i,
			  long parts_i, units_unit u, json_object **bike)
{
	err_t rc = db_run(s, q, n);

	*bike = NULL;
	if (rc == ERR_OK) {
		*bike = db_bike_with_parts(q[bike_i].res, parts_i < 0 ? NULL : q[parts_i].res, u);
		if (*bike == NULL)
			rc = ERR_NOT_FOUND;
	}
	return rc;
}

err_t db_bike_create(struct db_sess *s, const char *patch, units_unit u, json_object **bike)
{
	char id[37];
	struct db_query q[2] = {{&st_insert, {id, patch}}, {&st_one, {id}}};
	err_t rc;

	*bike = NULL;
	if (db_uuid4(id) != 0)
		return ERR_INTERNAL;
	rc = db_bike_read(s, q, 2, 1, -1, u, bike);
	db_queries_clear(q, 2);
	return rc;
}

err_t db_bike_list(struct db_sess *s, long limit, long offset, int include_parts, units_unit u,
		   json_object **bikes, long *total)
{
	struct db_page pg;
	struct db_query q[3] = {{&st_count, {NULL}}, {&st_page, {pg.limit, pg.offset}},
				{&st_page_parts, {pg.limit, pg.offset}}};
	err_t rc;

	*bikes = NULL;
	if (db_page_init(&pg, limit, offset) != 0)
		return ERR_INTERNAL;
	if (!include_parts) {
		struct db_query page = {&st_page_counted, {pg.limit, pg.offset}};
		return db_list_counted(s, &page, &q[0], u, bikes, total);
	}
	rc = db_run(s, q, 3);
	if (rc == ERR_OK) {
		*total = db_count(q[0].res);
		if ((*bikes = db_bike_text(q[1].res, PQntuples(q[1].res), q[2].res, NULL, 1, u)) == NULL)
			rc = ERR_INTERNAL;
	}
	db_queries_clear(q, 3);
	return rc;
}

/* Runs write (may be NULL) then reads the bike back with its parts, in one transaction. */
static err_t db_bike_write_read(struct db_sess *s, struct db_stmt *write, const char *id,
				const char *arg, units_unit u, json_object **bike)
{
	struct db_query q[3] = {{write, {id, arg}}, {&st_one, {id}}, {&st_parts, {id}}};
	err_t rc = db_bike_read(s, q, 3, 1, 2, u, bike);

	db_queries_clear(q, 3);
	return rc;
}

/* The hot read: written as text, not built as a tree (include/jtext.h). */
err_t db_bike_get(struct db_sess *s, const char *id, units_unit u, json_object **bike)
{
	struct db_query q[3] = {{&st_one, {id}}, {&st_parts, {id}}, {&st_recent_maint, {id}}};
	err_t rc = db_run(s, q, 3);

	*bike = NULL;
	if (rc == ERR_OK && PQntuples(q[0].res) == 0)
		rc = ERR_NOT_FOUND;
	else if (rc == ERR_OK && (*bike = db_bike_text(q[0].res, 1, q[1].res, q[2].res, 0, u)) == NULL)
		rc = ERR_INTERNAL;
	db_queries_clear(q, 3);
	return rc;
}

err_t db_bike_active(struct db_sess *s, units_unit u, json_object **bike)
{
	struct db_query q[2] = {{&st_active, {NULL}}, {&st_active_parts, {NULL}}};
	err_t rc = db_bike_read(s, q, 2, 0, 1, u, bike);

	db_queries_clear(q, 2);
	/* No active bike is not an error: the answer is null. */
	return rc == ERR_NOT_FOUND ? ERR_OK : rc;
}

err_t db_bike_update(struct db_sess *s, const char *id, const char *patch, units_unit u,
		     json_object **bike)
{
	return db_bike_write_read(s, &st_update, id, patch, u, bike);
}

err_t db_bike_set_active(struct db_sess *s, const char *id, units_unit u, json_object **bike)
{
	return db_bike_write_read(s, &st_set_active, id, NULL, u, bike);
}

err_t db_bike_deactivate(struct db_sess *s, const char *id, units_unit u, json_object **bike)
{
	return db_bike_write_read(s, &st_deactivate, id, NULL, u, bike);
}

err_t db_bike_delete(struct db_sess *s, const char *id)
{
	struct db_query q[1] = {{&st_delete, {id}}};

	return db_exec(s, q, 1);
}

err_t db_bike_stats(struct db_sess *s, const char *id, units_unit u, json_object **stats)
{
	struct db_query q[1] = {{&st_stats, {id}}};

	return db_one(s, q, 1, u, stats);
}
