/* Handlers of the bike routes (design: "Bike Management") and bike statistics. */
#ifndef VS_BIKES_H
#define VS_BIKES_H

#include "ctx.h"

err_t bikes_create(struct ctx *c) WUR;
err_t bikes_list(struct ctx *c) WUR;
err_t bikes_active(struct ctx *c) WUR;
err_t bikes_get(struct ctx *c) WUR;
err_t bikes_update(struct ctx *c) WUR;
err_t bikes_delete(struct ctx *c) WUR;
err_t bikes_set_active(struct ctx *c) WUR;
err_t bikes_deactivate(struct ctx *c) WUR;
err_t bikes_stats(struct ctx *c) WUR;

#endif
