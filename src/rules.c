/* The enum values of the API; vehicles.*_type in the database must list the same. */
#include <stddef.h>

#include "rules.h"

const char *const rules_bike_types[] = {"road", "mountain", "hybrid", "gravel", "ebike", "other", NULL};
const char *const rules_part_types[] = {"chain", "tires", "brake_pads", "cassette", "derailleur",
	"crankset", "saddle", "handlebar", "pedals", "other", NULL};
const char *const rules_maintenance_types[] = {"repair", "replacement", "adjustment", "cleaning",
	"inspection", "other", NULL};
const char *const rules_ride_types[] = {"outdoor", "indoor", "virtual", NULL};
