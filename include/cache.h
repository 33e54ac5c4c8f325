/*
 * The worker's Redis connection (hiredis), for the list cache (list_cache.h). One blocking
 * connection per worker, every wait bounded (connect and each command: REDIS_TIMEOUT_MS). A
 * Redis that fails or is slow is dropped with one log line and left alone for a while
 * (backoff from 1 s, doubling to 30 s, with jitter, so a fleet of workers does not hammer
 * it): meanwhile the cache is off and the service answers from PostgreSQL. Nothing here ever
 * fails a request.
 */
#ifndef VS_CACHE_H
#define VS_CACHE_H

#include <stddef.h>

#include "err.h"
#include "log.h"

#define CACHE_TIMEOUT_MS_DEFAULT 25
#define CACHE_TIMEOUT_MS_MAX 1000
#define CACHE_BACKOFF_MIN_MS 1000
#define CACHE_BACKOFF_MAX_MS 30000

/* REDIS_URL, parsed: redis://[[user]:password@]host[:port][/db] (host may be [v6]), or
 * unix:/path[?db=N] (also unix:///path). */
struct cache_url {
	char host[256]; /* "" for a Unix socket */
	int port;
	char path[108]; /* the socket, "" for TCP */
	char user[64];
	char password[256];
	int db;
};

/* 0 with *out; -1 with *why (a static text, never the password). Pure: unit-tested. */
int cache_url_parse(const char *url, struct cache_url *out, const char **why);

struct cache_reply; /* a Redis reply (hiredis' redisReply) */

/* Settings for this process: url NULL means no Redis (every call below is a no-op that
 * says "unavailable"). timeout_ms bounds connect and each command. Connects now (failure is
 * only logged). url must have passed cache_url_parse. */
void cache_setup(const char *url, unsigned timeout_ms, const struct log_ctx *log);
void cache_shutdown(void);
/* 1 when a command may be tried now: configured, and not resting after a failure. */
int cache_ready(const struct log_ctx *log);

/* Queues GET key and sends it without waiting for the answer (cache_get_wait reads it), so
 * the database's round trip and Redis' overlap. -1: not sent (the cache is resting). */
int cache_get_send(const char *key, size_t key_len, const struct log_ctx *log);
/* The answer of the last cache_get_send: 1 with *value (a string; free with
 * cache_reply_free), 0 when there is none (nil, or not sent), -1 after a failure (logged,
 * connection dropped, resting). */
int cache_get_wait(struct cache_reply **value, const struct log_ctx *log);
/* SET key value EX ttl, without waiting: its answer is read (and checked) before the next
 * command's. -1 when it could not be sent. */
int cache_set_send(const char *key, size_t key_len, const char *value, size_t value_len,
		   unsigned ttl_s, const struct log_ctx *log);

const char *cache_reply_str(const struct cache_reply *r, size_t *len);
void cache_reply_free(struct cache_reply *r);

#endif
