/* Handlers of POST /api/parts/:id/retire and /unretire (api-notes, issue 14). */
#ifndef VS_RETIRE_H
#define VS_RETIRE_H

#include "ctx.h"

err_t retire_part(struct ctx *c) WUR;
err_t retire_unretire(struct ctx *c) WUR;

#endif
