/*
 * libpq, one connection per worker process, used in pipeline mode: a request sends its
 * claims, its statements and one Sync, then reads every result. Between Syncs the server
 * runs the statements as one implicit transaction, so a request costs one round trip and
 * either all of it happens or none of it does. Reads wrap the same pipeline in one
 * REPEATABLE READ READ ONLY transaction, so all their statements see one snapshot.
 * Nothing outlives a request's transaction on the server (settings are transaction-local,
 * no advisory lock, LISTEN or temporary table), so behind a transaction pooler only the
 * named statements have to go: DATABASE_POOL_MODE=transaction sends them unnamed.
 */
#include <poll.h>
#include <sys/random.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db_json.h"
#include "db_sql.h"
#include "metrics.h"

#define DB_ATTEMPTS 3

struct db_conn {
	PGconn *pg;
	char *conninfo;
	unsigned gen; /* bumped on every new connection; prepared statements are per connection */
	unsigned long connects; /* connections made so far: all but the first are reconnects */
	int unnamed;  /* transaction pooling: no named statements (db_set_pool_transaction) */
	int replan;   /* a schema change invalidated our prepared statements: prepare afresh */
	int retry;    /* the last error is worth running the request again (it rolled back) */
	char last_message[160]; /* our VS4xx messages: a sentence, a field name */
	char last_detail[256];
};

/* Every transaction's first statement (include/db_sql.h): its settings, and the caller. */
static struct db_stmt db_st_setup = {"db_setup", "SELECT " DB_LOCAL_SETTINGS, 2, 0};
static struct db_stmt db_st_claims = {"db_claims", DB_CLAIMS_SQL, 5, 0};
/* A read's snapshot around its statements: prepared like the rest (parsed once per
 * connection, not in every request). */
static struct db_stmt db_st_begin = {"db_begin", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
				     0, 0};
static struct db_stmt db_st_commit = {"db_commit", "COMMIT", 0, 0};

/* DATABASE_POOL_MODE, for the connections db_open makes from now on. */
static int db_pool_tx;
static int db_end_transaction(struct db_conn *db);

void db_set_pool_transaction(int on)
{
	db_pool_tx = on != 0;
}

enum db_send db_send_plan(int pool_transaction, unsigned prepared_gen, unsigned conn_gen,
			  int queued)
{
	if (pool_transaction)
		return DB_SEND_UNNAMED;
	/* Prepared on this connection already, or its Prepare is ahead of us in this pipeline
	 * (not answered yet, so prepared_gen is still old): a second Prepare would fail. */
	if (prepared_gen == conn_gen || queued)
		return DB_SEND_BY_NAME;
	return DB_SEND_PREPARE_FIRST;
}

struct db_conn *db_open(const char *conninfo)
{
	struct db_conn *db = calloc(1, sizeof(*db));

	if (db == NULL)
		return NULL;
	db->conninfo = strdup(conninfo ? conninfo : "");
	if (db->conninfo == NULL) {
		free(db);
		return NULL;
	}
	db->unnamed = db_pool_tx;
	return db;
}

static void db_drop(struct db_conn *db)
{
	if (db->pg)
		PQfinish(db->pg);
	db->pg = NULL;
}

void db_close(struct db_conn *db)
{
	if (db == NULL)
		return;
	db_drop(db);
	free(db->conninfo);
	free(db);
}

/* Statements prepared on an older generation are prepared again before use. */
static void db_new_generation(struct db_conn *db)
{
	db->gen++;
	if (db->gen == 0) /* 0 means "never prepared" */
		db->gen = 1;
}

