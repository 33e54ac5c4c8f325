/* Unit tests for db_json.c: query results and JSON our SQL built, made into the API's shape.
 * PGresults are built in memory (PQmakeEmptyPGresult), so no server is needed. Expected
 * distances in mi are km * UNITS_KM_TO_MI (0.621371) rounded to 3 decimals. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "db_json.h"
#define CHECK_UTIL_PGRESULT
#include "check_util.h"

Suite *db_json_suite(void); /* run by the unit test driver */

/* The one row of a one-row result as JSON text; frees both. */
static void expect_row(const struct col *cols, int ncols, const char *const *vals, units_unit u,
		       const char *want)
{
	PGresult *res = make(cols, ncols, vals, 1);
	json_object *o = db_json_row(res, 0, u);

	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), want);
	json_object_put(o);
	PQclear(res);
}

/* db_json_api on the JSON text in, compared as JSON text; in must parse. */
static void expect_api(const char *in, units_unit u, const char *want)
{
	json_object *o = db_json_parse(in);

	ck_assert_ptr_nonnull(o);
	db_json_api(o, u);
	ck_assert_str_eq(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), want);
	json_object_put(o);
}

static const struct col distance_cols[] = {
	{"id", T_UUID},
	{"total_kilometrage", T_NUMERIC},
	{"initial_kilometrage", T_NUMERIC},
	{"distance", T_FLOAT8},
	{"kilometrage_since_last_maintenance", T_NUMERIC},
	{"replacement_threshold", T_NUMERIC},
	{"credited_distance", T_NUMERIC},
};

START_TEST(test_row_distances_mi)
{
	static const char *const vals[] = {"b1", "100", "16.898", "42.195", "1.5", "3000", "0.001"};

	/* 62.1371 -> 62.137; 10.499927 -> 10.5; 26.218749 -> 26.219; 0.9320565 -> 0.932;
	 * 1864.113; 0.000621 -> 0.001 */
	expect_row(distance_cols, 7, vals, UNITS_MI,
		   "{\"id\":\"b1\",\"total_kilometrage\":62.137,\"initial_kilometrage\":10.5,"
		   "\"distance\":26.219,\"kilometrage_since_last_maintenance\":0.932,"
		   "\"replacement_threshold\":1864.113,\"credited_distance\":0.001,\"unit\":\"mi\"}");
}
END_TEST

START_TEST(test_row_distances_km)
{
	static const char *const vals[] = {"b1", "100.000", "12.34567", "0.0004", "0", "2500.50", "7"};

	/* km stays km, rounded to 3 decimals and printed without trailing zeros */
	expect_row(distance_cols, 7, vals, UNITS_KM,
		   "{\"id\":\"b1\",\"total_kilometrage\":100,\"initial_kilometrage\":12.346,"
		   "\"distance\":0,\"kilometrage_since_last_maintenance\":0,"
		   "\"replacement_threshold\":2500.5,\"credited_distance\":7,\"unit\":\"km\"}");
}
END_TEST

START_TEST(test_row_other_numbers_not_converted)
{
	static const struct col cols[] = {
		{"cost", T_NUMERIC}, {"distance_limit", T_NUMERIC}, {"days", T_FLOAT8}};
	static const char *const vals[] = {"100", "100", "2.5"};

	/* only the whole distance column names convert; no distance, no "unit" */
	expect_row(cols, 3, vals, UNITS_MI, "{\"cost\":100,\"distance_limit\":100,\"days\":2.5}");
}
END_TEST

START_TEST(test_row_mixed_one_unit)
{
	static const struct col cols[] = {
		{"cost", T_NUMERIC}, {"distance", T_NUMERIC}, {"total_kilometrage", T_NUMERIC}};
	static const char *const vals[] = {"100", "100", "804.67"};

	expect_row(cols, 3, vals, UNITS_MI,
		   "{\"cost\":100,\"distance\":62.137,\"total_kilometrage\":499.999,\"unit\":\"mi\"}");
}
END_TEST

START_TEST(test_row_booleans)
{
	static const struct col cols[] = {{"is_active", T_BOOL}, {"needs_replacement", T_BOOL}};
	static const char *const vals[] = {"t", "f"};

	expect_row(cols, 2, vals, UNITS_KM, "{\"is_active\":true,\"needs_replacement\":false}");
}
END_TEST

