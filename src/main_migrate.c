/* vehicle-migrate [DIR]: applies pending migrations to $DATABASE_URL. */
#include <stdio.h>
#include <stdlib.h>

#include "migrate.h"

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : VS_MIGRATIONS_DIR;
	const char *url = getenv("DATABASE_URL");

	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		fprintf(stderr, "usage: %s [migrations-dir]\n", argv[0]);
		return 2;
	}
	return migrate_run(url ? url : "", dir) == ERR_OK ? 0 : 1;
}
