/* Unit tests for the query-string parser of ctx.c: splitting on '&' before decoding,
 * '+' and %XX decoding, first occurrence wins, and the CTX_QUERY_MAX cap. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "ctx.h"

Suite *query_suite(void); /* run by the unit test driver */

static struct ctx c;

static void setup(void)
{
	ctx_init(&c);
}

/* Frees what the test parsed; under valgrind a leak here fails the run. */
static void teardown(void)
{
	ctx_reset(&c);
}

START_TEST(test_plain)
{
	ctx_parse_query(&c, "limit=10&offset=20&unit=mi");
	ck_assert_str_eq(ctx_query(&c, "limit"), "10");
	ck_assert_str_eq(ctx_query(&c, "offset"), "20");
	ck_assert_str_eq(ctx_query(&c, "unit"), "mi");
	ck_assert_ptr_null(ctx_query(&c, "cursor"));
	/* names match whole and case-sensitively */
	ck_assert_ptr_null(ctx_query(&c, "Limit"));
	ck_assert_ptr_null(ctx_query(&c, "lim"));
	ck_assert_int_eq(c.query_overflow, 0);
}
END_TEST

START_TEST(test_plus_is_space)
{
	ctx_parse_query(&c, "q=a+b++c&my+name=x");
	ck_assert_str_eq(ctx_query(&c, "q"), "a b  c");
	ck_assert_str_eq(ctx_query(&c, "my name"), "x");
}
END_TEST

START_TEST(test_percent_decoding)
{
	ctx_parse_query(&c, "a=%41%42&b=%6a%6A&c=%2B&d=%20x&n%61me=v&e=caf%C3%A9");
	ck_assert_str_eq(ctx_query(&c, "a"), "AB");
	/* either case of hex digit */
	ck_assert_str_eq(ctx_query(&c, "b"), "jj");
	/* an encoded '+' is a plus, not a space */
	ck_assert_str_eq(ctx_query(&c, "c"), "+");
	ck_assert_str_eq(ctx_query(&c, "d"), " x");
	/* names are decoded too */
	ck_assert_str_eq(ctx_query(&c, "name"), "v");
	ck_assert_str_eq(ctx_query(&c, "e"), "caf\xc3\xa9");
}
END_TEST

START_TEST(test_split_before_decoding)
{
	/* %26 and %3D are data: they do not start a parameter or end a name */
	ctx_parse_query(&c, "a=x%26b%3Dy&k%3Dv=1");
	ck_assert_str_eq(ctx_query(&c, "a"), "x&b=y");
	ck_assert_ptr_null(ctx_query(&c, "b"));
	ck_assert_str_eq(ctx_query(&c, "k=v"), "1");
	ck_assert_ptr_null(ctx_query(&c, "k"));
}
END_TEST

START_TEST(test_nul_escape_kept)
{
	/* decoding %00 would silently cut the value short */
	ctx_parse_query(&c, "a=x%00y&b=%00&%00=z");
	ck_assert_str_eq(ctx_query(&c, "a"), "x%00y");
	ck_assert_str_eq(ctx_query(&c, "b"), "%00");
	ck_assert_str_eq(ctx_query(&c, "%00"), "z");
	ck_assert_ptr_null(ctx_query(&c, ""));
}
END_TEST

START_TEST(test_bad_escapes_kept)
{
	ctx_parse_query(&c, "a=%G1&b=%4&c=%&d=100%&e=%%41&f=%4g&g=%0");
	ck_assert_str_eq(ctx_query(&c, "a"), "%G1");
	ck_assert_str_eq(ctx_query(&c, "b"), "%4");
	ck_assert_str_eq(ctx_query(&c, "c"), "%");
	ck_assert_str_eq(ctx_query(&c, "d"), "100%");
	/* a lone '%' stays and the escape after it still decodes */
	ck_assert_str_eq(ctx_query(&c, "e"), "%A");
	ck_assert_str_eq(ctx_query(&c, "f"), "%4g");
	ck_assert_str_eq(ctx_query(&c, "g"), "%0");
	/* %01 is a real (if odd) byte: only %00 is special */
	ctx_reset(&c);
	ctx_parse_query(&c, "h=%01");
	ck_assert_str_eq(ctx_query(&c, "h"), "\x01");
}
END_TEST

START_TEST(test_missing_equals)
{
	ctx_parse_query(&c, "flag&b=2&other");
	ck_assert_str_eq(ctx_query(&c, "flag"), "");
	ck_assert_str_eq(ctx_query(&c, "b"), "2");
	ck_assert_str_eq(ctx_query(&c, "other"), "");
}
END_TEST

START_TEST(test_empty_value)
{
	ctx_parse_query(&c, "a=&b=1&=x");
	ck_assert_str_eq(ctx_query(&c, "a"), "");
	ck_assert_str_eq(ctx_query(&c, "b"), "1");
	/* an empty name is a parameter named "" */
	ck_assert_str_eq(ctx_query(&c, ""), "x");
}
END_TEST

START_TEST(test_value_with_equals)
{
	ctx_parse_query(&c, "a=b=c");
	ck_assert_str_eq(ctx_query(&c, "a"), "b=c");
	ck_assert_ptr_null(ctx_query(&c, "b"));
}
END_TEST

