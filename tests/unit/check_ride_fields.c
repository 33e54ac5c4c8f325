/* Unit tests for ride_fields.c (a ride's fields for a new ride, an edit and a batch: their
 * limits on both sides, the stored form in km and metres) and the elevation conversion of
 * units.c. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ride_fields.h"
#include "rules.h"
#include "units.h"
#include "valid.h"

#define CHECK_UTIL_VALID /* J, problem, nproblems, ck_problem, repeat, TOL */
#include "check_util.h"

Suite *ride_fields_suite(void); /* run by the unit test driver */

/* The stored fields of body, or NULL with the problems left in *v (initialised here). */
static json_object *fields(struct valid *v, const char *body, units_unit u, enum ride_fields_mode m)
{
	json_object *b = J(body), *out;

	valid_init(v);
	out = ride_fields_check(v, b, u, time(NULL), m);
	json_object_put(b);
	return out;
}

/* The stored field's JSON text ("16.093"), or "(absent)". */
static const char *text_of(json_object *o, const char *field)
{
	json_object *f;

	if (!json_object_object_get_ex(o, field, &f))
		return "(absent)";
	return f ? json_object_to_json_string(f) : "null";
}

START_TEST(test_new_ride_stored_form)
{
	struct valid v;
	json_object *o = fields(&v, "{\"distance\": 10, \"unit\": \"mi\", \"elevation_gain\": 1000,"
				" \"moving_time_s\": 3600, \"ride_type\": \"indoor\", \"source\": \" strava \","
				" \"external_id\": \"a-1\", \"notes\": null, \"logged_at\": null}",
				UNITS_MI, RIDE_FIELDS_NEW);

	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(text_of(o, "distance"), "16.093");      /* km, 3 decimals */
	ck_assert_str_eq(text_of(o, "elevation_gain"), "304.800"); /* 1000 ft in metres */
	ck_assert_str_eq(text_of(o, "moving_time_s"), "3600");
	ck_assert_str_eq(text_of(o, "ride_type"), "\"indoor\"");
	ck_assert_str_eq(text_of(o, "source"), "\"strava\""); /* trimmed */
	ck_assert_str_eq(text_of(o, "external_id"), "\"a-1\"");
	/* a null in a new ride is the same as leaving it out */
	ck_assert_str_eq(text_of(o, "notes"), "(absent)");
	ck_assert_str_eq(text_of(o, "logged_at"), "(absent)");
	json_object_put(o);
	valid_free(&v);
}
END_TEST

START_TEST(test_moving_time_limits)
{
	static const char *const good[] = {"0", "604800", "60.0"};
	static const char *const bad[] = {"-1", "604801", "1.5", "\"60\"", "true"};
	char body[96];
	struct valid v;
	json_object *o;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ck_assert_int_gt(snprintf(body, sizeof(body), "{\"distance\": 1, \"moving_time_s\": %s}", good[i]), 0);
		o = fields(&v, body, UNITS_KM, RIDE_FIELDS_NEW);
		ck_assert_msg(o != NULL, "%s refused", good[i]);
		json_object_put(o);
		valid_free(&v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_gt(snprintf(body, sizeof(body), "{\"distance\": 1, \"moving_time_s\": %s}", bad[i]), 0);
		ck_assert_ptr_null(fields(&v, body, UNITS_KM, RIDE_FIELDS_NEW));
		ck_assert_msg(problem(&v, "moving_time_s") != NULL, "%s taken", bad[i]);
		valid_free(&v);
	}
}
END_TEST

START_TEST(test_elevation_limits_in_m_and_ft)
{
	struct valid v;
	json_object *o = fields(&v, "{\"distance\": 1, \"elevation_gain\": 100000}", UNITS_KM, RIDE_FIELDS_NEW);

	ck_assert_ptr_nonnull(o);
	json_object_put(o);
	valid_free(&v);
	ck_assert_ptr_null(fields(&v, "{\"distance\": 1, \"elevation_gain\": 100000.1}", UNITS_KM, RIDE_FIELDS_NEW));
	ck_assert_ptr_nonnull(problem(&v, "elevation_gain"));
	valid_free(&v);
	ck_assert_ptr_null(fields(&v, "{\"distance\": 1, \"elevation_gain\": -0.1}", UNITS_KM, RIDE_FIELDS_NEW));
	valid_free(&v);
	/* 328083.9 ft = 99999.973 m; 328084 ft = 100000.0432 m */
	o = fields(&v, "{\"distance\": 1, \"elevation_gain\": 328083.9}", UNITS_MI, RIDE_FIELDS_NEW);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(text_of(o, "elevation_gain"), "99999.973");
	json_object_put(o);
	valid_free(&v);
	ck_assert_ptr_null(fields(&v, "{\"distance\": 1, \"elevation_gain\": 328084}", UNITS_MI, RIDE_FIELDS_NEW));
	ck_assert_ptr_nonnull(problem(&v, "elevation_gain"));
	valid_free(&v);
}
END_TEST

