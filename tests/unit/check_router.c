/* Unit tests for router.c against a local table (every matching rule) and against the
 * service's real routes_table (every route reachable, wrong methods give 405). */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "router.h"
#include "routes.h"

Suite *router_suite(void); /* run by the unit test driver */

#define UUID "8f14e45f-ceea-467a-9af0-1b2c3d4e5f60"
#define UUID2 "0b6a1c9e-3d0f-4e5a-8b7c-112233445566"

/* Handlers are never called by the router; they only need to exist. */
static err_t h_dummy(struct ctx *c)
{
	(void)c;
	return ERR_OK;
}

static const struct router_route table[] = {
	{"GET", "/health", h_dummy, ROUTER_AUTH_NONE, "health"},
	{"GET", "/api/bikes", h_dummy, ROUTER_AUTH_USER, "bikes.list"},
	{"POST", "/api/bikes", h_dummy, ROUTER_AUTH_USER, "bikes.create"},
	{"GET", "/api/bikes/:id", h_dummy, ROUTER_AUTH_USER, "bikes.get"},
	{"GET", "/api/bikes/active", h_dummy, ROUTER_AUTH_USER, "bikes.active"},
	{"PATCH", "/api/bikes/:id", h_dummy, ROUTER_AUTH_USER, "bikes.update"},
	{"DELETE", "/api/bikes/:id", h_dummy, ROUTER_AUTH_USER, "bikes.delete"},
	{"POST", "/api/bikes/:id/set-active", h_dummy, ROUTER_AUTH_USER, "bikes.set_active"},
	{"POST", "/api/bikes/:bike_id/parts/:part_id/install", h_dummy, ROUTER_AUTH_USER,
	 "parts.install"},
	{"GET", "/a/:x/c", h_dummy, ROUTER_AUTH_NONE, "a.x.c"},
	{"GET", "/a/b/:y", h_dummy, ROUTER_AUTH_NONE, "a.b.y"},
	{"GET", "/internal/users/:user_id/summary", h_dummy, ROUTER_AUTH_SERVICE, "internal"},
};
#define NTABLE (sizeof(table) / sizeof(table[0]))

struct look {
	enum router_result r;
	const struct router_route *route;
	struct router_params params;
	char allow[64];
};

static enum router_result look(const struct router_route *t, size_t n, const char *method,
			       const char *path, struct look *l)
{
	memset(l, 0x5a, sizeof(*l)); /* garbage: the router must set what it reports */
	l->r = router_lookup(t, n, method, path, &l->route, &l->params, l->allow,
			     sizeof(l->allow));
	return l->r;
}

static void found(const char *method, const char *path, const char *op, struct look *l)
{
	enum router_result r = look(table, NTABLE, method, path, l);
	ck_assert_msg(r == ROUTER_FOUND, "%s %s: result %d, want FOUND", method, path, (int)r);
	ck_assert_ptr_nonnull(l->route);
	ck_assert_msg(strcmp(l->route->op, op) == 0, "%s %s went to %s, want %s", method, path,
		      l->route->op, op);
	ck_assert_str_eq(l->route->method, method);
}

static void not_found(const char *method, const char *path)
{
	struct look l;
	enum router_result r = look(table, NTABLE, method, path, &l);
	ck_assert_msg(r == ROUTER_NOT_FOUND, "%s \"%s\": result %d, want NOT_FOUND", method, path,
		      (int)r);
	ck_assert_ptr_null(l.route);
}

/* ---- matching ---- */

START_TEST(test_literal_routes)
{
	struct look l;

	found("GET", "/health", "health", &l);
	ck_assert_int_eq(l.params.n, 0);
	found("GET", "/api/bikes", "bikes.list", &l);
	ck_assert_int_eq(l.params.n, 0);
	found("POST", "/api/bikes", "bikes.create", &l);
	ck_assert_ptr_eq(l.route, &table[2]);
}
END_TEST

