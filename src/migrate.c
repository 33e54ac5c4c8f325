/*
 * The migration command (docs/migrations.md). SQL_DIR/migrations holds numbered files,
 * applied once and never edited afterwards; SQL_DIR/functions holds repeatable files
 * (functions, views, policies, grants), all re-applied whenever one of them changes.
 * Bookkeeping lives in schema vehicles_admin, granted to no API role. Everything runs in one
 * transaction under an advisory lock: a run applies all of it or nothing.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <openssl/evp.h>

#include "log.h"
#include "migrate.h"

static const struct log_ctx migrate_log = {.op = "migrate"};

struct migrate_file {
	char *name;   /* file name, without its directory */
	char *sql;    /* contents, NUL-terminated */
	char sum[65]; /* SHA-256 of the contents, lower-case hex */
};

struct migrate_set {
	struct migrate_file *files;
	int n;
};

struct migrate_stats {
	int applied;    /* numbered files applied now */
	int backfilled; /* checksums recorded for files the old migrator applied */
	int repeated;   /* repeatable files applied now */
	char xact[32];  /* the migration transaction's id: a file that commits changes it */
	int ended;      /* a file ended that transaction: what ran before stays committed */
};

static void migrate_notice(void *arg, const char *msg)
{
	(void)arg;
	log_warn(&migrate_log, "%s", msg);
}

/*
 * A statement's result when it succeeded, else NULL with the server's error logged. Without
 * parameters, sql may hold several statements (the extended protocol takes only one).
 */
static PGresult *migrate_query(PGconn *pg, const char *sql, int n, const char *const *params,
			       const char *what)
{
	PGresult *r = n > 0 ? PQexecParams(pg, sql, n, NULL, params, NULL, NULL, 0) : PQexec(pg, sql);
	ExecStatusType st = PQresultStatus(r);

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return r;
	log_error(&migrate_log, "%s failed: %s", what, PQerrorMessage(pg));
	PQclear(r);
	return NULL;
}

static err_t migrate_command(PGconn *pg, const char *sql, int n, const char *const *params,
			     const char *what)
{
	PGresult *r = migrate_query(pg, sql, n, params, what);

	if (r == NULL)
		return ERR_INTERNAL;
	PQclear(r);
	return ERR_OK;
}

/* The 1-based line of a 1-based character position (UTF-8) in sql, 0 when unknown. */
static int migrate_line(const char *sql, const char *position)
{
	long chars = position ? strtol(position, NULL, 10) : 0;
	int line = 1;

	if (chars <= 0)
		return 0;
	for (const unsigned char *s = (const unsigned char *)sql; *s && chars > 1; s++) {
		if ((*s & 0xC0) == 0x80)
			continue; /* a continuation byte is part of the previous character */
		if (*s == '\n')
			line++;
		chars--;
	}
	return line;
}

static void migrate_log_failure(const struct migrate_file *f, const PGresult *r)
{
	const char *field[] = {
		PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL),
		PQresultErrorField(r, PG_DIAG_MESSAGE_HINT),
		PQresultErrorField(r, PG_DIAG_CONTEXT),
	};
	const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	int line = migrate_line(f->sql, PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION));

	log_error(&migrate_log, "%s failed at line %d: %s (SQLSTATE %s)%s%s%s%s%s%s", f->name, line,
		  msg ? msg : PQresultErrorMessage(r), state ? state : "-",
		  field[0] ? "; detail: " : "", field[0] ? field[0] : "",
		  field[1] ? "; hint: " : "", field[1] ? field[1] : "",
		  field[2] ? "; context: " : "", field[2] ? field[2] : "");
}

