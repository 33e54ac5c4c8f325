/* Handlers of the kilometrage routes (design: "Kilometrage Logging"). */
#ifndef VS_RIDES_H
#define VS_RIDES_H

#include "ctx.h"

#define RIDES_KEY_MAX 255

err_t rides_log(struct ctx *c) WUR;
err_t rides_history(struct ctx *c) WUR;
err_t rides_delete(struct ctx *c) WUR;
/* 1 when an Idempotency-Key is 1..255 printable ASCII characters. */
int rides_key_ok(const char *key);

#endif