START_TEST(test_source_and_external_id)
{
	struct valid v;
	char body[512];
	char *s51 = repeat("s", 51), *e256 = repeat("e", 256);

	ck_assert_ptr_null(fields(&v, "{\"distance\": 1, \"external_id\": \"x\"}", UNITS_KM, RIDE_FIELDS_NEW));
	ck_problem(&v, "external_id", "requires source");
	valid_free(&v);
	ck_assert_ptr_null(fields(&v, "{\"distance\": 1, \"source\": null, \"external_id\": \"x\"}", UNITS_KM,
				  RIDE_FIELDS_NEW));
	ck_problem(&v, "external_id", "requires source");
	valid_free(&v);
	ck_assert_int_gt(snprintf(body, sizeof(body), "{\"distance\": 1, \"source\": \"%s\", \"external_id\": \"%s\"}",
				  s51, e256), 0);
	ck_assert_ptr_null(fields(&v, body, UNITS_KM, RIDE_FIELDS_NEW));
	ck_assert_ptr_nonnull(problem(&v, "source"));
	ck_assert_ptr_nonnull(problem(&v, "external_id"));
	ck_assert_int_eq(nproblems(&v), 2);
	valid_free(&v);
	ck_assert_ptr_null(fields(&v, "{\"distance\": 1, \"source\": \"\"}", UNITS_KM, RIDE_FIELDS_NEW));
	ck_assert_ptr_nonnull(problem(&v, "source"));
	valid_free(&v);
	free(s51);
	free(e256);
}
END_TEST

START_TEST(test_edit_fields)
{
	struct valid v;
	json_object *o = fields(&v, "{\"notes\": null, \"moving_time_s\": null, \"unit\": \"km\"}", UNITS_KM,
				RIDE_FIELDS_EDIT);

	/* an edit keeps a null: it clears the field */
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(text_of(o, "notes"), "null");
	ck_assert_str_eq(text_of(o, "moving_time_s"), "null");
	ck_assert_str_eq(text_of(o, "distance"), "(absent)");
	json_object_put(o);
	valid_free(&v);
	ck_assert_ptr_null(fields(&v, "{\"distance\": null, \"logged_at\": null, \"ride_type\": null,"
				  " \"source\": \"x\", \"external_id\": \"y\", \"bike_id\": \"z\", \"colour\": 1}",
				  UNITS_KM, RIDE_FIELDS_EDIT));
	ck_problem(&v, "distance", "must not be null");
	ck_problem(&v, "logged_at", "must not be null");
	ck_problem(&v, "ride_type", "must not be null");
	ck_problem(&v, "source", "read-only field");
	ck_problem(&v, "external_id", "read-only field");
	ck_problem(&v, "bike_id", "read-only field");
	ck_problem(&v, "colour", "unknown field");
	valid_free(&v);
}
END_TEST

START_TEST(test_batch_ride)
{
	struct valid v;
	json_object *o;

	ck_assert_ptr_null(fields(&v, "{\"distance\": 1, \"unit\": \"mi\"}", UNITS_KM, RIDE_FIELDS_BATCH));
	ck_problem(&v, "bike_id", "is required");
	ck_problem(&v, "source", "is required");
	ck_problem(&v, "external_id", "is required");
	ck_problem(&v, "unit", "unknown field"); /* the batch's unit is the whole batch's */
	valid_free(&v);
	ck_assert_ptr_null(fields(&v, "{\"bike_id\": \"nope\", \"distance\": 1, \"source\": \"g\", \"external_id\": \"1\"}",
				  UNITS_KM, RIDE_FIELDS_BATCH));
	ck_problem(&v, "bike_id", "must be a UUID");
	valid_free(&v);
	o = fields(&v, "{\"bike_id\": \"2eed1f60-d3ab-4887-851d-5902f0783284\", \"distance\": 1,"
		   " \"source\": \"g\", \"external_id\": \"1\"}", UNITS_KM, RIDE_FIELDS_BATCH);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(text_of(o, "bike_id"), "(absent)"); /* the batch item carries it */
	json_object_put(o);
	valid_free(&v);
}
END_TEST

START_TEST(test_elevation_shown_in_m_and_ft)
{
	static const struct {
		double m;
		units_unit u;
		const char *want;
	} cases[] = {
		{304.8, UNITS_MI, "1000.0"}, {304.8, UNITS_KM, "304.8"}, {0, UNITS_MI, "0.0"},
		{376.123, UNITS_MI, "1234.0"}, /* 1234 ft stored to the millimetre comes back */
		{100000, UNITS_KM, "100000.0"}, {152.45, UNITS_KM, "152.5"}, /* half away from zero */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_object *j = units_elevation_json(cases[i].m, cases[i].u);
		ck_assert_str_eq(json_object_to_json_string(j), cases[i].want);
		json_object_put(j);
	}
	ck_assert_double_eq_tol(units_elevation_to_m(1000, UNITS_MI), 304.8, TOL);
	ck_assert_double_eq_tol(units_elevation_to_m(1234, UNITS_MI), 376.123, TOL);
	ck_assert_double_eq_tol(units_elevation_to_m(12.3456, UNITS_KM), 12.346, TOL);
}
END_TEST

Suite *ride_fields_suite(void)
{
	Suite *s = suite_create("ride_fields");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_new_ride_stored_form);
	tcase_add_test(tc, test_moving_time_limits);
	tcase_add_test(tc, test_elevation_limits_in_m_and_ft);
	tcase_add_test(tc, test_source_and_external_id);
	tcase_add_test(tc, test_edit_fields);
	tcase_add_test(tc, test_batch_ride);
	tcase_add_test(tc, test_elevation_shown_in_m_and_ft);
	suite_add_tcase(s, tc);
	return s;
}