static int db_connect(struct db_conn *db, const struct log_ctx *log)
{
	/* Keepalives and a TCP user timeout: a half-open connection to a vanished server must
	 * fail within about 30 s, not block a worker forever (Unix sockets ignore them). */
	const char *keys[] = {"dbname", "connect_timeout", "application_name", "keepalives",
			      "keepalives_idle", "keepalives_interval", "keepalives_count",
			      "tcp_user_timeout", NULL};
	const char *vals[] = {db->conninfo, "3", "vehicle-worker", "1", "10", "5", "3", "30000", NULL};

	db_drop(db);
	/* expand_dbname: conninfo may be a URI or key=value string; ours come after it. */
	db->pg = PQconnectdbParams(keys, vals, 1);
	if (db->pg == NULL || PQstatus(db->pg) != CONNECTION_OK) {
		log_error(log, "database connect failed: %s",
			  db->pg ? PQerrorMessage(db->pg) : "out of memory");
		db_drop(db);
		return -1;
	}
	db_new_generation(db);
	if (db->connects++ > 0)
		metrics_db_reconnect();
	log_info(log, "database connected (generation %u%s)", db->gen,
		 db->unnamed ? ", transaction pooling: unnamed statements" : "");
	return 0;
}

/*
 * A connection the server closed while we were idle (restart, failover, admin kill) shows
 * up as a readable socket. Noticing it here, before sending, lets the request reconnect and
 * succeed instead of failing on a dead socket.
 */
static int db_ensure(struct db_conn *db, const struct log_ctx *log)
{
	if (db->pg && PQstatus(db->pg) == CONNECTION_OK) {
		struct pollfd pfd = {.fd = PQsocket(db->pg), .events = POLLIN};
		/* Idle, we expect nothing (no LISTEN): anything readable is the server's goodbye
		 * (admin shutdown, restart, failover) or EOF. PQconsumeInput would only buffer it. */
		if (poll(&pfd, 1, 0) == 0)
			return 0;
		log_warn(log, "database connection closed while idle; reconnecting");
	}
	return db_connect(db, log);
}

int db_connect_now(struct db_conn *db, const struct log_ctx *log)
{
	return db_ensure(db, log);
}

PGconn *db_borrow(struct db_sess *s)
{
	struct db_conn *db = s->conn;

	if (db == NULL || db_ensure(db, s->log) != 0)
		return NULL;
	return db->pg;
}

void db_giveback(struct db_sess *s)
{
	struct db_conn *db = s->conn;

	if (db == NULL || db->pg == NULL)
		return;
	/* Whatever the borrower left open goes now: the next request starts idle. */
	if (PQstatus(db->pg) != CONNECTION_OK || db_end_transaction(db) != 0) {
		log_error(s->log, "database connection lost: %s", PQerrorMessage(db->pg));
		db_drop(db);
	}
}

static int db_state_is(const char *state, const char *const *list)
{
	for (; *list; list++)
		if (strncmp(state, *list, strlen(*list)) == 0)
			return 1;
	return 0;
}

int db_state_unavailable(const char *state)
{
	/* A statement or lock timeout (57014, 55P03) is the service's trouble, not a conflict
	 * of the client's request with state: 503, to be retried. */
	static const char *const unavailable[] = {"08", "57P", "53", "57014", "55P03", NULL};

	return state == NULL || db_state_is(state, unavailable);
}

/* VS4xx are raised by our own SQL functions with texts meant for the client. */
static err_t db_map_ours(struct db_conn *db, const char *state, const char *msg, const char *detail)
{
	if (snprintf(db->last_message, sizeof(db->last_message), "%s", msg ? msg : "") < 0 ||
	    snprintf(db->last_detail, sizeof(db->last_detail), "%s", detail ? detail : "") < 0)
		db->last_message[0] = db->last_detail[0] = '\0';
	if (strcmp(state, "VS400") == 0)
		return ERR_VALIDATION;
	if (strcmp(state, "VS403") == 0)
		return ERR_FORBIDDEN;
	if (strcmp(state, "VS404") == 0)
		return ERR_NOT_FOUND;
	return ERR_CONFLICT;
}

/* A prepared statement that outlived a schema change: 26000 (it is gone), or the 0A000 whose
 * message says its plan changed result type. Other 0A000s are real "not supported" errors. */
static int db_is_stale_plan(const char *state, const char *msg)
{
	return strcmp(state, "26000") == 0 ||
	       (strcmp(state, "0A000") == 0 && strstr(msg, "cached plan must not change result type"));
}

