/*
 * The instance's shared memory: one memfd that the prefork master creates before its first
 * child and keeps for its whole life, so that what lives in it survives every worker's death
 * and a SIGHUP's re-exec of the pool. Workers are exec'd and get it as `--shm-fd N`; the key
 * fetcher is forked and inherits the mapping. A worker started without a master has none.
 *
 * Each area is owned by its module: metrics (include/metrics.h), the shared key set
 * (include/keyshare.h), the per-user rate limits (include/ratelimit.h, behind their own
 * process-shared lock). Writers use __atomic builtins; nothing in here holds a pointer.
 */
#ifndef VS_SHM_H
#define VS_SHM_H

#include <stdint.h>

#include "err.h"
#include "keyshare.h"
#include "metrics.h"
#include "ratelimit.h"

#define SHM_MAGIC 0x56534d33u /* "VSM3": bump when the layout changes */

struct shm_region {
	uint32_t magic;
	uint32_t size; /* sizeof(struct shm_region) of the master that made it */
	struct metrics_area metrics;
	struct keyshare_area keys;
	struct ratelimit_area limits;
};

/* The master: a zeroed region in a new memfd (*fd, close-on-exec cleared by the caller for
 * the children that should inherit it). ERR_INTERNAL (logged by the caller) on failure. */
err_t shm_create(struct shm_region **out, int *fd) WUR;

/* A worker: maps the master's region from fd (and closes fd). ERR_VALIDATION when fd is
 * not a region of this build's layout. On success shm_get() returns it from then on. */
err_t shm_attach(int fd) WUR;

/* This process's region (the master's after shm_create, a worker's after shm_attach), or
 * NULL when there is none: every user must cope with NULL. */
struct shm_region *shm_get(void);

#endif
