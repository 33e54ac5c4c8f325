/*
 * Query results to API JSON: numeric distance columns converted to the asked unit, times to
 * RFC 3339 UTC, json/jsonb parsed. Pure functions of a PGresult or a JSON value.
 */
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "db_json.h"
#include "jtext.h"

/* What a numeric column measures: a distance (stored in km, shown in the asked unit), an
 * elevation (stored in m, shown in m or ft) or anything else. A nested name ("status.distance")
 * is judged by its last part. */
enum db_json_measure { DB_JSON_PLAIN, DB_JSON_DISTANCE, DB_JSON_ELEVATION, DB_JSON_PER_DISTANCE };

static enum db_json_measure db_json_measure(const char *col)
{
	static const char *const names[] = {
		"total_kilometrage", "initial_kilometrage", "distance", "kilometrage_since_last_maintenance",
		"replacement_threshold", "credited_distance", "every_distance", NULL};
	const char *dot = strrchr(col, '.');

	if (dot)
		col = dot + 1;
	if (strcmp(col, "elevation_gain") == 0)
		return DB_JSON_ELEVATION;
	if (strcmp(col, "cost_per_distance") == 0)
		return DB_JSON_PER_DISTANCE;
	for (const char *const *n = names; *n; n++)
		if (strcmp(col, *n) == 0)
			return DB_JSON_DISTANCE;
	return DB_JSON_PLAIN;
}

/* The JSON number of a stored value v (km or m) as the column's measure shows it in unit. */
static json_object *db_json_measured(enum db_json_measure m, double v, units_unit unit)
{
	if (m == DB_JSON_ELEVATION)
		return units_elevation_json(v, unit);
	if (m == DB_JSON_PER_DISTANCE)
		return units_per_distance_json(v, unit);
	return units_json(v, m == DB_JSON_DISTANCE ? unit : UNITS_KM);
}

#define DB_OID_BOOL 16
#define DB_OID_INT8 20
#define DB_OID_INT2 21
#define DB_OID_INT4 23
#define DB_OID_JSON 114
#define DB_OID_FLOAT4 700
#define DB_OID_FLOAT8 701
#define DB_OID_TIMESTAMPTZ 1184
#define DB_OID_NUMERIC 1700
#define DB_OID_JSONB 3802

/* How a column's value is shown, by its type: the one mapping the tree (db_json_row) and the
 * text (db_json_value_text) both follow. */
enum db_json_kind { DB_JSON_BOOL, DB_JSON_INT, DB_JSON_NUMBER, DB_JSON_JSON, DB_JSON_TIME, DB_JSON_STRING };

static enum db_json_kind db_json_kind(Oid type)
{
	switch (type) {
	case DB_OID_BOOL:
		return DB_JSON_BOOL;
	case DB_OID_INT2:
	case DB_OID_INT4:
	case DB_OID_INT8:
		return DB_JSON_INT;
	case DB_OID_NUMERIC:
	case DB_OID_FLOAT4:
	case DB_OID_FLOAT8:
		return DB_JSON_NUMBER;
	case DB_OID_JSON:
	case DB_OID_JSONB:
		return DB_JSON_JSON;
	case DB_OID_TIMESTAMPTZ:
		return DB_JSON_TIME;
	default:
		return DB_JSON_STRING;
	}
}

#define DB_JSON_TIME_MAX 64

/* "2024-01-15 10:00:00.5+00" (ISO, UTC session) -> "2024-01-15T10:00:00.5Z", in buf; s as it
 * is when it is not of that shape. */
static const char *db_json_rfc3339_text(const char *s, char buf[DB_JSON_TIME_MAX])
{
	size_t len = strlen(s);

	if (len < 19 || len + 2 >= DB_JSON_TIME_MAX)
		return s;
	memcpy(buf, s, len + 1);
	buf[10] = 'T';
	if (len > 3 && strcmp(buf + len - 3, "+00") == 0) {
		buf[len - 3] = 'Z';
		buf[len - 2] = '\0';
	}
	return buf;
}

static json_object *db_json_rfc3339(const char *s)
{
	char buf[DB_JSON_TIME_MAX];

	return json_object_new_string(db_json_rfc3339_text(s, buf));
}

#define DB_JSON_HEAD_MAX 64
/* Columns db_json_text_ok looks at: more are refused (ours have at most 20). */
#define DB_JSON_TEXT_COLS 64

/* The length of name's head and its dot when it nests ("a.b": 2), or 0 when it does not:
 * the one rule db_json_put and the text follow. */
static size_t db_json_head(const char *name)
{
	const char *dot = strchr(name, '.');

	return dot && (size_t)(dot - name) < DB_JSON_HEAD_MAX ? (size_t)(dot - name) + 1 : 0;
}

