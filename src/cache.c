/*
 * The worker's one Redis connection (include/cache.h). Blocking hiredis with socket
 * timeouts: a command never waits longer than the timeout, and whatever goes wrong costs one
 * log line, the connection, and a rest before the next try; the caller then answers from
 * PostgreSQL. Commands whose answer the request does not need (SET) are sent without waiting
 * and their answers read before the next command's.
 */
#include <ctype.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "cache.h"

static struct {
	int configured;
	struct cache_url url;
	struct timeval tv;
	redisContext *rc;
	int pending;           /* answers owed for commands sent without waiting (SET) */
	int get_sent;          /* a GET awaits cache_get_wait */
	long long retry_at_ms; /* resting after a failure until then */
	unsigned backoff_ms;
	long long refused_log_ms; /* the last "refused" line: one per CACHE_REFUSED_LOG_MS */
} cache;

/* A Redis that refuses commands (out of memory under noeviction, a read-only replica) answers
 * every one: say so now and then, not once per request. */
#define CACHE_REFUSED_LOG_MS 10000

static long long cache_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void cache_drop(void)
{
	if (cache.rc)
		redisFree(cache.rc);
	cache.rc = NULL;
	cache.pending = 0;
	cache.get_sent = 0;
}

/* A failure: one log line, the connection dropped, a rest before the next try (doubling,
 * with a per-process jitter so that the workers do not come back all at once). */
static void cache_fail(const struct log_ctx *log, const char *what)
{
	unsigned wait = cache.backoff_ms ? cache.backoff_ms : CACHE_BACKOFF_MIN_MS;
	unsigned jitter = (unsigned)((getpid() * 7919u + (unsigned)cache_now_ms()) % (wait / 4 + 1));

	log_warn(log, "list cache: Redis %s (%s); lists are answered from the database, next try in %u ms",
		 what, cache.rc && cache.rc->errstr[0] ? cache.rc->errstr : "no answer", wait + jitter);
	cache_drop();
	cache.retry_at_ms = cache_now_ms() + wait + jitter;
	cache.backoff_ms = wait * 2 > CACHE_BACKOFF_MAX_MS ? CACHE_BACKOFF_MAX_MS : wait * 2;
}

/* A command answered: Redis works, the next failure rests the shortest time again. */
static void cache_ok(void)
{
	cache.backoff_ms = 0;
}

/* AUTH and SELECT on a new connection, each bounded by the timeout. */
static int cache_login(void)
{
	redisReply *r;

	if (cache.url.password[0]) {
		const char *argv[3] = {"AUTH", cache.url.user, cache.url.password};
		int user = cache.url.user[0] != '\0';
		if (!user)
			argv[1] = cache.url.password;
		r = redisCommandArgv(cache.rc, user ? 3 : 2, argv, NULL);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			freeReplyObject(r);
			return -1;
		}
		freeReplyObject(r);
	}
	if (cache.url.db > 0) {
		char db[16];
		const char *argv[2] = {"SELECT", db};
		if (snprintf(db, sizeof(db), "%d", cache.url.db) < 0)
			return -1;
		r = redisCommandArgv(cache.rc, 2, argv, NULL);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			freeReplyObject(r);
			return -1;
		}
		freeReplyObject(r);
	}
	return 0;
}

static int cache_connect(const struct log_ctx *log)
{
	cache_drop();
	cache.rc = cache.url.path[0] ? redisConnectUnixWithTimeout(cache.url.path, cache.tv)
				     : redisConnectWithTimeout(cache.url.host, cache.url.port, cache.tv);
	if (cache.rc == NULL || cache.rc->err || redisSetTimeout(cache.rc, cache.tv) != REDIS_OK) {
		cache_fail(log, "connect failed");
		return -1;
	}
	if (cache_login() != 0) {
		cache_fail(log, "login (AUTH/SELECT) failed");
		return -1;
	}
	log_info(log, "list cache: Redis connected");
	return 0;
}

static void cache_refused(const struct log_ctx *log, const char *what, const redisReply *r)
{
	long long now = cache_now_ms();

	if (cache.refused_log_ms && now - cache.refused_log_ms < CACHE_REFUSED_LOG_MS)
		return;
	cache.refused_log_ms = now;
	log_warn(log, "list cache: Redis refused a %s: %.*s", what, (int)(r->len > 200 ? 200 : r->len), r->str);
}

/* Answers owed (SET) are read first; an error answer is logged, a lost connection fails. */
static int cache_drain(const struct log_ctx *log)
{
	while (cache.pending > 0) {
		redisReply *r = NULL;
		if (redisGetReply(cache.rc, (void **)&r) != REDIS_OK || r == NULL) {
			cache_fail(log, "answer lost");
			return -1;
		}
		cache.pending--;
		if (r->type == REDIS_REPLY_ERROR)
			cache_refused(log, "write", r);
		freeReplyObject(r);
	}
	return 0;
}

