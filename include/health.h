#ifndef VS_HEALTH_H
#define VS_HEALTH_H

#include "ctx.h"

/* GET /health: liveness, no database. GET /health/ready: 200 when the database answers. */
err_t health_live(struct ctx *c) WUR;
err_t health_ready(struct ctx *c) WUR;

#endif
