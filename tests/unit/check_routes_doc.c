/* The API reference must document every route the worker serves: each routes_table entry
 * (method + pattern, ":name" written "{name}") must appear under `paths:` in the OpenAPI
 * file at VS_OPENAPI. The YAML is read simply, line by line: a path is a key indented two
 * spaces under `paths:`, its operations are the lower-case method keys indented four. */
#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "routes.h"

#ifndef VS_OPENAPI
#error "VS_OPENAPI (the path of docs/openapi.yaml) must be defined by the build"
#endif

Suite *routes_doc_suite(void); /* run by the unit test driver */

/* "METHOD /path" for each documented operation */
struct doc {
	char **ops;
	size_t n, cap;
};

static void doc_free(struct doc *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->ops[i]);
	free(d->ops);
	d->ops = NULL;
	d->n = d->cap = 0;
}

static void doc_add(struct doc *d, const char *method, const char *path)
{
	size_t ml = strlen(method), pl = strlen(path);
	char *s = malloc(ml + pl + 2);

	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < ml; i++)
		s[i] = (char)toupper((unsigned char)method[i]);
	s[ml] = ' ';
	memcpy(s + ml + 1, path, pl + 1);
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 32;
		char **ops = realloc(d->ops, cap * sizeof(*ops));
		ck_assert_ptr_nonnull(ops);
		d->ops = ops;
		d->cap = cap;
	}
	d->ops[d->n++] = s;
}

static int doc_has(const struct doc *d, const char *method, const char *path)
{
	size_t ml = strlen(method);
	for (size_t i = 0; i < d->n; i++)
		if (strncmp(d->ops[i], method, ml) == 0 && d->ops[i][ml] == ' ' &&
		    strcmp(d->ops[i] + ml + 1, path) == 0)
			return 1;
	return 0;
}

/*
 * The key of a mapping line "key:" / "key: value" / "'key':" / "\"key\":" (after its
 * indent) into key; 0 when the line is not a "key:" line or the key does not fit.
 */
static int yaml_key(const char *s, char *key, size_t keylen)
{
	const char *end;
	size_t n;

	if (*s == '"' || *s == '\'') {
		const char *close = strchr(s + 1, *s);
		if (close == NULL || close[1] != ':')
			return 0;
		s++;
		end = close;
		if (close[2] != '\0' && close[2] != ' ' && close[2] != '\t')
			return 0;
	} else {
		/* the first ':' that ends the key: followed by the end of the line or a blank */
		end = s;
		for (;;) {
			end = strchr(end, ':');
			if (end == NULL)
				return 0;
			if (end[1] == '\0' || end[1] == ' ' || end[1] == '\t')
				break;
			end++;
		}
	}
	n = (size_t)(end - s);
	if (n == 0 || n >= keylen)
		return 0;
	memcpy(key, s, n);
	key[n] = '\0';
	return 1;
}

static int is_method(const char *k)
{
	static const char *const m[] = {"get", "put", "post", "delete", "options", "head",
					"patch", "trace", NULL};
	for (const char *const *p = m; *p; p++)
		if (strcmp(k, *p) == 0)
			return 1;
	return 0;
}

/* Reads the operations under `paths:` of the OpenAPI file at path; -1 (errno) if unreadable. */
static int doc_load(const char *file, struct doc *d)
{
	FILE *f = fopen(file, "r");
	char line[4096], cur[1024], key[1024];
	int in_paths = 0;

	memset(d, 0, sizeof(*d));
	if (f == NULL)
		return -1;
	cur[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);
		size_t indent = 0;

		while (len > 0 && isspace((unsigned char)line[len - 1]))
			line[--len] = '\0';
		while (line[indent] == ' ')
			indent++;
		if (line[indent] == '\0' || line[indent] == '#')
			continue; /* blank or comment */
		if (indent == 0) {
			/* a top-level key: `paths:` starts the section, anything else ends it */
			in_paths = yaml_key(line, key, sizeof(key)) && strcmp(key, "paths") == 0;
			cur[0] = '\0';
			continue;
		}
		if (!in_paths)
			continue;
		if (indent == 2) {
			cur[0] = '\0';
			if (yaml_key(line + 2, key, sizeof(key)) && key[0] == '/') {
				size_t kl = strlen(key);
				if (kl < sizeof(cur))
					memcpy(cur, key, kl + 1);
			}
		} else if (indent == 4 && cur[0] != '\0') {
			if (yaml_key(line + 4, key, sizeof(key)) && is_method(key))
				doc_add(d, key, cur);
		}
	}
	fclose(f);
	return 0;
}

