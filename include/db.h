/*
 * The database layer: one persistent libpq connection per worker. A request's statements go
 * out in one pipeline (claims, statements, Sync) and so run as one transaction in one round
 * trip; an error in any statement rolls back all of them. This layer returns data; what the
 * client is answered is the handlers' business.
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
#define DB_MAX_PRE 4
#define DB_TIMEOUT_MS 10000     /* a statement's default bound (db_sess.timeout_ms 0) */
#define DB_LOCK_TIMEOUT_MS 5000 /* how long a statement waits for a lock */
#define DB_CLIENT_CHECK_MS "1000" /* how often a running statement checks its client is there */

/* A statement, prepared once per connection on first use (session mode; in transaction
 * mode sent unnamed every time, see db_set_pool_transaction). Define them static. */
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

struct db_conn;

/*
 * One request's use of the connection. Who it runs as is passed through to PostgreSQL
 * (role and request.jwt.claims, as PostgREST does on Supabase) and never read here.
 */
struct db_sess {
	struct db_conn *conn;
	const char *role;   /* "authenticated", "service_role"; NULL: the connecting role */
	const char *claims; /* JSON text for request.jwt.claims, or NULL */
	const char *sub;    /* the claims' sub for request.jwt.claim.sub, or NULL */
	const struct log_ctx *log;
	int snapshot; /* reads: every statement sees one snapshot (REPEATABLE READ READ ONLY) */
	unsigned timeout_ms; /* statement_timeout of this request; 0: DB_TIMEOUT_MS */
	/* Statements every pipeline of the request starts with (the ownership checks). */
	struct db_query pre[DB_MAX_PRE];
	size_t npre;
	int pre_passed; /* a pipeline ran its pre statements without an error */
	/* The pre statements wait: a read whose first query is the checked row itself, under
	 * RLS, proves ownership by finding it, so its pipeline goes without them; only when the
	 * row is not found does the caller run them alone (db_run(s, NULL, 0)) for its 404 or
	 * 403. Set around one db_run. */
	int pre_lazy;
	/* The statement that raised the last error: < npre a pre one, npre + i q[i]; -1 when
	 * there was none or it was our own setup (BEGIN, claims, a Prepare, the COMMIT). */
	long failed;
	err_t last;     /* what the last db_run returned */
};

/*
 * DATABASE_POOL_MODE=transaction (on): the connection may be a transaction pooler (Supabase's
 * port 6543, pgbouncer before 1.21), where consecutive transactions run on different server
 * sessions. Statements then go out unnamed, parsed with their text in every request, since
 * a named one prepared on one server session is unknown on the next (or already there). Off
 * (session, the default): each statement is prepared once per connection and run by name.
 * Process-wide; call before db_open (connections opened before keep their mode).
 */
void db_set_pool_transaction(int on);

/* How db_run sends one statement: what db_set_pool_transaction and the connection's state
 * decide. prepared_gen is the statement's, conn_gen the connection's generation, queued
 * whether this pipeline already carries the statement's Prepare. */
enum db_send {
	DB_SEND_UNNAMED,       /* Parse/Bind/Execute with the SQL text, no name */
	DB_SEND_PREPARE_FIRST, /* Prepare by name, then run it by name */
	DB_SEND_BY_NAME,       /* run the statement this connection prepared */
};
enum db_send db_send_plan(int pool_transaction, unsigned prepared_gen, unsigned conn_gen,
			  int queued);

struct db_conn *db_open(const char *conninfo);
void db_close(struct db_conn *db);
/* Connects now (the first request should not pay for it); 0 when connected. */
int db_connect_now(struct db_conn *db, const struct log_ctx *log);
/* The session's connection, connected and idle, for the one request that needs a transaction
 * across several round trips (the export's cursors): NULL when the database is unreachable.
 * Only unnamed statements (PQexec, PQexecParams) go on it; the borrower ends its transaction,
 * and db_giveback rolls back whatever it left (or drops a connection that broke), so nothing
 * of the request survives it. */
PGconn *db_borrow(struct db_sess *s);
/* Whether an error's SQLSTATE (NULL: none, the connection failed) is the database's trouble,
 * answered 503: a lost or refused connection, a shutdown, a timeout, no resources. */
int db_state_unavailable(const char *state);
void db_giveback(struct db_sess *s);

/* Runs s's pre statements and then q[0..n) as one transaction in one round trip. Retries
 * serialization failures, deadlocks and statements a schema change invalidated; maps
 * SQLSTATEs to err_t (see db.c); a lost connection gives ERR_UNAVAILABLE and is re-opened
 * on the next call. On error every q[i].res is cleared. */
err_t db_run(struct db_sess *s, struct db_query *q, size_t n) WUR;
/* db_run, then clears the results: for statements whose answer is only success. */
err_t db_exec(struct db_sess *s, struct db_query *q, size_t n) WUR;
/* One object: the last query's only row, as *row; no row is ERR_NOT_FOUND. */
err_t db_one(struct db_sess *s, struct db_query *q, size_t n, units_unit u, json_object **row) WUR;
/* A page: q[count_i] answers count(*), q[rows_i] the rows, as *rows and *total. */
err_t db_list(struct db_sess *s, struct db_query *q, size_t n, size_t count_i, size_t rows_i,
	      units_unit u, json_object **rows, long *total) WUR;
/* A page in one statement: the rows of page carry the total in a column "_total" (a
 * subquery of the same statement, so one snapshot for both); only an empty page runs count (its
 * count(*)) as well. */
err_t db_list_counted(struct db_sess *s, struct db_query *page, struct db_query *count,
		      units_unit u, json_object **rows, long *total) WUR;
/* A JSON document our SQL built, in the first column of the last query's first row, made
 * into API shape for unit u (db_json_api). */
err_t db_doc(struct db_sess *s, struct db_query *q, size_t n, units_unit u, json_object **doc) WUR;
void db_queries_clear(struct db_query *q, size_t n);

/* Message and detail of the last error our SQL raised with a VS4xx SQLSTATE: for VS400 the
 * field and its problem, otherwise a text for the client. Valid until the next db_run. */
const char *db_last_detail(const struct db_conn *db);
const char *db_last_message(const struct db_conn *db);

/* The value of column col of row, or NULL (SQL NULL, no such column or row). */
const char *db_text(const PGresult *res, int row, const char *col);
/* count(*) of a result's first row. */
long db_count(const PGresult *res);

/* limit and offset as statement parameters. */
struct db_page {
	char limit[24], offset[24];
};
int db_page_init(struct db_page *p, long limit, long offset) WUR;

/* A random (version 4) UUID in out; -1 if the kernel gives no randomness. */
int db_uuid4(char out[37]) WUR;

#endif
