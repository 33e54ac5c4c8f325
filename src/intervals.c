/*
 * Service intervals: a reminder of one part or bike by distance, moving time or days, and
 * the due list. Validated here, every field again in the SQL (62_intervals.sql), which also
 * computes each interval's status.
 */
#include <stdio.h>
#include <string.h>

#include "db_interval.h"
#include "gear.h"
#include "intervals.h"
#include "req.h"
#include "rules.h"

#define INTERVALS_DISTANCE_PROBLEM \
	"must be a number greater than 0 and at most " RULES_TEXT(INTERVALS_DISTANCE_KM_MAX) " km"
#define INTERVALS_HOURS_PROBLEM \
	"must be a number greater than 0 and at most " RULES_TEXT(INTERVALS_HOURS_MAX)
#define INTERVALS_DAYS_PROBLEM "must be an integer from 1 to " RULES_TEXT(INTERVALS_DAYS_MAX)
#define INTERVALS_WARN_PROBLEM "must be an integer from 1 to 100"
#define INTERVALS_EVERY_PROBLEM "one of every_distance, every_moving_hours, every_days is required"
#define INTERVALS_STATE_PROBLEM "must be a comma-separated list of ok, due_soon, overdue"

struct intervals_input {
	const char *task;
	enum valid_result r_task, r_dist, r_hours, r_days, r_warn;
	double dist_km, hours;
	long days, warn;
	units_unit unit;
};

/* A JSON integer (not 5.0) within [min, max]; null only where nullable. */
static enum valid_result intervals_int(struct valid *v, json_object *body, const char *field,
				       long min, long max, int nullable, long *out,
				       const char *problem)
{
	json_object *val;
	int64_t n;

	*out = 0;
	if (!json_object_object_get_ex(body, field, &val))
		return VALID_ABSENT;
	if (val == NULL) {
		if (nullable)
			return VALID_NULL;
		valid_add(v, field, "must not be null");
		return VALID_BAD;
	}
	n = json_object_get_int64(val);
	if (!json_object_is_type(val, json_type_int) || n < min || n > max) {
		valid_add(v, field, problem);
		return VALID_BAD;
	}
	*out = (long)n;
	return VALID_SET;
}

/* every_distance (in the body's unit) and every_moving_hours, as stored: 3 decimals, > 0. */
static void intervals_measures(struct valid *v, json_object *body, struct intervals_input *in)
{
	double max = in->unit == UNITS_MI ? INTERVALS_DISTANCE_KM_MAX / UNITS_MI_TO_KM
					  : INTERVALS_DISTANCE_KM_MAX;
	double d = 0, h = 0;

	in->r_dist = valid_number_in(v, body, "every_distance", 0, max, 1, VALID_NULLABLE, &d,
				     INTERVALS_DISTANCE_PROBLEM);
	if (in->r_dist == VALID_SET) {
		in->dist_km = units_to_km(d, in->unit);
		if (in->dist_km <= 0 || in->dist_km > INTERVALS_DISTANCE_KM_MAX) {
			valid_add(v, "every_distance", INTERVALS_DISTANCE_PROBLEM);
			in->r_dist = VALID_BAD;
		}
	}
	in->r_hours = valid_number_in(v, body, "every_moving_hours", 0, INTERVALS_HOURS_MAX, 1,
				      VALID_NULLABLE, &h, INTERVALS_HOURS_PROBLEM);
	if (in->r_hours == VALID_SET) {
		in->hours = units_round3(h);
		if (in->hours <= 0) {
			valid_add(v, "every_moving_hours", INTERVALS_HOURS_PROBLEM);
			in->r_hours = VALID_BAD;
		}
	}
}

static void intervals_validate(struct valid *v, json_object *body, int patch,
			       struct intervals_input *in)
{
	static const char *const allowed[] = {"task", "every_distance", "every_moving_hours",
		"every_days", "warn_at_pct", "unit", NULL};
	static const char *const readonly[] = {"id", "part_id", "bike_id", "created_at",
		"updated_at", "status", NULL};
	enum valid_result r[3];
	int set = 0, bad = 0, nulls = 0;

	memset(in, 0, sizeof(*in));
	valid_fields(v, body, allowed, readonly);
	(void)valid_unit(v, body, "unit", &in->unit);
	in->r_task = valid_string(v, body, "task", 1, INTERVALS_TASK_MAX, patch ? 0 : VALID_REQUIRED,
				  &in->task);
	intervals_measures(v, body, in);
	in->r_days = intervals_int(v, body, "every_days", 1, INTERVALS_DAYS_MAX, 1, &in->days,
				   INTERVALS_DAYS_PROBLEM);
	in->r_warn = intervals_int(v, body, "warn_at_pct", 1, 100, 0, &in->warn,
				   INTERVALS_WARN_PROBLEM);
	r[0] = in->r_dist;
	r[1] = in->r_hours;
	r[2] = in->r_days;
	for (int i = 0; i < 3; i++) {
		set += r[i] == VALID_SET;
		bad += r[i] == VALID_BAD;
		nulls += r[i] == VALID_NULL;
	}
	/* A create names one measure at least; a patch cannot drop all three at once (one that
	 * drops the last of the stored ones is refused by the SQL, which knows them). */
	if ((!patch && set + bad == 0) || (patch && nulls == 3))
		valid_add(v, "every_distance", INTERVALS_EVERY_PROBLEM);
}

