# shellcheck shell=bash
# shellcheck disable=SC2034 # POOL_*: read by the sourcing scripts and the tests
# A private pgbouncer (Debian's, 1.18: no prepared statements in transaction mode, like
# Supabase's pooler on port 6543) in transaction mode in front of the embedded cluster, so
# the workers can be run the way production runs them behind a transaction pooler
# (DATABASE_POOL_MODE=transaction, include/db.h). Unix socket only, in $RUN_DIR (0700: the
# service user and root, as for the cluster's trust-auth socket); run as the service user;
# its configuration and auth file in $VAR_DIR/pgbouncer, its log in $LOG_DIR.
# Needs scripts/lib/common.sh, scripts/lib/procs.sh and scripts/lib/orphans.sh; the cluster
# must be the embedded one (scripts/lib/pg.sh, stack_pg_start).
#
#   stack_pgbouncer_start   starts it (first stopping one a crashed run left) and exports
#                           POOL_DATABASE_URL (the workers' DATABASE_URL through it),
#                           POOL_ADMIN_URL (its admin console), POOL_SIZE, POOL_PIDFILE
#   stack_pgbouncer_stop    stops it: SIGTERM (pgbouncer's immediate shutdown), SIGKILL at
#                           the deadline; also whatever still holds its socket
#
# Settings: POOL_PORT (the socket's number, default PG_PORT + 1), POOL_SIZE (server
# connections, default WORKERS: the pool, not the workers, bounds the database's
# connections), POOL_MAX_CLIENTS (default 4 x WORKERS + 64: every worker, the workers a
# SIGHUP starts before the old ones leave, and the tests' own clients).

PGBOUNCER_BIN=${PGBOUNCER_BIN:-/usr/sbin/pgbouncer}

stack_pgbouncer_config() {
	POOL_PORT=${POOL_PORT:-$((PG_PORT + 1))}
	POOL_SIZE=${POOL_SIZE:-$WORKERS}
	POOL_MAX_CLIENTS=${POOL_MAX_CLIENTS:-$((4 * WORKERS + 64))}
	local v
	for v in POOL_PORT POOL_SIZE POOL_MAX_CLIENTS; do
		if ! stack_is_uint "${!v}" || [ "${!v}" -lt 1 ]; then
			stack_die "$v must be a whole number from 1, not '${!v}'"
		fi
	done
	[ "$POOL_PORT" != "$PG_PORT" ] || stack_die "POOL_PORT must differ from PG_PORT ($PG_PORT)"
	POOL_DIR=$VAR_DIR/pgbouncer
	POOL_PIDFILE=$RUN_DIR/pgbouncer.pid
	POOL_SOCKET=$RUN_DIR/.s.PGSQL.$POOL_PORT
	POOL_LOG=$LOG_DIR/pgbouncer.log
	POOL_DATABASE_URL="host=$RUN_DIR port=$POOL_PORT dbname=vehicles user=postgres"
	POOL_ADMIN_URL="host=$RUN_DIR port=$POOL_PORT dbname=pgbouncer user=postgres"
}

