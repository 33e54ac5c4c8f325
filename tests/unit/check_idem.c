/* Unit tests for idem.c: an Idempotency-Key is 1..RULES_IDEM_KEY_MAX printable ASCII
 * characters (0x20..0x7E), nothing else. */
#include <check.h>
#include <string.h>

#include "idem.h"
#include "rules.h"

Suite *idem_suite(void); /* run by the unit test driver */

/* n copies of ch, NUL-terminated, in buf (which holds at least n + 1). */
static const char *repeat(char *buf, char ch, size_t n)
{
	memset(buf, ch, n);
	buf[n] = '\0';
	return buf;
}

START_TEST(test_empty_refused)
{
	ck_assert_int_eq(idem_key_ok(""), 0);
	ck_assert_int_eq(idem_key_ok(NULL), 0);
}
END_TEST

START_TEST(test_one_char)
{
	ck_assert_int_eq(idem_key_ok("a"), 1);
}
END_TEST

START_TEST(test_length_limit)
{
	char buf[RULES_IDEM_KEY_MAX + 64];

	ck_assert_int_eq(RULES_IDEM_KEY_MAX, 255);
	ck_assert_int_eq(idem_key_ok(repeat(buf, 'k', RULES_IDEM_KEY_MAX)), 1);
	ck_assert_int_eq(idem_key_ok(repeat(buf, 'k', RULES_IDEM_KEY_MAX + 1)), 0);
	ck_assert_int_eq(idem_key_ok(repeat(buf, 'k', sizeof(buf) - 1)), 0);
}
END_TEST

START_TEST(test_printable_edges)
{
	/* 0x20 and 0x7E are the ends of printable ASCII; 0x1F and 0x7F lie just outside */
	ck_assert_int_eq(idem_key_ok(" "), 1);
	ck_assert_int_eq(idem_key_ok("~"), 1);
	ck_assert_int_eq(idem_key_ok("a b~c"), 1);
	ck_assert_int_eq(idem_key_ok("\x1f"), 0);
	ck_assert_int_eq(idem_key_ok("\x7f"), 0);
	ck_assert_int_eq(idem_key_ok("ab\x1f"), 0);
	ck_assert_int_eq(idem_key_ok("\x7f" "ab"), 0);
	ck_assert_int_eq(idem_key_ok("a\tb"), 0);
	ck_assert_int_eq(idem_key_ok("a\nb"), 0);
}
END_TEST

START_TEST(test_every_byte)
{
	char key[4] = "a?b";

	for (int b = 1; b < 256; b++) {
		key[1] = (char)b;
		ck_assert_msg(idem_key_ok(key) == (b >= 0x20 && b <= 0x7E), "byte 0x%02X", b);
	}
}
END_TEST

START_TEST(test_non_ascii_refused)
{
	ck_assert_int_eq(idem_key_ok("\x80"), 0);
	ck_assert_int_eq(idem_key_ok("\xff"), 0);
	/* valid UTF-8 is still not ASCII: "cl\u00e9" */
	ck_assert_int_eq(idem_key_ok("cl\xc3\xa9"), 0);
}
END_TEST

START_TEST(test_bad_byte_at_the_limit)
{
	char buf[RULES_IDEM_KEY_MAX + 1];

	repeat(buf, 'k', RULES_IDEM_KEY_MAX);
	buf[RULES_IDEM_KEY_MAX - 1] = '\x7f';
	ck_assert_int_eq(idem_key_ok(buf), 0);
	buf[RULES_IDEM_KEY_MAX - 1] = '~';
	ck_assert_int_eq(idem_key_ok(buf), 1);
}
END_TEST

Suite *idem_suite(void)
{
	Suite *s = suite_create("idem");
	TCase *tc = tcase_create("key");

	tcase_add_test(tc, test_empty_refused);
	tcase_add_test(tc, test_one_char);
	tcase_add_test(tc, test_length_limit);
	tcase_add_test(tc, test_printable_edges);
	tcase_add_test(tc, test_every_byte);
	tcase_add_test(tc, test_non_ascii_refused);
	tcase_add_test(tc, test_bad_byte_at_the_limit);
	suite_add_tcase(s, tc);
	return s;
}
