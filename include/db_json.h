/* Query results and JSON our SQL built, made into the API's shape. */
#ifndef VS_DB_JSON_H
#define VS_DB_JSON_H

#include <libpq-fe.h>
#include <json-c/json.h>

#include "jtext.h"
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

/* The same as text: db_json_row's object as json-c writes it under JTEXT_FLAGS, byte for
 * byte, with no tree (a fraction of the work). close 0 leaves the object open for the
 * caller's own members; returns 1 when it wrote a member (so the caller's first needs a
 * comma). Only for a result db_json_text_ok accepts, given the keys the caller adds (extra,
 * NULL-terminated, may be NULL). It refuses a column "unit" or one of extra, a key twice at
 * one level, a nested object's columns not side by side: the tree would say those
 * otherwise. The statements that feed the text are checked against it in
 * tests/unit/check_db_json_text.c (test_our_statements_are_written_as_text); a refusal at
 * run time is ERR_INTERNAL, never an answer that differs. */
int db_json_text_ok(const PGresult *res, const char *const *extra);
int db_json_row_text(struct jtext *t, const PGresult *res, int row, units_unit unit, int close);
/* All rows: a JSON array of them. */
void db_json_rows_text(struct jtext *t, const PGresult *res, units_unit unit);
/* db_json_rows for an answer sent as it is: its text, so the value must not be looked into
 * or changed, only sent or stored. NULL when db_json_text_ok refuses res, or out of memory. */
json_object *db_json_rows_out(const PGresult *res, units_unit unit);

#endif
