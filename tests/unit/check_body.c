/* Unit tests for body.c: request bodies are one JSON object, strict UTF-8, without duplicate
 * keys or numbers jsonb would change; the limits (depth, size, many keys), the member a refused
 * number is reported under, and Content-Type are in check_body_limits.c. Everything parsed
 * is freed, so the suite is clean under valgrind with CK_FORK=no. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"

Suite *body_suite(void); /* run by the unit test driver */

/* Parses a NUL-terminated text (its NUL not included in len). */
static err_t parse(const char *s, int allow_empty, json_object **out, const char **why)
{
	return body_parse(s, strlen(s), allow_empty, out, why);
}

/* Expects s to be refused as ERR_VALIDATION with nothing handed out. */
static void refused(const char *s, size_t len, int allow_empty)
{
	json_object *o = (json_object *)&o; /* not NULL: body_parse must clear it */
	const char *why = NULL;
	err_t rc = body_parse(s, len, allow_empty, &o, &why);

	if (rc == ERR_OK)
		json_object_put(o);
	ck_assert_msg(rc == ERR_VALIDATION, "body [%.*s] gave %d, want ERR_VALIDATION",
		      (int)(len > 60 ? 60 : len), s, (int)rc);
	ck_assert_ptr_null(o);
	ck_assert_ptr_nonnull(why);
	ck_assert_uint_gt(strlen(why), 0);
}

/* ---- empty bodies ---- */

START_TEST(test_empty_allowed)
{
	json_object *o = (json_object *)&o;
	const char *why = NULL;

	ck_assert_int_eq(body_parse("", 0, 1, &o, &why), ERR_OK);
	ck_assert_ptr_null(o);
}
END_TEST

START_TEST(test_empty_not_allowed)
{
	json_object *o = (json_object *)&o;
	const char *why = NULL;

	ck_assert_int_eq(body_parse("", 0, 0, &o, &why), ERR_VALIDATION);
	ck_assert_ptr_null(o);
	ck_assert_str_eq(why, "body must be a JSON object");
}
END_TEST

START_TEST(test_whitespace_only)
{
	json_object *o = (json_object *)&o;
	const char *why = NULL;

	ck_assert_int_eq(parse(" \t\r\n  ", 1, &o, &why), ERR_OK);
	ck_assert_ptr_null(o);
	o = (json_object *)&o;
	ck_assert_int_eq(parse(" \t\r\n  ", 0, &o, &why), ERR_VALIDATION);
	ck_assert_ptr_null(o);
	ck_assert_str_eq(why, "body must be a JSON object");
}
END_TEST

/* ---- objects ---- */

START_TEST(test_object_ok)
{
	json_object *o = NULL, *v = NULL;
	const char *why = NULL;

	ck_assert_int_eq(parse("{}", 0, &o, &why), ERR_OK);
	ck_assert_ptr_nonnull(o);
	ck_assert(json_object_is_type(o, json_type_object));
	ck_assert_int_eq(json_object_object_length(o), 0);
	json_object_put(o);

	o = NULL;
	ck_assert_int_eq(parse("  {\"name\": \"Röad\", \"n\": 12.5, \"m\": {\"k\": [1, 2]}}\r\n", 1,
			       &o, &why),
			 ERR_OK);
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(json_object_object_length(o), 3);
	ck_assert(json_object_object_get_ex(o, "name", &v));
	ck_assert_str_eq(json_object_get_string(v), "R\xc3\xb6" "ad");
	ck_assert(json_object_object_get_ex(o, "n", &v));
	ck_assert_double_eq(json_object_get_double(v), 12.5);
	ck_assert(json_object_object_get_ex(o, "m", &v));
	ck_assert(json_object_is_type(v, json_type_object));
	json_object_put(o);
}
END_TEST

START_TEST(test_object_escapes)
{
	json_object *o = NULL, *v = NULL;
	const char *why = NULL;

	/* escaped code points, including a surrogate pair, come out as UTF-8 */
	ck_assert_int_eq(parse("{\"s\":\"\\u00e9\\ud83d\\udeb2\\n\"}", 0, &o, &why), ERR_OK);
	ck_assert(json_object_object_get_ex(o, "s", &v));
	ck_assert_str_eq(json_object_get_string(v), "\xc3\xa9\xf0\x9f\x9a\xb2\n");
	json_object_put(o);
}
END_TEST

