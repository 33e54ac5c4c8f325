/*
 * The prefork master (include/master.h). One thread, one poll loop: the signals it handles
 * stay blocked and arrive on a signalfd (no handler ever runs, so nothing unsafe happens in
 * one), each child's ready byte arrives on a pipe. master_plan decides, the rest carries out.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "config.h"
#include "jwks_fetch.h"
#include "log.h"
#include "master.h"
#include "metrics.h"
#include "metrics_http.h"
#include "routes.h"
#include "shm.h"

static const struct log_ctx master_log = {.op = "master"};

/* What a child needs between fork and exec. */
struct master_exec {
	const char *exe;
	sigset_t child_mask; /* the signal mask the master started with, for the children */
	pid_t self;
	int shm_fd;             /* the instance's shared memory (include/shm.h), -1: none */
	struct shm_region *shm;
	struct config cfg;      /* the settings in force (SIGHUP replaces them) */
	struct metrics_http http; /* the metrics socket (METRICS_SOCKET), served in the loop */
};

/* Every child the table can hold has a metrics slot (include/metrics.h). */
_Static_assert(METRICS_SLOTS >= MASTER_MAX_KIDS, "a metrics slot for every worker");

/* A key fetcher that ended is started again after this long (it retries inside itself). */
#define MASTER_FETCHER_BACKOFF_MS 1000

int master_backoff_ms(unsigned fails)
{
	long ms = MASTER_BACKOFF_FIRST_MS;

	if (fails == 0)
		return 0;
	for (unsigned i = 1; i < fails && ms < MASTER_BACKOFF_MAX_MS; i++)
		ms *= 2;
	return ms < MASTER_BACKOFF_MAX_MS ? (int)ms : MASTER_BACKOFF_MAX_MS;
}

struct master_counts {
	int cur_live, cur_ready, cur_starting; /* this generation, not stopping */
	int old_live;                          /* older generations, not stopping */
	int old_pick; /* the old child to stop first: a starting one, else the oldest */
	int cur_pick; /* the surplus child to stop first: the newest starting one, else the newest */
};

/* The table is in start order (master_forget keeps it so). */
static void master_count(const struct master_pool *p, struct master_counts *n)
{
	memset(n, 0, sizeof(*n));
	n->old_pick = n->cur_pick = -1;
	for (int i = 0; i < p->nkids; i++) {
		const struct master_child *k = &p->kids[i];
		int starting = k->state == MASTER_STARTING;

		if (k->state == MASTER_STOPPING)
			continue;
		if (k->gen != p->gen) {
			n->old_live++;
			if (n->old_pick < 0 || (starting && p->kids[n->old_pick].state != MASTER_STARTING))
				n->old_pick = i;
			continue;
		}
		n->cur_live++;
		if (starting)
			n->cur_starting++;
		else
			n->cur_ready++;
		if (starting || n->cur_pick < 0 || p->kids[n->cur_pick].state != MASTER_STARTING)
			n->cur_pick = i;
	}
}

enum master_step master_plan(const struct master_pool *p, long long now_ms, int *victim)
{
	struct master_counts n;
	int may_spawn;

	*victim = -1;
	if (p->stopping)
		return MASTER_IDLE;
	master_count(p, &n);
	may_spawn = now_ms >= p->next_spawn_ms && p->nkids < MASTER_MAX_KIDS;
	if (n.old_live > 0) {
		/* Replacing (SIGHUP): one new child at a time, and an old one stops only once a new
		 * one is ready, so the pool never serves with fewer than it had. */
		if (n.cur_ready + n.old_live > p->want) {
			*victim = n.old_pick;
			return MASTER_STOP;
		}
		return may_spawn && n.cur_starting == 0 ? MASTER_SPAWN : MASTER_IDLE;
	}
	if (n.cur_live > p->want) {
		*victim = n.cur_pick;
		return MASTER_STOP;
	}
	/* After a failed start, one probe at a time: a crash loop costs one process per backoff. */
	if (n.cur_live < p->want && may_spawn && (p->fails == 0 || n.cur_starting == 0))
		return MASTER_SPAWN;
	return MASTER_IDLE;
}

