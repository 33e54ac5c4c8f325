/* Unit tests for the text writers (src/jtext.c, db_json_row_text): every answer they write must
 * be the bytes json-c writes for the tree db_json_row builds, so each case here is checked
 * against that tree rather than against a string written by hand. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_json.h"
#include "db_sql.h"
#include "jtext.h"
#define CHECK_UTIL_PGRESULT
#include "check_util.h"

Suite *db_json_text_suite(void); /* run by the unit test driver */

/* The rows of res both ways, in both units: the same bytes, and the text parses. */
static void same_both_ways(const PGresult *res)
{
	ck_assert_int_eq(db_json_text_ok(res, NULL), 1);
	for (int u = 0; u < 2; u++) {
		units_unit unit = u ? UNITS_MI : UNITS_KM;
		json_object *tree = db_json_rows(res, unit);
		struct jtext t;
		json_object *parsed;

		jtext_init(&t);
		db_json_rows_text(&t, res, unit);
		ck_assert_int_eq(t.failed, 0);
		ck_assert_str_eq(t.buf, json_object_to_json_string_ext(tree, JTEXT_FLAGS));
		parsed = json_tokener_parse(t.buf);
		ck_assert_msg(parsed != NULL, "does not parse: %s", t.buf);
		json_object_put(parsed);
		json_object_put(tree);
		jtext_free(&t);
	}
}

/* A part row as DB_PARTS_INSTALLED returns it, with every kind of column. */
static const struct col part_cols[] = {
	{"id", T_UUID}, {"created_at", T_TIMESTAMPTZ}, {"name", T_TEXT}, {"brand", T_TEXT},
	{"purchase_price", T_NUMERIC}, {"initial_kilometrage", T_NUMERIC},
	{"total_kilometrage", T_NUMERIC}, {"total_moving_time_s", T_INT8}, {"metadata", T_JSONB},
	{"is_active", T_BOOL}, {"installation.id", T_UUID},
	{"installation.installed_at", T_TIMESTAMPTZ}, {"_total", T_INT8}, {"installation.n", T_INT4},
	{"retired_at", T_TIMESTAMPTZ}, {"elevation_gain", T_FLOAT8}, {"cost_per_distance", T_NUMERIC},
	{"extra", T_JSON}};
#define PART_NCOLS ((int)(sizeof(part_cols) / sizeof(part_cols[0])))

START_TEST(test_rows_match_the_tree)
{
	const char *vals[] = {
		"0b6f0f3e-5a3c-4a57-9b7a-1f2e3d4c5b6a", "2024-01-15 10:00:00.5+00", "Chain \"X\" \\ / é",
		NULL, "12.50", "0", "1234.5678", "36000", "{}", "t",
		"9d1c2b3a-0000-4000-8000-000000000001", "2024-02-01 00:00:00+00", "7", "-3", NULL, "152.4",
		"0.0012345", "[1, 2.50, {\"a\": null}]",
		/* a second row: nulls where the first had values, big and odd numbers */
		"00000000-0000-4000-8000-000000000002", "2024-13", "tab\there\nnew\x01\x1f\x7f", "",
		NULL, "-0.0004", "99999999.9999", "-9223372036854775808", "{\"big\": 18446744073709551616, "
		"\"neg\": -9500000000000000000, \"s\": \"a/b\\u0000\", \"f\": 1.50e3}", "f", NULL, NULL,
		NULL, "0", "2024-03-04 05:06:07.123456+00", NULL, NULL, "null"};

	PGresult *res = make(part_cols, PART_NCOLS, vals, 2);
	same_both_ways(res);
	PQclear(res);
}
END_TEST

START_TEST(test_no_rows_and_empty_object)
{
	static const struct col one[] = {{"_total", T_INT8}};
	const char *vals[] = {"3"};
	PGresult *res = make(part_cols, PART_NCOLS, NULL, 0);

	same_both_ways(res);
	PQclear(res);
	res = make(one, 1, vals, 1);
	same_both_ways(res); /* {} : only our own column */
	PQclear(res);
}
END_TEST

/* Every byte but NUL inside a string, and in a key. */
START_TEST(test_every_byte_escaped_as_json_c_does)
{
	char s[256], key[64];
	struct col cols[2] = {{key, T_TEXT}, {"b", T_TEXT}};
	const char *vals[2] = {s, s + 100};
	PGresult *res;

	for (int i = 1; i < 256; i++)
		s[i - 1] = (char)i;
	s[255] = '\0';
	snprintf(key, sizeof(key), "k\"\\/\t%c", 1);
	res = make(cols, 2, vals, 1);
	same_both_ways(res);
	PQclear(res);
}
END_TEST

/* Random columns and values: pools of names (nested ones among them) and of values per type. */
static const char *pick(const char *const *pool, size_t n)
{
	return pool[(size_t)rand() % n];
}

