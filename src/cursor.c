/* Keyset cursors of the ride history, parsed and formatted in one place so the two agree. */
#include <stdio.h>
#include <string.h>

#include "cursor.h"
#include "valid.h"

/* 1900-01-01T00:00:00Z: no ride is older (valid_timestamp refuses it). */
#define CURSOR_US_MIN_ABS 2208988800000000L
/* 9999-12-31T23:59:59Z: the last second an RFC 3339 timestamp can name. */
#define CURSOR_US_MAX 253402300799000000L

int cursor_parse(const char *s, char *us, size_t uslen, const char **id)
{
	const char *dot = s ? strchr(s, '.') : NULL;
	size_t n;
	long v;
	int neg;

	if (dot == NULL || us == NULL || id == NULL)
		return -1;
	n = (size_t)(dot - s);
	if (n >= uslen || !valid_is_uuid(dot + 1))
		return -1;
	memcpy(us, s, n);
	us[n] = '\0';
	/* Rides before 1970 have negative times; valid_parse_int takes digits only. */
	neg = us[0] == '-';
	if (valid_parse_int(us + neg, 0, neg ? CURSOR_US_MIN_ABS : CURSOR_US_MAX, &v) != 0) {
		us[0] = '\0';
		return -1;
	}
	*id = dot + 1;
	return 0;
}

int cursor_format(char *out, size_t len, const char *us, const char *id)
{
	int n;

	if (out == NULL || len == 0 || us == NULL || id == NULL)
		return -1;
	n = snprintf(out, len, "%s.%s", us, id);
	if (n < 0 || (size_t)n >= len) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}
