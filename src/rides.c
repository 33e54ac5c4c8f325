/* Ride handlers: the hot write path. Validation here, everything else in one SQL call. */
#include <string.h>

#include "cursor.h"
#include "db_ride.h"
#include "gear.h"
#include "idem.h"
#include "req.h"
#include "rides.h"
#include "rules.h"

#define RIDES_DISTANCE_PROBLEM \
	"must be a number greater than 0 and at most " RULES_TEXT(RULES_DISTANCE_KM_MAX) " km"

/* distance (> 0 and at most the limit, in km after conversion), logged_at, notes. */
static void rides_validate(struct ctx *c, struct valid *v, json_object *body, struct db_ride *r,
			   units_unit *u, char *km_text, size_t km_len)
{
	static const char *const allowed[] = {"distance", "unit", "logged_at", "notes", NULL};
	double distance = 0, epoch, km;

	valid_fields(v, body, allowed, NULL);
	(void)valid_unit(v, body, "unit", u);
	if (valid_number_in(v, body, "distance", 0,
			    *u == UNITS_MI ? RULES_DISTANCE_KM_MAX / UNITS_MI_TO_KM : RULES_DISTANCE_KM_MAX, 1,
			    VALID_REQUIRED, &distance, RIDES_DISTANCE_PROBLEM) == VALID_SET) {
		/* 0.0004 km rounds to 0 metres: nothing to log. */
		km = units_to_km(distance, *u);
		if (km <= 0 || km > RULES_DISTANCE_KM_MAX)
			valid_add(v, "distance", RIDES_DISTANCE_PROBLEM);
		else if (gear_km_text(km, km_text, km_len) != 0)
			valid_add(v, "distance", RIDES_DISTANCE_PROBLEM);
	}
	(void)valid_timestamp(v, body, "logged_at", c->now, VALID_NULLABLE, &r->logged_at, &epoch);
	(void)valid_string(v, body, "notes", 0, RULES_NOTES_MAX, VALID_NULLABLE, &r->notes);
	if (c->idem_key && !idem_key_ok(c->idem_key))
		valid_add(v, "Idempotency-Key", "must be 1 to " RULES_TEXT(RULES_IDEM_KEY_MAX)
			  " printable ASCII characters");
}

err_t rides_log(struct ctx *c)
{
	const char *bike = req_param(c, "id");
	json_object *body = NULL, *canon = NULL;
	struct db_ride r = {.bike = bike, .key = c->idem_key};
	struct valid v;
	units_unit u = UNITS_KM;
	char km_text[32];
	int replayed = 0;
	err_t rc;

	valid_init(&v);
	if ((rc = req_body(c, 0, &body)) != ERR_OK)
		goto out;
	rides_validate(c, &v, body, &r, &u, km_text, sizeof(km_text));
	if (!valid_ok(&v)) {
		rc = req_invalid(c, &v);
		goto out;
	}
	r.distance_km = km_text;
	/* What a retry must repeat exactly for its key to replay: the body as given, the bike. */
	if (r.key) {
		canon = json_object_new_object();
		json_object_object_add(canon, "bike", json_object_new_string(bike));
		json_object_object_add(canon, "body", json_object_get(body));
		r.request = json_object_to_json_string_ext(canon, JSON_C_TO_STRING_PLAIN);
	}
	if ((rc = db_ride_log(&c->db, &r, u, &c->out, &replayed)) != ERR_OK)
		goto out;
	json_object_object_add(c->out, "unit", json_object_new_string(units_name(u)));
	/* A replay is the first answer verbatim (as Stripe does), even when the ride has been
	 * deleted since: the header tells the client it is a replay, not a new ride. */
	c->status = 201;
	c->replayed = replayed;
	if (replayed)
		log_info(&c->log, "ride replayed for Idempotency-Key");
out:
	json_object_put(canon);
	json_object_put(body);
	valid_free(&v);
	return rc;
}

err_t rides_delete(struct ctx *c)
{
	const char *log_id = req_param(c, "log_id");
	err_t rc = db_ride_delete(&c->db, req_param(c, "id"), log_id);

	return rc == ERR_OK ? req_deleted(c, log_id) : rc;
}

/* ?cursor= (from next_cursor) instead of ?offset=. */
static err_t rides_query_cursor(struct ctx *c, struct db_ride_page *p, char *us, size_t uslen)
{
	const char *cursor = ctx_query(c, "cursor");

	if (cursor == NULL)
		return ERR_OK;
	if (cursor_parse(cursor, us, uslen, &p->cursor_id) != 0)
		return ctx_fail_field(c, "cursor", "must be a next_cursor value from an earlier page");
	if (ctx_query(c, "offset"))
		return ctx_fail_field(c, "offset", "give cursor or offset, not both");
	p->cursor_us = us;
	return ERR_OK;
}

err_t rides_history(struct ctx *c)
{
	struct db_ride_page p = {0};
	char us[24];
	units_unit u;
	err_t rc;

	if ((rc = req_query_unit(c, &u)) != ERR_OK || (rc = req_query_page(c, &p.limit, &p.offset)) != ERR_OK ||
	    (rc = rides_query_cursor(c, &p, us, sizeof(us))) != ERR_OK)
		return rc;
	if ((rc = db_ride_history(&c->db, req_param(c, "id"), u, &p)) != ERR_OK)
		return rc;
	if ((c->out = req_page_envelope(p.items, p.total, p.limit, p.offset)) == NULL)
		return ERR_INTERNAL;
	json_object_object_add(c->out, "next_cursor", p.next[0] ? json_object_new_string(p.next) : NULL);
	json_object_object_add(c->out, "unit", json_object_new_string(units_name(u)));
	return ERR_OK;
}
