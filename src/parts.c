/* Part handlers: the same field rules as bikes (gear.c), another type list. */
#include "db_part.h"
#include "gear.h"
#include "list_cache.h"
#include "parts.h"
#include "req.h"

err_t parts_create(struct ctx *c)
{
	return gear_write(c, ENTITY_PART, NULL);
}

err_t parts_update(struct ctx *c)
{
	return gear_write(c, ENTITY_PART, req_param(c, "id"));
}

err_t parts_list(struct ctx *c)
{
	struct list_cache lc;
	struct list_cache_query q = {.kind = LIST_CACHE_PARTS};
	err_t rc;
	long total = 0;
	int hit;

	if ((rc = req_query_unit(c, &q.unit)) != ERR_OK ||
	    (rc = req_query_page(c, &q.limit, &q.offset)) != ERR_OK ||
	    (rc = req_query_bool(c, "installed", &q.flag)) != ERR_OK)
		return rc;
	if ((rc = list_cache_lookup(c, &lc, &q, &hit)) != ERR_OK || hit)
		return rc;
	rc = db_part_list(&c->db, q.flag, q.limit, q.offset, q.unit, &c->out, &total);
	if (rc == ERR_OK) {
		c->total_count = total;
		list_cache_store(c, &lc);
	}
	return rc;
}

err_t parts_get(struct ctx *c)
{
	return gear_read(c, db_part_get);
}

err_t parts_delete(struct ctx *c)
{
	return gear_delete(c, ENTITY_PART);
}

err_t parts_stats(struct ctx *c)
{
	return gear_read(c, db_part_stats);
}
