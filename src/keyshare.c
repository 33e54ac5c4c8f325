/*
 * The shared key set (include/keyshare.h). Placeholder: the JWKS helper fills this in.
 */
#include "keyshare.h"
#include "shm.h"
