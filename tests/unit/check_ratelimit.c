/* Unit tests for the workers' rate limits (ratelimit.c): nginx's arithmetic (a bucket's first
 * request free, then burst more, then one per 1/rate), exactly at the burst and one past it,
 * the refill to the millisecond, zones and names apart, Retry-After rounded up, a clock read
 * late, a full table (zones apart, the fullest bucket kept), the rate forms of RATE_*, and
 * buckets shared between processes through the master's region. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ratelimit.h"
#include "shm.h"

static struct ratelimit_area *area;

static void setup(void)
{
	area = calloc(1, sizeof(*area));
	ck_assert_ptr_nonnull(area);
	ck_assert_int_eq(ratelimit_area_init(area), ERR_OK);
}

static void teardown(void)
{
	free(area);
}

/* How many of n requests at t pass. */
static int passes(const struct ratelimit_rule *r, enum ratelimit_zone z, const char *name,
		  int64_t t, int n)
{
	int ok = 0;
	long retry;

	for (int i = 0; i < n; i++)
		ok += ratelimit_take_in(area, r, z, name, t, &retry) == ERR_OK;
	return ok;
}

START_TEST(test_burst_exactly)
{
	/* 60r/m, burst 5: the first request and 5 more at once; the 7th is refused. */
	struct ratelimit_rule r = {0, 5};
	long retry = 0;

	ck_assert_int_eq(ratelimit_parse_rate("60r/m", &r), ERR_OK);
	ck_assert_int_eq(passes(&r, RATELIMIT_READ, "u:a", 1000, 6), 6);
	ck_assert_int_eq(ratelimit_take_in(area, &r, RATELIMIT_READ, "u:a", 1000, &retry),
			 ERR_RATE_LIMITED);
	ck_assert_int_eq(retry, 1);
	/* A refusal changes nothing: still refused 999 ms later, one passes at 1000 ms. */
	ck_assert_int_eq(passes(&r, RATELIMIT_READ, "u:a", 1999, 1), 0);
	ck_assert_int_eq(passes(&r, RATELIMIT_READ, "u:a", 2000, 1), 1);
	ck_assert_int_eq(passes(&r, RATELIMIT_READ, "u:a", 2000, 1), 0);
}
END_TEST

START_TEST(test_burst_zero)
{
	struct ratelimit_rule r = {0, 0};

	ck_assert_int_eq(ratelimit_parse_rate("2r/s", &r), ERR_OK);
	ck_assert_int_eq(passes(&r, RATELIMIT_WRITE, "u:b", 0, 3), 1);
	ck_assert_int_eq(passes(&r, RATELIMIT_WRITE, "u:b", 499, 1), 0);
	ck_assert_int_eq(passes(&r, RATELIMIT_WRITE, "u:b", 500, 1), 1);
}
END_TEST

START_TEST(test_apart_and_retry_after)
{
	struct ratelimit_rule r = {0, 2};
	long retry = 0;

	ck_assert_int_eq(ratelimit_parse_rate("6r/m", &r), ERR_OK); /* one per 10 s */
	ck_assert_int_eq(passes(&r, RATELIMIT_WRITE, "u:c", 0, 10), 3);
	/* Another name, another zone: their own buckets. */
	ck_assert_int_eq(passes(&r, RATELIMIT_WRITE, "u:d", 0, 10), 3);
	ck_assert_int_eq(passes(&r, RATELIMIT_READ, "u:c", 0, 10), 3);
	ck_assert_int_eq(ratelimit_take_in(area, &r, RATELIMIT_WRITE, "u:c", 4000, &retry),
			 ERR_RATE_LIMITED);
	ck_assert_int_eq(retry, 6); /* drained 0.4 of 1 request: 6 s to go */
	ck_assert_int_eq(passes(&r, RATELIMIT_WRITE, "u:c", 9999, 1), 0);
	ck_assert_int_eq(passes(&r, RATELIMIT_WRITE, "u:c", 10000, 1), 1);
	/* A long rest empties it: the whole burst again. */
	ck_assert_int_eq(passes(&r, RATELIMIT_WRITE, "u:c", 10000 + 86400000LL * 2, 10), 3);
}
END_TEST

START_TEST(test_off_and_full_table)
{
	struct ratelimit_rule off = {0, 0}, r = {1000, 0};
	char name[32];

	ck_assert_int_eq(passes(&off, RATELIMIT_ANON, "a:x", 0, 100), 100);
	/* Far more names than slots: every name's first request still passes, and a name used
	 * just now keeps its bucket (the stalest go first). */
	for (int i = 0; i < RATELIMIT_SLOTS * 2; i++) {
		snprintf(name, sizeof(name), "a:%d", i);
		ck_assert_int_eq(passes(&r, RATELIMIT_ANON, name, i / 64, 1), 1);
	}
	ck_assert_int_eq(passes(&r, RATELIMIT_ANON, name, RATELIMIT_SLOTS * 2 / 64, 1), 0);
}
END_TEST

START_TEST(test_retry_after_rounds_up)
{
	/* 60r/m, burst 0, refused 500 ms after a pass: half a second to go is Retry-After 1. */
	struct ratelimit_rule r = {1000, 0};
	long retry = 0;

	ck_assert_int_eq(passes(&r, RATELIMIT_WRITE, "u:r", 0, 1), 1);
	ck_assert_int_eq(ratelimit_take_in(area, &r, RATELIMIT_WRITE, "u:r", 500, &retry),
			 ERR_RATE_LIMITED);
	ck_assert_int_eq(retry, 1);
	ck_assert_int_eq(ratelimit_take_in(area, &r, RATELIMIT_WRITE, "u:r", 999, &retry),
			 ERR_RATE_LIMITED);
	ck_assert_int_eq(retry, 1);
}
END_TEST