START_TEST(test_literal_beats_param)
{
	struct look l;

	/* "/api/bikes/active" is listed after "/api/bikes/:id" and still wins */
	found("GET", "/api/bikes/active", "bikes.active", &l);
	ck_assert_ptr_eq(l.route, &table[4]);
	ck_assert_int_eq(l.params.n, 0);
	ck_assert_ptr_null(router_param(&l.params, "id"));

	/* near misses of the literal are ids */
	found("GET", "/api/bikes/activ", "bikes.get", &l);
	ck_assert_str_eq(router_param(&l.params, "id"), "activ");
	found("GET", "/api/bikes/actives", "bikes.get", &l);
	ck_assert_str_eq(router_param(&l.params, "id"), "actives");
	found("GET", "/api/bikes/Active", "bikes.get", &l); /* case-sensitive */
	ck_assert_str_eq(router_param(&l.params, "id"), "Active");

	/* the same table in the other order gives the same answer */
	const struct router_route rev[] = {table[4], table[3]};
	ck_assert_int_eq(look(rev, 2, "GET", "/api/bikes/active", &l), ROUTER_FOUND);
	ck_assert_ptr_eq(l.route, &rev[0]);
	ck_assert_int_eq(look(rev, 2, "GET", "/api/bikes/" UUID, &l), ROUTER_FOUND);
	ck_assert_ptr_eq(l.route, &rev[1]);
}
END_TEST

START_TEST(test_earlier_literal_wins)
{
	struct look l;

	/* /a/b/c matches "/a/:x/c" and "/a/b/:y": the earlier literal segment decides */
	found("GET", "/a/b/c", "a.b.y", &l);
	ck_assert_str_eq(router_param(&l.params, "y"), "c");
	ck_assert_ptr_null(router_param(&l.params, "x"));
	found("GET", "/a/z/c", "a.x.c", &l);
	ck_assert_str_eq(router_param(&l.params, "x"), "z");
	found("GET", "/a/b/q", "a.b.y", &l);
	ck_assert_str_eq(router_param(&l.params, "y"), "q");
	not_found("GET", "/a/z/q");
}
END_TEST

START_TEST(test_params_captured)
{
	struct look l;

	found("GET", "/api/bikes/" UUID, "bikes.get", &l);
	ck_assert_int_eq(l.params.n, 1);
	ck_assert_str_eq(l.params.p[0].name, "id");
	ck_assert_str_eq(l.params.p[0].value, UUID);
	ck_assert_str_eq(router_param(&l.params, "id"), UUID);

	found("POST", "/api/bikes/" UUID "/set-active", "bikes.set_active", &l);
	ck_assert_int_eq(l.params.n, 1);
	ck_assert_str_eq(router_param(&l.params, "id"), UUID);

	found("POST", "/api/bikes/" UUID "/parts/" UUID2 "/install", "parts.install", &l);
	ck_assert_int_eq(l.params.n, 2);
	ck_assert_str_eq(router_param(&l.params, "bike_id"), UUID);
	ck_assert_str_eq(router_param(&l.params, "part_id"), UUID2);
	ck_assert_str_eq(l.params.p[0].name, "bike_id");
	ck_assert_str_eq(l.params.p[1].name, "part_id");

	/* values are taken verbatim (no decoding, no validation: that is the handler's job) */
	found("GET", "/api/bikes/not-a-uuid%20x", "bikes.get", &l);
	ck_assert_str_eq(router_param(&l.params, "id"), "not-a-uuid%20x");
}
END_TEST

START_TEST(test_router_param_lookup)
{
	struct look l;

	found("GET", "/internal/users/" UUID "/summary", "internal", &l);
	ck_assert_str_eq(router_param(&l.params, "user_id"), UUID);
	ck_assert_ptr_null(router_param(&l.params, "user"));     /* prefix of the name */
	ck_assert_ptr_null(router_param(&l.params, "user_id2")); /* longer than the name */
	ck_assert_ptr_null(router_param(&l.params, "USER_ID"));  /* case-sensitive */
	ck_assert_ptr_null(router_param(&l.params, ""));
	ck_assert_ptr_null(router_param(&l.params, "id"));

	/* an empty set has nothing */
	struct router_params none = {.n = 0};
	ck_assert_ptr_null(router_param(&none, "id"));
}
END_TEST

