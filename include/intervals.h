/* Handlers of the service interval routes and the due list. */
#ifndef VS_INTERVALS_H
#define VS_INTERVALS_H

#include "ctx.h"

/* The limits of an interval's fields (sql/functions/62_intervals.sql and the table's checks
 * in 013_rides_and_intervals.sql say the same). */
#define INTERVALS_TASK_MAX 100
#define INTERVALS_DISTANCE_KM_MAX 1000000
#define INTERVALS_HOURS_MAX 100000
#define INTERVALS_DAYS_MAX 36500

/* POST and GET /api/{bikes,parts}/:id/intervals: of the path's bike or part. */
err_t intervals_create(struct ctx *c) WUR;
err_t intervals_list(struct ctx *c) WUR;
/* PATCH and DELETE /api/intervals/:id: the interval's part or bike must be the caller's. */
err_t intervals_update(struct ctx *c) WUR;
err_t intervals_delete(struct ctx *c) WUR;
/* GET /api/due?state=&unit=: the caller's intervals, worn parts and bikes due a service. */
err_t intervals_due(struct ctx *c) WUR;

#endif
