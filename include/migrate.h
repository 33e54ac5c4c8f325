/*
 * Brings a database to the SQL of a directory (docs/migrations.md): the .sql files of
 * SQL_DIR/migrations, numbered, each applied once and checksummed; then those of
 * SQL_DIR/functions, repeatable, all re-applied in name order when any of them is new,
 * changed or gone.
 */
#ifndef VS_MIGRATE_H
#define VS_MIGRATE_H

#include "err.h"

/*
 * One transaction under an advisory lock, so two starting instances cannot race and a
 * failure changes nothing. conninfo must be a direct connection (the lock is a session
 * lock, which a transaction pooler does not keep).
 */
err_t migrate_run(const char *conninfo, const char *sql_dir) WUR;

#endif
