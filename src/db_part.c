/* Part and installation SQL. Writes go through sql/migrations/005; reads use vehicles.part_v. */
#include <stdio.h>
#include <stdlib.h>

#include "db.h"
#include "db_bike.h"
#include "db_part.h"
#include "db_sql.h"

#define DB_INST_COLS "i.id, i.created_at, i.part_id, i.bike_id, i.installed_at, i.removed_at"

/* 404/403 for a part: the first statement of every pipeline about one part. */
struct db_stmt db_part_st_assert = {"part_assert", "SELECT vehicles.assert_owner('part', $1)", 1, 0};
static struct db_stmt st_assert_pair = {"part_assert_pair",
	"SELECT vehicles.assert_owner('bike', $1), vehicles.assert_owner('part', $2)", 2, 0};

static struct db_stmt st_insert = {"part_insert",
	"INSERT INTO vehicles.user_part (id, user_id, name, type, brand, model, purchase_date,"
	" initial_kilometrage, total_kilometrage, metadata)"
	" SELECT $1, auth.uid(), p->>'name', (p->>'type')::vehicles.part_type, p->>'brand',"
	" p->>'model', (p->>'purchase_date')::date,"
	" coalesce((p->>'initial_kilometrage')::numeric, 0),"
	" coalesce((p->>'initial_kilometrage')::numeric, 0), coalesce(p->'metadata', '{}'::jsonb)"
	" FROM (SELECT $2::jsonb AS p) s", 2, 0};

static struct db_stmt st_one = {"part_one",
	"SELECT " DB_PART_COLS " FROM vehicles.part_v p WHERE p.id = $1", 1, 0};

static struct db_stmt st_installations = {"part_installations",
	"SELECT " DB_INST_COLS " FROM vehicles.part_installation i WHERE i.part_id = $1"
	" ORDER BY i.installed_at DESC, i.created_at DESC", 1, 0};

static struct db_stmt st_maint = {"part_maint",
	"SELECT " DB_MAINT_COLS " FROM vehicles.maintenance_record m WHERE m.part_id = $1"
	" ORDER BY m.performed_at DESC, m.id DESC LIMIT 50", 1, 0};

/* $1: NULL for all parts, else whether it is installed now. */
static struct db_stmt st_count = {"part_count",
	"SELECT count(*) FROM vehicles.part_v p WHERE p.user_id = auth.uid()"
	" AND ($1::boolean IS NULL OR (p.current_bike_id IS NOT NULL) = $1::boolean)", 1, 0};

static struct db_stmt st_page = {"part_page",
	"SELECT " DB_PART_COLS " FROM vehicles.part_v p WHERE p.user_id = auth.uid()"
	" AND ($1::boolean IS NULL OR (p.current_bike_id IS NOT NULL) = $1::boolean)"
	" ORDER BY p.created_at DESC, p.id DESC LIMIT $2 OFFSET $3", 3, 0};

static struct db_stmt st_update = {"part_update", "SELECT vehicles.gear_update('part', $1, $2::jsonb)", 2, 0};
static struct db_stmt st_delete = {"part_delete", "SELECT vehicles.part_delete($1)", 1, 0};

static struct db_stmt st_install = {"part_install",
	"SELECT vehicles.part_install($1, $2, $3, $4::timestamptz)", 4, 0};
static struct db_stmt st_remove = {"part_remove",
	"SELECT vehicles.part_remove($1, $2, $3::timestamptz) AS id", 3, 0};
static struct db_stmt st_inst_one = {"part_inst_one",
	"SELECT " DB_INST_COLS " FROM vehicles.part_installation i WHERE i.id = $1", 1, 0};
/* The installation the removal just closed: the part's latest on that bike. */
static struct db_stmt st_inst_last = {"part_inst_last",
	"SELECT " DB_INST_COLS " FROM vehicles.part_installation i"
	" WHERE i.part_id = $2 AND i.bike_id = $1 ORDER BY i.installed_at DESC, i.created_at DESC"
	" LIMIT 1", 2, 0};

static struct db_stmt st_on_bike_count = {"part_on_bike_count",
	"SELECT count(*) FROM vehicles.part_installation WHERE bike_id = $1 AND removed_at IS NULL", 1, 0};
