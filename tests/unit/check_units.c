/* Unit tests for units.c: km/mi conversion at the API edge, rounding to 3 decimals,
 * formatting without trailing zeros, and the exact JSON text of a distance. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "units.h"

Suite *units_suite(void); /* run by the unit test driver */

#define TOL 1e-9

/* ---- conversion ---- */

START_TEST(test_mi_to_km)
{
	/* 10.5 mi * 1.60934 = 16.89807 -> stored as 16.898 */
	ck_assert_double_eq_tol(units_to_km(10.5, UNITS_MI), 16.898, TOL);
	/* 500 mi = 804.67 km exactly at 3 decimals */
	ck_assert_double_eq_tol(units_to_km(500, UNITS_MI), 804.67, TOL);
	ck_assert_double_eq_tol(units_to_km(1, UNITS_MI), 1.609, TOL);
	ck_assert_double_eq_tol(units_to_km(0, UNITS_MI), 0, TOL);
}
END_TEST

START_TEST(test_km_to_km_rounds)
{
	/* km in km is only rounded */
	ck_assert_double_eq_tol(units_to_km(16.898, UNITS_KM), 16.898, TOL);
	ck_assert_double_eq_tol(units_to_km(12.34567, UNITS_KM), 12.346, TOL);
	ck_assert_double_eq_tol(units_from_km(12.34567, UNITS_KM), 12.346, TOL);
	ck_assert_double_eq_tol(units_from_km(42, UNITS_KM), 42, TOL);
}
END_TEST

START_TEST(test_km_shown_in_mi)
{
	/* 16.898 km * 0.621371 = 10.49993... -> shown as 10.5 */
	ck_assert_double_eq_tol(units_from_km(16.898, UNITS_MI), 10.5, TOL);
	/* 100 km = 62.1371 mi -> 62.137 */
	ck_assert_double_eq_tol(units_from_km(100, UNITS_MI), 62.137, TOL);
	/* the design's factors are not exact inverses (1.60934 * 0.621371 = 0.9999972):
	 * 500 mi is stored as 804.67 km and shown back as 499.999 mi */
	ck_assert_double_eq_tol(units_from_km(804.67, UNITS_MI), 499.999, TOL);
	ck_assert_double_eq_tol(units_from_km(0, UNITS_MI), 0, TOL);
}
END_TEST

START_TEST(test_round_trip_mi)
{
	/* A value entered in miles and shown in miles comes back within the rounding of the
	 * two 3-decimal steps plus the 2.8e-6 relative error of the design's factors. */
	static const double mi[] = {0.001, 0.5, 1, 10.5, 26.2, 99.999, 1234.5, 62137.1};
	for (size_t i = 0; i < sizeof(mi) / sizeof(mi[0]); i++) {
		double back = units_from_km(units_to_km(mi[i], UNITS_MI), UNITS_MI);
		ck_assert_msg(fabs(back - mi[i]) <= 0.0011 + mi[i] * 3e-6, "%g mi came back as %.6f",
			      mi[i], back);
	}
	/* the exact figures for one large value */
	ck_assert_double_eq_tol(units_to_km(62137.1, UNITS_MI), 99999.721, TOL);
	ck_assert_double_eq_tol(units_from_km(99999.721, UNITS_MI), 62136.927, TOL);
}
END_TEST

/* ---- rounding ---- */

START_TEST(test_round3)
{
	ck_assert_double_eq_tol(units_round3(1.23449), 1.234, TOL);
	ck_assert_double_eq_tol(units_round3(1.2345), 1.235, TOL); /* half away from zero */
	ck_assert_double_eq_tol(units_round3(2.0005), 2.001, TOL);
	ck_assert_double_eq_tol(units_round3(4.0005), 4.001, TOL); /* 4000.4999999999995 * 1e-3 */
	ck_assert_double_eq_tol(units_round3(-1.0005), -1.001, TOL);
	ck_assert_double_eq_tol(units_round3(0.0004), 0, TOL);
	ck_assert_double_eq_tol(units_round3(999999.9996), 1000000, TOL);
	ck_assert_double_eq_tol(units_round3(7), 7, TOL);
}
END_TEST

START_TEST(test_round3_no_negative_zero)
{
	double r = units_round3(-0.0001);
	ck_assert_double_eq(r, 0.0);
	ck_assert_int_eq(signbit(r), 0);
	r = units_round3(-0.0);
	ck_assert_int_eq(signbit(r), 0);
}
END_TEST

/* ---- formatting ---- */

