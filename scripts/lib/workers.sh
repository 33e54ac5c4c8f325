# shellcheck shell=bash
# shellcheck disable=SC2034 # STACK_WORKERS_PID: read by the sourcing scripts
# The FastCGI workers: spawn-fcgi binds $FCGI_SOCKET, multiwatch keeps $WORKERS
# vehicle-worker processes alive on it.
# Needs scripts/lib/common.sh and scripts/lib/procs.sh.

# The worker's own verdict on its settings (src/config.c holds the production
# rules), before any worker is spawned: a refused configuration fails here,
# once, with the worker's message, instead of multiwatch respawning it forever.
stack_workers_check() {
	[ -x "$WORKER_BIN" ] || stack_die "no $WORKER_BIN (run scripts/build)"
	"$WORKER_BIN" --check-config </dev/null ||
		stack_die "vehicle-worker refuses this configuration (VEHICLE_ENV=$VEHICLE_ENV)"
}

# stack_workers_start LOG: LOG is a file for worker stdout/stderr, or "-" for
# this shell's stderr. Sets STACK_WORKERS_PID (spawn-fcgi execs multiwatch, so
# it is multiwatch's pid).
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
	# stops the workers in order.
	# multiwatch turns our SIGTERM into SIGUSR1 for each worker: libfcgi's own
	# graceful-stop signal (FCGX_Accept_r returns -1 once the request in hand
	# is done). No `-s`: Debian's multiwatch 1.0.0 maps `-s NAME` to the wrong
	# signal (`-s TERM` sends SIGQUIT, `-s HUP` sends nothing).
	if [ "$log" = - ]; then
		setsid "${AS_SVC[@]}" /usr/bin/spawn-fcgi -n -s "$FCGI_SOCKET" -M 0600 -- \
			/usr/bin/multiwatch -f "$WORKERS" -- "$WORKER_BIN" \
			</dev/null 1>&2 {STACK_LOCK_FD}>&- &
	else
		setsid "${AS_SVC[@]}" /usr/bin/spawn-fcgi -n -s "$FCGI_SOCKET" -M 0600 -- \
			/usr/bin/multiwatch -f "$WORKERS" -- "$WORKER_BIN" \
			</dev/null >>"$log" 2>&1 {STACK_LOCK_FD}>&- &
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

stack_workers_stop() {
	local pidfile=$RUN_DIR/workers.pid pid rc=0
	# Our own child ($!) may not have exec'd into multiwatch yet; a pid read
	# from a file (a crashed run's) must be multiwatch itself.
	if [ -n "${STACK_WORKERS_PID:-}" ]; then
		pid=$STACK_WORKERS_PID
	else
		pid=$(cat "$pidfile" 2>/dev/null || true)
		stack_pid_is "$pid" multiwatch || pid=
	fi
	if [ -n "$pid" ] && stack_alive "$pid"; then
		stack_log "stopping workers (multiwatch $pid)"
		stack_terminate "$pid" TERM workers || rc=1
	fi
	rm -f "$pidfile" "$FCGI_SOCKET"
	STACK_WORKERS_PID=
	return $rc
}