/* ---- 404 ---- */

START_TEST(test_unknown_paths)
{
	not_found("GET", "/");
	not_found("GET", "");
	not_found("GET", "/nope");
	not_found("GET", "/api");
	not_found("GET", "/api/");
	not_found("GET", "/api/bike");
	not_found("GET", "/api/bikess");
	not_found("GET", "/API/bikes");
	not_found("GET", "/api/bikes/" UUID "/nope");
	not_found("POST", "/api/bikes/" UUID "/set-active/x");
	not_found("GET", "/health/x");
	not_found("GET", "/healthz");
	not_found("GET", "api/bikes"); /* no leading slash */
	not_found("GET", "/api/bikes?x=1"); /* the query string is never part of the path */
}
END_TEST

START_TEST(test_trailing_slash)
{
	not_found("GET", "/api/bikes/");
	not_found("GET", "/health/");
	not_found("GET", "/api/bikes/" UUID "/");
	not_found("POST", "/api/bikes/" UUID "/set-active/");
	not_found("GET", "/api/bikes/active/");
}
END_TEST

START_TEST(test_empty_segment)
{
	/* ":name" never matches an empty segment */
	not_found("GET", "/api/bikes//");
	not_found("GET", "/api//bikes");
	not_found("GET", "//api/bikes");
	not_found("POST", "/api/bikes//set-active");
	not_found("POST", "/api/bikes/" UUID "/parts//install");
	not_found("GET", "/a//c");
}
END_TEST

START_TEST(test_too_many_segments)
{
	char path[256];
	size_t n = 0;

	for (int i = 0; i < 40; i++) {
		ck_assert_uint_lt(n + 3, sizeof(path));
		memcpy(path + n, "/x", 2);
		n += 2;
	}
	path[n] = '\0';
	not_found("GET", path);
}
END_TEST

/* ---- 405 ---- */

START_TEST(test_method_not_allowed)
{
	struct look l;

	ck_assert_int_eq(look(table, NTABLE, "PUT", "/api/bikes/" UUID, &l), ROUTER_NOT_ALLOWED);
	ck_assert_ptr_null(l.route);
	ck_assert_str_eq(l.allow, "GET, HEAD, PATCH, DELETE");

	ck_assert_int_eq(look(table, NTABLE, "DELETE", "/api/bikes", &l), ROUTER_NOT_ALLOWED);
	ck_assert_str_eq(l.allow, "GET, HEAD, POST");

	/* the literal route decides the Allow list, not the :id route behind it */
	ck_assert_int_eq(look(table, NTABLE, "DELETE", "/api/bikes/active", &l),
			 ROUTER_NOT_ALLOWED);
	ck_assert_str_eq(l.allow, "GET, HEAD");

	ck_assert_int_eq(look(table, NTABLE, "GET", "/api/bikes/" UUID "/set-active", &l),
			 ROUTER_NOT_ALLOWED);
	ck_assert_str_eq(l.allow, "POST");

	ck_assert_int_eq(look(table, NTABLE, "POST", "/health", &l), ROUTER_NOT_ALLOWED);
	ck_assert_str_eq(l.allow, "GET, HEAD");
	ck_assert_int_eq(look(table, NTABLE, "TRACE", "/health", &l), ROUTER_NOT_ALLOWED);
	ck_assert_str_eq(l.allow, "GET, HEAD");

	/* methods are case-sensitive tokens */
	ck_assert_int_eq(look(table, NTABLE, "get", "/health", &l), ROUTER_NOT_ALLOWED);
	ck_assert_str_eq(l.allow, "GET, HEAD");
	ck_assert_int_eq(look(table, NTABLE, "head", "/health", &l), ROUTER_NOT_ALLOWED);
	ck_assert_int_eq(look(table, NTABLE, "", "/health", &l), ROUTER_NOT_ALLOWED);
}
END_TEST

