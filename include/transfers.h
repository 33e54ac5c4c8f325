/* Handlers of ownership transfer and ownership history. */
#ifndef VS_TRANSFERS_H
#define VS_TRANSFERS_H

#include "ctx.h"

/* POST /api/{bikes,parts}/:id/transfer and GET .../history: of the path's bike or part. */
err_t transfers_run(struct ctx *c) WUR;
err_t transfers_history(struct ctx *c) WUR;

#endif
