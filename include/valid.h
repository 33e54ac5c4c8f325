/*
 * Input validation at the boundary. Each check adds its field's problem to one details
 * object, so a client learns every problem of a request at once.
 */
#ifndef VS_VALID_H
#define VS_VALID_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <json-c/json.h>

#include "units.h"

enum valid_result {
	VALID_BAD = -1,   /* present and wrong: a detail was added */
	VALID_ABSENT = 0, /* not in the body */
	VALID_SET = 1,    /* present with a usable value */
	VALID_NULL = 2,   /* present as JSON null (only where nullable) */
};

#define VALID_NULLABLE 1
#define VALID_REQUIRED 2

struct valid {
	json_object *details; /* field -> problem; NULL while there is none */
	char *strings[16];    /* trimmed copies handed out, freed by valid_free */
	int nstrings;
};

void valid_init(struct valid *v);
void valid_free(struct valid *v);
void valid_add(struct valid *v, const char *field, const char *problem);
int valid_ok(const struct valid *v);
/* Hands the details object to the caller (NULL if none). */
json_object *valid_take(struct valid *v);

/* Every key of body must be in allowed; keys in readonly get "read-only", others "unknown field". */
void valid_fields(struct valid *v, json_object *body, const char *const *allowed,
		  const char *const *readonly);
/* String of min..max characters (UTF-8 code points) after trimming blanks. */
enum valid_result valid_string(struct valid *v, json_object *body, const char *field, size_t min,
			       size_t max, int flags, const char **out);
enum valid_result valid_enum(struct valid *v, json_object *body, const char *field,
			     const char *const *allowed, int flags, const char **out);
/* JSON number (not a string) within [min, max]; min_exclusive makes the low bound strict. */
enum valid_result valid_number(struct valid *v, json_object *body, const char *field, double min,
			       double max, int min_exclusive, int flags, double *out);
/* valid_number with the problem text to give when the value is out of range. */
enum valid_result valid_number_in(struct valid *v, json_object *body, const char *field, double min,
				  double max, int min_exclusive, int flags, double *out,
				  const char *range_problem);
/* "YYYY-MM-DD", a real calendar date. */
enum valid_result valid_date(struct valid *v, json_object *body, const char *field, int flags,
			     const char **out);
/* RFC 3339 with an offset, at most 5 minutes after now; *epoch gets its time. */
enum valid_result valid_timestamp(struct valid *v, json_object *body, const char *field, time_t now,
				  int flags, const char **out, double *epoch);
/* A JSON object whose compact text is at most max_bytes (VALID_ANY_SIZE: any). Metadata is not
 * measured here: jsonb's text, which the limit is about, can be longer (", " and ": ") or
 * shorter (1.0e1 is 10) than json-c's, so the database checks it (10_metadata.sql). */
#define VALID_ANY_SIZE SIZE_MAX
enum valid_result valid_object(struct valid *v, json_object *body, const char *field,
			       size_t max_bytes, int flags, json_object **out);
/* "unit": "km" | "mi", default km. */
enum valid_result valid_unit(struct valid *v, json_object *body, const char *field, units_unit *out);
/* Email: one '@', no blanks, at most RULES_EMAIL_MAX (254) bytes. */
enum valid_result valid_email(struct valid *v, json_object *body, const char *field, int flags,
			      const char **out);

/* Plain-string checks, shared with query and path validation. */
int valid_is_uuid(const char *s); /* 8-4-4-4-12 hex, either case; 0 for NULL */
int valid_is_date(const char *s);
/* Parses RFC 3339 with offset; 0 and *epoch on success. */
int valid_parse_timestamp(const char *s, double *epoch);
/* Non-negative decimal integer within [min, max]; 0 on success. */
int valid_parse_int(const char *s, long min, long max, long *out);
size_t valid_utf8_len(const char *s, size_t bytes);

#endif
