/*
 * The worker process. libfcgi serves one request at a time per process; concurrency comes
 * from several processes (the prefork master's children, src/master.c) sharing spawn-fcgi's
 * listening socket on fd 0. Everything a request allocates hangs off struct ctx and is freed
 * by ctx_reset().
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "auth.h"
#include "body.h"
#include "config.h"
#include "db.h"
#include "metrics.h"
#include "ratelimit.h"
#include "routes.h"
#include "shm.h"
#include "valid.h"
#include "worker.h"

static volatile sig_atomic_t worker_stop;

/* SIGTERM, SIGINT, SIGUSR1 (libfcgi's own stop signal): stop after the request in hand.
 * worker_signals keeps them blocked except inside worker_wait's epoll_pwait, so this runs only
 * while the worker waits for a connection: no read or write of a request is ever cut short
 * by EINTR (libfcgi treats one as a broken stream). */
static void worker_on_signal(int sig)
{
	(void)sig;
	worker_stop = 1;
}

static const char *worker_status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

/* The first buffer for a body of unknown length (no CONTENT_LENGTH): most bodies fit, and a
 * GET does not pay for a BODY_MAX_BYTES allocation it never fills. */
#define WORKER_BODY_FIRST 4096

/* Reads the body into c->body, refusing more than BODY_MAX_BYTES whatever the headers say.
 * *eof: the whole FastCGI stdin was read (so the connection can be closed at once). */
static err_t worker_read_body(struct ctx *c, FCGX_Request *req, int *eof)
{
	const char *cl = FCGX_GetParam("CONTENT_LENGTH", req->envp);
	long want = -1;
	size_t cap, len = 0;

	*eof = 0;
	if (cl && *cl && (valid_parse_int(cl, 0, 1L << 40, &want) != 0))
		return ERR_VALIDATION;
	if (want > BODY_MAX_BYTES)
		return ERR_TOO_LARGE;
	/* One byte past what is announced (or allowed) tells a longer body from a full one. */
	cap = want >= 0 ? (size_t)want + 1 : WORKER_BODY_FIRST;
	if ((c->body = malloc(cap + 1)) == NULL)
		return ERR_INTERNAL;
	for (;;) {
		int n;
		if (len == cap) {
			char *more;
			if (cap > BODY_MAX_BYTES)
				break;
			cap = cap * 2 > (size_t)BODY_MAX_BYTES + 1 ? (size_t)BODY_MAX_BYTES + 1 : cap * 2;
			if ((more = realloc(c->body, cap + 1)) == NULL)
				return ERR_INTERNAL;
			c->body = more;
		}
		if ((n = FCGX_GetStr(c->body + len, (int)(cap - len), req->in)) <= 0) {
			*eof = 1;
			break;
		}
		len += (size_t)n;
	}
	c->body[len] = '\0';
	c->body_len = len;
	return len > BODY_MAX_BYTES ? ERR_TOO_LARGE : ERR_OK;
}

