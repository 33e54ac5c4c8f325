/*
 * Prometheus metrics (include/metrics.h): counting in the shared area, and its text.
 * Relaxed atomics throughout: each counter only needs to be exact on its own, and a scrape
 * that sees one counter a request ahead of another is fine.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "metrics.h"
#include "router.h"
#include "shm.h"

#define M_ADD(p, v) __atomic_fetch_add((p), (v), __ATOMIC_RELAXED)
#define M_LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define M_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

_Static_assert(sizeof(struct metrics_slot) == 64, "a slot is one cache line");

static const int metrics_codes[METRICS_NCODES - 1] = {
	200, 201, 204, 304, 400, 401, 403, 404, 405, 409, 413, 415, 429, 500, 503,
};
/* 1 ms to 10 s: a GET served from the database takes about a millisecond, a lock wait up to
 * the 5 s lock timeout, a write up to its 10 s statement bound. */
static const uint64_t metrics_bounds_us[METRICS_NBUCKETS - 1] = {
	1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000,
};

/* This worker's slot (metrics_worker_attach), NULL: none. */
static struct metrics_slot *metrics_mine;

static struct metrics_area *metrics_area(void)
{
	struct shm_region *r = shm_get();

	return r ? &r->metrics : NULL;
}

size_t metrics_code_index(int status)
{
	for (size_t i = 0; i < METRICS_NCODES - 1; i++)
		if (metrics_codes[i] == status)
			return i;
	return METRICS_NCODES - 1;
}

int metrics_code_of(size_t index)
{
	return index < METRICS_NCODES - 1 ? metrics_codes[index] : 0;
}

uint64_t metrics_bucket_us(size_t i)
{
	return i < METRICS_NBUCKETS - 1 ? metrics_bounds_us[i] : UINT64_MAX;
}

/* One more of an instance-wide counter of the area; none without a region. */
#define METRICS_BUMP(field)                                                                  \
	do {                                                                                 \
		struct metrics_area *bump_a = metrics_area();                                \
		if (bump_a)                                                                  \
			M_ADD(&bump_a->field, 1);                                            \
	} while (0)

void metrics_db_error(void)
{
	METRICS_BUMP(db_errors);
}

void metrics_db_reconnect(void)
{
	METRICS_BUMP(db_reconnects);
}

void metrics_worker_attach(void)
{
	struct metrics_area *a = metrics_area();
	int32_t me = (int32_t)getpid();

	if (a == NULL || metrics_mine != NULL)
		return;
	for (size_t i = 0; i < METRICS_SLOTS; i++) {
		int32_t free_pid = 0;

		if (__atomic_compare_exchange_n(&a->slots[i].pid, &free_pid, me, 0, __ATOMIC_ACQ_REL,
						__ATOMIC_RELAXED)) {
			metrics_mine = &a->slots[i];
			M_STORE(&metrics_mine->busy, 0);
			return;
		}
	}
	/* All taken (more workers than the master holds): this one is not in the gauge. */
}

void metrics_request_begin(void)
{
	if (metrics_mine)
		M_STORE(&metrics_mine->busy, 1);
}

void metrics_request_end(size_t route, int status, uint64_t us)
{
	struct metrics_area *a = metrics_area();
	size_t b = 0;

	if (a == NULL)
		return;
	if (route > METRICS_ROUTE_UNMATCHED)
		route = METRICS_ROUTE_UNMATCHED;
	while (b < METRICS_NBUCKETS - 1 && us > metrics_bounds_us[b])
		b++;
	M_ADD(&a->requests[route][metrics_code_index(status)], 1);
	M_ADD(&a->buckets[route][b], 1);
	M_ADD(&a->sum_us[route], us);
	if (metrics_mine)
		M_STORE(&metrics_mine->busy, 0);
}

void metrics_worker_started(void)
{
	METRICS_BUMP(worker_starts);
}

void metrics_master_start(void)
{
	struct metrics_area *a = metrics_area();

	if (a)
		M_STORE(&a->start_unix, (int64_t)time(NULL));
}

