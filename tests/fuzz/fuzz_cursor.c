/* The ride history's cursor and the plain-string checks it and the bodies rely on:
 * cursor_parse/cursor_format, valid_parse_timestamp, valid_parse_int, valid_is_date,
 * valid_is_uuid. Input: one C string (a query value or a body string). */
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <time.h>

#include "cursor.h"
#include "fuzz.h"
#include "valid.h"

/* A cursor that parses is "<us>.<id>" exactly: formatting its parts gives it back. */
static void fuzz_cursor(const char *s, size_t uslen)
{
	char us[32], back[96];
	const char *id = NULL;

	FUZZ_ASSERT(uslen >= 1 && uslen <= sizeof us);
	memset(us, 'x', sizeof us);
	if (cursor_parse(s, us, uslen, &id) != 0)
		return;
	FUZZ_ASSERT(id != NULL && valid_is_uuid(id));
	FUZZ_ASSERT(strlen(us) < uslen && us[0] != '\0');
	FUZZ_ASSERT(cursor_format(back, sizeof back, us, id) == 0 && strcmp(back, s) == 0);
	FUZZ_ASSERT(cursor_format(back, strlen(s), us, id) == -1 && back[0] == '\0');
}

/* The epoch of an accepted timestamp, computed again with glibc's timegm. */
static void fuzz_timestamp(const char *s)
{
	double epoch = NAN, frac = 0, scale = 0.1;
	struct tm tm = {0};
	size_t len = strlen(s);
	long off = 0;
	const char *p;

	if (valid_parse_timestamp(s, &epoch) != 0)
		return;
	FUZZ_ASSERT(isfinite(epoch) && len >= 20);
	{
		char date[11];
		memcpy(date, s, 10);
		date[10] = '\0';
		FUZZ_ASSERT(valid_is_date(date));
	}
	FUZZ_ASSERT(sscanf(s, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) == 3);
	FUZZ_ASSERT(sscanf(s + 11, "%2d:%2d:%2d", &tm.tm_hour, &tm.tm_min, &tm.tm_sec) == 3);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	for (p = s + 19; *p == '.' || isdigit((unsigned char)*p); p++)
		if (*p != '.') {
			frac += (*p - '0') * scale;
			scale /= 10;
		}
	if (*p == '+' || *p == '-') {
		FUZZ_ASSERT(strlen(p) == 6);
		off = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600L + ((p[4] - '0') * 10 + (p[5] - '0')) * 60L;
		off = *p == '-' ? -off : off;
	} else {
		FUZZ_ASSERT((*p == 'Z' || *p == 'z') && p[1] == '\0');
	}
	FUZZ_ASSERT(fabs(epoch - ((double)timegm(&tm) + frac - (double)off)) < 1e-3);
}

static void fuzz_ints(const char *s)
{
	static const long ranges[][2] = {{0, LONG_MAX}, {1, 200}, {0, 100000000}, {5, 5}};
	long v;

	for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
		v = -1;
		if (valid_parse_int(s, ranges[i][0], ranges[i][1], &v) != 0)
			continue;
		FUZZ_ASSERT(v >= ranges[i][0] && v <= ranges[i][1]);
		for (const char *q = s; *q; q++)
			FUZZ_ASSERT(isdigit((unsigned char)*q));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);

	fuzz_cursor(s, 24);           /* what rides.c gives it */
	fuzz_cursor(s, 1 + size % 32); /* and any other room */
	fuzz_timestamp(s);
	fuzz_ints(s);
	if (valid_is_date(s))
		FUZZ_ASSERT(strlen(s) == 10 && s[4] == '-' && s[7] == '-');
	if (valid_is_uuid(s))
		FUZZ_ASSERT(strlen(s) == 36 && strspn(s, "0123456789abcdefABCDEF-") == 36);
	free(s);
	return 0;
}
