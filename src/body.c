/* Body parsing: json-c's strict tokener, a depth limit against stack abuse, UTF-8 checked. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
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
 * An RFC 8259 syntax check run before json-c builds the object: json-c's strict mode still
 * takes NaN, Infinity, single quotes, "1." and raw control characters inside strings, and it
 * keeps the last of duplicate keys silently. A client sending any of those has a bug we
 * should tell it about. Duplicate keys compare by their raw (escaped) bytes.
 */
struct body_scan {
	const char *p, *end;
	const char *why; /* set on the first error */
	size_t keys;     /* keys seen in all objects: json-c must end up with as many */
};

static int body_value(struct body_scan *s, int depth);

static void body_ws(struct body_scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static int body_fail(struct body_scan *s, const char *why)
{
	if (s->why == NULL)
		s->why = why;
	return -1;
}

/* At the opening quote; leaves p after the closing one. */
static int body_string(struct body_scan *s)
{
	for (s->p++; s->p < s->end; s->p++) {
		unsigned char c = (unsigned char)*s->p;
		if (c == '"') {
			s->p++;
			return 0;
		}
		if (c < 0x20)
			return body_fail(s, "body has a raw control character in a string");
		if (c != '\\')
			continue;
		if (++s->p >= s->end)
			break;
		if (*s->p == 'u') {
			if (s->end - s->p < 5 || !isxdigit((unsigned char)s->p[1]) ||
			    !isxdigit((unsigned char)s->p[2]) || !isxdigit((unsigned char)s->p[3]) ||
			    !isxdigit((unsigned char)s->p[4]))
				break;
			s->p += 4;
		} else if (*s->p == '\0' || !strchr("\"\\/bfnrt", *s->p)) {
			break;
		}
	}
	return body_fail(s, "body is not valid JSON");
}

static int body_digits(struct body_scan *s)
{
	const char *start = s->p;

	while (s->p < s->end && isdigit((unsigned char)*s->p))
		s->p++;
	return s->p > start ? 0 : body_fail(s, "body is not valid JSON");
}

/*
 * Numbers PostgreSQL or json-c cannot keep as written are refused rather than changed:
 * json-c clamps integers beyond 64 bits, and jsonb refuses huge exponents.
 */
static int body_number(struct body_scan *s)
{
	const char *start = s->p;
	int plain = 1;

	if (*s->p == '-')
		s->p++;
	if (s->p < s->end && *s->p == '0')
		s->p++;
	else if (body_digits(s) != 0)
		return -1;
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		plain = 0;
		if (body_digits(s) != 0)
			return -1;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		const char *digits;
		s->p++;
		plain = 0;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		digits = s->p;
		if (body_digits(s) != 0)
			return -1;
		if (s->p - digits > 4)
			return body_fail(s, "body has a number out of range");
	}
	if (!plain) {
		/* jsonb prints 1e20 as 100000000000000000000, which json-c would then clamp on the
		 * way back out: keep non-integer notation below the 64-bit integer range. */
		char buf[512];
		size_t n = (size_t)(s->p - start);

		if (n >= sizeof(buf))
			return body_fail(s, "body has a number out of range");
		memcpy(buf, start, n);
		buf[n] = '\0';
		if (fabs(strtod(buf, NULL)) >= 1e19)
			return body_fail(s, "body has a number out of range");
	} else {
		char buf[32];
		size_t n = (size_t)(s->p - start);
		char *end;

		if (n >= sizeof(buf))
			return body_fail(s, "body has a number out of range");
		memcpy(buf, start, n);
		buf[n] = '\0';
		errno = 0;
		if (buf[0] == '-')
			(void)strtoll(buf, &end, 10);
		else
			(void)strtoull(buf, &end, 10);
		if (errno == ERANGE)
			return body_fail(s, "body has a number out of range");
	}
	return 0;
}

static int body_literal(struct body_scan *s, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
		return body_fail(s, "body is not valid JSON");
	s->p += n;
	return 0;
}

struct body_key {
	const char *start;
	size_t len;
};

/* The keys of one object so far, to find duplicates. */
struct body_keys {
	struct body_key *v;
	size_t n, cap;
};

/* Records a key of the current object; -1 when it repeats one (raw bytes compared). */
static int body_key_add(struct body_scan *s, struct body_keys *ks, const char *start, size_t len)
{
	struct body_key *grown;

	for (size_t k = 0; k < ks->n; k++)
		if (ks->v[k].len == len && memcmp(ks->v[k].start, start, len) == 0)
			return body_fail(s, "body has a duplicate key");
	if (ks->n == ks->cap) {
		size_t cap = ks->cap ? ks->cap * 2 : 8;

		if ((grown = realloc(ks->v, cap * sizeof(*grown))) == NULL)
			return body_fail(s, "body too complex");
		ks->v = grown;
		ks->cap = cap;
	}
	ks->v[ks->n++] = (struct body_key){start, len};
	s->keys++;
	return 0;
}

/* One "key": value member of an object. */
static int body_member(struct body_scan *s, struct body_keys *ks, int depth)
{
	const char *start;

	body_ws(s);
	if (s->p >= s->end || *s->p != '"')
		return body_fail(s, "body is not valid JSON");
	start = s->p + 1;
	if (body_string(s) != 0 || body_key_add(s, ks, start, (size_t)(s->p - 1 - start)) != 0)
		return -1;
	body_ws(s);
	if (s->p >= s->end || *s->p != ':')
		return body_fail(s, "body is not valid JSON");
	s->p++;
	return body_value(s, depth + 1);
}

