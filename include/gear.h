/* What bikes and parts share: their fields, validated the same way for create and patch, and
 * the handlers that differ only in which of the two they serve. */
#ifndef VS_GEAR_H
#define VS_GEAR_H

#include <stddef.h>
#include <json-c/json.h>
#include "ctx.h"
#include "entity.h"
#include "err.h"
#include "units.h"
#include "valid.h"

struct gear_input {
	const char *name, *type, *brand, *model, *purchase_date;
	double initial_km;       /* converted to km and rounded */
	double purchase_price;   /* rounded to cents */
	json_object *metadata;   /* borrowed from the body */
	units_unit unit;
	enum valid_result r_name, r_type, r_brand, r_model, r_date, r_initial, r_metadata,
		r_price;
};

/*
 * Validates body against the shared rules of api-notes: allowed and read-only fields, name,
 * type (one of types), brand, model, purchase_date, initial_kilometrage (or its alias
 * initial_mileage) in unit, metadata, purchase_price (0..RULES_COST_MAX, nullable, to 2
 * decimals). patch: every field optional, nullable ones may be null.
 */
void gear_validate(struct valid *v, json_object *body, const char *const *types, int patch,
		   struct gear_input *in);
/* The validated fields as one JSON object (keys present = fields to set), for SQL. */
json_object *gear_patch_json(const struct gear_input *in);
/* An amount rounded to cents, half away from zero as the decimal the client wrote
 * (1.005 is 1.01 although its double is a hair below). */
double gear_round_price(double v);
/* Formats a km value for a numeric SQL parameter. */
int gear_km_text(double km, char *buf, size_t len) WUR;

/* Create (id NULL; 201) or patch the bike or part: the shared rules, then one transaction. */
err_t gear_write(struct ctx *c, enum entity kind, const char *id) WUR;
/* DELETE of the path's bike or part: 200 {"success": true, "id"}. */
err_t gear_delete(struct ctx *c, enum entity kind) WUR;
/* A read of the path's :id in ?unit=: read(session, id, unit, &c->out). */
typedef err_t (*gear_read_fn)(struct db_sess *s, const char *id, units_unit u, json_object **out);
err_t gear_read(struct ctx *c, gear_read_fn read) WUR;

#endif
