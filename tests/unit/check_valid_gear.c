/* Unit tests for valid_enum and gear.c (the shared bike/part rules of api-notes), which
 * validates with the same enum list. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gear.h"
#include "rules.h"
#include "valid.h"

#define CHECK_UTIL_VALID /* J, problem, nproblems, ck_problem, repeat, TOL */
#include "check_util.h"

Suite *valid_gear_suite(void); /* run by the unit test driver */

/* ---- enum ---- */

static const char *const types[] = {"road", "mountain", "gravel", NULL};

START_TEST(test_enum)
{
	struct valid v;
	json_object *b = J("{\"a\": \"gravel\", \"b\": \"Road\", \"c\": 3, \"d\": \"\", \"e\": null,"
			   " \"f\": \" road\"}");
	const char *out = NULL;

	valid_init(&v);
	ck_assert_int_eq(valid_enum(&v, b, "a", types, VALID_REQUIRED, &out), VALID_SET);
	ck_assert_str_eq(out, "gravel");
	ck_assert(valid_ok(&v));
	ck_assert_int_eq(valid_enum(&v, b, "b", types, 0, &out), VALID_BAD); /* case matters */
	ck_assert_ptr_null(out);
	ck_problem(&v, "b", "must be one of: road, mountain, gravel");
	ck_assert_int_eq(valid_enum(&v, b, "c", types, 0, &out), VALID_BAD);
	ck_problem(&v, "c", "must be one of: road, mountain, gravel");
	ck_assert_int_eq(valid_enum(&v, b, "d", types, 0, &out), VALID_BAD);
	ck_problem(&v, "d", "must be one of: road, mountain, gravel");
	ck_assert_int_eq(valid_enum(&v, b, "f", types, 0, &out), VALID_BAD); /* not trimmed */
	ck_assert_int_eq(valid_enum(&v, b, "e", types, VALID_NULLABLE, &out), VALID_NULL);
	ck_assert_int_eq(valid_enum(&v, b, "zz", types, 0, &out), VALID_ABSENT);
	ck_assert_int_eq(valid_enum(&v, b, "zz", types, VALID_REQUIRED, &out), VALID_BAD);
	ck_problem(&v, "zz", "is required");
	valid_free(&v);
	json_object_put(b);
}
END_TEST

/* ---- gear ---- */

static void gear(struct valid *v, const char *text, int patch, struct gear_input *in,
		 json_object **body)
{
	*body = J(text);
	valid_init(v);
	gear_validate(v, *body, types, patch, in);
}

START_TEST(test_gear_create_required)
{
	struct valid v;
	struct gear_input in;
	json_object *b;

	gear(&v, "{}", 0, &in, &b);
	ck_assert_int_eq(nproblems(&v), 2);
	ck_problem(&v, "name", "is required");
	ck_problem(&v, "type", "is required");
	ck_assert_int_eq(in.r_name, VALID_BAD);
	ck_assert_int_eq(in.r_type, VALID_BAD);
	valid_free(&v);
	json_object_put(b);

	gear(&v, "{\"name\": \"Commuter\"}", 0, &in, &b);
	ck_assert_int_eq(nproblems(&v), 1);
	ck_problem(&v, "type", "is required");
	valid_free(&v);
	json_object_put(b);

	gear(&v, "{\"name\": null, \"type\": null}", 0, &in, &b);
	ck_problem(&v, "name", "is required");
	ck_problem(&v, "type", "is required");
	valid_free(&v);
	json_object_put(b);
}
END_TEST

START_TEST(test_gear_create_ok)
{
	struct valid v;
	struct gear_input in;
	json_object *b, *p;

	gear(&v,
	     "{\"name\": \"  Commuter \", \"type\": \"road\", \"brand\": \"Trek\", \"model\": \" \","
	     " \"purchase_date\": \"2024-02-29\", \"initial_kilometrage\": 120.5,"
	     " \"metadata\": {\"replacement_threshold_km\": 5000, \"colour\": \"red\"}}",
	     0, &in, &b);
	ck_assert_msg(valid_ok(&v), "unexpected problems: %s",
		      json_object_to_json_string(v.details));
	ck_assert_str_eq(in.name, "Commuter");
	ck_assert_str_eq(in.type, "road");
	ck_assert_str_eq(in.brand, "Trek");
	ck_assert_int_eq(in.r_model, VALID_NULL); /* blank model: no model */
	ck_assert_str_eq(in.purchase_date, "2024-02-29");
	ck_assert_int_eq(in.r_initial, VALID_SET);
	ck_assert_double_eq_tol(in.initial_km, 120.5, TOL);
	ck_assert_int_eq(in.unit, UNITS_KM);
	ck_assert_int_eq(in.r_metadata, VALID_SET);
	ck_assert_ptr_nonnull(in.metadata);

	p = gear_patch_json(&in);
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN),
			 "{\"name\":\"Commuter\",\"type\":\"road\",\"brand\":\"Trek\",\"model\":null,"
			 "\"purchase_date\":\"2024-02-29\",\"initial_kilometrage\":\"120.500\","
			 "\"metadata\":{\"replacement_threshold_km\":5000,\"colour\":\"red\"}}");
	json_object_put(p);
	valid_free(&v);
	json_object_put(b);
}
END_TEST