START_TEST(test_time_never_goes_back)
{
	/* A worker whose clock reading is older than the bucket's (it read the clock first, got
	 * the lock second) drains nothing and does not move the bucket's time back. */
	struct ratelimit_rule r = {1000, 1};

	ck_assert_int_eq(passes(&r, RATELIMIT_READ, "u:t", 10000, 1), 1);
	ck_assert_int_eq(passes(&r, RATELIMIT_READ, "u:t", 9000, 1), 1); /* the burst's one */
	/* Had 9000 been stored, 10000 would find a second drained: it must not. */
	ck_assert_int_eq(passes(&r, RATELIMIT_READ, "u:t", 10000, 1), 0);
	ck_assert_int_eq(passes(&r, RATELIMIT_READ, "u:t", 11000, 1), 1);
}
END_TEST

START_TEST(test_zones_never_evict_each_other)
{
	/* A full write bucket survives any number of new names in the read zone, even with a
	 * read rate that drains everything at once. */
	struct ratelimit_rule w = {1000, 2}, rd = {1000000000u, 0};
	char name[32];

	ck_assert_int_eq(passes(&w, RATELIMIT_WRITE, "u:w", 0, 3), 3);
	for (int i = 0; i < RATELIMIT_SLOTS * 2; i++) {
		snprintf(name, sizeof(name), "u:%d", i);
		ck_assert_int_eq(passes(&rd, RATELIMIT_READ, name, 1, 1), 1);
	}
	ck_assert_int_eq(passes(&w, RATELIMIT_WRITE, "u:w", 1, 1), 0);
}
END_TEST

START_TEST(test_refused_bucket_survives_a_flood)
{
	/* A client being refused is the last to be forgotten: new names are evicted among
	 * themselves (their buckets are closest to empty), never the full one. */
	struct ratelimit_rule r = {1000, 5};
	char name[32];

	ck_assert_int_eq(passes(&r, RATELIMIT_ANON, "a:flooder", 0, 6), 6);
	for (int i = 0; i < RATELIMIT_SLOTS * 4; i++) {
		snprintf(name, sizeof(name), "a:%d", i);
		ck_assert_int_eq(passes(&r, RATELIMIT_ANON, name, 100, 1), 1);
		if (i % 1024 == 0)
			ck_assert_int_eq(passes(&r, RATELIMIT_ANON, "a:flooder", 100, 1), 0);
	}
	ck_assert_int_eq(passes(&r, RATELIMIT_ANON, "a:flooder", 100, 1), 0);
}
END_TEST

START_TEST(test_rates)
{
	struct ratelimit_rule r;
	static const char *const bad[] = {"", "r/s", "0r/s", "1000001r/s", "10 r/s", " 10r/s",
					  "10r/h", "10r/s ", "10", "-1r/s", "10r/ss", "1e3r/s", NULL};

	ck_assert_int_eq(ratelimit_parse_rate("100r/m", &r), ERR_OK);
	ck_assert_uint_eq(r.rate_milli, 1666);
	ck_assert_int_eq(ratelimit_parse_rate("1000000r/s", &r), ERR_OK);
	ck_assert_uint_eq(r.rate_milli, 1000000000u);
	ck_assert_int_eq(ratelimit_parse_rate("1r/m", &r), ERR_OK);
	ck_assert_uint_eq(r.rate_milli, 16);
	for (const char *const *b = bad; *b; b++)
		ck_assert_msg(ratelimit_parse_rate(*b, &r) == ERR_VALIDATION, "accepted '%s'", *b);
	ck_assert_int_eq(ratelimit_parse_rate(NULL, &r), ERR_VALIDATION);
}
END_TEST

START_TEST(test_shared_between_processes)
{
	/* The master's region: a child's requests spend the parent's bucket. */
	struct shm_region *shm;
	struct ratelimit_rule rules[RATELIMIT_ZONES] = {{1000, 3}, {1000, 3}, {1000, 3}};
	long retry;
	int fd, st;
	pid_t pid;

	ck_assert_int_eq(shm_create(&shm, &fd), ERR_OK);
	ck_assert_int_eq(ratelimit_setup(rules, &shm->limits), ERR_OK);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int ok = 0;

		for (int i = 0; i < 3; i++)
			ok += ratelimit_take(RATELIMIT_READ, "u:shared", 5, &retry) == ERR_OK;
		_exit(ok == 3 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_int_eq(ratelimit_take(RATELIMIT_READ, "u:shared", 5, &retry), ERR_OK);
	ck_assert_int_eq(ratelimit_take(RATELIMIT_READ, "u:shared", 5, &retry), ERR_RATE_LIMITED);
	close(fd);
}
END_TEST

Suite *ratelimit_suite(void)
{
	Suite *s = suite_create("ratelimit");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_burst_exactly);
	tcase_add_test(tc, test_burst_zero);
	tcase_add_test(tc, test_apart_and_retry_after);
	tcase_add_test(tc, test_off_and_full_table);
	tcase_add_test(tc, test_retry_after_rounds_up);
	tcase_add_test(tc, test_time_never_goes_back);
	tcase_add_test(tc, test_zones_never_evict_each_other);
	tcase_add_test(tc, test_refused_bucket_survives_a_flood);
	tcase_add_test(tc, test_rates);
	tcase_add_test(tc, test_shared_between_processes);
	suite_add_tcase(s, tc);
	return s;
}
