/* Request context lifecycle and query-string decoding. */
#include <stdlib.h>
#include <string.h>

#include "ctx.h"

void ctx_init(struct ctx *c)
{
	memset(c, 0, sizeof(*c));
	c->status = 200;
	c->total_count = -1;
}

void ctx_reset(struct ctx *c)
{
	struct db_conn *conn = c->conn;
	const struct auth_keys *keys = c->keys;

	free(c->body);
	free(c->query_buf);
	auth_identity_clear(&c->id);
	json_object_put(c->out);
	json_object_put(c->err_details);
	ctx_init(c);
	c->conn = conn;
	c->keys = keys;
}

static int ctx_hex(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Decodes %XX and '+' in place. */
static void ctx_urldecode(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (*s == '+') {
			*w++ = ' ';
		} else if (*s == '%' && ctx_hex(s[1]) >= 0 && ctx_hex(s[2]) >= 0 &&
			   (s[1] != '0' || s[2] != '0')) {
			/* %00 stays literal: a NUL would silently cut the value short. */
			*w++ = (char)(ctx_hex(s[1]) * 16 + ctx_hex(s[2]));
			s += 2;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

void ctx_parse_query(struct ctx *c, const char *qs)
{
	char *p, *save = NULL;

	c->nquery = 0;
	if (qs == NULL || *qs == '\0')
		return;
	c->query_buf = strdup(qs);
	if (c->query_buf == NULL)
		return;
	for (p = strtok_r(c->query_buf, "&", &save); p; p = strtok_r(NULL, "&", &save)) {
		if (c->nquery == CTX_QUERY_MAX) {
			c->query_overflow = 1;
			break;
		}
		char *eq = strchr(p, '=');
		if (eq)
			*eq++ = '\0';
		ctx_urldecode(p);
		if (eq)
			ctx_urldecode(eq);
		c->query[c->nquery].name = p;
		c->query[c->nquery].value = eq ? eq : "";
		c->nquery++;
	}
}

const char *ctx_query(const struct ctx *c, const char *name)
{
	for (int i = 0; i < c->nquery; i++)
		if (strcmp(c->query[i].name, name) == 0)
			return c->query[i].value;
	return NULL;
}

err_t ctx_fail(struct ctx *c, err_t e, const char *msg, json_object *details)
{
	c->err_msg = msg;
	if (details) {
		json_object_put(c->err_details);
		c->err_details = details;
	}
	return e;
}

err_t ctx_fail_field(struct ctx *c, const char *field, const char *problem)
{
	json_object *d = json_object_new_object();

	if (d)
		json_object_object_add(d, field, json_object_new_string(problem));
	return ctx_fail(c, ERR_VALIDATION, NULL, d);
}

err_t ctx_stream_begin(struct ctx *c)
{
	static const char head[] = "Status: 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
				   "Cache-Control: no-store\r\n\r\n";

	if (c->sink == NULL || c->streamed)
		return ERR_INTERNAL;
	c->streamed = 1;
	c->status = 200;
	return ctx_stream_write(c, head, sizeof(head) - 1);
}

err_t ctx_stream_write(struct ctx *c, const char *buf, size_t len)
{
	if (c->sink == NULL || !c->streamed)
		return ERR_INTERNAL;
	return c->sink(c->sink_arg, buf, len) == 0 ? ERR_OK : ERR_UNAVAILABLE;
}