START_TEST(test_allow_buffer)
{
	const struct router_route *out = (const struct router_route *)&out;
	struct router_params params;
	char allow[9];

	/* "GET, PATCH, DELETE" does not fit in 9: whole methods only, always terminated */
	memset(allow, 'Z', sizeof(allow));
	ck_assert_int_eq(router_lookup(table, NTABLE, "PUT", "/api/bikes/" UUID, &out, &params,
				       allow, sizeof(allow)),
			 ROUTER_NOT_ALLOWED);
	ck_assert_ptr_null(out);
	ck_assert_str_eq(allow, "GET");

	/* no Allow buffer at all */
	ck_assert_int_eq(router_lookup(table, NTABLE, "PUT", "/api/bikes/" UUID, &out, &params,
				       NULL, 0),
			 ROUTER_NOT_ALLOWED);

	/* a found route leaves the Allow buffer empty */
	memset(allow, 'Z', sizeof(allow));
	ck_assert_int_eq(router_lookup(table, NTABLE, "GET", "/health", &out, &params, allow,
				       sizeof(allow)),
			 ROUTER_FOUND);
	ck_assert_str_eq(allow, "");
}
END_TEST

/* HEAD wherever GET works (RFC 9110): the GET route answers, and nothing else does. */
START_TEST(test_head_finds_get_routes)
{
	struct look l;

	ck_assert_int_eq(look(table, NTABLE, "HEAD", "/health", &l), ROUTER_FOUND);
	ck_assert_str_eq(l.route->op, "health");
	ck_assert_str_eq(l.route->method, "GET");
	ck_assert_int_eq(look(table, NTABLE, "HEAD", "/api/bikes", &l), ROUTER_FOUND);
	ck_assert_str_eq(l.route->op, "bikes.list");
	ck_assert_int_eq(look(table, NTABLE, "HEAD", "/api/bikes/active", &l), ROUTER_FOUND);
	ck_assert_str_eq(l.route->op, "bikes.active");
	ck_assert_int_eq(look(table, NTABLE, "HEAD", "/api/bikes/" UUID, &l), ROUTER_FOUND);
	ck_assert_str_eq(l.route->op, "bikes.get");
	ck_assert_str_eq(router_param(&l.params, "id"), UUID);

	/* a path without GET has no HEAD either */
	ck_assert_int_eq(look(table, NTABLE, "HEAD", "/api/bikes/" UUID "/set-active", &l),
			 ROUTER_NOT_ALLOWED);
	ck_assert_ptr_null(l.route);
	ck_assert_str_eq(l.allow, "POST");
	not_found("HEAD", "/nothing");
}
END_TEST

/* ---- parameter limits ---- */

START_TEST(test_long_param_value)
{
	struct look l;
	char path[512], value[300];
	int w;

	/* exactly ROUTER_PARAM_MAX - 1 bytes: kept whole */
	memset(value, 'a', ROUTER_PARAM_MAX - 1);
	value[ROUTER_PARAM_MAX - 1] = '\0';
	w = snprintf(path, sizeof(path), "/api/bikes/%s", value);
	ck_assert(w > 0 && (size_t)w < sizeof(path));
	found("GET", path, "bikes.get", &l);
	ck_assert_str_eq(router_param(&l.params, "id"), value);

	/* longer: cut to ROUTER_PARAM_MAX - 1, never overflowing, and never a UUID */
	memset(value, 'b', 250);
	value[250] = '\0';
	w = snprintf(path, sizeof(path), "/api/bikes/%s/set-active", value);
	ck_assert(w > 0 && (size_t)w < sizeof(path));
	found("POST", path, "bikes.set_active", &l);
	ck_assert_uint_eq(strlen(router_param(&l.params, "id")), ROUTER_PARAM_MAX - 1);
	ck_assert_int_eq(strncmp(router_param(&l.params, "id"), value, ROUTER_PARAM_MAX - 1), 0);

	/* a UUID followed by more text is cut but stays longer than a UUID */
	w = snprintf(path, sizeof(path), "/api/bikes/%s%s", UUID, value);
	ck_assert(w > 0 && (size_t)w < sizeof(path));
	found("GET", path, "bikes.get", &l);
	ck_assert_uint_gt(strlen(router_param(&l.params, "id")), 36);
}
END_TEST

