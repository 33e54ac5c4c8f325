/* Part handlers: the same field rules as bikes (gear.c), another type list. */
#include "db_part.h"
#include "gear.h"
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
	err_t rc;
	units_unit u;
	long limit, offset, total = 0;
	int installed;

	if ((rc = req_query_unit(c, &u)) != ERR_OK || (rc = req_query_page(c, &limit, &offset)) != ERR_OK ||
	    (rc = req_query_bool(c, "installed", &installed)) != ERR_OK)
		return rc;
	rc = db_part_list(&c->db, installed, limit, offset, u, &c->out, &total);
	if (rc == ERR_OK)
		c->total_count = total;
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
