/* Distances: stored in km (3 decimals), converted only at the API edge. */
#ifndef VS_UNITS_H
#define VS_UNITS_H

#include <stddef.h>
#include <json-c/json.h>

typedef enum units_unit { UNITS_KM = 0, UNITS_MI = 1 } units_unit;

#define UNITS_MI_TO_KM 1.60934
#define UNITS_KM_TO_MI 0.621371

/* "km" or "mi" -> 0; anything else -> -1. NULL means the default, km. */
int units_parse(const char *s, units_unit *out);
const char *units_name(units_unit u);
/* Value given in unit u -> km, rounded to 3 decimals (what is stored). */
double units_to_km(double v, units_unit u);
/* km -> unit u, rounded to 3 decimals (what is shown). */
double units_from_km(double km, units_unit u);
double units_round3(double v);
/* Format v with at most 3 decimals and no trailing zeros into buf; -1 if it does not fit. */
int units_format(double v, char *buf, size_t len);
/* Elevation: metres with km, feet with mi (1 ft = 0.3048 m exactly). */
#define UNITS_FT_TO_M 0.3048
/* Value given in unit u's elevation (m or ft) -> metres, rounded to 3 decimals (stored). */
double units_elevation_to_m(double v, units_unit u);
/* A JSON number for metres shown in unit u's elevation, to 1 decimal ("152.4", "500.0"). */
json_object *units_elevation_json(double m, units_unit u);
/* An amount per km (a cost per distance) shown per unit u, to 4 decimals, no trailing zeros. */
json_object *units_per_distance_json(double per_km, units_unit u);
/* A JSON number for km shown in unit u, printed exactly as units_format prints it. */
json_object *units_json(double km, units_unit u);

#endif
