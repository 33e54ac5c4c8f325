/* SQL of the internal summary. */
#ifndef VS_DB_SUMMARY_H
#define VS_DB_SUMMARY_H

#include <json-c/json.h>
#include "db.h"

/* {total_bikes, total_parts, total_kilometrage_km, bikes_needing_maintenance} of a user. */
err_t db_summary_get(struct db_sess *s, const char *user_id, json_object **out) WUR;

#endif