START_TEST(test_random_rows_match_the_tree)
{
	static const struct col pool[] = {
		{"id", T_UUID}, {"name", T_TEXT}, {"distance", T_NUMERIC}, {"total_kilometrage", T_NUMERIC},
		{"cost", T_NUMERIC}, {"n", T_INT4}, {"ok", T_BOOL}, {"meta", T_JSONB}, {"at", T_TIMESTAMPTZ},
		{"elevation_gain", T_NUMERIC}, {"cost_per_distance", T_FLOAT8}, {"_x", T_INT8},
		{"s.distance", T_NUMERIC}, {"s.name", T_TEXT}, {"s.at", T_TIMESTAMPTZ}, {"j", T_JSON}};
	static const char *const texts[] = {"", "a", "ü\"\\", "x/y\n", "\x02z"};
	static const char *const nums[] = {"0", "1.0005", "-2.5", "123456789.123", "1e3", "0.00049"};
	static const char *const ints[] = {"0", "-1", "42", "007", "-0", "123456789012345678901"};
	static const char *const jsons[] = {"{}", "[]", "{\"a\": [1, 2]}", "3", "\"s\"", "1e400",
					    "{\"k\": 12345678901234567890}"};
	static const char *const times[] = {"2024-01-15 10:00:00+00", "2024-01-15 10:00:00.25+02", "x"};
	const int npool = (int)(sizeof(pool) / sizeof(pool[0]));

	srand(11);
	for (int iter = 0; iter < 400; iter++) {
		struct col cols[CHECK_MAXCOLS];
		const char *vals[CHECK_MAXCOLS * 3];
		int nc = 0, used[32] = {0};
		PGresult *res;

		/* distinct names in pool order keep the nested ones side by side */
		for (int i = 0; i < npool && nc < CHECK_MAXCOLS; i++)
			if (rand() % 2 && !used[i]) {
				used[i] = 1;
				cols[nc++] = pool[i];
			}
		for (int r = 0; r < 3; r++)
			for (int f = 0; f < nc; f++) {
				const char **v = &vals[r * nc + f];
				if (rand() % 5 == 0) {
					*v = NULL;
					continue;
				}
				switch (cols[f].typid) {
				case T_NUMERIC: case T_FLOAT8: *v = pick(nums, sizeof(nums) / sizeof(*nums)); break;
				case T_INT4: case T_INT8: *v = pick(ints, sizeof(ints) / sizeof(*ints)); break;
				case T_BOOL: *v = rand() % 2 ? "t" : "f"; break;
				case T_JSON: case T_JSONB: *v = pick(jsons, sizeof(jsons) / sizeof(*jsons)); break;
				case T_TIMESTAMPTZ: *v = pick(times, sizeof(times) / sizeof(*times)); break;
				default: *v = pick(texts, sizeof(texts) / sizeof(*texts)); break;
				}
			}
		res = make(cols, nc, vals, 3);
		same_both_ways(res);
		PQclear(res);
	}
}
END_TEST

/* Layouts where the tree is not a plain walk of the columns: refused, never written wrong. */
START_TEST(test_text_ok_refuses_what_only_the_tree_says)
{
	static const struct col dup[] = {{"a", T_TEXT}, {"a", T_TEXT}};
	static const struct col unit[] = {{"unit", T_TEXT}};
	static const struct col apart[] = {{"s.a", T_TEXT}, {"b", T_TEXT}, {"s.c", T_TEXT}};
	static const struct col plain_then_nested[] = {{"s", T_TEXT}, {"s.a", T_TEXT}};
	static const struct col nested_dup[] = {{"s.a", T_TEXT}, {"s.a", T_TEXT}};
	static const struct col fine[] = {{"s.a", T_TEXT}, {"_t", T_INT8}, {"s.b", T_TEXT}, {"x", T_TEXT}};
	/* the tree's "unit" string replaces a nested "unit" object in place */
	static const struct col unit_nested[] = {{"unit.x", T_TEXT}, {"distance", T_NUMERIC}};
	/* a member the caller adds after the row, as a column: the tree replaces it too */
	static const struct col member[] = {{"id", T_TEXT}, {"parts", T_TEXT}};
	static const struct col member_nested[] = {{"parts.a", T_TEXT}};
	static const struct col ours[] = {{"_parts", T_TEXT}, {"_unit", T_TEXT}, {"partsx", T_TEXT}};
	static const char *const extra[] = {"parts", "recent_maintenance", NULL};
	const struct {
		const struct col *cols;
		int n, ok;
	} cases[] = {{dup, 2, 0}, {unit, 1, 0}, {apart, 3, 0}, {plain_then_nested, 2, 0},
		     {nested_dup, 2, 0}, {fine, 4, 1}, {unit_nested, 2, 0}, {member, 2, 0},
		     {member_nested, 1, 0}, {ours, 3, 1}};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		PGresult *res = make(cases[i].cols, cases[i].n, NULL, 0);
		ck_assert_msg(db_json_text_ok(res, extra) == cases[i].ok, "case %zu", i);
		PQclear(res);
	}
}
END_TEST

/* The column names of a select list ("b.id, i.bike_id AS current_bike_id, ..."): what the
 * service's statements return, so a hot read never meets a refusal at run time. */
