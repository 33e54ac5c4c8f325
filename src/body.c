/* Body parsing: json-c's strict tokener, a depth limit against stack abuse, UTF-8 checked. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "body.h"

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