# pgbouncer.ini and the auth file. trust as the cluster has it (the socket's directory is the
# guard); pgbouncer still wants each user listed. query_wait_timeout short: with the cluster
# down a request waits that long for a server before pgbouncer fails it (and drops the
# worker's connection: the worker answers 503 and logs in again, refused at once while
# server_login_retry runs), so an outage still gets quick 503s; the pool holds WORKERS
# servers, so in normal running no request waits for one. server_login_retry short: the
# pool comes back within a second of the cluster.
stack_pgbouncer_write_config() {
	# Made afresh by whoever runs this (root, usually), never chowned to the service
	# user: root writes into it, and must not write through names that user planted.
	# pgbouncer only reads it (its pid and log files are in RUN_DIR and LOG_DIR).
	rm -rf -- "$POOL_DIR"
	mkdir -m 0755 -- "$POOL_DIR" || stack_die "cannot make $POOL_DIR"
	printf '"postgres" ""\n' >"$POOL_DIR/userlist.txt"
	cat >"$POOL_DIR/pgbouncer.ini" <<EOF
; written by scripts/lib/pgbouncer.sh: do not edit (rewritten at every start)
[databases]
vehicles = host=$RUN_DIR port=$PG_PORT dbname=vehicles

[pgbouncer]
pool_mode = transaction
unix_socket_dir = $RUN_DIR
unix_socket_mode = 0700
listen_port = $POOL_PORT
auth_type = trust
auth_file = $POOL_DIR/userlist.txt
admin_users = postgres
pidfile = $POOL_PIDFILE
logfile = $POOL_LOG
max_client_conn = $POOL_MAX_CLIENTS
default_pool_size = $POOL_SIZE
min_pool_size = 0
reserve_pool_size = 0
server_login_retry = 1
server_connect_timeout = 3
query_wait_timeout = 2
server_lifetime = 3600
server_idle_timeout = 600
ignore_startup_parameters = extra_float_digits
log_connections = 0
log_disconnections = 0
EOF
	chmod 0644 "$POOL_DIR/pgbouncer.ini" "$POOL_DIR/userlist.txt"
}

# Waits (10 s at most) until a statement goes through it to the cluster.
stack_pgbouncer_wait() {
	local i
	for ((i = 0; i < 100; i++)); do
		if [ -S "$POOL_SOCKET" ] &&
			[ "$("$PG_BIN/psql" -X -At -d "$POOL_DATABASE_URL" -c 'SELECT 1' 2>/dev/null)" = 1 ]; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

stack_pgbouncer_start() {
	[ -x "$PGBOUNCER_BIN" ] || stack_die "no $PGBOUNCER_BIN (run scripts/deps)"
	[ "${STACK_PG_EMBEDDED:-0}" = 1 ] || stack_die "pgbouncer fronts the embedded cluster only (stack_pg_start first)"
	stack_dirs
	stack_pgbouncer_config
	stack_pgbouncer_stop
	stack_pgbouncer_write_config
	stack_log "starting pgbouncer (transaction mode, socket $POOL_SOCKET, pool $POOL_SIZE, log $POOL_LOG)"
	# -d: it forks, writes its pid file and leaves the shell alone.
	"${AS_SVC[@]}" "$PGBOUNCER_BIN" -d -q "$POOL_DIR/pgbouncer.ini" </dev/null {STACK_LOCK_FD}>&- ||
		{
			tail -n 20 "$POOL_LOG" >&2 || true
			stack_die "pgbouncer did not start"
		}
	stack_pgbouncer_wait || {
		tail -n 20 "$POOL_LOG" >&2 || true
		stack_die "pgbouncer does not answer on $POOL_SOCKET"
	}
	export POOL_DATABASE_URL POOL_ADMIN_URL POOL_SIZE POOL_PIDFILE
}

# The pid file's pgbouncer, and any pgbouncer still holding the socket (a crashed run's
# whose pid file is gone): SIGTERM, then SIGKILL at STOP_TIMEOUT.
stack_pgbouncer_stop() {
	local pid pids inodes
	[ -n "${POOL_PIDFILE:-}" ] || stack_pgbouncer_config
	pids=$(cat "$POOL_PIDFILE" 2>/dev/null || true)
	inodes=$(awk -v p="$POOL_SOCKET" '$8 == p {print $7}' /proc/net/unix 2>/dev/null)
	# shellcheck disable=SC2086 # one inode per word
	pids+=$'\n'$(stack_socket_holders $inodes)
	for pid in $(printf '%s\n' "$pids" | sort -u); do
		stack_pid_is "$pid" pgbouncer || continue
		stack_log "stopping pgbouncer (pid $pid)"
		stack_terminate "$pid" TERM pgbouncer || true
	done
	rm -f "$POOL_PIDFILE" "$POOL_SOCKET" "$POOL_SOCKET.lock"
}
