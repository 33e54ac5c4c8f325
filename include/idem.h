/* Idempotency-Key headers of ride requests. */
#ifndef VS_IDEM_H
#define VS_IDEM_H

/* 1 when key is 1..RULES_IDEM_KEY_MAX printable ASCII characters (0x20..0x7E). */
int idem_key_ok(const char *key);

#endif
