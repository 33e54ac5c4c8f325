/* Maintenance SQL: records of a bike (bike_id = it, with or without a part) or of a part. */
#include "db_maint.h"
#include "db_sql.h"

static struct db_stmt st_create = {"maint_create",
	"SELECT vehicles.maintenance_create($1, $2, $3, $4::jsonb)", 4, 0};
static struct db_stmt st_delete = {"maint_delete", "SELECT vehicles.maintenance_delete($1)", 1, 0};
static struct db_stmt st_one = {"maint_one",
	"SELECT " DB_MAINT_COLS " FROM vehicles.maintenance_record m WHERE m.id = $1", 1, 0};

/* $1 the bike or part, $2 'bike' or 'part': one statement pair serves both lists (an OR
 * of the two indexed conditions, so each keeps its index). */
#define DB_MAINT_OF                                                                       \
	" WHERE ($2::text = 'bike' AND m.bike_id = $1::uuid)"                              \
	" OR ($2::text = 'part' AND m.part_id = $1::uuid)"
static struct db_stmt st_count = {"maint_count",
	"SELECT count(*) FROM vehicles.maintenance_record m" DB_MAINT_OF, 2, 0};
static struct db_stmt st_page = {"maint_page",
	"SELECT " DB_MAINT_COLS " FROM vehicles.maintenance_record m" DB_MAINT_OF
	" ORDER BY m.performed_at DESC, m.id DESC LIMIT $3 OFFSET $4", 4, 0};

err_t db_maint_create(struct db_sess *s, const char *bike, const char *part, const char *fields,
		      json_object **rec)
{
	char id[37];
	struct db_query q[2] = {{&st_create, {id, bike, part, fields}}, {&st_one, {id}}};

	*rec = NULL;
	if (db_uuid4(id) != 0)
		return ERR_INTERNAL;
	return db_one(s, q, 2, UNITS_KM, rec);
}

err_t db_maint_list(struct db_sess *s, enum entity of, const char *id, long limit, long offset,
		    json_object **recs, long *total)
{
	struct db_page pg;
	const char *kind = entity_name(of);
	struct db_query q[2] = {{&st_count, {id, kind}}, {&st_page, {id, kind, pg.limit, pg.offset}}};

	*recs = NULL;
	if (db_page_init(&pg, limit, offset) != 0)
		return ERR_INTERNAL;
	return db_list(s, q, 2, 0, 1, UNITS_KM, recs, total);
}

err_t db_maint_delete(struct db_sess *s, const char *id)
{
	struct db_query q[1] = {{&st_delete, {id}}};

	return db_exec(s, q, 1);
}