/* "/api/bikes/:id/x" -> "/api/bikes/{id}/x" */
static void openapi_path(const char *pattern, char *buf, size_t len)
{
	size_t n = 0;

	for (const char *p = pattern; *p;) {
		if (*p == ':' && p > pattern && p[-1] == '/') {
			size_t nl = strcspn(p + 1, "/");
			ck_assert_uint_lt(n + nl + 2, len);
			buf[n++] = '{';
			memcpy(buf + n, p + 1, nl);
			n += nl;
			buf[n++] = '}';
			p += 1 + nl;
			continue;
		}
		ck_assert_uint_lt(n + 1, len);
		buf[n++] = *p++;
	}
	buf[n] = '\0';
}

/* ---- the reader itself, on fixtures ---- */

/* Writes text to a new temporary file; its name goes to path (freed by the caller). */
static void fixture(const char *text, char *path, size_t len)
{
	const char *dir = getenv("TMPDIR");
	int w = snprintf(path, len, "%s/check_routes_doc_XXXXXX", dir && *dir ? dir : "/tmp");
	ck_assert(w > 0 && (size_t)w < len);
	int fd = mkstemp(path);
	ck_assert_msg(fd >= 0, "mkstemp: %s", strerror(errno));
	size_t tl = strlen(text);
	ck_assert_int_eq(write(fd, text, tl), (ssize_t)tl);
	ck_assert_int_eq(close(fd), 0);
}

static const char fixture_yaml[] =
	"openapi: 3.0.3\n"
	"info:\n"
	"  title: test\n"
	"  description: |\n"
	"    /api/fake:\n"
	"      get:\n"
	"paths:\n"
	"  # a comment\n"
	"  /health:\n"
	"    get:\n"
	"      summary: live\n"
	"      responses:\n"
	"        '200':\n"
	"          description: ok\n"
	"\n"
	"  \"/api/bikes/{id}\":\n"
	"    get:\n"
	"      parameters: []\n"
	"    patch: {}\n"
	"    # delete:\n"
	"    x-extra:\n"
	"      post:\n"
	"    parameters:\n"
	"      - name: id\n"
	"  '/api/bikes/{id}/set-active':   \n"
	"    post:   # trailing comment\n"
	"  /api/bikes:\n"
	"    post:\n"
	"      requestBody:\n"
	"        content:\n"
	"          application/json:\n"
	"            schema:\n"
	"              get:\n"
	"  x-not-a-path:\n"
	"    get:\n"
	"components:\n"
	"  schemas:\n"
	"    get:\n"
	"  /api/other:\n"
	"    get:\n";

