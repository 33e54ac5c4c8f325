/*
 * The key set fetched from SUPABASE_URL, shared by the instance's one fetcher with every
 * worker (OWNER: the JWKS helper fills this in). The area lives in the master's shared
 * memory (include/shm.h).
 */
#ifndef VS_KEYSHARE_H
#define VS_KEYSHARE_H

#include <stdint.h>

struct keyshare_area {
	uint64_t placeholder;
};

#endif
