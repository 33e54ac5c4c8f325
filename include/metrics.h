/*
 * Prometheus metrics of one instance (OWNER: the metrics helper fills this in). The area
 * lives in the master's shared memory (include/shm.h); every function is a no-op when the
 * process has no region.
 */
#ifndef VS_METRICS_H
#define VS_METRICS_H

#include <stdint.h>

struct metrics_area {
	uint64_t placeholder;
};

/* db.c: a database error answered to a client (ERR_INTERNAL/ERR_UNAVAILABLE), a new
 * connection after the first. */
void metrics_db_error(void);
void metrics_db_reconnect(void);

#endif
