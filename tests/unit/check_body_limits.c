/* Unit tests for body.c's limits: nesting depth, body size, thousands of keys; the member a
 * refused number is reported under (body_parse_field); the JSON Content-Type. Everything
 * parsed is freed, so the suite is clean under valgrind with CK_FORK=no. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"

Suite *body_limits_suite(void); /* run by the unit test driver */

/* A JSON object nesting depth levels of containers: {"a":{"a":...1...}} */
static char *nested(int depth, size_t *len)
{
	size_t cap = (size_t)depth * 6 + 8, n = 0;
	char *b = malloc(cap);

	ck_assert_ptr_nonnull(b);
	for (int i = 0; i < depth; i++) {
		memcpy(b + n, "{\"a\":", 5);
		n += 5;
	}
	b[n++] = '1';
	for (int i = 0; i < depth; i++)
		b[n++] = '}';
	b[n] = '\0';
	*len = n;
	return b;
}

/* {"a":"xxx..."} of exactly len bytes */
static char *sized_object(size_t len)
{
	char *b = malloc(len + 1);

	ck_assert_uint_ge(len, 8);
	ck_assert_ptr_nonnull(b);
	memcpy(b, "{\"a\":\"", 6);
	memset(b + 6, 'x', len - 8);
	memcpy(b + len - 2, "\"}", 2);
	b[len] = '\0';
	return b;
}

/* A refused number names the top-level member it sits in; other refusals are the body's. */
START_TEST(test_number_field)
{
	static const struct {
		const char *body, *field, *why;
	} cases[] = {
		{"{\"name\":\"x\",\"metadata\":{\"a\":[1,{\"b\":1e-9999}]}}", "metadata",
		 "has a number of more than 40 digits written out"},
		{"{\"initial_kilometrage\":1e99999,\"name\":\"x\"}", "initial_kilometrage",
		 "has a number out of range"},
		{"{\"a\":1,\"cost\":-9.5e18}", "cost", "has a number out of range"},
		{"{\"m\":{\"x\":1e-40},\"n\":1e-40}", "m", "has a number of more than 40 digits written out"},
		{"[1e-9999]", "", "body has a number of more than 40 digits written out"},
		{"{\"n\\u0061me\":1e-9999}", "", "body has a number of more than 40 digits written out"},
		{"{\"a\":{\"b\":1,\"b\":2}}", "", "body has a duplicate key"},
		{"{\"a\":[1,]}", "", "body is not valid JSON"},
		{"{\"a\":1e-9,\"b\":\"x\ty\"}", "", "body has a raw control character in a string"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char field[64] = "unset";
		json_object *o = (json_object *)&o;
		const char *why = NULL;
		err_t rc = body_parse_field(cases[i].body, strlen(cases[i].body), 0, &o, &why, field,
					    sizeof(field));

		ck_assert_msg(rc == ERR_VALIDATION, "%s: %d", cases[i].body, (int)rc);
		ck_assert_ptr_null(o);
		ck_assert_msg(strcmp(field, cases[i].field) == 0, "%s: field [%s]", cases[i].body, field);
		ck_assert_msg(strcmp(why, cases[i].why) == 0, "%s: why [%s]", cases[i].body, why);
	}
	/* A key that does not fit the buffer is not cut: the problem is then the body's. */
	{
		char field[4];
		json_object *o = NULL;
		const char *why = NULL;
		const char *b = "{\"metadata\":1e-9999}";

		ck_assert_int_eq(body_parse_field(b, strlen(b), 0, &o, &why, field, sizeof(field)),
				 ERR_VALIDATION);
		ck_assert_str_eq(field, "");
		ck_assert_str_eq(why, "body has a number of more than 40 digits written out");
		/* and body_parse says it of the body */
		ck_assert_int_eq(body_parse(b, strlen(b), 0, &o, &why), ERR_VALIDATION);
		ck_assert_str_eq(why, "body has a number of more than 40 digits written out");
	}
}
END_TEST

/* {"k0":0,...,"k<n-1>":n-1<tail>} in a fresh buffer. */
static char *many_keys(int n, const char *tail, size_t *len)
{
	size_t cap = (size_t)n * 24 + strlen(tail) + 8, used = 1;
	char *b = malloc(cap);

	ck_assert_ptr_nonnull(b);
	b[0] = '{';
	for (int i = 0; i < n; i++) {
		int w = snprintf(b + used, cap - used, "%s\"k%d\":%d", i ? "," : "", i, i);
		ck_assert(w > 0 && (size_t)w < cap - used);
		used += (size_t)w;
	}
	ck_assert(snprintf(b + used, cap - used, "%s}", tail) < (int)(cap - used));
	*len = strlen(b);
	return b;
}

/* Duplicates among thousands of keys, raw or spelled with an escape, at the end. */
START_TEST(test_duplicate_among_many_keys)
{
	static const char *const tails[] = {",\"k0\":1", ",\"k4999\":1", ",\"k\\u0030\":1",
					    ",\"\\u006b4999\":1"};
	json_object *o = NULL;
	const char *why = NULL;
	size_t len;
	char *b = many_keys(5000, "", &len);

	ck_assert_uint_le(len, BODY_MAX_BYTES);
	ck_assert_int_eq(body_parse(b, len, 0, &o, &why), ERR_OK);
	ck_assert_int_eq(json_object_object_length(o), 5000);
	json_object_put(o);
	free(b);
	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		b = many_keys(5000, tails[i], &len);
		o = NULL;
		ck_assert_int_eq(body_parse(b, len, 0, &o, &why), ERR_VALIDATION);
		ck_assert_ptr_null(o);
		ck_assert_str_eq(why, "body has a duplicate key");
		free(b);
	}
}
END_TEST

