/*
 * The migration command. Versions applied are kept in vehicles_admin.schema_migrations, a
 * schema granted to no API role. Re-running is a no-op.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "log.h"
#include "migrate.h"

static const struct log_ctx migrate_log = {.op = "migrate"};

static int migrate_exec(PGconn *pg, const char *sql, const char *what)
{
	PGresult *r = PQexec(pg, sql);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;

	if (!ok)
		log_error(&migrate_log, "%s failed: %s", what, PQerrorMessage(pg));
	PQclear(r);
	return ok ? 0 : -1;
}

static char *migrate_slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long len;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)len + 1);
		if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
			free(buf);
			buf = NULL;
		} else if (buf) {
			buf[len] = '\0';
		}
	}
	fclose(f);
	return buf;
}

static int migrate_is_sql(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return n > 4 && strcmp(d->d_name + n - 4, ".sql") == 0 && d->d_name[0] != '.';
}

static int migrate_applied(PGconn *pg, const char *version)
{
	const char *p[1] = {version};
	PGresult *r = PQexecParams(pg, "SELECT 1 FROM vehicles_admin.schema_migrations WHERE version = $1",
				   1, NULL, p, NULL, NULL, 0);
	int applied = PQresultStatus(r) == PGRES_TUPLES_OK ? PQntuples(r) > 0 : -1;

	if (applied < 0)
		log_error(&migrate_log, "reading applied versions failed: %s", PQerrorMessage(pg));
	PQclear(r);
	return applied;
}

static int migrate_one(PGconn *pg, const char *dir, const char *name)
{
	char path[4096];
	const char *p[1] = {name};
	char *sql;
	PGresult *r;
	int rc = -1;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -1;
	sql = migrate_slurp(path);
	if (sql == NULL) {
		log_error(&migrate_log, "cannot read %s", path);
		return -1;
	}
	if (migrate_exec(pg, "BEGIN", "BEGIN") != 0)
		goto out;
	if (migrate_exec(pg, sql, name) != 0) {
		(void)migrate_exec(pg, "ROLLBACK", "ROLLBACK");
		goto out;
	}
	r = PQexecParams(pg, "INSERT INTO vehicles_admin.schema_migrations (version) VALUES ($1)", 1,
			 NULL, p, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		log_error(&migrate_log, "recording %s failed: %s", name, PQerrorMessage(pg));
		PQclear(r);
		(void)migrate_exec(pg, "ROLLBACK", "ROLLBACK");
		goto out;
	}
	PQclear(r);
	if (migrate_exec(pg, "COMMIT", "COMMIT") != 0)
		goto out;
	log_info(&migrate_log, "applied %s", name);
	rc = 0;
out:
	free(sql);
	return rc;
}

err_t migrate_run(const char *conninfo, const char *dir)
{
	struct dirent **names = NULL;
	PGconn *pg = PQconnectdb(conninfo ? conninfo : "");
	err_t rc = ERR_INTERNAL;
	int n = -1, applied = 0;

	if (PQstatus(pg) != CONNECTION_OK) {
		log_error(&migrate_log, "connect failed: %s", PQerrorMessage(pg));
		rc = ERR_UNAVAILABLE;
		goto out;
	}
	/* Quiet NOTICEs such as "schema already exists, skipping". */
	if (migrate_exec(pg, "SET client_min_messages = warning", "SET") != 0 ||
	    migrate_exec(pg, "SELECT pg_advisory_lock(hashtext('vehicles.migrate'))", "lock") != 0)
		goto out;
	if (migrate_exec(pg,
			 "CREATE SCHEMA IF NOT EXISTS vehicles_admin;"
			 "REVOKE ALL ON SCHEMA vehicles_admin FROM PUBLIC;"
			 "CREATE TABLE IF NOT EXISTS vehicles_admin.schema_migrations ("
			 " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
			 "bootstrap") != 0)
		goto out;
	n = scandir(dir, &names, migrate_is_sql, alphasort);
	if (n < 0) {
		log_error(&migrate_log, "cannot list %s", dir);
		goto out;
	}
	for (int i = 0; i < n; i++) {
		int done = migrate_applied(pg, names[i]->d_name);
		if (done < 0)
			goto out;
		if (done)
			continue;
		if (migrate_one(pg, dir, names[i]->d_name) != 0)
			goto out;
		applied++;
	}
	log_info(&migrate_log, "schema up to date (%d applied now, %d files)", applied, n);
	rc = ERR_OK;
out:
	if (names) {
		for (int i = 0; i < n; i++)
			free(names[i]);
		free(names);
	}
	/* Closing the session releases the advisory lock. */
	PQfinish(pg);
	return rc;
}