/* A number as stored (3 decimals), written as JSON number text. */
static json_object *intervals_num(double x)
{
	char buf[32];

	if (gear_km_text(x, buf, sizeof(buf)) != 0)
		return NULL;
	return json_object_new_double_s(x, buf);
}

/* The validated fields as one JSON object for the SQL: present = to set, null = to clear. */
static json_object *intervals_fields(const struct intervals_input *in)
{
	json_object *f = json_object_new_object();

	if (f == NULL)
		return NULL;
	if (in->r_task == VALID_SET)
		json_object_object_add(f, "task", json_object_new_string(in->task));
	if (in->r_dist == VALID_SET || in->r_dist == VALID_NULL)
		json_object_object_add(f, "every_distance",
				       in->r_dist == VALID_SET ? intervals_num(in->dist_km) : NULL);
	if (in->r_hours == VALID_SET || in->r_hours == VALID_NULL)
		json_object_object_add(f, "every_moving_hours",
				       in->r_hours == VALID_SET ? intervals_num(in->hours) : NULL);
	if (in->r_days == VALID_SET || in->r_days == VALID_NULL)
		json_object_object_add(f, "every_days",
				       in->r_days == VALID_SET ? json_object_new_int64(in->days) : NULL);
	if (in->r_warn == VALID_SET)
		json_object_object_add(f, "warn_at_pct", json_object_new_int64(in->warn));
	return f;
}

/* Create (id NULL: of the path's bike or part) or patch (id: the interval). */
static err_t intervals_write(struct ctx *c, const char *id)
{
	json_object *body = NULL, *fields = NULL;
	struct intervals_input in;
	struct valid v;
	const char *text;
	err_t rc;

	valid_init(&v);
	if ((rc = req_body(c, 0, &body)) != ERR_OK)
		goto out;
	intervals_validate(&v, body, id != NULL, &in);
	if (!valid_ok(&v)) {
		rc = req_invalid(c, &v);
		goto out;
	}
	rc = ERR_INTERNAL;
	if ((fields = intervals_fields(&in)) == NULL)
		goto out;
	text = json_object_to_json_string_ext(fields, JSON_C_TO_STRING_PLAIN);
	if (id)
		rc = db_interval_update(&c->db, id, text, in.unit, &c->out);
	else
		rc = db_interval_create(&c->db, req_kind(c), req_param(c, "id"), text, in.unit, &c->out);
	if (rc == ERR_OK && id == NULL)
		c->status = 201;
out:
	json_object_put(fields);
	json_object_put(body);
	valid_free(&v);
	return rc;
}

err_t intervals_create(struct ctx *c)
{
	return intervals_write(c, NULL);
}

err_t intervals_update(struct ctx *c)
{
	const char *id = req_param(c, "id");
	err_t rc;

	/* 404/403 answer before the body's 400 (api-notes' order), as for a path bike or part. */
	if (c->db.npre >= DB_MAX_PRE)
		return ERR_INTERNAL;
	c->own_field[c->db.npre] = NULL;
	if ((rc = db_interval_own(&c->db, id)) != ERR_OK)
		return rc;
	return intervals_write(c, id);
}

err_t intervals_delete(struct ctx *c)
{
	const char *id = req_param(c, "id");
	err_t rc = db_interval_delete(&c->db, id);

	return rc == ERR_OK ? req_deleted(c, id) : rc;
}

err_t intervals_list(struct ctx *c)
{
	units_unit u;
	long limit, offset, total = 0;
	err_t rc;

	if ((rc = req_query_unit(c, &u)) != ERR_OK || (rc = req_query_page(c, &limit, &offset)) != ERR_OK)
		return rc;
	rc = db_interval_list(&c->db, req_kind(c), req_param(c, "id"), limit, offset, u, &c->out, &total);
	if (rc == ERR_OK)
		c->total_count = total;
	return rc;
}

/* ?state=: each comma-separated item one of the three states (none empty). */
static int intervals_states_ok(const char *s)
{
	static const char *const states[] = {"ok", "due_soon", "overdue", NULL};

	for (;;) {
		size_t n = strcspn(s, ",");
		int found = 0;

		for (const char *const *st = states; *st; st++)
			found |= strlen(*st) == n && strncmp(s, *st, n) == 0;
		if (!found)
			return 0;
		if (s[n] == '\0')
			return 1;
		s += n + 1;
	}
}

err_t intervals_due(struct ctx *c)
{
	const char *states = ctx_query(c, "state");
	units_unit u = UNITS_KM;
	struct valid v;
	err_t rc = ERR_OK;

	valid_init(&v);
	if (units_parse(ctx_query(c, "unit"), &u) != 0)
		valid_add(&v, "unit", "must be km or mi");
	if (states && !intervals_states_ok(states))
		valid_add(&v, "state", INTERVALS_STATE_PROBLEM);
	if (!valid_ok(&v))
		rc = req_invalid(c, &v);
	valid_free(&v);
	if (rc != ERR_OK)
		return rc;
	return db_interval_due(&c->db, states ? states : "ok,due_soon,overdue", u, &c->out);
}