/* The current transaction's id (assigned now if it has none), into out. */
static err_t migrate_xact(PGconn *pg, char *out, size_t len)
{
	PGresult *r = migrate_query(pg, "SELECT pg_current_xact_id()::text", 0, NULL, "xact id");
	int n;

	if (r == NULL)
		return ERR_INTERNAL;
	n = snprintf(out, len, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return n < 0 || (size_t)n >= len ? ERR_INTERNAL : ERR_OK;
}

/* Runs one file's statements inside the migration's transaction. */
static err_t migrate_apply(PGconn *pg, const struct migrate_file *f, struct migrate_stats *st)
{
	PGresult *r = PQexec(pg, f->sql);
	char xact[32];
	ExecStatusType status = PQresultStatus(r);
	err_t rc = ERR_OK;

	/* An empty file, or one of comments only, is PGRES_EMPTY_QUERY: nothing to do. */
	if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_EMPTY_QUERY) {
		if (r != NULL)
			migrate_log_failure(f, r);
		else
			log_error(&migrate_log, "%s failed: %s", f->name, PQerrorMessage(pg));
		rc = ERR_INTERNAL;
	} else if (PQtransactionStatus(pg) != PQTRANS_INTRANS ||
		   migrate_xact(pg, xact, sizeof(xact)) != ERR_OK || strcmp(xact, st->xact) != 0) {
		/* A COMMIT in a file (even followed by a BEGIN) breaks all-or-nothing. */
		st->ended = 1;
		log_error(&migrate_log, "%s ended the migration's transaction: files must not "
			  "contain BEGIN, COMMIT or ROLLBACK", f->name);
		rc = ERR_INTERNAL;
	}
	PQclear(r);
	return rc;
}

static err_t migrate_sha256(const char *data, size_t len, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		return ERR_INTERNAL;
	for (unsigned int i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0x0F];
	}
	out[64] = '\0';
	return ERR_OK;
}

/* Reads path whole into f (contents and checksum). */
static err_t migrate_read(const char *path, struct migrate_file *f)
{
	FILE *in = fopen(path, "rb");
	err_t rc = ERR_INTERNAL;
	long len = -1;

	if (in == NULL || fseek(in, 0, SEEK_END) != 0 || (len = ftell(in)) < 0 ||
	    fseek(in, 0, SEEK_SET) != 0)
		goto out;
	f->sql = malloc((size_t)len + 1);
	if (f->sql == NULL || fread(f->sql, 1, (size_t)len, in) != (size_t)len)
		goto out;
	f->sql[len] = '\0';
	/* The checksum covers every byte; what runs stops at a NUL, so refuse one. */
	if (strlen(f->sql) != (size_t)len) {
		log_error(&migrate_log, "%s contains a NUL byte", path);
		goto out;
	}
	rc = migrate_sha256(f->sql, (size_t)len, f->sum);
out:
	if (rc != ERR_OK)
		log_error(&migrate_log, "cannot read %s", path);
	if (in != NULL)
		fclose(in);
	return rc;
}

static int migrate_is_sql(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 4 && strcmp(d->d_name + n - 4, ".sql") == 0 && d->d_name[0] != '.';
}

static void migrate_set_free(struct migrate_set *set)
{
	for (int i = 0; i < set->n; i++) {
		free(set->files[i].name);
		free(set->files[i].sql);
	}
	free(set->files);
	set->files = NULL;
	set->n = 0;
}

/* Byte order, whatever the locale: the order files apply in must not depend on it. */
static int migrate_name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Loads the .sql files of DIR/SUB in name order. */
static err_t migrate_set_load(const char *dir, const char *sub, struct migrate_set *set)
{
	struct dirent **names = NULL;
	char path[4096];
	err_t rc = ERR_INTERNAL;
	int n, len = snprintf(path, sizeof(path), "%s/%s", dir, sub);

	if (len < 0 || (size_t)len >= sizeof(path) ||
	    (n = scandir(path, &names, migrate_is_sql, migrate_name_cmp)) < 0) {
		log_error(&migrate_log, "cannot list %s/%s", dir, sub);
		return ERR_INTERNAL;
	}
	set->files = calloc(n > 0 ? (size_t)n : 1, sizeof(*set->files));
	if (set->files == NULL)
		goto out;
	for (; set->n < n; set->n++) {
		struct migrate_file *f = &set->files[set->n];

		f->name = strdup(names[set->n]->d_name);
		len = snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, names[set->n]->d_name);
		if (f->name == NULL || len < 0 || (size_t)len >= sizeof(path) ||
		    migrate_read(path, f) != ERR_OK) {
			set->n++; /* so that migrate_set_free frees this one too */
			goto out;
		}
	}
	rc = ERR_OK;