/* Idle, we expect nothing: a readable socket is the server's goodbye (a restart, an idle
 * timeout). Reconnecting now, without a rest, keeps the cache through a Redis restart. */
static int cache_alive(const struct log_ctx *log)
{
	struct pollfd pfd = {.fd = cache.rc->fd, .events = POLLIN};

	if (poll(&pfd, 1, 0) == 0)
		return 0;
	log_info(log, "list cache: Redis closed the connection; reconnecting");
	return cache_connect(log);
}

int cache_ready(const struct log_ctx *log)
{
	if (!cache.configured)
		return 0;
	if (cache.rc == NULL) {
		if (cache_now_ms() < cache.retry_at_ms)
			return 0;
		return cache_connect(log) == 0;
	}
	if (cache_drain(log) != 0)
		return 0;
	return cache_alive(log) == 0;
}

/* Writes everything queued, within the timeout (SO_SNDTIMEO). */
static int cache_flush(const struct log_ctx *log)
{
	int done = 0;

	while (!done)
		if (redisBufferWrite(cache.rc, &done) != REDIS_OK) {
			cache_fail(log, "write failed");
			return -1;
		}
	return 0;
}

int cache_get_send(const char *key, size_t key_len, const struct log_ctx *log)
{
	const char *argv[2] = {"GET", key};
	size_t lens[2] = {3, key_len};

	cache.get_sent = 0;
	if (!cache_ready(log))
		return -1;
	if (redisAppendCommandArgv(cache.rc, 2, argv, lens) != REDIS_OK) {
		cache_fail(log, "GET not queued");
		return -1;
	}
	if (cache_flush(log) != 0)
		return -1;
	cache.get_sent = 1;
	return 0;
}

int cache_get_wait(struct cache_reply **value, const struct log_ctx *log)
{
	redisReply *r = NULL;

	*value = NULL;
	if (!cache.get_sent || cache.rc == NULL)
		return 0;
	cache.get_sent = 0;
	if (redisGetReply(cache.rc, (void **)&r) != REDIS_OK || r == NULL) {
		cache_fail(log, "GET got no answer in time");
		return -1;
	}
	cache_ok();
	if (r->type == REDIS_REPLY_STRING) {
		*value = (struct cache_reply *)r;
		return 1;
	}
	if (r->type == REDIS_REPLY_ERROR)
		cache_refused(log, "read", r);
	freeReplyObject(r);
	return 0;
}

int cache_set_send(const char *key, size_t key_len, const char *value, size_t value_len,
		   unsigned ttl_s, const struct log_ctx *log)
{
	char ttl[16];
	const char *argv[5] = {"SET", key, value, "EX", ttl};
	size_t lens[5] = {3, key_len, value_len, 2, 0};
	int n = snprintf(ttl, sizeof(ttl), "%u", ttl_s);

	if (n < 0 || (size_t)n >= sizeof(ttl) || !cache_ready(log))
		return -1;
	lens[4] = (size_t)n;
	if (redisAppendCommandArgv(cache.rc, 5, argv, lens) != REDIS_OK) {
		cache_fail(log, "SET not queued");
		return -1;
	}
	if (cache_flush(log) != 0)
		return -1;
	cache.pending++;
	return 0;
}

const char *cache_reply_str(const struct cache_reply *r, size_t *len)
{
	const redisReply *rr = (const redisReply *)r;

	*len = rr->len;
	return rr->str;
}

void cache_reply_free(struct cache_reply *r)
{
	freeReplyObject(r);
}

void cache_setup(const char *url, unsigned timeout_ms, const struct log_ctx *log)
{
	const char *why = NULL;

	cache_shutdown();
	memset(&cache, 0, sizeof(cache));
	if (url == NULL)
		return;
	if (cache_url_parse(url, &cache.url, &why) != 0) {
		log_error(log, "list cache: REDIS_URL unusable (%s); the cache is off", why);
		return;
	}
	if (timeout_ms == 0 || timeout_ms > CACHE_TIMEOUT_MS_MAX)
		timeout_ms = CACHE_TIMEOUT_MS_DEFAULT;
	cache.tv.tv_sec = timeout_ms / 1000;
	cache.tv.tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000;
	cache.configured = 1;
	(void)cache_connect(log);
}

void cache_shutdown(void)
{
	cache_drop();
	cache.configured = 0;
}

/* ---- REDIS_URL ---------------------------------------------------------------------- */

static int cache_url_fail(const char **why, const char *text)
{
	*why = text;
	return -1;
}

