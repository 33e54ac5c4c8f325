/* Bike SQL. Writes go through the functions of sql/migrations/004; reads use vehicles.bike_v. */
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db_bike.h"
#include "db_sql.h"

/* 404/403 for a bike: the first statement of every pipeline about one bike. */
struct db_stmt db_bike_st_assert = {"bike_assert", "SELECT vehicles.assert_owner('bike', $1)", 1, 0};

static struct db_stmt st_insert = {"bike_insert",
	"INSERT INTO vehicles.user_bike (id, user_id, name, type, brand, model, purchase_date,"
	" initial_kilometrage, total_kilometrage, metadata)"
	" SELECT $1, auth.uid(), p->>'name', (p->>'type')::vehicles.bike_type, p->>'brand',"
	" p->>'model', (p->>'purchase_date')::date,"
	" coalesce((p->>'initial_kilometrage')::numeric, 0),"
	" coalesce((p->>'initial_kilometrage')::numeric, 0), coalesce(p->'metadata', '{}'::jsonb)"
	" FROM (SELECT $2::jsonb AS p) s", 2, 0};

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

static struct db_stmt st_page_parts = {"bike_page_parts",
	DB_PARTS_INSTALLED("i.bike_id IN (SELECT id FROM vehicles.user_bike WHERE user_id = auth.uid()"
			   " ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2)"), 2, 0};

static struct db_stmt st_active = {"bike_active",
	"SELECT " DB_BIKE_COLS " FROM vehicles.bike_v b JOIN public.user_settings s"
	" ON s.active_bike_id = b.id WHERE s.user_id = auth.uid()", 0, 0};

static struct db_stmt st_active_parts = {"bike_active_parts",
	DB_PARTS_INSTALLED("i.bike_id = (SELECT active_bike_id FROM public.user_settings"
			   " WHERE user_id = auth.uid())"), 0, 0};

static struct db_stmt st_update = {"bike_update", "SELECT vehicles.gear_update('bike', $1, $2::jsonb)", 2, 0};
static struct db_stmt st_delete = {"bike_delete", "SELECT vehicles.bike_delete($1)", 1, 0};
static struct db_stmt st_set_active = {"bike_set_active", "SELECT vehicles.bike_set_active($1)", 1, 0};
static struct db_stmt st_deactivate = {"bike_deactivate", "SELECT vehicles.bike_deactivate($1)", 1, 0};

/* Adds "parts": the rows of parts (installed parts, any bikes) that are on this bike. */
static void db_bike_add_parts(json_object *bike, const PGresult *parts, units_unit u)
{
	json_object *id, *arr = json_object_new_array();
	const char *bike_id = json_object_object_get_ex(bike, "id", &id) ? json_object_get_string(id) : "";

	for (int r = 0; parts && r < PQntuples(parts); r++) {
		const char *on = db_text(parts, r, "current_bike_id");
		if (on && strcmp(on, bike_id) == 0)
			json_object_array_add(arr, db_row_json(parts, r, u));
	}
	json_object_object_add(bike, "parts", arr);
}

void db_bike_attach_parts(json_object *bikes, const PGresult *parts, units_unit u)
{
	for (size_t i = 0; i < json_object_array_length(bikes); i++)
		db_bike_add_parts(json_object_array_get_idx(bikes, i), parts, u);
}

/* First row of res as the bike, with its parts; NULL when res has no row. */
static json_object *db_bike_with_parts(const PGresult *bike, const PGresult *parts, units_unit u)
{
	json_object *one;

	if (PQntuples(bike) == 0)
		return NULL;
	one = db_row_json(bike, 0, u);
	db_bike_add_parts(one, parts, u);
	return one;
}

err_t db_bike_assert(struct ctx *c, const char *id)
{
	struct db_query q[1] = {{&db_bike_st_assert, {id}}};
	err_t rc = ctx_db_run(c, q, 1);

	db_queries_clear(q, 1);
	return rc;
}

