/*
 * Log lines: "LEVEL req=.. user=.. op=.. id=.. message". One write(2) per line so lines
 * from several workers sharing stderr do not interleave.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static void log_line(const char *level, const struct log_ctx *ctx, const char *fmt, va_list ap)
{
	char buf[2048];
	size_t len = 0;
	int n;
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	n = snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ %s pid=%d req=%s user=%s op=%s id=%s ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     level, (int)getpid(),
		     ctx && ctx->request_id ? ctx->request_id : "-",
		     ctx && ctx->user_id ? ctx->user_id : "-",
		     ctx && ctx->op ? ctx->op : "-",
		     ctx && ctx->resource_id ? ctx->resource_id : "-");
	if (n < 0)
		return;
	len = (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1;
	n = vsnprintf(buf + len, sizeof(buf) - len, fmt, ap);
	if (n > 0)
		len += (size_t)n < sizeof(buf) - len ? (size_t)n : sizeof(buf) - len - 1;
	/* Keep each event on one line whatever the message (libpq errors end in newlines). */
	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\n' || buf[i] == '\r')
			buf[i] = ' ';
	if (len >= sizeof(buf) - 1)
		len = sizeof(buf) - 2;
	buf[len++] = '\n';
	if (write(STDERR_FILENO, buf, len) < 0)
		return;
}

#define LOG_DEFINE(name, level)                                                  \
	void name(const struct log_ctx *ctx, const char *fmt, ...)               \
	{                                                                        \
		va_list ap;                                                      \
		va_start(ap, fmt);                                               \
		log_line(level, ctx, fmt, ap);                                   \
		va_end(ap);                                                      \
	}

LOG_DEFINE(log_error, "ERROR")
LOG_DEFINE(log_warn, "WARN")
LOG_DEFINE(log_info, "INFO")