static err_t db_map_error(struct db_conn *db, const PGresult *r, const struct log_ctx *log)
{
	static const char *const conflict[] = {"23505", "23503", "40001", "40P01", NULL};
	static const char *const retry[] = {"40001", "40P01", NULL};
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);

	if (state == NULL)
		state = "";
	if (msg == NULL)
		msg = PQresultErrorMessage(r);
	/* Serialization failures and deadlocks rolled everything back: safe to run again. A
	 * stale prepared statement is prepared afresh and the request run again. */
	db->retry = db_state_is(state, retry);
	if (db_is_stale_plan(state, msg)) {
		db->replan = db->retry = 1;
		log_warn(log, "prepared statements invalidated sqlstate=%s: %s", state, msg);
		return ERR_INTERNAL;
	}
	if (strncmp(state, "VS4", 3) == 0)
		return db_map_ours(db, state, msg, PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL));
	if (db_state_is(state, conflict)) {
		log_warn(log, "conflict sqlstate=%s: %s", state, msg);
		return ERR_CONFLICT;
	}
	if (strncmp(state, "22", 2) == 0) {
		/* Data exceptions come from client values our checks let through. */
		log_warn(log, "data exception sqlstate=%s: %s", state, msg);
		return ERR_VALIDATION;
	}
	if (strcmp(state, "42501") == 0) {
		log_warn(log, "row-level security refused sqlstate=%s: %s", state, msg);
		return ERR_FORBIDDEN;
	}
	if (db_state_unavailable(state)) {
		log_error(log, "database unavailable sqlstate=%s: %s", state, msg);
		return ERR_UNAVAILABLE;
	}
	log_error(log, "database error sqlstate=%s: %s", state, msg);
	return ERR_INTERNAL;
}

enum db_slot_kind { DB_SLOT_SETUP, DB_SLOT_PREPARE, DB_SLOT_QUERY };

/* One expected result of the pipeline, in the order the server will answer. */
struct db_slot {
	enum db_slot_kind kind;
	struct db_stmt *stmt;
	struct db_query *query; /* DB_SLOT_QUERY: where the result goes */
	long index;             /* DB_SLOT_QUERY: position over pre statements, then q */
};

/* Each statement may need a Prepare before it: the queries, the pre statements and the three
 * of our own (BEGIN, the claims, COMMIT). */
#define DB_PIPE_SLOTS (2 * (DB_MAX_QUERIES + DB_MAX_PRE + 3))

struct db_pipe {
	struct db_slot slots[DB_PIPE_SLOTS];
	size_t n;
};

static int db_pipe_add(struct db_pipe *p, enum db_slot_kind kind, struct db_stmt *st,
		       struct db_query *query, long index)
{
	if (p->n >= DB_PIPE_SLOTS)
		return -1; /* (a caller past DB_MAX_QUERIES or DB_MAX_PRE) */
	p->slots[p->n++] = (struct db_slot){kind, st, query, index};
	return 0;
}

/* Queues one statement: in session mode by name, preparing it first when this connection has
 * not yet (once even when a pipeline uses it twice); in transaction mode unnamed, its text
 * parsed afresh, which leaves nothing behind on the server session. */
static int db_pipe_stmt(struct db_conn *db, struct db_pipe *p, struct db_stmt *st,
			const char *const *params, struct db_query *query, long index)
{
	int queued = 0;
	int ok;

	for (size_t k = 0; !db->unnamed && k < p->n; k++)
		if (p->slots[k].kind == DB_SLOT_PREPARE && p->slots[k].stmt == st)
			queued = 1;
	switch (db_send_plan(db->unnamed, st->prepared_gen, db->gen, queued)) {
	case DB_SEND_UNNAMED:
		ok = PQsendQueryParams(db->pg, st->sql, st->nparams, NULL, params, NULL, NULL, 0);
		break;
	case DB_SEND_PREPARE_FIRST:
		if (!PQsendPrepare(db->pg, st->name, st->sql, st->nparams, NULL) ||
		    db_pipe_add(p, DB_SLOT_PREPARE, st, NULL, -1) != 0)
			return -1;
		/* fall through */
	default:
		ok = PQsendQueryPrepared(db->pg, st->name, st->nparams, params, NULL, NULL, 0);
		break;
	}
	if (!ok)
		return -1;
	return db_pipe_add(p, query ? DB_SLOT_QUERY : DB_SLOT_SETUP, st, query, index);
}

