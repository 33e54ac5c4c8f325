/* Applies the migration files (sql/migrations, *.sql) in name order, each once, in its own transaction. */
#ifndef VS_MIGRATE_H
#define VS_MIGRATE_H

#include "err.h"

/* Holds an advisory lock for the whole run so two starting instances cannot race. */
err_t migrate_run(const char *conninfo, const char *dir) WUR;

#endif
