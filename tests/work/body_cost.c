/*
 * Runs body_parse once on a body of about body_cost_bytes bytes, built to stress one check, so that
 * callgrind can count its instructions (tests/work/body-linear.sh compares the counts):
 *   keys     {"k0":0,"k1":1,...}: thousands of distinct keys in one object
 *   one      {"a":"xxx..."}: one key, the same size
 *   nested   {"a":{"k0":0,...},"b":{...},...}: many keys spread over sibling objects
 *   numbers  {"a":[1.5e-3,1.5e-3,...]}: thousands of numbers
 *   escapes  {"\u006b0":0,...}: keys spelled with escapes
 * It prints the body's size, its keys and body_parse's answer; exit status 0 when accepted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"

/* The body's size: argv[2], default about 55 KB (issue 9: 5000 keys cost 40x one key). */
static size_t body_cost_bytes = 55000;

static size_t put(char *b, size_t used, size_t cap, const char *fmt, int i)
{
	int w = snprintf(b + used, cap - used, fmt, i, i);

	if (w < 0 || (size_t)w >= cap - used) {
		fprintf(stderr, "body_cost: buffer too small\n");
		exit(2);
	}
	return used + (size_t)w;
}

/* Members "<key i>":i of one object until the body is about body_cost_bytes long; with
 * group > 0, every group of them in a sibling object "o<n>":{...}. */
static size_t build_keys(char *b, size_t cap, const char *key, int group, int *keys)
{
	size_t used = 1;

	b[0] = '{';
	for (int i = 0; used < body_cost_bytes - 40; i++, (*keys)++) {
		if (group && i % group == 0) {
			used = put(b, used, cap, i ? "},\"o%d\":{" : "\"o%d\":{", i / group);
			(*keys)++;
		} else if (i > 0) {
			b[used++] = ',';
		}
		used = put(b, used, cap, key, i);
	}
	if (group)
		b[used++] = '}';
	b[used++] = '}';
	b[used] = '\0';
	return used;
}

/* {"a":<open><item><item>...<close>} about body_cost_bytes long. */
static size_t build_one(char *b, size_t cap, const char *open, const char *item,
			const char *close)
{
	size_t used = put(b, 0, cap, "{\"a\":", 0);

	used = put(b, used, cap, open, 0);
	while (used < body_cost_bytes - 8)
		used = put(b, used, cap, item, 0);
	used = put(b, used, cap, close, 0);
	return put(b, used, cap, "}", 0);
}

static size_t build(const char *mode, char *b, size_t cap, int *keys)
{
	*keys = 1;
	if (strcmp(mode, "one") == 0)
		return build_one(b, cap, "\"", "x", "\"");
	if (strcmp(mode, "numbers") == 0)
		return build_one(b, cap, "[0", ",1.5e-3", "]");
	*keys = 0;
	if (strcmp(mode, "keys") == 0)
		return build_keys(b, cap, "\"k%d\":%d", 0, keys);
	if (strcmp(mode, "escapes") == 0)
		return build_keys(b, cap, "\"\\u006b%d\":%d", 0, keys);
	if (strcmp(mode, "nested") == 0)
		return build_keys(b, cap, "\"k%d\":%d", 100, keys);
	fprintf(stderr, "body_cost: unknown mode %s\n", mode);
	exit(2);
}

int main(int argc, char **argv)
{
	static char b[BODY_MAX_BYTES + 256];
	json_object *o = NULL;
	const char *why = "";
	int keys;
	size_t len;
	err_t rc;

	if (argc < 2 || argc > 3 || (argc == 3 && (atol(argv[2]) < 100 || atol(argv[2]) > 60000))) {
		fprintf(stderr, "usage: body_cost keys|one|nested|numbers|escapes [bytes: 100..60000]\n");
		return 2;
	}
	if (argc == 3)
		body_cost_bytes = (size_t)atol(argv[2]);
	len = build(argv[1], b, sizeof(b), &keys);
	rc = body_parse(b, len, 0, &o, &why);
	printf("%s: %zu bytes, %d keys, %s\n", argv[1], len, keys, rc == ERR_OK ? "ok" : why);
	json_object_put(o);
	return rc == ERR_OK ? 0 : 1;
}