/* json-c would store U+FFFD for a lone surrogate, changing the value: refused, as jsonb does. */
START_TEST(test_lone_surrogate_refused)
{
	static const char *const bad[] = {"{\"s\":\"\\ud800\"}", "{\"s\":\"\\udc00\"}",
		"{\"s\":\"\\ud83dx\"}", "{\"s\":\"\\ud83d\\u0041\"}", "{\"\\udfff\":1}",
		"{\"s\":\"\\ud83d\\ud83d\"}", NULL};
	json_object *o = NULL;
	const char *why = NULL;

	for (const char *const *b = bad; *b; b++) {
		ck_assert_msg(parse(*b, 0, &o, &why) == ERR_VALIDATION, "%s accepted", *b);
		ck_assert_ptr_null(o);
		ck_assert_str_eq(why, "body has a lone UTF-16 surrogate escape");
	}
	/* the boundaries of the two halves, paired, are fine */
	ck_assert_int_eq(parse("{\"s\":\"\\udbff\\udfff\\ud800\\udc00\\ud7ff\\ue000\"}", 0, &o, &why),
			 ERR_OK);
	json_object_put(o);
}
END_TEST

/* ---- not an object ---- */

START_TEST(test_not_object)
{
	static const char *const bodies[] = {"[]", "[{}]", "1", "-2.5", "\"text\"", "null",
					     "true", "false", " [ 1 ] "};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		refused(bodies[i], strlen(bodies[i]), 0);
		refused(bodies[i], strlen(bodies[i]), 1); /* allow_empty does not matter */
	}
}
END_TEST

START_TEST(test_not_object_message)
{
	json_object *o = NULL;
	const char *why = NULL;

	ck_assert_int_eq(parse("[1,2]", 0, &o, &why), ERR_VALIDATION);
	ck_assert_str_eq(why, "body must be a JSON object");
	ck_assert_int_eq(parse("\"x\"", 0, &o, &why), ERR_VALIDATION);
	ck_assert_str_eq(why, "body must be a JSON object");
}
END_TEST

/* ---- malformed ---- */

START_TEST(test_trailing_garbage)
{
	json_object *o = NULL;
	const char *why = NULL;

	ck_assert_int_eq(parse("{} x", 0, &o, &why), ERR_VALIDATION);
	ck_assert_ptr_null(o);
	ck_assert_str_eq(why, "body is not valid JSON");
	refused("{}{}", 4, 0);
	refused("{} {}", 5, 0);
	refused("{\"a\":1}]", 8, 0);
	refused("{\"a\":1},", 8, 0);
	refused("{\"a\":1}\0", 8, 0); /* a NUL inside the declared length */
	/* trailing whitespace is fine */
	ck_assert_int_eq(parse("{\"a\":1}  \n\t", 0, &o, &why), ERR_OK);
	ck_assert_ptr_nonnull(o);
	json_object_put(o);
}
END_TEST

START_TEST(test_truncated_and_malformed)
{
	static const char *const bodies[] = {
		"{", "{\"a\"", "{\"a\":", "{\"a\":1", "{\"a\":\"x}", "{\"a\":1,}", "{a:1}",
		"{\"a\":01}", "{\"a\":0x10}", "{\"a\":.5}", "{\"a\":+1}", "{\"a\":TRUE}",
		"{\"a\":/*c*/1}", "{\"a\":1 // c\n}", "{\"a\":'x'}", "{\"a\" 1}", "{,}",
		"{\"a\":\"\\x41\"}",
	};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		json_object *o = NULL;
		const char *why = NULL;
		err_t rc = parse(bodies[i], 0, &o, &why);
		if (rc == ERR_OK)
			json_object_put(o);
		ck_assert_msg(rc == ERR_VALIDATION, "malformed [%s] gave %d", bodies[i], (int)rc);
		ck_assert_ptr_null(o);
		ck_assert_msg(why && strcmp(why, "body is not valid JSON") == 0,
			      "malformed [%s]: why = %s", bodies[i], why ? why : "(null)");
	}
}
END_TEST

