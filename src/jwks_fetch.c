/*
 * The JWKS fetcher (include/jwks_fetch.h): one process per instance, forked by the master,
 * that keeps the shared key set (include/keyshare.h) up to date from
 * $SUPABASE_URL/auth/v1/.well-known/jwks.json. It fetches at start, every JWKS_REFRESH_S
 * seconds, and when a worker met an unknown kid (at most once per
 * KEYSHARE_MISS_INTERVAL_MS); a failed fetch (no answer, not 200, too large, not a JWKS, no
 * usable key) changes nothing but the status and is retried sooner, with a backoff. Only a
 * set whose keys differ from the published ones is published, and each change is logged
 * by kid (never key material).
 */
#if !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* close_range */
#endif
#include "jwks_fetch.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "config.h"
#include "jwks.h"
#include "keyshare.h"
#include "log.h"
#include "shm.h"

#define JWKS_FETCH_PATH "/auth/v1/.well-known/jwks.json"
#define JWKS_FETCH_CONNECT_MS 3000L /* connect (and TLS) bound */
#define JWKS_FETCH_TOTAL_MS 5000L   /* whole transfer bound */
#define JWKS_FETCH_POLL_NS (50L * 1000 * 1000) /* how often it looks for kid misses */
#define JWKS_FETCH_RETRY_MIN_MS 1000
#define JWKS_FETCH_RETRY_MAX_MS 30000
#define JWKS_FETCH_URL_MAX 2048

static const struct log_ctx jwks_fetch_log = {.op = "jwks"};

struct jwks_fetch_buf {
	char *data;
	size_t len;
	int too_big;
};

/* libcurl's write callback: keeps at most JWKS_MAX_BYTES, aborts the transfer beyond. */
static size_t jwks_fetch_write(char *ptr, size_t size, size_t n, void *user)
{
	struct jwks_fetch_buf *b = user;
	size_t add = size * n;

	if (add > JWKS_MAX_BYTES - b->len) {
		b->too_big = 1;
		return 0;
	}
	memcpy(b->data + b->len, ptr, add);
	b->len += add;
	return add;
}

/* One GET, bounded in time and size, no redirects, http(s) only, TLS verified.
 * *http gets the status (0: no answer). */
static enum keyshare_status jwks_fetch_get(CURL *h, const char *url, const char *reason,
					   struct jwks_fetch_buf *b, long *http)
{
	struct curl_slist *hdr, *more;
	char why_hdr[64];
	CURLcode rc;
	int n = snprintf(why_hdr, sizeof(why_hdr), "X-Fetch-Reason: %s", reason);

	if (n < 0 || (size_t)n >= sizeof(why_hdr))
		memcpy(why_hdr, "X-Fetch-Reason: -", sizeof("X-Fetch-Reason: -"));
	b->len = 0;
	b->too_big = 0;
	*http = 0;
	/* curl_slist_append answers NULL (the list untouched) when memory is short. */
	if ((hdr = curl_slist_append(NULL, "Accept: application/json")) == NULL)
		return KEYSHARE_CONNECT;
	if ((more = curl_slist_append(hdr, why_hdr)) == NULL) {
		curl_slist_free_all(hdr);
		return KEYSHARE_CONNECT;
	}
	hdr = more;
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, JWKS_FETCH_CONNECT_MS);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, JWKS_FETCH_TOTAL_MS);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)JWKS_MAX_BYTES);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "vehicle-service-jwks/1");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, jwks_fetch_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, http);
	curl_slist_free_all(hdr);
	if (b->too_big || rc == CURLE_FILESIZE_EXCEEDED)
		return KEYSHARE_TOO_BIG;
	if (rc != CURLE_OK)
		return *http ? KEYSHARE_HTTP : KEYSHARE_CONNECT;
	return *http == 200 ? KEYSHARE_OK : KEYSHARE_HTTP;
}

/* Whether b holds every key of a (same alg, kid and key). */
static int jwks_fetch_has(const struct jwks_set *b, const struct jwks_key *k)
{
	const struct jwks_key *o = jwks_find(b, k->alg, k->kid);

	if (k->kid == NULL) /* jwks_find(NULL) is "the only one": compare by hand */
		for (size_t i = 0; i < b->count && o == NULL; i++)
			if (b->keys[i].kid == NULL && b->keys[i].alg == k->alg)
				o = &b->keys[i];
	return o != NULL && o->pem_len == k->pem_len && memcmp(o->pem, k->pem, k->pem_len) == 0;
}