/* The pre statements this pipeline runs: none when they wait (pre_lazy) for a pipeline of
 * queries to find nothing. */
static size_t db_pre_count(const struct db_sess *s, size_t n)
{
	return s->pre_lazy && n > 0 ? 0 : s->npre;
}

/* Sends the whole request: [BEGIN] claims, pre statements, q, [COMMIT], Sync. */
static int db_pipe_send(struct db_conn *db, struct db_sess *s, struct db_query *q, size_t n,
			struct db_pipe *p)
{
	size_t npre = db_pre_count(s, n);
	/* One statement sees one snapshot by itself: only two or more need the transaction. */
	int explicit_tx = s->snapshot && npre + n > 1;

	if (!PQenterPipelineMode(db->pg))
		return -1;
	if (explicit_tx && db_pipe_stmt(db, p, &db_st_begin, NULL, NULL, -1) != 0)
		return -1;
	{
		char st_ms[16], lock_ms[16];
		const char *cp[5] = {st_ms, lock_ms, s->role, s->claims ? s->claims : "",
				     s->sub ? s->sub : ""};
		if (snprintf(st_ms, sizeof(st_ms), "%u", s->timeout_ms ? s->timeout_ms : DB_TIMEOUT_MS) < 0 ||
		    snprintf(lock_ms, sizeof(lock_ms), "%u", DB_LOCK_TIMEOUT_MS) < 0 ||
		    db_pipe_stmt(db, p, s->role ? &db_st_claims : &db_st_setup, cp, NULL, -1) != 0)
			return -1;
	}
	for (size_t i = 0; i < npre; i++)
		if (db_pipe_stmt(db, p, s->pre[i].stmt, s->pre[i].params, &s->pre[i], (long)i) != 0)
			return -1;
	for (size_t i = 0; i < n; i++)
		if (db_pipe_stmt(db, p, q[i].stmt, q[i].params, &q[i], (long)(s->npre + i)) != 0)
			return -1;
	if (explicit_tx && db_pipe_stmt(db, p, &db_st_commit, NULL, NULL, -1) != 0)
		return -1;
	return PQpipelineSync(db->pg) ? 0 : -1;
}

/* Reads one slot's result and the NULL that ends it. -1: the connection is unusable. */
static int db_pipe_read_slot(struct db_conn *db, struct db_sess *s, struct db_slot *slot, err_t *rc)
{
	PGresult *r = PQgetResult(db->pg);
	ExecStatusType st;

	if (r == NULL)
		return -1;
	st = PQresultStatus(r);
	if (st == PGRES_FATAL_ERROR && *rc == ERR_OK) {
		*rc = db_map_error(db, r, s->log);
		s->failed = slot->index;
		/* Only the request's own statements carry client values: a data exception in our
		 * setup (BEGIN, claims, a Prepare) or an ownership check is a fault of ours. */
		if (*rc == ERR_VALIDATION && (slot->kind != DB_SLOT_QUERY || slot->index < (long)s->npre) &&
		    db->last_message[0] == '\0')
			*rc = ERR_INTERNAL;
	} else if (st == PGRES_COMMAND_OK && slot->kind == DB_SLOT_PREPARE) {
		slot->stmt->prepared_gen = db->gen;
	}
	if (slot->kind == DB_SLOT_QUERY && (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK))
		slot->query->res = r;
	else
		PQclear(r);
	if ((r = PQgetResult(db->pg)) != NULL) {
		PQclear(r);
		return -1;
	}
	return PQstatus(db->pg) == CONNECTION_OK ? 0 : -1;
}