/* Parses each body; returns how many were accepted, listing them (C-escaped) in list. */
static int accepted(const char *const *bodies, size_t n, char *list, size_t len)
{
	size_t used = 0;
	int count = 0;

	list[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		json_object *o = NULL;
		const char *why = NULL;
		err_t rc = parse(bodies[i], 0, &o, &why);
		json_object_put(o); /* freed before any assertion, so a failure leaks nothing */
		if (rc == ERR_VALIDATION)
			continue;
		count++;
		if (used + 8 < len)
			used += (size_t)snprintf(list + used, len - used, "%s[", used ? ", " : "");
		for (const unsigned char *c = (const unsigned char *)bodies[i]; *c && used + 8 < len;
		     c++) {
			int w = (*c < 0x20 || *c >= 0x7f)
					? snprintf(list + used, len - used, "\\x%02x", *c)
					: snprintf(list + used, len - used, "%c", *c);
			if (w > 0 && (size_t)w < len - used)
				used += (size_t)w;
		}
		if (used + 2 < len) {
			list[used++] = ']';
			list[used] = '\0';
		}
	}
	return count;
}

/*
 * Regression (was a bug: src/body.c relying on json-c 0.16's JSON_TOKENER_STRICT, which still accepts
 * the non-JSON literals NaN, Infinity and -Infinity): these bodies are not JSON and must be
 * refused as 400 validation_error. Today body_parse returns ERR_OK; a NaN inside "metadata"
 * then passes valid_object and reaches the database as text PostgreSQL's jsonb rejects.
 */
START_TEST(test_nonfinite_literals_refused)
{
	static const char *const bodies[] = {"{\"d\": NaN}", "{\"d\": Infinity}",
					     "{\"d\": -Infinity}", "{\"m\": {\"x\": NaN}}"};
	char list[2048];
	int n = accepted(bodies, sizeof(bodies) / sizeof(bodies[0]), list, sizeof(list));
	ck_assert_msg(n == 0, "%d of %zu non-JSON bodies accepted, want ERR_VALIDATION: %s",
		      n, sizeof(bodies) / sizeof(bodies[0]), list);
}
END_TEST

/*
 * Regression (was a bug: same cause, lower impact): more non-JSON that json-c's strict mode lets through:
 * a single-quoted key, a number ending in '.', and a raw tab, newline or carriage return
 * inside a string (RFC 8259 requires them escaped; body_utf8_valid lets these three bytes
 * through everywhere, json-c does not check inside strings).
 */
START_TEST(test_lenient_syntax_refused)
{
	static const char *const bodies[] = {"{'a': 1}", "{\"a\": 1.}", "{\"a\": \"x\ty\"}",
					     "{\"a\": \"x\ny\"}", "{\"a\": \"x\ry\"}"};
	char list[2048];
	int n = accepted(bodies, sizeof(bodies) / sizeof(bodies[0]), list, sizeof(list));
	ck_assert_msg(n == 0, "%d of %zu non-JSON bodies accepted, want ERR_VALIDATION: %s",
		      n, sizeof(bodies) / sizeof(bodies[0]), list);
}
END_TEST

START_TEST(test_invalid_utf8)
{
	static const char *const bodies[] = {
		"{\"a\":\"\xff\"}",                 /* never valid */
		"{\"a\":\"\xc3\"}",                 /* truncated sequence */
		"{\"a\":\"\xe2\x82\"}",             /* truncated 3-byte sequence */
		"{\"a\":\"\x80\"}",                 /* lone continuation byte */
		"{\"a\":\"\xf8\x88\x80\x80\x80\"}", /* 5-byte form */
		"{\"\x80\":1}",                     /* in a key */
	};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
		refused(bodies[i], strlen(bodies[i]), 0);

	/* valid multi-byte text is fine, up to U+10FFFF */
	json_object *o = NULL;
	const char *why = NULL;
	ck_assert_int_eq(parse("{\"a\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x9a\xb2\xf4\x8f\xbf\xbf\"}", 0,
			       &o, &why),
			 ERR_OK);
	ck_assert_ptr_nonnull(o);
	json_object_put(o);
}
END_TEST

/*
 * Overlong forms, UTF-16 surrogates and code points above U+10FFFF are not UTF-8 (RFC 3629).
 * json-c 0.16's JSON_TOKENER_VALIDATE_UTF8 checks only the shape of sequences, so these got
 * through before body_utf8_valid; PostgreSQL refuses them ("invalid byte sequence for
 * encoding UTF8"), which turned a 400 into a database error.
 */
