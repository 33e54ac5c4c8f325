/*
 * The master's metrics endpoint: minimal HTTP/1.0 on a Unix socket (METRICS_SOCKET), which
 * nginx's metrics listener proxies to. It lives in the master's poll loop, so it answers
 * while every pool worker is busy, and it can never hold that loop up: every socket is
 * non-blocking, a request is at most METRICS_HTTP_REQ_MAX bytes, each connection has a
 * deadline, and at most METRICS_HTTP_CONNS are open at once (more wait in the backlog).
 *
 *   GET or HEAD /metrics   200, the text exposition format 0.0.4 (metrics_render)
 *   another path           404;  another method 405;  a malformed or too long request 400
 */
#ifndef VS_METRICS_HTTP_H
#define VS_METRICS_HTTP_H

#include <poll.h>
#include <stddef.h>

struct metrics_area;
struct router_route;

#define METRICS_HTTP_CONNS 4
#define METRICS_HTTP_REQ_MAX 2048
#define METRICS_HTTP_DEADLINE_MS 3000
/* pollfds metrics_http_fds adds at most */
#define METRICS_HTTP_NFDS (1 + METRICS_HTTP_CONNS)

struct metrics_http_conn {
	int fd;                /* -1: free */
	long long deadline_ms; /* monotonic; closed when it passes */
	size_t got;            /* request bytes read */
	char *out;             /* the answer once the request is in, NULL before */
	size_t out_len, out_off;
	char req[METRICS_HTTP_REQ_MAX + 1];
};

struct metrics_http {
	int listen_fd; /* -1: not serving */
	char path[108];
	struct metrics_http_conn conns[METRICS_HTTP_CONNS];
};

/* Nothing open (so metrics_http_close and the others are harmless). */
void metrics_http_init(struct metrics_http *h);

/* Listens on path (a dead socket left there by an earlier run is replaced; a live one is
 * EADDRINUSE, anything else EEXIST), mode 0600: only the service user (nginx, the master)
 * may connect. -1 with errno on failure. */
int metrics_http_open(struct metrics_http *h, const char *path);

/* Closes every connection and the socket, and removes its path. */
void metrics_http_close(struct metrics_http *h);

/* Adds the pollfds it waits on to fds (room for METRICS_HTTP_NFDS) and returns how many;
 * lowers *timeout_ms (-1: none yet) to its next deadline. */
int metrics_http_fds(struct metrics_http *h, struct pollfd *fds, long long now_ms, int *timeout_ms);

/* After poll: serves what fds[0..n) (as metrics_http_fds filled them) reported, and closes
 * connections past their deadline. table/ntable: the route labels for metrics_render. */
void metrics_http_serve(struct metrics_http *h, const struct pollfd *fds, int n, long long now_ms,
			const struct metrics_area *area, const struct router_route *table,
			size_t ntable);

/* The status for one whole request (its text up to the blank line): 200, 400, 404 or 405;
 * *head: it was a HEAD (no body). Pure, for the unit tests. */
int metrics_http_route(const char *req, int *head);

#endif
