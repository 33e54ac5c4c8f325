/* Transfers: validate {new_owner_email, notes?}; the SQL does lookup, locks and history. */
#include <string.h>

#include "db_transfer.h"
#include "req.h"
#include "rules.h"
#include "transfers.h"

err_t transfers_run(struct ctx *c)
{
	enum entity of = req_kind(c);
	static const char *const allowed[] = {"new_owner_email", "notes", NULL};
	const char *email, *notes = NULL;
	json_object *body = NULL;
	struct valid v;
	err_t rc;

	valid_init(&v);
	if ((rc = req_body(c, 0, &body)) != ERR_OK)
		goto out;
	valid_fields(&v, body, allowed, NULL);
	(void)valid_email(&v, body, "new_owner_email", VALID_REQUIRED, &email);
	(void)valid_string(&v, body, "notes", 0, RULES_NOTES_MAX, VALID_NULLABLE, &notes);
	if (!valid_ok(&v)) {
		rc = req_invalid(c, &v);
		goto out;
	}
	rc = db_transfer_run(&c->db, of, req_param(c, "id"), email, notes, &c->out);
	if (rc == ERR_OK)
		log_info(&c->log, "ownership transferred");
out:
	json_object_put(body);
	valid_free(&v);
	return rc;
}

/* One owner period: {user_id, is_you, from, to}; takes from and to. */
static json_object *transfers_owner(const char *user, const char *me, json_object *from,
				    json_object *to)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "user_id", user ? json_object_new_string(user) : NULL);
	json_object_object_add(o, "is_you", json_object_new_boolean(user && strcmp(user, me) == 0));
	json_object_object_add(o, "from", from);
	json_object_object_add(o, "to", to);
	return o;
}

static const char *transfers_str(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : NULL;
}

/* Owner periods: creation to the first transfer, transfer to transfer, the last open. */
static json_object *transfers_owners(json_object *owner, json_object *transfers, const char *me)
{
	json_object *owners = json_object_new_array(), *since = NULL, *at;
	size_t n = json_object_array_length(transfers);

	json_object_object_get_ex(owner, "created_at", &since);
	since = json_object_get(since);
	for (size_t i = 0; i < n; i++) {
		json_object *t = json_object_array_get_idx(transfers, i);
		at = NULL;
		json_object_object_get_ex(t, "transferred_at", &at);
		json_object_array_add(owners, transfers_owner(transfers_str(t, "previous_owner_id"), me,
							      since, json_object_get(at)));
		since = json_object_get(at);
	}
	json_object_array_add(owners, transfers_owner(transfers_str(owner, "user_id"), me, since, NULL));
	return owners;
}

err_t transfers_history(struct ctx *c)
{
	enum entity of = req_kind(c);
	const char *id = req_param(c, "id");
	json_object *owner = NULL, *transfers = NULL;
	err_t rc = db_transfer_history(&c->db, of, id, &owner, &transfers);

	if (rc != ERR_OK)
		return rc;
	c->out = json_object_new_object();
	json_object_object_add(c->out, "entity_type", json_object_new_string(entity_name(of)));
	json_object_object_add(c->out, "id", json_object_new_string(id));
	json_object_object_add(c->out, "owners", transfers_owners(owner, transfers, c->id.sub));
	json_object_object_add(c->out, "transfers", transfers);
	json_object_put(owner);
	return ERR_OK;
}
