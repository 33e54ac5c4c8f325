/* Query results and JSON our SQL built, made into the API's shape. */
#ifndef VS_DB_JSON_H
#define VS_DB_JSON_H

#include <libpq-fe.h>
#include <json-c/json.h>

#include "units.h"

/* Row to JSON: column names are keys ("a.b" nests b inside object a); numeric distance
 * columns are converted to unit and rounded, and the object gets "unit"; timestamptz
 * becomes RFC 3339 UTC; json/jsonb is parsed; NULL is null. */
json_object *db_json_row(const PGresult *res, int row, units_unit unit);
/* All rows as an array of objects. */
json_object *db_json_rows(const PGresult *res, units_unit unit);
/* A JSON document built by our SQL (to_jsonb, distances in km) made into API shape in place:
 * distance keys converted to unit, "..._at" times from +00:00 to Z, "unit" added beside;
 * metadata is the user's and left alone. */
void db_json_api(json_object *o, units_unit unit);
/* Parses JSON text our SQL produced. Deeper than request bodies may nest, because the
 * database wraps a client's metadata in more levels (ride answer: body.bike.metadata). */
json_object *db_json_parse(const char *text);

#endif
