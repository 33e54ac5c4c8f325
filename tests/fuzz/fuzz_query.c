/* Query strings: ctx_init, ctx_parse_query, ctx_query, ctx_reset, and the handlers' readers
 * of them (req_query_unit/page/bool, the ride history's cursor). Input: QUERY_STRING. */
#include "ctx.h"
#include "cursor.h"
#include "fuzz.h"
#include "req.h"

static int fuzz_hex(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch |= 0x20;
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* A second decoder, written apart from ctx.c: '+' is a space, %XX a byte, except %00. */
static void fuzz_decode(const char *s, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			out[o++] = ' ';
		} else if (s[i] == '%' && i + 2 < n && fuzz_hex(s[i + 1]) >= 0 &&
			   fuzz_hex(s[i + 2]) >= 0 && !(s[i + 1] == '0' && s[i + 2] == '0')) {
			out[o++] = (char)(fuzz_hex(s[i + 1]) * 16 + fuzz_hex(s[i + 2]));
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
}

/* Each '&'-separated non-empty piece is one parameter, in order, up to CTX_QUERY_MAX. */
static void fuzz_check_parse(const struct ctx *c, const char *qs, char *tmp)
{
	int k = 0;

	FUZZ_ASSERT(c->nquery >= 0 && c->nquery <= CTX_QUERY_MAX);
	for (const char *p = qs; *p;) {
		size_t n = strcspn(p, "&"), nlen;
		const char *eq;

		if (n == 0) {
			p++;
			continue;
		}
		if (k == CTX_QUERY_MAX) {
			FUZZ_ASSERT(c->query_overflow);
			return;
		}
		eq = memchr(p, '=', n);
		nlen = eq ? (size_t)(eq - p) : n;
		fuzz_decode(p, nlen, tmp);
		FUZZ_ASSERT(strcmp(c->query[k].name, tmp) == 0);
		fuzz_decode(eq ? eq + 1 : "", eq ? n - nlen - 1 : 0, tmp);
		FUZZ_ASSERT(strcmp(c->query[k].value, tmp) == 0);
		k++;
		p += n;
	}
	FUZZ_ASSERT(k == c->nquery && !c->query_overflow);
}

/* ctx_query gives the first parameter of a name. */
static void fuzz_check_lookup(const struct ctx *c)
{
	for (int i = 0; i < c->nquery; i++) {
		int first = 0;

		while (strcmp(c->query[first].name, c->query[i].name) != 0)
			first++;
		FUZZ_ASSERT(ctx_query(c, c->query[i].name) == c->query[first].value);
	}
}

/* What the list handlers and the ride history read from the query. */
static void fuzz_readers(struct ctx *c)
{
	units_unit u;
	long limit = 0, offset = 0;
	int active;
	char us[24];
	const char *id = NULL, *cur = ctx_query(c, "cursor");

	if (req_query_unit(c, &u) == ERR_OK)
		FUZZ_ASSERT(u == UNITS_KM || u == UNITS_MI);
	if (req_query_page(c, &limit, &offset) == ERR_OK)
		FUZZ_ASSERT(limit >= 1 && limit <= 200 && offset >= 0 && offset <= 100000000);
	if (req_query_bool(c, "active", &active) == ERR_OK)
		FUZZ_ASSERT(active >= -1 && active <= 1);
	if (cur && cursor_parse(cur, us, sizeof us, &id) == 0)
		FUZZ_ASSERT(strlen(us) < sizeof us && id != NULL && strlen(id) == 36);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *qs = fuzz_cstr(data, size);
	char *tmp = malloc(size + 1);
	struct ctx c;

	FUZZ_ASSERT(tmp != NULL);
	ctx_init(&c);
	ctx_parse_query(&c, qs);
	fuzz_check_parse(&c, qs, tmp);
	fuzz_check_lookup(&c);
	fuzz_readers(&c);
	ctx_reset(&c);
	FUZZ_ASSERT(c.nquery == 0 && c.query_buf == NULL && c.err_details == NULL);
	FUZZ_ASSERT(ctx_query(&c, "limit") == NULL);
	free(tmp);
	free(qs);
	return 0;
}