out:
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

static err_t migrate_bootstrap(PGconn *pg)
{
	return migrate_command(
		pg,
		"CREATE SCHEMA IF NOT EXISTS vehicles_admin;"
		"REVOKE ALL ON SCHEMA vehicles_admin FROM PUBLIC;"
		"CREATE TABLE IF NOT EXISTS vehicles_admin.schema_migrations ("
		" version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());"
		/* NULL: applied by the migrator that kept no checksums; filled in on the next run. */
		"ALTER TABLE vehicles_admin.schema_migrations ADD COLUMN IF NOT EXISTS checksum text;"
		"CREATE TABLE IF NOT EXISTS vehicles_admin.repeatable_migrations ("
		" name text PRIMARY KEY, checksum text NOT NULL,"
		" applied_at timestamptz NOT NULL DEFAULT now())",
		0, NULL, "bootstrap");
}

static const struct migrate_file *migrate_find(const struct migrate_set *set, const char *name)
{
	for (int i = 0; i < set->n; i++)
		if (strcmp(set->files[i].name, name) == 0)
			return &set->files[i];
	return NULL;
}

/* One numbered file: applied and recorded, checksum backfilled, or compared. */
static err_t migrate_numbered_one(PGconn *pg, const struct migrate_file *f,
				  struct migrate_stats *st)
{
	const char *p[2] = {f->name, f->sum};
	PGresult *r = migrate_query(
		pg, "SELECT checksum FROM vehicles_admin.schema_migrations WHERE version = $1", 1, p,
		"reading vehicles_admin.schema_migrations");
	err_t rc = ERR_INTERNAL;

	if (r == NULL)
		return ERR_INTERNAL;
	if (PQntuples(r) == 0) {
		rc = migrate_apply(pg, f, st);
		if (rc == ERR_OK)
			rc = migrate_command(pg, "INSERT INTO vehicles_admin.schema_migrations"
					     " (version, checksum) VALUES ($1, $2)", 2, p, "recording");
		if (rc == ERR_OK) {
			log_info(&migrate_log, "applied migration %s", f->name);
			st->applied++;
		}
	} else if (PQgetisnull(r, 0, 0)) {
		rc = migrate_command(pg, "UPDATE vehicles_admin.schema_migrations SET checksum = $2"
				     " WHERE version = $1", 2, p, "recording a checksum");
		if (rc == ERR_OK) {
			log_info(&migrate_log, "recorded the checksum of %s (applied before checksums "
				 "were kept)", f->name);
			st->backfilled++;
		}
	} else if (strcmp(PQgetvalue(r, 0, 0), f->sum) != 0) {
		log_error(&migrate_log, "%s was edited after it was applied; add a new migration "
			  "instead (recorded sha256 %s, file sha256 %s)", f->name, PQgetvalue(r, 0, 0),
			  f->sum);
	} else {
		rc = ERR_OK;
	}
	PQclear(r);
	return rc;
}

/* "new", "changed" or NULL (unchanged): f against the recorded rows (name, checksum). */
static const char *migrate_state(const struct migrate_file *f, const PGresult *recorded)
{
	for (int j = 0; j < PQntuples(recorded); j++)
		if (strcmp(PQgetvalue(recorded, j, 0), f->name) == 0)
			return strcmp(PQgetvalue(recorded, j, 1), f->sum) == 0 ? NULL : "changed";
	return "new";
}

/*
 * Compares the repeatable files with what was recorded: *changed is set when one is new,
 * different or gone. Rows of files that are gone are deleted here, in the transaction.
 */
