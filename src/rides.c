/* Ride handlers: the hot write path. Validation here, everything else in one SQL call. */
#include <string.h>

#include "cursor.h"
#include "db_ride.h"
#include "gear.h"
#include "idem.h"
#include "req.h"
#include "ride_fields.h"
#include "rides.h"
#include "rules.h"

/* The body of a new ride or an edit: its unit, then its fields (include/ride_fields.h). */
static json_object *rides_fields(struct ctx *c, struct valid *v, json_object *body,
				 enum ride_fields_mode mode, units_unit *u)
{
	(void)valid_unit(v, body, "unit", u);
	return ride_fields_check(v, body, *u, c->now, mode);
}

/* The bike's existence and owner are checked by vehicles.ride_log itself (the caller's own
 * external_id on a bike no longer theirs is a 409 there, not a 403), so the route declares
 * no ownership check; a request refused before the database still answers 404/403 first
 * (api-notes' order): the check is queued then, and the dispatcher runs it. */
static err_t rides_refuse(struct ctx *c, err_t rc)
{
	if (req_own(c, ENTITY_BIKE, req_param(c, "id"), NULL) != ERR_OK)
		return ERR_INTERNAL;
	return rc;
}

err_t rides_log(struct ctx *c)
{
	const char *bike = req_param(c, "id");
	json_object *body = NULL, *canon = NULL, *fields = NULL;
	struct db_ride r = {.bike = bike, .key = c->idem_key};
	struct valid v;
	units_unit u = UNITS_KM;
	int replayed = 0, status = 201;
	err_t rc;

	valid_init(&v);
	if ((rc = req_body(c, 0, &body)) != ERR_OK) {
		rc = rides_refuse(c, rc);
		goto out;
	}
	fields = rides_fields(c, &v, body, RIDE_FIELDS_NEW, &u);
	if (c->idem_key && !idem_key_ok(c->idem_key))
		valid_add(&v, "Idempotency-Key", "must be 1 to " RULES_TEXT(RULES_IDEM_KEY_MAX)
			  " printable ASCII characters");
	if (!valid_ok(&v) || fields == NULL) {
		rc = rides_refuse(c, valid_ok(&v) ? ERR_INTERNAL : req_invalid(c, &v));
		goto out;
	}
	r.fields = json_object_to_json_string_ext(fields, JSON_C_TO_STRING_PLAIN);
	/* What a retry must repeat exactly for its key to replay: the body as given, the bike. */
	if (r.key) {
		canon = json_object_new_object();
		json_object_object_add(canon, "bike", json_object_new_string(bike));
		json_object_object_add(canon, "body", json_object_get(body));
		r.request = json_object_to_json_string_ext(canon, JSON_C_TO_STRING_PLAIN);
	}
	if ((rc = db_ride_log(&c->db, &r, u, &c->out, &replayed, &status)) != ERR_OK)
		goto out;
	json_object_object_add(c->out, "unit", json_object_new_string(units_name(u)));
	/* A replay is the first answer verbatim (as Stripe does), even when the ride has been
	 * deleted since: the header tells the client it is a replay, not a new ride. A ride
	 * found again by its external_id is 200: nothing was created or credited. */
	c->status = status;
	c->replayed = replayed;
	if (replayed)
		log_info(&c->log, "ride replayed for Idempotency-Key");
	else if (status == 200)
		log_info(&c->log, "ride already logged under its external_id");
out:
	json_object_put(fields);
	json_object_put(canon);
	json_object_put(body);
	valid_free(&v);
	return rc;
}

err_t rides_update(struct ctx *c)
{
	json_object *body = NULL, *fields = NULL;
	struct valid v;
	units_unit u = UNITS_KM;
	err_t rc;

	valid_init(&v);
	if ((rc = req_body(c, 0, &body)) != ERR_OK)
		goto out;
	fields = rides_fields(c, &v, body, RIDE_FIELDS_EDIT, &u);
	if (!valid_ok(&v) || fields == NULL) {
		rc = valid_ok(&v) ? ERR_INTERNAL : req_invalid(c, &v);
		goto out;
	}
	rc = db_ride_update(&c->db, req_param(c, "id"), req_param(c, "log_id"),
			    json_object_to_json_string_ext(fields, JSON_C_TO_STRING_PLAIN), u, &c->out);
	if (rc == ERR_OK)
		json_object_object_add(c->out, "unit", json_object_new_string(units_name(u)));
out:
	json_object_put(fields);
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
