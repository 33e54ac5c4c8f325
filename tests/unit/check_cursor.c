/* Unit tests for cursor.c: the keyset cursors of the ride history. A cursor is accepted
 * exactly when next_cursor could have given it: "<us>.<uuid>", us within 1900..9999. */
#include <check.h>
#include <string.h>

#include "cursor.h"

Suite *cursor_suite(void); /* run by the unit test driver */

#define ID "0b6f2c1e-7d3a-4c5b-9e8f-1a2b3c4d5e6f"
/* rides.c keeps microseconds in a char[24] */
#define US_LEN 24

/* Parses s with the rides.c buffer; the id must point into s, right after the dot. */
static int parse(const char *s, char *us)
{
	const char *id = NULL;
	int rc = cursor_parse(s, us, US_LEN, &id);

	if (rc == 0) {
		ck_assert_ptr_eq(id, strchr(s, '.') + 1);
		ck_assert_str_eq(id, ID);
	} else {
		ck_assert_ptr_null(id);
	}
	return rc;
}

START_TEST(test_round_trip)
{
	char out[96], us[US_LEN];
	const char *id = NULL;

	ck_assert_int_eq(cursor_format(out, sizeof(out), "1705312800500000", ID), 0);
	ck_assert_str_eq(out, "1705312800500000." ID);
	ck_assert_int_eq(cursor_parse(out, us, sizeof(us), &id), 0);
	ck_assert_str_eq(us, "1705312800500000");
	ck_assert_str_eq(id, ID);
	ck_assert_ptr_eq(id, out + strlen("1705312800500000."));
}
END_TEST

START_TEST(test_round_trip_negative)
{
	char out[96], us[US_LEN];
	const char *id = NULL;

	/* 1969-12-31T23:59:59.5Z */
	ck_assert_int_eq(cursor_format(out, sizeof(out), "-500000", ID), 0);
	ck_assert_str_eq(out, "-500000." ID);
	ck_assert_int_eq(cursor_parse(out, us, sizeof(us), &id), 0);
	ck_assert_str_eq(us, "-500000");
	ck_assert_str_eq(id, ID);
}
END_TEST

START_TEST(test_zero_and_minus_zero)
{
	char us[US_LEN];

	ck_assert_int_eq(parse("0." ID, us), 0);
	ck_assert_str_eq(us, "0");
	ck_assert_int_eq(parse("-0." ID, us), 0);
	ck_assert_str_eq(us, "-0");
}
END_TEST

START_TEST(test_upper_bound)
{
	char us[US_LEN];

	/* 9999-12-31T23:59:59Z is the last time a cursor can carry */
	ck_assert_int_eq(parse("253402300799000000." ID, us), 0);
	ck_assert_str_eq(us, "253402300799000000");
	ck_assert_int_eq(parse("253402300799000001." ID, us), -1);
}
END_TEST

START_TEST(test_lower_bound)
{
	char us[US_LEN];

	/* 1900-01-01T00:00:00Z: no ride is older */
	ck_assert_int_eq(parse("-2208988800000000." ID, us), 0);
	ck_assert_str_eq(us, "-2208988800000000");
	ck_assert_int_eq(parse("-2208988800000001." ID, us), -1);
}
END_TEST

START_TEST(test_missing_dot)
{
	char us[US_LEN];

	ck_assert_int_eq(parse("1705312800500000", us), -1);
	ck_assert_int_eq(parse(ID, us), -1);
	ck_assert_int_eq(parse("1705312800500000" ID, us), -1);
}
END_TEST

START_TEST(test_bad_microseconds)
{
	char us[US_LEN];

	ck_assert_int_eq(parse("." ID, us), -1);
	ck_assert_int_eq(parse("-." ID, us), -1);
	ck_assert_int_eq(parse("--1." ID, us), -1);
	ck_assert_int_eq(parse("+1." ID, us), -1);
	ck_assert_int_eq(parse(" 1." ID, us), -1);
	ck_assert_int_eq(parse("1 ." ID, us), -1);
	ck_assert_int_eq(parse("1x." ID, us), -1);
	ck_assert_int_eq(parse("0x10." ID, us), -1);
	ck_assert_int_eq(parse("1e3." ID, us), -1);
	/* the first dot splits: "2.<id>" is no UUID */
	ck_assert_int_eq(parse("1.2." ID, us), -1);
}
END_TEST