static err_t migrate_repeatable_diff(PGconn *pg, const struct migrate_set *set, int *changed)
{
	PGresult *r = migrate_query(pg, "SELECT name, checksum FROM vehicles_admin.repeatable_migrations",
				    0, NULL, "reading vehicles_admin.repeatable_migrations");
	err_t rc = ERR_OK;

	if (r == NULL)
		return ERR_INTERNAL;
	for (int i = 0; i < set->n; i++) {
		const char *state = migrate_state(&set->files[i], r);

		if (state != NULL) {
			log_info(&migrate_log, "repeatable %s is %s", set->files[i].name, state);
			*changed = 1;
		}
	}
	for (int j = 0; j < PQntuples(r) && rc == ERR_OK; j++) {
		const char *p[1] = {PQgetvalue(r, j, 0)};

		if (migrate_find(set, p[0]) != NULL)
			continue;
		log_info(&migrate_log, "repeatable %s is gone", p[0]);
		*changed = 1;
		rc = migrate_command(pg, "DELETE FROM vehicles_admin.repeatable_migrations WHERE name = $1",
				     1, p, "forgetting a repeatable file");
	}
	PQclear(r);
	return rc;
}

/* When any repeatable file is new, changed or gone, or a numbered file was applied now (it
 * may have re-created a table and with it lost its policies and grants): all of them, in
 * order, recorded. */
static err_t migrate_repeatables(PGconn *pg, const struct migrate_set *set,
				 struct migrate_stats *st)
{
	int changed = 0;
	err_t rc = migrate_repeatable_diff(pg, set, &changed);

	if (rc != ERR_OK || (!changed && st->applied == 0))
		return rc;
	log_info(&migrate_log, "re-applying all %d repeatable files", set->n);
	for (int i = 0; i < set->n && rc == ERR_OK; i++) {
		const char *p[2] = {set->files[i].name, set->files[i].sum};

		rc = migrate_apply(pg, &set->files[i], st);
		if (rc == ERR_OK)
			rc = migrate_command(pg, "INSERT INTO vehicles_admin.repeatable_migrations"
					     " (name, checksum) VALUES ($1, $2) ON CONFLICT (name) DO"
					     " UPDATE SET checksum = EXCLUDED.checksum, applied_at = now()",
					     2, p, "recording a repeatable file");
		if (rc == ERR_OK) {
			log_info(&migrate_log, "applied repeatable %s", set->files[i].name);
			st->repeated++;
		}
	}
	return rc;
}

/* Recorded versions without a file: applied by a newer release (this one rolled back to?). */
static err_t migrate_orphans(PGconn *pg, const struct migrate_set *num)
{
	PGresult *r = migrate_query(pg, "SELECT version FROM vehicles_admin.schema_migrations"
				    " ORDER BY version", 0, NULL, "reading vehicles_admin.schema_migrations");

	if (r == NULL)
		return ERR_INTERNAL;
	for (int i = 0; i < PQntuples(r); i++)
		if (migrate_find(num, PQgetvalue(r, i, 0)) == NULL)
			log_warn(&migrate_log, "migration %s is recorded but has no file here",
				 PQgetvalue(r, i, 0));
	PQclear(r);
	return ERR_OK;
}

/* Bookkeeping, numbered files, repeatable files: inside the open transaction. */
static err_t migrate_all(PGconn *pg, const struct migrate_set *num, const struct migrate_set *rep,
			 struct migrate_stats *st)
{
	err_t rc = migrate_bootstrap(pg);

	for (int i = 0; i < num->n && rc == ERR_OK; i++)
		rc = migrate_numbered_one(pg, &num->files[i], st);
	if (rc == ERR_OK)
		rc = migrate_orphans(pg, num);
	if (rc == ERR_OK)
		rc = migrate_repeatables(pg, rep, st);
	return rc;
}

