/*
 * Prometheus metrics (include/metrics.h). Placeholder: the metrics helper fills this in.
 */
#include "metrics.h"
#include "shm.h"

void metrics_db_error(void)
{
}

void metrics_db_reconnect(void)
{
}
