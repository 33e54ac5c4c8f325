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
 * An RFC 8259 syntax check run before json-c builds the object: json-c's strict mode still
 * takes NaN, Infinity, single quotes, "1." and raw control characters inside strings. It also
 * refuses numbers that would not come back as sent (BODY_NUMBER_DIGITS_MAX, body.h). Every
 * step is linear in the body: duplicate keys are found afterwards, by counting what json-c's
 * hash table kept (body_count_keys), which also catches one key spelled two ways.
 */
struct body_scan {
	const char *p, *end;
	const char *why;          /* set on the first error */
	size_t keys;              /* keys seen in all objects: json-c must end up with as many */
	const char *member;       /* the top-level member being scanned (its raw key), or NULL */
	size_t member_len;
	const char *field;        /* that member, when the first error was a number inside it */
	size_t field_len;
	int lenient;              /* numbers are not refused here (body_parse_values) */
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

/* A refused number: the problem is also the member's it sits in (body_parse_field). */
static int body_fail_number(struct body_scan *s, const char *why)
{
	if (s->why == NULL) {
		s->field = s->member;
		s->field_len = s->member_len;
	}
	return body_fail(s, why);
}

/* At the opening quote; leaves p after the closing one. */
/* The value of the four hex digits at p (which must be there), or -1. */
static long body_hex4(const char *p)
{
	long v = 0;

	for (int i = 0; i < 4; i++) {
		if (!isxdigit((unsigned char)p[i]))
			return -1;
		v = v * 16 + (isdigit((unsigned char)p[i]) ? p[i] - '0' : (tolower((unsigned char)p[i]) - 'a' + 10));
	}
	return v;
}

/* s->p at the u of a \u escape (four hex digits follow): steps over it, and over the low
 * half of a surrogate pair.
 * A lone surrogate is refused: json-c would store U+FFFD instead, jsonb refuses it. */
static int body_unicode_escape(struct body_scan *s)
{
	long v = s->end - s->p >= 5 ? body_hex4(s->p + 1) : -1;

	if (v < 0)
		return body_fail(s, "body is not valid JSON");
	s->p += 4;
	if (v >= 0xDC00 && v <= 0xDFFF)
		return body_fail(s, "body has a lone UTF-16 surrogate escape");
	if (v < 0xD800 || v > 0xDBFF)
		return 0;
	if (s->end - s->p < 7 || s->p[1] != '\\' || s->p[2] != 'u' ||
	    (v = body_hex4(s->p + 3)) < 0xDC00 || v > 0xDFFF)
		return body_fail(s, "body has a lone UTF-16 surrogate escape");
	s->p += 6;
	return 0;
}

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
			if (body_unicode_escape(s) != 0)
				return -1;
		} else if (*s->p == '\0' || !strchr("\"\\/bfnrt", *s->p)) {
			break;
		}
	}
	return body_fail(s, "body is not valid JSON");
}

/* Reads a run of digits; *n gets its length. */
static int body_digits(struct body_scan *s, size_t *n)
{
	const char *start = s->p;

	while (s->p < s->end && isdigit((unsigned char)*s->p))
		s->p++;
	*n = (size_t)(s->p - start);
	return s->p > start ? 0 : body_fail(s, "body is not valid JSON");
}

/*
 * A JSON number as PostgreSQL's numeric (what jsonb stores) writes it out: the digits
 * int.frac shifted by the exponent; the integer part without leading zeros, the fraction
 * with as many digits as were written after the point less the exponent (1.50e-3 is
 * 0.00150, 1.5e2 is 150, 0e-5 is 0.00000).
 */
struct body_num {
	int neg;
	const char *digits; /* int digits then frac digits, with the '.' between them */
	size_t nint, nfrac;
	long exp;
};

/* The k-th digit of int.frac (the point skipped). */
static char body_num_digit(const struct body_num *n, size_t k)
{
	return k < n->nint ? n->digits[k] : n->digits[k + 1];
}

/* Digits of the written-out integer part (0 for "0"); *frac: of its fraction. */
static long body_num_shape(const struct body_num *n, long *frac)
{
	long total = (long)(n->nint + n->nfrac), point = (long)n->nint + n->exp, first = 0;

	while (first < total && body_num_digit(n, (size_t)first) == '0')
		first++;
	*frac = (long)n->nfrac - n->exp > 0 ? (long)n->nfrac - n->exp : 0;
	return first < total && first < point ? point - first : 0;
}

/* 1 when the written-out integer (no fraction) is outside json-c's int64/uint64. */
static int body_num_int_out_of_range(const struct body_num *n, long int_digits)
{
	const char *limit = n->neg ? "9223372036854775808" : "18446744073709551615";
	long llen = (long)strlen(limit), total = (long)(n->nint + n->nfrac);
	long first = (long)n->nint + n->exp - int_digits;

	if (int_digits != llen)
		return int_digits > llen;
	for (long k = 0; k < llen; k++) {
		char d = first + k < total ? body_num_digit(n, (size_t)(first + k)) : '0';
		if (d != limit[k])
			return d > limit[k];
	}
	return 0;
}

/* Numbers PostgreSQL or json-c would not give back as written are refused, not changed. */
static int body_number_check(struct body_scan *s, const struct body_num *n)
{
	long frac, int_digits;

	if (s->lenient)
		return 0;
	int_digits = body_num_shape(n, &frac);
	if ((int_digits > 0 ? int_digits : 1) + frac > BODY_NUMBER_DIGITS_MAX)
		return body_fail_number(s, "body has a number of more than "
					   BODY_TEXT(BODY_NUMBER_DIGITS_MAX) " digits written out");
	/* An integer jsonb prints is read back by json-c, which clamps it beyond 64 bits. */
	if (frac == 0 && body_num_int_out_of_range(n, int_digits))
		return body_fail_number(s, "body has a number out of range");
	return 0;
}

