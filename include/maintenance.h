/* Handlers of the maintenance and statistics routes. */
#ifndef VS_MAINTENANCE_H
#define VS_MAINTENANCE_H

#include "ctx.h"

extern const char *const maintenance_types[];

err_t maintenance_bike_create(struct ctx *c) WUR;
err_t maintenance_part_create(struct ctx *c) WUR;
err_t maintenance_bike_list(struct ctx *c) WUR;
err_t maintenance_part_list(struct ctx *c) WUR;
err_t maintenance_bike_stats(struct ctx *c) WUR;
err_t maintenance_part_stats(struct ctx *c) WUR;

#endif
