/* Unit tests for the prefork master's decisions (src/master.c): the backoff schedule and
 * master_plan, driven through whole scenarios on a table with made-up pids (nothing forks). */
#include <check.h>
#include <string.h>

#include "master.h"

Suite *master_suite(void); /* run by the unit test driver */

static struct master_pool pool;
static int next_pid;

static void pool_reset(int want)
{
	memset(&pool, 0, sizeof(pool));
	pool.want = want;
	next_pid = 100;
}

/* Carries out master_plan's steps as master_converge does, without processes: a spawn adds a
 * starting child, a stop marks one stopping. Returns how many children it started. */
static int converge(long long now)
{
	int victim, spawned = 0;
	enum master_step s;

	while ((s = master_plan(&pool, now, &victim)) != MASTER_IDLE) {
		ck_assert_int_lt(spawned, 2 * MASTER_MAX_KIDS); /* never loops forever */
		if (s == MASTER_STOP) {
			ck_assert_int_ge(victim, 0);
			ck_assert_int_lt(victim, pool.nkids);
			ck_assert_int_ne(pool.kids[victim].state, MASTER_STOPPING);
			pool.kids[victim].state = MASTER_STOPPING;
		} else {
			pool.kids[pool.nkids++] = (struct master_child){
				.pid = next_pid++, .ready_fd = -1, .gen = pool.gen, .state = MASTER_STARTING};
			spawned++;
		}
	}
	return spawned;
}

static int count(enum master_state st, int current_gen_only)
{
	int n = 0;

	for (int i = 0; i < pool.nkids; i++)
		if (pool.kids[i].state == st && (!current_gen_only || pool.kids[i].gen == pool.gen))
			n++;
	return n;
}

static void all_ready(void)
{
	for (int i = 0; i < pool.nkids; i++)
		if (pool.kids[i].state == MASTER_STARTING) {
			pool.kids[i].state = MASTER_READY;
			pool.fails = 0;
			pool.next_spawn_ms = 0;
		}
}

/* The child at i ends, as master_forget records it. */
static void dies(int i, long long now)
{
	if (pool.kids[i].state == MASTER_STARTING) {
		pool.fails++;
		pool.next_spawn_ms = now + master_backoff_ms(pool.fails);
	}
	memmove(&pool.kids[i], &pool.kids[i + 1], (size_t)(pool.nkids - i - 1) * sizeof(pool.kids[0]));
	pool.nkids--;
}

static int find_state(enum master_state st)
{
	for (int i = 0; i < pool.nkids; i++)
		if (pool.kids[i].state == st)
			return i;
	return -1;
}

/* Children serving: ready and not asked to stop. */
static int serving(void)
{
	return count(MASTER_READY, 0);
}

/* Runs the pool to rest, every start becoming ready and every stop ending, checking after
 * each step that at least min_serving children serve. */
static void settle(int min_serving)
{
	for (int round = 0; round < 4 * MASTER_MAX_KIDS; round++) {
		converge(0);
		ck_assert_int_ge(serving(), min_serving);
		if (find_state(MASTER_STARTING) < 0 && find_state(MASTER_STOPPING) < 0)
			return;
		all_ready();
		while (find_state(MASTER_STOPPING) >= 0)
			dies(find_state(MASTER_STOPPING), 0);
	}
	ck_abort_msg("the pool never came to rest");
}

/* One step of master_plan, carried out; returns it. */
static enum master_step step(long long now, int *victim)
{
	enum master_step s = master_plan(&pool, now, victim);

	if (s == MASTER_STOP)
		pool.kids[*victim].state = MASTER_STOPPING;
	else if (s == MASTER_SPAWN)
		pool.kids[pool.nkids++] = (struct master_child){
			.pid = next_pid++, .ready_fd = -1, .gen = pool.gen, .state = MASTER_STARTING};
	return s;
}

