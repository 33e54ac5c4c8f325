#ifndef VS_HEALTH_H
#define VS_HEALTH_H

#include "ctx.h"

/* How long a worker answers /health/ready from its last database check. */
#define HEALTH_READY_INTERVAL_MS 1000

/* GET /health: liveness, no database. GET /health/ready: 503 (details.token_keys says why)
 * while there is no token key yet (SUPABASE_URL alone, not fetched yet), else 200 when the
 * database answers;
 * each worker asks it at most once per HEALTH_READY_INTERVAL_MS and answers from that
 * result in between (a connection the server closed since is noticed without asking). */
err_t health_live(struct ctx *c) WUR;
err_t health_ready(struct ctx *c) WUR;

#endif
