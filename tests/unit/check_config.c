/* Unit tests for config.c: every rule on both sides, through a stand-in for getenv that
 * reads a small table (the process environment is never touched). */
#include <check.h>
#include <stddef.h>
#include <string.h>

#include "config.h"

Suite *config_suite(void); /* run by the unit test driver */

#define SECRET_32 "0123456789abcdef0123456789abcdef"
#define SECRET_31 "0123456789abcdef0123456789abcde"
#define JWKS_TEXT "{\"keys\":[]}"

struct kv {
	const char *name;
	const char *value;
};

/* The table fake_get reads; a get function has no context argument. */
static const struct kv *env_table;

static const char *fake_get(const char *name)
{
	for (const struct kv *e = env_table; e != NULL && e->name != NULL; e++)
		if (strcmp(e->name, name) == 0)
			return e->value;
	return NULL;
}

/* A NULL-terminated table as a compound literal, alive for the enclosing block. */
#define ENV(...) ((const struct kv[]){__VA_ARGS__, {NULL, NULL}})
#define NO_ENV ((const struct kv[]){{NULL, NULL}})

static err_t load(const struct kv *table, struct config *cfg, const char **why)
{
	env_table = table;
	return config_load(cfg, fake_get, why);
}

/* A refusal: ERR_VALIDATION, a message that names `names`, never the secret, and a
 * cleared cfg so a caller that ignores the error gets no key. */
static void ck_refused(const struct kv *table, const char *names, const char *secret)
{
	struct config cfg = {.production = 7, .jwt_secret = "stale"};
	const char *why = NULL;

	ck_assert_int_eq(load(table, &cfg, &why), ERR_VALIDATION);
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(strstr(why, names) != NULL, "'%s' does not name %s", why, names);
	if (secret != NULL)
		ck_assert_msg(strstr(why, secret) == NULL, "'%s' shows the secret", why);
	ck_assert_int_eq(cfg.production, 0);
	ck_assert_ptr_null(cfg.jwt_secret);
	ck_assert_ptr_null(cfg.jwks);
	ck_assert_ptr_null(cfg.database_url);
	ck_assert_int_eq(cfg.workers, 0);
}

static void ck_loads(const struct kv *table, struct config *cfg)
{
	const char *why = "stale";

	ck_assert_int_eq(load(table, cfg, &why), ERR_OK);
	ck_assert_ptr_null(why);
}

/* ---- VEHICLE_ENV ---- */

START_TEST(test_env_unset_is_development)
{
	struct config cfg;

	ck_loads(NO_ENV, &cfg);
	ck_assert_int_eq(cfg.production, 0);
}
END_TEST

START_TEST(test_env_names)
{
	struct config cfg;

	ck_loads(ENV({"VEHICLE_ENV", "development"}), &cfg);
	ck_assert_int_eq(cfg.production, 0);
	ck_loads(ENV({"VEHICLE_ENV", "production"}, {"SUPABASE_JWT_SECRET", SECRET_32}), &cfg);
	ck_assert_int_eq(cfg.production, 1);
}
END_TEST

