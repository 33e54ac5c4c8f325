/* Handlers of the part routes (design: "Part Management"). */
#ifndef VS_PARTS_H
#define VS_PARTS_H

#include "ctx.h"

extern const char *const parts_types[];

err_t parts_create(struct ctx *c) WUR;
err_t parts_list(struct ctx *c) WUR;
err_t parts_get(struct ctx *c) WUR;
err_t parts_update(struct ctx *c) WUR;
err_t parts_delete(struct ctx *c) WUR;

#endif
