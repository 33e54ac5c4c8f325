/*
 * libpq, one connection per worker process, used in pipeline mode: a request sends its
 * claims, its statements and one Sync, then reads every result. Between Syncs the server
 * runs the statements as one implicit transaction, so a request costs one round trip and
 * either all of it happens or none of it does.
 */
#include <poll.h>
#include <sys/random.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "db.h"

struct db_conn {
	PGconn *pg;
	char *conninfo;
	unsigned gen; /* bumped on every new connection; prepared statements are per connection */
	int stale;    /* reconnect before the next request (prepared plans went stale) */
	char last_message[64];
	char last_detail[256];
};

/* Set once per session: the formats db_row_json expects, and a bound on any statement. */
static const char db_session_sql[] =
	"SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres';"
	" SET statement_timeout = '10s'; SET lock_timeout = '5s';"
	" SET idle_in_transaction_session_timeout = '30s'";

static struct db_stmt db_st_claims = {
	"db_claims",
	"SELECT set_config('role', $1, true), set_config('request.jwt.claims', $2, true)", 2, 0};

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

static int db_connect(struct db_conn *db, const struct log_ctx *log)
{
	/* Keepalives and a TCP user timeout: a half-open connection to a vanished server must
	 * fail within about 30 s, not block a worker forever (Unix sockets ignore them). */
	const char *keys[] = {"dbname", "connect_timeout", "application_name", "keepalives",
			      "keepalives_idle", "keepalives_interval", "keepalives_count",
			      "tcp_user_timeout", NULL};
	const char *vals[] = {db->conninfo, "3", "vehicle-worker", "1", "10", "5", "3", "30000", NULL};
	PGresult *r;

	db_drop(db);
	/* expand_dbname: conninfo may be a URI or key=value string; ours come after it. */
	db->pg = PQconnectdbParams(keys, vals, 1);
	if (db->pg == NULL || PQstatus(db->pg) != CONNECTION_OK) {
		log_error(log, "database connect failed: %s",
			  db->pg ? PQerrorMessage(db->pg) : "out of memory");
		db_drop(db);
		return -1;
	}
	r = PQexec(db->pg, db_session_sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		log_error(log, "database session setup failed: %s", PQerrorMessage(db->pg));
		PQclear(r);
		db_drop(db);
		return -1;
	}
	PQclear(r);
	db->gen++;
	if (db->gen == 0) /* 0 means "never prepared" */
		db->gen = 1;
	log_info(log, "database connected (generation %u)", db->gen);
	return 0;
}

/*
 * A connection the server closed while we were idle (restart, failover, admin kill) shows
 * up as a readable socket. Noticing it here, before sending, lets the request reconnect and
 * succeed instead of failing on a dead socket.
 */
static int db_ensure(struct db_conn *db, const struct log_ctx *log)
{
	if (db->pg && PQstatus(db->pg) == CONNECTION_OK && !db->stale) {
		struct pollfd pfd = {.fd = PQsocket(db->pg), .events = POLLIN};
		/* Idle, we expect nothing (no LISTEN): anything readable is the server's goodbye
		 * (admin shutdown, restart, failover) or EOF. PQconsumeInput would only buffer it. */
		if (poll(&pfd, 1, 0) == 0)
			return 0;
		log_warn(log, "database connection closed while idle; reconnecting");
	}
	db->stale = 0;
	return db_connect(db, log);
}