START_TEST(test_gear_patch_optional)
{
	struct valid v;
	struct gear_input in;
	json_object *b, *p;

	gear(&v, "{}", 1, &in, &b);
	ck_assert(valid_ok(&v));
	ck_assert_int_eq(in.r_name, VALID_ABSENT);
	ck_assert_int_eq(in.r_type, VALID_ABSENT);
	ck_assert_int_eq(in.r_brand, VALID_ABSENT);
	ck_assert_int_eq(in.r_model, VALID_ABSENT);
	ck_assert_int_eq(in.r_date, VALID_ABSENT);
	ck_assert_int_eq(in.r_initial, VALID_ABSENT);
	ck_assert_int_eq(in.r_metadata, VALID_ABSENT);
	p = gear_patch_json(&in);
	ck_assert_str_eq(json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN), "{}");
	json_object_put(p);
	valid_free(&v);
	json_object_put(b);

	/* brand, model, purchase_date may be null: they are cleared */
	gear(&v, "{\"brand\": null, \"model\": \"\", \"purchase_date\": null}", 1, &in, &b);
	ck_assert_msg(valid_ok(&v), "unexpected problems: %s",
		      json_object_to_json_string(v.details));
	ck_assert_int_eq(in.r_brand, VALID_NULL);
	ck_assert_int_eq(in.r_model, VALID_NULL);
	ck_assert_int_eq(in.r_date, VALID_NULL);
	p = gear_patch_json(&in);
	ck_assert_str_eq(json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN),
			 "{\"brand\":null,\"model\":null,\"purchase_date\":null}");
	json_object_put(p);
	valid_free(&v);
	json_object_put(b);

	/* one field alone */
	gear(&v, "{\"name\": \"New name\"}", 1, &in, &b);
	ck_assert(valid_ok(&v));
	ck_assert_int_eq(in.r_name, VALID_SET);
	ck_assert_str_eq(in.name, "New name");
	valid_free(&v);
	json_object_put(b);

	/* name and type may not be null, nor empty */
	gear(&v, "{\"name\": null, \"type\": null}", 1, &in, &b);
	ck_assert_int_eq(nproblems(&v), 2);
	ck_problem(&v, "name", "must not be null");
	ck_problem(&v, "type", "must not be null");
	valid_free(&v);
	json_object_put(b);
	gear(&v, "{\"name\": \" \"}", 1, &in, &b);
	ck_problem(&v, "name", "must not be empty");
	valid_free(&v);
	json_object_put(b);
}
END_TEST

START_TEST(test_gear_readonly_fields)
{
	static const char *const ro[] = {"id", "user_id", "created_at", "updated_at",
					 "total_kilometrage"};
	for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++) {
		struct valid v;
		struct gear_input in;
		json_object *b = json_object_new_object();

		json_object_object_add(b, ro[i], json_object_new_int(1));
		valid_init(&v);
		gear_validate(&v, b, types, 1, &in);
		ck_assert_int_eq(nproblems(&v), 1);
		ck_problem(&v, ro[i], "read-only field");
		valid_free(&v);
		json_object_put(b);
	}
}
END_TEST

