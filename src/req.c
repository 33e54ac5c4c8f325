/* Request helpers for handlers: query parameters, the body, ownership of body ids. */
#include <string.h>

#include "body.h"
#include "req.h"

/* One statement for every ownership check: 404 or 403 raised by the SQL (VS404/VS403). */
static struct db_stmt req_st_own = {"gear_assert",
	"SELECT vehicles.gear_assert($1::vehicles.entity_type, $2::uuid)", 2, 0};

enum entity req_kind(const struct ctx *c)
{
	return c->route->own[0].kind;
}

const char *req_param(const struct ctx *c, const char *name)
{
	return router_param(&c->params, name);
}

err_t req_query_unit(struct ctx *c, units_unit *out)
{
	if (units_parse(ctx_query(c, "unit"), out) != 0)
		return ctx_fail_field(c, "unit", "must be km or mi");
	return ERR_OK;
}

err_t req_query_page(struct ctx *c, long *limit, long *offset)
{
	struct valid v;
	const char *l = ctx_query(c, "limit"), *o = ctx_query(c, "offset");

	valid_init(&v);
	*limit = 50;
	*offset = 0;
	if (l && valid_parse_int(l, 1, 200, limit) != 0)
		valid_add(&v, "limit", "must be an integer from 1 to 200");
	if (o && valid_parse_int(o, 0, 100000000, offset) != 0)
		valid_add(&v, "offset", "must be a non-negative integer");
	if (!valid_ok(&v)) {
		err_t rc = req_invalid(c, &v);
		valid_free(&v);
		return rc;
	}
	valid_free(&v);
	return ERR_OK;
}

err_t req_query_bool(struct ctx *c, const char *name, int *out)
{
	const char *v = ctx_query(c, name);

	*out = -1;
	if (v == NULL)
		return ERR_OK;
	if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0) {
		*out = v[0] == 't';
		return ERR_OK;
	}
	return ctx_fail_field(c, name, "must be true or false");
}

err_t req_body(struct ctx *c, int allow_empty, json_object **out)
{
	const char *why = NULL;
	char field[64] = "";
	err_t rc;

	*out = NULL;
	if (c->body_len > 0 && !body_is_json_type(c->content_type)) {
		/* An empty-looking body with no type is "no body", not a media-type error. */
		size_t i = 0;
		while (i < c->body_len && strchr(" \t\r\n", c->body[i]))
			i++;
		if (i < c->body_len)
			return ctx_fail(c, ERR_MEDIA_TYPE, NULL, NULL);
	}
	/* field: the top-level member holding a refused number, so it is named in details. */
	rc = body_parse_field(c->body ? c->body : "", c->body_len, allow_empty, out, &why, field,
			      sizeof(field));
	if (rc == ERR_VALIDATION)
		return field[0] ? ctx_fail_field(c, field, why) : ctx_fail(c, ERR_VALIDATION, why, NULL);
	return rc;
}

err_t req_body_values(struct ctx *c, json_object **out)
{
	const char *why = NULL;
	err_t rc;

	*out = NULL;
	if (c->body_len > 0 && !body_is_json_type(c->content_type))
		return ctx_fail(c, ERR_MEDIA_TYPE, NULL, NULL);
	rc = body_parse_values(c->body ? c->body : "", c->body_len, out, &why);
	return rc == ERR_VALIDATION ? ctx_fail(c, ERR_VALIDATION, why, NULL) : rc;
}

err_t req_invalid(struct ctx *c, struct valid *v)
{
	return ctx_fail(c, ERR_VALIDATION, NULL, valid_take(v));
}

err_t req_own(struct ctx *c, enum entity kind, const char *id, const char *field)
{
	struct db_query *q;

	if (c->db.npre >= DB_MAX_PRE)
		return ERR_INTERNAL;
	q = &c->db.pre[c->db.npre];
	q->stmt = &req_st_own;
	q->params[0] = entity_name(kind);
	q->params[1] = id;
	q->res = NULL;
	c->own_field[c->db.npre] = field;
	c->db.npre++;
	/* A check queued after a pipeline passed the earlier ones has not run yet. */
	c->db.pre_passed = 0;
	return ERR_OK;
}

err_t req_deleted(struct ctx *c, const char *id)
{
	c->out = json_object_new_object();
	if (c->out == NULL)
		return ERR_INTERNAL;
	json_object_object_add(c->out, "success", json_object_new_boolean(1));
	json_object_object_add(c->out, "id", json_object_new_string(id));
	return ERR_OK;
}

json_object *req_page_envelope(json_object *items, long total, long limit, long offset)
{
	json_object *o = json_object_new_object();

	if (o == NULL) {
		json_object_put(items);
		return NULL;
	}
	json_object_object_add(o, "items", items);
	json_object_object_add(o, "total", json_object_new_int64(total));
	json_object_object_add(o, "limit", json_object_new_int64(limit));
	json_object_object_add(o, "offset", json_object_new_int64(offset));
	return o;
}