static int select_names(const char *list, char names[][64], int max)
{
	int n = 0;

	while (*list && n < max) {
		size_t len = strcspn(list, ",");
		char item[256], *as, *name;

		ck_assert_uint_lt(len, sizeof(item));
		memcpy(item, list, len);
		item[len] = '\0';
		list += len + (list[len] == ',');
		as = strstr(item, " AS ");
		name = as ? as + 4 : (strrchr(item, '.') ? strrchr(item, '.') + 1 : item);
		name += strspn(name, " \"");
		name[strcspn(name, "\" ")] = '\0';
		snprintf(names[n++], 64, "%s", name);
	}
	return n;
}

START_TEST(test_our_statements_are_written_as_text)
{
	static const char *const bike_members[] = {"parts", "recent_maintenance", NULL};
	static const char *const part_members[] = {"installations", "maintenance", NULL};
	const char *installed = DB_PARTS_INSTALLED("i.bike_id = $1");
	char parts_list[1024];
	const char *from = strstr(installed, " FROM ");
	const struct {
		const char *list;
		const char *const *extra;
		int min;
	} lists[] = {{DB_BIKE_COLS, bike_members, 10}, {DB_PART_COLS, part_members, 10},
		     {DB_MAINT_COLS, NULL, 10}, {DB_INST_COLS, NULL, 6}, {parts_list, NULL, 10}};

	ck_assert_ptr_nonnull(from);
	snprintf(parts_list, sizeof(parts_list), "%.*s", (int)(from - installed - 7), installed + 7);
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		char names[CHECK_MAXCOLS][64];
		struct col cols[CHECK_MAXCOLS];
		int n = select_names(lists[i].list, names, CHECK_MAXCOLS);
		PGresult *res;

		ck_assert_int_ge(n, lists[i].min);
		for (int f = 0; f < n; f++)
			cols[f] = (struct col){names[f], T_TEXT};
		res = make(cols, n, NULL, 0);
		ck_assert_msg(db_json_text_ok(res, lists[i].extra), "list %zu: %s", i, lists[i].list);
		PQclear(res);
	}
	/* and the nested one is there: "installation.id" */
	ck_assert_ptr_nonnull(strstr(parts_list, "installation.id"));
}
END_TEST

/* A row with nothing to show says so, so the caller's first member takes no comma. */
START_TEST(test_open_row_says_whether_it_wrote)
{
	static const struct col only_ours[] = {{"_total", T_INT8}};
	static const struct col one[] = {{"id", T_TEXT}};
	const char *vals[] = {"1"};
	PGresult *a = make(only_ours, 1, vals, 1), *b = make(one, 1, vals, 1);
	struct jtext t;

	jtext_init(&t);
	jtext_key(&t, "parts", !db_json_row_text(&t, a, 0, UNITS_KM, 0));
	jtext_str(&t, "[]}");
	ck_assert_str_eq(t.buf, "{\"parts\":[]}");
	jtext_free(&t);
	jtext_key(&t, "parts", !db_json_row_text(&t, b, 0, UNITS_KM, 0));
	jtext_str(&t, "[]}");
	ck_assert_str_eq(t.buf, "{\"id\":\"1\",\"parts\":[]}");
	jtext_free(&t);
	PQclear(a);
	PQclear(b);
}
END_TEST

START_TEST(test_jtext_grows_and_hands_over)
{
	struct jtext t;
	json_object *o, *outer;

	jtext_init(&t);
	for (int i = 0; i < 3000; i++)
		jtext_str(&t, i ? ",\"abc\"" : "[\"abc\"");
	jtext_char(&t, ']');
	ck_assert_int_eq(t.failed, 0);
	ck_assert_uint_eq(t.len, strlen(t.buf));
	ck_assert_uint_eq(t.len, 6 * 3000 + 1);
	o = jtext_json(&t);
	ck_assert_ptr_nonnull(o);
	ck_assert_ptr_null(t.buf); /* handed over */
	outer = json_object_new_object();
	json_object_object_add(outer, "x", o);
	ck_assert_uint_eq(strlen(json_object_to_json_string_ext(outer, JTEXT_FLAGS)), 6 * 3000 + 1 + 6);
	json_object_put(outer);
	/* a failed text hands over nothing */
	jtext_init(&t);
	jtext_str(&t, "x");
	t.failed = 1;
	ck_assert_ptr_null(jtext_json(&t));
}
END_TEST

Suite *db_json_text_suite(void)
{
	Suite *s = suite_create("db_json_text");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_rows_match_the_tree);
	tcase_add_test(tc, test_no_rows_and_empty_object);
	tcase_add_test(tc, test_every_byte_escaped_as_json_c_does);
	tcase_add_test(tc, test_random_rows_match_the_tree);
	tcase_add_test(tc, test_text_ok_refuses_what_only_the_tree_says);
	tcase_add_test(tc, test_our_statements_are_written_as_text);
	tcase_add_test(tc, test_open_row_says_whether_it_wrote);
	tcase_add_test(tc, test_jtext_grows_and_hands_over);
	suite_add_tcase(s, tc);
	return s;
}