/* Writes the answer; returns its status (what the client gets: nginx passes it on). */
static int worker_reply(struct ctx *c, FCGX_Request *req, err_t rc)
{
	json_object *err = NULL;
	const char *text;
	int status = rc == ERR_OK ? c->status : err_status(rc);

	if (rc != ERR_OK) {
		err = json_object_new_object();
		json_object_object_add(err, "error", json_object_new_string(err_code(rc)));
		json_object_object_add(err, "message",
				       json_object_new_string(c->err_msg ? c->err_msg : err_message(rc)));
		if (c->err_details) {
			json_object_object_add(err, "details", c->err_details);
			c->err_details = NULL; /* now owned by err */
		}
		text = json_object_to_json_string_ext(err, CTX_JSON_FLAGS);
		if (status >= 500)
			log_error(&c->log, "%s %s -> %d %s", c->method ? c->method : "-",
				  c->path ? c->path : "-", status, err_code(rc));
	} else {
		text = json_object_to_json_string_ext(c->out, CTX_JSON_FLAGS);
	}
	FCGX_FPrintF(req->out, "Status: %d %s\r\nContent-Type: application/json; charset=utf-8\r\n"
		     "Cache-Control: no-store\r\n", status, worker_status_text(status));
	if (rc == ERR_OK && c->total_count >= 0)
		FCGX_FPrintF(req->out, "X-Total-Count: %ld\r\n", c->total_count);
	if (rc == ERR_OK && c->replayed)
		FCGX_PutS("Idempotent-Replayed: true\r\n", req->out);
	if (rc == ERR_METHOD && c->allow[0])
		FCGX_FPrintF(req->out, "Allow: %s\r\n", c->allow);
	if (rc == ERR_UNAUTHORIZED)
		FCGX_PutS("WWW-Authenticate: Bearer\r\n", req->out);
	/* The database is down, or a statement or lock wait ran past its bound: the service's
	 * trouble, worth a retry shortly. */
	if (rc == ERR_UNAVAILABLE)
		FCGX_PutS("Retry-After: 2\r\n", req->out);
	if (rc == ERR_RATE_LIMITED && c->retry_after > 0)
		FCGX_FPrintF(req->out, "Retry-After: %ld\r\n", c->retry_after);
	FCGX_PutS("\r\n", req->out);
	/* HEAD: GET's status and headers, no body (nginx would drop it; no need to send it) */
	if (strcmp(c->method ? c->method : "", "HEAD") != 0)
		FCGX_PutS(text, req->out);
	json_object_put(err);
	return status;
}

/* When nginx passes no bound (QUEUE_WAIT_MAX_MS): about a second, the issue's figure. */
#define WORKER_QUEUE_WAIT_MS 1000L
/* How long a worker waits idle before it gives back free memory (worker_trim). */
#define WORKER_IDLE_TRIM_MS 200

/*
 * 1 when the request waited in the FastCGI socket's queue longer than its bound: nginx
 * passes the time it handed the request on (REQUEST_START, its $msec: "seconds.mmm") and the
 * bound (QUEUE_WAIT_MAX_MS; 0 turns the check off). Debian's nginx has no upstream queue, so
 * this is where a saturated pool says 503 instead of letting the queue grow without bound:
 * the client has likely given up, and the answer costs no database work. A missing or
 * malformed stamp, or a clock that went back, never refuses anything.
 */
static int worker_waited_too_long(const char *start, const char *bound_ms)
{
	long bound = WORKER_QUEUE_WAIT_MS, sec, msec = 0;
	struct timespec now;
	const char *dot;
	char secs[24];

	if (bound_ms && *bound_ms && valid_parse_int(bound_ms, 0, 3600000L, &bound) != 0)
		bound = WORKER_QUEUE_WAIT_MS;
	if (bound == 0 || start == NULL || (dot = strchr(start, '.')) == NULL ||
	    (size_t)(dot - start) >= sizeof(secs) || strlen(dot + 1) != 3)
		return 0;
	memcpy(secs, start, (size_t)(dot - start));
	secs[dot - start] = '\0';
	if (valid_parse_int(secs, 0, 1L << 40, &sec) != 0 ||
	    valid_parse_int(dot + 1, 0, 999, &msec) != 0 ||
	    clock_gettime(CLOCK_REALTIME, &now) != 0)
		return 0;
	return ((long)now.tv_sec - sec) * 1000L + now.tv_nsec / 1000000L - msec > bound;
}

/* The metrics row of a request: its route table entry; no route matched (404, 405); or,
 * when it was answered before its route was looked up (a body refused, a queue wait too
 * long, the rate limit), the route its path would have taken, looked up now (only requests
 * refused early, and 404s, pay for a second lookup). */
