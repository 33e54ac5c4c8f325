/* Shared bike/part validation: one rule set, so the two resources cannot drift apart. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "db_bike.h"
#include "db_part.h"
#include "gear.h"
#include "req.h"
#include "rules.h"

#define GEAR_INITIAL_PROBLEM "must be a number from 0 to " RULES_TEXT(RULES_INITIAL_KM_MAX) " km"

static const char *const gear_allowed[] = {"name", "type", "brand", "model", "purchase_date",
	"initial_kilometrage", "initial_mileage", "unit", "metadata", "purchase_price", NULL};
static const char *const gear_readonly[] = {"id", "user_id", "created_at", "updated_at",
	"total_kilometrage", "total_moving_time_s", "is_active", "current_bike_id", NULL};

/* Known metadata keys carry kilometres: a number >= 0 (or null in a patch, to remove it). */
static void gear_check_metadata(struct valid *v, json_object *meta)
{
	static const char *const keys[] = {"replacement_threshold_km", "maintenance_interval_km", NULL};
	json_object *val;

	for (const char *const *k = keys; *k; k++) {
		if (!json_object_object_get_ex(meta, *k, &val) || val == NULL)
			continue;
		if ((!json_object_is_type(val, json_type_double) && !json_object_is_type(val, json_type_int)) ||
		    json_object_get_double(val) < 0 || json_object_get_double(val) > RULES_THRESHOLD_KM_MAX) {
			char field[64];
			if (snprintf(field, sizeof(field), "metadata.%s", *k) < 0)
				continue;
			valid_add(v, field, "must be a number from 0 to " RULES_TEXT(RULES_THRESHOLD_KM_MAX) " (km)");
		}
	}
}

void gear_validate(struct valid *v, json_object *body, const char *const *types, int patch,
		   struct gear_input *in)
{
	int req = patch ? 0 : VALID_REQUIRED;
	const char *initial_field = "initial_kilometrage";
	double initial = 0;

	memset(in, 0, sizeof(*in));
	valid_fields(v, body, gear_allowed, gear_readonly);
	valid_unit(v, body, "unit", &in->unit);
	in->r_name = valid_string(v, body, "name", 1, RULES_NAME_MAX, req, &in->name);
	in->r_type = valid_enum(v, body, "type", types, req, &in->type);
	in->r_brand = valid_string(v, body, "brand", 0, RULES_BRAND_MAX, VALID_NULLABLE, &in->brand);
	in->r_model = valid_string(v, body, "model", 0, RULES_BRAND_MAX, VALID_NULLABLE, &in->model);
	in->r_date = valid_date(v, body, "purchase_date", VALID_NULLABLE, &in->purchase_date);
	if (json_object_object_get_ex(body, "initial_mileage", NULL)) {
		if (json_object_object_get_ex(body, "initial_kilometrage", NULL))
			valid_add(v, "initial_mileage", "give initial_kilometrage or initial_mileage, not both");
		initial_field = "initial_mileage";
	}
	/* The limit is in km, said in the unit the client uses. */
	in->r_initial = valid_number_in(v, body, initial_field, 0,
					in->unit == UNITS_MI ? RULES_INITIAL_KM_MAX / UNITS_MI_TO_KM : RULES_INITIAL_KM_MAX, 0, 0, &initial,
					GEAR_INITIAL_PROBLEM);
	if (in->r_initial == VALID_SET) {
		in->initial_km = units_to_km(initial, in->unit);
		if (in->initial_km > RULES_INITIAL_KM_MAX) {
			valid_add(v, initial_field, GEAR_INITIAL_PROBLEM);
			in->r_initial = VALID_BAD;
		}
	}
	in->r_price = valid_number(v, body, "purchase_price", 0, RULES_COST_MAX, 0, VALID_NULLABLE,
				   &in->purchase_price);
	if (in->r_price == VALID_SET)
		in->purchase_price = gear_round_price(in->purchase_price);
	/* Its size is the database's to measure, on the stored form (10_metadata.sql). */
	in->r_metadata = valid_object(v, body, "metadata", VALID_ANY_SIZE, 0, &in->metadata);
	if (in->r_metadata == VALID_SET)
		gear_check_metadata(v, in->metadata);
	/* An empty brand/model is "no brand": store NULL, not "". */
	if (in->r_brand == VALID_SET && in->brand[0] == '\0')
		in->r_brand = VALID_NULL;
	if (in->r_model == VALID_SET && in->model[0] == '\0')
		in->r_model = VALID_NULL;
}

static void gear_put_string(json_object *o, const char *key, enum valid_result r, const char *s)
{
	if (r == VALID_SET)
		json_object_object_add(o, key, json_object_new_string(s));
	else if (r == VALID_NULL)
		json_object_object_add(o, key, NULL);
}

