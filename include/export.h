/* GET /api/export: everything the caller owns, as one JSON document streamed as it is read. */
#ifndef VS_EXPORT_H
#define VS_EXPORT_H

#include <stddef.h>

#include "ctx.h"

/* The route's statement bound: one FETCH, or the sort before a big account's first rides;
 * under nginx's fastcgi_read_timeout (30 s), which must outlast any gap between two writes. */
#define EXPORT_TIMEOUT_MS 25000

/* GET (and HEAD: the status and headers a GET would get now, without counting an export). */
err_t export_run(struct ctx *c) WUR;

/*
 * The document's framing, written through sink as it goes (pure but for sink): head is the
 * JSON object that opens the document ({"exported_at", "user_id", "unit"}), then each
 * section's name, its rows (JSON texts), and the end. Any failed write sticks: every later
 * call does nothing and returns -1.
 */
struct export_writer {
	int (*sink)(void *arg, const char *buf, size_t len);
	void *arg;
	int in_section; /* a section's array is open */
	int rows;       /* rows written in it */
	int failed;
};
int export_write_head(struct export_writer *w, const char *head);
int export_write_section(struct export_writer *w, const char *name);
int export_write_row(struct export_writer *w, const char *row);
int export_write_end(struct export_writer *w);

#endif