static size_t worker_metrics_route(const struct ctx *c)
{
	const struct router_route *r = c->route;

	if (r == NULL &&
	    router_lookup(routes_table, routes_count, c->method, c->path, &r, NULL, NULL, 0) !=
		    ROUTER_FOUND)
		r = NULL;
	return r != NULL ? (size_t)(r - routes_table) : METRICS_ROUTE_UNMATCHED;
}

/* A streamed answer's writes (ctx.h: sink), all of buf or -1. */
static int worker_sink(void *arg, const char *buf, size_t len)
{
	FCGX_Stream *out = arg;

	while (len > 0) {
		int n = len > 65536 ? 65536 : (int)len;
		if (FCGX_PutStr(buf, n, out) != n)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* How a request's connection ends: as libfcgi does (waiting for nginx to close its side),
 * at once (its whole stdin was read), or cut (a streamed answer failed after its head). */
enum worker_end { WORKER_END_WAIT, WORKER_END_NOW, WORKER_END_CUT };

/* Serves one request. *status, *route: for the metrics. */
static enum worker_end worker_handle(struct ctx *c, FCGX_Request *req, int *status, size_t *route)
{
	int eof;
	char **env = req->envp;
	const char *uri;
	err_t rc;

	c->now = time(NULL);
	c->method = FCGX_GetParam("REQUEST_METHOD", env);
	uri = FCGX_GetParam("DOCUMENT_URI", env);
	c->path = uri ? uri : FCGX_GetParam("SCRIPT_NAME", env);
	c->content_type = FCGX_GetParam("CONTENT_TYPE", env);
	c->idem_key = FCGX_GetParam("HTTP_IDEMPOTENCY_KEY", env);
	c->authorization = FCGX_GetParam("HTTP_AUTHORIZATION", env);
	c->remote_addr = FCGX_GetParam("REMOTE_ADDR", env);
	c->log.request_id = FCGX_GetParam("REQUEST_ID", env);
	if (c->method == NULL)
		c->method = "GET";
	if (c->path == NULL)
		c->path = "/";
	c->sink = worker_sink;
	c->sink_arg = req->out;
	ctx_parse_query(c, FCGX_GetParam("QUERY_STRING", env));

	rc = worker_read_body(c, req, &eof);
	if (rc == ERR_VALIDATION)
		rc = ctx_fail(c, ERR_VALIDATION, "invalid Content-Length", NULL);
	/* (after the body: nginx has written it whole; the liveness probe is always answered) */
	if (rc == ERR_OK && strcmp(c->path, "/health") != 0 &&
	    worker_waited_too_long(FCGX_GetParam("REQUEST_START", env),
				   FCGX_GetParam("QUEUE_WAIT_MAX_MS", env)))
		rc = ctx_fail(c, ERR_UNAVAILABLE, "The service is saturated; retry shortly", NULL);
	if (rc == ERR_OK)
		rc = routes_dispatch(c);
	*route = worker_metrics_route(c);
	if (c->streamed && rc != ERR_OK) {
		log_error(&c->log, "%s %s: streamed answer cut short (%s)", c->method, c->path,
			  err_code(rc));
		*status = 500;
		return WORKER_END_CUT;
	}
	*status = c->streamed ? c->status : worker_reply(c, req, rc);
	return eof ? WORKER_END_NOW : WORKER_END_WAIT;
}

/* Ends the connection so that nginx fails the response it is passing on: it closes the
 * client's connection without the last chunk, and the client knows the document is
 * truncated. Closing alone would not do: without fastcgi_keep_conn, nginx takes the end of
 * the connection for the end of the answer, END_REQUEST or not. A record header of
 * protocol version 0 (after the whole records libfcgi wrote; what it still buffers is
 * dropped) is an upstream error to nginx. */
static void worker_cut(FCGX_Request *req)
{
	static const unsigned char bad[8]; /* version 0: "unsupported FastCGI protocol version" */

	/* (a failed write: nginx is gone already, and there is nothing left to cut) */
	ssize_t n = req->ipcFd >= 0 ? write(req->ipcFd, bad, sizeof(bad)) : -1;

	(void)n;
	(void)FCGX_Detach(req); /* no shutdown-and-wait: close at once */
	FCGX_Free(req, 1);
}

/* Installs the stop handler before FCGX_Init (libfcgi then keeps it) and blocks the stop
 * signals; *open is the mask that lets them in again. */
static int worker_signals(sigset_t *open)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGUSR1};
	struct sigaction sa;
	sigset_t stop;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = worker_on_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&stop);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		if (sigaction(sigs[i], &sa, NULL) != 0)
			return -1;
		sigaddset(&stop, sigs[i]);
	}
	signal(SIGPIPE, SIG_IGN);
	if (sigprocmask(SIG_BLOCK, &stop, open) != 0)
		return -1;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigdelset(open, sigs[i]);
	return 0;
}

