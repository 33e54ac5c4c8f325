/*
 * The validation rules of api-notes, defined once. C validates with them; the database's
 * enums and constraints must agree, which tests/http/test_rules.py checks against a live
 * schema (through tests/rules_dump, which prints these values).
 */
#ifndef VS_RULES_H
#define VS_RULES_H

#define RULES_NAME_MAX 100         /* name: 1..100 characters after trimming */
#define RULES_BRAND_MAX 100        /* brand, model: at most 100 */
#define RULES_NOTES_MAX 2000       /* ride and transfer notes */
#define RULES_DESCRIPTION_MAX 2000 /* maintenance description: 1..2000 */
#define RULES_EMAIL_MAX 254
#define RULES_METADATA_MAX 16384   /* bytes of metadata as stored (octet_length(metadata::text)),
				    * held by the database's metadata_check trigger */
#define RULES_INITIAL_KM_MAX 1000000
#define RULES_DISTANCE_KM_MAX 100000
#define RULES_COST_MAX 1e9
#define RULES_THRESHOLD_KM_MAX 10000000 /* metadata.replacement_threshold_km and friends */
#define RULES_IDEM_KEY_MAX 255     /* Idempotency-Key: 1..255 printable ASCII */
#define RULES_MOVING_TIME_MAX 604800 /* a ride's moving_time_s: 0..one week */
#define RULES_ELEVATION_M_MAX 100000 /* a ride's elevation_gain, metres after conversion */
#define RULES_SOURCE_MAX 50        /* a ride's source: 1..50 characters */
#define RULES_EXTERNAL_ID_MAX 255  /* a ride's external_id: 1..255 characters */
#define RULES_BATCH_MAX 200        /* rides in one POST /api/rides/batch */

/* A rule's number as text, for problem messages: RULES_TEXT(RULES_NAME_MAX) is "100". */
#define RULES_TEXT_(x) #x
#define RULES_TEXT(x) RULES_TEXT_(x)

/* NULL-terminated, in the order of the SQL enums. */
extern const char *const rules_bike_types[];
extern const char *const rules_part_types[];
extern const char *const rules_maintenance_types[];
extern const char *const rules_ride_types[];

#endif
