# shellcheck shell=bash
# shellcheck disable=SC2034 # STACK_*, PG_CTL_CMD, NGINX_CONF: read by the sourcing scripts
# Shared by scripts/run, scripts/test and scripts/container-entry: configuration
# defaults, the service user, and start/stop of the three parts of the stack:
#
#   PostgreSQL  embedded cluster in $VAR_DIR/pg, Unix socket only (skipped when
#               DATABASE_URL is set)
#   workers     spawn-fcgi binds $FCGI_SOCKET, multiwatch keeps $WORKERS
#               vehicle-worker processes alive on it
#   nginx       $VAR_DIR/nginx/nginx.conf rendered from nginx/nginx.conf.in
#
# Usage (bash, set -euo pipefail):
#   ROOT=/abs/repo; . "$ROOT/scripts/lib/stack.sh"
#   stack_config; stack_lock; stack_stop    # the last one clears a crashed run
#   stack_pg_start; stack_migrate; stack_workers_start FILE|-; stack_nginx_start
#   ...; stack_stop
#
# Everything the stack writes lives under $VAR_DIR. When run as root, postgres,
# the workers and nginx run as the unprivileged user $SVC_USER (default
# `vehicle`, created if missing); otherwise as the current user.

# Supabase's local-development default (supabase start); public, never for production.
STACK_DEV_JWT_SECRET='super-secret-jwt-token-with-at-least-32-characters-long'
# The fd that holds $VAR_DIR/.lock; closed for every long-lived child so that an
# orphan left by a crashed run does not keep the lock.
STACK_LOCK_FD=9

stack_log() { printf '%s: %s\n' "${STACK_NAME:-stack}" "$*" >&2; }
stack_warn() { stack_log "WARNING: $*"; }
stack_die() {
	stack_log "error: $*"
	exit 1
}

stack_is_uint() {
	case ${1:-} in '' | *[!0-9]*) return 1 ;; esac
}