START_TEST(test_reader_fixture)
{
	char path[256];
	struct doc d;

	fixture(fixture_yaml, path, sizeof(path));
	ck_assert_int_eq(doc_load(path, &d), 0);
	unlink(path);

	ck_assert(doc_has(&d, "GET", "/health"));
	ck_assert(doc_has(&d, "GET", "/api/bikes/{id}"));
	ck_assert(doc_has(&d, "PATCH", "/api/bikes/{id}"));
	ck_assert(doc_has(&d, "POST", "/api/bikes/{id}/set-active"));
	ck_assert(doc_has(&d, "POST", "/api/bikes"));
	ck_assert_int_eq(d.n, 5);

	ck_assert(!doc_has(&d, "DELETE", "/api/bikes/{id}")); /* commented out */
	ck_assert(!doc_has(&d, "POST", "/api/bikes/{id}"));   /* nested under x-extra */
	ck_assert(!doc_has(&d, "GET", "/api/bikes"));         /* deep inside a schema */
	ck_assert(!doc_has(&d, "GET", "/api/fake"));          /* in info, not paths */
	ck_assert(!doc_has(&d, "GET", "/api/other"));         /* in components */
	ck_assert(!doc_has(&d, "GET", "/health/ready"));
	ck_assert(!doc_has(&d, "POST", "/health"));
	ck_assert(!doc_has(&d, "GET", "/api/bikes/:id")); /* OpenAPI spells it {id} */
	doc_free(&d);
}
END_TEST

START_TEST(test_reader_crlf_and_empty)
{
	char path[256];
	struct doc d;

	fixture("openapi: 3.1.0\r\npaths:\r\n  /health:\r\n    get:\r\n    head:\r\n", path,
		sizeof(path));
	ck_assert_int_eq(doc_load(path, &d), 0);
	unlink(path);
	ck_assert_int_eq(d.n, 2);
	ck_assert(doc_has(&d, "GET", "/health"));
	ck_assert(doc_has(&d, "HEAD", "/health"));
	doc_free(&d);

	/* no paths section: nothing documented */
	fixture("openapi: 3.1.0\ninfo:\n  title: x\n", path, sizeof(path));
	ck_assert_int_eq(doc_load(path, &d), 0);
	unlink(path);
	ck_assert_int_eq(d.n, 0);
	doc_free(&d);

	/* a missing file is an error, not an empty document */
	ck_assert_int_eq(doc_load("/nonexistent/dir/openapi.yaml", &d), -1);
}
END_TEST

START_TEST(test_openapi_path)
{
	char buf[256];

	openapi_path("/api/bikes/:id", buf, sizeof(buf));
	ck_assert_str_eq(buf, "/api/bikes/{id}");
	openapi_path("/api/bikes/:bike_id/parts/:part_id/install", buf, sizeof(buf));
	ck_assert_str_eq(buf, "/api/bikes/{bike_id}/parts/{part_id}/install");
	openapi_path("/health/ready", buf, sizeof(buf));
	ck_assert_str_eq(buf, "/health/ready");
}
END_TEST

/* ---- the real document ---- */

START_TEST(test_every_route_documented)
{
	struct doc d;
	char missing[4096];
	size_t used = 0;
	int nmissing = 0;

	if (doc_load(VS_OPENAPI, &d) != 0)
		ck_abort_msg("cannot read the API reference %s: %s", VS_OPENAPI, strerror(errno));
	missing[0] = '\0';
	for (size_t i = 0; i < routes_count; i++) {
		char path[512];

		openapi_path(routes_table[i].pattern, path, sizeof(path));
		if (doc_has(&d, routes_table[i].method, path))
			continue;
		nmissing++;
		int w = snprintf(missing + used, sizeof(missing) - used, "%s%s %s", used ? ", " : "",
				 routes_table[i].method, path);
		if (w > 0 && (size_t)w < sizeof(missing) - used)
			used += (size_t)w;
	}
	size_t ndoc = d.n;
	doc_free(&d);
	ck_assert_msg(nmissing == 0, "%d of %zu routes missing from %s (it documents %zu operations): %s",
		      nmissing, routes_count, VS_OPENAPI, ndoc, missing);
}
END_TEST

Suite *routes_doc_suite(void)
{
	Suite *s = suite_create("routes_doc");
	TCase *tc = tcase_create("reader");

	tcase_add_test(tc, test_reader_fixture);
	tcase_add_test(tc, test_reader_crlf_and_empty);
	tcase_add_test(tc, test_openapi_path);
	suite_add_tcase(s, tc);

	tc = tcase_create("openapi");
	tcase_add_test(tc, test_every_route_documented);
	suite_add_tcase(s, tc);
	return s;
}
