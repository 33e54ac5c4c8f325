/* The list cache's generation (sql/functions/85_cache.sql): the caller's, in its snapshot. */
#ifndef VS_DB_CACHE_H
#define VS_DB_CACHE_H

#include <stddef.h>

#include "db.h"

/* The caller's list generation into gen (size bytes), "" when the caller has none (never
 * written: not cached). One db_run: the session's claims and the one statement, so one round
 * trip. */
err_t db_cache_gen(struct db_sess *s, char *gen, size_t size) WUR;

#endif
