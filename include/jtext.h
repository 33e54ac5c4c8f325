/* JSON text written straight into a buffer, byte for byte as json-c would write the same
 * tree: the hot reads answer without building one (src/db_json.c, db_json_row_text). */
#ifndef VS_JTEXT_H
#define VS_JTEXT_H
#include <stddef.h>
#include <json-c/json.h>
#include "err.h"

/* How every answer body is written: compact, and "/" not escaped (CTX_JSON_FLAGS). */
#define JTEXT_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

struct jtext {
	char *buf; /* NUL-terminated while not failed */
	size_t len;
	size_t cap;
	int failed; /* out of memory once: every later append is dropped */
};

void jtext_init(struct jtext *t);
void jtext_free(struct jtext *t);
void jtext_mem(struct jtext *t, const char *s, size_t n);
void jtext_str(struct jtext *t, const char *s);
void jtext_char(struct jtext *t, char c);
/* s as a JSON string, escaped as json-c escapes under JTEXT_FLAGS. */
void jtext_string(struct jtext *t, const char *s);
void jtext_string_n(struct jtext *t, const char *s, size_t len);
/* "key": (with a comma first unless first). */
void jtext_key(struct jtext *t, const char *key, int first);
/* v serialized by json-c under JTEXT_FLAGS (null for NULL): for what only the tree knows. */
void jtext_value(struct jtext *t, json_object *v);
/* The text as a json_object that writes it verbatim; t is left empty. NULL when any append
 * failed or out of memory. */
json_object *jtext_json(struct jtext *t) WUR;
/* A JSON value whose text is text[0..len) verbatim (json-c's serializer hook): release(owner)
 * when it is freed. NULL when out of memory (owner is then released). */
json_object *jtext_raw(const char *text, size_t len, void (*release)(void *), void *owner) WUR;

#endif
