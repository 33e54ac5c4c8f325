/*
 * The master's metrics endpoint (include/metrics_http.h). One request per connection,
 * answered whole and closed: HTTP/1.0 with Connection: close, which is all nginx's proxy
 * (and a curl by hand) needs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "metrics.h"
#include "metrics_http.h"

#define METRICS_HTTP_BACKLOG 16
#define METRICS_HTTP_TYPE "text/plain; version=0.0.4; charset=utf-8"

void metrics_http_init(struct metrics_http *h)
{
	memset(h, 0, sizeof(*h));
	h->listen_fd = -1;
	for (int i = 0; i < METRICS_HTTP_CONNS; i++)
		h->conns[i].fd = -1;
}

/* Something listens at sa: a connection is taken or queued (a full backlog: EAGAIN). */
static int metrics_http_alive(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), alive;

	if (fd < 0)
		return 0;
	alive = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0 || errno == EAGAIN;
	close(fd);
	return alive;
}

int metrics_http_open(struct metrics_http *h, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path) || strlen(path) >= sizeof(h->path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* A socket left by a master that died is replaced; never a file that happens to have
	 * the name, nor the socket of a master that still serves there (another instance
	 * given the same path). */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode) || metrics_http_alive(&sa)) {
			errno = S_ISSOCK(st.st_mode) ? EADDRINUSE : EEXIST;
			return -1;
		}
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || chmod(path, 0600) != 0 ||
	    listen(fd, METRICS_HTTP_BACKLOG) != 0) {
		int e = errno;

		close(fd);
		unlink(path);
		errno = e;
		return -1;
	}
	h->listen_fd = fd;
	memcpy(h->path, path, strlen(path) + 1);
	return 0;
}

static void metrics_http_drop(struct metrics_http_conn *k)
{
	if (k->fd < 0)
		return;
	/* shutdown, not only close: the fd may also live in a child forked meanwhile (the key
	 * fetcher), and the peer must see the end of the answer now. */
	shutdown(k->fd, SHUT_RDWR);
	close(k->fd);
	free(k->out);
	k->fd = -1;
	k->out = NULL;
	k->got = k->out_len = k->out_off = 0;
}

void metrics_http_close(struct metrics_http *h)
{
	for (int i = 0; i < METRICS_HTTP_CONNS; i++)
		metrics_http_drop(&h->conns[i]);
	if (h->listen_fd >= 0) {
		close(h->listen_fd);
		unlink(h->path);
	}
	h->listen_fd = -1;
}

int metrics_http_fds(struct metrics_http *h, struct pollfd *fds, long long now_ms, int *timeout_ms)
{
	int n = 0, room = 0;

	for (int i = 0; i < METRICS_HTTP_CONNS; i++) {
		struct metrics_http_conn *k = &h->conns[i];
		long long left;

		if (k->fd < 0) {
			room = 1;
			continue;
		}
		fds[n++] = (struct pollfd){.fd = k->fd, .events = k->out ? POLLOUT : POLLIN};
		left = k->deadline_ms > now_ms ? k->deadline_ms - now_ms : 0;
		if (*timeout_ms < 0 || left < *timeout_ms)
			*timeout_ms = (int)left;
	}
	/* Full: new connections wait in the backlog until one ends (by its deadline at worst). */
	if (h->listen_fd >= 0 && room)
		fds[n++] = (struct pollfd){.fd = h->listen_fd, .events = POLLIN};
	return n;
}

int metrics_http_route(const char *req, int *head)
{
	const char *sp = strchr(req, ' '), *target, *end;
	size_t mlen, tlen;

	*head = 0;
	if (sp == NULL)
		return 400;
	mlen = (size_t)(sp - req);
	target = sp + 1;
	end = strpbrk(target, " \r\n");
	if (end == NULL || *end != ' ' || strncmp(end + 1, "HTTP/1.", 7) != 0)
		return 400;
	tlen = strcspn(target, "? ");
	if (tlen != 8 || strncmp(target, "/metrics", 8) != 0)
		return 404;
	if (mlen == 4 && strncmp(req, "HEAD", 4) == 0)
		*head = 1;
	else if (mlen != 3 || strncmp(req, "GET", 3) != 0)
		return 405;
	return 200;
}

static const char *metrics_http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 503: return "Service Unavailable";
	default: return "Bad Request";
	}
}

/* The headers into k->out (which has room for them); their length, 0 when they do not fit. */
static size_t metrics_http_head(char *out, size_t room, int status, size_t body_len)
{
	int n = snprintf(out, room, "HTTP/1.0 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Cache-Control: no-store\r\n%sConnection: close\r\n\r\n", status,
			 metrics_http_reason(status), status == 200 ? METRICS_HTTP_TYPE : "text/plain",
			 body_len, status == 405 ? "Allow: GET, HEAD\r\n" : "");

	return n > 0 && (size_t)n < room ? (size_t)n : 0;
}

#define METRICS_HTTP_HEAD_MAX 256

/* The text into k->out after room for the headers; counters move between the sizing and the
 * writing, so it is rendered again into a larger buffer until it fits. */