static void fmt_is(double v, const char *want)
{
	char buf[64];
	memset(buf, 'X', sizeof(buf));
	ck_assert_int_eq(units_format(v, buf, sizeof(buf)), 0);
	ck_assert_msg(strcmp(buf, want) == 0, "units_format(%.6f) = \"%s\", want \"%s\"", v, buf,
		      want);
}

START_TEST(test_format_trims_zeros)
{
	fmt_is(12.5, "12.5");
	fmt_is(3, "3");
	fmt_is(0, "0");
	fmt_is(12.50, "12.5");
	fmt_is(0.1, "0.1");
	fmt_is(0.01, "0.01");
	fmt_is(0.001, "0.001");
	fmt_is(10, "10"); /* the zero before the point stays */
	fmt_is(100.05, "100.05");
	fmt_is(1000000, "1000000");
}
END_TEST

START_TEST(test_format_rounds)
{
	fmt_is(1234.5678, "1234.568");
	fmt_is(2.0005, "2.001");
	fmt_is(4.0005, "4.001");
	fmt_is(0.0004, "0");
	fmt_is(9.9996, "10");
	fmt_is(-2.5, "-2.5");
	fmt_is(-0.0, "0");
	fmt_is(-0.0004, "0"); /* never "-0" */
}
END_TEST

START_TEST(test_format_small_buffer)
{
	char buf[8];
	/* the %.3f text is formatted before trimming: "12345.500" needs 10 bytes */
	ck_assert_int_eq(units_format(12345.5, buf, 5), -1);
	ck_assert_int_eq(units_format(1.5, buf, sizeof(buf)), 0); /* "1.500" fits in 8 */
	ck_assert_str_eq(buf, "1.5");
	ck_assert_int_eq(units_format(1.5, buf, 5), -1); /* "1.500" + NUL = 6 */
}
END_TEST

/* The printf form units_format had before its fast path: the two must agree everywhere. */
static void format_by_printf(double v, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%.3f", units_round3(v));
	char *dot = strchr(buf, '.'), *end = buf + n - 1;

	ck_assert(n > 0 && (size_t)n < len);
	while (dot && end > dot && *end == '0')
		*end-- = '\0';
	if (dot && end == dot)
		*end = '\0';
	if (strcmp(buf, "-0") == 0)
		memcpy(buf, "0", 2);
}

START_TEST(test_format_same_as_printf)
{
	static const double scale[] = {1e-4, 1e-3, 0.01, 1, 10, 1000, 1e6, 1e9, 9.99e11, 2e12};
	char got[64], want[64];

	srand(5);
	for (int i = 0; i < 200000; i++) {
		double s = scale[i % 10], v = ((double)rand() / RAND_MAX - 0.5) * 2 * s;
		if (i % 7 == 0) /* on a half-thousandth: where rounding decides */
			v = (double)(rand() % 2000001 - 1000000) / 1000.0 + 0.0005;
		if (i % 11 == 0)
			v = (double)(rand() % 100000) / 8.0; /* exact binary fractions */
		ck_assert_int_eq(units_format(v, got, sizeof(got)), 0);
		format_by_printf(v, want, sizeof(want));
		ck_assert_msg(strcmp(got, want) == 0, "%.17g: %s, printf %s", v, got, want);
	}
}
END_TEST

/* ---- parsing and names ---- */

START_TEST(test_parse)
{
	units_unit u = (units_unit)42;

	ck_assert_int_eq(units_parse("km", &u), 0);
	ck_assert_int_eq(u, UNITS_KM);
	ck_assert_int_eq(units_parse("mi", &u), 0);
	ck_assert_int_eq(u, UNITS_MI);
	u = UNITS_MI;
	ck_assert_int_eq(units_parse(NULL, &u), 0); /* absent: the default */
	ck_assert_int_eq(u, UNITS_KM);

	static const char *const bad[] = {"", "KM", "Mi", "miles", "kms", "m", "km ", " mi",
					  "kilometres", "k"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		u = UNITS_MI;
		ck_assert_msg(units_parse(bad[i], &u) == -1, "units_parse(\"%s\") accepted", bad[i]);
	}
}
END_TEST

START_TEST(test_name)
{
	ck_assert_str_eq(units_name(UNITS_KM), "km");
	ck_assert_str_eq(units_name(UNITS_MI), "mi");
}
END_TEST

/* ---- JSON ---- */

static void json_is(double km, units_unit u, const char *want, double want_value)
{
	json_object *o = units_json(km, u);
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(json_object_get_type(o), json_type_double);
	ck_assert_msg(strcmp(json_object_to_json_string(o), want) == 0,
		      "units_json(%g, %s) printed %s, want %s", km, units_name(u),
		      json_object_to_json_string(o), want);
	ck_assert_double_eq_tol(json_object_get_double(o), want_value, TOL);
	json_object_put(o);
}