/* Adds j under name; "a.b" goes into sub-object a as b, so one row can carry a nested object. */
static void db_json_put(json_object *o, const char *name, json_object *j)
{
	size_t n = db_json_head(name);
	json_object *sub;
	char head[DB_JSON_HEAD_MAX];

	if (n == 0) {
		json_object_object_add(o, name, j);
		return;
	}
	memcpy(head, name, n - 1);
	head[n - 1] = '\0';
	if (!json_object_object_get_ex(o, head, &sub) || !json_object_is_type(sub, json_type_object)) {
		sub = json_object_new_object();
		json_object_object_add(o, head, sub);
	}
	json_object_object_add(sub, name + n, j);
}

/*
 * json-c reads an integer beyond 64 bits as INT64_MIN/UINT64_MAX (jsonb stores -9.5e18 as
 * -9500000000000000000, and a legacy row may hold any number). Such an integer is read as a
 * double that keeps its text, which json-c then writes out verbatim: it comes back as sent.
 */
static int db_json_big_int(const char *p, size_t n)
{
	const char *limit = "18446744073709551615";

	if (n > 0 && *p == '-') {
		p++;
		n--;
		limit = "9223372036854775808";
	}
	if (n == 0 || strspn(p, "0123456789") < n)
		return 0; /* not an integer */
	return n > strlen(limit) || (n == strlen(limit) && strncmp(p, limit, n) > 0);
}

/* Finds the number tokens of text (outside strings) that are big integers; with out, copies
 * text there, each of them marked with "e0" (json-c then keeps its text). Returns the count. */
static size_t db_json_mark(const char *text, char *out)
{
	size_t count = 0, o = 0;

	for (const char *p = text; *p;) {
		size_t n = 1;

		if (*p == '"') {
			while (p[n] && p[n] != '"')
				n += p[n] == '\\' && p[n + 1] ? 2 : 1;
			n += p[n] == '"';
		} else if (*p == '-' || (*p >= '0' && *p <= '9')) {
			n = strspn(p, "0123456789+-.eE");
		}
		if (out)
			memcpy(out + o, p, n);
		o += n;
		if (n > 1 && p[0] != '"' && db_json_big_int(p, n)) {
			count++;
			if (out)
				memcpy(out + o, "e0", 2);
			o += 2;
		}
		p += n;
	}
	if (out)
		out[o] = '\0';
	return count;
}

/* Takes the "e0" mark off the doubles db_json_mark made, so their text is the stored one. */
static json_object *db_json_unmark(json_object *v)
{
	const char *t;
	size_t n;

	if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			json_object *e = json_object_array_get_idx(v, i), *r = db_json_unmark(e);
			if (r != e)
				json_object_array_put_idx(v, i, r);
		}
	} else if (json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, key, val)
		{
			json_object *r = db_json_unmark(val);
			if (r != val)
				json_object_object_add(v, key, r); /* replaces val in place */
		}
	} else if (json_object_is_type(v, json_type_double)) {
		t = json_object_to_json_string(v);
		n = strlen(t);
		if (n > 2 && strcmp(t + n - 2, "e0") == 0 && db_json_big_int(t, n - 2)) {
			char *plain = strndup(t, n - 2);
			json_object *r = NULL;

			if (plain)
				r = json_object_new_double_s(json_object_get_double(v), plain);
			free(plain);
			if (r)
				return r;
		}
	}
	return v;
}

/* One tokener for the process, reset before each use: a new one costs a 3 KiB allocation
 * (its depth stack) for every JSON column of every row. */
static json_tokener *db_json_tokener(void)
{
	static json_tokener *tok;

	if (tok == NULL)
		tok = json_tokener_new_ex(BODY_MAX_DEPTH + 32);
	else
		json_tokener_reset(tok);
	return tok;
}

json_object *db_json_parse(const char *text)
{
	json_tokener *tok;
	json_object *o;
	size_t marks;
	char *copy;

	if (strcmp(text, "{}") == 0) /* most metadata */
		return json_object_new_object();
	tok = db_json_tokener();
	marks = db_json_mark(text, NULL);
	copy = marks ? malloc(strlen(text) + 2 * marks + 1) : NULL;
	if (tok == NULL || (marks && copy == NULL)) {
		free(copy);
		return NULL;
	}
	if (copy)
		(void)db_json_mark(text, copy);
	o = json_tokener_parse_ex(tok, copy ? copy : text, (int)strlen(copy ? copy : text));
	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		o = NULL;
	}
	if (o && copy) {
		json_object *r = db_json_unmark(o);
		if (r != o) {
			json_object_put(o);
			o = r;
		}
	}
	json_tokener_reset(tok); /* holds nothing of this text until the next use */
	free(copy);
	return o;
}