/* ---- limits ---- */

START_TEST(test_depth_limit)
{
	size_t len;
	json_object *o = NULL;
	const char *why = NULL;
	char *b;

	/* inside the limit. (json-c counts the innermost scalar as a level too, so
	 * BODY_MAX_DEPTH nested containers are already refused; BODY_MAX_DEPTH - 1 pass.) */
	b = nested(BODY_MAX_DEPTH - 1, &len);
	ck_assert_int_eq(body_parse(b, len, 0, &o, &why), ERR_OK);
	ck_assert_ptr_nonnull(o);
	json_object_put(o);
	free(b);

	/* deeper than the limit */
	o = NULL;
	b = nested(BODY_MAX_DEPTH + 1, &len);
	ck_assert_int_eq(body_parse(b, len, 0, &o, &why), ERR_VALIDATION);
	free(b);
	ck_assert_ptr_null(o);
	ck_assert_str_eq(why, "body nests too deeply");

	/* far deeper: refused the same way, no stack trouble */
	b = nested(10000, &len);
	ck_assert_int_eq(body_parse(b, len, 0, &o, &why), ERR_VALIDATION);
	free(b);
	ck_assert_ptr_null(o);
	ck_assert_str_eq(why, "body nests too deeply");
}
END_TEST

START_TEST(test_depth_limit_arrays)
{
	/* arrays count as nesting too */
	size_t n = 0, depth = BODY_MAX_DEPTH + 1;
	char *b = malloc(depth * 2 + 16);
	json_object *o = NULL;
	const char *why = NULL;

	ck_assert_ptr_nonnull(b);
	memcpy(b, "{\"a\":", 5);
	n = 5;
	for (size_t i = 1; i < depth; i++)
		b[n++] = '[';
	b[n++] = '1';
	for (size_t i = 1; i < depth; i++)
		b[n++] = ']';
	b[n++] = '}';
	ck_assert_int_eq(body_parse(b, n, 0, &o, &why), ERR_VALIDATION);
	free(b);
	ck_assert_ptr_null(o);
	ck_assert_str_eq(why, "body nests too deeply");
}
END_TEST

