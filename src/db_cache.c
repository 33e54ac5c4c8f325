/* The list cache's generation, read as the caller (vehicles.list_gen(): its own rows only). */
#include <stdio.h>

#include "db_cache.h"

static struct db_stmt st_gen = {"list_gen", "SELECT vehicles.list_gen() AS gen", 0, 0};

err_t db_cache_gen(struct db_sess *s, char *gen, size_t size)
{
	struct db_query q[1] = {{&st_gen, {NULL}}};
	err_t rc = db_run(s, q, 1);
	const char *v;

	gen[0] = '\0';
	if (rc != ERR_OK)
		return rc;
	v = db_text(q[0].res, 0, "gen");
	if (v && snprintf(gen, size, "%s", v) >= (int)size)
		gen[0] = '\0'; /* too long: not cached (never: three uuids) */
	db_queries_clear(q, 1);
	return ERR_OK;
}
