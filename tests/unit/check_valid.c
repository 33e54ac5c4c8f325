/* Unit tests for valid.c: the core, strings, field lists, objects, email addresses and the
 * plain-string checks. Numbers and units: check_valid_numbers.c; dates and timestamps:
 * check_valid_time.c; enums and gear.c: check_valid_gear.c. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "valid.h"

#define CHECK_UTIL_VALID /* J, with_string, problem, nproblems, ck_problem, repeat */
#include "check_util.h"

Suite *valid_suite(void); /* run by the unit test driver */

/* ---- core ---- */

START_TEST(test_valid_core)
{
	struct valid v;

	valid_init(&v);
	ck_assert(valid_ok(&v));
	ck_assert_ptr_null(valid_take(&v));
	valid_add(&v, "a", "first");
	valid_add(&v, "a", "second"); /* the first problem of a field is kept */
	valid_add(&v, "b", "other");
	ck_assert(!valid_ok(&v));
	ck_assert_int_eq(nproblems(&v), 2);
	ck_problem(&v, "a", "first");
	ck_problem(&v, "b", "other");

	json_object *d = valid_take(&v);
	ck_assert_ptr_nonnull(d);
	ck_assert(valid_ok(&v));
	ck_assert_str_eq(json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN),
			 "{\"a\":\"first\",\"b\":\"other\"}");
	json_object_put(d);
	valid_free(&v);
	ck_assert(valid_ok(&v));
}
END_TEST

/* ---- strings ---- */

START_TEST(test_string_trim)
{
	struct valid v;
	json_object *b = J("{\"name\": \" \\t My Bike \\n \", \"inner\": \"a  b\"}");
	const char *out = NULL;

	valid_init(&v);
	ck_assert_int_eq(valid_string(&v, b, "name", 1, 100, VALID_REQUIRED, &out), VALID_SET);
	ck_assert_str_eq(out, "My Bike");
	ck_assert_int_eq(valid_string(&v, b, "inner", 1, 100, 0, &out), VALID_SET);
	ck_assert_str_eq(out, "a  b"); /* inner blanks stay */
	ck_assert(valid_ok(&v));
	/* the body is not modified */
	json_object *n;
	ck_assert(json_object_object_get_ex(b, "name", &n));
	ck_assert_str_eq(json_object_get_string(n), " \t My Bike \n ");
	valid_free(&v);
	json_object_put(b);
}
END_TEST

START_TEST(test_string_utf8_length)
{
	struct valid v;
	const char *out = NULL;
	char *s100 = repeat("\xc3\xa9", 100), *s101 = repeat("\xc3\xa9", 101);
	char *padded = NULL;
	json_object *b;

	ck_assert_uint_eq(valid_utf8_len(s100, strlen(s100)), 100);
	ck_assert_uint_eq(valid_utf8_len("a\xe2\x82\xac\xf0\x9f\x9a\xb2", 8), 3);
	ck_assert_uint_eq(valid_utf8_len("", 0), 0);

	/* 100 "é" (200 bytes) is 100 characters: ok */
	valid_init(&v);
	b = with_string("name", s100);
	ck_assert_int_eq(valid_string(&v, b, "name", 1, 100, 0, &out), VALID_SET);
	ck_assert_str_eq(out, s100);
	ck_assert(valid_ok(&v));
	json_object_put(b);

	/* 101: too long */
	b = with_string("name", s101);
	ck_assert_int_eq(valid_string(&v, b, "name", 1, 100, 0, &out), VALID_BAD);
	ck_assert_ptr_null(out);
	ck_problem(&v, "name", "must be at most 100 characters");
	json_object_put(b);
	valid_free(&v);

	/* 100 "é" with blanks around: the blanks do not count */
	size_t l = strlen(s100);
	padded = malloc(l + 5);
	ck_assert_ptr_nonnull(padded);
	memcpy(padded, "  ", 2);
	memcpy(padded + 2, s100, l);
	memcpy(padded + 2 + l, "  ", 3);
	valid_init(&v);
	b = with_string("name", padded);
	ck_assert_int_eq(valid_string(&v, b, "name", 1, 100, 0, &out), VALID_SET);
	ck_assert_str_eq(out, s100);
	json_object_put(b);
	valid_free(&v);

	/* 101 ASCII characters: too long as well; 100 fine */
	char *a101 = repeat("a", 101);
	valid_init(&v);
	b = with_string("name", a101);
	ck_assert_int_eq(valid_string(&v, b, "name", 1, 100, 0, &out), VALID_BAD);
	json_object_put(b);
	a101[100] = '\0';
	b = with_string("model", a101);
	ck_assert_int_eq(valid_string(&v, b, "model", 0, 100, 0, &out), VALID_SET);
	ck_assert_uint_eq(strlen(out), 100);
	json_object_put(b);
	valid_free(&v);

	free(a101);
	free(padded);
	free(s100);
	free(s101);
}
END_TEST

