/* The router with the service's own table: router_lookup and router_param.
 * Input: the method, a newline, then the path (a C string, as FastCGI gives it). */
#include "fuzz.h"
#include "router.h"
#include "routes.h"

/* Every ":name" of the pattern is a parameter the lookup filled: one path segment, cut to
 * fit (router.c), never empty. */
static void fuzz_check_params(const struct router_route *r, const struct router_params *p)
{
	const char *s = r->pattern;
	int n = 0;

	FUZZ_ASSERT(p->n >= 0 && p->n <= ROUTER_MAX_PARAMS);
	while ((s = strchr(s, ':')) != NULL) {
		char name[64];
		size_t len = strcspn(++s, "/");
		const char *v;

		FUZZ_ASSERT(len < sizeof name);
		memcpy(name, s, len);
		name[len] = '\0';
		v = router_param(p, name);
		FUZZ_ASSERT(v != NULL && v[0] != '\0' && strlen(v) < ROUTER_PARAM_MAX);
		FUZZ_ASSERT(strchr(v, '/') == NULL);
		n++;
	}
	FUZZ_ASSERT(n == p->n);
	for (int i = 0; i < ROUTER_MAX_OWN && r->own[i].param; i++)
		FUZZ_ASSERT(router_param(p, r->own[i].param) != NULL);
	FUZZ_ASSERT(router_param(p, "no-such-param") == NULL);
}

/* allow is "M1, M2, ...": never the method asked for, and HEAD wherever GET is. */
static void fuzz_check_allow(const char *method, const char *allow)
{
	char copy[64], *save = NULL;
	int get = 0, head = 0;

	FUZZ_ASSERT(strlen(allow) < sizeof copy);
	memcpy(copy, allow, strlen(allow) + 1);
	for (char *m = strtok_r(copy, ", ", &save); m; m = strtok_r(NULL, ", ", &save)) {
		FUZZ_ASSERT(strcmp(m, method) != 0);
		get |= strcmp(m, "GET") == 0;
		head |= strcmp(m, "HEAD") == 0;
	}
	FUZZ_ASSERT(get == head);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *method = fuzz_take_line(&data, &size);
	char *path = fuzz_cstr(data, size);
	const struct router_route *r = NULL, *r2 = NULL;
	struct router_params p, p2;
	char allow[64], tiny[8];
	size_t tiny_len = 1 + size % sizeof tiny;
	enum router_result res, res2;

	memset(&p, 0xA5, sizeof p); /* the lookup must not rely on a zeroed struct */
	res = router_lookup(routes_table, routes_count, method, path, &r, &p, allow, sizeof allow);
	switch (res) {
	case ROUTER_FOUND:
		FUZZ_ASSERT(r != NULL);
		FUZZ_ASSERT(strcmp(r->method, method) == 0 ||
			    (strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0));
		fuzz_check_params(r, &p);
		break;
	case ROUTER_NOT_ALLOWED:
		FUZZ_ASSERT(r == NULL && allow[0] != '\0');
		fuzz_check_allow(method, allow);
		break;
	case ROUTER_NOT_FOUND:
		FUZZ_ASSERT(r == NULL);
		break;
	default:
		FUZZ_ASSERT(!"unknown router_result");
	}
	/* A short Allow buffer or none changes nothing but the Allow text. */
	res2 = router_lookup(routes_table, routes_count, method, path, &r2, &p2, tiny, tiny_len);
	FUZZ_ASSERT(res2 == res && r2 == r && memchr(tiny, '\0', tiny_len) != NULL);
	res2 = router_lookup(routes_table, routes_count, method, path, &r2, NULL, NULL, 0);
	FUZZ_ASSERT(res2 == res && r2 == r);
	/* HEAD is answered wherever GET is (RFC 9110 9.3.2), by the GET route. */
	if (strcmp(method, "HEAD") == 0) {
		res2 = router_lookup(routes_table, routes_count, "GET", path, &r2, NULL, NULL, 0);
		FUZZ_ASSERT(res2 == res && r2 == r);
	}
	free(method);
	free(path);
	return 0;
}
