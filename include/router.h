/* One static route table, one lookup: 404 and 405 are decided here, before any handler. */
#ifndef VS_ROUTER_H
#define VS_ROUTER_H

#include <stddef.h>
#include "entity.h"
#include "err.h"

#define ROUTER_MAX_PARAMS 4
#define ROUTER_PARAM_MAX 128
#define ROUTER_MAX_OWN 2

struct ctx;
typedef err_t (*router_handler)(struct ctx *c);

enum router_auth {
	ROUTER_AUTH_NONE,    /* health checks */
	ROUTER_AUTH_USER,    /* /api: role authenticated */
	ROUTER_AUTH_SERVICE, /* /internal: role service_role */
};

/* A path parameter naming a bike or part that the caller must own. */
struct router_own {
	const char *param; /* NULL ends the list */
	enum entity kind;
};

struct router_route {
	const char *method;  /* "GET", "POST", ... */
	const char *pattern; /* "/api/bikes/:id"; ":name" matches one non-empty segment */
	router_handler handler;
	enum router_auth auth;
	const char *op; /* for logs: "bikes.get" */
	/* Checked in this order, after the token and the ids' form, before the handler's body
	 * checks count (api-notes' order): 404 when missing, 403 when another user's. */
	struct router_own own[ROUTER_MAX_OWN];
	unsigned timeout_ms; /* the database's bound on one statement; 0: the default by method */
};

struct router_params {
	int n;
	struct {
		char name[32];
		char value[ROUTER_PARAM_MAX];
	} p[ROUTER_MAX_PARAMS];
};

enum router_result { ROUTER_FOUND, ROUTER_NOT_FOUND, ROUTER_NOT_ALLOWED };

/*
 * Finds the route for method and path. Among patterns that match the path, the most
 * specific wins (a literal segment beats a parameter, earlier segments first), so
 * "/api/bikes/active" is not read as an id. HEAD finds the GET route of a path (the
 * caller sends the answer without its body). On ROUTER_NOT_ALLOWED, allow gets the
 * comma-separated methods of that pattern, HEAD listed after GET.
 */
enum router_result router_lookup(const struct router_route *table, size_t n, const char *method,
				 const char *path, const struct router_route **out,
				 struct router_params *params, char *allow, size_t allowlen);
const char *router_param(const struct router_params *params, const char *name);

#endif
