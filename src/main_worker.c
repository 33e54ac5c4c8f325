/*
 * vehicle-worker: the FastCGI service (see scripts/lib/workers.sh).
 *
 *   vehicle-worker --master         the prefork master, what spawn-fcgi starts: checks the
 *                                   settings and keys, then keeps WORKERS workers running on
 *                                   the socket on fd 0 (src/master.c, include/master.h)
 *   vehicle-worker                  one worker serving FastCGI on fd 0 (by hand, or under
 *                                   another supervisor)
 *   vehicle-worker --ready-fd N [--shm-fd M]
 *                                   one worker that writes a byte on fd N once it serves and
 *                                   maps the instance's shared memory from fd M (include/shm.h):
 *                                   how the master starts its workers
 *   vehicle-worker --check-config   check the environment's settings and the token keys they
 *                                   name, and exit (0: usable)
 *
 * A refused configuration exits 2 with its reason, before anything forks: no crash loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "config.h"
#include "db.h"
#include "list_cache.h"
#include "master.h"
#include "shm.h"
#include "valid.h"
#include "worker.h"

enum main_mode { MAIN_WORKER, MAIN_MASTER, MAIN_CHECK };

/* getenv returns char *; config_load's get returns const char *, and C does not convert
 * between the two function pointer types. */
static const char *main_getenv(const char *name)
{
	return getenv(name);
}

/* 0 with *mode (and *ready_fd, *shm_fd for --ready-fd, --shm-fd), -1 for a usage error. */
static int main_args(int argc, char **argv, enum main_mode *mode, int *ready_fd, int *shm_fd)
{
	long fd, sfd;

	*mode = MAIN_WORKER;
	*ready_fd = *shm_fd = -1;
	if (argc == 1)
		return 0;
	if (argc == 2 && strcmp(argv[1], "--master") == 0)
		*mode = MAIN_MASTER;
	else if (argc == 2 && strcmp(argv[1], "--check-config") == 0)
		*mode = MAIN_CHECK;
	else if (argc == 3 && strcmp(argv[1], "--ready-fd") == 0 &&
		 valid_parse_int(argv[2], 3, 65535, &fd) == 0)
		*ready_fd = (int)fd;
	else if (argc == 5 && strcmp(argv[1], "--ready-fd") == 0 && strcmp(argv[3], "--shm-fd") == 0 &&
		 valid_parse_int(argv[2], 3, 65535, &fd) == 0 &&
		 valid_parse_int(argv[4], 3, 65535, &sfd) == 0 && sfd != fd) {
		*ready_fd = (int)fd;
		*shm_fd = (int)sfd;
	} else
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct config cfg;
	const char *why = NULL;
	enum main_mode mode;
	int ready_fd, shm_fd;

	if (main_args(argc, argv, &mode, &ready_fd, &shm_fd) != 0) {
		fprintf(stderr, "usage: vehicle-worker [--master | --check-config | "
			"--ready-fd N [--shm-fd M]]\n");
		return 2;
	}
	if (shm_fd >= 0 && shm_attach(shm_fd) != ERR_OK) {
		/* A build whose region differs from the running master's: a SIGHUP cannot bring it
		 * in (the master keeps its region for life); the instance must be restarted. */
		fprintf(stderr, "vehicle-worker: --shm-fd %d is not this build's shared memory: the "
			"master runs an older layout; restart it (a SIGHUP cannot change the layout)\n",
			shm_fd);
		return 2;
	}
	if (config_load(&cfg, main_getenv, &why) != ERR_OK) {
		fprintf(stderr, "vehicle-worker: configuration: %s\n", why ? why : "unusable");
		return 2;
	}
	if (mode != MAIN_WORKER && master_check_config(&cfg, &why) != ERR_OK) {
		fprintf(stderr, "vehicle-worker: configuration: token keys: %s\n",
			why ? why : "unusable");
		return 2;
	}
	if (mode == MAIN_CHECK)
		return 0;
	if (mode == MAIN_MASTER)
		return master_run(&cfg, argv[0]);
	{
		/* The list cache's Redis, connected now (a failure is only logged): REDIS_URL. */
		const struct log_ctx log = {.op = "worker"};
		int code;
		list_cache_setup(cfg.list_cache);
		cache_setup(cfg.list_cache ? cfg.redis_url : NULL, cfg.redis_timeout_ms, &log);
		/* DATABASE_POOL_MODE: before worker_run opens the connection. */
		db_set_pool_transaction(cfg.pool_transaction);
		code = worker_run(&cfg, ready_fd);
		cache_shutdown();
		return code;
	}
}
