/* Unit tests of the list cache's pure parts: REDIS_URL (cache.c), keys, stored values and the
 * verbatim JSON hook (list_cache.c). Its own program (tests/check_cache): the Redis side is
 * tested against a real redis-server by tests/http/test_cache.py. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "config.h"
#include "jtext.h"
#include "list_cache.h"

static struct cache_url parsed(const char *url)
{
	struct cache_url u;
	const char *why = "unset";

	ck_assert_msg(cache_url_parse(url, &u, &why) == 0, "%s refused: %s", url, why);
	ck_assert_ptr_null(why);
	return u;
}

static void refused(const char *url, const char *names)
{
	struct cache_url u;
	const char *why = NULL;

	ck_assert_msg(cache_url_parse(url, &u, &why) == -1, "%s accepted", url ? url : "(null)");
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(strstr(why, names) != NULL, "'%s' does not say %s", why, names);
	ck_assert_msg(strstr(why, "hunter2") == NULL, "'%s' shows the password", why);
}

START_TEST(url_tcp_forms)
{
	struct cache_url u = parsed("redis://localhost");
	ck_assert_str_eq(u.host, "localhost");
	ck_assert_int_eq(u.port, 6379);
	ck_assert_int_eq(u.db, 0);
	ck_assert_str_eq(u.path, "");
	ck_assert_str_eq(u.password, "");

	u = parsed("redis://10.0.0.7:6380/3");
	ck_assert_str_eq(u.host, "10.0.0.7");
	ck_assert_int_eq(u.port, 6380);
	ck_assert_int_eq(u.db, 3);

	u = parsed("redis://[::1]:7000/");
	ck_assert_str_eq(u.host, "::1");
	ck_assert_int_eq(u.port, 7000);
	ck_assert_int_eq(u.db, 0);

	u = parsed("redis://:hunter2@cache.internal:6379");
	ck_assert_str_eq(u.user, "");
	ck_assert_str_eq(u.password, "hunter2");
	ck_assert_str_eq(u.host, "cache.internal");

	u = parsed("redis://svc:p%40ss%3Aw0rd@h");
	ck_assert_str_eq(u.user, "svc");
	ck_assert_str_eq(u.password, "p@ss:w0rd");

	u = parsed("redis://hunter2@h"); /* Redis < 6: the password alone */
	ck_assert_str_eq(u.user, "");
	ck_assert_str_eq(u.password, "hunter2");
}
END_TEST

START_TEST(url_unix_forms)
{
	struct cache_url u = parsed("unix:/var/run/redis.sock");
	ck_assert_str_eq(u.path, "/var/run/redis.sock");
	ck_assert_str_eq(u.host, "");
	ck_assert_int_eq(u.db, 0);

	u = parsed("unix:///tmp/r.sock?db=2");
	ck_assert_str_eq(u.path, "/tmp/r.sock");
	ck_assert_int_eq(u.db, 2);
}
END_TEST

START_TEST(url_refusals)
{
	char longpath[200];

	refused(NULL, "empty");
	refused("", "empty");
	refused("http://h", "redis://");
	refused("rediss://:hunter2@h", "TLS");
	refused("redis://", "host");
	refused("redis://:hunter2@", "host");
	refused("redis://h:0", "port");
	refused("redis://h:65536", "port");
	refused("redis://h:63x", "port");
	refused("redis://h:", "port");
	refused("redis://h/x", "database");
	refused("redis://h/-1", "database");
	refused("redis://h st", "host");
	refused("redis://[::1", "IPv6");
	refused("redis://:hunter%2@h", "password");
	refused("redis://:hunter%00@h", "password");
	refused("unix:", "absolute");
	refused("unix:relative.sock", "absolute");
	refused("unix:/tmp/r.sock?password=hunter2", "db=N");
	refused("unix:/tmp/r.sock?db=x", "db=N");
	memset(longpath, 'a', sizeof(longpath));
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	{
		char url[256];
		ck_assert_int_gt(snprintf(url, sizeof(url), "unix:%s", longpath), 0);
		refused(url, "107");
	}
}
END_TEST

static const char *USER = "11111111-1111-4111-8111-111111111111";

