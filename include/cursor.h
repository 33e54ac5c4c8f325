/* Keyset cursors of the ride history: "<logged_at in microseconds since 1970>.<log id>". */
#ifndef VS_CURSOR_H
#define VS_CURSOR_H

#include <stddef.h>

/* Splits s into its microseconds (into us, NUL-terminated, may be negative) and its id
 * (*id points into s). 0 on success; -1 when s is not a cursor next_cursor could give
 * (not before 1900, not after 9999, id a UUID). */
int cursor_parse(const char *s, char *us, size_t uslen, const char **id);
/* out = "<us>.<id>"; -1 when it does not fit. */
int cursor_format(char *out, size_t len, const char *us, const char *id);

#endif