json_object *db_json_row(const PGresult *res, int row, units_unit unit)
{
	json_object *o = json_object_new_object();
	int nf = PQnfields(res);
	int has_distance = 0;

	if (o == NULL)
		return NULL;
	for (int f = 0; f < nf; f++) {
		const char *name = PQfname(res, f);
		const char *v = PQgetvalue(res, row, f);
		json_object *j = NULL;

		if (name[0] == '_')
			continue; /* ours, not the client's: a page's "_total" (db_list_counted) */
		if (PQgetisnull(res, row, f)) {
			db_json_put(o, name, NULL);
			continue;
		}
		switch (db_json_kind(PQftype(res, f))) {
		case DB_JSON_BOOL:
			j = json_object_new_boolean(v[0] == 't');
			break;
		case DB_JSON_INT:
			j = json_object_new_int64(strtoll(v, NULL, 10));
			break;
		case DB_JSON_NUMBER:
			j = db_json_measured(db_json_measure(name), strtod(v, NULL), unit);
			has_distance |= db_json_measure(name) != DB_JSON_PLAIN;
			break;
		case DB_JSON_JSON:
			j = db_json_parse(v);
			break;
		case DB_JSON_TIME:
			j = db_json_rfc3339(v);
			break;
		case DB_JSON_STRING:
			j = json_object_new_string(v);
			break;
		}
		db_json_put(o, name, j);
	}
	/* Every object that carries a distance says in which unit. */
	if (has_distance)
		json_object_object_add(o, "unit", json_object_new_string(units_name(unit)));
	return o;
}

void db_json_api(json_object *o, units_unit unit)
{
	int has_distance = 0;

	if (json_object_is_type(o, json_type_array)) {
		size_t n = json_object_array_length(o);
		for (size_t i = 0; i < n; i++)
			db_json_api(json_object_array_get_idx(o, i), unit);
		return;
	}
	if (!json_object_is_type(o, json_type_object))
		return;
	json_object_object_foreach(o, key, val)
	{
		size_t klen = strlen(key);

		/* metadata is the user's own JSON: never rewritten. */
		if (val == NULL || strcmp(key, "metadata") == 0)
			continue;
		if (db_json_measure(key) != DB_JSON_PLAIN &&
		    (json_object_is_type(val, json_type_double) || json_object_is_type(val, json_type_int))) {
			/* Replacing the value of the key being visited is safe in json-c. */
			json_object_object_add(o, key, db_json_measured(db_json_measure(key),
									json_object_get_double(val), unit));
			has_distance = 1;
		} else if (klen > 3 && strcmp(key + klen - 3, "_at") == 0 &&
			   json_object_is_type(val, json_type_string)) {
			const char *s = json_object_get_string(val);
			size_t slen = strlen(s);
			char buf[64];
			if (slen > 6 && slen < sizeof(buf) && strcmp(s + slen - 6, "+00:00") == 0) {
				memcpy(buf, s, slen - 6);
				buf[slen - 6] = 'Z';
				buf[slen - 5] = '\0';
				json_object_object_add(o, key, json_object_new_string(buf));
			}
		} else {
			db_json_api(val, unit);
		}
	}
	if (has_distance)
		json_object_object_add(o, "unit", json_object_new_string(units_name(unit)));
}

json_object *db_json_rows(const PGresult *res, units_unit unit)
{
	json_object *a = json_object_new_array();
	int n = PQntuples(res);

	for (int i = 0; a && i < n; i++)
		json_object_array_add(a, db_json_row(res, i, unit));
	return a;
}

/*
 * The same answers as text (include/jtext.h): db_json_row's object written out under
 * JTEXT_FLAGS, byte for byte, without the tree. tests/unit/check_db_json_text.c holds the
 * two side by side.
 */

/* 1 when key[0..len) is "unit" or one of extra: members the tree would overwrite in place
 * (the unit it adds, the caller's own members) where the text would say them twice. */
static int db_json_reserved(const char *key, size_t len, const char *const *extra)
{
	if (len == 4 && memcmp(key, "unit", 4) == 0)
		return 1;
	for (; extra && *extra; extra++)
		if (strlen(*extra) == len && memcmp(key, *extra, len) == 0)
			return 1;
	return 0;
}

int db_json_text_ok(const PGresult *res, const char *const *extra)
{
	int nf = PQnfields(res);
	struct {
		const char *name;
		size_t len; /* of its key at the row's level: "a" of "a.b" */
		int nested;
	} k[DB_JSON_TEXT_COLS];

	if (nf > DB_JSON_TEXT_COLS)
		return 0;
	for (int f = 0; f < nf; f++) {
		size_t head = db_json_head(k[f].name = PQfname(res, f));
		k[f].nested = head != 0;
		k[f].len = head ? head - 1 : strlen(k[f].name);
		if (k[f].name[0] != '_' && db_json_reserved(k[f].name, k[f].len, extra))
			return 0;
	}
	for (int f = 0; f < nf; f++) {
		int apart = 0; /* a column of another key came after f */

		if (k[f].name[0] == '_')
			continue;
		for (int g = f + 1; g < nf; g++) {
			if (k[g].name[0] == '_')
				continue;
			if (k[g].len != k[f].len || memcmp(k[g].name, k[f].name, k[f].len) != 0) {
				apart = 1;
				continue;
			}
			/* The tree keeps the last of two equal keys where the first was, and puts
			 * "a.x" in an "a" made earlier: one nested object's columns side by side. */
			if (apart || !k[f].nested || !k[g].nested || strcmp(k[f].name, k[g].name) == 0)
				return 0;
		}
	}
	return 1;
}