err_t db_bike_create(struct ctx *c, const char *patch, units_unit u, json_object **bike)
{
	char id[37];
	struct db_query q[2] = {{&st_insert, {id, patch}}, {&st_one, {id}}};
	err_t rc = ERR_INTERNAL;

	*bike = NULL;
	if (db_uuid4(id) != 0)
		goto out;
	rc = ctx_db_run(c, q, 2);
	if (rc != ERR_OK)
		goto out;
	*bike = db_bike_with_parts(q[1].res, NULL, u);
	rc = *bike ? ERR_OK : ERR_INTERNAL;
out:
	db_queries_clear(q, 2);
	return rc;
}

err_t db_bike_list(struct ctx *c, long limit, long offset, int include_parts, units_unit u,
		   json_object **bikes, long *total)
{
	struct db_page pg;
	struct db_query q[3] = {{&st_count, {NULL}}, {&st_page, {pg.limit, pg.offset}},
				{&st_page_parts, {pg.limit, pg.offset}}};
	err_t rc = ERR_INTERNAL;

	*bikes = NULL;
	if (db_page_init(&pg, limit, offset) != 0)
		return rc;
	if (!include_parts)
		return ctx_db_list(c, q, 2, 0, 1, u, bikes, total);
	rc = ctx_db_run(c, q, 3);
	if (rc == ERR_OK) {
		*total = strtol(PQgetvalue(q[0].res, 0, 0), NULL, 10);
		*bikes = db_rows_json(q[1].res, u);
		db_bike_attach_parts(*bikes, q[2].res, u);
	}
	db_queries_clear(q, 3);
	return rc;
}

/* Runs write (may be NULL) then reads the bike back with its parts, in one transaction. */
static err_t db_bike_write_read(struct ctx *c, struct db_stmt *write, const char *id,
				const char *arg, units_unit u, json_object **bike)
{
	struct db_query q[3] = {{write, {id, arg}}, {&st_one, {id}}, {&st_parts, {id}}};
	err_t rc;

	*bike = NULL;
	rc = ctx_db_run(c, q, 3);
	if (rc == ERR_OK) {
		*bike = db_bike_with_parts(q[1].res, q[2].res, u);
		if (*bike == NULL)
			rc = ERR_NOT_FOUND;
	}
	db_queries_clear(q, 3);
	return rc;
}

err_t db_bike_get(struct ctx *c, const char *id, units_unit u, json_object **bike)
{
	struct db_query q[4] = {{&db_bike_st_assert, {id}}, {&st_one, {id}}, {&st_parts, {id}},
				{&st_recent_maint, {id}}};
	err_t rc;

	*bike = NULL;
	rc = ctx_db_run(c, q, 4);
	if (rc == ERR_OK) {
		*bike = db_bike_with_parts(q[1].res, q[2].res, u);
		if (*bike)
			json_object_object_add(*bike, "recent_maintenance", db_rows_json(q[3].res, u));
		else
			rc = ERR_NOT_FOUND;
	}
	db_queries_clear(q, 4);
	return rc;
}

err_t db_bike_active(struct ctx *c, units_unit u, json_object **bike)
{
	struct db_query q[2] = {{&st_active, {NULL}}, {&st_active_parts, {NULL}}};
	err_t rc = ctx_db_run(c, q, 2);

	*bike = NULL;
	if (rc == ERR_OK)
		*bike = db_bike_with_parts(q[0].res, q[1].res, u);
	db_queries_clear(q, 2);
	return rc;
}

err_t db_bike_update(struct ctx *c, const char *id, const char *patch, units_unit u,
		     json_object **bike)
{
	return db_bike_write_read(c, &st_update, id, patch, u, bike);
}

err_t db_bike_set_active(struct ctx *c, const char *id, units_unit u, json_object **bike)
{
	return db_bike_write_read(c, &st_set_active, id, NULL, u, bike);
}

err_t db_bike_deactivate(struct ctx *c, const char *id, units_unit u, json_object **bike)
{
	return db_bike_write_read(c, &st_deactivate, id, NULL, u, bike);
}

err_t db_bike_delete(struct ctx *c, const char *id)
{
	struct db_query q[1] = {{&st_delete, {id}}};
	err_t rc = ctx_db_run(c, q, 1);

	db_queries_clear(q, 1);
	return rc;
}
