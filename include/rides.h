/* Handlers of the kilometrage routes (design: "Kilometrage Logging"). */
#ifndef VS_RIDES_H
#define VS_RIDES_H

#include "ctx.h"

err_t rides_log(struct ctx *c) WUR;
err_t rides_history(struct ctx *c) WUR;
err_t rides_delete(struct ctx *c) WUR;
err_t rides_update(struct ctx *c) WUR;
/* POST /api/rides/batch (src/rides_batch.c). */
err_t rides_batch(struct ctx *c) WUR;

#endif
