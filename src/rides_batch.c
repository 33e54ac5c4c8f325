/*
 * POST /api/rides/batch: up to RULES_BATCH_MAX rides from a recorder in one request, each
 * checked here and answered on its own. The rides that pass go to vehicles.ride_batch in
 * one statement (52_rides_batch.sql), which decides ownership and external_id per ride;
 * one bad ride never refuses the others.
 */
#include <string.h>

#include "db_ride.h"
#include "req.h"
#include "ride_fields.h"
#include "rides.h"
#include "rules.h"

#define RIDES_BATCH_PROBLEM "must be an array of 1 to " RULES_TEXT(RULES_BATCH_MAX) " rides"

/* {"index", "status": "error", "error": {"error", "message", "details"}} for a ride refused
 * here; takes details. */
static json_object *rides_batch_refused(size_t index, json_object *details)
{
	json_object *r = json_object_new_object(), *e = json_object_new_object();

	json_object_object_add(e, "error", json_object_new_string(err_code(ERR_VALIDATION)));
	json_object_object_add(e, "message", json_object_new_string(err_message(ERR_VALIDATION)));
	json_object_object_add(e, "details", details);
	json_object_object_add(r, "index", json_object_new_int64((int64_t)index));
	json_object_object_add(r, "status", json_object_new_string("error"));
	json_object_object_add(r, "error", e);
	return r;
}

/* A string member of o holding U+0000 (which the batch's body parse lets through, so that
 * it is refused for its ride alone): each is named in v. */
static void rides_batch_nul(struct valid *v, json_object *o)
{
	json_object_object_foreach(o, key, val)
	{
		if (json_object_is_type(val, json_type_string) &&
		    strlen(json_object_get_string(val)) != (size_t)json_object_get_string_len(val))
			valid_add(v, key, "must not contain NUL characters");
	}
}

/* The top level: {"unit"?, "rides": [1..RULES_BATCH_MAX]}. */
static json_object *rides_batch_list(struct valid *v, json_object *body, units_unit *u)
{
	static const char *const allowed[] = {"unit", "rides", NULL};
	json_object *rides;

	valid_fields(v, body, allowed, NULL);
	rides_batch_nul(v, body);
	(void)valid_unit(v, body, "unit", u);
	if (!json_object_object_get_ex(body, "rides", &rides)) {
		valid_add(v, "rides", "is required");
		return NULL;
	}
	if (!json_object_is_type(rides, json_type_array) || json_object_array_length(rides) < 1 ||
	    json_object_array_length(rides) > RULES_BATCH_MAX) {
		valid_add(v, "rides", RIDES_BATCH_PROBLEM);
		return NULL;
	}
	return rides;
}

/* Checks each ride: a refused one gets its result now, a good one goes into sql as
 * {"index", "bike_id", "ride": fields as stored}. */
static void rides_batch_check(struct ctx *c, json_object *rides, units_unit u, json_object *results,
			      json_object *sql)
{
	for (size_t i = 0; i < json_object_array_length(rides); i++) {
		json_object *ride = json_object_array_get_idx(rides, i), *fields, *bike, *item;
		struct valid v;

		valid_init(&v);
		if (!json_object_is_type(ride, json_type_object)) {
			valid_add(&v, "ride", "must be a JSON object");
			json_object_array_put_idx(results, i, rides_batch_refused(i, valid_take(&v)));
		} else if ((rides_batch_nul(&v, ride), !valid_ok(&v)) ||
			   (fields = ride_fields_check(&v, ride, u, c->now, RIDE_FIELDS_BATCH)) == NULL) {
			json_object_array_put_idx(results, i, rides_batch_refused(i, valid_take(&v)));
		} else {
			item = json_object_new_object();
			(void)json_object_object_get_ex(ride, "bike_id", &bike);
			json_object_object_add(item, "index", json_object_new_int64((int64_t)i));
			json_object_object_add(item, "bike_id", json_object_get(bike));
			json_object_object_add(item, "ride", fields);
			json_object_array_add(sql, item);
		}
		valid_free(&v);
	}
}

/* The database's results go to their index; every slot is then filled. */
static err_t rides_batch_merge(json_object *results, json_object *db, size_t n)
{
	json_object *idx;

	for (size_t i = 0; db && i < json_object_array_length(db); i++) {
		json_object *r = json_object_array_get_idx(db, i);
		int64_t at;

		if (!json_object_object_get_ex(r, "index", &idx))
			return ERR_INTERNAL;
		at = json_object_get_int64(idx);
		if (at < 0 || (size_t)at >= n || json_object_array_get_idx(results, (size_t)at))
			return ERR_INTERNAL;
		json_object_array_put_idx(results, (size_t)at, json_object_get(r));
	}
	for (size_t i = 0; i < n; i++)
		if (json_object_array_get_idx(results, i) == NULL)
			return ERR_INTERNAL;
	return ERR_OK;
}

err_t rides_batch(struct ctx *c)
{
	json_object *body = NULL, *rides, *results = NULL, *sql = NULL, *db = NULL;
	struct valid v;
	units_unit u = UNITS_KM;
	size_t n;
	err_t rc;

	valid_init(&v);
	/* Numbers and U+0000 are refused ride by ride (rides_batch_check), not for the batch. */
	if ((rc = req_body_values(c, &body)) != ERR_OK)
		goto out;
	rides = rides_batch_list(&v, body, &u);
	if (!valid_ok(&v)) {
		rc = req_invalid(c, &v);
		goto out;
	}
	rc = ERR_INTERNAL;
	n = json_object_array_length(rides);
	if ((results = json_object_new_array_ext((int)n)) == NULL || (sql = json_object_new_array()) == NULL)
		goto out;
	rides_batch_check(c, rides, u, results, sql);
	if (json_object_array_length(sql) > 0 &&
	    (rc = db_ride_batch(&c->db, json_object_to_json_string_ext(sql, JSON_C_TO_STRING_PLAIN), u,
				&db)) != ERR_OK)
		goto out;
	if ((rc = rides_batch_merge(results, db, n)) != ERR_OK)
		goto out;
	if ((c->out = json_object_new_object()) == NULL) {
		rc = ERR_INTERNAL;
		goto out;
	}
	json_object_object_add(c->out, "results", results);
	json_object_object_add(c->out, "unit", json_object_new_string(units_name(u)));
	results = NULL;
	log_info(&c->log, "ride batch: %zu rides, %zu to the database", n, json_object_array_length(sql));
out:
	json_object_put(db);
	json_object_put(sql);
	json_object_put(results);
	json_object_put(body);
	valid_free(&v);
	return rc;
}
