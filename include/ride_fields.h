/* A ride's fields as a request gives them, checked once for the three routes that take them
 * (log, edit, batch) and turned into what the database stores. */
#ifndef VS_RIDE_FIELDS_H
#define VS_RIDE_FIELDS_H

#include <time.h>
#include <json-c/json.h>

#include "units.h"
#include "valid.h"

enum ride_fields_mode {
	RIDE_FIELDS_NEW,   /* POST .../kilometrage: distance required; unit in the body */
	RIDE_FIELDS_EDIT,  /* PATCH .../kilometrage/:log_id: every field optional */
	RIDE_FIELDS_BATCH, /* one ride of POST /api/rides/batch: bike_id, source, external_id required */
};

/*
 * Checks body's fields for mode (each problem added to v) with distances and elevations in
 * unit u, and returns a new object of the fields given, as stored (distance in km, 3
 * decimals; elevation_gain in metres), for the SQL functions: NULL when v has problems or
 * memory ran out. A nullable field given as null (an edit clearing notes) is kept as null;
 * in a new ride a null is the same as leaving it out.
 */
json_object *ride_fields_check(struct valid *v, json_object *body, units_unit u, time_t now,
			       enum ride_fields_mode mode);

#endif
