/* Unit tests for the metrics (src/metrics.c: counting and the text; src/metrics_http.c: the
 * master's endpoint, driven by hand through its poll steps on a real Unix socket). */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "metrics.h"
#include "metrics_http.h"
#include "routes.h"
#include "shm.h"

Suite *metrics_suite(void); /* run by the unit test driver */

static struct metrics_area area; /* zeroed per test by the fixture */

static void area_reset(void)
{
	memset(&area, 0, sizeof(area));
}

/* The text of a, NUL-terminated (freed by the caller). */
static char *render(const struct metrics_area *a)
{
	size_t n = metrics_render(a, routes_table, routes_count, NULL, 0);
	char *buf = malloc(n + 1);

	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(metrics_render(a, routes_table, routes_count, buf, n), n);
	buf[n] = '\0';
	return buf;
}

static size_t route_index(const char *method, const char *pattern)
{
	for (size_t i = 0; i < routes_count; i++)
		if (strcmp(routes_table[i].method, method) == 0 &&
		    strcmp(routes_table[i].pattern, pattern) == 0)
			return i;
	ck_abort_msg("no route %s %s", method, pattern);
	return 0;
}

static void assert_line(const char *text, const char *line)
{
	char want[512];

	snprintf(want, sizeof(want), "\n%s\n", line);
	ck_assert_msg(strstr(text, want) != NULL, "no line '%s' in:\n%s", line, text);
}

START_TEST(test_every_route_has_its_row)
{
	ck_assert_uint_le(routes_count, METRICS_ROUTES_MAX);
}
END_TEST

START_TEST(test_codes_map_both_ways)
{
	static const int known[] = {200, 201, 400, 401, 403, 404, 405, 409, 413, 415, 429, 500, 503};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		size_t k = metrics_code_index(known[i]);

		ck_assert_uint_lt(k, METRICS_NCODES - 1);
		ck_assert_int_eq(metrics_code_of(k), known[i]);
	}
	ck_assert_uint_eq(metrics_code_index(418), METRICS_NCODES - 1);
	ck_assert_uint_eq(metrics_code_index(-1), METRICS_NCODES - 1);
	ck_assert_int_eq(metrics_code_of(METRICS_NCODES - 1), 0);
}
END_TEST

/* Every line is a comment or `name{labels} number`, and each family says its TYPE first. */
START_TEST(test_text_is_well_formed)
{
	char *text, *line, *save = NULL;

	area.requests[3][metrics_code_index(200)] = 2;
	area.buckets[3][0] = 2;
	area.requests[METRICS_ROUTE_UNMATCHED][metrics_code_index(404)] = 1;
	area.buckets[METRICS_ROUTE_UNMATCHED][5] = 1;
	text = render(&area);
	ck_assert(text[strlen(text) - 1] == '\n');
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *sp = strrchr(line, ' ');
		char *end;

		if (line[0] == '#') {
			ck_assert(strncmp(line, "# HELP ", 7) == 0 || strncmp(line, "# TYPE ", 7) == 0);
			continue;
		}
		ck_assert_msg(sp != NULL, "no value: %s", line);
		strtod(sp + 1, &end);
		ck_assert_msg(*end == '\0' && end != sp + 1, "not a number: %s", line);
		ck_assert_msg(strncmp(line, "vehicle_", 8) == 0, "unprefixed: %s", line);
		ck_assert_msg(strchr(line, '{') == NULL || strchr(line, '}') == sp - 1, "labels: %s", line);
	}
	free(text);
}
END_TEST

START_TEST(test_requests_by_route_and_code)
{
	size_t get = route_index("GET", "/api/bikes/:id");
	size_t post = route_index("POST", "/api/bikes/:id/kilometrage");
	char *text;

	area.requests[get][metrics_code_index(200)] = 3;
	area.requests[get][metrics_code_index(404)] = 1;
	area.requests[post][metrics_code_index(418)] = 2;
	area.requests[METRICS_ROUTE_UNMATCHED][metrics_code_index(405)] = 7;
	text = render(&area);
	assert_line(text, "vehicle_http_requests_total{method=\"GET\",route=\"/api/bikes/:id\",code=\"200\"} 3");
	assert_line(text, "vehicle_http_requests_total{method=\"GET\",route=\"/api/bikes/:id\",code=\"404\"} 1");
	assert_line(text, "vehicle_http_requests_total{method=\"POST\",route=\"/api/bikes/:id/kilometrage\","
		    "code=\"other\"} 2");
	assert_line(text, "vehicle_http_requests_total{route=\"unmatched\",code=\"405\"} 7");
	/* Nothing counted, nothing shown. */
	ck_assert_ptr_null(strstr(text, "route=\"/api/parts\""));
	free(text);
}
END_TEST