err_t master_check_config(const struct config *cfg, const char **why)
{
	struct auth_keys *keys = NULL;

	if (auth_keys_load_config(&keys, cfg, why) != ERR_OK)
		return ERR_VALIDATION;
	auth_keys_free(keys);
	return ERR_OK;
}

static const char *master_getenv(const char *name)
{
	return getenv(name);
}

static long long master_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The pool size: WORKERS_FILE's number when that file exists, else WORKERS. -1: logged. */
static int master_want(const struct config *cfg, int *out)
{
	const char *path = getenv("WORKERS_FILE");
	char buf[64];
	size_t n;
	FILE *f;

	*out = cfg->workers;
	if (path == NULL || *path == '\0')
		return 0;
	f = fopen(path, "re");
	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		log_error(&master_log, "WORKERS_FILE %s: %s", path, strerror(errno));
		return -1;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (n == sizeof(buf) - 1 || config_parse_workers(buf, out) != ERR_OK) {
		log_error(&master_log, "WORKERS_FILE %s must hold a whole number from 1 to %d",
			  path, CONFIG_WORKERS_MAX);
		return -1;
	}
	return 0;
}

/* In the child, between fork and exec: die with the master, get the signals back, become a
 * worker. The master is single-threaded, so anything may be called here. */
static void master_child_exec(const struct master_exec *x, int ready_wr, char *fdtext)
{
	char flag[] = "--ready-fd", shm_flag[] = "--shm-fd", shm_text[16];
	char *argv[] = {(char *)x->exe, flag, fdtext, NULL, NULL, NULL};

	/* PDEATHSIG survives exec: no worker outlives the master holding the socket. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != x->self)
		_exit(126);
	if (fcntl(ready_wr, F_SETFD, 0) != 0)
		_exit(126);
	if (x->shm_fd >= 0) {
		snprintf(shm_text, sizeof(shm_text), "%d", x->shm_fd); /* an int always fits */
		if (fcntl(x->shm_fd, F_SETFD, 0) != 0)
			_exit(126);
		argv[3] = shm_flag;
		argv[4] = shm_text;
	}
	sigprocmask(SIG_SETMASK, &x->child_mask, NULL);
	if (strchr(x->exe, '/') != NULL)
		execv(x->exe, argv);
	else
		execvp(x->exe, argv);
	log_error(&master_log, "cannot run %s: %s", x->exe, strerror(errno));
	_exit(127);
}

static int master_spawn(struct master_pool *p, const struct master_exec *x)
{
	char fdtext[16];
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) != 0) {
		log_error(&master_log, "cannot start a worker: pipe: %s", strerror(errno));
		return -1;
	}
	snprintf(fdtext, sizeof(fdtext), "%d", fds[1]); /* an int always fits */
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		master_child_exec(x, fds[1], fdtext);
	}
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		log_error(&master_log, "cannot start a worker: fork: %s", strerror(errno));
		return -1;
	}
	p->kids[p->nkids++] = (struct master_child){.pid = pid, .ready_fd = fds[0], .gen = p->gen,
						    .state = MASTER_STARTING};
	metrics_worker_started();
	log_info(&master_log, "worker %d started", (int)pid);
	return 0;
}

static void master_stop_kid(struct master_pool *p, int i)
{
	struct master_child *k = &p->kids[i];

	k->state = MASTER_STOPPING;
	/* The worker blocks SIGTERM while it serves: it finishes the request in hand first. */
	if (kill(k->pid, SIGTERM) != 0 && errno != ESRCH)
		log_warn(&master_log, "worker %d: SIGTERM: %s", (int)k->pid, strerror(errno));
}

/* Carries out master_plan's steps until there is nothing to do. */
static void master_converge(struct master_pool *p, const struct master_exec *x, long long now)
{
	enum master_step step;
	int victim;

	while ((step = master_plan(p, now, &victim)) != MASTER_IDLE) {
		if (step == MASTER_STOP) {
			log_info(&master_log, "stopping worker %d (%s)", (int)p->kids[victim].pid,
				 p->kids[victim].gen != p->gen ? "replaced" : "surplus");
			master_stop_kid(p, victim);
		} else if (master_spawn(p, x) != 0) {
			/* Like a start that failed: the same backoff. */
			p->fails++;
			p->next_spawn_ms = now + master_backoff_ms(p->fails);
		}
	}
}