START_TEST(test_invalid_utf8_ranges)
{
	static const char *const bodies[] = {
		"{\"a\":\"\xc0\xaf\"}",             /* overlong '/' (2 bytes) */
		"{\"a\":\"\xc1\xbf\"}",             /* overlong (2 bytes) */
		"{\"a\":\"\xe0\x80\xaf\"}",         /* overlong '/' (3 bytes) */
		"{\"a\":\"\xf0\x80\x80\xaf\"}",     /* overlong '/' (4 bytes) */
		"{\"a\":\"\xed\xa0\x80\"}",         /* surrogate U+D800 */
		"{\"a\":\"\xed\xbf\xbf\"}",         /* surrogate U+DFFF */
		"{\"a\":\"\xf4\x90\x80\x80\"}",     /* U+110000 */
		"{\"a\":\"\xf5\x80\x80\x80\"}",     /* lead byte F5 */
	};
	char list[2048];
	int n = accepted(bodies, sizeof(bodies) / sizeof(bodies[0]), list, sizeof(list));
	ck_assert_msg(n == 0, "%d of %zu invalid UTF-8 bodies accepted, want ERR_VALIDATION: %s",
		      n, sizeof(bodies) / sizeof(bodies[0]), list);
}
END_TEST

START_TEST(test_utf8_valid)
{
	static const struct {
		const char *s;
		size_t len;
		int ok;
	} cases[] = {
		{"", 0, 1},
		{"{\"a\": 1}\r\n\t", 11, 1},
		{"\xc3\xa9", 2, 1},                 /* U+00E9 */
		{"\xdf\xbf", 2, 1},                 /* U+07FF */
		{"\xe0\xa0\x80", 3, 1},             /* U+0800 */
		{"\xed\x9f\xbf", 3, 1},             /* U+D7FF */
		{"\xee\x80\x80", 3, 1},             /* U+E000 */
		{"\xef\xbf\xbf", 3, 1},             /* U+FFFF */
		{"\xf0\x90\x80\x80", 4, 1},         /* U+10000 */
		{"\xf4\x8f\xbf\xbf", 4, 1},         /* U+10FFFF */
		{"\x80", 1, 0},                     /* lone continuation */
		{"\xc3", 1, 0},                     /* truncated at the end */
		{"\xe2\x82", 2, 0},
		{"\xf0\x9f\x9a", 3, 0},
		{"\xc3\x28", 2, 0},                 /* bad continuation */
		{"\xc0\xaf", 2, 0},                 /* overlong */
		{"\xc1\xbf", 2, 0},
		{"\xe0\x9f\xbf", 3, 0},
		{"\xf0\x8f\xbf\xbf", 4, 0},
		{"\xed\xa0\x80", 3, 0},             /* surrogates */
		{"\xed\xbf\xbf", 3, 0},
		{"\xf4\x90\x80\x80", 4, 0},         /* above U+10FFFF */
		{"\xf5\x80\x80\x80", 4, 0},
		{"\xff", 1, 0},
		{"a\x01b", 3, 0},                   /* raw control bytes */
		{"a\x1f" "b", 3, 0},
		{"a\0b", 3, 0},                     /* NUL inside the length */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(body_utf8_valid(cases[i].s, cases[i].len) == cases[i].ok,
			      "body_utf8_valid case %zu gave %d, want %d", i,
			      body_utf8_valid(cases[i].s, cases[i].len), cases[i].ok);
	/* only len bytes are read: a bad byte beyond it does not count */
	ck_assert_int_eq(body_utf8_valid("ab\xff", 2), 1);
}
END_TEST

START_TEST(test_nul_escape_refused)
{
	/* PostgreSQL text and jsonb cannot hold U+0000: refused anywhere in the body */
	refused("{\"a\":\"x\\u0000y\"}", strlen("{\"a\":\"x\\u0000y\"}"), 0);
	refused("{\"\\u0000\":1}", strlen("{\"\\u0000\":1}"), 0);
	refused("{\"m\":{\"k\":[\"\\u0000\"]}}", strlen("{\"m\":{\"k\":[\"\\u0000\"]}}"), 0);

	/* other escapes of control characters are fine */
	json_object *o = NULL, *v = NULL;
	const char *why = NULL;
	ck_assert_int_eq(parse("{\"a\":\"\\u0001\\u001f\"}", 0, &o, &why), ERR_OK);
	ck_assert(json_object_object_get_ex(o, "a", &v));
	ck_assert_int_eq(json_object_get_string_len(v), 2);
	json_object_put(o);
}
END_TEST

START_TEST(test_duplicate_keys)
{
	static const char *const dup[] = {
		"{\"a\":1,\"a\":2}",
		"{\"name\":\"x\",\"type\":\"road\",\"name\":\"y\"}",
		"{\"m\":{\"k\":1,\"k\":2}}",
		"{\"l\":[{\"k\":1,\"k\":1}]}",
		"{\"a\\\"\":1,\"a\\\"\":2}", /* keys with an escaped quote */
		"{\"name\":\"a\",\"n\\u0061me\":\"b\"}", /* one key spelled two ways */
	};
	static const char *const fine[] = {
		"{\"a\":{\"a\":1}}",                   /* same key at another level */
		"{\"x\":{\"a\":1},\"y\":{\"a\":2}}",     /* in sibling objects */
		"{\"l\":[{\"a\":1},{\"a\":2}]}",         /* in objects of an array */
		"{\"a\":\"a\",\"b\":\"a:\"}",            /* values equal to keys */
		"{\"a\":1,\"A\":2}",                     /* keys are case-sensitive */
		"{\"a\":[\"a\",\"a\"]}",                 /* array strings are not keys */
	};
	for (size_t i = 0; i < sizeof(dup) / sizeof(dup[0]); i++)
		refused(dup[i], strlen(dup[i]), 0);
	for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
		json_object *o = NULL;
		const char *why = NULL;
		err_t rc = parse(fine[i], 0, &o, &why);
		json_object_put(o);
		ck_assert_msg(rc == ERR_OK, "[%s] refused: %s", fine[i], why ? why : "");
	}
}
END_TEST

