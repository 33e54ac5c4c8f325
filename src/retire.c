/* Retire and unretire a part. The SQL functions hold the rules (the last installation
 * closed at retired_at, its later credits taken back) and the locks; the part's ownership is
 * declared in the route table. Both answer the part object in ?unit= (default km). */
#include "db_retire.h"
#include "req.h"
#include "retire.h"

#define RETIRE_REASON_MAX 2000

/* Body {retired_at?, reason?}, or none. */
err_t retire_part(struct ctx *c)
{
	const char *const allowed[] = {"retired_at", "reason", NULL};
	const char *at = NULL, *reason = NULL;
	json_object *body = NULL;
	struct valid v;
	units_unit u;
	double epoch;
	err_t rc;

	valid_init(&v);
	if ((rc = req_query_unit(c, &u)) != ERR_OK || (rc = req_body(c, 1, &body)) != ERR_OK)
		goto out;
	if (body) {
		valid_fields(&v, body, allowed, NULL);
		(void)valid_timestamp(&v, body, "retired_at", c->now, VALID_NULLABLE, &at, &epoch);
		(void)valid_string(&v, body, "reason", 0, RETIRE_REASON_MAX, VALID_NULLABLE, &reason);
		if (!valid_ok(&v)) {
			rc = req_invalid(c, &v);
			goto out;
		}
		/* Blank is no reason at all. */
		if (reason && reason[0] == '\0')
			reason = NULL;
	}
	rc = db_retire_part(&c->db, req_param(c, "id"), at, reason, u, &c->out);
out:
	json_object_put(body);
	valid_free(&v);
	return rc;
}

/* No body, or {}: anything in it is an unknown field. */
err_t retire_unretire(struct ctx *c)
{
	const char *const allowed[] = {NULL};
	json_object *body = NULL;
	struct valid v;
	units_unit u;
	err_t rc;

	valid_init(&v);
	if ((rc = req_query_unit(c, &u)) != ERR_OK || (rc = req_body(c, 1, &body)) != ERR_OK)
		goto out;
	if (body) {
		valid_fields(&v, body, allowed, NULL);
		if (!valid_ok(&v)) {
			rc = req_invalid(c, &v);
			goto out;
		}
	}
	rc = db_retire_unretire(&c->db, req_param(c, "id"), u, &c->out);
out:
	json_object_put(body);
	valid_free(&v);
	return rc;
}