START_TEST(test_gear_initial_mileage_alias)
{
	struct valid v;
	struct gear_input in;
	json_object *b, *p;

	gear(&v, "{\"initial_mileage\": 500, \"unit\": \"mi\"}", 1, &in, &b);
	ck_assert_msg(valid_ok(&v), "unexpected problems: %s",
		      json_object_to_json_string(v.details));
	ck_assert_int_eq(in.unit, UNITS_MI);
	ck_assert_int_eq(in.r_initial, VALID_SET);
	ck_assert_double_eq_tol(in.initial_km, 804.67, TOL);
	p = gear_patch_json(&in);
	ck_assert_str_eq(json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN),
			 "{\"initial_kilometrage\":\"804.670\"}");
	json_object_put(p);
	valid_free(&v);
	json_object_put(b);

	/* the alias in km */
	gear(&v, "{\"initial_mileage\": 12.3456}", 1, &in, &b);
	ck_assert(valid_ok(&v));
	ck_assert_double_eq_tol(in.initial_km, 12.346, TOL);
	valid_free(&v);
	json_object_put(b);

	/* canonical name with unit mi */
	gear(&v, "{\"initial_kilometrage\": 10.5, \"unit\": \"mi\"}", 1, &in, &b);
	ck_assert(valid_ok(&v));
	ck_assert_double_eq_tol(in.initial_km, 16.898, TOL);
	valid_free(&v);
	json_object_put(b);

	/* alias with a bad value is reported under the alias */
	gear(&v, "{\"initial_mileage\": \"500\"}", 1, &in, &b);
	ck_assert_int_eq(nproblems(&v), 1);
	ck_problem(&v, "initial_mileage", "must be a number");
	valid_free(&v);
	json_object_put(b);
}
END_TEST

START_TEST(test_gear_both_initial_fields)
{
	struct valid v;
	struct gear_input in;
	json_object *b;

	gear(&v, "{\"initial_kilometrage\": 10, \"initial_mileage\": 10}", 1, &in, &b);
	ck_assert(!valid_ok(&v));
	ck_problem(&v, "initial_mileage", "give initial_kilometrage or initial_mileage, not both");
	valid_free(&v);
	json_object_put(b);
}
END_TEST

START_TEST(test_gear_initial_range)
{
	struct valid v;
	struct gear_input in;
	json_object *b;

	gear(&v, "{\"initial_kilometrage\": 1000000}", 1, &in, &b);
	ck_assert(valid_ok(&v));
	ck_assert_double_eq(in.initial_km, 1000000);
	valid_free(&v);
	json_object_put(b);

	gear(&v, "{\"initial_kilometrage\": 0}", 1, &in, &b);
	ck_assert(valid_ok(&v));
	ck_assert_int_eq(in.r_initial, VALID_SET);
	valid_free(&v);
	json_object_put(b);

	gear(&v, "{\"initial_kilometrage\": 1000001}", 1, &in, &b);
	ck_problem(&v, "initial_kilometrage", "must be a number from 0 to 1000000 km");
	ck_assert_int_eq(in.r_initial, VALID_BAD);
	valid_free(&v);
	json_object_put(b);

	/* the limit is in km after conversion: 621372 mi = 999998.814 km, 621373 mi is over */
	gear(&v, "{\"initial_mileage\": 621372, \"unit\": \"mi\"}", 1, &in, &b);
	ck_assert(valid_ok(&v));
	ck_assert_double_eq_tol(in.initial_km, 999998.814, TOL);
	valid_free(&v);
	json_object_put(b);
	gear(&v, "{\"initial_mileage\": 621373, \"unit\": \"mi\"}", 1, &in, &b);
	ck_problem(&v, "initial_mileage", "must be a number from 0 to 1000000 km");
	valid_free(&v);
	json_object_put(b);

	gear(&v, "{\"initial_kilometrage\": -1}", 1, &in, &b);
	ck_assert_int_eq(in.r_initial, VALID_BAD);
	ck_assert_ptr_nonnull(problem(&v, "initial_kilometrage"));
	valid_free(&v);
	json_object_put(b);

	gear(&v, "{\"initial_kilometrage\": null}", 1, &in, &b);
	ck_assert_int_eq(in.r_initial, VALID_BAD);
	ck_problem(&v, "initial_kilometrage", "must not be null");
	valid_free(&v);
	json_object_put(b);
}
END_TEST

/*
 * A negative initial_kilometrage names the real limit (api-notes: 0-1000000 km), without
 * exponent notation.
 */
START_TEST(test_gear_initial_negative_message)
{
	struct valid v;
	struct gear_input in;
	json_object *b;

	char msg[128];

	gear(&v, "{\"initial_kilometrage\": -1}", 1, &in, &b);
	const char *p = problem(&v, "initial_kilometrage");
	int w = snprintf(msg, sizeof(msg), "%s", p ? p : "(none)");
	valid_free(&v); /* freed before asserting, so a failure leaks nothing */
	json_object_put(b);
	ck_assert(w > 0 && (size_t)w < sizeof(msg));
	ck_assert_msg(p != NULL, "no problem reported for initial_kilometrage -1");
	ck_assert_msg(strstr(msg, "e+") == NULL && strstr(msg, "1000000") != NULL,
		      "details.initial_kilometrage = \"%s\"; want the real limit "
		      "(0 to 1000000 km) without exponent notation",
		      msg);
}
END_TEST

