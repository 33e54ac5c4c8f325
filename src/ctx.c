/* Request context lifecycle and query-string decoding. */
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "db.h"

void ctx_init(struct ctx *c)
{
	memset(c, 0, sizeof(*c));
	c->status = 200;
	c->total_count = -1;
}

void ctx_reset(struct ctx *c)
{
	struct db_conn *db = c->db;
	const struct auth_keys *keys = c->keys;

	free(c->body);
	free(c->query_buf);
	auth_identity_clear(&c->id);
	json_object_put(c->out);
	json_object_put(c->err_details);
	ctx_init(c);
	c->db = db;
	c->keys = keys;
}

static int ctx_hex(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Decodes %XX and '+' in place. */
static void ctx_urldecode(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (*s == '+') {
			*w++ = ' ';
		} else if (*s == '%' && ctx_hex(s[1]) >= 0 && ctx_hex(s[2]) >= 0 &&
			   (s[1] != '0' || s[2] != '0')) {
			/* %00 stays literal: a NUL would silently cut the value short. */
			*w++ = (char)(ctx_hex(s[1]) * 16 + ctx_hex(s[2]));
			s += 2;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

void ctx_parse_query(struct ctx *c, const char *qs)
{
	char *p, *save = NULL;

	c->nquery = 0;
	if (qs == NULL || *qs == '\0')
		return;
	c->query_buf = strdup(qs);
	if (c->query_buf == NULL)
		return;
	for (p = strtok_r(c->query_buf, "&", &save); p; p = strtok_r(NULL, "&", &save)) {
		if (c->nquery == CTX_QUERY_MAX) {
			c->query_overflow = 1;
			break;
		}
		char *eq = strchr(p, '=');
		if (eq)
			*eq++ = '\0';
		ctx_urldecode(p);
		if (eq)
			ctx_urldecode(eq);
		c->query[c->nquery].name = p;
		c->query[c->nquery].value = eq ? eq : "";
		c->nquery++;
	}
}

const char *ctx_query(const struct ctx *c, const char *name)
{
	for (int i = 0; i < c->nquery; i++)
		if (strcmp(c->query[i].name, name) == 0)
			return c->query[i].value;
	return NULL;
}

err_t ctx_fail(struct ctx *c, err_t e, const char *msg, json_object *details)
{
	c->err_msg = msg;
	if (details) {
		json_object_put(c->err_details);
		c->err_details = details;
	}
	return e;
}

err_t ctx_fail_field(struct ctx *c, const char *field, const char *problem)
{
	json_object *d = json_object_new_object();

	if (d)
		json_object_object_add(d, field, json_object_new_string(problem));
	return ctx_fail(c, ERR_VALIDATION, NULL, d);
}

err_t ctx_db_run(struct ctx *c, struct db_query *q, size_t n)
{
	struct db_as as = {.role = c->id.role[0] ? c->id.role : NULL, .claims = c->id.claims_json};
	err_t rc = db_run(c->db, &as, q, n, &c->log);

	switch (rc) {
	case ERR_OK:
		break;
	case ERR_VALIDATION:
		/* VS400: message is the field, detail the problem. */
		if (db_last_message(c->db)[0])
			return ctx_fail_field(c, db_last_message(c->db), db_last_detail(c->db));
		break;
	case ERR_FORBIDDEN:
		log_warn(&c->log, "security: forbidden (resource of another user)");
		/* fall through */
	case ERR_CONFLICT:
	case ERR_NOT_FOUND:
		if (db_last_message(c->db)[0])
			return ctx_fail(c, rc, db_last_message(c->db), NULL);
		break;
	default:
		break;
	}
	return rc;
}

err_t ctx_db_list(struct ctx *c, struct db_query *q, size_t n, size_t count_i, size_t rows_i,
		  int unit, json_object **rows, long *total)
{
	err_t rc = ctx_db_run(c, q, n);

	*rows = NULL;
	if (rc == ERR_OK) {
		*total = strtol(PQgetvalue(q[count_i].res, 0, 0), NULL, 10);
		*rows = db_rows_json(q[rows_i].res, (units_unit)unit);
	}
	db_queries_clear(q, n);
	return rc;
}

err_t ctx_db_one(struct ctx *c, struct db_query *q, size_t n, int unit, json_object **row)
{
	err_t rc = ctx_db_run(c, q, n);

	*row = NULL;
	if (rc == ERR_OK) {
		if (PQntuples(q[n - 1].res) == 1)
			*row = db_row_json(q[n - 1].res, 0, (units_unit)unit);
		else
			rc = ERR_NOT_FOUND;
	}
	db_queries_clear(q, n);
	return rc;
}
