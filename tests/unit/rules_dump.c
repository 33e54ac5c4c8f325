/* Prints the rules of include/rules.h as one JSON object, so tests/http/test_rules.py can
 * check that the database's enums and constraints say the same. */
#include <stdio.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "rules.h"

/* A NULL-terminated list of names as a JSON array. */
static json_object *rules_dump_list(const char *const *names)
{
	json_object *a = json_object_new_array();

	for (const char *const *n = names; a && *n; n++)
		json_object_array_add(a, json_object_new_string(*n));
	return a;
}

int main(void)
{
	static const struct {
		const char *key;
		double value;
	} limits[] = {
		{"name_max", RULES_NAME_MAX},
		{"brand_max", RULES_BRAND_MAX},
		{"notes_max", RULES_NOTES_MAX},
		{"description_max", RULES_DESCRIPTION_MAX},
		{"email_max", RULES_EMAIL_MAX},
		{"metadata_max", RULES_METADATA_MAX},
		{"initial_km_max", RULES_INITIAL_KM_MAX},
		{"distance_km_max", RULES_DISTANCE_KM_MAX},
		{"cost_max", RULES_COST_MAX},
		{"threshold_km_max", RULES_THRESHOLD_KM_MAX},
		{"idem_key_max", RULES_IDEM_KEY_MAX},
		{"moving_time_max", RULES_MOVING_TIME_MAX},
		{"elevation_m_max", RULES_ELEVATION_M_MAX},
		{"source_max", RULES_SOURCE_MAX},
		{"external_id_max", RULES_EXTERNAL_ID_MAX},
	};
	json_object *o = json_object_new_object();
	const char *text;
	int rc = EXIT_FAILURE;

	if (o == NULL)
		return rc;
	json_object_object_add(o, "bike_types", rules_dump_list(rules_bike_types));
	json_object_object_add(o, "part_types", rules_dump_list(rules_part_types));
	json_object_object_add(o, "maintenance_types", rules_dump_list(rules_maintenance_types));
	json_object_object_add(o, "ride_types", rules_dump_list(rules_ride_types));
	/* Every limit is a whole number; int64 keeps 1e9 from printing as 1000000000.0. */
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
		json_object_object_add(o, limits[i].key, json_object_new_int64((int64_t)limits[i].value));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED);
	if (text && printf("%s\n", text) >= 0 && fflush(stdout) == 0)
		rc = EXIT_SUCCESS;
	json_object_put(o);
	return rc;
}
