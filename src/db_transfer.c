/* Transfer SQL (sql/migrations/007): one security-definer call per transfer. */
#include <string.h>

#include "db.h"
#include "db_bike.h"
#include "db_part.h"
#include "db_transfer.h"

static struct db_stmt st_bike = {"transfer_bike", "SELECT vehicles.transfer_bike($1, $2, $3)", 3, 0};
static struct db_stmt st_part = {"transfer_part", "SELECT vehicles.transfer_part($1, $2, $3)", 3, 0};

static struct db_stmt st_bike_since = {"history_bike_since",
	"SELECT created_at, user_id FROM vehicles.user_bike WHERE id = $1", 1, 0};
static struct db_stmt st_part_since = {"history_part_since",
	"SELECT created_at, user_id FROM vehicles.user_part WHERE id = $1", 1, 0};
static struct db_stmt st_history = {"history_rows",
	"SELECT h.id, h.entity_type, h.entity_id, h.previous_owner_id, h.new_owner_id,"
	" h.transferred_at, h.notes,"
	" h.previous_owner_id IS NOT DISTINCT FROM auth.uid() AS from_you,"
	" h.new_owner_id IS NOT DISTINCT FROM auth.uid() AS to_you"
	" FROM vehicles.ownership_history h WHERE h.entity_id = $1"
	" ORDER BY h.transferred_at, h.created_at", 1, 0};

static struct db_stmt st_summary = {"internal_summary",
	"SELECT * FROM vehicles.user_summary($1)", 1, 0};

err_t db_transfer_run(struct ctx *c, const char *of, const char *id, const char *email,
		      const char *notes, json_object **out)
{
	struct db_query q[1] = {{strcmp(of, "bike") == 0 ? &st_bike : &st_part, {id, email, notes}}};
	err_t rc = ctx_db_run(c, q, 1);

	*out = NULL;
	if (rc == ERR_OK) {
		*out = db_json_parse(PQgetvalue(q[0].res, 0, 0));
		if (*out == NULL)
			rc = ERR_INTERNAL;
		else
			db_json_api(*out, UNITS_KM);
	}
	db_queries_clear(q, 1);
	return rc;
}

static json_object *db_transfer_owner(const char *user, const char *me, json_object *from,
				      json_object *to)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "user_id", user ? json_object_new_string(user) : NULL);
	json_object_object_add(o, "is_you", json_object_new_boolean(user && strcmp(user, me) == 0));
	json_object_object_add(o, "from", from);
	json_object_object_add(o, "to", to);
	return o;
}

err_t db_transfer_history(struct ctx *c, const char *of, const char *id, json_object **out)
{
	int bike = strcmp(of, "bike") == 0;
	struct db_query q[3] = {{bike ? &db_bike_st_assert : &db_part_st_assert, {id}},
				{bike ? &st_bike_since : &st_part_since, {id}},
				{&st_history, {id}}};
	json_object *rows, *owners, *from;
	err_t rc = ctx_db_run(c, q, 3);
	int n;

	*out = NULL;
	if (rc != ERR_OK)
		goto out;
	if (PQntuples(q[1].res) != 1) {
		rc = ERR_NOT_FOUND;
		goto out;
	}
	/* Owner periods: creation to the first transfer, transfer to transfer, the last open. */
	rows = db_rows_json(q[2].res, UNITS_KM);
	owners = json_object_new_array();
	from = db_row_json(q[1].res, 0, UNITS_KM);
	json_object *since = NULL;
	json_object_object_get_ex(from, "created_at", &since);
	since = json_object_get(since);
	n = PQntuples(q[2].res);
	for (int i = 0; i < n; i++) {
		json_object *at = NULL;
		json_object_object_get_ex(json_object_array_get_idx(rows, (size_t)i), "transferred_at", &at);
		json_object_array_add(owners, db_transfer_owner(db_text(q[2].res, i, "previous_owner_id"),
								c->id.sub, since, json_object_get(at)));
		since = json_object_get(at);
	}
	json_object_array_add(owners, db_transfer_owner(db_text(q[1].res, 0, "user_id"), c->id.sub,
							since, NULL));
	json_object_put(from);
	*out = json_object_new_object();
	json_object_object_add(*out, "entity_type", json_object_new_string(of));
	json_object_object_add(*out, "id", json_object_new_string(id));
	json_object_object_add(*out, "owners", owners);
	json_object_object_add(*out, "transfers", rows);
out:
	db_queries_clear(q, 3);
	return rc;
}

err_t db_transfer_summary(struct ctx *c, const char *user_id, json_object **out)
{
	struct db_query q[1] = {{&st_summary, {user_id}}};
	err_t rc = ctx_db_run(c, q, 1);

	*out = NULL;
	if (rc == ERR_OK) {
		*out = db_row_json(q[0].res, 0, UNITS_KM);
		json_object_object_add(*out, "user_id", json_object_new_string(user_id));
		json_object_object_add(*out, "unit", json_object_new_string("km"));
	}
	db_queries_clear(q, 1);
	return rc;
}