START_TEST(test_histogram_is_cumulative)
{
	size_t r = route_index("GET", "/api/bikes");
	char *text;

	area.buckets[r][0] = 2;                    /* <= 1 ms */
	area.buckets[r][3] = 1;                    /* <= 10 ms */
	area.buckets[r][METRICS_NBUCKETS - 1] = 1; /* > 10 s */
	area.sum_us[r] = 12001500;
	text = render(&area);
	assert_line(text, "vehicle_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/bikes\","
		    "le=\"0.001\"} 2");
	assert_line(text, "vehicle_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/bikes\","
		    "le=\"0.005\"} 2");
	assert_line(text, "vehicle_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/bikes\","
		    "le=\"0.01\"} 3");
	assert_line(text, "vehicle_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/bikes\","
		    "le=\"10\"} 3");
	assert_line(text, "vehicle_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/bikes\","
		    "le=\"+Inf\"} 4");
	assert_line(text, "vehicle_http_request_duration_seconds_sum{method=\"GET\",route=\"/api/bikes\"} "
		    "12.001500");
	assert_line(text, "vehicle_http_request_duration_seconds_count{method=\"GET\",route=\"/api/bikes\"} 4");
	free(text);
}
END_TEST

START_TEST(test_bucket_bounds_rise)
{
	for (size_t i = 1; i < METRICS_NBUCKETS - 1; i++)
		ck_assert_uint_gt(metrics_bucket_us(i), metrics_bucket_us(i - 1));
	ck_assert_uint_eq(metrics_bucket_us(METRICS_NBUCKETS - 1), UINT64_MAX);
}
END_TEST

START_TEST(test_gauges_and_counters)
{
	char *text;

	area.slots[0].pid = 10;
	area.slots[0].busy = 1;
	area.slots[7].pid = 11;
	area.slots[9].busy = 1; /* no pid: a freed slot never counts */
	area.worker_starts = 5;
	area.worker_deaths[METRICS_DIED_SERVING] = 2;
	area.db_errors = 4;
	area.db_reconnects = 6;
	text = render(&area);
	assert_line(text, "vehicle_http_requests_in_flight 1");
	assert_line(text, "vehicle_workers 2");
	assert_line(text, "vehicle_worker_starts_total 5");
	assert_line(text, "vehicle_worker_deaths_total{state=\"serving\"} 2");
	assert_line(text, "vehicle_worker_deaths_total{state=\"starting\"} 0");
	assert_line(text, "vehicle_db_errors_total 4");
	assert_line(text, "vehicle_db_reconnects_total 6");
	free(text);
}
END_TEST

/* snprintf's contract: the whole length whatever the room, never a byte past cap. */
START_TEST(test_render_never_writes_past_cap)
{
	size_t n;
	char buf[300];

	area.requests[0][0] = 1;
	area.buckets[0][0] = 1;
	n = metrics_render(&area, routes_table, routes_count, NULL, 0);
	ck_assert_uint_gt(n, sizeof(buf));
	memset(buf, 'x', sizeof(buf));
	ck_assert_uint_eq(metrics_render(&area, routes_table, routes_count, buf, 100), n);
	for (size_t i = 100; i < sizeof(buf); i++)
		ck_assert_int_eq(buf[i], 'x');
	ck_assert(memcmp(buf, "# HELP ", 7) == 0);
}
END_TEST

/* The worker's and the master's calls, on a real region. */
START_TEST(test_counting_in_shared_memory)
{
	struct shm_region *r;
	size_t route = route_index("GET", "/health");
	int fd;
	char *text;

	ck_assert_int_eq(shm_create(&r, &fd), ERR_OK);
	metrics_worker_attach();
	metrics_request_begin();
	text = render(&r->metrics);
	assert_line(text, "vehicle_http_requests_in_flight 1");
	assert_line(text, "vehicle_workers 1");
	free(text);
	metrics_request_end(route, 200, 1500);
	metrics_request_begin();
	metrics_request_end(METRICS_ROUTE_UNMATCHED + 5, 404, 20000000);
	metrics_db_error();
	metrics_db_reconnect();
	metrics_worker_started();
	metrics_worker_died(METRICS_DIED_STARTING);
	ck_assert_uint_eq(r->metrics.requests[route][metrics_code_index(200)], 1);
	ck_assert_uint_eq(r->metrics.buckets[route][1], 1); /* 1.5 ms: <= 2.5 ms */
	ck_assert_uint_eq(r->metrics.sum_us[route], 1500);
	ck_assert_uint_eq(r->metrics.requests[METRICS_ROUTE_UNMATCHED][metrics_code_index(404)], 1);
	ck_assert_uint_eq(r->metrics.buckets[METRICS_ROUTE_UNMATCHED][METRICS_NBUCKETS - 1], 1);
	ck_assert_uint_eq(r->metrics.db_errors, 1);
	ck_assert_uint_eq(r->metrics.db_reconnects, 1);
	ck_assert_uint_eq(r->metrics.worker_starts, 1);
	ck_assert_uint_eq(r->metrics.worker_deaths[METRICS_DIED_STARTING], 1);
	/* Killed in mid-request: the master's reap takes the request out of the gauge. */
	metrics_request_begin();
	metrics_worker_reaped(getpid());
	text = render(&r->metrics);
	assert_line(text, "vehicle_http_requests_in_flight 0");
	assert_line(text, "vehicle_workers 0");
	free(text);
	close(fd);
}
END_TEST

