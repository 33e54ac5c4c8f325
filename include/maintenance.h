/* Handlers of the maintenance routes. */
#ifndef VS_MAINTENANCE_H
#define VS_MAINTENANCE_H

#include "ctx.h"

/* POST and GET /api/{bikes,parts}/:id/maintenance: of the path's bike or part. */
err_t maintenance_create(struct ctx *c) WUR;
err_t maintenance_list(struct ctx *c) WUR;

#endif
