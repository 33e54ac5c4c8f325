/* The internal routes, for other services of the platform (service-role tokens only). */
#ifndef VS_SUMMARY_H
#define VS_SUMMARY_H

#include "ctx.h"

/* GET /internal/bikes/user/:user_id/summary: the dashboard numbers of one user, in km. */
err_t summary_user(struct ctx *c) WUR;

#endif
