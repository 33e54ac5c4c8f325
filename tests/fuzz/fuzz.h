/* Shared by the libFuzzer targets (tests/fuzz/README.md). A broken invariant aborts, which
 * libFuzzer reports as a crash with the input that caused it. */
#ifndef VS_FUZZ_H
#define VS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_ASSERT(cond)                                                                  \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__,   \
				#cond);                                                    \
			abort();                                                           \
		}                                                                          \
	} while (0)

/* A malloc'd copy of data with a NUL after it (what FastCGI hands the worker: C strings). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	FUZZ_ASSERT(s != NULL);
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* The piece of [*data, *data + *size) before the first '\n' (or all of it), as a C string;
 * *data and *size move past it and the newline. */
static inline char *fuzz_take_line(const uint8_t **data, size_t *size)
{
	const uint8_t *nl = *size ? memchr(*data, '\n', *size) : NULL;
	size_t n = nl ? (size_t)(nl - *data) : *size;
	char *s = fuzz_cstr(*data, n);

	*data += nl ? n + 1 : n;
	*size -= nl ? n + 1 : n;
	return s;
}

#endif
