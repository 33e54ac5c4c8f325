# shellcheck shell=bash
# shellcheck disable=SC2034 # REDIS_*: read by the sourcing scripts and the tests
# A private redis-server for the list cache (include/list_cache.h) of a test stack: Debian's
# redis-server (scripts/deps), on a Unix socket in $RUN_DIR (0700: the service user and root
# only, no TCP port), nothing persisted, run as the service user, its log in $LOG_DIR.
# Needs scripts/lib/common.sh and scripts/lib/procs.sh. Sourced by scripts/test.
#
#   stack_redis_start   starts it (first stopping one a crashed run left), exports REDIS_URL
#                       for the workers, and for the tests REDIS_SOCKET, REDIS_PIDFILE and
#                       REDIS_START (a shell command that starts it again, as it is now:
#                       tests stop it, pause it with SIGSTOP, start it again)
#   stack_redis_stop    stops it (the one REDIS_PIDFILE names, if it is redis-server)

REDIS_BIN=${REDIS_BIN:-/usr/bin/redis-server}

stack_redis_config() {
	REDIS_SOCKET=$RUN_DIR/redis.sock
	REDIS_PIDFILE=$RUN_DIR/redis.pid
	REDIS_LOG=$LOG_DIR/redis.log
	# --daemonize yes: the server writes its pid file and leaves the shell alone; a test that
	# starts it again gets the same server. maxmemory with LRU: a cache, never an error.
	REDIS_CMD=("${AS_SVC[@]}" "$REDIS_BIN" --port 0 --unixsocket "$REDIS_SOCKET"
		--unixsocketperm 700 --daemonize yes --pidfile "$REDIS_PIDFILE" --logfile "$REDIS_LOG"
		--dir "$RUN_DIR" --save "" --appendonly no --maxmemory 64mb
		--maxmemory-policy allkeys-lru)
}

# Waits (5 s at most) until the socket answers PING.
stack_redis_wait() {
	local i
	for ((i = 0; i < 50; i++)); do
		if [ -S "$REDIS_SOCKET" ] && [ "$(redis-cli -s "$REDIS_SOCKET" ping 2>/dev/null)" = PONG ]; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

stack_redis_start() {
	[ -x "$REDIS_BIN" ] || stack_die "no $REDIS_BIN (run scripts/deps)"
	stack_dirs
	stack_redis_config
	stack_redis_stop
	rm -f "$REDIS_SOCKET"
	stack_log "starting redis-server (socket $REDIS_SOCKET, log $REDIS_LOG)"
	"${REDIS_CMD[@]}" {STACK_LOCK_FD}>&- || stack_die "redis-server did not start (see $REDIS_LOG)"
	stack_redis_wait || stack_die "redis-server does not answer on $REDIS_SOCKET (see $REDIS_LOG)"
	REDIS_START=$(printf '%q ' "${REDIS_CMD[@]}")
	export REDIS_URL="unix:$REDIS_SOCKET" REDIS_SOCKET REDIS_PIDFILE REDIS_START
}

stack_redis_stop() {
	local pid
	[ -n "${REDIS_PIDFILE:-}" ] || stack_redis_config
	pid=$(cat "$REDIS_PIDFILE" 2>/dev/null || true)
	if stack_pid_is "$pid" redis-server; then
		# A paused server (a test's SIGSTOP) would never see the TERM.
		kill -CONT "$pid" 2>/dev/null || true
		stack_terminate "$pid" TERM redis-server || true
	fi
	rm -f "$REDIS_PIDFILE" "$REDIS_SOCKET"
}
