/* One line per event on stderr, with the request's context. Never pass tokens or secrets. */
#ifndef VS_LOG_H
#define VS_LOG_H

struct log_ctx {
	const char *request_id;  /* nginx $request_id, or NULL */
	const char *user_id;     /* token sub, or NULL */
	const char *op;          /* e.g. "bikes.create" */
	const char *resource_id; /* path id, or NULL */
};

#define LOG_FMT(a, b) __attribute__((format(printf, a, b)))

void log_error(const struct log_ctx *ctx, const char *fmt, ...) LOG_FMT(2, 3);
void log_warn(const struct log_ctx *ctx, const char *fmt, ...) LOG_FMT(2, 3);
void log_info(const struct log_ctx *ctx, const char *fmt, ...) LOG_FMT(2, 3);

#endif