START_TEST(test_size_limit)
{
	json_object *o = NULL, *v = NULL;
	const char *why = NULL;
	char *b;

	/* exactly BODY_MAX_BYTES: accepted */
	b = sized_object(BODY_MAX_BYTES);
	ck_assert_uint_eq(strlen(b), BODY_MAX_BYTES);
	ck_assert_int_eq(body_parse(b, BODY_MAX_BYTES, 0, &o, &why), ERR_OK);
	free(b);
	ck_assert_ptr_nonnull(o);
	ck_assert(json_object_object_get_ex(o, "a", &v));
	ck_assert_int_eq(json_object_get_string_len(v), BODY_MAX_BYTES - 8);
	json_object_put(o);

	/* one byte more: 413 */
	o = NULL;
	b = sized_object(BODY_MAX_BYTES + 1);
	ck_assert_int_eq(body_parse(b, BODY_MAX_BYTES + 1, 0, &o, &why), ERR_TOO_LARGE);
	free(b);
	ck_assert_ptr_null(o);
	ck_assert_str_eq(why, "body too large");

	/* a large body is too large whatever it holds */
	o = NULL;
	b = malloc(BODY_MAX_BYTES * 2);
	ck_assert_ptr_nonnull(b);
	memset(b, '[', BODY_MAX_BYTES * 2);
	ck_assert_int_eq(body_parse(b, BODY_MAX_BYTES * 2, 1, &o, &why), ERR_TOO_LARGE);
	free(b);
	ck_assert_ptr_null(o);
}
END_TEST

/* ---- Content-Type ---- */

START_TEST(test_json_type)
{
	static const char *const yes[] = {
		"application/json",
		"application/json; charset=utf-8",
		"application/json;charset=UTF-8",
		"Application/JSON",
		"APPLICATION/JSON; charset=utf-8",
		" application/json",
		"application/json ",
	};
	static const char *const no[] = {
		"",
		"text/plain",
		"text/json",
		"application/jsonx",
		"application/json-patch+json",
		"application/x-www-form-urlencoded",
		"multipart/form-data; boundary=x",
		"application/xml",
		"application/js",
		"json",
		"application/ json",
	};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		ck_assert_msg(body_is_json_type(yes[i]) == 1, "\"%s\" not taken as JSON", yes[i]);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		ck_assert_msg(body_is_json_type(no[i]) == 0, "\"%s\" taken as JSON", no[i]);
	ck_assert_int_eq(body_is_json_type(NULL), 0);
}
END_TEST

/* body_parse_values (a batch): numbers of any size and U+0000 are left to the member checks,
 * everything else is refused as by body_parse. */
START_TEST(test_values_mode)
{
	static const char *const taken[] = {
		"{\"rides\": [{\"distance\": 1e308}, {\"n\": 12345678901234567890123456789012345678901234567890}]}",
		"{\"rides\": [{\"e\": 1e99999}]}",
		"{\"rides\": [{\"notes\": \"a\\u0000b\"}]}",
	};
	static const char *const refused[] = {
		"{\"rides\": [1,]}", "{\"a\": 1, \"a\": 2}", "{\"a\": NaN}", "[1]", "", "{\"a\": 01}",
	};
	json_object *o;
	const char *why;

	for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++) {
		ck_assert_int_eq(body_parse(taken[i], strlen(taken[i]), 0, &o, &why), ERR_VALIDATION);
		ck_assert_msg(body_parse_values(taken[i], strlen(taken[i]), &o, &why) == ERR_OK, "%s", taken[i]);
		json_object_put(o);
	}
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		ck_assert_msg(body_parse_values(refused[i], strlen(refused[i]), &o, &why) == ERR_VALIDATION,
			      "%s", refused[i]);
		ck_assert_ptr_null(o);
	}
	/* the U+0000 is kept inside the string's length, for the member check to see */
	ck_assert_int_eq(body_parse_values(taken[2], strlen(taken[2]), &o, &why), ERR_OK);
	{
		json_object *r = json_object_array_get_idx(json_object_object_get(o, "rides"), 0);
		json_object *n = json_object_object_get(r, "notes");
		ck_assert_int_eq(json_object_get_string_len(n), 3);
	}
	json_object_put(o);
}
END_TEST

Suite *body_limits_suite(void)
{
	Suite *s = suite_create("body_limits");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_number_field);
	tcase_add_test(tc, test_duplicate_among_many_keys);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_test(tc, test_depth_limit);
	tcase_add_test(tc, test_depth_limit_arrays);
	tcase_add_test(tc, test_size_limit);
	tcase_add_test(tc, test_json_type);
	tcase_add_test(tc, test_values_mode);
	suite_add_tcase(s, tc);
	return s;
}
