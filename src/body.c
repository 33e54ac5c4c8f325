/* Body parsing: json-c's strict tokener, a depth limit against stack abuse, UTF-8 checked. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "body.h"

int body_utf8_valid(const char *buf, size_t len)
{
	const unsigned char *s = (const unsigned char *)buf;
	size_t i = 0;

	while (i < len) {
		unsigned c = s[i];
		size_t n;
		unsigned cp;

		if (c < 0x80) {
			/* Raw control bytes are never valid JSON (strings must escape them). */
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
				return 0;
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			n = 1;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			n = 2;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return 0; /* continuation byte first, overlong 0xC0/0xC1, or > U+10FFFF */
		}
		for (size_t k = 1; k <= n; k++) {
			if (i + k >= len || (s[i + k] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		/* Overlong forms, UTF-16 surrogates, beyond Unicode. */
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || (cp >= 0xD800 && cp <= 0xDFFF) ||
		    cp > 0x10FFFF)
			return 0;
		i += n + 1;
	}
	return 1;
}

/*
 * json-c keeps the last of duplicate keys silently; a client sending {"name":"a","name":"b"}
 * has a bug we should tell it about. Runs on text json-c already accepted, so only strings
 * and nesting need tracking. Keys compare by their raw (escaped) bytes.
 */
static int body_has_duplicate_keys(const char *buf, size_t len)
{
	struct key {
		int depth;
		size_t start, len;
	} *keys = NULL;
	size_t nkeys = 0, cap = 0;
	int depth = 0, dup = 0;
	char open[BODY_MAX_DEPTH + 2];

	for (size_t i = 0; i < len && !dup; i++) {
		char ch = buf[i];
		if (ch == '{' || ch == '[') {
			if (depth < BODY_MAX_DEPTH + 1)
				open[depth] = ch;
			depth++;
		} else if (ch == '}' || ch == ']') {
			depth--;
			while (nkeys > 0 && keys[nkeys - 1].depth > depth)
				nkeys--;
		} else if (ch == '"') {
			size_t start = ++i, j;
			while (i < len && buf[i] != '"')
				i += buf[i] == '\\' ? 2 : 1;
			for (j = i + 1; j < len && strchr(" \t\r\n", buf[j]); j++)
				;
			if (j >= len || buf[j] != ':' || depth < 1 || depth > BODY_MAX_DEPTH + 1 ||
			    open[depth - 1] != '{')
				continue;
			for (size_t k = nkeys; k > 0 && keys[k - 1].depth == depth; k--)
				if (keys[k - 1].len == i - start &&
				    memcmp(buf + keys[k - 1].start, buf + start, i - start) == 0)
					dup = 1;
			if (nkeys == cap) {
				struct key *grown = realloc(keys, (cap ? cap * 2 : 16) * sizeof(*keys));
				if (grown == NULL) {
					dup = 1; /* fail closed */
					break;
				}
				keys = grown;
				cap = cap ? cap * 2 : 16;
			}
			keys[nkeys++] = (struct key){depth, start, i - start};
		}
	}
	free(keys);
	return dup;
}

err_t body_parse(const char *buf, size_t len, int allow_empty, json_object **out, const char **why)
{
	json_tokener *tok = NULL;
	json_object *obj = NULL;
	err_t rc = ERR_VALIDATION;
	size_t i;

	*out = NULL;
	*why = "body must be a JSON object";
	for (i = 0; i < len && isspace((unsigned char)buf[i]); i++)
		;
	if (i == len) {
		if (allow_empty)
			rc = ERR_OK;
		goto out;
	}
	if (len > BODY_MAX_BYTES) {
		*why = "body too large";
		rc = ERR_TOO_LARGE;
		goto out;
	}
	if (!body_utf8_valid(buf, len)) {
		*why = "body is not valid UTF-8 JSON";
		goto out;
	}
	/* PostgreSQL text and jsonb cannot hold U+0000, and json-c would cut a key short at it:
	 * refuse the escape anywhere (a literal backslash-u0000 text is refused too; so be it). */
	if (memmem(buf, len, "\\u0000", 6) != NULL) {
		*why = "body must not contain \\u0000";
		goto out;
	}
	tok = json_tokener_new_ex(BODY_MAX_DEPTH);
	if (tok == NULL) {
		rc = ERR_INTERNAL;
		goto out;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	if (obj == NULL || json_tokener_get_error(tok) != json_tokener_success) {
		*why = json_tokener_get_error(tok) == json_tokener_error_depth
			       ? "body nests too deeply"
			       : "body is not valid JSON";
		goto out;
	}
	/* Anything after the value but whitespace is an error too. */
	for (i = json_tokener_get_parse_end(tok); i < len; i++)
		if (!isspace((unsigned char)buf[i])) {
			*why = "body is not valid JSON";
			goto out;
		}
	if (!json_object_is_type(obj, json_type_object))
		goto out;
	if (body_has_duplicate_keys(buf, len)) {
		*why = "body has a duplicate key";
		goto out;
	}

	*out = obj;
	obj = NULL;
	rc = ERR_OK;
out:
	json_object_put(obj);
	if (tok)
		json_tokener_free(tok);
	return rc;
}

int body_is_json_type(const char *ct)
{
	size_t n = strlen("application/json");

	if (ct == NULL)
		return 0;
	while (*ct == ' ')
		ct++;
	if (strncasecmp(ct, "application/json", n) != 0)
		return 0;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}
