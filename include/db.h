/*
 * The database layer: one persistent libpq connection per worker. A request's statements go
 * out in one pipeline (claims, statements, Sync) and so run as one implicit transaction in
 * one round trip; an error in any statement rolls back all of them.
 */
#ifndef VS_DB_H
#define VS_DB_H

#include <stddef.h>
#include <libpq-fe.h>
#include <json-c/json.h>

#include "err.h"
#include "log.h"
#include "units.h"

#define DB_MAX_PARAMS 12
#define DB_MAX_QUERIES 8

/* A statement, prepared once per connection on first use. Define them static. */
struct db_stmt {
	const char *name;
	const char *sql;
	int nparams;
	unsigned prepared_gen; /* connection generation it was prepared on; 0 = never */
};

struct db_query {
	struct db_stmt *stmt;
	const char *params[DB_MAX_PARAMS];
	PGresult *res; /* filled by db_run; freed by db_queries_clear */
};

/* Who the statements run as: the caller's token, as PostgREST does on Supabase. */
struct db_as {
	const char *role;   /* "authenticated", "service_role"; NULL: the connecting role */
	const char *claims; /* JSON text for request.jwt.claims, or NULL */
};

struct db_conn;

struct db_conn *db_open(const char *conninfo);
void db_close(struct db_conn *db);
/* Runs n queries as one transaction in one round trip. Retries serialization failures and
 * deadlocks; maps SQLSTATEs to err_t (see db.c); a lost connection gives ERR_UNAVAILABLE and
 * is re-opened on the next call. */
err_t db_run(struct db_conn *db, const struct db_as *as, struct db_query *q, size_t n,
	     const struct log_ctx *log) WUR;
void db_queries_clear(struct db_query *q, size_t n);
/* Message and detail of the last error our SQL raised with a VS4xx SQLSTATE: for VS400 the
 * field and its problem, otherwise a text for the client. Valid until the next db_run. */
const char *db_last_detail(const struct db_conn *db);
const char *db_last_message(const struct db_conn *db);

/* Row to JSON: column names are keys; numeric distance columns are converted to unit and
 * rounded; timestamptz becomes RFC 3339 UTC; json/jsonb is parsed; NULL is null. */
json_object *db_row_json(const PGresult *res, int row, units_unit unit);
/* A JSON document built by our SQL (to_jsonb, distances in km) made into API shape in place:
 * distance keys converted to unit, "..._at" times from +00:00 to Z, "unit" added beside. */
void db_json_api(json_object *o, units_unit unit);
/* Parses JSON text our SQL produced. Deeper than request bodies may nest, because the
 * database wraps a client's metadata in more levels (ride answer: body.bike.metadata). */
json_object *db_json_parse(const char *text);
/* All rows as an array of objects. */
json_object *db_rows_json(const PGresult *res, units_unit unit);
/* 1 when the column named col of row is true. */
int db_bool(const PGresult *res, int row, const char *col);
const char *db_text(const PGresult *res, int row, const char *col);

/* limit and offset as statement parameters. */
struct db_page {
	char limit[24], offset[24];
};
int db_page_init(struct db_page *p, long limit, long offset) WUR;

/* A random (version 4) UUID in out; -1 if the kernel gives no randomness. */
int db_uuid4(char out[37]) WUR;

#endif
