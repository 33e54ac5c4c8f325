/* Part handlers: the same field rules as bikes (gear.c), another type list. */
#include "db_part.h"
#include "gear.h"
#include "parts.h"
#include "req.h"
#include "rules.h"

/* Create (id NULL) or patch (id set): validate, then one transaction. */
static err_t parts_write(struct ctx *c, const char *id)
{
	err_t rc;
	json_object *body = NULL, *patch = NULL;
	struct valid v;
	struct gear_input in;

	valid_init(&v);
	if ((rc = req_body(c, 0, &body)) != ERR_OK)
		goto out;
	gear_validate(&v, body, rules_part_types, id != NULL, &in);
	if (!valid_ok(&v)) {
		rc = req_invalid(c, &v);
		goto out;
	}
	rc = ERR_INTERNAL;
	if ((patch = gear_patch_json(&in)) == NULL)
		goto out;
	const char *text = json_object_to_json_string_ext(patch, JSON_C_TO_STRING_PLAIN);
	if (id) {
		rc = db_part_update(&c->db, id, text, in.unit, &c->out);
	} else {
		rc = db_part_create(&c->db, text, in.unit, &c->out);
		if (rc == ERR_OK)
			c->status = 201;
	}
out:
	json_object_put(patch);
	json_object_put(body);
	valid_free(&v);
	return rc;
}

err_t parts_create(struct ctx *c)
{
	return parts_write(c, NULL);
}

err_t parts_update(struct ctx *c)
{
	return parts_write(c, req_param(c, "id"));
}

err_t parts_list(struct ctx *c)
{
	err_t rc;
	units_unit u;
	long limit, offset, total = 0;
	int installed;

	if ((rc = req_query_unit(c, &u)) != ERR_OK || (rc = req_query_page(c, &limit, &offset)) != ERR_OK ||
	    (rc = req_query_bool(c, "installed", &installed)) != ERR_OK)
		return rc;
	rc = db_part_list(&c->db, installed, limit, offset, u, &c->out, &total);
	if (rc == ERR_OK)
		c->total_count = total;
	return rc;
}

err_t parts_get(struct ctx *c)
{
	err_t rc;
	units_unit u;

	if ((rc = req_query_unit(c, &u)) != ERR_OK)
		return rc;
	return db_part_get(&c->db, req_param(c, "id"), u, &c->out);
}

err_t parts_delete(struct ctx *c)
{
	const char *id = req_param(c, "id");
	err_t rc = db_part_delete(&c->db, id);

	return rc == ERR_OK ? req_deleted(c, id) : rc;
}

err_t parts_stats(struct ctx *c)
{
	err_t rc;
	units_unit u;

	if ((rc = req_query_unit(c, &u)) != ERR_OK)
		return rc;
	return db_part_stats(&c->db, req_param(c, "id"), u, &c->out);
}
