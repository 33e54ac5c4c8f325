/*
 * The shared key set (include/keyshare.h): a seqlock with one writer. The text is copied
 * with plain memcpy between two reads of seq; a copy that raced with the writer is thrown
 * away (the seq changed), so a reader never parses a torn set.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* clock_gettime, nanosleep */
#endif
#include "keyshare.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A reader gives up after this many torn copies (the writer died mid-write, or writes
 * without pause): it keeps the set it has and tries again at the next request. */
#define KEYSHARE_READ_TRIES 64

int64_t keyshare_now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *keyshare_status_text(uint32_t status)
{
	static const char *const text[KEYSHARE_STATUS_COUNT] = {
		[KEYSHARE_NONE] = "no fetch has finished yet",
		[KEYSHARE_OK] = "ok",
		[KEYSHARE_CONNECT] = "could not reach SUPABASE_URL (connection, TLS or timeout)",
		[KEYSHARE_HTTP] = "SUPABASE_URL answered other than 200",
		[KEYSHARE_TOO_BIG] = "the key set is larger than JWKS_MAX_BYTES",
		[KEYSHARE_BAD_JSON] = "the answer is not a valid JWKS",
		[KEYSHARE_NO_KEY] = "the key set has no usable ES256/RS256 key",
	};

	return status < KEYSHARE_STATUS_COUNT ? text[status] : "unknown";
}

void keyshare_publish(struct keyshare_area *a, const char *text, size_t len, unsigned nkeys)
{
	uint64_t s = __atomic_load_n(&a->seq, __ATOMIC_RELAXED);

	if (len > KEYSHARE_TEXT_MAX)
		return;
	/* Odd while writing; an earlier fetcher killed mid-write left it odd already. */
	s = (s | 1) + 2;
	__atomic_store_n(&a->seq, s, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	memcpy(a->text, text, len);
	__atomic_store_n(&a->len, (uint32_t)len, __ATOMIC_RELAXED);
	__atomic_store_n(&a->nkeys, nkeys, __ATOMIC_RELAXED);
	__atomic_store_n(&a->seq, s + 1, __ATOMIC_RELEASE);
	__atomic_add_fetch(&a->gen, 1, __ATOMIC_RELEASE);
}

void keyshare_set_status(struct keyshare_area *a, enum keyshare_status st, long http_status)
{
	__atomic_store_n(&a->http_status, (uint32_t)(http_status > 0 ? http_status : 0),
			 __ATOMIC_RELAXED);
	__atomic_store_n(&a->status, (uint32_t)st, __ATOMIC_RELEASE);
	__atomic_add_fetch(&a->fetches, 1, __ATOMIC_RELAXED);
}

int keyshare_miss_pending(struct keyshare_area *a, uint64_t *req)
{
	*req = __atomic_load_n(&a->miss_req, __ATOMIC_ACQUIRE);
	return *req != __atomic_load_n(&a->miss_done, __ATOMIC_RELAXED);
}

void keyshare_miss_answer(struct keyshare_area *a, uint64_t req)
{
	__atomic_store_n(&a->miss_done, req, __ATOMIC_RELEASE);
}

uint64_t keyshare_gen(const struct keyshare_area *a)
{
	return __atomic_load_n(&a->gen, __ATOMIC_ACQUIRE);
}

err_t keyshare_read(const struct keyshare_area *a, char **out, size_t *len, uint64_t *gen)
{
	*out = NULL;
	*len = 0;
	for (int i = 0; i < KEYSHARE_READ_TRIES; i++) {
		uint64_t g = keyshare_gen(a);
		uint64_t s1 = __atomic_load_n(&a->seq, __ATOMIC_ACQUIRE);
		size_t n = __atomic_load_n(&a->len, __ATOMIC_RELAXED);
		char *buf;

		if (g == 0)
			return ERR_NOT_FOUND;
		if ((s1 & 1) || n > KEYSHARE_TEXT_MAX)
			continue;
		buf = malloc(n + 1);
		if (buf == NULL)
			return ERR_INTERNAL;
		memcpy(buf, a->text, n);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&a->seq, __ATOMIC_RELAXED) != s1) {
			free(buf);
			continue;
		}
		buf[n] = '\0';
		*out = buf;
		*len = n;
		*gen = g;
		return ERR_OK;
	}
	return ERR_NOT_FOUND;
}

void keyshare_reader_init(struct keyshare_reader *r, struct keyshare_area *area)
{
	memset(r, 0, sizeof(*r));
	r->area = area;
}

void keyshare_reader_free(struct keyshare_reader *r)
{
	if (r == NULL)
		return;
	jwks_set_free(&r->set);
	r->gen = 0;
}

int keyshare_reader_sync(struct keyshare_reader *r)
{
	struct jwks_set fresh;
	const char *why = NULL;
	char *text = NULL;
	size_t len = 0;
	uint64_t gen = 0;

	if (r->area == NULL || keyshare_gen(r->area) == r->gen)
		return 0;
	if (keyshare_read(r->area, &text, &len, &gen) != ERR_OK)
		return 0; /* keeps its set; tries again next time */
	if (len == 0) {
		/* Emptied on purpose (SUPABASE_URL changed, src/jwks_fetch.c): no fetched key. */
		free(text);
		jwks_set_free(&r->set);
		r->gen = gen;
		return 1;
	}
	/* The fetcher validated the text; a worker of another build may parse it differently:
	 * then it keeps its keys, and records the generation so it does not try each time. */
	if (jwks_parse(&fresh, text, len, &why) != ERR_OK || fresh.count == 0) {
		free(text);
		jwks_set_free(&fresh);
		r->gen = gen;
		return 0;
	}
	free(text);
	jwks_set_free(&r->set);
	r->set = fresh;
	r->gen = gen;
	return 1;
}

int keyshare_reader_miss(struct keyshare_reader *r)
{
	struct keyshare_area *a = r->area;
	const struct timespec step = {0, 10 * 1000 * 1000};
	int64_t start = keyshare_now_ms(), next;
	uint64_t ticket;

	if (a == NULL)
		return 0;
	/* The worker claims the window itself (compare and swap): however busy, slow or dead
	 * the fetcher is, one request per KEYSHARE_MISS_INTERVAL_MS per instance waits, and
	 * every other unknown kid is refused at once. */
	next = __atomic_load_n(&a->miss_next_ms, __ATOMIC_ACQUIRE);
	if (start < next ||
	    !__atomic_compare_exchange_n(&a->miss_next_ms, &next, start + KEYSHARE_MISS_INTERVAL_MS, 0,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return 0;
	ticket = __atomic_add_fetch(&a->miss_req, 1, __ATOMIC_ACQ_REL);
	while (keyshare_now_ms() - start < KEYSHARE_MISS_WAIT_MS) {
		if (keyshare_gen(a) != r->gen ||
		    (int64_t)(__atomic_load_n(&a->miss_done, __ATOMIC_ACQUIRE) - ticket) >= 0)
			return 1;
		nanosleep(&step, NULL);
	}
	return keyshare_gen(a) != r->gen;
}