START_TEST(test_string_empty)
{
	struct valid v;
	json_object *b = J("{\"name\": \"   \\t\\n \", \"empty\": \"\", \"brand\": \"  \"}");
	const char *out = NULL;

	valid_init(&v);
	ck_assert_int_eq(valid_string(&v, b, "name", 1, 100, VALID_REQUIRED, &out), VALID_BAD);
	ck_assert_ptr_null(out);
	ck_problem(&v, "name", "must not be empty");
	ck_assert_int_eq(valid_string(&v, b, "empty", 1, 2000, 0, &out), VALID_BAD);
	ck_problem(&v, "empty", "must not be empty");
	/* min 0: blank is an empty string */
	ck_assert_int_eq(valid_string(&v, b, "brand", 0, 100, VALID_NULLABLE, &out), VALID_SET);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(nproblems(&v), 2);
	/* min > 1 says "too short" */
	ck_assert_int_eq(valid_string(&v, b, "brand", 2, 100, 0, &out), VALID_BAD);
	ck_problem(&v, "brand", "is too short");
	valid_free(&v);
	json_object_put(b);
}
END_TEST

START_TEST(test_string_nul)
{
	struct valid v;
	json_object *b = J("{\"name\": \"a\\u0000b\"}");
	const char *out = NULL;

	valid_init(&v);
	ck_assert_int_eq(valid_string(&v, b, "name", 1, 100, 0, &out), VALID_BAD);
	ck_problem(&v, "name", "must not contain NUL characters");
	valid_free(&v);
	json_object_put(b);
}
END_TEST

START_TEST(test_nullable_required)
{
	struct valid v;
	json_object *b = J("{\"a\": null}");
	const char *out = (const char *)&out;

	valid_init(&v);
	/* absent */
	ck_assert_int_eq(valid_string(&v, b, "x", 1, 10, 0, &out), VALID_ABSENT);
	ck_assert_ptr_null(out);
	ck_assert_int_eq(valid_string(&v, b, "x", 1, 10, VALID_NULLABLE, &out), VALID_ABSENT);
	ck_assert(valid_ok(&v));
	ck_assert_int_eq(valid_string(&v, b, "x", 1, 10, VALID_REQUIRED, &out), VALID_BAD);
	ck_problem(&v, "x", "is required");
	/* null */
	ck_assert_int_eq(valid_string(&v, b, "a", 1, 10, VALID_NULLABLE, &out), VALID_NULL);
	ck_assert_ptr_null(out);
	ck_assert_int_eq(nproblems(&v), 1);
	ck_assert_int_eq(valid_string(&v, b, "a", 1, 10, 0, &out), VALID_BAD);
	ck_problem(&v, "a", "must not be null");
	valid_free(&v);

	valid_init(&v);
	ck_assert_int_eq(valid_string(&v, b, "a", 1, 10, VALID_REQUIRED, &out), VALID_BAD);
	ck_problem(&v, "a", "is required");
	valid_free(&v);

	/* no body at all (an allowed empty body) */
	valid_init(&v);
	ck_assert_int_eq(valid_string(&v, NULL, "a", 1, 10, 0, &out), VALID_ABSENT);
	ck_assert(valid_ok(&v));
	ck_assert_int_eq(valid_string(&v, NULL, "a", 1, 10, VALID_REQUIRED, &out), VALID_BAD);
	ck_problem(&v, "a", "is required");
	valid_free(&v);
	json_object_put(b);
}
END_TEST