START_TEST(test_http_route)
{
	int head;

	ck_assert_int_eq(metrics_http_route("GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n", &head), 200);
	ck_assert_int_eq(head, 0);
	ck_assert_int_eq(metrics_http_route("HEAD /metrics HTTP/1.1\r\n\r\n", &head), 200);
	ck_assert_int_eq(head, 1);
	ck_assert_int_eq(metrics_http_route("GET /metrics?x=1 HTTP/1.0\r\n\r\n", &head), 200);
	ck_assert_int_eq(metrics_http_route("POST /metrics HTTP/1.0\r\n\r\n", &head), 405);
	ck_assert_int_eq(metrics_http_route("GET /metricsx HTTP/1.0\r\n\r\n", &head), 404);
	ck_assert_int_eq(metrics_http_route("GET / HTTP/1.0\r\n\r\n", &head), 404);
	ck_assert_int_eq(metrics_http_route("GET /metrics\r\n\r\n", &head), 400);
	ck_assert_int_eq(metrics_http_route("GET /metrics SPDY/3\r\n\r\n", &head), 400);
	ck_assert_int_eq(metrics_http_route("", &head), 400);
	ck_assert_int_eq(metrics_http_route("garbage", &head), 400);
}
END_TEST

/* ---- the endpoint, on a socket ------------------------------------------------------- */

static struct metrics_http http;
static char sock_path[108];

static void http_setup(void)
{
	area_reset();
	snprintf(sock_path, sizeof(sock_path), "/tmp/vs-check-metrics-%d.sock", (int)getpid());
	metrics_http_init(&http);
	ck_assert_int_eq(metrics_http_open(&http, sock_path), 0);
}

static void http_teardown(void)
{
	metrics_http_close(&http);
	ck_assert_int_ne(access(sock_path, F_OK), 0); /* the path goes with it */
}