START_TEST(test_backoff_schedule)
{
	ck_assert_int_eq(master_backoff_ms(0), 0);
	ck_assert_int_eq(master_backoff_ms(1), 100);
	ck_assert_int_eq(master_backoff_ms(2), 200);
	ck_assert_int_eq(master_backoff_ms(3), 400);
	ck_assert_int_eq(master_backoff_ms(6), 3200);
	ck_assert_int_eq(master_backoff_ms(7), MASTER_BACKOFF_MAX_MS);
	ck_assert_int_eq(master_backoff_ms(1000), MASTER_BACKOFF_MAX_MS);
	ck_assert_int_eq(master_backoff_ms(~0u), MASTER_BACKOFF_MAX_MS);
}
END_TEST

START_TEST(test_fills_the_pool_at_once)
{
	pool_reset(4);
	ck_assert_int_eq(converge(0), 4);
	ck_assert_int_eq(converge(0), 0);
	all_ready();
	ck_assert_int_eq(converge(0), 0);
}
END_TEST

START_TEST(test_serving_child_replaced_at_once_every_time)
{
	pool_reset(4);
	converge(0);
	all_ready();
	/* Ten kills of the newest, each after it became ready: never a delay, never giving up. */
	for (int k = 0; k < 10; k++) {
		dies(pool.nkids - 1, 1000 * k);
		ck_assert_int_eq(converge(1000 * k), 1);
		all_ready();
		ck_assert_int_eq(count(MASTER_READY, 1), 4);
	}
}
END_TEST

START_TEST(test_crash_loop_backs_off_one_probe_at_a_time)
{
	long long now = 0;
	int starts = 0;

	pool_reset(4);
	starts += converge(now);
	/* Every start dies before it is ready (one death per 50 ms tick), for 30 s. */
	for (; now < 30000; now += 50) {
		int i = find_state(MASTER_STARTING);

		if (i >= 0)
			dies(i, now);
		starts += converge(now);
		/* Once the first four have failed, one probe at a time. */
		if (now >= 200)
			ck_assert_int_le(count(MASTER_STARTING, 1), 1);
	}
	/* 4 at first, then one per backoff (100 ms doubling to 5 s): 11, where a master without
	 * backoff would have started one per tick (600). */
	ck_assert_int_le(starts, 4 + 12);
	ck_assert_int_ge(starts, 4 + 6); /* and it keeps trying */
}
END_TEST

START_TEST(test_probe_waits_for_backoff_then_pool_refills)
{
	pool_reset(3);
	converge(0);
	for (int i = 0; i < 3; i++)
		dies(0, 0);
	ck_assert_int_eq(pool.fails, 3);
	ck_assert_int_eq(converge(399), 0);   /* 400 ms after the third failure */
	ck_assert_int_eq(converge(400), 1);   /* one probe */
	ck_assert_int_eq(converge(10000), 0); /* still one while it starts */
	all_ready();                          /* it serves: fails reset */
	ck_assert_int_eq(converge(10000), 2); /* the rest at once */
}
END_TEST

START_TEST(test_sighup_replaces_one_at_a_time)
{
	int victim;

	pool_reset(4);
	converge(0);
	all_ready();
	pool.gen++;
	for (int round = 0; round < 4; round++) {
		ck_assert_int_eq(step(0, &victim), MASTER_SPAWN);
		/* While the new one starts, nothing else: no second start, no old one stops. */
		ck_assert_int_eq(step(0, &victim), MASTER_IDLE);
		all_ready();
		ck_assert_int_eq(step(0, &victim), MASTER_STOP);
		ck_assert_uint_ne(pool.kids[victim].gen, pool.gen);
		ck_assert_int_eq(serving(), 4);
		dies(victim, 0);
	}
	ck_assert_int_eq(step(0, &victim), MASTER_IDLE);
	ck_assert_int_eq(pool.nkids, 4);
	ck_assert_int_eq(count(MASTER_READY, 1), 4);
}
END_TEST

