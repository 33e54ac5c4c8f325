# shellcheck shell=bash
# shellcheck disable=SC2034 # PG_CTL_CMD, STACK_PG_EMBEDDED: read by the sourcing scripts
# The embedded PostgreSQL cluster in $PG_DATA_DIR ($VAR_DIR/pg), Unix socket
# only, for a machine without DATABASE_URL. Not for the container.
# Needs scripts/lib/common.sh and scripts/lib/procs.sh.

# How the service user runs PostgreSQL's programs: from $VAR_DIR when it cannot
# enter the current directory (a private checkout; initdb and postgres would
# complain they cannot change back to it).
stack_pg_as_svc() {
	STACK_PG_SVC=("${AS_SVC[@]}")
	if [ ${#AS_SVC[@]} -gt 0 ] && ! stack_svc_reaches "$PWD"; then
		STACK_PG_SVC+=(env -C "$VAR_DIR")
	fi
}

# The command prefix for pg_ctl on the embedded cluster (also given to tests).
stack_pg_ctl_cmd() {
	stack_pg_as_svc
	PG_CTL_CMD=("${STACK_PG_SVC[@]}" "$PG_BIN/pg_ctl" -D "$PG_DATA_DIR" -l "$LOG_DIR/postgres.log")
}

# A fresh cluster with this stack's settings in postgresql.conf.
stack_pg_initdb() {
	rm -rf "$PG_DATA_DIR" # a half-made cluster from an interrupted initdb
	stack_log "initdb $PG_DATA_DIR"
	local initdb_flags=(-D "$PG_DATA_DIR" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8)
	[ "${STACK_PG_EPHEMERAL:-0}" = 1 ] && initdb_flags+=(--no-sync)
	stack_pg_as_svc
	"${STACK_PG_SVC[@]}" "$PG_BIN/initdb" "${initdb_flags[@]}" >"$LOG_DIR/initdb.log" 2>&1 ||
		{
			cat "$LOG_DIR/initdb.log" >&2
			stack_die "initdb failed"
		}
	# Settings live in postgresql.conf so a bare `pg_ctl start` (tests
	# restarting the cluster) gets the same server.
	{
		printf '\n# --- vehicle service (scripts/lib/pg.sh) ---\n'
		printf "listen_addresses = ''\n"
		printf "port = %s\n" "$PG_PORT"
		printf "unix_socket_directories = '%s'\n" "$RUN_DIR"
		# trust auth: only the socket's owner (and root) may connect.
		printf 'unix_socket_permissions = 0700\n'
		printf "timezone = 'UTC'\n"
		printf "log_timezone = 'UTC'\n"
		# Statement counts (as on Supabase): tests/http/test_limits.py counts the
		# readiness checks that reach the database there.
		printf "shared_preload_libraries = 'pg_stat_statements'\n"
		if [ "${STACK_PG_EPHEMERAL:-0}" = 1 ]; then
			printf 'fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n'
		fi
	} | "${AS_SVC[@]}" tee -a "$PG_DATA_DIR/postgresql.conf" >/dev/null
}

# Start the embedded cluster unless DATABASE_URL points elsewhere; exports
# DATABASE_URL and sets STACK_PG_EMBEDDED (1: ours, 0: DATABASE_URL's).
# STACK_PG_EPHEMERAL=1 (tests) trades durability for speed.
stack_pg_start() {
	STACK_PG_EMBEDDED=0
	if [ -n "${DATABASE_URL:-}" ]; then
		stack_log "DATABASE_URL is set: using it, not starting the embedded PostgreSQL"
		export DATABASE_URL
		return 0
	fi
	STACK_PG_EMBEDDED=1
	[ -x "$PG_BIN/initdb" ] || stack_die "no PostgreSQL at $PG_BIN (run scripts/deps, or set PG_BIN)"
	stack_dirs
	stack_pg_ctl_cmd

	[ -s "$PG_DATA_DIR/PG_VERSION" ] || stack_pg_initdb

	# A crashed run can leave postmaster.pid / the socket lock pointing at a pid
	# that is now some other process; postgres would refuse to start.
	local pid
	pid=$(head -n 1 "$PG_DATA_DIR/postmaster.pid" 2>/dev/null || true)
	if [ -n "$pid" ] && ! stack_pid_is "$pid" postgres; then
		stack_log "removing stale $PG_DATA_DIR/postmaster.pid"
		rm -f "$PG_DATA_DIR/postmaster.pid"
		rm -f "$RUN_DIR/.s.PGSQL.$PG_PORT" "$RUN_DIR/.s.PGSQL.$PG_PORT.lock"
	fi

	if "${PG_CTL_CMD[@]}" status >/dev/null 2>&1; then
		stack_log "PostgreSQL already running on $RUN_DIR port $PG_PORT"
	else
		stack_log "starting PostgreSQL (socket $RUN_DIR, port $PG_PORT, log $LOG_DIR/postgres.log)"
		"${PG_CTL_CMD[@]}" -w -t 60 start >/dev/null {STACK_LOCK_FD}>&- ||
			{
				tail -n 20 "$LOG_DIR/postgres.log" >&2 || true
				stack_die "PostgreSQL did not start"
			}
	fi

	local admin="host=$RUN_DIR port=$PG_PORT dbname=postgres user=postgres"
	if [ "$("$PG_BIN/psql" -X -At -d "$admin" -c "SELECT 1 FROM pg_database WHERE datname = 'vehicles'")" != 1 ]; then
		stack_log "creating database vehicles"
		"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$admin" -c 'CREATE DATABASE vehicles'
	fi
	export DATABASE_URL="host=$RUN_DIR port=$PG_PORT dbname=vehicles user=postgres"
}

stack_pg_stop() {
	local pid
	[ -f "$PG_DATA_DIR/postmaster.pid" ] || return 0
	# pg_ctl trusts postmaster.pid; after a crash its pid may be someone else's.
	pid=$(head -n 1 "$PG_DATA_DIR/postmaster.pid" 2>/dev/null || true)
	stack_pid_is "$pid" postgres || return 0
	stack_pg_ctl_cmd
	"${PG_CTL_CMD[@]}" status >/dev/null 2>&1 || return 0
	stack_log "stopping PostgreSQL"
	if ! "${PG_CTL_CMD[@]}" stop -m fast -w -t "$STOP_TIMEOUT" >/dev/null 2>&1; then
		stack_warn "PostgreSQL did not stop in ${STOP_TIMEOUT}s; immediate shutdown"
		"${PG_CTL_CMD[@]}" stop -m immediate -w -t "$STOP_TIMEOUT" >/dev/null 2>&1 || true
	fi
}
