/* Unit tests for valid.c's numbers (valid_number, valid_number_in) and the unit field. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "valid.h"

#define CHECK_UTIL_VALID /* J, problem, nproblems, ck_problem, TOL */
#include "check_util.h"

Suite *valid_numbers_suite(void); /* run by the unit test driver */

/* ---- numbers ---- */

START_TEST(test_number_ranges)
{
	struct valid v;
	json_object *b = J("{\"zero\": 0, \"small\": 0.001, \"max\": 100000, \"over\": 100000.5,"
			   " \"neg\": -0.1, \"int\": 42, \"big\": 12345678901234567890}");
	double d = -1;

	valid_init(&v);
	/* distance: > 0 and <= 100000 */
	ck_assert_int_eq(valid_number(&v, b, "zero", 0, 100000, 1, VALID_REQUIRED, &d), VALID_BAD);
	ck_problem(&v, "zero", "must be greater than 0 and at most 100000");
	ck_assert_int_eq(valid_number(&v, b, "small", 0, 100000, 1, 0, &d), VALID_SET);
	ck_assert_double_eq_tol(d, 0.001, TOL);
	ck_assert_int_eq(valid_number(&v, b, "max", 0, 100000, 1, 0, &d), VALID_SET);
	ck_assert_double_eq(d, 100000);
	ck_assert_int_eq(valid_number(&v, b, "over", 0, 100000, 1, 0, &d), VALID_BAD);
	ck_problem(&v, "over", "must be greater than 0 and at most 100000");
	ck_assert_int_eq(valid_number(&v, b, "int", 0, 100000, 1, 0, &d), VALID_SET);
	ck_assert_double_eq(d, 42);
	ck_assert_int_eq(valid_number(&v, b, "big", 0, 100000, 1, 0, &d), VALID_BAD);
	ck_assert_int_eq(nproblems(&v), 3);
	valid_free(&v);

	/* cost: >= 0, inclusive */
	valid_init(&v);
	ck_assert_int_eq(valid_number(&v, b, "zero", 0, 1000, 0, 0, &d), VALID_SET);
	ck_assert_double_eq(d, 0);
	ck_assert_int_eq(valid_number(&v, b, "neg", 0, 1000, 0, 0, &d), VALID_BAD);
	ck_problem(&v, "neg", "must be at least 0 and at most 1000");
	ck_assert_int_eq(valid_number(&v, b, "absent", 0, 1000, 0, 0, &d), VALID_ABSENT);
	ck_assert_double_eq(d, 0);
	valid_free(&v);
	json_object_put(b);
}
END_TEST

START_TEST(test_number_not_finite)
{
	/* JSON has no NaN or infinity; should one reach a validator, it is refused. */
	struct valid v;
	json_object *b = json_object_new_object();
	double d = -1;

	json_object_object_add(b, "nan", json_object_new_double(NAN));
	json_object_object_add(b, "inf", json_object_new_double(INFINITY));
	json_object_object_add(b, "ninf", json_object_new_double(-INFINITY));
	valid_init(&v);
	ck_assert_int_eq(valid_number(&v, b, "nan", -1e9, 1e9, 0, 0, &d), VALID_BAD);
	ck_assert_int_eq(valid_number(&v, b, "inf", -1e9, 1e9, 0, 0, &d), VALID_BAD);
	ck_assert_int_eq(valid_number(&v, b, "ninf", -1e9, 1e9, 0, 0, &d), VALID_BAD);
	ck_assert_int_eq(nproblems(&v), 3);
	ck_assert_ptr_nonnull(problem(&v, "nan"));
	valid_free(&v);
	json_object_put(b);

	/* a JSON number too large for a double parses as infinity: refused */
	b = J("{\"d\": 1e999}");
	valid_init(&v);
	ck_assert_int_eq(valid_number(&v, b, "d", 0, 1e300, 0, 0, &d), VALID_BAD);
	ck_assert_ptr_nonnull(problem(&v, "d"));
	valid_free(&v);
	json_object_put(b);
}
END_TEST

START_TEST(test_number_in)
{
	struct valid v;
	json_object *b = J("{\"low\": -1, \"ok\": 5, \"text\": \"5\"}");
	double d = -1;

	valid_init(&v);
	/* the caller's range text replaces the default one */
	ck_assert_int_eq(valid_number_in(&v, b, "low", 0, 10, 0, 0, &d, "must be 0 to 10 km"), VALID_BAD);
	ck_problem(&v, "low", "must be 0 to 10 km");
	ck_assert_double_eq(d, 0);
	ck_assert_int_eq(valid_number_in(&v, b, "ok", 0, 10, 1, 0, &d, "must be 0 to 10 km"), VALID_SET);
	ck_assert_double_eq(d, 5);
	/* only the range problem: a wrong type keeps its own text */
	ck_assert_int_eq(valid_number_in(&v, b, "text", 0, 10, 0, 0, &d, "must be 0 to 10 km"),
			 VALID_BAD);
	ck_problem(&v, "text", "must be a number");
	ck_assert_int_eq(valid_number_in(&v, b, "none", 0, 10, 0, VALID_REQUIRED, &d, "x"), VALID_BAD);
	ck_problem(&v, "none", "is required");
	ck_assert_int_eq(nproblems(&v), 3);
	valid_free(&v);
	/* NULL: the default text, as valid_number gives */
	valid_init(&v);
	ck_assert_int_eq(valid_number_in(&v, b, "low", 0, 10, 1, 0, &d, NULL), VALID_BAD);
	ck_problem(&v, "low", "must be greater than 0 and at most 10");
	valid_free(&v);
	json_object_put(b);
}
END_TEST

/* ---- unit ---- */

START_TEST(test_unit_field)
{
	struct valid v;
	json_object *b = J("{\"a\": \"mi\", \"b\": \"km\", \"c\": \"miles\", \"d\": 1, \"e\": null}");
	units_unit u = UNITS_MI;

	valid_init(&v);
	ck_assert_int_eq(valid_unit(&v, b, "absent", &u), VALID_ABSENT);
	ck_assert_int_eq(u, UNITS_KM);
	ck_assert_int_eq(valid_unit(&v, b, "a", &u), VALID_SET);
	ck_assert_int_eq(u, UNITS_MI);
	ck_assert_int_eq(valid_unit(&v, b, "b", &u), VALID_SET);
	ck_assert_int_eq(u, UNITS_KM);
	ck_assert(valid_ok(&v));
	ck_assert_int_eq(valid_unit(&v, b, "c", &u), VALID_BAD);
	ck_problem(&v, "c", "must be km or mi");
	ck_assert_int_eq(valid_unit(&v, b, "d", &u), VALID_BAD);
	ck_problem(&v, "d", "must be km or mi");
	ck_assert_int_eq(valid_unit(&v, b, "e", &u), VALID_BAD);
	ck_assert_ptr_nonnull(problem(&v, "e"));
	valid_free(&v);
	json_object_put(b);
}
END_TEST

Suite *valid_numbers_suite(void)
{
	Suite *s = suite_create("valid_numbers");
	TCase *tc = tcase_create("fields");

	tcase_add_test(tc, test_number_ranges);
	tcase_add_test(tc, test_number_not_finite);
	tcase_add_test(tc, test_number_in);
	tcase_add_test(tc, test_unit_field);
	suite_add_tcase(s, tc);
	return s;
}