/* Forty keys; a duplicate of the first found after the last. */
START_TEST(test_many_keys)
{
	char b[1024];
	size_t n = 0;
	json_object *o = NULL, *v;
	const char *why = NULL;

	b[n++] = '{';
	for (int i = 0; i < 40; i++) {
		int w = snprintf(b + n, sizeof(b) - n, "%s\"k%d\":%d", i ? "," : "", i, i);
		ck_assert(w > 0 && (size_t)w < sizeof(b) - n);
		n += (size_t)w;
	}
	memcpy(b + n, "}", 2);
	ck_assert_int_eq(parse(b, 0, &o, &why), ERR_OK);
	ck_assert_int_eq(json_object_object_length(o), 40);
	ck_assert(json_object_object_get_ex(o, "k39", &v));
	ck_assert_int_eq(json_object_get_int(v), 39);
	json_object_put(o);
	memcpy(b + n, ",\"k0\":0}", 9);
	refused(b, strlen(b), 0);
	ck_assert_int_eq(parse(b, 0, &o, &why), ERR_VALIDATION);
	ck_assert_str_eq(why, "body has a duplicate key");
	ck_assert_ptr_null(o);
}
END_TEST

/* Numbers json-c or jsonb would not keep as written are refused, not changed. */
START_TEST(test_number_range)
{
	static const char *const bad[] = {
		"{\"m\":123456789012345678901234567890}", /* json-c would clamp it */
		"{\"m\":-9223372036854775809}",           /* below int64 */
		"{\"m\":18446744073709551616}",           /* above uint64 */
		"{\"m\":1e20}",                           /* jsonb prints it as a 21-digit integer */
		"{\"m\":-2.5e19}",
		"{\"m\":1e99999}",                        /* exponent beyond numeric */
		/* jsonb prints it as 0.000...1, 302 characters: BODY_NUMBER_DIGITS_MAX (issue 9) */
		"{\"m\":1e-300}",
	};
	static const char *const fine[] = {
		"{\"m\":9223372036854775807}", "{\"m\":-9223372036854775808}",
		"{\"m\":18446744073709551615}", "{\"m\":1.5e18}",
		"{\"m\":0.1}", "{\"m\":-0}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused(bad[i], strlen(bad[i]), 0);
	for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
		json_object *o = NULL;
		const char *why = NULL;
		err_t rc = parse(fine[i], 0, &o, &why);
		json_object_put(o);
		ck_assert_msg(rc == ERR_OK, "[%s] refused: %s", fine[i], why ? why : "");
	}
}
END_TEST