/*
 * A pattern with more than ROUTER_MAX_PARAMS parameters, or a parameter name longer than
 * the name buffer, cannot have its parameters captured. The router must then not report the
 * route as found with parameters missing (a handler would get NULL from router_param).
 * Regression (was a bug: src/router.c router_lookup): the scoring pass calls router_match with
 * params == NULL, where these limits are not checked, so the route is chosen; the second
 * router_match (with params) fails, but its result is ignored and ROUTER_FOUND is returned
 * with only the first parameters filled in.
 */
static const struct router_route big[] = {
	{"GET", "/m/:p1/:p2/:p3/:p4/:p5", h_dummy, ROUTER_AUTH_NONE, "five"},
	{"GET", "/n/:a_parameter_name_that_is_far_too_long_for_the_buffer", h_dummy,
	 ROUTER_AUTH_NONE, "longname"},
	{"GET", "/m/:p1/:p2/:p3/:p4", h_dummy, ROUTER_AUTH_NONE, "four"},
};

START_TEST(test_max_params_ok)
{
	struct look l;

	ck_assert_int_eq(look(big, 3, "GET", "/m/1/2/3/4", &l), ROUTER_FOUND);
	ck_assert_str_eq(l.route->op, "four");
	ck_assert_int_eq(l.params.n, ROUTER_MAX_PARAMS);
	ck_assert_str_eq(router_param(&l.params, "p1"), "1");
	ck_assert_str_eq(router_param(&l.params, "p4"), "4");
}
END_TEST

START_TEST(test_too_many_params)
{
	struct look l;
	enum router_result r = look(big, 3, "GET", "/m/1/2/3/4/5", &l);

	if (r == ROUTER_FOUND) {
		ck_assert_msg(router_param(&l.params, "p5") != NULL,
			      "route with %d params reported FOUND with params.n = %d and "
			      "p5 missing; want NOT_FOUND (or every param captured)",
			      ROUTER_MAX_PARAMS + 1, l.params.n);
		ck_assert_str_eq(router_param(&l.params, "p5"), "5");
	} else {
		ck_assert_int_eq(r, ROUTER_NOT_FOUND);
		ck_assert_ptr_null(l.route);
	}
}
END_TEST

START_TEST(test_param_name_too_long)
{
	struct look l;
	enum router_result r = look(big, 3, "GET", "/n/x", &l);

	if (r == ROUTER_FOUND) {
		ck_assert_msg(l.params.n == 1 &&
				      router_param(&l.params,
						   "a_parameter_name_that_is_far_too_long_for_the_buffer") != NULL,
			      "route with a %zu-byte param name reported FOUND with "
			      "params.n = %d; want NOT_FOUND (or the param captured)",
			      strlen("a_parameter_name_that_is_far_too_long_for_the_buffer"),
			      l.params.n);
	} else {
		ck_assert_int_eq(r, ROUTER_NOT_FOUND);
		ck_assert_ptr_null(l.route);
	}
}
END_TEST

/* ---- the service's table ---- */

