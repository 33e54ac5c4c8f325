/*
 * The export's SQL (GET /api/export). Its hourly limit is one round trip of its own (db_run,
 * sql/functions/78_export.sql), committed before the data is read; the data is read on the
 * worker's own connection (db_borrow: one connection per worker, as everywhere), in one
 * REPEATABLE READ READ ONLY transaction, each section through a cursor FETCHed in chunks, so
 * the worker holds one chunk at a time whatever the size of the account. db_export_close
 * ends the transaction and gives the connection back (db_giveback) whatever happened: no
 * cursor or transaction survives the request, nothing is left on a pooled server session.
 */
#ifndef VS_DB_EXPORT_H
#define VS_DB_EXPORT_H

#include <libpq-fe.h>
#include <json-c/json.h>

#include "db.h"

/* Rows per FETCH: the most the worker holds at once (a ride row is about 300 bytes). */
#define DB_EXPORT_CHUNK 1000

/* The document's arrays, in its order. */
enum db_export_section {
	DB_EXPORT_BIKES,
	DB_EXPORT_PARTS,
	DB_EXPORT_INSTALLATIONS,
	DB_EXPORT_RIDES,
	DB_EXPORT_MAINTENANCE,
	DB_EXPORT_INTERVALS,
	DB_EXPORT_HISTORY,
	DB_EXPORT__COUNT
};

/* The section's key in the document: "bikes", ..., "ownership_history". */
const char *db_export_section_name(enum db_export_section sec);

/* Counts an export against the caller's hourly limit (count 0: only asks, for HEAD).
 * *retry_after: 0 when it may go ahead, else the seconds until it may. */
err_t db_export_limit(struct db_sess *s, int count, long *retry_after) WUR;

struct db_export;

/* Takes s's connection for the export (ERR_UNAVAILABLE when the database cannot be reached). */
err_t db_export_open(struct db_export **x, struct db_sess *s) WUR;
/* Begins the snapshot as s's caller (role, claims, statement timeout) and answers its head:
 * {"exported_at": the snapshot's time, "user_id": the caller}. */
err_t db_export_begin(struct db_export *x, const struct db_sess *s, json_object **head) WUR;
/* Calls row(arg, res, i) for every row of the section, a chunk at a time, in the document's
 * order; stops at the first error (row's or the database's). */
typedef err_t (*db_export_row_fn)(void *arg, const PGresult *res, int row);
err_t db_export_section(struct db_export *x, enum db_export_section sec, db_export_row_fn row,
			void *arg) WUR;
/* Ends the snapshot (COMMIT) and gives the connection back; NULL is a no-op. ERR_OK only when
 * the transaction committed; after an error whatever is open is rolled back (db_giveback). */
err_t db_export_close(struct db_export *x);

#endif
