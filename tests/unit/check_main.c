/* The unit test driver: every suite in one SRunner. Check's environment variables apply:
 * CK_FORK=no runs in-process (for valgrind), CK_RUN_SUITE / CK_RUN_CASE pick a subset,
 * CK_VERBOSITY sets the output. Exits non-zero when any test fails. */
#include <check.h>
#include <stdlib.h>

Suite *auth_suite(void);
Suite *auth_cache_suite(void);
Suite *jwks_suite(void);
Suite *router_suite(void);
Suite *valid_suite(void);
Suite *valid_numbers_suite(void);
Suite *valid_time_suite(void);
Suite *valid_gear_suite(void);
Suite *units_suite(void);
Suite *body_suite(void);
Suite *body_limits_suite(void);
Suite *routes_doc_suite(void);
Suite *query_suite(void);
Suite *db_json_suite(void);
Suite *db_json_text_suite(void);
Suite *cursor_suite(void);
Suite *idem_suite(void);
Suite *config_suite(void);
Suite *master_suite(void);
Suite *keyshare_suite(void);
Suite *metrics_suite(void);
Suite *db_suite(void);
Suite *ride_fields_suite(void);
Suite *export_suite(void);
Suite *ratelimit_suite(void);

int main(void)
{
	SRunner *sr = srunner_create(auth_suite());
	int failed;

	srunner_add_suite(sr, auth_cache_suite());
	srunner_add_suite(sr, jwks_suite());
	srunner_add_suite(sr, router_suite());
	srunner_add_suite(sr, valid_suite());
	srunner_add_suite(sr, valid_numbers_suite());
	srunner_add_suite(sr, valid_time_suite());
	srunner_add_suite(sr, valid_gear_suite());
	srunner_add_suite(sr, units_suite());
	srunner_add_suite(sr, body_suite());
	srunner_add_suite(sr, body_limits_suite());
	srunner_add_suite(sr, routes_doc_suite());
	srunner_add_suite(sr, query_suite());
	srunner_add_suite(sr, db_json_suite());
	srunner_add_suite(sr, db_json_text_suite());
	srunner_add_suite(sr, cursor_suite());
	srunner_add_suite(sr, idem_suite());
	srunner_add_suite(sr, config_suite());
	srunner_add_suite(sr, master_suite());
	srunner_add_suite(sr, keyshare_suite());
	srunner_add_suite(sr, metrics_suite());
	srunner_add_suite(sr, db_suite());
	srunner_add_suite(sr, ride_fields_suite());
	srunner_add_suite(sr, export_suite());
	srunner_add_suite(sr, ratelimit_suite());
	/* Fork mode is left to CK_FORK (the default: fork, so one crash fails one test). */
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