/* pattern with each ":name" replaced by value */
static void fill(const char *pattern, const char *value, char *buf, size_t len)
{
	size_t n = 0;
	const char *p = pattern;

	while (*p) {
		if (*p == ':' && p > pattern && p[-1] == '/') {
			size_t vl = strlen(value);
			ck_assert_uint_lt(n + vl, len);
			memcpy(buf + n, value, vl);
			n += vl;
			while (*p && *p != '/')
				p++;
			continue;
		}
		ck_assert_uint_lt(n + 1, len);
		buf[n++] = *p++;
	}
	buf[n] = '\0';
}

START_TEST(test_real_table_shape)
{
	ck_assert_uint_gt(routes_count, 0);
	for (size_t i = 0; i < routes_count; i++) {
		const struct router_route *r = &routes_table[i];
		ck_assert_ptr_nonnull(r->method);
		ck_assert_ptr_nonnull(r->pattern);
		ck_assert_ptr_nonnull(r->handler);
		ck_assert_ptr_nonnull(r->op);
		ck_assert_msg(r->pattern[0] == '/', "pattern %s does not start with /", r->pattern);
		ck_assert_msg(strstr(r->pattern, "//") == NULL, "pattern %s has //", r->pattern);
		ck_assert_msg(strlen(r->pattern) == 1 || r->pattern[strlen(r->pattern) - 1] != '/',
			      "pattern %s ends with /", r->pattern);
		/* /internal routes need the service role, /api routes a user */
		if (strncmp(r->pattern, "/api/", 5) == 0 || strcmp(r->pattern, "/api") == 0)
			ck_assert_msg(r->auth == ROUTER_AUTH_USER, "%s %s is not a user route",
				      r->method, r->pattern);
		if (strncmp(r->pattern, "/internal/", 10) == 0)
			ck_assert_msg(r->auth == ROUTER_AUTH_SERVICE,
				      "%s %s is not a service route", r->method, r->pattern);
		/* no method+pattern twice */
		for (size_t j = 0; j < i; j++)
			ck_assert_msg(strcmp(routes_table[j].method, r->method) != 0 ||
					      strcmp(routes_table[j].pattern, r->pattern) != 0,
				      "%s %s listed twice", r->method, r->pattern);
	}
}
END_TEST

START_TEST(test_real_table_every_route_found)
{
	for (size_t i = 0; i < routes_count; i++) {
		const struct router_route *r = &routes_table[i], *out = NULL;
		struct router_params params;
		char path[512], allow[64];

		fill(r->pattern, UUID, path, sizeof(path));
		enum router_result res = router_lookup(routes_table, routes_count, r->method, path,
						       &out, &params, allow, sizeof(allow));
		ck_assert_msg(res == ROUTER_FOUND, "%s %s (as %s): result %d", r->method,
			      r->pattern, path, (int)res);
		ck_assert_msg(out == r, "%s %s went to %s %s", r->method, path, out->method,
			      out->pattern);
		/* every parameter of the pattern is captured */
		int nparams = 0;
		for (const char *p = strchr(r->pattern, ':'); p; p = strchr(p + 1, ':')) {
			char name[64];
			size_t nl = strcspn(p + 1, "/");
			ck_assert_uint_lt(nl, sizeof(name));
			memcpy(name, p + 1, nl);
			name[nl] = '\0';
			ck_assert_msg(router_param(&params, name) != NULL, "%s %s: param %s missing",
				      r->method, r->pattern, name);
			ck_assert_str_eq(router_param(&params, name), UUID);
			nparams++;
		}
		ck_assert_int_eq(params.n, nparams);
	}
}
END_TEST

/* The entity a path parameter names, from the route's own words: :bike_id and :part_id, or
 * :id under /api/bikes or /api/parts. -1: none (a ride id, a user id). */
static int owned_kind(const char *pattern, const char *param)
{
	if (strcmp(param, "bike_id") == 0)
		return ENTITY_BIKE;
	if (strcmp(param, "part_id") == 0)
		return ENTITY_PART;
	if (strcmp(param, "id") == 0 && strncmp(pattern, "/api/bikes/", 11) == 0)
		return ENTITY_BIKE;
	if (strcmp(param, "id") == 0 && strncmp(pattern, "/api/parts/", 11) == 0)
		return ENTITY_PART;
	return -1;
}

