/* Handlers of ownership transfer, ownership history and the internal summary. */
#ifndef VS_TRANSFERS_H
#define VS_TRANSFERS_H

#include "ctx.h"

err_t transfers_bike(struct ctx *c) WUR;
err_t transfers_part(struct ctx *c) WUR;
err_t transfers_bike_history(struct ctx *c) WUR;
err_t transfers_part_history(struct ctx *c) WUR;
/* GET /internal/bikes/user/:user_id/summary (service role). */
err_t transfers_summary(struct ctx *c) WUR;

#endif
