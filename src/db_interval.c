/* Service interval SQL. Writes go through the security-definer functions of
 * sql/functions/62_intervals.sql; reads run as the caller (RLS), the status of each interval
 * through vehicles.interval_status. */
#include "db_interval.h"
#include "db_json.h"

/* The interval object: its columns, then its status as the nested object "status" (the
 * dotted names, db_json_row), then "unit" ($UNIT, the asked unit, so an interval without a
 * distance says it too). */
#define DB_INTERVAL_COLS(UNIT)                                                           \
	"si.id, si.created_at, si.updated_at, si.part_id, si.bike_id, si.task, "             \
	"si.every_distance, si.every_moving_hours, si.every_days, si.warn_at_pct, "          \
	"s.since AS \"status.since\", s.distance AS \"status.distance\", "                 \
	"s.moving_hours AS \"status.moving_hours\", s.days AS \"status.days\", "           \
	"s.pct AS \"status.pct\", s.state AS \"status.state\", " UNIT "::text AS unit "      \
	"FROM vehicles.service_interval si CROSS JOIN LATERAL vehicles.interval_status(si.id) s"

static struct db_stmt st_own = {"interval_assert", "SELECT vehicles.interval_assert($1)", 1, 0};
static struct db_stmt st_create = {"interval_create",
	"SELECT vehicles.interval_create($1, $2::vehicles.entity_type, $3, $4::jsonb)", 4, 0};
static struct db_stmt st_update = {"interval_update",
	"SELECT vehicles.interval_update($1, $2::jsonb)", 2, 0};
static struct db_stmt st_delete = {"interval_delete", "SELECT vehicles.interval_delete($1)", 1, 0};
static struct db_stmt st_one = {"interval_one",
	"SELECT " DB_INTERVAL_COLS("$2") " WHERE si.id = $1", 2, 0};

/* $1 the bike or part, $2 'bike' or 'part' (as db_maint.c's lists). */
#define DB_INTERVAL_OF                                                                    \
	" WHERE ($2::text = 'bike' AND si.bike_id = $1::uuid)"                             \
	" OR ($2::text = 'part' AND si.part_id = $1::uuid)"
static struct db_stmt st_count = {"interval_count",
	"SELECT count(*) FROM vehicles.service_interval si" DB_INTERVAL_OF, 2, 0};
static struct db_stmt st_page = {"interval_page",
	"SELECT " DB_INTERVAL_COLS("$5") DB_INTERVAL_OF
	" ORDER BY si.created_at DESC, si.id DESC LIMIT $3 OFFSET $4", 5, 0};

/* Most urgent first; ties (and the nulls of a zero threshold, first) by id. */
static struct db_stmt st_due = {"interval_due",
	"SELECT d.interval_id, d.part_id, d.bike_id, d.task, d.pct, d.state, d.distance,"
	" d.every_distance, $2::text AS unit FROM vehicles.interval_due() d"
	" WHERE d.state = ANY (string_to_array($1::text, ','))"
	" ORDER BY d.pct DESC NULLS FIRST, coalesce(d.interval_id, d.part_id, d.bike_id)", 2, 0};

err_t db_interval_own(struct db_sess *s, const char *id)
{
	struct db_query *q;

	if (s->npre >= DB_MAX_PRE)
		return ERR_INTERNAL;
	q = &s->pre[s->npre++];
	q->stmt = &st_own;
	q->params[0] = id;
	q->res = NULL;
	s->pre_passed = 0;
	return ERR_OK;
}

err_t db_interval_create(struct db_sess *s, enum entity of, const char *of_id, const char *fields,
			 units_unit u, json_object **out)
{
	char id[37];
	struct db_query q[2] = {{&st_create, {id, entity_name(of), of_id, fields}},
				{&st_one, {id, units_name(u)}}};

	*out = NULL;
	if (db_uuid4(id) != 0)
		return ERR_INTERNAL;
	return db_one(s, q, 2, u, out);
}

err_t db_interval_update(struct db_sess *s, const char *id, const char *fields, units_unit u,
			 json_object **out)
{
	struct db_query q[2] = {{&st_update, {id, fields}}, {&st_one, {id, units_name(u)}}};

	*out = NULL;
	return db_one(s, q, 2, u, out);
}

err_t db_interval_delete(struct db_sess *s, const char *id)
{
	struct db_query q[1] = {{&st_delete, {id}}};

	return db_exec(s, q, 1);
}

err_t db_interval_list(struct db_sess *s, enum entity of, const char *of_id, long limit,
		       long offset, units_unit u, json_object **out, long *total)
{
	struct db_page pg;
	const char *kind = entity_name(of);
	struct db_query q[2] = {{&st_count, {of_id, kind}},
				{&st_page, {of_id, kind, pg.limit, pg.offset, units_name(u)}}};

	*out = NULL;
	if (db_page_init(&pg, limit, offset) != 0)
		return ERR_INTERNAL;
	return db_list(s, q, 2, 0, 1, u, out, total);
}

err_t db_interval_due(struct db_sess *s, const char *states, units_unit u, json_object **out)
{
	struct db_query q[1] = {{&st_due, {states, units_name(u)}}};
	err_t rc = db_run(s, q, 1);

	*out = NULL;
	if (rc == ERR_OK && (*out = db_json_rows(q[0].res, u)) == NULL)
		rc = ERR_INTERNAL;
	db_queries_clear(q, 1);
	return rc;
}