/* Routes whose handler checks the path's bike itself, on purpose: logging a ride, where
 * vehicles.ride_log answers the caller's own external_id on a bike no longer theirs with the
 * 409 of issue 13 rather than the 403, and queues the usual check when it refuses the
 * request before the database (src/rides.c: rides_refuse). */
static int checked_by_handler(const struct router_route *r)
{
	return strcmp(r->method, "POST") == 0 && (strcmp(r->pattern, "/api/bikes/:id/kilometrage") == 0 ||
						  strcmp(r->pattern, "/api/bikes/:id/mileage") == 0);
}

START_TEST(test_real_table_ownership_declared)
{
	for (size_t i = 0; i < routes_count; i++) {
		const struct router_route *r = &routes_table[i];
		int declared = 0;

		if (checked_by_handler(r)) {
			ck_assert_msg(r->own[0].param == NULL, "%s %s: declared and checked twice", r->method,
				      r->pattern);
			continue;
		}

		/* Every bike or part in the path is declared, with its kind, in path order. */
		for (const char *p = strchr(r->pattern, ':'); p; p = strchr(p + 1, ':')) {
			char name[64];
			size_t nl = strcspn(p + 1, "/");
			int kind;

			ck_assert_uint_lt(nl, sizeof(name));
			memcpy(name, p + 1, nl);
			name[nl] = '\0';
			kind = owned_kind(r->pattern, name);
			if (kind < 0)
				continue;
			ck_assert_msg(declared < ROUTER_MAX_OWN && r->own[declared].param &&
					      strcmp(r->own[declared].param, name) == 0,
				      "%s %s: :%s is not declared as owned (position %d)", r->method,
				      r->pattern, name, declared);
			ck_assert_msg((int)r->own[declared].kind == kind, "%s %s: :%s has the wrong kind",
				      r->method, r->pattern, name);
			declared++;
		}
		/* ...and nothing else is. */
		ck_assert_msg(declared == ROUTER_MAX_OWN || r->own[declared].param == NULL,
			      "%s %s declares %s, not in its path", r->method, r->pattern,
			      r->own[declared].param);
	}
}
END_TEST

START_TEST(test_real_table_wrong_method)
{
	static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS",
					      "HEAD"};
	for (size_t i = 0; i < routes_count; i++) {
		const struct router_route *r = &routes_table[i], *out = NULL;
		struct router_params params;
		char path[512], allow[64], want[64];
		size_t used = 0;

		/* the Allow list this pattern should give, in table order */
		want[0] = '\0';
		for (size_t j = 0; j < routes_count; j++) {
			if (strcmp(routes_table[j].pattern, r->pattern) != 0)
				continue;
			int w = snprintf(want + used, sizeof(want) - used, "%s%s%s", used ? ", " : "",
					 routes_table[j].method,
					 strcmp(routes_table[j].method, "GET") == 0 ? ", HEAD" : "");
			ck_assert_msg(w > 0 && (size_t)w < sizeof(want) - used,
				      "Allow list of %s does not fit the 64 bytes of ctx.allow",
				      r->pattern);
			used += (size_t)w;
		}
		fill(r->pattern, UUID, path, sizeof(path));
		for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
			int used_by_pattern = 0;
			for (size_t j = 0; j < routes_count; j++)
				if (strcmp(routes_table[j].pattern, r->pattern) == 0 &&
				    (strcmp(routes_table[j].method, methods[m]) == 0 ||
				     (strcmp(methods[m], "HEAD") == 0 &&
				      strcmp(routes_table[j].method, "GET") == 0)))
					used_by_pattern = 1;
			if (used_by_pattern)
				continue;
			enum router_result res = router_lookup(routes_table, routes_count, methods[m],
							       path, &out, &params, allow, sizeof(allow));
			ck_assert_msg(res == ROUTER_NOT_ALLOWED, "%s %s: result %d, want NOT_ALLOWED",
				      methods[m], path, (int)res);
			ck_assert_ptr_null(out);
			ck_assert_msg(strcmp(allow, want) == 0, "%s %s: Allow \"%s\", want \"%s\"",
				      methods[m], path, allow, want);
		}
	}
}
END_TEST

