/* Handlers of the part routes (design: "Part Management") and part statistics. */
#ifndef VS_PARTS_H
#define VS_PARTS_H

#include "ctx.h"

err_t parts_create(struct ctx *c) WUR;
err_t parts_list(struct ctx *c) WUR;
err_t parts_get(struct ctx *c) WUR;
err_t parts_update(struct ctx *c) WUR;
err_t parts_delete(struct ctx *c) WUR;
err_t parts_stats(struct ctx *c) WUR;

#endif
