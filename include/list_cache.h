/*
 * The design's list cache: GET /api/bikes and GET /api/parts answered from Redis (cache.h)
 * when the caller's list generation has not changed since the answer was stored.
 *
 * The generation is the database's (sql/functions/85_cache.sql): every transaction that
 * changes what a user's lists show gives the user a new one, in that same transaction,
 * whoever writes. A request reads it in its own snapshot, in the round trip that carries its
 * claims (a pipeline of one statement), while the GET of its key is on its way to Redis; the
 * stored answer is used only when the generation stored with it is that one. So an answer is
 * never older than what the request's snapshot shows, its caller's own writes included,
 * whatever happened to Redis meanwhile. A miss runs the list as without the cache (a second
 * round trip) and stores it for LIST_CACHE_TTL_S. Redis down or slow: the list comes from the
 * database, as without the cache.
 *
 * Key: vs:list:<build>:<user>:<b|p>:<unit>:<limit>:<offset>:<flag>. Value:
 * "<generation>\n<total>\n<body>", the body exactly as the worker sends it. <build> names the
 * binary, so an answer stored by another release (another JSON) is never used.
 */
#ifndef VS_LIST_CACHE_H
#define VS_LIST_CACHE_H

#include <stddef.h>

#include "ctx.h"
#include "units.h"

#define LIST_CACHE_TTL_S 300                /* the design: five minutes */
#define LIST_CACHE_KEY_MAX 192
#define LIST_CACHE_GEN_MAX 128 /* epoch.gen.active-bike: three uuids */
#define LIST_CACHE_VALUE_MAX (4u << 20)     /* bigger answers are not stored */

enum list_cache_kind { LIST_CACHE_BIKES, LIST_CACHE_PARTS };

/* A list request, normalized: what its answer depends on besides the caller. */
struct list_cache_query {
	enum list_cache_kind kind;
	units_unit unit;
	long limit, offset;
	int flag; /* bikes: include_parts (0, 1); parts: installed (-1 any, 0, 1) + 3 * status
		   * (0 none, 1 installed, 2 stored, 3 retired) */
};

/* One request's use of the cache. */
struct list_cache {
	int store; /* a miss to store once the list is built */
	char key[LIST_CACHE_KEY_MAX];
	size_t key_len;
	char gen[LIST_CACHE_GEN_MAX];
};

/* This process: whether the cache is on (LIST_CACHE, with REDIS_URL set; cache_setup holds
 * the connection), and the build's name for the keys (from the binary's size and time). */
void list_cache_setup(int on);

/* Before the list's own statements. *hit: c->out and c->total_count hold the stored answer
 * (nothing else to do). Otherwise the list is to be built as without the cache, then given to
 * list_cache_store. An error is the generation's read failing (the database's answer). */
err_t list_cache_lookup(struct ctx *c, struct list_cache *l, const struct list_cache_query *q,
			int *hit) WUR;
/* After a miss was built into c->out (and c->total_count): stores it, and makes c->out the
 * text just made, so the worker does not build it twice. */
void list_cache_store(struct ctx *c, struct list_cache *l);

/* Pure parts, unit-tested. The key into buf: its length, or -1 when it does not fit. */
int list_cache_key(char *buf, size_t size, const char *build, const char *user,
		   const struct list_cache_query *q);
/* A stored value: 1 when it is of generation gen, with *total and the body's offset; 0 for a
 * value of another generation or one that is malformed. */
int list_cache_value_parse(const char *v, size_t len, const char *gen, long *total, size_t *body);

#endif
