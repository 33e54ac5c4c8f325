/*
 * Export SQL (include/db_export.h), on the worker's own connection (db_borrow). Every section is read as the caller under RLS, and each
 * selects what the entity's own routes select (the column lists of db_sql.h, db_part.c's
 * installations, db_ride.c's rides, db_transfer.c's history rows), so an exported object is
 * the object those routes answer, in km. Statements go out unnamed (PQexec, PQexecParams):
 * nothing is prepared, which holds in both pool modes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_export.h"
#include "db_json.h"
#include "db_sql.h"

static struct db_stmt st_limit = {"export_limit",
	"SELECT vehicles.export_begin($1::boolean) AS retry_after", 1, 0};

#define DB_EXPORT_MY_BIKES "(SELECT id FROM vehicles.user_bike WHERE user_id = auth.uid())"
#define DB_EXPORT_MY_PARTS "(SELECT id FROM vehicles.user_part WHERE user_id = auth.uid())"

/* Indexed by enum db_export_section. Every order ends on a unique column: an export taken
 * twice from the same data lists it the same way. */
static const struct {
	const char *name;
	const char *sql;
} db_export_sections[DB_EXPORT__COUNT] = {
	{"bikes", "SELECT " DB_BIKE_COLS " FROM vehicles.bike_v b WHERE b.user_id = auth.uid()"
		  " ORDER BY b.created_at, b.id"},
	{"parts", "SELECT " DB_PART_COLS " FROM vehicles.part_v p WHERE p.user_id = auth.uid()"
		  " ORDER BY p.created_at, p.id"},
	{"installations",
	 "SELECT i.id, i.created_at, i.part_id, i.bike_id, i.installed_at, i.removed_at"
	 " FROM vehicles.part_installation i WHERE i.part_id IN " DB_EXPORT_MY_PARTS
	 " ORDER BY i.installed_at, i.created_at, i.id"},
	/* Whoever logged them: a ride stays with its bike (as GET /api/bikes/:id/kilometrage). */
	{"rides",
	 "SELECT l.id, l.created_at, l.bike_id, l.user_id, l.distance, l.logged_at, l.notes,"
	 " l.moving_time_s, l.elevation_gain, l.ride_type, l.source, l.external_id"
	 " FROM vehicles.kilometrage_log l WHERE l.bike_id IN " DB_EXPORT_MY_BIKES
	 " ORDER BY l.logged_at, l.id"},
	{"maintenance",
	 "SELECT " DB_MAINT_COLS " FROM vehicles.maintenance_record m"
	 " WHERE m.bike_id IN " DB_EXPORT_MY_BIKES " OR m.part_id IN " DB_EXPORT_MY_PARTS
	 " ORDER BY m.performed_at, m.id"},
	/* Without status (what it is now, not data); "unit" as every interval object has it. */
	{"intervals",
	 "SELECT si.id, si.created_at, si.updated_at, si.part_id, si.bike_id, si.task,"
	 " si.every_distance, si.every_moving_hours, si.every_days, si.warn_at_pct,"
	 " 'km'::text AS unit FROM vehicles.service_interval si"
	 " WHERE si.part_id IN " DB_EXPORT_MY_PARTS " OR si.bike_id IN " DB_EXPORT_MY_BIKES
	 " ORDER BY si.created_at, si.id"},
	/* Rows about what the caller owns now; users by id, never an email. RLS would also let
	 * through the rows of what the caller gave away: not theirs to export. */
	{"ownership_history",
	 "SELECT h.id, h.entity_type, h.entity_id, h.previous_owner_id, h.new_owner_id,"
	 " h.transferred_at, h.notes,"
	 " h.previous_owner_id IS NOT DISTINCT FROM auth.uid() AS from_you,"
	 " h.new_owner_id IS NOT DISTINCT FROM auth.uid() AS to_you"
	 " FROM vehicles.ownership_history h"
	 " WHERE (h.entity_type = 'bike' AND h.entity_id IN " DB_EXPORT_MY_BIKES ")"
	 " OR (h.entity_type = 'part' AND h.entity_id IN " DB_EXPORT_MY_PARTS ")"
	 " ORDER BY h.transferred_at, h.created_at, h.id"},
};

struct db_export {
	PGconn *pg; /* the worker's own connection, borrowed from db.c for the request */
	struct db_sess *s;
	const struct log_ctx *log;
};

const char *db_export_section_name(enum db_export_section sec)
{
	return sec < DB_EXPORT__COUNT ? db_export_sections[sec].name : "";
}

err_t db_export_limit(struct db_sess *s, int count, long *retry_after)
{
	struct db_query q[1] = {{&st_limit, {count ? "true" : "false"}}};
	err_t rc = db_run(s, q, 1);
	const char *v;

	*retry_after = 0;
	if (rc != ERR_OK)
		return rc;
	v = db_text(q[0].res, 0, "retry_after");
	if (v == NULL)
		rc = ERR_INTERNAL;
	else
		*retry_after = strtol(v, NULL, 10);
	db_queries_clear(q, 1);
	return rc;
}

