/* Handlers of the maintenance routes. */
#ifndef VS_MAINTENANCE_H
#define VS_MAINTENANCE_H

#include "ctx.h"

err_t maintenance_bike_create(struct ctx *c) WUR;
err_t maintenance_part_create(struct ctx *c) WUR;
err_t maintenance_bike_list(struct ctx *c) WUR;
err_t maintenance_part_list(struct ctx *c) WUR;

#endif
