/*
 * The prefork master (`vehicle-worker --master`, what spawn-fcgi starts): it forks and execs
 * WORKERS workers on the listening socket it inherited on fd 0 and keeps that many running,
 * never giving up. It serves no API request and holds no database connection; it answers the
 * metrics socket (src/metrics_http.c) and keeps the key fetcher running (include/jwks_fetch.h).
 *
 *   a worker that dies after it was ready    another starts at once
 *   a worker that dies before it was ready   the next start waits master_backoff_ms()
 *                                            (one probe at a time until one is ready)
 *   SIGTERM / SIGINT                         workers finish the request in hand, then all exit
 *   SIGHUP                                   re-read WORKERS, then replace every worker one at
 *                                            a time: a new one (fork and exec, so a new binary
 *                                            takes effect) is ready before an old one stops
 *
 * WORKERS_FILE (optional): a file holding the worker count; when it exists it wins over
 * WORKERS, at start and on every SIGHUP (scripts/run re-reads the same file).
 */
#ifndef VS_MASTER_H
#define VS_MASTER_H

#include <sys/types.h>

#include "err.h"

struct config;

/* Children in the table at once: the pool, its replacements and those still stopping. */
#define MASTER_MAX_KIDS 1024
/* Backoff after the first start that fails, doubled per failure in a row, capped. */
#define MASTER_BACKOFF_FIRST_MS 100
#define MASTER_BACKOFF_MAX_MS 5000

enum master_state {
	MASTER_STARTING, /* forked, not yet ready */
	MASTER_READY,    /* wrote its ready byte: serving */
	MASTER_STOPPING  /* sent SIGTERM by the master (replaced, surplus, shutdown) */
};

struct master_child {
	pid_t pid;
	int ready_fd;   /* read end of its ready pipe, -1 once read or closed */
	unsigned gen;   /* the pool's generation when it started */
	enum master_state state;
};

struct master_pool {
	struct master_child kids[MASTER_MAX_KIDS];
	int nkids;
	int want;               /* workers to keep running */
	unsigned gen;           /* bumped by SIGHUP: older children are replaced */
	unsigned fails;         /* children in a row that died before they were ready */
	long long next_spawn_ms; /* monotonic time before which nothing starts (backoff) */
	int stopping;           /* SIGTERM/SIGINT seen: nothing starts any more */
	pid_t fetcher_pid;      /* the key fetcher (include/jwks_fetch.h), 0: none running */
	long long fetcher_next_ms; /* monotonic time before which no fetcher starts */
};

enum master_step {
	MASTER_IDLE,  /* nothing to do until something happens (or next_spawn_ms) */
	MASTER_SPAWN, /* start one child of the current generation */
	MASTER_STOP   /* stop kids[*victim] gracefully */
};

/* Delay before the next start after `fails` starts in a row died before they were ready:
 * 0 for none, then 100 ms doubling up to MASTER_BACKOFF_MAX_MS. */
int master_backoff_ms(unsigned fails);

/* The next step toward the pool's target (pure: the table is not changed). Call again after
 * carrying it out, until MASTER_IDLE. */
enum master_step master_plan(const struct master_pool *p, long long now_ms, int *victim);

/* What the master checks before it forks: the settings (config_load'ed by the caller) and
 * the token keys they name, loaded as a worker loads them. ERR_VALIDATION with *why. */
err_t master_check_config(const struct config *cfg, const char **why) WUR;

/* Runs the master on fd 0 until SIGTERM/SIGINT. exe: the program each child execs (with
 * `--ready-fd N`), normally argv[0]. Returns the exit code. */
int master_run(const struct config *cfg, const char *exe);

#endif