static struct db_stmt st_on_bike = {"part_on_bike",
	DB_PARTS_INSTALLED("i.bike_id = $1") " LIMIT $2 OFFSET $3", 3, 0};

static err_t db_part_run1(struct ctx *c, struct db_stmt *st, const char *a, const char *b)
{
	struct db_query q[1] = {{st, {a, b}}};
	err_t rc = ctx_db_run(c, q, 1);

	db_queries_clear(q, 1);
	return rc;
}

err_t db_part_assert(struct ctx *c, const char *id)
{
	return db_part_run1(c, &db_part_st_assert, id, NULL);
}

err_t db_part_assert_pair(struct ctx *c, const char *bike, const char *part)
{
	return db_part_run1(c, &st_assert_pair, bike, part);
}

err_t db_part_delete(struct ctx *c, const char *id)
{
	return db_part_run1(c, &st_delete, id, NULL);
}

/* Runs write (or nothing) and reads the part back, in one transaction. */
static err_t db_part_write_read(struct ctx *c, struct db_stmt *write, const char *id,
				const char *arg, units_unit u, json_object **part)
{
	struct db_query q[2] = {{write, {id, arg}}, {&st_one, {id}}};

	return ctx_db_one(c, q, 2, u, part);
}

err_t db_part_create(struct ctx *c, const char *patch, units_unit u, json_object **part)
{
	char id[37];

	*part = NULL;
	if (db_uuid4(id) != 0)
		return ERR_INTERNAL;
	return db_part_write_read(c, &st_insert, id, patch, u, part);
}

err_t db_part_update(struct ctx *c, const char *id, const char *patch, units_unit u,
		     json_object **part)
{
	return db_part_write_read(c, &st_update, id, patch, u, part);
}

err_t db_part_get(struct ctx *c, const char *id, units_unit u, json_object **part)
{
	struct db_query q[4] = {{&db_part_st_assert, {id}}, {&st_one, {id}}, {&st_installations, {id}},
				{&st_maint, {id}}};
	err_t rc = ctx_db_run(c, q, 4);

	*part = NULL;
	if (rc == ERR_OK) {
		if (PQntuples(q[1].res) == 1) {
			*part = db_row_json(q[1].res, 0, u);
			json_object_object_add(*part, "installations", db_rows_json(q[2].res, u));
			json_object_object_add(*part, "maintenance", db_rows_json(q[3].res, u));
		} else {
			rc = ERR_NOT_FOUND;
		}
	}
	db_queries_clear(q, 4);
	return rc;
}

err_t db_part_list(struct ctx *c, int installed, long limit, long offset, units_unit u,
		   json_object **parts, long *total)
{
	struct db_page pg;
	const char *inst = installed < 0 ? NULL : installed ? "true" : "false";
	struct db_query q[2] = {{&st_count, {inst}}, {&st_page, {inst, pg.limit, pg.offset}}};

	*parts = NULL;
	if (db_page_init(&pg, limit, offset) != 0)
		return ERR_INTERNAL;
	return ctx_db_list(c, q, 2, 0, 1, u, parts, total);
}

err_t db_part_install(struct ctx *c, const char *bike, const char *part, const char *at,
		      json_object **inst)
{
	char id[37];
	struct db_query q[2] = {{&st_install, {id, bike, part, at}}, {&st_inst_one, {id}}};

	*inst = NULL;
	if (db_uuid4(id) != 0)
		return ERR_INTERNAL;
	return ctx_db_one(c, q, 2, UNITS_KM, inst);
}

err_t db_part_remove(struct ctx *c, const char *bike, const char *part, const char *at,
		     json_object **inst)
{
	struct db_query q[2] = {{&st_remove, {bike, part, at}}, {&st_inst_last, {bike, part}}};

	return ctx_db_one(c, q, 2, UNITS_KM, inst);
}

err_t db_part_on_bike(struct ctx *c, const char *bike, long limit, long offset, units_unit u,
		      json_object **parts, long *total)
{
	struct db_page pg;
	struct db_query q[3] = {{&db_bike_st_assert, {bike}}, {&st_on_bike_count, {bike}},
				{&st_on_bike, {bike, pg.limit, pg.offset}}};

	*parts = NULL;
	if (db_page_init(&pg, limit, offset) != 0)
		return ERR_INTERNAL;
	return ctx_db_list(c, q, 3, 1, 2, u, parts, total);
}