START_TEST(test_wrong_types)
{
	struct valid v;
	json_object *b = J("{\"s\": 12, \"t\": true, \"u\": [\"x\"], \"w\": {}, \"n\": \"12\","
			   " \"m\": \"1e3\", \"k\": false, \"l\": [1]}");
	const char *out = NULL;
	double d = -1;

	valid_init(&v);
	ck_assert_int_eq(valid_string(&v, b, "s", 0, 10, 0, &out), VALID_BAD);
	ck_assert_int_eq(valid_string(&v, b, "t", 0, 10, 0, &out), VALID_BAD);
	ck_assert_int_eq(valid_string(&v, b, "u", 0, 10, 0, &out), VALID_BAD);
	ck_assert_int_eq(valid_string(&v, b, "w", 0, 10, 0, &out), VALID_BAD);
	ck_problem(&v, "s", "must be a string");
	ck_problem(&v, "t", "must be a string");
	ck_problem(&v, "u", "must be a string");
	ck_problem(&v, "w", "must be a string");
	/* a numeric string is not a number */
	ck_assert_int_eq(valid_number(&v, b, "n", 0, 100, 0, 0, &d), VALID_BAD);
	ck_assert_double_eq(d, 0);
	ck_problem(&v, "n", "must be a number");
	ck_assert_int_eq(valid_number(&v, b, "m", 0, 1e6, 0, 0, &d), VALID_BAD);
	ck_problem(&v, "m", "must be a number");
	ck_assert_int_eq(valid_number(&v, b, "k", 0, 1, 0, 0, &d), VALID_BAD);
	ck_problem(&v, "k", "must be a number");
	ck_assert_int_eq(valid_number(&v, b, "l", 0, 1, 0, 0, &d), VALID_BAD);
	ck_problem(&v, "l", "must be a number");
	ck_assert_int_eq(nproblems(&v), 8);
	valid_free(&v);
	json_object_put(b);
}
END_TEST

/* ---- fields ---- */

START_TEST(test_fields)
{
	static const char *const allowed[] = {"name", "notes", NULL};
	static const char *const readonly[] = {"id", "user_id", "created_at", NULL};
	struct valid v;
	json_object *b = J("{\"name\": \"x\", \"id\": \"y\", \"created_at\": 1, \"colour\": \"red\","
			   " \"Name\": 1, \"notes\": null}");

	valid_init(&v);
	valid_fields(&v, b, allowed, readonly);
	ck_assert_int_eq(nproblems(&v), 4);
	ck_problem(&v, "id", "read-only field");
	ck_problem(&v, "created_at", "read-only field");
	ck_problem(&v, "colour", "unknown field");
	ck_problem(&v, "Name", "unknown field");
	ck_assert_ptr_null(problem(&v, "name"));
	ck_assert_ptr_null(problem(&v, "notes"));
	valid_free(&v);

	/* without a read-only list every stranger is unknown */
	valid_init(&v);
	valid_fields(&v, b, allowed, NULL);
	ck_problem(&v, "id", "unknown field");
	valid_free(&v);
	json_object_put(b);

	/* all allowed: nothing */
	b = J("{\"name\": \"x\"}");
	valid_init(&v);
	valid_fields(&v, b, allowed, readonly);
	ck_assert(valid_ok(&v));
	valid_free(&v);
	json_object_put(b);
}
END_TEST

/* ---- objects ---- */

START_TEST(test_object_size)
{
	struct valid v;
	json_object *out = NULL;
	char *x = repeat("x", 100);
	json_object *meta = json_object_new_object(), *b = json_object_new_object();
	size_t len;

	json_object_object_add(meta, "k", json_object_new_string(x));
	json_object_object_add(b, "metadata", meta);
	json_object_object_add(b, "arr", json_object_new_array());
	json_object_object_add(b, "str", json_object_new_string("{}"));
	len = strlen(json_object_to_json_string_ext(meta, JSON_C_TO_STRING_PLAIN));
	ck_assert_uint_eq(len, 108); /* {"k":"xxx...x"} */

	valid_init(&v);
	ck_assert_int_eq(valid_object(&v, b, "metadata", len, 0, &out), VALID_SET);
	ck_assert_ptr_eq(out, meta);
	ck_assert(valid_ok(&v));
	ck_assert_int_eq(valid_object(&v, b, "metadata", len - 1, 0, &out), VALID_BAD);
	ck_assert_ptr_null(out);
	ck_problem(&v, "metadata", "must be at most 107 bytes of JSON");
	ck_assert_int_eq(valid_object(&v, b, "arr", 100, 0, &out), VALID_BAD);
	ck_problem(&v, "arr", "must be a JSON object");
	ck_assert_int_eq(valid_object(&v, b, "str", 100, 0, &out), VALID_BAD);
	ck_problem(&v, "str", "must be a JSON object");
	ck_assert_int_eq(valid_object(&v, b, "none", 100, 0, &out), VALID_ABSENT);
	valid_free(&v);
	json_object_put(b);
	free(x);
}
END_TEST

