/*
 * The key set fetched from SUPABASE_URL, shared by the instance's one fetcher
 * (src/jwks_fetch.c) with every worker. The area lives in the master's shared memory
 * (include/shm.h), so it survives the fetcher's and the workers' restarts and a SIGHUP.
 *
 * The fetcher is the only writer. It publishes the validated JWKS text under a seqlock
 * (seq odd while it writes) and then bumps gen; a worker compares gen with the one it
 * parsed last on each authenticated request (one atomic load, no system call) and copies
 * and parses the text only when it changed. A worker that meets a token naming an unknown
 * kid asks for a refetch (miss_req); the fetcher answers (miss_done) at most once per
 * KEYSHARE_MISS_INTERVAL_MS with a fetch, at once with "not now" otherwise.
 */
#ifndef VS_KEYSHARE_H
#define VS_KEYSHARE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "jwks.h"

#define KEYSHARE_TEXT_MAX JWKS_MAX_BYTES
#define KEYSHARE_MISS_INTERVAL_MS 30000 /* kid-miss refetches: at most one per this */
#define KEYSHARE_MISS_WAIT_MS 1000      /* how long a request waits for that refetch */

/* The fetcher's last attempt (never key material): for logs and /health/ready. */
enum keyshare_status {
	KEYSHARE_NONE = 0,  /* no attempt finished yet */
	KEYSHARE_OK,
	KEYSHARE_CONNECT,   /* no connection, DNS, TLS or timeout */
	KEYSHARE_HTTP,      /* an answer other than 200 (http_status says which) */
	KEYSHARE_TOO_BIG,   /* over KEYSHARE_TEXT_MAX */
	KEYSHARE_BAD_JSON,  /* not a JWKS, or a malformed key of a supported type */
	KEYSHARE_NO_KEY,    /* a set with no usable ES256/RS256 key */
	KEYSHARE_STATUS_COUNT
};

struct keyshare_area {
	uint64_t seq;          /* seqlock over len and text: odd while the fetcher writes */
	uint64_t gen;          /* bumped after each published change; 0: nothing published */
	uint32_t len;          /* bytes of text */
	uint32_t nkeys;        /* usable keys in text */
	uint32_t status;       /* enum keyshare_status of the last attempt */
	uint32_t http_status;  /* its HTTP status, 0 when there was no answer */
	uint64_t fetches;      /* attempts so far */
	uint64_t miss_req;     /* workers: incremented for each unknown kid they ask about */
	uint64_t miss_done;    /* fetcher: the miss_req its last answer covered */
	int64_t miss_next_ms;  /* CLOCK_MONOTONIC ms before which no kid miss is asked: claimed by
				* the asking worker (compare and swap), so one per 30 s at most */
	uint64_t source;       /* fetcher: a hash of the URL the published text came from */
	char text[KEYSHARE_TEXT_MAX];
};

/* CLOCK_MONOTONIC in ms (shared by every process of the machine). */
int64_t keyshare_now_ms(void);
/* A static text for a status (never NULL). */
const char *keyshare_status_text(uint32_t status);

/* ---- the fetcher (the only writer) ---- */
/* Publishes len bytes of validated JWKS text (len <= KEYSHARE_TEXT_MAX) and bumps gen. */
void keyshare_publish(struct keyshare_area *a, const char *text, size_t len, unsigned nkeys);
void keyshare_set_status(struct keyshare_area *a, enum keyshare_status st, long http_status);
/* 1 and *req when a worker asked about an unknown kid since the last answer. */
int keyshare_miss_pending(struct keyshare_area *a, uint64_t *req);
/* Answers every ask up to req (the asking worker claimed the window itself). */
void keyshare_miss_answer(struct keyshare_area *a, uint64_t req);

/* ---- readers ---- */
uint64_t keyshare_gen(const struct keyshare_area *a);
/* A consistent copy of the published text: *out malloc'd, NUL-terminated; *gen its
 * generation. ERR_NOT_FOUND when nothing is published (or the writer died mid-write),
 * ERR_INTERNAL when memory is short. */
err_t keyshare_read(const struct keyshare_area *a, char **out, size_t *len, uint64_t *gen) WUR;

/* A worker's parsed copy of the shared set. */
struct keyshare_reader {
	struct keyshare_area *area;
	uint64_t gen;        /* the generation set was parsed from (0: none yet) */
	struct jwks_set set; /* the fetched keys */
};

void keyshare_reader_init(struct keyshare_reader *r, struct keyshare_area *area);
/* Brings r->set to the area's generation. Costs one atomic load when it has not changed.
 * 1 when the set was replaced (the caller drops what it derived from the old one). */
int keyshare_reader_sync(struct keyshare_reader *r);
void keyshare_reader_free(struct keyshare_reader *r);
/* A token named a kid the set lacks: asks the fetcher for a refetch and waits (at most
 * KEYSHARE_MISS_WAIT_MS) for its answer. 0 at once when a refetch is not allowed now
 * (one happened less than KEYSHARE_MISS_INTERVAL_MS ago). 1 when the fetcher answered or
 * the set changed meanwhile: sync again and look once more. */
int keyshare_reader_miss(struct keyshare_reader *r);

#endif