START_TEST(test_row_integers)
{
	static const struct col cols[] = {
		{"total", T_INT8}, {"big", T_INT8}, {"neg", T_INT4}, {"small", T_INT2}};
	/* 2^53 + 1: not representable as a double, so it must stay an integer */
	static const char *const vals[] = {"0", "9007199254740993", "-42", "7"};

	expect_row(cols, 4, vals, UNITS_MI,
		   "{\"total\":0,\"big\":9007199254740993,\"neg\":-42,\"small\":7}");
}
END_TEST

/* Columns named with a leading underscore are the service's own (a page's "_total"). */
START_TEST(test_row_underscore_columns_left_out)
{
	static const struct col cols[] = {{"id", T_INT4}, {"_total", T_INT8}, {"name_", T_TEXT}};
	static const char *const vals[] = {"1", "57", "x"};

	expect_row(cols, 3, vals, UNITS_KM, "{\"id\":1,\"name_\":\"x\"}");
}
END_TEST

START_TEST(test_row_timestamps)
{
	static const struct col cols[] = {
		{"logged_at", T_TIMESTAMPTZ}, {"created_at", T_TIMESTAMPTZ}, {"odd_at", T_TIMESTAMPTZ}};
	static const char *const vals[] = {
		"2024-01-15 10:00:00.5+00", "1899-12-31 23:59:59+00", "2024-01-15 10:00:00+02"};

	/* the session is UTC, so "+00" is the normal case; another offset keeps its text */
	expect_row(cols, 3, vals, UNITS_KM,
		   "{\"logged_at\":\"2024-01-15T10:00:00.5Z\",\"created_at\":\"1899-12-31T23:59:59Z\","
		   "\"odd_at\":\"2024-01-15T10:00:00+02\"}");
}
END_TEST

START_TEST(test_row_json_parsed)
{
	static const struct col cols[] = {
		{"metadata", T_JSONB}, {"body", T_JSON}, {"text", T_TEXT}, {"broken", T_JSONB}};
	static const char *const vals[] = {
		"{\"distance\": 100, \"tags\": [1, \"x\", null]}", "[true, {\"a\": 1.50}]",
		"{\"not\": \"parsed\"}", "{"};

	/* JSON inside a row is not rewritten: the distance in metadata stays, and no "unit" */
	expect_row(cols, 4, vals, UNITS_MI,
		   "{\"metadata\":{\"distance\":100,\"tags\":[1,\"x\",null]},\"body\":[true,{\"a\":1.50}],"
		   "\"text\":\"{\\\"not\\\": \\\"parsed\\\"}\",\"broken\":null}");
}
END_TEST

START_TEST(test_row_nulls)
{
	static const struct col cols[] = {
		{"name", T_TEXT}, {"distance", T_NUMERIC}, {"is_active", T_BOOL}, {"metadata", T_JSONB},
		{"logged_at", T_TIMESTAMPTZ}, {"total", T_INT8}, {"total_kilometrage", T_NUMERIC}};
	static const char *const vals[] = {NULL, NULL, NULL, NULL, NULL, NULL, "100"};

	expect_row(cols, 7, vals, UNITS_MI,
		   "{\"name\":null,\"distance\":null,\"is_active\":null,\"metadata\":null,"
		   "\"logged_at\":null,\"total\":null,\"total_kilometrage\":62.137,\"unit\":\"mi\"}");
}
END_TEST

START_TEST(test_row_empty_text_is_not_null)
{
	static const struct col cols[] = {{"notes", T_TEXT}};
	static const char *const vals[] = {""};

	expect_row(cols, 1, vals, UNITS_KM, "{\"notes\":\"\"}");
}
END_TEST

START_TEST(test_row_dotted_names_nest)
{
	static const struct col cols[] = {
		{"id", T_TEXT}, {"current_bike.id", T_TEXT}, {"current_bike.name", T_TEXT},
		{"name", T_TEXT}, {"last.id", T_TEXT}};
	static const char *const vals[] = {"p1", "b1", "Road", "Chain", NULL};

	expect_row(cols, 5, vals, UNITS_KM,
		   "{\"id\":\"p1\",\"current_bike\":{\"id\":\"b1\",\"name\":\"Road\"},\"name\":\"Chain\","
		   "\"last\":{\"id\":null}}");
}
END_TEST