START_TEST(test_gear_metadata)
{
	struct valid v;
	struct gear_input in;
	json_object *b;

	gear(&v, "{\"metadata\": {\"replacement_threshold_km\": -1}}", 1, &in, &b);
	ck_assert_int_eq(nproblems(&v), 1);
	ck_problem(&v, "metadata.replacement_threshold_km", "must be a number from 0 to 10000000 (km)");
	valid_free(&v);
	json_object_put(b);

	gear(&v, "{\"metadata\": {\"maintenance_interval_km\": \"500\"}}", 1, &in, &b);
	ck_problem(&v, "metadata.maintenance_interval_km", "must be a number from 0 to 10000000 (km)");
	valid_free(&v);
	json_object_put(b);

	gear(&v, "{\"metadata\": {\"replacement_threshold_km\": 10000001}}", 1, &in, &b);
	ck_assert_ptr_nonnull(problem(&v, "metadata.replacement_threshold_km"));
	valid_free(&v);
	json_object_put(b);

	/* null removes the key (RFC 7396 merge), 0 and other keys are fine */
	gear(&v, "{\"metadata\": {\"replacement_threshold_km\": null, \"maintenance_interval_km\": 0,"
		 " \"anything\": [1, \"x\"]}}",
	     1, &in, &b);
	ck_assert_msg(valid_ok(&v), "unexpected problems: %s",
		      json_object_to_json_string(v.details));
	ck_assert_int_eq(in.r_metadata, VALID_SET);
	valid_free(&v);
	json_object_put(b);

	gear(&v, "{\"metadata\": [1]}", 1, &in, &b);
	ck_problem(&v, "metadata", "must be a JSON object");
	valid_free(&v);
	json_object_put(b);
}
END_TEST

/*
 * Issue 9: metadata's size is measured on the stored form, by the database (10_metadata.sql):
 * json-c's compact text may be longer (0.0001e4 is stored as 1) or shorter (jsonb adds
 * spaces), so the C side refuses no size at all rather than a different one.
 */
START_TEST(test_gear_metadata_size_is_the_databases)
{
	static const char head[] = "{\"metadata\": {\"z\": 0.0001e4, \"k\": \"";
	size_t n = RULES_METADATA_MAX + 100, len = strlen(head);
	char *text = malloc(len + n + 4);
	struct valid v;
	struct gear_input in;
	json_object *b, *out = NULL;

	ck_assert_ptr_nonnull(text);
	memcpy(text, head, len);
	memset(text + len, 'x', n);
	memcpy(text + len + n, "\"}}", 4);
	for (int patch = 0; patch <= 1; patch++) {
		gear(&v, text, patch, &in, &b);
		ck_assert_ptr_null(problem(&v, "metadata"));
		ck_assert_int_eq(in.r_metadata, VALID_SET);
		valid_free(&v);
		/* valid_object itself still takes a bound where one is given */
		valid_init(&v);
		ck_assert_int_eq(valid_object(&v, b, "metadata", VALID_ANY_SIZE, 0, &out), VALID_SET);
		ck_assert_int_eq(valid_object(&v, b, "metadata", RULES_METADATA_MAX, 0, &out), VALID_BAD);
		valid_free(&v);
		json_object_put(b);
	}
	free(text);
}
END_TEST