START_TEST(test_sighup_new_binary_that_crashes_keeps_the_old)
{
	pool_reset(2);
	converge(0);
	all_ready();
	pool.gen++;
	for (long long now = 0; now < 20000; now += 100) {
		int i = find_state(MASTER_STARTING);

		converge(now);
		if (i >= 0)
			dies(i, now);
		/* The old generation keeps serving whole. */
		ck_assert_int_eq(count(MASTER_READY, 0), 2);
		ck_assert_int_eq(count(MASTER_STOPPING, 0), 0);
		ck_assert_int_le(count(MASTER_STARTING, 1), 1);
	}
}
END_TEST

START_TEST(test_sighup_grows_and_shrinks)
{
	pool_reset(2);
	settle(0);
	pool.want = 3;
	pool.gen++;
	settle(2);
	ck_assert_int_eq(pool.nkids, 3);
	ck_assert_int_eq(count(MASTER_READY, 1), 3);

	pool.want = 1;
	pool.gen++;
	/* Too many: old ones stop down to the new count straight away. */
	converge(0);
	ck_assert_int_eq(count(MASTER_STOPPING, 0), 2);
	settle(1);
	ck_assert_int_eq(pool.nkids, 1);
	ck_assert_uint_eq(pool.kids[0].gen, pool.gen);
}
END_TEST

START_TEST(test_surplus_stops_the_newest_starting_first)
{
	int victim;

	pool_reset(3);
	converge(0);
	pool.kids[0].state = MASTER_READY;
	pool.kids[2].state = MASTER_READY;
	pool.want = 2;
	ck_assert_int_eq(master_plan(&pool, 0, &victim), MASTER_STOP);
	ck_assert_int_eq(victim, 1); /* the one still starting */
	pool.kids[1].state = MASTER_READY;
	ck_assert_int_eq(master_plan(&pool, 0, &victim), MASTER_STOP);
	ck_assert_int_eq(victim, 2); /* else the newest */
}
END_TEST

START_TEST(test_stopping_starts_nothing)
{
	int victim;

	pool_reset(4);
	converge(0);
	pool.stopping = 1;
	while (pool.nkids > 0)
		dies(0, 0);
	ck_assert_int_eq(master_plan(&pool, 0, &victim), MASTER_IDLE);
	ck_assert_int_eq(victim, -1);
}
END_TEST

START_TEST(test_full_table_starts_nothing)
{
	pool_reset(4);
	pool.nkids = MASTER_MAX_KIDS;
	for (int i = 0; i < MASTER_MAX_KIDS; i++)
		pool.kids[i] = (struct master_child){.pid = i + 1, .state = MASTER_STOPPING};
	ck_assert_int_eq(converge(0), 0);
}
END_TEST

Suite *master_suite(void)
{
	Suite *s = suite_create("master");
	TCase *backoff = tcase_create("backoff");
	TCase *plan = tcase_create("plan");

	tcase_add_test(backoff, test_backoff_schedule);
	tcase_add_test(backoff, test_crash_loop_backs_off_one_probe_at_a_time);
	tcase_add_test(backoff, test_probe_waits_for_backoff_then_pool_refills);
	suite_add_tcase(s, backoff);

	tcase_add_test(plan, test_fills_the_pool_at_once);
	tcase_add_test(plan, test_serving_child_replaced_at_once_every_time);
	tcase_add_test(plan, test_sighup_replaces_one_at_a_time);
	tcase_add_test(plan, test_sighup_new_binary_that_crashes_keeps_the_old);
	tcase_add_test(plan, test_sighup_grows_and_shrinks);
	tcase_add_test(plan, test_surplus_stops_the_newest_starting_first);
	tcase_add_test(plan, test_stopping_starts_nothing);
	tcase_add_test(plan, test_full_table_starts_nothing);
	suite_add_tcase(s, plan);
	return s;
}