START_TEST(test_real_table_known_routes)
{
	/* the rules the service depends on, against its own table */
	const struct router_route *out = NULL;
	struct router_params params;
	char allow[64];

	ck_assert_int_eq(router_lookup(routes_table, routes_count, "GET", "/api/bikes/active", &out,
				       &params, allow, sizeof(allow)),
			 ROUTER_FOUND);
	ck_assert_str_eq(out->pattern, "/api/bikes/active");
	ck_assert_int_eq(router_lookup(routes_table, routes_count, "GET", "/api/bikes/" UUID, &out,
				       &params, allow, sizeof(allow)),
			 ROUTER_FOUND);
	ck_assert_str_eq(out->pattern, "/api/bikes/:id");
	ck_assert_str_eq(router_param(&params, "id"), UUID);
	ck_assert_int_eq(router_lookup(routes_table, routes_count, "GET", "/health", &out, &params,
				       allow, sizeof(allow)),
			 ROUTER_FOUND);
	ck_assert_int_eq(out->auth, ROUTER_AUTH_NONE);
	ck_assert_int_eq(router_lookup(routes_table, routes_count, "GET", "/api/nothing-here",
				       &out, &params, allow, sizeof(allow)),
			 ROUTER_NOT_FOUND);
	ck_assert_int_eq(router_lookup(routes_table, routes_count, "GET", "/api/bikes/", &out,
				       &params, allow, sizeof(allow)),
			 ROUTER_NOT_FOUND);
	ck_assert_int_eq(router_lookup(routes_table, routes_count, "PUT", "/api/bikes/" UUID, &out,
				       &params, allow, sizeof(allow)),
			 ROUTER_NOT_ALLOWED);
	ck_assert_ptr_nonnull(strstr(allow, "GET"));
	ck_assert_ptr_nonnull(strstr(allow, "PATCH"));
	ck_assert_ptr_nonnull(strstr(allow, "DELETE"));
}
END_TEST

Suite *router_suite(void)
{
	Suite *s = suite_create("router");
	TCase *tc = tcase_create("match");

	tcase_add_test(tc, test_literal_routes);
	tcase_add_test(tc, test_literal_beats_param);
	tcase_add_test(tc, test_earlier_literal_wins);
	tcase_add_test(tc, test_params_captured);
	tcase_add_test(tc, test_router_param_lookup);
	tcase_add_test(tc, test_unknown_paths);
	tcase_add_test(tc, test_trailing_slash);
	tcase_add_test(tc, test_empty_segment);
	tcase_add_test(tc, test_too_many_segments);
	tcase_add_test(tc, test_method_not_allowed);
	tcase_add_test(tc, test_allow_buffer);
	tcase_add_test(tc, test_head_finds_get_routes);
	tcase_add_test(tc, test_long_param_value);
	tcase_add_test(tc, test_max_params_ok);
	suite_add_tcase(s, tc);

	tc = tcase_create("param_limits");
	tcase_add_test(tc, test_too_many_params);
	tcase_add_test(tc, test_param_name_too_long);
	suite_add_tcase(s, tc);

	tc = tcase_create("routes_table");
	tcase_add_test(tc, test_real_table_shape);
	tcase_add_test(tc, test_real_table_every_route_found);
	tcase_add_test(tc, test_real_table_ownership_declared);
	tcase_add_test(tc, test_real_table_wrong_method);
	tcase_add_test(tc, test_real_table_known_routes);
	suite_add_tcase(s, tc);
	return s;
}
