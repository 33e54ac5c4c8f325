/* Handlers of the maintenance routes. */
#ifndef VS_MAINTENANCE_H
#define VS_MAINTENANCE_H

#include "ctx.h"

/* POST and GET /api/{bikes,parts}/:id/maintenance: of the path's bike or part. */
err_t maintenance_create(struct ctx *c) WUR;
err_t maintenance_list(struct ctx *c) WUR;
/* DELETE /api/maintenance/:id: for the owner of the bike or the part the record names. */
err_t maintenance_delete(struct ctx *c) WUR;

#endif
