/* Internal routes: run as the service role (no row-level security), distances in km. */
#include "db_summary.h"
#include "req.h"
#include "summary.h"

err_t summary_user(struct ctx *c)
{
	const char *user = req_param(c, "user_id");
	err_t rc = db_summary_get(&c->db, user, &c->out);

	if (rc != ERR_OK)
		return rc;
	json_object_object_add(c->out, "user_id", json_object_new_string(user));
	json_object_object_add(c->out, "unit", json_object_new_string("km"));
	return ERR_OK;
}
