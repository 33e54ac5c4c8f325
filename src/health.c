/* Health checks: liveness never touches the database; readiness is one round trip. */
#include "db.h"
#include "health.h"

static struct db_stmt health_st_ping = {"health_ping", "SELECT 1", 0, 0};

err_t health_live(struct ctx *c)
{
	c->out = json_object_new_object();
	json_object_object_add(c->out, "status", json_object_new_string("ok"));
	return ERR_OK;
}

err_t health_ready(struct ctx *c)
{
	struct db_query q[1] = {{.stmt = &health_st_ping}};
	err_t rc = db_run(c->db, NULL, q, 1, &c->log);

	db_queries_clear(q, 1);
	if (rc != ERR_OK)
		return ctx_fail(c, ERR_UNAVAILABLE, "database unavailable", NULL);
	c->out = json_object_new_object();
	json_object_object_add(c->out, "status", json_object_new_string("ok"));
	json_object_object_add(c->out, "database", json_object_new_string("ok"));
	return ERR_OK;
}
