/*
 * Maintenance records. A bike's record may name one of the caller's parts (part_id) and a
 * part's record one of their bikes (bike_id): "chain replaced on bike X". That body id is
 * checked like a path id: 404/403 with details.<field>.
 */
#include "db_maint.h"
#include "maintenance.h"
#include "req.h"
#include "rules.h"

struct maintenance_input {
	const char *type, *desc, *at, *other_id, *interval_id;
	double cost;
	enum valid_result r_cost;
	json_object *meta; /* borrowed from the body */
};

static void maintenance_validate(struct ctx *c, struct valid *v, json_object *body,
				 const char *other, struct maintenance_input *in)
{
	const char *const allowed[] = {"maintenance_type", "description", "performed_at", "cost",
				       "metadata", "interval_id", other, NULL};
	static const char *const readonly[] = {"id", "user_id", "created_at", "updated_at", NULL};
	double epoch;

	valid_fields(v, body, allowed, readonly);
	(void)valid_enum(v, body, "maintenance_type", rules_maintenance_types, VALID_REQUIRED, &in->type);
	(void)valid_string(v, body, "description", 1, RULES_DESCRIPTION_MAX, VALID_REQUIRED, &in->desc);
	(void)valid_timestamp(v, body, "performed_at", c->now, VALID_NULLABLE, &in->at, &epoch);
	in->r_cost = valid_number(v, body, "cost", 0, RULES_COST_MAX, 0, VALID_NULLABLE, &in->cost);
	/* Its size is the database's to measure, on the stored form (10_metadata.sql). */
	(void)valid_object(v, body, "metadata", VALID_ANY_SIZE, 0, &in->meta);
	if (valid_string(v, body, other, 0, 100, VALID_NULLABLE, &in->other_id) == VALID_SET &&
	    !valid_is_uuid(in->other_id))
		valid_add(v, other, "must be a UUID");
	/* Whether it is an interval of this bike or part is the SQL's to say (400 too). */
	if (valid_string(v, body, "interval_id", 0, 100, VALID_NULLABLE, &in->interval_id) == VALID_SET &&
	    !valid_is_uuid(in->interval_id)) {
		valid_add(v, "interval_id", "must be a UUID");
		in->interval_id = NULL;
	}
}

/* The validated fields as one JSON object for the SQL function. */
static json_object *maintenance_fields(const struct maintenance_input *in)
{
	json_object *f = json_object_new_object();

	if (f == NULL)
		return NULL;
	json_object_object_add(f, "maintenance_type", json_object_new_string(in->type));
	json_object_object_add(f, "description", json_object_new_string(in->desc));
	if (in->at)
		json_object_object_add(f, "performed_at", json_object_new_string(in->at));
	if (in->r_cost == VALID_SET)
		json_object_object_add(f, "cost", json_object_new_double(in->cost));
	if (in->meta)
		json_object_object_add(f, "metadata", json_object_get(in->meta));
	if (in->interval_id)
		json_object_object_add(f, "interval_id", json_object_new_string(in->interval_id));
	return f;
}

err_t maintenance_create(struct ctx *c)
{
	enum entity of = req_kind(c);
	const char *other = of == ENTITY_BIKE ? "part_id" : "bike_id";
	const char *id = req_param(c, "id");
	struct maintenance_input in = {0};
	json_object *body = NULL, *fields = NULL;
	struct valid v;
	err_t rc;

	valid_init(&v);
	if ((rc = req_body(c, 0, &body)) != ERR_OK)
		goto out;
	maintenance_validate(c, &v, body, other, &in);
	if (!valid_ok(&v)) {
		rc = req_invalid(c, &v);
		goto out;
	}
	if (in.other_id &&
	    (rc = req_own(c, of == ENTITY_BIKE ? ENTITY_PART : ENTITY_BIKE, in.other_id, other)) != ERR_OK)
		goto out;
	rc = ERR_INTERNAL;
	if ((fields = maintenance_fields(&in)) == NULL)
		goto out;
	rc = db_maint_create(&c->db, of == ENTITY_BIKE ? id : in.other_id,
			     of == ENTITY_BIKE ? in.other_id : id,
			     json_object_to_json_string_ext(fields, JSON_C_TO_STRING_PLAIN), &c->out);
	if (rc == ERR_OK)
		c->status = 201;
out:
	json_object_put(fields);
	json_object_put(body);
	valid_free(&v);
	return rc;
}

err_t maintenance_list(struct ctx *c)
{
	enum entity of = req_kind(c);
	err_t rc;
	long limit, offset, total = 0;

	if ((rc = req_query_page(c, &limit, &offset)) != ERR_OK)
		return rc;
	rc = db_maint_list(&c->db, of, req_param(c, "id"), limit, offset, &c->out, &total);
	if (rc == ERR_OK)
		c->total_count = total;
	return rc;
}

err_t maintenance_delete(struct ctx *c)
{
	const char *id = req_param(c, "id");
	err_t rc = db_maint_delete(&c->db, id);

	return rc == ERR_OK ? req_deleted(c, id) : rc;
}
