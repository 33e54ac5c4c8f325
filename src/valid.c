/* Field validators. Each either yields a value or adds one problem for its field. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "valid.h"

void valid_init(struct valid *v)
{
	memset(v, 0, sizeof(*v));
}

void valid_free(struct valid *v)
{
	json_object_put(v->details);
	for (int i = 0; i < v->nstrings; i++)
		free(v->strings[i]);
	valid_init(v);
}

void valid_add(struct valid *v, const char *field, const char *problem)
{
	if (v->details == NULL)
		v->details = json_object_new_object();
	/* The first problem of a field is the one reported. */
	if (v->details && !json_object_object_get_ex(v->details, field, NULL))
		json_object_object_add(v->details, field, json_object_new_string(problem));
}

int valid_ok(const struct valid *v)
{
	return v->details == NULL;
}

json_object *valid_take(struct valid *v)
{
	json_object *d = v->details;
	v->details = NULL;
	return d;
}

static const char *valid_keep(struct valid *v, const char *s, size_t len)
{
	char *copy;

	if (v->nstrings >= (int)(sizeof(v->strings) / sizeof(v->strings[0])))
		return NULL;
	copy = strndup(s, len);
	if (copy)
		v->strings[v->nstrings++] = copy;
	return copy;
}

static int valid_in(const char *s, const char *const *list)
{
	for (; list && *list; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

void valid_fields(struct valid *v, json_object *body, const char *const *allowed,
		  const char *const *readonly)
{
	json_object_object_foreach(body, key, val)
	{
		(void)val;
		if (valid_in(key, allowed))
			continue;
		valid_add(v, key, valid_in(key, readonly) ? "read-only field" : "unknown field");
	}
}

/* Common prologue: absent, null (if allowed) or present. */
static enum valid_result valid_get(struct valid *v, json_object *body, const char *field, int flags,
				   json_object **val)
{
	if (body == NULL || !json_object_object_get_ex(body, field, val)) {
		if (flags & VALID_REQUIRED) {
			valid_add(v, field, "is required");
			return VALID_BAD;
		}
		return VALID_ABSENT;
	}
	if (*val == NULL) {
		if (flags & VALID_NULLABLE)
			return VALID_NULL;
		valid_add(v, field, (flags & VALID_REQUIRED) ? "is required" : "must not be null");
		return VALID_BAD;
	}
	return VALID_SET;
}

size_t valid_utf8_len(const char *s, size_t bytes)
{
	size_t n = 0;
	for (size_t i = 0; i < bytes; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			n++;
	return n;
}

enum valid_result valid_string(struct valid *v, json_object *body, const char *field, size_t min,
			       size_t max, int flags, const char **out)
{
	json_object *val;
	enum valid_result r = valid_get(v, body, field, flags, &val);
	const char *s;
	size_t len;

	*out = NULL;
	if (r != VALID_SET)
		return r;
	if (!json_object_is_type(val, json_type_string)) {
		valid_add(v, field, "must be a string");
		return VALID_BAD;
	}
	s = json_object_get_string(val);
	len = (size_t)json_object_get_string_len(val);
	if (memchr(s, '\0', len)) {
		valid_add(v, field, "must not contain NUL characters");
		return VALID_BAD;
	}
	while (len > 0 && isspace((unsigned char)*s))
		s++, len--;
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	size_t chars = valid_utf8_len(s, len);
	if (chars < min) {
		valid_add(v, field, min == 1 ? "must not be empty" : "is too short");
		return VALID_BAD;
	}
	if (chars > max) {
		char msg[64];
		if (snprintf(msg, sizeof(msg), "must be at most %zu characters", max) < 0)
			msg[0] = '\0';
		valid_add(v, field, msg);
		return VALID_BAD;
	}
	*out = valid_keep(v, s, len);
	if (*out == NULL) {
		valid_add(v, field, "could not be read");
		return VALID_BAD;
	}
	return VALID_SET;
}

enum valid_result valid_enum(struct valid *v, json_object *body, const char *field,
			     const char *const *allowed, int flags, const char **out)
{
	json_object *val;
	enum valid_result r = valid_get(v, body, field, flags, &val);
	char msg[256];
	size_t used;

	*out = NULL;
	if (r != VALID_SET)
		return r;
	if (json_object_is_type(val, json_type_string) && valid_in(json_object_get_string(val), allowed)) {
		*out = json_object_get_string(val);
		return VALID_SET;
	}
	used = 0;
	msg[0] = '\0';
	for (const char *const *a = allowed; *a; a++) {
		int w = snprintf(msg + used, sizeof(msg) - used, "%s%s", used ? ", " : "must be one of: ", *a);
		if (w < 0 || (size_t)w >= sizeof(msg) - used)
			break;
		used += (size_t)w;
	}
	valid_add(v, field, msg);
	return VALID_BAD;
}

enum valid_result valid_number(struct valid *v, json_object *body, const char *field, double min,
			       double max, int min_exclusive, int flags, double *out)
{
	return valid_number_in(v, body, field, min, max, min_exclusive, flags, out, NULL);
}

enum valid_result valid_number_in(struct valid *v, json_object *body, const char *field, double min,
				  double max, int min_exclusive, int flags, double *out,
				  const char *range_problem)
{
	json_object *val;
	enum valid_result r = valid_get(v, body, field, flags, &val);
	double d;
	char msg[96];

	*out = 0;
	if (r != VALID_SET)
		return r;
	if (!json_object_is_type(val, json_type_double) && !json_object_is_type(val, json_type_int)) {
		valid_add(v, field, "must be a number");
		return VALID_BAD;
	}
	d = json_object_get_double(val);
	if (!isfinite(d) || (min_exclusive ? d <= min : d < min) || d > max) {
		if (range_problem) {
			valid_add(v, field, range_problem);
			return VALID_BAD;
		}
		if (snprintf(msg, sizeof(msg), "must be %s %.10g and at most %.10g",
			     min_exclusive ? "greater than" : "at least", min, max) < 0)
			msg[0] = '\0';
		valid_add(v, field, msg);
		return VALID_BAD;
	}
	*out = d;
	return VALID_SET;
}

static int valid_leap(long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int valid_mday(long y, long m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && valid_leap(y) ? 29 : days[m - 1];
}

/* Reads exactly n digits. */
static int valid_digits(const char *s, int n, long *out)
{
	long v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int valid_ymd(const char *s, long *y, long *m, long *d)
{
	if (valid_digits(s, 4, y) || s[4] != '-' || valid_digits(s + 5, 2, m) || s[7] != '-' ||
	    valid_digits(s + 8, 2, d))
		return -1;
	if (*y < 1900 || *m < 1 || *m > 12 || *d < 1 || *d > valid_mday(*y, *m))
		return -1;
	return 0;
}

int valid_is_date(const char *s)
{
	long y, m, d;
	return strlen(s) == 10 && valid_ymd(s, &y, &m, &d) == 0;
}

/* Days since 1970-01-01 (Howard Hinnant's days_from_civil). */
static long valid_days(long y, long m, long d)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	long yoe = y - era * 400;
	long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int valid_parse_timestamp(const char *s, double *epoch)
{
	long y, mo, d, h, mi, se, oh = 0, om = 0;
	double frac = 0;
	const char *p;
	int sign = 0;

	if (strlen(s) < 20 || valid_ymd(s, &y, &mo, &d) || (s[10] != 'T' && s[10] != 't') ||
	    valid_digits(s + 11, 2, &h) || s[13] != ':' || valid_digits(s + 14, 2, &mi) ||
	    s[16] != ':' || valid_digits(s + 17, 2, &se))
		return -1;
	if (h > 23 || mi > 59 || se > 59)
		return -1;
	p = s + 19;
	if (*p == '.') {
		double scale = 0.1;
		int n = 0;
		for (p++; isdigit((unsigned char)*p); p++, n++, scale /= 10)
			frac += (*p - '0') * scale;
		if (n == 0 || n > 9)
			return -1;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		/* PostgreSQL takes offsets up to 15:59; real ones stop at 14:00. */
		if (valid_digits(p + 1, 2, &oh) || p[3] != ':' || valid_digits(p + 4, 2, &om) ||
		    oh > 15 || om > 59)
			return -1;
		p += 6;
	} else {
		return -1; /* an offset is required: a bare local time is ambiguous */
	}
	if (*p != '\0')
		return -1;
	*epoch = (double)valid_days(y, mo, d) * 86400.0 + h * 3600.0 + mi * 60.0 + se + frac -
		 sign * (oh * 3600.0 + om * 60.0);
	return 0;
}

enum valid_result valid_date(struct valid *v, json_object *body, const char *field, int flags,
			     const char **out)
{
	json_object *val;
	enum valid_result r = valid_get(v, body, field, flags, &val);

	*out = NULL;
	if (r != VALID_SET)
		return r;
	if (!json_object_is_type(val, json_type_string) || !valid_is_date(json_object_get_string(val))) {
		valid_add(v, field, "must be a date YYYY-MM-DD");
		return VALID_BAD;
	}
	*out = json_object_get_string(val);
	return VALID_SET;
}

enum valid_result valid_timestamp(struct valid *v, json_object *body, const char *field, time_t now,
				  int flags, const char **out, double *epoch)
{
	json_object *val;
	enum valid_result r = valid_get(v, body, field, flags, &val);

	*out = NULL;
	if (r != VALID_SET)
		return r;
	if (!json_object_is_type(val, json_type_string) ||
	    valid_parse_timestamp(json_object_get_string(val), epoch) != 0) {
		valid_add(v, field, "must be an RFC 3339 timestamp with an offset");
		return VALID_BAD;
	}
	if (*epoch > (double)now + 300.0) {
		valid_add(v, field, "must not be in the future");
		return VALID_BAD;
	}
	*out = json_object_get_string(val);
	return VALID_SET;
}

enum valid_result valid_object(struct valid *v, json_object *body, const char *field,
			       size_t max_bytes, int flags, json_object **out)
{
	json_object *val;
	enum valid_result r = valid_get(v, body, field, flags, &val);
	size_t len = 0;
	char msg[64];

	*out = NULL;
	if (r != VALID_SET)
		return r;
	if (!json_object_is_type(val, json_type_object)) {
		valid_add(v, field, "must be a JSON object");
		return VALID_BAD;
	}
	if (max_bytes != VALID_ANY_SIZE &&
	    (json_object_to_json_string_length(val, JSON_C_TO_STRING_PLAIN, &len) == NULL ||
	     len > max_bytes)) {
		if (snprintf(msg, sizeof(msg), "must be at most %zu bytes of JSON", max_bytes) < 0)
			msg[0] = '\0';
		valid_add(v, field, msg);
		return VALID_BAD;
	}
	*out = val;
	return VALID_SET;
}

enum valid_result valid_unit(struct valid *v, json_object *body, const char *field, units_unit *out)
{
	json_object *val;
	enum valid_result r = valid_get(v, body, field, 0, &val);

	*out = UNITS_KM;
	if (r != VALID_SET)
		return r;
	if (!json_object_is_type(val, json_type_string) ||
	    units_parse(json_object_get_string(val), out) != 0) {
		valid_add(v, field, "must be km or mi");
		return VALID_BAD;
	}
	return VALID_SET;
}

enum valid_result valid_email(struct valid *v, json_object *body, const char *field, int flags,
			      const char **out)
{
	enum valid_result r = valid_string(v, body, field, 3, RULES_EMAIL_MAX, flags, out);
	const char *at;

	if (r != VALID_SET)
		return r;
	at = strchr(*out, '@');
	/* valid_string counted characters; the limit is in bytes (RFC 5321's path limit). */
	if (strlen(*out) > RULES_EMAIL_MAX || at == NULL || at == *out || at[1] == '\0' || strchr(at + 1, '@') ||
	    strpbrk(*out, " \t\r\n")) {
		valid_add(v, field, "must be an email address");
		*out = NULL;
		return VALID_BAD;
	}
	return VALID_SET;
}

int valid_is_uuid(const char *s)
{
	if (s == NULL)
		return 0; /* an absent claim or parameter is not a UUID */
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i])) {
			return 0; /* also stops at the terminator of a short string */
		}
	}
	return s[36] == '\0';
}

int valid_parse_int(const char *s, long min, long max, long *out)
{
	char *end;
	long n;

	if (s == NULL || *s == '\0' || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || *end != '\0' || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}
