/*
 * Per-user request rates, shared by an instance's workers: nginx's limit_req (leaky bucket,
 * burst, nodelay) kept in the shared memory region. It lives here and not in nginx because
 * only the worker checks tokens: for nginx to give each user one bucket it had to verify
 * every signature in njs, which cost more than the rest of a request's nginx work. nginx
 * keeps its per-address cap on everything (RATE_ADDR).
 *
 * A request's bucket: "u:<sub>" for a token that verifies (all of a user's sessions share
 * it), "t:<signature>" for one that verifies without a sub (service_role), else the client's
 * address, in the anon zone. A forged token thus neither escapes limiting nor spends the
 * budget of the sub it names.
 */
#ifndef VS_RATELIMIT_H
#define VS_RATELIMIT_H

#include <pthread.h>
#include <stdint.h>

#include "err.h"

enum ratelimit_zone { RATELIMIT_WRITE, RATELIMIT_READ, RATELIMIT_ANON, RATELIMIT_ZONES };

/* A zone's rule, as nginx has it: rate in thousandths of a request per second, burst in
 * requests. rate 0 turns the zone off. */
struct ratelimit_rule {
	uint64_t rate_milli;
	uint32_t burst;
};

/* Buckets per zone (each zone its own table, so a flood in one never evicts another's); a
 * full probe window forgets the bucket closest to empty, whose loss grants the least. */
#define RATELIMIT_SLOTS 32768
#define RATELIMIT_PROBE 16

struct ratelimit_slot {
	uint64_t key;    /* hash of zone and bucket name; 0: free */
	int64_t last_ms; /* CLOCK_MONOTONIC ms of the last request let through */
	int64_t excess;  /* thousandths of a request above the rate, as nginx counts */
};

struct ratelimit_area {
	pthread_mutex_t lock; /* process-shared and robust: a worker killed holding it is survived */
	uint64_t seed;        /* hash seed: bucket names cannot be chosen to collide */
	int ready;
	struct ratelimit_slot slots[RATELIMIT_ZONES][RATELIMIT_SLOTS];
};

/* The master, on its zeroed region: the lock and the seed. ERR_INTERNAL on failure. */
err_t ratelimit_area_init(struct ratelimit_area *a) WUR;

/* "100r/m", "10r/s" (nginx's form, 1..1000000 requests) into rule->rate_milli. */
err_t ratelimit_parse_rate(const char *text, struct ratelimit_rule *rule) WUR;

/* This process's rules (copied) and area; a NULL area (a worker without a master) gets one
 * of its own, so the limits then hold per process (the caller says so in its log). */
err_t ratelimit_setup(const struct ratelimit_rule rules[RATELIMIT_ZONES],
		      struct ratelimit_area *area) WUR;

/* One request of bucket name in zone at now_ms (CLOCK_MONOTONIC, keyshare_now_ms: one
 * clock for every process of the machine): ERR_OK when it passes (and counts), else
 * ERR_RATE_LIMITED with *retry_s, the seconds until one more would pass. */
err_t ratelimit_take(enum ratelimit_zone zone, const char *name, int64_t now_ms, long *retry_s) WUR;

/* The same on an explicit area and rule (the unit tests). */
err_t ratelimit_take_in(struct ratelimit_area *a, const struct ratelimit_rule *rule,
			enum ratelimit_zone zone, const char *name, int64_t now_ms, long *retry_s) WUR;

#endif
