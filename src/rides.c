/* Ride handlers: the hot write path. Validation here, everything else in one SQL call. */
#include <stdio.h>
#include <string.h>

#include "db_bike.h"
#include "db_ride.h"
#include "gear.h"
#include "rides.h"
#include "routes.h"
#include "valid.h"

#define RIDES_DISTANCE_PROBLEM "must be a number greater than 0 and at most 100000 km"

static err_t rides_own(struct ctx *c)
{
	return db_bike_assert(c, router_param(&c->params, "id"));
}

int rides_key_ok(const char *key)
{
	size_t n = strlen(key);

	if (n == 0 || n > RIDES_KEY_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)key[i] < 0x20 || (unsigned char)key[i] > 0x7E)
			return 0;
	return 1;
}

err_t rides_log(struct ctx *c)
{
	static const char *const allowed[] = {"distance", "unit", "logged_at", "notes", NULL};
	err_t rc;
	const char *bike;
	json_object *body = NULL, *canon = NULL;
	struct valid v;
	struct db_ride r = {0};
	units_unit u = UNITS_KM;
	double distance = 0, epoch, km;
	char km_text[32];
	int replayed = 0;

	valid_init(&v);
	if ((rc = routes_path_uuid(c, "id", &bike)) != ERR_OK ||
	    (rc = routes_body_owned(c, rides_own, 0, &body)) != ERR_OK)
		goto out;
	valid_fields(&v, body, allowed, NULL);
	(void)valid_unit(&v, body, "unit", &u);
	if (valid_number_in(&v, body, "distance", 0, u == UNITS_MI ? 100000 / UNITS_MI_TO_KM : 100000, 1,
			    VALID_REQUIRED, &distance, RIDES_DISTANCE_PROBLEM) == VALID_SET) {
		/* 0.0004 km rounds to 0 metres: nothing to log. */
		km = units_to_km(distance, u);
		if (km <= 0 || km > 100000)
			valid_add(&v, "distance", RIDES_DISTANCE_PROBLEM);
	}
	(void)valid_timestamp(&v, body, "logged_at", c->now, VALID_NULLABLE, &r.logged_at, &epoch);
	(void)valid_string(&v, body, "notes", 0, 2000, VALID_NULLABLE, &r.notes);
	if (c->idem_key && !rides_key_ok(c->idem_key))
		valid_add(&v, "Idempotency-Key", "must be 1 to 255 printable ASCII characters");
	if (!valid_ok(&v)) {
		rc = routes_invalid(c, rides_own, &v);
		goto out;
	}
	rc = ERR_INTERNAL;
	if (gear_km_text(units_to_km(distance, u), km_text, sizeof(km_text)) != 0)
		goto out;
	r.bike = bike;
	r.distance_km = km_text;
	r.key = c->idem_key;
	/* What a retry must repeat exactly for its key to replay: the body as given, the bike. */
	if (r.key) {
		canon = json_object_new_object();
		json_object_object_add(canon, "bike", json_object_new_string(bike));
		json_object_object_add(canon, "body", json_object_get(body));
		r.request = json_object_to_json_string_ext(canon, JSON_C_TO_STRING_PLAIN);
	}
	rc = db_ride_log(c, &r, u, &c->out, &replayed);
	if (rc == ERR_OK) {
		c->status = 201;
		if (replayed)
			log_info(&c->log, "ride replayed for Idempotency-Key");
	}
out:
	json_object_put(canon);
	json_object_put(body);
	valid_free(&v);
	return rc;
}

err_t rides_delete(struct ctx *c)
{
	err_t rc;
	const char *bike, *log_id;

	if ((rc = routes_path_uuid(c, "id", &bike)) != ERR_OK ||
	    (rc = routes_path_uuid(c, "log_id", &log_id)) != ERR_OK)
		return rc;
	if ((rc = db_ride_delete(c, bike, log_id)) != ERR_OK)
		return rc;
	return routes_deleted(c, log_id);
}

/* A cursor is "<logged_at in microseconds since 1970, may be negative>.<id>", as next_cursor gives it. */
static int rides_cursor(const char *s, char *us, size_t uslen, const char **id)
{
	const char *dot = s ? strchr(s, '.') : NULL;
	long n;

	if (dot == NULL || (size_t)(dot - s) >= uslen || !valid_is_uuid(dot + 1))
		return -1;
	memcpy(us, s, (size_t)(dot - s));
	us[dot - s] = '\0';
	/* Rides before 1970 have negative times; none is before 1900 (valid_timestamp). */
	if (valid_parse_int(us[0] == '-' ? us + 1 : us, 0, us[0] == '-' ? 2208988800000000L : 253402300799000000L,
			    &n) != 0)
		return -1;
	*id = dot + 1;
	return 0;
}

err_t rides_history(struct ctx *c)
{
	err_t rc;
	const char *bike, *cursor = ctx_query(c, "cursor"), *cursor_id = NULL;
	char us[24], next[96];
	units_unit u;
	long limit, offset, total = 0;
	json_object *items = NULL;

	if ((rc = routes_path_uuid(c, "id", &bike)) != ERR_OK ||
	    (rc = routes_query_unit(c, &u)) != ERR_OK ||
	    (rc = routes_query_page(c, &limit, &offset)) != ERR_OK)
		return rc;
	if (cursor) {
		if (rides_cursor(cursor, us, sizeof(us), &cursor_id) != 0)
			return ctx_fail_field(c, "cursor", "must be a next_cursor value from an earlier page");
		if (ctx_query(c, "offset"))
			return ctx_fail_field(c, "offset", "give cursor or offset, not both");
	}
	rc = db_ride_history(c, bike, limit, offset, cursor ? us : NULL, cursor_id, u, &items, &total,
			     next, sizeof(next));
	if (rc != ERR_OK)
		return rc;
	c->out = json_object_new_object();
	json_object_object_add(c->out, "items", items);
	json_object_object_add(c->out, "total", json_object_new_int64(total));
	json_object_object_add(c->out, "limit", json_object_new_int64(limit));
	json_object_object_add(c->out, "offset", json_object_new_int64(offset));
	json_object_object_add(c->out, "next_cursor", next[0] ? json_object_new_string(next) : NULL);
	json_object_object_add(c->out, "unit", json_object_new_string(units_name(u)));
	return ERR_OK;
}