START_TEST(test_gear_all_problems_at_once)
{
	struct valid v;
	struct gear_input in;
	char *model = repeat("m", 101);
	char text[512];
	json_object *b;
	int w = snprintf(text, sizeof(text),
			 "{\"name\": \"   \", \"type\": \"car\", \"brand\": 5, \"model\": \"%s\","
			 " \"purchase_date\": \"2023-02-29\", \"initial_kilometrage\": \"10\","
			 " \"unit\": \"yd\", \"metadata\": [], \"id\": \"x\", \"colour\": \"red\"}",
			 model);
	ck_assert(w > 0 && (size_t)w < sizeof(text));

	gear(&v, text, 0, &in, &b);
	ck_assert_msg(nproblems(&v) == 10, "want 10 problems, got %s",
		      json_object_to_json_string(v.details));
	ck_problem(&v, "name", "must not be empty");
	ck_problem(&v, "type", "must be one of: road, mountain, gravel");
	ck_problem(&v, "brand", "must be a string");
	ck_problem(&v, "model", "must be at most 100 characters");
	ck_problem(&v, "purchase_date", "must be a date YYYY-MM-DD");
	ck_problem(&v, "initial_kilometrage", "must be a number");
	ck_problem(&v, "unit", "must be km or mi");
	ck_problem(&v, "metadata", "must be a JSON object");
	ck_problem(&v, "id", "read-only field");
	ck_problem(&v, "colour", "unknown field");

	/* valid_take hands the whole set over in one object */
	json_object *d = valid_take(&v);
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(json_object_object_length(d), 10);
	json_object_put(d);
	valid_free(&v);
	json_object_put(b);

	/* and a second set: alias conflict and metadata keys together */
	gear(&v,
	     "{\"name\": \"ok\", \"type\": \"road\", \"initial_kilometrage\": 1,"
	     " \"initial_mileage\": 2, \"metadata\": {\"replacement_threshold_km\": -1,"
	     " \"maintenance_interval_km\": \"x\"}, \"user_id\": \"u\"}",
	     0, &in, &b);
	ck_assert_msg(nproblems(&v) == 4, "want 4 problems, got %s",
		      json_object_to_json_string(v.details));
	ck_assert_ptr_nonnull(problem(&v, "initial_mileage"));
	ck_assert_ptr_nonnull(problem(&v, "metadata.replacement_threshold_km"));
	ck_assert_ptr_nonnull(problem(&v, "metadata.maintenance_interval_km"));
	ck_problem(&v, "user_id", "read-only field");
	valid_free(&v);
	json_object_put(b);
	free(model);
}
END_TEST