/* A kid as log text: printable, short, never the key. */
static void jwks_fetch_kid_text(const struct jwks_key *k, char *out, size_t cap)
{
	const char *s = k->kid ? k->kid : "(no kid)";
	size_t i;

	for (i = 0; s[i] && i + 1 < cap && i < 64; i++)
		out[i] = (s[i] > ' ' && s[i] < 127 && s[i] != '"') ? s[i] : '?';
	out[i] = '\0';
}

/* Appends " +kid" / " -kid" for each key of a missing from b. */
static void jwks_fetch_diff(const struct jwks_set *a, const struct jwks_set *b, char sign,
			    char *out, size_t cap)
{
	char kid[72];
	size_t used = strlen(out);

	for (size_t i = 0; i < a->count; i++) {
		if (jwks_fetch_has(b, &a->keys[i]))
			continue;
		jwks_fetch_kid_text(&a->keys[i], kid, sizeof(kid));
		int n = snprintf(out + used, cap - used, " %c%s", sign, kid);
		if (n < 0 || (size_t)n >= cap - used)
			return; /* the line is long enough */
		used += (size_t)n;
	}
}

/* A validated set: published when its keys differ from *last (which it then replaces). */

static void jwks_fetch_offer(struct keyshare_area *a, struct jwks_set *last, struct jwks_set *fresh,
			     const char *text, size_t len)
{
	char diff[512] = "";
	sigset_t all, old;

	jwks_fetch_diff(fresh, last, '+', diff, sizeof(diff));
	jwks_fetch_diff(last, fresh, '-', diff, sizeof(diff));
	if (diff[0] == '\0') {
		jwks_set_free(fresh); /* the same keys: nothing to tell the workers */
		return;
	}
	/* No SIGTERM in the middle of a publish: it would leave the seqlock odd. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	keyshare_publish(a, text, len, (unsigned)fresh->count);
	sigprocmask(SIG_SETMASK, &old, NULL);
	log_info(&jwks_fetch_log, "key set changed:%s (%zu keys, generation %llu)", diff,
		 fresh->count, (unsigned long long)keyshare_gen(a));
	jwks_set_free(last);
	*last = *fresh;
}

/* One fetch and its verdict; 1 when the answer was a usable set. */
static int jwks_fetch_once(CURL *h, const char *url, const char *reason, struct keyshare_area *a,
			   struct jwks_set *last, struct jwks_fetch_buf *b)
{
	struct jwks_set fresh = {0};
	const char *why = "?";
	long http = 0;
	enum keyshare_status st = jwks_fetch_get(h, url, reason, b, &http);

	if (st == KEYSHARE_OK && jwks_parse(&fresh, b->data, b->len, &why) != ERR_OK)
		st = KEYSHARE_BAD_JSON;
	else if (st == KEYSHARE_OK && fresh.count == 0)
		st = KEYSHARE_NO_KEY;
	if (st != KEYSHARE_OK) {
		jwks_set_free(&fresh);
		/* Logged each time: a failing fetch retries at most every JWKS_FETCH_RETRY_MAX_MS. */
		log_warn(&jwks_fetch_log, "key set fetch (%s) failed: %s (HTTP %ld%s%s); keeping the "
			 "%zu keys we have", reason, keyshare_status_text(st), http,
			 st == KEYSHARE_BAD_JSON ? ", " : "", st == KEYSHARE_BAD_JSON ? why : "",
			 last->count);
		keyshare_set_status(a, st, http);
		return 0;
	}
	keyshare_set_status(a, KEYSHARE_OK, http);
	jwks_fetch_offer(a, last, &fresh, b->data, b->len);
	return 1;
}

/* The set published before this fetcher started (an earlier fetcher's): the baseline that
 * changes are logged against, so a restart neither logs nor publishes the same keys again. */
static void jwks_fetch_baseline(struct keyshare_area *a, struct jwks_set *last, const char *url)
{
	char *text = NULL;
	size_t len = 0;
	uint64_t gen = 0, source = 1469598103934665603ULL; /* FNV-1a of the URL */
	const char *why = NULL;

	for (const unsigned char *p = (const unsigned char *)url; *p; p++)
		source = (source ^ *p) * 1099511628211ULL;
	if (__atomic_exchange_n(&a->source, source, __ATOMIC_ACQ_REL) != source &&
	    keyshare_gen(a) != 0) {
		/* A SIGHUP to another project: its keys must not outlive the change, so the set is
		 * emptied (workers drop the fetched keys) until this URL answers. */
		log_warn(&jwks_fetch_log, "SUPABASE_URL changed: the keys fetched from the previous "
			 "one are dropped");
		keyshare_publish(a, "", 0, 0);
		return;
	}
	if (keyshare_read(a, &text, &len, &gen) == ERR_OK && jwks_parse(last, text, len, &why) != ERR_OK)
		jwks_set_free(last);
	free(text);
}

struct jwks_fetch_state {
	CURL *h;
	char url[JWKS_FETCH_URL_MAX];
	struct keyshare_area *a;
	struct jwks_set last;
	struct jwks_fetch_buf buf;
	int64_t next_ms;  /* the next periodic fetch */
	int64_t retry_ms; /* the wait after a failed one (doubles, capped) */
	int64_t refresh_ms;
};

/* One turn of the loop: a kid-miss answer, or the periodic fetch when it is due. */
static void jwks_fetch_turn(struct jwks_fetch_state *s)
{
	int64_t now = keyshare_now_ms();
	uint64_t req;
	int ok;

	if (keyshare_miss_pending(s->a, &req)) {
		/* The asking worker claimed the 30 s window (keyshare_reader_miss): fetch now. */
		jwks_fetch_once(s->h, s->url, "kid-miss", s->a, &s->last, &s->buf);
		keyshare_miss_answer(s->a, req);
		return;
	}
	if (now < s->next_ms)
		return;
	ok = jwks_fetch_once(s->h, s->url, s->last.count ? "refresh" : "start", s->a, &s->last, &s->buf);
	if (ok) {
		s->retry_ms = JWKS_FETCH_RETRY_MIN_MS;
		s->next_ms = keyshare_now_ms() + s->refresh_ms;
		return;
	}
	s->next_ms = keyshare_now_ms() + (s->retry_ms < s->refresh_ms ? s->retry_ms : s->refresh_ms);
	s->retry_ms = s->retry_ms * 2 > JWKS_FETCH_RETRY_MAX_MS ? JWKS_FETCH_RETRY_MAX_MS : s->retry_ms * 2;
}

static int jwks_fetch_url(char *out, size_t cap, const char *base)
{
	size_t n = strlen(base);
	int w;

	while (n > 0 && base[n - 1] == '/')
		n--; /* "https://x.supabase.co/" names the same project */
	w = snprintf(out, cap, "%.*s%s", (int)n, base, JWKS_FETCH_PATH);
	return w > 0 && (size_t)w < cap ? 0 : -1;
}

/* The child: never returns. */
static void jwks_fetch_run(const struct config *cfg, struct keyshare_area *a)
{
	const struct timespec poll = {0, JWKS_FETCH_POLL_NS};
	struct jwks_fetch_state s = {.a = a, .retry_ms = JWKS_FETCH_RETRY_MIN_MS};

	s.refresh_ms = (int64_t)(cfg->jwks_refresh_s > 0 ? cfg->jwks_refresh_s : CONFIG_JWKS_REFRESH_DEFAULT) * 1000;
	if (jwks_fetch_url(s.url, sizeof(s.url), cfg->supabase_url) != 0) {
		log_error(&jwks_fetch_log, "SUPABASE_URL is too long");
		_exit(2);
	}
	s.buf.data = malloc(JWKS_MAX_BYTES + 1);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || (s.h = curl_easy_init()) == NULL ||
	    s.buf.data == NULL) {
		log_error(&jwks_fetch_log, "cannot set up libcurl");
		_exit(1);
	}
	jwks_fetch_baseline(a, &s.last, s.url);
	log_info(&jwks_fetch_log, "key fetcher: %s every %d s (%zu keys already shared)", s.url,
		 (int)(s.refresh_ms / 1000), s.last.count);
	for (;;) {
		jwks_fetch_turn(&s);
		nanosleep(&poll, NULL);
	}
}

/* The child's process state: only what it needs from the master. */
static void jwks_fetch_child_setup(pid_t master, int listen_fd)
{
	sigset_t none;
	int fd;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != master)
		_exit(0); /* the master is already gone */
	prctl(PR_SET_NAME, "vehicle-jwks");
	/* The master's signals are blocked for its signalfd; here they take their default. */
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Not the FastCGI socket, nor the master's pipes and signalfd: only stdio. */
	if (listen_fd >= 0)
		close(listen_fd);
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0 && fd != 0) {
		dup2(fd, 0);
		close(fd);
	}
	close_range(3, ~0U, 0);
}

pid_t jwks_fetch_spawn(const struct config *cfg, struct shm_region *shm, int listen_fd)
{
	pid_t master = getpid(), pid;

	if (cfg->supabase_url == NULL || shm == NULL)
		return 0;
	pid = fork();
	if (pid != 0)
		return pid;
	jwks_fetch_child_setup(master, listen_fd);
	jwks_fetch_run(cfg, &shm->keys);
	_exit(0);
}
