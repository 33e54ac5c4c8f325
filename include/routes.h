/* The service's route table and the dispatch every request goes through. */
#ifndef VS_ROUTES_H
#define VS_ROUTES_H

#include <stddef.h>
#include "ctx.h"
#include "router.h"
#include "units.h"

extern const struct router_route routes_table[];
extern const size_t routes_count;

/* Route lookup (404/405), token and role checks (401/403), then the handler. */
err_t routes_dispatch(struct ctx *c) WUR;

/* Handler helpers, in the order api-notes checks things. */
/* The path parameter name as a UUID, else 400 with details.<name>. */
err_t routes_path_uuid(struct ctx *c, const char *name, const char **out) WUR;
/* ?unit=km|mi (default km), else 400 with details.unit. */
err_t routes_query_unit(struct ctx *c, units_unit *out) WUR;
/* ?limit= (1..200, default 50) and ?offset= (>= 0, default 0). */
err_t routes_query_page(struct ctx *c, long *limit, long *offset) WUR;
/* ?name=true|false: *out 1 or 0, -1 when absent; anything else is 400 details.<name>. */
err_t routes_query_bool(struct ctx *c, const char *name, int *out) WUR;
/* Content-Type and JSON object; allow_empty for routes whose body is all optional. */
err_t routes_body(struct ctx *c, int allow_empty, json_object **out) WUR;

/* The answer of every DELETE: 200 {"success": true, "id": id}. */
err_t routes_deleted(struct ctx *c, const char *id) WUR;

struct valid;
/* Checks that the path's resources exist and are the caller's (404/403), from the path. */
typedef err_t (*routes_owner_fn)(struct ctx *c);
/* routes_body, except that a missing or foreign resource answers 404/403 before a bad body's
 * 400/415 (api-notes' order of checks). own may be NULL for collection routes. */
err_t routes_body_owned(struct ctx *c, routes_owner_fn own, int allow_empty, json_object **out) WUR;
/* Fails the request with v's details, after the same 404/403 check. */
err_t routes_invalid(struct ctx *c, routes_owner_fn own, struct valid *v) WUR;

#endif
