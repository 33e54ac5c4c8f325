/* Request bodies: size cap, JSON object with a nesting limit, strict UTF-8. */
#ifndef VS_BODY_H
#define VS_BODY_H

#include <stddef.h>
#include <json-c/json.h>
#include "err.h"

#define BODY_MAX_BYTES (64 * 1024)
#define BODY_MAX_DEPTH 32

/*
 * Parses buf[0..len). An empty body gives *out = NULL and ERR_OK when allow_empty,
 * else ERR_VALIDATION. Anything but one JSON object -> ERR_VALIDATION with *why set.
 */
err_t body_parse(const char *buf, size_t len, int allow_empty, json_object **out,
		 const char **why) WUR;
/* 1 when buf is strict UTF-8 (no overlong forms, surrogates or raw control bytes). */
int body_utf8_valid(const char *buf, size_t len);
/* 1 when a Content-Type header names JSON (application/json, optionally with parameters). */
int body_is_json_type(const char *content_type);

#endif