/* Accepted or refused as written: the cases of a table, each a one-member body {"m":[N]}. */
static void numbers(const char *const *list, size_t n, int want_ok)
{
	for (size_t i = 0; i < n; i++) {
		char b[256];
		json_object *o = NULL;
		const char *why = NULL;
		err_t rc;

		ck_assert(snprintf(b, sizeof(b), "{\"m\":[%s]}", list[i]) < (int)sizeof(b));
		rc = parse(b, 0, &o, &why);
		json_object_put(o);
		if (want_ok)
			ck_assert_msg(rc == ERR_OK, "%s refused: %s", list[i], why ? why : "");
		else
			ck_assert_msg(rc == ERR_VALIDATION, "%s accepted, want refused", list[i]);
	}
}

/*
 * Issue 9: a number is never stored much larger than it was sent. jsonb writes numbers out in
 * plain decimal: at most BODY_NUMBER_DIGITS_MAX (40) digits there, counted as PostgreSQL
 * prints them (a leading "0" of a fraction counts; so do the zeros an exponent adds and the
 * fraction digits it keeps: 1.000e-36 is 0.000...1000).
 */
START_TEST(test_number_written_out)
{
	static const char *const bad[] = {
		"1e-40", "0e-40", "1.000e-37", "-1e-40", "1e-9999", "0e-9999", "5E-41",
		"0.1234567890123456789012345678901234567890", /* 41 digits as written */
		"1234567890123456789.012345678901234567890123",
	};
	static const char *const fine[] = {
		"1e-39", "0e-39", "1.000e-36", "-1e-39", "1E2", "1.5e-3", "0.0001e4", "0e9999",
		"0.123456789012345678901234567890123456789", /* 40 digits */
		"1234567890123456789.012345678901234567890", /* 40 digits */
		"12345678901234567890.5", "-0.0", "6.02214076e-23", "1.602176634e-19",
	};
	numbers(bad, sizeof(bad) / sizeof(bad[0]), 0);
	numbers(fine, sizeof(fine) / sizeof(fine[0]), 1);
}
END_TEST

/* An integer as jsonb prints it (no fraction digits) is read back by json-c: 64 bits. */
START_TEST(test_number_integer_in_any_notation)
{
	static const char *const bad[] = {
		"-9.5e18", "-9.223372036854775809e18", "1.8446744073709551616e19", "2e19", "1e39",
		"6.02214076e23", /* 602214076000000000000000 */
	};
	static const char *const fine[] = {
		"9.5e18", "-9.223372036854775808e18", "1.8446744073709551615e19", "1.5e19",
		"-9.5000000000000000000e18", /* -9500000000000000000.0: not an integer there */
		"-92233720368547758090e-1", "184467440737095516160e-1", /* likewise */
	};
	numbers(bad, sizeof(bad) / sizeof(bad[0]), 0);
	numbers(fine, sizeof(fine) / sizeof(fine[0]), 1);
}
END_TEST

Suite *body_suite(void)
{
	Suite *s = suite_create("body");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_empty_allowed);
	tcase_add_test(tc, test_empty_not_allowed);
	tcase_add_test(tc, test_whitespace_only);
	tcase_add_test(tc, test_object_ok);
	tcase_add_test(tc, test_object_escapes);
	tcase_add_test(tc, test_lone_surrogate_refused);
	tcase_add_test(tc, test_not_object);
	tcase_add_test(tc, test_not_object_message);
	tcase_add_test(tc, test_trailing_garbage);
	tcase_add_test(tc, test_truncated_and_malformed);
	tcase_add_test(tc, test_invalid_utf8);
	tcase_add_test(tc, test_invalid_utf8_ranges);
	tcase_add_test(tc, test_utf8_valid);
	tcase_add_test(tc, test_nul_escape_refused);
	tcase_add_test(tc, test_duplicate_keys);
	tcase_add_test(tc, test_many_keys);
	tcase_add_test(tc, test_number_range);
	tcase_add_test(tc, test_number_written_out);
	tcase_add_test(tc, test_number_integer_in_any_notation);
	suite_add_tcase(s, tc);

	tc = tcase_create("strict_rfc8259");
	tcase_add_test(tc, test_nonfinite_literals_refused);
	tcase_add_test(tc, test_lenient_syntax_refused);
	suite_add_tcase(s, tc);
	return s;
}