START_TEST(keys_name_every_part_of_the_query)
{
	char a[LIST_CACHE_KEY_MAX], b[LIST_CACHE_KEY_MAX];
	struct list_cache_query q = {LIST_CACHE_BIKES, UNITS_KM, 50, 0, 0};
	struct list_cache_query variants[] = {
		{LIST_CACHE_PARTS, UNITS_KM, 50, 0, 0}, {LIST_CACHE_BIKES, UNITS_MI, 50, 0, 0},
		{LIST_CACHE_BIKES, UNITS_KM, 20, 0, 0}, {LIST_CACHE_BIKES, UNITS_KM, 50, 5, 0},
		{LIST_CACHE_BIKES, UNITS_KM, 50, 0, 1}, {LIST_CACHE_BIKES, UNITS_KM, 5, 0, 0},
	};
	int n = list_cache_key(a, sizeof(a), "b1", USER, &q);

	ck_assert_int_gt(n, 0);
	ck_assert_str_eq(a, "vs:list:b1:11111111-1111-4111-8111-111111111111:b:km:50:0:0");
	ck_assert_int_eq((int)strlen(a), n);
	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		ck_assert_int_gt(list_cache_key(b, sizeof(b), "b1", USER, &variants[i]), 0);
		ck_assert_msg(strcmp(a, b) != 0, "variant %zu has the same key", i);
	}
	ck_assert_int_gt(list_cache_key(b, sizeof(b), "b2", USER, &q), 0);
	ck_assert_str_ne(a, b); /* another build */
	ck_assert_int_gt(list_cache_key(b, sizeof(b), "b1", "22222222-2222-4222-8222-222222222222", &q), 0);
	ck_assert_str_ne(a, b); /* another user */
	/* parts: installed any (-1), false, true are three lists */
	q.kind = LIST_CACHE_PARTS;
	q.flag = -1;
	ck_assert_int_gt(list_cache_key(a, sizeof(a), "b1", USER, &q), 0);
	ck_assert_str_eq(a, "vs:list:b1:11111111-1111-4111-8111-111111111111:p:km:50:0:-1");
	ck_assert_int_eq(list_cache_key(a, 20, "b1", USER, &q), -1); /* does not fit */
}
END_TEST

START_TEST(values_match_only_their_generation)
{
	const char *gen = "e1.g1";
	const char v[] = "e1.g1\n42\n[{\"id\":1}]";
	long total = -1;
	size_t body = 0;

	ck_assert_int_eq(list_cache_value_parse(v, strlen(v), gen, &total, &body), 1);
	ck_assert_int_eq(total, 42);
	ck_assert_str_eq(v + body, "[{\"id\":1}]");
	/* an empty body is still a body */
	ck_assert_int_eq(list_cache_value_parse("e1.g1\n0\n", 8, gen, &total, &body), 1);
	ck_assert_int_eq(total, 0);
	ck_assert_uint_eq(body, 8);
	ck_assert_int_eq(list_cache_value_parse(v, strlen(v), "e1.g2", &total, &body), 0);
	ck_assert_int_eq(list_cache_value_parse(v, strlen(v), "e1.g", &total, &body), 0); /* a prefix */
	ck_assert_int_eq(list_cache_value_parse(v, strlen(v), "", &total, &body), 0);
	ck_assert_int_eq(list_cache_value_parse("e1.g1\n42", 8, gen, &total, &body), 0);
	ck_assert_int_eq(list_cache_value_parse("e1.g1\n\n[]", 9, gen, &total, &body), 0);
	ck_assert_int_eq(list_cache_value_parse("e1.g1\n4x\n[]", 11, gen, &total, &body), 0);
	ck_assert_int_eq(list_cache_value_parse("e1.g1", 5, gen, &total, &body), 0);
	ck_assert_int_eq(list_cache_value_parse("e1.g1\n99999999999999999999\n[]", 29, gen, &total, &body), 0);
}
END_TEST

static int released;

static void release(void *p)
{
	released++;
	free(p);
}

START_TEST(raw_json_is_sent_verbatim)
{
	char *text = strdup("[{\"name\":\"a/b \\u00e9\"}, 1.50]");
	json_object *o, *outer;
	size_t len;

	ck_assert_ptr_nonnull(text);
	released = 0;
	o = jtext_raw(text, strlen(text), release, text);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len), text);
	ck_assert_uint_eq(len, strlen(text));
	/* inside another value too */
	outer = json_object_new_object();
	json_object_object_add(outer, "x", json_object_get(o));
	ck_assert_str_eq(json_object_to_json_string_ext(outer, JSON_C_TO_STRING_PLAIN),
			 "{\"x\":[{\"name\":\"a/b \\u00e9\"}, 1.50]}");
	json_object_put(outer);
	ck_assert_int_eq(released, 0);
	json_object_put(o);
	ck_assert_int_eq(released, 1);
}
END_TEST

/* ---- config.c's list cache settings ---- */

static const char *const *env_table; /* name, value, name, value, ..., NULL */

