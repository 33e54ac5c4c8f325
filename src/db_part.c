/* Part and installation SQL. Writes go through sql/functions/40_parts.sql; reads use the view
 * vehicles.part_v (current_bike_id included). */
#include "db_json.h"
#include "db_part.h"
#include "db_sql.h"

static struct db_stmt st_insert = {"part_create", "SELECT vehicles.gear_create('part', $1, $2::jsonb)", 2, 0};

static struct db_stmt st_one = {"part_one",
	"SELECT " DB_PART_COLS " FROM vehicles.part_v p WHERE p.id = $1", 1, 0};

static struct db_stmt st_installations = {"part_installations",
	"SELECT " DB_INST_COLS " FROM vehicles.part_installation i WHERE i.part_id = $1"
	" ORDER BY i.installed_at DESC, i.created_at DESC", 1, 0};

static struct db_stmt st_maint = {"part_maint",
	"SELECT " DB_MAINT_COLS " FROM vehicles.maintenance_record m WHERE m.part_id = $1"
	" ORDER BY m.performed_at DESC, m.id DESC LIMIT 50", 1, 0};

/* The list's filter on part_v P: $1 NULL for any, else whether it is installed now; $2 NULL
 * for any status, else the status. */
#define DB_PART_FILTER(P)                                                                \
	" AND ($1::boolean IS NULL OR (" P ".current_bike_id IS NOT NULL) = $1::boolean)"   \
	" AND ($2::text IS NULL OR " P ".status = $2::text)"

static struct db_stmt st_count = {"part_count",
	"SELECT count(*) FROM vehicles.part_v p WHERE p.user_id = auth.uid()" DB_PART_FILTER("p"), 2, 0};

/* The page with its total, in one statement (db_list_counted). */
static struct db_stmt st_page = {"part_page",
	"SELECT " DB_PART_COLS ", (SELECT count(*) FROM vehicles.part_v c WHERE c.user_id = auth.uid()"
	DB_PART_FILTER("c") ") AS _total"
	" FROM vehicles.part_v p WHERE p.user_id = auth.uid()" DB_PART_FILTER("p")
	" ORDER BY p.created_at DESC, p.id DESC LIMIT $3 OFFSET $4", 4, 0};

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

/* current_bike is {"id", "name"}, or null when the part is on no bike. total_cost: the price
 * (none is 0) and the part's maintenance; cost_per_distance per km (db_json shows it per mi
 * when asked), unrounded here so that it is rounded once, in the unit shown. */
static struct db_stmt st_stats = {"part_stats",
	"SELECT p.total_kilometrage,"
	" round(tc.total, 2) AS total_cost,"
	" tc.total / nullif(p.total_kilometrage, 0) AS cost_per_distance,"
	" " DB_DAYS_OWNED("p") " AS days_owned,"
	" " DB_DAYS_SINCE("lm.at") " AS days_since_last_maintenance,"
	" CASE WHEN cb.id IS NULL THEN NULL ELSE jsonb_build_object('id', cb.id, 'name', cb.name)"
	"  END AS current_bike,"
	" (SELECT count(*) FROM vehicles.part_installation i WHERE i.part_id = p.id)::integer"
	"  AS installation_count,"
	" th.km AS replacement_threshold,"
	" CASE WHEN th.km IS NULL THEN NULL ELSE p.total_kilometrage >= th.km END AS needs_replacement"
	" FROM vehicles.user_part p"
	" LEFT JOIN LATERAL (SELECT max(m.performed_at) AS at, sum(m.cost) AS cost"
	"   FROM vehicles.maintenance_record m WHERE m.part_id = p.id) lm ON true"
	" CROSS JOIN LATERAL (SELECT coalesce(p.purchase_price, 0) + coalesce(lm.cost, 0) AS total) tc"
	" LEFT JOIN vehicles.part_installation ci ON ci.part_id = p.id AND ci.removed_at IS NULL"
	" LEFT JOIN vehicles.user_bike cb ON cb.id = ci.bike_id"
	" CROSS JOIN LATERAL (SELECT CASE WHEN jsonb_typeof(p.metadata -> 'replacement_threshold_km')"
	"   = 'number' THEN (p.metadata ->> 'replacement_threshold_km')::numeric END AS km) th"
	" WHERE p.id = $1", 1, 0};

