/* Unit tests for export.c's framing: whatever the sections hold, the document is one valid
 * JSON object, written in pieces through a sink, and a failed write stops everything. */
#include <check.h>
#include <string.h>

#include <json-c/json.h>

#include "export.h"

Suite *export_suite(void); /* run by the unit test driver */

struct mem {
	char buf[4096];
	size_t len;
	int writes;
	int fail_at; /* the write that fails (1-based), 0 for none */
};

static int mem_sink(void *arg, const char *buf, size_t len)
{
	struct mem *m = arg;

	m->writes++;
	if (m->fail_at && m->writes >= m->fail_at)
		return -1;
	ck_assert_uint_lt(m->len + len, sizeof(m->buf));
	memcpy(m->buf + m->len, buf, len);
	m->len += len;
	m->buf[m->len] = '\0';
	return 0;
}

#define HEAD "{\"exported_at\":\"2024-01-15T10:00:00Z\",\"user_id\":\"u\",\"unit\":\"km\"}"

START_TEST(test_document)
{
	struct mem m = {.len = 0};
	struct export_writer w = {.sink = mem_sink, .arg = &m};
	json_object *doc, *a;

	ck_assert_int_eq(export_write_head(&w, HEAD), 0);
	ck_assert_int_eq(export_write_section(&w, "bikes"), 0);
	ck_assert_int_eq(export_write_row(&w, "{\"id\":1}"), 0);
	ck_assert_int_eq(export_write_row(&w, "{\"id\":2}"), 0);
	ck_assert_int_eq(export_write_section(&w, "parts"), 0); /* empty */
	ck_assert_int_eq(export_write_section(&w, "rides"), 0);
	ck_assert_int_eq(export_write_row(&w, "{\"id\":3}"), 0);
	ck_assert_int_eq(export_write_end(&w), 0);
	ck_assert_str_eq(m.buf, "{\"exported_at\":\"2024-01-15T10:00:00Z\",\"user_id\":\"u\",\"unit\":\"km\","
				"\"bikes\":[{\"id\":1},{\"id\":2}],\"parts\":[],\"rides\":[{\"id\":3}]}");
	doc = json_tokener_parse(m.buf);
	ck_assert_ptr_nonnull(doc);
	ck_assert(json_object_object_get_ex(doc, "bikes", &a));
	ck_assert_uint_eq(json_object_array_length(a), 2);
	json_object_put(doc);
}
END_TEST

START_TEST(test_no_sections)
{
	struct mem m = {.len = 0};
	struct export_writer w = {.sink = mem_sink, .arg = &m};

	ck_assert_int_eq(export_write_head(&w, HEAD), 0);
	ck_assert_int_eq(export_write_end(&w), 0);
	ck_assert_str_eq(m.buf, HEAD);
}
END_TEST

/* A head that is no object with members, a row outside a section, a name that would need
 * escaping: refused, and the writer stays failed. */
START_TEST(test_misuse)
{
	struct mem m = {.len = 0};
	struct export_writer w = {.sink = mem_sink, .arg = &m};

	ck_assert_int_eq(export_write_head(&w, "{}"), -1);
	ck_assert_int_eq(export_write_end(&w), -1);
	ck_assert_uint_eq(m.len, 0);
	w = (struct export_writer){.sink = mem_sink, .arg = &m};
	ck_assert_int_eq(export_write_head(&w, NULL), -1);
	w = (struct export_writer){.sink = mem_sink, .arg = &m};
	ck_assert_int_eq(export_write_head(&w, HEAD), 0);
	ck_assert_int_eq(export_write_row(&w, "{}"), -1);
	ck_assert_int_eq(export_write_section(&w, "bikes"), -1);
	w = (struct export_writer){.sink = mem_sink, .arg = &m};
	ck_assert_int_eq(export_write_head(&w, HEAD), 0);
	ck_assert_int_eq(export_write_section(&w, "a\"b"), -1);
	ck_assert_int_eq(export_write_section(&w, ""), -1);
}
END_TEST

/* The sink fails midway: every later call is refused without writing. */
START_TEST(test_sink_failure_sticks)
{
	struct mem m = {.len = 0, .fail_at = 4};
	struct export_writer w = {.sink = mem_sink, .arg = &m};
	int writes;

	ck_assert_int_eq(export_write_head(&w, HEAD), 0);
	ck_assert_int_eq(export_write_section(&w, "bikes"), -1); /* its third piece fails */
	writes = m.writes;
	ck_assert_int_eq(export_write_row(&w, "{}"), -1);
	ck_assert_int_eq(export_write_section(&w, "parts"), -1);
	ck_assert_int_eq(export_write_end(&w), -1);
	ck_assert_int_eq(m.writes, writes);
	ck_assert_int_eq(w.failed, 1);
}
END_TEST

Suite *export_suite(void)
{
	Suite *s = suite_create("export");
	TCase *tc = tcase_create("framing");

	tcase_add_test(tc, test_document);
	tcase_add_test(tc, test_no_sections);
	tcase_add_test(tc, test_misuse);
	tcase_add_test(tc, test_sink_failure_sticks);
	suite_add_tcase(s, tc);
	return s;
}
