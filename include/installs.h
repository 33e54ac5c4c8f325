/* Handlers of the installation routes (design: "Part Installation"). */
#ifndef VS_INSTALLS_H
#define VS_INSTALLS_H

#include "ctx.h"

err_t installs_install(struct ctx *c) WUR;
err_t installs_remove(struct ctx *c) WUR;
err_t installs_list(struct ctx *c) WUR;
/* POST /api/bikes/:bike_id/parts/:part_id/replace (issue 14). */
err_t installs_replace(struct ctx *c) WUR;

#endif
