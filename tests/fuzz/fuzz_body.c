/* The request body check: body_utf8_valid, body_parse, body_parse_field, body_is_json_type.
 * The body is handed over as exactly its bytes, with nothing after them, so a read past
 * buf[len) (body.h's contract) is an ASan report even though the worker adds a NUL. */
#include <json-c/json.h>

#include "body.h"
#include "fuzz.h"
#include "oracle_jansson.h"

static int fuzz_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr(" \t\r\n\v\f", s[i]) || s[i] == '\0')
			return 0;
	return 1;
}

/* A body that was taken is JSON by RFC 8259 too, as jansson reads it (body.c refuses an
 * escaped lone UTF-16 surrogate, as jansson and PostgreSQL's jsonb do). */
static void fuzz_check_jansson(const char *buf, size_t len)
{
	char why[256];

	if (fuzz_jansson_object(buf, len, why, sizeof why))
		return;
	fprintf(stderr, "body_parse took it, jansson says: %s\n", why);
	FUZZ_ASSERT(!"body_parse took what is not RFC 8259 JSON");
}

/* What a success gives back is an object json-c writes out as valid UTF-8 JSON. */
static void fuzz_check_object(json_object *o)
{
	size_t len = 0;
	const char *text;

	FUZZ_ASSERT(json_object_is_type(o, json_type_object));
	text = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
	FUZZ_ASSERT(text != NULL);
	FUZZ_ASSERT(body_utf8_valid(text, len));
}

static void fuzz_content_type(const uint8_t *data, size_t size)
{
	char *ct = fuzz_cstr(data, size < 128 ? size : 128);

	(void)body_is_json_type(ct);
	free(ct);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	json_object *o = NULL, *o2 = NULL;
	const char *why = NULL, *why2 = NULL;
	char field[32];
	int utf8, blank;
	err_t rc, rc2;

	FUZZ_ASSERT(buf != NULL);
	if (size)
		memcpy(buf, data, size);
	utf8 = body_utf8_valid(buf, size);
	blank = fuzz_blank(buf, size);

	rc = body_parse(buf, size, 0, &o, &why);
	FUZZ_ASSERT(rc == ERR_OK || rc == ERR_VALIDATION || rc == ERR_TOO_LARGE);
	FUZZ_ASSERT(why != NULL);
	if (rc == ERR_OK) {
		FUZZ_ASSERT(!blank && utf8);
		fuzz_check_object(o);
		fuzz_check_jansson(buf, size);
	} else {
		FUZZ_ASSERT(o == NULL);
	}
	if (size > BODY_MAX_BYTES && !blank)
		FUZZ_ASSERT(rc == ERR_TOO_LARGE);

	/* The same verdict with the member named, and an empty body allowed. */
	memset(field, 'x', sizeof field);
	rc2 = body_parse_field(buf, size, 1, &o2, &why2, field, sizeof field);
	FUZZ_ASSERT(why2 != NULL);
	FUZZ_ASSERT(memchr(field, '\0', sizeof field) != NULL);
	if (blank) {
		FUZZ_ASSERT(rc2 == ERR_OK && o2 == NULL);
	} else {
		FUZZ_ASSERT(rc2 == rc);
		FUZZ_ASSERT((o2 != NULL) == (o != NULL));
		if (rc == ERR_OK)
			FUZZ_ASSERT(json_object_equal(o, o2));
	}
	if (rc2 == ERR_OK)
		FUZZ_ASSERT(field[0] == '\0');

	json_object_put(o);
	json_object_put(o2);
	free(buf);
	fuzz_content_type(data, size);
	return 0;
}
