/*
 * JSON text without a json-c tree. A bike with five parts as a tree is about 150 objects,
 * each a malloc, a hashed and strdup'd key, then a walk to print them and another to free
 * them: two thirds of a worker's instructions on GET /api/bikes/:id. Writing the same bytes
 * straight into one growing buffer costs a fraction of that. The escaping copies json-c's
 * (json_escape_str, json-c 0.16) so an answer is the same whichever way it was made;
 * tests/unit/check_db_json_text.c compares the two.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/printbuf.h>

#include "jtext.h"

#define JTEXT_FIRST_CAP 4096

void jtext_init(struct jtext *t)
{
	memset(t, 0, sizeof(*t));
}

void jtext_free(struct jtext *t)
{
	free(t->buf);
	jtext_init(t);
}

/* Room for n more bytes and the NUL; 0 when there is. */
static int jtext_room(struct jtext *t, size_t n)
{
	size_t cap = t->cap ? t->cap : JTEXT_FIRST_CAP;
	char *b;

	if (t->failed)
		return -1;
	if (n >= ((size_t)-1) / 2 - t->len)
		goto fail;
	if (t->len + n < t->cap)
		return 0;
	while (cap <= t->len + n) {
		if (cap > ((size_t)-1) / 2)
			goto fail;
		cap *= 2;
	}
	b = realloc(t->buf, cap);
	if (b == NULL)
		goto fail;
	t->buf = b;
	t->cap = cap;
	return 0;
fail:
	t->failed = 1;
	return -1;
}

void jtext_mem(struct jtext *t, const char *s, size_t n)
{
	if (jtext_room(t, n) != 0)
		return;
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
}

void jtext_str(struct jtext *t, const char *s)
{
	jtext_mem(t, s, strlen(s));
}

void jtext_char(struct jtext *t, char c)
{
	jtext_mem(t, &c, 1);
}

/* json-c's: the two-character escapes, \u00xx (lower case) below a space, "/" as it is
 * (JSON_C_TO_STRING_NOSLASHESCAPE), every other byte as it is (UTF-8 passes through).
 * Room for the worst case is made once, so the copy itself checks nothing. */
void jtext_string_n(struct jtext *t, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	/* 0: as it is; else the letter after the backslash ('u': \u00xx) */
	static const char esc[256] = {
		['\b'] = 'b', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't', ['\f'] = 'f', ['"'] = '"',
		['\\'] = '\\', [0] = 'u', [1] = 'u', [2] = 'u', [3] = 'u', [4] = 'u', [5] = 'u',
		[6] = 'u', [7] = 'u', [11] = 'u', [14] = 'u', [15] = 'u', [16] = 'u', [17] = 'u',
		[18] = 'u', [19] = 'u', [20] = 'u', [21] = 'u', [22] = 'u', [23] = 'u', [24] = 'u',
		[25] = 'u', [26] = 'u', [27] = 'u', [28] = 'u', [29] = 'u', [30] = 'u', [31] = 'u'};
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	char *o;

	if (len > ((size_t)-1) / 8) {
		t->failed = 1;
		return;
	}
	if (jtext_room(t, 6 * len + 2) != 0)
		return;
	o = t->buf + t->len;
	*o++ = '"';
	while (p < end) {
		const unsigned char *run = p;
		char e;

		while (p < end && esc[*p] == 0)
			p++;
		memcpy(o, run, (size_t)(p - run));
		o += p - run;
		if (p == end)
			break;
		e = esc[*p];
		*o++ = '\\';
		*o++ = e;
		if (e == 'u') {
			memcpy(o, "00", 2);
			o[2] = hex[*p >> 4];
			o[3] = hex[*p & 0xf];
			o += 4;
		}
		p++;
	}
	*o++ = '"';
	*o = '\0';
	t->len = (size_t)(o - t->buf);
}

void jtext_string(struct jtext *t, const char *s)
{
	jtext_string_n(t, s, strlen(s));
}

void jtext_key(struct jtext *t, const char *key, int first)
{
	if (!first)
		jtext_char(t, ',');
	jtext_string(t, key);
	jtext_char(t, ':');
}

void jtext_value(struct jtext *t, json_object *v)
{
	size_t n;
	const char *s;

	if (v == NULL) {
		jtext_mem(t, "null", 4);
		return;
	}
	s = json_object_to_json_string_length(v, JTEXT_FLAGS, &n);
	if (s == NULL)
		t->failed = 1;
	else
		jtext_mem(t, s, n);
}

struct jtext_held {
	const char *text;
	size_t len;
	void (*release)(void *);
	void *owner;
};

static int jtext_raw_print(json_object *jso, struct printbuf *pb, int level, int flags)
{
	const struct jtext_held *h = json_object_get_userdata(jso);

	(void)level;
	(void)flags;
	return h->len > (size_t)0x7fffffff ? -1 : printbuf_memappend(pb, h->text, (int)h->len);
}

static void jtext_raw_free(json_object *jso, void *userdata)
{
	struct jtext_held *h = userdata;

	(void)jso;
	h->release(h->owner);
	free(h);
}

json_object *jtext_raw(const char *text, size_t len, void (*release)(void *), void *owner)
{
	struct jtext_held *h = malloc(sizeof(*h));
	/* Any type would do: the serializer replaces its printing. An array is never mistaken
	 * for an object whose members a caller might look up. */
	json_object *o = h ? json_object_new_array() : NULL;

	if (o == NULL) {
		free(h);
		release(owner);
		return NULL;
	}
	*h = (struct jtext_held){text, len, release, owner};
	json_object_set_serializer(o, jtext_raw_print, h, jtext_raw_free);
	return o;
}

json_object *jtext_json(struct jtext *t)
{
	json_object *o = NULL;

	if (!t->failed && t->buf)
		o = jtext_raw(t->buf, t->len, free, t->buf);
	else
		free(t->buf);
	jtext_init(t);
	return o;
}