/* A failed statement: logged; a timeout or a lost server is the service's trouble (503). */
static err_t db_export_fail(struct db_export *x, const PGresult *r, const char *what)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	log_error(x->log, "export: %s failed sqlstate=%s: %s", what, state ? state : "-",
		  r ? PQresultErrorMessage(r) : PQerrorMessage(x->pg));
	if (db_state_unavailable(state))
		return ERR_UNAVAILABLE;
	return ERR_INTERNAL;
}

/* Runs one statement; *res (when wanted) gets its rows, to be cleared by the caller. */
static err_t db_export_exec(struct db_export *x, const char *sql, int n, const char *const *params,
			    PGresult **res, const char *what)
{
	PGresult *r = n ? PQexecParams(x->pg, sql, n, NULL, params, NULL, NULL, 0) : PQexec(x->pg, sql);
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	err_t rc = ERR_OK;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		rc = db_export_fail(x, r, what);
	if (rc == ERR_OK && res)
		*res = r;
	else
		PQclear(r);
	return rc;
}

err_t db_export_open(struct db_export **out, struct db_sess *s)
{
	struct db_export *x = calloc(1, sizeof(*x));

	*out = NULL;
	if (x == NULL)
		return ERR_INTERNAL;
	x->log = s->log;
	x->s = s;
	if ((x->pg = db_borrow(s)) == NULL) {
		free(x);
		return ERR_UNAVAILABLE;
	}
	*out = x;
	return ERR_OK;
}

err_t db_export_begin(struct db_export *x, const struct db_sess *s, json_object **head)
{
	char ms[16], lock_ms[16];
	const char *p[5] = {ms, lock_ms, s->role, s->claims ? s->claims : "", s->sub ? s->sub : ""};
	PGresult *r = NULL;
	err_t rc;

	*head = NULL;
	if (s->role == NULL || snprintf(ms, sizeof(ms), "%u", s->timeout_ms ? s->timeout_ms : DB_TIMEOUT_MS) < 0 ||
	    snprintf(lock_ms, sizeof(lock_ms), "%u", DB_LOCK_TIMEOUT_MS) < 0)
		return ERR_INTERNAL;
	if ((rc = db_export_exec(x, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, NULL,
				 "BEGIN")) != ERR_OK ||
	    (rc = db_export_exec(x, DB_CLAIMS_SQL, 5, p, NULL, "setup")) != ERR_OK ||
	    (rc = db_export_exec(x, "SELECT now() AS exported_at, auth.uid() AS user_id", 0, NULL, &r,
				 "head")) != ERR_OK)
		return rc;
	if (PQntuples(r) == 1)
		*head = db_json_row(r, 0, UNITS_KM);
	PQclear(r);
	return *head ? ERR_OK : ERR_INTERNAL;
}

err_t db_export_section(struct db_export *x, enum db_export_section sec, db_export_row_fn row,
			void *arg)
{
	char declare[2048], fetch[64];
	const char *what = db_export_section_name(sec);
	err_t rc;
	int n;

	if (sec >= DB_EXPORT__COUNT)
		return ERR_INTERNAL;
	n = snprintf(declare, sizeof(declare), "DECLARE vs_export NO SCROLL CURSOR FOR %s",
		     db_export_sections[sec].sql);
	if (n < 0 || (size_t)n >= sizeof(declare) ||
	    snprintf(fetch, sizeof(fetch), "FETCH FORWARD %d FROM vs_export", DB_EXPORT_CHUNK) < 0)
		return ERR_INTERNAL;
	if ((rc = db_export_exec(x, declare, 0, NULL, NULL, what)) != ERR_OK)
		return rc;
	for (;;) {
		PGresult *r = NULL;
		int rows;

		if ((rc = db_export_exec(x, fetch, 0, NULL, &r, what)) != ERR_OK)
			return rc;
		rows = PQntuples(r);
		for (int i = 0; rc == ERR_OK && i < rows; i++)
			rc = row(arg, r, i);
		PQclear(r);
		if (rc != ERR_OK)
			return rc;
		if (rows < DB_EXPORT_CHUNK)
			break;
	}
	return db_export_exec(x, "CLOSE vs_export", 0, NULL, NULL, what);
}

err_t db_export_close(struct db_export *x)
{
	err_t rc = ERR_OK;

	if (x == NULL)
		return ERR_OK;
	/* (a transaction in error would "commit" as a rollback: not a success) */
	if (PQtransactionStatus(x->pg) == PQTRANS_INTRANS)
		rc = db_export_exec(x, "COMMIT", 0, NULL, NULL, "COMMIT");
	else if (PQtransactionStatus(x->pg) != PQTRANS_IDLE)
		rc = ERR_INTERNAL;
	db_giveback(x->s);
	free(x);
	return rc;
}
