/* The state of one request: built by the worker, read by handlers, reset after the reply. */
#ifndef VS_CTX_H
#define VS_CTX_H

#include <stddef.h>
#include <time.h>
#include <json-c/json.h>

#include "auth.h"
#include "db.h"
#include "err.h"
#include "jtext.h"
#include "log.h"
#include "router.h"

/* How every answer body is written (worker_reply, and the list cache, which stores the body
 * as it was sent): compact, and "/" not escaped. */
#define CTX_JSON_FLAGS JTEXT_FLAGS

#define CTX_QUERY_MAX 16

struct ctx {
	/* request, borrowed from the FastCGI environment for the life of the request */
	const char *method;
	const char *path;
	const char *content_type;
	const char *idem_key; /* Idempotency-Key header, or NULL */
	const char *authorization; /* Authorization header, or NULL; never logged */
	const char *remote_addr;   /* REMOTE_ADDR (nginx's, after real_ip), or NULL */
	char *body;           /* owned, NUL-terminated */
	size_t body_len;
	char *query_buf; /* owned copy of QUERY_STRING, decoded in place into query[] */
	int nquery;
	int query_overflow; /* more than CTX_QUERY_MAX parameters: refused, not truncated */
	struct {
		const char *name;
		const char *value;
	} query[CTX_QUERY_MAX];
	struct router_params params;
	const struct router_route *route;
	struct auth_identity id;
	int auth_done;        /* the token was verified (once per request): auth_rc, auth_why */
	err_t auth_rc;
	const char *auth_why;
	struct log_ctx log;
	time_t now;

	/* process-wide, not owned */
	struct db_conn *conn;
	const struct auth_keys *keys;

	/* The request's database session: who it runs as, its snapshot, and the ownership
	 * checks (db.pre) that every pipeline of the request starts with. own_field[i] is the
	 * body field that check i is about, NULL for a path parameter. */
	struct db_sess db;
	const char *own_field[DB_MAX_PRE];

	/* response */
	int status;        /* success status: 200 unless the handler says 201 */
	json_object *out;  /* success body, owned */
	long total_count;  /* >= 0: sent as X-Total-Count */
	int replayed;      /* answered from an Idempotency-Key: sent as Idempotent-Replayed */
	const char *err_msg;      /* overrides the default message of the error */
	json_object *err_details; /* owned; field -> problem */
	char allow[64];           /* Allow header for 405 */
	long retry_after;         /* > 0: an error answer's Retry-After (a 429 of the handler's) */

	/* A streamed answer (GET /api/export): the handler writes the head and the body itself,
	 * through sink (the worker's FastCGI stream; 0 or -1), and the worker adds nothing. If
	 * the handler fails once the head is out, the worker fails the FastCGI connection
	 * (worker_cut): nginx then ends the client's response without its last chunk, so a
	 * truncated document is never taken for a whole one. */
	int (*sink)(void *arg, const char *buf, size_t len);
	void *sink_arg;
	int streamed; /* the head went out through sink */
};

void ctx_init(struct ctx *c);
/* Frees everything the request owned so nothing survives into the next one. */
void ctx_reset(struct ctx *c);
/* Parses the query string (copied) into c->query. */
void ctx_parse_query(struct ctx *c, const char *qs);
/* Decoded value of a query parameter, or NULL when absent. */
const char *ctx_query(const struct ctx *c, const char *name);
/* Records an error for the reply and returns it, so handlers can `return ctx_fail(...)`. */
err_t ctx_fail(struct ctx *c, err_t e, const char *msg, json_object *details);
/* One-field validation failure: details {field: problem}. */
err_t ctx_fail_field(struct ctx *c, const char *field, const char *problem);
/* A streamed answer: its head (200, JSON, no-store; no Content-Length), then its body a
 * piece at a time. ERR_UNAVAILABLE when the stream is gone (nginx or the client left). */
err_t ctx_stream_begin(struct ctx *c) WUR;
err_t ctx_stream_write(struct ctx *c, const char *buf, size_t len) WUR;

#endif