START_TEST(test_json_exact)
{
	json_is(16.898, UNITS_MI, "10.5", 10.5);
	json_is(16.898, UNITS_KM, "16.898", 16.898);
	json_is(100, UNITS_KM, "100", 100);
	json_is(100, UNITS_MI, "62.137", 62.137);
	json_is(0, UNITS_KM, "0", 0);
	json_is(0.1, UNITS_KM, "0.1", 0.1);
	json_is(1.0 / 3.0, UNITS_KM, "0.333", 0.333);
	json_is(12.5, UNITS_KM, "12.5", 12.5);
}
END_TEST

START_TEST(test_json_in_object)
{
	/* Inside an object the number is printed the same way (no "10.500000000000002"). */
	json_object *o = json_object_new_object();
	json_object_object_add(o, "total_kilometrage", units_json(16.898, UNITS_MI));
	json_object_object_add(o, "initial", units_json(3, UNITS_KM));
	ck_assert_str_eq(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
			 "{\"total_kilometrage\":10.5,\"initial\":3}");
	json_object_put(o);
}
END_TEST

/* ---- cost per distance ---- */

static void per_is(double per_km, units_unit u, const char *want, double want_value)
{
	json_object *o = units_per_distance_json(per_km, u);
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(json_object_get_type(o), json_type_double);
	ck_assert_msg(strcmp(json_object_to_json_string(o), want) == 0,
		      "units_per_distance_json(%.17g, %s) printed %s, want %s", per_km, units_name(u),
		      json_object_to_json_string(o), want);
	ck_assert_double_eq_tol(json_object_get_double(o), want_value, TOL);
	json_object_put(o);
}

START_TEST(test_per_distance_km)
{
	per_is(1, UNITS_KM, "1", 1);
	per_is(0, UNITS_KM, "0", 0);
	per_is(0.25, UNITS_KM, "0.25", 0.25);
	per_is(1.4875, UNITS_KM, "1.4875", 1.4875);
	per_is(10.0 / 3.0, UNITS_KM, "3.3333", 3.3333);
	per_is(2.0 / 3.0, UNITS_KM, "0.6667", 0.6667);   /* rounded, not cut */
	per_is(0.00005, UNITS_KM, "0.0001", 0.0001);      /* half away from zero */
	per_is(0.00004, UNITS_KM, "0", 0);
	per_is(1e12, UNITS_KM, "1000000000000", 1e12);   /* 1e9 over 1 m */
}
END_TEST

START_TEST(test_per_distance_mi)
{
	/* 1 per km is 1 / 0.621371 = 1.60934.. per mi */
	per_is(1, UNITS_MI, "1.6093", 1.6093);
	per_is(0, UNITS_MI, "0", 0);
	per_is(1.4875, UNITS_MI, "2.3939", 2.3939);
	per_is(7.3, UNITS_MI, "11.7482", 11.7482);
	per_is(0.621371, UNITS_MI, "1", 1);
	per_is(10.0 / 3.0, UNITS_MI, "5.3645", 5.3645);
}
END_TEST

START_TEST(test_per_distance_in_object)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "cost_per_distance", units_per_distance_json(1, UNITS_MI));
	ck_assert_str_eq(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
			 "{\"cost_per_distance\":1.6093}");
	json_object_put(o);
}
END_TEST

Suite *units_suite(void)
{
	Suite *s = suite_create("units");
	TCase *tc = tcase_create("convert");

	tcase_add_test(tc, test_mi_to_km);
	tcase_add_test(tc, test_km_to_km_rounds);
	tcase_add_test(tc, test_km_shown_in_mi);
	tcase_add_test(tc, test_round_trip_mi);
	tcase_add_test(tc, test_round3);
	tcase_add_test(tc, test_round3_no_negative_zero);
	suite_add_tcase(s, tc);

	tc = tcase_create("format");
	tcase_add_test(tc, test_format_trims_zeros);
	tcase_add_test(tc, test_format_rounds);
	tcase_add_test(tc, test_format_small_buffer);
	tcase_add_test(tc, test_format_same_as_printf);
	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_name);
	tcase_add_test(tc, test_json_exact);
	tcase_add_test(tc, test_json_in_object);
	tcase_add_test(tc, test_per_distance_km);
	tcase_add_test(tc, test_per_distance_mi);
	tcase_add_test(tc, test_per_distance_in_object);
	suite_add_tcase(s, tc);
	return s;
}
