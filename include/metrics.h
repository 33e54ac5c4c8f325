/*
 * Prometheus metrics of one instance. The area lives in the master's shared memory
 * (include/shm.h), so it sums every worker and outlives each of them and a SIGHUP's re-exec
 * of the pool. Workers count (a few relaxed atomic adds per request, no system call); the
 * master counts worker starts and deaths, clears a dead worker's slot, and renders the text
 * (metrics_render, a pure function of the area) on its own socket (include/metrics_http.h),
 * so a scrape never waits for a pool worker. Every counting function is a no-op when the
 * process has no region (a worker started by hand).
 */
#ifndef VS_METRICS_H
#define VS_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct router_route;

/* Route table entries with series of their own (a unit test checks routes.c fits); the
 * one after them counts requests no route matched (404, 405). */
#define METRICS_ROUTES_MAX 64
#define METRICS_ROUTE_UNMATCHED METRICS_ROUTES_MAX
#define METRICS_NROUTES (METRICS_ROUTES_MAX + 1)
/* The status codes the service answers, the last index for any other. */
#define METRICS_NCODES 16
/* Latency buckets: METRICS_NBUCKETS - 1 upper bounds (metrics_bucket_us) and +Inf. */
#define METRICS_NBUCKETS 14
/* One per worker process at once: at least the master's MASTER_MAX_KIDS. */
#define METRICS_SLOTS 1024

/* A worker's own line: its pid while it lives (the master clears it when it reaps the
 * worker), and whether it serves a request now. */
struct metrics_slot {
	int32_t pid;
	uint32_t busy;
	uint8_t pad[56]; /* one cache line each: workers never write each other's */
};

struct metrics_area {
	uint64_t requests[METRICS_NROUTES][METRICS_NCODES];
	uint64_t buckets[METRICS_NROUTES][METRICS_NBUCKETS]; /* not cumulative */
	uint64_t sum_us[METRICS_NROUTES];
	uint64_t db_errors, db_reconnects;
	uint64_t worker_starts;
	uint64_t worker_deaths[3]; /* enum metrics_death */
	int64_t start_unix;        /* when the master made the area */
	struct metrics_slot slots[METRICS_SLOTS];
};

enum metrics_death {
	METRICS_DIED_SERVING,  /* ended unasked after it was ready */
	METRICS_DIED_STARTING, /* ended before it was ready (a failed start) */
	METRICS_DIED_STOPPING, /* asked to stop, but ended by a signal or a failure */
};

/* db.c: a database error answered to a client (ERR_INTERNAL/ERR_UNAVAILABLE), a new
 * connection after the first. */
void metrics_db_error(void);
void metrics_db_reconnect(void);

/* A worker: takes a free slot (once, before it serves); then around every request. route:
 * the index of its routes_table entry, METRICS_ROUTE_UNMATCHED for none; status: what the
 * client got; us: microseconds from accept to the end of the answer. */
void metrics_worker_attach(void);
void metrics_request_begin(void);
void metrics_request_end(size_t route, int status, uint64_t us);

/* The master: its start (stamps the area), a worker forked, a worker's death it did not ask for, a reaped worker (its
 * slot is freed and its request in hand, if any, no longer in flight). */
void metrics_master_start(void);
void metrics_worker_started(void);
void metrics_worker_died(enum metrics_death how);
void metrics_worker_reaped(pid_t pid);

/* Index of a status code in requests[][] (METRICS_NCODES - 1: another code), and back
 * (0 for that last one). */
size_t metrics_code_index(int status);
int metrics_code_of(size_t index);
/* Upper bound of bucket i in microseconds (i < METRICS_NBUCKETS - 1). */
uint64_t metrics_bucket_us(size_t i);

/*
 * The text exposition format 0.0.4 of area, route labels from table[0..n) (its method and
 * pattern; entries past METRICS_ROUTES_MAX are not shown). Writes at most cap bytes (no
 * terminating NUL) and returns the length of the whole text, as snprintf does: call with
 * cap 0 to size the buffer. Pure: reads the area only (relaxed loads).
 */
size_t metrics_render(const struct metrics_area *area, const struct router_route *table, size_t n,
		      char *buf, size_t cap);

#endif