static const char *fake_get(const char *name)
{
	for (const char *const *e = env_table; e && *e; e += 2)
		if (strcmp(e[0], name) == 0)
			return e[1];
	return NULL;
}

static err_t load(const char *const *table, struct config *cfg, const char **why)
{
	env_table = table;
	return config_load(cfg, fake_get, why);
}

START_TEST(config_cache_settings)
{
	struct config cfg;
	const char *why = NULL;

	/* no REDIS_URL: no cache, whatever else */
	ck_assert_int_eq(load((const char *const[]){NULL}, &cfg, &why), ERR_OK);
	ck_assert_ptr_null(cfg.redis_url);
	ck_assert_int_eq(cfg.list_cache, 0);
	ck_assert_uint_eq(cfg.redis_timeout_ms, CACHE_TIMEOUT_MS_DEFAULT);
	ck_assert_int_eq(load((const char *const[]){"LIST_CACHE", "off", NULL}, &cfg, &why), ERR_OK);
	ck_assert_int_eq(cfg.list_cache, 0);
	/* REDIS_URL: the default, and the switch both ways */
	ck_assert_int_eq(load((const char *const[]){"REDIS_URL", "redis://h", NULL}, &cfg, &why), ERR_OK);
	ck_assert_str_eq(cfg.redis_url, "redis://h");
	ck_assert_int_eq(cfg.list_cache, CONFIG_LIST_CACHE_DEFAULT);
	ck_assert_int_eq(load((const char *const[]){"REDIS_URL", "unix:/r.sock", "LIST_CACHE", "off",
						    NULL}, &cfg, &why), ERR_OK);
	ck_assert_int_eq(cfg.list_cache, 0);
	ck_assert_int_eq(load((const char *const[]){"REDIS_URL", "unix:/r.sock", "LIST_CACHE", "on",
						    "REDIS_TIMEOUT_MS", "40", NULL}, &cfg, &why), ERR_OK);
	ck_assert_int_eq(cfg.list_cache, 1);
	ck_assert_uint_eq(cfg.redis_timeout_ms, 40);
	/* an empty value is "not given" */
	ck_assert_int_eq(load((const char *const[]){"REDIS_URL", "", "LIST_CACHE", "", NULL}, &cfg, &why),
			 ERR_OK);
	ck_assert_int_eq(cfg.list_cache, 0);
}
END_TEST

static void config_refused(const char *const *table, const char *names)
{
	struct config cfg = {.list_cache = 7};
	const char *why = NULL;

	ck_assert_int_eq(load(table, &cfg, &why), ERR_VALIDATION);
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(strstr(why, names) != NULL, "'%s' does not name %s", why, names);
	ck_assert_msg(strstr(why, "hunter2") == NULL, "'%s' shows the password", why);
	ck_assert_int_eq(cfg.list_cache, 0);
	ck_assert_ptr_null(cfg.redis_url);
}

START_TEST(config_cache_refusals)
{
	config_refused((const char *const[]){"REDIS_URL", "rediss://:hunter2@h", NULL}, "TLS");
	config_refused((const char *const[]){"REDIS_URL", "redis://:hunter2@h:99999", NULL}, "port");
	config_refused((const char *const[]){"REDIS_URL", "h:6379", NULL}, "REDIS_URL");
	config_refused((const char *const[]){"REDIS_URL", "redis://h", "LIST_CACHE", "yes", NULL},
		       "LIST_CACHE");
	config_refused((const char *const[]){"LIST_CACHE", "on", NULL}, "REDIS_URL");
	config_refused((const char *const[]){"REDIS_URL", "redis://h", "REDIS_TIMEOUT_MS", "0", NULL},
		       "REDIS_TIMEOUT_MS");
	config_refused((const char *const[]){"REDIS_URL", "redis://h", "REDIS_TIMEOUT_MS", "1001", NULL},
		       "REDIS_TIMEOUT_MS");
	config_refused((const char *const[]){"REDIS_URL", "redis://h", "REDIS_TIMEOUT_MS", "2s", NULL},
		       "REDIS_TIMEOUT_MS");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cache");
	TCase *t = tcase_create("pure");
	SRunner *sr;
	int failed;

	tcase_add_test(t, url_tcp_forms);
	tcase_add_test(t, url_unix_forms);
	tcase_add_test(t, url_refusals);
	tcase_add_test(t, keys_name_every_part_of_the_query);
	tcase_add_test(t, values_match_only_their_generation);
	tcase_add_test(t, raw_json_is_sent_verbatim);
	tcase_add_test(t, config_cache_settings);
	tcase_add_test(t, config_cache_refusals);
	suite_add_tcase(s, t);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