START_TEST(test_rows)
{
	static const struct col cols[] = {{"id", T_TEXT}, {"distance", T_NUMERIC}};
	static const char *const vals[] = {"r1", "100", "r2", "1.5"};
	PGresult *res = make(cols, 2, vals, 2);
	json_object *a = db_json_rows(res, UNITS_MI);

	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN),
			 "[{\"id\":\"r1\",\"distance\":62.137,\"unit\":\"mi\"},"
			 "{\"id\":\"r2\",\"distance\":0.932,\"unit\":\"mi\"}]");
	json_object_put(a);
	PQclear(res);
}
END_TEST

START_TEST(test_rows_empty)
{
	static const struct col cols[] = {{"id", T_TEXT}};
	PGresult *res = make(cols, 1, NULL, 0);
	json_object *a = db_json_rows(res, UNITS_MI);

	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN), "[]");
	json_object_put(a);
	PQclear(res);
}
END_TEST

START_TEST(test_api_nested)
{
	expect_api("{\"id\":\"r1\",\"total_kilometrage\":100,\"created_at\":\"2024-01-15T10:00:00+00:00\","
		   "\"bike\":{\"distance\":42.195,\"logged_at\":\"2024-01-15T10:00:00.5+00:00\"},"
		   "\"items\":[{\"distance\":1.5},{\"name\":\"n\"},[{\"credited_distance\":3000}]]}",
		   UNITS_MI,
		   "{\"id\":\"r1\",\"total_kilometrage\":62.137,\"created_at\":\"2024-01-15T10:00:00Z\","
		   "\"bike\":{\"distance\":26.219,\"logged_at\":\"2024-01-15T10:00:00.5Z\",\"unit\":\"mi\"},"
		   "\"items\":[{\"distance\":0.932,\"unit\":\"mi\"},{\"name\":\"n\"},"
		   "[{\"credited_distance\":1864.113,\"unit\":\"mi\"}]],\"unit\":\"mi\"}");
}
END_TEST

START_TEST(test_api_km_rounds)
{
	expect_api("{\"initial_kilometrage\":12.34567,\"kilometrage_since_last_maintenance\":0,"
		   "\"replacement_threshold\":2500.500}",
		   UNITS_KM,
		   "{\"initial_kilometrage\":12.346,\"kilometrage_since_last_maintenance\":0,"
		   "\"replacement_threshold\":2500.5,\"unit\":\"km\"}");
}
END_TEST

START_TEST(test_api_every_distance_key)
{
	expect_api("{\"total_kilometrage\":100,\"initial_kilometrage\":16.898,\"distance\":42.195,"
		   "\"kilometrage_since_last_maintenance\":1.5,\"replacement_threshold\":3000,"
		   "\"credited_distance\":0.001,\"distance_km\":100}",
		   UNITS_MI,
		   "{\"total_kilometrage\":62.137,\"initial_kilometrage\":10.5,\"distance\":26.219,"
		   "\"kilometrage_since_last_maintenance\":0.932,\"replacement_threshold\":1864.113,"
		   "\"credited_distance\":0.001,\"distance_km\":100,\"unit\":\"mi\"}");
}
END_TEST

START_TEST(test_api_only_numbers_convert)
{
	/* a distance that is not a number (or null) is left as it is, and brings no "unit" */
	expect_api("{\"distance\":\"100\",\"total_kilometrage\":null,\"credited_distance\":true}", UNITS_MI,
		   "{\"distance\":\"100\",\"total_kilometrage\":null,\"credited_distance\":true}");
}
END_TEST

START_TEST(test_api_times)
{
	expect_api("{\"logged_at\":\"2024-01-15T10:00:00+00:00\",\"odd_at\":\"2024-01-15T12:00:00+02:00\","
		   "\"when\":\"2024-01-15T10:00:00+00:00\",\"n_at\":5,\"z_at\":\"2024-01-15T10:00:00Z\","
		   "\"short_at\":\"+00:00\"}",
		   UNITS_MI,
		   "{\"logged_at\":\"2024-01-15T10:00:00Z\",\"odd_at\":\"2024-01-15T12:00:00+02:00\","
		   "\"when\":\"2024-01-15T10:00:00+00:00\",\"n_at\":5,\"z_at\":\"2024-01-15T10:00:00Z\","
		   "\"short_at\":\"+00:00\"}");
}
END_TEST

