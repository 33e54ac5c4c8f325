/* Idempotency-Key headers: checked in C so a bad key is a 400 before any SQL runs. */
#include <stddef.h>

#include "idem.h"
#include "rules.h"

int idem_key_ok(const char *key)
{
	size_t n = 0;

	if (key == NULL)
		return 0;
	/* Stop counting past the limit: the header could be long. */
	for (; key[n] != '\0'; n++) {
		unsigned char ch = (unsigned char)key[n];
		if (n == RULES_IDEM_KEY_MAX || ch < 0x20 || ch > 0x7E)
			return 0;
	}
	return n > 0;
}
