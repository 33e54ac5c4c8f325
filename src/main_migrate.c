/*
 * vehicle-migrate [SQL_DIR]: applies SQL_DIR (default the source tree's sql/) to
 * $MIGRATE_DATABASE_URL, else $DATABASE_URL. Exits 0 when the schema is up to date.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migrate.h"

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : VS_SQL_DIR;
	/* The migration's advisory lock needs a direct connection, not a transaction pooler:
	 * MIGRATE_DATABASE_URL names one where DATABASE_URL goes through a pooler. */
	const char *url = getenv("MIGRATE_DATABASE_URL");

	if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		printf("usage: %s [SQL_DIR]\n", argv[0]);
		return 0;
	}
	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		fprintf(stderr, "usage: %s [SQL_DIR]\n", argv[0]);
		return 2;
	}
	if (url == NULL || url[0] == '\0')
		url = getenv("DATABASE_URL");
	return migrate_run(url ? url : "", dir) == ERR_OK ? 0 : 1;
}