/* The key fetcher (include/jwks_fetch.h): one per instance, started again when it ends. */
static void master_fetcher(struct master_pool *p, struct master_exec *x, long long now)
{
	pid_t pid;

	if (p->stopping || p->fetcher_pid != 0 || now < p->fetcher_next_ms)
		return;
	pid = jwks_fetch_spawn(&x->cfg, x->shm, 0);
	if (pid < 0) {
		log_error(&master_log, "cannot start the key fetcher: %s", strerror(errno));
		p->fetcher_next_ms = now + MASTER_FETCHER_BACKOFF_MS;
		return;
	}
	p->fetcher_pid = pid;
	if (pid > 0)
		log_info(&master_log, "key fetcher %d started", (int)pid);
	else
		p->fetcher_next_ms = LLONG_MAX; /* none configured: until a SIGHUP says otherwise */
}

static int master_find(const struct master_pool *p, pid_t pid)
{
	for (int i = 0; i < p->nkids; i++)
		if (p->kids[i].pid == pid)
			return i;
	return -1;
}

/* The child's ready pipe is readable: its byte (it serves) or EOF (it is going). */
static void master_on_ready(struct master_pool *p, int i)
{
	struct master_child *k = &p->kids[i];
	char b;
	ssize_t n = read(k->ready_fd, &b, 1);

	if (n < 0 && errno == EINTR)
		return;
	close(k->ready_fd);
	k->ready_fd = -1;
	if (n == 1 && k->state == MASTER_STARTING) {
		k->state = MASTER_READY;
		p->fails = 0;
		p->next_spawn_ms = 0;
		log_info(&master_log, "worker %d ready", (int)k->pid);
	}
}

static void master_status_text(int status, char *buf, size_t len)
{
	int n;

	if (WIFEXITED(status))
		n = snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		n = snprintf(buf, len, "killed by signal %d (%s)%s", WTERMSIG(status),
			     strsignal(WTERMSIG(status)), WCOREDUMP(status) ? ", core dumped" : "");
	else
		n = snprintf(buf, len, "wait status %#x", (unsigned)status);
	if (n < 0 && len > 0)
		buf[0] = '\0';
}

/* Logs a reaped child's end and takes it out of the table. "died" is for every end the
 * master did not ask for (scripts/test looks for it); "stopped" for a clean asked-for one. */
static void master_forget(struct master_pool *p, int i, int status, long long now)
{
	struct master_child *k = &p->kids[i];
	char why[96];
	int pid = (int)k->pid;

	master_status_text(status, why, sizeof(why));
	metrics_worker_reaped(k->pid);
	if (k->state == MASTER_STOPPING) {
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			log_info(&master_log, "worker %d stopped", pid);
		} else {
			metrics_worker_died(METRICS_DIED_STOPPING);
			log_warn(&master_log, "worker %d died while stopping (%s)", pid, why);
		}
	} else if (k->state == MASTER_READY) {
		metrics_worker_died(METRICS_DIED_SERVING);
		log_error(&master_log, "worker %d died (%s) while serving; starting another", pid, why);
	} else {
		metrics_worker_died(METRICS_DIED_STARTING);
		p->fails++;
		p->next_spawn_ms = now + master_backoff_ms(p->fails);
		log_error(&master_log, "worker %d died (%s) before it was ready; next start in %d ms "
			  "(%u failed starts in a row)", pid, why, master_backoff_ms(p->fails), p->fails);
	}
	if (k->ready_fd >= 0)
		close(k->ready_fd);
	memmove(&p->kids[i], &p->kids[i + 1], (size_t)(p->nkids - i - 1) * sizeof(p->kids[0]));
	p->nkids--;
}

