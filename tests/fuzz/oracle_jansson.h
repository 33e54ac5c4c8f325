/* See oracle_jansson.c. */
#ifndef VS_ORACLE_JANSSON_H
#define VS_ORACLE_JANSSON_H

#include <stddef.h>

/* 1 when jansson reads buf[0..len) as one JSON object; else 0 and why says what it found. */
int fuzz_jansson_object(const char *buf, size_t len, char *why, size_t why_size);

#endif