/* A whole number in lo..hi, all of s[0..n). */
static int cache_url_num(const char *s, size_t n, long lo, long hi, int *out)
{
	long v = 0;

	if (n == 0 || n > 9)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

static int cache_hex(int c)
{
	return isdigit(c) ? c - '0' : isxdigit(c) ? (tolower(c) - 'a' + 10) : -1;
}

/* s[0..n) percent-decoded into out (size bytes with its NUL). */
static int cache_url_decode(const char *s, size_t n, char *out, size_t size)
{
	size_t w = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '%') {
			int hi = i + 2 < n ? cache_hex((unsigned char)s[i + 1]) : -1;
			int lo = i + 2 < n ? cache_hex((unsigned char)s[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
		}
		if (c == '\0' || w + 1 >= size)
			return -1;
		out[w++] = (char)c;
	}
	out[w] = '\0';
	return 0;
}

/* user:password@ (either may be empty). */
static int cache_url_userinfo(const char *s, size_t n, struct cache_url *out)
{
	const char *colon = memchr(s, ':', n);
	size_t ulen = colon ? (size_t)(colon - s) : n;

	if (cache_url_decode(s, ulen, out->user, sizeof(out->user)) != 0)
		return -1;
	if (colon && cache_url_decode(colon + 1, n - ulen - 1, out->password, sizeof(out->password)) != 0)
		return -1;
	if (!colon && out->user[0]) { /* redis://secret@host: the password alone (Redis < 6) */
		if (snprintf(out->password, sizeof(out->password), "%s", out->user) < 0)
			return -1;
		out->user[0] = '\0';
	}
	return 0;
}

/* host[:port], host a name, an IPv4 address or [IPv6]. */
static int cache_url_hostport(const char *s, size_t n, struct cache_url *out, const char **why)
{
	const char *end = s + n, *h = s, *he, *p;

	if (n > 0 && *s == '[') {
		he = memchr(s, ']', n);
		if (he == NULL)
			return cache_url_fail(why, "REDIS_URL: '[' without ']' around the IPv6 address");
		h = s + 1;
		p = he + 1;
	} else {
		he = memchr(s, ':', n);
		if (he == NULL)
			he = end;
		p = he;
	}
	if (he == h || (size_t)(he - h) >= sizeof(out->host))
		return cache_url_fail(why, "REDIS_URL: no host, or a host name too long");
	for (const char *c = h; c < he; c++)
		if (!isalnum((unsigned char)*c) && !strchr(".-_:", *c))
			return cache_url_fail(why, "REDIS_URL: the host has a character a host name cannot");
	memcpy(out->host, h, (size_t)(he - h));
	out->host[he - h] = '\0';
	if (p < end && (*p != ':' || cache_url_num(p + 1, (size_t)(end - p - 1), 1, 65535, &out->port) != 0))
		return cache_url_fail(why, "REDIS_URL: the port must be a number from 1 to 65535");
	return 0;
}

static int cache_url_tcp(const char *s, struct cache_url *out, const char **why)
{
	const char *slash = strchr(s, '/'), *end = slash ? slash : s + strlen(s), *at = NULL;

	for (const char *c = s; c < end; c++)
		if (*c == '@')
			at = c;
	if (at && cache_url_userinfo(s, (size_t)(at - s), out) != 0)
		return cache_url_fail(why, "REDIS_URL: the user or password is too long or badly escaped");
	if (cache_url_hostport(at ? at + 1 : s, (size_t)(end - (at ? at + 1 : s)), out, why) != 0)
		return -1;
	if (slash && slash[1] != '\0' && cache_url_num(slash + 1, strlen(slash + 1), 0, 9999, &out->db) != 0)
		return cache_url_fail(why, "REDIS_URL: the database after '/' must be a number");
	return 0;
}

static int cache_url_unix(const char *s, struct cache_url *out, const char **why)
{
	const char *q;
	size_t n;

	if (strncmp(s, "//", 2) == 0)
		s += 2; /* unix:///path */
	q = strchr(s, '?');
	n = q ? (size_t)(q - s) : strlen(s);
	if (n == 0 || s[0] != '/' || n >= sizeof(out->path))
		return cache_url_fail(why, "REDIS_URL: unix: needs an absolute socket path (at most 107 bytes)");
	memcpy(out->path, s, n);
	out->path[n] = '\0';
	if (q && (strncmp(q, "?db=", 4) != 0 || cache_url_num(q + 4, strlen(q + 4), 0, 9999, &out->db) != 0))
		return cache_url_fail(why, "REDIS_URL: after the socket path only ?db=N is understood");
	return 0;
}

int cache_url_parse(const char *url, struct cache_url *out, const char **why)
{
	memset(out, 0, sizeof(*out));
	out->port = 6379;
	*why = NULL;
	if (url == NULL || *url == '\0')
		return cache_url_fail(why, "REDIS_URL is empty");
	if (strncmp(url, "unix:", 5) == 0)
		return cache_url_unix(url + 5, out, why);
	if (strncmp(url, "redis://", 8) == 0)
		return cache_url_tcp(url + 8, out, why);
	if (strncmp(url, "rediss://", 9) == 0)
		return cache_url_fail(why, "REDIS_URL: rediss:// (TLS) is not supported; use redis:// on a "
					   "private network, or a local TLS tunnel");
	return cache_url_fail(why, "REDIS_URL must be redis://[[user]:password@]host[:port][/db] or "
				   "unix:/path");
}
