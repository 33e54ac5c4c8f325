/*
 * nginx's limit_req in the shared region (include/ratelimit.h). The arithmetic is nginx's
 * (ngx_http_limit_req_module.c): a bucket's excess, in thousandths of a request, drains at
 * the rate and grows by 1000 per request let through; a request that would take it past the
 * burst is refused and changes nothing; a bucket's first request starts it empty. A lock that
 * cannot be had lets the request through: limits protect the service, they must not stop it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "ratelimit.h"

static struct ratelimit_rule ratelimit_rules[RATELIMIT_ZONES];
static struct ratelimit_area *ratelimit_mine;

err_t ratelimit_area_init(struct ratelimit_area *a)
{
	pthread_mutexattr_t at;
	int ok;

	if (pthread_mutexattr_init(&at) != 0)
		return ERR_INTERNAL;
	ok = pthread_mutexattr_setpshared(&at, PTHREAD_PROCESS_SHARED) == 0 &&
	     pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST) == 0 &&
	     pthread_mutex_init(&a->lock, &at) == 0;
	pthread_mutexattr_destroy(&at);
	if (!ok || getrandom(&a->seed, sizeof(a->seed), 0) != (ssize_t)sizeof(a->seed))
		return ERR_INTERNAL;
	__atomic_store_n(&a->ready, 1, __ATOMIC_RELEASE);
	return ERR_OK;
}

err_t ratelimit_parse_rate(const char *text, struct ratelimit_rule *rule)
{
	uint64_t n = 0;
	const char *p = text;

	if (p == NULL)
		return ERR_VALIDATION;
	for (; *p >= '0' && *p <= '9' && n <= 1000000; p++)
		n = n * 10 + (uint64_t)(*p - '0');
	if (p == text || n < 1 || n > 1000000 || (strcmp(p, "r/s") != 0 && strcmp(p, "r/m") != 0))
		return ERR_VALIDATION;
	rule->rate_milli = p[2] == 's' ? n * 1000u : n * 1000u / 60u;
	if (rule->rate_milli == 0)
		rule->rate_milli = 1;
	return ERR_OK;
}

err_t ratelimit_setup(const struct ratelimit_rule rules[RATELIMIT_ZONES],
		      struct ratelimit_area *area)
{
	memcpy(ratelimit_rules, rules, sizeof(ratelimit_rules));
	if (area == NULL || !__atomic_load_n(&area->ready, __ATOMIC_ACQUIRE)) {
		area = calloc(1, sizeof(*area));
		if (area == NULL || ratelimit_area_init(area) != ERR_OK) {
			free(area);
			return ERR_INTERNAL;
		}
	}
	ratelimit_mine = area;
	return ERR_OK;
}

/* FNV-1a over the seed, the zone and the name, then splitmix64's finish: 0 means free. */
static uint64_t ratelimit_hash(uint64_t seed, enum ratelimit_zone zone, const char *name)
{
	uint64_t h = 1469598103934665603ull ^ seed;

	h = (h ^ (uint64_t)zone) * 1099511628211ull;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 31;
	return h ? h : 1;
}

/* The bucket's excess after draining to now, before this request (<= 0: as good as new). */
static int64_t ratelimit_drained(const struct ratelimit_slot *s, const struct ratelimit_rule *r,
				 int64_t now_ms)
{
	int64_t ms = now_ms - s->last_ms;

	if (ms < 0) /* another worker's later clock reading got here first */
		ms = 0;
	if (ms > 9000000000LL) /* 104 days: rate_milli (<= 1e9) times it stays in range */
		ms = 9000000000LL;
	return s->excess - (int64_t)(r->rate_milli * (uint64_t)ms / 1000u);
}

/* The name's slot in its zone's window, or the one to take over: a free one, else the bucket
 * that has drained closest to empty (forgetting it grants the fewest requests; a bucket
 * being refused now is the fullest, so a flood of new names cannot reset it). */
static struct ratelimit_slot *ratelimit_find(struct ratelimit_area *a, enum ratelimit_zone zone,
					     const struct ratelimit_rule *r, uint64_t key,
					     int64_t now_ms, int *found)
{
	struct ratelimit_slot *victim = NULL, *table = a->slots[zone];
	int64_t victim_left = INT64_MAX;

	*found = 0;
	for (size_t i = 0; i < RATELIMIT_PROBE; i++) {
		struct ratelimit_slot *s = &table[(key + i) % RATELIMIT_SLOTS];
		int64_t left;

		if (s->key == key) {
			*found = 1;
			return s;
		}
		left = s->key == 0 ? INT64_MIN : ratelimit_drained(s, r, now_ms);
		if (left < victim_left) {
			victim = s;
			victim_left = left;
		}
	}
	return victim;
}

/* 0 with the lock held; else the lock is not ours. Only a worker that died holding it gives
 * EOWNERDEAD: its half-done update of one bucket is harmless, so the lock is made
 * consistent and used. */
static int ratelimit_lock(struct ratelimit_area *a)
{
	int r = pthread_mutex_lock(&a->lock);

	if (r == EOWNERDEAD && (r = pthread_mutex_consistent(&a->lock)) != 0)
		pthread_mutex_unlock(&a->lock); /* (then ENOTRECOVERABLE: limits off, not the API) */
	return r;
}

err_t ratelimit_take_in(struct ratelimit_area *a, const struct ratelimit_rule *rule,
			enum ratelimit_zone zone, const char *name, int64_t now_ms, long *retry_s)
{
	uint64_t key;
	struct ratelimit_slot *s;
	int64_t excess, burst;
	int found;
	err_t rc = ERR_OK;

	*retry_s = 0;
	if (a == NULL || rule->rate_milli == 0 || zone >= RATELIMIT_ZONES)
		return ERR_OK;
	key = ratelimit_hash(a->seed, zone, name);
	burst = (int64_t)rule->burst * 1000;
	if (ratelimit_lock(a) != 0)
		return ERR_OK;
	s = ratelimit_find(a, zone, rule, key, now_ms, &found);
	excess = found ? ratelimit_drained(s, rule, now_ms) + 1000 : 0;
	if (excess < 0)
		excess = 0;
	if (excess > burst) {
		/* Until the bucket has drained enough for one more request to fit the burst. */
		uint64_t ms = ((uint64_t)(excess - burst) * 1000u + rule->rate_milli - 1) /
			      rule->rate_milli;
		*retry_s = (long)((ms + 999) / 1000);
		rc = ERR_RATE_LIMITED;
	} else {
		/* A clock read before another worker's may arrive after it: time never goes back. */
		*s = (struct ratelimit_slot){key, found && s->last_ms > now_ms ? s->last_ms : now_ms,
					     excess};
	}
	pthread_mutex_unlock(&a->lock);
	return rc;
}

err_t ratelimit_take(enum ratelimit_zone zone, const char *name, int64_t now_ms, long *retry_s)
{
	if (zone >= RATELIMIT_ZONES) {
		*retry_s = 0;
		return ERR_OK;
	}
	return ratelimit_take_in(ratelimit_mine, &ratelimit_rules[zone], zone, name, now_ms,
				 retry_s);
}
