/* Handlers of the bike routes (design: "Bike Management"). */
#ifndef VS_BIKES_H
#define VS_BIKES_H

#include "ctx.h"

extern const char *const bikes_types[];

err_t bikes_create(struct ctx *c) WUR;
err_t bikes_list(struct ctx *c) WUR;
err_t bikes_active(struct ctx *c) WUR;
err_t bikes_get(struct ctx *c) WUR;
err_t bikes_update(struct ctx *c) WUR;
err_t bikes_delete(struct ctx *c) WUR;
err_t bikes_set_active(struct ctx *c) WUR;
err_t bikes_deactivate(struct ctx *c) WUR;

#endif
