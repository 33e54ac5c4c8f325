/* Maintenance SQL: records of a bike (bike_id = it, with or without a part) or of a part. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db_bike.h"
#include "db_part.h"
#include "db_maint.h"
#include "db_sql.h"

static struct db_stmt st_create = {"maint_create",
	"SELECT vehicles.maintenance_create($1, $2, $3, $4::jsonb)", 4, 0};
static struct db_stmt st_one = {"maint_one",
	"SELECT " DB_MAINT_COLS " FROM vehicles.maintenance_record m WHERE m.id = $1", 1, 0};

static struct db_stmt st_bike_count = {"maint_bike_count",
	"SELECT count(*) FROM vehicles.maintenance_record WHERE bike_id = $1", 1, 0};
static struct db_stmt st_bike_page = {"maint_bike_page",
	"SELECT " DB_MAINT_COLS " FROM vehicles.maintenance_record m WHERE m.bike_id = $1"
	" ORDER BY m.performed_at DESC, m.id DESC LIMIT $2 OFFSET $3", 3, 0};

static struct db_stmt st_part_count = {"maint_part_count",
	"SELECT count(*) FROM vehicles.maintenance_record WHERE part_id = $1", 1, 0};
static struct db_stmt st_part_page = {"maint_part_page",
	"SELECT " DB_MAINT_COLS " FROM vehicles.maintenance_record m WHERE m.part_id = $1"
	" ORDER BY m.performed_at DESC, m.id DESC LIMIT $2 OFFSET $3", 3, 0};

err_t db_maint_create(struct ctx *c, const char *bike, const char *part, const char *fields,
		      json_object **rec)
{
	char id[37];
	struct db_query q[2] = {{&st_create, {id, bike, part, fields}}, {&st_one, {id}}};

	*rec = NULL;
	if (db_uuid4(id) != 0)
		return ERR_INTERNAL;
	return ctx_db_one(c, q, 2, UNITS_KM, rec);
}

err_t db_maint_list(struct ctx *c, const char *of, const char *id, long limit, long offset,
		    json_object **recs, long *total)
{
	int bike = strcmp(of, "bike") == 0;
	struct db_page pg;
	struct db_query q[3] = {{bike ? &db_bike_st_assert : &db_part_st_assert, {id}},
				{bike ? &st_bike_count : &st_part_count, {id}},
				{bike ? &st_bike_page : &st_part_page, {id, pg.limit, pg.offset}}};

	*recs = NULL;
	if (db_page_init(&pg, limit, offset) != 0)
		return ERR_INTERNAL;
	return ctx_db_list(c, q, 3, 1, 2, UNITS_KM, recs, total);
}