static err_t db_map_error(struct db_conn *db, const PGresult *r, const struct log_ctx *log)
{
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	const char *detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);

	if (state == NULL)
		state = "";
	db->last_message[0] = db->last_detail[0] = '\0';
	/* VS4xx are raised by our own SQL functions with texts meant for the client. */
	if (strncmp(state, "VS4", 3) == 0) {
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
	if (strcmp(state, "23505") == 0 || strcmp(state, "23503") == 0 ||
	    strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
	    strcmp(state, "55P03") == 0) {
		log_warn(log, "conflict sqlstate=%s: %s", state, msg ? msg : "");
		return ERR_CONFLICT;
	}
	if (strncmp(state, "22", 2) == 0) {
		/* Data exceptions come from client values our checks let through. */
		log_warn(log, "data exception sqlstate=%s: %s", state, msg ? msg : "");
		return ERR_VALIDATION;
	}
	if (strcmp(state, "0A000") == 0 || strcmp(state, "26000") == 0) {
		/* A prepared statement outlived a schema change: start afresh next time. */
		db->stale = 1;
	}
	if (strcmp(state, "42501") == 0) {
		log_warn(log, "row-level security refused sqlstate=%s: %s", state, msg ? msg : "");
		return ERR_FORBIDDEN;
	}
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0 ||
	    strncmp(state, "53", 2) == 0 || strcmp(state, "57014") == 0) {
		log_error(log, "database unavailable sqlstate=%s: %s", state, msg ? msg : "");
		return ERR_UNAVAILABLE;
	}
	log_error(log, "database error sqlstate=%s: %s", state, msg ? msg : PQresultErrorMessage(r));
	return ERR_INTERNAL;
}

enum db_slot_kind { DB_SLOT_SETUP, DB_SLOT_PREPARE, DB_SLOT_QUERY };

/* One expected result of the pipeline, in the order the server will answer. */
struct db_slot {
	enum db_slot_kind kind;
	struct db_stmt *stmt;
	size_t qi;
};

static err_t db_run_once(struct db_conn *db, const struct db_as *as, struct db_query *q, size_t n,
			 const struct log_ctx *log, int *retry)
{
	struct db_slot slots[2 * DB_MAX_QUERIES + 2];
	size_t nslots = 0, i;
	err_t rc = ERR_OK;
	int broken = 0;

	*retry = 0;
	if (n > DB_MAX_QUERIES)
		return ERR_INTERNAL;
	if (db_ensure(db, log) != 0)
		return ERR_UNAVAILABLE;
	if (!PQenterPipelineMode(db->pg))
		goto lost;
	if (as && as->role) {
		const char *p[2] = {as->role, as->claims ? as->claims : ""};
		if (db_st_claims.prepared_gen != db->gen) {
			if (!PQsendPrepare(db->pg, db_st_claims.name, db_st_claims.sql, 2, NULL))
				goto lost;
			slots[nslots++] = (struct db_slot){DB_SLOT_PREPARE, &db_st_claims, 0};
		}
		if (!PQsendQueryPrepared(db->pg, db_st_claims.name, 2, p, NULL, NULL, 0))
			goto lost;
		slots[nslots++] = (struct db_slot){DB_SLOT_SETUP, NULL, 0};
	}
	for (i = 0; i < n; i++) {
		struct db_stmt *st = q[i].stmt;
		int queued = 0;
		/* Prepared once even when a pipeline uses it twice (the Prepare is not answered yet). */
		for (size_t k = 0; k < nslots; k++)
			if (slots[k].kind == DB_SLOT_PREPARE && slots[k].stmt == st)
				queued = 1;
		if (st->prepared_gen != db->gen && !queued) {
			if (!PQsendPrepare(db->pg, st->name, st->sql, st->nparams, NULL))
				goto lost;
			slots[nslots++] = (struct db_slot){DB_SLOT_PREPARE, st, i};
		}
		if (!PQsendQueryPrepared(db->pg, st->name, st->nparams, q[i].params, NULL, NULL, 0))
			goto lost;
		slots[nslots++] = (struct db_slot){DB_SLOT_QUERY, st, i};
	}
	if (!PQpipelineSync(db->pg))
		goto lost;

	for (i = 0; i < nslots; i++) {
		PGresult *r = PQgetResult(db->pg);
		ExecStatusType s;

		if (r == NULL) {
			broken = 1;
			break;
		}
		s = PQresultStatus(r);
		if (s == PGRES_FATAL_ERROR && rc == ERR_OK) {
			const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
			if (state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0))
				*retry = 1;
			rc = db_map_error(db, r, log);
			if (PQstatus(db->pg) != CONNECTION_OK)
				broken = 1;
		} else if (s == PGRES_COMMAND_OK && slots[i].kind == DB_SLOT_PREPARE) {
			slots[i].stmt->prepared_gen = db->gen;
		}
		if (slots[i].kind == DB_SLOT_QUERY && (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK)) {
			q[slots[i].qi].res = r;
		} else {
			PQclear(r);
		}
		/* Each statement's results end with a NULL. */
		if ((r = PQgetResult(db->pg)) != NULL) {
			PQclear(r);
			broken = 1;
			break;
		}
		if (broken)
			break;
	}
	/* Then the Sync. An error at the implicit COMMIT arrives just before it. */
	for (int guard = 0; !broken; guard++) {
		PGresult *r = PQgetResult(db->pg);
		ExecStatusType s = r ? PQresultStatus(r) : PGRES_EMPTY_QUERY;

		if (r == NULL && guard > 0 && guard < 4)
			continue; /* the NULL that ends the commit error's results */
		if (r == NULL || guard >= 4) {
			broken = 1;
		} else if (s == PGRES_FATAL_ERROR) {
			if (rc == ERR_OK) {
				const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
				*retry = state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0);
				rc = db_map_error(db, r, log);
			}
		} else if (s == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			break;
		}
		PQclear(r);
	}
	if (broken || !PQexitPipelineMode(db->pg))
		goto lost;
	if (rc != ERR_OK)
		db_queries_clear(q, n);
	return rc;