double gear_round_price(double v)
{
	/* The decimal the client wrote may be a hair below its double (1.005 is 1.00499999..):
	 * a relative nudge, ten times the error of the parse and the product, lifts it back, at
	 * any magnitude up to the limit (999999999.995 too). */
	double r = round(v * 100.0 * (1.0 + 2e-15)) / 100.0;
	return r == 0.0 ? 0.0 : r;
}

/* The price as a JSON number printed with exactly its cents ("12.50"), not json-c's %.17g. */
static json_object *gear_price_json(double price)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%.2f", price);

	/* Never NULL for a price: that would be a JSON null, which clears it. */
	if (n < 0 || (size_t)n >= sizeof(buf))
		return json_object_new_double(price);
	return json_object_new_double_s(price, buf);
}

int gear_km_text(double km, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%.3f", units_round3(km));
	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

json_object *gear_patch_json(const struct gear_input *in)
{
	json_object *o = json_object_new_object();
	char km[32];

	if (o == NULL)
		return NULL;
	gear_put_string(o, "name", in->r_name, in->name);
	gear_put_string(o, "type", in->r_type, in->type);
	gear_put_string(o, "brand", in->r_brand, in->brand);
	gear_put_string(o, "model", in->r_model, in->model);
	gear_put_string(o, "purchase_date", in->r_date, in->purchase_date);
	if (in->r_initial == VALID_SET && gear_km_text(in->initial_km, km, sizeof(km)) == 0)
		json_object_object_add(o, "initial_kilometrage", json_object_new_string(km));
	if (in->r_metadata == VALID_SET)
		json_object_object_add(o, "metadata", json_object_get(in->metadata));
	if (in->r_price == VALID_SET)
		json_object_object_add(o, "purchase_price", gear_price_json(in->purchase_price));
	else if (in->r_price == VALID_NULL)
		json_object_object_add(o, "purchase_price", NULL);
	return o;
}

/* The validated fields, as text for the SQL, into the create or the patch of kind. */
static err_t gear_save(struct ctx *c, enum entity kind, const char *id, const struct gear_input *in)
{
	json_object *patch = gear_patch_json(in);
	const char *text;
	err_t rc;

	if (patch == NULL)
		return ERR_INTERNAL;
	text = json_object_to_json_string_ext(patch, JSON_C_TO_STRING_PLAIN);
	if (kind == ENTITY_BIKE)
		rc = id ? db_bike_update(&c->db, id, text, in->unit, &c->out)
			: db_bike_create(&c->db, text, in->unit, &c->out);
	else
		rc = id ? db_part_update(&c->db, id, text, in->unit, &c->out)
			: db_part_create(&c->db, text, in->unit, &c->out);
	json_object_put(patch);
	return rc;
}

err_t gear_write(struct ctx *c, enum entity kind, const char *id)
{
	json_object *body = NULL;
	struct valid v;
	struct gear_input in;
	err_t rc;

	valid_init(&v);
	if ((rc = req_body(c, 0, &body)) != ERR_OK)
		goto out;
	gear_validate(&v, body, kind == ENTITY_BIKE ? rules_bike_types : rules_part_types, id != NULL, &in);
	if (!valid_ok(&v)) {
		rc = req_invalid(c, &v);
		goto out;
	}
	rc = gear_save(c, kind, id, &in);
	if (rc == ERR_OK && id == NULL)
		c->status = 201;
out:
	json_object_put(body);
	valid_free(&v);
	return rc;
}

err_t gear_delete(struct ctx *c, enum entity kind)
{
	const char *id = req_param(c, "id");
	err_t rc = kind == ENTITY_BIKE ? db_bike_delete(&c->db, id) : db_part_delete(&c->db, id);

	return rc == ERR_OK ? req_deleted(c, id) : rc;
}

err_t gear_read(struct ctx *c, gear_read_fn read)
{
	units_unit u;
	err_t rc;

	if ((rc = req_query_unit(c, &u)) != ERR_OK)
		return rc;
	/* The row under RLS is the ownership check when it is found; the check runs only when
	 * it is not, to tell 404 from 403 (one statement less on every successful read). */
	c->db.pre_lazy = 1;
	rc = read(&c->db, req_param(c, "id"), u, &c->out);
	c->db.pre_lazy = 0;
	if (rc == ERR_NOT_FOUND && c->db.npre > 0 && c->db.last == ERR_OK) {
		err_t owned = db_run(&c->db, NULL, 0);
		if (owned != ERR_OK)
			return owned;
	}
	return rc;
}
