/*
 * vehicle-worker: a FastCGI responder, started by spawn-fcgi (see scripts/lib/workers.sh).
 *
 *   vehicle-worker                  serve FastCGI on fd 0
 *   vehicle-worker --check-config   check the environment's settings and exit (0: usable)
 *
 * The scripts run --check-config before spawning workers: a bad configuration then fails
 * once, with this program's message, instead of crash-looping under multiwatch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "worker.h"

/* getenv returns char *; config_load's get returns const char *, and C does not convert
 * between the two function pointer types. */
static const char *main_getenv(const char *name)
{
	return getenv(name);
}

int main(int argc, char **argv)
{
	struct config cfg;
	const char *why = NULL;
	int check = argc == 2 && strcmp(argv[1], "--check-config") == 0;

	if (argc > 1 && !check) {
		fprintf(stderr, "usage: vehicle-worker [--check-config]\n");
		return 2;
	}
	if (config_load(&cfg, main_getenv, &why) != ERR_OK) {
		fprintf(stderr, "vehicle-worker: configuration: %s\n", why ? why : "unusable");
		return 2;
	}
	if (check)
		return 0;
	return worker_run(&cfg);
}
