/* km/mi conversion at the edge. Factors are the design's, not exact inverses of each other. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "units.h"

int units_parse(const char *s, units_unit *out)
{
	if (s == NULL) {
		*out = UNITS_KM;
		return 0;
	}
	if (strcmp(s, "km") == 0) {
		*out = UNITS_KM;
		return 0;
	}
	if (strcmp(s, "mi") == 0) {
		*out = UNITS_MI;
		return 0;
	}
	return -1;
}

const char *units_name(units_unit u)
{
	return u == UNITS_MI ? "mi" : "km";
}

double units_round3(double v)
{
	/* round() is half away from zero; the epsilon absorbs binary noise like 2.0004999.. */
	double r = round(v * 1000.0 + (v >= 0 ? 1e-7 : -1e-7)) / 1000.0;
	return r == 0.0 ? 0.0 : r; /* no "-0" */
}

double units_to_km(double v, units_unit u)
{
	return units_round3(u == UNITS_MI ? v * UNITS_MI_TO_KM : v);
}

double units_from_km(double km, units_unit u)
{
	return units_round3(u == UNITS_MI ? km * UNITS_KM_TO_MI : km);
}

/* units_round3's r is K / 1000 for a whole K, and "%.3f" prints K's digits: written here
 * without printf (a third of a bike's JSON went to it). Exact while K is far below 2^52. */
static int units_format_fast(double r, char *buf, size_t len)
{
	long long k = llround(r * 1000.0);
	unsigned long long a = k < 0 ? (unsigned long long)-k : (unsigned long long)k;
	char tmp[24], *p = tmp + sizeof(tmp);
	size_t n;
	int frac = (int)(a % 1000), digits = 3;

	if (len < sizeof(tmp))
		return -1;
	/* the decimals, their trailing zeros trimmed */
	while (digits > 0 && frac % 10 == 0) {
		frac /= 10;
		digits--;
	}
	for (int i = 0; i < digits; i++, frac /= 10)
		*--p = (char)('0' + frac % 10);
	if (digits > 0)
		*--p = '.';
	a /= 1000;
	do
		*--p = (char)('0' + a % 10);
	while ((a /= 10) > 0);
	if (k < 0)
		*--p = '-';
	n = (size_t)(tmp + sizeof(tmp) - p);
	memcpy(buf, p, n);
	buf[n] = '\0';
	return 0;
}

int units_format(double v, char *buf, size_t len)
{
	double r = units_round3(v);

	if (fabs(r) < 1e12 && units_format_fast(r, buf, len) == 0)
		return 0;
	int n = snprintf(buf, len, "%.3f", r);
	if (n < 0 || (size_t)n >= len)
		return -1;
	/* Trim "12.500" to "12.5" and "3.000" to "3". */
	char *dot = strchr(buf, '.');
	if (dot) {
		char *end = buf + n - 1;
		while (end > dot && *end == '0')
			*end-- = '\0';
		if (end == dot)
			*end = '\0';
	}
	if (strcmp(buf, "-0") == 0) {
		buf[0] = '0';
		buf[1] = '\0';
	}
	return 0;
}

json_object *units_json(double km, units_unit u)
{
	char buf[64];
	double v = units_from_km(km, u);

	if (units_format(v, buf, sizeof(buf)) != 0)
		return json_object_new_double(v);
	return json_object_new_double_s(v, buf);
}

double units_elevation_to_m(double v, units_unit u)
{
	return units_round3(u == UNITS_MI ? v * UNITS_FT_TO_M : v);
}

json_object *units_elevation_json(double m, units_unit u)
{
	char buf[64];
	double v = u == UNITS_MI ? m / UNITS_FT_TO_M : m;
	/* round() is half away from zero; the epsilon absorbs binary noise (152.39999..). */
	double r = round(v * 10.0 + (v >= 0 ? 1e-6 : -1e-6)) / 10.0;
	int n = snprintf(buf, sizeof(buf), "%.1f", r == 0.0 ? 0.0 : r);

	if (n < 0 || (size_t)n >= sizeof(buf))
		return json_object_new_double(r);
	return json_object_new_double_s(r, buf);
}

json_object *units_per_distance_json(double per_km, units_unit u)
{
	char buf[64], *end;
	/* per mi = per km / (mi per km) */
	double v = u == UNITS_MI ? per_km / UNITS_KM_TO_MI : per_km;
	double r = round(v * 10000.0 + (v >= 0 ? 1e-6 : -1e-6)) / 10000.0;
	int n = snprintf(buf, sizeof(buf), "%.4f", r == 0.0 ? 0.0 : r);

	if (n < 0 || (size_t)n >= sizeof(buf))
		return json_object_new_double(r);
	for (end = buf + n - 1; end > buf && *end == '0'; end--)
		*end = '\0';
	if (*end == '.')
		*end = '\0';
	return json_object_new_double_s(r, buf);
}