START_TEST(test_env_unknown_refused)
{
	/* Near misses too: a typo must not quietly mean development. */
	static const char *const bad[] = {"prod", "Production", "PRODUCTION", "staging",
					  "production ", "dev", "test"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_refused(ENV({"VEHICLE_ENV", bad[i]}, {"SUPABASE_JWT_SECRET", SECRET_32}),
			   "VEHICLE_ENV", SECRET_32);
}
END_TEST

START_TEST(test_env_empty_is_development)
{
	struct config cfg;

	/* As the scripts' ${VEHICLE_ENV:-development}. */
	ck_loads(ENV({"VEHICLE_ENV", ""}), &cfg);
	ck_assert_int_eq(cfg.production, 0);
}
END_TEST

/* ---- development ---- */

START_TEST(test_dev_default_secret)
{
	struct config cfg;

	ck_loads(NO_ENV, &cfg);
	ck_assert_str_eq(cfg.jwt_secret, CONFIG_DEV_JWT_SECRET);
	ck_assert_ptr_null(cfg.jwks);
	ck_assert_ptr_null(cfg.database_url);
}
END_TEST

START_TEST(test_dev_empty_strings_are_unset)
{
	struct config cfg;

	ck_loads(ENV({"VEHICLE_ENV", "development"}, {"SUPABASE_JWT_SECRET", ""},
		     {"SUPABASE_JWKS", ""}, {"DATABASE_URL", ""}),
		 &cfg);
	ck_assert_str_eq(cfg.jwt_secret, CONFIG_DEV_JWT_SECRET);
	ck_assert_ptr_null(cfg.jwks);
	ck_assert_ptr_null(cfg.database_url);
}
END_TEST

START_TEST(test_dev_jwks_only_no_default)
{
	struct config cfg;

	/* The default is for "no key at all"; with a JWKS, HS256 tokens stay refused. */
	ck_loads(ENV({"SUPABASE_JWKS", JWKS_TEXT}), &cfg);
	ck_assert_ptr_null(cfg.jwt_secret);
	ck_assert_str_eq(cfg.jwks, JWKS_TEXT);
}
END_TEST

START_TEST(test_dev_allows_what_production_refuses)
{
	struct config cfg;

	ck_loads(ENV({"SUPABASE_JWT_SECRET", CONFIG_DEV_JWT_SECRET}), &cfg);
	ck_assert_str_eq(cfg.jwt_secret, CONFIG_DEV_JWT_SECRET);
	ck_loads(ENV({"VEHICLE_ENV", "development"}, {"SUPABASE_JWT_SECRET", SECRET_31}), &cfg);
	ck_assert_str_eq(cfg.jwt_secret, SECRET_31);
	ck_loads(ENV({"SUPABASE_JWT_SECRET", "x"}), &cfg);
	ck_assert_str_eq(cfg.jwt_secret, "x");
}
END_TEST

START_TEST(test_values_passed_through)
{
	struct config cfg;

	ck_loads(ENV({"SUPABASE_JWT_SECRET", SECRET_32}, {"SUPABASE_JWKS", JWKS_TEXT},
		     {"DATABASE_URL", "host=/tmp dbname=vehicles"}),
		 &cfg);
	ck_assert_str_eq(cfg.jwt_secret, SECRET_32);
	ck_assert_str_eq(cfg.jwks, JWKS_TEXT);
	ck_assert_str_eq(cfg.database_url, "host=/tmp dbname=vehicles");
}
END_TEST

/* ---- production ---- */

START_TEST(test_prod_needs_a_key)
{
	ck_refused(ENV({"VEHICLE_ENV", "production"}), "SUPABASE_JWT_SECRET or SUPABASE_JWKS",
		   NULL);
	ck_refused(ENV({"VEHICLE_ENV", "production"}, {"DATABASE_URL", "postgresql://db/x"}),
		   "SUPABASE_JWKS", NULL);
}
END_TEST

START_TEST(test_prod_empty_strings_are_no_key)
{
	ck_refused(ENV({"VEHICLE_ENV", "production"}, {"SUPABASE_JWT_SECRET", ""},
		       {"SUPABASE_JWKS", ""}),
		   "SUPABASE_JWT_SECRET or SUPABASE_JWKS", NULL);
}
END_TEST

START_TEST(test_prod_refuses_dev_secret)
{
	ck_refused(ENV({"VEHICLE_ENV", "production"}, {"SUPABASE_JWT_SECRET", CONFIG_DEV_JWT_SECRET}),
		   "SUPABASE_JWT_SECRET", CONFIG_DEV_JWT_SECRET);
	/* A JWKS beside it does not make the public secret acceptable. */
	ck_refused(ENV({"VEHICLE_ENV", "production"}, {"SUPABASE_JWT_SECRET", CONFIG_DEV_JWT_SECRET},
		       {"SUPABASE_JWKS", JWKS_TEXT}),
		   "development", CONFIG_DEV_JWT_SECRET);
}
END_TEST

START_TEST(test_prod_secret_32_ok)
{
	struct config cfg;

	ck_loads(ENV({"VEHICLE_ENV", "production"}, {"SUPABASE_JWT_SECRET", SECRET_32},
		     {"DATABASE_URL", "postgresql://db/x"}),
		 &cfg);
	ck_assert_int_eq(cfg.production, 1);
	ck_assert_str_eq(cfg.jwt_secret, SECRET_32);
	ck_assert_ptr_null(cfg.jwks);
	ck_assert_str_eq(cfg.database_url, "postgresql://db/x");
}
END_TEST

START_TEST(test_prod_secret_31_refused)
{
	ck_refused(ENV({"VEHICLE_ENV", "production"}, {"SUPABASE_JWT_SECRET", SECRET_31}),
		   "SUPABASE_JWT_SECRET", SECRET_31);
	ck_refused(ENV({"VEHICLE_ENV", "production"}, {"SUPABASE_JWT_SECRET", SECRET_31},
		       {"SUPABASE_JWKS", JWKS_TEXT}),
		   "32 bytes", SECRET_31);
}
END_TEST

START_TEST(test_prod_jwks_only_ok)
{
	struct config cfg;

	ck_loads(ENV({"VEHICLE_ENV", "production"}, {"SUPABASE_JWKS", JWKS_TEXT}), &cfg);
	ck_assert_int_eq(cfg.production, 1);
	ck_assert_ptr_null(cfg.jwt_secret);
	ck_assert_str_eq(cfg.jwks, JWKS_TEXT);
	/* An empty secret beside the JWKS is no secret, not a too-short one. */
	ck_loads(ENV({"VEHICLE_ENV", "production"}, {"SUPABASE_JWT_SECRET", ""},
		     {"SUPABASE_JWKS", JWKS_TEXT}),
		 &cfg);
	ck_assert_ptr_null(cfg.jwt_secret);
}
END_TEST

START_TEST(test_why_may_be_null)
{
	struct config cfg;

	env_table = ENV({"VEHICLE_ENV", "production"});
	ck_assert_int_eq(config_load(&cfg, fake_get, NULL), ERR_VALIDATION);
	env_table = NO_ENV;
	ck_assert_int_eq(config_load(&cfg, fake_get, NULL), ERR_OK);
}
END_TEST

/* ---- WORKERS (the prefork master's pool) ---- */

START_TEST(test_workers_default_and_values)
{
	struct config cfg;

	ck_loads(NO_ENV, &cfg);
	ck_assert_int_eq(cfg.workers, CONFIG_WORKERS_DEFAULT);
	ck_loads(ENV({"WORKERS", ""}), &cfg);
	ck_assert_int_eq(cfg.workers, CONFIG_WORKERS_DEFAULT);
	ck_loads(ENV({"WORKERS", "1"}), &cfg);
	ck_assert_int_eq(cfg.workers, 1);
	ck_loads(ENV({"WORKERS", "256"}), &cfg);
	ck_assert_int_eq(cfg.workers, 256);
	ck_loads(ENV({"WORKERS", "012"}), &cfg);
	ck_assert_int_eq(cfg.workers, 12);
}
END_TEST

START_TEST(test_workers_refused)
{
	static const char *const bad[] = {"0", "257", "-1", "+4", "4x", "x", "0x10", "4.0",
					  "99999999999999999999", "4 4"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_refused(ENV({"WORKERS", bad[i]}), "WORKERS", NULL);
}
END_TEST

START_TEST(test_parse_workers_blanks)
{
	int n = -1;

	/* What `echo 8 >WORKERS_FILE` writes. */
	ck_assert_int_eq(config_parse_workers("8\n", &n), ERR_OK);
	ck_assert_int_eq(n, 8);
	ck_assert_int_eq(config_parse_workers(" \t16 \n", &n), ERR_OK);
	ck_assert_int_eq(n, 16);
	n = -1;
	ck_assert_int_eq(config_parse_workers("", &n), ERR_VALIDATION);
	ck_assert_int_eq(config_parse_workers("\n", &n), ERR_VALIDATION);
	ck_assert_int_eq(config_parse_workers("8\n9\n", &n), ERR_VALIDATION);
	ck_assert_int_eq(config_parse_workers(NULL, &n), ERR_VALIDATION);
	ck_assert_int_eq(n, -1);
}
END_TEST

/* ---- the fleet's settings: DATABASE_POOL_MODE, SUPABASE_URL, JWKS_REFRESH_S, METRICS_SOCKET ---- */

START_TEST(test_pool_mode)
{
	struct config cfg;

	ck_loads(NO_ENV, &cfg);
	ck_assert_int_eq(cfg.pool_transaction, 0);
	ck_loads(ENV({"DATABASE_POOL_MODE", "session"}), &cfg);
	ck_assert_int_eq(cfg.pool_transaction, 0);
	ck_loads(ENV({"DATABASE_POOL_MODE", "transaction"}), &cfg);
	ck_assert_int_eq(cfg.pool_transaction, 1);
	ck_refused(ENV({"DATABASE_POOL_MODE", "Transaction"}), "DATABASE_POOL_MODE", NULL);
	ck_refused(ENV({"DATABASE_POOL_MODE", "statement"}), "DATABASE_POOL_MODE", NULL);
}
END_TEST

START_TEST(test_supabase_url)
{
	struct config cfg;
	char long_url[CONFIG_SUPABASE_URL_MAX + 2];

	ck_loads(ENV({"SUPABASE_URL", "https://abcd.supabase.co"}), &cfg);
	ck_assert_str_eq(cfg.supabase_url, "https://abcd.supabase.co");
	ck_assert_int_eq(cfg.jwks_refresh_s, CONFIG_JWKS_REFRESH_DEFAULT);
	/* Alone it is a key source: no development secret is filled in beside it. */
	ck_assert_ptr_null(cfg.jwt_secret);
	ck_refused(ENV({"SUPABASE_URL", "ftp://abcd.supabase.co"}), "SUPABASE_URL", NULL);
	ck_refused(ENV({"SUPABASE_URL", "abcd.supabase.co"}), "SUPABASE_URL", NULL);
	/* The longest accepted, and one byte more. */
	memset(long_url, 'a', sizeof(long_url));
	memcpy(long_url, "https://", 8);
	long_url[CONFIG_SUPABASE_URL_MAX] = '\0';
	ck_loads(ENV({"SUPABASE_URL", long_url}), &cfg);
	long_url[CONFIG_SUPABASE_URL_MAX] = 'a';
	long_url[CONFIG_SUPABASE_URL_MAX + 1] = '\0';
	ck_refused(ENV({"SUPABASE_URL", long_url}), "SUPABASE_URL", NULL);
}
END_TEST

START_TEST(test_prod_supabase_url)
{
	struct config cfg;

	/* Enough alone in production, over https. */
	ck_loads(ENV({"VEHICLE_ENV", "production"}, {"SUPABASE_URL", "https://abcd.supabase.co"}), &cfg);
	ck_assert_int_eq(cfg.production, 1);
	/* Plain http only to this machine: elsewhere anyone on the path could swap the keys. */
	ck_refused(ENV({"VEHICLE_ENV", "production"}, {"SUPABASE_URL", "http://abcd.supabase.co"}),
		   "https://", NULL);
	ck_refused(ENV({"VEHICLE_ENV", "production"}, {"SUPABASE_URL", "http://127.0.0.1.evil.example"}),
		   "https://", NULL);
	ck_refused(ENV({"VEHICLE_ENV", "production"}, {"SUPABASE_URL", "http://localhostx:80"}),
		   "https://", NULL);
	ck_loads(ENV({"VEHICLE_ENV", "production"}, {"SUPABASE_URL", "http://127.0.0.1:9999"}), &cfg);
	ck_loads(ENV({"VEHICLE_ENV", "production"}, {"SUPABASE_URL", "http://localhost/x"}), &cfg);
	ck_loads(ENV({"VEHICLE_ENV", "production"}, {"SUPABASE_URL", "http://[::1]:8080"}), &cfg);
	/* Development takes http anywhere (a local stand-in under another name). */
	ck_loads(ENV({"SUPABASE_URL", "http://jwks.test:8080"}), &cfg);
}
END_TEST

START_TEST(test_jwks_refresh_and_metrics_socket)
{
	struct config cfg;

	ck_loads(ENV({"JWKS_REFRESH_S", "1"}), &cfg);
	ck_assert_int_eq(cfg.jwks_refresh_s, 1);
	ck_loads(ENV({"JWKS_REFRESH_S", "86400"}), &cfg);
	ck_assert_int_eq(cfg.jwks_refresh_s, 86400);
	ck_refused(ENV({"JWKS_REFRESH_S", "0"}), "JWKS_REFRESH_S", NULL);
	ck_refused(ENV({"JWKS_REFRESH_S", "86401"}), "JWKS_REFRESH_S", NULL);
	ck_refused(ENV({"JWKS_REFRESH_S", "10s"}), "JWKS_REFRESH_S", NULL);
	ck_loads(ENV({"METRICS_SOCKET", "/run/m.sock"}), &cfg);
	ck_assert_str_eq(cfg.metrics_socket, "/run/m.sock");
	ck_refused(ENV({"METRICS_SOCKET", "var/run/m.sock"}), "METRICS_SOCKET", NULL);
}
END_TEST

/* ---- RATE_*: the workers' per-user limits ---- */

START_TEST(test_rates_default_and_values)
{
	struct config cfg;

	ck_loads(NO_ENV, &cfg);
	ck_assert_uint_eq(cfg.rates[RATELIMIT_WRITE].rate_milli, 100 * 1000 / 60);
	ck_assert_uint_eq(cfg.rates[RATELIMIT_WRITE].burst, CONFIG_RATE_BURST_WRITE);
	ck_assert_uint_eq(cfg.rates[RATELIMIT_READ].rate_milli, 300 * 1000 / 60);
	ck_assert_uint_eq(cfg.rates[RATELIMIT_READ].burst, CONFIG_RATE_BURST_READ);
	ck_assert_uint_eq(cfg.rates[RATELIMIT_ANON].rate_milli, 1000);
	ck_assert_uint_eq(cfg.rates[RATELIMIT_ANON].burst, CONFIG_RATE_BURST_ANON);
	ck_loads(ENV({"RATE_READ", "1000000r/s"}, {"RATE_BURST_READ", "1000000"},
		     {"RATE_ANON", "1r/m"}, {"RATE_BURST_ANON", "0"}, {"RATE_WRITE", ""}), &cfg);
	ck_assert_uint_eq(cfg.rates[RATELIMIT_READ].rate_milli, 1000000000u);
	ck_assert_uint_eq(cfg.rates[RATELIMIT_READ].burst, 1000000);
	ck_assert_uint_eq(cfg.rates[RATELIMIT_ANON].rate_milli, 16);
	ck_assert_uint_eq(cfg.rates[RATELIMIT_ANON].burst, 0);
	ck_assert_uint_eq(cfg.rates[RATELIMIT_WRITE].rate_milli, 100 * 1000 / 60);
}
END_TEST

START_TEST(test_rates_refused)
{
	ck_refused(ENV({"RATE_WRITE", "100"}), "RATE_WRITE", NULL);
	ck_refused(ENV({"RATE_READ", "0r/s"}), "RATE_READ", NULL);
	ck_refused(ENV({"RATE_ANON", "10r/h"}), "RATE_ANON", NULL);
	ck_refused(ENV({"RATE_BURST_WRITE", "-1"}), "RATE_BURST_", NULL);
	ck_refused(ENV({"RATE_BURST_READ", "1000001"}), "RATE_BURST_", NULL);
	ck_refused(ENV({"RATE_BURST_ANON", "x"}), "RATE_BURST_", NULL);
}
END_TEST

Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *env = tcase_create("vehicle_env");
	TCase *dev = tcase_create("development");
	TCase *prod = tcase_create("production");
	TCase *workers = tcase_create("workers");

	tcase_add_test(env, test_env_unset_is_development);
	tcase_add_test(env, test_env_names);
	tcase_add_test(env, test_env_unknown_refused);
	tcase_add_test(env, test_env_empty_is_development);
	tcase_add_test(env, test_why_may_be_null);
	suite_add_tcase(s, env);

	tcase_add_test(dev, test_dev_default_secret);
	tcase_add_test(dev, test_dev_empty_strings_are_unset);
	tcase_add_test(dev, test_dev_jwks_only_no_default);
	tcase_add_test(dev, test_dev_allows_what_production_refuses);
	tcase_add_test(dev, test_values_passed_through);
	suite_add_tcase(s, dev);

	tcase_add_test(prod, test_prod_needs_a_key);
	tcase_add_test(prod, test_prod_empty_strings_are_no_key);
	tcase_add_test(prod, test_prod_refuses_dev_secret);
	tcase_add_test(prod, test_prod_secret_32_ok);
	tcase_add_test(prod, test_prod_secret_31_refused);
	tcase_add_test(prod, test_prod_jwks_only_ok);
	suite_add_tcase(s, prod);

	tcase_add_test(workers, test_workers_default_and_values);
	tcase_add_test(workers, test_workers_refused);
	tcase_add_test(workers, test_parse_workers_blanks);
	tcase_add_test(workers, test_pool_mode);
	tcase_add_test(workers, test_supabase_url);
	tcase_add_test(workers, test_prod_supabase_url);
	tcase_add_test(workers, test_jwks_refresh_and_metrics_socket);
	tcase_add_test(workers, test_rates_default_and_values);
	tcase_add_test(workers, test_rates_refused);
	suite_add_tcase(s, workers);
	return s;
}