/* A canonical integer's text is json-c's print of its value: copied as it is ("-0" is not). */
static int db_json_plain_int(const char *v)
{
	const char *d = v + (*v == '-');
	size_t n = strspn(d, "0123456789");

	return n > 0 && n < 19 && d[n] == '\0' && (d[0] != '0' || (n == 1 && d == v));
}

static void db_json_value_text(struct jtext *t, const PGresult *res, int row, int f,
			       units_unit unit, int *has_distance)
{
	const char *v = PQgetvalue(res, row, f), *name = PQfname(res, f);
	char buf[DB_JSON_TIME_MAX];
	enum db_json_measure m;
	json_object *j = NULL;

	if (PQgetisnull(res, row, f)) {
		jtext_mem(t, "null", 4);
		return;
	}
	switch (db_json_kind(PQftype(res, f))) {
	case DB_JSON_BOOL:
		jtext_str(t, v[0] == 't' ? "true" : "false");
		return;
	case DB_JSON_INT:
		if (db_json_plain_int(v)) {
			jtext_str(t, v);
			return;
		}
		j = json_object_new_int64(strtoll(v, NULL, 10));
		break;
	case DB_JSON_NUMBER:
		m = db_json_measure(name);
		*has_distance |= m != DB_JSON_PLAIN;
		if (m == DB_JSON_PLAIN || m == DB_JSON_DISTANCE) {
			/* units_json's own text */
			double d = units_from_km(strtod(v, NULL), m == DB_JSON_DISTANCE ? unit : UNITS_KM);
			if (units_format(d, buf, sizeof(buf)) == 0) {
				jtext_str(t, buf);
				return;
			}
		}
		j = db_json_measured(m, strtod(v, NULL), unit);
		break;
	case DB_JSON_JSON:
		if (strcmp(v, "{}") == 0) { /* most metadata */
			jtext_mem(t, "{}", 2);
			return;
		}
		j = db_json_parse(v);
		break;
	case DB_JSON_TIME:
		jtext_string(t, db_json_rfc3339_text(v, buf));
		return;
	case DB_JSON_STRING:
		jtext_string(t, v);
		return;
	}
	jtext_value(t, j);
	json_object_put(j);
}

int db_json_row_text(struct jtext *t, const PGresult *res, int row, units_unit unit, int close)
{
	int nf = PQnfields(res), has_distance = 0, first = 1, in_first = 0;
	const char *group = NULL;
	size_t glen = 0;

	jtext_char(t, '{');
	for (int f = 0; f < nf; f++) {
		const char *name = PQfname(res, f);
		size_t head = db_json_head(name);

		if (name[0] == '_')
			continue;
		if (group && (head == 0 || head != glen || strncmp(name, group, glen) != 0)) {
			jtext_char(t, '}');
			group = NULL;
		}
		if (head && group == NULL) {
			if (!first)
				jtext_char(t, ',');
			jtext_string_n(t, name, head - 1);
			jtext_mem(t, ":{", 2);
			group = name;
			glen = head;
			in_first = 1;
			first = 0;
		}
		if (group) {
			jtext_key(t, name + head, in_first);
			in_first = 0;
		} else {
			jtext_key(t, name, first);
			first = 0;
		}
		db_json_value_text(t, res, row, f, unit, &has_distance);
	}
	if (group)
		jtext_char(t, '}');
	if (has_distance) {
		jtext_key(t, "unit", first);
		jtext_string(t, units_name(unit));
	}
	if (close)
		jtext_char(t, '}');
	return !first;
}

void db_json_rows_text(struct jtext *t, const PGresult *res, units_unit unit)
{
	int n = PQntuples(res);

	jtext_char(t, '[');
	for (int i = 0; i < n; i++) {
		if (i > 0)
			jtext_char(t, ',');
		db_json_row_text(t, res, i, unit, 1);
	}
	jtext_char(t, ']');
}

json_object *db_json_rows_out(const PGresult *res, units_unit unit)
{
	struct jtext t;

	if (!db_json_text_ok(res, NULL))
		return NULL;
	jtext_init(&t);
	db_json_rows_text(&t, res, unit);
	return jtext_json(&t);
}