/* Session settings and the advisory lock, which waits for another instance's run. */
static err_t migrate_lock(PGconn *pg)
{
	PGresult *r;
	int got;

	PQsetNoticeProcessor(pg, migrate_notice, NULL);
	/* Quiet NOTICEs such as "relation already exists, skipping"; files are UTF-8. */
	if (migrate_command(pg, "SET client_min_messages = warning", 0, NULL, "SET") != ERR_OK ||
	    migrate_command(pg, "SET client_encoding = 'UTF8'", 0, NULL, "SET") != ERR_OK)
		return ERR_INTERNAL;
	r = migrate_query(pg, "SELECT pg_try_advisory_lock(hashtext('vehicles.migrate'))", 0, NULL,
			  "lock");
	if (r == NULL)
		return ERR_INTERNAL;
	got = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	if (got)
		return ERR_OK;
	log_info(&migrate_log, "another migration is running; waiting for it");
	return migrate_command(pg, "SELECT pg_advisory_lock(hashtext('vehicles.migrate'))", 0, NULL,
			       "lock");
}

static void migrate_report(const struct migrate_set *num, const struct migrate_set *rep,
			   const struct migrate_stats *st)
{
	if (st->applied == 0 && st->backfilled == 0 && st->repeated == 0)
		log_info(&migrate_log, "schema up to date (%d migrations, %d repeatable files): "
			 "nothing applied", num->n, rep->n);
	else
		log_info(&migrate_log, "committed: %d migration(s) applied, %d checksum(s) recorded, "
			 "%d repeatable file(s) applied", st->applied, st->backfilled, st->repeated);
}

/* BEGIN, everything, COMMIT; on failure ROLLBACK, and say what that leaves. */
static err_t migrate_transaction(PGconn *pg, const struct migrate_set *num,
				 const struct migrate_set *rep, struct migrate_stats *st)
{
	err_t rc = migrate_command(pg, "BEGIN", 0, NULL, "BEGIN");
	int ended_early;

	if (rc == ERR_OK)
		rc = migrate_xact(pg, st->xact, sizeof(st->xact));
	if (rc != ERR_OK)
		return rc;
	rc = migrate_all(pg, num, rep, st);
	/* Only a COMMIT or ROLLBACK inside a file closes the transaction before we do. */
	ended_early = PQtransactionStatus(pg) == PQTRANS_IDLE || st->ended;
	if (rc == ERR_OK)
		rc = migrate_command(pg, "COMMIT", 0, NULL, "COMMIT");
	if (rc == ERR_OK) {
		migrate_report(num, rep, st);
		return ERR_OK;
	}
	/* If this fails too, closing the connection aborts the transaction all the same. */
	if (PQtransactionStatus(pg) != PQTRANS_IDLE &&
	    migrate_command(pg, "ROLLBACK", 0, NULL, "ROLLBACK") != ERR_OK)
		log_error(&migrate_log, "rollback failed; disconnecting aborts the transaction");
	if (ended_early)
		log_error(&migrate_log, "migration failed: what ran before that file's COMMIT stays "
			  "committed; fix the file and check the database by hand");
	else
		log_error(&migrate_log, "migration failed: rolled back, nothing was changed");
	return rc;
}

err_t migrate_run(const char *conninfo, const char *sql_dir)
{
	struct migrate_set num = {0}, rep = {0};
	struct migrate_stats st = {0};
	PGconn *pg = NULL;
	err_t rc = migrate_set_load(sql_dir, "migrations", &num);

	/* Every file is read before connecting: a missing one changes nothing. */
	if (rc == ERR_OK)
		rc = migrate_set_load(sql_dir, "functions", &rep);
	if (rc != ERR_OK)
		goto out;
	pg = PQconnectdb(conninfo ? conninfo : "");
	if (PQstatus(pg) != CONNECTION_OK) {
		log_error(&migrate_log, "connect failed: %s", PQerrorMessage(pg));
		rc = ERR_UNAVAILABLE;
		goto out;
	}
	rc = migrate_lock(pg);
	if (rc == ERR_OK)
		rc = migrate_transaction(pg, &num, &rep, &st);
out:
	/* Closing the session releases the advisory lock. */
	PQfinish(pg);
	migrate_set_free(&num);
	migrate_set_free(&rep);
	return rc;
}
