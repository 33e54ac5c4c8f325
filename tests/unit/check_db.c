/* Unit tests for db.c's choice of how a statement goes out (db_send_plan): in transaction
 * pooling never by name; in session mode prepared once per connection, then by name. */
#include <check.h>

#include "db.h"

Suite *db_suite(void); /* run by the unit test driver */

START_TEST(test_transaction_never_named)
{
	/* Whatever the statement's state on the connection: no Prepare, no name. */
	ck_assert_int_eq(db_send_plan(1, 0, 1, 0), DB_SEND_UNNAMED);
	ck_assert_int_eq(db_send_plan(1, 1, 1, 0), DB_SEND_UNNAMED);
	ck_assert_int_eq(db_send_plan(1, 1, 2, 0), DB_SEND_UNNAMED);
	ck_assert_int_eq(db_send_plan(1, 0, 1, 1), DB_SEND_UNNAMED);
}
END_TEST

START_TEST(test_session_prepares_once)
{
	/* Never prepared (0), or prepared on an older connection: prepare first. */
	ck_assert_int_eq(db_send_plan(0, 0, 1, 0), DB_SEND_PREPARE_FIRST);
	ck_assert_int_eq(db_send_plan(0, 1, 2, 0), DB_SEND_PREPARE_FIRST);
	/* Prepared on this one: by name. */
	ck_assert_int_eq(db_send_plan(0, 2, 2, 0), DB_SEND_BY_NAME);
}
END_TEST

START_TEST(test_session_prepare_queued)
{
	/* Its Prepare is already in this pipeline: a second one would fail (42P05). */
	ck_assert_int_eq(db_send_plan(0, 0, 1, 1), DB_SEND_BY_NAME);
	ck_assert_int_eq(db_send_plan(0, 1, 2, 1), DB_SEND_BY_NAME);
}
END_TEST

Suite *db_suite(void)
{
	Suite *s = suite_create("db");
	TCase *tc = tcase_create("send_plan");

	tcase_add_test(tc, test_transaction_never_named);
	tcase_add_test(tc, test_session_prepares_once);
	tcase_add_test(tc, test_session_prepare_queued);
	suite_add_tcase(s, tc);
	return s;
}