static int client(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* One round of the master's loop at time now (a short poll: the test drives the clock). */
static int step(long long now)
{
	struct pollfd fds[METRICS_HTTP_NFDS];
	int timeout = -1, n = metrics_http_fds(&http, fds, now, &timeout);

	ck_assert_int_ge(poll(fds, (nfds_t)n, 50), 0);
	metrics_http_serve(&http, fds, n, now, &area, routes_table, routes_count);
	return n;
}

/* Everything the server sends until it closes, stepping it meanwhile. */
static char *answer(int fd, long long now)
{
	static char buf[1 << 17];
	size_t got = 0;

	for (int i = 0; i < 100; i++) {
		ssize_t r;

		step(now);
		r = recv(fd, buf + got, sizeof(buf) - 1 - got, MSG_DONTWAIT);
		if (r == 0)
			break;
		if (r > 0)
			got += (size_t)r;
	}
	buf[got] = '\0';
	close(fd);
	return buf;
}

START_TEST(test_http_get_metrics)
{
	const char req[] = "GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n";
	int fd = client();
	char *text, *body;
	long len;

	area.db_errors = 42;
	ck_assert_int_eq(write(fd, req, sizeof(req) - 1), (ssize_t)(sizeof(req) - 1));
	text = answer(fd, 0);
	ck_assert_msg(strncmp(text, "HTTP/1.0 200 OK\r\n", 17) == 0, "%s", text);
	ck_assert_ptr_nonnull(strstr(text, "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
	body = strstr(text, "\r\n\r\n");
	ck_assert_ptr_nonnull(body);
	body += 4;
	ck_assert_int_eq(sscanf(strstr(text, "Content-Length: "), "Content-Length: %ld", &len), 1);
	ck_assert_int_eq(len, (long)strlen(body));
	ck_assert_ptr_nonnull(strstr(body, "\nvehicle_db_errors_total 42\n"));
}
END_TEST

START_TEST(test_http_refuses_what_is_not_a_scrape)
{
	char big[METRICS_HTTP_REQ_MAX + 100];
	int fd = client();
	char *text;

	ck_assert_int_eq(write(fd, "DELETE /metrics HTTP/1.0\r\n\r\n", 28), 28);
	text = answer(fd, 0);
	ck_assert_msg(strncmp(text, "HTTP/1.0 405 ", 13) == 0, "%s", text);
	ck_assert_ptr_nonnull(strstr(text, "Allow: GET, HEAD\r\n"));
	/* A request that never ends within the bound: 400, without waiting for more. */
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /metrics HTTP/1.0\r\nX: ", 26);
	fd = client();
	ck_assert_int_eq(write(fd, big, sizeof(big)), (ssize_t)sizeof(big));
	text = answer(fd, 0);
	ck_assert_msg(strncmp(text, "HTTP/1.0 400 ", 13) == 0, "%s", text);
}
END_TEST

/* A client that sends nothing holds a connection only until its deadline; beyond
 * METRICS_HTTP_CONNS, the rest wait in the backlog, not in the loop. */
START_TEST(test_http_deadline_and_connection_bound)
{
	int idle[METRICS_HTTP_CONNS], late, n;
	char *text;

	for (int i = 0; i < METRICS_HTTP_CONNS; i++)
		idle[i] = client();
	for (int i = 0; i < 5; i++)
		step(0);
	late = client();
	ck_assert_int_eq(write(late, "GET /metrics HTTP/1.0\r\n\r\n", 25), 25);
	n = step(0);
	ck_assert_int_eq(n, METRICS_HTTP_CONNS); /* the listener is not polled while full */
	/* The deadline passes: the idle ones are closed, the late one is taken and answered. */
	step(METRICS_HTTP_DEADLINE_MS);
	for (int i = 0; i < METRICS_HTTP_CONNS; i++) {
		char c;

		ck_assert_int_eq(recv(idle[i], &c, 1, MSG_DONTWAIT), 0);
		close(idle[i]);
	}
	text = answer(late, METRICS_HTTP_DEADLINE_MS);
	ck_assert_msg(strncmp(text, "HTTP/1.0 200 OK\r\n", 17) == 0, "%s", text);
}
END_TEST

START_TEST(test_http_open_refuses_a_file_in_the_way)
{
	struct metrics_http h;
	char path[108];
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/vs-check-metrics-file-%d", (int)getpid());
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	metrics_http_init(&h);
	ck_assert_int_eq(metrics_http_open(&h, path), -1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_int_eq(access(path, F_OK), 0); /* left alone */
	unlink(path);
	metrics_http_close(&h);
}
END_TEST

/* A second master given the same path leaves the first one's socket alone; a dead one's
 * socket is taken over. */
START_TEST(test_http_open_leaves_a_live_socket_alone)
{
	struct metrics_http h;
	int fd;

	metrics_http_init(&h);
	ck_assert_int_eq(metrics_http_open(&h, sock_path), -1);
	ck_assert_int_eq(errno, EADDRINUSE);
	fd = client(); /* still the first one's */
	close(fd);
	metrics_http_close(&http);
	{
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		int dead = socket(AF_UNIX, SOCK_STREAM, 0);

		/* a socket file nobody listens on any more */
		memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
		ck_assert_int_eq(bind(dead, (struct sockaddr *)&sa, sizeof(sa)), 0);
		close(dead);
	}
	ck_assert_int_eq(metrics_http_open(&http, sock_path), 0);
}
END_TEST

Suite *metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *t = tcase_create("render");
	TCase *h = tcase_create("http");

	tcase_add_checked_fixture(t, area_reset, NULL);
	tcase_add_test(t, test_every_route_has_its_row);
	tcase_add_test(t, test_codes_map_both_ways);
	tcase_add_test(t, test_text_is_well_formed);
	tcase_add_test(t, test_requests_by_route_and_code);
	tcase_add_test(t, test_histogram_is_cumulative);
	tcase_add_test(t, test_bucket_bounds_rise);
	tcase_add_test(t, test_gauges_and_counters);
	tcase_add_test(t, test_render_never_writes_past_cap);
	tcase_add_test(t, test_counting_in_shared_memory);
	tcase_add_test(t, test_http_route);
	suite_add_tcase(s, t);
	tcase_add_checked_fixture(h, http_setup, http_teardown);
	tcase_add_test(h, test_http_get_metrics);
	tcase_add_test(h, test_http_refuses_what_is_not_a_scrape);
	tcase_add_test(h, test_http_deadline_and_connection_bound);
	tcase_add_test(h, test_http_open_refuses_a_file_in_the_way);
	tcase_add_test(h, test_http_open_leaves_a_live_socket_alone);
	suite_add_tcase(s, h);
	return s;
}
