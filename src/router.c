/* Path matching for the static route table. Segments are compared in place; no allocation. */
#include <stdio.h>
#include <string.h>

#include "router.h"

/*
 * Matches path against pattern. Returns -1 on no match, otherwise a specificity score:
 * one bit per segment, set where the pattern segment is literal, earliest segment highest.
 */
static long router_match(const char *pattern, const char *path, struct router_params *params)
{
	const char *pp = pattern, *sp = path;
	long score = 0;
	int seg = 0;

	int nparams = 0;

	if (params)
		params->n = 0;
	while (*pp == '/' && *sp == '/') {
		const char *pe, *se;
		size_t plen, slen;

		pp++;
		sp++;
		pe = strchr(pp, '/');
		se = strchr(sp, '/');
		plen = pe ? (size_t)(pe - pp) : strlen(pp);
		slen = se ? (size_t)(se - sp) : strlen(sp);
		if (seg >= 30)
			return -1;
		score <<= 1;
		if (plen > 0 && pp[0] == ':') {
			/* A pattern the params struct cannot hold never matches, with or without it. */
			if (slen == 0 || nparams >= ROUTER_MAX_PARAMS ||
			    plen - 1 >= sizeof(params->p[0].name))
				return -1;
			nparams++;
			if (params) {
				int i = params->n;
				memcpy(params->p[i].name, pp + 1, plen - 1);
				params->p[i].name[plen - 1] = '\0';
				/* An over-long value is cut; a cut id is no UUID, so it is still refused. */
				size_t vlen = slen < ROUTER_PARAM_MAX - 1 ? slen : ROUTER_PARAM_MAX - 1;
				memcpy(params->p[i].value, sp, vlen);
				params->p[i].value[vlen] = '\0';
				params->n++;
			}
		} else {
			if (plen != slen || memcmp(pp, sp, plen) != 0)
				return -1;
			score |= 1;
		}
		pp += plen;
		sp += slen;
		seg++;
	}
	if (*pp != '\0' || *sp != '\0')
		return -1;
	/* Scores of different lengths never compete: only equal-length patterns match a path. */
	return score;
}

/* HEAD is served wherever GET is (RFC 9110 9.3.2): a HEAD lookup matches GET routes. */
static int router_method_is(const char *route_method, const char *method)
{
	return strcmp(route_method, method) == 0 ||
	       (strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0);
}

/* Appends ", name" (or "name") to allow; a list that would not fit is left as it was. */
static void router_allow_add(char *allow, size_t allowlen, const char *name)
{
	size_t used = strlen(allow);
	int w = snprintf(allow + used, allowlen - used, "%s%s", used ? ", " : "", name);

	if (w < 0 || (size_t)w >= allowlen - used)
		allow[used] = '\0';
}

enum router_result router_lookup(const struct router_route *table, size_t n, const char *method,
				 const char *path, const struct router_route **out,
				 struct router_params *params, char *allow, size_t allowlen)
{
	long best = -1;
	const char *best_pattern = NULL;
	size_t i;

	*out = NULL;
	if (allow && allowlen)
		allow[0] = '\0';
	for (i = 0; i < n; i++) {
		long s = router_match(table[i].pattern, path, NULL);
		if (s > best) {
			best = s;
			best_pattern = table[i].pattern;
		}
	}
	if (best_pattern == NULL)
		return ROUTER_NOT_FOUND;
	for (i = 0; i < n; i++) {
		if (strcmp(table[i].pattern, best_pattern) != 0)
			continue;
		if (router_method_is(table[i].method, method)) {
			if (router_match(table[i].pattern, path, params) < 0)
				return ROUTER_NOT_FOUND;
			*out = &table[i];
			return ROUTER_FOUND;
		}
		if (allow && allowlen) {
			router_allow_add(allow, allowlen, table[i].method);
			if (strcmp(table[i].method, "GET") == 0)
				router_allow_add(allow, allowlen, "HEAD");
		}
	}
	return ROUTER_NOT_ALLOWED;
}

const char *router_param(const struct router_params *params, const char *name)
{
	for (int i = 0; i < params->n; i++)
		if (strcmp(params->p[i].name, name) == 0)
			return params->p[i].value;
	return NULL;
}
