/* A ride's fields: the same rules for a new ride, an edit and each ride of a batch. The
 * database checks them again (vehicles.ride_check), for callers with SQL access. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gear.h"
#include "ride_fields.h"
#include "rules.h"

#define RIDE_DISTANCE_PROBLEM \
	"must be a number greater than 0 and at most " RULES_TEXT(RULES_DISTANCE_KM_MAX) " km"
#define RIDE_MOVING_PROBLEM "must be an integer from 0 to " RULES_TEXT(RULES_MOVING_TIME_MAX)
#define RIDE_ELEVATION_PROBLEM \
	"must be a number from 0 to " RULES_TEXT(RULES_ELEVATION_M_MAX) " m (feet with unit mi)"

static const char *const ride_new[] = {"distance", "unit", "logged_at", "notes", "moving_time_s",
	"elevation_gain", "ride_type", "source", "external_id", NULL};
static const char *const ride_edit[] = {"distance", "unit", "logged_at", "notes", "moving_time_s",
	"elevation_gain", "ride_type", NULL};
static const char *const ride_edit_readonly[] = {"id", "bike_id", "user_id", "created_at", "source",
	"external_id", NULL};
static const char *const ride_batch[] = {"bike_id", "distance", "logged_at", "notes", "moving_time_s",
	"elevation_gain", "ride_type", "source", "external_id", NULL};

/* distance in unit u -> km with 3 decimals, as a number that keeps that text. */
static void ride_distance(struct valid *v, json_object *body, units_unit u, int flags, json_object *out)
{
	double d, km;
	char text[32];

	if (valid_number_in(v, body, "distance", 0,
			    u == UNITS_MI ? RULES_DISTANCE_KM_MAX / UNITS_MI_TO_KM : RULES_DISTANCE_KM_MAX, 1,
			    flags, &d, RIDE_DISTANCE_PROBLEM) != VALID_SET)
		return;
	/* 0.0004 km rounds to 0 metres: nothing to log. */
	km = units_to_km(d, u);
	if (km <= 0 || km > RULES_DISTANCE_KM_MAX || gear_km_text(km, text, sizeof(text)) != 0)
		valid_add(v, "distance", RIDE_DISTANCE_PROBLEM);
	else
		json_object_object_add(out, "distance", json_object_new_double_s(km, text));
}

/* moving_time_s: a whole number of seconds (60.0 is 60; 60.5 is refused). */
static void ride_moving(struct valid *v, json_object *body, int keep_null, json_object *out)
{
	double d;
	enum valid_result r = valid_number_in(v, body, "moving_time_s", 0, RULES_MOVING_TIME_MAX, 0,
					      VALID_NULLABLE, &d, RIDE_MOVING_PROBLEM);

	if (r == VALID_SET && d != floor(d))
		valid_add(v, "moving_time_s", RIDE_MOVING_PROBLEM);
	else if (r == VALID_SET)
		json_object_object_add(out, "moving_time_s", json_object_new_int64((int64_t)d));
	else if (r == VALID_NULL && keep_null)
		json_object_object_add(out, "moving_time_s", NULL);
}

/* elevation_gain in m (km) or ft (mi) -> metres, 3 decimals, at most the limit. */
static void ride_elevation(struct valid *v, json_object *body, units_unit u, int keep_null,
			   json_object *out)
{
	double d, m;
	char text[32];
	enum valid_result r = valid_number_in(v, body, "elevation_gain", 0,
					      u == UNITS_MI ? RULES_ELEVATION_M_MAX / UNITS_FT_TO_M
							    : RULES_ELEVATION_M_MAX,
					      0, VALID_NULLABLE, &d, RIDE_ELEVATION_PROBLEM);
	int n;

	if (r == VALID_NULL && keep_null)
		json_object_object_add(out, "elevation_gain", NULL);
	if (r != VALID_SET)
		return;
	m = units_elevation_to_m(d, u);
	n = snprintf(text, sizeof(text), "%.3f", m);
	if (m > RULES_ELEVATION_M_MAX || n < 0 || (size_t)n >= sizeof(text))
		valid_add(v, "elevation_gain", RIDE_ELEVATION_PROBLEM);
	else
		json_object_object_add(out, "elevation_gain", json_object_new_double_s(m, text));
}

/* A string field: kept when set, kept as null when asked. */
static void ride_put_string(json_object *out, const char *field, enum valid_result r, const char *s,
			    int keep_null)
{
	if (r == VALID_SET)
		json_object_object_add(out, field, json_object_new_string(s));
	else if (r == VALID_NULL && keep_null)
		json_object_object_add(out, field, NULL);
}

/* logged_at, notes, ride_type, and for a new ride source and external_id. */
static void ride_texts(struct valid *v, json_object *body, time_t now, enum ride_fields_mode mode,
		       json_object *out)
{
	int edit = mode == RIDE_FIELDS_EDIT, need_id = mode == RIDE_FIELDS_BATCH;
	const char *at, *notes, *type, *source, *ext;
	enum valid_result r, rs;
	double epoch;

	r = valid_timestamp(v, body, "logged_at", now, edit ? 0 : VALID_NULLABLE, &at, &epoch);
	ride_put_string(out, "logged_at", r, at, 0);
	r = valid_string(v, body, "notes", 0, RULES_NOTES_MAX, VALID_NULLABLE, &notes);
	ride_put_string(out, "notes", r, notes, edit);
	r = valid_enum(v, body, "ride_type", rules_ride_types, edit ? 0 : VALID_NULLABLE, &type);
	ride_put_string(out, "ride_type", r, type, 0);
	if (edit)
		return;
	rs = valid_string(v, body, "source", 1, RULES_SOURCE_MAX, need_id ? VALID_REQUIRED : VALID_NULLABLE,
			  &source);
	ride_put_string(out, "source", rs, source, 0);
	r = valid_string(v, body, "external_id", 1, RULES_EXTERNAL_ID_MAX,
			 need_id ? VALID_REQUIRED : VALID_NULLABLE, &ext);
	/* (A source given but wrong has its own problem already.) */
	if (r == VALID_SET && (rs == VALID_ABSENT || rs == VALID_NULL))
		valid_add(v, "external_id", "requires source");
	ride_put_string(out, "external_id", r, ext, 0);
}

json_object *ride_fields_check(struct valid *v, json_object *body, units_unit u, time_t now,
			       enum ride_fields_mode mode)
{
	json_object *out = json_object_new_object();
	int edit = mode == RIDE_FIELDS_EDIT;

	if (out == NULL)
		return NULL;
	valid_fields(v, body,
		     mode == RIDE_FIELDS_NEW ? ride_new : edit ? ride_edit : ride_batch,
		     edit ? ride_edit_readonly : NULL);
	if (mode == RIDE_FIELDS_BATCH) {
		const char *bike;
		if (valid_string(v, body, "bike_id", 1, 64, VALID_REQUIRED, &bike) == VALID_SET &&
		    !valid_is_uuid(bike))
			valid_add(v, "bike_id", "must be a UUID");
	}
	ride_distance(v, body, u, edit ? 0 : VALID_REQUIRED, out);
	ride_moving(v, body, edit, out);
	ride_elevation(v, body, u, edit, out);
	ride_texts(v, body, now, mode, out);
	if (!valid_ok(v)) {
		json_object_put(out);
		return NULL;
	}
	return out;
}