START_TEST(test_metadata_limit_16k)
{
	struct valid v;
	json_object *out = NULL;
	/* {"k":"..."} is 8 bytes around the text */
	char *x = repeat("x", RULES_METADATA_MAX - 8);
	json_object *b = json_object_new_object(), *meta = json_object_new_object();

	json_object_object_add(meta, "k", json_object_new_string(x));
	json_object_object_add(b, "metadata", meta);
	valid_init(&v);
	ck_assert_int_eq(valid_object(&v, b, "metadata", RULES_METADATA_MAX, 0, &out), VALID_SET);
	json_object_object_add(meta, "k", json_object_new_string(x));
	json_object_object_add(meta, "y", json_object_new_int(1)); /* +6 bytes */
	ck_assert_int_eq(valid_object(&v, b, "metadata", RULES_METADATA_MAX, 0, &out), VALID_BAD);
	ck_problem(&v, "metadata", "must be at most 16384 bytes of JSON");
	valid_free(&v);
	json_object_put(b);
	free(x);
}
END_TEST

/* ---- email ---- */

START_TEST(test_email)
{
	static const char *const good[] = {"a@b.c", "Rider.One+bikes@example.com",
					   "x@localhost", "\xc3\xa9l\xc3\xa8ve@example.fr"};
	static const char *const bad[] = {"ab", "abc", "@b.c", "a@", "a@@b.c", "a@b@c",
					  "a b@c.d", "a@b\tc", "plainaddress"};
	struct valid v;
	const char *out = NULL;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		json_object *b = with_string("new_owner_email", good[i]);
		valid_init(&v);
		ck_assert_msg(valid_email(&v, b, "new_owner_email", VALID_REQUIRED, &out) == VALID_SET,
			      "%s refused", good[i]);
		ck_assert_str_eq(out, good[i]);
		valid_free(&v);
		json_object_put(b);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_object *b = with_string("new_owner_email", bad[i]);
		valid_init(&v);
		ck_assert_msg(valid_email(&v, b, "new_owner_email", VALID_REQUIRED, &out) == VALID_BAD,
			      "%s accepted", bad[i]);
		ck_assert_ptr_null(out);
		ck_assert_ptr_nonnull(problem(&v, "new_owner_email"));
		valid_free(&v);
		json_object_put(b);
	}

	/* trimmed */
	json_object *b = with_string("e", "  rider@example.com \n");
	valid_init(&v);
	ck_assert_int_eq(valid_email(&v, b, "e", 0, &out), VALID_SET);
	ck_assert_str_eq(out, "rider@example.com");
	valid_free(&v);
	json_object_put(b);

}
END_TEST

START_TEST(test_email_messages_and_length)
{
	struct valid v;
	const char *out = NULL;
	json_object *b;

	/* messages */
	b = J("{\"a\": \"a@@b.c\", \"b\": 5}");
	valid_init(&v);
	ck_assert_int_eq(valid_email(&v, b, "a", 0, &out), VALID_BAD);
	ck_problem(&v, "a", "must be an email address");
	ck_assert_int_eq(valid_email(&v, b, "b", 0, &out), VALID_BAD);
	ck_problem(&v, "b", "must be a string");
	ck_assert_int_eq(valid_email(&v, b, "c", VALID_REQUIRED, &out), VALID_BAD);
	ck_problem(&v, "c", "is required");
	valid_free(&v);
	json_object_put(b);

	/* 254 bytes ok, 255 not */
	char *local = repeat("a", 254 - 12);
	char addr[300];
	int w = snprintf(addr, sizeof(addr), "%s@example.com", local);
	ck_assert_int_eq(w, 254);
	b = with_string("e", addr);
	valid_init(&v);
	ck_assert_int_eq(valid_email(&v, b, "e", 0, &out), VALID_SET);
	valid_free(&v);
	json_object_put(b);
	w = snprintf(addr, sizeof(addr), "%sb@example.com", local);
	ck_assert_int_eq(w, 255);
	b = with_string("e", addr);
	valid_init(&v);
	ck_assert_int_eq(valid_email(&v, b, "e", 0, &out), VALID_BAD);
	ck_assert_ptr_nonnull(problem(&v, "e"));
	valid_free(&v);
	json_object_put(b);
	free(local);
}
END_TEST

/* ---- plain strings ---- */