START_TEST(test_bad_uuid)
{
	char us[US_LEN];
	const char *id = NULL;

	/* control: the same cursor with a good id passes */
	ck_assert_int_eq(parse("1." ID, us), 0);
	/* upper-case hex is still a UUID (parse() compares the id, so check it here) */
	ck_assert_int_eq(cursor_parse("1.0B6F2C1E-7D3A-4C5B-9E8F-1A2B3C4D5E6F", us, sizeof(us), &id), 0);
	ck_assert_str_eq(id, "0B6F2C1E-7D3A-4C5B-9E8F-1A2B3C4D5E6F");
	ck_assert_int_eq(parse("1.0b6f2c1e-7d3a-4c5b-9e8f-1a2b3c4d5e6g", us), -1);
	ck_assert_int_eq(parse("1.0b6f2c1e-7d3a-4c5b-9e8f-1a2b3c4d5e6", us), -1);
	ck_assert_int_eq(parse("1.0b6f2c1e-7d3a-4c5b-9e8f-1a2b3c4d5e6f0", us), -1);
	/* a hex digit where a dash belongs */
	ck_assert_int_eq(parse("1.0b6f2c1e07d3a-4c5b-9e8f-1a2b3c4d5e6f", us), -1);
	ck_assert_int_eq(parse("1." ID " ", us), -1);
	ck_assert_int_eq(parse("1.", us), -1);
}
END_TEST

START_TEST(test_too_long)
{
	char us[US_LEN];
	const char *id = NULL;

	/* 23 digits fill the 24-byte buffer with its NUL; 24 do not fit */
	ck_assert_int_eq(parse("00000000000000000000001." ID, us), 0);
	ck_assert_str_eq(us, "00000000000000000000001");
	ck_assert_int_eq(parse("000000000000000000000001." ID, us), -1);
	/* the same edge with a small buffer */
	ck_assert_int_eq(cursor_parse("123." ID, us, 4, &id), 0);
	ck_assert_str_eq(us, "123");
	id = NULL;
	ck_assert_int_eq(cursor_parse("1234." ID, us, 4, &id), -1);
	ck_assert_ptr_null(id);
	ck_assert_int_eq(cursor_parse("1." ID, us, 0, &id), -1);
}
END_TEST

START_TEST(test_empty_and_null)
{
	char us[US_LEN];
	const char *id = NULL;

	ck_assert_int_eq(parse("", us), -1);
	ck_assert_int_eq(cursor_parse(NULL, us, sizeof(us), &id), -1);
	ck_assert_ptr_null(id);
}
END_TEST

START_TEST(test_format_fits_exactly)
{
	/* "1." + 36 = 38 characters and the NUL */
	char out[39];

	ck_assert_int_eq(cursor_format(out, sizeof(out), "1", ID), 0);
	ck_assert_str_eq(out, "1." ID);
	ck_assert_int_eq(cursor_format(out, sizeof(out) - 1, "1", ID), -1);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(cursor_format(out, 0, "1", ID), -1);
	ck_assert_int_eq(cursor_format(out, sizeof(out), NULL, ID), -1);
	ck_assert_int_eq(cursor_format(out, sizeof(out), "1", NULL), -1);
}
END_TEST

Suite *cursor_suite(void)
{
	Suite *s = suite_create("cursor");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_round_trip_negative);
	tcase_add_test(tc, test_zero_and_minus_zero);
	tcase_add_test(tc, test_upper_bound);
	tcase_add_test(tc, test_lower_bound);
	tcase_add_test(tc, test_missing_dot);
	tcase_add_test(tc, test_bad_microseconds);
	tcase_add_test(tc, test_bad_uuid);
	tcase_add_test(tc, test_too_long);
	tcase_add_test(tc, test_empty_and_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("format");
	tcase_add_test(tc, test_format_fits_exactly);
	suite_add_tcase(s, tc);
	return s;
}
