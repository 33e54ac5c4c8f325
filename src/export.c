/*
 * GET /api/export (include/export.h). In order: the query (400), the hourly limit (429, on
 * the worker's connection), the snapshot (a connection of the export's own, db_export.c),
 * then the document, written a row at a time: the worker holds one chunk of rows and one
 * row's JSON, whatever the account's size. Until the head is out every failure is an
 * ordinary JSON error; after it the worker cuts the connection (ctx.h: streamed), so the
 * client sees a truncated response, never a short document that looks whole.
 */
#include <string.h>

#include "db_export.h"
#include "db_json.h"
#include "export.h"
#include "req.h"

/* The writer's sink: the request's stream (ctx_stream_write). */
static int export_sink(void *arg, const char *buf, size_t len)
{
	return ctx_stream_write(arg, buf, len) == ERR_OK ? 0 : -1;
}

static int export_put(struct export_writer *w, const char *buf, size_t len)
{
	if (w->failed || w->sink(w->arg, buf, len) != 0) {
		w->failed = 1;
		return -1;
	}
	return 0;
}

int export_write_head(struct export_writer *w, const char *head)
{
	size_t n = head ? strlen(head) : 0;

	w->in_section = 0;
	w->rows = 0;
	/* An object with at least one member, its closing brace held back for the sections. */
	if (n < 3 || head[0] != '{' || head[n - 1] != '}') {
		w->failed = 1;
		return -1;
	}
	return export_put(w, head, n - 1);
}

int export_write_section(struct export_writer *w, const char *name)
{
	if (name == NULL || *name == '\0' || strpbrk(name, "\"\\") != NULL) {
		w->failed = 1;
		return -1;
	}
	if ((w->in_section && export_put(w, "]", 1) != 0) || export_put(w, ",\"", 2) != 0 ||
	    export_put(w, name, strlen(name)) != 0 || export_put(w, "\":[", 3) != 0)
		return -1;
	w->in_section = 1;
	w->rows = 0;
	return 0;
}

int export_write_row(struct export_writer *w, const char *row)
{
	if (!w->in_section || row == NULL) {
		w->failed = 1;
		return -1;
	}
	if ((w->rows > 0 && export_put(w, ",", 1) != 0) || export_put(w, row, strlen(row)) != 0)
		return -1;
	w->rows++;
	return 0;
}

int export_write_end(struct export_writer *w)
{
	if (w->in_section && export_put(w, "]", 1) != 0)
		return -1;
	w->in_section = 0;
	return export_put(w, "}", 1);
}

/* One row of a section: the API's object (db_json_row, km), written out and freed. */
static err_t export_row(void *arg, const PGresult *res, int row)
{
	struct export_writer *w = arg;
	json_object *o = db_json_row(res, row, UNITS_KM);
	int rc;

	if (o == NULL)
		return ERR_INTERNAL;
	rc = export_write_row(w, json_object_to_json_string_ext(o, CTX_JSON_FLAGS));
	json_object_put(o);
	return rc == 0 ? ERR_OK : ERR_UNAVAILABLE;
}

/* The head and every section; the snapshot is begun, the head not yet out. */
static err_t export_stream(struct ctx *c, struct db_export *x, json_object *head,
			   struct export_writer *w)
{
	err_t rc;

	json_object_object_add(head, "unit", json_object_new_string("km"));
	if ((rc = ctx_stream_begin(c)) != ERR_OK)
		return rc;
	if (export_write_head(w, json_object_to_json_string_ext(head, CTX_JSON_FLAGS)) != 0)
		return ERR_UNAVAILABLE;
	for (int s = 0; s < DB_EXPORT__COUNT; s++) {
		if (export_write_section(w, db_export_section_name((enum db_export_section)s)) != 0)
			return ERR_UNAVAILABLE;
		if ((rc = db_export_section(x, (enum db_export_section)s, export_row, w)) != ERR_OK)
			return rc;
	}
	return ERR_OK;
}

/* ?unit= may only say what the export is in. */
static err_t export_query(struct ctx *c)
{
	const char *u = ctx_query(c, "unit");

	if (u && strcmp(u, "km") != 0)
		return ctx_fail_field(c, "unit", "must be km: an export is always in km");
	return ERR_OK;
}

err_t export_run(struct ctx *c)
{
	int head_only = strcmp(c->method, "HEAD") == 0;
	struct export_writer w = {.sink = export_sink, .arg = c};
	struct db_export *x = NULL;
	json_object *head = NULL;
	long retry_after = 0;
	err_t rc;

	if ((rc = export_query(c)) != ERR_OK)
		return rc;
	/* Counted first, in a round trip of its own (a database that cannot be reached fails it
	 * and costs the caller none of their exports); the connection is borrowed only after it,
	 * since db_run may replace a connection it finds broken. */
	if ((rc = db_export_limit(&c->db, !head_only, &retry_after)) != ERR_OK)
		goto out;
	if (retry_after > 0) {
		c->retry_after = retry_after;
		rc = ctx_fail(c, ERR_RATE_LIMITED, "at most 5 exports per hour", NULL);
		goto out;
	}
	if (head_only) {
		c->out = json_object_new_object();
		rc = c->out ? ERR_OK : ERR_INTERNAL;
		goto out;
	}
	if ((rc = db_export_open(&x, &c->db)) != ERR_OK)
		goto out;
	log_info(&c->log, "export begun");
	if ((rc = db_export_begin(x, &c->db, &head)) == ERR_OK &&
	    (rc = export_stream(c, x, head, &w)) == ERR_OK) {
		/* Committed before the last brace: a document that ends is a snapshot that held. */
		rc = db_export_close(x);
		x = NULL;
		if (rc == ERR_OK && export_write_end(&w) != 0)
			rc = ERR_UNAVAILABLE;
	}
out:
	json_object_put(head);
	(void)db_export_close(x);
	return rc;
}
