/*
 * Query results to API JSON: numeric distance columns converted to the asked unit, times to
 * RFC 3339 UTC, json/jsonb parsed. Pure functions of a PGresult or a JSON value.
 */
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "db_json.h"

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

/* "2024-01-15 10:00:00.5+00" (ISO, UTC session) -> "2024-01-15T10:00:00.5Z" */
static json_object *db_json_rfc3339(const char *s)
{
	char buf[64];
	size_t len = strlen(s);

	if (len < 19 || len + 2 >= sizeof(buf))
		return json_object_new_string(s);
	memcpy(buf, s, len + 1);
	buf[10] = 'T';
	if (len > 3 && strcmp(buf + len - 3, "+00") == 0) {
		buf[len - 3] = 'Z';
		buf[len - 2] = '\0';
	}
	return json_object_new_string(buf);
}

/* Adds j under name; "a.b" goes into sub-object a as b, so one row can carry a nested object. */
static void db_json_put(json_object *o, const char *name, json_object *j)
{
	const char *dot = strchr(name, '.');
	json_object *sub;
	char head[64];

	if (dot == NULL || (size_t)(dot - name) >= sizeof(head)) {
		json_object_object_add(o, name, j);
		return;
	}
	memcpy(head, name, (size_t)(dot - name));
	head[dot - name] = '\0';
	if (!json_object_object_get_ex(o, head, &sub) || !json_object_is_type(sub, json_type_object)) {
		sub = json_object_new_object();
		json_object_object_add(o, head, sub);
	}
	json_object_object_add(sub, dot + 1, j);
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
		switch (PQftype(res, f)) {
		case DB_OID_BOOL:
			j = json_object_new_boolean(v[0] == 't');
			break;
		case DB_OID_INT2:
		case DB_OID_INT4:
		case DB_OID_INT8:
			j = json_object_new_int64(strtoll(v, NULL, 10));
			break;
		case DB_OID_NUMERIC:
		case DB_OID_FLOAT4:
		case DB_OID_FLOAT8:
			j = db_json_measured(db_json_measure(name), strtod(v, NULL), unit);
			has_distance |= db_json_measure(name) != DB_JSON_PLAIN;
			break;
		case DB_OID_JSON:
		case DB_OID_JSONB:
			j = db_json_parse(v);
			break;
		case DB_OID_TIMESTAMPTZ:
			j = db_json_rfc3339(v);
			break;
		default:
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