static void master_reap(struct master_pool *p, long long now)
{
	int status, i;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == p->fetcher_pid) {
			char why[96];

			master_status_text(status, why, sizeof(why));
			if (p->stopping)
				log_info(&master_log, "key fetcher %d stopped (%s)", (int)pid, why);
			else
				log_warn(&master_log, "key fetcher %d ended (%s); starting another in %d ms",
					 (int)pid, why, MASTER_FETCHER_BACKOFF_MS);
			p->fetcher_pid = 0;
			p->fetcher_next_ms = now + MASTER_FETCHER_BACKOFF_MS;
			continue;
		}
		i = master_find(p, pid);
		if (i < 0)
			continue; /* not one of ours (nothing else forks here) */
		/* A ready byte written just before the end still counts: it was serving. */
		if (p->kids[i].ready_fd >= 0)
			master_on_ready(p, i);
		master_forget(p, i, status, now);
	}
}

static void master_shutdown(struct master_pool *p, int sig)
{
	if (!p->stopping) {
		log_info(&master_log, "%s: stopping %d workers after the request in hand",
			 strsignal(sig), p->nkids);
		p->stopping = 1;
		/* Never starts another: the socket goes away with the last worker. */
		close(0);
	}
	for (int i = 0; i < p->nkids; i++)
		master_stop_kid(p, i);
	if (p->fetcher_pid > 0)
		kill(p->fetcher_pid, SIGTERM);
}

/* The metrics socket at path (NULL: none), opened or moved there; a failure is logged and
 * leaves the instance without metrics, never without workers. */
static void master_metrics_socket(struct master_exec *x, const char *path)
{
	const char *now = x->http.listen_fd >= 0 ? x->http.path : NULL;

	if ((now == NULL && path == NULL) || (now != NULL && path != NULL && strcmp(now, path) == 0))
		return;
	metrics_http_close(&x->http);
	if (path == NULL)
		return;
	if (metrics_http_open(&x->http, path) != 0)
		log_error(&master_log, "metrics socket %s: %s; no metrics until a SIGHUP or restart",
			  path, strerror(errno));
	else
		log_info(&master_log, "metrics on %s", path);
}

/* SIGHUP: the settings again (a refused one changes nothing), then a new generation. */
static void master_reload(struct master_pool *p, struct master_exec *x)
{
	struct config cfg;
	const char *why = NULL;
	int want;

	if (p->stopping)
		return;
	if (config_load(&cfg, master_getenv, &why) != ERR_OK ||
	    master_check_config(&cfg, &why) != ERR_OK) {
		log_error(&master_log, "SIGHUP: configuration refused (%s); the workers keep running",
			  why ? why : "unusable");
		return;
	}
	if (master_want(&cfg, &want) != 0) {
		log_error(&master_log, "SIGHUP: worker count refused; the workers keep running");
		return;
	}
	log_info(&master_log, "SIGHUP: replacing %d workers one at a time; %d workers from now on",
		 p->nkids, want);
	p->want = want;
	p->gen++;
	master_metrics_socket(x, cfg.metrics_socket);
	/* The fetcher takes the new settings by being started again (reaped, then spawned). */
	x->cfg = cfg;
	if (p->fetcher_pid > 0)
		kill(p->fetcher_pid, SIGTERM);
	else
		p->fetcher_next_ms = 0;
	/* An operator's reload after a fix tries at once. */
	p->fails = 0;
	p->next_spawn_ms = 0;
}

static void master_on_signals(struct master_pool *p, struct master_exec *x, int sfd)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			master_shutdown(p, (int)si.ssi_signo);
		else if (si.ssi_signo == SIGHUP)
			master_reload(p, x);
	}
	master_reap(p, master_now_ms()); /* SIGCHLD, or anything: WNOHANG is cheap */
}

/* How long the loop may sleep: until the next start after a backoff, or the fetcher's. */
static int master_timeout(const struct master_pool *p, long long now)
{
	int timeout = -1;

	if (!p->stopping && p->next_spawn_ms > now)
		timeout = (int)(p->next_spawn_ms - now);
	if (!p->stopping && p->fetcher_pid == 0 && p->fetcher_next_ms != LLONG_MAX) {
		long long t = p->fetcher_next_ms > now ? p->fetcher_next_ms - now : 0;

		if (timeout < 0 || t < timeout)
			timeout = (int)t;
	}
	return timeout;
}

