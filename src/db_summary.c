/* The internal summary: one call of vehicles.summary_get (sql/functions/80_summary.sql). */
#include "db_summary.h"

static struct db_stmt st_summary = {"summary_get", "SELECT * FROM vehicles.summary_get($1)", 1, 0};

err_t db_summary_get(struct db_sess *s, const char *user_id, json_object **out)
{
	struct db_query q[1] = {{&st_summary, {user_id}}};

	return db_one(s, q, 1, UNITS_KM, out);
}