/* The Sync's answer. An error at the implicit COMMIT arrives just before it. */
static int db_pipe_read_sync(struct db_conn *db, struct db_sess *s, err_t *rc)
{
	for (int guard = 0; guard < 4; guard++) {
		PGresult *r = PQgetResult(db->pg);
		ExecStatusType st = r ? PQresultStatus(r) : PGRES_EMPTY_QUERY;

		if (r == NULL) {
			if (guard > 0)
				continue; /* the NULL that ends the commit error's results */
			return -1;
		}
		if (st == PGRES_FATAL_ERROR && *rc == ERR_OK)
			*rc = db_map_error(db, r, s->log);
		PQclear(r);
		if (st == PGRES_PIPELINE_SYNC)
			return 0;
	}
	return -1;
}

/* An explicit transaction (a read's snapshot) that failed stays open past the Sync. */
static int db_end_transaction(struct db_conn *db)
{
	PGresult *r;
	int ok;

	if (PQtransactionStatus(db->pg) == PQTRANS_IDLE)
		return 0;
	r = PQexec(db->pg, "ROLLBACK");
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	return ok ? 0 : -1;
}

/* After 0A000/26000: forget every prepared statement, so each is prepared again. Unnamed
 * statements leave nothing to forget (and through a transaction pooler a DEALLOCATE would
 * reach some other server session). */
static int db_replan(struct db_conn *db)
{
	PGresult *r;
	int ok;

	if (db->unnamed)
		return 0;
	r = PQexec(db->pg, "DEALLOCATE ALL");
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	db_new_generation(db);
	return ok ? 0 : -1;
}

static void db_pre_clear(struct db_sess *s)
{
	for (size_t i = 0; i < s->npre; i++) {
		PQclear(s->pre[i].res);
		s->pre[i].res = NULL;
	}
}

static err_t db_run_once(struct db_conn *db, struct db_sess *s, struct db_query *q, size_t n)
{
	struct db_pipe p = {.n = 0};
	err_t rc = ERR_OK;
	size_t i;

	db->retry = 0;
	s->failed = -1;
	if (db_ensure(db, s->log) != 0)
		return ERR_UNAVAILABLE;
	if (db_pipe_send(db, s, q, n, &p) != 0)
		goto lost;
	for (i = 0; i < p.n; i++)
		if (db_pipe_read_slot(db, s, &p.slots[i], &rc) != 0)
			goto lost;
	if (db_pipe_read_sync(db, s, &rc) != 0 || !PQexitPipelineMode(db->pg) ||
	    db_end_transaction(db) != 0)
		goto lost;
	if (db_pre_count(s, n) == s->npre && (rc == ERR_OK || s->failed >= (long)s->npre))
		s->pre_passed = 1;
	if (db->replan && db_replan(db) != 0)
		goto lost;
	db_pre_clear(s);
	if (rc != ERR_OK)
		db_queries_clear(q, n);
	return rc;
lost:
	log_error(s->log, "database connection lost: %s", db->pg ? PQerrorMessage(db->pg) : "");
	db_drop(db);
	db_pre_clear(s);
	db_queries_clear(q, n);
	db->retry = 0;
	return ERR_UNAVAILABLE;
}

err_t db_run(struct db_sess *s, struct db_query *q, size_t n)
{
	struct db_conn *db = s->conn;
	err_t rc = ERR_INTERNAL;
	int replanned = 0;

	if (n > DB_MAX_QUERIES || s->npre > DB_MAX_PRE)
		return ERR_INTERNAL;
	for (int attempt = 1; attempt <= DB_ATTEMPTS; attempt++) {
		/* Nothing of an earlier attempt's error may leak into this one's answer. */
		db->last_message[0] = db->last_detail[0] = '\0';
		db->replan = 0;
		rc = db_run_once(db, s, q, n);
		if (rc == ERR_OK || !db->retry || attempt == DB_ATTEMPTS)
			break;
		/* A plan that went stale again right after being prepared afresh is no schema
		 * change in passing: give up rather than loop. */
		if (db->replan && replanned++)
			break;
		log_warn(s->log, "transaction rolled back; running it again (attempt %d of %d)",
			 attempt + 1, DB_ATTEMPTS);
	}
	if (rc == ERR_INTERNAL || rc == ERR_UNAVAILABLE)
		metrics_db_error();
	s->last = rc;
	return rc;
}