/* One poll: the signalfd, the ready pipes of starting children and the metrics sockets,
 * until the next deadline at most. -1: poll itself failed. */
static int master_wait(struct master_pool *p, struct master_exec *x, int sfd)
{
	static struct pollfd fds[1 + MASTER_MAX_KIDS + METRICS_HTTP_NFDS];
	static pid_t pids[1 + MASTER_MAX_KIDS];
	long long now = master_now_ms();
	int nfds = 1, timeout = master_timeout(p, now), nkid, nm, n;

	fds[0] = (struct pollfd){.fd = sfd, .events = POLLIN};
	for (int i = 0; i < p->nkids; i++) {
		if (p->kids[i].ready_fd < 0)
			continue;
		pids[nfds] = p->kids[i].pid;
		fds[nfds++] = (struct pollfd){.fd = p->kids[i].ready_fd, .events = POLLIN};
	}
	nkid = nfds;
	nm = metrics_http_fds(&x->http, fds + nkid, now, &timeout);
	n = poll(fds, (nfds_t)(nkid + nm), timeout);
	if (n < 0)
		return errno == EINTR ? 0 : -1;
	for (int j = 1; j < nkid; j++) {
		int i = fds[j].revents ? master_find(p, pids[j]) : -1;

		if (i >= 0 && p->kids[i].ready_fd >= 0)
			master_on_ready(p, i);
	}
	metrics_http_serve(&x->http, fds + nkid, nm, master_now_ms(), &x->shm->metrics, routes_table,
			   routes_count);
	if (fds[0].revents)
		master_on_signals(p, x, sfd);
	return 0;
}

/* The signals the loop handles: default action (a launcher's SIG_IGN would drop them before
 * they are pending), then blocked and read from a signalfd. */
static int master_signals(sigset_t *old)
{
	static const int sigs[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP};
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		signal(sigs[i], SIG_DFL);
		sigaddset(&set, sigs[i]);
	}
	if (sigprocmask(SIG_BLOCK, &set, old) != 0)
		return -1;
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static int master_listening(int fd)
{
	int on = 0;
	socklen_t len = sizeof(on);

	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on;
}

int master_run(const struct config *cfg, const char *exe)
{
	struct master_exec x = {.exe = exe, .self = getpid(), .shm_fd = -1, .cfg = *cfg};
	struct master_pool *p;
	int sfd, want, code = 0;

	if (!master_listening(0)) {
		log_error(&master_log, "fd 0 is not a listening socket: start the master under "
			  "spawn-fcgi (spawn-fcgi -s SOCKET -- vehicle-worker --master)");
		return 2;
	}
	if (master_want(cfg, &want) != 0)
		return 2;
	p = calloc(1, sizeof(*p));
	sfd = p != NULL ? master_signals(&x.child_mask) : -1;
	if (sfd < 0 || shm_create(&x.shm, &x.shm_fd) != ERR_OK) {
		log_error(&master_log, "cannot set up: %s", strerror(errno));
		if (sfd >= 0)
			close(sfd);
		free(p);
		return 1;
	}
	prctl(PR_SET_NAME, "vehicle-master");
	metrics_master_start();
	metrics_http_init(&x.http);
	master_metrics_socket(&x, cfg->metrics_socket);
	p->want = want;
	log_info(&master_log, "master: %d workers on fd 0 (%s)", want, exe);
	for (;;) {
		long long now = master_now_ms();

		master_converge(p, &x, now);
		master_fetcher(p, &x, now);
		if (p->stopping && p->nkids == 0)
			break;
		if (master_wait(p, &x, sfd) != 0) {
			/* Leaving kills the workers too (PDEATHSIG): a supervisor above restarts all. */
			log_error(&master_log, "poll: %s; exiting", strerror(errno));
			code = 1;
			break;
		}
	}
	if (code == 0)
		log_info(&master_log, "all workers stopped");
	metrics_http_close(&x.http);
	close(sfd);
	free(p);
	return code;
}
