/* Unit tests for valid.c's dates and RFC 3339 timestamps. Time is fixed (NOW), never the
 * clock. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "valid.h"

#define CHECK_UTIL_VALID /* J, nproblems, ck_problem */
#include "check_util.h"

Suite *valid_time_suite(void); /* run by the unit test driver */

/* 2024-01-01T10:00:00Z */
#define NOW ((time_t)1704103200)

/* ---- dates ---- */

START_TEST(test_dates)
{
	static const char *const good[] = {"2024-02-29", "2000-02-29", "2023-12-31", "2023-01-01",
					   "1900-01-01", "2023-04-30"};
	static const char *const bad[] = {"2023-02-29", "1900-02-29", "2024-13-01", "2024-00-10",
					  "2024-01-00", "2024-01-32", "2023-04-31", "2024-1-01",
					  "2024-01-1", "24-01-01", "2024/01/01", "2024-01-01T00:00:00Z",
					  "2024-01-01 ", " 2024-01-01", "20240101", "", "abcd-ef-gh",
					  "+2024-01-01", "2024-02-3x", "1899-12-31"};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(valid_is_date(good[i]), "%s refused", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!valid_is_date(bad[i]), "%s accepted", bad[i]);

	struct valid v;
	json_object *b = J("{\"a\": \"2024-02-29\", \"b\": \"2023-02-29\", \"c\": \"2024-13-01\","
			   " \"d\": \"2024-1-01\", \"e\": 20240101, \"f\": null}");
	const char *out = NULL;

	valid_init(&v);
	ck_assert_int_eq(valid_date(&v, b, "a", 0, &out), VALID_SET);
	ck_assert_str_eq(out, "2024-02-29");
	ck_assert_int_eq(valid_date(&v, b, "b", 0, &out), VALID_BAD);
	ck_assert_ptr_null(out);
	ck_problem(&v, "b", "must be a date YYYY-MM-DD");
	ck_assert_int_eq(valid_date(&v, b, "c", 0, &out), VALID_BAD);
	ck_problem(&v, "c", "must be a date YYYY-MM-DD");
	ck_assert_int_eq(valid_date(&v, b, "d", 0, &out), VALID_BAD);
	ck_problem(&v, "d", "must be a date YYYY-MM-DD");
	ck_assert_int_eq(valid_date(&v, b, "e", 0, &out), VALID_BAD);
	ck_problem(&v, "e", "must be a date YYYY-MM-DD");
	ck_assert_int_eq(valid_date(&v, b, "f", VALID_NULLABLE, &out), VALID_NULL);
	ck_assert_int_eq(nproblems(&v), 4);
	valid_free(&v);
	json_object_put(b);
}
END_TEST

/* ---- timestamps ---- */

static void ts_is(const char *s, double want)
{
	double e = -12345;
	ck_assert_msg(valid_parse_timestamp(s, &e) == 0, "%s refused", s);
	ck_assert_msg(fabs(e - want) < 1e-6, "%s -> %.6f, want %.6f", s, e, want);
}

START_TEST(test_timestamp_parse)
{
	ts_is("2024-01-01T10:00:00Z", 1704103200);
	ts_is("2024-01-01T12:00:00+02:00", 1704103200);
	ts_is("2024-01-01T05:30:00-04:30", 1704103200);
	ts_is("2024-01-01T10:00:00+00:00", 1704103200);
	ts_is("2024-01-01T10:00:00-00:00", 1704103200);
	ts_is("2024-01-01t10:00:00z", 1704103200);
	ts_is("2024-01-01T10:00:00.5Z", 1704103200.5);
	ts_is("2024-01-01T10:00:00.250+02:00", 1704103200.25 - 7200);
	ts_is("2024-01-01T10:00:00.123456789Z", 1704103200.123456789);
	ts_is("2024-02-29T00:00:00Z", 1709164800);
	ts_is("2000-03-01T00:00:00Z", 951868800);
	ts_is("1970-01-01T00:00:00Z", 0);
	ts_is("1969-12-31T23:59:59Z", -1);
	ts_is("2024-01-01T00:30:00+01:00", 1704067200 - 1800); /* the day before in UTC */
}
END_TEST