static int body_object(struct body_scan *s, int depth)
{
	struct body_keys ks = {NULL, 0, 0};
	int rc = -1;

	s->p++; /* '{' */
	body_ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return 0;
	}
	for (;;) {
		if (body_member(s, &ks, depth) != 0)
			goto out;
		body_ws(s);
		if (s->p >= s->end || *s->p != ',')
			break;
		s->p++;
	}
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		rc = 0;
	} else {
		body_fail(s, "body is not valid JSON");
	}
out:
	free(ks.v);
	return rc;
}

static int body_array(struct body_scan *s, int depth)
{
	s->p++; /* '[' */
	body_ws(s);
	if (s->p < s->end && *s->p == ']') {
		s->p++;
		return 0;
	}
	for (;;) {
		if (body_value(s, depth + 1) != 0)
			return -1;
		body_ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == ']') {
			s->p++;
			return 0;
		}
		return body_fail(s, "body is not valid JSON");
	}
}

static int body_value(struct body_scan *s, int depth)
{
	/* Same limit json-c applies, checked first so deep input cannot exhaust our stack. */
	if (depth >= BODY_MAX_DEPTH)
		return body_fail(s, "body nests too deeply");
	body_ws(s);
	if (s->p >= s->end)
		return body_fail(s, "body is not valid JSON");
	switch (*s->p) {
	case '{':
		return body_object(s, depth);
	case '[':
		return body_array(s, depth);
	case '"':
		return body_string(s);
	case 't':
		return body_literal(s, "true");
	case 'f':
		return body_literal(s, "false");
	case 'n':
		return body_literal(s, "null");
	default:
		if (*s->p == '-' || isdigit((unsigned char)*s->p))
			return body_number(s);
		return body_fail(s, "body is not valid JSON");
	}
}

/* ERR_OK when buf is one syntactically valid JSON text (*keys: its object keys). */
static err_t body_syntax(const char *buf, size_t len, size_t *keys, const char **why)
{
	struct body_scan s = {buf, buf + len, NULL, 0};

	if (body_value(&s, 0) == 0) {
		body_ws(&s);
		if (s.p == s.end) {
			*keys = s.keys;
			return ERR_OK;
		}
		body_fail(&s, "body is not valid JSON");
	}
	*why = s.why;
	return ERR_VALIDATION;
}

/* Keys json-c kept; fewer than were sent means two spelled one key differently ("n\u0061me"). */
static size_t body_count_keys(json_object *o)
{
	size_t n = 0;

	if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++)
			n += body_count_keys(json_object_array_get_idx(o, i));
	} else if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, key, val)
		{
			(void)key;
			n += 1 + body_count_keys(val);
		}
	}
	return n;
}

/* Checks on the raw bytes, before anything parses them. */
static err_t body_check_bytes(const char *buf, size_t len, const char **why)
{
	if (len > BODY_MAX_BYTES) {
		*why = "body too large";
		return ERR_TOO_LARGE;
	}
	if (!body_utf8_valid(buf, len)) {
		*why = "body is not valid UTF-8 JSON";
		return ERR_VALIDATION;
	}
	/* PostgreSQL text and jsonb cannot hold U+0000, and json-c would cut a key short at it:
	 * refuse the escape anywhere (a literal backslash-u0000 text is refused too; so be it). */
	if (memmem(buf, len, "\\u0000", 6) != NULL) {
		*why = "body must not contain \\u0000";
		return ERR_VALIDATION;
	}
	return ERR_OK;
}

/* json-c's reading of a text body_syntax accepted; *obj NULL on error. */
static err_t body_tokenize(const char *buf, size_t len, json_object **obj, const char **why)
{
	json_tokener *tok = json_tokener_new_ex(BODY_MAX_DEPTH);
	err_t rc = ERR_VALIDATION;

	*obj = NULL;
	if (tok == NULL) {
		rc = ERR_INTERNAL;
		goto out;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	*obj = json_tokener_parse_ex(tok, buf, (int)len);
	if (*obj == NULL || json_tokener_get_error(tok) != json_tokener_success) {
		*why = json_tokener_get_error(tok) == json_tokener_error_depth
			       ? "body nests too deeply"
			       : "body is not valid JSON";
		goto out;
	}
	/* Anything after the value but whitespace is an error too. */
	for (size_t i = json_tokener_get_parse_end(tok); i < len; i++)
		if (!isspace((unsigned char)buf[i])) {
			*why = "body is not valid JSON";
			goto out;
		}
	rc = ERR_OK;
out:
	if (rc != ERR_OK) {
		json_object_put(*obj);
		*obj = NULL;
	}
	if (tok)
		json_tokener_free(tok);
	return rc;
}

err_t body_parse(const char *buf, size_t len, int allow_empty, json_object **out, const char **why)
{
	size_t keys = 0, i;
	json_object *obj = NULL;
	err_t rc = ERR_VALIDATION;

	*out = NULL;
	*why = "body must be a JSON object";
	for (i = 0; i < len && isspace((unsigned char)buf[i]); i++)
		;
	if (i == len) {
		if (allow_empty)
			rc = ERR_OK;
		goto out;
	}
	rc = body_check_bytes(buf, len, why);
	if (rc == ERR_OK)
		rc = body_syntax(buf, len, &keys, why);
	if (rc == ERR_OK)
		rc = body_tokenize(buf, len, &obj, why);
	if (rc != ERR_OK)
		goto out;
	rc = ERR_VALIDATION;
	if (!json_object_is_type(obj, json_type_object))
		goto out; /* *why is still "body must be a JSON object" */
	if (body_count_keys(obj) != keys) {
		*why = "body has a duplicate key";
		goto out;
	}
	*out = obj;
	obj = NULL;
	rc = ERR_OK;
out:
	json_object_put(obj);
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
