/* base64url and the strict JSON reader the token code uses: jwks_b64url_valid,
 * jwks_b64url_decode, jwks_b64url_encode, jwks_json_parse. Input: raw bytes, handed over
 * as exactly those bytes (no NUL after them). */
#include <json-c/json.h>

#include "fuzz.h"
#include "jwks.h"

/* Only canonical text decodes, and it is exactly what encoding the bytes gives back. */
static void fuzz_decode(const char *in, size_t len)
{
	unsigned char *out = (unsigned char *)"not set";
	size_t out_len = 12345;
	int valid = jwks_b64url_valid(in, len);
	err_t rc = jwks_b64url_decode(in, len, &out, &out_len);
	char *back;

	FUZZ_ASSERT(valid == (rc == ERR_OK));
	if (rc != ERR_OK) {
		FUZZ_ASSERT(rc == ERR_VALIDATION && out == NULL && out_len == 0);
		return;
	}
	FUZZ_ASSERT(out_len == len * 3 / 4 && out[out_len] == '\0');
	back = jwks_b64url_encode(out, out_len);
	FUZZ_ASSERT(back != NULL && strlen(back) == len && memcmp(back, in, len) == 0);
	free(back);
	free(out);
}

/* Any bytes encode to canonical text that decodes to them. */
static void fuzz_encode(const uint8_t *data, size_t size)
{
	char *text = jwks_b64url_encode(data, size);
	unsigned char *out = NULL;
	size_t out_len = 0;

	FUZZ_ASSERT(text != NULL);
	FUZZ_ASSERT(jwks_b64url_valid(text, strlen(text)));
	FUZZ_ASSERT(jwks_b64url_decode(text, strlen(text), &out, &out_len) == ERR_OK);
	FUZZ_ASSERT(out_len == size && (size == 0 || memcmp(out, data, size) == 0));
	free(out);
	free(text);
}

static void fuzz_json(const char *in, size_t len)
{
	struct json_object *o = (struct json_object *)&o;
	err_t rc = jwks_json_parse(in, len, &o);

	FUZZ_ASSERT(rc == ERR_OK ? o != NULL : o == NULL);
	json_object_put(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);

	FUZZ_ASSERT(buf != NULL);
	if (size)
		memcpy(buf, data, size);
	fuzz_decode(buf, size);
	fuzz_encode(data, size);
	fuzz_json(buf, size);
	free(buf);
	return 0;
}