START_TEST(test_api_metadata_untouched)
{
	/* metadata is the user's: its distance and times are theirs, at any depth */
	expect_api("{\"metadata\":{\"distance\":100,\"seen_at\":\"2024-01-15T10:00:00+00:00\","
		   "\"inner\":{\"total_kilometrage\":5}},"
		   "\"bike\":{\"metadata\":{\"distance\":1},\"distance\":100},\"part\":{\"metadata\":null}}",
		   UNITS_MI,
		   "{\"metadata\":{\"distance\":100,\"seen_at\":\"2024-01-15T10:00:00+00:00\","
		   "\"inner\":{\"total_kilometrage\":5}},"
		   "\"bike\":{\"metadata\":{\"distance\":1},\"distance\":62.137,\"unit\":\"mi\"},"
		   "\"part\":{\"metadata\":null}}");
}
END_TEST

START_TEST(test_api_top_array_and_scalars)
{
	json_object *n = json_object_new_int(100);

	expect_api("[{\"distance\":100},{\"distance\":1.5},7,\"x\"]", UNITS_MI,
		   "[{\"distance\":62.137,\"unit\":\"mi\"},{\"distance\":0.932,\"unit\":\"mi\"},7,\"x\"]");
	/* a bare number is no distance: it has no key */
	db_json_api(n, UNITS_MI);
	ck_assert_int_eq(json_object_get_int(n), 100);
	json_object_put(n);
	db_json_api(NULL, UNITS_MI);
}
END_TEST

/* n nested arrays: "[[...]]" */
static char *nested(int n)
{
	char *s = malloc((size_t)n * 2 + 1);

	ck_assert_ptr_nonnull(s);
	memset(s, '[', (size_t)n);
	memset(s + n, ']', (size_t)n);
	s[n * 2] = '\0';
	return s;
}

START_TEST(test_parse_valid)
{
	json_object *o = db_json_parse("{\"a\": [1, 2.50, \"x\"], \"b\": null}");

	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
			 "{\"a\":[1,2.50,\"x\"],\"b\":null}");
	json_object_put(o);
}
END_TEST

START_TEST(test_parse_invalid)
{
	ck_assert_ptr_null(db_json_parse("{"));
	ck_assert_ptr_null(db_json_parse("{\"a\":}"));
	ck_assert_ptr_null(db_json_parse("[1, 2"));
	ck_assert_ptr_null(db_json_parse("tru"));
	ck_assert_ptr_null(db_json_parse(""));
}
END_TEST

START_TEST(test_parse_deeper_than_bodies)
{
	/* a body may nest BODY_MAX_DEPTH levels; the database wraps it in more */
	static const int ok[] = {BODY_MAX_DEPTH, BODY_MAX_DEPTH + 1, BODY_MAX_DEPTH + 32};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char *s = nested(ok[i]);
		json_object *o = db_json_parse(s);
		ck_assert_msg(o != NULL, "%d levels refused", ok[i]);
		json_object_put(o);
		free(s);
	}
}
END_TEST

START_TEST(test_parse_depth_limit)
{
	/* still bounded: one level past BODY_MAX_DEPTH + 32 is refused */
	char *s = nested(BODY_MAX_DEPTH + 33);

	ck_assert_ptr_null(db_json_parse(s));
	free(s);
}
END_TEST

/*
 * Issue 9: an integer beyond 64 bits (jsonb prints -9.5e18 as -9500000000000000000; a legacy
 * row may hold 1e300 as 301 digits) comes back verbatim, not clamped to INT64_MIN/UINT64_MAX.
 */