static void worker_trim(void);

/* Waits until fd 0 has a connection or a stop signal came in. 0: accept; -1: stop. epfd
 * watches fd 0 with EPOLLEXCLUSIVE, so a connection wakes one idle worker, not all of them.
 * A worker idle for WORKER_IDLE_TRIM_MS gives back the free memory of its last requests
 * (worker_trim) and waits on. */
static int worker_wait(int epfd, const sigset_t *open)
{
	struct epoll_event ev;
	int timeout = WORKER_IDLE_TRIM_MS;

	while (!worker_stop) {
		int n = epoll_pwait(epfd, &ev, 1, timeout, open);

		if (n > 0)
			return 0;
		if (n == 0) {
			worker_trim();
			timeout = -1;
		} else if (errno != EINTR) {
			return -1;
		}
	}
	return -1;
}

/* fd 0 non-blocking (for every process sharing it: the flag belongs to the socket), so a
 * worker that loses the race for a connection goes back to waiting instead of blocking in
 * accept() where no stop signal may reach it; and an epoll set that watches it. */
static int worker_listen_setup(const struct log_ctx *log)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE};
	int fl = fcntl(0, F_GETFL), epfd;

	if (fl < 0 || fcntl(0, F_SETFL, fl | O_NONBLOCK) != 0) {
		log_error(log, "fd 0: %s", strerror(errno));
		return -1;
	}
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, 0, &ev) != 0) {
		log_error(log, "fd 0: epoll: %s", strerror(errno));
		if (epfd >= 0)
			close(epfd);
		return -1;
	}
	return epfd;
}

/* Free memory a worker keeps in its heap before it gives it back (malloc_trim): a large
 * answer's pages go back to the kernel, so a worker's memory follows what it holds, not the
 * largest answer it ever built; below this the pages stay for the next request, without a
 * system call and the page faults of taking them again. */
#define WORKER_TRIM_FREE_BYTES (512u * 1024u)
/* mallinfo2 walks the heap's free lists (2% of a read's worker time when asked after every
 * request): a busy worker asks after every WORKER_TRIM_EVERY requests, an idle one once it
 * has been idle WORKER_IDLE_TRIM_MS, so what it holds idle still follows what it uses. */
#define WORKER_TRIM_EVERY 32u

static void worker_trim(void)
{
	if (mallinfo2().fordblks > WORKER_TRIM_FREE_BYTES)
		malloc_trim(0);
}

static void worker_trim_now_and_then(void)
{
	static unsigned n;

	if (++n % WORKER_TRIM_EVERY == 0)
		worker_trim();
}