# Absolute path; relative ones are taken from the repository root.
stack_abs() {
	case $1 in
	/*) printf '%s\n' "$1" ;;
	*) printf '%s\n' "$ROOT/$1" ;;
	esac
}

# ---------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------

stack_config() {
	: "${ROOT:?ROOT must be set before sourcing stack.sh}"
	# Directories made here must be traversable by the service user.
	umask 022
	# `cmd &` must not get its own process group, or setsid would fork and $!
	# would no longer be the server's pid (job control is off in scripts anyway).
	set +m

	VEHICLE_ENV=${VEHICLE_ENV:-development}
	case $VEHICLE_ENV in
	production | development) ;;
	*) stack_die "VEHICLE_ENV must be 'production' or 'development', not '$VEHICLE_ENV'" ;;
	esac
	export VEHICLE_ENV

	VAR_DIR=$(stack_abs "${VAR_DIR:-var}")
	RUN_DIR=$VAR_DIR/run
	LOG_DIR=$VAR_DIR/log
	NGINX_DIR=$VAR_DIR/nginx
	PG_DATA_DIR=$VAR_DIR/pg
	BUILD_DIR=$(stack_abs "${BUILD_DIR:-build}")
	WORKER_BIN=$(stack_abs "${WORKER_BIN:-$BUILD_DIR/vehicle-worker}")
	MIGRATE_BIN=$(stack_abs "${MIGRATE_BIN:-$BUILD_DIR/vehicle-migrate}")
	MIGRATIONS_DIR=$(stack_abs "${MIGRATIONS_DIR:-sql/migrations}")
	NGINX_TEMPLATE=$(stack_abs "${NGINX_TEMPLATE:-nginx/nginx.conf.in}")
	NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}
	PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
	PG_PORT=${PG_PORT:-5433}
	PORT=${PORT:-3003}
	LISTEN_ADDR=${LISTEN_ADDR:-127.0.0.1}
	WORKERS=${WORKERS:-4}
	FCGI_SOCKET=$(stack_abs "${FCGI_SOCKET:-$RUN_DIR/fcgi.sock}")
	CORS_ORIGINS=${CORS_ORIGINS:-http://localhost:3000}
	RATE_WRITE=${RATE_WRITE:-100r/m}
	RATE_BURST_WRITE=${RATE_BURST_WRITE:-20}
	RATE_READ=${RATE_READ:-300r/m}
	RATE_BURST_READ=${RATE_BURST_READ:-50}
	RATE_ANON=${RATE_ANON:-60r/m}
	RATE_BURST_ANON=${RATE_BURST_ANON:-20}
	RATE_ADDR=${RATE_ADDR:-1200r/m}
	RATE_BURST_ADDR=${RATE_BURST_ADDR:-200}
	INTERNAL_ALLOW=${INTERNAL_ALLOW:-127.0.0.1 ::1}
	REAL_IP_FROM=${REAL_IP_FROM:-}
	REAL_IP_HEADER=${REAL_IP_HEADER:-X-Forwarded-For}
	NGINX_ERROR_LOG=${NGINX_ERROR_LOG:-stderr}
	NGINX_ACCESS_LOG=${NGINX_ACCESS_LOG:-$LOG_DIR/access.log}
	STOP_TIMEOUT=${STOP_TIMEOUT:-10}

	local v
	for v in PORT PG_PORT WORKERS STOP_TIMEOUT RATE_BURST_WRITE RATE_BURST_READ RATE_BURST_ANON RATE_BURST_ADDR; do
		stack_is_uint "${!v}" || stack_die "$v must be a whole number, not '${!v}'"
	done
	if [ "$PORT" -lt 1 ] || [ "$PORT" -gt 65535 ]; then stack_die "PORT out of range: $PORT"; fi
	if [ "$WORKERS" -lt 1 ] || [ "$WORKERS" -gt 256 ]; then stack_die "WORKERS must be 1..256, not $WORKERS"; fi
	for v in RATE_WRITE RATE_READ RATE_ANON RATE_ADDR; do
		[[ ${!v} =~ ^[1-9][0-9]*r/[sm]$ ]] || stack_die "$v must look like 100r/m or 5r/s, not '${!v}'"
	done
	# sun_path holds 108 bytes; postgres adds "/.s.PGSQL.NNNNN.lock".
	if [ ${#FCGI_SOCKET} -gt 100 ] || [ $((${#RUN_DIR} + 22)) -gt 107 ]; then
		stack_die "VAR_DIR path too long for Unix sockets: $VAR_DIR"
	fi

	stack_secrets
	stack_user
}

# JWT verification material for the workers. Development falls back to the
# documented local secret; production refuses to start without real material.
stack_secrets() {
	if [ -z "${SUPABASE_JWT_SECRET:-}" ] && [ -z "${SUPABASE_JWKS:-}" ]; then
		if [ "$VEHICLE_ENV" = production ]; then
			stack_die "VEHICLE_ENV=production needs SUPABASE_JWT_SECRET or SUPABASE_JWKS"
		fi
		SUPABASE_JWT_SECRET=$STACK_DEV_JWT_SECRET
		stack_warn "SUPABASE_JWT_SECRET and SUPABASE_JWKS unset: using the public local-development secret"
	fi
	if [ "$VEHICLE_ENV" = production ] && [ "${SUPABASE_JWT_SECRET:-}" = "$STACK_DEV_JWT_SECRET" ]; then
		stack_die "VEHICLE_ENV=production refuses the public development JWT secret"
	fi
	if [ -n "${SUPABASE_JWT_SECRET:-}" ] && [ ${#SUPABASE_JWT_SECRET} -lt 32 ]; then
		stack_warn "SUPABASE_JWT_SECRET is shorter than 32 characters"
	fi
	# Export only what is set, so the worker never sees an empty secret.
	if [ -n "${SUPABASE_JWT_SECRET:-}" ]; then export SUPABASE_JWT_SECRET; else unset SUPABASE_JWT_SECRET; fi
	if [ -n "${SUPABASE_JWKS:-}" ]; then export SUPABASE_JWKS; else unset SUPABASE_JWKS; fi
}

# As root: a system user runs everything (initdb/postgres refuse root, and the
# workers and nginx have no business with it). Otherwise: the current user.
# AS_SVC is a command prefix; it execs, so `"${AS_SVC[@]}" cmd &` keeps $! == cmd's pid.
stack_user() {
	if [ "$(id -u)" -eq 0 ]; then
		SVC_USER=${SVC_USER:-vehicle}
		if ! id -u "$SVC_USER" >/dev/null 2>&1; then
			stack_log "creating system user $SVC_USER"
			useradd --system --user-group --home-dir /nonexistent --no-create-home \
				--shell /usr/sbin/nologin "$SVC_USER"
		fi
		AS_SVC=(setpriv --reuid="$SVC_USER" --regid="$SVC_USER" --init-groups --)
	else
		SVC_USER=$(id -un 2>/dev/null || id -u)
		AS_SVC=()
	fi
}

# Directories the service user writes to.
stack_dirs() {
	mkdir -p "$RUN_DIR" "$LOG_DIR" "$NGINX_DIR"/tmp/{body,fastcgi,proxy,scgi,uwsgi}
	# The run dir holds the trust-auth postgres socket and the FastCGI socket:
	# nobody but the service user (and root) goes in.
	chmod 0700 "$RUN_DIR"
	if [ "$(id -u)" -eq 0 ]; then
		chown "$SVC_USER:" "$VAR_DIR" "$RUN_DIR" "$LOG_DIR" "$NGINX_DIR" \
			"$NGINX_DIR"/tmp "$NGINX_DIR"/tmp/*
		# A repo under a private home directory would fail later, obscurely.
		"${AS_SVC[@]}" test -w "$RUN_DIR" ||
			stack_die "$SVC_USER cannot reach $RUN_DIR (is a parent directory private?)"
	fi
}

# One stack per VAR_DIR at a time. The lock dies with this shell, so a crashed
# run leaves no stale lock; a live one makes a second start fail clearly.
stack_lock() {
	mkdir -p "$VAR_DIR"
	eval "exec $STACK_LOCK_FD>>\"\$VAR_DIR/.lock\""
	flock -n "$STACK_LOCK_FD" ||
		stack_die "another run or test is using $VAR_DIR (stop it, or set VAR_DIR/PORT for a second stack)"
}

# ---------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------

# True when PID is alive (not a zombie) and its command name is one of NAMES.
# Guards against a stale pid file whose number the kernel has since reused.
stack_pid_is() {
	local pid=$1 comm stat name
	shift
	stack_is_uint "$pid" || return 1
	comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
	stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ] || return 1
	for name in "$@"; do
		[ "$comm" = "$name" ] && return 0
	done
	return 1
}

stack_alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# Descendants of PID, deepest last (read from /proc: no ps in slim images).
stack_descendants() {
	local parent=$1 f stat pid ppid
	for f in /proc/[0-9]*/stat; do
		stat=$(cat "$f" 2>/dev/null) || continue
		pid=${stat%% *}
		stat=${stat##*) }
		ppid=${stat#* }
		ppid=${ppid%% *}
		if [ "$ppid" = "$parent" ]; then
			printf '%s\n' "$pid"
			stack_descendants "$pid"
		fi
	done
}

# stack_terminate PID SIGNAL WHAT: send SIGNAL, wait up to STOP_TIMEOUT, then
# SIGKILL PID and its descendants (so no worker outlives a killed multiwatch).
# Returns 1 when it had to kill.
stack_terminate() {
	local pid=$1 sig=$2 what=$3 i kids
	stack_alive "$pid" || return 0
	kill -s "$sig" "$pid" 2>/dev/null || true
	for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
		stack_alive "$pid" || break
		sleep 0.1
	done
	if stack_alive "$pid"; then
		kids=$(stack_descendants "$pid")
		stack_warn "$what (pid $pid) still running after ${STOP_TIMEOUT}s; sending SIGKILL"
		# shellcheck disable=SC2086 # one pid per word
		kill -s KILL "$pid" $kids 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		return 1
	fi
	# Reap it if it was our child (no-op otherwise).
	wait "$pid" 2>/dev/null || true
	return 0
}

# Pids of processes holding any of the given socket inodes (only those this
# user may see: all as root, its own otherwise).
stack_socket_holders() {
	local inode pats=()
	for inode in "$@"; do
		pats+=(-o -lname "socket:\\[$inode\\]")
	done
	[ ${#pats[@]} -gt 0 ] || return 0
	# (find complains about processes that exit while it looks: ignored.)
	{ find /proc/[0-9]*/fd -maxdepth 1 \( "${pats[@]:1}" \) -printf '%h\n' 2>/dev/null || true; } |
		sed 's|^/proc/\([0-9]*\)/fd$|\1|' | sort -u
}

# Leftovers that no pid file names: what survives a SIGKILLed parent.
#  - anything still holding $FCGI_SOCKET (a path inside our VAR_DIR, so ours):
#    workers orphaned by a killed multiwatch;
#  - "nginx: worker process" on our PORT whose master is gone (a live nginx
#    master on the port belongs to another stack and is left alone).
stack_orphans_stop() {
	local inodes pids pid ppid port_hex kind
	inodes=$(awk -v p="$FCGI_SOCKET" '$8 == p {print $7}' /proc/net/unix 2>/dev/null)
	# shellcheck disable=SC2086 # one inode per word
	pids=$(stack_socket_holders $inodes)
	port_hex=$(printf ':%04X' "$PORT")
	inodes=$(awk -v p="$port_hex" '$4 == "0A" && substr($2, length($2) - 4) == p {print $10}' \
		/proc/net/tcp /proc/net/tcp6 2>/dev/null)
	# shellcheck disable=SC2086
	for pid in $(stack_socket_holders $inodes); do
		kind=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || continue
		ppid=$(awk '{print $4}' "/proc/$pid/stat" 2>/dev/null) || continue
		if [[ $kind == "nginx: worker process"* ]] && ! stack_pid_is "$ppid" nginx; then
			pids+=$'\n'$pid
		fi
	done
	for pid in $pids; do
		stack_alive "$pid" || continue
		stack_warn "stopping leftover $(cat "/proc/$pid/comm" 2>/dev/null) (pid $pid) of an earlier run"
		stack_terminate "$pid" TERM "leftover process" || true
	done
}

# ---------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------

# The command prefix for pg_ctl on the embedded cluster (also given to tests).
stack_pg_ctl_cmd() {
	PG_CTL_CMD=("${AS_SVC[@]}" "$PG_BIN/pg_ctl" -D "$PG_DATA_DIR" -l "$LOG_DIR/postgres.log")
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

	if [ ! -s "$PG_DATA_DIR/PG_VERSION" ]; then
		rm -rf "$PG_DATA_DIR" # a half-made cluster from an interrupted initdb
		stack_log "initdb $PG_DATA_DIR"
		local initdb_flags=(-D "$PG_DATA_DIR" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8)
		[ "${STACK_PG_EPHEMERAL:-0}" = 1 ] && initdb_flags+=(--no-sync)
		"${AS_SVC[@]}" "$PG_BIN/initdb" "${initdb_flags[@]}" >"$LOG_DIR/initdb.log" 2>&1 ||
			{
				cat "$LOG_DIR/initdb.log" >&2
				stack_die "initdb failed"
			}
		# Settings live in postgresql.conf so a bare `pg_ctl start` (tests
		# restarting the cluster) gets the same server.
		{
			printf '\n# --- vehicle service (scripts/lib/stack.sh) ---\n'
			printf "listen_addresses = ''\n"
			printf "port = %s\n" "$PG_PORT"
			printf "unix_socket_directories = '%s'\n" "$RUN_DIR"
			# trust auth: only the socket's owner (and root) may connect.
			printf 'unix_socket_permissions = 0700\n'
			printf "timezone = 'UTC'\n"
			printf "log_timezone = 'UTC'\n"
			if [ "${STACK_PG_EPHEMERAL:-0}" = 1 ]; then
				printf 'fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n'
			fi
		} | "${AS_SVC[@]}" tee -a "$PG_DATA_DIR/postgresql.conf" >/dev/null
	fi

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

stack_migrate() {
	[ -x "$MIGRATE_BIN" ] || stack_die "no $MIGRATE_BIN (run scripts/build)"
	stack_log "applying migrations from $MIGRATIONS_DIR"
	"$MIGRATE_BIN" "$MIGRATIONS_DIR" || stack_die "vehicle-migrate failed"
}

# ---------------------------------------------------------------------------
# FastCGI workers
# ---------------------------------------------------------------------------

# stack_workers_start LOG: LOG is a file for worker stdout/stderr, or "-" for
# this shell's stderr. Sets STACK_WORKERS_PID (spawn-fcgi execs multiwatch, so
# it is multiwatch's pid).
stack_workers_start() {
	local log=${1:--} pidfile=$RUN_DIR/workers.pid i
	[ -x "$WORKER_BIN" ] || stack_die "no $WORKER_BIN (run scripts/build)"
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

# ---------------------------------------------------------------------------
# nginx
# ---------------------------------------------------------------------------

# Escape a value for the right-hand side of a sed s||| command; newlines
# become \n so multi-line blocks can be substituted.
stack_sed_rhs() {
	local s=$1
	s=${s//\\/\\\\}
	s=${s//&/\\&}
	s=${s//|/\\|}
	s=${s//$'\n'/\\n}
	printf '%s' "$s"
}

# The words of a comma- and/or space-separated list in STACK_LIST, never
# glob-expanded (CORS_ORIGINS=* must stay a star).
stack_list() {
	local IFS=$', \t\n'
	read -r -a STACK_LIST <<<"$1"
}

stack_nginx_render() {
	local out=$NGINX_DIR/nginx.conf origin addr cors='' allow='' listen='' realip='' access
	[ -f "$NGINX_TEMPLATE" ] || stack_die "no nginx template at $NGINX_TEMPLATE"
	stack_dirs

	stack_list "$CORS_ORIGINS"
	for origin in "${STACK_LIST[@]}"; do
		[ -n "$origin" ] || continue
		if [ "$origin" = '*' ]; then
			cors+="        \"~.\" \$http_origin;"$'\n'
		elif [[ $origin =~ ^https?://[A-Za-z0-9.-]+(:[0-9]+)?$ ]]; then
			cors+="        \"$origin\" \$http_origin;"$'\n'
		else
			stack_die "CORS_ORIGINS entry '$origin' is not scheme://host[:port] (or *)"
		fi
	done
	stack_list "$INTERNAL_ALLOW"
	for addr in "${STACK_LIST[@]}"; do
		[ -n "$addr" ] || continue
		[[ $addr =~ ^[0-9A-Fa-f.:/]+$ || $addr = all ]] || stack_die "INTERNAL_ALLOW entry '$addr' is not an address or CIDR"
		allow+="            allow $addr;"$'\n'
	done
	local addr_re='^[][0-9A-Za-z.:*-]+$' # host, IPv4, [IPv6] or *
	stack_list "$LISTEN_ADDR"
	for addr in "${STACK_LIST[@]}"; do
		[ -n "$addr" ] || continue
		[[ $addr =~ $addr_re ]] || stack_die "LISTEN_ADDR entry '$addr' is not an address"
		listen+="        listen $addr:$PORT;"$'\n'
	done
	[ -n "$listen" ] || stack_die "LISTEN_ADDR is empty"
	if [ -n "$REAL_IP_FROM" ]; then
		[[ $REAL_IP_HEADER =~ ^[A-Za-z0-9-]+$ ]] || stack_die "REAL_IP_HEADER '$REAL_IP_HEADER' is not a header name"
		stack_list "$REAL_IP_FROM"
		for addr in "${STACK_LIST[@]}"; do
			[ -n "$addr" ] || continue
			[[ $addr =~ ^[0-9A-Fa-f.:/]+$ ]] || stack_die "REAL_IP_FROM entry '$addr' is not an address or CIDR"
			realip+="set_real_ip_from $addr; "
		done
		realip+="real_ip_header $REAL_IP_HEADER; real_ip_recursive on;"
	fi
	# stdout: nginx reopens the path, see stack_nginx_cmd.
	access=$NGINX_ACCESS_LOG
	[ "$access" = stdout ] && access=/dev/stdout

	sed -e "s|@PORT@|$PORT|g" \
		-e "s|@VAR_DIR@|$(stack_sed_rhs "$VAR_DIR")|g" \
		-e "s|@FCGI_SOCKET@|$(stack_sed_rhs "$FCGI_SOCKET")|g" \
		-e "s|@ERROR_LOG@|$(stack_sed_rhs "$NGINX_ERROR_LOG")|g" \
		-e "s|@ACCESS_LOG@|$(stack_sed_rhs "$access")|g" \
		-e "s|@RATE_WRITE@|$RATE_WRITE|g" \
		-e "s|@RATE_READ@|$RATE_READ|g" \
		-e "s|@RATE_ANON@|$RATE_ANON|g" \
		-e "s|@RATE_ADDR@|$RATE_ADDR|g" \
		-e "s|@RATE_BURST_WRITE@|$RATE_BURST_WRITE|g" \
		-e "s|@RATE_BURST_READ@|$RATE_BURST_READ|g" \
		-e "s|@RATE_BURST_ANON@|$RATE_BURST_ANON|g" \
		-e "s|@RATE_BURST_ADDR@|$RATE_BURST_ADDR|g" \
		-e "s|^@LISTEN@\$|$(stack_sed_rhs "${listen%$'\n'}")|" \
		-e "s|^@CORS_ORIGINS_MAP@\$|$(stack_sed_rhs "${cors%$'\n'}")|" \
		-e "s|^@INTERNAL_ALLOW@\$|$(stack_sed_rhs "${allow%$'\n'}")|" \
		-e "s|@REAL_IP@|$(stack_sed_rhs "${realip:-# (no REAL_IP_FROM)}")|g" \
		"$NGINX_TEMPLATE" >"$out.tmp"
	if grep -n '^[^#]*@[A-Z_]*@' "$out.tmp" >&2; then
		stack_die "unrendered placeholders in $out (template and stack.sh disagree)"
	fi
	chmod 0644 "$out.tmp"
	mv -f "$out.tmp" "$out"
	NGINX_CONF=$out
}

# The nginx command line (to be run as the service user, plus -t or -g ...).
stack_nginx_cmd() {
	NGINX_CMD=("$NGINX_BIN" -e stderr -p "$NGINX_DIR/" -c "$NGINX_DIR/nginx.conf")
	if [ "$NGINX_ACCESS_LOG" = stdout ]; then
		# nginx opens the access log by path, and /dev/stdout reopens fd 1,
		# which an unprivileged nginx may not do when fd 1 belongs to root (a
		# terminal, a pipe, a file). A pipe made by the service user's own
		# shell it may; cat copies it to the real stdout. exec keeps the pid.
		NGINX_CMD=(bash -c 'exec "$@" > >(exec cat)' nginx-stdout "${NGINX_CMD[@]}")
	fi
}

# Render, check (`nginx -t` as the service user) and start nginx in the
# foreground of a background job. Sets STACK_NGINX_PID.
stack_nginx_start() {
	local pidfile=$NGINX_DIR/nginx.pid i
	stack_nginx_render
	stack_nginx_cmd
	"${AS_SVC[@]}" "${NGINX_CMD[@]}" -q -t || stack_die "nginx rejected $NGINX_CONF"
	rm -f "$pidfile" # stack_stop has run; whatever it names is gone
	stack_log "starting nginx on ${LISTEN_ADDR// /,} port $PORT"
	setsid "${AS_SVC[@]}" "${NGINX_CMD[@]}" -g 'daemon off;' </dev/null {STACK_LOCK_FD}>&- &
	STACK_NGINX_PID=$!
	# nginx writes its pid file after binding the listen sockets.
	for ((i = 0; i < 100; i++)); do
		[ -s "$pidfile" ] && break
		stack_alive "$STACK_NGINX_PID" || break
		sleep 0.1
	done
	if ! stack_alive "$STACK_NGINX_PID" || [ ! -s "$pidfile" ]; then
		stack_die "nginx did not start"
	fi
}

stack_nginx_stop() {
	local pid rc=0
	if [ -n "${STACK_NGINX_PID:-}" ]; then
		pid=$STACK_NGINX_PID
	else
		pid=$(cat "$NGINX_DIR/nginx.pid" 2>/dev/null || true)
		stack_pid_is "$pid" nginx || pid=
	fi
	if [ -n "$pid" ] && stack_alive "$pid"; then
		stack_log "stopping nginx ($pid)"
		# QUIT is nginx's graceful shutdown (TERM drops requests in flight).
		stack_terminate "$pid" QUIT nginx || rc=1
	fi
	rm -f "$NGINX_DIR/nginx.pid"
	STACK_NGINX_PID=
	return $rc
}

# ---------------------------------------------------------------------------
# Whole stack
# ---------------------------------------------------------------------------

# Stop in dependency order: nginx stops taking requests, the workers finish
# theirs, then the database goes. Safe to call twice, and on a crashed run's
# leftovers (pid files are checked against the live process). Returns 1 when
# nginx or the workers ignored the stop signal and had to be killed.
stack_stop() {
	local rc=0
	stack_nginx_stop || rc=1
	stack_workers_stop || rc=1
	stack_orphans_stop
	stack_pg_stop || true
	return $rc
}

# Wait until GET /health answers 200 through nginx (up to $1 seconds).
stack_wait_healthy() {
	local secs=${1:-15} i host=${LISTEN_ADDR%%[ ,]*}
	case $host in 0.0.0.0 | '*' | '[::]') host=127.0.0.1 ;; esac
	for ((i = 0; i < secs * 10; i++)); do
		if curl -fsS -o /dev/null --max-time 2 "http://$host:$PORT/health" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}
