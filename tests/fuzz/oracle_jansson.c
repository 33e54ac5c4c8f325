/* A second opinion on a body: jansson, libjwt's JSON parser, which keeps to RFC 8259.
 * Apart from fuzz_body.c because jansson and json-c both name something json_object. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "oracle_jansson.h"

int fuzz_jansson_object(const char *buf, size_t len, char *why, size_t why_size)
{
	json_error_t err;
	/* Integers as reals: the service takes integers up to 2^64 - 1 (body.h), jansson only
	 * int64. Duplicates are refused by both. */
	json_t *j = json_loadb(buf, len, JSON_DECODE_INT_AS_REAL | JSON_REJECT_DUPLICATES, &err);
	int ok = j != NULL && json_is_object(j);

	if (!ok)
		snprintf(why, why_size, "%s (line %d, column %d)", j ? "not an object" : err.text,
			 err.line, err.column);
	json_decref(j);
	return ok;
}