START_TEST(test_repeated_first_wins)
{
	ctx_parse_query(&c, "limit=5&limit=500&unit=&unit=mi");
	ck_assert_str_eq(ctx_query(&c, "limit"), "5");
	ck_assert_str_eq(ctx_query(&c, "unit"), "");
}
END_TEST

START_TEST(test_empty_segments_skipped)
{
	ctx_parse_query(&c, "&&a=1&&&b=2&");
	ck_assert_str_eq(ctx_query(&c, "a"), "1");
	ck_assert_str_eq(ctx_query(&c, "b"), "2");
	ck_assert_ptr_null(ctx_query(&c, ""));
	ck_assert_int_eq(c.query_overflow, 0);
}
END_TEST

/* "p0=0&p1=1&...": n parameters, written into buf. */
static void many(char *buf, size_t len, int n)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < n; i++) {
		int w = snprintf(buf + used, len - used, "%sp%d=%d", i ? "&" : "", i, i);
		ck_assert(w > 0 && (size_t)w < len - used);
		used += (size_t)w;
	}
}

START_TEST(test_max_parameters)
{
	char qs[512], name[8], value[8];

	many(qs, sizeof(qs), CTX_QUERY_MAX);
	ctx_parse_query(&c, qs);
	ck_assert_int_eq(c.query_overflow, 0);
	for (int i = 0; i < CTX_QUERY_MAX; i++) {
		ck_assert(snprintf(name, sizeof(name), "p%d", i) > 0);
		ck_assert(snprintf(value, sizeof(value), "%d", i) > 0);
		ck_assert_ptr_nonnull(ctx_query(&c, name));
		ck_assert_str_eq(ctx_query(&c, name), value);
	}
}
END_TEST

START_TEST(test_one_parameter_too_many)
{
	char qs[512], name[8];

	many(qs, sizeof(qs), CTX_QUERY_MAX + 1);
	ctx_parse_query(&c, qs);
	ck_assert_int_eq(c.query_overflow, 1);
	ck_assert(snprintf(name, sizeof(name), "p%d", CTX_QUERY_MAX) > 0);
	ck_assert_ptr_null(ctx_query(&c, name));
}
END_TEST

START_TEST(test_trailing_empty_segments_not_counted)
{
	char qs[512];
	size_t n;

	/* the cap counts parameters, not separators */
	many(qs, sizeof(qs), CTX_QUERY_MAX);
	n = strlen(qs);
	ck_assert(n + 4 < sizeof(qs));
	memcpy(qs + n, "&&&", 4);
	ctx_parse_query(&c, qs);
	ck_assert_int_eq(c.query_overflow, 0);
}
END_TEST

START_TEST(test_null_and_empty)
{
	ctx_parse_query(&c, NULL);
	ck_assert_ptr_null(ctx_query(&c, "a"));
	ck_assert_ptr_null(ctx_query(&c, ""));
	ck_assert_int_eq(c.query_overflow, 0);
	ctx_parse_query(&c, "");
	ck_assert_ptr_null(ctx_query(&c, "a"));
	ck_assert_ptr_null(ctx_query(&c, ""));
	ck_assert_int_eq(c.query_overflow, 0);
}
END_TEST

START_TEST(test_copies_the_string)
{
	char qs[] = "a=1";

	ctx_parse_query(&c, qs);
	qs[2] = '9';
	ck_assert_str_eq(ctx_query(&c, "a"), "1");
	ck_assert_str_eq(qs, "a=9");
}
END_TEST

START_TEST(test_reset_forgets)
{
	char qs[512];

	many(qs, sizeof(qs), CTX_QUERY_MAX + 1);
	ctx_parse_query(&c, qs);
	ck_assert_int_eq(c.query_overflow, 1);
	ctx_reset(&c);
	/* nothing of the last request survives into the next */
	ck_assert_ptr_null(ctx_query(&c, "p0"));
	ck_assert_int_eq(c.query_overflow, 0);
	ctx_parse_query(&c, "p0=new");
	ck_assert_str_eq(ctx_query(&c, "p0"), "new");
	ck_assert_int_eq(c.query_overflow, 0);
}
END_TEST

Suite *query_suite(void)
{
	Suite *s = suite_create("query");
	TCase *tc = tcase_create("decode");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_plain);
	tcase_add_test(tc, test_plus_is_space);
	tcase_add_test(tc, test_percent_decoding);
	tcase_add_test(tc, test_split_before_decoding);
	tcase_add_test(tc, test_nul_escape_kept);
	tcase_add_test(tc, test_bad_escapes_kept);
	tcase_add_test(tc, test_missing_equals);
	tcase_add_test(tc, test_empty_value);
	tcase_add_test(tc, test_value_with_equals);
	tcase_add_test(tc, test_repeated_first_wins);
	tcase_add_test(tc, test_empty_segments_skipped);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_max_parameters);
	tcase_add_test(tc, test_one_parameter_too_many);
	tcase_add_test(tc, test_trailing_empty_segments_not_counted);
	tcase_add_test(tc, test_null_and_empty);
	tcase_add_test(tc, test_copies_the_string);
	tcase_add_test(tc, test_reset_forgets);
	suite_add_tcase(s, tc);
	return s;
}
