/*
 * What handlers call to read a request and shape its answer. By the time a handler runs,
 * the route, the token and the form of every path id have been checked (routes.c), and the
 * route's ownership checks are queued to lead the request's first pipeline.
 */
#ifndef VS_REQ_H
#define VS_REQ_H

#include <json-c/json.h>

#include "ctx.h"
#include "entity.h"
#include "units.h"
#include "valid.h"

/* The kind of the route's first declared owned parameter: the bike or part the path is
 * about (/api/bikes/:id/... or /api/parts/:id/...), so one handler serves both. */
enum entity req_kind(const struct ctx *c);
/* A path parameter (already checked to be a UUID). */
const char *req_param(const struct ctx *c, const char *name);
/* ?unit=km|mi (default km), else 400 with details.unit. */
err_t req_query_unit(struct ctx *c, units_unit *out) WUR;
/* ?limit= (1..200, default 50) and ?offset= (>= 0, default 0). */
err_t req_query_page(struct ctx *c, long *limit, long *offset) WUR;
/* ?name=true|false: *out 1 or 0, -1 when absent; anything else is 400 details.<name>. */
err_t req_query_bool(struct ctx *c, const char *name, int *out) WUR;
/* Content-Type and JSON object; allow_empty for routes whose body is all optional. */
err_t req_body(struct ctx *c, int allow_empty, json_object **out) WUR;
/* req_body for a body checked member by member afterwards (body_parse_values): numbers and
 * U+0000 inside strings are the caller's to refuse. No body is a 400. */
err_t req_body_values(struct ctx *c, json_object **out) WUR;
/* Fails the request with v's details (400). */
err_t req_invalid(struct ctx *c, struct valid *v) WUR;
/* A bike or part must exist (404) and be the caller's (403): checked at the head of the
 * request's pipelines. field: the body field naming it, answered as details.<field>; NULL
 * for a path parameter (the route table declares those). */
err_t req_own(struct ctx *c, enum entity kind, const char *id, const char *field) WUR;
/* The answer of every DELETE: 200 {"success": true, "id": id}. */
err_t req_deleted(struct ctx *c, const char *id) WUR;
/* A JSON object with "items", "total", "limit", "offset" (the ride history's envelope). */
json_object *req_page_envelope(json_object *items, long total, long limit, long offset);

#endif