START_TEST(test_timestamp_bad)
{
	static const char *const bad[] = {
		"2024-01-01T10:00:00",         /* no offset */
		"2024-01-01T10:00:00.5",       /* no offset */
		"2024-01-01",                  /* a date */
		"2024-01-01T10:00Z",           /* no seconds */
		"2024-01-01T10:00:00+0200",    /* offset without colon */
		"2024-01-01T10:00:00+02",      /* short offset */
		"2024-01-01T10:00:00+24:00",   /* offset hour */
		"2024-01-01T10:00:00+02:60",   /* offset minute */
		"2024-01-01T10:00:00.Z",       /* empty fraction */
		"2024-01-01T10:00:00.1234567890Z", /* over 9 digits */
		"2024-01-01T10:00:00Z ",       /* trailing text */
		"2024-01-01T10:00:00ZZ",
		" 2024-01-01T10:00:00Z",
		"2024-01-01X10:00:00Z",
		"2024-01-01T24:00:00Z",
		"2024-01-01T10:60:00Z",
		"2024-01-01T10:00:60Z",
		"2023-02-29T10:00:00Z", /* not a calendar date */
		"2024-13-01T10:00:00Z",
		"2024-1-01T10:00:00Z",
		"2024-01-01T1:00:00Z",
		"",
		"Z",
		"now",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		double e = 0;
		ck_assert_msg(valid_parse_timestamp(bad[i], &e) != 0, "\"%s\" accepted", bad[i]);
	}
}
END_TEST

START_TEST(test_timestamp_future_window)
{
	struct valid v;
	json_object *b = J("{\"ok\": \"2024-01-01T10:05:00Z\", \"ok2\": \"2024-01-01T12:05:00+02:00\","
			   " \"late\": \"2024-01-01T10:05:01Z\", \"late2\": \"2024-01-01T10:05:00.001Z\","
			   " \"past\": \"2000-01-01T00:00:00Z\", \"nooff\": \"2024-01-01T10:00:00\","
			   " \"num\": 1704103200, \"nul\": null}");
	const char *out = NULL;
	double e = 0;

	valid_init(&v);
	/* exactly now + 5 minutes: ok */
	ck_assert_int_eq(valid_timestamp(&v, b, "ok", NOW, 0, &out, &e), VALID_SET);
	ck_assert_str_eq(out, "2024-01-01T10:05:00Z");
	ck_assert_double_eq_tol(e, (double)NOW + 300, 1e-6);
	ck_assert_int_eq(valid_timestamp(&v, b, "ok2", NOW, 0, &out, &e), VALID_SET);
	ck_assert_double_eq_tol(e, (double)NOW + 300, 1e-6);
	ck_assert_int_eq(valid_timestamp(&v, b, "past", NOW, 0, &out, &e), VALID_SET);
	ck_assert_double_eq_tol(e, 946684800, 1e-6);
	ck_assert(valid_ok(&v));
	/* one second, or one millisecond, later: refused */
	ck_assert_int_eq(valid_timestamp(&v, b, "late", NOW, 0, &out, &e), VALID_BAD);
	ck_assert_ptr_null(out);
	ck_problem(&v, "late", "must not be in the future");
	ck_assert_int_eq(valid_timestamp(&v, b, "late2", NOW, 0, &out, &e), VALID_BAD);
	ck_problem(&v, "late2", "must not be in the future");
	/* the same text is fine an hour later */
	ck_assert_int_eq(valid_timestamp(&v, b, "late", NOW + 3600, 0, &out, &e), VALID_SET);
	/* form */
	ck_assert_int_eq(valid_timestamp(&v, b, "nooff", NOW, 0, &out, &e), VALID_BAD);
	ck_problem(&v, "nooff", "must be an RFC 3339 timestamp with an offset");
	ck_assert_int_eq(valid_timestamp(&v, b, "num", NOW, 0, &out, &e), VALID_BAD);
	ck_problem(&v, "num", "must be an RFC 3339 timestamp with an offset");
	ck_assert_int_eq(valid_timestamp(&v, b, "nul", NOW, VALID_NULLABLE, &out, &e), VALID_NULL);
	ck_assert_int_eq(valid_timestamp(&v, b, "absent", NOW, 0, &out, &e), VALID_ABSENT);
	ck_assert_int_eq(nproblems(&v), 4);
	valid_free(&v);
	json_object_put(b);
}
END_TEST

Suite *valid_time_suite(void)
{
	Suite *s = suite_create("valid_time");
	TCase *tc = tcase_create("fields");

	tcase_add_test(tc, test_dates);
	tcase_add_test(tc, test_timestamp_parse);
	tcase_add_test(tc, test_timestamp_bad);
	tcase_add_test(tc, test_timestamp_future_window);
	suite_add_tcase(s, tc);
	return s;
}
