/* Part handlers: the same field rules as bikes (gear.c), another type list. */
#include <string.h>

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

/* ?status=: *out the index in parts_statuses + 1, 0 when absent. */
static const char *const parts_statuses[] = {"installed", "stored", "retired", NULL};

static err_t parts_query_status(struct ctx *c, int *out)
{
	const char *v = ctx_query(c, "status");

	*out = 0;
	if (v == NULL)
		return ERR_OK;
	for (int i = 0; parts_statuses[i]; i++)
		if (strcmp(v, parts_statuses[i]) == 0) {
			*out = i + 1;
			return ERR_OK;
		}
	return ctx_fail_field(c, "status", "must be one of: installed, stored, retired");
}

err_t parts_list(struct ctx *c)
{
	struct list_cache lc;
	struct list_cache_query q = {.kind = LIST_CACHE_PARTS};
	err_t rc;
	long total = 0;
	int installed, status, hit;

	if ((rc = req_query_unit(c, &q.unit)) != ERR_OK ||
	    (rc = req_query_page(c, &q.limit, &q.offset)) != ERR_OK ||
	    (rc = req_query_bool(c, "installed", &installed)) != ERR_OK ||
	    (rc = parts_query_status(c, &status)) != ERR_OK)
		return rc;
	/* One cache flag for both filters: installed (-1, 0, 1) alone as before, and each status
	 * a block of three above it, so no two queries share a key. */
	q.flag = installed + 3 * status;
	if ((rc = list_cache_lookup(c, &lc, &q, &hit)) != ERR_OK || hit)
		return rc;
	rc = db_part_list(&c->db, installed, status ? parts_statuses[status - 1] : NULL, q.limit,
			  q.offset, q.unit, &c->out, &total);
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
