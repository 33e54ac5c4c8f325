/* Retirement and replacement SQL: the rules and locks are the SQL functions'
 * (sql/functions/40_parts.sql); the answers read the view and the installation rows. */
#include "db_json.h"
#include "db_retire.h"
#include "db_sql.h"

/* An installation object, as the install and remove routes answer it (src/db_part.c). */
#define DB_RETIRE_INST_COLS "i.id, i.created_at, i.part_id, i.bike_id, i.installed_at, i.removed_at"

static struct db_stmt st_retire = {"retire_part",
	"SELECT vehicles.part_retire($1, $2::timestamptz, $3)", 3, 0};
static struct db_stmt st_unretire = {"retire_unretire", "SELECT vehicles.part_unretire($1)", 1, 0};
static struct db_stmt st_part = {"retire_part_one",
	"SELECT " DB_PART_COLS " FROM vehicles.part_v p WHERE p.id = $1", 1, 0};
static struct db_stmt st_replace = {"retire_replace",
	"SELECT vehicles.part_replace($1, $2, $3, $4, $5::timestamptz, $6::boolean)", 6, 0};
static struct db_stmt st_inst = {"retire_inst_one",
	"SELECT " DB_RETIRE_INST_COLS " FROM vehicles.part_installation i WHERE i.id = $1", 1, 0};
/* The installation the replacement closed: the old part's latest on that bike (it has no
 * later one: it is off the bike now). */
static struct db_stmt st_inst_last = {"retire_inst_last",
	"SELECT " DB_RETIRE_INST_COLS " FROM vehicles.part_installation i"
	" WHERE i.part_id = $2 AND i.bike_id = $1 ORDER BY i.installed_at DESC, i.created_at DESC"
	" LIMIT 1", 2, 0};

err_t db_retire_part(struct db_sess *s, const char *part, const char *at, const char *reason,
		     units_unit u, json_object **part_out)
{
	struct db_query q[2] = {{&st_retire, {part, at, reason}}, {&st_part, {part}}};

	return db_one(s, q, 2, u, part_out);
}

err_t db_retire_unretire(struct db_sess *s, const char *part, units_unit u, json_object **part_out)
{
	struct db_query q[2] = {{&st_unretire, {part}}, {&st_part, {part}}};

	return db_one(s, q, 2, u, part_out);
}

err_t db_retire_replace(struct db_sess *s, const char *bike, const char *old_part,
			const char *new_part, const char *at, const char *retire_old,
			json_object **out)
{
	char id[37];
	struct db_query q[3] = {{&st_replace, {id, bike, old_part, new_part, at, retire_old}},
				{&st_inst_last, {bike, old_part}},
				{&st_inst, {id}}};
	json_object *removed = NULL, *installed = NULL;
	err_t rc;

	*out = NULL;
	if (db_uuid4(id) != 0)
		return ERR_INTERNAL;
	if ((rc = db_run(s, q, 3)) != ERR_OK)
		return rc;
	if (PQntuples(q[1].res) == 1 && PQntuples(q[2].res) == 1) {
		removed = db_json_row(q[1].res, 0, UNITS_KM);
		installed = db_json_row(q[2].res, 0, UNITS_KM);
	}
	db_queries_clear(q, 3);
	if (removed == NULL || installed == NULL || (*out = json_object_new_object()) == NULL) {
		json_object_put(removed);
		json_object_put(installed);
		return ERR_INTERNAL;
	}
	json_object_object_add(*out, "removed", removed);
	json_object_object_add(*out, "installed", installed);
	return ERR_OK;
}