err_t db_part_delete(struct db_sess *s, const char *id)
{
	struct db_query q[1] = {{&st_delete, {id}}};

	return db_exec(s, q, 1);
}

err_t db_part_create(struct db_sess *s, const char *patch, units_unit u, json_object **part)
{
	char id[37];
	struct db_query q[2] = {{&st_insert, {id, patch}}, {&st_one, {id}}};

	*part = NULL;
	if (db_uuid4(id) != 0)
		return ERR_INTERNAL;
	return db_one(s, q, 2, u, part);
}

err_t db_part_update(struct db_sess *s, const char *id, const char *patch, units_unit u,
		     json_object **part)
{
	struct db_query q[2] = {{&st_update, {id, patch}}, {&st_one, {id}}};

	return db_one(s, q, 2, u, part);
}

/* The part with "installations" and "maintenance", written as text (include/jtext.h); NULL
 * when the columns are not ones the text says (db_json_text_ok), or out of memory. */
static json_object *db_part_text(const PGresult *part, const PGresult *installs, const PGresult *maint,
				 units_unit u)
{
	static const char *const members[] = {"installations", "maintenance", NULL};
	struct jtext t;

	if (!db_json_text_ok(part, members) || !db_json_text_ok(installs, NULL) ||
	    !db_json_text_ok(maint, NULL))
		return NULL;
	jtext_init(&t);
	jtext_key(&t, "installations", !db_json_row_text(&t, part, 0, u, 0));
	db_json_rows_text(&t, installs, u);
	jtext_key(&t, "maintenance", 0);
	db_json_rows_text(&t, maint, u);
	jtext_char(&t, '}');
	return jtext_json(&t);
}

err_t db_part_get(struct db_sess *s, const char *id, units_unit u, json_object **part)
{
	struct db_query q[3] = {{&st_one, {id}}, {&st_installations, {id}}, {&st_maint, {id}}};
	err_t rc = db_run(s, q, 3);

	*part = NULL;
	if (rc == ERR_OK && PQntuples(q[0].res) != 1)
		rc = ERR_NOT_FOUND;
	else if (rc == ERR_OK && (*part = db_part_text(q[0].res, q[1].res, q[2].res, u)) == NULL)
		rc = ERR_INTERNAL;
	db_queries_clear(q, 3);
	return rc;
}

err_t db_part_list(struct db_sess *s, int installed, const char *status, long limit, long offset,
		   units_unit u, json_object **parts, long *total)
{
	struct db_page pg;
	const char *inst = installed < 0 ? NULL : installed ? "true" : "false";
	struct db_query q[2] = {{&st_count, {inst, status}},
				{&st_page, {inst, status, pg.limit, pg.offset}}};

	*parts = NULL;
	if (db_page_init(&pg, limit, offset) != 0)
		return ERR_INTERNAL;
	return db_list_counted(s, &q[1], &q[0], u, parts, total);
}

err_t db_part_stats(struct db_sess *s, const char *id, units_unit u, json_object **stats)
{
	struct db_query q[1] = {{&st_stats, {id}}};

	return db_one(s, q, 1, u, stats);
}

err_t db_part_install(struct db_sess *s, const char *bike, const char *part, const char *at,
		      json_object **inst)
{
	char id[37];
	struct db_query q[2] = {{&st_install, {id, bike, part, at}}, {&st_inst_one, {id}}};

	*inst = NULL;
	if (db_uuid4(id) != 0)
		return ERR_INTERNAL;
	return db_one(s, q, 2, UNITS_KM, inst);
}

err_t db_part_remove(struct db_sess *s, const char *bike, const char *part, const char *at,
		     json_object **inst)
{
	struct db_query q[2] = {{&st_remove, {bike, part, at}}, {&st_inst_last, {bike, part}}};

	return db_one(s, q, 2, UNITS_KM, inst);
}

err_t db_part_on_bike(struct db_sess *s, const char *bike, long limit, long offset, units_unit u,
		      json_object **parts, long *total)
{
	struct db_page pg;
	struct db_query q[2] = {{&st_on_bike_count, {bike}}, {&st_on_bike, {bike, pg.limit, pg.offset}}};

	*parts = NULL;
	if (db_page_init(&pg, limit, offset) != 0)
		return ERR_INTERNAL;
	return db_list(s, q, 2, 0, 1, u, parts, total);
}