static uint64_t worker_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts); /* (the vDSO: no system call) */
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The accept loop, until a stop signal; 1 when fd 0 fails. */
static int worker_serve(struct ctx *c, FCGX_Request *req, const sigset_t *open,
			const struct log_ctx *log)
{
	int epfd = worker_listen_setup(log), code = 0;

	if (epfd < 0)
		return 1;
	while (worker_wait(epfd, open) == 0) {
		int rc = FCGX_Accept_r(req), status;
		size_t route;
		uint64_t t0;

		if (rc == -EAGAIN || rc == -EINTR || rc == -ECONNABORTED)
			continue;
		if (rc < 0) {
			log_error(log, "accept on fd 0 failed (%d)", rc);
			code = 1;
			break;
		}
		/* libfcgi's close shuts down our side and then waits, polling, for nginx to
		 * close its own: a TCP habit (unread input there would reset the connection and
		 * lose the answer). On this Unix socket, with the request read to its end,
		 * nothing can be lost, so the worker closes at once and takes the next request
		 * instead of waiting on nginx's event loop. */
		t0 = worker_now_us();
		metrics_request_begin();
		switch (worker_handle(c, req, &status, &route)) {
		case WORKER_END_CUT:
			worker_cut(req);
			break;
		case WORKER_END_NOW:
			if (FCGX_Detach(req) != 0)
				log_warn(log, "FastCGI detach failed");
			/* fall through */
		default:
			FCGX_Finish_r(req);
			break;
		}
		metrics_request_end(route, status, worker_now_us() - t0);
		ctx_reset(c);
		worker_trim_now_and_then();
	}
	close(epfd);
	return code;
}

/* Tells the master (--ready-fd) that this worker serves from now on. */
static void worker_ready(int fd, const struct log_ctx *log)
{
	if (fd < 0)
		return;
	if (write(fd, "R", 1) != 1)
		log_warn(log, "could not tell the master it is ready: %s", strerror(errno));
	close(fd);
}

int worker_run(const struct config *cfg, int ready_fd)
{
	const char *why = NULL;
	const struct log_ctx log = {.op = "worker"};
	struct auth_keys *keys = NULL;
	FCGX_Request req;
	struct ctx c;
	sigset_t open;
	int code = 1;

	if (auth_keys_load_config(&keys, cfg, &why) != ERR_OK) {
		log_error(&log, "no usable token keys (%s): set SUPABASE_URL, SUPABASE_JWT_SECRET or SUPABASE_JWKS",
			  why ? why : "unknown");
		return 1;
	}
	/* No trimming and no growing of the heap's top on every request (glibc's default
	 * trims at 128 KiB free): worker_trim decides when pages go back. */
	if (mallopt(M_TRIM_THRESHOLD, 4 * 1024 * 1024) != 1 || mallopt(M_TOP_PAD, 256 * 1024) != 1)
		log_warn(&log, "mallopt failed; the heap is trimmed at glibc's defaults");
	/* The instance's shared buckets; a worker started alone keeps its own. */
	if (shm_get() == NULL)
		log_warn(&log, "no shared memory (started without the master): rate limits per worker");
	if (ratelimit_setup(cfg->rates, shm_get() ? &shm_get()->limits : NULL) != ERR_OK) {
		log_error(&log, "rate limits: no memory for the buckets");
		auth_keys_free(keys);
		return 1;
	}
	ctx_init(&c);
	c.keys = keys;
	c.conn = db_open(cfg->database_url);
	if (c.conn == NULL)
		goto out;
	if (worker_signals(&open) != 0) {
		log_error(&log, "signal setup failed: %s", strerror(errno));
		goto out;
	}
	if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0) {
		log_error(&log, "FastCGI init failed");
		goto out;
	}
	/* Connect now so the first request does not pay for it; failure is not fatal. */
	if (db_connect_now(c.conn, &log) != 0)
		log_warn(&log, "database not reachable at start; will retry per request");
	log_info(&log, "worker ready");
	metrics_worker_attach();
	worker_ready(ready_fd, &log);
	code = worker_serve(&c, &req, &open, &log);
	FCGX_Free(&req, 1);
	log_info(&log, "worker stopping");
out:
	ctx_reset(&c);
	db_close(c.conn);
	auth_keys_free(keys);
	return code;
}
