# shellcheck shell=bash
# shellcheck disable=SC2034 # STACK_WORKERS_PID: read by the sourcing scripts
# The FastCGI workers: spawn-fcgi binds $FCGI_SOCKET and execs the service's own
# prefork master (`vehicle-worker --master`, src/master.c), which keeps
# $WORKERS vehicle-worker processes on it and never gives up on one.
# Needs scripts/lib/common.sh and scripts/lib/procs.sh; stack_reload and
# stack_serve also need scripts/lib/nginx.sh.
#
# The worker count lives in one place: WORKERS_FILE (default $VAR_DIR/workers),
# when it exists, holds the number and wins over WORKERS. The master reads it
# at start and on SIGHUP; so does stack_reload (scripts/run, the container entry
# on SIGHUP), which renders nginx's configuration from the same number:
#   echo 8 >var/workers && kill -HUP <pid of scripts/run>

# WORKERS_FILE's absolute path and the environment's WORKERS (the count when the
# file is absent), settled once.
stack_workers_config() {
	WORKERS_FILE=$(stack_abs "${WORKERS_FILE:-$VAR_DIR/workers}")
	STACK_WORKERS_ENV=${STACK_WORKERS_ENV:-$WORKERS}
}

# METRICS_SOCKET: where the master serves its metrics (src/metrics_http.c) and
# nginx's metrics listener proxies to (default $RUN_DIR/metrics.sock), passed to
# the master. A path nginx's proxy_pass can name: no spaces, quotes, ';', ':'.
stack_metrics_socket() {
	METRICS_SOCKET=$(stack_abs "${METRICS_SOCKET:-$RUN_DIR/metrics.sock}")
	if [[ $METRICS_SOCKET =~ [[:space:]\;{}\"\':] ]] || [ ${#METRICS_SOCKET} -gt 100 ]; then
		stack_die "METRICS_SOCKET '$METRICS_SOCKET' must be a path of at most 100 bytes without spaces, quotes, ';', ':' or braces"
	fi
}

# Prints the worker count: WORKERS_FILE's number when that file exists, else
# WORKERS. Fails (with a warning) on a file that holds anything else. Run
# stack_workers_config first (in this shell, not the $(...) of the call).
stack_workers_count() {
	local n
	if [ ! -e "$WORKERS_FILE" ]; then
		printf '%s\n' "$STACK_WORKERS_ENV"
		return 0
	fi
	n=$(tr -d ' \t\r\n' <"$WORKERS_FILE") || return 1
	if ! stack_is_uint "$n" || [ "$n" -lt 1 ] || [ "$n" -gt 256 ]; then
		stack_warn "$WORKERS_FILE must hold a whole number from 1 to 256, not '$n'"
		return 1
	fi
	printf '%s\n' "$((10#$n))"
}

# The worker's own verdict on its settings and keys (src/config.c holds the
# production rules), before anything is spawned: a refused configuration fails
# here, once, with the worker's message. (The master checks again itself.)
stack_workers_check() {
	[ -x "$WORKER_BIN" ] || stack_die "no $WORKER_BIN (run scripts/build)"
	stack_workers_config
	WORKERS=$(stack_workers_count) || stack_die "refusing to start: see $WORKERS_FILE"
	WORKERS=$WORKERS "$WORKER_BIN" --check-config </dev/null ||
		stack_die "vehicle-worker refuses this configuration (VEHICLE_ENV=$VEHICLE_ENV)"
}

# stack_workers_start LOG: LOG is a file for worker stdout/stderr, or "-" for
# this shell's stderr. Sets STACK_WORKERS_PID (spawn-fcgi -n execs the master,
# so it is the master's pid).
stack_workers_start() {
	local log=${1:--} pidfile=$RUN_DIR/workers.pid i
	stack_workers_check
	stack_dirs
	if [ -e "$FCGI_SOCKET" ]; then
		[ -S "$FCGI_SOCKET" ] || stack_die "$FCGI_SOCKET exists and is not a socket"
		# spawn-fcgi refuses a socket something still answers on; stack_stop
		# has run, so whatever is there is left over.
		rm -f "$FCGI_SOCKET"
	fi
	stack_log "starting $WORKERS workers on $FCGI_SOCKET"
	# setsid: a Ctrl-C in the terminal reaches this script only, which then
	# stops the workers in order. The master gets WORKERS (the environment's)
	# and WORKERS_FILE, and reads the file itself, now and on SIGHUP.
	# The socket's listen backlog matches nginx's max_conns (WORKERS x FCGI_QUEUE_PER_WORKER,
	# scripts/lib/nginx.sh): what nginx may queue, the kernel holds (capped at somaxconn).
	if declare -F stack_nginx_sizing >/dev/null; then stack_nginx_sizing; fi
	stack_metrics_socket
	local cmd=(/usr/bin/env WORKERS="$STACK_WORKERS_ENV" WORKERS_FILE="$WORKERS_FILE"
		METRICS_SOCKET="$METRICS_SOCKET"
		RATE_WRITE="$RATE_WRITE" RATE_BURST_WRITE="$RATE_BURST_WRITE"
		RATE_READ="$RATE_READ" RATE_BURST_READ="$RATE_BURST_READ"
		RATE_ANON="$RATE_ANON" RATE_BURST_ANON="$RATE_BURST_ANON"
		/usr/bin/spawn-fcgi -n -s "$FCGI_SOCKET" -M 0600 -b "${STACK_FCGI_MAX_CONNS:-1024}"
		-- "$WORKER_BIN" --master)
	if [ "$log" = - ]; then
		setsid "${AS_SVC[@]}" "${cmd[@]}" </dev/null 1>&2 {STACK_LOCK_FD}>&- &
	else
		setsid "${AS_SVC[@]}" "${cmd[@]}" </dev/null >>"$log" 2>&1 {STACK_LOCK_FD}>&- &
	fi
	STACK_WORKERS_PID=$!
	printf '%s\n' "$STACK_WORKERS_PID" >"$pidfile"
	for ((i = 0; i < 100; i++)); do
		[ -S "$FCGI_SOCKET" ] && break
		stack_alive "$STACK_WORKERS_PID" || break
		sleep 0.1
	done
	if ! stack_alive "$STACK_WORKERS_PID" || [ ! -S "$FCGI_SOCKET" ]; then
		[ "$log" = - ] || tail -n 20 "$log" >&2 || true
		stack_die "workers did not start"
	fi
}

# SIGTERM to the master: each worker finishes the request in hand, then all
# exit; after STOP_TIMEOUT, SIGKILL for the master and whatever is left of them.
stack_workers_stop() {
	local pidfile=$RUN_DIR/workers.pid pid rc=0
	# Our own child ($!) may still be spawn-fcgi; a pid read from a file (a
	# crashed run's) must be the master itself.
	if [ -n "${STACK_WORKERS_PID:-}" ]; then
		pid=$STACK_WORKERS_PID
	else
		pid=$(cat "$pidfile" 2>/dev/null || true)
		stack_pid_is "$pid" vehicle-master || pid=
	fi
	if [ -n "$pid" ] && stack_alive "$pid"; then
		stack_log "stopping workers (master $pid)"
		stack_terminate "$pid" TERM workers || rc=1
	fi
	rm -f "$pidfile" "$FCGI_SOCKET"
	STACK_WORKERS_PID=
	return $rc
}

# SIGHUP to the running stack: the worker count again (WORKERS_FILE), nginx's
# configuration rendered and checked with it and nginx reloaded, then SIGHUP to
# the master, which replaces its workers one at a time (fork and exec: a new
# build takes effect) with no request lost. Fails, changing nothing it has not
# done yet, when the count or the new nginx configuration is refused.
stack_reload() {
	local n
	stack_workers_config
	n=$(stack_workers_count) || return 1
	WORKERS=$n
	stack_log "reload: $WORKERS workers; re-rendering nginx's configuration"
	# (In a subshell: stack_nginx_render dies on a bad setting, and a reload
	# must not take the running stack down with it.)
	(stack_nginx_render) || return 1
	stack_nginx_cmd
	if ! "${AS_SVC[@]}" "${NGINX_CMD[@]}" -q -t; then
		stack_warn "nginx rejected the new $NGINX_DIR/nginx.conf"
		return 1
	fi
	kill -HUP "$STACK_NGINX_PID" || return 1
	stack_log "reload: nginx reloaded; the master ($STACK_WORKERS_PID) replaces its workers"
	kill -HUP "$STACK_WORKERS_PID"
}

# Waits until the master or nginx exits and returns that status; a SIGHUP to
# this shell meanwhile runs stack_reload (a failed one keeps everything as it
# was). Needs STACK_WORKERS_PID and STACK_NGINX_PID.
stack_serve() {
	local rc
	STACK_HUP=0
	trap 'STACK_HUP=1' HUP
	while :; do
		if [ "$STACK_HUP" = 1 ]; then
			STACK_HUP=0
			stack_reload || stack_warn "reload failed; still serving with the previous settings"
		fi
		rc=0
		wait -n "$STACK_WORKERS_PID" "$STACK_NGINX_PID" || rc=$?
		# A trapped signal ends `wait` early; only a real exit ends the service.
		if [ "$STACK_HUP" = 1 ] && stack_alive "$STACK_WORKERS_PID" && stack_alive "$STACK_NGINX_PID"; then
			continue
		fi
		trap - HUP
		return "$rc"
	done
}