static int metrics_http_body(struct metrics_http_conn *k, const struct metrics_area *area,
			     const struct router_route *table, size_t ntable, size_t *len)
{
	size_t cap = metrics_render(area, table, ntable, NULL, 0) + 4096;

	for (int tries = 0; tries < 4; tries++) {
		char *buf = realloc(k->out, METRICS_HTTP_HEAD_MAX + cap);

		if (buf == NULL)
			return -1;
		k->out = buf;
		*len = metrics_render(area, table, ntable, buf + METRICS_HTTP_HEAD_MAX, cap);
		if (*len <= cap)
			return 0;
		cap = *len + 4096;
	}
	return -1;
}

/* The request is whole: the answer goes in k->out, headers first. */
static void metrics_http_answer(struct metrics_http_conn *k, const struct metrics_area *area,
				const struct router_route *table, size_t ntable)
{
	int head, status = metrics_http_route(k->req, &head);
	size_t blen = 0, hlen;
	static const char err_body[] = "see GET /metrics\n";
	const char *body = err_body;

	if (status == 200 && area == NULL)
		status = 503;
	if (status == 200 && metrics_http_body(k, area, table, ntable, &blen) != 0)
		status = 503;
	if (status == 200)
		body = k->out + METRICS_HTTP_HEAD_MAX;
	else
		blen = sizeof(err_body) - 1;
	if (k->out == NULL && (k->out = malloc(METRICS_HTTP_HEAD_MAX + blen)) == NULL) {
		metrics_http_drop(k);
		return;
	}
	hlen = metrics_http_head(k->out, METRICS_HTTP_HEAD_MAX, status, blen);
	if (head)
		blen = 0;
	/* The headers end where the body starts: move them up to meet it (or the error text
	 * after them). */
	if (status == 200) {
		memmove(k->out + METRICS_HTTP_HEAD_MAX - hlen, k->out, hlen);
		k->out_off = METRICS_HTTP_HEAD_MAX - hlen;
	} else {
		memcpy(k->out + hlen, body, blen);
		k->out_off = 0;
	}
	k->out_len = k->out_off + hlen + blen;
}

static void metrics_http_write(struct metrics_http_conn *k)
{
	while (k->out_off < k->out_len) {
		ssize_t w = send(k->fd, k->out + k->out_off, k->out_len - k->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (w <= 0)
			break;
		k->out_off += (size_t)w;
	}
	metrics_http_drop(k);
}

static void metrics_http_read(struct metrics_http_conn *k, const struct metrics_area *area,
			      const struct router_route *table, size_t ntable)
{
	for (;;) {
		ssize_t r = recv(k->fd, k->req + k->got, METRICS_HTTP_REQ_MAX - k->got, MSG_DONTWAIT);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (r <= 0) {
			metrics_http_drop(k); /* gone before its request was whole */
			return;
		}
		k->got += (size_t)r;
		k->req[k->got] = '\0';
		if (strstr(k->req, "\r\n\r\n") || strstr(k->req, "\n\n") ||
		    k->got == METRICS_HTTP_REQ_MAX) {
			/* (a request that fills the buffer without ending is answered 400) */
			if (k->got == METRICS_HTTP_REQ_MAX && !strstr(k->req, "\n\n") &&
			    !strstr(k->req, "\r\n\r\n"))
				k->req[0] = '\0';
			metrics_http_answer(k, area, table, ntable);
			if (k->fd >= 0)
				metrics_http_write(k);
			return;
		}
	}
}

static void metrics_http_accept(struct metrics_http *h, long long now_ms)
{
	for (int i = 0; i < METRICS_HTTP_CONNS; i++) {
		struct metrics_http_conn *k = &h->conns[i];
		int fd;

		if (k->fd >= 0)
			continue;
		fd = accept4(h->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return; /* EAGAIN: nobody else waits; anything else: try at the next poll */
		k->fd = fd;
		k->deadline_ms = now_ms + METRICS_HTTP_DEADLINE_MS;
		k->got = 0;
		k->req[0] = '\0';
	}
}

void metrics_http_serve(struct metrics_http *h, const struct pollfd *fds, int n, long long now_ms,
			const struct metrics_area *area, const struct router_route *table,
			size_t ntable)
{
	for (int j = 0; j < n; j++) {
		if (fds[j].revents == 0)
			continue;
		for (int i = 0; i < METRICS_HTTP_CONNS; i++) {
			struct metrics_http_conn *k = &h->conns[i];

			if (k->fd != fds[j].fd)
				continue;
			if (k->out)
				metrics_http_write(k);
			else
				metrics_http_read(k, area, table, ntable);
			break;
		}
	}
	for (int i = 0; i < METRICS_HTTP_CONNS; i++)
		if (h->conns[i].fd >= 0 && now_ms >= h->conns[i].deadline_ms)
			metrics_http_drop(&h->conns[i]);
	/* Accepted last: a connection taken now is not mistaken for one polled above. */
	for (int j = 0; j < n; j++)
		if (fds[j].fd == h->listen_fd && fds[j].revents)
			metrics_http_accept(h, now_ms);
}
