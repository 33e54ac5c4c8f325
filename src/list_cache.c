/* The list cache (include/list_cache.h): keys, stored values, and one request's lookup. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cache.h"
#include "db_cache.h"
#include "jtext.h"
#include "list_cache.h"


static struct {
	int on;
	char build[40];
} lc;

void list_cache_setup(int on)
{
	struct stat st;

	lc.on = on;
	/* Another binary (a deploy, a rebuild) may write other JSON: its own keys. */
	if (stat("/proc/self/exe", &st) != 0 ||
	    snprintf(lc.build, sizeof(lc.build), "%lx%lx", (unsigned long)st.st_mtime,
		     (unsigned long)st.st_size) >= (int)sizeof(lc.build))
		snprintf(lc.build, sizeof(lc.build), "0");
}

int list_cache_key(char *buf, size_t size, const char *build, const char *user,
		   const struct list_cache_query *q)
{
	int n = snprintf(buf, size, "vs:list:%s:%s:%c:%s:%ld:%ld:%d", build, user,
			 q->kind == LIST_CACHE_BIKES ? 'b' : 'p', units_name(q->unit), q->limit,
			 q->offset, q->flag);

	return n < 0 || (size_t)n >= size ? -1 : n;
}

/* "<gen>\n<total>\n<body>" */
int list_cache_value_parse(const char *v, size_t len, const char *gen, long *total, size_t *body)
{
	size_t glen = strlen(gen), i;
	long t = 0;

	if (glen == 0 || len < glen + 3 || memcmp(v, gen, glen) != 0 || v[glen] != '\n')
		return 0;
	for (i = glen + 1; i < len && v[i] >= '0' && v[i] <= '9' && i - glen <= 18; i++)
		t = t * 10 + (v[i] - '0');
	if (i == glen + 1 || i >= len || v[i] != '\n')
		return 0;
	*total = t;
	*body = i + 1;
	return 1;
}

static void list_cache_reply_release(void *reply)
{
	cache_reply_free(reply);
}

/* The stored answer as c->out, the reply itself holding the text (no copy). */
static int list_cache_hit(struct ctx *c, struct cache_reply *v, const char *gen)
{
	size_t len, body;
	long total;
	const char *s = cache_reply_str(v, &len);

	if (list_cache_value_parse(s, len, gen, &total, &body) != 1) {
		cache_reply_free(v);
		return 0;
	}
	c->out = jtext_raw(s + body, len - body, list_cache_reply_release, v);
	if (c->out == NULL)
		return 0;
	c->total_count = total;
	return 1;
}

err_t list_cache_lookup(struct ctx *c, struct list_cache *l, const struct list_cache_query *q,
			int *hit)
{
	struct cache_reply *v = NULL;
	int n, got;
	err_t rc;

	*hit = 0;
	l->store = 0;
	l->gen[0] = '\0';
	if (!lc.on || c->id.sub[0] == '\0' ||
	    (n = list_cache_key(l->key, sizeof(l->key), lc.build, c->id.sub, q)) < 0)
		return ERR_OK;
	l->key_len = (size_t)n;
	/* Resting after a failure, or it just failed: the database answers, as without a cache. */
	if (cache_get_send(l->key, l->key_len, &c->log) != 0)
		return ERR_OK;
	rc = db_cache_gen(&c->db, l->gen, sizeof(l->gen));
	/* Read even after a database error: the connection stays in step with its answers. */
	got = cache_get_wait(&v, &c->log);
	if (rc != ERR_OK || got < 0 || l->gen[0] == '\0') {
		if (v)
			cache_reply_free(v);
		return rc;
	}
	if (got == 1 && list_cache_hit(c, v, l->gen)) {
		*hit = 1;
		return ERR_OK;
	}
	l->store = 1;
	return ERR_OK;
}

void list_cache_store(struct ctx *c, struct list_cache *l)
{
	char head[LIST_CACHE_GEN_MAX + 32];
	size_t len;
	const char *text;
	char *value;
	json_object *raw;
	int h;

	if (!l->store || c->out == NULL || c->total_count < 0)
		return;
	l->store = 0;
	text = json_object_to_json_string_length(c->out, CTX_JSON_FLAGS, &len);
	h = snprintf(head, sizeof(head), "%s\n%ld\n", l->gen, c->total_count);
	if (text == NULL || h < 0 || (size_t)h >= sizeof(head) || len > LIST_CACHE_VALUE_MAX ||
	    (value = malloc((size_t)h + len)) == NULL)
		return;
	memcpy(value, head, (size_t)h);
	memcpy(value + h, text, len);
	(void)cache_set_send(l->key, l->key_len, value, (size_t)h + len, LIST_CACHE_TTL_S, &c->log);
	/* The answer is the text just made: the worker sends it as it is. */
	raw = jtext_raw(value + h, len, free, value);
	if (raw) {
		json_object_put(c->out);
		c->out = raw;
	}
}
