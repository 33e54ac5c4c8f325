/* Request bodies: size cap, JSON object with a nesting limit, strict UTF-8. */
#ifndef VS_BODY_H
#define VS_BODY_H

#include <stddef.h>
#include <json-c/json.h>
#include "err.h"

#define BODY_MAX_BYTES (64 * 1024)
#define BODY_MAX_DEPTH 32
/*
 * Numbers come back as they were sent or are refused. PostgreSQL's jsonb stores a number as
 * numeric and writes it out in plain decimal (1e2 -> 100, 1.50e-3 -> 0.00150, 1e-9999 ->
 * ten thousand characters), and json-c clamps integers beyond 64 bits. So every number, written
 * out that way, has at most BODY_NUMBER_DIGITS_MAX digits, and if it is an integer there (no
 * fraction digits) it lies in [-2^63, 2^64 - 1]; its exponent has at most 4 digits.
 */
#define BODY_NUMBER_DIGITS_MAX 40
#define BODY_TEXT_(x) #x
#define BODY_TEXT(x) BODY_TEXT_(x)

/*
 * Parses buf[0..len). An empty body gives *out = NULL and ERR_OK when allow_empty,
 * else ERR_VALIDATION. Anything but one JSON object -> ERR_VALIDATION with *why set.
 */
err_t body_parse(const char *buf, size_t len, int allow_empty, json_object **out,
		 const char **why) WUR;
/*
 * body_parse, telling where: when the refusal is a number inside one top-level member (its key
 * plain text shorter than field_size), field gets that key and *why the problem to report for
 * it ("has a number out of range"); otherwise field is "" and *why is about the body.
 */
err_t body_parse_field(const char *buf, size_t len, int allow_empty, json_object **out,
		       const char **why, char *field, size_t field_size) WUR;
/*
 * body_parse for a body whose members are checked one by one afterwards (a batch: one bad
 * ride must not refuse the others): the syntax, UTF-8 and duplicate keys are checked as
 * there, but numbers of any size and the \u0000 escape are left for the caller's own checks
 * (json-c reads a huge number as an out-of-range double or a clamped integer, and keeps a
 * U+0000 inside a string's length). An empty body is refused.
 */
err_t body_parse_values(const char *buf, size_t len, json_object **out, const char **why) WUR;
/* 1 when buf is strict UTF-8 (no overlong forms, surrogates or raw control bytes). */
int body_utf8_valid(const char *buf, size_t len);
/* 1 when a Content-Type header names JSON (application/json, optionally with parameters). */
int body_is_json_type(const char *content_type);

#endif
