/* Health checks: liveness never touches the database; readiness is one round trip. */
#include "health.h"

static struct db_stmt health_st_ping = {"health_ping", "SELECT 1", 0, 0};

static err_t health_ok(struct ctx *c, int with_db)
{
	c->out = json_object_new_object();
	if (c->out == NULL)
		return ERR_INTERNAL;
	json_object_object_add(c->out, "status", json_object_new_string("ok"));
	if (with_db)
		json_object_object_add(c->out, "database", json_object_new_string("ok"));
	return ERR_OK;
}

err_t health_live(struct ctx *c)
{
	return health_ok(c, 0);
}

err_t health_ready(struct ctx *c)
{
	struct db_query q[1] = {{.stmt = &health_st_ping}};

	if (db_exec(&c->db, q, 1) != ERR_OK)
		return ctx_fail(c, ERR_UNAVAILABLE, "database unavailable", NULL);
	return health_ok(c, 1);
}