err_t db_exec(struct db_sess *s, struct db_query *q, size_t n)
{
	err_t rc = db_run(s, q, n);

	db_queries_clear(q, n);
	return rc;
}

err_t db_one(struct db_sess *s, struct db_query *q, size_t n, units_unit u, json_object **row)
{
	err_t rc = db_run(s, q, n);

	*row = NULL;
	if (rc == ERR_OK) {
		if (PQntuples(q[n - 1].res) == 1)
			*row = db_json_row(q[n - 1].res, 0, u);
		rc = *row ? ERR_OK : ERR_NOT_FOUND;
	}
	db_queries_clear(q, n);
	return rc;
}

err_t db_list(struct db_sess *s, struct db_query *q, size_t n, size_t count_i, size_t rows_i,
	      units_unit u, json_object **rows, long *total)
{
	err_t rc = db_run(s, q, n);

	*rows = NULL;
	if (rc == ERR_OK) {
		*total = db_count(q[count_i].res);
		*rows = db_json_rows(q[rows_i].res, u);
		if (*rows == NULL)
			rc = ERR_INTERNAL;
	}
	db_queries_clear(q, n);
	return rc;
}

err_t db_list_counted(struct db_sess *s, struct db_query *page, struct db_query *count,
		      units_unit u, json_object **rows, long *total)
{
	err_t rc = db_run(s, page, 1);
	const char *t;

	*rows = NULL;
	*total = 0;
	if (rc != ERR_OK)
		return rc;
	if (PQntuples(page->res) > 0) {
		t = db_text(page->res, 0, "_total");
		*total = t ? strtol(t, NULL, 10) : 0;
		*rows = db_json_rows_out(page->res, u);
	} else {
		/* An empty page (no rows, or past the end) says nothing of the total. */
		rc = db_run(s, count, 1);
		if (rc == ERR_OK) {
			*total = db_count(count->res);
			*rows = json_object_new_array();
		}
	}
	if (rc == ERR_OK && *rows == NULL)
		rc = ERR_INTERNAL;
	db_queries_clear(page, 1);
	db_queries_clear(count, 1);
	return rc;
}

err_t db_doc(struct db_sess *s, struct db_query *q, size_t n, units_unit u, json_object **doc)
{
	err_t rc = db_run(s, q, n);

	*doc = NULL;
	if (rc == ERR_OK) {
		const PGresult *r = q[n - 1].res;
		if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
			*doc = db_json_parse(PQgetvalue(r, 0, 0));
		if (*doc == NULL)
			rc = ERR_INTERNAL;
		else
			db_json_api(*doc, u);
	}
	db_queries_clear(q, n);
	return rc;
}

void db_queries_clear(struct db_query *q, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		PQclear(q[i].res);
		q[i].res = NULL;
	}
}

const char *db_last_detail(const struct db_conn *db)
{
	return db->last_detail;
}

const char *db_last_message(const struct db_conn *db)
{
	return db->last_message;
}

const char *db_text(const PGresult *res, int row, const char *col)
{
	int f = PQfnumber(res, col);

	if (f < 0 || row >= PQntuples(res) || PQgetisnull(res, row, f))
		return NULL;
	return PQgetvalue(res, row, f);
}

long db_count(const PGresult *res)
{
	if (res == NULL || PQntuples(res) < 1 || PQnfields(res) < 1)
		return 0;
	return strtol(PQgetvalue(res, 0, 0), NULL, 10);
}

int db_uuid4(char out[37])
{
	unsigned char b[16];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return -1;
	b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
	if (snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		     b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		     b[13], b[14], b[15]) != 36)
		return -1;
	return 0;
}

int db_page_init(struct db_page *p, long limit, long offset)
{
	int a = snprintf(p->limit, sizeof(p->limit), "%ld", limit);
	int b = snprintf(p->offset, sizeof(p->offset), "%ld", offset);

	return (a < 0 || (size_t)a >= sizeof(p->limit) || b < 0 || (size_t)b >= sizeof(p->offset)) ? -1 : 0;
}
