/* Handlers of ownership transfer and ownership history. */
#ifndef VS_TRANSFERS_H
#define VS_TRANSFERS_H

#include "ctx.h"

err_t transfers_bike(struct ctx *c) WUR;
err_t transfers_part(struct ctx *c) WUR;
err_t transfers_bike_history(struct ctx *c) WUR;
err_t transfers_part_history(struct ctx *c) WUR;

#endif