lost:
	log_error(log, "database connection lost: %s", db->pg ? PQerrorMessage(db->pg) : "");
	db_drop(db);
	db_queries_clear(q, n);
	*retry = 0;
	return ERR_UNAVAILABLE;
}

err_t db_run(struct db_conn *db, const struct db_as *as, struct db_query *q, size_t n,
	     const struct log_ctx *log)
{
	err_t rc = ERR_INTERNAL;
	int retry = 0;

	/* Nothing of an earlier request's error may leak into this one's answer. */
	db->last_message[0] = db->last_detail[0] = '\0';
	/* Serialization failures and deadlocks rolled everything back: safe to run again. */
	for (int attempt = 0; attempt < 3; attempt++) {
		rc = db_run_once(db, as, q, n, log, &retry);
		if (!retry)
			break;
		log_warn(log, "transaction retried after serialization failure (attempt %d)", attempt + 1);
	}
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

/* Columns whose numbers are distances (stored in km, shown in the asked unit). */
static int db_is_distance(const char *col)
{
	static const char *const names[] = {
		"total_kilometrage", "initial_kilometrage", "distance", "kilometrage_since_last_maintenance",
		"replacement_threshold", "credited_distance", NULL};
	for (const char *const *n = names; *n; n++)
		if (strcmp(col, *n) == 0)
			return 1;
	return 0;
}

#define DB_OID_BOOL 16
#define DB_OID_INT8 20
#define DB_OID_INT2 21
#define DB_OID_INT4 23
#define DB_OID_JSON 114
#define DB_OID_FLOAT4 700
#define DB_OID_FLOAT8 701
#define DB_OID_TIMESTAMPTZ 1184
#define DB_OID_NUMERIC 1700
#define DB_OID_JSONB 3802

/* "2024-01-15 10:00:00.5+00" (ISO, UTC session) -> "2024-01-15T10:00:00.5Z" */
static json_object *db_rfc3339(const char *s)
{
	char buf[64];
	size_t len = strlen(s);

	if (len < 19 || len + 2 >= sizeof(buf))
		return json_object_new_string(s);
	memcpy(buf, s, len + 1);
	buf[10] = 'T';
	if (len > 3 && strcmp(buf + len - 3, "+00") == 0) {
		buf[len - 3] = 'Z';
		buf[len - 2] = '\0';
	}
	return json_object_new_string(buf);
}

/* Adds j under name; "a.b" goes into sub-object a as b, so one row can carry a nested object. */
static void db_put(json_object *o, const char *name, json_object *j)
{
	const char *dot = strchr(name, '.');
	json_object *sub;
	char head[64];

	if (dot == NULL || (size_t)(dot - name) >= sizeof(head)) {
		json_object_object_add(o, name, j);
		return;
	}
	memcpy(head, name, (size_t)(dot - name));
	head[dot - name] = '\0';
	if (!json_object_object_get_ex(o, head, &sub) || !json_object_is_type(sub, json_type_object)) {
		sub = json_object_new_object();
		json_object_object_add(o, head, sub);
	}
	json_object_object_add(sub, dot + 1, j);
}

json_object *db_json_parse(const char *text)
{
	json_tokener *tok = json_tokener_new_ex(BODY_MAX_DEPTH + 32);
	json_object *o;

	if (tok == NULL)
		return NULL;
	o = json_tokener_parse_ex(tok, text, (int)strlen(text));
	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

json_object *db_row_json(const PGresult *res, int row, units_unit unit)
{
	json_object *o = json_object_new_object();
	int nf = PQnfields(res);
	int has_distance = 0;

	if (o == NULL)
		return NULL;
	for (int f = 0; f < nf; f++) {
		const char *name = PQfname(res, f);
		const char *v = PQgetvalue(res, row, f);
		json_object *j = NULL;

		if (PQgetisnull(res, row, f)) {
			db_put(o, name, NULL);
			continue;
		}
		switch (PQftype(res, f)) {
		case DB_OID_BOOL:
			j = json_object_new_boolean(v[0] == 't');
			break;
		case DB_OID_INT2:
		case DB_OID_INT4:
		case DB_OID_INT8:
			j = json_object_new_int64(strtoll(v, NULL, 10));
			break;
		case DB_OID_NUMERIC:
		case DB_OID_FLOAT4:
		case DB_OID_FLOAT8:
			if (db_is_distance(name)) {
				j = units_json(strtod(v, NULL), unit);
				has_distance = 1;
			} else {
				j = units_json(strtod(v, NULL), UNITS_KM);
			}
			break;
		case DB_OID_JSON:
		case DB_OID_JSONB:
			j = db_json_parse(v);
			break;
		case DB_OID_TIMESTAMPTZ:
			j = db_rfc3339(v);
			break;
		default:
			j = json_object_new_string(v);
			break;
		}
		db_put(o, name, j);
	}
	/* Every object that carries a distance says in which unit. */
	if (has_distance)
		json_object_object_add(o, "unit", json_object_new_string(units_name(unit)));
	return o;
}

void db_json_api(json_object *o, units_unit unit)
{
	int has_distance = 0;

	if (json_object_is_type(o, json_type_array)) {
		size_t n = json_object_array_length(o);
		for (size_t i = 0; i < n; i++)
			db_json_api(json_object_array_get_idx(o, i), unit);
		return;
	}
	if (!json_object_is_type(o, json_type_object))
		return;
	json_object_object_foreach(o, key, val)
	{
		size_t klen = strlen(key);

		/* metadata is the user's own JSON: never rewritten. */
		if (val == NULL || strcmp(key, "metadata") == 0)
			continue;
		if (db_is_distance(key) &&
		    (json_object_is_type(val, json_type_double) || json_object_is_type(val, json_type_int))) {
			/* Replacing the value of the key being visited is safe in json-c. */
			json_object_object_add(o, key, units_json(json_object_get_double(val), unit));
			has_distance = 1;
		} else if (klen > 3 && strcmp(key + klen - 3, "_at") == 0 &&
			   json_object_is_type(val, json_type_string)) {
			const char *s = json_object_get_string(val);
			size_t slen = strlen(s);
			char buf[64];
			if (slen > 6 && slen < sizeof(buf) && strcmp(s + slen - 6, "+00:00") == 0) {
				memcpy(buf, s, slen - 6);
				buf[slen - 6] = 'Z';
				buf[slen - 5] = '\0';
				json_object_object_add(o, key, json_object_new_string(buf));
			}
		} else {
			db_json_api(val, unit);
		}
	}
	if (has_distance)
		json_object_object_add(o, "unit", json_object_new_string(units_name(unit)));
}

json_object *db_rows_json(const PGresult *res, units_unit unit)
{
	json_object *a = json_object_new_array();
	int n = PQntuples(res);

	for (int i = 0; a && i < n; i++)
		json_object_array_add(a, db_row_json(res, i, unit));
	return a;
}

const char *db_text(const PGresult *res, int row, const char *col)
{
	int f = PQfnumber(res, col);

	if (f < 0 || row >= PQntuples(res) || PQgetisnull(res, row, f))
		return NULL;
	return PQgetvalue(res, row, f);
}

int db_bool(const PGresult *res, int row, const char *col)
{
	const char *v = db_text(res, row, col);
	return v && v[0] == 't';
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