void metrics_worker_died(enum metrics_death how)
{
	struct metrics_area *a = metrics_area();

	if (a && (unsigned)how < sizeof(a->worker_deaths) / sizeof(a->worker_deaths[0]))
		M_ADD(&a->worker_deaths[how], 1);
}

void metrics_worker_reaped(pid_t pid)
{
	struct metrics_area *a = metrics_area();

	if (a == NULL || pid <= 0)
		return;
	for (size_t i = 0; i < METRICS_SLOTS; i++) {
		if (M_LOAD(&a->slots[i].pid) != (int32_t)pid)
			continue;
		/* A worker killed in mid-request never ended it: its request leaves the gauge here. */
		M_STORE(&a->slots[i].busy, 0);
		__atomic_store_n(&a->slots[i].pid, 0, __ATOMIC_RELEASE);
		return;
	}
}

/* ---- the text ---------------------------------------------------------------------- */

/* Writes what fits, counts everything (snprintf's contract for the whole text). */
struct metrics_out {
	char *buf;
	size_t cap, len;
};

__attribute__((format(printf, 2, 3)))
static void metrics_put(struct metrics_out *o, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(tmp))
		n = (int)sizeof(tmp) - 1; /* (no line of ours is that long: labels are bounded) */
	if (o->len < o->cap)
		memcpy(o->buf + o->len, tmp, o->cap - o->len < (size_t)n ? o->cap - o->len : (size_t)n);
	o->len += (size_t)n;
}

/* A label value, escaped as the format says (backslash, quote, newline). */
static void metrics_escape(char *dst, size_t len, const char *s)
{
	size_t w = 0;

	for (; *s && w + 3 < len; s++) {
		if (*s == '\\' || *s == '"' || *s == '\n') {
			dst[w++] = '\\';
			dst[w++] = *s == '\n' ? 'n' : *s;
		} else {
			dst[w++] = *s;
		}
	}
	dst[w] = '\0';
}

/* The route's labels, without braces: method="GET",route="/api/bikes/:id". */
static void metrics_route_labels(char *dst, size_t len, const struct router_route *table,
				 size_t n, size_t r)
{
	char m[32], p[192];

	if (r >= n || r >= METRICS_ROUTES_MAX) {
		snprintf(dst, len, "route=\"unmatched\"");
		return;
	}
	metrics_escape(m, sizeof(m), table[r].method);
	metrics_escape(p, sizeof(p), table[r].pattern);
	if (snprintf(dst, len, "method=\"%s\",route=\"%s\"", m, p) >= (int)len)
		dst[0] = '\0';
}