START_TEST(test_parse_big_integers_verbatim)
{
	static const char *const same[] = {
		"{\"a\":-9500000000000000000}",
		"{\"a\":[18446744073709551616,-9223372036854775809,{\"b\":99999999999999999999999}]}",
		"[1,-9223372036854775808,18446744073709551615,9223372036854775807,0,-0.5]",
		"{\"s\":\"-9500000000000000000\",\"t\":\"x\\\"99999999999999999999\\\\\",\"u\":1e0}",
		"{\"e\":-9500000000000000000.0,\"f\":1.5e30}",
	};
	char big[400];
	json_object *o, *v;

	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		o = db_json_parse(same[i]);
		ck_assert_msg(o != NULL, "%s not parsed", same[i]);
		ck_assert_str_eq(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), same[i]);
		json_object_put(o);
	}
	/* What fits stays an integer json-c can do arithmetic with. */
	o = db_json_parse("{\"a\":-9223372036854775808,\"b\":18446744073709551615}");
	ck_assert(json_object_object_get_ex(o, "a", &v) && json_object_is_type(v, json_type_int));
	ck_assert(json_object_get_int64(v) == INT64_MIN);
	ck_assert(json_object_object_get_ex(o, "b", &v) && json_object_is_type(v, json_type_int));
	ck_assert(json_object_get_uint64(v) == UINT64_MAX);
	json_object_put(o);
	/* A 301-digit integer (1e300 as jsonb prints it), with spaces as jsonb writes them. */
	memcpy(big, "{\"n\": 1", 7);
	memset(big + 7, '0', 300);
	memcpy(big + 307, "}", 2);
	o = db_json_parse(big);
	ck_assert_ptr_nonnull(o);
	ck_assert(json_object_object_get_ex(o, "n", &v));
	ck_assert_uint_eq(strlen(json_object_to_json_string(v)), 301);
	ck_assert_int_eq(strncmp(json_object_to_json_string(v), big + 6, 301), 0);
	json_object_put(o);
}
END_TEST

/* The same through a row's json and jsonb columns, where metadata comes from. */
START_TEST(test_row_big_integers_verbatim)
{
	static const struct col cols[] = {{"metadata", T_JSONB}, {"body", T_JSON}};
	static const char *const vals[] = {"{\"a\": -9500000000000000000, \"b\": [1, 2]}",
					   "[99999999999999999999]"};

	expect_row(cols, 2, vals, UNITS_KM,
		   "{\"metadata\":{\"a\":-9500000000000000000,\"b\":[1,2]},\"body\":[99999999999999999999]}");
}
END_TEST

Suite *db_json_suite(void)
{
	Suite *s = suite_create("db_json");
	TCase *tc = tcase_create("row");

	tcase_add_test(tc, test_row_distances_mi);
	tcase_add_test(tc, test_row_underscore_columns_left_out);
	tcase_add_test(tc, test_row_distances_km);
	tcase_add_test(tc, test_row_other_numbers_not_converted);
	tcase_add_test(tc, test_row_mixed_one_unit);
	tcase_add_test(tc, test_row_booleans);
	tcase_add_test(tc, test_row_integers);
	tcase_add_test(tc, test_row_timestamps);
	tcase_add_test(tc, test_row_json_parsed);
	tcase_add_test(tc, test_row_nulls);
	tcase_add_test(tc, test_row_empty_text_is_not_null);
	tcase_add_test(tc, test_row_dotted_names_nest);
	tcase_add_test(tc, test_rows);
	tcase_add_test(tc, test_rows_empty);
	suite_add_tcase(s, tc);

	tc = tcase_create("api");
	tcase_add_test(tc, test_api_nested);
	tcase_add_test(tc, test_api_km_rounds);
	tcase_add_test(tc, test_api_every_distance_key);
	tcase_add_test(tc, test_api_only_numbers_convert);
	tcase_add_test(tc, test_api_times);
	tcase_add_test(tc, test_api_metadata_untouched);
	tcase_add_test(tc, test_api_top_array_and_scalars);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_test(tc, test_parse_valid);
	tcase_add_test(tc, test_parse_invalid);
	tcase_add_test(tc, test_parse_deeper_than_bodies);
	tcase_add_test(tc, test_parse_depth_limit);
	tcase_add_test(tc, test_parse_big_integers_verbatim);
	tcase_add_test(tc, test_row_big_integers_verbatim);
	suite_add_tcase(s, tc);
	return s;
}