static int body_number(struct body_scan *s)
{
	struct body_num n = {0, NULL, 0, 0, 0};

	if (*s->p == '-') {
		n.neg = 1;
		s->p++;
	}
	n.digits = s->p;
	if (s->p < s->end && *s->p == '0') {
		s->p++;
		n.nint = 1;
	} else if (body_digits(s, &n.nint) != 0) {
		return -1;
	}
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (body_digits(s, &n.nfrac) != 0)
			return -1;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		int neg = 0;
		size_t len;
		const char *digits;

		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			neg = *s->p++ == '-';
		digits = s->p;
		if (body_digits(s, &len) != 0)
			return -1;
		/* jsonb refuses huge exponents; four digits also keep the sums above small. */
		if (len > 4 && !s->lenient)
			return body_fail_number(s, "body has a number out of range");
		/* Not strtol: it would read past the body's end when the exponent ends it. */
		n.exp = 0;
		for (size_t k = 0; k < len; k++)
			n.exp = n.exp * 10 + (digits[k] - '0');
		if (neg)
			n.exp = -n.exp;
	}
	return body_number_check(s, &n);
}

static int body_literal(struct body_scan *s, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
		return body_fail(s, "body is not valid JSON");
	s->p += n;
	return 0;
}

/* One "key": value member of an object. */
static int body_member(struct body_scan *s, int depth)
{
	const char *start;

	body_ws(s);
	if (s->p >= s->end || *s->p != '"')
		return body_fail(s, "body is not valid JSON");
	start = s->p + 1;
	if (body_string(s) != 0)
		return -1;
	s->keys++;
	if (depth == 0) {
		s->member = start;
		s->member_len = (size_t)(s->p - 1 - start);
	}
	body_ws(s);
	if (s->p >= s->end || *s->p != ':')
		return body_fail(s, "body is not valid JSON");
	s->p++;
	return body_value(s, depth + 1);
}

static int body_object(struct body_scan *s, int depth)
{
	s->p++; /* '{' */
	body_ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return 0;
	}
	for (;;) {
		if (body_member(s, depth) != 0)
			return -1;
		body_ws(s);
		if (s->p >= s->end || *s->p != ',')
			break;
		s->p++;
	}
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return 0;
	}
	return body_fail(s, "body is not valid JSON");
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

/* The name of the member a refused number sits in, when it is plain text and fits. */
static void body_field(const struct body_scan *s, char *field, size_t size)
{
	if (field == NULL || size == 0)
		return;
	field[0] = '\0';
	if (s->field == NULL || s->field_len == 0 || s->field_len >= size ||
	    memchr(s->field, '\\', s->field_len) != NULL)
		return;
	memcpy(field, s->field, s->field_len);
	field[s->field_len] = '\0';
}

/* ERR_OK when buf is one syntactically valid JSON text (*keys: its object keys). */
static err_t body_syntax(const char *buf, size_t len, int lenient, size_t *keys, const char **why,
			 char *field, size_t field_size)
{
	struct body_scan s = {buf, buf + len, NULL, 0, NULL, 0, NULL, 0, lenient};

	if (body_value(&s, 0) == 0) {
		body_ws(&s);
		if (s.p == s.end) {
			*keys = s.keys;
			return ERR_OK;
		}
		body_fail(&s, "body is not valid JSON");
	}
	*why = s.why;
	body_field(&s, field, field_size);
	/* Said of the member: "has a number ...", not "body has a number ...". */
	if (field && field_size && field[0] != '\0' && strncmp(s.why, "body ", 5) == 0)
		*why = s.why + 5;
	return ERR_VALIDATION;
}

/* Keys json-c kept (in its hash table: linear); fewer than were sent means a duplicate, raw
 * or spelled two ways ("name", "n\u0061me"). */
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
static err_t body_check_bytes(const char *buf, size_t len, int lenient, const char **why)
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
	if (!lenient && memmem(buf, len, "\\u0000", 6) != NULL) {
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
	return body_parse_field(buf, len, allow_empty, out, why, NULL, 0);
}

static err_t body_parse_as(const char *buf, size_t len, int allow_empty, int lenient, json_object **out,
			   const char **why, char *field, size_t field_size);

err_t body_parse_field(const char *buf, size_t len, int allow_empty, json_object **out,
		       const char **why, char *field, size_t field_size)
{
	return body_parse_as(buf, len, allow_empty, 0, out, why, field, field_size);
}

err_t body_parse_values(const char *buf, size_t len, json_object **out, const char **why)
{
	return body_parse_as(buf, len, 0, 1, out, why, NULL, 0);
}

static err_t body_parse_as(const char *buf, size_t len, int allow_empty, int lenient, json_object **out,
			   const char **why, char *field, size_t field_size)
{
	size_t keys = 0, i;
	json_object *obj = NULL;
	err_t rc = ERR_VALIDATION;

	*out = NULL;
	*why = "body must be a JSON object";
	if (field && field_size)
		field[0] = '\0';
	for (i = 0; i < len && isspace((unsigned char)buf[i]); i++)
		;
	if (i == len) {
		if (allow_empty)
			rc = ERR_OK;
		goto out;
	}
	rc = body_check_bytes(buf, len, lenient, why);
	if (rc == ERR_OK)
		rc = body_syntax(buf, len, lenient, &keys, why, field, field_size);
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
