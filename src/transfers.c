/* Transfers: validate {new_owner_email, notes?}; the SQL does lookup, locks and history. */
#include "db_bike.h"
#include "db_part.h"
#include "db_transfer.h"
#include "routes.h"
#include "transfers.h"
#include "valid.h"

static err_t transfers_bike_own(struct ctx *c)
{
	return db_bike_assert(c, router_param(&c->params, "id"));
}

static err_t transfers_part_own(struct ctx *c)
{
	return db_part_assert(c, router_param(&c->params, "id"));
}

static err_t transfers_run(struct ctx *c, int bike)
{
	static const char *const allowed[] = {"new_owner_email", "notes", NULL};
	routes_owner_fn own = bike ? transfers_bike_own : transfers_part_own;
	const char *id, *email, *notes = NULL;
	json_object *body = NULL;
	struct valid v;
	err_t rc;

	valid_init(&v);
	if ((rc = routes_path_uuid(c, "id", &id)) != ERR_OK ||
	    (rc = routes_body_owned(c, own, 0, &body)) != ERR_OK)
		goto out;
	valid_fields(&v, body, allowed, NULL);
	(void)valid_email(&v, body, "new_owner_email", VALID_REQUIRED, &email);
	(void)valid_string(&v, body, "notes", 0, 2000, VALID_NULLABLE, &notes);
	if (!valid_ok(&v)) {
		rc = routes_invalid(c, own, &v);
		goto out;
	}
	rc = db_transfer_run(c, bike ? "bike" : "part", id, email, notes, &c->out);
	if (rc == ERR_OK)
		log_info(&c->log, "ownership transferred");
out:
	json_object_put(body);
	valid_free(&v);
	return rc;
}

err_t transfers_bike(struct ctx *c)
{
	return transfers_run(c, 1);
}

err_t transfers_part(struct ctx *c)
{
	return transfers_run(c, 0);
}

static err_t transfers_history(struct ctx *c, const char *of)
{
	err_t rc;
	const char *id;

	if ((rc = routes_path_uuid(c, "id", &id)) != ERR_OK)
		return rc;
	return db_transfer_history(c, of, id, &c->out);
}

err_t transfers_bike_history(struct ctx *c)
{
	return transfers_history(c, "bike");
}

err_t transfers_part_history(struct ctx *c)
{
	return transfers_history(c, "part");
}

err_t transfers_summary(struct ctx *c)
{
	err_t rc;
	const char *user;

	if ((rc = routes_path_uuid(c, "user_id", &user)) != ERR_OK)
		return rc;
	return db_transfer_summary(c, user, &c->out);
}
