/*
 * The JWKS fetcher (include/jwks_fetch.h). Placeholder: the JWKS helper fills this in.
 */
#include "config.h"
#include "jwks_fetch.h"
#include "shm.h"

pid_t jwks_fetch_spawn(const struct config *cfg, struct shm_region *shm, int listen_fd)
{
	(void)cfg;
	(void)shm;
	(void)listen_fd;
	return 0;
}
