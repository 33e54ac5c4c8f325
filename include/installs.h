/* Handlers of the installation routes (design: "Part Installation"). */
#ifndef VS_INSTALLS_H
#define VS_INSTALLS_H

#include "ctx.h"

err_t installs_install(struct ctx *c) WUR;
err_t installs_remove(struct ctx *c) WUR;
err_t installs_list(struct ctx *c) WUR;

#endif
