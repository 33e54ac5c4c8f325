/* Transfer SQL (sql/functions/70_transfers.sql): one security-definer call per transfer. */
#include "db_json.h"
#include "db_transfer.h"

static struct db_stmt st_bike = {"transfer_bike", "SELECT vehicles.bike_transfer($1, $2, $3)", 3, 0};
static struct db_stmt st_part = {"transfer_part", "SELECT vehicles.part_transfer($1, $2, $3)", 3, 0};

static struct db_stmt st_bike_owner = {"history_bike_owner",
	"SELECT created_at, user_id FROM vehicles.user_bike WHERE id = $1", 1, 0};
static struct db_stmt st_part_owner = {"history_part_owner",
	"SELECT created_at, user_id FROM vehicles.user_part WHERE id = $1", 1, 0};
static struct db_stmt st_history = {"history_rows",
	"SELECT h.id, h.entity_type, h.entity_id, h.previous_owner_id, h.new_owner_id,"
	" h.transferred_at, h.notes,"
	" h.previous_owner_id IS NOT DISTINCT FROM auth.uid() AS from_you,"
	" h.new_owner_id IS NOT DISTINCT FROM auth.uid() AS to_you"
	" FROM vehicles.ownership_history h WHERE h.entity_id = $1"
	" ORDER BY h.transferred_at, h.created_at", 1, 0};

err_t db_transfer_run(struct db_sess *s, enum entity of, const char *id, const char *email,
		      const char *notes, json_object **out)
{
	struct db_query q[1] = {{of == ENTITY_BIKE ? &st_bike : &st_part, {id, email, notes}}};

	return db_doc(s, q, 1, UNITS_KM, out);
}

err_t db_transfer_history(struct db_sess *s, enum entity of, const char *id, json_object **owner,
			  json_object **transfers)
{
	struct db_query q[2] = {{of == ENTITY_BIKE ? &st_bike_owner : &st_part_owner, {id}},
				{&st_history, {id}}};
	err_t rc = db_run(s, q, 2);

	*owner = *transfers = NULL;
	if (rc == ERR_OK) {
		if (PQntuples(q[0].res) == 1) {
			*owner = db_json_row(q[0].res, 0, UNITS_KM);
			*transfers = db_json_rows(q[1].res, UNITS_KM);
		}
		if (*owner == NULL || *transfers == NULL) {
			json_object_put(*owner);
			json_object_put(*transfers);
			*owner = *transfers = NULL;
			rc = ERR_NOT_FOUND;
		}
	}
	db_queries_clear(q, 2);
	return rc;
}
