/* The service's route table and the dispatch every request goes through. */
#ifndef VS_ROUTES_H
#define VS_ROUTES_H

#include <stddef.h>
#include "ctx.h"
#include "router.h"

extern const struct router_route routes_table[];
extern const size_t routes_count;

/*
 * In api-notes' order: route lookup (404/405), token and role (401/403), the form of every
 * path id (400, all of them at once), the route's ownership checks (404/403), then the
 * handler, whose body and state checks come last.
 */
err_t routes_dispatch(struct ctx *c) WUR;

#endif