START_TEST(test_is_uuid)
{
	static const char *const good[] = {"8f14e45f-ceea-467a-9af0-1b2c3d4e5f60",
					   "8F14E45F-CEEA-467A-9AF0-1B2C3D4E5F60",
					   "00000000-0000-0000-0000-000000000000"};
	static const char *const bad[] = {
		"",
		"8f14e45f-ceea-467a-9af0-1b2c3d4e5f6",   /* 35 */
		"8f14e45f-ceea-467a-9af0-1b2c3d4e5f600", /* 37 */
		"8f14e45fceea467a9af01b2c3d4e5f60",      /* no dashes */
		"8f14e45f-ceea-467a-9af0-1b2c3d4e5f6g",  /* not hex */
		"8f14e45f-ceea-467a-9af01-b2c3d4e5f60",  /* dash moved */
		"{8f14e45f-ceea-467a-9af0-1b2c3d4e5f60}",
		" 8f14e45f-ceea-467a-9af0-1b2c3d4e5f60",
		"8f14e45f-ceea-467a-9af0-1b2c3d4e5f60 ",
		"8f14e45f_ceea_467a_9af0_1b2c3d4e5f60",
		"active",
		"8f14e45f",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(valid_is_uuid(good[i]), "%s refused", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!valid_is_uuid(bad[i]), "\"%s\" accepted", bad[i]);
}
END_TEST

/* The cases of the former auth_is_uuid (auth.c now uses valid_is_uuid on token subs). */
START_TEST(test_is_uuid_token_sub)
{
	ck_assert(valid_is_uuid("8F14E45F-CEEA-467A-9AF0-1B2C3D4E5F60"));
	ck_assert(valid_is_uuid("8f14e45f-ceea-467a-9af0-1b2c3d4e5f60"));
	ck_assert(valid_is_uuid("00000000-0000-0000-0000-000000000000"));
	ck_assert(!valid_is_uuid(NULL)); /* a token without a string sub */
	ck_assert(!valid_is_uuid(""));
	ck_assert(!valid_is_uuid("8f14e45f-ceea-467a-9af0-1b2c3d4e5f6"));   /* short */
	ck_assert(!valid_is_uuid("8f14e45f-ceea-467a-9af0-1b2c3d4e5f600")); /* long */
	ck_assert(!valid_is_uuid("8f14e45fceea-467a-9af0-1b2c3d4e5f6000"));  /* dash moved */
	ck_assert(!valid_is_uuid("8f14e45f-ceea-467a-9af0-1b2c3d4e5g60"));  /* g */
	ck_assert(!valid_is_uuid("{8f14e45f-ceea-467a-9af0-1b2c3d4e5f6}"));
	ck_assert(!valid_is_uuid("8f14e45f ceea 467a 9af0 1b2c3d4e5f60"));
}
END_TEST

START_TEST(test_parse_int)
{
	long n = -7;

	ck_assert_int_eq(valid_parse_int("0", 0, 200, &n), 0);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(valid_parse_int("200", 1, 200, &n), 0);
	ck_assert_int_eq(n, 200);
	ck_assert_int_eq(valid_parse_int("1", 1, 200, &n), 0);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(valid_parse_int("50", 1, 200, &n), 0);
	ck_assert_int_eq(n, 50);

	static const char *const bad[] = {"201", "0", "-1", "+1", " 1", "1 ", "1a", "a", "",
					  "1.5", "1e2", "0x10", "99999999999999999999999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = -7;
		ck_assert_msg(valid_parse_int(bad[i], 1, 200, &n) != 0, "\"%s\" accepted", bad[i]);
		ck_assert_int_eq(n, -7); /* untouched on failure */
	}
	ck_assert_int_ne(valid_parse_int(NULL, 0, 10, &n), 0);
	ck_assert_int_eq(valid_parse_int("100000000", 0, 100000000, &n), 0);
	ck_assert_int_eq(n, 100000000);
	ck_assert_int_ne(valid_parse_int("100000001", 0, 100000000, &n), 0);
}
END_TEST

Suite *valid_suite(void)
{
	Suite *s = suite_create("valid");
	TCase *tc = tcase_create("fields");

	tcase_add_test(tc, test_valid_core);
	tcase_add_test(tc, test_string_trim);
	tcase_add_test(tc, test_string_utf8_length);
	tcase_add_test(tc, test_string_empty);
	tcase_add_test(tc, test_string_nul);
	tcase_add_test(tc, test_nullable_required);
	tcase_add_test(tc, test_wrong_types);
	tcase_add_test(tc, test_fields);
	tcase_add_test(tc, test_object_size);
	tcase_add_test(tc, test_metadata_limit_16k);
	tcase_add_test(tc, test_email);
	tcase_add_test(tc, test_email_messages_and_length);
	tcase_add_test(tc, test_is_uuid);
	tcase_add_test(tc, test_is_uuid_token_sub);
	tcase_add_test(tc, test_parse_int);
	suite_add_tcase(s, tc);
	return s;
}