START_TEST(test_gear_km_text)
{
	char buf[32];

	ck_assert_int_eq(gear_km_text(804.67, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "804.670");
	ck_assert_int_eq(gear_km_text(16.89807, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "16.898");
	ck_assert_int_eq(gear_km_text(0, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "0.000");
	ck_assert_int_eq(gear_km_text(1000000, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "1000000.000");
	ck_assert_int_eq(gear_km_text(1000000, buf, 11), -1);
}
END_TEST

/* ---- purchase_price ---- */

#define PRICE_RANGE "must be at least 0 and at most 1000000000"

/* body's purchase_price judged as in a create: the result, the problem (NULL: none) and, when
 * set, the value and the text gear_patch_json gives the SQL. */
static void price_is(const char *body, enum valid_result want, const char *want_problem,
		     double want_value, const char *want_patch)
{
	struct valid v;
	struct gear_input in;
	json_object *b, *p, *got;

	gear(&v, body, 1, &in, &b);
	ck_assert_msg(in.r_price == want, "%s: result %d, want %d", body, in.r_price, want);
	if (want_problem) {
		ck_problem(&v, "purchase_price", want_problem);
		ck_assert_int_eq(nproblems(&v), 1);
	} else {
		ck_assert_msg(valid_ok(&v), "%s: %s", body, json_object_to_json_string(v.details));
	}
	if (want == VALID_SET)
		ck_assert_double_eq_tol(in.purchase_price, want_value, TOL);
	p = gear_patch_json(&in);
	ck_assert_ptr_nonnull(p);
	if (want_patch == NULL) {
		ck_assert(!json_object_object_get_ex(p, "purchase_price", NULL));
	} else {
		ck_assert(json_object_object_get_ex(p, "purchase_price", &got));
		ck_assert_str_eq(json_object_to_json_string_ext(got, JSON_C_TO_STRING_PLAIN), want_patch);
	}
	json_object_put(p);
	valid_free(&v);
	json_object_put(b);
}

START_TEST(test_gear_price_limits)
{
	price_is("{\"purchase_price\": 0}", VALID_SET, NULL, 0, "0.00");
	price_is("{\"purchase_price\": 1000000000}", VALID_SET, NULL, 1e9, "1000000000.00");
	price_is("{\"purchase_price\": 1e9}", VALID_SET, NULL, 1e9, "1000000000.00");
	price_is("{\"purchase_price\": 349.99}", VALID_SET, NULL, 349.99, "349.99");
	price_is("{\"purchase_price\": -0.01}", VALID_BAD, PRICE_RANGE, 0, NULL);
	price_is("{\"purchase_price\": -0}", VALID_SET, NULL, 0, "0.00");
	price_is("{\"purchase_price\": 1000000000.01}", VALID_BAD, PRICE_RANGE, 0, NULL);
	price_is("{\"purchase_price\": 1e10}", VALID_BAD, PRICE_RANGE, 0, NULL);
}
END_TEST

START_TEST(test_gear_price_types)
{
	price_is("{\"purchase_price\": \"12\"}", VALID_BAD, "must be a number", 0, NULL);
	price_is("{\"purchase_price\": true}", VALID_BAD, "must be a number", 0, NULL);
	price_is("{\"purchase_price\": [1]}", VALID_BAD, "must be a number", 0, NULL);
	price_is("{\"purchase_price\": {}}", VALID_BAD, "must be a number", 0, NULL);
	/* null clears it (nullable on create and patch); absent leaves it out of the SQL's fields */
	price_is("{\"purchase_price\": null}", VALID_NULL, NULL, 0, "null");
	price_is("{\"name\": \"n\"}", VALID_ABSENT, NULL, 0, NULL);
}
END_TEST

START_TEST(test_gear_price_rounded_to_cents)
{
	price_is("{\"purchase_price\": 12.345}", VALID_SET, NULL, 12.35, "12.35");
	price_is("{\"purchase_price\": 12.344}", VALID_SET, NULL, 12.34, "12.34");
	price_is("{\"purchase_price\": 1.005}", VALID_SET, NULL, 1.01, "1.01");
	price_is("{\"purchase_price\": 0.004}", VALID_SET, NULL, 0, "0.00");
	price_is("{\"purchase_price\": 999999999.995}", VALID_SET, NULL, 1e9, "1000000000.00");
	/* on create too, with the other fields */
	{
		struct valid v;
		struct gear_input in;
		json_object *b;

		gear(&v, "{\"name\": \"n\", \"type\": \"road\", \"purchase_price\": 19.999}", 0,
		     &in, &b);
		ck_assert(valid_ok(&v));
		ck_assert_int_eq(in.r_price, VALID_SET);
		ck_assert_double_eq_tol(in.purchase_price, 20, TOL);
		valid_free(&v);
		json_object_put(b);
	}
}
END_TEST

START_TEST(test_gear_round_price)
{
	ck_assert_double_eq_tol(gear_round_price(1.005), 1.01, TOL);
	ck_assert_double_eq_tol(gear_round_price(2.675), 2.68, TOL);
	ck_assert_double_eq_tol(gear_round_price(0.1 + 0.2), 0.3, TOL);
	ck_assert_double_eq_tol(gear_round_price(12.344999), 12.34, TOL);
	ck_assert_double_eq_tol(gear_round_price(999999999.994), 999999999.99, 1e-6);
	ck_assert_double_eq_tol(gear_round_price(999999999.995), 1e9, 1e-6);
	ck_assert(gear_round_price(0.004) == 0.0 && !signbit(gear_round_price(0.004)));
	ck_assert(gear_round_price(0) == 0.0);
}
END_TEST

Suite *valid_gear_suite(void)
{
	Suite *s = suite_create("valid_gear");
	TCase *tc = tcase_create("fields");

	tcase_add_test(tc, test_enum);
	suite_add_tcase(s, tc);

	tc = tcase_create("gear");
	tcase_add_test(tc, test_gear_create_required);
	tcase_add_test(tc, test_gear_create_ok);
	tcase_add_test(tc, test_gear_patch_optional);
	tcase_add_test(tc, test_gear_readonly_fields);
	tcase_add_test(tc, test_gear_initial_mileage_alias);
	tcase_add_test(tc, test_gear_both_initial_fields);
	tcase_add_test(tc, test_gear_initial_range);
	tcase_add_test(tc, test_gear_metadata);
	tcase_add_test(tc, test_gear_metadata_size_is_the_databases);
	tcase_add_test(tc, test_gear_all_problems_at_once);
	tcase_add_test(tc, test_gear_km_text);
	tcase_add_test(tc, test_gear_price_limits);
	tcase_add_test(tc, test_gear_price_types);
	tcase_add_test(tc, test_gear_price_rounded_to_cents);
	tcase_add_test(tc, test_gear_round_price);
	suite_add_tcase(s, tc);

	tc = tcase_create("gear_messages");
	tcase_add_test(tc, test_gear_initial_negative_message);
	suite_add_tcase(s, tc);
	return s;
}