static void metrics_head(struct metrics_out *o, const char *name, const char *type,
			 const char *help)
{
	metrics_put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void metrics_render_requests(struct metrics_out *o, const struct metrics_area *a,
				    const struct router_route *table, size_t n, size_t nr)
{
	char labels[256];

	metrics_head(o, "vehicle_http_requests_total", "counter",
		     "Requests the workers answered, by route (the route table's method and "
		     "pattern; route=\"unmatched\": no route, 404 or 405) and status code.");
	for (size_t r = 0; r < nr; r++) {
		size_t route = r < n ? r : METRICS_ROUTE_UNMATCHED;

		metrics_route_labels(labels, sizeof(labels), table, n, route);
		for (size_t c = 0; c < METRICS_NCODES; c++) {
			uint64_t v = M_LOAD(&a->requests[route][c]);
			int code = metrics_code_of(c);

			if (v == 0)
				continue;
			if (code)
				metrics_put(o, "vehicle_http_requests_total{%s,code=\"%d\"} %" PRIu64 "\n",
					    labels, code, v);
			else
				metrics_put(o, "vehicle_http_requests_total{%s,code=\"other\"} %" PRIu64 "\n",
					    labels, v);
		}
	}
}

static void metrics_render_histogram(struct metrics_out *o, const struct metrics_area *a,
				     const struct router_route *table, size_t n, size_t nr)
{
	const char *name = "vehicle_http_request_duration_seconds";
	char labels[256];

	metrics_head(o, name, "histogram",
		     "Time from a worker's accept of a request to the end of its answer, by route.");
	for (size_t r = 0; r < nr; r++) {
		size_t route = r < n ? r : METRICS_ROUTE_UNMATCHED;
		uint64_t cum = 0, sum = M_LOAD(&a->sum_us[route]);

		for (size_t b = 0; b < METRICS_NBUCKETS; b++)
			cum += M_LOAD(&a->buckets[route][b]);
		if (cum == 0)
			continue;
		metrics_route_labels(labels, sizeof(labels), table, n, route);
		cum = 0;
		for (size_t b = 0; b < METRICS_NBUCKETS - 1; b++) {
			uint64_t us = metrics_bounds_us[b];

			cum += M_LOAD(&a->buckets[route][b]);
			metrics_put(o, "%s_bucket{%s,le=\"%g\"} %" PRIu64 "\n", name, labels,
				    (double)us / 1e6, cum);
		}
		cum += M_LOAD(&a->buckets[route][METRICS_NBUCKETS - 1]);
		metrics_put(o, "%s_bucket{%s,le=\"+Inf\"} %" PRIu64 "\n", name, labels, cum);
		metrics_put(o, "%s_sum{%s} %" PRIu64 ".%06" PRIu64 "\n", name, labels,
			    sum / 1000000, sum % 1000000);
		metrics_put(o, "%s_count{%s} %" PRIu64 "\n", name, labels, cum);
	}
}

static void metrics_render_workers(struct metrics_out *o, const struct metrics_area *a)
{
	static const char *const deaths[] = {"serving", "starting", "stopping"};
	uint64_t live = 0, busy = 0;

	for (size_t i = 0; i < METRICS_SLOTS; i++) {
		if (M_LOAD(&a->slots[i].pid) == 0)
			continue;
		live++;
		busy += M_LOAD(&a->slots[i].busy) != 0;
	}
	metrics_head(o, "vehicle_http_requests_in_flight", "gauge",
		     "Requests the workers are serving now.");
	metrics_put(o, "vehicle_http_requests_in_flight %" PRIu64 "\n", busy);
	metrics_head(o, "vehicle_workers", "gauge", "Worker processes running now.");
	metrics_put(o, "vehicle_workers %" PRIu64 "\n", live);
	metrics_head(o, "vehicle_worker_starts_total", "counter", "Workers the master started.");
	metrics_put(o, "vehicle_worker_starts_total %" PRIu64 "\n", M_LOAD(&a->worker_starts));
	metrics_head(o, "vehicle_worker_deaths_total", "counter",
		     "Workers that ended unasked (serving, starting) or badly when asked to stop.");
	for (size_t i = 0; i < sizeof(deaths) / sizeof(deaths[0]); i++)
		metrics_put(o, "vehicle_worker_deaths_total{state=\"%s\"} %" PRIu64 "\n", deaths[i],
			    M_LOAD(&a->worker_deaths[i]));
}

size_t metrics_render(const struct metrics_area *a, const struct router_route *table, size_t n,
		      char *buf, size_t cap)
{
	struct metrics_out o = {.buf = buf, .cap = cap};
	size_t shown = n < METRICS_ROUTES_MAX ? n : METRICS_ROUTES_MAX;

	/* Rows 0..shown-1 are the table's routes, the row after them the unmatched one. */
	metrics_render_requests(&o, a, table, shown, shown + 1);
	metrics_render_histogram(&o, a, table, shown, shown + 1);
	metrics_render_workers(&o, a);
	metrics_head(&o, "vehicle_db_errors_total", "counter",
		     "Database errors answered to a client (500 or 503).");
	metrics_put(&o, "vehicle_db_errors_total %" PRIu64 "\n", M_LOAD(&a->db_errors));
	metrics_head(&o, "vehicle_db_reconnects_total", "counter",
		     "New database connections of workers after their first.");
	metrics_put(&o, "vehicle_db_reconnects_total %" PRIu64 "\n", M_LOAD(&a->db_reconnects));
	metrics_head(&o, "vehicle_start_time_seconds", "gauge",
		     "When this instance's master started (Unix time): counters count from it.");
	metrics_put(&o, "vehicle_start_time_seconds %" PRId64 "\n", M_LOAD(&a->start_unix));
	return o.len;
}
