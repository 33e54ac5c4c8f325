/* Part handlers: the same field rules as bikes (gear.c), another type list. */
#include <string.h>

#include "db_part.h"
#include "gear.h"
#include "parts.h"
#include "routes.h"

const char *const parts_types[] = {"chain", "tires", "brake_pads", "cassette", "derailleur",
	"crankset", "saddle", "handlebar", "pedals", "other", NULL};

static err_t parts_own(struct ctx *c)
{
	return db_part_assert(c, router_param(&c->params, "id"));
}

/* Create (id NULL) or patch (id set): validate, then one transaction. */
static err_t parts_write(struct ctx *c, const char *id)
{
	err_t rc;
	json_object *body = NULL, *patch = NULL;
	struct valid v;
	struct gear_input in;
	routes_owner_fn own = id ? parts_own : NULL;

	valid_init(&v);
	if ((rc = routes_body_owned(c, own, 0, &body)) != ERR_OK)
		goto out;
	gear_validate(&v, body, parts_types, id != NULL, &in);
	if (!valid_ok(&v)) {
		rc = routes_invalid(c, own, &v);
		goto out;
	}
	rc = ERR_INTERNAL;
	if ((patch = gear_patch_json(&in)) == NULL)
		goto out;
	const char *text = json_object_to_json_string_ext(patch, JSON_C_TO_STRING_PLAIN);
	if (id) {
		rc = db_part_update(c, id, text, in.unit, &c->out);
	} else {
		rc = db_part_create(c, text, in.unit, &c->out);
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
	err_t rc;
	const char *id;

	if ((rc = routes_path_uuid(c, "id", &id)) != ERR_OK)
		return rc;
	return parts_write(c, id);
}

err_t parts_list(struct ctx *c)
{
	err_t rc;
	units_unit u;
	long limit, offset, total = 0;
	int installed;

	if ((rc = routes_query_unit(c, &u)) != ERR_OK || (rc = routes_query_page(c, &limit, &offset)) != ERR_OK ||
	    (rc = routes_query_bool(c, "installed", &installed)) != ERR_OK)
		return rc;
	rc = db_part_list(c, installed, limit, offset, u, &c->out, &total);
	if (rc == ERR_OK)
		c->total_count = total;
	return rc;
}

err_t parts_get(struct ctx *c)
{
	err_t rc;
	const char *id;
	units_unit u;

	if ((rc = routes_path_uuid(c, "id", &id)) != ERR_OK || (rc = routes_query_unit(c, &u)) != ERR_OK)
		return rc;
	return db_part_get(c, id, u, &c->out);
}

err_t parts_delete(struct ctx *c)
{
	err_t rc;
	const char *id;

	if ((rc = routes_path_uuid(c, "id", &id)) != ERR_OK)
		return rc;
	if ((rc = db_part_delete(c, id)) != ERR_OK)
		return rc;
	return routes_deleted(c, id);
}
